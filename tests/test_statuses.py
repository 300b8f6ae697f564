"""Tests for extractor.normalise.statuses: dated vocabularies, cues and stop words."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from importlib.resources import files

import pytest
from pydantic import ValidationError

from extractor.normalise.organisations import resolve_organisation
from extractor.normalise.statuses import (
    _VocabularyFile,
    is_known,
    level_below,
    levels,
    only_stopwords,
    stance_checkable,
    stance_cue,
    status_checkable,
    status_cue,
)
from extractor.schemas.vocab import Stance, Status

SEED_DATE = dt.date(2022, 7, 14)


def _data() -> dict:
    """The shipped vocabulary file, parsed."""
    text = (files("extractor") / "data" / "status_vocabularies.json").read_text("utf-8")
    return json.loads(text)


def _with_organisations(organisations: dict) -> dict:
    """The shipped file with its organisations replaced, to test period validation alone."""
    return {**_data(), "organisations": organisations}


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
    period = {"from": None, "until": None, "levels": ["member"]}
    _VocabularyFile.model_validate(_with_organisations({"X": [period]}))
    with pytest.raises(ValidationError):
        _VocabularyFile.model_validate(_with_organisations({"X": [{**period, **broken}]}))


def test_periods_must_chain_without_gaps() -> None:
    """Periods that leave a gap between them are rejected."""
    periods = [
        {"from": None, "until": "2020-01-01", "levels": ["member"]},
        {"from": "2021-01-01", "until": None, "levels": ["member", "partner"]},
    ]
    with pytest.raises(ValidationError):
        _VocabularyFile.model_validate(_with_organisations({"X": periods}))


# --- Status and stance cues ----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "positive", "negative"),
    [
        (Status.member, "Iran became a full member of the SCO", "The SCO summit opened in Astana"),
        (Status.observer, "Mongolia is an observer state", "Mongolia attended the summit"),
        (
            Status.dialogue_partner,
            "Myanmar seeks SCO dialogue partner status",
            "Myanmar seeks closer dialogue with the SCO",
        ),
        (
            Status.sectoral_dialogue_partner,
            "Pakistan became a sectoral dialogue partner of ASEAN",
            "Pakistan became a dialogue partner of ASEAN",
        ),
        (
            Status.development_partner,
            "Germany is a development partner of ASEAN",
            "Germany is a dialogue partner of ASEAN",
        ),
        (Status.partner, "Belarus became a BRICS partner country", "Belarus attended the summit"),
        (Status.chair, "India holds the SCO chairmanship this year", "India hosted the meeting"),
        (
            Status.office_holder,
            "Secretary-General Zhang Ming opened the session",
            "Zhang Ming opened the session",
        ),
    ],
)
def test_status_cue_in_english(status: Status, positive: str, negative: str) -> None:
    """Each checkable status is found in a sentence that names it and not in one that does not."""
    assert status_checkable(status)
    assert status_cue(positive, status) is not None
    assert status_cue(negative, status) is None


@pytest.mark.parametrize(
    ("stance", "positive", "negative"),
    [
        (Stance.seeks, "Myanmar seeks dialogue partner status", "Myanmar is a dialogue partner"),
        (Stance.applied, "Turkey applied for membership", "Turkey is a dialogue partner"),
        (
            Stance.memorandum_signed,
            "Egypt signed a memorandum on dialogue partnership",
            "Egypt praised the design of the new building",
        ),
        (Stance.granted, "Iran was granted observer status", "Iran seeks observer status"),
        (
            Stance.welcomed,
            "The leaders welcomed Iran's accession",
            "The leaders discussed Iran's accession",
        ),
        (Stance.supported, "Russia backed Belarus's bid", "Against the background of the talks"),
        (Stance.declined, "India declined the invitation", "India accepted the invitation"),
        (Stance.left, "Uzbekistan withdrew from the CSTO", "Uzbekistan remains in the CSTO"),
    ],
)
def test_stance_cue_in_english(stance: Stance, positive: str, negative: str) -> None:
    """Each checkable stance is found in a sentence that states it and not in one that does not."""
    assert stance_checkable(stance)
    assert stance_cue(positive, stance) is not None
    assert stance_cue(negative, stance) is None


def test_other_and_holds_are_not_mechanically_checkable() -> None:
    """Only the status other and the stance holds have no mandatory cue, and never match."""
    assert [s for s in Status if not status_checkable(s)] == [Status.other]
    assert [s for s in Stance if not stance_checkable(s)] == [Stance.holds]
    assert status_cue("other status", Status.other) is None
    assert stance_cue("Iran holds SCO membership as a member state", Stance.holds) is None


@pytest.mark.parametrize(
    ("find", "text", "cue"),
    [
        (lambda t: status_cue(t, Status.observer), "получила статус наблюдателя", "наблюдателя"),
        (lambda t: status_cue(t, Status.observer), "蒙古国是上合组织观察员国", "观察员"),
        (
            lambda t: status_cue(t, Status.dialogue_partner),
            "статус партнёра по диалогу ШОС",
            "партнёра по диалогу",
        ),
        (lambda t: status_cue(t, Status.dialogue_partner), "成为上合组织对话伙伴", "对话伙伴"),
        (lambda t: status_cue(t, Status.member), "заявку на членство", "членство"),
        (lambda t: status_cue(t, Status.member), "стать полноправным членом", "членом"),
        (lambda t: status_cue(t, Status.member), "伊朗成为上合组织正式成员国", "成员"),
        (lambda t: stance_cue(t, Stance.seeks), "Мьянма стремится к статусу", "стремится"),
        (lambda t: stance_cue(t, Stance.seeks), "缅甸希望成为对话伙伴", "希望"),
        (lambda t: stance_cue(t, Stance.applied), "заявку на членство", "заявку"),
        (lambda t: stance_cue(t, Stance.applied), "Иран подал заявку", "подал"),
        (lambda t: stance_cue(t, Stance.applied), "伊朗申请加入上合组织", "申请"),
        (lambda t: stance_cue(t, Stance.granted), "Ирану предоставлен статус", "предоставлен"),
        (lambda t: stance_cue(t, Stance.granted), "给予伊朗观察员地位", "给予"),
    ],
)
def test_russian_and_chinese_cues(find: Callable[[str], str | None], text: str, cue: str) -> None:
    """Inflected Russian forms match their stems and Chinese cues match inside longer words."""
    assert find(text) == cue


@pytest.mark.parametrize(
    ("find", "text"),
    [
        (lambda t: status_cue(t, Status.observer), "Монголия приняла участие в саммите"),
        (lambda t: status_cue(t, Status.observer), "蒙古国出席了峰会"),
        (lambda t: status_cue(t, Status.dialogue_partner), "стороны провели диалог"),
        (lambda t: status_cue(t, Status.dialogue_partner), "双方举行了对话"),
        (lambda t: status_cue(t, Status.member), "совещание прошло в Пекине"),
        (lambda t: status_cue(t, Status.member), "会议在北京举行"),
        (lambda t: stance_cue(t, Stance.seeks), "Мьянма является партнёром"),
        (lambda t: stance_cue(t, Stance.seeks), "缅甸是对话伙伴"),
        (lambda t: stance_cue(t, Stance.applied), "Иран является членом"),
        (lambda t: stance_cue(t, Stance.applied), "伊朗是成员国"),
        (lambda t: stance_cue(t, Stance.granted), "Иран стремится к статусу"),
        (lambda t: stance_cue(t, Stance.granted), "伊朗寻求观察员地位"),
    ],
)
def test_russian_and_chinese_non_cues(find: Callable[[str], str | None], text: str) -> None:
    """Russian and Chinese sentences without the status or stance give no cue."""
    assert find(text) is None


def test_cues_match_whole_words_or_marked_prefixes() -> None:
    """A plain cue matches whole words ("back" not in "background"), a starred one prefixes."""
    assert stance_cue("background", Stance.supported) is None
    assert stance_cue("a backing vocal", Stance.supported) == "backing"
    assert status_cue("joint statement", Status.member) is None
    assert status_cue("нечлен", Status.member) is None
    assert status_cue("observership", Status.observer) == "observership"


def test_cues_fold_case_diacritics_hyphens_and_whitespace() -> None:
    """Case, ё/е, accents, hyphens, invisible characters and line breaks do not hide a cue."""
    assert status_cue("партнер по диалогу", Status.dialogue_partner) == "партнер по диалогу"
    assert status_cue("ПАРТНЁР ПО ДИАЛОГУ", Status.dialogue_partner) == "ПАРТНЁР ПО ДИАЛОГУ"
    assert status_cue("OBSERVER status", Status.observer) == "OBSERVER"
    assert status_cue("le statut d\u2019observateur", Status.observer) == "observateur"
    assert status_cue("dialogue\n   partner", Status.dialogue_partner) == "dialogue\n   partner"
    assert status_cue("Secretary-General Zhang", Status.office_holder) == "Secretary-General"
    assert status_cue("obs\u00aderver", Status.observer) == "obs\u00aderver"
    assert status_cue("上合组织观察 员国", Status.observer) == "观察 员"


def test_the_longest_cue_at_the_first_position_wins() -> None:
    """Of overlapping cues the earliest in the text wins, the longest there; "" has none."""
    text = "Cambodia is a sectoral dialogue partner and an observer"
    assert status_cue(text, Status.sectoral_dialogue_partner) == "sectoral dialogue partner"
    assert status_cue(text, Status.partner) == "partner"
    assert status_cue("", Status.member) is None


# --- Stop words --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The", True),
        ("the SCO", False),
        ("他的", True),
        ("", True),
        ("2025, -", True),
        ("it's in the", True),
        ("и в на", True),
        ("Она это", True),
        ("Её", True),
        ("成为", False),
        ("他是成员", False),
        ("member", False),
    ],
)
def test_only_stopwords(text: str, expected: bool) -> None:
    """A text of function words (or of no letters) supports nothing; one content word suffices."""
    assert only_stopwords(text) is expected


# --- The cue tables stay validated ---------------------------------------------------


def _drop_chair(data: dict) -> None:
    """Remove the chair entry, which must be listed (with cues or null) like every status."""
    del data["status_cues"]["chair"]


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d["status_cues"].update(observer={"en": ["observer", "Observer"]}),
        lambda d: d["status_cues"].update(observer={"en": ["ob*server"]}),
        lambda d: d["status_cues"].update(observer={"en": ["*"]}),
        lambda d: d["status_cues"].update(observer={"zh": ["观察员*"]}),
        lambda d: d["status_cues"].update(observer={"zh": ["SCO观察员"]}),
        lambda d: d["status_cues"].update(observer={"en": ["observer2"]}),
        lambda d: d["status_cues"].update(observer={"en": ["observer  status"]}),
        lambda d: d["status_cues"].update(observer={"en": [" observer"]}),
        lambda d: d["status_cues"].update(observer={"de": ["Beobachter"]}),
        lambda d: d["status_cues"].update(observer={"en": []}),
        lambda d: d["status_cues"].update(observer={}),
        lambda d: d["status_cues"].update(observer=["observer"]),
        lambda d: d["status_cues"].update(obsever={"en": ["observer"]}),
        _drop_chair,
        lambda d: d["stance_cues"].update(seeks={"ru": ["стремится", "стремится"]}),
        lambda d: d["status_cues"].update(partner={"ru": ["партнёр*", "партнер*"]}),
        lambda d: d["stance_cues"].pop("holds"),
        lambda d: d.update(stance_cue={}),
        lambda d: d["stopwords"].update(zh=["的了"]),
        lambda d: d["stopwords"].update(en=["the*"]),
        lambda d: d["stopwords"].update(en=["it's"]),
        lambda d: d["stopwords"].update(en=[]),
        lambda d: d.pop("stopwords"),
    ],
)
def test_a_malformed_cue_entry_fails_loudly(breakage: Callable[[dict], object]) -> None:
    """Repeats, bad stars, mixed scripts, digits, bad spacing, unknown or missing keys fail."""
    data = copy.deepcopy(_data())
    breakage(data)
    with pytest.raises(ValidationError):
        _VocabularyFile.model_validate(data)
