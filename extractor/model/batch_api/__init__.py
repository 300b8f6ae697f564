"""The providers' batch APIs: the same requests as the live path, run on the provider's side.

OpenAI's Batch API and Anthropic's Message Batches API take up to tens of
thousands of requests at once, answer them within 24 hours at half the price
and without the caller's rate limit. ``base`` is the one interface both speak
(submit, poll, results streamed line by line, cancel) and its plain-data
records; ``openai_batches`` and ``anthropic_batches`` are the two clients;
``limits`` holds each provider's dated limits and splits requests into batches
within them. The CLI's ``batch`` commands and their state file build on this;
``extractor.testing.fakebatch`` serves both APIs on loopback for tests.
Imports the model layer's HTTP helpers, the provider modules' constants and
the settings.
"""

from extractor.model.batch_api.anthropic_batches import AnthropicBatches
from extractor.model.batch_api.base import (
    FINAL_STATES,
    BatchAPI,
    BatchHandle,
    BatchNotEnded,
    BatchProgress,
    BatchRequest,
    BatchResult,
    BatchState,
    Outcome,
    wait_until_finished,
)
from extractor.model.batch_api.limits import (
    ANTHROPIC_LIMITS,
    LIMITS,
    OPENAI_LIMITS,
    BatchLimits,
    RequestTooLarge,
    split,
)
from extractor.model.batch_api.openai_batches import OpenAIBatches
from extractor.settings import Settings

BATCH_APIS: dict[str, type[OpenAIBatches] | type[AnthropicBatches]] = {
    "openai": OpenAIBatches,
    "anthropic": AnthropicBatches,
}
"""Each ``Settings.provider`` name and its batch client."""


def batch_api(settings: Settings) -> BatchAPI:
    """The batch client for the settings' provider (close it, or use it with ``async with``)."""
    return BATCH_APIS[settings.provider](settings)


def split_for(api: BatchAPI, requests: list[BatchRequest]) -> list[list[BatchRequest]]:
    """The requests in batches within ``api``'s limits (its provider's)."""
    return list(split(requests, api.limits, api.size))


__all__ = [
    "ANTHROPIC_LIMITS",
    "BATCH_APIS",
    "FINAL_STATES",
    "LIMITS",
    "OPENAI_LIMITS",
    "AnthropicBatches",
    "BatchAPI",
    "BatchHandle",
    "BatchLimits",
    "BatchNotEnded",
    "BatchProgress",
    "BatchRequest",
    "BatchResult",
    "BatchState",
    "OpenAIBatches",
    "Outcome",
    "RequestTooLarge",
    "batch_api",
    "split",
    "split_for",
    "wait_until_finished",
]
