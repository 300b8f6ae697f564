"""The wire dateline: where and when a report was filed, read from its first lines.

"On Thursday" only means something once we know which day the report was
filed, and a place in the dateline is where it was filed, not necessarily
where a meeting happened; so the dateline is parsed once, with its offsets, and
conservatively: a wrong date silently shifts every relative date in the
article.
"""

# Russian and Chinese dateline patterns use Cyrillic letters on purpose.
# ruff: noqa: RUF001, RUF003

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

from extractor.text.dates import EN_MONTH_NAMES, EN_MONTHS, RU_MONTH_NAMES, cn_number, ru_month

__all__ = ["Dateline", "english", "parse_dateline"]

_SPACE = re.compile(r"\s*")


@dataclass(frozen=True)
class Dateline:
    """What the wire dateline says, and where it sits in the text.

    The offsets let later steps tell the dateline from the body (a place name
    in the dateline is where the report was filed, not necessarily where a
    meeting happened).
    """

    date: date | None
    place: str | None
    outlet: str | None
    start: int
    end: int


_MONTH = EN_MONTH_NAMES
_MONTH_RE = re.compile(_MONTH, re.IGNORECASE)
_LETTER = r"[^\W\d_]"
# Up to four words of letters (with inner hyphens, dots, apostrophes), e.g.
# "NEW DELHI", "Beijing", "ST. PETERSBURG", "XI'AN", "UNITED NATIONS".
_WORD = rf"{_LETTER}+(?:[.'\u2019\-]{_LETTER}+)*\.?"
_PLACE = rf"{_WORD}(?:[ ]{_WORD}){{0,3}}"
_DATE_PART = (
    rf"(?:(?P<mon1>{_MONTH})\.?[ ]+(?P<day1>\d{{1,2}})(?:st|nd|rd|th)?(?:,?[ ]+(?P<year1>\d{{4}}))?"
    rf"|(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?[ ]+(?P<mon2>{_MONTH})\.?(?:,?[ ]+(?P<year2>\d{{4}}))?)"
)
_OUTLET_NAME = r"[^\W\d_][^()/\n]{0,38}?"
_OUTLET = (
    rf"(?:[ ]*\([ ]*(?P<out1>{_OUTLET_NAME})[ ]*\)"  # (Xinhua)
    rf"|[ ]*/[ ]*(?P<out2>{_OUTLET_NAME})[ ]*/"  # /TASS/
    rf"|[ ]+(?P<out3>[A-Z][A-Za-z]{{1,15}})\))"  # APP)  -- open parenthesis lost upstream
)
_SEPARATOR = "(?:[ ]*(?:--|[-\u2013\u2014:.]))"  # hyphen, en dash, em dash, colon, dot
_DASH = "(?:[ ]+(?:--|[-\u2013\u2014]))"
_DATELINE = re.compile(
    rf"(?P<place>{_PLACE}),[ ]+{_DATE_PART}(?:{_OUTLET}{_SEPARATOR}?|(?P<bare>{_DASH}))",
    re.IGNORECASE,
)
_DATE_PREFIX = re.compile(r"date[ \t]+(?P<iso>\d{4}-\d{2}-\d{2})\b\s*", re.IGNORECASE)
# Lowercase particles allowed inside a title-case place name ("Rio de Janeiro").
_PARTICLES = frozenset({"de", "da", "do", "del", "della", "di", "la", "le", "les", "of", "el",
                        "al", "sur", "am", "an", "der", "en"})  # fmt: skip


# First words that open sentences ("On Thursday, July 14 (local time), ...").
_NOT_PLACES = frozenset({
    "on", "in", "at", "by", "since", "until", "till", "from", "last", "next", "this", "that",
    "and", "but", "as", "before", "after", "during", "early", "late", "later", "earlier",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today",
    "yesterday", "tomorrow",
})  # fmt: skip


def _place_ok(place: str) -> bool:
    """Whether a candidate looks like a place name rather than the start of a sentence."""
    words = place.split()
    if not words[0][0].isupper() or words[0].lower() in _NOT_PLACES:
        return False
    if _MONTH_RE.fullmatch(words[0].rstrip(".")):
        return False
    return all(w[0].isupper() or w.lower() in _PARTICLES for w in words)


def _title(place: str) -> str:
    """Title-case an all-caps place, leaving mixed case ("McAllen") as written."""
    if place != place.upper():
        return place

    def cap(word: str) -> str:
        if word.lower() in _PARTICLES:
            return word.lower()
        return word[:1].upper() + word[1:].lower()

    words = []
    for word in place.split(" "):
        words.append("-".join(cap(part) for part in word.split("-")))
    result = " ".join(words)
    return result[:1].upper() + result[1:]


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_dateline(text: str) -> Dateline | None:
    """The wire dateline at the start of ``text``, if there is one.

    Conservative on purpose: a wrong dateline date silently shifts every
    "on Thursday" in the article, so only a place followed by a comma, a day
    and month, and an outlet or a dash counts; ordinary sentences do not.
    An explicit ``date YYYY-MM-DD`` prefix (as some feeds add) wins over the
    dateline's own date, because the dateline usually omits the year.
    """
    found = _dateline_at(text, len(text) - len(text.lstrip()))
    if found is None and (newline := text.find("\n", 0, 200)) > 0:
        found = _dateline_at(text, newline + 1)  # after a headline, as pages put it
    return found


def _dateline_at(text: str, start: int) -> Dateline | None:
    start = _SPACE.match(text, start).end()  # type: ignore[union-attr]
    pos = start
    prefix_date: date | None = None
    prefix = _DATE_PREFIX.match(text, pos)
    if prefix:
        y, m, d = (int(part) for part in prefix["iso"].split("-"))
        prefix_date = _safe_date(y, m, d)
        pos = prefix.end()
    match = _DATELINE.match(text, pos)
    if match is None or not _valid(match):
        other = _other_script_dateline(text, pos, start, prefix_date)
        if other is not None:
            return other
        if prefix is not None and prefix_date is not None:
            return Dateline(prefix_date, None, None, start, prefix.end() - _trailing(prefix[0]))
        return None
    outlet = match["out1"] or match["out2"] or match["out3"]
    month = EN_MONTHS[(match["mon1"] or match["mon2"])[:3].lower()]
    day = int(match["day1"] or match["day2"])
    year_text = match["year1"] or match["year2"]
    when = prefix_date
    if when is None and year_text:
        when = _safe_date(int(year_text), month, day)
    return Dateline(
        date=when,
        place=_title(match["place"]),
        outlet=outlet.strip() if outlet else None,
        start=start,
        end=match.end(),
    )


# Russian wire style: "ПЕКИН, 15 марта. /ТАСС/." (an outlet is required).
_RU_DATELINE = re.compile(
    r"(?P<place>[А-ЯЁ][А-ЯЁа-яё]+(?:[ -][А-ЯЁ][А-ЯЁа-яё]+){0,2}),[ ]+(?P<day>\d{1,2})[ ]+"
    rf"(?P<mon>{RU_MONTH_NAMES})(?:[ ]+(?P<year>\d{{4}})(?:[ ]+г(?:ода|\.))?)?\.?[ ]*"
    r"(?:/[ ]*(?P<out1>[^/\n]{1,40}?)[ ]*/|\([ ]*(?P<out2>[^)\n]{1,40}?)[ ]*\))\.?"
)
# Chinese wire style: "新华社北京3月15日电" (agency, place, month, day, "dispatch").
_CN_NUMBER = r"(?:\d{1,2}|[一二三四五六七八九十]{1,3})"
_CN_DATELINE = re.compile(
    r"(?P<out>新华社|中新社|人民日报|央视新闻)?(?P<place>[\u4e00-\u9fff]{2,6}?)"
    rf"(?P<mon>{_CN_NUMBER})月(?P<day>{_CN_NUMBER})日电"
)


@cache
def _names() -> dict[str, dict[str, str]]:
    data = json.loads((resources.files("extractor") / "data" / "places.json").read_text("utf-8"))
    return {
        table: {k.casefold(): v for k, v in data[table].items()} for table in ("places", "outlets")
    }


def english(table: str, name: str) -> str:
    """The English name of a place or outlet written in another script, or the name as is."""
    return _names()[table].get(name.casefold(), name)


def _other_script_dateline(
    text: str, pos: int, start: int, prefix_date: date | None
) -> Dateline | None:
    """Russian and Chinese datelines, with place and outlet given in English where known."""
    match = _RU_DATELINE.match(text, pos)
    if match:
        month, day = ru_month(match["mon"]), int(match["day"])
        outlet = match["out1"] or match["out2"]
    else:
        match = _CN_DATELINE.match(text, pos)
        if match is None:
            return None
        month, day = cn_number(match["mon"]), cn_number(match["day"])
        outlet = match["out"]
    when = prefix_date
    year = match.groupdict().get("year")
    if when is None and year and month:
        when = _safe_date(int(year), month, day)
    return Dateline(
        date=when,
        place=english("places", _title(match["place"])),
        outlet=english("outlets", outlet.strip()) if outlet else None,
        start=start,
        end=match.end(),
    )


def _trailing(s: str) -> int:
    return len(s) - len(s.rstrip())


def _valid(match: re.Match[str]) -> bool:
    place = match["place"]
    if not _place_ok(place):
        return False
    day = int(match["day1"] or match["day2"])
    if not 1 <= day <= 31:
        return False
    outlet = match["out1"] or match["out2"] or match["out3"]
    if outlet is not None and not outlet[0].isupper():
        return False  # "(local time)", "(see below)": a remark, not a news agency
    # Without an outlet, only an all-caps place ("MOSCOW, Nov 3 -") is a dateline;
    # "Paris, May 5 - ..." in mixed case is too easy to meet in a sentence.
    return not (match["bare"] is not None and place != place.upper())
