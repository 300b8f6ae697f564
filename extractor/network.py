"""The bottom of the HTTP stack: aiohttp behind httpx2's transport interface.

Why not httpx2's own transport: at batch scale the client is CPU-bound on one
event loop, and httpx2's default network layer (httpcore2 on anyio, with a
Python HTTP/1.1 parser and a socket probe of every idle connection on every
request) costs about as much CPU per request as everything else we do. aiohttp
parses HTTP in C and keeps its pool cheaply; the OpenAI SDK supports it as its
faster backend (the ``openai[aiohttp]`` extra) through the adapter used here, so
everything above the socket (the SDK, our cache, retries and rate limiter) is
unchanged: they still see httpx2 requests and responses.

Two things differ from the SDK's ready-made ``DefaultAioHttpClient``. Proxies
are taken from the environment (``HTTPS_PROXY``, ``NO_PROXY``) as httpx2 would,
but once, when the session opens for the run's server: aiohttp's own
``trust_env`` looks them (and ``~/.netrc``) up in a worker thread on every
request, which cost a tenth of a second per request at 32 in flight. And any
aiohttp fault the adapter does not translate becomes an ``httpx2`` network
error, so the retry layer above sees every fault in one vocabulary.
"""

from __future__ import annotations

import asyncio
import ipaddress

import aiohttp
import httpx2
from aiohttp.helpers import get_env_proxy_for_url
from openai._vendor.httpx_aiohttp import AiohttpTransport  # pinned: openai[aiohttp]==3.3.0
from yarl import URL

POOL = httpx2.Limits(max_connections=512, max_keepalive_connections=512, keepalive_expiry=60)
"""Room for every document in flight, each idle connection kept for a minute.
aiohttp keeps every idle connection up to ``max_connections`` (it has no
separate keep-alive bound), so a connection is reused, not reopened, per request."""


class NetworkTransport(AiohttpTransport):
    """The real network, over one aiohttp session opened on the first request.

    One transport serves one server (the run's base URL): the proxy chosen for
    the first request's URL is the session's for all of them.
    """

    def __init__(self, limits: httpx2.Limits = POOL) -> None:
        super().__init__(limits=limits)

    def _open_session(self, url: httpx2.URL) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self.limits.max_connections or 0,
            keepalive_timeout=self.limits.keepalive_expiry,
            ssl=self.ssl_context,
        )
        proxy, proxy_auth = env_proxy(str(url))
        return aiohttp.ClientSession(connector=connector, proxy=proxy, proxy_auth=proxy_auth)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if not isinstance(self.client, aiohttp.ClientSession):
            self.client = self._open_session(request.url)
        try:
            return await super().handle_async_request(request)
        except httpx2.TimeoutException as exc:
            # The adapter reports every lost connection as a connect timeout;
            # a refused or dropped connection is not one, and should not read so.
            cause = exc.__cause__
            if isinstance(cause, aiohttp.ClientConnectionError) and not isinstance(
                cause, asyncio.TimeoutError
            ):
                fault = (
                    httpx2.ConnectError
                    if isinstance(cause, aiohttp.ClientConnectorError)
                    else httpx2.ReadError
                )
                raise fault(str(cause) or type(cause).__name__, request=request) from cause
            raise
        except aiohttp.ClientError as exc:
            raise httpx2.RemoteProtocolError(
                f"{type(exc).__name__}: {exc}", request=request
            ) from exc


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
