"""OpenAI chat completions in tools mode: the first provider behind the seam.

instructor's handlers for OpenAI tool calls do the model-specific work: the
tool definition from the schema, reading and validating the tool call, and
the re-ask messages that name what failed. Requests go straight onto our
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
from instructor import Provider, response_schema
from instructor.core import AsyncValidationError, IncompleteOutputException, ResponseParsingError
from instructor.v2 import mode_registry
from openai.types.chat import ChatCompletion

from extractor._exceptions import ResponseError
from extractor.model.chat import ChatEndpoint
from extractor.model.providers.base import Unreadable
from extractor.model.ratelimit import RateLimitHeaders
from extractor.schemas import DraftExtraction, Usage
from extractor.settings import Settings

OPENAI_BASE_URL = "https://api.openai.com/v1"

_HANDLERS = mode_registry.get_handlers(Provider.OPENAI, instructor.Mode.TOOLS)

# The draft schema as instructor's tool model (its OpenAI schema and its parser),
# wrapped once; the tool is still named DraftExtraction, as the fixtures expect.
_RESPONSE_MODEL = response_schema(DraftExtraction)


def _tool_params() -> dict[str, Any]:
    """What instructor adds to a request so the answer fills our schema: the tool and its choice.

    The schema travels with every request, so it is sent compact (``_compact``).
    """
    _, params = _HANDLERS.request_handler(response_model=_RESPONSE_MODEL, kwargs={})
    return {k: _compact(v) for k, v in params.items() if k != "messages"}


def _compact(node: Any, *, in_properties: bool = False) -> Any:
    """The same JSON Schema in fewer tokens: nothing a model learns from is lost.

    Per-field titles ("Date Text" for ``date_text``) repeat the key; a null or
    empty default says nothing once every key is required; an enum's docstring
    repeats its field's description; ``anyOf`` a type or null is one ``type``
    list. A property that is named "title" or "default" stays.

    Every property is listed as required (the answer still parses without
    one: the draft models keep their defaults), so a model writes each key,
    in order, null where the article says nothing, which strict structured
    output also demands.
    """
    if isinstance(node, list):
        return [_compact(v) for v in node]
    if not isinstance(node, dict):
        return node
    if in_properties:
        return {k: _compact(v) for k, v in node.items()}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "default" and value in (None, []):
            continue
        if key == "description" and "enum" in node:
            continue
        out[key] = _compact(value, in_properties=key in ("properties", "$defs"))
    if isinstance(out.get("properties"), dict):
        out["required"] = list(out["properties"])
    options = out.get("anyOf")
    if (
        isinstance(options, list)
        and len(options) == 2
        and {"type": "null"} in options
        and all(set(o) == {"type"} and isinstance(o["type"], str) for o in options)
    ):
        del out["anyOf"]
        kinds = [o["type"] for o in options if o["type"] != "null"]
        out = {"type": [*kinds, "null"], **out}
    return out


TOOL_PARAMS = _tool_params()
"""The tool and tool choice every request carries (the same bytes for every article)."""

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
    return Usage(
        prompt_tokens=getattr(raw, "prompt_tokens", 0) or 0,
        completion_tokens=getattr(raw, "completion_tokens", 0) or 0,
        total_tokens=getattr(raw, "total_tokens", 0) or 0,
    )


def stored_request(request: dict[str, Any]) -> dict[str, Any]:
    """The request as stored beside its answer: every tool's schema cut to its name.

    The schema is most of a request's bytes and the same in every row; the key
    (over the whole request) already tells schemas apart.
    """
    body = request.get("body")
    if not isinstance(body, dict) or not isinstance(body.get("tools"), list):
        return request
    names = [
        tool.get("function", {}).get("name") if isinstance(tool, dict) else None
        for tool in body["tools"]
    ]
    return {**request, "body": {**body, "tools": names}}


def worth_keeping(body: Any) -> bool:
    """Whether an answer may be replayed forever: complete, with parseable tool arguments.

    A cut-off or malformed answer is usually a fault of the moment; caching it
    would turn a document that failed once into one that fails on every rerun.
    """
    if not isinstance(body, dict) or not body.get("choices"):
        return False
    choice = body["choices"][0]
    if choice.get("finish_reason") not in ("stop", "tool_calls"):
        return False
    for call in (choice.get("message") or {}).get("tool_calls") or []:
        try:
            orjson.loads(call["function"]["arguments"])
        except (KeyError, TypeError, ValueError):
            return False
    return True


class OpenAIChat:
    """Chat completions with the draft schema as a forced tool call."""

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
        self.sdk = openai.AsyncOpenAI(
            api_key=settings.key_for_client(),
            base_url=settings.base_url or OPENAI_BASE_URL,
            max_retries=0,  # tenacity in RetryingTransport owns transport retries
            timeout=settings.timeout,
            # The client owns the stack (closing it closes the stack); requests
            # go to the stack directly, through ChatEndpoint.
            http_client=httpx2.AsyncClient(transport=stack, timeout=settings.timeout),
        )
        self.endpoint = ChatEndpoint(self.sdk, stack)

    def request(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "model": self.settings.model,
            "messages": list(messages),
            "temperature": self.settings.temperature,
            **TOOL_PARAMS,
        }

    async def send(self, request: dict[str, Any]) -> ChatCompletion:
        return await self.endpoint.create(request)

    def parse(self, answer: ChatCompletion) -> DraftExtraction:
        try:
            draft: DraftExtraction = _HANDLERS.response_parser(
                response=answer,
                response_model=_RESPONSE_MODEL,
                validation_context=None,
                strict=True,
                stream=False,
                is_async=True,
            )
        except IncompleteOutputException as exc:
            raise ResponseError(
                "the model's answer was cut off at its token limit (finish_reason=length)"
            ) from exc
        except _REASKABLE as exc:
            raise Unreadable(str(exc)) from exc
        except Exception as exc:  # a completion too odd for the tool-call parser
            raise ResponseError(f"cannot read the model's answer: {exc!r}") from exc
        return draft

    def reask(
        self, request: dict[str, Any], answer: ChatCompletion, failure: Exception
    ) -> dict[str, Any]:
        """instructor's re-ask, which answers the tool call with what failed."""
        cause = failure.__cause__ if isinstance(failure, Unreadable) else failure
        reasked: dict[str, Any] = _HANDLERS.reask_handler(
            kwargs=request, response=answer, exception=cause or failure
        )
        return reasked

    def usage(self, answer: ChatCompletion) -> Usage:
        return _usage(answer.usage)

    def output(self, answer: ChatCompletion) -> object | None:
        try:
            arguments = answer.choices[0].message.tool_calls[0].function.arguments  # type: ignore[index,union-attr]
            return json.loads(arguments)
        except (AttributeError, IndexError, TypeError, ValueError):
            return None

    async def aclose(self) -> None:
        await self.sdk.close()  # closes the HTTP client, and with it the transport
