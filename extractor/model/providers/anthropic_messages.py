"""Anthropic's Messages API, natively: the draft schema as a forced tool call.

instructor's Anthropic TOOLS handler does the mode-specific work, as the
OpenAI handlers do for OpenAI: the tool definition from the schema (sent
compact, like OpenAI's), reading and validating the ``tool_use`` block, and
the re-ask turn (the assistant's answer, then a ``tool_result`` with
``is_error`` that names what failed). The system prompt travels in the
top-level ``system`` field as one text block marked ``cache_control:
ephemeral``, so Anthropic's prompt cache serves the static prefix (the tool
and the system prompt) to every article after the first. ``max_tokens`` is
required by the API, so the loop's budget is always sent.

Requests go straight onto our transport stack (cache, cassettes, retries,
rate limiter, network) as ``POST {base_url}/messages`` with the API key in
``x-api-key``; answers are read into the SDK's ``anthropic.types.Message``.
The SDK's client is not used: only its types.

JSON-schema mode is not offered: instructor's Anthropic JSON_SCHEMA handler
looks for the SDK's ``output_format`` parameter, which the installed SDK no
longer has (it became ``output_config``), and so falls back, with a warning
on every request, to a schema pasted into the system prompt.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import httpx2
import instructor
import orjson
import pydantic
import pydantic_core
from anthropic.types import Message
from instructor import Provider, response_schema
from instructor.core import AsyncValidationError, IncompleteOutputException, ResponseParsingError
from instructor.v2 import mode_registry

from extractor._exceptions import ConfigurationError, ExtractorError, ResponseError, TransportError
from extractor._redact import scrub
from extractor.model.providers.base import (
    ANTHROPIC_BASE_URL,
    ANTHROPIC_VERSION,
    CutOff,
    Unreadable,
)
from extractor.model.providers.schema import compact, shortened, unbounded
from extractor.model.ratelimit import RateLimitHeaders
from extractor.model.retry import after_tries, transport_error
from extractor.schemas import DraftExtraction, Usage
from extractor.settings import Settings

PATH = "/messages"

_TOOLS = mode_registry.get_handlers(Provider.ANTHROPIC, instructor.Mode.TOOLS)

# The draft schema as instructor's tool model, wrapped once; the tool is named DraftExtraction.
_RESPONSE_MODEL = response_schema(DraftExtraction)

_CACHED = {"type": "ephemeral"}


def _tool_params() -> dict[str, Any]:
    """What instructor adds to a request so the answer fills our schema: the tool and its choice.

    The tool is forced (``tool_choice`` names it, one call only). The schema
    travels with every request, so it is sent compact (``compact``);
    ``TOOL_PARAMS`` leaves its list bounds out (``schema.unbounded`` says why).
    """
    _, params = _TOOLS.request_handler(response_model=_RESPONSE_MODEL, kwargs={"messages": []})
    return {k: compact(v) for k, v in params.items() if k in ("tools", "tool_choice")}


_BOUNDED = _tool_params()
_TOOL = _BOUNDED["tools"][0]

TOOL_PARAMS = {**_BOUNDED, "tools": [{**_TOOL, "input_schema": unbounded(_TOOL["input_schema"])}]}
"""The tool and tool choice every request carries (the same bytes for every article)."""

TOOL_NAME: str = TOOL_PARAMS["tool_choice"]["name"]
"""The one tool an answer may use (``DraftExtraction``)."""

_SHORTER = {**_BOUNDED, "tools": [{**_TOOL, "input_schema": shortened(_TOOL["input_schema"])}]}

# What instructor re-asks for: the answer did not parse or did not validate.
_REASKABLE = (
    pydantic.ValidationError,
    json.JSONDecodeError,
    AsyncValidationError,
    ResponseParsingError,
)


def stored_request(request: dict[str, Any]) -> dict[str, Any]:
    """The request as stored beside its answer: each tool cut to its name.

    The schema is most of a request's bytes and the same in every row; the key
    (over the whole request) already tells schemas apart.
    """
    body = request.get("body")
    if not isinstance(body, dict) or not isinstance(body.get("tools"), list):
        return request
    names = [tool.get("name") if isinstance(tool, dict) else None for tool in body["tools"]]
    return {**request, "body": {**body, "tools": names}}


def worth_keeping(body: Any) -> bool:
    """Whether an answer may be replayed forever: complete, with a tool call holding an object.

    A cut-off (``max_tokens``) or tool-less answer is usually a fault of the
    moment; caching it would turn a document that failed once into one that
    fails on every rerun.
    """
    if not isinstance(body, dict) or body.get("stop_reason") not in ("end_turn", "tool_use"):
        return False
    content = body.get("content")
    if not isinstance(content, list):
        return False
    return any(
        isinstance(block, dict)
        and block.get("type") == "tool_use"
        and block.get("name") == TOOL_NAME
        and isinstance(block.get("input"), dict)
        for block in content
    )


def _usage(raw: Any) -> Usage:
    """Anthropic's counts: the prompt is the uncached input plus what the cache wrote and read."""
    if raw is None:
        return Usage()
    read = getattr(raw, "cache_read_input_tokens", 0) or 0
    write = getattr(raw, "cache_creation_input_tokens", 0) or 0
    prompt = (getattr(raw, "input_tokens", 0) or 0) + read + write
    completion = getattr(raw, "output_tokens", 0) or 0
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=prompt + completion,
        cache_read_tokens=read,
        cache_write_tokens=write,
    )


def _error_message(content: bytes) -> str:
    """The message in Anthropic's error body (``{"type": "error", "error": {...}}``), else text."""
    try:
        data = orjson.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace").strip()[:300] or "no error message"
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        kind = error.get("type")
        return f"{error['message']} ({kind})" if isinstance(kind, str) else error["message"]
    return content.decode("utf-8", "replace").strip()[:300]


def status_error(
    status: int, content: bytes, model: str, key: str | None, retried: str = ""
) -> ExtractorError:
    """Our error for an HTTP error status the transport retries did not clear.

    The key is never in the message, even should the server echo it, nor
    anything else credential-like. ``retried`` is " after N tries" for a
    request that was retried (``retry.after_tries``), else "".
    """
    message = scrub(_error_message(content), [key] if key else [])
    if status == 401:
        return ConfigurationError(
            f"the server refused the API key (HTTP 401); check ANTHROPIC_API_KEY: {message}"
        )
    if status == 404:
        return ConfigurationError(
            f"the server does not know the model {model!r} or this endpoint (HTTP 404): {message}"
        )
    return TransportError(f"the server answered HTTP {status}{retried}: {message}")


def parse_message(content: bytes) -> Message:
    """An Anthropic message from the answer's bytes, or a ``ResponseError`` saying what it is."""
    try:
        return Message.model_validate_json(content)
    except pydantic.ValidationError as exc:
        try:
            orjson.loads(content)
        except ValueError as not_json:
            raise ResponseError(f"the server's answer is not JSON ({not_json})") from exc
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "message"
        raise ResponseError(
            f"the server's answer is not an Anthropic message ({where}: {first['msg']})"
        ) from exc


class AnthropicMessages:
    """Anthropic's Messages API with the draft schema as a forced tool call."""

    default_base_url: ClassVar[str] = ANTHROPIC_BASE_URL
    # Where Anthropic states its request limits; its reset is an RFC 3339 timestamp.
    rate_limit_headers: ClassVar[RateLimitHeaders] = RateLimitHeaders(
        limit="anthropic-ratelimit-requests-limit",
        remaining="anthropic-ratelimit-requests-remaining",
        reset="anthropic-ratelimit-requests-reset",
    )

    @staticmethod
    def worth_keeping(body: Any) -> bool:
        """What the response cache may keep: see the module function."""
        return worth_keeping(body)

    @staticmethod
    def stored_request(request: dict[str, Any]) -> dict[str, Any]:
        """How the response cache stores a request: see the module function."""
        return stored_request(request)

    def __init__(self, settings: Settings, stack: httpx2.AsyncBaseTransport) -> None:
        if settings.output_mode != "tools":
            raise ConfigurationError("anthropic supports --mode tools only")
        self.settings = settings
        self.stack = stack
        self.url = httpx2.URL((settings.base_url or ANTHROPIC_BASE_URL).rstrip("/") + PATH)
        self._key = settings.key_for_client()
        self._headers = httpx2.Headers(
            {
                "x-api-key": self._key,
                "anthropic-version": ANTHROPIC_VERSION,
                "content-type": "application/json",
                "accept": "application/json",
            }
        )
        if auth := settings.basic_auth():  # the base URL's credentials, beside the key
            self._headers["authorization"] = auth
        self._extensions = {"timeout": httpx2.Timeout(settings.timeout).as_dict()}

    def request(
        self, messages: list[dict[str, Any]], *, max_tokens: int, shorter: bool = False
    ) -> dict[str, Any]:
        """The system prompt as a cached block, the other turns, the budget and the forced tool."""
        system = "\n\n".join(
            m["content"] for m in messages if m.get("role") == "system" and m.get("content")
        )
        body: dict[str, Any] = {"model": self.settings.model, "max_tokens": max_tokens}
        if system:
            body["system"] = [{"type": "text", "text": system, "cache_control": _CACHED}]
        body["messages"] = [m for m in messages if m.get("role") != "system"]
        body["temperature"] = self.settings.temperature
        body.update(_SHORTER if shorter else TOOL_PARAMS)
        return body

    async def send(self, request: dict[str, Any]) -> Message:
        """Post one request body onto the stack; the answer as a ``Message``, or our error."""
        if request.get("stream"):
            raise ConfigurationError("streaming is not supported")
        content = pydantic_core.to_json(request)
        headers = httpx2.Headers(self._headers)
        headers["content-length"] = str(len(content))
        http_request = httpx2.Request(
            "POST",
            self.url,
            headers=headers,
            stream=httpx2.ByteStream(content),
            extensions=self._extensions,
        )
        try:
            response = await self.stack.handle_async_request(http_request)
            answer = await response.aread()
        except ExtractorError:
            raise
        except (httpx2.TransportError, OSError) as exc:
            raise transport_error(exc, http_request) from exc
        if response.status_code >= 400:
            raise status_error(
                response.status_code, answer, self.settings.model, self._key, after_tries(response)
            )
        return parse_message(answer)

    def parse(self, answer: Message) -> DraftExtraction:
        if answer.stop_reason == "max_tokens":
            raise CutOff("the answer was cut off at its token limit (stop_reason=max_tokens)")
        if not any(block.type == "tool_use" for block in answer.content):
            text = " ".join(getattr(b, "text", "") for b in answer.content if b.type == "text")
            said = f": {' '.join(text.split())[:200]!r}" if text.strip() else ""
            raise ResponseError(
                f"the model answered without calling the tool "
                f"(stop_reason={answer.stop_reason}){said}"
            )
        called = next(block.name for block in answer.content if block.type == "tool_use")
        if called != TOOL_NAME:
            # instructor reads the first tool_use's input whatever it is named; a
            # call of another tool is an invalid answer, re-asked like one.
            raise Unreadable(f"the answer used a tool named {called!r}; use {TOOL_NAME!r}")
        try:
            draft: DraftExtraction = _TOOLS.response_parser(
                response=answer,
                response_model=_RESPONSE_MODEL,
                validation_context=None,
                strict=True,
                stream=False,
                is_async=True,
            )
        except IncompleteOutputException as exc:
            raise CutOff("the answer was cut off at its token limit") from exc
        except _REASKABLE as exc:
            raise Unreadable(str(exc)) from exc
        except Exception as exc:  # an answer too odd for the parser
            raise ResponseError(f"cannot read the model's answer: {exc!r}") from exc
        return draft

    def reask(self, request: dict[str, Any], answer: Message, failure: Exception) -> dict[str, Any]:
        """instructor's re-ask: the answer as the assistant's turn, then a tool_result is_error."""
        cause = failure.__cause__ if isinstance(failure, Unreadable) else failure
        reasked: dict[str, Any] = _TOOLS.reask_handler(
            kwargs={**request, "messages": list(request["messages"])},
            response=answer,
            exception=cause or failure,
        )
        return reasked

    def usage(self, answer: Message) -> Usage:
        return _usage(answer.usage)

    def output(self, answer: Message) -> object | None:
        """The tool call's input, read leniently: a cut-off answer keeps its complete parts."""
        for block in answer.content:
            if block.type == "tool_use":
                # Another tool's input is nothing to salvage.
                return block.input if block.name == TOOL_NAME else None
        for block in answer.content:
            if block.type == "text":
                try:
                    return pydantic_core.from_json(block.text, allow_partial=True)
                except ValueError:
                    return None
        return None

    async def aclose(self) -> None:
        await self.stack.aclose()
