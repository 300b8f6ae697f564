"""Anthropic's Message Batches API: the requests in one POST, the results as JSONL.

``POST /messages/batches`` takes ``{"requests": [{"custom_id", "params"}]}``,
``params`` being a Messages API request exactly as the live path sends it.
``GET /messages/batches/{id}`` reports ``processing_status`` (in_progress,
canceling, ended) and counts per outcome; once ended, ``results_url`` streams
one line per request, ``{"custom_id", "result": {"type": "succeeded",
"message"} | {"type": "errored", "error"} | {"type": "canceled"} | {"type":
"expired"}}``, the message as the live call returns it, in no particular order.

The body is built once, in memory: Anthropic takes the requests inline, so
there is no file to stream from; at 256 MB that is the price of one POST.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson

from extractor._exceptions import ResponseError
from extractor.model.batch_api._http import BatchHTTP, ClosingClient
from extractor.model.batch_api.base import (
    BatchHandle,
    BatchProgress,
    BatchRequest,
    BatchResult,
    BatchState,
    ensure_ended,
    missing,
)
from extractor.model.batch_api.limits import ANTHROPIC_LIMITS, BatchLimits, check
from extractor.model.providers.base import ANTHROPIC_BASE_URL, ANTHROPIC_VERSION
from extractor.settings import Settings

CUSTOM_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""What Anthropic accepts as a ``custom_id``."""

_STATES: dict[str, BatchState] = {
    "in_progress": "in_progress",
    "canceling": "canceling",
    "ended": "ended",
}
_OUTCOMES = {"succeeded", "errored", "canceled", "expired"}


def entry(request: BatchRequest) -> bytes:
    """One request as an element of the batch's ``requests`` array."""
    return orjson.dumps({"custom_id": request.custom_id, "params": request.body})


def progress_of(batch: dict[str, Any]) -> BatchProgress:
    """A message batch object in the common vocabulary."""
    status = str(batch.get("processing_status"))
    state = _STATES.get(status)
    if state is None:
        raise ResponseError(f"the server reports an unknown batch status {status!r}")
    counts = batch.get("request_counts") or {}

    def count(name: str) -> int:
        return int(counts.get(name) or 0)

    names = ("processing", "succeeded", "errored", "canceled", "expired")
    return BatchProgress(
        batch_id=str(batch.get("id")),
        state=state,
        status=status,
        total=sum(count(name) for name in names),
        succeeded=count("succeeded"),
        failed=count("errored"),
        expired=count("expired"),
        canceled=count("canceled"),
    )


def result_of(data: dict[str, Any]) -> BatchResult:
    """One line of the results as a result."""
    custom_id = str(data.get("custom_id"))
    result = data.get("result")
    kind = result.get("type") if isinstance(result, dict) else None
    if not isinstance(result, dict) or kind not in _OUTCOMES:
        return BatchResult(custom_id, "failed", error=f"a result of unknown type {kind!r}")
    if kind == "succeeded":
        message = result.get("message")
        if not isinstance(message, dict):
            return BatchResult(custom_id, "failed", error="a succeeded result without a message")
        return BatchResult(custom_id, "succeeded", body=message)
    if kind == "errored":
        # {"type": "error", "error": {"type": "invalid_request_error", "message": ...}}
        outer = result.get("error")
        inner = outer.get("error") if isinstance(outer, dict) else None
        details = inner if isinstance(inner, dict) else (outer if isinstance(outer, dict) else {})
        message = details.get("message") or details.get("type") or "no error message"
        return BatchResult(custom_id, "failed", error=str(message), details=details)
    if kind == "expired":
        return BatchResult(custom_id, "expired", error="the batch's 24 h window closed first")
    return BatchResult(custom_id, "canceled", error="the batch was canceled")


class AnthropicBatches(ClosingClient):
    """Anthropic's Message Batches API."""

    provider = "anthropic"
    limits: BatchLimits = ANTHROPIC_LIMITS

    def __init__(self, settings: Settings, *, initial_backoff: float = 1.0) -> None:
        headers = {
            "Accept": "application/json",
            "User-Agent": "extractor-batch",
            "anthropic-version": ANTHROPIC_VERSION,
        }
        key = settings.api_key.get_secret_value() if settings.api_key else None
        if key is not None:
            headers["x-api-key"] = key
        if (basic := settings.basic_auth()) is not None:
            headers["Authorization"] = basic
        self.http = BatchHTTP(
            settings.base_url or ANTHROPIC_BASE_URL,
            headers,
            timeout=settings.timeout,
            retries=settings.transport_retries,
            max_backoff=settings.max_backoff,
            key_hint="ANTHROPIC_API_KEY",
            secrets=tuple(s for s in (key,) if s),
            initial_backoff=initial_backoff,
        )

    def size(self, request: BatchRequest) -> int:
        """The request's element of the body, with its separating comma."""
        return len(entry(request)) + 1

    async def submit(self, requests: list[BatchRequest]) -> BatchHandle:
        """Create one message batch holding the requests."""
        check(requests, self.limits, self.size)
        bad = next((r.custom_id for r in requests if not CUSTOM_ID.fullmatch(r.custom_id)), None)
        if bad is not None:
            raise ValueError(
                f"custom id {bad!r} is not 1-64 characters of letters, digits, '_' and '-', "
                "as Anthropic requires"
            )
        body = b'{"requests":[' + b",".join(entry(r) for r in requests) + b"]}"
        # Streamed from a buffer (a fresh one per try): aiohttp sends raw bytes of
        # this size in one write that holds the event loop.
        batch = await self.http.json(
            "POST", "/messages/batches", body=lambda: io.BytesIO(body), create=True, transfer=True
        )
        if not isinstance(batch, dict) or not isinstance(batch.get("id"), str):
            raise ResponseError("the server's answer is not a message batch with an id")
        return BatchHandle(self.provider, batch["id"], len(requests))

    async def _batch(self, handle: BatchHandle) -> dict[str, Any]:
        batch = await self.http.json(
            "GET", f"/messages/batches/{handle.batch_id}", content_type=None
        )
        if not isinstance(batch, dict):
            raise ResponseError("the server's answer is not a message batch object")
        return batch

    async def poll(self, handle: BatchHandle) -> BatchProgress:
        return progress_of(await self._batch(handle))

    async def results(
        self, handle: BatchHandle, *, expected: Iterable[str] | None = None
    ) -> AsyncIterator[BatchResult]:
        """The results file's lines, then (with ``expected``) the requests it left out."""
        batch = await self._batch(handle)
        ensure_ended(handle, progress_of(batch))
        url = batch.get("results_url") or f"/messages/batches/{handle.batch_id}/results"
        seen: set[str] = set()
        async for raw in self.http.lines(str(url), accept="application/binary"):
            try:
                data = orjson.loads(raw)
            except ValueError as exc:
                raise ResponseError(f"a line of the batch's results is not JSON ({exc})") from exc
            if not isinstance(data, dict):
                raise ResponseError("a line of the batch's results is not a JSON object")
            result = result_of(data)
            seen.add(result.custom_id)
            yield result
        for result in missing(expected, seen):
            yield result

    async def cancel(self, handle: BatchHandle) -> BatchProgress:
        batch = await self.http.json(
            "POST", f"/messages/batches/{handle.batch_id}/cancel", content_type=None
        )
        if not isinstance(batch, dict):
            raise ResponseError("the server's answer is not a message batch object")
        return progress_of(batch)
