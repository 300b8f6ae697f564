"""From a draft to supported, normalised records."""

from __future__ import annotations

import datetime as dt
import json
from importlib.resources import files
from typing import Any

import pytest

from extractor import Settings, extract, read_document
from extractor.ground.assemble import assemble, stable_id
from extractor.normalise.countries import country_name
from extractor.normalise.names import nominative
from extractor.read.document import document_from_text
from extractor.schemas import DraftExtraction, RunInfo, Usage

from .conftest import CASSETTES, GOLD

TEXT = (
    "MOSCOW, March 3 (TASS) -- Russian Foreign Minister Sergey Lavrov met on Tuesday with "
    "ASEAN Secretary-General Kao Kim Hourn. Lavrov said Russia wants to upgrade to "
    "comprehensive strategic partnership. The ministers will meet again in Vientiane in July. "
    "Lavrov called the talks with Kao useful."
)
RUN = RunInfo(model="m", prompt_version="v", mode="replay", attempts=1, usage=Usage())

LAVROV: dict[str, Any] = {
    "name": "Sergey Lavrov",
    "title": "Foreign Minister",
    "state": "Russia",
    "mentions": ["Sergey Lavrov", "Lavrov"],
}
KAO: dict[str, Any] = {
    "name": "Kao Kim Hourn",
    "title": "Secretary-General",
    "organisation": "ASEAN",
    "mentions": ["ASEAN Secretary-General Kao Kim Hourn"],
}
MET = "Sergey Lavrov met on Tuesday with ASEAN Secretary-General Kao Kim Hourn"
WANTS = "Lavrov said Russia wants to upgrade"
TALKS = "Lavrov called the talks with Kao useful"


def meeting(
    *quotes: str, sides: list[dict[str, Any]] | None = None, **fields: Any
) -> dict[str, Any]:
    return {"sides": sides or [LAVROV, KAO], "quotes": list(quotes), **fields}


def claim(**fields: Any) -> dict[str, Any]:
    """Russia's bid for a partnership with ASEAN, each field with its own quote."""
    base: dict[str, Any] = {
        "subject": "Russia",
        "subject_quote": "Russia",
        "organisation": "ASEAN",
        "status": "partner",
        "status_quote": "comprehensive strategic partnership",
        "stance": "seeks",
        "stance_quote": "wants to upgrade",
        "quotes": ["Russia wants to upgrade to comprehensive strategic partnership"],
    }
    return {**base, **fields}


def draft(**parts: Any) -> DraftExtraction:
    base: dict[str, Any] = {"meetings": [meeting(MET, date_text="on Tuesday")]}
    base.update(parts)
    return DraftExtraction.model_validate(base)


def run(d: DraftExtraction, text: str = TEXT) -> Any:
    return assemble(document_from_text(text, "t.txt"), d, RUN)


def test_meeting_is_grounded_dated_and_coded() -> None:
    """The meeting gets offsets, the Tuesday before the dateline, and RUS for Lavrov."""
    doc = document_from_text(TEXT, "t.txt")
    assert doc.dateline is not None and doc.dateline.date is None  # no year in the dateline
    result = run(draft(), "date 2023-03-03 " + TEXT)
    (meeting_,) = result.meetings
    assert meeting_.date == dt.date(2023, 2, 28)
    assert meeting_.from_dateline == ["place"]
    assert meeting_.place == "Moscow"
    lavrov = result.participant(meeting_.participants[0])
    assert lavrov.state == "RUS" and lavrov.name == "Sergey Lavrov"
    text = "date 2023-03-03 " + TEXT
    for ev in [*meeting_.evidence, *lavrov.mentions]:
        assert text[ev.start : ev.end] == ev.quote
    assert {e.field for e in meeting_.evidence} == {"meeting", "date"}
    assert result.warnings == []
    assert result.grounding.records_kept == 1 and result.grounding.records_dropped == 0


def test_ungrounded_meeting_is_dropped_with_a_warning() -> None:
    """A meeting whose quote is not in the text never leaves the pipeline."""
    result = run(draft(meetings=[meeting("Lavrov hugged Kao")]))
    assert result.meetings == []
    assert any("'Lavrov hugged Kao' is not in the article" in w for w in result.warnings)
    assert any(w.startswith("dropped meeting 1") for w in result.warnings)
    assert result.grounding.records_dropped == 1 and result.grounding.records_kept == 0


def test_ungrounded_claim_is_dropped_but_others_stay() -> None:
    """One bad claim costs only itself."""
    claims = [
        claim(),
        claim(
            status="member",
            status_quote="member",
            stance="applied",
            stance_quote="applied",
            quotes=["Russia applied to join"],
        ),
    ]
    result = run(draft(status_claims=claims))
    assert [c.stance for c in result.status_claims] == ["seeks"]
    assert result.status_claims[0].subject_code == "RUS"
    assert result.status_claims[0].organisation.short == "ASEAN"
    assert any("Russia applied to join" in w for w in result.warnings)
    assert any(w.startswith("dropped status claim 2 (Russia)") for w in result.warnings)
    assert result.grounding.records_kept == 2  # the meeting and the first claim
    assert result.grounding.records_dropped == 1


def test_claim_fields_carry_their_own_evidence() -> None:
    """Each checked field of a kept claim points at the words that support it."""
    (got,) = run(draft(status_claims=[claim()])).status_claims
    by_field = {e.field: e.quote for e in got.evidence}
    assert by_field["claim"] == "Russia wants to upgrade to comprehensive strategic partnership"
    assert by_field["status"] == "comprehensive strategic partnership"
    assert by_field["organisation"] == "ASEAN"
    assert got.status_text == "comprehensive strategic partnership"
    assert got.stance == "seeks"


def test_stance_no_words_carry_is_nulled_not_trusted() -> None:
    """A stance the claim's passage gives no cue for becomes null, with a warning."""
    result = run(draft(status_claims=[claim(stance="declined")]))
    (got,) = result.status_claims
    assert got.stance is None and got.status == "partner"  # the claim itself holds
    assert any("stance set to null" in w and "'declined'" in w for w in result.warnings)
    assert result.grounding.fields_nulled == 1


def test_participant_with_invented_name_is_dropped_and_meeting_follows() -> None:
    """A participant the text never mentions is dropped, and so is its meeting."""
    medvedev = {"name": "Dmitry Medvedev", "mentions": ["Medvedev"]}
    result = run(draft(meetings=[meeting(MET, sides=[LAVROV, medvedev])]))
    assert result.meetings == []
    assert result.participants == []  # a side is output only with a record that holds
    assert any("Dmitry Medvedev" in w and "no mention" in w for w in result.warnings)
    assert any("fewer than two" in w for w in result.warnings)


def test_planned_meeting_takes_no_date_from_the_dateline() -> None:
    """A meeting announced for July is not dated with the dateline."""
    planned = meeting(
        "The ministers will meet again in Vientiane in July",
        status="planned",
        date_text="in July",
        place="Vientiane",
    )
    (got,) = run(draft(meetings=[planned]), "date 2023-03-03 " + TEXT).meetings
    assert got.status == "planned"
    assert got.from_dateline == []
    assert got.date is None
    assert got.place == "Vientiane"


def test_same_meeting_twice_is_one_record_with_both_quotes() -> None:
    """Two drafts of one meeting merge, evidence from both."""
    meetings = [meeting(MET), meeting(TALKS, sides=[KAO, LAVROV])]
    (got,) = run(draft(meetings=meetings)).meetings
    assert [e.quote for e in got.evidence] == [MET, TALKS]


def test_upgrade_infers_the_status_below_from_the_vocabulary() -> None:
    """'Upgrading to observer' at the SCO in 2022 comes from dialogue partner."""
    text = "date 2022-07-14 Cambodia is interested in upgrading to observer status at the SCO."
    cambodia = {
        "subject": "Cambodia",
        "subject_quote": "Cambodia",
        "organisation": "SCO",
        "status": "observer",
        "status_quote": "observer status",
        "stance": "seeks",
        "stance_quote": "interested in upgrading",
        "upgrade": True,
        "quotes": ["Cambodia is interested in upgrading to observer status at the SCO"],
    }
    d = DraftExtraction.model_validate({"status_claims": [cambodia]})
    (got,) = run(d, text).status_claims
    assert got.from_status == "dialogue_partner" and got.from_status_inferred
    assert "from_status" in got.unchecked


def test_ids_are_stable_across_runs() -> None:
    """The same document and draft give the same ids."""
    assert run(draft()).meetings[0].id == run(draft()).meetings[0].id
    assert stable_id("m", "a", 1) != stable_id("m", "a", 2)


def test_meeting_in_two_chunks_merges_and_keeps_the_stated_date() -> None:
    """A meeting dated in one report and undated in another is one meeting, stated date kept."""
    meetings = [meeting(TALKS), meeting(MET, sides=[KAO, LAVROV], date_text="on Tuesday")]
    (got,) = run(draft(meetings=meetings), "date 2023-03-03 " + TEXT).meetings
    assert got.date == dt.date(2023, 2, 28)
    assert got.date_text == "on Tuesday"
    assert got.from_dateline == ["place"]
    assert [e.quote for e in got.evidence if e.field == "meeting"] == [MET, TALKS]


def test_same_claim_twice_fills_what_one_report_lacks() -> None:
    """Two reports of one claim merge; the claimant named in either is kept."""
    claims = [
        claim(quotes=["Russia wants to upgrade"], status_quote="partnership"),
        claim(quotes=[WANTS], status_quote="partnership", claimant=LAVROV),
    ]
    result = run(draft(meetings=[], status_claims=claims))
    (got,) = result.status_claims
    assert got.claimant is not None
    assert result.participant(got.claimant).name == "Sergey Lavrov"
    # Both reports' sentences back it; the longer one, which holds the shorter, comes first.
    claim_quotes = [e.quote for e in got.evidence if e.field == "claim"]
    assert claim_quotes[0] == WANTS and set(claim_quotes) <= {WANTS, "Russia wants to upgrade"}


def test_acronym_the_article_defines_names_the_organisation_one_way() -> None:
    """'Organization of Turkic States (OTS)' makes 'OTS' and the full name one organisation."""
    from extractor.ground.assemble import organisation
    from extractor.normalise.organisations import defined_acronyms

    text = "NEW YORK -- The Secretary-General of the Organization of Turkic States (OTS) spoke."
    local = defined_acronyms(text)
    assert local == {"OTS": "Organization of Turkic States"}
    by_acronym, by_name = organisation("OTS", local), organisation("the OTS", local)
    full = organisation("Organization of Turkic States", local)
    assert by_acronym is not None and full is not None
    assert (
        (by_acronym.short, by_acronym.full)
        == (full.short, full.full)
        == (
            "OTS",
            "Organization of Turkic States",
        )
    )
    assert by_name is not None and by_name.short == "OTS"
    other = organisation("Turkic Council", local)
    assert other is not None and other.short is None  # not defined in the article


def test_a_planned_meeting_without_words_of_a_plan_is_held_on_the_tuesday_before() -> None:
    """'Planned' with a past-tense report is a weak model's slip: held, dated back, warned."""
    slip = meeting(MET, status="planned", date_text="on Tuesday")
    result = run(draft(meetings=[slip]), "date 2023-03-03 " + TEXT)
    (got,) = result.meetings
    assert got.status == "held"
    assert got.date == dt.date(2023, 2, 28)  # not the Tuesday after the dateline
    assert "status" in got.unchecked
    assert any("status changed" in w and "reported as held" in w for w in result.warnings)


def test_one_person_given_twice_with_and_without_an_organisation_is_one_participant() -> None:
    """Two sides with the same name, title and mention are one participant, listed once."""
    with_org = {**LAVROV, "kind": "organisation", "organisation": "ASEAN"}
    without = {**LAVROV, "kind": "organisation"}
    result = run(draft(meetings=[meeting(MET, sides=[with_org, without, KAO])]))
    ids = [p.id for p in result.participants]
    assert len(ids) == len(set(ids))
    (got,) = result.meetings
    assert len(got.participants) == len(set(got.participants)) == 2


def test_a_runaway_answer_gives_each_warning_once_with_its_count() -> None:
    """5,000 copies of one unsupported meeting are one warning line per finding, counted."""
    from extractor.schemas.draft import DraftMeeting

    bad = DraftMeeting.model_validate(meeting("Lavrov hugged Kao"))
    runaway = DraftExtraction.model_construct(meetings=[bad] * 5000, status_claims=[])
    result = run(runaway)
    assert result.meetings == [] and result.grounding.records_dropped == 5000
    assert len(result.warnings) <= 3
    assert all(w.endswith("(and 4999 more like it)") for w in result.warnings)


def test_distinct_warnings_keep_order_and_bound_the_list() -> None:
    """First-seen order, counts on repeats, and one closing line past the limit."""
    from extractor.ground.assemble import distinct_warnings

    same = ["dropped meeting 1 (A, B): x", "b", "dropped meeting 2 (A, B): x", "meeting 3: y"]
    assert distinct_warnings(same) == ["dropped meeting 1 (A, B): x (and 1 more like it)", "b",
                                       "meeting 3: y"]  # fmt: skip
    many = distinct_warnings([f"w{i}" for i in range(10)], limit=4)
    assert many == ["w0", "w1", "w2", "... and 7 more warnings of other kinds"]


# ---------------------------------------------------------------- Russian and Chinese as written

RU_TEXT = (
    "МОСКВА, 15 марта. /ТАСС/. Генеральный секретарь ШОС Чжан Мин провел в четверг в "
    "Секретариате ШОС встречу с вице-спикером Совета Федерации России Константином "
    "Косачевым. Стороны обсудили подготовку саммита в Астане."
)
ZH_TEXT = (
    "新华社北京7月2日电 上海合作组织秘书长张明2日在北京钓鱼台国宾馆会见白俄罗斯共和国外交部长。"
    "张明表示，白俄罗斯共和国是上合组织成员国。"
)


def test_a_russian_name_written_declined_is_recorded_in_the_nominative() -> None:
    """ "с Константином Косачевым": the nominative in name, the words as written beside it."""
    zhang = {"name": "Чжан Мин", "organisation": "ШОС", "mentions": ["Чжан Мин"]}
    kosachev = {
        "name": "Константином Косачевым",
        "state": "России",
        "mentions": ["вице-спикером Совета Федерации России Константином Косачевым"],
    }
    d = DraftExtraction.model_validate(
        {
            "meetings": [
                {
                    "sides": [zhang, kosachev],
                    "quotes": ["Чжан Мин провел в четверг в Секретариате ШОС встречу"],
                    "date_text": "в четверг",
                    "place": "Секретариате ШОС",
                }
            ]
        }
    )
    result = run(d, "date 2024-03-15 " + RU_TEXT)
    (meeting_,) = result.meetings
    people = {p.name: p for p in result.participants}
    assert set(people) == {"Чжан Мин", "Константин Косачев"}
    assert people["Константин Косачев"].name_as_written == "Константином Косачевым"
    assert people["Константин Косачев"].state == "RUS"
    assert people["Чжан Мин"].name_as_written == "Чжан Мин"
    assert (meeting_.place, meeting_.venue) == ("Beijing", "SCO Secretariat")
    assert meeting_.place_as_written == "Секретариате ШОС"
    assert meeting_.from_dateline == []  # the venue's city, not the dateline's Moscow


def test_a_chinese_venue_and_a_long_official_name_get_english_forms() -> None:
    """ "北京钓鱼台国宾馆" is Beijing; "白俄罗斯共和国" is BLR, and the subject reads Belarus."""
    zhang = {"name": "张明", "organisation": "上海合作组织", "mentions": ["上海合作组织秘书长张明"]}
    minister = {
        "state": "白俄罗斯共和国",
        "title": "Foreign Minister",
        "mentions": ["白俄罗斯共和国外交部长"],
    }
    d = DraftExtraction.model_validate(
        {
            "meetings": [
                {
                    "sides": [zhang, minister],
                    "quotes": ["张明2日在北京钓鱼台国宾馆会见白俄罗斯共和国外交部长"],
                    "date_text": "2日",
                    "place": "北京钓鱼台国宾馆",
                }
            ],
            "status_claims": [
                {
                    "subject": "白俄罗斯共和国",
                    "subject_quote": "白俄罗斯共和国",
                    "organisation": "上合组织",
                    "status": "member",
                    "status_quote": "成员国",
                    "stance": "holds",
                    "quotes": ["白俄罗斯共和国是上合组织成员国"],
                }
            ],
        }
    )
    result = run(d, "date 2024-07-02 " + ZH_TEXT)
    assert result.warnings == []
    (meeting_,) = result.meetings
    assert (meeting_.place, meeting_.venue) == ("Beijing", "Diaoyutai State Guesthouse")
    assert meeting_.place_as_written == "北京钓鱼台国宾馆"
    assert {p.state for p in result.participants} == {None, "BLR"}
    (claim_,) = result.status_claims
    assert (claim_.subject, claim_.subject_code) == ("Belarus", "BLR")
    assert claim_.subject_as_written == "白俄罗斯共和国"


def test_an_english_subject_and_place_stay_as_the_model_wrote_them() -> None:
    """Latin script is English already: the subject and place as written are the English form."""
    result = run(draft(status_claims=[claim()]), "date 2023-03-03 " + TEXT)
    (claim_,) = result.status_claims
    assert claim_.subject == claim_.subject_as_written == "Russia"
    (meeting_,) = result.meetings
    assert meeting_.place == "Moscow" and meeting_.place_as_written is None


@pytest.mark.parametrize("name", ["011_russian_sco_secretariat", "012_chinese_sco_meeting"])
def test_russian_and_chinese_corpus_articles_have_english_and_iso_forms(name: str) -> None:
    """Issue 14's done-line, on the corpus articles replayed from their cassettes.

    Every side has its ISO code or organisation, every name is in its nominative
    form beside the form as written, every place has its English city, and every
    claim subject an English form (or the participant it names).
    """
    document = read_document(GOLD.parent / "corpus" / f"{name}.txt", max_bytes=10**6)
    result = extract(document, settings=Settings(mode="replay", cassette_dir=CASSETTES))
    assert result.participants and result.meetings and result.status_claims
    for p in result.participants:
        assert p.state or (p.organisation and p.organisation.short), p
        assert p.name and p.name_as_written, p
        assert nominative(p.name) == p.name, p
    cities = set(
        json.loads((files("extractor") / "data" / "places.json").read_text("utf-8"))[
            "places"
        ].values()
    )
    for m in result.meetings:
        assert m.place in cities, m
    for c in result.status_claims:
        assert c.subject_as_written, c
        assert c.subject.isascii() or c.subject_participant, c
        if c.subject_code:
            assert c.subject == country_name(c.subject_code)


def test_a_declined_and_a_nominative_mention_of_one_person_are_one_participant() -> None:
    """ "Константином Косачевым" and "Константин Косачев" compare by the nominative: one person."""
    text = (
        "date 2024-03-15 МОСКВА, 15 марта. /ТАСС/. Генеральный секретарь ШОС Чжан Мин провел "
        "встречу с Константином Косачевым. Константин Косачев заявил, что Россия поддерживает ШОС."
    )
    zhang = {"name": "Чжан Мин", "organisation": "ШОС", "mentions": ["Чжан Мин"]}
    declined = {"name": "Константином Косачевым", "mentions": ["Константином Косачевым"]}
    nominal = {"name": "Константин Косачев", "mentions": ["Константин Косачев заявил"]}
    quote = "Чжан Мин провел встречу с Константином Косачевым"
    d = DraftExtraction.model_validate(
        {
            "meetings": [
                {"sides": [zhang, declined], "quotes": [quote]},
                {"sides": [zhang, nominal], "quotes": [quote]},
            ]
        }
    )
    result = run(d, text)
    assert sorted(p.name or "" for p in result.participants) == ["Константин Косачев", "Чжан Мин"]
    (meeting_,) = result.meetings
    assert len(meeting_.participants) == 2


def test_a_president_labelled_a_state_is_still_one_person_with_his_surname() -> None:
    """A weak model's 'state' kind on "Russian President Sergey Lavrov" does not keep the
    later part's "Lavrov" apart: one participant, so the meeting's sides are the gold's."""
    full = {**LAVROV, "kind": "state", "name": "Russian Foreign Minister Sergey Lavrov"}
    short = {"name": "Lavrov", "title": "Foreign Minister", "state": "Russia", "kind": "person",
             "mentions": ["Lavrov"]}  # fmt: skip
    result = run(
        draft(meetings=[meeting(MET, sides=[full, KAO]), meeting(TALKS, sides=[short, KAO])])
    )
    lavrovs = [p for p in result.participants if "Lavrov" in (p.name or "")]
    assert len(lavrovs) == 1


def test_a_state_side_without_a_title_is_not_taken_for_a_person() -> None:
    """A side named "Russia" stays a state: only a titled name of no state or body is a person."""
    from extractor.ground.assemble import _named_person
    from extractor.ground.support import Side

    state = Side(name="Russia", title=None, organisation=None, state="RUS", kind="state", proofs=[])  # type: ignore[arg-type]
    assert not _named_person(state, {})
