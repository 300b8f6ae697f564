"""Dates in context (issue 14, parts 3 and 4): spans, other events, the anchor, undated articles.

Each case is a snippet as a wire report would write it; the expected dates are
worked out by hand from the calendar (2025-05-16 is a Friday, 2024-07-05 a Friday).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from extractor.ground.assemble import assemble, date_anchor
from extractor.normalise.statuses import agreed_level_below, ever_known
from extractor.read.document import Document, Metadata, document_from_text
from extractor.schemas import DraftExtraction, Extraction, RunInfo, Status, Usage
from extractor.text.dates import DateSpan, EventReference, event_reference, resolve_span

RUN = RunInfo(model="m", prompt_version="v", mode="replay", attempts=1, usage=Usage())


def side(name: str, title: str, state: str, *mentions: str) -> dict[str, Any]:
    return {"name": name, "title": title, "state": state, "mentions": list(mentions or [name])}


def meeting(quote: str, *sides: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"sides": list(sides), "quotes": [quote], **fields}


def extract(
    text: str, meetings: list[dict[str, Any]], *, published: dt.date | None = None, **parts: Any
) -> Extraction:
    document = document_from_text(text, "t.txt")
    if published is not None:
        document = dataclasses.replace(document, meta=Metadata(published=published))
    draft = DraftExtraction.model_validate({"meetings": meetings, **parts})
    return assemble(document, draft, RUN)


# --------------------------------------------------------------------------- spans

JULY = dt.date(2024, 7, 16)


@pytest.mark.parametrize(
    ("expr", "start", "end"),
    [
        ("on 14-15 July", dt.date(2024, 7, 14), dt.date(2024, 7, 15)),
        ("on July 14-15", dt.date(2024, 7, 14), dt.date(2024, 7, 15)),
        ("July 14\u201315", dt.date(2024, 7, 14), dt.date(2024, 7, 15)),
        ("from 31 August to 1 September", dt.date(2024, 8, 31), dt.date(2024, 9, 1)),
        ("from August 31 to September 1", dt.date(2024, 8, 31), dt.date(2024, 9, 1)),
        ("from 14 to 16 March", dt.date(2024, 3, 14), dt.date(2024, 3, 16)),
        ("14 to 16 March", dt.date(2024, 3, 14), dt.date(2024, 3, 16)),
        ("June 30-July 1", dt.date(2024, 6, 30), dt.date(2024, 7, 1)),
        ("on 14 and 15 July", dt.date(2024, 7, 14), dt.date(2024, 7, 15)),
        ("14-15 июля", dt.date(2024, 7, 14), dt.date(2024, 7, 15)),
        ("с 14 по 16 марта", dt.date(2024, 3, 14), dt.date(2024, 3, 16)),
        ("30 июня - 1 июля", dt.date(2024, 6, 30), dt.date(2024, 7, 1)),
        ("7月14日至15日", dt.date(2024, 7, 14), dt.date(2024, 7, 15)),
        ("7月14日-15日", dt.date(2024, 7, 14), dt.date(2024, 7, 15)),
        ("7月14-15日", dt.date(2024, 7, 14), dt.date(2024, 7, 15)),
        ("6月30日至7月1日", dt.date(2024, 6, 30), dt.date(2024, 7, 1)),
        ("14日至15日", dt.date(2024, 7, 14), dt.date(2024, 7, 15)),
    ],
)
def test_a_span_gives_its_first_and_last_day(expr: str, start: dt.date, end: dt.date) -> None:
    """Every span form of the wires: start and end, the year from the anchor."""
    assert resolve_span(expr, JULY) == DateSpan(start, end, stated=False)


@pytest.mark.parametrize(
    ("expr", "start", "end"),
    [
        ("July 14-15, 2022", dt.date(2022, 7, 14), dt.date(2022, 7, 15)),
        ("14-15 July 2022", dt.date(2022, 7, 14), dt.date(2022, 7, 15)),
        ("from 31 August 2023 to 1 September 2023", dt.date(2023, 8, 31), dt.date(2023, 9, 1)),
        ("from 31 December to 2 January 2024", dt.date(2023, 12, 31), dt.date(2024, 1, 2)),
        ("14-15 июля 2022 года", dt.date(2022, 7, 14), dt.date(2022, 7, 15)),
        ("2022年7月14日至15日", dt.date(2022, 7, 14), dt.date(2022, 7, 15)),
        ("2022-07-14 to 2022-07-15", dt.date(2022, 7, 14), dt.date(2022, 7, 15)),
    ],
)
def test_a_span_with_its_year_is_stated_and_needs_no_anchor(
    expr: str, start: dt.date, end: dt.date
) -> None:
    """A year written at either end serves both, and the date owes nothing to an anchor."""
    assert resolve_span(expr, None) == DateSpan(start, end, stated=True)


@pytest.mark.parametrize(
    ("expr", "start"),
    [
        ("on 14 and 16 July", dt.date(2024, 7, 14)),  # two days, not a span
        ("15-14 July", dt.date(2024, 7, 15)),  # backwards
        ("1 July to 20 August", dt.date(2024, 7, 1)),  # weeks: two dates, not a meeting's days
    ],
)
def test_what_is_no_span_gives_the_first_day_alone(expr: str, start: dt.date) -> None:
    assert resolve_span(expr, JULY) == DateSpan(start, None, stated=False)


def test_single_dates_say_whether_their_year_was_written() -> None:
    assert resolve_span("July 14, 2022", JULY) == DateSpan(dt.date(2022, 7, 14), stated=True)
    assert resolve_span("14.07.2022", JULY) == DateSpan(dt.date(2022, 7, 14), stated=True)
    assert resolve_span("July 14", JULY) == DateSpan(dt.date(2024, 7, 14), stated=False)
    assert resolve_span("on Tuesday", JULY) == DateSpan(dt.date(2024, 7, 16), stated=False)


@pytest.mark.parametrize(
    ("expr", "anchor", "planned", "expected"),
    [
        # A January report on a held "December 28" meeting: last December, 9 days back.
        ("December 28", dt.date(2024, 1, 6), False, dt.date(2023, 12, 28)),
        # A late-December report on a held "January 3" meeting it calls past: still the
        # nearest year within two months ahead, next January (a report filed late).
        ("January 3", dt.date(2023, 12, 30), False, dt.date(2024, 1, 3)),
        # Held "September 15" in a July report: more than two months ahead, so last year's.
        ("September 15", dt.date(2024, 7, 1), False, dt.date(2023, 9, 15)),
        # Planned "January 10" in a December report: next January.
        ("January 10", dt.date(2024, 12, 20), True, dt.date(2025, 1, 10)),
        # Planned "December 10" in a January report: last December, 41 days back, is
        # nearer than next December and within two months (a plan reported late).
        ("December 10", dt.date(2024, 1, 20), True, dt.date(2023, 12, 10)),
        # Planned "November 10" in a January report: last November is too far back.
        ("November 10", dt.date(2024, 1, 20), True, dt.date(2024, 11, 10)),
    ],
)
def test_a_day_without_a_year_takes_the_nearest_year_the_tense_allows(
    expr: str, anchor: dt.date, planned: bool, expected: dt.date
) -> None:
    """Held events look back (up to two months ahead), planned ones forward; nearest within that."""
    span = resolve_span(expr, anchor, planned=planned)
    assert span is not None and span.start == expected


# --------------------------------------------------------------------------- references


@pytest.mark.parametrize(
    ("expr", "days", "event"),
    [
        ("On the same day", 0, None),
        ("the same day", 0, None),
        ("later that day", 0, None),
        ("The next day", 1, None),
        ("the following day", 1, None),
        ("the day before", -1, None),
        ("the previous day", -1, None),
        ("two days later", 2, None),
        ("on the sidelines of the summit", 0, "summit"),
        ("on the sidelines of the SCO summit in Astana", 0, "summit"),
        ("on the margins of the forum", 0, "forum"),
        ("on the eve of the summit", -1, "summit"),
        ("the day after the meeting", 1, "meeting"),
        ("в тот же день", 0, None),
        ("на следующий день", 1, None),
        ("на полях саммита ШОС", 0, "summit"),
        ("同日", 0, None),
        ("当天", 0, None),
        ("次日", 1, None),
        ("前一天", -1, None),
        ("峰会期间", 0, "summit"),
    ],
)
def test_words_that_date_a_meeting_by_another_event(
    expr: str, days: int, event: str | None
) -> None:
    assert event_reference(expr) == EventReference(days, event)


@pytest.mark.parametrize(
    "expr",
    [
        "later that week",
        "earlier this month",
        "on Tuesday",
        "last week",
        "the day before the talks",
    ],
)
def test_words_that_name_no_single_day_of_another_event(expr: str) -> None:
    """ "Later that week" names no day: no reference, and no date (a wrong date is worse)."""
    assert event_reference(expr) is None
    assert resolve_span(expr, JULY) is None or expr == "on Tuesday"


def test_reference_words_are_not_dates_of_their_own() -> None:
    """ "前一日" is not "the 1st"; "the same day" is not the dateline's day."""
    for expr in ("前一日", "the same day", "The next day", "на следующий день", "次日"):
        assert resolve_span(expr, JULY) is None


# --------------------------------------------------------------------------- in an article

WANG = side("Wang Yi", "Foreign Minister", "China", "Wang Yi", "Wang")
SAIDOV = side("Bakhtiyor Saidov", "Foreign Minister", "Uzbekistan", "Bakhtiyor Saidov", "Saidov")
KULUBAEV = side(
    "Zheenbek Kulubaev", "Foreign Minister", "Kyrgyzstan", "Zheenbek Kulubaev", "Kulubaev"
)
CHAIN = (
    "TASHKENT, May 16, 2025 (Xinhua) -- Chinese Foreign Minister Wang Yi met Uzbek Foreign "
    "Minister Bakhtiyor Saidov on Tuesday in Tashkent to discuss the China-Central Asia summit. "
    "On the same day, Wang held talks with Kyrgyz Foreign Minister Zheenbek Kulubaev. "
    "The next day, Saidov received Kulubaev at the Uzbek Foreign Ministry."
)
MET_SAIDOV = "Wang Yi met Uzbek Foreign Minister Bakhtiyor Saidov on Tuesday in Tashkent"
TALKS_KULUBAEV = "On the same day, Wang held talks with Kyrgyz Foreign Minister Zheenbek Kulubaev"
RECEIVED = "The next day, Saidov received Kulubaev at the Uzbek Foreign Ministry"


def test_same_day_and_next_day_count_from_the_meeting_told_before() -> None:
    """Tuesday 13 May; "on the same day" the 13th too; "the next day" the 14th, not the dateline."""
    result = extract(
        CHAIN,
        [
            meeting(MET_SAIDOV, WANG, SAIDOV, date_text="on Tuesday"),
            meeting(TALKS_KULUBAEV, WANG, KULUBAEV, date_text="On the same day"),
            meeting(RECEIVED, SAIDOV, KULUBAEV, date_text="The next day"),
        ],
    )
    got = [(m.date, m.date_basis, m.from_dateline) for m in result.meetings]
    assert got == [
        (dt.date(2025, 5, 13), "dateline", ["place"]),
        (dt.date(2025, 5, 13), "event", ["place"]),
        (dt.date(2025, 5, 14), "event", ["place"]),
    ]


def test_a_reference_in_the_passage_dates_a_meeting_without_date_words() -> None:
    """The model gave no date words, but the passage says "On the same day": not the dateline."""
    result = extract(
        CHAIN,
        [
            meeting(MET_SAIDOV, WANG, SAIDOV, date_text="on Tuesday"),
            meeting(TALKS_KULUBAEV, WANG, KULUBAEV),
        ],
    )
    second = result.meetings[1]
    assert (second.date, second.date_basis, second.from_dateline) == (
        dt.date(2025, 5, 13),
        "event",
        ["place"],
    )


def test_a_reference_with_nothing_before_it_gives_no_date() -> None:
    """ "The next day" as the first meeting told: no event to count from, so no date."""
    result = extract(CHAIN, [meeting(RECEIVED, SAIDOV, KULUBAEV, date_text="The next day")])
    (got,) = result.meetings
    assert got.date is None and got.date_basis is None


XI = side("Xi Jinping", "President", "China", "Xi Jinping", "Xi")
PUTIN = side("Vladimir Putin", "President", "Russia", "Vladimir Putin", "Putin")
TOKAYEV = side("Kassym-Jomart Tokayev", "President", "Kazakhstan", "Kassym-Jomart Tokayev")
SUMMIT = (
    "ASTANA, July 5, 2024 (Xinhua) -- Kazakh President Kassym-Jomart Tokayev hosted Chinese "
    "President Xi Jinping and Russian President Vladimir Putin at the SCO summit in Astana on "
    "Thursday. "
    "On the sidelines of the summit, Xi held talks with Putin on energy cooperation."
)
SUMMIT_MET = (
    "Kassym-Jomart Tokayev hosted Chinese President Xi Jinping and Russian President Vladimir "
    "Putin at the SCO summit in Astana on Thursday"
)
SIDELINES = "On the sidelines of the summit, Xi held talks with Putin on energy cooperation"


def test_on_the_sidelines_of_the_summit_is_the_summit_day() -> None:
    """The summit was on Thursday 4 July; its sidelines too, not the dateline's Friday."""
    result = extract(
        SUMMIT,
        [
            meeting(SUMMIT_MET, TOKAYEV, XI, PUTIN, date_text="on Thursday"),
            meeting(SIDELINES, XI, PUTIN),
        ],
    )
    summit, sidelines = result.meetings
    assert (summit.date, summit.date_basis) == (dt.date(2024, 7, 4), "dateline")
    assert (sidelines.date, sidelines.date_basis) == (dt.date(2024, 7, 4), "event")
    assert sidelines.from_dateline == ["place"]  # the date is not the dateline's


def test_on_the_sidelines_without_a_dated_summit_keeps_the_dateline() -> None:
    """No summit in the records: the meeting is dated as before, by the dateline."""
    (got,) = extract(SUMMIT, [meeting(SIDELINES, XI, PUTIN)]).meetings
    assert (got.date, got.date_basis, got.from_dateline) == (
        dt.date(2024, 7, 5),
        "dateline",
        ["date", "place"],
    )


def test_a_weekday_beside_the_sidelines_wins() -> None:
    """ "On Wednesday, on the sidelines of the summit": the words name their day."""
    text = SUMMIT.replace("On the sidelines", "On Wednesday, on the sidelines")
    quote = "On Wednesday, on the sidelines of the summit, Xi held talks with Putin"
    result = extract(
        text,
        [
            meeting(SUMMIT_MET, TOKAYEV, XI, PUTIN, date_text="on Thursday"),
            meeting(quote, XI, PUTIN, date_text="On Wednesday"),
        ],
    )
    assert [m.date for m in result.meetings] == [dt.date(2024, 7, 4), dt.date(2024, 7, 3)]


def test_a_meeting_over_two_days_has_a_start_an_end_and_is_stated() -> None:
    text = (
        "MOSCOW, May 22, 2024 (TASS) -- Russian Foreign Minister Sergey Lavrov and Chinese "
        "Foreign Minister Wang Yi met in Astana on 20-21 May 2024 at the SCO ministerial."
    )
    lavrov = side("Sergey Lavrov", "Foreign Minister", "Russia", "Sergey Lavrov")
    met = "Sergey Lavrov and Chinese Foreign Minister Wang Yi met in Astana on 20-21 May 2024"
    (got,) = extract(text, [meeting(met, lavrov, WANG, date_text="20-21 May 2024")]).meetings
    assert (got.date, got.date_end, got.date_basis) == (
        dt.date(2024, 5, 20),
        dt.date(2024, 5, 21),
        "stated",
    )


def test_a_range_without_its_year_is_resolved_against_the_dateline() -> None:
    text = (
        "MOSCOW, July 16, 2024 (TASS) -- Russian Foreign Minister Sergey Lavrov and Chinese "
        "Foreign Minister Wang Yi met in Vientiane on 14-15 July during the ASEAN events."
    )
    lavrov = side("Sergey Lavrov", "Foreign Minister", "Russia", "Sergey Lavrov")
    met = "Sergey Lavrov and Chinese Foreign Minister Wang Yi met in Vientiane on 14-15 July"
    (got,) = extract(text, [meeting(met, lavrov, WANG, date_text="on 14-15 July")]).meetings
    assert (got.date, got.date_end, got.date_basis) == (
        dt.date(2024, 7, 14),
        dt.date(2024, 7, 15),
        "dateline",
    )


# --------------------------------------------------------------------------- the anchor

UNDATED = (
    "Russian Foreign Minister Sergey Lavrov met Chinese Foreign Minister Wang Yi on Thursday. "
    "The ministers discussed the SCO."
)
LAVROV = side("Sergey Lavrov", "Foreign Minister", "Russia", "Sergey Lavrov")
LAVROV_MET = "Sergey Lavrov met Chinese Foreign Minister Wang Yi on Thursday"


def _doc(text: str, published: dt.date | None) -> Document:
    return dataclasses.replace(
        document_from_text(text, "t.txt"), meta=Metadata(published=published)
    )


def test_without_a_dateline_date_the_metadata_date_is_the_anchor() -> None:
    """Thursday before a Friday 15 March 2024 publication date; basis "metadata"."""
    result = extract(
        UNDATED,
        [meeting(LAVROV_MET, LAVROV, WANG, date_text="on Thursday")],
        published=dt.date(2024, 3, 15),
    )
    (got,) = result.meetings
    assert (got.date, got.date_basis, got.from_dateline) == (dt.date(2024, 3, 14), "metadata", [])
    assert result.warnings == []


def test_a_meeting_without_date_words_takes_the_metadata_date() -> None:
    result = extract(UNDATED, [meeting(LAVROV_MET, LAVROV, WANG)], published=dt.date(2024, 3, 15))
    (got,) = result.meetings
    assert (got.date, got.date_basis, got.from_dateline) == (dt.date(2024, 3, 15), "metadata", [])


@pytest.mark.parametrize(
    ("published", "warned"),
    [
        (dt.date(2023, 3, 15), False),
        (dt.date(2023, 3, 14), False),  # a day before: a time zone
        (dt.date(2023, 3, 17), False),  # two days after: a late upload
        (dt.date(2023, 3, 13), True),
        (dt.date(2023, 3, 18), True),
        (dt.date(2023, 4, 2), True),
    ],
)
def test_the_dateline_wins_over_metadata_and_a_far_one_is_warned(
    published: dt.date, warned: bool
) -> None:
    text = "MOSCOW, March 15, 2023 (TASS) -- " + UNDATED
    anchor = date_anchor(_doc(text, published))
    assert (anchor.date, anchor.basis) == (dt.date(2023, 3, 15), "dateline")
    assert (anchor.warning is not None) is warned


def test_the_disagreement_warning_says_both_dates_in_one_line() -> None:
    text = "MOSCOW, March 15, 2023 (TASS) -- " + UNDATED
    result = extract(
        text,
        [meeting(LAVROV_MET, LAVROV, WANG, date_text="on Thursday")],
        published=dt.date(2023, 4, 2),
    )
    assert result.warnings == [
        "the dateline says 2023-03-15, the metadata 2023-04-02; dates resolved from the dateline"
    ]
    assert result.meetings[0].date == dt.date(2023, 3, 9)  # the Thursday before the dateline
    assert result.meetings[0].date_basis == "dateline"


def test_no_date_at_all_leaves_relative_dates_open() -> None:
    result = extract(UNDATED, [meeting(LAVROV_MET, LAVROV, WANG, date_text="on Thursday")])
    (got,) = result.meetings
    assert got.date is None and got.date_basis is None and got.from_dateline == []
    assert date_anchor(document_from_text(UNDATED, "t.txt")).date is None


# --------------------------------------------------------------------------- undated articles


def claim(
    subject: str, status: str, status_quote: str, quote: str, **fields: Any
) -> dict[str, Any]:
    return {
        "subject": subject,
        "subject_quote": subject,
        "organisation": "SCO",
        "status": status,
        "status_quote": status_quote,
        "stance": "seeks",
        "stance_quote": "wants to",
        "quotes": [quote],
        **fields,
    }


OBSERVER = "Laos wants to become an observer at the SCO, its foreign minister said."
OBSERVER_CLAIM = claim(
    "Laos", "observer", "observer", "Laos wants to become an observer at the SCO", upgrade=True
)


def test_an_undated_article_gets_no_warning_for_a_status_of_the_past() -> None:
    """The SCO had observers until 2025: with no date, that is no reason to warn."""
    result = extract(OBSERVER, [], status_claims=[OBSERVER_CLAIM])
    (got,) = result.status_claims
    assert result.warnings == []
    # Before 2025 the rung below observer was dialogue partner; since, there is none: no inference.
    assert got.from_status is None and not got.from_status_inferred


def test_a_dated_article_still_warns_for_a_status_out_of_force() -> None:
    text = "MOSCOW, October 1, 2025 (TASS) -- " + OBSERVER
    result = extract(text, [], status_claims=[OBSERVER_CLAIM])
    assert result.warnings == [
        "status claim 1: SCO has no 'observer' status on 2025-10-01; kept as the text says it"
    ]


def test_an_undated_article_warns_for_a_status_no_vocabulary_ever_had() -> None:
    text = "Laos wants to become a sectoral dialogue partner of the SCO, its minister said."
    sectoral = claim(
        "Laos",
        "sectoral_dialogue_partner",
        "sectoral dialogue partner",
        "Laos wants to become a sectoral dialogue partner of the SCO",
    )
    result = extract(text, [], status_claims=[sectoral])
    assert result.warnings == [
        "status claim 1: SCO has no 'sectoral_dialogue_partner' status at any date; "
        "kept as the text says it"
    ]


def test_an_undated_upgrade_is_inferred_where_every_vocabulary_agrees() -> None:
    """ASEAN has had one ladder: below observer is dialogue partner, whatever the date."""
    text = "Laos wants to upgrade to observer status at ASEAN, its foreign minister said."
    asean = claim(
        "Laos",
        "observer",
        "observer status",
        "Laos wants to upgrade to observer status at ASEAN",
        organisation="ASEAN",
        stance_quote="wants to upgrade",
        upgrade=True,
    )
    (got,) = extract(text, [], status_claims=[asean]).status_claims
    assert got.from_status == "dialogue_partner" and got.from_status_inferred


def test_vocabularies_for_an_unknown_date() -> None:
    assert ever_known("SCO", Status.observer) and ever_known("SCO", Status.partner)
    assert not ever_known("SCO", Status.sectoral_dialogue_partner)
    assert not ever_known("NATO", Status.member)
    assert agreed_level_below("SCO", Status.member) is None  # observer, then partner
    assert agreed_level_below("SCO", Status.observer) is None  # gone since 2025
    assert agreed_level_below("ASEAN", Status.observer) == Status.dialogue_partner
    assert agreed_level_below("BRICS", Status.member) is None  # nothing below, then partner
    assert agreed_level_below("NATO", Status.member) is None


def test_two_reports_of_a_meeting_keep_the_stated_span() -> None:
    """One report dates the talks "on 14-15 July", the other not: one record with both days."""
    text = (
        "MOSCOW, July 16, 2024 (TASS) -- Russian Foreign Minister Sergey Lavrov and Chinese "
        "Foreign Minister Wang Yi met in Vientiane on 14-15 July. Lavrov called the talks "
        "with Wang Yi useful."
    )
    met = "Sergey Lavrov and Chinese Foreign Minister Wang Yi met in Vientiane on 14-15 July"
    talks = "Lavrov called the talks with Wang Yi useful"
    (got,) = extract(
        text, [meeting(talks, LAVROV, WANG), meeting(met, LAVROV, WANG, date_text="on 14-15 July")]
    ).meetings
    assert (got.date, got.date_end, got.date_basis, got.from_dateline) == (
        dt.date(2024, 7, 14),
        dt.date(2024, 7, 15),
        "dateline",
        ["place"],
    )


# --------------------------------------------------------------------------- windows

WEEK = (
    "TASHKENT, May 16, 2025 (Xinhua) -- Chinese Foreign Minister Wang Yi met Uzbek Foreign "
    "Minister Bakhtiyor Saidov on Tuesday in Tashkent. Later that week, Saidov received Kyrgyz "
    "Foreign Minister Zheenbek Kulubaev. Earlier this month, Wang held talks with Kulubaev."
)


def test_later_that_week_and_earlier_this_month_give_the_days_they_allow() -> None:
    """After Tuesday 13 May, "later that week" is 14-18 May; "earlier this month" 1-15 May."""
    result = extract(
        WEEK,
        [
            meeting("Wang Yi met Uzbek Foreign Minister Bakhtiyor Saidov on Tuesday", WANG,
                    SAIDOV, date_text="on Tuesday"),
            meeting("Later that week, Saidov received Kyrgyz Foreign Minister Zheenbek Kulubaev",
                    SAIDOV, KULUBAEV, date_text="Later that week"),
            meeting("Earlier this month, Wang held talks with Kulubaev", WANG, KULUBAEV,
                    date_text="Earlier this month"),
        ],
    )  # fmt: skip
    got = [(m.date, m.date_earliest, m.date_latest, m.date_basis) for m in result.meetings]
    assert got == [
        (dt.date(2025, 5, 13), None, None, "dateline"),
        (None, dt.date(2025, 5, 14), dt.date(2025, 5, 18), "event"),
        (None, dt.date(2025, 5, 1), dt.date(2025, 5, 15), "dateline"),
    ]


@pytest.mark.parametrize(
    ("expr", "earliest", "latest"),
    [
        ("last week", dt.date(2025, 5, 5), dt.date(2025, 5, 11)),
        ("next week", dt.date(2025, 5, 19), dt.date(2025, 5, 25)),
        ("later this month", dt.date(2025, 5, 17), dt.date(2025, 5, 31)),
        ("last month", dt.date(2025, 4, 1), dt.date(2025, 4, 30)),
        ("на прошлой неделе", dt.date(2025, 5, 5), dt.date(2025, 5, 11)),
        ("上周", dt.date(2025, 5, 5), dt.date(2025, 5, 11)),
    ],
)
def test_windows_count_from_the_report_date(expr: str, earliest: dt.date, latest: dt.date) -> None:
    """A report of Friday 16 May 2025: each window as the calendar gives it."""
    from extractor.text.dates import Window, resolve_window

    assert resolve_window(expr, dt.date(2025, 5, 16)) == Window(earliest, latest)


def test_a_window_without_a_base_or_words_is_none() -> None:
    """No date to count from, or words that are not a window, give nothing."""
    from extractor.text.dates import resolve_window

    assert resolve_window("later that week", None) is None
    assert resolve_window("on Tuesday", dt.date(2025, 5, 16)) is None
