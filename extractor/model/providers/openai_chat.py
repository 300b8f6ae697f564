"""OpenAI chat completions, in tools or JSON-schema mode: the first provider behind the seam.

instructor's handlers for each mode do the mode-specific work: the tool
definition or the response format from the schema, reading and validating the
answer, and the re-ask messages that name what failed. Tools mode (a forced
tool call) is what OpenAI does best; JSON-schema mode (``response_format``
``json_schema``, strict) is what local servers do best, because they decode
against the schema and so always return valid JSON, where many of them treat
a forced tool call as optional. Requests go straight onto our
transport stack through ``ChatEndpoint`` (``extractor.model.chat``), under an
SDK client whose own retries are off: tenacity in the stack owns retries. Any
OpenAI-compatible server (Ollama, vLLM, llama.cpp) is reached the same way,
with a base URL.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import httpx2
import instructor
import openai
import orjson
import pydantic
import pydantic_core
from instructor import Provider, response_schema
from instructor.core import AsyncValidationError, IncompleteOutputException, ResponseParsingError
from instructor.v2 import mode_registry
from openai.types.chat import ChatCompletion

from extractor._exceptions import ResponseError
from extractor.model.chat import ChatEndpoint
from extractor.model.providers.base import CutOff, Unreadable
from extractor.model.providers.schema import compact, shortened, strict, unbounded
from extractor.model.ratelimit import RateLimitHeaders
from extractor.schemas import DraftExtraction, Usage
from extractor.settings import Settings

OPENAI_BASE_URL = "https://api.openai.com/v1"

_TOOLS = mode_registry.get_handlers(Provider.OPENAI, instructor.Mode.TOOLS)
_JSON_SCHEMA = mode_registry.get_handlers(Provider.OPENAI, instructor.Mode.JSON_SCHEMA)
_HANDLERS = {"tools": _TOOLS, "json_schema": _JSON_SCHEMA}

# The draft schema as instructor's tool model (its OpenAI schema and its parser),
# wrapped once; the tool is still named DraftExtraction, as the fixtures expect.
_RESPONSE_MODEL = response_schema(DraftExtraction)


def _tool_params() -> dict[str, Any]:
    """What instructor adds to a request so the answer fills our schema: the tool and its choice.

    The schema travels with every request, so it is sent compact (``compact``);
    ``TOOL_PARAMS`` leaves its list bounds out (``schema.unbounded`` says why).
    """
    _, params = _TOOLS.request_handler(response_model=_RESPONSE_MODEL, kwargs={})
    return {k: compact(v) for k, v in params.items() if k != "messages"}


def _with_parameters(params: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """``params`` with the one tool's parameters replaced."""
    tool = params["tools"][0]
    function = {**tool["function"], "parameters": parameters}
    return {**params, "tools": [{**tool, "function": function}]}


def _json_schema_params() -> dict[str, Any]:
    """instructor's response format for the draft schema, compact and strict."""
    _, params = _JSON_SCHEMA.request_handler(response_model=_RESPONSE_MODEL, kwargs={})
    response_format = params["response_format"]
    spec = response_format["json_schema"]
    schema = strict(compact(spec["schema"]))
    return {
        "response_format": {
            **response_format,
            "json_schema": {"name": spec["name"], "strict": True, "schema": schema},
        }
    }


_BOUNDED_TOOL_PARAMS = _tool_params()
_BOUNDED_PARAMETERS = _BOUNDED_TOOL_PARAMS["tools"][0]["function"]["parameters"]

TOOL_PARAMS = _with_parameters(_BOUNDED_TOOL_PARAMS, unbounded(_BOUNDED_PARAMETERS))
"""The tool and tool choice every tools-mode request carries (the same bytes for every article)."""

TOOL_NAME: str = TOOL_PARAMS["tool_choice"]["function"]["name"]
"""The one function an answer may call (``DraftExtraction``)."""

JSON_SCHEMA_PARAMS = _json_schema_params()
"""The response format every json_schema-mode request carries."""

_SHORTER = {
    "tools": _with_parameters(_BOUNDED_TOOL_PARAMS, shortened(_BOUNDED_PARAMETERS)),
    "json_schema": {
        "response_format": {
            **JSON_SCHEMA_PARAMS["response_format"],
            "json_schema": {
                **JSON_SCHEMA_PARAMS["response_format"]["json_schema"],
                "schema": shortened(JSON_SCHEMA_PARAMS["response_format"]["json_schema"]["schema"]),
            },
        }
    },
}
_PARAMS = {"tools": TOOL_PARAMS, "json_schema": JSON_SCHEMA_PARAMS}

# What instructor re-asks for: the answer did not parse or did not validate.
_REASKABLE = (
    pydantic.ValidationError,
    json.JSONDecodeError,
    AsyncValidationError,
    ResponseParsingError,
)


def _usage(raw: Any) -> Usage:
    if raw is None:
        return Usage()
    details = getattr(raw, "prompt_tokens_details", None)
    return Usage(
        prompt_tokens=getattr(raw, "prompt_tokens", 0) or 0,
        completion_tokens=getattr(raw, "completion_tokens", 0) or 0,
        total_tokens=getattr(raw, "total_tokens", 0) or 0,
        cache_read_tokens=getattr(details, "cached_tokens", 0) or 0,
    )


def stored_request(request: dict[str, Any]) -> dict[str, Any]:
    """The request as stored beside its answer: the schema cut to its name.

    The schema is most of a request's bytes and the same in every row; the key
    (over the whole request) already tells schemas apart.
    """
    body = request.get("body")
    if not isinstance(body, dict):
        return request
    if isinstance(body.get("tools"), list):
        names = [
            tool.get("function", {}).get("name") if isinstance(tool, dict) else None
            for tool in body["tools"]
        ]
        return {**request, "body": {**body, "tools": names}}
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and isinstance(response_format.get("json_schema"), dict):
        name = response_format["json_schema"].get("name")
        return {**request, "body": {**body, "response_format": {"json_schema": name}}}
    return request


def _answer_text(body: dict[str, Any]) -> list[str] | None:
    """The structured output an answer body carries: tool arguments, else the JSON content."""
    message = body["choices"][0].get("message") or {}
    calls = message.get("tool_calls")
    if calls:
        if any(call["function"].get("name") != TOOL_NAME for call in calls):
            return None  # another tool's arguments are no answer to keep
        return [call["function"]["arguments"] for call in calls]
    content = message.get("content")
    return [content] if isinstance(content, str) and content.strip() else None


def worth_keeping(body: Any) -> bool:
    """Whether an answer may be replayed forever: complete, with parseable structured output.

    A cut-off or malformed answer is usually a fault of the moment; caching it
    would turn a document that failed once into one that fails on every rerun.
    """
    if not isinstance(body, dict) or not body.get("choices"):
        return False
    if body["choices"][0].get("finish_reason") not in ("stop", "tool_calls"):
        return False
    try:
        texts = _answer_text(body)
        for text in texts or []:
            orjson.loads(text)
    except (KeyError, TypeError, ValueError):
        return False
    return texts is not None


class OpenAIChat:
    """Chat completions with the draft schema as a forced tool call or a response format."""

    default_base_url: ClassVar[str] = OPENAI_BASE_URL
    # Where OpenAI (and servers copying it) state their request limits.
    rate_limit_headers: ClassVar[RateLimitHeaders] = RateLimitHeaders(
        limit="x-ratelimit-limit-requests",
        remaining="x-ratelimit-remaining-requests",
        reset="x-ratelimit-reset-requests",
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
        self.settings = settings
        self.mode = settings.output_mode
        self.handlers = _HANDLERS[self.mode]
        self.sdk = openai.AsyncOpenAI(
            api_key=settings.key_for_client(),
            base_url=settings.base_url or OPENAI_BASE_URL,
            max_retries=0,  # tenacity in RetryingTransport owns transport retries
            timeout=settings.timeout,
            # Credentials from the base URL replace the key's Bearer header (a header
            # the SDK is given wins over its own); ensure_runnable refuses both at once.
            default_headers={"Authorization": auth} if (auth := settings.basic_auth()) else None,
            # The client owns the stack (closing it closes the stack); requests
            # go to the stack directly, through ChatEndpoint.
            http_client=httpx2.AsyncClient(transport=stack, timeout=settings.timeout),
        )
        self.endpoint = ChatEndpoint(self.sdk, stack)

    def request(
        self, messages: list[dict[str, Any]], *, max_tokens: int, shorter: bool = False
    ) -> dict[str, Any]:
        """The draft schema as a tool (tools) or a strict response format (json_schema).

        ``max_tokens`` is sent in json_schema mode (a local model must not
        write until its context is full) and in tools mode only when the user
        set one, since OpenAI's newer models refuse the parameter by that name.
        """
        body: dict[str, Any] = {
            "model": self.settings.model,
            "messages": list(messages),
            "temperature": self.settings.temperature,
            **(_SHORTER if shorter else _PARAMS)[self.mode],
        }
        if self.mode == "json_schema" or self.settings.max_tokens is not None:
            body["max_tokens"] = max_tokens
        if (penalty := self.settings.repetition_penalty) is not None:
            body["repeat_penalty"] = penalty  # llama.cpp's name
            body["repetition_penalty"] = penalty  # vLLM's
        return body

    async def send(self, request: dict[str, Any]) -> ChatCompletion:
        return await self.endpoint.create(request)

    def parse(self, answer: ChatCompletion) -> DraftExtraction:
        choices = getattr(answer, "choices", None) or []
        message = choices[0].message if choices else None
        if self.mode == "tools" and message is not None and not message.tool_calls:
            if choices[0].finish_reason == "length":
                raise CutOff("the answer was cut off at its token limit before any tool call")
            raise ResponseError(
                "the model answered in text instead of calling the tool (this server or model "
                "does not follow forced tool calls): try --mode json_schema"
            )
        if self.mode == "tools" and message is not None and message.tool_calls:
            function = getattr(message.tool_calls[0], "function", None)
            if function is not None and (called := function.name) != TOOL_NAME:
                # instructor reads the first call's arguments whatever it is named; a
                # call of another function is an invalid answer, re-asked like one.
                raise Unreadable(
                    f"the answer called a function named {called!r}; call {TOOL_NAME!r}"
                )
        if self.mode == "json_schema" and message is not None and not message.tool_calls:
            content = (message.content or "").lstrip()
            if not content.startswith("{") and choices[0].finish_reason != "length":
                raise Unreadable(
                    "the answer holds no JSON object (if this server ignores response_format "
                    "json_schema, try --mode tools)"
                )
        try:
            draft: DraftExtraction = self.handlers.response_parser(
                response=answer,
                response_model=_RESPONSE_MODEL,
                validation_context=None,
                strict=True,
                stream=False,
                is_async=True,
            )
        except IncompleteOutputException as exc:
            raise CutOff(
                "the answer was cut off at its token limit (finish_reason=length)"
            ) from exc
        except _REASKABLE as exc:
            raise Unreadable(str(exc)) from exc
        except Exception as exc:  # a completion too odd for the parser
            raise ResponseError(f"cannot read the model's answer: {exc!r}") from exc
        return draft

    def reask(
        self, request: dict[str, Any], answer: ChatCompletion, failure: Exception
    ) -> dict[str, Any]:
        """instructor's re-ask for the mode, which answers the answer with what failed."""
        cause = failure.__cause__ if isinstance(failure, Unreadable) else failure
        reasked: dict[str, Any] = self.handlers.reask_handler(
            kwargs={**request, "messages": list(request["messages"])},
            response=answer,
            exception=cause or failure,
        )
        return reasked

    def usage(self, answer: ChatCompletion) -> Usage:
        return _usage(answer.usage)

    def output(self, answer: ChatCompletion) -> object | None:
        """The answer's JSON, read leniently: a cut-off answer keeps its complete parts."""
        try:
            message = answer.choices[0].message
            if message.tool_calls:
                function = message.tool_calls[0].function  # type: ignore[union-attr]
                if function.name != TOOL_NAME:
                    return None  # another function's arguments are nothing to salvage
                text = function.arguments
            else:
                text = message.content or ""
            return pydantic_core.from_json(text, allow_partial=True)
        except (AttributeError, IndexError, TypeError, ValueError):
            return None

    async def aclose(self) -> None:
        await self.sdk.close()  # closes the HTTP client, and with it the transport
