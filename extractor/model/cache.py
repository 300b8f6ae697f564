"""The response cache: a rerun costs no calls.

SQLite, keyed exactly like the replay fixtures (``cassette.request_key`` over
the normalised request, which holds no header, so no key can reach the cache),
in WAL mode so several processes can read and write it at once. It sits above
the retries: only the final 200 answer to a request is stored (without any
secret the run knows, should the server echo one), and a hit never touches the
network or the rate limiter.

The same file also keeps finished extractions, keyed by the document's text,
the model, the prompt and every setting and line of code that shapes the
result; a rerun of an unchanged corpus then skips even the SDK and instructor
(``RunInfo.cached`` says so). Change the code or a setting and the results are
recomputed, from the cached answers, at no cost in calls.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import sqlite3
import threading
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import httpx2
import orjson
import platformdirs

from extractor._exceptions import ConfigurationError
from extractor._redact import scrub_known
from extractor.model.cassette import keyed, response_from_exchange
from extractor.settings import Settings

_SCHEMA = """
create table if not exists responses (
    key text primary key,
    model text,
    created_at text not null,
    request text not null,
    status integer not null,
    body text not null
);
create table if not exists results (
    key text primary key,
    created_at text not null,
    extraction text not null
);
"""


@functools.cache
def code_fingerprint() -> str:
    """A hash of the package's code and data: results cached by other code are not reused."""
    digest = hashlib.sha256()
    packages = ("extractor", "extractor.schemas", "extractor.prompts")
    for package in [*map(resources.files, packages), resources.files("extractor") / "data"]:
        for entry in sorted(package.iterdir(), key=lambda e: e.name):
            if entry.is_file() and entry.name.endswith((".py", ".json", ".j2", ".txt", "VERSION")):
                digest.update(entry.name.encode() + b"\0" + entry.read_bytes())
    return digest.hexdigest()


def result_key(
    document_sha256: str, settings: Settings, prompt_version: str, published: str = ""
) -> str:
    """What decides a document's extraction besides the model's answers.

    ``published`` is the input's metadata date: the same wire story in two
    outlets' rows resolves "on Tuesday" against each row's own date.
    """
    parts = [
        document_sha256,
        published,
        settings.provider,
        settings.model,  # not the server's address: the answer cache ignores it too
        prompt_version,
        repr(settings.temperature),
        str(settings.reasks),
        str(settings.chunk_chars),
        str(settings.chunk_overlap),
        code_fingerprint(),
    ]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def open_cache(settings: Settings) -> ResponseCache | None:
    """The run's cache, or None when disabled or replaying fixtures."""
    if not settings.cache or settings.mode == "replay":
        return None
    return ResponseCache(settings.cache_path or default_cache_path())


def default_cache_path() -> Path:
    """Where the cache lives unless told otherwise: the user's cache directory."""
    return Path(platformdirs.user_cache_dir("extractor")) / "responses.sqlite"


class ResponseCache:
    """Stored answers by request key; safe across threads and processes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, timeout=30.0, check_same_thread=False, isolation_level=None
            )
            self._db.execute("pragma journal_mode=wal")
            self._db.execute("pragma synchronous=normal")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigurationError(f"cannot open the response cache {self.path}: {exc}") from exc
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "select status, body from responses where key = ?", (key,)
            ).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return {"response": {"status": row[0], "headers": {}, "body": orjson.loads(row[1])}}

    def put(
        self,
        key: str,
        request: dict[str, Any],
        status: int,
        body: Any,
        *,
        text: str | None = None,
    ) -> None:
        """Store an answer, with its request for reading (as the provider shortens it).

        ``text`` is the answer's JSON as received, stored as it is instead of
        encoding ``body`` again.
        """
        body_model = body.get("model") if isinstance(body, dict) else None
        created = dt.datetime.now(dt.UTC).isoformat()
        with self._lock:
            self._db.execute(
                "insert or replace into responses values (?, ?, ?, ?, ?, ?)",
                (
                    key,
                    body_model,
                    created,
                    orjson.dumps(request).decode(),
                    status,
                    orjson.dumps(body).decode() if text is None else text,
                ),
            )

    def get_result(self, key: str) -> str | None:
        """A finished extraction (JSON) stored under a result key."""
        with self._lock:
            row = self._db.execute(
                "select extraction from results where key = ?", (key,)
            ).fetchone()
        return None if row is None else str(row[0])

    def put_result(self, key: str, extraction_json: str) -> None:
        created = dt.datetime.now(dt.UTC).isoformat()
        with self._lock:
            self._db.execute(
                "insert or replace into results values (?, ?, ?)", (key, created, extraction_json)
            )

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("select count(*) from responses").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


class AnswerPolicy(Protocol):
    """What only the provider knows of its answers: which to keep, and how to store a request."""

    def worth_keeping(self, body: Any) -> bool:
        """Whether an answer may be replayed forever (complete, with readable output)."""

    def stored_request(self, request: dict[str, Any]) -> dict[str, Any]:
        """The request as stored beside its answer, for reading (the key covers all of it)."""


class CachingTransport(httpx2.AsyncBaseTransport):
    """Answers from the cache when it can, otherwise asks ``inner`` and stores a 200."""

    def __init__(
        self,
        cache: ResponseCache,
        inner: httpx2.AsyncBaseTransport,
        *,
        base_url: str,
        answers: AnswerPolicy,
    ) -> None:
        self.cache = cache
        self.inner = inner
        self.base_path = httpx2.URL(base_url).path.rstrip("/")
        self.answers = answers

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        normalised, key = await keyed(request, self.base_path)
        if (hit := self.cache.get(key)) is not None:
            return response_from_exchange(hit, request)
        response = await self.inner.handle_async_request(request)
        if response.status_code != 200:
            return response
        content = await response.aread()  # decoded, and kept on the response
        await response.aclose()
        try:
            parsed = orjson.loads(content)
        except ValueError:
            return response
        if self.answers.worth_keeping(parsed):
            stored = self.answers.stored_request(normalised)
            text = content.decode("utf-8")
            if (clean := scrub_known(text)) != text:  # a server that echoed the run's key
                text, parsed = clean, orjson.loads(clean)
            self.cache.put(key, stored, 200, parsed, text=text)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()  # the cache is closed by whoever opened it
