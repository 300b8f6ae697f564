"""Several servers of one model as one transport: a self-hosted fleet.

Who serves a model on several machines (vLLM, llama.cpp or Ray Serve
replicas) gives every base URL; this transport spreads the requests over them.
Each server keeps its own limits and its own health:

- **In flight**: at most its ``concurrency`` requests at once (none: unbounded),
  and each request goes to the least loaded server that is well (in flight
  over its limit, ties taken in turn), so a faster server, freeing its slots
  sooner, takes more.
- **Rate**: its own ``RateLimiter`` (``ratelimit``), with its own ``rpm`` and
  ``tpm`` and what its headers say; a 429 pauses that server only, for its
  ``Retry-After``, and the request goes to another.
- **Health**: a connection fault, a timeout or a 5xx rests the server, 1 s at
  first and twice as long on each failure in a row, up to ``max_rest``; the
  request is sent at once to another server. When its rest is over, one
  request (the probe) is let through; its answer brings the server back to
  its full share, its failure rests it again, longer. A server is on
  probation from the start too, until its first answer: one that is down or
  hangs from the outset costs one request, not its share of the first wave.

It sits where the network is, below the response cache, the cassettes and the
retries: every request reaches it under the first server's URL, and the
server that answers is chosen here, so cache and cassette keys (the request
body and its path below the base URL) never depend on which one answered, and
a request that moved to another server counts once against the retry budget
(``retry``): the fleet gives back a failure only when no other server could
take the request at once. When every server is resting, a request waits for
the first to come back; it fails at once, with every server's last fault in
its message, when none has ever answered (wrong URLs, servers not started:
the retries then do not wait either) or when all have been down for longer
than ``max_rest``, so a dead fleet ends a run quickly instead of stalling it,
while each server is still probed once per rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx2

from extractor.model.network import NetworkTransport
from extractor.model.ratelimit import RateLimitedTransport, RateLimiter, RateLimitHeaders
from extractor.model.requestlog import RequestLogTransport
from extractor.model.retry import retry_after_seconds
from extractor.settings import Settings

__all__ = ["FIRST_REST", "FleetServer", "FleetTransport", "build_fleet"]

log = logging.getLogger(__name__)

FIRST_REST = 1.0
"""Seconds a server rests after its first failure; each failure in a row doubles it."""

_FAULTS = (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError)


@dataclass(eq=False)
class FleetServer:
    """One server of the fleet: where it is, how it is reached, and how it fares."""

    url: str
    """Its base URL (``http://gpu1:8000/v1``), without credentials."""
    transport: httpx2.AsyncBaseTransport
    """Its own stack: its rate limiter, the request log, its network."""
    concurrency: int | None = None
    """Requests in flight at most; None: unbounded (the run's concurrency bounds them)."""
    in_flight: int = field(default=0, init=False)
    failures: int = field(default=0, init=False)
    """Failures in a row; above 0 the server is resting or on probation (one request)."""
    proven: bool = field(default=False, init=False)
    """Whether it ever answered: until then it is sent one request at a time, so a server
    that is down or hangs from the start costs one request, not its share of the first wave."""
    resting_until: float = field(default=0.0, init=False)
    """Until when it is rested for a fault (``clock`` time)."""
    paused_until: float = field(default=0.0, init=False)
    """Until when a 429 asked it to be left alone."""
    last_fault: str = field(default="", init=False)
    answered: int = field(default=0, init=False)
    faults: int = field(default=0, init=False)
    rests: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        # As httpx2 writes it (host in lower case, no default port), like the URLs it builds.
        self._parsed = httpx2.URL(self.url)
        self.url = str(self._parsed).rstrip("/")
        self._host = self._parsed.netloc.decode("ascii")

    @property
    def name(self) -> str:
        """``host:port``, what messages and the log call it."""
        return self._host

    def available(self, now: float) -> bool:
        """Whether it takes one more request now: not resting, not paused, a slot free."""
        if now < self.resting_until or now < self.paused_until:
            return False
        limit = self.concurrency if self.proven and not self.failures else 1  # a probe alone
        return limit is None or self.in_flight < limit


class FleetTransport(httpx2.AsyncBaseTransport):
    """Sends each request to the least loaded well server; moves it on when that one fails."""

    def __init__(
        self,
        servers: Sequence[FleetServer],
        *,
        max_rest: float = 60.0,
        first_rest: float = FIRST_REST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Requests arrive under the first server's URL; ``max_rest`` caps one rest (seconds)."""
        if not servers:
            raise ValueError("a fleet needs at least one server")
        self.servers = list(servers)
        self.base = self.servers[0].url
        self.max_rest = max_rest
        self.first_rest = min(first_rest, max_rest)
        self.clock = clock
        limits = [s.concurrency for s in self.servers if s.concurrency]
        # An unbounded server is balanced as if it had the largest limit given.
        self._weights = [float(s.concurrency or max(limits, default=1)) for s in self.servers]
        self._turn = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._reached = False
        """Whether any server ever answered: until then a fleet that is all down fails at once."""
        self._down_since: float | None = None
        """Since when no server has been well (every one resting or on probation)."""

    # ----------------------------------------------------------------- requests

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """The first answer that is not a fault; else the last fault, returned or raised.

        A failed request moves on to another server at once, up to as many
        tries as there are servers, and stops early when no other server could
        take it now; its last failure (a 5xx or 429 response, or the network
        fault) goes to the retries above, which count it as one try.
        """
        await request.aread()  # the body, read once, is sent as it is to every server
        failure: httpx2.Response | httpx2.TransportError | None = None
        for _ in range(len(self.servers)):
            server = await self._take(moving=failure is not None)
            if server is None:
                break
            try:
                response = await server.transport.handle_async_request(self._to(server, request))
                # Read the (small, unstreamed) answer here, so one dropped halfway
                # moves to another server like any fault.
                await response.aread()
            except _FAULTS as exc:
                self._reached |= not isinstance(exc, (httpx2.ConnectError, httpx2.ConnectTimeout))
                self._failed(server, _fault_text(exc))
                failure = exc
                continue
            finally:
                self._release(server)
            self._reached = True
            status = response.status_code
            if status == 429 or status >= 500:
                pause = None
                if status == 429:
                    asked = retry_after_seconds(response.headers)
                    pause = 1.0 if asked is None else asked
                self._failed(server, f"HTTP {status}", pause=pause)
                if isinstance(failure, httpx2.Response):
                    await failure.aclose()
                failure = response
                continue
            self._answered(server)
            response.request = request
            return response
        if isinstance(failure, httpx2.Response):
            failure.request = request
            return failure
        assert failure is not None
        raise type(failure)(self._summary(), request=request) from failure

    def _to(self, server: FleetServer, request: httpx2.Request) -> httpx2.Request:
        """``request`` addressed to ``server``: its base URL in place of the first's, its Host."""
        if server.url == self.base:
            return request
        text = str(request.url)
        if text.startswith(self.base):
            url = httpx2.URL(server.url + text[len(self.base) :])
        else:  # not under the base URL: the same path on the other server
            target = server._parsed
            url = request.url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
        headers = request.headers.copy()
        headers["Host"] = url.netloc.decode("ascii")
        return httpx2.Request(
            request.method,
            url,
            headers=headers,
            stream=request.stream,
            extensions=request.extensions,
        )

    # ----------------------------------------------------------------- choosing

    async def _take(self, *, moving: bool) -> FleetServer | None:
        """A server for the next try, its slot taken; None when ``moving`` finds none at once.

        Waits while every server well is busy. When every server is down (none
        well), waits for the first to come back, unless the fleet has never
        answered or has been down for longer than ``max_rest``: then raises.
        """
        while True:
            now = self.clock()
            if (server := self._choose(now)) is not None:
                server.in_flight += 1
                return server
            since = self._down_since
            if since is not None and moving:
                return None  # the failure goes back to the retries, which count and wait
            if since is not None and (not self._reached or now - since >= self.max_rest):
                raise httpx2.ConnectError(self._summary())
            back = [t for s in self.servers if (t := max(s.resting_until, s.paused_until)) > now]
            until = min(back, default=math.inf)
            if since is not None:
                until = min(until, since + self.max_rest)
            await self._wait(None if until == math.inf else until - now)

    def _choose(self, now: float) -> FleetServer | None:
        """The available server with the least in flight for its weight; ties in turn."""
        best: FleetServer | None = None
        best_key = (math.inf, 0)
        chosen = 0
        count = len(self.servers)
        for index, server in enumerate(self.servers):
            if not server.available(now):
                continue
            key = (server.in_flight / self._weights[index], (index - self._turn) % count)
            if key < best_key:
                best, best_key, chosen = server, key, index
        if best is not None:
            self._turn = (chosen + 1) % count
        return best

    def _release(self, server: FleetServer) -> None:
        server.in_flight -= 1
        self._wake(1)

    # ----------------------------------------------------------------- health

    def _answered(self, server: FleetServer) -> None:
        server.answered += 1
        if server.failures or not server.proven:
            if server.failures:
                log.warning("%s answers again: back in the fleet", server.name)
            server.failures = 0
            server.proven = True
            server.resting_until = 0.0
            self._down_since = None
            self._wake(len(self._waiters))  # its full share of slots is free at once

    def _failed(self, server: FleetServer, fault: str, *, pause: float | None = None) -> None:
        """Rest ``server`` for a fault (or pause it, for a 429: a wait asked, not a sickness)."""
        now = self.clock()
        server.faults += 1
        server.last_fault = fault
        if pause is not None:
            server.paused_until = max(server.paused_until, now + min(pause, self.max_rest))
            return
        if now < server.resting_until:
            return  # already resting: another request's failure counted this outage
        server.failures += 1
        server.rests += 1
        rest = min(self.first_rest * 2 ** (server.failures - 1), self.max_rest)
        server.resting_until = now + rest
        if server.failures == 1:
            log.warning("%s rested %g s after %s; the others go on", server.name, rest, fault)
        if self._down_since is None and all(s.failures for s in self.servers):
            self._down_since = now
        self._wake(len(self._waiters))  # waiters recompute when the next server comes back

    def _summary(self) -> str:
        """Every server's last fault in one line, for the error the whole fleet's failure raises."""
        states = "; ".join(f"{s.url}: {s.last_fault or 'no fault'}" for s in self.servers)
        count = len(self.servers)
        if not self._reached:
            return f"none of the {count} servers answered ({states})"
        if self._down_since is not None:
            return f"all {count} servers are resting after failures ({states})"
        return f"the request failed on every server it was tried on ({states})"

    # ----------------------------------------------------------------- waiting

    async def _wait(self, timeout: float | None) -> None:
        """Until a slot may be free (``_wake``) or ``timeout`` seconds have passed."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        timer = None if timeout is None else loop.call_later(timeout, _settle, waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._wake(1)  # woken, then cancelled: hand the wake-up on
            raise
        finally:
            if timer is not None:
                timer.cancel()
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)

    def _wake(self, count: int) -> None:
        while count > 0 and self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                count -= 1

    # ----------------------------------------------------------------- reports

    def report(self) -> list[str]:
        """One line per server: answers, faults, rests, and its state now."""
        now = self.clock()
        lines = []
        for s in self.servers:
            state = "resting" if now < s.resting_until else "probing" if s.failures else "well"
            lines.append(
                f"{s.name}: {s.answered} answered, {s.faults} faults, {s.rests} rests, {state}"
            )
        return lines

    async def aclose(self) -> None:
        """Close each server's transport once; ``--verbose`` ends with each server's report,
        so a run that rested a replica says how much it leaned on the others."""
        for line in self.report():
            log.info("fleet: %s", line)
        closed: set[int] = set()
        for server in self.servers:
            if id(server.transport) not in closed:
                closed.add(id(server.transport))
                await server.transport.aclose()


def _settle(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _fault_text(exc: Exception) -> str:
    """The fault as ``network`` words it ("connection refused", "no complete answer ...")."""
    return str(exc) or type(exc).__name__


def build_fleet(
    settings: Settings,
    *,
    provider: str,
    rate_limit_headers: RateLimitHeaders,
    inner: httpx2.AsyncBaseTransport | None = None,
) -> FleetTransport:
    """The fleet for ``settings.replicas``: each server its limiter, request log and network.

    ``rpm``, ``tpm`` and ``replica_concurrency`` are each server's unless its
    URL says otherwise (``#concurrency=8,rpm=600``). ``inner`` replaces every
    server's network (tests).
    """
    servers = []
    for replica in settings.replicas:
        limiter = RateLimiter(
            rpm=replica.rpm or settings.rpm,
            tpm=replica.tpm or settings.tpm,
            headers=rate_limit_headers,
            max_pause=settings.max_backoff,
            share=1 / settings.workers,
        )
        network = RequestLogTransport(inner or NetworkTransport(), provider)
        servers.append(
            FleetServer(
                url=replica.url,
                transport=RateLimitedTransport(network, limiter),
                concurrency=_share(replica.concurrency or settings.replica_concurrency, settings),
            )
        )
    return FleetTransport(servers, max_rest=settings.max_backoff)


def _share(concurrency: int | None, settings: Settings) -> int | None:
    """This process's part of a server's concurrency when ``workers`` processes share it
    (rounded down, at least one request: a server of concurrency 1 takes one from each)."""
    return None if concurrency is None else max(1, concurrency // settings.workers)
