"""Reducing an HTML page to the article it carries.

Boilerplate removal (navigation, scripts, footers, comments) is a solved
problem, so it is left to trafilatura. Offsets in the results then refer to
the reduced text, which the output carries alongside them so they stay checkable.
"""

from __future__ import annotations

import contextlib
import re
from datetime import date
from importlib.metadata import version

from extractor._exceptions import InputError

_HTML_START = re.compile(r"\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S)


def looks_like_html(text: str) -> bool:
    """Whether the text is an HTML page rather than an article (sniffed, not by suffix)."""
    return bool(_HTML_START.match(text[:4096]))


def extractor_name() -> str:
    """The library and version that reduced the page, for the output's provenance."""
    return f"trafilatura {version('trafilatura')}"


def reduce_html(page: str, source: str) -> tuple[str, date | None]:
    """The article text of a page (title line, then paragraphs one per line) and its date.

    The page's publication date (from its metadata) stands in for a dateline
    year, which wire datelines on pages usually omit.
    """
    import trafilatura  # heavy; only pages pay for it

    found = trafilatura.bare_extraction(
        page, include_comments=False, include_tables=False, deduplicate=False, with_metadata=True
    )
    text = getattr(found, "text", None)
    if not text or not text.strip():
        raise InputError(f"{source}: HTML page with no article text found in it")
    published = None
    with contextlib.suppress(TypeError, ValueError):
        stamp = getattr(found, "date", None)
        published = date.fromisoformat(str(stamp)[:10]) if stamp else None
    return text, published
