"""Test doubles shipped with the package, for our tests and for yours.

``ScriptedTransport`` stands in for a model server: it answers each chat
request with the next scripted answer (a dict becomes a tool call carrying it
as arguments) or fault (an HTTP status with headers), and keeps the requests it
saw. It speaks OpenAI's chat completions (``completion_body``) or, to a
request for ``/messages``, Anthropic's Messages API (``message_body``).
``author_cassettes`` runs the real pipeline in record mode over such a
script, which is how the hand-written fixtures under ``fixtures/`` are made:
their provenance says ``authored``, never ``recorded``.

Run ``python -m extractor.testing fixtures/authored fixtures/cassettes`` to
rebuild every authored cassette after a prompt or schema change.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

from extractor.model.cassette import CassetteStore, CassetteTransport, exchange_text
from extractor.model.client import ModelClient
from extractor.model.prompting import article_message, article_of
from extractor.model.providers import PROVIDERS
from extractor.pipeline import extract_document
from extractor.read.document import read_document
from extractor.schemas import Extraction
from extractor.settings import Settings
from extractor.text.align import Aligner

FAKE_KEY = "sk-test-FAKE-KEY-must-never-be-written-0123456789"
AUTHORED_MODEL = "hand-authored"


def _openai_error() -> dict[str, Any]:
    return {"error": {"message": "scripted fault", "type": "server_error"}}


def anthropic_error(message: str, kind: str = "api_error") -> dict[str, Any]:
    """An error body as Anthropic sends it: ``{"type": "error", "error": {type, message}}``."""
    return {"type": "error", "error": {"type": kind, "message": message}}


@dataclass
class Fault:
    """A scripted HTTP failure, such as 429 with Retry-After or a 503.

    Without a ``body`` of its own it answers in the API's own error shape:
    OpenAI's, or Anthropic's to a ``/messages`` request.
    """

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=_openai_error)

    def body_for(self, anthropic: bool) -> dict[str, Any]:
        if anthropic and self.body == _openai_error():
            return anthropic_error("scripted fault")
        return self.body


def completion_body(
    arguments: dict[str, Any] | str,
    *,
    tool_name: str = "DraftExtraction",
    model: str = AUTHORED_MODEL,
    prompt_tokens: int = 1000,
    completion_tokens: int = 200,
    finish_reason: str = "tool_calls",
    as_content: bool = False,
) -> dict[str, Any]:
    """An OpenAI chat completion whose single tool call carries ``arguments``.

    ``as_content``: the answer of json_schema mode instead, the JSON as the
    message's content (``finish_reason`` "tool_calls" then becomes "stop").
    """
    args = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    message: dict[str, Any] = {"role": "assistant", "content": args}
    if as_content:
        finish_reason = "stop" if finish_reason == "tool_calls" else finish_reason
    else:
        call = {"id": "call_scripted", "type": "function"}
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [{**call, "function": {"name": tool_name, "arguments": args}}],
        }
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "finish_reason": finish_reason, "message": message}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def message_body(
    arguments: dict[str, Any] | str,
    *,
    tool_name: str = "DraftExtraction",
    model: str = AUTHORED_MODEL,
    input_tokens: int = 1000,
    output_tokens: int = 200,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
    stop_reason: str | None = None,
) -> dict[str, Any]:
    """An Anthropic message whose single ``tool_use`` block carries ``arguments`` as its input.

    A string is answered as text instead (a model that did not call the
    tool), with ``stop_reason`` "end_turn" unless given; a tool call stops
    with "tool_use" unless given ("max_tokens" for a cut-off one).
    """
    block: dict[str, Any]
    if isinstance(arguments, str):
        block = {"type": "text", "text": arguments}
        stop = stop_reason or "end_turn"
    else:
        block = {"type": "tool_use", "id": "toolu_scripted", "name": tool_name, "input": arguments}
        stop = stop_reason or "tool_use"
    return {
        "id": "msg_scripted",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [block],
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": cache_write_tokens,
            "cache_read_input_tokens": cache_read_tokens,
        },
    }


def is_messages_request(request: httpx2.Request) -> bool:
    """Whether a request is for Anthropic's Messages API (its path ends in ``/messages``)."""
    return request.url.path.rstrip("/").endswith("/messages")


_PART = re.compile(r"This is part (\d+) of (\d+) of a longer article")


def project(answer: dict[str, Any], article: str) -> dict[str, Any]:
    """The part of a whole-article answer that a model reading only ``article`` would give.

    Meetings and claims with a quote in the excerpt are kept with those quotes,
    and their participants with the mentions the excerpt holds; a meeting keeps
    only the sides the excerpt mentions, and goes when fewer than two are left;
    a claim goes when the excerpt lacks its subject or status words, and loses
    the stance and time words it lacks.
    """
    aligner = Aligner(article)

    def found(quote: str | None) -> bool:
        return quote is not None and aligner.find(quote) is not None

    def side(p: dict[str, Any] | None) -> dict[str, Any] | None:
        if p is None:
            return None
        mentions = [q for q in p["mentions"] if found(q)]
        if not mentions:
            return None
        name = p.get("name")
        if name and not found(name):
            # A model reading only this part names the person as the part does ("Putin").
            words = set(name.split())
            name = next((m for m in mentions if words & set(m.split())), None)
        return {**p, "name": name, "mentions": mentions}

    meetings = []
    for m in answer.get("meetings", []):
        quotes = [q for q in m["quotes"] if found(q)]
        sides = [s for s in map(side, m["sides"]) if s is not None]
        if quotes and len(sides) >= 2:
            meetings.append({**m, "quotes": quotes, "sides": sides})
    claims = []
    for c in answer.get("status_claims", []):
        quotes = [q for q in c["quotes"] if found(q)]
        if not quotes or not found(c.get("subject_quote")) or not found(c.get("status_quote")):
            continue  # the part does not hold the claim's own words
        claims.append(
            {
                **c,
                "quotes": quotes,
                "stance_quote": c.get("stance_quote") if found(c.get("stance_quote")) else None,
                "time_text": c.get("time_text") if found(c.get("time_text")) else None,
                "claimant": side(c.get("claimant")),
                "supporters": [s for s in map(side, c.get("supporters", [])) if s is not None],
            }
        )
    return {"meetings": meetings, "status_claims": claims}


class ScriptedTransport(httpx2.AsyncBaseTransport):
    """A model server that says what the script says.

    A whole-article request gets the script's next step, in order. A request
    for one part of a chunked article gets the answer for its re-ask round
    (first answer, then the second on a re-ask...) projected onto that part, so
    chunks may be asked in any order and concurrently. A request for
    ``/messages`` is answered as Anthropic would (``message_body``), its
    re-ask rounds counted from its assistant turns too.
    """

    def __init__(
        self, script: list[dict[str, Any] | str | Fault], *, repeat_last: bool = False
    ) -> None:
        """``repeat_last``: once the script is spent, answer every re-ask with its last answer,
        as a model does that keeps its answer (how an authored spec's faults reach the output).
        """
        self.script = list(script)
        self.repeat_last = repeat_last
        self.answers = [s for s in script if isinstance(s, dict)]
        self.requests: list[httpx2.Request] = []
        self.bodies: list[dict[str, Any]] = []
        self.parts_answered = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        body = json.loads(await request.aread())
        self.bodies.append(body)
        anthropic = is_messages_request(request)
        article = article_of(body)
        if article is not None and _PART.search(article_message(body)):
            round_ = sum(m["role"] == "assistant" for m in body["messages"])
            if round_ >= len(self.answers) and self.repeat_last and self.answers:
                round_ = len(self.answers) - 1
            if round_ >= len(self.answers):
                raise AssertionError(f"no scripted answer for re-ask round {round_}")
            self.parts_answered += 1
            projected = project(self.answers[round_], article)
            return httpx2.Response(200, json=_answer(projected, body, anthropic))
        if not self.script and self.repeat_last and self.answers:
            self.script.append(self.answers[-1])
        if not self.script:
            raise AssertionError(f"script exhausted after {len(self.requests) - 1} answers")
        step = self.script.pop(0)
        if isinstance(step, Fault):
            return httpx2.Response(step.status, headers=step.headers, json=step.body_for(anthropic))
        return httpx2.Response(200, json=_answer(step, body, anthropic))


def _answer(step: dict[str, Any] | str, body: dict[str, Any], anthropic: bool) -> dict[str, Any]:
    """The scripted answer in the wire format the request asked in."""
    if anthropic:
        return message_body(step)
    return completion_body(step, as_content=_json_mode(body))


def _json_mode(body: dict[str, Any]) -> bool:
    """Whether a request asks for json_schema output (the answer then goes in the content)."""
    return "response_format" in body and "tools" not in body


def scripted_settings(**overrides: Any) -> Settings:
    """Settings for tests: a fake key, quick retries, no environment surprises."""
    values: dict[str, Any] = {
        "api_key": FAKE_KEY,
        "model": "gpt-4o-mini",
        "max_backoff": 0.01,
        "base_url": None,
        "cache": False,
    }
    values.update(overrides)
    return Settings(**values)


async def run_scripted(
    text_path: Path, script: list[dict[str, Any] | str | Fault], settings: Settings | None = None
) -> tuple[Extraction, ScriptedTransport]:
    """The pipeline over one file, the model replaced by a script."""
    settings = settings or scripted_settings()
    scripted = ScriptedTransport(script)
    document = read_document(text_path, max_bytes=settings.max_input_bytes)
    async with ModelClient(settings, inner=scripted) as client:
        return await extract_document(document, client), scripted


async def author_cassettes(spec_path: Path, cassette_dir: Path, root: Path) -> Extraction:
    """Record the exchanges of one authored spec as cassettes marked ``authored``.

    They go to ``cassette_dir/<spec name>/``, replacing what was there, so one
    spec can be rebuilt without touching the others. The document path in the
    spec is relative to ``root`` (the project root).

    A spec is JSON: ``{"document": path, "note": why, "answers": [answer, ...]}``
    where each answer is what the model is scripted to return, in order (a
    re-ask consumes the next answer; once they are spent, the last one is given
    again, so a fault the spec keeps meets the whole re-ask budget). Optional
    keys choose the wire: ``"provider"`` (``openai``, the default, or
    ``anthropic``), ``"output_mode"`` (``tools``, the default, or
    ``json_schema``) and ``"model"`` (by default the provider's default model,
    ``gpt-4o-mini`` for OpenAI), so a replay with those settings finds them.
    """
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    cassette_dir = cassette_dir / spec_path.stem
    previous = {p.name: json.loads(p.read_text("utf-8")) for p in cassette_dir.glob("*.json")}
    shutil.rmtree(cassette_dir, ignore_errors=True)
    provider = spec.get("provider", "openai")
    settings = scripted_settings(
        mode="record",
        cassette_dir=cassette_dir,
        transport_retries=0,
        provider=provider,
        output_mode=spec.get("output_mode", "tools"),
        # None: the provider's default model, as Settings fills it.
        model=spec.get("model", "gpt-4o-mini" if provider == "openai" else None),
    )
    scripted = ScriptedTransport(spec["answers"], repeat_last=True)
    recorder = CassetteTransport(
        CassetteStore(cassette_dir),
        "record",
        base_url=PROVIDERS[provider].default_base_url,
        inner=scripted,
        provenance_note=f"{spec['note']} (spec: {spec_path.name})",
        authored=True,
    )
    document = read_document(root / spec["document"], max_bytes=settings.max_input_bytes)
    async with ModelClient(settings, recorder) as client:
        result = await extract_document(document, client)
    if scripted.script and not scripted.parts_answered:
        raise AssertionError(f"{spec_path}: {len(scripted.script)} scripted answers unused")
    _keep_dates_of_unchanged(cassette_dir, previous)
    return result


def _keep_dates_of_unchanged(cassette_dir: Path, previous: dict[str, Any]) -> None:
    """An exchange rebuilt unchanged keeps its date, so a rebuild diffs only what changed."""
    for path in cassette_dir.glob("*.json"):
        new, old = json.loads(path.read_text("utf-8")), previous.get(path.name)
        if (
            old
            and {**old["provenance"], "created_at": None}
            == {
                **new["provenance"],
                "created_at": None,
            }
            and (old["request"], old["response"]) == (new["request"], new["response"])
        ):
            new["provenance"]["created_at"] = old["provenance"]["created_at"]
            path.write_text(exchange_text(new), encoding="utf-8")


def main(argv: list[str]) -> int:
    """Rebuild authored cassettes: ``python -m extractor.testing SPEC... CASSETTE_DIR``.

    Each SPEC is an answer-script file or a directory of them; run from the project root.
    """
    if len(argv) < 2:
        print(main.__doc__, file=sys.stderr)
        return 2
    *targets, cassette_dir = map(Path, argv)
    specs = [p for t in targets for p in (sorted(t.glob("*.json")) if t.is_dir() else [t])]
    for spec in specs:
        result = asyncio.run(author_cassettes(spec, cassette_dir, Path.cwd()))
        print(
            f"{spec.name}: {len(result.meetings)} meetings, {len(result.status_claims)} claims, "
            f"{result.run.attempts} attempts, {len(result.warnings)} warnings"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
