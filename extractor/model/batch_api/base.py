"""What every provider's batch API offers: submit, poll, read the results, cancel.

The CLI's batch commands and their state file speak only this vocabulary, so
OpenAI's Batch API (a JSONL file uploaded, then a batch over it) and
Anthropic's Message Batches API (the requests in one POST) look the same from
above. Everything here is plain data that survives a restart: a
``BatchHandle`` is what the state file keeps to find a batch again after a
kill, and a ``BatchResult`` carries the answer body exactly as the live path
would have received it, so the same parsing, caching and grounding apply.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Protocol, Self

from extractor._exceptions import ConfigurationError

if TYPE_CHECKING:
    from extractor.model.batch_api.limits import BatchLimits

BatchState = Literal[
    "validating", "in_progress", "finalizing", "canceling", "ended", "failed", "expired", "canceled"
]
"""A batch's state in one vocabulary for both providers.

``ended``: every request ran (OpenAI ``completed``, Anthropic ``ended``);
``failed``: the batch as a whole was refused (OpenAI only: its input did not
validate); ``expired``: the 24 h window closed first (OpenAI; Anthropic reports
it per request, in an ``ended`` batch); ``canceled``: cancelled. The four are
final: results can be read.
"""

FINAL_STATES: frozenset[BatchState] = frozenset({"ended", "failed", "expired", "canceled"})

Outcome = Literal["succeeded", "failed", "expired", "canceled", "missing"]
"""What became of one request: answered, refused with an error, not run before
the window closed, not run because the batch was cancelled, or absent from the
results altogether (only reported for requests named in ``expected``)."""


class BatchNotEnded(ConfigurationError):
    """Results were asked for before the batch reached a final state."""


@dataclass(frozen=True)
class BatchRequest:
    """One request: the caller's id for it and the body the live path would send.

    ``body`` is a chat completion's parameters for OpenAI, a message's for
    Anthropic (model, messages, tools, max_tokens...). ``custom_id`` comes back
    with its result; it must be unique within a batch (Anthropic also wants
    1-64 characters of ``[A-Za-z0-9_-]``: a cache key's hex digest fits).
    """

    custom_id: str
    body: dict[str, Any]


@dataclass(frozen=True)
class BatchHandle:
    """Where a submitted batch lives: enough to poll, read and cancel it after a restart."""

    provider: str
    batch_id: str
    requests: int
    input_file_id: str | None = None
    """OpenAI's uploaded input file (None for Anthropic, whose requests travel inline)."""

    def to_dict(self) -> dict[str, Any]:
        """As JSON data, for the state file."""
        return {
            "provider": self.provider,
            "batch_id": self.batch_id,
            "requests": self.requests,
            "input_file_id": self.input_file_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BatchHandle:
        return cls(
            provider=str(data["provider"]),
            batch_id=str(data["batch_id"]),
            requests=int(data["requests"]),
            input_file_id=data.get("input_file_id"),
        )


@dataclass(frozen=True)
class BatchProgress:
    """A batch's state and its requests' counts, as of one poll.

    The counts say what is known so far: OpenAI counts only succeeded and
    failed requests while it runs, so ``expired`` and ``canceled`` are the
    rest once it ends that way.
    """

    batch_id: str
    state: BatchState
    status: str
    """The provider's own word for the state (``completed``, ``ended``...), for messages."""
    total: int
    succeeded: int = 0
    failed: int = 0
    expired: int = 0
    canceled: int = 0
    errors: tuple[str, ...] = ()
    """Why the batch as a whole failed (OpenAI's validation errors), if it did."""

    @property
    def finished(self) -> bool:
        """Whether the batch is in a final state: its results can be read."""
        return self.state in FINAL_STATES

    @property
    def processing(self) -> int:
        """Requests not yet accounted for."""
        return max(self.total - self.succeeded - self.failed - self.expired - self.canceled, 0)


@dataclass(frozen=True)
class BatchResult:
    """What became of one request.

    ``body`` is the answer exactly as the live path would have read it from
    the provider (an OpenAI chat completion, an Anthropic message, as JSON
    data) when ``outcome`` is ``succeeded``; otherwise None, and ``error``
    says why, as the provider put it (scrub it before writing it anywhere).
    """

    custom_id: str
    outcome: Outcome
    body: dict[str, Any] | None = None
    error: str | None = None
    status_code: int | None = None
    """The HTTP status the request would have had live (OpenAI only; 200 when it succeeded)."""
    details: dict[str, Any] = field(default_factory=dict)
    """The provider's error object, as it sent it (its type or code says whether to resubmit)."""

    @property
    def ok(self) -> bool:
        return self.outcome == "succeeded"


class BatchAPI(Protocol):
    """One provider's batch API; ``async with`` closes its HTTP session."""

    provider: str
    limits: BatchLimits
    """How much one batch may hold (``limits.LIMITS`` of the provider, unless changed)."""

    def size(self, request: BatchRequest) -> int:
        """The bytes ``request`` takes in a batch, as the provider counts them for its limit."""

    async def submit(self, requests: list[BatchRequest]) -> BatchHandle:
        """Send one batch (within the provider's limits: see ``limits.split``) and start it."""

    async def poll(self, handle: BatchHandle) -> BatchProgress:
        """The batch's state now."""

    def results(
        self, handle: BatchHandle, *, expected: Iterable[str] | None = None
    ) -> AsyncIterator[BatchResult]:
        """Each request's result, streamed line by line; ``BatchNotEnded`` before it ended.

        With ``expected`` (the custom ids submitted), each one the provider
        left out of its results comes last, as ``missing``.
        """

    async def cancel(self, handle: BatchHandle) -> BatchProgress:
        """Ask the provider to stop the batch; requests already answered keep their results."""

    async def aclose(self) -> None:
        """Close the HTTP session."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


async def wait_until_finished(
    api: BatchAPI,
    handle: BatchHandle,
    *,
    interval: float = 30.0,
    on_progress: Callable[[BatchProgress], Awaitable[None] | None] | None = None,
) -> BatchProgress:
    """Poll every ``interval`` seconds until the batch is final; its last progress.

    ``on_progress`` sees every poll (a progress bar). Providers ask for polls
    no faster than every few seconds; a batch takes minutes to hours.
    """
    while True:
        progress = await api.poll(handle)
        if on_progress is not None:
            shown = on_progress(progress)
            if shown is not None:
                await shown
        if progress.finished:
            return progress
        await asyncio.sleep(interval)


def ensure_ended(handle: BatchHandle, progress: BatchProgress) -> None:
    """Refuse to read results before the batch has ended: they would be partial."""
    if not progress.finished:
        raise BatchNotEnded(
            f"batch {handle.batch_id} has not ended (status {progress.status}): "
            "poll it until it has"
        )


def missing(expected: Iterable[str] | None, seen: set[str]) -> list[BatchResult]:
    """A ``missing`` result for each expected id not in ``seen``, in the order expected."""
    if expected is None:
        return []
    return [
        BatchResult(custom_id, "missing", error="absent from the provider's results")
        for custom_id in dict.fromkeys(expected)
        if custom_id not in seen
    ]
