"""Transport-level retries: timeouts, connection faults, 429 and 5xx (529, Anthropic's
"overloaded", among them).

They live under the chat endpoint (the SDK's own retries are switched off)
and under the re-ask loop, around the single HTTP exchange, so a 429 during a
re-ask retries that one request instead of restarting the conversation, and
the two budgets stay separate and bounded. ``Retry-After`` is honoured (capped),
otherwise waits grow exponentially with jitter.

One exception: until the server has answered once, a refused connection is
not retried. A server that refuses the very first request is not there (a
wrong URL, a server not started), and backing off for twenty seconds only
delays saying so; once it has answered, a refusal is a restart, and retried.
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

from extractor._exceptions import TransportError

_NETWORK_FAULTS = (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError)


class _RetryableStatus(Exception):
    """A response worth another try (429 or 5xx), carried through tenacity."""

    def __init__(self, response: httpx2.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


_RETRYABLE = (_RetryableStatus, *_NETWORK_FAULTS)
_TRIES = "extractor_tries"


def tries(outcome: httpx2.Response | BaseException) -> int:
    """How many times the request that ended in ``outcome`` was sent (1 if never retried)."""
    if isinstance(outcome, httpx2.Response):
        return int(outcome.extensions.get(_TRIES, 1))
    return int(getattr(outcome, _TRIES, 1))


def after_tries(outcome: httpx2.Response | BaseException) -> str:
    """ " after N tries" when the request was retried, else "": a 400 was sent once."""
    number = tries(outcome)
    return f" after {number} tries" if number > 1 else ""


def transport_error(exc: Exception, request: httpx2.Request) -> TransportError:
    """Our error for a network fault the retries did not clear, naming the server and the fault.

    The URL is shown without credentials or query; the fault as ``network``
    words it ("connection refused").
    """
    url = request.url.copy_with(username=None, password=None, query=None, fragment=None)
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, httpx2.TimeoutException):
        return TransportError(f"the request to {url} timed out{after_tries(exc)}: {reason}")
    return TransportError(f"cannot reach the server at {url}: {reason}{after_tries(exc)}")


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
        self._reached = False
        """Whether the server ever answered (or was connected to): until then a refused
        connection is not retried."""

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
            return await self._try(request, 1, last=attempts == 1)
        except _RETRYABLE as exc:
            failed: BaseException | None = exc
            if isinstance(exc, httpx2.ConnectError) and not self._reached:
                # Nothing ever answered on this server, and now the connection is
                # refused (or the name unknown): a server that is not there, most
                # likely a wrong URL or a server not started. Say so now, not
                # after a minute of backoff; later faults are retried as ever.
                raise
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
                return await self._try(request, number, last=number == attempts)
        raise AssertionError("unreachable: tenacity reraises or returns")  # pragma: no cover

    async def _try(self, request: httpx2.Request, number: int, *, last: bool) -> httpx2.Response:
        """Try ``number``; a retryable answer is raised unless it is the last try, then returned.

        What the last try leaves (its response or its fault) carries ``number``
        for ``tries``, so a message says "after 5 tries" only when there were.
        """
        try:
            response = await self.inner.handle_async_request(request)
            # Read the (small, unstreamed) body here, so a connection dropped
            # halfway through an answer is retried like any fault.
            await response.aread()
        except _NETWORK_FAULTS as exc:
            self.faults[type(exc).__name__] += 1
            if not isinstance(exc, (httpx2.ConnectError, httpx2.ConnectTimeout)):
                self._reached = True  # it was connected to: the server is there
            setattr(exc, _TRIES, number)
            raise
        self._reached = True
        if _is_retryable(response):
            self.faults[str(response.status_code)] += 1
            if not last:
                await response.aclose()
                raise _RetryableStatus(response)
            if number > 1:
                response.extensions[_TRIES] = number
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
