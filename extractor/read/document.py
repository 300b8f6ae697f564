"""Reading input into a document.

Everything downstream (grounding offsets, stable ids, resolved dates) refers to
one exact string, so this module is the single place that turns bytes into
that string, and it refuses anything that is not plainly UTF-8 text with a
one-line reason instead of letting a PDF or a truncated file reach the model.
It also reads the wire dateline, because "on Thursday" only means something
once we know which day the report was filed.
"""

# Russian and Chinese dateline patterns use Cyrillic letters on purpose.
# ruff: noqa: RUF001, RUF003

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from stat import S_ISBLK, S_ISCHR, S_ISDIR, S_ISFIFO, S_ISREG, S_ISSOCK

from extractor._exceptions import (
    BinaryInputError,
    EmptyInputError,
    EncodingError,
    InputNotFoundError,
    InputTooLargeError,
)
from extractor.read.webpage import extractor_name, looks_like_html, reduce_html
from extractor.text.dates import EN_MONTH_NAMES, EN_MONTHS, RU_MONTH_NAMES, cn_number, ru_month

__all__ = [
    "STDIN",
    "Dateline",
    "Document",
    "document_from_text",
    "parse_dateline",
    "read_document",
]

STDIN = "-"
_SPACE = re.compile(r"\s*")
_STDIN_SOURCE = "<stdin>"
_UTF8_BOM = b"\xef\xbb\xbf"


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


@dataclass(frozen=True)
class Document:
    """One article exactly as read; every offset in a result refers to ``text``."""

    text: str
    source: str
    sha256: str
    dateline: Dateline | None
    content_type: str = "text"
    """``"html"`` when ``text`` was reduced from a page by ``text_extractor``."""
    text_extractor: str | None = None

    @property
    def id(self) -> str:
        """Short content id: the same text gets the same id wherever it came from."""
        return self.sha256[:16]

    @property
    def chars(self) -> int:
        """Length in characters, the unit of every offset."""
        return len(self.text)


# --------------------------------------------------------------------------- dateline

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


# --------------------------------------------------------------------------- reading

# Magic numbers of formats people most often pass by mistake.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF file"),
    (b"PK\x03\x04", "a ZIP archive (or DOCX/XLSX/EPUB)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\x1f\x8b", "a gzip file"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"BZh", "a bzip2 file"),
    (b"\xfd7zXZ\x00", "an xz file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x28\xb5\x2f\xfd", "a zstd file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office document"),
    (b"\x7fELF", "an executable"),
    (b"{\\rtf", "an RTF document"),
)
_UTF16_32_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\xfe\xff", "UTF-16"),
    (b"\xff\xfe", "UTF-16"),
)


def _too_large(source: str, size: int, limit: int, *, at_least: bool = False) -> InputTooLargeError:
    more = "more than " if at_least else ""
    return InputTooLargeError(
        f"{source}: input is {more}{size} bytes, over the limit of {limit} bytes "
        "(set EXTRACTOR_MAX_INPUT_BYTES to raise it)"
    )


def _decode(data: bytes, source: str) -> str:
    """Bytes to text, or the reason they are not a text document."""
    if not data.strip():
        raise EmptyInputError(f"{source}: input is empty")
    for bom, name in _UTF16_32_BOMS:
        if data.startswith(bom):
            raise EncodingError(f"{source}: input is {name}, not UTF-8; convert it to UTF-8 first")
    for magic, what in _MAGIC:
        if data.startswith(magic) and (magic != b"BZh" or data[3:4].isdigit()):
            raise BinaryInputError(f"{source}: input looks like {what}, not text")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise BinaryInputError(f"{source}: input contains a NUL byte at offset {nul}; not text")
    skip = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + skip
        bad = data[offset : offset + 1].hex()
        raise EncodingError(
            f"{source}: input is not valid UTF-8 (byte 0x{bad} at offset {offset})"
        ) from None


def document_from_text(text: str, source: str) -> Document:
    """A document from text already in memory (library callers, tests).

    A leading BOM character is dropped, as when reading a file, so the same
    article gets the same id and offsets however it arrives.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise EmptyInputError(f"{source}: input is empty")
    extra: dict[str, str] = {}
    published = None
    if looks_like_html(text):
        text, published = reduce_html(text, source)
        extra = {"content_type": "html", "text_extractor": extractor_name()}
    dateline = parse_dateline(text)
    if published and dateline is None:
        dateline = Dateline(published, None, None, 0, 0)
    elif published and dateline and dateline.date is None:
        dateline = replace(dateline, date=published)
    digest = hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()
    return Document(text=text, source=source, sha256=digest, dateline=dateline, **extra)


def read_document(path: str | Path, *, max_bytes: int) -> Document:
    """Read a file (or stdin for ``"-"``) into a document, or say why it cannot be one.

    The size is checked before the file is read, so a stray multi-gigabyte
    file costs a ``stat`` and not the memory; the read itself is also capped
    (at most ``max_bytes + 1`` bytes) in case the file grows meanwhile. Only a
    regular file is read: opening a FIFO would wait for a writer and reading a
    device may never end, so both are refused before they are opened, and the
    open itself does not block (a FIFO swapped in after the ``stat`` is caught
    by the ``fstat`` of what was opened).
    """
    if str(path) == STDIN:
        source = _STDIN_SOURCE
        data = _read_stdin(max_bytes + 1)
        if len(data) > max_bytes:
            raise _too_large(source, max_bytes, max_bytes, at_least=True)
        return document_from_text(_decode(data, source), source)

    source = str(path)
    try:
        size = _regular_size(source, os.stat(path))
        if size > max_bytes:
            raise _too_large(source, size, max_bytes)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        with os.fdopen(fd, "rb") as handle:
            size = _regular_size(source, os.fstat(fd))  # what was opened, not what was named
            if size > max_bytes:
                raise _too_large(source, size, max_bytes)
            # Asking for the size the file had, plus one byte to notice growth, spares
            # allocating (and shrinking) a buffer of max_bytes for every small article;
            # a file that grew meanwhile is read on up to the cap, as before.
            data = handle.read(size + 1)
            if len(data) > size:
                data += handle.read(max_bytes + 1 - len(data))
    except FileNotFoundError:
        raise InputNotFoundError(f"{source}: no such file") from None
    except OSError as exc:
        raise InputNotFoundError(f"{source}: cannot read ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise _too_large(source, max_bytes, max_bytes, at_least=True)
    return document_from_text(_decode(data, source), source)


def _read_stdin(limit: int) -> bytes:
    """Up to ``limit`` bytes of stdin, through its unbuffered file when it has one.

    A batch reads stdin in a daemon thread that may still be blocked when the
    process exits (Ctrl-C while a pipe's writer is silent); blocked in the
    buffered reader, it would hold the lock the interpreter needs to shut
    down, and Python aborts instead of exiting.
    """
    stream = getattr(sys.stdin.buffer, "raw", sys.stdin.buffer)
    parts: list[bytes] = []
    size = 0
    while size < limit:
        part = stream.read(min(limit - size, 1 << 16))
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


_NOT_REGULAR: tuple[tuple[Callable[[int], bool], str], ...] = (
    (S_ISFIFO, "FIFO"),
    (S_ISCHR, "character device"),
    (S_ISBLK, "block device"),
    (S_ISSOCK, "socket"),
)


def _regular_size(source: str, status: os.stat_result) -> int:
    """The size of a regular file, or the one-line reason it is not one."""
    mode = status.st_mode
    if S_ISDIR(mode):
        raise InputNotFoundError(f"{source}: is a directory, not a file")
    if not S_ISREG(mode):
        kind = next((name for test, name in _NOT_REGULAR if test(mode)), "special file")
        raise InputNotFoundError(f"{source}: not a regular file ({kind})")
    return status.st_size
