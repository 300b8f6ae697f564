"""Scores against small cases computed by hand."""

from __future__ import annotations

from typing import Any

import pytest

from extractor.schemas import Extraction, Gold
from extractor.scoring import PRF, normalise_name, score, total

ZHANG = {"label": "Zhang Ming", "name": "Zhang Ming", "organisation": "SCO"}
PE = {"label": "U Myo Thant Pe", "name": "U Myo Thant Pe", "state": "MMR"}
SYSODA = {"label": "Khek Caimealy Sysoda", "name": "Khek Caimealy Sysoda", "state": "KHM"}


def gold(**parts: Any) -> Gold:
    return Gold.model_validate({"document": "x.txt", "provenance": "test", **parts})


def ev() -> list[dict[str, Any]]:
    return [{"quote": "x", "start": 0, "end": 1}]


def person(
    pid: str,
    name: str | None,
    state: str | None = None,
    org: str | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    organisation = {"short": org, "full": org, "as_written": org} if org else None
    return {
        "id": pid,
        "kind": "person",
        "name": name,
        "title": title,
        "organisation": organisation,
        "state": state,
        "state_as_written": None,
        "mentions": ev(),
    }


def meeting(mid: str, *sides: str, date: str | None = "2022-07-14") -> dict[str, Any]:
    return {
        "id": mid,
        "participants": list(sides),
        "status": "held",
        "format": "unknown",
        "date": date,
        "date_text": None,
        "place": None,
        "topics": [],
        "outcomes": [],
        "evidence": ev(),
    }


def claim(
    cid: str, subject: str, code: str | None, org: str, status: str, stance: str
) -> dict[str, Any]:
    return {
        "id": cid,
        "subject": subject,
        "subject_code": code,
        "subject_participant": None,
        "organisation": {"short": org, "full": org, "as_written": org},
        "status": status,
        "status_text": status,
        "stance": stance,
        "from_status": None,
        "claimant": None,
        "time_text": None,
        "evidence": ev(),
    }


def extraction(participants: list[Any], meetings: list[Any], claims: list[Any]) -> Extraction:
    return Extraction.model_validate(
        {
            "document": {
                "id": "d",
                "source": "x.txt",
                "sha256": "0",
                "chars": 1,
                "dateline_date": None,
                "dateline_place": None,
                "outlet": None,
            },
            "run": {
                "model": "m",
                "prompt_version": "v",
                "mode": "replay",
                "attempts": 1,
                "usage": {},
            },
            "participants": participants,
            "meetings": meetings,
            "status_claims": claims,
            "grounding": {"quotes_returned": 4, "quotes_grounded": 3, "records_dropped": 1},
        }
    )


def test_prf_arithmetic() -> None:
    """2 right of 4 predicted and 5 gold: P 0.5, R 0.4, F1 4/9."""
    prf = PRF(tp=2, predicted=4, gold=5)
    assert (prf.precision, prf.recall) == (0.5, 0.4)
    assert prf.f1 == pytest.approx(4 / 9)


def test_nothing_expected_and_nothing_found_is_perfect() -> None:
    """An article with no records scores 1.0 when the pipeline finds none."""
    assert PRF().f1 == 1.0
    assert PRF(predicted=1).f1 == 0.0


def test_names_normalise_without_honorifics() -> None:
    """'H.E. Mr. Sergey Lavrov' and 'sergey  lavrov' are the same name."""
    assert normalise_name("H.E. Mr. Sergey Lavrov") == normalise_name("sergey  lavrov")
    assert normalise_name("He Lifeng") == ("he", "lifeng")


def test_meetings_match_on_sides_and_score_dates() -> None:
    """Two of three gold meetings found, one with a wrong date, plus one spurious meeting."""
    g = gold(
        participants=[ZHANG, PE, SYSODA, {"label": "Pierre", "name": "Pierre Kraehenbuehl"}],
        meetings=[
            {"participants": ["Zhang Ming", "U Myo Thant Pe"], "date": "2022-07-14"},
            {"participants": ["Zhang Ming", "Khek Caimealy Sysoda"], "date": "2022-07-14"},
            {"participants": ["Zhang Ming", "Pierre"], "date": "2022-07-14"},
        ],
    )
    e = extraction(
        [
            person("a", "Zhang", org="SCO"),
            person("b", "U Myo Thant Pe", "MMR"),
            person("c", "Khek Caimealy Sysoda", "KHM"),
            person("d", "Somebody Else"),
        ],
        [
            meeting("m1", "a", "b"),
            meeting("m2", "a", "c", date="2022-07-13"),
            meeting("m3", "a", "d"),
        ],
        [],
    )
    s = score(e, g)
    assert s.records["participants"] == PRF(3, 4, 4)
    assert s.records["meetings"] == PRF(2, 3, 3)
    assert s.fields["meeting_date"] == PRF(1, 3, 3)


def test_a_meeting_over_days_needs_its_last_day_where_the_gold_gives_one() -> None:
    """Gold with date_end: the first day alone is not enough; gold without one ignores it."""
    g = gold(
        participants=[ZHANG, PE, SYSODA],
        meetings=[
            {
                "participants": ["Zhang Ming", "U Myo Thant Pe"],
                "date": "2025-07-14",
                "date_end": "2025-07-15",
            },
            {"participants": ["Zhang Ming", "Khek Caimealy Sysoda"], "date": "2025-07-14"},
        ],
    )
    people = [
        person("a", "Zhang Ming", org="SCO"),
        person("b", "U Myo Thant Pe", "MMR"),
        person("c", "Khek Caimealy Sysoda", "KHM"),
    ]

    def run(end_b: str | None, end_c: str | None) -> PRF:
        first = {**meeting("m1", "a", "b", date="2025-07-14"), "date_end": end_b}
        second = {**meeting("m2", "a", "c", date="2025-07-14"), "date_end": end_c}
        return score(extraction(people, [first, second], []), g).fields["meeting_date"]

    assert run("2025-07-15", None) == PRF(2, 2, 2)
    assert run("2025-07-15", "2025-07-16") == PRF(2, 2, 2)  # the gold gives no last day
    assert run(None, None) == PRF(1, 2, 2)
    assert run("2025-07-16", None) == PRF(1, 2, 2)


def test_claims_need_status_and_stance_for_a_record_match() -> None:
    """A claim with the right subject and organisation but the wrong stance is a field miss."""
    g = gold(
        status_claims=[
            {
                "subject": "Myanmar",
                "subject_code": "MMR",
                "organisation": "SCO",
                "status": "dialogue_partner",
                "stance": "seeks",
            },
            {
                "subject": "Cambodia",
                "subject_code": "KHM",
                "organisation": "ASEAN",
                "status": "chair",
                "stance": "holds",
            },
        ]
    )
    e = extraction(
        [],
        [],
        [
            claim("c1", "Myanmar", "MMR", "SCO", "dialogue_partner", "applied"),
            claim("c2", "Cambodia", "KHM", "ASEAN", "chair", "holds"),
            claim("c3", "France", "FRA", "SCO", "member", "holds"),
        ],
    )
    s = score(e, g)
    assert s.records["status_claims"] == PRF(1, 3, 2)
    assert s.fields["stance"] == PRF(1, 3, 2)
    assert s.fields["status"] == PRF(2, 3, 2)
    assert s.fields["organisation"] == PRF(2, 3, 2)
    assert s.fields["subject_country"] == PRF(2, 3, 2)


def test_subject_country_counts_as_a_field() -> None:
    """A claim pairs by name when a code is missing, and the missing code is a field miss."""
    g = gold(
        status_claims=[
            {
                "subject": "Myanmar",
                "subject_code": "MMR",
                "organisation": "SCO",
                "status": "observer",
                "stance": "seeks",
            }
        ]
    )
    e = extraction([], [], [claim("c1", "Myanmar", None, "SCO", "observer", "seeks")])
    s = score(e, g)
    assert s.records["status_claims"] == PRF(1, 1, 1)
    assert s.fields["subject_country"] == PRF(0, 1, 1)


def test_totals_are_micro_averaged_and_keep_grounding() -> None:
    """Overall sums the counts and the grounding figures of every article."""
    g = gold()
    e = extraction([], [], [])
    overall = total([score(e, g, "a"), score(e, g, "b")])
    assert overall.quotes_returned == 8 and overall.quotes_grounded == 6
    assert overall.grounding_rate == 0.75
    assert overall.records_dropped == 2
