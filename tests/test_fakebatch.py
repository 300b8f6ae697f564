"""The fake batch server itself: its answers, its timing, its draws, its checks and its counters."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pydantic_core
import pytest

from extractor.model.batch_api import BatchRequest, BatchResult, batch_api, wait_until_finished
from extractor.settings import Settings
from extractor.testing.fakebatch import FakeBatchConfig, FakeBatchServer, main, run_in_thread
from extractor.testing.fakeserver import FakeServer
from extractor.testing.scripted import FAKE_KEY

from .test_batch_api import _requests


def _settings(provider: str, base_url: str) -> Settings:
    return Settings(provider=provider, base_url=base_url, api_key=FAKE_KEY, transport_retries=0)


async def _batch(
    server: FakeBatchServer, provider: str, requests: list[BatchRequest]
) -> list[BatchResult]:
    async with batch_api(_settings(provider, server.base_url)) as api:
        handle = await api.submit(requests)
        await wait_until_finished(api, handle, interval=0.005)
        return [r async for r in api.results(handle, expected=[q.custom_id for q in requests])]


@pytest.mark.parametrize(
    ("provider", "path"), [("openai", "/chat/completions"), ("anthropic", "/messages")]
)
async def test_a_batch_answer_is_the_live_fake_servers_answer(provider: str, path: str) -> None:
    """The same request gets the same answer in a batch as live, so records can be compared."""
    requests = await _requests(provider, 3)
    async with FakeBatchServer() as batch_server:
        results = await _batch(batch_server, provider, requests)
    live: list[dict[str, Any]] = []
    async with FakeServer() as server, aiohttp.ClientSession() as session:
        for request in requests:
            body = pydantic_core.to_json(request.body)  # the live path's bytes
            async with session.post(server.base_url + path, data=body) as answer:
                live.append(await answer.json())
    by_id = {r.custom_id: r.body for r in results}
    assert [by_id[r.custom_id] for r in requests] == live


async def test_a_batch_ends_after_its_delay_and_its_polls() -> None:
    requests = await _requests("anthropic", 1)
    config = FakeBatchConfig(delay=0.05, polls=2)
    async with FakeBatchServer(config) as server:
        async with batch_api(_settings("anthropic", server.base_url)) as api:
            handle = await api.submit(requests)
            states = [(await api.poll(handle)).state for _ in range(3)]
            assert states == ["in_progress"] * 3  # three polls, but the delay has not passed
            await asyncio.sleep(0.06)
            assert (await api.poll(handle)).state == "ended"
        assert server.stats["polls"] == 4


async def test_the_draws_are_seeded_per_batch_and_line() -> None:
    """The same seed gives the same failures; a resubmission (another batch) is drawn afresh."""
    requests = await _requests("openai", 40)
    config = FakeBatchConfig(fail_rate=0.5, seed=7)

    async def failed_ids() -> tuple[set[str], set[str]]:
        async with FakeBatchServer(config) as server:
            first = await _batch(server, "openai", requests)
            second = await _batch(server, "openai", requests)
        return (
            {r.custom_id for r in first if r.outcome == "failed"},
            {r.custom_id for r in second if r.outcome == "failed"},
        )

    one, resubmitted = await failed_ids()
    again, _ = await failed_ids()
    assert one == again and one != resubmitted and one and resubmitted


async def test_ungrounded_answers_quote_what_the_article_does_not_hold() -> None:
    requests = await _requests("anthropic", 20)
    async with FakeBatchServer(FakeBatchConfig(ungrounded_rate=0.5)) as server:
        results = await _batch(server, "anthropic", requests)
    quotes = [json.dumps(r.body) for r in results]
    ungrounded = sum("This sentence is not in the article." in q for q in quotes)
    assert ungrounded == server.stats["lines_ungrounded"] > 0


async def test_an_openai_input_file_is_checked_as_openai_checks_it() -> None:
    """Bad lines fail the whole batch, each error naming its line."""
    lines = [
        {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m"}},
        {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m"}},
        {"custom_id": "b", "method": "POST", "url": "/v1/embeddings", "body": {"model": "m"}},
    ]
    content = ("\n".join(json.dumps(line) for line in lines) + "\nnot json\n").encode()
    async with FakeBatchServer() as server, aiohttp.ClientSession() as session:
        form = aiohttp.FormData()
        form.add_field("purpose", "batch")
        form.add_field("file", content, filename="in.jsonl")
        async with session.post(server.base_url + "/files", data=form) as answer:
            file_id = (await answer.json())["id"]
        async with session.get(f"{server.base_url}/files/{file_id}/content") as answer:
            assert await answer.read() == content
        body = {
            "input_file_id": file_id,
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
        }
        async with session.post(server.base_url + "/batches", json=body) as answer:
            batch = await answer.json()
    assert batch["status"] == "failed"
    codes = [(e["code"], e["line"]) for e in batch["errors"]["data"]]
    assert codes == [("duplicate_custom_id", 2), ("invalid_url", 3), ("invalid_json_line", 4)]
    assert server.stats["files_uploaded"] == 1 and server.stats["batches_failed"] == 1


async def test_anthropic_requests_are_checked_and_need_the_version_header() -> None:
    async with FakeBatchServer() as server, aiohttp.ClientSession() as session:
        url = server.base_url + "/messages/batches"
        body = {"requests": [{"custom_id": "a/b", "params": {}}]}
        async with session.post(
            url, json=body, headers={"anthropic-version": "2023-06-01"}
        ) as answer:
            assert answer.status == 400
            assert "custom_id" in (await answer.json())["error"]["message"]
        async with session.post(url, json=body) as answer:
            assert answer.status == 400
            assert "anthropic-version" in (await answer.json())["error"]["message"]


async def test_a_wrong_key_is_refused_and_quoted_back() -> None:
    """The server repeats the key it was sent, as gateways do: the clients' tests rely on it."""
    config = FakeBatchConfig(api_key="sk-right-0123456789")
    async with FakeBatchServer(config) as server, aiohttp.ClientSession() as session:
        headers = {"Authorization": "Bearer sk-wrong-0123456789"}
        async with session.get(server.base_url + "/batches/x", headers=headers) as answer:
            assert answer.status == 401
            assert "sk-wrong-0123456789" in (await answer.json())["error"]["message"]
        async with session.get(f"http://127.0.0.1:{server.port}/stats") as answer:
            assert (await answer.json())["answered_401"] == 1


def test_run_in_thread_serves_sync_callers() -> None:
    base_url, stop, stats = run_in_thread(FakeBatchConfig(fail_rate=0.5))
    try:

        async def one() -> list[BatchResult]:
            requests = [BatchRequest(f"r{i}", {"model": "m", "messages": []}) for i in range(10)]
            async with batch_api(_settings("openai", base_url)) as api:
                handle = await api.submit(requests)
                await wait_until_finished(api, handle, interval=0.005)
                return [r async for r in api.results(handle)]

        results = asyncio.run(one())
    finally:
        stop()
    assert len(results) == 10
    assert stats["lines_failed"] + stats["lines_answered"] == 10


def test_a_config_that_cannot_be_is_refused() -> None:
    with pytest.raises(ValueError, match="add up"):
        FakeBatchConfig(fail_rate=0.6, expired_share=0.6)
    with pytest.raises(ValueError, match="within"):
        FakeBatchConfig(fail_rate=1.5)
    assert main(["--fail-rate", "2"]) == 2
