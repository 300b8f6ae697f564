"""Record and replay of HTTP exchanges with the model server.

One mechanism serves the tests, the offline CLI and (later) the response cache:
a transport under the OpenAI client that keys each request by a hash of its
normalised content (method, path relative to the base URL, JSON body; never
headers), and stores one pretty-printed JSON file per exchange. Because it sits
under the SDK, a replay exercises the real SDK parsing, instructor's validation
and re-asks, and the whole pipeline.

No request header is ever stored, so no API key can reach a cassette; only an
allow-list of response headers is kept, only 200 answers are recorded, and any
secret the run knows is scrubbed from an answer before it is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx2
import orjson

from extractor._exceptions import CassetteError, ReplayMissError
from extractor._redact import scrub_known
from extractor.model.prompting import article_message

CassetteMode = Literal["record", "replay"]

_KEPT_RESPONSE_HEADERS = ("content-type", "retry-after", "retry-after-ms")
_KEPT_HEADER_PREFIXES = ("x-ratelimit-",)
# pydantic's error text carries a versioned documentation link; instructor puts
# it in every re-ask. It says nothing about the request, so the key ignores it.
_PYDANTIC_URL = re.compile(
    r"\n?[ \t]*For further information visit https://errors\.pydantic\.dev/\S*"
)
KEY_CHARS = 24


def _strip_volatile(value: Any) -> Any:
    if isinstance(value, str):
        return _PYDANTIC_URL.sub("", value)
    if isinstance(value, list):
        return [_strip_volatile(v) for v in value]
    if isinstance(value, dict):
        return {k: _strip_volatile(v) for k, v in value.items()}
    return value


def normalised_request(method: str, path: str, body: bytes) -> dict[str, Any]:
    """The parts of a request that decide its answer, in a canonical form."""
    try:
        payload: Any = orjson.loads(body) if body else None
    except ValueError:
        payload = body.decode("utf-8", "replace")
    if b"errors.pydantic.dev" in body:  # only re-asks carry it; skip the walk otherwise
        payload = _strip_volatile(payload)
    return {"method": method.upper(), "path": path.strip("/"), "body": payload}


def request_key(normalised: dict[str, Any]) -> str:
    """A stable hash of the normalised request."""
    # Sorted keys, no spaces, UTF-8: the same bytes as json.dumps(sort_keys=True,
    # ensure_ascii=False, separators=(",", ":")) for every request we send (floats
    # in exponent form aside), at a tenth of its cost; every request is keyed.
    return hashlib.sha256(orjson.dumps(normalised, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _kept_headers(headers: httpx2.Headers) -> dict[str, str]:
    return {
        k.lower(): v
        for k, v in headers.items()
        if k.lower() in _KEPT_RESPONSE_HEADERS or k.lower().startswith(_KEPT_HEADER_PREFIXES)
    }


@dataclass
class Provenance:
    """Where an exchange came from: a real model, or a person writing a test case."""

    source: Literal["recorded", "authored"]
    model: str | None
    created_at: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    )
    note: str | None = None


class CassetteStore:
    """The files of one cassette directory: one JSON file per exchange, found by key."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._index: dict[str, Path] | None = None

    def path_for(self, key: str) -> Path:
        return self.directory / f"{key[:KEY_CHARS]}.json"

    def find(self, key: str) -> Path | None:
        """The file for a key, anywhere under the directory (fixtures may be grouped)."""
        direct = self.path_for(key)
        if direct.is_file():
            return direct
        if self._index is None:
            self._index = {p.stem: p for p in self.directory.rglob("*.json")}
        return self._index.get(key[:KEY_CHARS])

    def load(self, key: str) -> dict[str, Any] | None:
        path = self.find(key)
        if path is None:
            return None
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CassetteError(f"cannot read cassette {path}: {exc}") from exc
        return data

    def save(
        self,
        key: str,
        request: dict[str, Any],
        status: int,
        headers: dict[str, str],
        body: Any,
        provenance: Provenance,
    ) -> Path:
        exchange = {
            "key": key,
            "provenance": provenance.__dict__,
            "request": request,
            "response": {"status": status, "headers": headers, "body": body},
        }
        path = self.path_for(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(exchange_text(exchange), encoding="utf-8")
        tmp.replace(path)
        if self._index is not None:
            self._index[path.stem] = path
        return path


def exchange_text(exchange: dict[str, Any]) -> str:
    """A cassette file's text: sorted, indented, UTF-8 as written, so rebuilds diff cleanly."""
    return json.dumps(exchange, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


async def keyed(request: httpx2.Request, base_path: str) -> tuple[dict[str, Any], str]:
    """A request's normalised form and its key: what the cache and the cassettes look up."""
    body = await request.aread()
    normalised = normalised_request(request.method, relative_path(request, base_path), body)
    return normalised, request_key(normalised)


def relative_path(request: httpx2.Request, base_path: str) -> str:
    """The request path below the client's base URL, so keys survive a change of host."""
    path = request.url.path
    return path[len(base_path) :] if base_path and path.startswith(base_path) else path


def decoded_response(
    response: httpx2.Response, content: bytes, request: httpx2.Request
) -> httpx2.Response:
    """A fresh response around an already-decoded body, without the encoding headers.

    Handing on the original headers would make the SDK decode the body a second time.
    """
    headers = [
        (k, v)
        for k, v in response.headers.multi_items()
        if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
    ]
    fresh = httpx2.Response(response.status_code, headers=headers, content=content, request=request)
    fresh.extensions.update(response.extensions)  # what the retries noted (how many tries)
    return fresh


def response_from_exchange(exchange: dict[str, Any], request: httpx2.Request) -> httpx2.Response:
    """Rebuild the HTTP response a recorded exchange holds."""
    response = exchange["response"]
    body = response["body"]
    content = body.encode("utf-8") if isinstance(body, str) else json.dumps(body).encode("utf-8")
    headers = {"content-type": "application/json", **response.get("headers", {})}
    return httpx2.Response(response["status"], headers=headers, content=content, request=request)


class CassetteTransport(httpx2.AsyncBaseTransport):
    """Replays exchanges from a directory, or records them while calling ``inner``."""

    def __init__(
        self,
        store: CassetteStore,
        mode: CassetteMode,
        *,
        base_url: str,
        inner: httpx2.AsyncBaseTransport | None = None,
        provenance_note: str | None = None,
        authored: bool = False,
    ) -> None:
        if mode == "record" and inner is None:
            raise CassetteError("record mode needs a transport to record from")
        self.store = store
        self.mode = mode
        self.inner = inner
        self.base_path = httpx2.URL(base_url).path.rstrip("/")
        self.provenance_note = provenance_note
        # Authored: the answers come from a person's script (a test case), not a model.
        self.authored = authored

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        normalised, key = await keyed(request, self.base_path)
        if self.mode == "replay":
            exchange = self.store.load(key)
            if exchange is None:
                raise ReplayMissError(_miss_message(key, normalised, self.store.directory))
            return response_from_exchange(exchange, request)

        assert self.inner is not None
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        await response.aclose()
        if response.status_code == 200:
            # The run's key never belongs in an answer; should a server echo it, it stays out.
            text = scrub_known(content.decode("utf-8", "replace"))
            try:
                stored_body: Any = json.loads(text)
            except ValueError:
                stored_body = text
            model = stored_body.get("model") if isinstance(stored_body, dict) else None
            self.store.save(
                key,
                normalised,
                response.status_code,
                _kept_headers(response.headers),
                stored_body,
                Provenance(
                    source="authored" if self.authored else "recorded",
                    model=None if self.authored else model,
                    note=self.provenance_note,
                ),
            )
        return decoded_response(response, content, request)

    async def aclose(self) -> None:
        if self.inner is not None:
            await self.inner.aclose()


def _miss_message(key: str, normalised: dict[str, Any], directory: Path) -> str:
    body = normalised.get("body")
    model = body.get("model") if isinstance(body, dict) else None
    start = " ".join(article_message(body).split())[:80]
    return (
        f"no recorded exchange {key[:KEY_CHARS]} in {directory} for model {model!r}, "
        f"last user message starting {start!r}; record it with --record {directory} "
        "against a live model, or check that --model and the prompt match the fixtures"
    )
