"""Tests for extractor.text.dates: dates as written, resolved against the dateline."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from extractor.text.dates import resolve_date

# The seed's dateline: Thursday 14 July 2022. Hand-computed neighbours:
# Mon 11, Tue 12, Wed 13, Thu 14, Fri 15, Sat 16, Sun 17, Mon 18, Thu 21; Thu 7, Fri 8.
THU = date(2022, 7, 14)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("on Thursday", date(2022, 7, 14)),
        ("Thursday", date(2022, 7, 14)),
        ("THURSDAY", date(2022, 7, 14)),
        ("on Monday", date(2022, 7, 11)),
        ("on Wednesday", date(2022, 7, 13)),
        ("on Friday", date(2022, 7, 8)),
        ("last Thursday", date(2022, 7, 7)),
        ("last Monday", date(2022, 7, 11)),
        ("next Monday", date(2022, 7, 18)),
        ("next Thursday", date(2022, 7, 21)),
        ("Thursday last week", date(2022, 7, 7)),
        ("Thu.", date(2022, 7, 14)),
    ],
)
def test_weekdays_in_past_tense_news(expr: str, expected: date) -> None:
    """A weekday in a report resolves to the latest such day on or before the dateline."""
    assert resolve_date(expr, THU) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("on Monday", date(2022, 7, 18)),
        ("Thursday", date(2022, 7, 14)),
        ("on Friday", date(2022, 7, 15)),
        ("next Monday", date(2022, 7, 18)),
    ],
)
def test_weekdays_for_planned_events(expr: str, expected: date) -> None:
    """A weekday of a planned event resolves forward, on or after the dateline."""
    assert resolve_date(expr, THU, planned=True) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("today", date(2022, 7, 14)),
        ("this morning", date(2022, 7, 14)),
        ("tonight", date(2022, 7, 14)),
        ("yesterday", date(2022, 7, 13)),
        ("day before yesterday", date(2022, 7, 12)),
        ("tomorrow", date(2022, 7, 15)),
    ],
)
def test_relative_days(expr: str, expected: date) -> None:
    """Relative day words count from the dateline."""
    assert resolve_date(expr, THU) == expected


@pytest.mark.parametrize(
    "expr",
    ["July 14", "14 July", "July 14, 2022", "14.07.2022", "2022-07-14", "Jul. 14",
     "the 14th of July", "14/07/2022", "on Thursday, July 14"],
)  # fmt: skip
def test_explicit_dates(expr: str) -> None:
    """Written calendar dates resolve to that day, taking the year from the dateline."""
    assert resolve_date(expr, THU) == date(2022, 7, 14)


def test_explicit_date_wins_over_weekday() -> None:
    """When a weekday and a date are both written, the date decides."""
    assert resolve_date("Thursday, July 7", THU) == date(2022, 7, 7)


def test_undated_day_far_after_dateline_is_last_year() -> None:
    """A held event written "December 20" in a July report happened the previous December."""
    assert resolve_date("December 20", THU) == date(2021, 12, 20)


def test_undated_day_soon_after_dateline_stays_this_year() -> None:
    """A day within about two months after the dateline keeps the dateline's year."""
    assert resolve_date("September 1", THU) == date(2022, 9, 1)


def test_planned_undated_day_before_dateline_is_next_year() -> None:
    """A planned event written "January 10" in a December report is next January."""
    assert resolve_date("January 10", date(2022, 12, 20), planned=True) == date(2023, 1, 10)


def test_explicit_year_needs_no_anchor() -> None:
    """A date with its year resolves without a dateline."""
    assert resolve_date("July 14, 2022", None) == date(2022, 7, 14)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("14 июля", date(2022, 7, 14)),
        ("14 июля 2021 года", date(2021, 7, 14)),
        ("в четверг", date(2022, 7, 14)),
        ("в среду", date(2022, 7, 13)),
        ("в прошлую пятницу", date(2022, 7, 8)),
        ("сегодня", date(2022, 7, 14)),
        ("вчера", date(2022, 7, 13)),
    ],
)
def test_russian(expr: str, expected: date) -> None:
    """Russian dates, weekdays and relative days resolve like English ones."""
    assert resolve_date(expr, THU) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("7月14日", date(2022, 7, 14)),
        ("2022年7月14日", date(2022, 7, 14)),
        ("２０２２年７月１４日", date(2022, 7, 14)),
        ("七月十四日", date(2022, 7, 14)),
        ("周四", date(2022, 7, 14)),
        ("星期四", date(2022, 7, 14)),
        ("星期一", date(2022, 7, 11)),
        ("上周四", date(2022, 7, 7)),
        ("下周一", date(2022, 7, 18)),
        ("今天", date(2022, 7, 14)),
        ("昨天", date(2022, 7, 13)),
        ("本月14日", date(2022, 7, 14)),
        ("本月20日", date(2022, 7, 20)),  # this month's, though after the dateline
        ("上个月3日", date(2022, 6, 3)),
        ("上月30号", date(2022, 6, 30)),
        ("下月1日", date(2022, 8, 1)),
        ("這個月十日", date(2022, 7, 10)),
    ],
)
def test_chinese(expr: str, expected: date) -> None:
    """Chinese dates, weekdays and relative days resolve like English ones."""
    assert resolve_date(expr, THU) == expected


@pytest.mark.parametrize(
    "expr",
    ["last week", "recently", "this year", "earlier this month", "in July", "July 2022",
     "03/04/2022", "sat down", "среди прочего", "上周", ""],
)  # fmt: skip
def test_vague_expressions_give_none(expr: str) -> None:
    """Expressions that name no single day resolve to None."""
    assert resolve_date(expr, THU) is None


@pytest.mark.parametrize(
    "expr", ["on Thursday", "yesterday", "July 14", "7月14日", "本月14日", "вчера"]
)
def test_relative_without_anchor_gives_none(expr: str) -> None:
    """Without a dateline, expressions that need one resolve to None."""
    assert resolve_date(expr, None) is None


@pytest.mark.parametrize(
    "expr", [None, "   ", "February 30, 2022", "31.02.2022", "2022-13-45", "\x00\ud800", "9" * 500]
)
def test_odd_input_never_raises(expr: str | None) -> None:
    """Impossible dates and junk give None instead of raising."""
    assert resolve_date(expr, THU) is None


def test_anchor_near_calendar_edge_never_raises() -> None:
    """Arithmetic past the end of the calendar gives None, not OverflowError."""
    assert resolve_date("tomorrow", date.max) is None


def test_datetime_anchor_is_accepted() -> None:
    """A datetime anchor resolves as its date."""
    assert resolve_date("yesterday", datetime(2022, 7, 14, 9, 30)) == date(2022, 7, 13)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("July 13-14", date(2022, 7, 13)),
        ("13-14 July", date(2022, 7, 13)),
        ("from 12 to 14 July", date(2022, 7, 12)),
        ("July 3\u20134, 2022", date(2022, 7, 3)),
    ],
)
def test_span_is_dated_by_its_first_day(expr: str, expected: date) -> None:
    """A meeting over several days takes its first day, as the annotation guide says."""
    assert resolve_date(expr, date(2022, 7, 14)) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("Пятнадцатого января", date(2024, 1, 15)),
        ("двадцать первого декабря", date(2023, 12, 21)),
        ("тридцатого декабря", date(2023, 12, 30)),
        ("первого марта 2023 года", date(2023, 3, 1)),
        ("четвёртого января", date(2024, 1, 4)),
    ],
)
def test_russian_days_spelled_out_resolve_like_numbers(expr: str, expected: date) -> None:
    """'Пятнадцатого января' is 15 January, the year nearest a report of 20 January 2024."""
    assert resolve_date(expr, date(2024, 1, 20)) == expected


def test_a_spelled_out_ordinal_without_a_month_is_no_date() -> None:
    """'Второго' alone names no day ('второго раунда' is a second round)."""
    assert resolve_date("второго раунда", date(2024, 1, 20)) is None
