"""Client-side pacing and what is learned from the provider's answers."""

from __future__ import annotations

import datetime as dt
import itertools

import httpx2
import pytest

from extractor.model.providers import OpenAIChat
from extractor.model.ratelimit import RateLimiter, parse_reset

OPENAI = OpenAIChat.rate_limit_headers


class Clock:
    """A clock the test moves by hand, and a sleep that moves it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()

    async def fake_sleep(seconds: float) -> None:
        c.now += seconds

    monkeypatch.setattr("extractor.model.ratelimit.asyncio.sleep", fake_sleep)
    return c


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("1s", 1.0),
        ("6m0s", 360.0),
        ("120ms", 0.12),
        ("0.5", 0.5),
        ("1h2m3s", 3723.0),
        ("", None),
        ("soon", None),
    ],
)
def test_reset_durations_parse(value: str, seconds: float | None) -> None:
    """OpenAI-style reset headers become seconds."""
    assert parse_reset(value) == seconds


NOW = dt.datetime(2025, 9, 1, 12, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("2025-09-01T12:00:42Z", 42.0),
        ("2025-09-01T12:00:42.500Z", 42.5),
        ("2025-09-01T12:01:00+00:00", 60.0),
        ("2025-09-01T14:01:00+02:00", 60.0),
        ("2025-09-01T12:00:10", 10.0),
        ("2025-09-01T11:59:00Z", 0.0),
        ("2025-13-01T00:00:00Z", None),
    ],
)
def test_reset_timestamps_parse_as_seconds_from_now(value: str, seconds: float | None) -> None:
    """Anthropic-style RFC 3339 resets become seconds from now: never negative, naive is UTC,
    an impossible date is no hint at all."""
    assert parse_reset(value, now=NOW) == seconds


async def test_exhausted_quota_waits_until_a_timestamp_reset(clock: Clock) -> None:
    """remaining 0 with a reset timestamp pauses until that moment (by the wall clock)."""
    limiter = RateLimiter(clock=clock, headers=OPENAI)
    reset = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=20)).isoformat()
    headers = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": reset}
    limiter.observe(httpx2.Response(200, headers=headers))
    await limiter.acquire()
    assert 19.0 <= clock.now <= 20.0


async def test_requests_are_spaced_not_burst(clock: Clock) -> None:
    """At 60 rpm, ten requests take about nine seconds, evenly spaced."""
    limiter = RateLimiter(rpm=60, clock=clock, safety=1.0)
    starts = []
    for _ in range(10):
        await limiter.acquire()
        starts.append(clock.now)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(g == pytest.approx(1.0) for g in gaps)


async def test_a_429_pauses_for_retry_after_and_slows_down(clock: Clock) -> None:
    """After a 429 with Retry-After: 5, the next request waits 5 s and the pace slows."""
    limiter = RateLimiter(rpm=60, clock=clock, safety=1.0)
    await limiter.acquire()
    before = limiter.interval
    limiter.observe(httpx2.Response(429, headers={"retry-after": "5"}))
    await limiter.acquire()
    assert clock.now >= 5.0
    assert limiter.interval > before and limiter.throttled == 1


async def test_limit_is_learned_from_headers(clock: Clock) -> None:
    """Without --rpm, the provider's x-ratelimit-limit-requests sets the pace."""
    limiter = RateLimiter(clock=clock, safety=1.0, headers=OPENAI)
    limiter.observe(httpx2.Response(200, headers={"x-ratelimit-limit-requests": "120"}))
    assert limiter.interval == pytest.approx(0.5)


async def test_exhausted_quota_waits_for_the_reset(clock: Clock) -> None:
    """remaining-requests 0 pauses until the reset the provider gives."""
    limiter = RateLimiter(clock=clock, headers=OPENAI)
    headers = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "2s"}
    limiter.observe(httpx2.Response(200, headers=headers))
    await limiter.acquire()
    assert clock.now == pytest.approx(2.0)


async def test_token_budget_paces_big_requests(clock: Clock) -> None:
    """At 6,000 tokens a minute, a third 3,000-token request waits 30 s for the refill."""
    limiter = RateLimiter(tpm=6000, clock=clock)
    for _ in range(3):
        await limiter.acquire(3000)
    assert clock.now == pytest.approx(30.0)


async def test_no_limits_means_no_waiting(clock: Clock) -> None:
    """With no limit set or learned, acquire returns at once."""
    limiter = RateLimiter(clock=clock, headers=OPENAI)
    for _ in range(100):
        await limiter.acquire(10_000)
    assert clock.now == 0.0


async def test_pause_is_capped_and_zero_means_zero(clock: Clock) -> None:
    """Retry-After: 0 does not wait; an hour-long Retry-After waits only max_pause."""
    limiter = RateLimiter(clock=clock, max_pause=2.0, headers=OPENAI)
    limiter.observe(httpx2.Response(429, headers={"retry-after": "0"}))
    await limiter.acquire()
    assert clock.now == 0.0
    limiter.observe(httpx2.Response(429, headers={"retry-after": "3600"}))
    await limiter.acquire()
    assert clock.now == pytest.approx(2.0)


def test_a_provider_that_names_no_limit_headers_is_paced_only_by_retry_after(
    clock: Clock,
) -> None:
    """Without header names the limiter learns nothing from OpenAI-style headers."""
    limiter = RateLimiter(clock=clock, safety=1.0)
    limiter.observe(httpx2.Response(200, headers={"x-ratelimit-limit-requests": "120"}))
    assert limiter.target_rpm is None


async def test_a_workers_share_paces_at_its_part_of_every_limit(clock: Clock) -> None:
    """With half the limits (two workers), 60 rpm spaces one worker's requests 2 s apart,
    a learned limit is halved too, and a token budget refills at half the rate."""
    limiter = RateLimiter(rpm=60, clock=clock, safety=1.0, share=0.5)
    assert limiter.interval == pytest.approx(2.0)
    learned = RateLimiter(clock=clock, safety=1.0, headers=OPENAI, share=0.5)
    learned.observe(httpx2.Response(200, headers={"x-ratelimit-limit-requests": "120"}))
    assert learned.interval == pytest.approx(1.0)
    tokens = RateLimiter(tpm=6000, clock=clock, share=0.5)
    for _ in range(2):
        await tokens.acquire(3000)
    assert clock.now == pytest.approx(60.0)  # 3,000 at once, 3,000 more a minute later
