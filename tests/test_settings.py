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


# --------------------------------------------------------------------------- providers and modes


def test_an_anthropic_model_prefix_selects_anthropic() -> None:
    """'anthropic/NAME' means provider anthropic and model NAME."""
    settings = Settings(model="anthropic/claude-haiku-4-5")
    assert (settings.provider, settings.model) == ("anthropic", "claude-haiku-4-5")
    assert settings.output_mode == "tools"


def test_a_prefixed_model_on_a_gateway_stays_openai() -> None:
    """On a server such as OpenRouter, 'anthropic/...' is that server's model name."""
    settings = Settings(
        model="anthropic/claude-3.5-sonnet", base_url="https://openrouter.ai/api/v1"
    )
    assert (settings.provider, settings.model) == ("openai", "anthropic/claude-3.5-sonnet")


def test_each_provider_reads_only_its_own_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """An OpenAI key in the environment is never handed to Anthropic, nor the reverse."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-0123456789abcdef")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-0123456789abcdef")
    assert Settings().key_for_client() == "sk-openai-0123456789abcdef"
    assert Settings(provider="anthropic").key_for_client() == "sk-ant-0123456789abcdef"
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(ConfigurationError, match="ANTHROPIC_API_KEY"):
        Settings(provider="anthropic").ensure_runnable()


def test_anthropic_base_url_as_a_bare_host_gets_its_version_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ANTHROPIC_BASE_URL is a bare host by the SDK's convention; requests need /v1."""
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:8123")
    assert Settings(provider="anthropic").base_url == "http://127.0.0.1:8123/v1"
    assert Settings(base_url="http://127.0.0.1:8123").base_url == "http://127.0.0.1:8123"


@pytest.mark.parametrize(
    ("base_url", "mode"),
    [
        (None, "tools"),
        ("https://api.openai.com/v1", "tools"),
        ("https://gateway.example.com/v1", "tools"),
        ("http://localhost:11434/v1", "json_schema"),
        ("http://127.0.0.1:8080/v1", "json_schema"),
        ("http://10.0.0.5:8000/v1", "json_schema"),
        ("http://gpu-box.local:8000/v1", "json_schema"),
    ],
)
def test_the_default_output_mode_follows_the_server(base_url: str | None, mode: str) -> None:
    """Tools for OpenAI and remote servers, json_schema for a server on this machine or LAN."""
    assert Settings(base_url=base_url).output_mode == mode


def test_an_explicit_mode_wins() -> None:
    """--mode tools against a local server is taken as asked."""
    assert Settings(base_url="http://localhost:1/v1", output_mode="tools").output_mode == "tools"


def test_a_gguf_file_implies_json_schema_a_long_timeout_and_its_name(tmp_path: Path) -> None:
    """--gguf: constrained JSON, minutes per request allowed, the file named as the model."""
    model = tmp_path / "tiny-q4.gguf"
    model.write_bytes(b"GGUF")
    settings = Settings(gguf=model)
    assert settings.output_mode == "json_schema"
    assert settings.model == "tiny-q4.gguf"
    assert settings.timeout >= 600 and settings.repetition_penalty == 1.1
    settings.ensure_runnable()
    assert Settings(gguf=model, timeout=5).timeout == 5


def test_a_gguf_file_excludes_a_server_and_anthropic(tmp_path: Path) -> None:
    """--gguf serves its own server: a base URL or another provider beside it is refused."""
    with pytest.raises(ValidationError, match="exclude each other"):
        Settings(gguf=tmp_path / "m.gguf", base_url="http://localhost:1/v1")
    with pytest.raises(ValidationError, match="provider openai"):
        Settings(gguf=tmp_path / "m.gguf", provider="anthropic")


def test_a_missing_gguf_file_is_refused_early(tmp_path: Path) -> None:
    """A GGUF path with no file fails before anything starts."""
    with pytest.raises(ConfigurationError, match="no GGUF model file"):
        Settings(gguf=tmp_path / "absent.gguf").ensure_runnable()


def test_anthropic_refuses_json_schema_mode() -> None:
    """Anthropic has no constrained JSON mode here: asking for it fails at once."""
    with pytest.raises(ValidationError, match="tools only"):
        Settings(provider="anthropic", output_mode="json_schema")


@pytest.mark.parametrize(
    ("url", "bare", "auth"),
    [
        (
            "http://bob:s%40hunter2%3Apass@gw.example:8080/v1",
            "http://gw.example:8080/v1",
            "bob:s@hunter2:pass",
        ),
        ("https://tok@[::1]:9/v1", "https://[::1]:9/v1", "tok:"),
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1", None),
        ("http://gw.example/v1/@team", "http://gw.example/v1/@team", None),
    ],
)
def test_base_url_credentials_leave_the_url(url: str, bare: str, auth: str | None) -> None:
    """user:password@ is taken out of the base URL (decoded) for Basic auth; a URL without
    credentials is kept as it is."""
    settings = Settings(base_url=url)
    assert settings.base_url == bare
    assert (settings.base_url_auth.get_secret_value() if settings.base_url_auth else None) == auth
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.model_dump())


def test_base_url_credentials_from_the_environment_for_anthropic(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The provider's base URL variable is split the same way, before Anthropic's /v1 is added."""
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "https://bob:pw-123456@gw.example")
    settings = Settings(provider="anthropic", api_key=SecretStr("sk-ant-test"))
    assert settings.base_url == "https://gw.example/v1"
    assert settings.basic_auth() == "Basic Ym9iOnB3LTEyMzQ1Ng=="
    settings.ensure_runnable()  # the key travels in x-api-key, beside the Basic header


def test_a_settings_error_never_prints_the_key() -> None:
    """A model-level error's text does not carry the inputs, the API key among them."""
    import pydantic

    key = "sk-secret-never-printed-0123456789"
    with pytest.raises(pydantic.ValidationError) as caught:
        Settings(api_key=key, gguf="x.gguf", base_url="http://h/v1")
    assert "exclude each other" in str(caught.value)
    assert key not in str(caught.value) and key[:12] not in str(caught.value)


def test_several_base_urls_make_a_fleet_of_replicas() -> None:
    """A list of URLs: the first is the base URL (the SDK's, the cache's), all are replicas,
    each with the options its fragment gives (no server ever sees the fragment)."""
    settings = Settings(
        base_url=["http://gpu1:8000/v1#concurrency=8,rpm=600", "http://gpu2:8000/v1/"]
    )
    assert settings.base_url == "http://gpu1:8000/v1"
    first, second = settings.replicas
    assert (first.url, first.concurrency, first.rpm, first.tpm) == (
        "http://gpu1:8000/v1",
        8,
        600,
        None,
    )
    assert (second.url, second.concurrency) == ("http://gpu2:8000/v1/", None)


@pytest.mark.parametrize(
    "value",
    [
        "http://10.0.0.1:8000/v1,http://10.0.0.2:8000/v1",
        "http://10.0.0.1:8000/v1, http://10.0.0.2:8000/v1",
        "http://10.0.0.1:8000/v1 http://10.0.0.2:8000/v1",
    ],
)
def test_several_base_urls_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """EXTRACTOR_BASE_URL (or OPENAI_BASE_URL) holds several, split by commas or spaces."""
    monkeypatch.setenv("EXTRACTOR_BASE_URL", value)
    settings = Settings()
    assert [r.url for r in settings.replicas] == [
        "http://10.0.0.1:8000/v1",
        "http://10.0.0.2:8000/v1",
    ]
    assert settings.output_mode == "json_schema"  # a private network: a self-hosted model


def test_commas_inside_a_urls_options_do_not_split_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXTRACTOR_BASE_URL", "http://a:1/v1#concurrency=2,rpm=60,http://b:2/v1")
    first, second = Settings().replicas
    assert (first.concurrency, first.rpm, second.url) == (2, 60, "http://b:2/v1")


def test_one_base_url_is_no_fleet_and_its_rate_options_are_the_runs() -> None:
    """One server is reached directly, as ever; its #rpm= is the run's --rpm."""
    assert Settings(base_url="http://localhost:8000/v1").replicas == ()
    settings = Settings(base_url=["http://localhost:8000/v1#rpm=90,tpm=5000"])
    assert (settings.base_url, settings.replicas, settings.rpm, settings.tpm) == (
        "http://localhost:8000/v1",
        (),
        90,
        5000,
    )
    assert Settings(base_url="http://localhost:8000/v1#rpm=90", rpm=30).rpm == 30
    # A limit on the one server's requests in flight needs the fleet's counting.
    assert len(Settings(base_url="http://localhost:8000/v1#concurrency=4").replicas) == 1


def test_fleet_credentials_leave_every_url_and_must_agree() -> None:
    settings = Settings(base_url=["http://u:pw@a:1/v1", "http://b:2/v1"])
    assert [r.url for r in settings.replicas] == ["http://a:1/v1", "http://b:2/v1"]
    assert settings.base_url_auth is not None
    assert settings.base_url_auth.get_secret_value() == "u:pw"
    with pytest.raises(ValidationError, match="share one user:password"):
        Settings(base_url=["http://u:pw@a:1/v1", "http://v:other@b:2/v1"])


def test_anthropic_fleet_hosts_each_get_their_version_path() -> None:
    settings = Settings(provider="anthropic", base_url=["http://a:1", "http://b:2/"])
    assert [r.url for r in settings.replicas] == ["http://a:1/v1", "http://b:2/v1"]


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (["http://a:1/v1#threads=4", "http://b:2/v1"], "unknown server option 'threads=4'"),
        (["http://a:1/v1#concurrency=0", "http://b:2/v1"], "concurrency"),
        (["http://a:1/v1#rpm=fast", "http://b:2/v1"], "rpm"),
        (["http://a:1/v1", "http://a:1/v1"], "listed twice"),
    ],
)
def test_bad_fleet_urls_are_refused(value: list[str], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        Settings(base_url=value)


def test_replica_concurrency_is_at_least_one() -> None:
    with pytest.raises(ValidationError):
        Settings(replica_concurrency=0)


def test_an_empty_list_of_base_urls_leaves_the_environments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What a repeatable --base-url gives when not used: the environment's URL, or none."""
    assert Settings(base_url=[]).base_url is None
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:8000/v1")
    assert Settings(base_url=[]).base_url == "http://localhost:8000/v1"


def test_gguf_asks_once_unless_told_otherwise(tmp_path: Path) -> None:
    """A local GGUF gets no re-asks by default; an explicit --reasks still wins."""
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    assert Settings(gguf=model).reasks == 0
    assert Settings(gguf=model, reasks=2).reasks == 2
    assert Settings(base_url="http://127.0.0.1:8080/v1").reasks == 2


def test_gguf_splits_long_articles_smaller(tmp_path: Path) -> None:
    """A local GGUF reads 4,000 characters at a time unless told otherwise."""
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    assert Settings(gguf=model).chunk_chars == 4_000
    assert Settings(gguf=model, chunk_chars=9_000).chunk_chars == 9_000
    assert Settings().chunk_chars == 12_000
