"""The one place that talks to the model.

Builds the HTTP stack (response cache, cassette record/replay, tenacity
retries, rate limiter, then ``network``'s aiohttp transport) under an OpenAI
client whose own retries are off, wraps it with instructor, and asks for a
``DraftExtraction`` with the document's aligner set in ``GROUNDING`` so
ungrounded quotes are re-asked. Whatever goes wrong leaves here as an ``ExtractorError``; a spent
re-ask budget is not an error but a lenient parse of the last answer plus a
warning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx2
import instructor
import openai
import pydantic
import pydantic_core
from instructor.core import Hooks, IncompleteOutputException, InstructorRetryException
from instructor.v2.core import patch as instructor_patch
from instructor.v2.core.client import AsyncInstructor
from instructor.v2.core.function_calls import response_schema
from instructor.v2.core.providers import Provider

# instructor loads its OpenAI handlers (and, through them, requests and urllib3)
# on the first request, which stalled a batch's first documents for 0.2 s; loading
# them with the rest of the stack moves that to start-up.
from instructor.v2.providers.openai import handlers as _openai_handlers  # noqa: F401
from instructor.v2.validation import async_validators
from openai.types.chat import ChatCompletion

from ._exceptions import (
    ConfigurationError,
    ExtractorError,
    ResponseError,
    TransportError,
)
from .cache import CachingTransport, ResponseCache, open_cache
from .cassette import CassetteStore, CassetteTransport
from .grounding import Aligner
from .network import NetworkTransport
from .ratelimit import RateLimitedTransport, RateLimiter
from .schemas import DraftExtraction, Usage
from .schemas.draft import GROUNDING, parse_leniently
from .settings import Settings
from .transport import RetryingTransport

OPENAI_BASE_URL = "https://api.openai.com/v1"


def _check_each_model_once() -> None:
    """Make instructor check a response model for async validators once, not on every call.

    instructor 1.17 walks the whole model tree up to seven times per request
    (about 3 ms of the 15 ms the client spends per document). A class that
    passed the check passes it again, so only the first walk per class is kept;
    models that fail still raise every time. Pinned with instructor==1.17.0.
    """
    original = async_validators.reject_async_validators
    passed: set[type] = set()

    def reject_async_validators(response_model: Any) -> None:
        if isinstance(response_model, type) and response_model in passed:
            return
        original(response_model)
        if isinstance(response_model, type):
            passed.add(response_model)

    async_validators.reject_async_validators = reject_async_validators
    instructor_patch.reject_async_validators = reject_async_validators  # imported by name there


_check_each_model_once()

# instructor wraps a plain model in a fresh subclass on every call, which defeats
# its schema cache (about 6 ms a call); wrapping once here keeps the same tool
# schema and name, so requests, and the fixtures keyed by them, are unchanged.
_RESPONSE_MODEL = response_schema(DraftExtraction)


def _completions(client: openai.AsyncOpenAI) -> Any:
    """Chat completions as instructor's ``create``: the SDK's request, minus its costly steps.

    ``chat.completions.create`` runs every request through the SDK's
    type-directed transform, which walks the whole tool schema only to rename
    aliased keys (our requests have none: what we pass is already the wire
    body), encodes the body with the standard library's JSON encoder, and
    builds the answer with the SDK's lenient recursive constructor. Together
    they were a fifth of the client's CPU per document. Here pydantic's
    compiled encoder writes the same JSON (keys are computed over the parsed
    body, so fixtures and cache entries are unchanged), the SDK's documented
    ``post`` sends it (keeping auth, the HTTP client with our transport stack,
    and the SDK's status errors), and pydantic's compiled validator reads the
    answer; only an answer that fails it (an OpenAI-compatible server's
    variation) takes the SDK's lenient path. ``tests/test_llm.py`` checks that
    the transform would leave our bodies unchanged.
    """

    async def create(**params: Any) -> ChatCompletion:
        if params.get("stream"):
            raise ConfigurationError("streaming is not supported")
        response = await client.post(
            "/chat/completions",
            content=pydantic_core.to_json(params),
            cast_to=httpx2.Response,
            options={"security": {"bearer_auth": True}},
        )
        return parse_completion(response.content)

    return create


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
    """An instructor client over our transport stack; one per run, shared by documents."""

    def __init__(
        self,
        settings: Settings,
        transport: httpx2.AsyncBaseTransport | None = None,
        *,
        inner: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        """``transport`` replaces the whole HTTP stack; ``inner`` only the network (tests).

        The SDK and instructor clients are built on the first call, so a run
        answered wholly from the result cache never pays for them.
        """
        self.settings = settings
        self.cache = open_cache(settings)
        self._transport = transport
        self._inner = inner
        self._openai: openai.AsyncOpenAI | None = None
        self._instructor_client: Any = None

    @property
    def _instructor(self) -> Any:
        if self._instructor_client is None:
            settings = self.settings
            stack = self._transport or build_transport(settings, self._inner, cache=self.cache)
            self._openai = openai.AsyncOpenAI(
                api_key=settings.key_for_client(),
                base_url=settings.base_url or OPENAI_BASE_URL,
                max_retries=0,  # tenacity in RetryingTransport owns transport retries
                timeout=settings.timeout,
                http_client=httpx2.AsyncClient(transport=stack, timeout=settings.timeout),
            )
            mode = instructor.Mode.TOOLS
            self._instructor_client = AsyncInstructor(
                client=self._openai,
                create=instructor_patch.patch_v2(
                    func=_completions(self._openai), provider=Provider.OPENAI, mode=mode
                ),
                provider=Provider.OPENAI,
                mode=mode,
            )
        return self._instructor_client

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

    async def ask(self, messages: list[dict[str, Any]], aligner: Aligner) -> DraftAnswer:
        """Ask for a draft; re-ask on ungrounded quotes; never raise for a spent budget."""
        attempts = 0

        def count(*_: Any, **__: Any) -> None:
            nonlocal attempts
            attempts += 1

        hooks = Hooks()
        hooks.on("completion:response", count)
        grounding = GROUNDING.set(aligner)
        try:
            draft, completion = await self._instructor.chat.completions.create_with_completion(
                model=self.settings.model,
                messages=messages,  # type: ignore[arg-type]
                response_model=_RESPONSE_MODEL,
                max_retries=self.settings.reasks,
                hooks=hooks,
                temperature=self.settings.temperature,
            )
        except IncompleteOutputException as exc:
            raise ResponseError(
                "the model's answer was cut off at its token limit (finish_reason=length)"
            ) from exc
        except InstructorRetryException as exc:
            _raise_if_not_validation(exc)
            return _salvage(exc, attempts)
        except Exception as exc:
            _raise_if_not_validation(exc)
            raise
        finally:
            GROUNDING.reset(grounding)
        return DraftAnswer(draft=draft, usage=_usage(completion.usage), attempts=attempts)


def _salvage(exc: InstructorRetryException, attempts: int) -> DraftAnswer:
    """Keep what is well formed in the last answer once re-asks are spent."""
    completion: Any = exc.last_completion
    try:
        arguments = completion.choices[0].message.tool_calls[0].function.arguments
        data = json.loads(arguments)
    except (AttributeError, IndexError, TypeError, ValueError) as parse_exc:
        raise ResponseError(
            f"no usable answer after {exc.n_attempts} attempts: {_first_line(exc)}"
        ) from parse_exc
    draft, skipped = parse_leniently(data)
    warning = (
        f"the answer still failed validation after {exc.n_attempts} attempts "
        f"({_first_line(exc)}); kept only well-formed, grounded records"
    )
    return DraftAnswer(
        draft=draft,
        usage=_usage(exc.total_usage),
        attempts=max(attempts, exc.n_attempts or 0),
        warnings=[warning, *skipped],
    )


def _first_line(exc: BaseException) -> str:
    # instructor's str() of a retry exception is an XML dump of every attempt
    # ("<failed_attempts>..."); its first argument is the last error's text.
    text = str(exc.args[0]) if isinstance(exc, InstructorRetryException) and exc.args else str(exc)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "; ".join(lines[:3])[:300]


def _raise_if_not_validation(exc: BaseException) -> None:
    """Surface the real cause of a failed call as our own error, or return if it is validation.

    The SDK wraps transport exceptions (``APIConnectionError``) and instructor
    wraps those again, so the cause chain is walked to find what happened.
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ExtractorError):
            raise seen from None
        if isinstance(seen, openai.AuthenticationError):
            raise ConfigurationError(
                "the server refused the API key (HTTP 401); check OPENAI_API_KEY"
            ) from seen
        if isinstance(seen, openai.NotFoundError):
            raise ConfigurationError(
                f"the server does not know this model or endpoint (HTTP 404): {seen.message}"
            ) from seen
        if isinstance(seen, openai.APIStatusError):
            raise TransportError(
                f"the server answered HTTP {seen.status_code} after all retries: {seen.message}"
            ) from seen
        if isinstance(seen, openai.APITimeoutError):
            raise TransportError("the request timed out after all retries") from seen
        if isinstance(seen, openai.APIConnectionError):
            cause = seen.__cause__
            if isinstance(cause, ExtractorError):
                raise cause from None
            raise TransportError(f"cannot reach the server: {cause or seen}") from seen
        seen = seen.__cause__ or seen.__context__
