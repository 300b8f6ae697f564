"""The re-ask loop, over the HTTP stack and a provider.

Builds the HTTP stack (response cache, cassette record/replay, tenacity
retries, rate limiter, then ``network``'s aiohttp transport) and asks the
provider (``extractor.model.providers``) for a ``DraftExtraction``, re-asking
with what does not parse or what the caller's support check finds
unsupported. The loop is ours: instructor's own loop deep-copies the request
and the usage on every call and runs tenacity for what is a plain count, a
fifth of the client's CPU per document. Whatever goes wrong leaves here as an
``ExtractorError``; a spent re-ask budget is not an error but a lenient parse
of the last answer plus a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx2

from extractor._exceptions import ResponseError
from extractor._redact import scrub
from extractor.model.cache import CachingTransport, ResponseCache, open_cache
from extractor.model.cassette import CassetteStore, CassetteTransport
from extractor.model.fleet import build_fleet
from extractor.model.local import LocalServer
from extractor.model.network import NetworkTransport
from extractor.model.prompting import article_message
from extractor.model.providers import OPENAI_BASE_URL, PROVIDERS, CutOff, Provider, Unreadable
from extractor.model.ratelimit import RateLimitedTransport, RateLimiter
from extractor.model.requestlog import RequestLogTransport
from extractor.model.retry import RetryingTransport
from extractor.schemas import DraftExtraction, Usage
from extractor.schemas.draft import parse_leniently
from extractor.settings import Settings

__all__ = [
    "OPENAI_BASE_URL",
    "DraftAnswer",
    "ModelClient",
    "Verdict",
    "answer_budget",
    "build_transport",
]


@dataclass
class DraftAnswer:
    """The model's answer for one document and what it cost."""

    draft: DraftExtraction
    usage: Usage
    attempts: int
    warnings: list[str] = field(default_factory=list)


def build_transport(
    settings: Settings,
    inner: httpx2.AsyncBaseTransport | None = None,
    cache: ResponseCache | None = None,
) -> httpx2.AsyncBaseTransport:
    """The HTTP stack for the settings' mode; ``inner`` replaces the network (tests).

    From the top: response cache (live and record modes, unless disabled),
    cassette recorder (record mode), tenacity retries, rate limiter, the
    request log (``--verbose``'s line per request), network. With several
    servers (``settings.replicas``) the fleet takes the rate limiter's place,
    each server below it with its own limiter, request log and network.
    Replay mode is the cassette alone: it never reaches further down.
    """
    provider = PROVIDERS[settings.provider]
    base_url = settings.base_url or provider.default_base_url
    if settings.mode == "replay":
        assert settings.cassette_dir is not None
        return CassetteTransport(CassetteStore(settings.cassette_dir), "replay", base_url=base_url)
    below: httpx2.AsyncBaseTransport
    if settings.replicas:
        # Several servers: each its own limiter, request log and network, under the fleet.
        below = build_fleet(
            settings,
            provider=settings.provider,
            rate_limit_headers=provider.rate_limit_headers,
            inner=inner,
        )
    else:
        limiter = RateLimiter(
            rpm=settings.rpm,
            tpm=settings.tpm,
            headers=provider.rate_limit_headers,
            max_pause=settings.max_backoff,
            share=1 / settings.workers,
        )
        network = RequestLogTransport(inner or NetworkTransport(), settings.provider)
        below = RateLimitedTransport(network, limiter)
    stack: httpx2.AsyncBaseTransport = RetryingTransport(
        below, retries=settings.transport_retries, max_backoff=settings.max_backoff
    )
    if settings.mode == "record":
        assert settings.cassette_dir is not None
        stack = CassetteTransport(
            CassetteStore(settings.cassette_dir), "record", base_url=base_url, inner=stack
        )
    if cache is not None:
        stack = CachingTransport(cache, stack, base_url=base_url, answers=provider)
    return stack


class ModelClient:
    """The run's one object: its settings, its caches and its provider, shared by documents.

    Opened once per run (``async with``), it owns what outlives one document:
    the response and result cache, the HTTP stack and the provider over it, and
    the re-ask loop (``ask``). Everything else is passed down as arguments.
    """

    def __init__(
        self,
        settings: Settings,
        transport: httpx2.AsyncBaseTransport | None = None,
        *,
        inner: httpx2.AsyncBaseTransport | None = None,
        provider: Provider | None = None,
    ) -> None:
        """``transport`` replaces the whole HTTP stack; ``inner`` only the network (tests);
        ``provider`` the provider (by default OpenAI chat completions over the stack).

        The provider and the stack are built on the first call, so a run
        answered wholly from the result cache never pays for them.
        """
        self.settings = settings
        self.cache = open_cache(settings)
        self._transport = transport
        self._inner = inner
        self._provider: Provider | None = provider
        self._local: LocalServer | None = None

    @property
    def provider(self) -> Provider:
        """The provider over the HTTP stack, built on first use.

        With ``settings.gguf`` (and a real network below), this is also when
        the local model is loaded and served; from then on the settings name
        its address, like any OpenAI-compatible server's.
        """
        if self._provider is None:
            settings = self.settings
            serve = settings.gguf is not None and settings.mode != "replay"
            if serve and self._transport is None and self._inner is None:
                assert settings.gguf is not None
                self._local = LocalServer(settings.gguf)
                base_url = self._local.start()
                self.settings = settings = settings.model_copy(update={"base_url": base_url})
            stack = self._transport or build_transport(settings, self._inner, cache=self.cache)
            self._provider = PROVIDERS[settings.provider](settings, stack)
        return self._provider

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
        try:
            if self._provider is not None:
                await self._provider.aclose()
        finally:
            if self._local is not None:
                self._local.stop()
            if self.cache is not None:
                self.cache.close()

    async def ask(
        self, messages: list[dict[str, Any]], check: Callable[[DraftExtraction], Verdict]
    ) -> DraftAnswer:
        """Ask for a draft; re-ask on what ``check`` finds; never raise for a spent budget.

        Each answer is read by the provider into the draft schema (structure
        and vocabularies), then ``check`` says what the article does not
        support (quotes not in it, fields their quotes do not carry). Either
        failure goes back to the model in the provider's re-ask turn, up to
        ``settings.reasks`` times; every attempt's tokens are counted. An
        answer cut off at its token limit is asked again once, afresh, with
        every list bound halved. When the budget is spent, or the last answer
        is cut off or unreadable, the best of all attempts is kept (the one
        the article supports most), not only the last: a weak model's re-ask
        often loses what its first answer had right. The support step then
        drops or nulls what that draft still cannot back.
        """
        provider = self.provider
        budget = answer_budget(messages, self.settings.max_tokens)
        request = provider.request(messages, max_tokens=budget)
        usage = Usage()
        tried: list[_Attempt] = []
        shortened = False
        total = self.settings.reasks + 1
        for attempt in range(1, total + 1):
            answer = await provider.send(request)
            usage = usage + provider.usage(answer)
            try:
                draft = provider.parse(answer)
            except CutOff as exc:
                if not shortened and attempt < total:
                    shortened = True
                    again = [*messages, {"role": "user", "content": _SHORTER.format(budget)}]
                    request = provider.request(again, max_tokens=budget, shorter=True)
                    continue
                return _best(tried, usage, attempt, check, provider.output(answer), exc)
            except Unreadable as exc:
                if attempt == total:
                    return _best(tried, usage, attempt, check, provider.output(answer), exc)
                request = _reask(provider, request, answer, exc)
                continue
            verdict = check(draft)
            tried.append(_Attempt(attempt, draft, verdict))
            if not verdict.problems:
                return DraftAnswer(draft=draft, usage=usage, attempts=attempt)
            if attempt == total:
                return _best(tried, usage, attempt, check)
            request = _reask(provider, request, answer, ValueError(_fix_these(verdict.problems)))
        raise AssertionError("unreachable: the last attempt returns or raises")


def answer_budget(messages: list[dict[str, Any]], cap: int | None) -> int:
    """Tokens one answer may take: ``cap`` if the user set one, else sized to the article.

    About two tokens of answer per token of article (quotes are copied, some
    twice), plus room for the records' keys: enough for any faithful answer,
    and a bound on a weak model that repeats a record until its context is full.
    """
    if cap is not None:
        return cap
    chars = len(article_message({"messages": messages}))
    return min(_MAX_BUDGET, _BASE_BUDGET + chars // 2)


_BASE_BUDGET = 1024
_MAX_BUDGET = 8192

_SHORTER = (
    "Your answer was cut off at its length limit ({} tokens). Answer again, shorter: only the "
    "clearest records, with at most half as many items in every list, and one sentence per quote."
)


@dataclass(frozen=True)
class Verdict:
    """What the support check found in one draft: the re-ask lines, and how much it keeps."""

    problems: list[str]
    supported: int = 0
    """Records the article supports as they stand: how the best attempt is chosen."""


@dataclass(frozen=True)
class _Attempt:
    number: int
    draft: DraftExtraction
    verdict: Verdict


def _best(
    tried: list[_Attempt],
    usage: Usage,
    attempts: int,
    check: Callable[[DraftExtraction], Verdict],
    last_output: object | None = None,
    failure: Exception | None = None,
) -> DraftAnswer:
    """The best of every attempt once the budget is spent, with warnings saying which and why.

    The last answer, when it did not parse (cut off, or invalid), still
    competes with what is well formed in it. The best is the one whose
    records the article supports most; on a tie, the one with fewer problems,
    then the later one.
    """
    warnings: list[str] = []
    candidates = list(tried)
    if failure is not None:
        what = (
            "was cut off at its token limit" if isinstance(failure, CutOff) else "failed validation"
        )
        warnings.append(f"attempt {attempts} {what} ({_first_lines(failure)})")
        if last_output is not None:
            draft, skipped = parse_leniently(last_output)
            if draft.meetings or draft.status_claims:  # an empty salvage is no answer
                candidates.append(_Attempt(attempts, draft, check(draft)))
                warnings += [f"attempt {attempts}: {w}" for w in skipped]
    if not candidates:
        advice = (
            "; raise --max-tokens or lower --chunk-chars" if isinstance(failure, CutOff) else ""
        )
        raise ResponseError(
            f"no usable answer after {attempts} attempts: {_first_lines(failure or Exception())}"
            + advice
        )
    best = max(candidates, key=lambda a: (a.verdict.supported, -len(a.verdict.problems), a.number))
    if best.verdict.problems or len(candidates) > 1:
        warnings.append(
            f"no answer was fully supported after {attempts} attempts; kept what attempt "
            f"{best.number} has supported (the best of {len(candidates)})"
            if best.verdict.problems
            else f"kept attempt {best.number}, the best of {len(candidates)}"
        )
    # Warnings quote the failed answers, which go to the output: scrubbed like our errors.
    warnings = [scrub(w) for w in warnings]
    return DraftAnswer(draft=best.draft, usage=usage, attempts=attempts, warnings=warnings)


def _fix_these(problems: list[str]) -> str:
    """What the model reads on a re-ask: each unsupported field, and how to fix it."""
    return (
        "Fix these and answer again:\n- "
        + "\n- ".join(problems)
        + "\nCopy every quote word for word from the article, each quote carrying its "
        "own field; correct each one listed, or remove the record it belongs to."
    )


def _reask(
    provider: Provider, request: dict[str, Any], answer: Any, failure: Exception
) -> dict[str, Any]:
    """The next request, or a ``ResponseError`` when the answer has nothing to reply to."""
    try:
        return provider.reask(request, answer, failure)
    except Exception as exc:  # no choices, no message: nothing to answer
        raise ResponseError(f"no usable answer to re-ask about: {_first_lines(failure)}") from exc


def _first_lines(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return "; ".join(lines[:3])[:300]
