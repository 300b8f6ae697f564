"""The draft the model fills and the records users get."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from extractor.ground.support import Article, review
from extractor.schemas import DraftExtraction, Extraction
from extractor.schemas.draft import parse_leniently

TEXT = "Zhang Ming met U Myo Thant Pe in Beijing. The sides agreed to keep in touch."

ZHANG: dict[str, Any] = {"name": "Zhang Ming", "mentions": ["Zhang Ming"]}
PE: dict[str, Any] = {"name": "U Myo Thant Pe", "mentions": ["U Myo Thant Pe"]}


def meeting(*quotes: str, sides: list[Any] | None = None) -> dict[str, Any]:
    return {"sides": [ZHANG, PE] if sides is None else sides, "quotes": list(quotes)}


def answer(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"meetings": [meeting("Zhang Ming met U Myo Thant Pe")]}
    data.update(changes)
    return data


def problems(data: dict[str, Any]) -> list[str]:
    """What the support check would re-ask about (the schema itself checks structure only)."""
    return review(DraftExtraction.model_validate(data), Article(TEXT)).problems()


def test_grounded_answer_validates() -> None:
    """An answer whose quotes are all in the text passes, and the support check finds nothing."""
    draft = DraftExtraction.model_validate(answer())
    assert [s.name for s in draft.meetings[0].sides] == ["Zhang Ming", "U Myo Thant Pe"]
    checked = review(draft, Article(TEXT))
    assert checked.problems() == [] and len(checked.meetings) == 1


def test_error_names_each_bad_quote_and_where_it_is() -> None:
    """The re-ask message names the failing quote and its place, so the model can fix it."""
    found = problems(answer(meetings=[meeting("Zhang hosted Pe")]))
    assert any(
        p.startswith("meetings[0].quotes[0]:") and "'Zhang hosted Pe' is not in the article" in p
        for p in found
    )


def test_side_the_article_never_mentions_is_reported_at_its_place() -> None:
    """A side with no mention in the text is named where it is, and cannot make a meeting.

    (Replaces the check for a reference to an unlisted participant: sides are inline now.)
    """
    ghost = {"name": "Li Wei", "mentions": ["Li Wei"]}
    data = answer(meetings=[meeting("Zhang Ming met U Myo Thant Pe", sides=[ZHANG, ghost])])
    checked = review(DraftExtraction.model_validate(data), Article(TEXT))
    assert checked.meetings == []
    found = checked.problems()
    assert any(p.startswith("meetings[0].sides[1].mentions[0]:") and "'Li Wei'" in p for p in found)
    assert any(p.startswith("meetings[0]:") and "fewer than two sides" in p for p in found)


def test_meeting_needs_two_sides_in_the_schema() -> None:
    """A meeting of one side, or a side without mentions, is malformed (and re-asked)."""
    with pytest.raises(ValidationError, match="sides"):
        DraftExtraction.model_validate(answer(meetings=[meeting("Zhang Ming met", sides=[ZHANG])]))
    with pytest.raises(ValidationError, match="mentions"):
        DraftExtraction.model_validate(
            answer(
                meetings=[meeting("Zhang Ming met", sides=[ZHANG, {"name": "Pe", "mentions": []}])]
            )
        )


def test_status_outside_the_vocabulary_is_refused() -> None:
    """A status the vocabulary does not know fails validation (and is re-asked)."""
    claim = {
        "subject": "Myanmar",
        "subject_quote": "Myanmar",
        "organisation": "SCO",
        "status": "dialogue_partner",
        "status_quote": "dialogue partner status",
        "stance": "seeks",
        "stance_quote": "seeking",
        "quotes": ["Zhang Ming"],
    }
    assert len(DraftExtraction.model_validate(answer(status_claims=[claim])).status_claims) == 1
    with pytest.raises(ValidationError, match=r"status_claims\.0\.status\b"):
        DraftExtraction.model_validate(answer(status_claims=[{**claim, "status": "associate"}]))


def test_without_context_grounding_is_not_checked() -> None:
    """The schema checks structure only: a quote not in the text validates, support comes later."""
    data = answer(meetings=[meeting("not in text")])
    assert len(DraftExtraction.model_validate(data).meetings) == 1
    assert len(parse_leniently(data)[0].meetings) == 1
    assert any("'not in text' is not in the article" in p for p in problems(data))


def test_parse_leniently_keeps_good_records_and_says_what_it_dropped() -> None:
    """Malformed records (one side, a side given as a ref) are dropped one by one, with reasons."""
    data = answer(
        meetings=[
            meeting("Zhang Ming met U Myo Thant Pe"),
            meeting("x", sides=[ZHANG]),
            meeting("y", sides=[ZHANG, "p7"]),
        ],
        status_claims=[{"subject": "Myanmar", "status": "member"}],
    )
    draft, skipped = parse_leniently(data)
    assert len(draft.meetings) == 1
    assert [s.name for s in draft.meetings[0].sides] == ["Zhang Ming", "U Myo Thant Pe"]
    assert draft.status_claims == []
    assert len(skipped) == 3
    assert any("meetings[1]" in s for s in skipped) and any("meetings[2]" in s for s in skipped)
    assert any("status_claims[0]" in s for s in skipped)
    assert parse_leniently("nonsense")[0].meetings == []


def test_draft_schema_lists_the_closed_vocabularies() -> None:
    """The schema sent to the model enumerates statuses and stances."""
    schema = json.dumps(DraftExtraction.model_json_schema())
    for word in ("dialogue_partner", "office_holder", "seeks", "granted", "planned"):
        assert f'"{word}"' in schema


def test_output_schema_is_json_schema() -> None:
    """The users' schema has the record types and forbids unknown fields."""
    schema = Extraction.model_json_schema()
    assert {"Meeting", "StatusClaim", "Participant", "Evidence"} <= set(schema["$defs"])
    assert schema["$defs"]["Evidence"]["additionalProperties"] is False


def test_parse_leniently_bounds_a_runaway_answer() -> None:
    """10,000 malformed records cost a few lines and bounded work, and good ones stop at the cap."""
    from extractor.schemas.draft import MAX_RECORDS, MAX_SKIP_NOTES

    junk = answer(meetings=[meeting("x", sides=[ZHANG])] * 10_000)
    draft, skipped = parse_leniently(junk)
    assert draft.meetings == []
    assert len(skipped) == MAX_SKIP_NOTES + 2  # named ones, where it stopped, how many more
    assert any("more malformed meetings" in s for s in skipped)
    good = answer(meetings=[meeting("Zhang Ming met U Myo Thant Pe")] * 10_000)
    draft, skipped = parse_leniently(good)
    assert len(draft.meetings) == MAX_RECORDS and len(skipped) == 1
