"""The fake model server (OpenAI's API and Anthropic's), driven through the real pipeline."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import httpx2
import pytest

from extractor import ResponseError, Settings, TransportError, aextract, extract, read_document
from extractor.model.ratelimit import parse_reset
from extractor.read.document import Document
from extractor.schemas import DraftExtraction, Extraction
from extractor.testing.fakeserver import (
    UNGROUNDED_QUOTE,
    FakeServer,
    FakeServerConfig,
    run_in_thread,
    synthesise_arguments,
)

from .conftest import CASSETTES, SEED


def _settings(server_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "base_url": server_url,
        "api_key": "sk-test",
        "transport_retries": 0,
        "reasks": 0,
        "cache": False,
        "max_backoff": 0.01,
    }
    values.update(overrides)
    return Settings(**values)


def _seed() -> Document:
    return read_document(SEED, max_bytes=10_000_000)


def _assert_grounded(result: Extraction, text: str) -> None:
    evidence = [e for m in result.meetings for e in m.evidence]
    evidence += [e for p in result.participants for e in p.mentions]
    evidence += [e for c in result.status_claims for e in c.evidence]
    assert evidence
    for item in evidence:
        assert text[item.start : item.end] == item.quote


def _seed_faulting_first_only(rate: float, faults: tuple[str, ...]) -> int:
    """A seed whose first request draws a fault and whose second does not."""
    for seed in range(1000):
        rng = random.Random(seed)
        if rng.random() < rate:
            rng.choice(faults)
            if rng.random() >= rate:
                return seed
    raise AssertionError("no such seed")


async def test_synthesised_answer_is_grounded_through_the_pipeline() -> None:
    """A synthesised answer passes the real pipeline as one grounded meeting of two participants."""
    document = _seed()
    async with FakeServer() as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        result = await aextract(document, settings=_settings(server.base_url))
    assert len(result.meetings) == 1
    assert len(result.participants) == 2
    _assert_grounded(result, document.text)
    assert result.run.usage.prompt_tokens > 1000  # about a quarter of the request's bytes
    assert server.stats["synthesised"] == 1
    assert server.stats["answered_200"] == 1


def test_an_article_without_two_capitalised_words_gets_empty_lists() -> None:
    """Fewer than two distinct capitalised words make an answer with no records."""
    assert synthesise_arguments("nothing here but Lowercase words.") == {
        "meetings": [],
        "status_claims": [],
    }
    answer = synthesise_arguments("Alpha met Beta today.")
    assert [[s["name"] for s in m["sides"]] for m in answer["meetings"]] == [["Alpha", "Beta"]]
    assert DraftExtraction.model_validate(answer).meetings[0].quotes == ["Alpha met Beta today."]
    ungrounded = synthesise_arguments("Alpha met Beta today.", ungrounded=True)
    assert ungrounded["meetings"][0]["quotes"] == [UNGROUNDED_QUOTE]
    # Without two names, the ungrounded answer is still something to re-ask about.
    (claim,) = synthesise_arguments("nothing here.", ungrounded=True)["status_claims"]
    assert DraftExtraction.model_validate({"status_claims": [claim]}).status_claims[0].quotes == [
        UNGROUNDED_QUOTE
    ]


async def test_rpm_limit_answers_429_with_retry_after_and_rate_headers() -> None:
    """Past the limit within a minute the server answers 429 with Retry-After and x-ratelimit-*."""
    payload = {
        "model": "m",
        "messages": [{"role": "user", "content": "<article>\nA B\n</article>"}],
    }
    async with (
        FakeServer(FakeServerConfig(rpm=2)) as server,
        httpx2.AsyncClient(base_url=server.base_url) as client,
    ):
        answers = [await client.post("/chat/completions", json=payload) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].headers["x-ratelimit-limit-requests"] == "2"
    assert answers[0].headers["x-ratelimit-remaining-requests"] == "1"
    assert answers[1].headers["x-ratelimit-remaining-requests"] == "0"
    throttled = answers[2]
    assert 55 <= int(throttled.headers["retry-after"]) <= 60
    assert throttled.headers["x-ratelimit-remaining-requests"] == "0"
    assert server.stats["answered_429"] == 1
    assert server.stats["answered_200"] == 2


async def test_a_500_fault_is_a_transport_error_without_retries() -> None:
    """An injected 500 surfaces as TransportError when no transport retry is allowed."""
    config = FakeServerConfig(fault_rate=1.0, faults=("500",))
    async with FakeServer(config) as server:
        with pytest.raises(TransportError, match="HTTP 500"):
            await aextract(_seed(), settings=_settings(server.base_url))
    assert server.stats["faults"]["500"] == 1
    assert server.stats["answered_500"] == 1


async def test_a_hang_outlasts_the_client_timeout() -> None:
    """A hang makes the client time out; the server notices the client left."""
    config = FakeServerConfig(fault_rate=1.0, faults=("hang",), hang_seconds=10.0)
    async with FakeServer(config) as server:
        with pytest.raises(TransportError, match="timed out"):
            await aextract(_seed(), settings=_settings(server.base_url, timeout=0.2))
        for _ in range(50):
            if server.stats["hangs_abandoned"]:
                break
            await asyncio.sleep(0.01)
    assert server.stats["faults"]["hang"] == 1
    assert server.stats["hangs_abandoned"] == 1


@pytest.mark.parametrize("mode", ["tools", "json_schema"])
@pytest.mark.parametrize("kind", ["malformed", "ungrounded"])
async def test_malformed_and_ungrounded_answers_are_re_asked(kind: str, mode: str) -> None:
    """A malformed or ungrounded first answer is re-asked, and the second answer is kept."""
    seed = _seed_faulting_first_only(0.5, (kind,))
    config = FakeServerConfig(fault_rate=0.5, faults=(kind,), seed=seed)
    document = _seed()
    async with FakeServer(config) as server:
        settings = _settings(server.base_url, reasks=1, output_mode=mode)
        result = await aextract(document, settings=settings)
    assert server.stats["requests"] == 2
    assert server.stats["faults"][kind] == 1
    assert result.run.attempts == 2
    assert len(result.meetings) == 1
    _assert_grounded(result, document.text)


async def test_ungrounded_answers_past_the_budget_leave_no_record() -> None:
    """When every answer is ungrounded, the re-asks are spent and the record is dropped."""
    config = FakeServerConfig(fault_rate=1.0, faults=("ungrounded",))
    async with FakeServer(config) as server:
        result = await aextract(_seed(), settings=_settings(server.base_url, reasks=1))
    assert server.stats["requests"] == 2
    assert result.meetings == []
    assert result.warnings


@pytest.mark.parametrize("mode", ["tools", "json_schema"])
async def test_a_malformed_answer_past_the_budget_with_nothing_whole_is_a_response_error(
    mode: str,
) -> None:
    """Malformed JSON with no re-ask left, and no complete record in it, is a ResponseError
    (an error record), not a crash and not an empty extraction."""
    config = FakeServerConfig(fault_rate=1.0, faults=("malformed",))
    async with FakeServer(config) as server:
        with pytest.raises(ResponseError, match="no usable answer after 1 attempts"):
            await aextract(_seed(), settings=_settings(server.base_url, output_mode=mode))


@pytest.mark.parametrize("mode", ["tools", "json_schema"])
async def test_a_length_truncation_is_asked_again_shorter_once_then_reported(mode: str) -> None:
    """finish_reason=length is re-asked once with halved list bounds; cut off again with no
    complete record, it is reported with what to change."""
    config = FakeServerConfig(fault_rate=1.0, faults=("length",))
    async with FakeServer(config) as server:
        settings = _settings(server.base_url, reasks=2, output_mode=mode)
        with pytest.raises(ResponseError, match=r"cut off at its token limit.*--max-tokens"):
            await aextract(_seed(), settings=settings)
    assert server.stats["requests"] == 2


async def test_recorded_exchanges_are_served_when_they_match() -> None:
    """With the fixtures as cassette_dir, the seed is answered from them, re-ask included."""
    document = _seed()
    async with FakeServer(FakeServerConfig(cassette_dir=CASSETTES)) as server:
        settings = _settings(server.base_url, model="gpt-4o-mini", reasks=2, output_mode="tools")
        result = await aextract(document, settings=settings)
    assert server.stats["from_cassette"] == 2  # the misquoting answer and the corrected one
    assert server.stats["synthesised"] == 0
    assert len(result.meetings) == 3
    _assert_grounded(result, document.text)


def test_run_in_thread_serves_sync_callers(tmp_path: Path) -> None:
    """``run_in_thread`` gives a base URL, a stop function and the live counters."""
    base_url, stop, stats = run_in_thread(FakeServerConfig(latency=0.01))
    try:
        result = extract(
            "BEIJING, July 14 (Xinhua) -- Alice met Bob.", settings=_settings(base_url)
        )
    finally:
        stop()
    assert [e.quote for m in result.meetings for e in m.evidence] == [
        "BEIJING, July 14 (Xinhua) -- Alice met Bob."
    ]
    assert stats["answered_200"] == 1


def test_config_rejects_unknown_fault_kinds() -> None:
    """A misspelt fault kind is an error at once, not a silently fault-free run."""
    with pytest.raises(ValueError, match="unknown fault"):
        FakeServerConfig(faults=("404",))


# --------------------------------------------------------------------------- Anthropic's API


def _anthropic(server_url: str, **overrides: Any) -> Settings:
    """Settings for the fake server's ``/v1/messages``, as Anthropic's provider sends them."""
    return _settings(server_url, provider="anthropic", model="claude-haiku-4-5", **overrides)


async def test_messages_synthesised_answer_is_grounded_through_the_pipeline() -> None:
    """``POST /v1/messages`` answers with a tool_use block the pipeline grounds."""
    document = _seed()
    async with FakeServer() as server:
        result = await aextract(document, settings=_anthropic(server.base_url))
    assert len(result.meetings) == 1
    assert len(result.participants) == 2
    _assert_grounded(result, document.text)
    assert result.run.usage.prompt_tokens > 1000
    assert server.stats["synthesised"] == 1 and server.stats["answered_200"] == 1


async def test_messages_rpm_limit_answers_429_with_anthropics_headers() -> None:
    """Past the limit, /v1/messages answers 429 in Anthropic's error shape, with Retry-After and
    anthropic-ratelimit-requests-* headers whose reset is an RFC 3339 moment."""
    payload = {
        "model": "m",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "<article>\nA B\n</article>"}],
    }
    async with (
        FakeServer(FakeServerConfig(rpm=2)) as server,
        httpx2.AsyncClient(base_url=server.base_url) as client,
    ):
        answers = [await client.post("/messages", json=payload) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].headers["anthropic-ratelimit-requests-limit"] == "2"
    assert answers[0].headers["anthropic-ratelimit-requests-remaining"] == "1"
    assert "x-ratelimit-limit-requests" not in answers[0].headers
    throttled = answers[2]
    assert throttled.headers["anthropic-ratelimit-requests-remaining"] == "0"
    assert 55 <= int(throttled.headers["retry-after"]) <= 60
    reset = parse_reset(throttled.headers["anthropic-ratelimit-requests-reset"])
    assert reset is not None and 55 <= reset <= 61
    assert throttled.json()["type"] == "error"
    assert throttled.json()["error"]["type"] == "rate_limit_error"
    assert answers[0].json()["content"][0]["type"] == "tool_use"


async def test_messages_500_fault_is_a_transport_error_with_anthropics_message() -> None:
    """An injected 500 on /v1/messages comes in Anthropic's error shape and is reported."""
    config = FakeServerConfig(fault_rate=1.0, faults=("500",))
    async with FakeServer(config) as server:
        with pytest.raises(TransportError, match=r"HTTP 500: injected fault"):
            await aextract(_seed(), settings=_anthropic(server.base_url))
    assert server.stats["answered_500"] == 1


async def test_messages_hang_outlasts_the_client_timeout() -> None:
    """A hang on /v1/messages makes the client time out; the server sees it leave."""
    config = FakeServerConfig(fault_rate=1.0, faults=("hang",), hang_seconds=10.0)
    async with FakeServer(config) as server:
        with pytest.raises(TransportError, match="timed out"):
            await aextract(_seed(), settings=_anthropic(server.base_url, timeout=0.2))
        for _ in range(50):
            if server.stats["hangs_abandoned"]:
                break
            await asyncio.sleep(0.01)
    assert server.stats["hangs_abandoned"] == 1


@pytest.mark.parametrize("kind", ["malformed", "ungrounded"])
async def test_messages_malformed_and_ungrounded_answers_are_re_asked(kind: str) -> None:
    """A tool input outside the schema, or with a quote not in the article, is re-asked through
    a tool_result, and the second answer is kept."""
    seed = _seed_faulting_first_only(0.5, (kind,))
    config = FakeServerConfig(fault_rate=0.5, faults=(kind,), seed=seed)
    document = _seed()
    async with FakeServer(config) as server:
        result = await aextract(document, settings=_anthropic(server.base_url, reasks=1))
    assert server.stats["requests"] == 2
    assert server.stats["faults"][kind] == 1
    assert result.run.attempts == 2
    assert len(result.meetings) == 1
    _assert_grounded(result, document.text)


async def test_messages_malformed_answer_past_the_budget_is_a_response_error() -> None:
    """A tool input outside the schema with no re-ask left, and nothing whole in it, is a
    ResponseError."""
    config = FakeServerConfig(fault_rate=1.0, faults=("malformed",))
    async with FakeServer(config) as server:
        with pytest.raises(ResponseError, match="no usable answer after 1 attempts"):
            await aextract(_seed(), settings=_anthropic(server.base_url))


async def test_messages_max_tokens_is_asked_again_shorter_once_then_reported() -> None:
    """The length fault stops with stop_reason max_tokens: asked again once with halved bounds,
    then reported with what to change."""
    config = FakeServerConfig(fault_rate=1.0, faults=("length",))
    async with FakeServer(config) as server:
        settings = _anthropic(server.base_url, reasks=2)
        with pytest.raises(ResponseError, match=r"cut off at its token limit.*--max-tokens"):
            await aextract(_seed(), settings=settings)
    assert server.stats["requests"] == 2


async def test_messages_recorded_exchanges_are_served_when_they_match() -> None:
    """With the fixtures as cassette_dir, the authored Anthropic seed exchanges answer the seed
    on /v1/messages, re-ask included."""
    document = _seed()
    async with FakeServer(FakeServerConfig(cassette_dir=CASSETTES)) as server:
        result = await aextract(document, settings=_anthropic(server.base_url, reasks=2))
    assert server.stats["from_cassette"] == 2
    assert server.stats["synthesised"] == 0
    assert len(result.meetings) == 3 and len(result.status_claims) == 4
    _assert_grounded(result, document.text)
