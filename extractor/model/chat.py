"""Chat completions, sent as the OpenAI SDK sends them, without its per-request machinery.

The SDK's request path is built for any endpoint and any caller: per request it
copies and merges option objects, rebuilds the same headers, parses the base
URL again, walks the tool schema to rename aliased keys, and goes through the
HTTP client's auth, redirect and cookie steps. For one endpoint with a fixed
schema that was a fifth of the client's CPU per document. ``ChatEndpoint``
asks the SDK for its request once (headers, URL, timeout) and then only swaps
the body, handing each request straight to our transport stack (cache,
retries, rate limiter, network). The SDK still decides the headers (key,
organisation, project, user agent, platform) and builds its status errors;
``tests/test_chat.py`` checks both against ``chat.completions.create`` so a
new SDK version cannot drift silently. Whatever goes wrong leaves as an
``ExtractorError``.

This is the one module that uses the SDK's private names (``_build_request``,
``FinalRequestOptions``, ``_make_status_error_from_response``, ``_platform``,
``get_platform``). They are worth it: going through ``chat.completions.create``
instead cost about 1.8 ms of client CPU per document together with instructor's
own loop (session 3's paired runs, bench/README.md), against a 5 ms target.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx2
import openai
import pydantic
import pydantic_core
from openai._base_client import get_platform
from openai._models import FinalRequestOptions
from openai.types.chat import ChatCompletion

from extractor._exceptions import ConfigurationError, ExtractorError, ResponseError, TransportError
from extractor._redact import scrub
from extractor.model.retry import after_tries, transport_error

PATH = "/chat/completions"


class ChatEndpoint:
    """``POST /chat/completions`` through a transport stack, with the SDK's headers and errors."""

    def __init__(self, client: openai.AsyncOpenAI, transport: httpx2.AsyncBaseTransport) -> None:
        self.client = client
        self.transport = transport
        self._template: httpx2.Request | None = None
        self._headers = httpx2.Headers()

    async def _request(self, content: bytes) -> httpx2.Request:
        """The SDK's request for this endpoint, with ``content`` as its body."""
        if self._template is None:
            if self.client._platform is None:
                # As the SDK's own request does: the lookup may read files, so it
                # runs in a worker thread; the headers are built here, in the loop.
                platform = await asyncio.to_thread(get_platform)
                self.client._platform = self.client._platform or platform
            if self._template is None:  # another request may have built it meanwhile
                options = FinalRequestOptions.construct(
                    method="post", url=PATH, security={"bearer_auth": True}
                )
                self._template = self.client._build_request(options)
                raw = self._template.headers.raw
                self._headers = httpx2.Headers(
                    [(k, v) for k, v in raw if k.lower() != b"content-length"]
                )
        # Copying a Headers object is a list copy; building one from pairs, as
        # httpx2 does for every new request, re-checks every header.
        headers = httpx2.Headers(self._headers)
        headers["Content-Length"] = str(len(content))
        return httpx2.Request(
            "POST",
            self._template.url,
            headers=headers,
            stream=httpx2.ByteStream(content),
            extensions=self._template.extensions,
        )

    async def create(self, params: dict[str, Any]) -> ChatCompletion:
        """Send one request body (already the wire JSON's content) and read the answer."""
        if params.get("stream"):
            raise ConfigurationError("streaming is not supported")
        request = await self._request(pydantic_core.to_json(params))
        try:
            response = await self.transport.handle_async_request(request)
            response.request = request  # as the HTTP client would; the SDK's errors need it
            content = await response.aread()
        except ExtractorError:
            raise
        except (httpx2.TransportError, OSError) as exc:
            raise transport_error(exc, request) from exc
        if response.status_code >= 400:
            error = self.client._make_status_error_from_response(response)
            raise status_error(error, key=self.client.api_key)
        return parse_completion(content)


def status_error(error: openai.APIStatusError, key: str | None = None) -> ExtractorError:
    """Our error for an HTTP error status the transport retries did not clear.

    The server's message is quoted without the key (gateways echo it back) or
    anything else credential-like; "after N tries" is said only of a request
    that was retried (429 and 5xx are, a 400 is not).
    """
    message = scrub(error.message, [key] if key else [])
    if isinstance(error, openai.AuthenticationError):
        return ConfigurationError("the server refused the API key (HTTP 401); check OPENAI_API_KEY")
    if isinstance(error, openai.NotFoundError):
        return ConfigurationError(
            f"the server does not know this model or endpoint (HTTP 404): {message}"
        )
    retried = after_tries(error.response)
    return TransportError(f"the server answered HTTP {error.status_code}{retried}: {message}")


def parse_completion(content: bytes) -> ChatCompletion:
    """A chat completion from the answer's bytes: strictly if it fits, else as the SDK would."""
    try:
        return ChatCompletion.model_validate_json(content)
    except pydantic.ValidationError:
        pass
    try:
        data = json.loads(content)
    except ValueError as exc:
        raise ResponseError(f"the server's answer is not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ResponseError("the server's answer is not a chat completion object")
    return ChatCompletion.construct(**data)
