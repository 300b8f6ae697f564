"""What an input says about its article beside the text, and how its values are read.

Corpus rows, scraper JSON and header blocks all name the same few things (an
id, a URL, a title, an outlet, a language, a publication date) in their own
words; this module holds the one ``Metadata`` they become and the one reading
of a publication date, so a date means the same wherever it was written.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from datetime import date, datetime

__all__ = ["NO_METADATA", "Metadata", "looks_like_url", "parse_published"]


@dataclass(frozen=True)
class Metadata:
    """What an input says about its article beside the text: a row's columns, a header block.

    ``body`` is true when ``Document.text`` is the article without a header
    block it was read with, or a row's text field: offsets then refer to that
    body, not to the file, and the output says so.
    """

    input_id: str | None = None
    url: str | None = None
    title: str | None = None
    outlet: str | None = None
    language: str | None = None
    published: date | None = None
    body: bool = False
    body_start: int | None = None
    """Where the body starts in the file, when a header block was taken off it."""


NO_METADATA = Metadata()

_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:$|[T ]\d)")
_SLASHED = re.compile(r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})$")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(?:\d{6})?$")  # GDELT: 20230315 or 20230315100000
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        1,
    )
    for name in names
}
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]+)\.?,?\s+(\d{4})$")
_MONTH_DAY_YEAR = re.compile(r"([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$")
EXPECTED_DATES = "YYYY-MM-DD, a time after it or not, '15 March 2023', or an RFC 2822 date"


def parse_published(value: object) -> date | None:
    """A publication date from a metadata value; None when the value is empty.

    Only shapes that cannot be misread are taken: ISO 8601 (what news-please,
    trafilatura and most exports write, a time after the date ignored), year
    first with slashes or dots, GDELT's compact digits, RFC 2822 (RSS feeds),
    and a day and an English month name in either order. ``03/04/2023`` is
    refused rather than guessed: it is March in one country and April in
    another. A time zone is ignored on purpose: the date an article carries is
    the one where it was published, not the UTC day. Raises ``ValueError``
    for anything else, so a wrong date is an error record, not a wrong answer.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r} (expected {EXPECTED_DATES})")
    text = value.strip()
    if not text:
        return None
    try:
        if match := _ISO.match(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if (match := _SLASHED.match(text)) or (match := _COMPACT.match(text)):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _DAY_MONTH_YEAR.match(text):
            return _named(match[2], match[1], match[3])
        if match := _MONTH_DAY_YEAR.match(text):
            return _named(match[1], match[2], match[3])
        if "," in text and (parsed := email.utils.parsedate_to_datetime(text)) is not None:
            return parsed.date()
    except (ValueError, TypeError, IndexError):
        pass
    raise ValueError(f"not a date: {text[:40]!r} (expected {EXPECTED_DATES})")


def _named(month: str, day: str, year: str) -> date:
    number = _MONTHS.get(month.lower())
    if number is None:
        raise ValueError(month)
    return date(int(year), number, int(day))


def looks_like_url(value: str) -> bool:
    """Whether a value is a web address (trafilatura's JSON calls the URL ``source``)."""
    return value.startswith(("http://", "https://"))
