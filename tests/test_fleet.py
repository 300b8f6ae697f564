"""Tests for extractor.model.fleet: several servers of one model, each its limits and health.

The fleet's own rules are tested over counting transports (no socket); the
whole path (settings, the stack, the pipeline) over fake servers on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from extractor import ErrorRecord, Extraction, Settings, aextract_paths, document_from_text
from extractor.batch import iter_results
from extractor.model.client import ModelClient, build_transport
from extractor.model.fleet import FleetServer, FleetTransport
from extractor.model.network import NetworkTransport
from extractor.testing.fakeserver import FakeServer, FakeServerConfig

KEY = "sk-test"


# --------------------------------------------------------------------------- doubles


class Replica(httpx2.AsyncBaseTransport):
    """A server that answers as ``mode`` says, counting what it is sent and its peak in flight."""

    def __init__(self, mode: str = "ok", latency: float = 0.0) -> None:
        self.mode = mode
        self.latency = latency
        self.calls = 0
        self.in_flight = 0
        self.peak = 0
        self.hosts: list[str] = []
        self.urls: list[str] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.calls += 1
        self.hosts.append(request.headers["host"])
        self.urls.append(str(request.url))
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.latency)
            if self.mode == "refuse":
                raise httpx2.ConnectError("connection refused", request=request)
            if self.mode == "timeout":
                raise httpx2.ReadTimeout("no complete answer within 1 s", request=request)
            if self.mode == "503":
                return httpx2.Response(503, content=b'{"error": {}}', request=request)
            if self.mode == "429":
                headers = {"retry-after": "30"}
                return httpx2.Response(429, headers=headers, content=b"{}", request=request)
            return httpx2.Response(200, content=b'{"ok": true}', request=request)
        finally:
            self.in_flight -= 1


def _fleet(*replicas: Replica, limits: tuple[int | None, ...] = (), **kw: Any) -> FleetTransport:
    servers = [
        FleetServer(
            url=f"http://10.0.0.{i + 1}:8000/v1",
            transport=replica,
            concurrency=limits[i] if i < len(limits) else None,
        )
        for i, replica in enumerate(replicas)
    ]
    kw.setdefault("first_rest", 0.05)
    kw.setdefault("max_rest", 0.4)
    return FleetTransport(servers, **kw)


def _request(path: str = "/chat/completions") -> httpx2.Request:
    return httpx2.Request("POST", "http://10.0.0.1:8000/v1" + path, content=b'{"model": "m"}')


async def _send(fleet: FleetTransport, count: int) -> list[int]:
    responses = await asyncio.gather(
        *(fleet.handle_async_request(_request()) for _ in range(count))
    )
    return [r.status_code for r in responses]


# --------------------------------------------------------------------------- the fleet's rules


async def test_requests_go_to_each_server_in_turn_when_all_are_idle() -> None:
    """One at a time, every server is least loaded in turn: the load is spread evenly."""
    a, b, c = Replica(), Replica(), Replica()
    fleet = _fleet(a, b, c)
    for _ in range(9):
        assert (await fleet.handle_async_request(_request())).status_code == 200
    assert (a.calls, b.calls, c.calls) == (3, 3, 3)


async def test_a_request_is_addressed_to_the_server_that_takes_it() -> None:
    """Its URL is the chosen server's base URL plus the path; its Host header follows."""
    a, b = Replica(), Replica()
    fleet = _fleet(a, b)
    await _send(fleet, 2)
    assert a.urls == ["http://10.0.0.1:8000/v1/chat/completions"]
    assert b.urls == ["http://10.0.0.2:8000/v1/chat/completions"]
    assert b.hosts == ["10.0.0.2:8000"]


async def test_each_server_keeps_to_its_concurrency() -> None:
    """Never more in flight on a server than its limit; the busier limit takes more."""
    a, b = Replica(latency=0.02), Replica(latency=0.02)
    fleet = _fleet(a, b, limits=(2, 4))
    assert set(await _send(fleet, 60)) == {200}
    assert (a.peak, b.peak) == (2, 4)
    assert b.calls > a.calls


@pytest.mark.parametrize("mode", ["refuse", "503", "timeout"])
async def test_a_failing_server_is_rested_and_its_requests_move_on(mode: str) -> None:
    """A refused connection, a 503 or a timeout: the request is answered by another server
    at once, and the failing one is left alone while it rests."""
    bad, good = Replica(mode), Replica(latency=0.005)
    fleet = _fleet(bad, good)
    assert set(await _send(fleet, 20)) == {200}
    assert bad.calls == 1  # rested after its first failure, for longer than the run
    assert good.calls == 20
    assert fleet.servers[0].rests == 1


async def test_a_rested_server_is_probed_then_comes_back() -> None:
    """After its rest, one request probes the server; its answer gives it its share again."""
    bad, good = Replica("503"), Replica()
    fleet = _fleet(bad, good, first_rest=0.05)
    await _send(fleet, 4)
    assert bad.calls == 1
    bad.mode = "ok"
    await asyncio.sleep(0.06)
    for _ in range(10):
        await fleet.handle_async_request(_request())
    assert bad.calls >= 5  # the probe, then its turn again
    assert fleet.servers[0].failures == 0
    assert "well" in fleet.report()[0]


async def test_each_failure_in_a_row_doubles_the_rest() -> None:
    """The probe failing again rests the server twice as long (up to the cap)."""
    clock = [0.0]
    bad, good = Replica("refuse"), Replica()
    fleet = _fleet(bad, good, first_rest=1.0, max_rest=60.0, clock=lambda: clock[0])
    rests = []
    for _ in range(8):
        await fleet.handle_async_request(_request())
        server = fleet.servers[0]
        rests.append(server.resting_until - clock[0])
        clock[0] = server.resting_until  # the rest is over: the next request probes it
    assert rests == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]


async def test_a_429_pauses_that_server_only_and_not_as_a_fault() -> None:
    """A throttled server is left alone for its Retry-After; it is not counted sick."""
    throttled, other = Replica("429"), Replica()
    fleet = _fleet(throttled, other, max_rest=60.0)
    assert set(await _send(fleet, 6)) == {200}
    assert throttled.calls == 1
    assert fleet.servers[0].failures == 0
    assert fleet.servers[0].paused_until - time.monotonic() > 25


async def test_a_fleet_that_never_answered_fails_at_once_naming_every_server() -> None:
    """Every server refuses from the start: one error at once, not a wait for their rests."""
    fleet = _fleet(Replica("refuse"), Replica("refuse"), Replica("refuse"), max_rest=60.0)
    started = time.monotonic()
    for _ in range(3):
        with pytest.raises(httpx2.ConnectError) as caught:
            await fleet.handle_async_request(_request())
    assert time.monotonic() - started < 0.5
    message = str(caught.value)
    assert message.startswith("none of the 3 servers answered")
    for n in (1, 2, 3):
        assert f"http://10.0.0.{n}:8000/v1: connection refused" in message


async def test_when_all_rest_a_request_waits_for_the_first_to_come_back() -> None:
    """Servers that answered, then all fail: the next request waits out the first rest and
    is answered by the server when it is back."""
    a, b = Replica(), Replica()
    fleet = _fleet(a, b, first_rest=0.2, max_rest=5.0)
    await _send(fleet, 2)
    a.mode = b.mode = "503"
    statuses = await _send(fleet, 1)
    assert statuses == [503]  # tried on both, then given back to the retries, once
    assert fleet.servers[0].failures and fleet.servers[1].failures
    a.mode = b.mode = "ok"
    started = time.monotonic()
    assert await _send(fleet, 1) == [200]
    waited = time.monotonic() - started
    assert 0.1 < waited < 1.0


async def test_a_fleet_down_for_longer_than_the_cap_fails_at_once() -> None:
    """Down past ``max_rest``: requests fail at once with every server's fault, while each
    server is still probed when its rest ends."""
    a, b = Replica(), Replica()
    fleet = _fleet(a, b, first_rest=0.05, max_rest=0.1)
    await _send(fleet, 2)
    a.mode = b.mode = "refuse"
    with pytest.raises(httpx2.ConnectError):
        await fleet.handle_async_request(_request())
    await asyncio.sleep(0.25)
    calls = a.calls + b.calls
    started = time.monotonic()
    for _ in range(5):
        with pytest.raises(httpx2.ConnectError) as caught:
            await fleet.handle_async_request(_request())
    assert time.monotonic() - started < 0.3
    assert str(caught.value).startswith("all 2 servers are resting after failures")
    assert a.calls + b.calls - calls <= 2  # one probe each, no more
    a.mode = "ok"
    await asyncio.sleep(0.15)
    assert await _send(fleet, 1) == [200]


async def test_a_cancelled_request_gives_its_slot_back() -> None:
    """A request cancelled while in flight or while waiting leaves no slot taken."""
    a = Replica(latency=10.0)
    fleet = _fleet(a, limits=(1,))
    tasks = [asyncio.create_task(fleet.handle_async_request(_request())) for _ in range(3)]
    await asyncio.sleep(0.02)
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert fleet.servers[0].in_flight == 0
    a.latency = 0.0
    assert await _send(fleet, 2) == [200, 200]


async def test_closing_the_fleet_logs_each_servers_report(caplog: pytest.LogCaptureFixture) -> None:
    """The run's end tells, per server, what it answered and how often it was rested."""
    bad, good = Replica("503"), Replica()
    fleet = _fleet(bad, good, first_rest=30)
    await _send(fleet, 3)
    with caplog.at_level(logging.INFO, logger="extractor.model.fleet"):
        await fleet.aclose()
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("fleet: ")]
    assert lines == [
        "fleet: 10.0.0.1:8000: 0 answered, 1 faults, 1 rests, resting",
        "fleet: 10.0.0.2:8000: 3 answered, 0 faults, 0 rests, well",
    ]


async def test_closing_the_fleet_closes_each_transport_once() -> None:
    closed: Counter[int] = Counter()

    class Closing(Replica):
        async def aclose(self) -> None:
            closed[id(self)] += 1

    shared = Closing()
    fleet = _fleet(shared, shared, Closing())
    await fleet.aclose()
    assert sorted(closed.values()) == [1, 1]


# --------------------------------------------------------------------------- the stack


def _chain(transport: Any) -> list[Any]:
    seen = []
    while transport is not None:
        seen.append(transport)
        transport = getattr(transport, "inner", None)
    return seen


def test_one_base_url_builds_no_fleet() -> None:
    """One server is reached as ever: no fleet layer in its stack."""
    settings = Settings(base_url="http://127.0.0.1:1/v1", api_key=KEY, cache=False)
    assert settings.replicas == ()
    chain = _chain(build_transport(settings))
    assert not any(isinstance(t, FleetTransport) for t in chain)
    assert isinstance(chain[-1], NetworkTransport)


def test_several_base_urls_build_a_fleet_with_each_servers_limits() -> None:
    settings = Settings(
        base_url=["http://127.0.0.1:1/v1#concurrency=8,rpm=600", "http://127.0.0.1:2/v1"],
        api_key=KEY,
        cache=False,
        rpm=60,
        replica_concurrency=3,
    )
    fleets = [t for t in _chain(build_transport(settings)) if isinstance(t, FleetTransport)]
    assert len(fleets) == 1
    first, second = fleets[0].servers
    assert (first.concurrency, second.concurrency) == (8, 3)
    limiters = [s.transport.limiter for s in (first, second)]  # type: ignore[attr-defined]
    assert [lim.target_rpm for lim in limiters] == [600, 60]
    assert limiters[0] is not limiters[1]


def test_each_worker_takes_its_share_of_every_servers_limits() -> None:
    """Two workers: each process gets half of a server's concurrency (at least one) and
    paces at half its rpm, so together they keep to the server's limits."""
    settings = Settings(
        base_url=[
            "http://127.0.0.1:1/v1#concurrency=8,rpm=600",
            "http://127.0.0.1:2/v1#concurrency=1",
        ],
        api_key=KEY,
        cache=False,
        workers=2,
    )
    (fleet,) = [t for t in _chain(build_transport(settings)) if isinstance(t, FleetTransport)]
    first, second = fleet.servers
    assert (first.concurrency, second.concurrency) == (4, 1)
    limiter = first.transport.limiter  # type: ignore[attr-defined]
    assert limiter.interval == pytest.approx(60 / (600 * limiter.safety * 0.5))


# --------------------------------------------------------------------------- over loopback


ARTICLE = "Alpha met Beta in Geneva on Monday, officials said. Talks went on for hours."


def _documents(count: int) -> list[Any]:
    return [document_from_text(f"{ARTICLE} Item {n}.", f"doc-{n}", meta=None) for n in range(count)]


def _closed_port() -> str:
    """A loopback URL nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def _settings(urls: list[str], **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "base_url": urls,
        "api_key": KEY,
        "model": "fake-model",
        "transport_retries": 0,  # every success below is the fleet's, not a retry's
        "reasks": 0,
        "cache": False,
    }
    values.update(overrides)
    return Settings(**values)


async def _run(settings: Settings, count: int, concurrency: int = 8) -> list[Any]:
    return [
        result
        async for result in aextract_paths(
            _documents(count), settings=settings, concurrency=concurrency
        )
    ]


@contextlib.asynccontextmanager
async def _servers(*configs: FakeServerConfig) -> AsyncIterator[list[FakeServer]]:
    async with contextlib.AsyncExitStack() as stack:
        yield [await stack.enter_async_context(FakeServer(config)) for config in configs]


async def test_load_spreads_across_three_servers() -> None:
    config = FakeServerConfig(latency=0.02)
    async with _servers(config, config, config) as servers:
        results = await _run(_settings([s.base_url for s in servers]), 30, concurrency=6)
    assert all(isinstance(r, Extraction) for r in results)
    answered = [s.stats["answered_200"] for s in servers]
    assert sum(answered) == 30
    assert min(answered) >= 6


async def test_a_closed_port_and_a_server_of_500s_are_rested_and_every_document_succeeds() -> None:
    """One server down, one answering only 500s: every document is answered by the third,
    without a single transport retry, and the faulty ones are hardly asked."""
    faulty = FakeServerConfig(fault_rate=1.0, faults=("500",))
    async with _servers(FakeServerConfig(latency=0.01), faulty) as (good, bad):
        urls = [_closed_port(), bad.base_url, good.base_url]
        results = await _run(_settings(urls), 25)
    assert all(isinstance(r, Extraction) for r in results), results
    assert good.stats["answered_200"] == 25
    assert bad.stats["answered_500"] <= 2


async def test_each_servers_concurrency_holds_over_the_network() -> None:
    """Counted at the network, per port: never more in flight than the URL's limit."""
    in_flight: Counter[int] = Counter()
    peak: Counter[int] = Counter()

    class Counting(NetworkTransport):
        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            port = request.url.port or 0
            in_flight[port] += 1
            peak[port] = max(peak[port], in_flight[port])
            try:
                return await super().handle_async_request(request)
            finally:
                in_flight[port] -= 1

    config = FakeServerConfig(latency=0.03)
    async with _servers(config, config) as (a, b):
        settings = _settings([a.base_url + "#concurrency=2", b.base_url + "#concurrency=3"])
        async with ModelClient(settings, inner=Counting()) as client:
            results = [r async for _, r in iter_results(_documents(30), client, concurrency=12)]
    assert all(isinstance(r, Extraction) for r in results)
    assert peak[a.port] == 2 and peak[b.port] == 3


async def test_every_server_down_gives_one_clear_error_per_document_quickly() -> None:
    """Nothing listens on any URL: each document fails in well under a second with the
    default retry budget, naming every server, instead of waiting out the backoff."""
    urls = [_closed_port(), _closed_port(), _closed_port()]
    started = time.monotonic()
    results = await _run(_settings(urls, transport_retries=4), 12)
    assert time.monotonic() - started < 3.0
    assert len(results) == 12 and all(isinstance(r, ErrorRecord) for r in results)
    message = results[0].message
    assert "none of the 3 servers answered" in message
    assert all(url in message for url in urls)


async def test_cache_keys_do_not_depend_on_the_server_that_answered(tmp_path: Any) -> None:
    """What a fleet answered is found again through another, single server: no call is made."""
    cache = tmp_path / "answers.sqlite"
    async with _servers(FakeServerConfig(), FakeServerConfig(), FakeServerConfig()) as servers:
        first = _settings([s.base_url for s in servers[:2]], cache=True, cache_path=cache)
        assert all(isinstance(r, Extraction) for r in await _run(first, 6, concurrency=2))
        assert all(s.stats["answered_200"] for s in servers[:2])
        again = _settings([servers[2].base_url], cache=True, cache_path=cache)
        assert all(isinstance(r, Extraction) for r in await _run(again, 6))
    assert servers[2].stats["requests"] == 0
