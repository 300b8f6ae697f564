"""The bottom of the HTTP stack: aiohttp behind httpx2's transport interface.

Why not httpx2's own transport: at batch scale the client is CPU-bound on one
event loop, and httpx2's default network layer (httpcore2 on anyio, with a
Python HTTP/1.1 parser and a socket probe of every idle connection on every
request) costs about as much CPU per request as everything else we do. aiohttp
parses HTTP in C and keeps its pool cheaply, and everything above the socket
(our cache, retries and rate limiter) still sees httpx2 requests and responses.

The OpenAI SDK ships an adapter for the same purpose (``openai[aiohttp]``);
this one does less per request, which matters at thousands of requests a
minute on one core. It parses each URL and builds each timeout once, not per
request, hands the headers over as they are, reads the whole answer in one
call (our answers are small JSON documents, never streamed) within one
deadline for the whole exchange (``Settings.timeout``), creates an SSL
context only for an ``https`` server, and takes proxies from the environment
(``HTTPS_PROXY``, ``NO_PROXY``) once, when the session opens: aiohttp's own
``trust_env`` looks them (and ``~/.netrc``) up in a worker thread on every
request, which cost a tenth of a second per request at 32 in flight. Every
aiohttp fault becomes the ``httpx2`` error that names it (a refused connection
is a ``ConnectError``, not the adapter's connect timeout), so the retry layer
above sees every fault in one vocabulary.
"""

from __future__ import annotations

import errno
import ipaddress
from typing import Any

import aiohttp
import httpx2
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

POOL = httpx2.Limits(max_connections=None, max_keepalive_connections=None, keepalive_expiry=60)
"""As many connections as requests in flight, each idle one kept for a minute.

The run's own limiter (``--concurrency``, a replica's ``#concurrency=``)
bounds the requests in flight, so the pool adds no bound of its own: a fixed
one (512 until 2026-12) silently held a run at 5,000 in flight to a tenth of
its rate. aiohttp keeps every idle connection (it has no separate keep-alive
bound), so a connection is reused, not reopened, per request.
"""


class NetworkTransport(httpx2.AsyncBaseTransport):
    """The real network, over one aiohttp session opened on the first request.

    One transport serves one server (the run's base URL): the proxy chosen for
    the first request's URL is the session's for all of them.
    """

    def __init__(self, limits: httpx2.Limits = POOL) -> None:
        self.limits = limits
        self._session: aiohttp.ClientSession | None = None
        self._urls: dict[str, URL] = {}
        self._timeouts: dict[tuple[Any, ...], aiohttp.ClientTimeout] = {}

    def _open_session(self, url: httpx2.URL) -> aiohttp.ClientSession:
        # httpx2's context (certifi, SSL_CERT_FILE) for TLS, as the SDK would use;
        # loading it costs a tenth of a second, so a plain-HTTP server skips it.
        ssl: Any = httpx2.create_ssl_context() if url.scheme == "https" else True
        connector = aiohttp.TCPConnector(
            limit=self.limits.max_connections or 0,
            keepalive_timeout=self.limits.keepalive_expiry,
            ssl=ssl,
        )
        proxy, proxy_auth = env_proxy(str(url))
        return aiohttp.ClientSession(connector=connector, proxy=proxy, proxy_auth=proxy_auth)

    def _url(self, url: httpx2.URL) -> URL:
        text = str(url)
        if (parsed := self._urls.get(text)) is None:
            if len(self._urls) > 64:  # one server, a handful of paths; never grows unbounded
                self._urls.clear()
            parsed = self._urls[text] = URL(text, encoded=True)
        return parsed

    def _timeout(self, extension: dict[str, float | None]) -> aiohttp.ClientTimeout:
        """httpx2's timeouts in aiohttp's terms, with the longest as the whole request's deadline.

        ``total`` bounds the whole exchange: connecting, sending, waiting and
        reading the answer to its last byte (aiohttp's timer covers the body's
        read too), so a server trickling a byte at a time cannot hold a request
        past it. The others still name what was slow: connecting (a
        ``ConnectTimeout``), a silence between bytes, a wait for a pool slot.
        """
        key = (
            extension.get("connect"),
            extension.get("read"),
            extension.get("write"),
            extension.get("pool"),
        )
        if (timeout := self._timeouts.get(key)) is None:
            connect, read, _, pool = key
            timeout = self._timeouts[key] = aiohttp.ClientTimeout(
                total=_deadline(extension), sock_connect=connect, sock_read=read, connect=pool
            )
        return timeout

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if self._session is None:
            self._session = self._open_session(request.url)
        body = await request.aread()
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        try:
            async with self._session.request(
                request.method,
                self._url(request.url),
                headers=headers,
                data=body or None,
                allow_redirects=False,
                auto_decompress=False,  # httpx2 decodes, by the answer's headers
                timeout=self._timeout(request.extensions.get("timeout") or {}),
            ) as answer:
                content = await answer.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            deadline = _deadline(request.extensions.get("timeout") or {})
            raise _httpx2_error(exc, request, deadline) from exc
        extensions: dict[str, Any] = {"http_version": b"HTTP/1.1"}
        if answer.reason:
            extensions["reason_phrase"] = answer.reason.encode("latin-1", "replace")
        return httpx2.Response(
            answer.status,
            headers=list(answer.raw_headers),
            stream=httpx2.ByteStream(content),
            request=request,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


def _deadline(extension: dict[str, float | None]) -> float | None:
    """The whole request's deadline: the longest of httpx2's timeouts (all equal in ours)."""
    values = [v for v in extension.values() if v is not None]
    return max(values) if values else None


def _httpx2_error(
    exc: BaseException, request: httpx2.Request, deadline: float | None = None
) -> httpx2.TransportError:
    """The httpx2 fault an aiohttp one amounts to; retried or not by what it is.

    Its message is what a user can act on: "connection refused", "no complete
    answer within 3 s", else aiohttp's own words.
    """
    message = str(exc) or type(exc).__name__
    kind: type[httpx2.TransportError]
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        kind = httpx2.ConnectTimeout
    elif isinstance(exc, TimeoutError):
        kind = httpx2.ReadTimeout
        if not isinstance(exc, aiohttp.ClientError) and deadline is not None:
            message = f"no complete answer within {deadline:g} s"  # the whole-request deadline
    elif isinstance(exc, (aiohttp.ClientProxyConnectionError, aiohttp.ClientHttpProxyError)):
        kind = httpx2.ProxyError
    elif isinstance(exc, aiohttp.ClientConnectorError):
        kind = httpx2.ConnectError
        refused = exc.os_error
        if isinstance(refused, ConnectionRefusedError) or refused.errno == errno.ECONNREFUSED:
            message = "connection refused"
    elif isinstance(exc, (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError)):
        kind = httpx2.ReadError  # dropped, reset or cut off mid-answer
    elif isinstance(exc, (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError)):
        kind = httpx2.UnsupportedProtocol
    else:
        kind = httpx2.RemoteProtocolError  # the server spoke HTTP we cannot read
    return kind(message, request=request)


def env_proxy(url: str) -> tuple[URL | None, aiohttp.BasicAuth | None]:
    """The proxy the environment names for ``url`` (and its credentials), if any.

    A server on this machine (a local model, the fake server) is always reached
    directly, whatever ``NO_PROXY`` says.
    """
    target = URL(url)
    if _is_loopback(target.host or ""):
        return None, None
    try:
        return get_env_proxy_for_url(target)
    except LookupError:
        return None, None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allow_open_files(needed: int) -> int:
    """Raise this process's open-file limit towards ``needed``; the limit it now has.

    Every request in flight holds a socket, and many systems start a process
    with room for 1,024 open files: a run at 5,000 in flight would fail its
    connections past that with "too many open files". The soft limit may be
    raised up to the hard one without privileges, so it is, as far as the run
    needs; past the hard limit the caller tells the user (``ulimit -n``).
    """
    try:
        import resource
    except ImportError:  # Windows: no such limit to raise
        return needed
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return needed
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        return soft
    return target
