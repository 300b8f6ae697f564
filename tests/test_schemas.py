"""The draft the model fills and the records users get."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from extractor.grounding import Aligner
from extractor.schemas import DraftExtraction, Extraction
from extractor.schemas.draft import parse_leniently

TEXT = "Zhang Ming met U Myo Thant Pe in Beijing. The sides agreed to keep in touch."


def answer(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "participants": [
            {"ref": "p1", "name": "Zhang Ming", "mentions": ["Zhang Ming"]},
            {"ref": "p2", "name": "U Myo Thant Pe", "mentions": ["U Myo Thant Pe"]},
        ],
        "meetings": [{"participants": ["p1", "p2"], "quotes": ["Zhang Ming met U Myo Thant Pe"]}],
    }
    data.update(changes)
    return data


def validate(data: dict[str, Any]) -> DraftExtraction:
    return DraftExtraction.model_validate(data, context={"aligner": Aligner(TEXT)})


def test_grounded_answer_validates() -> None:
    """An answer whose quotes are all in the text passes."""
    assert len(validate(answer()).meetings) == 1


def test_error_names_each_bad_quote_and_where_it_is() -> None:
    """The re-ask message names the failing quote and its place, so the model can fix it."""
    bad = answer(meetings=[{"participants": ["p1", "p2"], "quotes": ["Zhang hosted Pe"]}])
    with pytest.raises(ValidationError) as info:
        validate(bad)
    message = str(info.value)
    assert "meetings[0].quotes[0]" in message and "'Zhang hosted Pe'" in message
    assert "word for word" in message


def test_unknown_ref_is_reported() -> None:
    """A meeting pointing at a participant that is not listed is refused."""
    bad = answer(meetings=[{"participants": ["p1", "p9"], "quotes": ["Zhang Ming met"]}])
    with pytest.raises(ValidationError, match="unknown ref 'p9'"):
        DraftExtraction.model_validate(bad)


def test_status_outside_the_vocabulary_is_refused() -> None:
    """A status the vocabulary does not know fails validation (and is re-asked)."""
    claim = {
        "subject": "Myanmar",
        "organisation": "SCO",
        "status": "associate",
        "status_text": "associate",
        "stance": "seeks",
        "quotes": ["Zhang Ming"],
    }
    with pytest.raises(ValidationError, match="status"):
        DraftExtraction.model_validate(answer(status_claims=[claim]))


def test_without_context_grounding_is_not_checked() -> None:
    """Lenient parsing of a failed answer skips grounding; the pipeline does it later."""
    data = answer(meetings=[{"participants": ["p1", "p2"], "quotes": ["not in text"]}])
    assert len(DraftExtraction.model_validate(data).meetings) == 1


def test_parse_leniently_keeps_good_records_and_says_what_it_dropped() -> None:
    """Malformed records and dangling refs are dropped one by one, with reasons."""
    data = answer(
        meetings=[
            {"participants": ["p1", "p2"], "quotes": ["Zhang Ming met U Myo Thant Pe"]},
            {"participants": ["p1"], "quotes": ["x"]},
            {"participants": ["p1", "p7"], "quotes": ["y"]},
        ],
        status_claims=[{"subject": "Myanmar", "status": "member"}],
    )
    draft, skipped = parse_leniently(data)
    assert len(draft.meetings) == 1 and len(draft.participants) == 2
    assert draft.status_claims == []
    assert len(skipped) == 3
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
