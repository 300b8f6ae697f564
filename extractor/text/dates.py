"""Resolving a date as written against the dateline.

Wire reports rarely give a full date: they say "on Thursday", "yesterday",
"July 14" or "7月14日", and leave the rest to the dateline. The model copies the
words as written; this module turns them into a calendar date, and returns
None rather than a guess whenever the words do not pin down one day ("last
week", "recently"), because a wrong date in a dataset is worse than a missing
one. News is mostly about what already happened, so a bare weekday points
back from the dateline unless the caller says the event is planned.
"""

# ruff: noqa: RUF001  (Russian and Chinese words in the tables are meant to be there)

from __future__ import annotations

import enum
import re
import unicodedata
from datetime import date, datetime, timedelta
from functools import lru_cache

from dateutil.relativedelta import FR, MO, SA, SU, TH, TU, WE, relativedelta

_WEEKDAYS = (MO, TU, WE, TH, FR, SA, SU)

__all__ = ["resolve_date"]

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
_RANGE_BEFORE = re.compile(r"(?P<first>\d{1,2})\s*(?:-|\u2013|\u2014|to|and)\s*$")

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
_CN_DAY = re.compile(rf"(?<![0-9月一二三四五六七八九十])(?P<d>{_CN_NUM})\s*[日号號]")
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


def resolve_date(expr: str | None, anchor: date | None, *, planned: bool = False) -> date | None:
    """The calendar day a date expression names, or None when it names no single day.

    ``anchor`` is the dateline date; expressions that need it ("on Thursday",
    "yesterday", "July 14" without a year) give None without it. ``planned``
    flips bare weekdays and undated days forward, for events the article says
    are still to come. Never raises: odd input is simply not a date.
    """
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
def _resolve_expr(expr: str, anchor: date | None, planned: bool) -> date | None:
    """Cached: a document's meetings (and a day's documents) repeat the same expressions."""
    return _resolve(_clean(expr), anchor, planned)


def _clean(expr: str) -> str:
    # NFKC turns full-width digits and CJK punctuation into ASCII; casefold
    # makes "THURSDAY" and "Четверг" match the tables.
    text = unicodedata.normalize("NFKC", expr).casefold()
    return " ".join(text.split())


def _resolve(text: str, anchor: date | None, planned: bool) -> date | None:
    found = _explicit(text, anchor, planned)
    if found is not _Absent.NO_DATE:
        return found
    if anchor is None:
        return None
    for pattern, offset in _RELATIVE:
        if pattern.search(text):
            return anchor + timedelta(days=offset)
    return _weekday(text, anchor, planned)


# --------------------------------------------------------------------------- explicit dates


class _Absent(enum.Enum):
    """No calendar date is written at all (as opposed to None: written but unusable)."""

    NO_DATE = enum.auto()


def _explicit(text: str, anchor: date | None, planned: bool) -> date | _Absent | None:
    """A written calendar date; ``NO_DATE`` when there is none, None when it is unusable."""
    match = _ISO.search(text)
    if match:
        return _make(int(match["y"]), int(match["m"]), int(match["d"]))

    match = _CN_DATE.search(text)
    if match:
        year = _cn_year(match["y"]) if match["y"] else None
        return _complete(year, _cn_int(match["m"]), _cn_int(match["d"]), anchor, planned)

    match = _CN_RELATIVE_MONTH_DAY.search(text)
    if match:
        if anchor is None:
            return None
        month_index = anchor.year * 12 + anchor.month - 1 + _CN_MONTH_SHIFT[match["rel"]]
        return _make(month_index // 12, month_index % 12 + 1, _cn_int(match["d"]))

    match = _CN_DAY.search(text)
    if match:  # "14日", as Xinhua dates events in the dateline's month
        return _day_of_month(_cn_int(match["d"]), anchor, planned) if anchor else None

    match = _NUMERIC.search(text)
    if match:
        return _numeric(match)

    for pattern, months in (
        (_EN_MONTH_DAY, None),
        (_EN_DAY_MONTH, None),
        (_RU_DAY_MONTH, _RU_STEMS),
    ):
        match = pattern.search(text)
        if match is None:
            continue
        month = _month(match["mon"], months)
        if month is None:
            return None
        year = int(match["y"]) if match["y"] else None
        return _complete(year, month, _first_day(text, match), anchor, planned)
    return _Absent.NO_DATE


def _first_day(text: str, match: re.Match[str]) -> int:
    """The day a date names, or the first day of a span ("July 13-14", "13 to 14 July").

    A meeting over several days is dated by its first day (docs/annotation.md).
    """
    before = _RANGE_BEFORE.search(text, 0, match.start())
    return int(before["first"]) if before else int(match["d"])


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
