"""Providers: everything one model API's wire format decides, behind one seam.

``base.Provider`` is the seam: build the request for the draft schema, send it,
read the answer into a draft, write the re-ask turn, count the tokens. The
re-ask loop (``extractor.model.client``) and everything above it speak only
this protocol. ``openai_chat`` is chat completions (in tools or json_schema
mode, through instructor's handlers; also any OpenAI-compatible server);
``anthropic_messages`` is Anthropic's Messages API natively (tools mode, its
system prompt marked for Anthropic's prompt cache); ``schema`` shapes the draft
schema for the wire. Another API is another module here, one line in
``PROVIDERS`` and its name in ``Settings.provider``. Imports the model layer's
HTTP stack, the schemas and the settings.
"""

from extractor.model.providers.anthropic_messages import ANTHROPIC_BASE_URL, AnthropicMessages
from extractor.model.providers.base import CutOff, Provider, Unreadable
from extractor.model.providers.openai_chat import OPENAI_BASE_URL, OpenAIChat

PROVIDERS: dict[str, type[Provider]] = {"openai": OpenAIChat, "anthropic": AnthropicMessages}
"""Each ``Settings.provider`` name and its class."""

__all__ = [
    "ANTHROPIC_BASE_URL",
    "OPENAI_BASE_URL",
    "PROVIDERS",
    "AnthropicMessages",
    "CutOff",
    "OpenAIChat",
    "Provider",
    "Unreadable",
]
