"""The provider seam: what the re-ask loop needs from any model API.

An answer is whatever object the provider's API returns; only its provider
reads it. The loop asks the provider to parse it, and either gets a draft or
``Unreadable`` (the answer did not parse or validate against the draft schema:
worth a re-ask), and asks it to write the re-ask turn with what was wrong.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

import httpx2

from extractor.model.ratelimit import RateLimitHeaders
from extractor.schemas import DraftExtraction, Usage
from extractor.settings import Settings

ANTHROPIC_BASE_URL = "https://api.anthropic.com/v1"
ANTHROPIC_VERSION = "2023-06-01"
"""Anthropic's address and API version, here so that naming them imports no SDK."""


class Unreadable(Exception):
    """The answer did not parse or validate into the draft schema; ``__cause__`` says why."""


class CutOff(Unreadable):
    """The answer stopped at its token limit: asked again once, shorter, then reported."""


class Provider(Protocol):
    """One model API.

    Besides the methods, a provider class says what the HTTP stack below it
    needs to know of its wire format, as class attributes: ``default_base_url``,
    ``rate_limit_headers`` (where it states its limits), and ``worth_keeping``
    and ``stored_request`` (what the response cache may keep, and how it
    stores a request for reading).
    """

    default_base_url: ClassVar[str]
    rate_limit_headers: ClassVar[RateLimitHeaders]

    def __init__(self, settings: Settings, stack: httpx2.AsyncBaseTransport) -> None:
        """Over ``stack``, the HTTP stack (cache, cassettes, retries, limits, network)."""

    @staticmethod
    def worth_keeping(body: Any) -> bool:
        """Whether an answer may be replayed forever (complete, with readable output)."""

    @staticmethod
    def stored_request(request: dict[str, Any]) -> dict[str, Any]:
        """The request as stored beside its answer in the response cache."""

    def request(
        self, messages: list[dict[str, Any]], *, max_tokens: int, shorter: bool = False
    ) -> dict[str, Any]:
        """The first request for these messages, asking for the draft schema.

        ``max_tokens`` is the answer's budget, sized to the article (the
        provider may leave it out where its API needs none); ``shorter`` asks
        for the schema with every list bound halved, after a cut-off answer.
        """

    async def send(self, request: dict[str, Any]) -> Any:
        """Send a request; the provider's answer object, or an ``ExtractorError``."""

    def parse(self, answer: Any) -> DraftExtraction:
        """The draft an answer holds; ``Unreadable`` if it does not hold one, ``CutOff`` if it
        stopped at its token limit, an ``ExtractorError`` if re-asking cannot help."""

    def reask(self, request: dict[str, Any], answer: Any, failure: Exception) -> dict[str, Any]:
        """The next request: the conversation so far, the answer, and what to fix."""

    def usage(self, answer: Any) -> Usage:
        """The tokens one answer cost."""

    def output(self, answer: Any) -> object | None:
        """The answer's structured output as JSON data, for a lenient last parse (a cut-off
        answer's complete parts)."""

    async def aclose(self) -> None:
        """Close what the provider opened (its client, and with it the HTTP stack)."""
