"""Client-side rate limiting: use what the provider allows, and no more.

Requests are spaced evenly (one every ``60 / rpm`` seconds) instead of sent in
bursts, because a provider counting over a sliding minute answers a burst with
429s. Tokens per minute are a bucket refilled continuously. The limit comes
from ``--rpm``/``--tpm`` or, when not given, from the rate-limit headers the
provider sends (their names are the provider's: ``RateLimitHeaders``); a 429
pauses every request until its ``Retry-After`` has passed and slows the pace,
which recovers gradually.

It sits under the retries, so every attempt takes a slot, and above the real
transport, so it sees every response.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx2

from extractor.model.retry import retry_after_seconds

_DURATION = re.compile(
    r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$"
)
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def parse_reset(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds until a limit resets, from a reset header.

    OpenAI's give a duration ("1s", "6m0s", "120ms", "0.5"); Anthropic's an
    RFC 3339 timestamp ("2025-09-01T12:00:42Z"), read as seconds from ``now``
    (never negative: a moment already past is no wait). A timestamp without a
    zone is taken as UTC.
    """
    if not value:
        return None
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    if _TIMESTAMP.match(value):
        try:
            when = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        now = now or dt.datetime.now(dt.UTC)
        return max((when - now).total_seconds(), 0.0)
    match = _DURATION.match(value)
    if not match or not any(match.groups()):
        return None
    h, m, s, ms = (float(g) if g else 0.0 for g in match.groups())
    return h * 3600 + m * 60 + s + ms / 1000


@dataclass(frozen=True)
class RateLimitHeaders:
    """Where a provider states its request limit, what is left of it, and when it resets."""

    limit: str | None = None
    remaining: str | None = None
    reset: str | None = None


class RateLimiter:
    """Paces requests and tokens; shared by every request of a run."""

    def __init__(
        self,
        rpm: float | None = None,
        tpm: float | None = None,
        *,
        headers: RateLimitHeaders | None = None,
        clock: Callable[[], float] = time.monotonic,
        safety: float = 0.98,
        max_pause: float = 60.0,
        share: float = 1.0,
    ) -> None:
        """``headers``: the names the provider gives its limits (none: only ``Retry-After``).

        ``share``: the part of every limit this process may use, given or learned
        (``1 / workers`` when several processes share one account's limits).
        """
        self.headers = headers or RateLimitHeaders()
        self.safety = safety
        self.share = share
        self.max_pause = max_pause
        self.clock = clock
        self.target_rpm = rpm
        self.learned = rpm is None  # follow the provider's headers when not told
        self.slowdown = 1.0
        self.tpm = tpm * share if tpm else tpm
        self._next_slot = 0.0
        self._tokens = float(self.tpm) if self.tpm else 0.0
        self._tokens_at = clock()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        self.waited = 0.0
        self.throttled = 0

    @property
    def interval(self) -> float:
        if not self.target_rpm:
            return 0.0
        return 60.0 / (self.target_rpm * self.safety * self.share) * self.slowdown

    async def acquire(self, tokens: int = 0) -> None:
        """Wait for this request's turn."""
        async with self._lock:
            now = self.clock()
            start = max(now, self._next_slot, self._paused_until)
            if self.tpm:
                start = max(start, self._token_time(tokens, start))
            self._next_slot = start + self.interval
            delay = start - now
        if delay > 0:
            self.waited += delay
            await asyncio.sleep(delay)

    def _token_time(self, tokens: int, earliest: float) -> float:
        """When the bucket holds ``tokens``; takes them from it."""
        assert self.tpm
        rate = self.tpm / 60.0
        capacity = float(self.tpm)
        self._tokens = min(capacity, self._tokens + (earliest - self._tokens_at) * rate)
        self._tokens_at = earliest
        need = min(float(tokens), capacity)
        wait = max(0.0, (need - self._tokens) / rate)
        self._tokens -= need
        return earliest + wait

    def observe(self, response: httpx2.Response) -> None:
        """Learn from a response: its limits, and whether it was throttled."""
        headers, names = response.headers, self.headers
        if self.learned and names.limit and (limit := headers.get(names.limit)):
            with contextlib.suppress(ValueError):
                self.target_rpm = float(limit)
        now = self.clock()
        if response.status_code == 429:
            self.throttled += 1
            self.slowdown = min(self.slowdown * 1.25, 8.0)
            pause = retry_after_seconds(headers)
            pause = min(1.0 if pause is None else pause, self.max_pause)
            self._paused_until = max(self._paused_until, now + pause)
            return
        self.slowdown = max(1.0, self.slowdown * 0.99)
        if names.remaining and headers.get(names.remaining) == "0":
            reset = parse_reset(headers.get(names.reset)) if names.reset else None
            if reset:
                self._paused_until = max(self._paused_until, now + min(reset, self.max_pause))


def estimate_tokens(body: bytes) -> int:
    """A cheap prompt-size guess (about four bytes a token) plus room for the answer."""
    return len(body) // 4 + 1000


class RateLimitedTransport(httpx2.AsyncBaseTransport):
    """Takes a slot from the limiter before each request and reports each response."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, limiter: RateLimiter) -> None:
        self.inner = inner
        self.limiter = limiter

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await self.limiter.acquire(estimate_tokens(await request.aread()))
        response = await self.inner.handle_async_request(request)
        self.limiter.observe(response)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
