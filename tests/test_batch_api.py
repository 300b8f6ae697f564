"""The batch clients against the fake batch server: submit, poll, stream results, cancel, split."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from anthropic.types import Message
from openai.types.chat import ChatCompletion

from extractor import ConfigurationError, ResponseError, TransportError
from extractor.model.batch_api import (
    ANTHROPIC_LIMITS,
    LIMITS,
    OPENAI_LIMITS,
    AnthropicBatches,
    BatchAPI,
    BatchHandle,
    BatchLimits,
    BatchNotEnded,
    BatchRequest,
    BatchResult,
    OpenAIBatches,
    RequestTooLarge,
    batch_api,
    openai_batches,
    split,
    split_for,
    wait_until_finished,
)
from extractor.model.network import NetworkTransport
from extractor.model.prompting import load_prompt
from extractor.model.providers import PROVIDERS
from extractor.read.document import document_from_text
from extractor.settings import Settings
from extractor.testing.fakebatch import FakeBatchConfig, FakeBatchServer

KEY = "sk-test-batch-KEY-must-never-be-shown-0123456789"
PROVIDER_NAMES = ("openai", "anthropic")


def _settings(provider: str, base_url: str, key: str = KEY, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "provider": provider,
        "base_url": base_url,
        "api_key": key,
        "transport_retries": 0,
        "max_backoff": 0.01,
    }
    values.update(overrides)
    return Settings(**values)


def _article(i: int) -> str:
    return (
        f"President Alvarez met Chancellor Brandt in Lisbon on Monday, visit {i}. "
        "They spoke about trade and the harbour."
    )


async def _requests(provider: str, n: int, **overrides: Any) -> list[BatchRequest]:
    """``n`` requests exactly as the live path builds them, one article each."""
    settings = _settings(provider, "http://127.0.0.1:9/v1", **overrides)
    live = PROVIDERS[provider](settings, NetworkTransport())
    prompt = load_prompt()
    try:
        return [
            BatchRequest(
                f"doc-{i:04d}",
                live.request(
                    prompt.messages(document_from_text(_article(i), f"d{i}"), mode="tools"),
                    max_tokens=800,
                ),
            )
            for i in range(n)
        ]
    finally:
        await live.aclose()


def _client(provider: str, server: FakeBatchServer, **overrides: Any) -> BatchAPI:
    return batch_api(_settings(provider, server.base_url, **overrides))


async def _collect(api: BatchAPI, handle: BatchHandle, **kwargs: Any) -> list[BatchResult]:
    return [result async for result in api.results(handle, **kwargs)]


async def _run(
    provider: str, config: FakeBatchConfig, n: int = 20
) -> tuple[FakeBatchServer, list[BatchRequest], list[BatchResult], Any]:
    """Submit ``n`` requests, wait for the batch, read every result (the missing too)."""
    requests = await _requests(provider, n)
    async with FakeBatchServer(config) as server, _client(provider, server) as api:
        handle = await api.submit(requests)
        progress = await wait_until_finished(api, handle, interval=0.01)
        results = await _collect(api, handle, expected=[r.custom_id for r in requests])
    return server, requests, results, progress


# --------------------------------------------------------------------------- the happy path


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
async def test_submit_poll_and_stream_every_answer(provider: str) -> None:
    """A batch is pending until its delay passes, then every answer reads as the live path's."""
    requests = await _requests(provider, 150)  # the results span several 64 KB chunks
    settings = _settings(provider, "http://127.0.0.1:9/v1")
    live = PROVIDERS[provider](settings, NetworkTransport())
    async with (
        FakeBatchServer(FakeBatchConfig(delay=0.05)) as server,
        _client(provider, server) as api,
    ):
        handle = await api.submit(requests)
        assert handle.provider == provider and handle.requests == 150
        assert BatchHandle.from_dict(handle.to_dict()) == handle
        first = await api.poll(handle)
        assert not first.finished and first.processing == 150
        with pytest.raises(BatchNotEnded):
            await _collect(api, handle)
        seen: list[Any] = []
        progress = await wait_until_finished(api, handle, interval=0.01, on_progress=seen.append)
        results = await _collect(api, handle)
    assert progress.state == "ended" and progress.succeeded == 150 and progress.processing == 0
    assert seen[-1] == progress
    assert sorted(r.custom_id for r in results) == [r.custom_id for r in requests]
    assert all(r.ok and r.body is not None for r in results)
    answer_type = ChatCompletion if provider == "openai" else Message
    for result in results[:5]:
        assert result.body is not None
        draft = live.parse(answer_type.model_validate(result.body))
        assert len(draft.meetings) == 1
    await live.aclose()
    assert server.stats["batches_created"] == 1
    assert server.stats["lines_answered"] == 150
    assert server.stats["files_uploaded"] == (1 if provider == "openai" else 0)


async def test_json_schema_mode_is_answered_as_content() -> None:
    """An OpenAI request in json_schema mode gets its JSON as the message's content."""
    requests = await _requests("openai", 3, output_mode="json_schema")
    async with FakeBatchServer() as server, _client("openai", server) as api:
        handle = await api.submit(requests)
        await wait_until_finished(api, handle, interval=0.01)
        results = await _collect(api, handle)
    for result in results:
        assert result.body is not None
        message = result.body["choices"][0]["message"]
        assert message.get("tool_calls") is None and '"meetings"' in message["content"]


# --------------------------------------------------------------------------- what goes wrong


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
async def test_failed_lines_come_back_as_failures(provider: str) -> None:
    server, requests, results, progress = await _run(provider, FakeBatchConfig(fail_rate=0.3), 40)
    outcomes = Counter(r.outcome for r in results)
    assert outcomes["failed"] == server.stats["lines_failed"] == progress.failed > 0
    assert outcomes["succeeded"] == progress.succeeded == 40 - progress.failed
    assert progress.state == "ended"
    failed = next(r for r in results if r.outcome == "failed")
    assert failed.body is None and failed.error and "injected fault" in failed.error
    assert sorted(r.custom_id for r in results) == [r.custom_id for r in requests]


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
async def test_an_expired_batch_reports_the_lines_not_run(provider: str) -> None:
    """OpenAI's batch is expired; Anthropic's ended with expired lines: alike."""
    server, _, results, progress = await _run(provider, FakeBatchConfig(expired_share=0.4), 40)
    outcomes = Counter(r.outcome for r in results)
    assert outcomes["expired"] == server.stats["lines_expired"] == progress.expired > 0
    assert outcomes["succeeded"] == 40 - progress.expired
    assert progress.state == ("expired" if provider == "openai" else "ended")
    assert progress.finished
    assert len(results) == 40


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
async def test_lines_missing_from_the_output_are_reported_when_expected(provider: str) -> None:
    """A partial output file: the lines it lacks come last as missing, given the ids sent."""
    server, requests, results, progress = await _run(
        provider, FakeBatchConfig(missing_rate=0.3), 40
    )
    missing = [r for r in results if r.outcome == "missing"]
    assert len(missing) == server.stats["lines_missing"] > 0
    assert results[-len(missing) :] == missing
    assert progress.succeeded == 40  # the provider counted them as done
    assert sorted(r.custom_id for r in results) == [r.custom_id for r in requests]


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
async def test_a_cancelled_batch_reports_its_lines_canceled(provider: str) -> None:
    requests = await _requests(provider, 5)
    async with (
        FakeBatchServer(FakeBatchConfig(polls=100)) as server,
        _client(provider, server) as api,
    ):
        handle = await api.submit(requests)
        asked = await api.cancel(handle)
        assert asked.state == "canceling"
        progress = await wait_until_finished(api, handle, interval=0.01)
        results = await _collect(api, handle)
    assert progress.state == ("canceled" if provider == "openai" else "ended")
    assert progress.canceled == 5
    assert [r.outcome for r in results] == ["canceled"] * 5


async def test_a_batch_that_fails_validation_names_its_errors() -> None:
    """OpenAI fails a whole batch whose file mixes models; poll says why, results are empty."""
    requests = await _requests("openai", 2)
    other = BatchRequest("other", {**requests[0].body, "model": "another-model"})
    async with FakeBatchServer() as server, _client("openai", server) as api:
        handle = await api.submit([*requests, other])
        progress = await api.poll(handle)
        results = await _collect(api, handle)
    assert progress.state == "failed" and progress.finished
    assert any("more than one model" in error for error in progress.errors)
    assert results == []


# --------------------------------------------------------------------------- splitting


def _small(n: int, pad: int = 10) -> list[BatchRequest]:
    return [BatchRequest(f"r{i}", {"model": "m", "pad": "x" * pad}) for i in range(n)]


def test_the_limits_are_the_documented_ones() -> None:
    assert OPENAI_LIMITS.max_requests == 50_000 and OPENAI_LIMITS.max_bytes <= 200_000_000
    assert ANTHROPIC_LIMITS.max_requests == 100_000 and ANTHROPIC_LIMITS.max_bytes <= 256_000_000
    assert LIMITS == {"openai": OPENAI_LIMITS, "anthropic": ANTHROPIC_LIMITS}


@pytest.mark.parametrize("api_class", [OpenAIBatches, AnthropicBatches])
def test_split_by_count_keeps_order_and_whole_requests(api_class: type[Any]) -> None:
    api = api_class(_settings(api_class.provider, "http://127.0.0.1:9/v1"))
    requests = _small(25)
    batches = list(split(requests, BatchLimits(max_requests=10, max_bytes=10**9), api.size))
    assert [len(b) for b in batches] == [10, 10, 5]
    assert [r for b in batches for r in b] == requests


@pytest.mark.parametrize("api_class", [OpenAIBatches, AnthropicBatches])
def test_split_by_bytes_measures_as_the_provider_counts(api_class: type[Any]) -> None:
    api = api_class(_settings(api_class.provider, "http://127.0.0.1:9/v1"))
    requests = _small(10)
    one = api.size(requests[0])
    assert all(api.size(r) == one for r in requests)
    limits = BatchLimits(max_requests=1000, max_bytes=3 * one + one // 2)
    batches = list(split(requests, limits, api.size))
    assert [len(b) for b in batches] == [3, 3, 3, 1]
    assert all(sum(api.size(r) for r in b) <= limits.max_bytes for b in batches)
    with pytest.raises(RequestTooLarge, match="r-big"):
        list(split([BatchRequest("r-big", {"pad": "x" * 4 * one})], limits, api.size))


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
async def test_split_batches_are_each_accepted(provider: str) -> None:
    """Batches split within a limit pass a server that holds to it; one over is not sent."""
    requests = await _requests(provider, 7)
    config = FakeBatchConfig(max_requests=3)
    async with FakeBatchServer(config) as server, _client(provider, server) as api:
        api.limits = BatchLimits(max_requests=3, max_bytes=10**9)
        with pytest.raises(ValueError, match="split"):
            await api.submit(requests)
        batches = split_for(api, requests)
        handles = [await api.submit(batch) for batch in batches]
        results: list[BatchResult] = []
        for handle in handles:
            await wait_until_finished(api, handle, interval=0.01)
            results += await _collect(api, handle)
    assert [h.requests for h in handles] == [3, 3, 1]
    assert sorted(r.custom_id for r in results if r.ok) == [r.custom_id for r in requests]
    assert server.stats["batches_created"] == 3 and server.stats["batches_failed"] == 0


def test_split_for_uses_the_providers_limits() -> None:
    api = OpenAIBatches(_settings("openai", "http://127.0.0.1:9/v1"))
    assert split_for(api, _small(5)) == [_small(5)]


async def test_a_batch_repeating_a_custom_id_or_with_a_bad_one_is_refused() -> None:
    async with FakeBatchServer() as server:
        async with _client("openai", server) as api:
            with pytest.raises(ValueError, match="twice"):
                await api.submit([*_small(2), _small(1)[0]])
        async with _client("anthropic", server) as api:
            with pytest.raises(ValueError, match="1-64"):
                await api.submit([BatchRequest("not/allowed", {"model": "m"})])
    assert server.stats["requests"] == 0


# --------------------------------------------------------------------------- errors and secrets


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
async def test_a_refused_key_is_a_configuration_error_without_the_key(provider: str) -> None:
    """The server quotes the wrong key it was sent; our message does not."""
    wrong = "sk-wrong-KEY-the-server-echoes-0123456789abcdef"
    requests = await _requests(provider, 2)
    config = FakeBatchConfig(api_key="sk-the-right-key-0123456789abcdef")
    async with FakeBatchServer(config) as server, _client(provider, server, key=wrong) as api:
        with pytest.raises(ConfigurationError) as caught:
            await api.submit(requests)
        with pytest.raises(ConfigurationError) as polled:
            await api.poll(BatchHandle(provider, "batch_x", 1))
    assert server.stats["answered_401"] == 2
    for error in (caught.value, polled.value):
        message = str(error)
        assert "401" in message and wrong not in message and "sk-wrong" not in message


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
async def test_an_unknown_batch_is_a_configuration_error(provider: str) -> None:
    async with FakeBatchServer() as server, _client(provider, server) as api:
        with pytest.raises(ConfigurationError, match="404"):
            await api.poll(BatchHandle(provider, "batch_unknown", 1))


async def _echoing_500(request: web.Request) -> web.Response:
    """A server failing with 500 and quoting the headers it was sent, as a bad gateway does."""
    headers = request.headers
    said = f"upstream failed for {headers.get('Authorization')} {headers.get('x-api-key')}"
    return web.json_response({"error": {"message": said, "type": "server_error"}}, status=500)


async def _stub(handler: Any) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/{path:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/v1"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
async def test_a_5xx_is_a_transport_error_after_the_retries_without_the_key(provider: str) -> None:
    async for base_url in _stub(_echoing_500):
        settings = _settings(provider, base_url, transport_retries=2)
        api = (
            OpenAIBatches(settings, initial_backoff=0.001)
            if provider == "openai"
            else (AnthropicBatches(settings, initial_backoff=0.001))
        )
        async with api:
            with pytest.raises(TransportError) as caught:
                await api.poll(BatchHandle(provider, "b1", 1))
    message = str(caught.value)
    assert "HTTP 500 after 3 tries" in message and "upstream failed" in message
    assert KEY not in message


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
async def test_an_unreachable_server_is_a_transport_error(provider: str) -> None:
    async with FakeBatchServer() as server:
        base_url = server.base_url
    async with batch_api(_settings(provider, base_url)) as api:
        with pytest.raises(TransportError, match="connection refused"):
            await api.poll(BatchHandle(provider, "b1", 1))


async def test_the_key_is_never_sent_to_a_results_url_on_another_host() -> None:
    api = AnthropicBatches(_settings("anthropic", "http://127.0.0.1:9/v1"))
    with pytest.raises(ResponseError, match="another host"):
        api.http.url("http://elsewhere.example/v1/messages/batches/x/results")
    assert str(api.http.url("http://127.0.0.1:9/v1/r")) == "http://127.0.0.1:9/v1/r"
    assert str(api.http.url("/messages/batches")) == "http://127.0.0.1:9/v1/messages/batches"
    await api.aclose()


async def test_an_upload_refused_with_503_is_sent_again_whole() -> None:
    """The input file is read from its start on each try; a create is retried only on 429/503."""
    uploads: list[bytes] = []

    async def handler(request: web.Request) -> web.Response:
        if request.path.endswith("/files"):
            form = await request.post()
            upload = form["file"]
            assert isinstance(upload, web.FileField)
            uploads.append(upload.file.read())
            if len(uploads) == 1:
                return web.json_response({"error": {"message": "busy"}}, status=503)
            return web.json_response({"id": "file-1", "object": "file"})
        return web.json_response({"id": "batch-1", "object": "batch", "status": "validating"})

    requests = _small(3)
    async for base_url in _stub(handler):
        settings = _settings("openai", base_url, transport_retries=1)
        async with OpenAIBatches(settings, initial_backoff=0.001) as api:
            handle = await api.submit(requests)
            expected = b"".join(openai_batches.line(r) for r in requests)
    assert handle.batch_id == "batch-1" and handle.input_file_id == "file-1"
    assert uploads == [expected, expected]


async def test_a_create_that_may_have_happened_is_not_repeated() -> None:
    """A 500 on creating a batch is not retried: the batch may exist, and would run twice."""
    calls: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        calls.append(request.path)
        return web.json_response({"error": {"message": "oops"}}, status=500)

    async for base_url in _stub(handler):
        settings = _settings("anthropic", base_url, transport_retries=3)
        async with AnthropicBatches(settings, initial_backoff=0.001) as api:
            with pytest.raises(TransportError, match="HTTP 500"):
                await api.submit([BatchRequest("a", {"model": "m"})])
    assert calls == ["/v1/messages/batches"]
