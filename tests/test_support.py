"""The support rules: each field of a draft is kept only when its own words carry it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from extractor.ground.support import Article, Review, review, weak_quote
from extractor.schemas import DraftExtraction
from extractor.testing import run_scripted

TEXT = (
    "date 2022-07-14 BEIJING, July 14 (APP): Secretary-General of the Shanghai Cooperation "
    "Organization (SCO) "
    "Zhang Ming met U Myo Thant Pe, Ambassador of Myanmar to the People's Republic of China.\n\n"
    "The Ambassador reaffirmed that his country was seeking dialogue partner status.\n\n"
    "Zhang Ming also received Xanana Gusmão, who said Timor-Leste has applied for observer "
    "status in the SCO.\n\n"
    "The ICRC marked its anniversary in Geneva."
)

ZHANG = {"name": "Zhang Ming", "title": "Secretary-General", "organisation": "SCO",
         "mentions": ["Zhang Ming"]}  # fmt: skip
ENVOY = {"name": "U Myo Thant Pe", "title": "Ambassador", "state": "Myanmar",
         "mentions": ["U Myo Thant Pe", "The Ambassador"]}  # fmt: skip
MEETING = {"sides": [ZHANG, ENVOY], "quotes": ["Zhang Ming met U Myo Thant Pe"]}
CLAIM = {
    "subject": "Myanmar",
    "subject_quote": "his country",
    "organisation": "SCO",
    "status": "dialogue_partner",
    "status_quote": "dialogue partner status",
    "stance": "seeks",
    "stance_quote": "was seeking",
    "quotes": ["The Ambassador reaffirmed that his country was seeking dialogue partner status."],
}


def _review(meetings: list[Any] = (), claims: list[Any] = (), text: str = TEXT) -> Review:  # type: ignore[assignment]
    draft = DraftExtraction.model_validate({"meetings": meetings, "status_claims": claims})
    return review(draft, Article(text))


def _claim(**changes: Any) -> dict[str, Any]:
    return {**CLAIM, **changes}


def test_a_supported_meeting_and_claim_pass_without_findings() -> None:
    """The honest answer keeps both records and reports nothing."""
    result = _review([MEETING], [CLAIM])
    assert result.findings == []
    assert len(result.meetings) == 1 and len(result.claims) == 1
    fields = {p.field for p in result.claims[0].proofs}
    assert {"claim", "subject", "status", "stance", "organisation"} <= fields


@pytest.mark.parametrize("quote", ["The", "of the", "it", "a"])
def test_stop_word_and_tiny_quotes_support_nothing(quote: str) -> None:
    """A quote of stop words or a single letter is weak on its own."""
    assert weak_quote(quote) is not None


def test_a_date_quote_with_a_stop_word_and_digits_is_not_weak() -> None:
    """'May 23' and 'in 2008' carry a number, so they are content."""
    assert weak_quote("May 23") is None and weak_quote("in 2008") is None


def test_a_claim_with_a_stop_word_subject_quote_is_dropped() -> None:
    """'The' cannot name Atlantis, or anyone."""
    result = _review(claims=[_claim(subject="Atlantis", subject_quote="The")])
    assert result.claims == []
    assert any(f.outcome == "dropped" and f.field == "subject" for f in result.findings)


def test_a_subject_the_article_never_names_is_dropped() -> None:
    """A state that occurs nowhere is not a subject the article supports."""
    result = _review(claims=[_claim(subject="Cambodia", subject_quote="his country")])
    assert result.claims == []
    assert "Cambodia" in result.warnings()[0]


def test_his_country_means_the_state_named_nearest_before_it() -> None:
    """'his country' after 'Ambassador of Myanmar' is Myanmar, not China."""
    assert _review(claims=[CLAIM]).claims
    result = _review(claims=[_claim(subject="China")])
    assert result.claims == []
    assert "refers to Myanmar" in result.warnings()[0]


def test_the_status_word_must_be_in_the_status_quote_or_the_sentence() -> None:
    """Claiming membership from a sentence about dialogue partnership is dropped."""
    result = _review(claims=[_claim(status="member", status_quote="his country")])
    assert result.claims == []
    assert result.findings[-1].field == "status"


def test_a_bad_status_quote_is_dropped_alone_when_the_sentence_carries_the_status() -> None:
    """The sentence still says 'dialogue partner', so only the quote goes."""
    result = _review(claims=[_claim(status_quote="reaffirmed")])
    assert len(result.claims) == 1
    assert [f.outcome for f in result.findings] == ["quote dropped"]


def test_a_stance_the_words_do_not_carry_is_set_to_null() -> None:
    """'granted' is not what 'was seeking' says: the claim stays, its stance goes."""
    result = _review(claims=[_claim(stance="granted")])
    assert len(result.claims) == 1 and result.claims[0].stance is None
    assert [f.outcome for f in result.findings] == ["nulled"]


def test_holds_needs_no_cue_and_is_listed_as_unchecked() -> None:
    """A stance of holds is passed as unchecked, not as supported."""
    result = _review(claims=[_claim(stance="holds", stance_quote=None)])
    assert result.claims[0].stance == "holds"
    assert "stance" in result.claims[0].unchecked


def test_an_invented_organisation_drops_the_claim() -> None:
    """An organisation the article never names cannot carry a standing."""
    result = _review(claims=[_claim(organisation="Pacific Defence League")])
    assert result.claims == []
    assert result.findings[-1].field == "organisation"


def test_an_organisation_is_never_its_own_subject() -> None:
    """'the SCO holds SCO membership' is dropped."""
    claim = _claim(subject="SCO", subject_quote="SCO", status="member", status_quote="SCO")
    assert _review(claims=[claim]).claims == []


def test_field_quotes_from_another_paragraph_do_not_support_the_claim() -> None:
    """Timor-Leste's bid is in its own paragraph, not in the Myanmar sentence."""
    result = _review(claims=[_claim(subject="Timor-Leste", subject_quote="Timor-Leste")])
    assert result.claims == []
    assert "passage" in result.warnings()[-1]


def test_a_paraphrased_sentence_leaves_a_claim_only_if_every_field_quote_holds() -> None:
    """Without its sentence the claim needs subject, status and stance quotes of its own."""
    kept = _review(claims=[_claim(quotes=["Myanmar wants to be an SCO dialogue partner."])])
    assert len(kept.claims) == 1
    assert [f.outcome for f in kept.findings] == ["quote dropped"]
    gone = _review(claims=[_claim(quotes=["Myanmar wants in."], stance_quote="wants")])
    assert gone.claims == []


def test_a_meeting_with_an_invented_side_is_dropped() -> None:
    """A side with no mention in the article goes, and one side is not a meeting."""
    ghost = {"name": "John Smith", "mentions": ["John Smith"]}
    result = _review([{**MEETING, "sides": [ZHANG, ghost]}])
    assert result.meetings == []
    assert [f.field for f in result.findings if f.outcome == "dropped"] == ["mentions", "sides"]


def test_a_nameless_side_without_state_or_organisation_is_dropped() -> None:
    """'the diplomat' alone, with nothing the article states about it, is not a side."""
    nameless = {"title": "diplomat", "mentions": ["The Ambassador"]}
    result = _review([{**MEETING, "sides": [ZHANG, nameless]}])
    assert result.meetings == []


def test_a_meeting_quote_must_name_one_of_its_sides() -> None:
    """The ICRC sentence reports no meeting of these two."""
    result = _review([{**MEETING, "quotes": ["The ICRC marked its anniversary in Geneva."]}])
    assert result.meetings == []


def test_the_host_state_of_an_ambassador_is_set_to_null() -> None:
    """'Ambassador of Myanmar to the People's Republic of China' does not represent China."""
    envoy = {**ENVOY, "state": "China"}
    result = _review([{**MEETING, "sides": [ZHANG, envoy]}])
    assert len(result.meetings) == 1
    assert result.meetings[0].sides[1].state is None
    assert "host" in result.warnings()[0]


def test_a_name_without_its_diacritics_aligns_to_the_original_letters() -> None:
    """'Gusmao' is found as 'Gusmão', with offsets into the original text."""
    gusmao = {"name": "Xanana Gusmao", "mentions": ["Xanana Gusmao"]}
    meeting = {"sides": [ZHANG, gusmao], "quotes": ["Zhang Ming also received Xanana Gusmao"]}
    result = _review([meeting])
    assert result.findings == []
    side = result.meetings[0].sides[1]
    spans = {(p.how, TEXT[p.start : p.end]) for p in side.proofs}
    assert ("diacritics", "Xanana Gusmão") in spans


def test_findings_say_where_in_the_answer_and_which_record() -> None:
    """The re-ask names the answer's field; the warning names the record and the field."""
    result = _review(claims=[_claim(subject="Atlantis", subject_quote="The")])
    assert any(p.startswith("status_claims[0].subject_quote") for p in result.problems())
    assert any("status claim 1 (Atlantis)" in w for w in result.warnings())


async def test_an_unsupported_field_is_reasked_and_the_fixed_answer_kept(tmp_path: Path) -> None:
    """The re-ask message names the field; the second answer passes and is the output."""
    article = tmp_path / "a.txt"
    article.write_text(TEXT, encoding="utf-8")
    bad = {"meetings": [MEETING], "status_claims": [_claim(stance="granted")]}
    good = {"meetings": [MEETING], "status_claims": [CLAIM]}
    result, scripted = await run_scripted(article, [bad, good])
    assert result.run.attempts == 2
    reask = scripted.bodies[1]["messages"][-1]["content"]
    assert "status_claims[0].stance" in reask and "'granted'" in reask
    assert result.status_claims[0].stance == "seeks" and result.warnings == []


async def test_when_the_budget_is_spent_the_unsupported_field_is_nulled(tmp_path: Path) -> None:
    """A model that keeps its wrong stance gets the claim with a null stance and a warning."""
    article = tmp_path / "a.txt"
    article.write_text(TEXT, encoding="utf-8")
    bad = {"meetings": [MEETING], "status_claims": [_claim(stance="granted")]}
    result, _ = await run_scripted(article, [bad, bad, bad])
    assert result.run.attempts == 3
    assert result.status_claims[0].stance is None
    assert result.grounding.fields_nulled == 1 and result.grounding.records_kept == 2
    assert any("stance set to null" in w for w in result.warnings)


def test_an_organisation_given_as_a_side_s_state_is_set_to_null() -> None:
    """'SCO' is in the article, but it is not a state anyone represents."""
    zhang = {**ZHANG, "state": "SCO"}
    result = _review([{**MEETING, "sides": [zhang, ENVOY]}])
    assert result.meetings[0].sides[0].state is None
    assert "organisation, not a state" in result.warnings()[0]


def test_an_acronym_is_content_even_when_a_stop_list_has_its_letters() -> None:
    """'the UN' names the United Nations; 'un' is only a French article."""
    assert weak_quote("the UN") is None


def test_a_state_given_as_the_organisation_drops_the_claim() -> None:
    """'Myanmar' is in the article, but it is not an organisation one holds a status in."""
    result = _review(claims=[_claim(organisation="Myanmar")])
    assert result.claims == []
    assert result.findings[-1].field == "organisation"


def test_a_meeting_with_a_name_written_without_diacritics_reaches_the_output() -> None:
    """The side 'Xanana Gusmao' keeps its meeting, named and evidenced as the article spells it."""
    from extractor.ground.assemble import assemble
    from extractor.read.document import document_from_text
    from extractor.schemas import RunInfo, Usage

    gusmao = {"name": "Xanana Gusmao", "mentions": ["Xanana Gusmao"]}
    meeting = {"sides": [ZHANG, gusmao], "quotes": ["Zhang Ming also received Xanana Gusmao"]}
    draft = DraftExtraction.model_validate({"meetings": [meeting]})
    run = RunInfo(model="m", prompt_version="v", mode="replay", attempts=1, usage=Usage())
    result = assemble(document_from_text(TEXT, "t.txt"), draft, run)
    assert len(result.meetings) == 1 and result.warnings == []
    (person,) = [p for p in result.participants if p.name == "Xanana Gusmão"]
    for e in person.mentions + result.meetings[0].evidence:
        assert TEXT[e.start : e.end] == e.quote
    assert any(e.quote == "Xanana Gusmão" and e.aligned == "diacritics" for e in person.mentions)
    assert person.unchecked == ["title", "kind"]  # said, not passed off as supported


PLAN_TEXT = (
    "MOSCOW, March 3 (TASS) -- Russian Foreign Minister Sergey Lavrov met ASEAN "
    "Secretary-General Kao Kim Hourn on Tuesday. "
    "Lavrov and Kao Kim Hourn will meet again in Vientiane in July.\n\n"
    "Глава МИД России Лавров и генсек АСЕАН Као Ким Хоурн встретятся снова; "
    "встреча состоится в июле.\n\n"
    "俄罗斯外长拉夫罗夫与东盟秘书长高金洪将于七月再次会晤。"
)
LAVROV = {"name": "Sergey Lavrov", "state": "Russia", "mentions": ["Sergey Lavrov", "Lavrov"]}
KAO = {"name": "Kao Kim Hourn", "organisation": "ASEAN", "mentions": ["Kao Kim Hourn"]}
RU = [
    {"name": "Лавров", "state": "Россия", "mentions": ["Лавров"]},
    {"name": "Као Ким Хоурн", "organisation": "АСЕАН", "mentions": ["Као Ким Хоурн"]},
]
ZH = [
    {"name": "拉夫罗夫", "state": "俄罗斯", "mentions": ["拉夫罗夫"]},
    {"name": "高金洪", "organisation": "东盟", "mentions": ["高金洪"]},
]


@pytest.mark.parametrize(
    ("quote", "date_text", "sides", "status"),
    [
        ("Sergey Lavrov met ASEAN Secretary-General Kao Kim Hourn", "on Tuesday", None, "held"),
        ("Lavrov and Kao Kim Hourn will meet again", "in July", None, "planned"),
        ("Sergey Lavrov met ASEAN Secretary-General Kao Kim Hourn", None, None, "held"),
        ("Лавров и генсек АСЕАН Као Ким Хоурн встретятся снова", "в июле", RU, "planned"),
        ("俄罗斯外长拉夫罗夫与东盟秘书长高金洪将于七月再次会晤", "七月", ZH, "planned"),
    ],
)
def test_planned_needs_words_of_a_plan_where_its_date_is(
    quote: str, date_text: str | None, sides: list[Any] | None, status: str
) -> None:
    """A meeting stays planned only when the sentence of its date (or report) says so."""
    planned = {
        "sides": sides or [LAVROV, KAO],
        "quotes": [quote],
        "status": "planned",
        "date_text": date_text,
    }
    result = _review([planned], text=PLAN_TEXT)
    (got,) = result.meetings
    assert got.status == status
    changed = [f for f in result.findings if f.outcome == "changed"]
    assert bool(changed) == (status == "held")
    assert ("status" in got.unchecked) == (status == "held")
    if changed:
        assert changed[0].where == "meetings[0].status"
        assert "reported as held" in changed[0].warning()


def test_a_held_meeting_is_never_changed() -> None:
    """Only 'planned' needs words: a meeting reported as held is left as the model said."""
    held = {"sides": [LAVROV, KAO], "quotes": ["Lavrov and Kao Kim Hourn will meet again"]}
    result = _review([held], text=PLAN_TEXT)
    assert result.meetings[0].status == "held"
    assert not [f for f in result.findings if f.field == "status"]


def test_a_status_the_rules_correct_is_warned_about_but_not_re_asked() -> None:
    """The 'planned' slip costs a warning, not another attempt."""
    slip = {"sides": [LAVROV, KAO], "quotes": ["Sergey Lavrov met"], "status": "planned"}
    result = _review([slip], text=PLAN_TEXT)
    assert [f.outcome for f in result.findings] == ["changed"]
    assert result.problems() == [] and len(result.warnings()) == 1


@pytest.mark.parametrize(
    "quote",
    [
        "Bilateral trade between India and Kazakhstan stood at 2.5 billion dollars",
        "上合组织成立于2001年",
    ],
)
def test_a_meeting_whose_quotes_say_nobody_met_is_dropped(quote: str) -> None:
    """A sentence naming both sides but no meeting, talk or call reports no meeting."""
    text = (
        "NEW DELHI, 12 April 2023 (PTI) — Jaishankar held talks with Nurtleu. "
        "Bilateral trade between India and Kazakhstan stood at 2.5 billion dollars.\n\n"
        "上合组织成立于2001年，秘书处设在北京。"
    )
    sides = (
        [{"state": "India", "kind": "state", "mentions": ["India"]},
         {"state": "Kazakhstan", "kind": "state", "mentions": ["Kazakhstan"]}]
        if quote.startswith("Bilateral")
        else [{"organisation": "上合组织", "kind": "organisation", "mentions": ["上合组织"]},
              {"state": "北京", "kind": "state", "mentions": ["北京"]}]
    )  # fmt: skip
    result = _review([{"sides": sides, "quotes": [quote]}], text=text)
    assert result.meetings == []
    (finding,) = [f for f in result.findings if f.outcome == "dropped"]
    assert "says they met or talked" in finding.problem


@pytest.mark.parametrize(
    ("text", "minister", "state"),
    [
        (
            "TASHKENT, Oct 2 (UzA) -- Uzbek Foreign Minister Bakhtiyor Saidov met with Ambassador "
            "of India to Uzbekistan Smita Pant on Monday.",
            "Bakhtiyor Saidov",
            "Uzbekistan",
        ),
        (
            "MOSCOW, March 17. /TASS/. Russian Foreign Minister Sergey Lavrov held talks with "
            "Chinese Ambassador to Russia Zhang Hanhui on Monday.",
            "Sergey Lavrov",
            "Russia",
        ),
    ],
)
def test_the_host_s_own_minister_keeps_the_state_beside_an_envoy(
    text: str, minister: str, state: str
) -> None:
    """'Ambassador ... to X' makes X the host only for the envoy, not for the minister met."""
    sides = [{"name": minister, "state": state, "mentions": [minister]},
             {"name": "Smita Pant" if "India" in text else "Zhang Hanhui",
              "state": "India" if "India" in text else "China",
              "mentions": ["Smita Pant" if "India" in text else "Zhang Hanhui"]}]  # fmt: skip
    quote = text.split(" -- ")[-1] if " -- " in text else text.split("/TASS/. ")[-1]
    result = _review([{"sides": sides, "quotes": [quote.rstrip(".")]}], text=text)
    (got,) = result.meetings
    assert [s.state for s in got.sides] == [sides[0]["state"], sides[1]["state"]]
    assert not [f for f in result.findings if f.field == "state"]
