"""A fake batch server on loopback: OpenAI's files and batches, Anthropic's message batches.

It speaks what ``extractor.model.batch_api`` calls, the way the providers do,
only in seconds instead of hours and on purpose badly when asked to:

* OpenAI: ``POST /v1/files`` (multipart, ``purpose=batch``), ``GET
  /v1/files/{id}`` and ``/content``, ``POST /v1/batches``, ``GET
  /v1/batches/{id}``, ``POST /v1/batches/{id}/cancel``. The input file is
  checked as OpenAI checks it (JSON lines, unique ``custom_id``, method POST,
  the batch's endpoint, one model); a bad one makes a ``failed`` batch with
  its errors. A finished batch has an output file (answered lines) and an
  error file (failed lines as error responses, and ``batch_expired`` or
  ``batch_cancelled`` for the lines not run).
* Anthropic: ``POST /v1/messages/batches``, ``GET /v1/messages/batches/{id}``
  and ``/results``, ``POST /v1/messages/batches/{id}/cancel``; results are
  ``succeeded``, ``errored``, ``expired`` or ``canceled`` lines.

A batch ends once ``delay`` seconds have passed since it was created and it
has been polled more than ``polls`` times; then every line is decided at once
with a draw seeded by (seed, batch, custom id): a share ``fail_rate`` fails,
a share ``expired_share`` is not run (the batch then ends expired: OpenAI's
``expired``, Anthropic's ``ended`` with expired lines), a share
``missing_rate`` is left out of the results altogether though counted as done
(a partial output file), and the rest is answered. Answers are the live fake
server's (``fakeserver``), cut from each request's article, shaped for its
mode (a tool call or JSON content for OpenAI, ``tool_use`` for Anthropic), so
a batch answer equals what the live path would get for the same request; a
share ``ungrounded_rate`` of them quote a sentence the article does not hold
(an answer needing a re-ask). A resubmitted line is drawn afresh, its batch
being another.

With ``api_key`` set, any other key is refused with 401, its message quoting
the key it was sent (as gateways do), so tests can check that no error
message repeats it. ``stats`` counts what it did.

    async with FakeBatchServer(FakeBatchConfig(delay=0.05, fail_rate=0.05)) as server:
        settings = Settings(base_url=server.base_url, api_key="sk-test")

    python -m extractor.testing.fakebatch --port 0 --delay 5 --fail-rate 0.05
    # prints its base URL on the first line, serves until killed; GET /stats for counters.

It binds 127.0.0.1 only. Everything is kept in memory: it is for tests and
benches of thousands of lines, not for millions.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import pydantic_core
from aiohttp import web

from extractor.model.batch_api.anthropic_batches import CUSTOM_ID
from extractor.model.batch_api.openai_batches import COMPLETION_WINDOW, ENDPOINT
from extractor.testing.fakeserver import (
    FakeServer,
    FakeServerConfig,
    serve_in_thread,
    serve_until_signalled,
)
from extractor.testing.scripted import anthropic_error

__all__ = ["FakeBatchConfig", "FakeBatchServer", "run_in_thread"]

HOST = "127.0.0.1"
_API_PREFIX = "/v1"
_MAX_BODY = 300 * 1024 * 1024  # above both providers' limits: theirs are checked by count
_CHUNK = 64 * 1024
_OPENAI_MAX_REQUESTS = 50_000
_ANTHROPIC_MAX_REQUESTS = 100_000
_DAY = 24 * 3600
_EXPIRED_MESSAGE = "This request could not be executed before the completion window expired."
_CANCELLED_MESSAGE = "This request was not executed because the batch was cancelled."


@dataclass(frozen=True)
class FakeBatchConfig:
    """How the fake batch server behaves; by default a batch ends at its first poll, answered."""

    delay: float = 0.0
    """Seconds after creation before a batch can end."""
    polls: int = 0
    """Polls answered "in progress" before a batch can end (both this and ``delay`` must pass)."""
    fail_rate: float = 0.0
    """Lines that fail (OpenAI: an error response in the error file; Anthropic: errored)."""
    expired_share: float = 0.0
    """Share of lines not run before the window closed; a batch with any of them ends expired."""
    missing_rate: float = 0.0
    """Share of lines counted as done but left out of the results (a partial output file)."""
    ungrounded_rate: float = 0.0
    """Share of answers whose quote is not in the article (each needs a re-ask)."""
    seed: int = 0
    api_key: str | None = None
    """The one key accepted; None accepts any (or none)."""
    max_requests: int | None = None
    """Requests one batch may hold; None for the provider's own limit."""

    def __post_init__(self) -> None:
        rates = (self.fail_rate, self.expired_share, self.missing_rate, self.ungrounded_rate)
        if any(not 0.0 <= rate <= 1.0 for rate in rates):
            raise ValueError("every rate and share must be within [0, 1]")
        if self.fail_rate + self.expired_share + self.missing_rate > 1.0:
            raise ValueError("fail_rate, expired_share and missing_rate add up to more than 1")
        if self.delay < 0 or self.polls < 0:
            raise ValueError("delay and polls cannot be negative")


def _stats_template() -> dict[str, Any]:
    return {
        "requests": 0,
        "files_uploaded": 0,
        "bytes_uploaded": 0,
        "batches_created": 0,
        "batches_failed": 0,
        "batches_canceled": 0,
        "batches_expired": 0,
        "polls": 0,
        "downloads": 0,
        "lines_answered": 0,
        "lines_ungrounded": 0,
        "lines_failed": 0,
        "lines_expired": 0,
        "lines_canceled": 0,
        "lines_missing": 0,
        "answered_401": 0,
    }


@dataclass
class _Batch:
    """One batch and, once it ended, what became of its lines."""

    id: str
    anthropic: bool
    lines: list[tuple[str, dict[str, Any]]]
    created: float = field(default_factory=time.monotonic)
    created_at: float = field(default_factory=time.time)
    input_file_id: str | None = None
    polls: int = 0
    status: str = "in_progress"
    cancel_requested: bool = False
    ended_at: float | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    output_file_id: str | None = None
    error_file_id: str | None = None
    results: bytes = b""
    """Anthropic's results file."""


def _jsonl(records: list[dict[str, Any]]) -> bytes:
    return b"".join(_json_bytes(record) + b"\n" for record in records)


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _rfc3339(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    when = dt.datetime.fromtimestamp(epoch, dt.UTC).replace(microsecond=0)
    return when.isoformat().replace("+00:00", "Z")


def _openai_error(status: int, message: str, kind: str, code: str | None = None) -> web.Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return web.json_response(body, status=status)


def _anthropic_error(status: int, message: str, kind: str) -> web.Response:
    return web.json_response(anthropic_error(message, kind), status=status)


class FakeBatchServer:
    """The fake batch server; ``async with FakeBatchServer(config) as server: server.base_url``."""

    def __init__(self, config: FakeBatchConfig | None = None, *, port: int = 0) -> None:
        self.config = config or FakeBatchConfig()
        self.port = port
        self.stats: dict[str, Any] = _stats_template()
        self.files: dict[str, dict[str, Any]] = {}
        """Each file's object (as ``GET /files/{id}`` answers it) and its ``content``."""
        self.batches: dict[str, _Batch] = {}
        self._ids = itertools.count(1)
        # The live fake server's answers, so a batch answers exactly as the live path is
        # answered; it is never started, only asked for answers.
        self._answers = FakeServer(FakeServerConfig())
        self._runner: web.AppRunner | None = None

    # ----------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``, the base URL for both providers' clients."""
        if self._runner is None:
            raise RuntimeError("the fake batch server is not started")
        return f"http://{HOST}:{self.port}{_API_PREFIX}"

    async def start(self) -> FakeBatchServer:
        app = web.Application(client_max_size=_MAX_BODY, middlewares=[self._auth])
        routes = [
            web.post("/v1/files", self._upload),
            web.get("/v1/files/{id}", self._file),
            web.get("/v1/files/{id}/content", self._content),
            web.post("/v1/batches", self._openai_create),
            web.get("/v1/batches/{id}", self._openai_retrieve),
            web.post("/v1/batches/{id}/cancel", self._openai_cancel),
            web.post("/v1/messages/batches", self._anthropic_create),
            web.get("/v1/messages/batches/{id}", self._anthropic_retrieve),
            web.get("/v1/messages/batches/{id}/results", self._anthropic_results),
            web.post("/v1/messages/batches/{id}/cancel", self._anthropic_cancel),
            web.get("/stats", self._stats),
        ]
        app.add_routes(routes)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeBatchServer:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ----------------------------------------------------------------- helpers

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{self.config.seed:x}x{next(self._ids):06d}"

    @web.middleware
    async def _auth(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        """Count the request; refuse a wrong key (quoting it) in the API's own error shape."""
        self.stats["requests"] += 1
        anthropic = request.path.startswith("/v1/messages/")
        if anthropic and request.path != "/stats" and "anthropic-version" not in request.headers:
            return _anthropic_error(
                400, "anthropic-version: header is required", "invalid_request_error"
            )
        expected = self.config.api_key
        if expected is not None and request.path != "/stats":
            if anthropic:
                sent = request.headers.get("x-api-key", "")
            else:
                sent = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if sent != expected:
                self.stats["answered_401"] += 1
                if anthropic:
                    return _anthropic_error(
                        401, f"invalid x-api-key: {sent}", "authentication_error"
                    )
                return _openai_error(
                    401,
                    f"Incorrect API key provided: {sent}.",
                    "invalid_request_error",
                    "invalid_api_key",
                )
        response: web.StreamResponse = await handler(request)
        return response

    def _draw(self, batch: _Batch, custom_id: str) -> tuple[str, bool]:
        """What becomes of one line: its outcome, and whether its answer is ungrounded."""
        rng = random.Random(f"{self.config.seed}:{batch.id}:{custom_id}")
        draw = rng.random()
        config = self.config
        if draw < config.expired_share:
            return "expired", False
        if draw < config.expired_share + config.fail_rate:
            return "failed", False
        if draw < config.expired_share + config.fail_rate + config.missing_rate:
            return "missing", False
        return "answered", rng.random() < config.ungrounded_rate

    def _answer(self, body: dict[str, Any], anthropic: bool, ungrounded: bool) -> dict[str, Any]:
        """The live fake server's answer to ``body`` (a chat completion or a message)."""
        size = len(pydantic_core.to_json(body))  # as the live path sends it
        fault = "ungrounded" if ungrounded else None
        _, _, content = self._answers._synthesised(body, size, fault, {}, anthropic)
        answer: dict[str, Any] = json.loads(content)
        return answer

    def _advance(self, batch: _Batch) -> None:
        """One poll of ``batch``: it ends when its time and its polls have passed."""
        batch.polls += 1
        self.stats["polls"] += 1
        if batch.ended_at is not None:
            return
        if batch.cancel_requested:
            self._end(batch, canceled=True)
            return
        elapsed = time.monotonic() - batch.created
        if elapsed >= self.config.delay and batch.polls > self.config.polls:
            self._end(batch, canceled=False)

    def _end(self, batch: _Batch, *, canceled: bool) -> None:
        """Decide every line, write the results, and set the final status and counts."""
        stats = self.stats
        outcomes: list[tuple[str, dict[str, Any], str, bool]] = []
        for custom_id, body in batch.lines:
            outcome, ungrounded = ("canceled", False) if canceled else self._draw(batch, custom_id)
            outcomes.append((custom_id, body, outcome, ungrounded))
            key = {"answered": "lines_answered", "failed": "lines_failed"}.get(outcome)
            stats[key or f"lines_{outcome}"] += 1
            stats["lines_ungrounded"] += ungrounded
        expired = any(o == "expired" for _, _, o, _ in outcomes)
        if batch.anthropic:
            self._end_anthropic(batch, outcomes)
        else:
            self._end_openai(batch, outcomes, canceled=canceled, expired=expired)
        batch.ended_at = time.time()
        if canceled:
            stats["batches_canceled"] += 1
        elif expired:
            stats["batches_expired"] += 1

    def _end_openai(
        self,
        batch: _Batch,
        outcomes: list[tuple[str, dict[str, Any], str, bool]],
        *,
        canceled: bool,
        expired: bool,
    ) -> None:
        output: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        done = failed = 0
        for number, (custom_id, body, outcome, ungrounded) in enumerate(outcomes):
            line_id = f"batch_req_{batch.id}_{number}"
            if outcome in ("answered", "missing"):
                done += 1
                if outcome == "answered":
                    response = {
                        "status_code": 200,
                        "request_id": f"req_{number}",
                        "body": self._answer(body, False, ungrounded),
                    }
                    output.append(
                        {"id": line_id, "custom_id": custom_id, "response": response, "error": None}
                    )
            elif outcome == "failed":
                failed += 1
                error_body = {
                    "error": {
                        "message": "injected fault",
                        "type": "server_error",
                        "param": None,
                        "code": None,
                    }
                }
                response = {"status_code": 500, "request_id": f"req_{number}", "body": error_body}
                errors.append(
                    {"id": line_id, "custom_id": custom_id, "response": response, "error": None}
                )
            else:  # expired, canceled: not run
                code = "batch_expired" if outcome == "expired" else "batch_cancelled"
                message = _EXPIRED_MESSAGE if outcome == "expired" else _CANCELLED_MESSAGE
                errors.append(
                    {
                        "id": line_id,
                        "custom_id": custom_id,
                        "response": None,
                        "error": {"code": code, "message": message},
                    }
                )
        if output:
            batch.output_file_id = self._store_file(_jsonl(output), "batch_output")
        if errors:
            batch.error_file_id = self._store_file(_jsonl(errors), "batch_output")
        batch.counts = {"total": len(outcomes), "completed": done, "failed": failed}
        batch.status = "cancelled" if canceled else "expired" if expired else "completed"

    def _end_anthropic(
        self, batch: _Batch, outcomes: list[tuple[str, dict[str, Any], str, bool]]
    ) -> None:
        lines: list[dict[str, Any]] = []
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        for custom_id, body, outcome, ungrounded in outcomes:
            result: dict[str, Any]
            if outcome in ("answered", "missing"):
                counts["succeeded"] += 1
                if outcome == "missing":
                    continue
                result = {"type": "succeeded", "message": self._answer(body, True, ungrounded)}
            elif outcome == "failed":
                counts["errored"] += 1
                result = {
                    "type": "errored",
                    "error": anthropic_error("injected fault", "api_error"),
                }
            else:
                counts[outcome] += 1
                result = {"type": outcome}
            lines.append({"custom_id": custom_id, "result": result})
        batch.results = _jsonl(lines)
        batch.counts = counts
        batch.status = "ended"

    def _store_file(self, content: bytes, purpose: str, filename: str = "") -> str:
        file_id = self._new_id("file-")
        self.files[file_id] = {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": filename or f"{file_id}.jsonl",
            "purpose": purpose,
            "status": "processed",
            "content": content,
        }
        return file_id

    @staticmethod
    async def _stream(
        request: web.Request, content: bytes, content_type: str
    ) -> web.StreamResponse:
        """``content`` sent in chunks, as a large file is, so a client reads across chunk ends."""
        response = web.StreamResponse(headers={"Content-Type": content_type})
        response.content_length = len(content)
        await response.prepare(request)
        for start in range(0, len(content), _CHUNK):
            await response.write(content[start : start + _CHUNK])
        await response.write_eof()
        return response

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats)

    # ----------------------------------------------------------------- OpenAI

    async def _upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form.get("file")
        purpose = form.get("purpose")
        if not isinstance(upload, web.FileField):
            return _openai_error(400, "a file is required", "invalid_request_error")
        if purpose != "batch":
            return _openai_error(400, f"purpose {purpose!r} is not batch", "invalid_request_error")
        content = upload.file.read()
        self.stats["files_uploaded"] += 1
        self.stats["bytes_uploaded"] += len(content)
        file_id = self._store_file(content, "batch", upload.filename)
        return web.json_response(self._file_object(file_id))

    def _file_object(self, file_id: str) -> dict[str, Any]:
        return {k: v for k, v in self.files[file_id].items() if k != "content"}

    async def _file(self, request: web.Request) -> web.Response:
        file_id = request.match_info["id"]
        if file_id not in self.files:
            return _openai_error(404, f"No such File object: {file_id}", "invalid_request_error")
        return web.json_response(self._file_object(file_id))

    async def _content(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["id"]
        if file_id not in self.files:
            return _openai_error(404, f"No such File object: {file_id}", "invalid_request_error")
        self.stats["downloads"] += 1
        return await self._stream(
            request, self.files[file_id]["content"], "application/octet-stream"
        )

    def _openai_lines(
        self, content: bytes, endpoint: str
    ) -> tuple[list[tuple[str, dict[str, Any]]], list[dict[str, Any]]]:
        """The input file's requests, and the errors that fail the batch (as OpenAI words them)."""
        lines: list[tuple[str, dict[str, Any]]] = []
        errors: list[dict[str, Any]] = []
        seen: set[str] = set()
        models: set[str] = set()

        def error(code: str, message: str, number: int) -> None:
            errors.append({"code": code, "message": message, "param": None, "line": number})

        for number, raw in enumerate(content.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                error("invalid_json_line", "This line is not parseable as valid JSON.", number)
                continue
            if not isinstance(record, dict):
                error("invalid_request", "The line is not a JSON object.", number)
                continue
            custom_id, body = record.get("custom_id"), record.get("body")
            if not isinstance(custom_id, str) or custom_id in seen:
                error("duplicate_custom_id", "The custom_id is missing or repeated.", number)
                continue
            if record.get("method") != "POST" or record.get("url") != endpoint:
                error("invalid_url", f"The line must POST to {endpoint}.", number)
                continue
            if not isinstance(body, dict):
                error("invalid_request", "The body is not a JSON object.", number)
                continue
            seen.add(custom_id)
            models.add(str(body.get("model")))
            lines.append((custom_id, body))
        if len(models) > 1:
            error("mismatched_model", "The file holds requests for more than one model.", 0)
        limit = self.config.max_requests or _OPENAI_MAX_REQUESTS
        if len(lines) > limit:
            error("too_many_requests", f"The file holds more than {limit} requests.", 0)
        if not lines and not errors:
            error("empty_file", "The file holds no requests.", 0)
        return lines, errors

    async def _openai_create(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return _openai_error(400, "the body is not JSON", "invalid_request_error")
        file_id = body.get("input_file_id") if isinstance(body, dict) else None
        if file_id not in self.files:
            return _openai_error(404, f"No such File object: {file_id}", "invalid_request_error")
        endpoint = body.get("endpoint")
        if endpoint != ENDPOINT or body.get("completion_window") != COMPLETION_WINDOW:
            return _openai_error(
                400, "endpoint or completion_window not supported", "invalid_request_error"
            )
        lines, errors = self._openai_lines(self.files[file_id]["content"], endpoint)
        batch = _Batch(self._new_id("batch_"), False, lines, input_file_id=file_id)
        self.batches[batch.id] = batch
        self.stats["batches_created"] += 1
        if errors:
            batch.status, batch.errors, batch.lines = "failed", errors, []
            batch.ended_at = time.time()
            batch.counts = {"total": 0, "completed": 0, "failed": 0}
            self.stats["batches_failed"] += 1
        answer = self._openai_object(batch)
        if not errors:
            answer["status"] = "validating"
        return web.json_response(answer)

    def _openai_object(self, batch: _Batch) -> dict[str, Any]:
        ended = int(batch.ended_at) if batch.ended_at is not None else None
        counts = batch.counts or {"total": len(batch.lines), "completed": 0, "failed": 0}
        status = batch.status
        if batch.cancel_requested and batch.ended_at is None:
            status = "cancelling"
        return {
            "id": batch.id,
            "object": "batch",
            "endpoint": ENDPOINT,
            "errors": {"object": "list", "data": batch.errors} if batch.errors else None,
            "input_file_id": batch.input_file_id,
            "completion_window": COMPLETION_WINDOW,
            "status": status,
            "output_file_id": batch.output_file_id,
            "error_file_id": batch.error_file_id,
            "created_at": int(batch.created_at),
            "in_progress_at": int(batch.created_at),
            "expires_at": int(batch.created_at) + _DAY,
            "completed_at": ended if status == "completed" else None,
            "failed_at": ended if status == "failed" else None,
            "expired_at": ended if status == "expired" else None,
            "cancelled_at": ended if status == "cancelled" else None,
            "request_counts": counts,
            "metadata": None,
        }

    def _find(self, request: web.Request, anthropic: bool) -> _Batch | web.Response:
        batch = self.batches.get(request.match_info["id"])
        if batch is None or batch.anthropic != anthropic:
            message = f"No batch found with id {request.match_info['id']!r}"
            if anthropic:
                return _anthropic_error(404, message, "not_found_error")
            return _openai_error(404, message, "invalid_request_error")
        return batch

    async def _openai_retrieve(self, request: web.Request) -> web.Response:
        batch = self._find(request, anthropic=False)
        if isinstance(batch, web.Response):
            return batch
        self._advance(batch)
        return web.json_response(self._openai_object(batch))

    async def _openai_cancel(self, request: web.Request) -> web.Response:
        batch = self._find(request, anthropic=False)
        if isinstance(batch, web.Response):
            return batch
        if batch.ended_at is None:
            batch.cancel_requested = True
        return web.json_response(self._openai_object(batch))

    # ----------------------------------------------------------------- Anthropic

    async def _anthropic_create(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return _anthropic_error(400, "the body is not JSON", "invalid_request_error")
        entries = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(entries, list) or not entries:
            return _anthropic_error(
                400, "requests: a non-empty list is required", "invalid_request_error"
            )
        limit = self.config.max_requests or _ANTHROPIC_MAX_REQUESTS
        if len(entries) > limit:
            return _anthropic_error(
                400, f"requests: at most {limit} requests per batch", "invalid_request_error"
            )
        lines: list[tuple[str, dict[str, Any]]] = []
        seen: set[str] = set()
        for number, entry in enumerate(entries):
            custom_id = entry.get("custom_id") if isinstance(entry, dict) else None
            params = entry.get("params") if isinstance(entry, dict) else None
            if not isinstance(custom_id, str) or not CUSTOM_ID.fullmatch(custom_id):
                return _anthropic_error(
                    400, f"requests.{number}.custom_id: invalid", "invalid_request_error"
                )
            if custom_id in seen:
                return _anthropic_error(
                    400,
                    f"requests.{number}.custom_id: {custom_id!r} repeated",
                    "invalid_request_error",
                )
            if not isinstance(params, dict):
                return _anthropic_error(
                    400, f"requests.{number}.params: an object is required", "invalid_request_error"
                )
            seen.add(custom_id)
            lines.append((custom_id, params))
        batch = _Batch(self._new_id("msgbatch_"), True, lines)
        self.batches[batch.id] = batch
        self.stats["batches_created"] += 1
        return web.json_response(self._anthropic_object(batch))

    def _anthropic_object(self, batch: _Batch) -> dict[str, Any]:
        ended = batch.ended_at is not None
        counts = batch.counts or {
            "processing": len(batch.lines),
            "succeeded": 0,
            "errored": 0,
            "canceled": 0,
            "expired": 0,
        }
        status = "ended" if ended else "canceling" if batch.cancel_requested else "in_progress"
        results_url = f"{self.base_url}/messages/batches/{batch.id}/results" if ended else None
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": status,
            "request_counts": counts,
            "ended_at": _rfc3339(batch.ended_at),
            "created_at": _rfc3339(batch.created_at),
            "expires_at": _rfc3339(batch.created_at + _DAY),
            "archived_at": None,
            "cancel_initiated_at": _rfc3339(batch.created_at) if batch.cancel_requested else None,
            "results_url": results_url,
        }

    async def _anthropic_retrieve(self, request: web.Request) -> web.Response:
        batch = self._find(request, anthropic=True)
        if isinstance(batch, web.Response):
            return batch
        self._advance(batch)
        return web.json_response(self._anthropic_object(batch))

    async def _anthropic_results(self, request: web.Request) -> web.StreamResponse:
        batch = self._find(request, anthropic=True)
        if isinstance(batch, web.Response):
            return batch
        if batch.ended_at is None:
            return _anthropic_error(
                400, f"Batch {batch.id} has not ended processing", "invalid_request_error"
            )
        self.stats["downloads"] += 1
        return await self._stream(request, batch.results, "application/binary")

    async def _anthropic_cancel(self, request: web.Request) -> web.Response:
        batch = self._find(request, anthropic=True)
        if isinstance(batch, web.Response):
            return batch
        if batch.ended_at is None:
            batch.cancel_requested = True
        return web.json_response(self._anthropic_object(batch))


# --------------------------------------------------------------------------- sync use


def run_in_thread(
    config: FakeBatchConfig | None = None, *, port: int = 0
) -> tuple[str, Callable[[], None], dict[str, Any]]:
    """Start a server on its own event loop in a daemon thread: ``(base_url, stop, stats)``."""
    return serve_in_thread(lambda: FakeBatchServer(config, port=port), "fakebatch")


# --------------------------------------------------------------------------- CLI


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m extractor.testing.fakebatch",
        description="A fake batch server (OpenAI's Batch API and Anthropic's Message Batches "
        "API) on 127.0.0.1. Prints its base URL on the first line, serves until killed; "
        "GET /stats for counters.",
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before a batch ends")
    parser.add_argument("--polls", type=int, default=0, help="polls before a batch ends")
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument("--expired-share", type=float, default=0.0)
    parser.add_argument("--missing-rate", type=float, default=0.0)
    parser.add_argument("--ungrounded-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    try:
        config = FakeBatchConfig(
            delay=args.delay,
            polls=args.polls,
            fail_rate=args.fail_rate,
            expired_share=args.expired_share,
            missing_rate=args.missing_rate,
            ungrounded_rate=args.ungrounded_rate,
            seed=args.seed,
        )
    except ValueError as exc:
        print(f"fakebatch: error: {exc}", file=sys.stderr)
        return 2
    server = FakeBatchServer(config, port=args.port)
    asyncio.run(serve_until_signalled(server))
    print(json.dumps(server.stats), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
