"""OpenAI's json_schema output mode, replayed from its authored cassettes through the pipeline."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from extractor import ReplayMissError, ResponseError, Settings, extract, read_document
from extractor.model.client import ModelClient, Verdict
from extractor.schemas import Extraction
from extractor.testing import completion_body, scripted_settings

from .conftest import CASSETTES, SEED

SPEC = "json_schema_000_8703ce6526d76945"


def _exchanges() -> list[dict[str, Any]]:
    return [json.loads(p.read_text("utf-8")) for p in sorted((CASSETTES / SPEC).glob("*.json"))]


def _records(result: Extraction) -> dict[str, Any]:
    return result.model_dump(mode="json", include={"meetings", "participants", "status_claims"})


def test_the_seed_replays_in_json_schema_mode_with_its_reask() -> None:
    """The authored json_schema exchanges replay the seed, re-ask included, to the records the
    tools-mode fixtures give, each evidence span cut from the text."""
    document = read_document(SEED, max_bytes=10**7)
    settings = Settings(mode="replay", cassette_dir=CASSETTES / SPEC, output_mode="json_schema")
    result = extract(document, settings=settings)
    assert result.run.attempts == 2
    assert (len(result.meetings), len(result.status_claims)) == (3, 4)
    spans = [e for m in result.meetings for e in m.evidence]
    spans += [e for p in result.participants for e in p.mentions]
    spans += [e for c in result.status_claims for e in c.evidence]
    assert spans
    for span in spans:
        assert document.text[span.start : span.end] == span.quote
    tools = extract(
        document, settings=Settings(mode="replay", cassette_dir=CASSETTES / "000_8703ce6526d76945")
    )
    assert _records(result) == _records(tools)


def test_json_schema_cassettes_ask_for_a_strict_format_and_answer_in_content() -> None:
    """Each request carries a strict response format and a budget, no tool; each answer is the
    JSON in the message's content; the re-ask answers the first answer in a user turn."""
    exchanges = _exchanges()
    assert len(exchanges) == 2
    for exchange in exchanges:
        body = exchange["request"]["body"]
        assert "tools" not in body and "tool_choice" not in body
        spec = body["response_format"]["json_schema"]
        assert spec["name"] == "DraftExtraction" and spec["strict"] is True
        assert spec["schema"]["additionalProperties"] is False
        assert body["max_tokens"] > 0
        message = exchange["response"]["body"]["choices"][0]["message"]
        assert "tool_calls" not in message and json.loads(message["content"])["meetings"]
        assert exchange["provenance"]["source"] == "authored"
        assert exchange["provenance"]["model"] is None
    (reask,) = [e for e in exchanges if len(e["request"]["body"]["messages"]) > 2]
    *_, assistant, feedback = reask["request"]["body"]["messages"]
    assert assistant["role"] == "assistant" and json.loads(assistant["content"])
    assert feedback["role"] == "user"
    assert "Myanmar was seeking dialogue partner status" in feedback["content"]


def test_a_tools_mode_replay_does_not_find_json_schema_answers() -> None:
    """The mode is part of the request, so each mode replays only its own exchanges."""
    settings = Settings(mode="replay", cassette_dir=CASSETTES / SPEC, output_mode="tools")
    with pytest.raises(ReplayMissError):
        extract(read_document(SEED, max_bytes=10**7), settings=settings)


async def test_an_answer_without_json_names_the_mode_to_try() -> None:
    """A server that ignores response_format answers in prose; the error names --mode tools."""

    prose = completion_body("Sure! Here are the meetings I found: ...", as_content=True)

    class Prose(httpx2.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            return httpx2.Response(200, json=prose)

    settings = scripted_settings(output_mode="json_schema", reasks=1)
    async with ModelClient(settings, inner=Prose()) as client:
        with pytest.raises(ResponseError, match="try --mode tools"):
            await client.ask([{"role": "user", "content": "article"}], lambda d: Verdict([]))
