"""Tests for extractor.model.network: aiohttp as the bottom of the HTTP stack."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import aiohttp
import httpx2
import pytest

from extractor import Settings, TransportError
from extractor.model.client import ModelClient
from extractor.model.network import (
    NetworkTransport,
    _httpx2_error,
    allow_open_files,
    env_proxy,
)
from extractor.model.retry import RetryingTransport
from extractor.testing import FAKE_KEY, scripted_settings
from extractor.text.align import Aligner

ANSWER = b'{"ok": true, "padding": "' + b"x" * 2000 + b'"}'


def test_proxy_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTPS_PROXY is used for a remote server, with its credentials; NO_PROXY is respected."""
    monkeypatch.setenv("HTTPS_PROXY", "http://user:secret@proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    proxy, auth = env_proxy("https://api.openai.com/v1/chat/completions")
    assert str(proxy) == "http://proxy.example:3128"
    assert auth is not None and (auth.login, auth.password) == ("user", "secret")
    assert env_proxy("https://internal.example/v1") == (None, None)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/v1", "http://localhost:1/v1"])
def test_loopback_is_never_proxied(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """A local server is reached directly even when a proxy is set and NO_PROXY is empty."""
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert env_proxy(url) == (None, None)


async def _server(replies: list[bytes]) -> AsyncIterator[str]:
    """A loopback server that sends each connection the next canned reply, then hangs up."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(replies.pop(0))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}/v1/chat/completions"


def _reply(body: bytes, *, claimed: int | None = None) -> bytes:
    length = len(body) if claimed is None else claimed
    head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n"
    return head.encode() + b"connection: close\r\n\r\n" + body


async def test_answer_arrives_as_an_httpx2_response() -> None:
    """A request through aiohttp comes back as an httpx2 response with status, headers and body."""
    async for url in _server([_reply(ANSWER)]):
        async with httpx2.AsyncClient(transport=NetworkTransport()) as client:
            response = await client.post(url, json={"q": 1})
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json()["ok"] is True


async def test_answer_cut_off_mid_body_is_retried() -> None:
    """A connection that drops halfway through an answer is a network fault, tried again."""
    cut = _reply(ANSWER, claimed=len(ANSWER))[: -len(ANSWER) // 2]
    async for url in _server([cut, _reply(ANSWER)]):
        transport = RetryingTransport(NetworkTransport(), retries=2, max_backoff=0.01)
        async with httpx2.AsyncClient(transport=transport) as client:
            response = await client.post(url, json={"q": 1})
        assert response.json()["ok"] is True
        assert sum(transport.faults.values()) == 1


async def test_refused_connection_is_a_connect_error_not_a_timeout() -> None:
    """Nothing listening is a connect error in httpx2's terms (retried), not a timeout."""
    async for url in _server([]):
        dead = url
    async with httpx2.AsyncClient(transport=NetworkTransport()) as client:
        with pytest.raises(httpx2.ConnectError, match=r"(?i)connect"):
            await client.post(dead, json={"q": 1})


async def test_unreachable_server_is_reported_as_unreachable() -> None:
    """Through the whole client, a refused connection says the server cannot be reached."""
    async for url in _server([]):
        base = url.removesuffix("/chat/completions")
    settings = scripted_settings(base_url=base, transport_retries=1)
    async with ModelClient(settings) as client:
        with pytest.raises(TransportError, match="cannot reach the server"):
            await client.ask([{"role": "user", "content": "x"}], Aligner("x"))


async def test_silent_server_is_a_read_timeout() -> None:
    """A server that accepts but never answers trips httpx2's read timeout, as a ReadTimeout."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(5)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, httpx2.AsyncClient(transport=NetworkTransport(), timeout=0.2) as client:
        with pytest.raises(httpx2.ReadTimeout):
            await client.post(f"http://127.0.0.1:{port}/v1", json={"q": 1})


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (aiohttp.ConnectionTimeoutError("connect"), httpx2.ConnectTimeout),
        (aiohttp.SocketTimeoutError("read"), httpx2.ReadTimeout),
        (TimeoutError(), httpx2.ReadTimeout),
        (aiohttp.ServerDisconnectedError(), httpx2.ReadError),
        (aiohttp.ClientPayloadError("cut"), httpx2.ReadError),
        (aiohttp.ClientConnectionResetError("reset"), httpx2.ReadError),
        (aiohttp.NonHttpUrlClientError("ftp://x"), httpx2.UnsupportedProtocol),
        (aiohttp.ClientError("odd"), httpx2.RemoteProtocolError),
    ],
)
def test_aiohttp_faults_become_the_httpx2_fault_they_are(
    fault: Exception, expected: type[Exception]
) -> None:
    """Each aiohttp fault maps to the httpx2 class that names it, keeping its message."""
    request = httpx2.Request("POST", "http://127.0.0.1:9/v1")
    mapped = _httpx2_error(fault, request)
    assert type(mapped) is expected
    assert str(mapped)
    assert mapped.request is request


async def test_gzip_answer_is_decoded_once() -> None:
    """A gzip-encoded answer (as real APIs send) arrives decoded, exactly once."""
    packed = gzip.compress(ANSWER)
    head = (
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\n"
        f"content-length: {len(packed)}\r\nconnection: close\r\n\r\n"
    )
    async for url in _server([head.encode() + packed]):
        async with httpx2.AsyncClient(transport=NetworkTransport()) as client:
            response = await client.post(url, json={"q": 1})
        assert response.content == ANSWER
        assert response.json()["ok"] is True


async def _trickling_server(length: int = 10_000, every: float = 0.2) -> AsyncIterator[str]:
    """A loopback server that answers 200 with a long body, one byte every ``every`` seconds."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {length}"
        writer.write(head.encode() + b"\r\n\r\n")
        with contextlib.suppress(OSError, asyncio.CancelledError):
            for _ in range(length):
                writer.write(b" ")
                await writer.drain()
                await asyncio.sleep(every)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}/v1"


async def test_timeout_is_a_deadline_for_the_whole_request() -> None:
    """A server trickling a byte every 0.2 s never goes silent for a second, yet ``timeout=1``
    ends the request after about a second: the deadline covers reading the whole answer."""
    async for base in _trickling_server():
        async with httpx2.AsyncClient(transport=NetworkTransport(), timeout=1.0) as client:
            started = time.monotonic()
            with pytest.raises(httpx2.ReadTimeout, match="no complete answer within 1 s"):
                async with asyncio.timeout(5):  # an idle-read timeout would wait 2000 s
                    await client.post(f"{base}/chat/completions", json={"q": 1})
            assert time.monotonic() - started < 1.8


async def test_a_trickling_server_is_reported_within_the_retry_budget() -> None:
    """Through the whole client, each try gets the deadline: two tries, about two seconds."""
    async for base in _trickling_server():
        settings = scripted_settings(base_url=base, timeout=1.0, transport_retries=1)
        started = time.monotonic()
        async with ModelClient(settings) as client, asyncio.timeout(10):
            with pytest.raises(TransportError) as caught:
                await client.ask([{"role": "user", "content": "x"}], Aligner("x"))
        assert time.monotonic() - started < 3.5
    assert str(caught.value) == (
        f"the request to {base}/chat/completions timed out after 2 tries: "
        "no complete answer within 1 s"
    )


async def test_refused_first_connection_fails_fast_with_the_default_retries() -> None:
    """Nothing listening on the first request: one clear line in well under two seconds, not
    the twenty seconds of backoff the default retry budget would spend."""
    async for url in _server([]):
        base = url.removesuffix("/chat/completions")
    settings = Settings(base_url=base, api_key=FAKE_KEY, cache=False)
    assert settings.transport_retries == 4 and settings.max_backoff == 60
    started = time.monotonic()
    async with ModelClient(settings) as client:
        with pytest.raises(TransportError) as caught:
            await client.ask([{"role": "user", "content": "x"}], Aligner("x"))
    assert time.monotonic() - started < 2.0
    assert str(caught.value) == f"cannot reach the server at {url}: connection refused"


async def test_as_many_requests_are_in_flight_as_the_caller_sends() -> None:
    """600 requests at once, more than the 512 the pool once allowed: the server holds
    every answer until all 600 have arrived, so a bound on the pool would hang here."""
    count, arrived, everyone = 600, 0, asyncio.Event()
    allow_open_files(2 * count + 64)  # both ends of each connection are in this process

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal arrived
        await reader.readuntil(b"\r\n\r\n")
        arrived += 1
        if arrived == count:
            everyone.set()
        await everyone.wait()
        writer.write(_reply(ANSWER))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=count)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1/chat/completions"
    async with server, httpx2.AsyncClient(transport=NetworkTransport()) as client:
        calls = [client.post(url, json={"n": n}) for n in range(count)]
        responses = await asyncio.wait_for(asyncio.gather(*calls), timeout=60)
    assert arrived == count
    assert all(r.status_code == 200 for r in responses)


def test_the_open_file_limit_is_raised_as_far_as_a_run_needs() -> None:
    """A process started with room for 256 files (hard limit 2,000) gets the 1,000 it
    asks for, and the hard limit when it asks for more: the caller then warns."""
    resource = pytest.importorskip("resource")
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2000:
        pytest.skip(f"the hard open-file limit here is {hard}")
    script = (
        "import resource\n"
        "from extractor.model.network import allow_open_files\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (256, 2000))\n"
        "print(allow_open_files(1000), resource.getrlimit(resource.RLIMIT_NOFILE)[0])\n"
        "print(allow_open_files(3000), resource.getrlimit(resource.RLIMIT_NOFILE)[0])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["1000", "1000", "2000", "2000"]
