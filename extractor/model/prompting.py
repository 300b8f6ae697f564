"""Turning a document into the messages sent to the model.

Templates and the few-shot examples are files under ``prompts/`` (installed as
``extractor.prompts``) so they can be read, diffed and versioned apart from the
code. There is one system prompt per output mode: in tools mode the model reads
the schema's descriptions as text and every token is billed, so the prompt is
lean (``system.md.j2``); in json_schema mode a local server turns the schema
into a grammar the model never reads, so the prompt says more and shows a
longer example (``system_constrained.md.j2``). The version that travels with
every result is the declared ``VERSION`` plus a hash of the files, so an edit
that forgets to bump the version still changes it, and caches or resumed runs
never mix answers from two prompts.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

import jinja2

from extractor.read.chunking import Chunk
from extractor.read.document import Document
from extractor.settings import OutputMode

_PACKAGE = "extractor.prompts"
_FILES = (
    "VERSION",
    "system.md.j2",
    "user.md.j2",
    "examples/cica_ambassador.txt",
    "examples/cica_ambassador.json",
    "system_constrained.md.j2",
    "examples/cica_ambassador_constrained.txt",
    "examples/cica_ambassador_constrained.json",
)


def _read(name: str) -> str:
    return resources.files(_PACKAGE).joinpath(name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Prompt:
    """The loaded templates and the version string they make."""

    version: str
    systems: dict[OutputMode, str]
    user_template: jinja2.Template

    def messages(
        self,
        document: Document,
        part: int | None = None,
        parts: int | None = None,
        *,
        mode: OutputMode,
    ) -> list[dict[str, Any]]:
        """System and user messages for one document, or one part of a chunked one, in the
        output ``mode`` the request is sent in (no default: each mode has its own prompt)."""
        dateline = document.dateline
        date = dateline.date if dateline else None
        user = self.user_template.render(
            text=_fence(document.text),
            dateline_date=date.isoformat() if date else None,
            dateline_weekday=date.strftime("%A") if date else None,
            dateline_place=dateline.place if dateline else None,
            part=part,
            parts=parts,
        )
        return [
            {"role": "system", "content": self.systems[mode]},
            {"role": "user", "content": user},
        ]

    def for_chunk(
        self, document: Document, chunk: Chunk, *, mode: OutputMode
    ) -> tuple[Document, list[dict[str, Any]]]:
        """What one chunk asks about (the document, or its part) and the messages that ask.

        The live path and the dry run both build requests through here, so what
        ``--dry-run`` counts is what a run sends.
        """
        if chunk.count == 1:
            return document, self.messages(document, mode=mode)
        part = replace(document, text=document.text[chunk.start : chunk.end])
        return part, self.messages(part, part=chunk.index + 1, parts=chunk.count, mode=mode)


def _user_texts(body: Any) -> list[str]:
    """The texts of a chat request's user messages, last first."""
    if not isinstance(body, dict):
        return []
    texts = []
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):  # content parts
                texts.append("".join(p.get("text", "") for p in content if isinstance(p, dict)))
            else:
                texts.append(content if isinstance(content, str) else "")
    return texts


def last_user_text(body: Any) -> str:
    """The text of the last user message of a chat request body ("" if there is none)."""
    texts = _user_texts(body)
    return texts[0] if texts else ""


def article_message(body: Any) -> str:
    """The user message that carries the article (re-asks add user turns after it)."""
    texts = _user_texts(body)
    return next((t for t in texts if _OPEN in t), texts[0] if texts else "")


def article_of(body: Any) -> str | None:
    """The article a request carries: the text inside the user message's fence, if any."""
    user = article_message(body)
    start = user.find(_OPEN)
    end = user.rfind(_CLOSE)
    if start < 0 or end < start + len(_OPEN):
        return None
    return user[start + len(_OPEN) : end]


_OPEN, _CLOSE = "<article>\n", "\n</article>"


def _fence(text: str) -> str:
    # An article must not be able to close the <article> block and speak as us.
    return text.replace("</article>", "</ article>").replace("<article>", "< article>")


@cache
def load_prompt() -> Prompt:
    """The packaged prompt, read once."""
    contents = {name: _read(name) for name in _FILES}
    digest = hashlib.sha256()
    for name in _FILES:
        digest.update(name.encode() + b"\0" + contents[name].encode("utf-8") + b"\0")
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False)

    def system(template: str, example: str, separators: tuple[str, str]) -> str:
        answer = json.loads(contents[f"examples/{example}.json"])
        return env.from_string(contents[template]).render(
            example_article=contents[f"examples/{example}.txt"].strip(),
            example_answer=json.dumps(answer, ensure_ascii=False, separators=separators),
        )

    return Prompt(
        version=f"{contents['VERSION'].strip()}+{digest.hexdigest()[:8]}",
        systems={
            # Compact JSON: the spaces after separators cost about a fifth of the answer's
            # tokens. Under constrained decoding the 1.5B model scored lower without them.
            "tools": system("system.md.j2", "cica_ambassador", (",", ":")),
            "json_schema": system(
                "system_constrained.md.j2", "cica_ambassador_constrained", (", ", ": ")
            ),
        },
        user_template=env.from_string(contents["user.md.j2"]),
    )
