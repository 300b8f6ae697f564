"""All run-time settings in one typed object.

Read once from the environment (``EXTRACTOR_*``, plus the conventional
``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``) or built directly by library users,
then passed down explicitly; nothing deeper in the package reads the
environment, so a test or a batch job can run two configurations side by side.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from extractor._exceptions import ConfigurationError

Mode = Literal["live", "record", "replay"]

# The SDK refuses to start without some key; local OpenAI-compatible servers and
# replay need none, so they get this placeholder, which never leaves the process
# in replay and is ignored by local servers.
PLACEHOLDER_KEY = "sk-no-key-needed"


class Settings(BaseSettings):
    """How to reach the model and how hard to try."""

    model_config = SettingsConfigDict(
        env_prefix="EXTRACTOR_", extra="ignore", populate_by_name=True, frozen=True
    )

    provider: Literal["openai"] = Field(
        default="openai",
        description="The model API: openai (chat completions, also any compatible server).",
    )
    model: str = Field(default="gpt-4o-mini", description="Model name sent to the server.")
    base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("base_url", "EXTRACTOR_BASE_URL", "OPENAI_BASE_URL"),
        description="Any OpenAI-compatible server (Ollama, vLLM, llama.cpp); None for OpenAI.",
    )
    api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("api_key", "EXTRACTOR_API_KEY", "OPENAI_API_KEY"),
    )
    mode: Mode = Field(default="live", description="live, record (live + save), or replay.")
    cassette_dir: Path | None = Field(
        default=None, description="Where exchanges are recorded to or replayed from."
    )
    timeout: float = Field(default=120.0, gt=0, description="Seconds per HTTP request.")
    transport_retries: int = Field(
        default=4, ge=0, description="Extra tries for timeouts, 429 and 5xx (tenacity)."
    )
    max_backoff: float = Field(default=60.0, gt=0, description="Cap on one retry wait, seconds.")
    reasks: int = Field(
        default=2, ge=0, description="Re-asks after a failed validation (instructor)."
    )
    temperature: float = Field(default=0.0, ge=0)
    max_input_bytes: int = Field(default=5_000_000, gt=0)
    chunk_chars: int = Field(
        default=12_000, ge=500, description="Longer articles are split into chunks of this size."
    )
    chunk_overlap: int = Field(default=600, ge=0, description="Characters repeated across cuts.")
    cache: bool = Field(default=True, description="Answer repeated requests from the cache.")
    cache_path: Path | None = Field(
        default=None, description="SQLite response cache; None for the user cache directory."
    )
    rpm: float | None = Field(default=None, gt=0, description="Client-side requests/minute.")
    tpm: float | None = Field(default=None, gt=0, description="Client-side tokens/minute.")

    @model_validator(mode="after")
    def _cassette_dir_for_mode(self) -> Settings:
        if self.mode != "live" and self.cassette_dir is None:
            raise ValueError(f"mode {self.mode!r} needs cassette_dir")
        return self

    def key_for_client(self) -> str:
        """The key handed to the SDK: the real one, or a placeholder where none is needed."""
        return self.api_key.get_secret_value() if self.api_key else PLACEHOLDER_KEY

    def ensure_runnable(self) -> None:
        """Fail early, in one line, when no model can be reached."""
        if self.mode == "replay":
            return
        if self.api_key is None and self.base_url is None:
            raise ConfigurationError(
                "no model to call: set OPENAI_API_KEY for OpenAI, or pass --base-url for a "
                "local OpenAI-compatible server, or pass --replay DIR to use recorded fixtures"
            )
