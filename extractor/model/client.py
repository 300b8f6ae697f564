"""The one place that talks to the model.

Builds the HTTP stack (response cache, cassette record/replay, tenacity
retries, rate limiter, then ``network``'s aiohttp transport) under an OpenAI
client whose own retries are off, and asks for a ``DraftExtraction``, re-asking
with what the caller's support check finds unsupported.

instructor's handlers for OpenAI tool calls do the model-specific work: the
tool definition from the schema, reading and validating the tool call, and
the re-ask messages that name what failed. The loop around them is ours
(``ModelClient.ask``): instructor's own loop deep-copies the request and the
usage on every call and runs tenacity for what is a plain count, a fifth of
the client's CPU per document. Whatever goes wrong leaves here as an
``ExtractorError``; a spent re-ask budget is not an error but a lenient parse
of the last answer plus a warning.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx2
import instructor
import openai
import pydantic
from instructor import Provider, response_schema
from instructor.core import AsyncValidationError, IncompleteOutputException, ResponseParsingError
from instructor.v2 import mode_registry
from openai.types.chat import ChatCompletion

from extractor._exceptions import ResponseError
from extractor.model.cache import CachingTransport, ResponseCache, open_cache
from extractor.model.cassette import CassetteStore, CassetteTransport
from extractor.model.chat import ChatEndpoint
from extractor.model.network import NetworkTransport
from extractor.model.ratelimit import RateLimitedTransport, RateLimiter
from extractor.model.retry import RetryingTransport
from extractor.schemas import DraftExtraction, Usage
from extractor.schemas.draft import parse_leniently
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


_TOOL_PARAMS = _tool_params()

# What instructor re-asks for: the answer did not parse or did not validate.
_REASKABLE = (
    pydantic.ValidationError,
    json.JSONDecodeError,
    AsyncValidationError,
    ResponseParsingError,
)


@dataclass
class DraftAnswer:
    """The model's answer for one document and what it cost."""

    draft: DraftExtraction
    usage: Usage
    attempts: int
    warnings: list[str] = field(default_factory=list)


def _usage(raw: Any) -> Usage:
    if raw is None:
        return Usage()
    return Usage(
        prompt_tokens=getattr(raw, "prompt_tokens", 0) or 0,
        completion_tokens=getattr(raw, "completion_tokens", 0) or 0,
        total_tokens=getattr(raw, "total_tokens", 0) or 0,
    )


def build_transport(
    settings: Settings,
    inner: httpx2.AsyncBaseTransport | None = None,
    cache: ResponseCache | None = None,
) -> httpx2.AsyncBaseTransport:
    """The HTTP stack for the settings' mode; ``inner`` replaces the network (tests).

    From the top: response cache (live and record modes, unless disabled),
    cassette recorder (record mode), tenacity retries, rate limiter, network.
    Replay mode is the cassette alone: it never reaches further down.
    """
    base_url = settings.base_url or OPENAI_BASE_URL
    if settings.mode == "replay":
        assert settings.cassette_dir is not None
        return CassetteTransport(CassetteStore(settings.cassette_dir), "replay", base_url=base_url)
    limiter = RateLimiter(rpm=settings.rpm, tpm=settings.tpm, max_pause=settings.max_backoff)
    stack: httpx2.AsyncBaseTransport = RetryingTransport(
        RateLimitedTransport(inner or NetworkTransport(), limiter),
        retries=settings.transport_retries,
        max_backoff=settings.max_backoff,
    )
    if settings.mode == "record":
        assert settings.cassette_dir is not None
        stack = CassetteTransport(
            CassetteStore(settings.cassette_dir), "record", base_url=base_url, inner=stack
        )
    if cache is not None:
        stack = CachingTransport(cache, stack, base_url=base_url)
    return stack


class ModelClient:
    """The model behind our transport stack; one per run, shared by documents."""

    def __init__(
        self,
        settings: Settings,
        transport: httpx2.AsyncBaseTransport | None = None,
        *,
        inner: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        """``transport`` replaces the whole HTTP stack; ``inner`` only the network (tests).

        The SDK client and the stack are built on the first call, so a run
        answered wholly from the result cache never pays for them.
        """
        self.settings = settings
        self.cache = open_cache(settings)
        self._transport = transport
        self._inner = inner
        self._openai: openai.AsyncOpenAI | None = None
        self._endpoint: ChatEndpoint | None = None

    @property
    def _chat(self) -> ChatEndpoint:
        if self._endpoint is None:
            settings = self.settings
            stack = self._transport or build_transport(settings, self._inner, cache=self.cache)
            self._openai = openai.AsyncOpenAI(
                api_key=settings.key_for_client(),
                base_url=settings.base_url or OPENAI_BASE_URL,
                max_retries=0,  # tenacity in RetryingTransport owns transport retries
                timeout=settings.timeout,
                # The client owns the stack (closing it closes the stack); requests
                # go to the stack directly, through ChatEndpoint.
                http_client=httpx2.AsyncClient(transport=stack, timeout=settings.timeout),
            )
            self._endpoint = ChatEndpoint(self._openai, stack)
        return self._endpoint

    async def __aenter__(self) -> ModelClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._openai is not None:
            await self._openai.close()  # closes the HTTP client, and with it the transport
        if self.cache is not None:
            self.cache.close()

    async def ask(
        self, messages: list[dict[str, Any]], check: Callable[[DraftExtraction], list[str]]
    ) -> DraftAnswer:
        """Ask for a draft; re-ask on what ``check`` finds; never raise for a spent budget.

        Each answer is read by instructor's tool-call parser into the draft
        schema (structure and vocabularies), then ``check`` lists what the
        article does not support (quotes not in it, fields their quotes do not
        carry). Either failure goes back to the model in instructor's re-ask
        messages, up to ``settings.reasks`` times; every attempt's tokens are
        counted. A structurally valid last answer is returned as it is, and
        the support step drops or nulls what it still cannot back.
        """
        chat = self._chat
        params = {
            "model": self.settings.model,
            "messages": list(messages),
            "temperature": self.settings.temperature,
            **_TOOL_PARAMS,
        }
        usage = Usage()
        for attempt in range(1, self.settings.reasks + 2):
            completion = await chat.create(params)
            usage = usage + _usage(completion.usage)
            last = attempt > self.settings.reasks
            try:
                draft = _HANDLERS.response_parser(
                    response=completion,
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
                if last:
                    return _salvage(completion, exc, attempt, usage)
                params = _reask(params, completion, exc)
                continue
            except Exception as exc:  # a completion too odd for the tool-call parser
                raise ResponseError(f"cannot read the model's answer: {exc!r}") from exc
            problems = check(draft)
            if problems and not last:
                params = _reask(params, completion, ValueError(_fix_these(problems)))
                continue
            warnings = (
                [f"the answer still had unsupported fields after {attempt} attempts"]
                if problems
                else []
            )
            return DraftAnswer(draft=draft, usage=usage, attempts=attempt, warnings=warnings)
        raise AssertionError("unreachable: the last attempt returns or raises")


def _fix_these(problems: list[str]) -> str:
    """What the model reads on a re-ask: each unsupported field, and how to fix it."""
    return (
        "Fix these and answer again:\n- "
        + "\n- ".join(problems)
        + "\nCopy every quote word for word from the article, each quote carrying its "
        "own field; correct each one listed, or remove the record it belongs to."
    )


def _reask(
    params: dict[str, Any], completion: ChatCompletion, failure: Exception
) -> dict[str, Any]:
    """The next request: instructor's re-ask, which answers the tool call with what failed."""
    try:
        reasked: dict[str, Any] = _HANDLERS.reask_handler(
            kwargs=params, response=completion, exception=failure
        )
    except Exception as exc:  # nothing in the answer to reply to (no choices, no message)
        raise ResponseError(f"no usable answer to re-ask about: {_first_lines(failure)}") from exc
    return reasked


def _salvage(
    completion: ChatCompletion, failure: Exception, attempts: int, usage: Usage
) -> DraftAnswer:
    """Keep what is well formed in the last answer once re-asks are spent."""
    try:
        arguments = completion.choices[0].message.tool_calls[0].function.arguments  # type: ignore[index,union-attr]
        data = json.loads(arguments)
    except (AttributeError, IndexError, TypeError, ValueError) as parse_exc:
        raise ResponseError(
            f"no usable answer after {attempts} attempts: {_first_lines(failure)}"
        ) from parse_exc
    draft, skipped = parse_leniently(data)
    warning = (
        f"the answer still failed validation after {attempts} attempts "
        f"({_first_lines(failure)}); kept only well-formed, grounded records"
    )
    return DraftAnswer(draft=draft, usage=usage, attempts=attempts, warnings=[warning, *skipped])


def _first_lines(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return "; ".join(lines[:3])[:300]
