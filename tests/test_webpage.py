"""HTML pages reduced to their article, with offsets into the reduced text."""

from __future__ import annotations

import pytest

from extractor import InputError, Settings, extract, read_document
from extractor.read.document import document_from_text
from extractor.read.webpage import looks_like_html

from .conftest import CASSETTES, ROOT

PAGE = ROOT / "fixtures" / "html" / "sco_envoy_page.html"


def test_page_is_sniffed_as_html_but_an_article_is_not() -> None:
    """A doctype or <html> start marks a page; prose mentioning tags does not."""
    assert looks_like_html("<!DOCTYPE html><html><body>x</body></html>")
    assert looks_like_html("  <!-- saved --> <html lang='en'>")
    assert not looks_like_html("BEIJING, July 14 -- The <html> tag was discussed.")


def test_page_is_reduced_to_the_article_with_its_date() -> None:
    """Navigation, scripts and footer go; the dateline year comes from the page's metadata."""
    doc = read_document(PAGE, max_bytes=10**6)
    assert doc.content_type == "html" and doc.text_extractor.startswith("trafilatura ")
    assert "BEIJING, July 14 (Xinhua)" in doc.text
    for noise in ("Subscribe", "analytics", "Home", "Markets close"):
        assert noise not in doc.text
    assert doc.dateline is not None and doc.dateline.date.isoformat() == "2022-07-14"


def test_page_extracts_with_offsets_into_the_reduced_text() -> None:
    """Replayed, every evidence item slices the reduced text the output carries."""
    result = extract(
        read_document(PAGE, max_bytes=10**6),
        settings=Settings(mode="replay", cassette_dir=CASSETTES),
    )
    info = result.document
    assert info.content_type == "html" and info.text is not None
    evidence = [e for r in [*result.meetings, *result.status_claims] for e in r.evidence]
    evidence += [e for p in result.participants for e in p.mentions]
    assert len(evidence) >= 5
    assert all(info.text[e.start : e.end] == e.quote for e in evidence)
    (claim,) = result.status_claims
    sentence = next(e.quote for e in claim.evidence if e.field == "claim")
    assert "&" in sentence  # the page had &amp;
    assert (
        result.meetings[0].date is not None and result.meetings[0].date.isoformat() == "2022-07-14"
    )


def test_page_without_article_text_is_an_input_error() -> None:
    """A page that is all chrome gives a clear input error, not an empty extraction."""
    with pytest.raises(InputError, match="no article text"):
        document_from_text(
            "<html><head><script>var a=1;</script></head><body></body></html>", "e.html"
        )


def test_plain_text_output_carries_no_copy_of_the_text() -> None:
    """For plain text the offsets refer to the input itself, so it is not repeated."""
    doc = document_from_text("BEIJING, July 14 (Xinhua) -- A met B.", "a.txt")
    assert doc.content_type == "text" and doc.text_extractor is None
