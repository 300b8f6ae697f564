"""Test doubles shipped with the package, for our tests and for yours.

``ScriptedTransport`` stands in for a model server: it answers each chat
request with the next scripted answer (a dict becomes a tool call carrying it
as arguments) or fault (an HTTP status with headers), and keeps the requests it
saw. ``author_cassettes`` runs the real pipeline in record mode over such a
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
from extractor.model.client import OPENAI_BASE_URL, ModelClient
from extractor.model.prompting import article_message, article_of
from extractor.pipeline import extract_document
from extractor.read.document import read_document
from extractor.schemas import Extraction
from extractor.settings import Settings
from extractor.text.align import Aligner

FAKE_KEY = "sk-test-FAKE-KEY-must-never-be-written-0123456789"
AUTHORED_MODEL = "hand-authored"


@dataclass
class Fault:
    """A scripted HTTP failure, such as 429 with Retry-After or a 503."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(
        default_factory=lambda: {"error": {"message": "scripted fault", "type": "server_error"}}
    )


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
    if as_content:
        return {
            "id": "chatcmpl-scripted",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop" if finish_reason == "tool_calls" else finish_reason,
                    "message": {"role": "assistant", "content": args},
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "finish_reason": finish_reason,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_scripted",
                            "type": "function",
                            "function": {"name": tool_name, "arguments": args},
                        }
                    ],
                },
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


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
    chunks may be asked in any order and concurrently.
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
        article = article_of(body)
        if article is not None and _PART.search(article_message(body)):
            round_ = sum(m["role"] == "assistant" for m in body["messages"])
            if round_ >= len(self.answers) and self.repeat_last and self.answers:
                round_ = len(self.answers) - 1
            if round_ >= len(self.answers):
                raise AssertionError(f"no scripted answer for re-ask round {round_}")
            self.parts_answered += 1
            projected = project(self.answers[round_], article)
            return httpx2.Response(
                200, json=completion_body(projected, as_content=_json_mode(body))
            )
        if not self.script and self.repeat_last and self.answers:
            self.script.append(self.answers[-1])
        if not self.script:
            raise AssertionError(f"script exhausted after {len(self.requests) - 1} answers")
        step = self.script.pop(0)
        if isinstance(step, Fault):
            return httpx2.Response(step.status, headers=step.headers, json=step.body)
        return httpx2.Response(200, json=completion_body(step, as_content=_json_mode(body)))


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
    again, so a fault the spec keeps meets the whole re-ask budget).
    """
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    cassette_dir = cassette_dir / spec_path.stem
    previous = {p.name: json.loads(p.read_text("utf-8")) for p in cassette_dir.glob("*.json")}
    shutil.rmtree(cassette_dir, ignore_errors=True)
    settings = scripted_settings(mode="record", cassette_dir=cassette_dir, transport_retries=0)
    scripted = ScriptedTransport(spec["answers"], repeat_last=True)
    recorder = CassetteTransport(
        CassetteStore(cassette_dir),
        "record",
        base_url=OPENAI_BASE_URL,
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
