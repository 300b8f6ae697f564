"""Resolving a date as written against the dateline.

Wire reports rarely give a full date: they say "on Thursday", "yesterday",
"July 14" or "7月14日", and leave the rest to the dateline. The model copies the
words as written; this module turns them into a calendar date, and returns
None rather than a guess whenever the words do not pin down one day ("last
week", "recently"), because a wrong date in a dataset is worse than a missing
one. News is mostly about what already happened, so a bare weekday points
back from the dateline unless the caller says the event is planned.

``resolve_span`` also says what ``resolve_date`` leaves out: the last day of a
meeting over several days ("14-15 July", "from 31 August to 1 September",
"7月14日至15日") and whether the words gave their own year (a "stated" date,
which needs no anchor). ``event_reference`` reads the words that date a meeting
by another event of the article ("on the same day", "the next day", "on the
sidelines of the summit"); the caller, which knows the article's other meetings,
resolves them.

A day written without a year ("14 July") takes the year that puts it nearest
the anchor among the years the tense allows: for a held event the latest one
at most two months after the anchor (the anchor may be a late metadata date,
or the dateline of a report filed after the fact), for a planned one the
earliest one at most two months before it. Within those bounds the chosen
year is always the nearest one; a weekday keeps its strict direction (back
for held, forward for planned), as "on Thursday" is never two months away.
"""

# ruff: noqa: RUF001, RUF003  (Russian and Chinese words are meant to be there)

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from dateutil.relativedelta import FR, MO, SA, SU, TH, TU, WE, relativedelta

_WEEKDAYS = (MO, TU, WE, TH, FR, SA, SU)

__all__ = [
    "EVENT_NOUNS",
    "DateSpan",
    "EventReference",
    "event_reference",
    "mentions_event",
    "resolve_date",
    "resolve_span",
]

# How far past the dateline an undated "July 14" may fall before we read it as
# last year's (for a held event), or before it for a planned one to be next year's.
_YEAR_SLACK = timedelta(days=62)

EN_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
"""English month by its first three letters (also used to read datelines)."""
EN_MONTH_NAMES = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_EN_MONTH = rf"(?P<mon>{EN_MONTH_NAMES})"
# Russian months in the genitive ("14 июля"), the form used with a day; the
# nominative is accepted too for careless text.
_RU_MONTHS = {
    "январ": 1, "феврал": 2, "март": 3, "апрел": 4, "ма": 5, "июн": 6,
    "июл": 7, "август": 8, "сентябр": 9, "октябр": 10, "ноябр": 11, "декабр": 12,
}  # fmt: skip
# Stems longest first, so a stem wins over a shorter one it starts with; sorted once here.
_RU_STEMS = tuple(sorted(_RU_MONTHS.items(), key=lambda item: -len(item[0])))
RU_MONTH_NAMES = (
    r"(?:январ[ья]|феврал[ья]|марта?|апрел[ья]|ма[йя]|июн[ья]|июл[ья]|августа?|сентябр[ья]"
    r"|октябр[ья]|ноябр[ья]|декабр[ья])"
)
_RU_MONTH = rf"(?P<mon>{RU_MONTH_NAMES})"

_ORD = r"(?:st|nd|rd|th)?"
# What joins the two ends of a span: "14-15", "14 to 16", "с 14 по 16", "14至15日".
# "and" ("on 14 and 15 July") makes a span only of two consecutive days.
_TO = r"\s*(?P<to>-|\u2013|\u2014|~|〜|to|till|until|through|thru|and|по|до|и|至|到)\s*"
_RANGE_BEFORE = re.compile(rf"(?P<first>\d{{1,2}}){_ORD}{_TO}$")
# A span can last a few days, not months: a longer one is two dates, not a meeting's days.
_MAX_SPAN = timedelta(days=31)

_ISO = re.compile(r"(?<!\d)(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?!\d)")
_NUMERIC = re.compile(
    r"(?<!\d)(?P<a>\d{1,2})(?P<sep>[./])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})(?!\d)"
)
_CN_NUM = r"[0-9]{1,2}|[一二三四五六七八九十]{1,3}"
_CN_DATE = re.compile(
    rf"(?:(?P<y>[0-9]{{4}}|[〇零一二三四五六七八九]{{4}})\s*年\s*)?"
    rf"(?P<m>{_CN_NUM})\s*月\s*(?P<d>{_CN_NUM})\s*[日号號]"
)
# "本月14日" (the 14th of this month), "上个月3日", "下月1号": a day of the month
# before, of or after the dateline's, whatever the day of the dateline.
_CN_MONTH_SHIFT = {"本": 0, "这": 0, "這": 0, "上": -1, "前": -1, "下": 1, "次": 1}
_CN_RELATIVE_MONTH_DAY = re.compile(
    rf"(?P<rel>[本这這上前下次])\s*[个個]?\s*月\s*(?P<d>{_CN_NUM})\s*[日号號]"
)
# Not the "一日" of "前一日" (the day before), which is a reference to another event.
_CN_DAY = re.compile(rf"(?<![0-9月一二三四五六七八九十前])(?P<d>{_CN_NUM})\s*[日号號]")
_EN_MONTH_DAY = re.compile(
    rf"\b{_EN_MONTH}\.?\s+(?P<d>\d{{1,2}}){_ORD}\b(?:,?\s+(?P<y>\d{{4}})\b)?"
)
_EN_DAY_MONTH = re.compile(
    rf"\b(?:the\s+)?(?P<d>\d{{1,2}}){_ORD}\s+(?:of\s+)?{_EN_MONTH}\b\.?(?:,?\s+(?P<y>\d{{4}})\b)?"
)
_RU_DAY_MONTH = re.compile(
    rf"(?<!\d)(?P<d>\d{{1,2}})\s+{_RU_MONTH}(?![а-я])(?:\s+(?P<y>\d{{4}})(?!\d))?"
)

# Relative days, longest first so "day before yesterday" is not read as "yesterday".
_RELATIVE: tuple[tuple[re.Pattern[str], int], ...] = tuple(
    (re.compile(pattern), offset)
    for pattern, offset in (
        (r"\bday before yesterday\b", -2),
        (r"\bday after tomorrow\b", 2),
        (r"\byesterday\b", -1),
        (r"\blast night\b", -1),
        (r"\btoday\b", 0),
        (r"\btonight\b", 0),
        (r"\bthis (?:morning|afternoon|evening)\b", 0),
        (r"\btomorrow\b", 1),
        (r"\bпозавчера\b", -2),
        (r"\bпослезавтра\b", 2),
        (r"\bвчера\b", -1),
        (r"\bсегодня\b", 0),
        (r"\bзавтра\b", 1),
        (r"前天", -2),
        (r"[后後]天", 2),
        (r"昨[天日晚]", -1),
        (r"今[天日晨早晚]", 0),
        (r"明[天日]", 1),
    )
)

_EN_WEEKDAY_FULL = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3,
    "friday": 4, "saturday": 5, "sunday": 6,
}  # fmt: skip
_EN_WEEKDAY_ABBR = {
    "mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3,
    "fri": 4, "sat": 5, "sun": 6,
}  # fmt: skip
_EN_MODIFIER = r"(?:(?P<mod>last|this past|past|this coming|coming|next|this)\s+)?"
_EN_WEEK = r"(?:,?\s+(?P<week>last|next|this) week\b)?"
_EN_WEEKDAY = re.compile(rf"\b{_EN_MODIFIER}(?P<day>{'|'.join(_EN_WEEKDAY_FULL)})\b{_EN_WEEK}")
# Abbreviations ("Thu.", "Sat") are also ordinary words ("sat", "wed", "sun"),
# so they count only when a dot, a comma or the end of the text follows.
_EN_WEEKDAY_SHORT = re.compile(
    rf"\b{_EN_MODIFIER}(?P<day>{'|'.join(sorted(_EN_WEEKDAY_ABBR, key=len, reverse=True))})"
    r"(?:\.|(?=,)|$)"
)
_RU_WEEKDAYS = (
    ("понедельник", 0), ("вторник", 1), ("сред", 2), ("четверг", 3),
    ("пятниц", 4), ("суббот", 5), ("воскресен", 6),
)  # fmt: skip
_RU_WEEKDAY = re.compile(
    r"(?:(?P<mod>прошл\w*|следующ\w*|ближайш\w*|эт\w*)\s+)?"
    r"(?P<day>понедельник\w*|вторник\w*|сред[аеуы](?![а-я])|четверг\w*|пятниц\w*|суббот\w*"
    r"|воскресень\w*)"
)
_CN_WEEKDAY = re.compile(
    r"(?P<mod>[上下本这這])?[个個]?(?:周|週|星期|礼拜|禮拜)(?P<day>[一二三四五六日天七])"
)
_CN_WEEKDAY_INDEX = {c: i for i, c in enumerate("一二三四五六日")} | {"天": 6, "七": 6}
_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0}


@dataclass(frozen=True)
class DateSpan:
    """The day, or the days, a date expression names."""

    start: date
    end: date | None = None
    """The last day of a span over several days ("14-15 July"); None for a single day."""
    stated: bool = False
    """Whether the words give the year themselves, so the date owes nothing to an anchor."""


def resolve_date(expr: str | None, anchor: date | None, *, planned: bool = False) -> date | None:
    """The calendar day a date expression names, or None when it names no single day.

    ``anchor`` is the dateline date; expressions that need it ("on Thursday",
    "yesterday", "July 14" without a year) give None without it. ``planned``
    flips bare weekdays and undated days forward, for events the article says
    are still to come. A span ("July 13-14") gives its first day. Never raises:
    odd input is simply not a date.
    """
    span = resolve_span(expr, anchor, planned=planned)
    return span.start if span else None


def resolve_span(
    expr: str | None, anchor: date | None, *, planned: bool = False
) -> DateSpan | None:
    """Like ``resolve_date``, with the last day of a span and whether the year was written."""
    if not isinstance(expr, str) or not expr.strip():
        return None
    if isinstance(anchor, datetime):
        anchor = anchor.date()
    if anchor is not None and not isinstance(anchor, date):
        anchor = None
    try:
        return _resolve_expr(expr, anchor, bool(planned))
    except (ValueError, OverflowError):
        return None


@lru_cache(maxsize=4096)
def _resolve_expr(expr: str, anchor: date | None, planned: bool) -> DateSpan | None:
    """Cached: a document's meetings (and a day's documents) repeat the same expressions."""
    return _resolve(_clean(expr), anchor, planned)


def _clean(expr: str) -> str:
    # NFKC turns full-width digits and CJK punctuation into ASCII; casefold
    # makes "THURSDAY" and "Четверг" match the tables.
    text = unicodedata.normalize("NFKC", expr).casefold().replace("ё", "е")
    text = " ".join(text.split())
    return _RU_SPELLED_DAY.sub(lambda m: str(_ru_ordinal(m[0])), text) if "го" in text else text


# Russian ordinals of days as words, in the genitive a date takes ("пятнадцатого января",
# "двадцать первого марта"); each becomes its number before the tables read the date.
_RU_UNITS = {
    "первого": 1, "второго": 2, "третьего": 3, "четвертого": 4, "пятого": 5, "шестого": 6,
    "седьмого": 7, "восьмого": 8, "девятого": 9,
}  # fmt: skip
_RU_TEENS = {
    "десятого": 10, "одиннадцатого": 11, "двенадцатого": 12, "тринадцатого": 13,
    "четырнадцатого": 14, "пятнадцатого": 15, "шестнадцатого": 16, "семнадцатого": 17,
    "восемнадцатого": 18, "девятнадцатого": 19, "двадцатого": 20, "тридцатого": 30,
}  # fmt: skip
_RU_TENS = {"двадцать": 20, "тридцать": 30}
_RU_SPELLED_DAY = re.compile(
    rf"\b(?:(?:{'|'.join(_RU_TENS)}) (?:{'|'.join(_RU_UNITS)})|{'|'.join(_RU_TEENS)}|"
    rf"{'|'.join(_RU_UNITS)})\b(?= [а-я])"
)


def _ru_ordinal(words: str) -> int:
    parts = words.split()
    if len(parts) == 2:
        return _RU_TENS[parts[0]] + _RU_UNITS[parts[1]]
    return _RU_TEENS.get(parts[0]) or _RU_UNITS[parts[0]]


def _resolve(text: str, anchor: date | None, planned: bool) -> DateSpan | None:
    found = _explicit(text, anchor, planned)
    if found is not _Absent.NO_DATE:
        return found
    if anchor is None:
        return None
    for pattern, offset in _RELATIVE:
        if pattern.search(text):
            return DateSpan(anchor + timedelta(days=offset))
    day = _weekday(text, anchor, planned)
    return DateSpan(day) if day else None


# --------------------------------------------------------------------------- explicit dates


class _Absent(enum.Enum):
    """No calendar date is written at all (as opposed to None: written but unusable)."""

    NO_DATE = enum.auto()


@dataclass(frozen=True)
class _Day:
    """A day as written: the year may be missing, to be filled in from the anchor."""

    year: int | None
    month: int
    day: int


# The second end of a span, right after the first: "-15", " to 1 September 2024", "至8月1日".
_EN_MONTH_DAY_END = re.compile(
    rf"{_TO}(?:{_EN_MONTH}\.?\s+)?(?P<d>\d{{1,2}}){_ORD}\b(?!\s*[.:/]\d)(?:,?\s+(?P<y>\d{{4}})\b)?"
)
_EN_DAY_MONTH_END = re.compile(
    rf"{_TO}(?:the\s+)?(?P<d>\d{{1,2}}){_ORD}\s+(?:of\s+)?{_EN_MONTH}\b\.?(?:,?\s+(?P<y>\d{{4}})\b)?"
)
_RU_DAY_MONTH_END = re.compile(
    rf"{_TO}(?P<d>\d{{1,2}})\s+{_RU_MONTH}(?![а-я])(?:\s+(?P<y>\d{{4}})(?!\d))?"
)
_CN_END = re.compile(
    rf"{_TO}(?:(?P<y>[0-9]{{4}})\s*年\s*)?(?:(?P<m>{_CN_NUM})\s*月\s*)?(?P<d>{_CN_NUM})\s*[日号號]"
)
# "7月14-15日", "7月14至16日": one day marker for both ends.
_CN_SHARED_DAY = re.compile(
    rf"(?:(?P<y>[0-9]{{4}}|[〇零一二三四五六七八九]{{4}})\s*年\s*)?"
    rf"(?P<m>{_CN_NUM})\s*月\s*(?P<d1>{_CN_NUM}){_TO}(?P<d>{_CN_NUM})\s*[日号號]"
)
_ISO_END = re.compile(rf"{_TO}{_ISO.pattern}")


def _explicit(text: str, anchor: date | None, planned: bool) -> DateSpan | _Absent | None:
    """A written calendar date; ``NO_DATE`` when there is none, None when it is unusable."""
    match = _ISO.search(text)
    if match:
        first = _Day(int(match["y"]), int(match["m"]), int(match["d"]))
        end = _ISO_END.match(text, match.end())
        last = _Day(int(end["y"]), int(end["m"]), int(end["d"])) if end else None
        return _span(first, last, end["to"] if end else "", anchor, planned)

    shared = _CN_SHARED_DAY.search(text)
    match = _CN_DATE.search(text)
    if shared and (match is None or shared.start() <= match.start()):
        year = _cn_year(shared["y"]) if shared["y"] else None
        month = _cn_int(shared["m"])
        first = _Day(year, month, _cn_int(shared["d1"]))
        return _span(first, _Day(year, month, _cn_int(shared["d"])), shared["to"], anchor, planned)
    if match:
        year = _cn_year(match["y"]) if match["y"] else None
        first = _Day(year, _cn_int(match["m"]), _cn_int(match["d"]))
        end = _CN_END.match(text, match.end())
        last = None
        if end:
            month = _cn_int(end["m"]) if end["m"] else first.month
            last = _Day(int(end["y"]) if end["y"] else None, month, _cn_int(end["d"]))
        return _span(first, last, end["to"] if end else "", anchor, planned)

    match = _CN_RELATIVE_MONTH_DAY.search(text)
    if match:
        if anchor is None:
            return None
        month_index = anchor.year * 12 + anchor.month - 1 + _CN_MONTH_SHIFT[match["rel"]]
        made = _make(month_index // 12, month_index % 12 + 1, _cn_int(match["d"]))
        return DateSpan(made) if made else None

    match = _CN_DAY.search(text)
    if match:  # "14日", as Xinhua dates events in the dateline's month
        if anchor is None:
            return None
        made = _day_of_month(_cn_int(match["d"]), anchor, planned)
        if made is None:
            return None
        end = _CN_END.match(text, match.end())  # "14日至15日", "31日至8月1日"
        if end is None:
            return DateSpan(made)
        month = _cn_int(end["m"]) if end["m"] else made.month
        return DateSpan(made, _end(made, _Day(None, month, _cn_int(end["d"])), end["to"]))

    match = _NUMERIC.search(text)
    if match:
        made = _numeric(match)
        return DateSpan(made, stated=True) if made else None

    return _written_month(text, anchor, planned)


def _written_month(text: str, anchor: date | None, planned: bool) -> DateSpan | _Absent | None:
    """A date with its month in words ("July 14", "14 July", "14 июля"), the first written."""
    found = [
        (match, months, end)
        for pattern, months, end in (
            (_EN_MONTH_DAY, None, _EN_MONTH_DAY_END),
            (_EN_DAY_MONTH, None, _EN_DAY_MONTH_END),
            (_RU_DAY_MONTH, _RU_STEMS, _RU_DAY_MONTH_END),
        )
        if (match := pattern.search(text))
    ]
    if not found:
        return _Absent.NO_DATE
    match, months, end_pattern = min(found, key=lambda item: item[0].start())
    month = _month(match["mon"], months)
    if month is None:
        return None
    year = int(match["y"]) if match["y"] else None
    day = int(match["d"])
    before = _RANGE_BEFORE.search(text, 0, match.start())
    if before:  # "14-15 July", "from 14 to 16 March", "с 14 по 16 марта"
        first = _Day(year, month, int(before["first"]))
        return _span(first, _Day(year, month, day), before["to"], anchor, planned)
    first = _Day(year, month, day)
    end = end_pattern.match(text, match.end())
    if end is None:
        return _span(first, None, "", anchor, planned)
    end_month = _month(end["mon"], months) if end["mon"] else month
    if end_month is None:
        return _span(first, None, "", anchor, planned)
    last = _Day(int(end["y"]) if end["y"] else None, end_month, int(end["d"]))
    return _span(first, last, end["to"], anchor, planned)


def _span(
    first: _Day, last: _Day | None, joined_by: str, anchor: date | None, planned: bool
) -> DateSpan | None:
    """The days from ``first`` to ``last``, years filled in; a single day when no span holds.

    A year written on either end serves both ("14-15 July 2024", "31 December
    to 2 January 2024"); otherwise the start takes the year nearest the anchor
    and the end follows it. An end that is not after the start, more than a
    month after it, or joined by "and" to a day that is not the next one is no
    span: the start alone is the date.
    """
    year = first.year
    if year is None and last is not None and last.year is not None:
        year = last.year - 1 if (first.month, first.day) > (last.month, last.day) else last.year
    stated = year is not None
    if year is not None:
        start = _make(year, first.month, first.day)
    else:
        start = _complete(None, first.month, first.day, anchor, planned)
    if start is None:
        return None
    return DateSpan(start, _end(start, last, joined_by) if last else None, stated)


def _end(start: date, last: _Day, joined_by: str) -> date | None:
    """The last day of a span from ``start``, or None when ``last`` makes no span with it."""
    end_year = last.year or start.year
    end = _make(end_year, last.month, last.day)
    if end is not None and end < start and last.year is None:  # "31 December to 2 January"
        end = _make(end_year + 1, last.month, last.day)
    longest = timedelta(days=1) if joined_by in ("and", "и") else _MAX_SPAN
    if end is None or not start < end <= start + longest:
        return None
    return end


def ru_month(name: str) -> int | None:
    """The month a Russian month name (genitive or nominative) stands for."""
    return _month(name.lower(), _RU_STEMS)


def cn_number(text: str) -> int:
    """Chinese numerals up to 99, or ASCII digits (for dates and datelines)."""
    return _cn_int(text)


def _month(name: str, russian: tuple[tuple[str, int], ...] | None) -> int | None:
    if russian is None:
        return EN_MONTHS.get(name[:3])
    for stem, number in russian:
        if name.startswith(stem):
            return number
    return None


def _numeric(match: re.Match[str]) -> date | None:
    """Day-first with dots (European and Russian usage); slashes only when unambiguous."""
    a, b = int(match["a"]), int(match["b"])
    year = int(match["y"])
    if year < 100:
        year += 2000
    if match["sep"] == ".":
        return _make(year, b, a)
    if a > 12 >= b:
        return _make(year, b, a)
    if b > 12 >= a:
        return _make(year, a, b)
    return None  # "03/04/2022": March 4 or 3 April, depending on who wrote it


def _complete(
    year: int | None, month: int, day: int, anchor: date | None, planned: bool
) -> date | None:
    """Fill in a missing year from the anchor, the nearest plausible one."""
    if year is not None:
        return _make(year, month, day)
    if anchor is None:
        return None
    candidates = [
        d for y in (anchor.year - 1, anchor.year, anchor.year + 1) if (d := _make(y, month, day))
    ]
    if planned:
        ahead = [d for d in candidates if d >= anchor - _YEAR_SLACK]
        return min(ahead) if ahead else None
    behind = [d for d in candidates if d <= anchor + _YEAR_SLACK]
    return max(behind) if behind else None


def _make(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _day_of_month(day: int, anchor: date, planned: bool) -> date | None:
    """The nearest day with that number: on or before the anchor, or after it if planned."""
    candidates = []
    for shift in (-1, 0, 1):
        month_index = anchor.year * 12 + anchor.month - 1 + shift
        made = _make(month_index // 12, month_index % 12 + 1, day)
        if made is not None:
            candidates.append(made)
    if planned:
        return min((d for d in candidates if d >= anchor), default=None)
    return max((d for d in candidates if d <= anchor), default=None)


def _cn_int(text: str) -> int:
    """Chinese numerals up to 99 ("十四" = 14, "二十" = 20), or ASCII digits."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, units = text.partition("十")
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)
    return _CN_DIGITS[text]


def _cn_year(text: str) -> int:
    if text.isdigit():
        return int(text)
    return int("".join(str(_CN_DIGITS[c]) for c in text))


# --------------------------------------------------------------------------- weekdays


def _weekday(text: str, anchor: date, planned: bool) -> date | None:
    match = _EN_WEEKDAY.search(text) or _EN_WEEKDAY_SHORT.search(text)
    if match:
        day = match["day"]
        index = _EN_WEEKDAY_FULL.get(day, _EN_WEEKDAY_ABBR.get(day, 0))
        week = match.groupdict().get("week")
        if week:
            return _in_week(anchor, index, {"last": -1, "this": 0, "next": 1}[week])
        return _relative_weekday(anchor, index, _en_direction(match["mod"], planned))

    match = _RU_WEEKDAY.search(text)
    if match:
        index = next(i for stem, i in _RU_WEEKDAYS if match["day"].startswith(stem))
        mod = match["mod"] or ""
        if mod.startswith("прошл"):
            direction = "before"
        elif mod.startswith(("следующ", "ближайш")):
            direction = "after"
        else:
            direction = "on_or_after" if planned else "on_or_before"
        return _relative_weekday(anchor, index, direction)

    match = _CN_WEEKDAY.search(text)
    if match:
        index = _CN_WEEKDAY_INDEX[match["day"]]
        mod = match["mod"]
        if mod == "上":
            return _in_week(anchor, index, -1)
        if mod == "下":
            return _in_week(anchor, index, 1)
        if mod in ("本", "这", "這"):
            return _in_week(anchor, index, 0)
        return _relative_weekday(anchor, index, "on_or_after" if planned else "on_or_before")
    return None


def _en_direction(modifier: str | None, planned: bool) -> str:
    """Which way from the anchor an English weekday points.

    "last Thursday" on a Thursday means a week ago, and "next Monday" on a
    Monday means in a week, so those exclude the anchor day itself; a bare
    "Thursday" in a report filed on Thursday is that very day.
    """
    if modifier in ("last", "past", "this past"):
        return "before"
    if modifier in ("next", "coming", "this coming"):
        return "after"
    return "on_or_after" if planned else "on_or_before"


def _relative_weekday(anchor: date, index: int, direction: str) -> date:
    target = _WEEKDAYS[index]
    if direction == "before":
        return anchor - timedelta(days=1) + relativedelta(weekday=target(-1))
    if direction == "after":
        return anchor + timedelta(days=1) + relativedelta(weekday=target(+1))
    if direction == "on_or_after":
        return anchor + relativedelta(weekday=target(+1))
    return anchor + relativedelta(weekday=target(-1))


def _in_week(anchor: date, index: int, weeks: int) -> date:
    """A weekday in a calendar week (Monday first) relative to the anchor's week."""
    monday = anchor - timedelta(days=anchor.weekday())
    return monday + timedelta(weeks=weeks, days=index)


# --------------------------------------------------------------------------- other events


@dataclass(frozen=True)
class EventReference:
    """Words that date a meeting by another event of the article: "the next day"."""

    days: int
    """Days after the event referred to (-1 for "the day before")."""
    event: str | None
    """The kind of event named ("summit", a key of ``EVENT_NOUNS``), or None for the
    event told just before ("on the same day" follows the meeting it refers to)."""


EVENT_NOUNS: dict[str, tuple[str, ...]] = {
    "summit": ("summit", "саммит", "峰会"),
    "meeting": ("meeting", "заседани", "встреч", "会议", "会晤"),
    "forum": ("forum", "форум", "论坛"),
    "conference": ("conference", "конференци"),
    "session": ("session", "сесси"),
    "assembly": ("assembly", "ассамбле", "大会"),
}
"""The events a meeting may be held on the sidelines of, with their stems as written."""

_NOUN = "|".join(
    sorted({w for forms in EVENT_NOUNS.values() for w in forms}, key=len, reverse=True)
)
_FEW_WORDS = r"(?:[\w.'-]+\s+){0,4}?"
_NUMBER_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
# "the day before" as a whole phrase, not "the day before the talks" (which names its event).
_ALONE = r"(?=\s*(?:[,.;:)]|$))"

_NAMED_EVENT: tuple[tuple[re.Pattern[str], int], ...] = tuple(
    (re.compile(pattern), days)
    for pattern, days in (
        (rf"\b(?:on|at) the (?:sidelines?|margins?) of (?:the |this |that )?{_FEW_WORDS}"
         rf"(?P<noun>{_NOUN})", 0),
        (rf"\bon the eve of (?:the |this |that )?{_FEW_WORDS}(?P<noun>{_NOUN})", -1),
        (rf"\bthe day before (?:the |this |that )?{_FEW_WORDS}(?P<noun>{_NOUN})", -1),
        (rf"\bthe day after (?:the |this |that )?{_FEW_WORDS}(?P<noun>{_NOUN})", 1),
        (rf"на полях (?:[\w-]+\s+){{0,3}}?(?P<noun>{_NOUN})", 0),
        (rf"(?P<noun>{_NOUN})\s*期间", 0),
    )
)  # fmt: skip
_PREVIOUS_EVENT: tuple[tuple[re.Pattern[str], int], ...] = tuple(
    (re.compile(pattern), days)
    for pattern, days in (
        (r"\b(?:the )?same (?:day|date|morning|afternoon|evening|night)\b", 0),
        (r"\b(?:later|earlier) (?:that|the same) day\b", 0),
        (r"\bthat (?:same )?(?:day|morning|afternoon|evening|night)\b", 0),
        (r"\b(?:the )?(?:next|following) (?:day|morning|afternoon|evening)\b", 1),
        (r"\b(?:the )?(?:previous|preceding) (?:day|morning|afternoon|evening|night)\b", -1),
        (rf"\bthe day after(?:wards)?{_ALONE}", 1),
        (rf"\bthe day before{_ALONE}", -1),
        (r"в (?:тот|этот) же день|тем же днем|в тот день", 0),
        (r"на следующий день|на другой день|днем позже|днём позже", 1),
        (r"днем ранее|днём ранее|за день до этого", -1),
        (r"同日|同一天|当天|當天|当日|當日", 0),
        (r"次日|翌日|第二天|隔天", 1),
        (r"前一[天日]", -1),
    )
)  # fmt: skip
_DAYS_LATER = re.compile(
    rf"\b(?P<n>\d|{'|'.join(_NUMBER_WORDS)}) days? (?P<dir>later|earlier|before){_ALONE}"
)


def event_reference(expr: str | None) -> EventReference | None:
    """What other event the words date a meeting by, and how many days from it.

    Only words that name no day of their own count: "on Wednesday, on the
    sidelines of the summit" is dated by its weekday (``resolve_date``), so the
    caller asks this only when that gives nothing. "Later that week" and
    "earlier this month" are not references: they name no single day, and a
    wrong date is worse than none (``resolve_window`` gives the days they allow).
    """
    if not isinstance(expr, str) or not expr.strip():
        return None
    text = _clean(expr)
    for pattern, days in _NAMED_EVENT:
        if match := pattern.search(text):
            noun = match["noun"]
            kind = next(k for k, forms in EVENT_NOUNS.items() if noun in forms)
            return EventReference(days, kind)
    for pattern, days in _PREVIOUS_EVENT:
        if pattern.search(text):
            return EventReference(days, None)
    if match := _DAYS_LATER.search(text):
        n = int(match["n"]) if match["n"].isdigit() else _NUMBER_WORDS[match["n"]]
        return EventReference(n if match["dir"] == "later" else -n, None)
    return None


def mentions_event(text: str, kind: str) -> bool:
    """Whether ``text`` speaks of an event of that kind ("the SCO summit", "саммита ШОС")."""
    folded = _clean(text)
    return any(form in folded for form in EVENT_NOUNS.get(kind, ()))


# --------------------------------------------------------------------------- windows


@dataclass(frozen=True)
class Window:
    """Words that place a day between two dates without naming it: "later that week"."""

    earliest: date
    latest: date


# (pattern, base, first, last): base "event" is the event told before ("that week"),
# "anchor" the report's own date ("this week"); first/last name the window's ends.
_WINDOWS: tuple[tuple[re.Pattern[str], str, str, str], ...] = tuple(
    (re.compile(pattern), base, first, last)
    for pattern, base, first, last in (
        (r"\blater (?:that|the same|in the) week\b", "event", "next day", "week end"),
        (r"\bearlier (?:that|the same|in the) week\b", "event", "week start", "day before"),
        (r"\blater (?:that|the same) month\b", "event", "next day", "month end"),
        (r"\bearlier (?:that|the same) month\b", "event", "month start", "day before"),
        (r"\blater this week\b", "anchor", "next day", "week end"),
        (r"\bearlier this week\b", "anchor", "week start", "day before"),
        (r"\blater this month\b", "anchor", "next day", "month end"),
        (r"\bearlier this month\b", "anchor", "month start", "day before"),
        (r"\bthis week\b|на этой неделе|本周|这周", "anchor", "week start", "week end"),
        (r"\blast week\b|на прошлой неделе|上周", "anchor", "last week start", "last week end"),
        (r"\bnext week\b|на следующей неделе|下周", "anchor", "next week start", "next week end"),
        (r"\bthis month\b|в этом месяце|本月", "anchor", "month start", "month end"),
        (r"\blast month\b|в прошлом месяце|上个?月", "anchor", "last month start",
         "last month end"),
        (r"\bnext month\b|в следующем месяце|下个?月", "anchor", "next month start",
         "next month end"),
    )
)  # fmt: skip


def _month_end(day: date) -> date:
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - timedelta(days=1)


def _window_end(name: str, base: date) -> date:
    monday = base - timedelta(days=base.weekday())
    first_of_month = base.replace(day=1)
    ends = {
        "next day": lambda: base + timedelta(days=1),
        "day before": lambda: base - timedelta(days=1),
        "week start": lambda: monday,
        "week end": lambda: monday + timedelta(days=6),
        "last week start": lambda: monday - timedelta(days=7),
        "last week end": lambda: monday - timedelta(days=1),
        "next week start": lambda: monday + timedelta(days=7),
        "next week end": lambda: monday + timedelta(days=13),
        "month start": lambda: first_of_month,
        "month end": lambda: _month_end(base),
        "last month start": lambda: (first_of_month - timedelta(days=1)).replace(day=1),
        "last month end": lambda: first_of_month - timedelta(days=1),
        "next month start": lambda: _month_end(base) + timedelta(days=1),
        "next month end": lambda: _month_end(_month_end(base) + timedelta(days=1)),
    }
    return ends[name]()


def window_words(expr: str | None) -> str | None:
    """What the words' window counts from: "event" ("later that week"), "anchor", or None."""
    if not isinstance(expr, str) or not expr.strip():
        return None
    text = _clean(expr)
    return next((base for pattern, base, _, _ in _WINDOWS if pattern.search(text)), None)


def resolve_window(expr: str | None, base: date | None) -> Window | None:
    """The days the words place a meeting between, counted from ``base``.

    "Later that week" after a meeting on Tuesday 14 March is 15-19 March;
    "earlier this month" in a report of 20 March is 1-19 March. The caller
    gives the event's date for "that" and the report's for "this"
    (``window_words`` says which). A window is kept apart from a date: it
    says when a meeting fell, not the day, and a made-up day would be wrong.
    """
    if base is None or not isinstance(expr, str):
        return None
    text = _clean(expr)
    for pattern, _, first, last in _WINDOWS:
        if pattern.search(text):
            earliest, latest = _window_end(first, base), _window_end(last, base)
            return Window(earliest, latest) if earliest <= latest else None
    return None
