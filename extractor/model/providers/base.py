"""The provider seam: what the re-ask loop needs from any model API.

An answer is whatever object the provider's API returns; only its provider
reads it. The loop asks the provider to parse it, and either gets a draft or
``Unreadable`` (the answer did not parse or validate against the draft schema:
worth a re-ask), and asks it to write the re-ask turn with what was wrong.
"""

from __future__ import annotations

from typing import Any, Protocol

from extractor.schemas import DraftExtraction, Usage


class Unreadable(Exception):
    """The answer did not parse or validate into the draft schema; ``__cause__`` says why."""


class Provider(Protocol):
    """One model API."""

    def request(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The first request for these messages, asking for the draft schema."""

    async def send(self, request: dict[str, Any]) -> Any:
        """Send a request; the provider's answer object, or an ``ExtractorError``."""

    def parse(self, answer: Any) -> DraftExtraction:
        """The draft an answer holds; ``Unreadable`` if it does not hold one."""

    def reask(self, request: dict[str, Any], answer: Any, failure: Exception) -> dict[str, Any]:
        """The next request: the conversation so far, the answer, and what to fix."""

    def usage(self, answer: Any) -> Usage:
        """The tokens one answer cost."""

    def output(self, answer: Any) -> object | None:
        """The answer's structured output as JSON data, for a lenient last parse."""

    async def aclose(self) -> None:
        """Close what the provider opened (its client, and with it the HTTP stack)."""
