"""OpenAI's Batch API: the requests as a JSONL file uploaded, a batch over it, two files back.

Each request is one line ``{"custom_id", "method": "POST", "url":
"/v1/chat/completions", "body"}``; the file goes up as ``POST /files``
(multipart, ``purpose=batch``), then ``POST /batches`` starts it with a 24 h
window. A finished batch names two files: ``output_file_id`` (a line per
request that ran, ``{"custom_id", "response": {"status_code", "body"}}``,
the body a chat completion exactly as the live call returns it) and
``error_file_id`` (a line per request that failed or did not run,
``{"custom_id", "response": {...} | null, "error": {"code", "message"} | null}``,
``batch_expired`` or ``batch_cancelled`` for those the window or a cancel
left out). Either may be absent, and a line may be missing from both.

The input file is written to a temporary file and streamed from there, so a
200 MB batch is not held twice in memory.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from extractor._exceptions import ResponseError
from extractor.model.batch_api._http import BatchHTTP, ClosingClient
from extractor.model.batch_api.base import (
    BatchHandle,
    BatchProgress,
    BatchRequest,
    BatchResult,
    BatchState,
    Outcome,
    ensure_ended,
    missing,
)
from extractor.model.batch_api.limits import OPENAI_LIMITS, BatchLimits, check
from extractor.model.providers.openai_chat import OPENAI_BASE_URL
from extractor.settings import Settings

ENDPOINT = "/v1/chat/completions"
COMPLETION_WINDOW = "24h"

_STATES: dict[str, BatchState] = {
    "validating": "validating",
    "in_progress": "in_progress",
    "finalizing": "finalizing",
    "cancelling": "canceling",
    "completed": "ended",
    "failed": "failed",
    "expired": "expired",
    "cancelled": "canceled",
}
_NOT_RUN: dict[str, Outcome] = {"batch_expired": "expired", "batch_cancelled": "canceled"}


def line(request: BatchRequest) -> bytes:
    """One request as a line of the input file, its newline included."""
    record = {
        "custom_id": request.custom_id,
        "method": "POST",
        "url": ENDPOINT,
        "body": request.body,
    }
    return orjson.dumps(record) + b"\n"


def progress_of(batch: dict[str, Any]) -> BatchProgress:
    """A batch object (``GET /batches/{id}``) in the common vocabulary."""
    status = str(batch.get("status"))
    state = _STATES.get(status)
    if state is None:
        raise ResponseError(f"the server reports an unknown batch status {status!r}")
    counts = batch.get("request_counts") or {}
    total = int(counts.get("total") or 0)
    succeeded = int(counts.get("completed") or 0)
    failed = int(counts.get("failed") or 0)
    rest = max(total - succeeded - failed, 0)
    errors = (batch.get("errors") or {}).get("data") or []
    return BatchProgress(
        batch_id=str(batch.get("id")),
        state=state,
        status=status,
        total=total,
        succeeded=succeeded,
        failed=failed,
        expired=rest if state == "expired" else 0,
        canceled=rest if state == "canceled" else 0,
        errors=tuple(_batch_error(e) for e in errors if isinstance(e, dict)),
    )


def _batch_error(error: dict[str, Any]) -> str:
    """One of a failed batch's errors, with the input line it is about."""
    text = str(error.get("message") or error.get("code"))
    return f"{text} (line {error['line']})" if error.get("line") else text


def result_of(data: dict[str, Any]) -> BatchResult:
    """One line of an output or error file as a result."""
    custom_id = str(data.get("custom_id"))
    response = data.get("response")
    error = data.get("error")
    if isinstance(error, dict):
        code = str(error.get("code") or "")
        message = str(error.get("message") or code or "no error message")
        code_of = response.get("status_code") if isinstance(response, dict) else None
        return BatchResult(
            custom_id,
            _NOT_RUN.get(code, "failed"),
            error=message,
            status_code=int(code_of) if isinstance(code_of, int) else None,
            details=error,
        )
    if not isinstance(response, dict):
        return BatchResult(custom_id, "failed", error="neither a response nor an error")
    status = int(response.get("status_code") or 0)
    body = response.get("body")
    if status == 200 and isinstance(body, dict):
        return BatchResult(custom_id, "succeeded", body=body, status_code=200)
    details = body.get("error") if isinstance(body, dict) else None
    said = details.get("message") if isinstance(details, dict) else None
    return BatchResult(
        custom_id,
        "failed",
        error=str(said or f"HTTP {status}"),
        status_code=status,
        details=details if isinstance(details, dict) else {},
    )


class OpenAIBatches(ClosingClient):
    """OpenAI's Batch API over chat completions (also any server that copies it)."""

    provider = "openai"
    limits: BatchLimits = OPENAI_LIMITS

    def __init__(self, settings: Settings, *, initial_backoff: float = 1.0) -> None:
        headers = {"Accept": "application/json", "User-Agent": "extractor-batch"}
        key = settings.api_key.get_secret_value() if settings.api_key else None
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        elif (basic := settings.basic_auth()) is not None:
            headers["Authorization"] = basic
        self.http = BatchHTTP(
            settings.base_url or OPENAI_BASE_URL,
            headers,
            timeout=settings.timeout,
            retries=settings.transport_retries,
            max_backoff=settings.max_backoff,
            key_hint="OPENAI_API_KEY",
            secrets=tuple(s for s in (key,) if s),
            initial_backoff=initial_backoff,
        )

    def size(self, request: BatchRequest) -> int:
        """The request's line in the input file, in bytes: what the 200 MB limit counts."""
        return len(line(request))

    async def submit(self, requests: list[BatchRequest]) -> BatchHandle:
        """Upload the requests as one input file and create a batch over it."""
        check(requests, self.limits, self.size)
        with tempfile.TemporaryDirectory(prefix="extractor-batch-") as folder:
            path = Path(folder) / "batch.jsonl"
            with path.open("wb") as spool:
                for request in requests:
                    spool.write(line(request))
            uploaded = await self.http.json(
                "POST",
                "/files",
                body=lambda: _form(path),
                content_type=None,  # aiohttp writes the multipart boundary
                create=True,
                transfer=True,
            )
        file_id = _id(uploaded, "file")
        batch = await self.http.json(
            "POST",
            "/batches",
            body=lambda: orjson.dumps(
                {
                    "input_file_id": file_id,
                    "endpoint": ENDPOINT,
                    "completion_window": COMPLETION_WINDOW,
                }
            ),
            create=True,
        )
        return BatchHandle(self.provider, _id(batch, "batch"), len(requests), input_file_id=file_id)

    async def _batch(self, handle: BatchHandle) -> dict[str, Any]:
        batch = await self.http.json("GET", f"/batches/{handle.batch_id}", content_type=None)
        if not isinstance(batch, dict):
            raise ResponseError("the server's answer is not a batch object")
        return batch

    async def poll(self, handle: BatchHandle) -> BatchProgress:
        return progress_of(await self._batch(handle))

    async def results(
        self, handle: BatchHandle, *, expected: Iterable[str] | None = None
    ) -> AsyncIterator[BatchResult]:
        """The output file's lines, then the error file's, then (with ``expected``) the missing."""
        batch = await self._batch(handle)
        ensure_ended(handle, progress_of(batch))
        seen: set[str] = set()
        for key in ("output_file_id", "error_file_id"):
            file_id = batch.get(key)
            if not file_id:
                continue
            async for raw in self.http.lines(f"/files/{file_id}/content"):
                result = result_of(_line(raw))
                seen.add(result.custom_id)
                yield result
        for result in missing(expected, seen):
            yield result

    async def cancel(self, handle: BatchHandle) -> BatchProgress:
        batch = await self.http.json(
            "POST", f"/batches/{handle.batch_id}/cancel", content_type=None
        )
        if not isinstance(batch, dict):
            raise ResponseError("the server's answer is not a batch object")
        return progress_of(batch)


def _form(path: Path) -> aiohttp.FormData:
    """The upload's multipart body, the file opened afresh for each try.

    aiohttp streams the file in chunks and closes it once sent, so a retry
    needs a new handle.
    """
    form = aiohttp.FormData()
    form.add_field("purpose", "batch")
    form.add_field("file", path.open("rb"), filename=path.name, content_type="application/jsonl")
    return form


def _id(data: Any, what: str) -> str:
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise ResponseError(f"the server's answer is not a {what} object with an id")
    return str(data["id"])


def _line(raw: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(raw)
    except ValueError as exc:
        raise ResponseError(f"a line of the batch's results is not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ResponseError("a line of the batch's results is not a JSON object")
    return data
