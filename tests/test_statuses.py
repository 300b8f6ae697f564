"""Tests for extractor.statuses: dated, ordered status vocabularies per organisation."""

from __future__ import annotations

import datetime as dt
import json
from importlib.resources import files

import pytest
from pydantic import ValidationError

from extractor.organisations import resolve_organisation
from extractor.schemas.vocab import Status
from extractor.statuses import _VocabularyFile, is_known, level_below, levels

SEED_DATE = dt.date(2022, 7, 14)


def _data() -> dict:
    """The shipped vocabulary file, parsed."""
    text = (files("extractor") / "data" / "status_vocabularies.json").read_text("utf-8")
    return json.loads(text)


def test_sco_in_2022_ranks_observer_above_dialogue_partner() -> None:
    """On the seed's date the SCO ladder is member > observer > dialogue partner."""
    assert levels("SCO", SEED_DATE) == [Status.member, Status.observer, Status.dialogue_partner]
    assert level_below("SCO", Status.observer, SEED_DATE) == Status.dialogue_partner


def test_sco_after_september_2025_has_partner_and_no_observer() -> None:
    """From 2025-09-01 the SCO grants partner status and no longer observer or dialogue partner."""
    ladder = levels("SCO", dt.date(2025, 10, 1))
    assert ladder == [Status.member, Status.partner]
    assert Status.observer not in ladder
    assert not is_known("SCO", Status.dialogue_partner, dt.date(2025, 10, 1))


def test_sco_change_date_boundaries() -> None:
    """The old vocabulary holds on 2025-08-31 and the new one from 2025-09-01."""
    assert is_known("SCO", Status.observer, dt.date(2025, 8, 31))
    assert not is_known("SCO", Status.observer, dt.date(2025, 9, 1))
    assert is_known("SCO", Status.partner, dt.date(2025, 9, 1))


def test_latest_vocabulary_when_no_date() -> None:
    """Without a date the vocabulary in force now is used."""
    assert levels("SCO") == [Status.member, Status.partner]
    assert levels("BRICS") == [Status.member, Status.partner]


def test_a_datetime_is_accepted_as_a_date() -> None:
    """A datetime is read as its date instead of failing to compare."""
    assert levels("SCO", dt.datetime(2022, 7, 14, 9, 30)) == levels("SCO", SEED_DATE)


def test_brics_in_2023_has_no_partner() -> None:
    """BRICS had only members before the 2024 Kazan summit."""
    assert levels("BRICS", dt.date(2023, 6, 1)) == [Status.member]
    assert not is_known("BRICS", Status.partner, dt.date(2023, 6, 1))
    assert is_known("BRICS", Status.partner, dt.date(2024, 10, 24))


def test_asean_ladder() -> None:
    """ASEAN ranks member > observer > dialogue > sectoral dialogue > development partner."""
    assert levels("ASEAN", SEED_DATE) == [
        Status.member,
        Status.observer,
        Status.dialogue_partner,
        Status.sectoral_dialogue_partner,
        Status.development_partner,
    ]
    assert level_below("ASEAN", Status.dialogue_partner) == Status.sectoral_dialogue_partner


def test_level_below_at_the_bottom_or_outside_is_none() -> None:
    """The lowest level, a status the organisation lacks and a role have nothing below."""
    assert level_below("SCO", Status.dialogue_partner, SEED_DATE) is None
    assert level_below("SCO", Status.partner, SEED_DATE) is None
    assert level_below("SCO", Status.chair, SEED_DATE) is None
    assert level_below("BRICS", Status.member, dt.date(2023, 1, 1)) is None


def test_roles_are_never_levels() -> None:
    """Chair, office holder and other are not rungs of any organisation's ladder."""
    for org in _data()["organisations"]:
        for role in (Status.chair, Status.office_holder, Status.other):
            assert not is_known(org, role)


def test_unknown_organisation() -> None:
    """An organisation without a vocabulary gives an empty ladder and knows no status."""
    assert levels("NATO") == []
    assert levels("", SEED_DATE) == []
    assert level_below("NATO", Status.member) is None
    assert not is_known("NATO", Status.member)


def test_short_name_is_case_insensitive() -> None:
    """The short name matches regardless of case."""
    assert levels("sco", SEED_DATE) == levels("SCO", SEED_DATE)


def test_returned_ladder_is_a_copy() -> None:
    """Changing a returned list does not change the vocabulary."""
    ladder = levels("SCO", SEED_DATE)
    ladder.clear()
    assert levels("SCO", SEED_DATE) != []


def test_vocabulary_organisations_are_known_organisations() -> None:
    """Every organisation with a vocabulary is a canonical short name in organisations.json."""
    for org in _data()["organisations"]:
        info = resolve_organisation(org)
        assert info is not None
        assert info.short == org


def test_shipped_file_validates_and_documents_itself() -> None:
    """The shipped file passes validation and carries a _note describing its format."""
    data = _data()
    assert data["_note"]
    _VocabularyFile.model_validate(data)


@pytest.mark.parametrize(
    "broken",
    [
        {"levels": ["member", "obsever"]},
        {"levels": ["member", "member"]},
        {"levels": ["member", "chair"]},
        {"levels": []},
        {"lvls": ["member"]},
        {"until": "2020-01-01"},
    ],
)
def test_a_typo_in_the_data_fails_loudly(broken: dict) -> None:
    """Misspelt statuses, repeats, roles, empty ladders, unknown keys and gaps are rejected."""
    period = {"from": None, "until": None, "levels": ["member"], **broken}
    with pytest.raises(ValidationError):
        _VocabularyFile.model_validate({"_note": "x", "organisations": {"X": [period]}})


def test_periods_must_chain_without_gaps() -> None:
    """Periods that leave a gap between them are rejected."""
    periods = [
        {"from": None, "until": "2020-01-01", "levels": ["member"]},
        {"from": "2021-01-01", "until": None, "levels": ["member", "partner"]},
    ]
    with pytest.raises(ValidationError):
        _VocabularyFile.model_validate({"_note": "x", "organisations": {"X": periods}})
