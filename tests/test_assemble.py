"""From a draft to grounded, normalised records."""

from __future__ import annotations

import datetime as dt
from typing import Any

from extractor.assemble import assemble, stable_id
from extractor.document import document_from_text
from extractor.schemas import DraftExtraction, RunInfo, Usage

TEXT = (
    "MOSCOW, March 3 (TASS) -- Russian Foreign Minister Sergey Lavrov met on Tuesday with "
    "ASEAN Secretary-General Kao Kim Hourn. Lavrov said Russia wants to upgrade to "
    "comprehensive strategic partnership. The ministers will meet again in Vientiane in July."
)
RUN = RunInfo(model="m", prompt_version="v", mode="replay", attempts=1, usage=Usage())


def draft(**parts: Any) -> DraftExtraction:
    base: dict[str, Any] = {
        "participants": [
            {
                "ref": "p1",
                "name": "Sergey Lavrov",
                "title": "Foreign Minister",
                "state": "Russia",
                "mentions": ["Sergey Lavrov", "Lavrov"],
            },
            {
                "ref": "p2",
                "name": "Kao Kim Hourn",
                "title": "Secretary-General",
                "organisation": "ASEAN",
                "mentions": ["ASEAN Secretary-General Kao Kim Hourn"],
            },
        ],
        "meetings": [
            {
                "participants": ["p1", "p2"],
                "date_text": "on Tuesday",
                "quotes": [
                    "Sergey Lavrov met on Tuesday with ASEAN Secretary-General Kao Kim Hourn"
                ],
            }
        ],
    }
    base.update(parts)
    return DraftExtraction.model_validate(base)


def run(d: DraftExtraction, text: str = TEXT) -> Any:
    return assemble(document_from_text(text, "t.txt"), d, RUN)


def test_meeting_is_grounded_dated_and_coded() -> None:
    """The meeting gets offsets, the Tuesday before the dateline, and RUS for Lavrov."""
    doc = document_from_text(TEXT, "t.txt")
    assert doc.dateline is not None and doc.dateline.date is None  # no year in the dateline
    result = run(draft(), "date 2023-03-03 " + TEXT)
    (meeting,) = result.meetings
    assert meeting.date == dt.date(2023, 2, 28)
    assert meeting.from_dateline == ["place"]
    assert meeting.place == "Moscow"
    lavrov = result.participant(meeting.participants[0])
    assert lavrov.state == "RUS" and lavrov.name == "Sergey Lavrov"
    text = "date 2023-03-03 " + TEXT
    for ev in [*meeting.evidence, *lavrov.mentions]:
        assert text[ev.start : ev.end] == ev.quote


def test_ungrounded_meeting_is_dropped_with_a_warning() -> None:
    """A meeting whose quote is not in the text never leaves the pipeline."""
    d = draft(meetings=[{"participants": ["p1", "p2"], "quotes": ["Lavrov hugged Kao"]}])
    result = run(d)
    assert result.meetings == []
    assert any("Lavrov hugged Kao" in w and "dropped meeting" in w for w in result.warnings)


def test_ungrounded_claim_is_dropped_but_others_stay() -> None:
    """One bad claim costs only itself."""
    claims = [
        {
            "subject": "Russia",
            "organisation": "ASEAN",
            "status": "partner",
            "status_text": "comprehensive strategic partnership",
            "stance": "seeks",
            "quotes": ["Russia wants to upgrade to comprehensive strategic partnership"],
        },
        {
            "subject": "Russia",
            "organisation": "ASEAN",
            "status": "member",
            "status_text": "member",
            "stance": "applied",
            "quotes": ["Russia applied to join"],
        },
    ]
    result = run(draft(status_claims=claims))
    assert [c.stance for c in result.status_claims] == ["seeks"]
    assert result.status_claims[0].subject_code == "RUS"
    assert result.status_claims[0].organisation.short == "ASEAN"
    assert any("Russia applied to join" in w for w in result.warnings)


def test_participant_with_invented_name_is_dropped_and_meeting_follows() -> None:
    """A participant whose name is not in the text is dropped, and so is its meeting."""
    people = [
        {"ref": "p1", "name": "Sergey Lavrov", "mentions": ["Lavrov"]},
        {"ref": "p2", "name": "Dmitry Medvedev", "mentions": ["Medvedev"]},
    ]
    result = run(draft(participants=people))
    assert [p.name for p in result.participants] == ["Sergey Lavrov"]
    assert result.meetings == []
    assert any("fewer than two" in w for w in result.warnings)


def test_planned_meeting_takes_no_date_from_the_dateline() -> None:
    """A meeting announced for July is not dated with the dateline."""
    meetings = [
        {
            "participants": ["p1", "p2"],
            "status": "planned",
            "date_text": "in July",
            "place": "Vientiane",
            "quotes": ["will meet again in Vientiane in July"],
        }
    ]
    (meeting,) = run(draft(meetings=meetings), "date 2023-03-03 " + TEXT).meetings
    assert meeting.status == "planned"
    assert meeting.from_dateline == []
    assert meeting.date is None


def test_same_meeting_twice_is_one_record_with_both_quotes() -> None:
    """Two drafts of one meeting merge, evidence from both."""
    q1 = "Sergey Lavrov met on Tuesday with ASEAN Secretary-General Kao Kim Hourn"
    q2 = "Lavrov said Russia wants to upgrade"
    meetings = [
        {"participants": ["p1", "p2"], "quotes": [q1]},
        {"participants": ["p2", "p1"], "quotes": [q2]},
    ]
    (meeting,) = run(draft(meetings=meetings)).meetings
    assert [e.quote for e in meeting.evidence] == [q1, q2]


def test_upgrade_infers_the_status_below_from_the_vocabulary() -> None:
    """'Upgrading to observer' at the SCO in 2022 comes from dialogue partner."""
    text = "date 2022-07-14 Cambodia is interested in upgrading to observer status at the SCO."
    claim = {
        "subject": "Cambodia",
        "organisation": "SCO",
        "status": "observer",
        "status_text": "observer status",
        "stance": "seeks",
        "upgrade": True,
        "quotes": ["interested in upgrading to observer status"],
    }
    d = DraftExtraction.model_validate({"status_claims": [claim]})
    (got,) = run(d, text).status_claims
    assert got.from_status == "dialogue_partner" and got.from_status_inferred


def test_ids_are_stable_across_runs() -> None:
    """The same document and draft give the same ids."""
    assert run(draft()).meetings[0].id == run(draft()).meetings[0].id
    assert stable_id("m", "a", 1) != stable_id("m", "a", 2)


def test_meeting_in_two_chunks_merges_and_keeps_the_stated_date() -> None:
    """A meeting dated in one report and undated in another is one meeting, stated date kept."""
    q1 = "Sergey Lavrov met on Tuesday with ASEAN Secretary-General Kao Kim Hourn"
    q2 = "Lavrov said Russia wants to upgrade"
    meetings = [
        {"participants": ["p1", "p2"], "quotes": [q2]},
        {"participants": ["p2", "p1"], "date_text": "on Tuesday", "quotes": [q1]},
    ]
    (meeting,) = run(draft(meetings=meetings), "date 2023-03-03 " + TEXT).meetings
    assert meeting.date == dt.date(2023, 2, 28)
    assert meeting.date_text == "on Tuesday"
    assert meeting.from_dateline == ["place"]
    assert [e.quote for e in meeting.evidence] == [q1, q2]


def test_same_claim_twice_fills_what_one_report_lacks() -> None:
    """Two reports of one claim merge; the claimant named in either is kept."""
    base = {
        "subject": "Russia",
        "organisation": "ASEAN",
        "status": "partner",
        "status_text": "partnership",
        "stance": "seeks",
    }
    claims = [
        {**base, "quotes": ["Russia wants to upgrade"]},
        {**base, "claimant_ref": "p1", "quotes": ["Lavrov said Russia wants to upgrade"]},
    ]
    (claim,) = run(draft(status_claims=claims)).status_claims
    assert claim.claimant is not None
    assert len(claim.evidence) == 1  # the shorter quote lies inside the longer one


def test_acronym_the_article_defines_names_the_organisation_one_way() -> None:
    """'Organization of Turkic States (OTS)' makes 'OTS' and the full name one organisation."""
    from extractor.assemble import defined_acronyms, organisation

    text = "NEW YORK -- The Secretary-General of the Organization of Turkic States (OTS) spoke."
    local = defined_acronyms(text)
    assert local == {"OTS": "Organization of Turkic States"}
    by_acronym, by_name = organisation("OTS", local), organisation("the OTS", local)
    full = organisation("Organization of Turkic States", local)
    assert by_acronym is not None and full is not None
    assert (by_acronym.short, by_acronym.full) == (full.short, full.full) == (
        "OTS",
        "Organization of Turkic States",
    )
    assert by_name is not None and by_name.short == "OTS"
    other = organisation("Turkic Council", local)
    assert other is not None and other.short is None  # not defined in the article
