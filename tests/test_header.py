"""Header blocks and front matter: metadata taken off the top of a plain-text article."""

from __future__ import annotations

from datetime import date

import pytest

from extractor import InputError, document_from_text, read_document
from extractor.read.header import split_header
from extractor.read.metadata import Metadata

from .conftest import ROOT

INPUTS = ROOT / "fixtures" / "inputs"
BODY = "Foreign Minister Murat Nurtleu met Foreign Minister Wang Yi in Astana on Monday.\n"


def test_a_header_block_gives_metadata_and_the_body_after_the_blank_line() -> None:
    text = "Date: 2024-05-20\nURL: https://x.example/a\nTitle: Ministers meet\nid: a1\n\n" + BODY
    header = split_header(text, "a.txt")
    assert header is not None
    assert text[header.body_start :] == BODY
    assert header.meta == Metadata(
        input_id="a1",
        url="https://x.example/a",
        title="Ministers meet",
        published=date(2024, 5, 20),
        body=True,
    )


def test_source_is_a_url_when_it_looks_like_one_and_an_outlet_otherwise() -> None:
    as_url = split_header("source: https://x.example/a\n\n" + BODY, "a")
    as_outlet = split_header("source: Example Wire\n\n" + BODY, "a")
    assert as_url is not None and as_url.meta.url == "https://x.example/a"
    assert as_outlet is not None and as_outlet.meta.outlet == "Example Wire"
    assert as_outlet.meta.url is None


@pytest.mark.parametrize(
    "text",
    [
        "Note: this is an article.\n\n" + BODY,  # a colon, but not a known key
        "Title: Ministers meet\nThe ministers met on Monday.\n\n" + BODY,  # a line not a key
        "Title: Ministers meet\n" + BODY,  # no blank line ends it
        "Date: 2024-05-20\nTitle: Ministers meet\n",  # all header, no article
        "\nDate: 2024-05-20\n\n" + BODY,  # not at the top
        BODY,
        "MOSCOW, March 17. /TASS/. Minister: we met.\n\n" + BODY,
    ],
)
def test_text_that_only_looks_like_a_header_is_left_alone(text: str) -> None:
    assert split_header(text, "a.txt") is None
    document = document_from_text(text, "a.txt")
    assert document.text == text
    assert document.meta.body is False


def test_front_matter_as_trafilatura_writes_it() -> None:
    """Quoted values are unquoted, lists and unknown keys skipped, the site name preferred
    to the host name, and the body starts right after the closing line."""
    path = INPUTS / "frontmatter.md"
    document = read_document(path, max_bytes=100_000)
    assert document.text.startswith("Foreign Minister Bakhtiyor Saidov met")
    assert document.meta == Metadata(
        input_id="tr-17",
        url="https://news.example.org/sco-002",
        title="Talks in Tashkent: trade first",
        outlet="Example News",
        published=date(2024, 5, 21),
        body=True,
        body_start=path.read_text(encoding="utf-8").index("Foreign Minister Bakhtiyor"),
    )


def test_front_matter_needs_a_known_key_and_a_closing_line() -> None:
    assert split_header("---\nfoo: bar\n---\n" + BODY, "a") is None
    assert split_header("---\ntitle: A\n" + BODY, "a") is None
    assert split_header("---\n\n" + BODY + "---\n", "a") is None  # a rule, then prose


def test_a_header_file_reads_as_its_body_with_metadata() -> None:
    """The model sees the article only; the id and dateline come from the body."""
    document = read_document(INPUTS / "header.txt", max_bytes=100_000)
    file_text = (INPUTS / "header.txt").read_text(encoding="utf-8")
    assert file_text.endswith(document.text)
    assert document.text.startswith("Foreign Minister Murat Nurtleu")
    assert document.meta.body is True
    assert document.meta.outlet == "Example Wire"
    assert document.meta.language == "en"
    assert document.meta.published == date(2024, 5, 20)
    assert document.id == document_from_text(document.text, "x", meta=Metadata()).id


def test_crlf_lines_and_a_bom() -> None:
    text = "\ufefftitle: Ministers meet\r\ndate: 2024-05-20 10:00\r\n\r\n" + BODY
    document = document_from_text(text, "a.txt")
    assert document.text == BODY
    assert document.meta.title == "Ministers meet"
    assert document.meta.published == date(2024, 5, 20)


def test_a_header_with_a_date_that_is_no_date_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"^a\.txt: header: not a date: 'next Monday'"):
        document_from_text("date: next Monday\n\n" + BODY, "a.txt")


def test_given_metadata_means_no_header_is_looked_for() -> None:
    """A corpus row's text is taken as it is, even when it starts like a header."""
    text = "title: Ministers meet\n\n" + BODY
    document = document_from_text(text, "rows.jsonl#1", meta=Metadata(body=True))
    assert document.text == text
    assert document.meta.title is None


def test_the_body_keeps_the_indent_of_its_first_line() -> None:
    document = document_from_text("title: T\n\n  \n   Indented first line.\n", "a.txt")
    assert document.text == "   Indented first line.\n"
