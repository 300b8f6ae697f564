"""Tests for extractor.model.retry: retries of 429, 5xx and network faults, and their waits."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import json
from collections.abc import Callable, Sequence
from typing import Any

import httpx2
import pytest

from extractor.model.retry import RetryingTransport, after_tries, retry_after_seconds, tries
from extractor.testing import Fault, ScriptedTransport

URL = "https://api.example.test/v1/chat/completions"
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "ASEAN met."}]}
ANSWER: dict[str, Any] = {"participants": [], "meetings": [], "status_claims": []}
NOW = dt.datetime(2025, 9, 1, 12, 0, 0, tzinfo=dt.UTC)

Step = dict[str, Any] | Fault | Exception


class _Steps(ScriptedTransport):
    """A scripted server that can also fail below HTTP, as a dropped connection does."""

    def __init__(self, steps: Sequence[Step]) -> None:
        super().__init__([s for s in steps if not isinstance(s, Exception)])
        self.steps = list(steps)
        self.calls = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.calls += 1
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            await request.aread()
            self.bodies.append(json.loads(request.content))
            raise step
        return await super().handle_async_request(request)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every wait asked of asyncio.sleep, which returns at once instead of waiting."""
    asked: list[float] = []
    real_sleep = asyncio.sleep

    async def fake_sleep(delay: float, *args: Any, **kwargs: Any) -> Any:
        asked.append(delay)
        return await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    return asked


def _retrying(inner: httpx2.AsyncBaseTransport, **kwargs: Any) -> RetryingTransport:
    values: dict[str, Any] = {"retries": 3, "max_backoff": 60.0}
    values.update(kwargs)
    return RetryingTransport(inner, **values)


async def _post(transport: httpx2.AsyncBaseTransport) -> httpx2.Response:
    async with httpx2.AsyncClient(transport=transport) as client:
        return await client.post(URL, json=BODY)


def _read_timeout() -> httpx2.ReadTimeout:
    return httpx2.ReadTimeout("scripted read timeout")


def _connect_error() -> httpx2.ConnectError:
    return httpx2.ConnectError("scripted connection refused")


# --------------------------------------------------------------------------- what is retried


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_retries_429_and_5xx_until_an_answer(status: int, sleeps: list[float]) -> None:
    """A throttled or failing server is asked again, and its later answer comes through."""
    inner = _Steps([Fault(status), Fault(status), ANSWER])
    transport = _retrying(inner)
    response = await _post(transport)
    assert response.status_code == 200
    assert inner.calls == 3
    assert transport.faults == {str(status): 2}
    assert len(sleeps) == 2


async def test_529_overloaded_is_retried_like_503(sleeps: list[float]) -> None:
    """Anthropic's 529 (overloaded) is a server fault: retried, then its answer comes through."""
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    inner = _Steps([Fault(529, body=overloaded), Fault(503), ANSWER])
    transport = _retrying(inner)
    response = await _post(transport)
    assert response.status_code == 200
    assert inner.calls == 3
    assert transport.faults == {"529": 1, "503": 1}
    assert len(sleeps) == 2


async def test_retries_network_faults(sleeps: list[float]) -> None:
    """A read timeout and a refused connection are retried like a 503."""
    inner = _Steps([_read_timeout(), _connect_error(), ANSWER])
    transport = _retrying(inner)
    response = await _post(transport)
    assert response.status_code == 200
    assert inner.calls == 3
    assert transport.faults == {"ReadTimeout": 1, "ConnectError": 1}


async def test_retry_sends_the_same_request_again(sleeps: list[float]) -> None:
    """Each try carries the very same body: a retry is not a new question."""
    inner = _Steps([Fault(503), _read_timeout(), ANSWER])
    await _post(_retrying(inner))
    assert len(inner.bodies) == 3
    assert inner.bodies[0] == inner.bodies[1] == inner.bodies[2] == BODY


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_client_errors_are_not_retried(status: int, sleeps: list[float]) -> None:
    """A request the server refuses on its merits is returned at once, untouched."""
    inner = _Steps([Fault(status), ANSWER])
    transport = _retrying(inner)
    response = await _post(transport)
    assert response.status_code == status
    assert inner.calls == 1
    assert sleeps == []
    assert transport.faults == {}


# --------------------------------------------------------------------------- the budget


@pytest.mark.parametrize("status", [429, 500])
async def test_spent_budget_returns_the_last_error_response(
    status: int, sleeps: list[float]
) -> None:
    """After ``retries`` extra tries the last 429/5xx is handed on, readable, for the SDK."""
    inner = _Steps([Fault(status)] * 3 + [ANSWER])
    transport = _retrying(inner, retries=2)
    response = await _post(transport)
    assert response.status_code == status
    assert response.json()["error"]["message"] == "scripted fault"
    assert inner.calls == 3
    assert transport.faults == {str(status): 3}
    assert len(sleeps) == 2


@pytest.mark.parametrize(
    ("make", "kind"),
    [(_read_timeout, httpx2.ReadTimeout), (_connect_error, httpx2.ConnectError)],
)
async def test_spent_budget_reraises_the_network_fault(
    make: Callable[[], Exception], kind: type[Exception], sleeps: list[float]
) -> None:
    """When the network stops answering, its own exception comes back after the last try,
    saying how many tries it took."""
    inner = _Steps([ANSWER] + [make() for _ in range(3)] + [ANSWER])
    transport = _retrying(inner, retries=2)
    assert (await _post(transport)).status_code == 200  # the server was there once
    with pytest.raises(kind, match="scripted") as caught:
        await transport.handle_async_request(httpx2.Request("POST", URL, json=BODY))
    assert inner.calls == 4
    assert transport.faults == {kind.__name__: 3}
    assert tries(caught.value) == 3
    assert after_tries(caught.value) == " after 3 tries"


async def test_refused_first_connection_is_not_retried(sleeps: list[float]) -> None:
    """A server refusing the very first request is not there: no backoff, one try."""
    inner = _Steps([_connect_error(), ANSWER])
    transport = _retrying(inner, retries=4)
    with pytest.raises(httpx2.ConnectError) as caught:
        await transport.handle_async_request(httpx2.Request("POST", URL, json=BODY))
    assert inner.calls == 1
    assert sleeps == []
    assert after_tries(caught.value) == ""


async def test_refusal_after_the_server_answered_is_retried(sleeps: list[float]) -> None:
    """Once the server has answered (or been connected to), a refusal is a restart: retried."""
    inner = _Steps([Fault(400), _connect_error(), ANSWER])
    transport = _retrying(inner, retries=4)
    assert (await _post(transport)).status_code == 400
    assert (await _post(transport)).status_code == 200
    assert inner.calls == 3
    assert len(sleeps) == 1


@pytest.mark.parametrize(("retries", "said"), [(0, ""), (2, " after 3 tries")])
async def test_last_error_response_says_how_many_tries(
    retries: int, said: str, sleeps: list[float]
) -> None:
    """A 503 handed on after retries says how many; one sent only once says nothing."""
    transport = _retrying(_Steps([Fault(503)] * 3), retries=retries)
    assert after_tries(await _post(transport)) == said


async def test_no_retries_means_one_try(sleeps: list[float]) -> None:
    """With ``retries=0`` a 503 is returned from the only try, without waiting."""
    inner = _Steps([Fault(503), ANSWER])
    response = await _post(_retrying(inner, retries=0))
    assert response.status_code == 503
    assert inner.calls == 1
    assert sleeps == []


async def test_faults_accumulate_across_requests(sleeps: list[float]) -> None:
    """``faults`` counts every fault of the transport's life, for the run's report."""
    inner = _Steps([Fault(429), ANSWER, _read_timeout(), Fault(429), ANSWER])
    transport = _retrying(inner)
    assert (await _post(transport)).status_code == 200
    assert (await _post(transport)).status_code == 200
    assert transport.faults == {"429": 2, "ReadTimeout": 1}


# --------------------------------------------------------------------------- the waits


async def test_retry_after_seconds_is_the_wait(sleeps: list[float]) -> None:
    """A 429 asking for 7 seconds is retried after 7 seconds, not a guess."""
    inner = _Steps([Fault(429, {"Retry-After": "7"}), ANSWER])
    await _post(_retrying(inner))
    assert sleeps == [7.0]


async def test_retry_after_on_a_503_is_honoured(sleeps: list[float]) -> None:
    """Retry-After is obeyed on a 5xx as well (servers send it while restarting)."""
    inner = _Steps([Fault(503, {"Retry-After": "2"}), ANSWER])
    await _post(_retrying(inner))
    assert sleeps == [2.0]


async def test_retry_after_is_capped_at_max_backoff(sleeps: list[float]) -> None:
    """A server asking for an hour is not waited for an hour."""
    inner = _Steps([Fault(429, {"Retry-After": "3600"}), ANSWER])
    await _post(_retrying(inner, max_backoff=5.0))
    assert sleeps == [5.0]


async def test_retry_after_ms_is_the_wait_and_is_capped(sleeps: list[float]) -> None:
    """``retry-after-ms`` is read in milliseconds and capped like Retry-After."""
    inner = _Steps(
        [Fault(429, {"retry-after-ms": "250"}), Fault(429, {"retry-after-ms": "90000"}), ANSWER]
    )
    await _post(_retrying(inner, max_backoff=5.0))
    assert sleeps == [0.25, 5.0]


async def test_retry_after_http_date_is_the_wait(sleeps: list[float]) -> None:
    """An HTTP-date Retry-After waits until that moment, capped at max_backoff."""
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    inner = _Steps(
        [
            Fault(429, {"Retry-After": email.utils.format_datetime(soon, usegmt=True)}),
            Fault(429, {"Retry-After": email.utils.format_datetime(later, usegmt=True)}),
            ANSWER,
        ]
    )
    await _post(_retrying(inner, max_backoff=45.0))
    assert len(sleeps) == 2
    assert 27.0 < sleeps[0] <= 30.0
    assert sleeps[1] == 45.0


async def test_without_retry_after_waits_grow_and_stay_capped(sleeps: list[float]) -> None:
    """With no hint from the server, waits grow exponentially (with jitter) up to the cap."""
    inner = _Steps([Fault(500), Fault(500), Fault(500), Fault(500), ANSWER])
    await _post(_retrying(inner, retries=4, initial_backoff=1.0, max_backoff=3.0))
    assert len(sleeps) == 4
    assert 1.0 <= sleeps[0] <= 2.0
    assert 2.0 <= sleeps[1] <= 3.0
    assert sleeps[2:] == [3.0, 3.0]


async def test_network_faults_wait_with_backoff(sleeps: list[float]) -> None:
    """A timeout has no Retry-After, so it waits the exponential backoff."""
    inner = _Steps([_read_timeout(), ANSWER])
    await _post(_retrying(inner, initial_backoff=0.5, max_backoff=10.0))
    assert len(sleeps) == 1
    assert 0.5 <= sleeps[0] <= 1.5


async def test_real_waits_are_short_with_small_backoff() -> None:
    """Unpatched, a small max_backoff really bounds the time spent waiting."""
    inner = _Steps([Fault(429, {"Retry-After": "30"}), Fault(503), ANSWER])
    loop = asyncio.get_running_loop()
    started = loop.time()
    response = await _post(_retrying(inner, max_backoff=0.01, initial_backoff=0.01))
    assert response.status_code == 200
    assert loop.time() - started < 0.5


# --------------------------------------------------------------------------- retry_after_seconds


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"Retry-After": "5"}, 5.0),
        ({"Retry-After": "1.5"}, 1.5),
        ({"Retry-After": "0"}, 0.0),
        ({"Retry-After": "-3"}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "1500", "Retry-After": "9"}, 1.5),
        ({"retry-after-ms": "junk", "Retry-After": "9"}, 9.0),
        ({"Retry-After": "Mon, 01 Sep 2025 12:00:42 GMT"}, 42.0),
        ({"Retry-After": "Mon, 01 Sep 2025 11:59:00 GMT"}, 0.0),
    ],
)
def test_retry_after_seconds(headers: dict[str, str], expected: float | None) -> None:
    """Seconds, milliseconds (preferred) and HTTP-dates are read; nonsense is no hint at all."""
    assert retry_after_seconds(httpx2.Headers(headers), now=NOW) == expected
