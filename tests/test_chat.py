"""Tests for extractor.model.chat: chat completions sent as the SDK sends them, and read back."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import openai
import pytest

from extractor import ConfigurationError, ReplayMissError, ResponseError, TransportError
from extractor.model.chat import ChatEndpoint, parse_completion
from extractor.testing import FAKE_KEY, completion_body

ANSWER = {"participants": [], "meetings": [], "status_claims": []}
PARAMS: dict[str, Any] = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "Хельсинки, 北京"}],
    "temperature": 0.0,
}


class _Recorder(httpx2.AsyncBaseTransport):
    """Answers every request with one response and keeps the requests."""

    def __init__(self, response: httpx2.Response | Exception | None = None) -> None:
        self.response = response
        self.requests: list[httpx2.Request] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        self.requests.append(request)
        if isinstance(self.response, Exception):
            raise self.response
        if self.response is not None:
            return self.response
        return httpx2.Response(200, json=completion_body(ANSWER))


def _client(transport: httpx2.AsyncBaseTransport, **options: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        api_key=FAKE_KEY,
        base_url="http://127.0.0.1:9/v1",
        max_retries=0,
        timeout=7.0,
        http_client=httpx2.AsyncClient(transport=transport, timeout=7.0),
        **options,
    )


async def _create(response: httpx2.Response | Exception) -> Any:
    transport = _Recorder(response)
    async with _client(transport) as client:
        return await ChatEndpoint(client, transport).create(PARAMS)


async def test_request_is_the_one_the_sdk_sends() -> None:
    """URL, every header and the timeout match ``chat.completions.create``; the body is ours."""
    transport = _Recorder()
    async with _client(transport, organization="org-1", project="proj-1") as client:
        await client.chat.completions.create(**PARAMS)
        endpoint = ChatEndpoint(client, transport)
        await endpoint.create(PARAMS)
        await endpoint.create(PARAMS)  # from the template built on the first call
    sdk, ours, again = transport.requests
    for request in (ours, again):
        assert request.method == sdk.method == "POST"
        assert request.url == sdk.url
        assert request.headers.multi_items() == sdk.headers.multi_items()
        assert request.extensions["timeout"] == sdk.extensions["timeout"]
        assert json.loads(request.content) == json.loads(sdk.content) == PARAMS
    assert ours.headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert ours.headers["openai-organization"] == "org-1"
    assert ours.headers["content-length"] == str(len(ours.content))


async def test_answer_is_read_as_a_chat_completion() -> None:
    """A 200 answer comes back as a ChatCompletion with its tool call."""
    completion = await _create(httpx2.Response(200, json=completion_body(ANSWER)))
    call = completion.choices[0].message.tool_calls[0]
    assert json.loads(call.function.arguments) == ANSWER


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [
        (401, ConfigurationError, "refused the API key (HTTP 401)"),
        (404, ConfigurationError, "does not know this model or endpoint (HTTP 404): Error code"),
        # Sent once (no retry layer here): no "after N tries".
        (400, TransportError, "answered HTTP 400: Error code: 400"),
        (503, TransportError, "answered HTTP 503: Error code: 503"),
    ],
)
async def test_error_status_becomes_our_error(
    status: int, error: type[Exception], words: str
) -> None:
    """A status the retries left is named in one of our errors, with the server's message."""
    body = {"error": {"message": "no such model: gpt-9", "type": "invalid_request_error"}}
    with pytest.raises(error) as caught:
        await _create(httpx2.Response(status, json=body))
    assert words in str(caught.value)
    if status != 401:
        assert "no such model: gpt-9" in str(caught.value)


async def test_network_faults_become_transport_errors() -> None:
    """A timeout says it timed out; a refused connection says which server cannot be reached."""
    with pytest.raises(TransportError) as caught:
        await _create(httpx2.ReadTimeout("slow"))
    assert str(caught.value) == (
        "the request to http://127.0.0.1:9/v1/chat/completions timed out: slow"
    )
    with pytest.raises(TransportError) as caught:
        await _create(httpx2.ConnectError("connection refused"))
    assert str(caught.value) == (
        "cannot reach the server at http://127.0.0.1:9/v1/chat/completions: connection refused"
    )


async def test_our_own_errors_pass_unwrapped() -> None:
    """An ExtractorError from the stack (a replay miss) reaches the caller as it is."""
    miss = ReplayMissError("no fixture for this request")
    with pytest.raises(ReplayMissError) as caught:
        await _create(miss)
    assert caught.value is miss


async def test_streaming_is_refused() -> None:
    """A streaming request is a configuration error, not a hang or a parse failure."""
    transport = _Recorder()
    async with _client(transport) as client:
        with pytest.raises(ConfigurationError, match="streaming"):
            await ChatEndpoint(client, transport).create({**PARAMS, "stream": True})
    assert transport.requests == []


def test_parse_completion_strict_lenient_and_refused() -> None:
    """A well-formed completion parses strictly, an odd one leniently, and non-JSON is refused."""
    good = json.dumps(completion_body(ANSWER)).encode()
    assert parse_completion(good).choices[0].finish_reason == "tool_calls"
    odd = completion_body(ANSWER, finish_reason="eos")
    del odd["created"]
    assert parse_completion(json.dumps(odd).encode()).choices[0].finish_reason == "eos"
    with pytest.raises(ResponseError, match="not JSON"):
        parse_completion(b"<html>Bad gateway</html>")
    with pytest.raises(ResponseError, match="not a chat completion"):
        parse_completion(b"[1, 2]")
