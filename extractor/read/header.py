"""A header block at the top of a plain-text article: its metadata, and where the body starts.

Two shapes are read. A header block is ``key: value`` lines of known keys
(``date:``, ``url:``/``source:``, ``title:``, ``outlet:``, ``id:``,
``language:``, ``author:``) ended by a blank line. Front matter is lines
between ``---`` lines, as trafilatura's text and Markdown output and static
site generators write it: only its simple ``key: value`` subset is read (a
quoted value unquoted), which is all a header needs and spares a YAML parser.

Both are read conservatively, because removing the first lines of an article
that merely start with "Note:" would hide words from the model and shift every
offset: a header block is taken only when every line is a known key and a
body follows; front matter only when every line inside has the key shape and
at least one key is known.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from extractor._exceptions import MetadataError
from extractor.read.metadata import Metadata, looks_like_url, parse_published

__all__ = ["Header", "split_header"]

# Key (lower case) -> Metadata field, in order of precedence where two give one field
# (trafilatura writes both its site name and its host name); "source" is a URL or an
# outlet, by its value, and gives way to a key that says which.
_FIELDS: dict[str, str] = {
    "id": "input_id",
    "date": "published",
    "published": "published",
    "url": "url",
    "link": "url",
    "title": "title",
    "headline": "title",
    "outlet": "outlet",
    "publisher": "outlet",
    "sitename": "outlet",
    "hostname": "outlet",
    "source": "source",
    "language": "language",
    "lang": "language",
}
_IGNORED_IN_BLOCK = {"author"}
# What trafilatura's front matter holds beside the keys above.
_IGNORED_IN_FRONT_MATTER = _IGNORED_IN_BLOCK | {
    "description",
    "categories",
    "tags",
    "fingerprint",
    "license",
    "image",
    "pagetype",
    "filedate",
}
_MAX_LINES = 40
_MAX_CHARS = 16_384  # a header is a few short lines; a long text is not split whole to find one
_LINE = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)[ \t]*:(?:[ \t]+(.*?))?[ \t]*\r?$")
_FENCE = re.compile(r"---[ \t]*\r?$")
_FENCE_END = re.compile(r"(?:---|\.\.\.)[ \t]*\r?$")


@dataclass(frozen=True)
class Header:
    """The metadata a header gave, and the offset in the text where the body begins."""

    meta: Metadata
    body_start: int


def split_header(text: str, source: str) -> Header | None:
    """The text's header block or front matter, or None when it has neither.

    Raises ``InputError`` when a header is plainly there but its date cannot
    be read: the article would otherwise be judged against the wrong day.
    """
    lines = text[:_MAX_CHARS].splitlines(keepends=True)[: _MAX_LINES + 2]
    found = _front_matter(lines) if lines and _FENCE.match(lines[0]) else _block(lines)
    if found is None:
        return None
    pairs, end = found
    body_start = _skip_blank_lines(text, end)
    if body_start >= len(text):
        return None  # all header, no article: leave the text as it is
    return Header(_metadata(pairs, source), body_start)


def _skip_blank_lines(text: str, start: int) -> int:
    """Where the first line with text after ``start`` begins (its indent kept)."""
    while start < len(text):
        newline = text.find("\n", start)
        line_end = len(text) if newline < 0 else newline + 1
        if text[start:line_end].strip():
            return start
        start = line_end
    return start


def _block(lines: list[str]) -> tuple[dict[str, str], int] | None:
    pairs: dict[str, str] = {}
    end = 0
    for line in lines:
        if not line.strip():
            return (pairs, end) if pairs else None
        match = _LINE.match(line)
        if match is None:
            return None
        key = match[1].lower()
        if key not in _FIELDS and key not in _IGNORED_IN_BLOCK:
            return None
        if match[2]:
            pairs.setdefault(key, match[2])
        end += len(line)
    return None  # no blank line ends it within the first lines: not a header


def _front_matter(lines: list[str]) -> tuple[dict[str, str], int] | None:
    pairs: dict[str, str] = {}
    known = False
    end = len(lines[0])
    for line in lines[1:]:
        end += len(line)
        if _FENCE_END.match(line):
            return (pairs, end) if known else None
        if not line.strip() or line[0] in " \t-#":  # a blank, a list item, a comment
            continue
        match = _LINE.match(line)
        if match is None:
            return None
        key = match[1].lower()
        known = known or key in _FIELDS or key in _IGNORED_IN_FRONT_MATTER
        if key in _FIELDS and match[2]:
            pairs.setdefault(key, _unquote(match[2]))
    return None


def _unquote(value: str) -> str:
    """A YAML scalar's text: double-quoted ones as JSON strings (trafilatura writes them
    so), single-quoted ones with ``''`` for a quote."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            loaded = json.loads(value)
        except ValueError:
            return value[1:-1]
        return loaded if isinstance(loaded, str) else value
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    return value


def _metadata(pairs: dict[str, str], source: str) -> Metadata:
    values: dict[str, str] = {}
    for key, field in _FIELDS.items():
        if (value := pairs.get(key)) is None:
            continue
        if field == "source":
            field = "url" if looks_like_url(value) else "outlet"
        values.setdefault(field, value)
    raw_date = values.pop("published", None)
    try:
        published = parse_published(raw_date)
    except ValueError as exc:
        raise MetadataError(f"{source}: header: {exc}") from None
    return Metadata(
        input_id=values.get("input_id"),
        url=values.get("url"),
        title=values.get("title"),
        outlet=values.get("outlet"),
        language=values.get("language"),
        published=published,
        body=True,
    )
