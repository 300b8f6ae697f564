"""One document through the stages, whole or in chunks."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx2
import pytest

from extractor._exceptions import ConfigurationError
from extractor.batch import iter_results
from extractor.model.client import ModelClient
from extractor.read.document import read_document
from extractor.runner import DEFAULT_CONCURRENCY, extract_document
from extractor.schemas import Gold
from extractor.scoring import RECORD_TYPES, score
from extractor.testing import ScriptedTransport, project, run_scripted, scripted_settings

from .conftest import GOLD


def keeps(answer: dict[str, Any], reasks: int = 2) -> list[Any]:
    """The script of a model that gives the same answer however often it is re-asked.

    A chunk's projected answer can still lack support in its part alone (a claim's
    status words in the part before), and is then re-asked up to ``reasks`` times.
    """
    return [answer] * (reasks + 1)


def _evidence_exact(result: Any, text: str) -> None:
    items = [e for p in result.participants for e in p.mentions]
    items += [e for r in [*result.meetings, *result.status_claims] for e in r.evidence]
    assert items
    for ev in items:
        assert text[ev.start : ev.end] == ev.quote


async def test_chunked_seed_scores_like_the_whole(
    seed_path: Path, seed_spec: dict[str, Any]
) -> None:
    """Split into four overlapping parts, the seed yields the same records as read whole."""
    gold = Gold.model_validate_json((GOLD / "000_8703ce6526d76945.json").read_text("utf-8"))
    final = seed_spec["answers"][-1]
    whole, _ = await run_scripted(seed_path, keeps(final))
    chunked, transport = await run_scripted(
        seed_path, keeps(final), scripted_settings(chunk_chars=700, chunk_overlap=200)
    )
    assert whole.run.attempts == 1 and whole.warnings == []
    assert chunked.run.chunks == 4 and transport.parts_answered == chunked.run.attempts >= 4
    # Every attempt of every part is paid for, at the same price as the one whole-text ask.
    assert chunked.run.usage.total_tokens == chunked.run.attempts * whole.run.usage.total_tokens
    assert chunked.grounding.records_dropped == 0
    text = seed_path.read_text("utf-8")
    _evidence_exact(chunked, text)
    a, b = score(whole, gold), score(chunked, gold)
    for kind in RECORD_TYPES:
        assert b.records[kind].f1 == a.records[kind].f1 == 1.0, kind
    assert len(chunked.meetings) == 3 and len(chunked.status_claims) == 4


async def test_chunks_carry_the_dateline_and_their_part(
    seed_path: Path, seed_spec: dict[str, Any]
) -> None:
    """Every chunk's request names the dateline date and which part it is."""
    result, transport = await run_scripted(
        seed_path, keeps(seed_spec["answers"][-1]), scripted_settings(chunk_chars=700)
    )
    users = [next(m for m in b["messages"] if m["role"] == "user") for b in transport.bodies]
    assert all("2022-07-14 (Thursday)" in u["content"] for u in users)
    n = result.run.chunks
    assert n > 1 and transport.parts_answered == result.run.attempts >= n
    everything = " ".join(u["content"] for u in users)
    assert f"part 1 of {n} " in everything and f"part {n} of {n} " in everything


def test_projection_keeps_only_what_the_excerpt_supports() -> None:
    """A record is kept with its quotes inside the excerpt; others and their people go."""
    putin = {"name": "Vladimir Putin", "mentions": ["Putin", "President Vladimir Putin"]}
    zhang = {"name": "Zhang Ming", "mentions": ["Zhang Ming"]}
    li = {"name": "Li Qiang", "mentions": ["Li Qiang"]}
    claim = {
        "subject": "Russia",
        "subject_quote": "Russia",
        "organisation": "SCO",
        "status": "member",
        "status_quote": "join",
        "stance": "seeks",
        "stance_quote": "wants",
    }
    answer = {
        "meetings": [
            {"sides": [putin, zhang], "quotes": ["Putin met Zhang Ming", "later text"]},
            {"sides": [putin, li], "quotes": ["Putin met Li Qiang"]},
            {"sides": [putin, li, zhang], "quotes": ["Putin met Zhang Ming"]},
        ],
        "status_claims": [
            {
                **claim,
                "quotes": ["Russia wants to join the SCO"],
                "claimant": putin,
                "supporters": [li, zhang],
            },
            {**claim, "quotes": ["Russia applied to join the SCO"], "claimant": None},
        ],
    }
    got = project(answer, "Today Putin met Zhang Ming. Russia wants to join the SCO, Putin said.")
    assert [m["quotes"] for m in got["meetings"]] == [["Putin met Zhang Ming"]] * 2
    # A side keeps the mentions the excerpt holds, and is named as the excerpt names it.
    assert [[s["name"] for s in m["sides"]] for m in got["meetings"]] == [
        ["Putin", "Zhang Ming"]
    ] * 2
    assert got["meetings"][0]["sides"][0]["mentions"] == ["Putin"]
    (kept,) = got["status_claims"]
    assert kept["quotes"] == ["Russia wants to join the SCO"]
    assert kept["claimant"]["name"] == "Putin"
    assert [s["name"] for s in kept["supporters"]] == ["Zhang Ming"]


async def test_template_syntax_in_an_article_reaches_the_model_verbatim(tmp_path: Path) -> None:
    """Jinja-like text in an article is data: not rendered, not an error, still quotable."""
    text = (
        "BEIJING, July 14 (Xinhua) -- Zhang Ming met Pierre Kraehenbuehl. "
        "A banner read {{ 7*7 }} and {% if x %}ignore the rules{% endif %} {# note #}.\n"
    )
    path = tmp_path / "jinja.txt"
    path.write_text(text, encoding="utf-8")
    banner = "A banner read {{ 7*7 }} and {% if x %}"
    answer = {
        "meetings": [
            {
                "sides": [
                    {"name": "Zhang Ming", "mentions": ["Zhang Ming"]},
                    {"name": "Pierre Kraehenbuehl", "mentions": ["Pierre Kraehenbuehl"]},
                ],
                # The banner names no side, so it is kept beside the sentence that does.
                "quotes": ["Zhang Ming met Pierre Kraehenbuehl", banner],
            }
        ],
    }
    result, transport = await run_scripted(path, [answer])
    user = next(m for m in transport.bodies[0]["messages"] if m["role"] == "user")["content"]
    assert "{{ 7*7 }}" in user and "{% if x %}ignore the rules{% endif %} {# note #}" in user
    assert "49" not in user
    assert len(result.meetings) == 1 and result.run.attempts == 1
    assert banner in [e.quote for e in result.meetings[0].evidence]
    _evidence_exact(result, text)


async def test_hundred_thousand_characters_exact_and_without_repeats(
    tmp_path: Path, seed_text: str, seed_spec: dict[str, Any]
) -> None:
    """A 100,000-character article repeating the seed yields each record once, offsets exact."""
    body = seed_text.split("\n", 1)[1]
    text = seed_text.split("\n", 1)[0] + "\n" + ("\n\n" + body) * (100_000 // len(body) + 1)
    path = tmp_path / "long.txt"
    path.write_text(text, encoding="utf-8")
    result, transport = await run_scripted(path, keeps(seed_spec["answers"][-1]))
    assert len(text) >= 100_000 and result.run.chunks >= 8
    assert transport.parts_answered == result.run.attempts >= result.run.chunks
    _evidence_exact(result, text)
    assert len(result.meetings) == 3 and len(result.status_claims) == 4
    assert len({p.name for p in result.participants}) == len(result.participants)


async def test_long_corpus_article_scores_the_same_chunked_and_whole() -> None:
    """The 20,000-character round-up scores the same read whole and in parts (same answer)."""
    import json

    from .conftest import AUTHORED, ROOT

    name = "010_long_summit_roundup"
    spec = json.loads((AUTHORED / f"{name}.json").read_text("utf-8"))
    gold = Gold.model_validate_json((GOLD / f"{name}.json").read_text("utf-8"))
    path = ROOT / spec["document"]
    final = spec["answers"][-1]
    # The spec's last answer keeps faults the support step must drop or null, as a model
    # that keeps its answer would: it answers every re-ask.
    whole, _ = await run_scripted(path, keeps(final), scripted_settings(chunk_chars=100_000))
    parts, transport = await run_scripted(path, keeps(final), scripted_settings(chunk_chars=8_000))
    assert whole.run.chunks == 1 and parts.run.chunks >= 3
    assert transport.parts_answered == parts.run.attempts >= parts.run.chunks
    a, b = score(whole, gold), score(parts, gold)
    for kind in RECORD_TYPES:
        assert a.records[kind].f1 == b.records[kind].f1, (kind, a.records, b.records)


class CountingTransport(httpx2.AsyncBaseTransport):
    """The network under the client: counts requests in flight, answers from ``inner``
    (or refuses every key with a 401, as a server does when the key is wrong)."""

    def __init__(self, inner: httpx2.AsyncBaseTransport | None = None) -> None:
        self.inner = inner
        self.in_flight = 0
        self.peak = 0
        self.total = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.in_flight += 1
        self.total += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(0.01)  # long enough for the others to pile up if they may
            if self.inner is None:
                error = {"message": "Incorrect API key provided", "code": "invalid_api_key"}
                return httpx2.Response(401, json={"error": error})
            return await self.inner.handle_async_request(request)
        finally:
            self.in_flight -= 1


def _long_article(tmp_path: Path, seed_text: str) -> Path:
    body = seed_text.split("\n", 1)[1]
    path = tmp_path / "long.txt"
    path.write_text(seed_text.split("\n", 1)[0] + ("\n\n" + body) * 8, encoding="utf-8")
    return path


async def _run(paths: list[Path], transport: CountingTransport, concurrency: int) -> list[Any]:
    settings = scripted_settings(chunk_chars=700, chunk_overlap=200)
    async with ModelClient(settings, inner=transport) as client:
        return [r async for _, r in iter_results(paths, client, concurrency=concurrency)]


async def test_chunks_of_a_long_document_share_the_run_concurrency(
    tmp_path: Path, seed_text: str, seed_spec: dict[str, Any]
) -> None:
    """A document cut into dozens of chunks, with others beside it, keeps to 2 requests at once."""
    long = _long_article(tmp_path, seed_text)
    short = tmp_path / "short.txt"
    short.write_text("MOSCOW, March 3 /TASS/. Ivan Petrov met Pedro Gomez.\n", encoding="utf-8")
    transport = CountingTransport(
        ScriptedTransport(keeps(seed_spec["answers"][-1]), repeat_last=True)
    )
    results = await _run([long, short, long], transport, concurrency=2)
    assert [r.kind for r in results] == ["extraction"] * 3
    chunks = max(r.run.chunks for r in results)
    assert chunks >= 20 and transport.total >= 2 * chunks
    assert transport.peak == 2


async def test_a_refused_key_stops_every_chunk_and_document(tmp_path: Path, seed_text: str) -> None:
    """A 401 on one chunk raises at once; the other chunks and documents send nothing more."""
    long = _long_article(tmp_path, seed_text)
    transport = CountingTransport()
    with pytest.raises(ConfigurationError, match="401"):
        await _run([long] * 10, transport, concurrency=3)
    assert transport.total <= 3


async def test_one_document_alone_is_bounded_too(
    tmp_path: Path, seed_text: str, seed_spec: dict[str, Any]
) -> None:
    """``extract_document`` without a limiter keeps to ``DEFAULT_CONCURRENCY`` requests."""
    transport = CountingTransport(
        ScriptedTransport(keeps(seed_spec["answers"][-1]), repeat_last=True)
    )
    settings = scripted_settings(chunk_chars=700, chunk_overlap=200)
    document = read_document(_long_article(tmp_path, seed_text), max_bytes=10**7)
    async with ModelClient(settings, inner=transport) as client:
        result = await extract_document(document, client)
    assert result.run.chunks > DEFAULT_CONCURRENCY
    assert transport.peak == DEFAULT_CONCURRENCY
