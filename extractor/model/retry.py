"""Transport-level retries: timeouts, connection faults, 429 and 5xx (529, Anthropic's
"overloaded", among them).

They live under the chat endpoint (the SDK's own retries are switched off)
and under the re-ask loop, around the single HTTP exchange, so a 429 during a
re-ask retries that one request instead of restarting the conversation, and
the two budgets stay separate and bounded. ``Retry-After`` is honoured (capped),
otherwise waits grow exponentially with jitter.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections import Counter

import httpx2
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

_NETWORK_FAULTS = (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError)


class _RetryableStatus(Exception):
    """A response worth another try (429 or 5xx), carried through tenacity."""

    def __init__(self, response: httpx2.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


_RETRYABLE = (_RetryableStatus, *_NETWORK_FAULTS)


def retry_after_seconds(headers: httpx2.Headers, now: dt.datetime | None = None) -> float | None:
    """Seconds the server asked us to wait, from ``retry-after-ms`` or ``Retry-After``."""
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(float(ms) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or dt.datetime.now(dt.UTC)
    return max((when - now).total_seconds(), 0.0)


def _is_retryable(response: httpx2.Response) -> bool:
    """Throttled (429) or failing on the server's side: any 5xx, Anthropic's 529 included."""
    return response.status_code == 429 or response.status_code >= 500


class RetryingTransport(httpx2.AsyncBaseTransport):
    """Wraps a transport and retries the faults a provider throws, within a budget."""

    def __init__(
        self,
        inner: httpx2.AsyncBaseTransport,
        *,
        retries: int,
        max_backoff: float,
        initial_backoff: float = 1.0,
    ) -> None:
        self.inner = inner
        self.retries = retries
        self.max_backoff = max_backoff
        self._jitter = wait_exponential_jitter(multiplier=initial_backoff, max=max_backoff)
        self.faults: Counter[str] = Counter()
        """Faults met so far, by kind (``429``, ``500``, ``ReadTimeout``...), for reports."""

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _RetryableStatus):
            asked = retry_after_seconds(exc.response.headers)
            if asked is not None:
                return min(asked, self.max_backoff)
        return float(self._jitter(state))

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        # Most requests succeed at once, so the first try is made without
        # tenacity's machinery (a third of this stack's CPU per request); a
        # failure is handed to tenacity as its attempt 1, so waits, Retry-After
        # and the attempt budget are exactly tenacity's.
        attempts = self.retries + 1
        try:
            return await self._try(request, last=attempts == 1)
        except _RETRYABLE as exc:
            failed: BaseException | None = exc
        retrying = AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_RETRYABLE),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                if failed is not None:
                    replayed, failed = failed, None
                    raise replayed
                number = attempt.retry_state.attempt_number
                return await self._try(request, last=number == attempts)
        raise AssertionError("unreachable: tenacity reraises or returns")  # pragma: no cover

    async def _try(self, request: httpx2.Request, *, last: bool) -> httpx2.Response:
        """One exchange; a retryable answer is raised unless it is the last try, then returned."""
        try:
            response = await self.inner.handle_async_request(request)
            # Read the (small, unstreamed) body here, so a connection dropped
            # halfway through an answer is retried like any fault.
            await response.aread()
        except _NETWORK_FAULTS as exc:
            self.faults[type(exc).__name__] += 1
            raise
        if _is_retryable(response):
            self.faults[str(response.status_code)] += 1
            if not last:
                await response.aclose()
                raise _RetryableStatus(response)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
