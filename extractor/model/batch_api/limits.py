"""Each provider's batch limits, dated, and the split of requests into batches within them.

The figures, checked 2026-12-02:

* OpenAI: an input file holds at most 50,000 requests and 200 MB (the Batch
  API reference, as quoted in the ``openai`` SDK 3.3.0's ``batches.create``
  docstring: "The file can contain up to 50,000 requests, and can be up to
  200 MB in size").
* Anthropic: a message batch holds at most 100,000 requests or 256 MB,
  "whichever is reached first" (the Message Batches guide, "Batch limitations",
  platform.claude.com/docs/en/build-with-claude/batch-processing).

MB is read as 10^6 bytes, the smaller reading, and a margin is kept below
the byte limit for the part of the body that is not requests (Anthropic's
``{"requests": [...]}``) and for any rounding on the provider's side: a batch
refused at upload costs a round trip, one slightly smaller costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from extractor.model.batch_api.base import BatchRequest

CHECKED = "2026-12-02"
"""When the figures below were last compared with the providers' documentation."""


@dataclass(frozen=True)
class BatchLimits:
    """How much one batch may hold."""

    max_requests: int
    max_bytes: int
    """Bytes of requests as the provider counts them (``BatchAPI.size``), margin taken off."""

    def __post_init__(self) -> None:
        if self.max_requests < 1 or self.max_bytes < 1:
            raise ValueError("a batch must be able to hold one request")


_MARGIN = 0.99
"""The share of the documented byte limit used."""

OPENAI_LIMITS = BatchLimits(max_requests=50_000, max_bytes=int(200_000_000 * _MARGIN))
ANTHROPIC_LIMITS = BatchLimits(max_requests=100_000, max_bytes=int(256_000_000 * _MARGIN))

LIMITS: dict[str, BatchLimits] = {"openai": OPENAI_LIMITS, "anthropic": ANTHROPIC_LIMITS}
"""Each provider's limits, by ``Settings.provider`` name."""


class RequestTooLarge(ValueError):
    """One request is larger than a whole batch may be: no split can send it."""


def split(
    requests: Iterable[BatchRequest], limits: BatchLimits, size: Callable[[BatchRequest], int]
) -> Iterator[list[BatchRequest]]:
    """The requests in batches of at most ``limits``, in their order, each request whole.

    ``size`` is the provider's measure of one request (``BatchAPI.size``).
    Greedy: a batch is closed when the next request would overflow it, so all
    batches but the last are full by one measure or the other. Lazy, so a
    caller can submit each batch as it is made.
    """
    batch: list[BatchRequest] = []
    used = 0
    for request in requests:
        bytes_ = size(request)
        if bytes_ > limits.max_bytes:
            raise RequestTooLarge(
                f"request {request.custom_id!r} takes {bytes_:,} bytes, more than a whole "
                f"batch may ({limits.max_bytes:,})"
            )
        if batch and (len(batch) >= limits.max_requests or used + bytes_ > limits.max_bytes):
            yield batch
            batch, used = [], 0
        batch.append(request)
        used += bytes_
    if batch:
        yield batch


def check(
    requests: list[BatchRequest], limits: BatchLimits, size: Callable[[BatchRequest], int]
) -> int:
    """The batch's bytes; a ``ValueError`` if it is over the limits or repeats a custom id.

    Checked before sending: the provider would refuse the batch anyway, after
    an upload of up to 200 MB.
    """
    if not requests:
        raise ValueError("a batch needs at least one request")
    if len(requests) > limits.max_requests:
        raise ValueError(
            f"{len(requests):,} requests is more than one batch holds ({limits.max_requests:,}): "
            "split them first (extractor.model.batch_api.split)"
        )
    seen: set[str] = set()
    total = 0
    for request in requests:
        if request.custom_id in seen:
            raise ValueError(f"custom id {request.custom_id!r} appears twice in one batch")
        seen.add(request.custom_id)
        total += size(request)
    if total > limits.max_bytes:
        raise ValueError(
            f"the batch takes {total:,} bytes, more than one batch holds ({limits.max_bytes:,}): "
            "split the requests first (extractor.model.batch_api.split)"
        )
    return total
