"""All run-time settings in one typed object.

Read once from the environment (``EXTRACTOR_*``, plus each provider's
conventional names: ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` for OpenAI,
``ANTHROPIC_API_KEY`` / ``ANTHROPIC_BASE_URL`` for Anthropic) or built directly
by library users, then passed down explicitly; nothing deeper in the package
reads the environment, so a test or a batch job can run two configurations
side by side.

A provider's conventional variables are read only for that provider, so an
OpenAI key in the environment is never sent to Anthropic, nor the reverse.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import os
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit, urlunsplit

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from extractor import _redact
from extractor._exceptions import ConfigurationError

Mode = Literal["live", "record", "replay"]
ProviderName = Literal["openai", "anthropic"]
OutputMode = Literal["tools", "json_schema"]
InputFormat = Literal["auto", "text", "jsonl", "csv", "tsv", "json", "parquet"]

# The SDK refuses to start without some key; local OpenAI-compatible servers and
# replay need none, so they get this placeholder, which never leaves the process
# in replay and is ignored by local servers.
PLACEHOLDER_KEY = "sk-no-key-needed"

# Each provider's conventional environment variables: (key, base URL).
_CONVENTIONAL_ENV: dict[str, tuple[str, str]] = {
    "openai": ("OPENAI_API_KEY", "OPENAI_BASE_URL"),
    "anthropic": ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"),
}
_DEFAULT_MODEL = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5"}
_PREFIX = "anthropic/"
_LOCAL_TIMEOUT = 3600.0
_LOCAL_PENALTY = 1.1
_LOCAL_REASKS = 0
_LOCAL_CHUNK_CHARS = 4_000


def is_local(url: str | None) -> bool:
    """Whether a server URL is on this machine or a private network (a self-hosted model)."""
    if not url:
        return False
    host = (urlsplit(url).hostname or "").lower()
    if host in ("localhost", "host.docker.internal") or host.endswith((".local", ".localhost")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_unspecified


def _split_credentials(url: str) -> tuple[str, str | None]:
    """The URL without ``user:password@``, and ``user:password`` (decoded) if it had them.

    aiohttp refuses a URL with credentials beside an ``Authorization`` header,
    and a URL is quoted in errors, logs and cache keys; so the credentials
    leave the URL here, once, and travel as Basic auth.
    """
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.netloc.rpartition("@")[2]
    auth = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
    return urlunsplit(parts._replace(netloc=host)), auth


class Replica(BaseModel):
    """One server of a fleet (several base URLs serving the same model) and its own limits.

    Written as a base URL with options in its fragment, which no server ever
    sees: ``http://gpu1:8000/v1#concurrency=8,rpm=600``. Options left out take
    the run's (``replica_concurrency``, ``rpm``, ``tpm``), which with several
    servers are each server's, not the run's total.
    """

    model_config = ConfigDict(frozen=True)

    url: str
    concurrency: int | None = Field(default=None, ge=1, description="Requests in flight at most.")
    rpm: float | None = Field(default=None, gt=0, description="Requests per minute at most.")
    tpm: float | None = Field(default=None, gt=0, description="Tokens per minute at most.")


_REPLICA_OPTIONS = ("concurrency", "rpm", "tpm")
# Several URLs in one value (an environment variable): split at commas or spaces that
# start another URL, so commas inside a URL's options (#concurrency=8,rpm=600) stay.
_URL_SEPARATOR = re.compile(r"[\s,]+(?=[A-Za-z][A-Za-z0-9+.-]*://)")


def _replicas(value: Any) -> list[Replica]:
    """The servers a ``base_url`` value names: one URL, several (comma- or space-separated,
    or a list), each with its options taken out of its fragment."""
    texts = [value] if isinstance(value, str) else list(value)
    urls = [u for text in texts for u in _URL_SEPARATOR.split(str(text).strip()) if u.strip()]
    found: list[Replica] = []
    for url in urls:
        bare, _, fragment = url.strip().strip(",").partition("#")
        options: dict[str, str] = {}
        for item in filter(None, (part.strip() for part in fragment.split(","))):
            name, equals, number = item.partition("=")
            if not equals or name.strip() not in _REPLICA_OPTIONS:
                raise ValueError(
                    f"unknown server option {item!r} in {bare}#{fragment}; "
                    f"known: {', '.join(o + '=N' for o in _REPLICA_OPTIONS)}"
                )
            options[name.strip()] = number.strip()
        try:
            found.append(Replica(url=bare, **options))  # type: ignore[arg-type]
        except ValidationError as exc:
            error = exc.errors()[0]
            raise ValueError(f"{bare}#{fragment}: {error['loc'][0]}: {error['msg']}") from None
    return found


class InputFields(BaseModel):
    """Which field of a corpus row holds what: for each, the names tried, the first present wins.

    The defaults are the names corpora and scrapers use: news-please's
    ``maintext``, ``date_publish`` and ``source_domain``; trafilatura's
    ``text``, ``date``, ``sitename``/``hostname`` and ``source`` (its name for
    the URL: a ``source`` that is a web address is a URL, not an outlet).
    Setting a field (``--text-field body``) tries that name only.
    """

    model_config = ConfigDict(frozen=True)

    text: tuple[str, ...] = ("text", "content", "body", "maintext")
    id: tuple[str, ...] = ("id",)
    date: tuple[str, ...] = ("date", "published", "publish_date", "date_publish")
    url: tuple[str, ...] = ("url", "link", "source")
    title: tuple[str, ...] = ("title", "headline")
    outlet: tuple[str, ...] = (
        "outlet",
        "source",
        "source_domain",
        "sitename",
        "source-hostname",
        "hostname",
    )
    language: tuple[str, ...] = ("language", "lang")


def _servers(data: dict[str, Any], provider: str) -> dict[str, Any]:
    """``base_url`` (and ``replicas``, ``base_url_auth``, ``rpm``, ``tpm``) from the URLs given.

    Each URL loses its credentials (they travel as Basic auth, the same for
    every server: there is one ``Authorization`` header) and, for Anthropic, a
    bare host gets ``/v1``. One URL is reached directly, as ever, its
    ``#rpm=``/``#tpm=`` the run's; several, or one with ``#concurrency=``, make a
    fleet (``extractor.model.fleet``).
    """
    replicas = _replicas(data["base_url"])
    if not replicas:
        return {"base_url": None}
    auths: set[str] = set()
    cleaned: list[Replica] = []
    for replica in replicas:
        url, auth = _split_credentials(replica.url) if "@" in replica.url else (replica.url, None)
        if auth:
            auths.add(auth)
        if provider == "anthropic" and urlsplit(url).path in ("", "/"):
            url = url.rstrip("/") + "/v1"  # the SDK's convention: the bare host
        cleaned.append(replica.model_copy(update={"url": url}))
    urls = [r.url for r in cleaned]
    if len(set(urls)) < len(urls):
        raise ValueError(f"a server is listed twice among the base URLs {', '.join(urls)}")
    if len(auths) > 1:
        raise ValueError("the servers of a fleet share one user:password (one header sends it)")
    update: dict[str, Any] = {"base_url": urls[0]}
    if auths and not data.get("base_url_auth"):
        update["base_url_auth"] = auths.pop()
    first = cleaned[0]
    if len(cleaned) > 1 or first.concurrency is not None:
        update["replicas"] = tuple(cleaned)
    else:
        for name in ("rpm", "tpm"):
            if (value := getattr(first, name)) is not None and data.get(name) is None:
                update[name] = value
    return update


class Settings(BaseSettings):
    """How to reach the model and how hard to try."""

    # hide_input_in_errors: a whole-settings error would otherwise print the API key.
    model_config = SettingsConfigDict(
        env_prefix="EXTRACTOR_",
        extra="ignore",
        populate_by_name=True,
        frozen=True,
        hide_input_in_errors=True,
    )

    provider: ProviderName = Field(
        default="openai",
        description="The model API: openai (chat completions, also any compatible server) or "
        "anthropic (Messages API). A model named 'anthropic/...' selects anthropic.",
    )
    model: str = Field(default="gpt-4o-mini", description="Model name sent to the server.")
    output_mode: OutputMode = Field(
        default="tools",
        description="How the answer is structured: tools (a forced tool call) or json_schema "
        "(constrained JSON output). Default: tools, but json_schema for a local server or --gguf.",
    )
    base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("base_url", "EXTRACTOR_BASE_URL"),
        description="The provider's server (any OpenAI-compatible one: Ollama, vLLM, llama.cpp); "
        "None for the provider's own. Given several (a list, or comma-separated), this is the "
        "first, and ``replicas`` holds them all.",
    )
    replicas: tuple[Replica, ...] = Field(
        default=(),
        description="The servers of a fleet, each with its own limits and health, filled from "
        "several base URLs (or one with #concurrency=N); empty for one server, reached directly.",
    )
    replica_concurrency: int | None = Field(
        default=None,
        ge=1,
        description="Requests in flight at most on each server of a fleet that sets none of its "
        "own (#concurrency=N); None: only the run's concurrency bounds them.",
    )
    api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("api_key", "EXTRACTOR_API_KEY")
    )
    base_url_auth: SecretStr | None = Field(
        default=None,
        description="'user:password' for HTTP Basic auth to the server; taken out of a base "
        "URL written http://user:password@host/v1, which then no longer holds it.",
    )
    gguf: Path | None = Field(
        default=None,
        description="A local GGUF model file, served in-process by llama.cpp (extra 'local').",
    )
    max_tokens: int | None = Field(
        default=None,
        gt=0,
        description="Cap on the tokens of one answer; None sizes it to the article "
        "(sent in json_schema mode and to Anthropic, which requires one).",
    )
    repetition_penalty: float | None = Field(
        default=None,
        gt=0,
        description="llama.cpp's repeat_penalty for a local model (1.0 is none); None: not sent.",
    )
    mode: Mode = Field(default="live", description="live, record (live + save), or replay.")
    cassette_dir: Path | None = Field(
        default=None, description="Where exchanges are recorded to or replayed from."
    )
    timeout: float = Field(
        default=120.0,
        gt=0,
        description="Deadline of one HTTP request, seconds: connecting, sending, waiting and "
        "reading the whole answer (each retry gets its own).",
    )
    transport_retries: int = Field(
        default=4, ge=0, description="Extra tries for timeouts, 429 and 5xx (tenacity)."
    )
    max_backoff: float = Field(default=60.0, gt=0, description="Cap on one retry wait, seconds.")
    reasks: int = Field(
        default=2,
        ge=0,
        description="Re-asks after an answer the support check or the schema finds fault with "
        "(0 with --gguf: a small CPU model loses more than it gains from them).",
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
    workers: int = Field(
        default=1,
        ge=1,
        description="Processes sharing the run (--workers): each keeps to its share of every "
        "rate limit (given, or learned from the provider) and of each fleet server's "
        "concurrency, so together they keep to the whole.",
    )
    input_format: InputFormat = Field(
        default="auto",
        description="How inputs are read: auto (by extension: .jsonl/.ndjson, .csv, .tsv, "
        ".json, .parquet; anything else is one article), or that format for every input.",
    )
    input_fields: InputFields = Field(
        default_factory=InputFields, description="Which row fields hold the text and metadata."
    )
    published: dt.date | None = Field(
        default=None,
        description="Publication date of every article of the run that has none of its own "
        "(--date); a dateline in the text still wins.",
    )

    @model_validator(mode="before")
    @classmethod
    def _resolve_provider(cls, data: Any) -> Any:
        """Fill what follows from the provider: its key, server, default model and output mode.

        A model named ``anthropic/...`` selects Anthropic unless a provider or
        a server is given (OpenRouter names its models the same way). Only the
        chosen provider's conventional variables are read.
        """
        if not isinstance(data, dict):
            return data
        data = dict(data)
        model = data.get("model")
        if (
            isinstance(model, str)
            and model.startswith(_PREFIX)
            and not data.get("base_url")
            and data.get("provider") in (None, "anthropic")
        ):
            data["provider"] = "anthropic"
            data["model"] = model[len(_PREFIX) :]
        provider = data.get("provider") or "openai"
        if isinstance(data.get("base_url"), (list, tuple)) and not data["base_url"]:
            data["base_url"] = None  # a repeatable option given no value: the environment's
        key_var, url_var = _CONVENTIONAL_ENV.get(provider, ("", ""))
        if not data.get("api_key") and os.environ.get(key_var):
            data["api_key"] = os.environ[key_var]
        if not data.get("base_url") and not data.get("gguf") and os.environ.get(url_var):
            data["base_url"] = os.environ[url_var]
        if data.get("base_url"):
            data.update(_servers(data, provider))
        if not data.get("model"):
            gguf = data.get("gguf")
            data["model"] = Path(gguf).name if gguf else _DEFAULT_MODEL.get(provider, "")
        if data.get("gguf"):
            # One slot on a CPU: a request may wait minutes for the one before it.
            data.setdefault("timeout", _LOCAL_TIMEOUT)
            # A small model's commonest failure is a phrase repeated until the limit.
            data.setdefault("repetition_penalty", _LOCAL_PENALTY)
            # Measured with Qwen2.5-1.5B on a CPU (bench/README.md): re-asks tripled the time
            # an article and cost meetings more than they bought claims.
            data.setdefault("reasks", _LOCAL_REASKS)
            # A small model loses track in a long article: the 20,000-character round-up in one
            # request gave Qwen2.5-1.5B no meeting right, in parts of 4,000 seven of 15.
            data.setdefault("chunk_chars", _LOCAL_CHUNK_CHARS)
        if not data.get("output_mode"):
            local = bool(data.get("gguf")) or is_local(data.get("base_url"))
            data["output_mode"] = "json_schema" if provider == "openai" and local else "tools"
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        # Known from now on to every scrub (error messages, logs, stored answers): the
        # key, and the base URL's password, alone and as the Basic token that carries it.
        _redact.remember(self.api_key.get_secret_value() if self.api_key else None)
        if (basic := self.basic_auth()) is not None and self.base_url_auth is not None:
            password = self.base_url_auth.get_secret_value().partition(":")[2]
            _redact.remember(password, basic.removeprefix("Basic "))
        if self.mode != "live" and self.cassette_dir is None:
            raise ValueError(f"mode {self.mode!r} needs cassette_dir")
        if self.gguf is not None and self.base_url is not None:
            raise ValueError("gguf and base_url exclude each other (gguf serves its own)")
        if self.provider == "anthropic" and self.output_mode != "tools":
            raise ValueError("anthropic supports output_mode tools only")
        if self.gguf is not None and self.provider != "openai":
            raise ValueError(
                "gguf is served by llama.cpp's OpenAI-compatible server: use provider openai"
            )
        return self

    def basic_auth(self) -> str | None:
        """The ``Authorization`` value for the base URL's credentials, if it had any."""
        if self.base_url_auth is None:
            return None
        token = base64.b64encode(self.base_url_auth.get_secret_value().encode("utf-8"))
        return "Basic " + token.decode("ascii")

    def key_for_client(self) -> str:
        """The key handed to the SDK: the real one, or a placeholder where none is needed."""
        return self.api_key.get_secret_value() if self.api_key else PLACEHOLDER_KEY

    def ensure_runnable(self) -> None:
        """Fail early, in one line, when no model can be reached."""
        if self.mode == "replay":
            return
        if self.gguf is not None:
            if not self.gguf.is_file():
                raise ConfigurationError(f"no GGUF model file at {self.gguf}")
            return
        both = self.base_url_auth is not None and self.api_key is not None
        if both and self.provider == "openai":
            raise ConfigurationError(
                "the base URL's user:password and the API key both need the Authorization "
                "header: drop one (unset the key, or the credentials in the base URL)"
            )
        if self.api_key is None and self.base_url is None:
            if self.provider == "anthropic":
                raise ConfigurationError(
                    "no model to call: set ANTHROPIC_API_KEY (or pass --key) for Anthropic, "
                    "or pass --replay DIR to use recorded fixtures"
                )
            raise ConfigurationError(
                "no model to call: set OPENAI_API_KEY for OpenAI, or pass --base-url for a "
                "local OpenAI-compatible server, or --gguf MODEL.gguf for a local model file, "
                "or pass --replay DIR to use recorded fixtures"
            )
