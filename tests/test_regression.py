"""The seed, replayed from its fixtures, must yield its gold records (fixtures/gold/000_*.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from extractor import Extraction, Settings, extract, read_document
from extractor.schemas import Gold

from .conftest import CASSETTES, GOLD


def _gold(name: str) -> Gold:
    return Gold.model_validate_json((GOLD / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def seed_result() -> tuple[Extraction, str]:
    gold_path = GOLD / "000_8703ce6526d76945.json"
    document = read_document(gold_path.parent / _gold(gold_path.stem).document, max_bytes=10**7)
    settings = Settings(mode="replay", cassette_dir=CASSETTES)
    return extract(document, settings=settings), document.text


def _evidence(obj: Any) -> list[dict[str, Any]]:
    if isinstance(obj, dict):
        found = [obj] if {"quote", "start", "end"} <= set(obj) else []
        return found + [e for v in obj.values() for e in _evidence(v)]
    if isinstance(obj, list):
        return [e for v in obj for e in _evidence(v)]
    return []


def test_counts_match_gold(seed_result: tuple[Extraction, str]) -> None:
    """Three meetings and four status claims, no more, no fewer."""
    result, _ = seed_result
    gold = _gold("000_8703ce6526d76945")
    assert len(result.meetings) == len(gold.meetings) == 3
    assert len(result.status_claims) == len(gold.status_claims) == 4
    assert result.warnings == []


def test_meetings_match_gold(seed_result: tuple[Extraction, str]) -> None:
    """Each gold meeting is found with its sides, their codes, date, place and outcome."""
    result, _ = seed_result
    gold = _gold("000_8703ce6526d76945")
    people = {p.label: p for p in gold.participants}
    for want in gold.meetings:
        names = set(want.participants)
        matches = [
            m
            for m in result.meetings
            if {result.participant(pid).name for pid in m.participants} == names
        ]
        assert len(matches) == 1, f"meeting of {names} found {len(matches)} times"
        got = matches[0]
        assert got.date == want.date
        assert got.place == want.place
        assert got.status == want.status
        for pid in got.participants:
            person = result.participant(pid)
            side = people[person.name or ""]
            assert person.state == side.state
            assert (person.organisation.short if person.organisation else None) == (
                side.organisation
            )
        for words in want.outcome_contains:
            assert any(words in o for o in got.outcomes)


def test_status_claims_match_gold(seed_result: tuple[Extraction, str]) -> None:
    """Each gold claim is found with its status, stance, origin, claimant and supporters."""
    result, _ = seed_result

    def name(pid: str | None) -> str | None:
        return result.participant(pid).name if pid else None

    for want in _gold("000_8703ce6526d76945").status_claims:
        matches = [
            c
            for c in result.status_claims
            if c.subject == want.subject
            and c.organisation.short == want.organisation
            and c.status == want.status
            and c.stance == want.stance
        ]
        assert len(matches) == 1, f"claim {want} found {len(matches)} times"
        got = matches[0]
        assert got.subject_code == want.subject_code
        assert got.from_status == want.from_status
        assert name(got.claimant) == want.claimant
        assert sorted(name(s) or "" for s in got.supporters) == sorted(want.supporters)


def test_every_evidence_is_exact(seed_result: tuple[Extraction, str]) -> None:
    """For every evidence item anywhere in the output, text[start:end] == quote."""
    result, text = seed_result
    evidence = _evidence(result.model_dump(mode="json"))
    assert len(evidence) > 10
    for ev in evidence:
        assert text[ev["start"] : ev["end"]] == ev["quote"]


def test_zhang_is_one_participant(seed_result: tuple[Extraction, str]) -> None:
    """The fixture lists Zhang twice; the output has one participant with all his mentions."""
    result, _ = seed_result
    zhangs = [p for p in result.participants if p.name and "Zhang" in p.name]
    assert len(zhangs) == 1
    quotes = {m.quote for m in zhangs[0].mentions}
    assert {"Zhang Ming", "The SCO Secretary-General Zhang"} <= quotes


def test_seed_went_through_a_reask(seed_result: tuple[Extraction, str]) -> None:
    """The first authored answer misquotes; the run took two attempts and counted both."""
    result, _ = seed_result
    assert result.run.attempts == 2
    assert result.run.usage.total_tokens == 2 * 1200
    reasks = [json.loads(p.read_text(encoding="utf-8")) for p in Path(CASSETTES).rglob("*.json")]
    tool_messages = [
        m["content"]
        for c in reasks
        for m in c["request"]["body"]["messages"]
        if m["role"] == "tool"
    ]
    assert any("Myanmar was seeking dialogue partner status" in t for t in tool_messages)


def test_cassettes_state_their_provenance() -> None:
    """Every cassette says where it came from; hand-written ones say so and claim no model."""
    for path in Path(CASSETTES).rglob("*.json"):
        provenance = json.loads(path.read_text(encoding="utf-8"))["provenance"]
        assert provenance["source"] in ("recorded", "authored"), path
        if provenance["source"] == "authored":
            assert provenance["model"] is None, path
            assert "by hand" in provenance["note"], path


def _replay(name: str) -> tuple[Extraction, str]:
    from .conftest import ROOT

    path = ROOT / "fixtures" / "corpus" / f"{name}.txt"
    document = read_document(path, max_bytes=10**7)
    return extract(
        document, settings=Settings(mode="replay", cassette_dir=CASSETTES)
    ), document.text


@pytest.mark.parametrize(
    ("name", "script", "meeting_date"),
    [
        ("011_russian_sco_secretariat", "\u0400", "2024-03-14"),
        ("012_chinese_sco_meeting", "\u4e00", "2023-03-14"),
    ],
)
def test_russian_and_chinese_keep_quotes_and_normalise_to_english(
    name: str, script: str, meeting_date: str
) -> None:
    """Quotes stay in the article's script at exact offsets; normalised fields are English."""
    result, text = seed_like = _replay(name)
    assert seed_like
    evidence = _evidence(result.model_dump(mode="json"))
    assert evidence and all(text[e["start"] : e["end"]] == e["quote"] for e in evidence)
    assert any(any(ord(ch) >= ord(script) for ch in e["quote"]) for e in evidence)
    assert result.document.dateline_place == "Beijing"
    assert result.meetings[0].date is not None
    assert result.meetings[0].date.isoformat() == meeting_date
    assert result.meetings[0].place == "Beijing"
    for claim in result.status_claims:
        assert claim.organisation.short is not None and claim.organisation.short.isascii()
        assert claim.subject_code is None or claim.subject_code.isascii()
    for person in result.participants:
        assert person.title is None or person.title.isascii()


def test_long_article_is_chunked_without_duplicates() -> None:
    """The 20,000-character round-up is read in parts, merged, and every offset is exact."""
    result, text = _replay("010_long_summit_roundup")
    assert len(text) > 20_000 and result.run.chunks >= 2
    evidence = _evidence(result.model_dump(mode="json"))
    assert all(text[e["start"] : e["end"]] == e["quote"] for e in evidence)
    meeting_keys = [(frozenset(m.participants), m.status, m.date) for m in result.meetings]
    assert len(meeting_keys) == len(set(meeting_keys))
    claim_keys = [
        (c.subject_code or c.subject, c.organisation.short, c.status, c.stance)
        for c in result.status_claims
    ]
    assert len(claim_keys) == len(set(claim_keys))


def test_undated_article_meets_no_vocabulary_warning() -> None:
    """No dateline, no header, no metadata: no dates, and observer status is no warning."""
    result, _ = _replay("020_undated_article")
    assert result.document.dateline_date is None and result.document.published is None
    assert [m.date for m in result.meetings] == [None, None]
    assert {(c.subject_code, c.status) for c in result.status_claims} >= {
        ("KHM", "observer"),
        ("MNG", "observer"),
    }
    assert not [w for w in result.warnings if " status " in w or "vocabular" in w]


def test_a_chain_of_days_dates_each_meeting_by_the_one_before() -> None:
    """'on Tuesday', 'On the same day', 'The next day', 'later that week' (no single day)."""
    result, _ = _replay("019_same_day_chain")
    got = [(str(m.date), m.date_basis) for m in result.meetings]
    assert got == [
        ("2025-06-03", "dateline"),
        ("2025-06-03", "event"),
        ("2025-06-04", "event"),
        ("None", "event"),
    ]
    later = result.meetings[3]
    assert (str(later.date_earliest), str(later.date_latest)) == ("2025-06-05", "2025-06-08")


def test_ranges_give_a_first_and_a_last_day() -> None:
    """'on 14-15 July' (held) and 'from 31 August to 1 September' (planned) against 16 July 2025."""
    result, _ = _replay("021_interfax_date_ranges")
    spans = [(str(m.date), str(m.date_end)) for m in result.meetings]
    assert spans == [("2025-07-14", "2025-07-15"), ("None", "None"), ("2025-08-31", "2025-09-01")]
