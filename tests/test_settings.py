"""Tests for extractor.settings: where settings come from, and what is refused early."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from extractor import ConfigurationError
from extractor.settings import PLACEHOLDER_KEY, Settings

KEY = "sk-test-secret-value-0123456789"


def test_defaults_without_environment() -> None:
    """With a clean environment: OpenAI's default model, live mode, no key, no base URL."""
    settings = Settings()
    assert settings.model == "gpt-4o-mini"
    assert settings.mode == "live"
    assert settings.api_key is None
    assert settings.base_url is None
    assert settings.reasks == 2


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """EXTRACTOR_MODEL, OPENAI_API_KEY, OPENAI_BASE_URL and EXTRACTOR_REASKS all take effect."""
    monkeypatch.setenv("EXTRACTOR_MODEL", "llama3.1:8b")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:11434/v1")
    monkeypatch.setenv("EXTRACTOR_REASKS", "5")
    settings = Settings()
    assert settings.model == "llama3.1:8b"
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == KEY
    assert settings.base_url == "http://localhost:11434/v1"
    assert settings.reasks == 5


def test_extractor_prefixed_key_and_url_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """EXTRACTOR_API_KEY and EXTRACTOR_BASE_URL work as well as the OpenAI names."""
    monkeypatch.setenv("EXTRACTOR_API_KEY", KEY)
    monkeypatch.setenv("EXTRACTOR_BASE_URL", "http://127.0.0.1:8000/v1")
    settings = Settings()
    assert settings.key_for_client() == KEY
    assert settings.base_url == "http://127.0.0.1:8000/v1"


def test_explicit_arguments_beat_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A value passed to ``Settings(...)`` wins over the environment variable for it."""
    monkeypatch.setenv("EXTRACTOR_MODEL", "from-env")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:1/v1")
    monkeypatch.setenv("EXTRACTOR_REASKS", "7")
    settings = Settings(
        model="from-arg", api_key="sk-from-arg", base_url="http://localhost:2/v1", reasks=1
    )
    assert settings.model == "from-arg"
    assert settings.key_for_client() == "sk-from-arg"
    assert settings.base_url == "http://localhost:2/v1"
    assert settings.reasks == 1


def test_bad_environment_value_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    """A negative EXTRACTOR_REASKS is a validation error, not a silent default."""
    monkeypatch.setenv("EXTRACTOR_REASKS", "-1")
    with pytest.raises(ValidationError, match="reasks"):
        Settings()


@pytest.mark.parametrize("mode", ["replay", "record"])
def test_replay_or_record_needs_a_cassette_dir(mode: str) -> None:
    """Replay and record without ``cassette_dir`` are rejected when the settings are built."""
    with pytest.raises(ValidationError, match="needs cassette_dir"):
        Settings(mode=mode)


def test_replay_with_cassette_dir_is_accepted(tmp_path: Path) -> None:
    """Replay with a directory is valid, and the directory becomes a Path."""
    settings = Settings(mode="replay", cassette_dir=str(tmp_path))
    assert settings.cassette_dir == tmp_path


def test_unknown_mode_is_rejected(tmp_path: Path) -> None:
    """A mode outside live, record and replay is a validation error."""
    with pytest.raises(ValidationError):
        Settings(mode="playback", cassette_dir=tmp_path)


def test_api_key_is_secret() -> None:
    """The key is a SecretStr: neither its repr nor the settings' repr or dump shows it."""
    settings = Settings(api_key=KEY)
    assert isinstance(settings.api_key, SecretStr)
    assert KEY not in repr(settings.api_key)
    assert KEY not in str(settings.api_key)
    assert KEY not in repr(settings)
    assert KEY not in str(settings.model_dump())
    assert KEY not in settings.model_dump_json()
    assert settings.api_key.get_secret_value() == KEY


def test_settings_are_frozen() -> None:
    """Settings cannot change after they are passed down."""
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.model = "other"  # type: ignore[misc]


def test_ensure_runnable_names_the_three_ways_to_run() -> None:
    """No key, no base URL and no replay raise ConfigurationError naming all three remedies."""
    with pytest.raises(ConfigurationError) as caught:
        Settings().ensure_runnable()
    message = str(caught.value)
    assert "\n" not in message
    for way in ("OPENAI_API_KEY", "--base-url", "--replay"):
        assert way in message
    assert caught.value.exit_code == 2


def test_ensure_runnable_accepts_each_way(tmp_path: Path) -> None:
    """A key, a base URL, or replay mode is each enough to run."""
    Settings(api_key=KEY).ensure_runnable()
    Settings(base_url="http://localhost:11434/v1").ensure_runnable()
    Settings(mode="replay", cassette_dir=tmp_path).ensure_runnable()


def test_record_without_key_or_base_url_is_not_runnable(tmp_path: Path) -> None:
    """Record mode calls a live model, so it needs a key or a base URL like live mode."""
    with pytest.raises(ConfigurationError):
        Settings(mode="record", cassette_dir=tmp_path).ensure_runnable()


def test_key_for_client_placeholder_without_key() -> None:
    """Without a key the SDK gets the placeholder; with one it gets the real key."""
    assert Settings().key_for_client() == PLACEHOLDER_KEY
    assert Settings(base_url="http://localhost:11434/v1").key_for_client() == PLACEHOLDER_KEY
    assert Settings(api_key=KEY).key_for_client() == KEY
    assert PLACEHOLDER_KEY != KEY and PLACEHOLDER_KEY.startswith("sk-")


def test_the_provider_is_a_setting_and_an_unknown_one_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """EXTRACTOR_PROVIDER picks the model API from the registry; a name not in it is an error."""
    from pydantic import ValidationError

    from extractor.model.providers import PROVIDERS

    assert Settings().provider == "openai" and "openai" in PROVIDERS
    monkeypatch.setenv("EXTRACTOR_PROVIDER", "nosuch")
    with pytest.raises(ValidationError, match="provider"):
        Settings()
