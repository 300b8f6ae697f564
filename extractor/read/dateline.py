"""The wire dateline: where and when a report was filed, read from its first lines.

"On Thursday" only means something once we know which day the report was
filed, and a place in the dateline is where it was filed, not necessarily
where a meeting happened; so the dateline is parsed once, with its offsets, and
conservatively: a wrong date silently shifts every relative date in the
article.

The shapes themselves are data (``extractor/data/datelines.json``): every wire
writes its dateline its own way ("MOSCOW, March 17. /TASS/.", "Paris (AFP) -",
"新华社北京7月14日电"), and a new outlet should cost a table entry with its
example, not a new branch here. This module only knows where to look (the first
few lines, after a headline or a byline), how to turn the matched groups into a
date and a place, and which matches to refuse.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from extractor.text.dates import EN_MONTH_NAMES, EN_MONTHS, RU_MONTH_NAMES, cn_number, ru_month

__all__ = ["Dateline", "Shape", "english", "parse_dateline", "shapes"]


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
    shape: str | None = field(default=None, compare=False)
    """The name of the table's shape that read it (None for a date prefix alone)."""


# ---------------------------------------------------------------- the table

# Russian wires abbreviate months ("3 мар", "15 янв"); the full names come from
# text.dates. Abbreviations are matched before the names they start.
_RU_ABBREVIATIONS = {
    "янв": 1, "фев": 2, "мар": 3, "апр": 4, "мая": 5, "июн": 6,
    "июл": 7, "авг": 8, "сен": 9, "окт": 10, "ноя": 11, "дек": 12,
}  # fmt: skip
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Parts the code supplies, so month names have one home (text.dates).
_BUILT_IN_PARTS = {
    "MONTH": EN_MONTH_NAMES,
    "RU_MONTH": rf"(?:{RU_MONTH_NAMES}|{'|'.join(_RU_ABBREVIATIONS)})",
    "CN_NUM": r"(?:\d{1,2}|[一二三四五六七八九十]{1,3})",
    "WEEKDAY": "(?:" + "|".join(_WEEKDAYS) + ")",
}
_PLACEHOLDER = re.compile(r"\{([A-Z][A-Z_]*)\}")
_GROUPS = frozenset({"place", "country", "mon", "day", "year", "n1", "n2", "ny", "wday", "outlet"})


def _expand(pattern: str, parts: dict[str, str], depth: int = 0) -> str:
    """``pattern`` with every ``{NAME}`` replaced by its part, parts within parts too."""
    if depth > 8:
        raise ValueError(f"dateline parts nest too deep (a part refers to itself?): {pattern!r}")

    def part(match: re.Match[str]) -> str:
        name = match[1]
        if name not in parts:
            raise ValueError(f"unknown dateline part {{{name}}}")
        return _expand(parts[name], parts, depth + 1)

    return _PLACEHOLDER.sub(part, pattern)


class Shape(BaseModel):
    """One dateline shape of the table: how some wires write where and when."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    wires: list[str]
    pattern: str = Field(min_length=1)
    examples: list[str] = Field(min_length=1)
    upper_place: bool = False
    numeric: Literal["dmy", "mdy"] = "dmy"
    script: Literal["latin", "cyrillic", "cjk"] = "latin"


class _Table(BaseModel):
    """``extractor/data/datelines.json``, validated so a typo fails on first use."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    note: list[str] = Field(alias="_note")
    parts: dict[str, str]
    shapes: list[Shape] = Field(min_length=1)

    @model_validator(mode="after")
    def _compiles(self) -> _Table:
        """Every pattern compiles, names only known groups, and matches its own examples."""
        clash = set(self.parts) & set(_BUILT_IN_PARTS)
        if clash:
            raise ValueError(f"dateline parts {sorted(clash)} are supplied by the code")
        for shape in self.shapes:
            compiled = _compile(shape, {**_BUILT_IN_PARTS, **self.parts})
            unknown = {g.split("_")[0] for g in compiled.groupindex} - _GROUPS
            if unknown:
                raise ValueError(f"dateline shape {shape.name!r}: unknown groups {unknown}")
            for example in shape.examples:
                if compiled.match(example) is None:
                    raise ValueError(f"dateline shape {shape.name!r} does not match {example!r}")
        return self


def _compile(shape: Shape, parts: dict[str, str]) -> re.Pattern[str]:
    try:
        return re.compile(_expand(shape.pattern, parts), re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"dateline shape {shape.name!r}: {exc}") from None


@cache
def _table() -> tuple[tuple[Shape, re.Pattern[str]], ...]:
    raw = (resources.files("extractor") / "data" / "datelines.json").read_text("utf-8")
    table = _Table.model_validate(json.loads(raw))
    parts = {**_BUILT_IN_PARTS, **table.parts}
    return tuple((shape, _compile(shape, parts)) for shape in table.shapes)


def shapes() -> list[Shape]:
    """The dateline shapes of the table, in the order they are tried."""
    return [shape for shape, _ in _table()]


# ---------------------------------------------------------------- names


@cache
def _names() -> dict[str, dict[str, str]]:
    data = json.loads((resources.files("extractor") / "data" / "places.json").read_text("utf-8"))
    return {
        table: {k.casefold(): v for k, v in data[table].items()} for table in ("places", "outlets")
    }


def english(table: str, name: str) -> str:
    """The English name of a place or outlet written in another script, or the name as is."""
    return _names()[table].get(name.casefold(), name)


# Lowercase particles allowed inside a title-case place name ("Rio de Janeiro").
_PARTICLES = frozenset({"de", "da", "do", "del", "della", "di", "la", "le", "les", "of", "el",
                        "al", "sur", "am", "an", "der", "en"})  # fmt: skip
# First words that open sentences ("On Thursday, July 14 (local time), ...").
_NOT_PLACES = frozenset({
    "on", "in", "at", "by", "since", "until", "till", "from", "last", "next", "this", "that",
    "and", "but", "as", "before", "after", "during", "early", "late", "later", "earlier",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today",
    "yesterday", "tomorrow", "meanwhile", "however", "published", "updated", "posted",
})  # fmt: skip
_MONTH_RE = re.compile(EN_MONTH_NAMES, re.IGNORECASE)


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


# ---------------------------------------------------------------- parsing

_DATE_PREFIX = re.compile(r"date[ \t]+(?P<iso>\d{4}-\d{2}-\d{2})\b\s*", re.IGNORECASE)
# Where to look: the first few lines (a headline, a byline, a "Published:" line
# may come first), but not into the body. A line this long is a paragraph of
# the body, and no dateline comes after the body has started.
_MAX_LINES = 8
_MAX_OFFSET = 1500
_BODY_LINE = 250
# A page's own "Published: March 3, 2023" line above the dateline is the
# metadata date written into the text; it lends its year when none is passed.
_PUBLISHED_LINE = re.compile(
    r"(?:published|posted|updated|date)[ \t]*:?[ \t]*(?:on[ \t]+)?"
    rf"(?:{_BUILT_IN_PARTS['WEEKDAY']},?[ \t]+)?"
    rf"(?:(?P<iso>\d{{4}}-\d{{2}}-\d{{2}})"
    rf"|(?P<mon>{EN_MONTH_NAMES})\.?[ \t]+(?P<day>\d{{1,2}}),?[ \t]+(?P<year>\d{{4}})"
    rf"|(?P<day_b>\d{{1,2}})[ \t]+(?P<mon_b>{EN_MONTH_NAMES})\.?,?[ \t]+(?P<year_b>\d{{4}}))\b",
    re.IGNORECASE,
)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_dateline(text: str, *, published: date | None = None) -> Dateline | None:
    """The wire dateline in the first lines of ``text``, if there is one.

    Conservative on purpose: a wrong dateline date silently shifts every
    "on Thursday" in the article, so only a line that starts with one of the
    table's shapes counts, and ordinary sentences do not. An explicit
    ``date YYYY-MM-DD`` prefix (as some feeds add) wins over the dateline's own
    date, because the dateline usually omits the year. A dateline with a day
    and month but no year takes the year that puts it nearest ``published`` (a
    metadata date); a dateline with no date at all ("UNITED NATIONS (AP) —")
    keeps ``date`` None, and the caller decides whether a metadata date stands in.
    """
    start = len(text) - len(text.lstrip())
    prefix = _DATE_PREFIX.match(text, start)
    prefix_date: date | None = None
    pos = start
    if prefix:
        y, m, d = (int(part) for part in prefix["iso"].split("-"))
        prefix_date = _safe_date(y, m, d)
        pos = prefix.end()
    for line_start in _line_starts(text, pos):
        if published is None:
            published = _published_line(text, line_start)
        found = _dateline_at(text, line_start, prefix_date, published)
        if found is not None:
            if prefix is not None and line_start == pos:
                found = replace(found, start=start)
            return found
    if prefix is not None and prefix_date is not None:
        end = prefix.end() - (len(prefix[0]) - len(prefix[0].rstrip()))
        return Dateline(prefix_date, None, None, start, end)
    return None


def _published_line(text: str, pos: int) -> date | None:
    """The date of a "Published: ..." line starting at ``pos``, if it is one."""
    match = _PUBLISHED_LINE.match(text, pos)
    if match is None:
        return None
    if match["iso"]:
        y, m, d = (int(part) for part in match["iso"].split("-"))
        return _safe_date(y, m, d)
    groups = _groups(match)
    return _safe_date(int(groups["year"]), EN_MONTHS[groups["mon"][:3].lower()], int(groups["day"]))


def _line_starts(text: str, pos: int) -> list[int]:
    """Where each of the first lines starts (after its indentation), up to the body."""
    starts: list[int] = []
    while pos < len(text) and pos <= _MAX_OFFSET and len(starts) < _MAX_LINES:
        while pos < len(text) and text[pos] in " \t\r\n\u00a0\u3000":
            pos += 1
        if pos >= len(text):
            break
        starts.append(pos)
        newline = text.find("\n", pos)
        if newline < 0 or newline - pos >= _BODY_LINE:
            break
        pos = newline + 1
    return starts


def _dateline_at(
    text: str, pos: int, prefix_date: date | None, published: date | None
) -> Dateline | None:
    """The first shape of the table that matches at ``pos`` and passes the checks."""
    for shape, pattern in _table():
        match = pattern.match(text, pos)
        if match is None:
            continue
        groups = _groups(match)
        if not _plausible(shape, groups):
            continue
        written = _written_date(shape, groups)
        if written is False:
            continue  # a day or weekday that no calendar has: not a dateline after all
        when = prefix_date or _with_year(written, published)
        outlet = groups.get("outlet")
        return Dateline(
            date=when,
            place=english("places", _title(groups["place"])),
            outlet=english("outlets", outlet.strip()) if outlet else None,
            start=pos,
            end=match.end(),
            shape=shape.name,
        )
    return None


def _groups(match: re.Match[str]) -> dict[str, str]:
    """The match's groups by base name ("day_b" counts as "day"), the first one set."""
    found: dict[str, str] = {}
    for name, value in match.groupdict().items():
        if value is not None:
            found.setdefault(name.split("_")[0], value)
    return found


def _plausible(shape: Shape, groups: dict[str, str]) -> bool:
    """Refuse matches that only look like datelines: sentences, remarks, lowercase places."""
    place = groups.get("place")
    if not place:
        return False
    if shape.script == "latin":
        if not _place_ok(place) or ("country" in groups and not _place_ok(groups["country"])):
            return False
    elif shape.script == "cyrillic" and not place[0].isupper():
        return False
    if shape.upper_place and place != place.upper():
        return False
    outlet = groups.get("outlet")
    # "(local time)", "(see below)": a remark, not a news agency.
    return outlet is None or shape.script != "latin" or outlet[0].isupper()


_Written = tuple[int | None, int, int] | None | Literal[False]


def _written_date(shape: Shape, groups: dict[str, str]) -> _Written:
    """(year or None, month, day) as written; None when no date is; False when impossible."""
    if "n1" in groups:
        return _numeric_date(shape, groups)
    if "mon" not in groups or "day" not in groups:
        return None
    month = _month(groups["mon"])
    day = cn_number(groups["day"]) if shape.script == "cjk" else int(groups["day"])
    year = int(groups["year"]) if "year" in groups else None
    if month is None or _safe_date(year or 2000, month, day) is None:
        return False  # 2000 is a leap year: "29 February" without a year stays possible
    return (year, month, day)


def _numeric_date(shape: Shape, groups: dict[str, str]) -> _Written:
    """A numeric date in the shape's order; a written weekday must agree with it.

    When the weekday disagrees with the shape's order but agrees with the other
    order, the weekday decides: "Friday 3/10/2023" is only ever one day. When it
    agrees with neither, the date is not trusted at all.
    """
    a, b, year = int(groups["n1"]), int(groups["n2"]), int(groups["ny"])
    orders = [(b, a), (a, b)] if shape.numeric == "dmy" else [(a, b), (b, a)]
    dates = [d for m, dd in orders if (d := _safe_date(year, m, dd)) is not None]
    if not dates:
        return False  # no such day either way
    if "wday" in groups:
        weekday = _WEEKDAYS.index(groups["wday"].lower())
        dates = [d for d in dates if d.weekday() == weekday]
        if not dates:
            return None  # the weekday contradicts the date: keep the place, not the date
    return (dates[0].year, dates[0].month, dates[0].day)


def _month(name: str) -> int | None:
    """An English, Russian (full or abbreviated) or Chinese month."""
    folded = name.lower().rstrip(".")
    if folded[:3] in EN_MONTHS and folded.isascii():
        return EN_MONTHS[folded[:3]]
    if folded in _RU_ABBREVIATIONS:
        return _RU_ABBREVIATIONS[folded]
    if folded.isascii() or re.fullmatch(r"[一二三四五六七八九十]+", folded):
        number = cn_number(folded)
        return number if 1 <= number <= 12 else None
    return ru_month(folded)


def _with_year(written: tuple[int | None, int, int] | None, published: date | None) -> date | None:
    """The date, its year from ``published`` when not written: the nearest such day to it."""
    if written is None:
        return None
    year, month, day = written
    if year is not None:
        return _safe_date(year, month, day)
    if published is None:
        return None
    candidates = [
        d for y in (published.year - 1, published.year, published.year + 1)
        if (d := _safe_date(y, month, day)) is not None
    ]  # fmt: skip
    return min(candidates, key=lambda d: abs(d - published), default=None)
