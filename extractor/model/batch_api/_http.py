"""The batch clients' HTTP: one aiohttp session, JSON calls with retries, downloads line by line.

Why not the live path's stack (``network.NetworkTransport`` under the cache,
cassettes and rate limiter): it reads each answer whole, which suits a chat
completion of a few KB but not a results file of 200 MB, and the cache and the
rate limiter have nothing to do with a handful of calls per batch. What it
shares with the live path: the proxy from the environment (``network.env_proxy``),
httpx2's TLS context, the whole-request deadline of ``Settings.timeout`` for a
JSON call, the retry budget of ``Settings.transport_retries``, and errors in
the project's vocabulary with the key scrubbed out.

Retries differ by what a repeat could cost. A read (a poll, a download's
start, a cancel) is retried on any network fault, 429 or 5xx. Creating a
batch is retried only when the server surely did not take it (429, 503, or no
connection at all): a batch created twice runs, and is billed, twice. A
download cut off halfway is not resumed: the lines already read were handed
on, and the caller reads the results again.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import IO, Any, Self

import aiohttp
import httpx2
import orjson
from yarl import URL

from extractor._exceptions import ConfigurationError, ExtractorError, ResponseError, TransportError
from extractor._redact import scrub
from extractor.model.network import env_proxy
from extractor.model.retry import retry_after_seconds

_CHUNK = 1 << 16
_RETRYABLE_CREATE = frozenset({429, 503})
_MAX_ERROR_TEXT = 300

Body = bytes | IO[bytes] | aiohttp.FormData | None


def error_message(content: bytes) -> str:
    """The message in an error body, OpenAI's (``{"error": {...}}``) or Anthropic's
    (``{"type": "error", "error": {...}}``), else the body's first characters."""
    try:
        data = orjson.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace").strip()[:_MAX_ERROR_TEXT] or "no error message"
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        kind = error.get("type") or error.get("code")
        return f"{error['message']} ({kind})" if isinstance(kind, str) else error["message"]
    return content.decode("utf-8", "replace").strip()[:_MAX_ERROR_TEXT]


class BatchHTTP:
    """Calls to one provider's server, under its base URL, with its auth headers."""

    def __init__(
        self,
        base_url: str,
        headers: dict[str, str],
        *,
        timeout: float,
        retries: int,
        max_backoff: float,
        key_hint: str,
        secrets: tuple[str, ...] = (),
        initial_backoff: float = 1.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = headers
        self.retries = retries
        self.max_backoff = max_backoff
        self.initial_backoff = initial_backoff
        self.key_hint = key_hint
        """The environment variable a refused key is set by (for the 401 message)."""
        self._secrets = secrets
        self._json_timeout = aiohttp.ClientTimeout(total=timeout)
        # A transfer of 200 MB takes longer than a JSON call's deadline; what
        # bounds it is silence: no byte for ``timeout`` seconds.
        self._transfer_timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=timeout, sock_read=timeout
        )
        self._session: aiohttp.ClientSession | None = None
        self._origin = URL(self.base_url).origin()

    # ----------------------------------------------------------------- session

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            https = URL(self.base_url).scheme == "https"
            ssl: Any = httpx2.create_ssl_context() if https else True
            proxy, proxy_auth = env_proxy(self.base_url)
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=8, ssl=ssl),
                proxy=proxy,
                proxy_auth=proxy_auth,
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def url(self, path_or_url: str) -> URL:
        """An absolute URL under the base URL; a full URL is taken only on the base URL's origin.

        Anthropic names where its results are (``results_url``): the key is
        sent there only if it is the server the key was meant for.
        """
        if "://" not in path_or_url:
            return URL(self.base_url + "/" + path_or_url.lstrip("/"), encoded=True)
        url = URL(path_or_url)
        if url.origin() != self._origin:
            raise ResponseError(
                f"the server named a URL on another host ({url.origin()}) for the results; "
                "the API key is not sent there"
            )
        return url

    # ----------------------------------------------------------------- calls

    async def json(
        self,
        method: str,
        path: str,
        *,
        body: Callable[[], Body] | None = None,
        content_type: str | None = "application/json",
        create: bool = False,
        transfer: bool = False,
    ) -> Any:
        """The JSON answer to one call; ``body`` makes the body afresh for each try.

        ``create``: the call makes something (a file, a batch), so it is retried
        only where the server surely did not (see the module's docstring).
        """
        url = self.url(path)
        headers = dict(self.headers)
        if content_type is not None:
            headers["Content-Type"] = content_type
        timeout = self._transfer_timeout if transfer else self._json_timeout
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                async with self._open().request(
                    method,
                    url,
                    headers=headers,
                    data=body() if body is not None else None,
                    timeout=timeout,
                    allow_redirects=False,
                ) as answer:
                    content = await answer.read()
                    status = answer.status
                    retry_after = retry_after_seconds(httpx2.Headers(list(answer.headers.items())))
            except (TimeoutError, aiohttp.ClientError) as exc:
                never_sent = isinstance(exc, aiohttp.ClientConnectorError)
                if last or (create and not never_sent):
                    raise self._network_error(exc, url, attempt + 1) from exc
                await self._backoff(attempt, None)
                continue
            if status < 400:
                try:
                    return orjson.loads(content)
                except ValueError as exc:
                    raise ResponseError(
                        f"the server's answer to {method} {url.path} is not JSON ({exc})"
                    ) from exc
            retryable = status in _RETRYABLE_CREATE if create else (status == 429 or status >= 500)
            if last or not retryable:
                raise self.status_error(status, content, attempt + 1)
            await self._backoff(attempt, retry_after)
        raise AssertionError("unreachable")  # pragma: no cover

    async def lines(self, path_or_url: str, *, accept: str | None = None) -> AsyncIterator[bytes]:
        """The non-blank lines of a file the server streams, without their line ends.

        Read a chunk at a time, so a file of 200 MB never sits in memory;
        a line may be any length.
        """
        url = self.url(path_or_url)
        headers = dict(self.headers)
        if accept is not None:
            headers["Accept"] = accept
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                answer = await self._open().get(
                    url, headers=headers, timeout=self._transfer_timeout, allow_redirects=False
                )
            except (TimeoutError, aiohttp.ClientError) as exc:
                if last:
                    raise self._network_error(exc, url, attempt + 1) from exc
                await self._backoff(attempt, None)
                continue
            if answer.status >= 400:
                try:
                    content = await answer.read()
                except (TimeoutError, aiohttp.ClientError):
                    content = b""
                finally:
                    answer.release()
                retry_after = retry_after_seconds(httpx2.Headers(list(answer.headers.items())))
                if last or not (answer.status == 429 or answer.status >= 500):
                    raise self.status_error(answer.status, content, attempt + 1)
                await self._backoff(attempt, retry_after)
                continue
            break
        try:
            rest = b""
            async for chunk in answer.content.iter_chunked(_CHUNK):
                *complete, rest = (rest + chunk).split(b"\n")
                for line in complete:
                    if line.strip():
                        yield line.rstrip(b"\r")
            if rest.strip():
                yield rest.rstrip(b"\r")
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise self._network_error(exc, url, 1) from exc
        finally:
            answer.release()

    # ----------------------------------------------------------------- errors

    async def _backoff(self, attempt: int, asked: float | None) -> None:
        """The wait before another try: what the server asked, else exponential with jitter."""
        if asked is None:
            asked = self.initial_backoff * (2**attempt) * (0.5 + random.random())
        await asyncio.sleep(min(asked, self.max_backoff))

    def status_error(self, status: int, content: bytes, tries: int = 1) -> ExtractorError:
        """Our error for an HTTP error status: a refused key or an unknown batch is the
        configuration's fault; anything else the transport's. Never quotes the key."""
        message = scrub(error_message(content), self._secrets)
        retried = f" after {tries} tries" if tries > 1 else ""
        if status == 401:
            return ConfigurationError(
                f"the server refused the API key (HTTP 401); check {self.key_hint}: {message}"
            )
        if status == 403:
            return ConfigurationError(
                f"the API key may not use the batch API (HTTP 403): {message}"
            )
        if status == 404:
            return ConfigurationError(
                f"the server has no such batch, file or endpoint (HTTP 404): {message}"
            )
        return TransportError(f"the server answered HTTP {status}{retried}: {message}")

    def _network_error(self, exc: BaseException, url: URL, tries: int) -> TransportError:
        where = url.with_query(None).with_fragment(None).with_user(None)
        retried = f" after {tries} tries" if tries > 1 else ""
        if isinstance(exc, TimeoutError) and not isinstance(exc, aiohttp.ClientError):
            return TransportError(f"the request to {where} timed out{retried}")
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, aiohttp.ClientConnectorError) and isinstance(
            exc.os_error, ConnectionRefusedError
        ):
            reason = "connection refused"
        return TransportError(f"cannot reach the server at {where}: {reason}{retried}")


class ClosingClient:
    """What every batch client shares: one ``BatchHTTP`` session, closed with the client."""

    http: BatchHTTP

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
