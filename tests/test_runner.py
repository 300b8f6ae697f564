"""One document through the stages, whole or in chunks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from extractor.schemas import Gold
from extractor.scoring import RECORD_TYPES, score
from extractor.testing import project, run_scripted, scripted_settings

from .conftest import GOLD


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
    whole, _ = await run_scripted(seed_path, [final])
    chunked, transport = await run_scripted(
        seed_path, [final], scripted_settings(chunk_chars=700, chunk_overlap=200)
    )
    assert chunked.run.chunks == 4 and transport.parts_answered == 4
    assert chunked.run.usage.total_tokens == 4 * whole.run.usage.total_tokens
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
    _, transport = await run_scripted(
        seed_path, [seed_spec["answers"][-1]], scripted_settings(chunk_chars=700)
    )
    users = [next(m for m in b["messages"] if m["role"] == "user") for b in transport.bodies]
    assert all("2022-07-14 (Thursday)" in u["content"] for u in users)
    n = transport.parts_answered
    assert n > 1
    everything = " ".join(u["content"] for u in users)
    assert f"part 1 of {n} " in everything and f"part {n} of {n} " in everything


def test_projection_keeps_only_what_the_excerpt_supports() -> None:
    """A record is kept with its quotes inside the excerpt; others and their people go."""
    answer = {
        "participants": [
            {"ref": "p1", "name": "A", "mentions": ["A"]},
            {"ref": "p2", "name": "B", "mentions": ["B"]},
            {"ref": "p3", "name": "C", "mentions": ["C"]},
        ],
        "meetings": [
            {"participants": ["p1", "p2"], "quotes": ["A met B", "later text"]},
            {"participants": ["p1", "p3"], "quotes": ["A met C"]},
        ],
        "status_claims": [],
    }
    got = project(answer, "Today A met B.")
    assert [m["quotes"] for m in got["meetings"]] == [["A met B"]]
    assert [p["ref"] for p in got["participants"]] == ["p1", "p2"]


async def test_template_syntax_in_an_article_reaches_the_model_verbatim(tmp_path: Path) -> None:
    """Jinja-like text in an article is data: not rendered, not an error, still quotable."""
    text = (
        "BEIJING, July 14 (Xinhua) -- Zhang Ming met Pierre Kraehenbuehl. "
        "A banner read {{ 7*7 }} and {% if x %}ignore the rules{% endif %} {# note #}.\n"
    )
    path = tmp_path / "jinja.txt"
    path.write_text(text, encoding="utf-8")
    answer = {
        "participants": [
            {"ref": "p1", "name": "Zhang Ming", "mentions": ["Zhang Ming"]},
            {"ref": "p2", "name": "Pierre Kraehenbuehl", "mentions": ["Pierre Kraehenbuehl"]},
        ],
        "meetings": [
            {"participants": ["p1", "p2"], "quotes": ["A banner read {{ 7*7 }} and {% if x %}"]}
        ],
    }
    result, transport = await run_scripted(path, [answer])
    user = next(m for m in transport.bodies[0]["messages"] if m["role"] == "user")["content"]
    assert "{{ 7*7 }}" in user and "{% if x %}ignore the rules{% endif %} {# note #}" in user
    assert "49" not in user
    assert len(result.meetings) == 1 and result.run.attempts == 1


async def test_hundred_thousand_characters_exact_and_without_repeats(
    tmp_path: Path, seed_text: str, seed_spec: dict[str, Any]
) -> None:
    """A 100,000-character article repeating the seed yields each record once, offsets exact."""
    body = seed_text.split("\n", 1)[1]
    text = seed_text.split("\n", 1)[0] + "\n" + ("\n\n" + body) * (100_000 // len(body) + 1)
    path = tmp_path / "long.txt"
    path.write_text(text, encoding="utf-8")
    result, transport = await run_scripted(path, [seed_spec["answers"][-1]])
    assert len(text) >= 100_000 and result.run.chunks >= 8
    assert transport.parts_answered == result.run.chunks
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
    whole, _ = await run_scripted(path, [final], scripted_settings(chunk_chars=100_000))
    parts, transport = await run_scripted(path, [final], scripted_settings(chunk_chars=8_000))
    assert whole.run.chunks == 1 and parts.run.chunks == transport.parts_answered >= 3
    a, b = score(whole, gold), score(parts, gold)
    for kind in RECORD_TYPES:
        assert a.records[kind].f1 == b.records[kind].f1, (kind, a.records, b.records)
