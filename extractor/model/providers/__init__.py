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

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from extractor.model.providers.base import ANTHROPIC_BASE_URL, CutOff, Provider, Unreadable
from extractor.model.providers.openai_chat import OPENAI_BASE_URL, OpenAIChat

if TYPE_CHECKING:
    from extractor.model.providers.anthropic_messages import AnthropicMessages


class _Registry(Mapping[str, "type[Provider]"]):
    """Provider classes by name, each module imported when its provider is first used.

    The Anthropic SDK takes about a second to import; a run on OpenAI or a
    local server should not pay it at every start.
    """

    _where: ClassVar[dict[str, tuple[str, str]]] = {
        "openai": ("extractor.model.providers.openai_chat", "OpenAIChat"),
        "anthropic": ("extractor.model.providers.anthropic_messages", "AnthropicMessages"),
    }

    def __getitem__(self, name: str) -> type[Provider]:
        module, attribute = self._where[name]
        provider: type[Provider] = getattr(importlib.import_module(module), attribute)
        return provider

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)


PROVIDERS: Mapping[str, type[Provider]] = _Registry()
"""Each ``Settings.provider`` name and its class."""


def __getattr__(name: str) -> Any:
    if name == "AnthropicMessages":
        return PROVIDERS["anthropic"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
