"""One INFO line per HTTP request to the model server: what ``--verbose`` shows of a run.

Each line names the provider, the method, the server and path (never a
header, a query or credentials), then the status, the tokens the answer says
it cost, and the seconds it took, e.g.::

    openai POST 127.0.0.1:8080/v1/chat/completions: 200, 812 prompt + 95 completion tokens, 0.41 s

A request that fails below HTTP says how (``ConnectError: connection
refused``). It sits right above the network, so every try is a line (a
retried 503 and its retry are two); answers from the cache or a cassette
replay never reach it. Reading the tokens parses the answer once more, so it
is done only when INFO is enabled for this logger; a quiet run pays nothing.
"""

from __future__ import annotations

import logging
import time

import httpx2
import orjson

log = logging.getLogger(__name__)


class RequestLogTransport(httpx2.AsyncBaseTransport):
    """Logs each request through ``inner`` at INFO, without a header or a secret."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, provider: str) -> None:
        self.inner = inner
        self.provider = provider

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if not log.isEnabledFor(logging.INFO):
            return await self.inner.handle_async_request(request)
        where = f"{self.provider} {request.method} {request.url.netloc.decode()}{request.url.path}"
        started = time.perf_counter()
        try:
            response = await self.inner.handle_async_request(request)
            content = await response.aread()
        except Exception as exc:
            seconds = time.perf_counter() - started
            log.info("%s: %s: %s, %.2f s", where, type(exc).__name__, exc, seconds)
            raise
        seconds = time.perf_counter() - started
        log.info("%s: %d%s, %.2f s", where, response.status_code, _tokens(content), seconds)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def _tokens(content: bytes) -> str:
    """ ", N prompt + M completion tokens" from an answer's ``usage``, in OpenAI's or
    Anthropic's names (Anthropic's prompt counts its cache reads and writes); "" if none."""
    try:
        usage = orjson.loads(content).get("usage")
    except (ValueError, AttributeError):
        return ""
    if not isinstance(usage, dict):
        return ""
    if "prompt_tokens" in usage:
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    else:
        parts = ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
        prompt = sum(v for k in parts if isinstance(v := usage.get(k), int))
        completion = usage.get("output_tokens")
    return f", {prompt or 0} prompt + {completion or 0} completion tokens"
