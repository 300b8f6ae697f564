"""A fake model server on loopback, speaking OpenAI's API and Anthropic's, for tests and benchmarks.

It answers ``POST /v1/chat/completions`` (OpenAI's chat completions) and
``POST /v1/messages`` (Anthropic's Messages API) the way the provider would,
only faster and on purpose badly when asked to: from recorded exchanges
(``cassette_dir``) when one matches the request, otherwise with a synthesised
answer that is grounded by construction (every quote and mention is cut out of
the article in the request), so a whole batch can run against it and be
checked. On top of that it can be slow (``latency``), enforce a
requests-per-minute limit over a sliding minute (429 with ``Retry-After`` and
``x-ratelimit-*`` headers, as OpenAI does, or ``anthropic-ratelimit-requests-*``
with an RFC 3339 reset, as Anthropic does), and inject faults at a seeded rate:
500s, hangs past the client's timeout, malformed output (JSON cut short; for
Anthropic, whose tool input is always JSON, an input that does not fit the
schema), truncation (``finish_reason=length``, or ``stop_reason=max_tokens``)
and quotes that are not in the article. Errors come in each API's own error
shape. ``stats`` counts what it did, so a benchmark can report the share of
requests answered 429 and a test can check that a fault was served.

It is built on ``aiohttp.web`` (already a dependency), which does the HTTP:
keep-alive, bodies, size limits. A benchmark must measure the client, not the
server; ``bench/README.md`` gives what one core serves.
It binds 127.0.0.1 only; there is no option to listen anywhere else.

Three ways to run it::

    async with FakeServer(FakeServerConfig(latency=0.5)) as server:
        settings = Settings(base_url=server.base_url, api_key="sk-test")

    base_url, stop, stats = run_in_thread(FakeServerConfig(rpm=600))  # sync callers
    ...
    stop()

    python -m extractor.testing.fakeserver --port 0 --latency 0.5 --rpm 600 --fault-rate 0.2
    # prints its base URL on the first line of stdout, serves until killed;
    # GET /stats answers the counters as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import math
import random
import re
import signal
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import pydantic_core
from aiohttp import web

from extractor.ground.support import weak_quote
from extractor.model import prompting
from extractor.model.cassette import CassetteStore, normalised_request, request_key
from extractor.testing.scripted import anthropic_error, completion_body, message_body

__all__ = [
    "FAULT_KINDS",
    "UNGROUNDED_QUOTE",
    "FakeServer",
    "FakeServerConfig",
    "run_in_thread",
    "synthesise_arguments",
]

HOST = "127.0.0.1"
FAULT_KINDS: tuple[str, ...] = ("500", "hang", "malformed", "length", "ungrounded")
UNGROUNDED_QUOTE = "This sentence is not in the article."
_API_PREFIX = "/v1"
_CHAT_PATHS = (f"{_API_PREFIX}/chat/completions", "/chat/completions")
_MESSAGES_PATHS = (f"{_API_PREFIX}/messages", "/messages")
_MAX_BODY = 64 * 1024 * 1024
_WINDOW = 60.0


# Words in the article's own letters, any script; the first capitalised ones
# become participants. Sentence openers are skipped so they read like names.
_WORD = re.compile(r"[^\W\d_]+")
_NOT_NAMES = frozenset({
    "A", "An", "The", "In", "On", "At", "By", "For", "From", "To", "Of", "And", "But", "Or",
    "As", "It", "Its", "He", "She", "They", "We", "I", "This", "That", "These", "Those",
    "There", "Here", "His", "Her", "Their", "Our", "After", "Before", "During", "While", "When",
})  # fmt: skip
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
_MAX_SENTENCE = 300
_SHORT_QUOTE = 80


@dataclass(frozen=True)
class FakeServerConfig:
    """How the fake server behaves; the defaults answer every request at once, correctly."""

    latency: float = 0.0
    """Seconds before each answer (not before a 429, which a provider sends at once)."""
    rpm: int | None = None
    """Requests accepted per sliding 60 s window; past it, 429 with Retry-After."""
    fault_rate: float = 0.0
    """Share of accepted requests that get a fault instead of a good answer."""
    faults: tuple[str, ...] = FAULT_KINDS
    """The kinds drawn from, uniformly: 500, hang, malformed, length, ungrounded."""
    seed: int = 0
    """Seeds the fault draws; the sequence is deterministic in request arrival order."""
    hang_seconds: float = 30.0
    """How long a ``hang`` waits before answering (the client should time out first)."""
    cassette_dir: Path | None = None
    """Recorded exchanges to answer from when a request matches one exactly."""

    def __post_init__(self) -> None:
        unknown = [kind for kind in self.faults if kind not in FAULT_KINDS]
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}; known: {', '.join(FAULT_KINDS)}")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError(f"fault_rate must be within [0, 1], not {self.fault_rate}")
        if self.fault_rate > 0 and not self.faults:
            raise ValueError("fault_rate > 0 needs at least one fault kind")
        if self.rpm is not None and self.rpm < 1:
            raise ValueError(f"rpm must be at least 1, not {self.rpm}")
        if self.latency < 0 or self.hang_seconds < 0:
            raise ValueError("latency and hang_seconds cannot be negative")


# --------------------------------------------------------------------------- answers


def article_of(body: dict[str, Any]) -> str:
    """The article of a request, or its whole last user message when it has no fence."""
    article = prompting.article_of(body)
    return article if article is not None else prompting.last_user_text(body)


def _tool_name(body: dict[str, Any]) -> str:
    """The forced tool's name: OpenAI nests it under ``function``, Anthropic does not."""
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, dict) else choice.get("name")
        if name:
            return str(name)
    for tool in body.get("tools") or []:
        if isinstance(tool, dict):
            function = tool.get("function")
            name = function.get("name") if isinstance(function, dict) else tool.get("name")
            if name:
                return str(name)
    return "DraftExtraction"


def _first_sentence(article: str) -> str:
    start = len(article) - len(article.lstrip())
    match = _SENTENCE_END.search(article, start)
    if match is not None and match.end() - start <= _MAX_SENTENCE:
        return article[start : match.end()]
    return article[start : start + _SHORT_QUOTE].rstrip()


def _names(article: str) -> list[str]:
    found: list[str] = []
    for match in _WORD.finditer(article):
        word = match.group()
        if (
            len(word) > 1
            and word[0].isupper()
            and word not in _NOT_NAMES
            and word not in found
            and weak_quote(word) is None  # "May" is a month and a stop word, not a name
        ):
            found.append(word)
            if len(found) == 2:
                break
    return found


def synthesise_arguments(article: str, *, ungrounded: bool = False) -> dict[str, Any]:
    """A ``DraftExtraction``-shaped answer cut from the article itself.

    One meeting between two sides named by the first two distinct capitalised
    words (each word the side's name and mention), quoting the first sentence;
    empty lists when the article has fewer than two such words. With
    ``ungrounded`` the quote is a sentence the article does not contain.
    """
    names = _names(article)
    quote = UNGROUNDED_QUOTE if ungrounded else _first_sentence(article)
    if len(names) < 2 or not quote:
        if not ungrounded:
            return {"meetings": [], "status_claims": []}
        claim = {
            "subject": "Nobody",
            "subject_quote": "Nobody",
            "organisation": "SCO",
            "status": "member",
            "status_quote": "member",
            "stance": "holds",
            "quotes": [quote],
        }
        return {"meetings": [], "status_claims": [claim]}
    sides = [{"name": name, "kind": "person", "mentions": [name]} for name in names]
    meeting = {"sides": sides, "status": "held", "quotes": [quote]}
    return {"meetings": [meeting], "status_claims": []}


# --------------------------------------------------------------------------- server


def _stats_template() -> dict[str, Any]:
    return {
        "requests": 0,
        "answered_200": 0,
        "answered_429": 0,
        "answered_500": 0,
        "answered_other": 0,
        "from_cassette": 0,
        "synthesised": 0,
        "connections": 0,
        "hangs_abandoned": 0,
        "faults": {kind: 0 for kind in FAULT_KINDS},
        "first_request": None,
        "last_request": None,
    }


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _error(message: str, kind: str, code: str | None = None) -> bytes:
    return _json_bytes({"error": {"message": message, "type": kind, "param": None, "code": code}})


def _timestamp(seconds: float) -> str:
    """An Anthropic-style reset: the RFC 3339 moment ``seconds`` from now, rounded up."""
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=math.ceil(seconds))
    return when.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _duration(seconds: float) -> str:
    """An OpenAI-style reset duration ("120ms", "1.5s")."""
    if seconds < 1:
        return f"{max(int(seconds * 1000), 1)}ms"
    return f"{seconds:.3f}".rstrip("0").rstrip(".") + "s"


Answer = tuple[int, dict[str, str], bytes]


class _Hang:
    """Marks an answer to be held back for ``hang_seconds`` (or until the client leaves)."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer


class _Delayed:
    """Marks an answer to be sent after the configured latency."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer


class FakeServer:
    """The fake server; ``async with FakeServer(config) as server: server.base_url``."""

    def __init__(self, config: FakeServerConfig | None = None, *, port: int = 0) -> None:
        self.config = config or FakeServerConfig()
        self.port = port
        self.stats: dict[str, Any] = _stats_template()
        self._rng = random.Random(self.config.seed)
        self._window: deque[float] = deque()
        self._store = CassetteStore(self.config.cassette_dir) if self.config.cassette_dir else None
        self._runner: web.AppRunner | None = None
        self._transports: weakref.WeakSet[asyncio.BaseTransport] = weakref.WeakSet()

    # ----------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``, what a client takes as its base URL."""
        if self._runner is None:
            raise RuntimeError("the fake server is not started")
        return f"http://{HOST}:{self.port}{_API_PREFIX}"

    async def start(self) -> FakeServer:
        app = web.Application(client_max_size=_MAX_BODY)
        app.router.add_route("*", "/{path:.*}", self._handle)
        # A client that gives up on a hanging answer cancels its handler: that is
        # how an abandoned hang is seen and counted.
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, self.port, backlog=2048)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        """Stop listening and drop every open connection, hanging answers included."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def serve_forever(self) -> None:
        if self._runner is None:
            await self.start()
        await asyncio.Event().wait()  # until cancelled

    async def __aenter__(self) -> FakeServer:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ----------------------------------------------------------------- HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        """One request and its answer; aiohttp does the HTTP (keep-alive, bodies, limits)."""
        transport = request.transport
        if transport is not None and transport not in self._transports:
            self._transports.add(transport)
            self.stats["connections"] += 1
        body = await request.read()
        answer = self._route(request.method, request.path, body)
        if isinstance(answer, _Hang):
            try:
                await asyncio.sleep(self.config.hang_seconds)
            except asyncio.CancelledError:
                self.stats["hangs_abandoned"] += 1
                raise
            answer = answer.answer
        elif isinstance(answer, _Delayed):
            await asyncio.sleep(self.config.latency)
            answer = answer.answer
        status, headers, content = answer
        self._count(status)
        kept = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        return web.Response(
            status=status, body=content, headers=kept, content_type="application/json"
        )

    def _count(self, status: int) -> None:
        key = {200: "answered_200", 429: "answered_429", 500: "answered_500"}.get(status)
        self.stats[key or "answered_other"] += 1

    # ----------------------------------------------------------------- behaviour

    def _route(self, method: str, path: str, body: bytes) -> Answer | _Hang | _Delayed:
        """The answer to a request; a model's answer comes wrapped to be delayed or held."""
        if method == "GET" and path in ("/stats", f"{_API_PREFIX}/stats"):
            return 200, {}, _json_bytes(self.stats)
        anthropic = path in _MESSAGES_PATHS
        if path not in _CHAT_PATHS and not anthropic:
            return 404, {}, _error(f"no route {method} {path}", "invalid_request_error")
        if method != "POST":
            return 405, {}, self._error("use POST", "invalid_request_error", anthropic)
        answer = self._chat(path, body, anthropic)
        if self.config.latency > 0 and not isinstance(answer, _Hang) and answer[0] != 429:
            return _Delayed(answer)
        return answer

    @staticmethod
    def _error(message: str, kind: str, anthropic: bool, code: str | None = None) -> bytes:
        """An error body in the shape of the API asked."""
        if anthropic:
            return _json_bytes(anthropic_error(message, kind))
        return _error(message, kind, code)

    def _admit(self, anthropic: bool = False) -> tuple[dict[str, str], float | None]:
        """Rate-limit headers, and the seconds to wait when the window is full (else None)."""
        rpm = self.config.rpm
        if rpm is None:
            return {}, None
        now = time.monotonic()
        window = self._window
        while window and window[0] <= now - _WINDOW:
            window.popleft()
        full = len(window) >= rpm
        if not full:
            window.append(now)
        # Reset: when the oldest request in the window leaves it, freeing a slot.
        free_in = window[0] + _WINDOW - now if window else 0.0
        if anthropic:
            return {
                "anthropic-ratelimit-requests-limit": str(rpm),
                "anthropic-ratelimit-requests-remaining": str(rpm - len(window)),
                "anthropic-ratelimit-requests-reset": _timestamp(max(free_in, 0.001)),
            }, (free_in if full else None)
        headers = {
            "x-ratelimit-limit-requests": str(rpm),
            "x-ratelimit-remaining-requests": str(rpm - len(window)),
            "x-ratelimit-reset-requests": _duration(max(free_in, 0.001)),
        }
        return headers, (free_in if full else None)

    def _chat(self, path: str, raw: bytes, anthropic: bool = False) -> Answer | _Hang:
        """A model's answer to one request, OpenAI's or (``anthropic``) Anthropic's."""
        stats = self.stats
        stats["requests"] += 1
        now = time.time()
        stats["first_request"] = stats["first_request"] or now
        stats["last_request"] = now
        limit_headers, wait = self._admit(anthropic)
        if wait is not None:
            retry_after = max(1, math.ceil(wait))
            headers = {**limit_headers, "retry-after": str(retry_after)}
            message = f"Rate limit reached for requests: limit {self.config.rpm}/min"
            if anthropic:
                return 429, headers, self._error(message, "rate_limit_error", anthropic)
            return 429, headers, _error(message, "requests", "rate_limit_exceeded")

        fault = None
        if self.config.fault_rate > 0 and self._rng.random() < self.config.fault_rate:
            fault = self._rng.choice(self.config.faults)
            stats["faults"][fault] += 1
        if fault == "500":
            kind = "api_error" if anthropic else "server_error"
            return 500, limit_headers, self._error("injected fault", kind, anthropic)

        try:
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            error = self._error("body is not a JSON object", "invalid_request_error", anthropic)
            return 400, limit_headers, error

        answer: Answer | None = None
        if self._store is not None and fault in (None, "hang"):
            answer = self._from_cassette(path, raw, limit_headers)
        if answer is None:
            answer = self._synthesised(body, len(raw), fault, limit_headers, anthropic)
        return _Hang(answer) if fault == "hang" else answer

    def _from_cassette(self, path: str, raw: bytes, headers: dict[str, str]) -> Answer | None:
        assert self._store is not None
        relative = path[len(_API_PREFIX) :] if path.startswith(_API_PREFIX) else path
        exchange = self._store.load(request_key(normalised_request("POST", relative, raw)))
        if exchange is None:
            return None
        self.stats["from_cassette"] += 1
        response = exchange["response"]
        body = response["body"]
        content = body.encode("utf-8") if isinstance(body, str) else _json_bytes(body)
        kept = {k: v for k, v in response.get("headers", {}).items() if k != "content-type"}
        return response["status"], {**kept, **headers}, content

    def _synthesised(
        self,
        body: dict[str, Any],
        size: int,
        fault: str | None,
        headers: dict[str, str],
        anthropic: bool = False,
    ) -> Answer:
        self.stats["synthesised"] += 1
        arguments = synthesise_arguments(article_of(body), ungrounded=fault == "ungrounded")
        text = json.dumps(arguments, ensure_ascii=False)
        if anthropic:
            return 200, headers, _json_bytes(self._message(body, size, fault, arguments, text))
        finish = "tool_calls"
        if fault == "malformed":
            text = text[: len(text) // 2] + " <- not JSON"
        elif fault == "length":
            text = text[: len(text) // 2]
            finish = "length"
        completion = completion_body(
            text,
            tool_name=_tool_name(body),
            model=str(body.get("model") or "fake-model"),
            prompt_tokens=max(1, size // 4),
            completion_tokens=max(1, len(text) // 4),
            finish_reason=finish,
            as_content="response_format" in body and "tools" not in body,
        )
        return 200, headers, _json_bytes(completion)

    @staticmethod
    def _message(
        body: dict[str, Any], size: int, fault: str | None, arguments: dict[str, Any], text: str
    ) -> dict[str, Any]:
        """An Anthropic message carrying ``arguments`` in its tool call, faulted as asked.

        A tool call's input is always a JSON object, so a malformed answer is
        one that does not fit the schema (the JSON cut short, as a string where
        the meetings belong), and a cut-off one holds what a partial parse of
        the first half of the JSON keeps, with ``stop_reason`` "max_tokens".
        """
        tool_input: dict[str, Any] = arguments
        stop_reason = None
        if fault == "malformed":
            tool_input = {"meetings": text[: len(text) // 2] + " <- not JSON", "status_claims": []}
        elif fault == "length":
            partial = pydantic_core.from_json(text[: len(text) // 2], allow_partial=True)
            tool_input = partial if isinstance(partial, dict) else {}
            stop_reason = "max_tokens"
        output = json.dumps(tool_input, ensure_ascii=False)
        return message_body(
            tool_input,
            tool_name=_tool_name(body),
            model=str(body.get("model") or "fake-model"),
            input_tokens=max(1, size // 4),
            output_tokens=max(1, len(output) // 4),
            stop_reason=stop_reason,
        )


# --------------------------------------------------------------------------- sync use


class _Served(Protocol):
    @property
    def base_url(self) -> str: ...

    @property
    def stats(self) -> dict[str, Any]: ...

    async def start(self) -> object: ...

    async def stop(self) -> None: ...


def serve_in_thread(
    make: Callable[[], _Served], name: str
) -> tuple[str, Callable[[], None], dict[str, Any]]:
    """Start ``make()``'s server on its own event loop in a daemon thread, for sync callers.

    Returns ``(base_url, stop, stats)``; ``stats`` is the live dict the server
    updates, ``stop()`` closes every connection and joins the thread. Shared by
    the fake chat server and the fake batch server.
    """
    ready = threading.Event()
    box: dict[str, Any] = {}

    def main() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        server = make()
        try:
            loop.run_until_complete(server.start())
        except BaseException as exc:
            box["error"] = exc
            ready.set()
            loop.close()
            return
        box["server"], box["loop"] = server, loop
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(server.stop())
            loop.close()

    thread = threading.Thread(target=main, name=name, daemon=True)
    thread.start()
    ready.wait()
    if "error" in box:
        raise box["error"]
    server: _Served = box["server"]
    loop: asyncio.AbstractEventLoop = box["loop"]

    def stop() -> None:
        if thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join()

    return server.base_url, stop, server.stats


def run_in_thread(
    config: FakeServerConfig | None = None, *, port: int = 0
) -> tuple[str, Callable[[], None], dict[str, Any]]:
    """The fake chat server in a daemon thread: ``(base_url, stop, stats)``."""
    return serve_in_thread(lambda: FakeServer(config, port=port), "fakeserver")


# --------------------------------------------------------------------------- CLI


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m extractor.testing.fakeserver",
        description="A fake model server (OpenAI's and Anthropic's API) on 127.0.0.1 for tests "
        "and benchmarks. "
        "Prints its base URL on the first line, serves until killed; GET /stats for counters.",
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--rpm", type=int, default=None, help="requests per sliding minute")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of faulty answers")
    parser.add_argument(
        "--faults", default=",".join(FAULT_KINDS), help="comma-separated kinds to draw from"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hang-seconds", type=float, default=30.0)
    parser.add_argument("--cassette-dir", type=Path, default=None)
    return parser.parse_args(argv)


async def serve_until_signalled(server: _Served) -> None:
    """Start a fake server, print its base URL, and serve until SIGINT or SIGTERM."""
    await server.start()
    print(server.base_url, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    try:
        config = FakeServerConfig(
            latency=args.latency,
            rpm=args.rpm,
            fault_rate=args.fault_rate,
            faults=tuple(kind.strip() for kind in args.faults.split(",") if kind.strip()),
            seed=args.seed,
            hang_seconds=args.hang_seconds,
            cassette_dir=args.cassette_dir,
        )
    except ValueError as exc:
        print(f"fakeserver: error: {exc}", file=sys.stderr)
        return 2
    server = FakeServer(config, port=args.port)
    asyncio.run(serve_until_signalled(server))
    print(json.dumps(server.stats), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
