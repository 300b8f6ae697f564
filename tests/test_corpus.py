"""Corpora with metadata: rows of JSONL, CSV, TSV, Parquet and scraper JSON become documents."""

from __future__ import annotations

import json
import sys
import tracemalloc
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from extractor import ConfigurationError, Document
from extractor.read.corpus import BadRow, format_of, iter_documents, parquet_available
from extractor.read.metadata import parse_published
from extractor.settings import InputFields, Settings

from .conftest import ROOT

INPUTS = ROOT / "fixtures" / "inputs"
FIELDS = InputFields()
LIMIT = 100_000


def _read(path: Path, fmt: Any = None, fields: InputFields = FIELDS) -> list[Document | BadRow]:
    return list(iter_documents(path, fmt or format_of(path), fields, max_bytes=LIMIT))


def _errors(items: list[Document | BadRow]) -> dict[str, str]:
    return {
        i.source: f"{type(i.error).__name__}: {i.error}" for i in items if isinstance(i, BadRow)
    }


def _documents(items: list[Document | BadRow]) -> list[Document]:
    return [i for i in items if isinstance(i, Document)]


@pytest.mark.parametrize(
    ("name", "override", "expected"),
    [
        ("a.jsonl", "auto", "jsonl"),
        ("a.NDJSON", "auto", "jsonl"),
        ("a.csv", "auto", "csv"),
        ("a.tsv", "auto", "tsv"),
        ("a.json", "auto", "json"),
        ("a.parquet", "auto", "parquet"),
        ("a.txt", "auto", "text"),
        ("a.html", "auto", "text"),
        ("-", "auto", "text"),
        ("a.txt", "jsonl", "jsonl"),
        ("a.jsonl", "text", "text"),
    ],
)
def test_the_format_follows_the_extension_unless_overridden(
    name: str, override: Any, expected: str
) -> None:
    assert format_of(name, override) == expected


def test_jsonl_rows_are_documents_with_metadata_and_bad_rows_are_theirs_alone() -> None:
    path = INPUTS / "corpus.jsonl"
    items = _read(path)
    good = _documents(items)
    assert [d.source for d in good] == [f"{path}#1", f"{path}#2", f"{path}#5"]  # #N: the line
    first = good[0]
    assert first.text.startswith("Foreign Minister Murat Nurtleu met")
    assert first.meta.input_id == "sco-001"
    assert first.meta.url == "https://news.example.org/sco-001"
    assert first.meta.title == "Foreign ministers meet in Astana"
    assert first.meta.outlet == "Example Wire"
    assert first.meta.language == "en"
    assert first.meta.published == date(2024, 5, 20)
    assert first.meta.body is True
    assert good[1].meta.published == date(2024, 5, 21)  # a time after the date
    assert good[2].meta.published is None
    assert _errors(items) == {
        f"{path}#4": f"MetadataError: {path}#4: field 'published': not a date: 'sometime in May' "
        "(expected YYYY-MM-DD, a time after it or not, '15 March 2023', or an RFC 2822 date)"
    }


def test_csv_rows_keep_quoted_newlines_and_name_an_empty_text() -> None:
    path = INPUTS / "corpus.csv"
    items = _read(path)
    good = _documents(items)
    assert [d.source for d in good] == [f"{path}#1", f"{path}#2", f"{path}#4"]
    assert good[0].text.endswith('the SCO summit, and "trade".')
    assert good[1].text == (
        "Foreign Minister Bakhtiyor Saidov met Ambassador Ivan Petrov in Tashkent on Tuesday.\n"
        "They discussed trade."
    )
    assert good[2].meta.published is None  # an empty cell is no date, not a bad one
    assert _errors(items) == {f"{path}#3": f"EmptyInputError: {path}#3: field 'body' is empty"}


def test_tsv_rows(tmp_path: Path) -> None:
    path = tmp_path / "c.tsv"
    path.write_text("id\tdate\ttext\nx1\t2024-01-02\tMinister A met Minister B.\n", "utf-8")
    (document,) = _read(path)
    assert isinstance(document, Document)
    assert (document.meta.input_id, document.meta.published) == ("x1", date(2024, 1, 2))


def test_a_news_please_file_is_one_document_named_by_the_file() -> None:
    path = INPUTS / "newsplease.json"
    (document,) = _read(path)
    assert isinstance(document, Document)
    assert document.source == str(path)
    assert document.text.startswith("Foreign Minister Murat Nurtleu")
    assert document.meta.url == "https://news.example.org/sco-001"
    assert document.meta.title == "Foreign ministers meet in Astana"
    assert document.meta.outlet == "news.example.org"
    assert document.meta.language == "en"
    assert document.meta.published == date(2024, 5, 20)
    assert document.meta.input_id is None


def test_a_trafilatura_json_file_takes_source_as_its_url_and_the_site_name_as_outlet() -> None:
    (document,) = _read(INPUTS / "trafilatura.json")
    assert isinstance(document, Document)
    assert document.meta.url == "https://news.example.org/sco-002"
    assert document.meta.outlet == "Example News"
    assert document.meta.input_id == "tr-17"
    assert document.meta.published == date(2024, 5, 21)
    assert document.text.startswith("Foreign Minister Bakhtiyor Saidov")


def test_a_json_array_is_rows(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    rows = [{"content": "Minister A met Minister B.", "id": 7}, ["not", "an", "object"], {}]
    path.write_text(json.dumps(rows), "utf-8")
    items = _read(path)
    (document,) = _documents(items)
    assert (document.source, document.meta.input_id) == (f"{path}#1", "7")
    errors = _errors(items)
    assert errors[f"{path}#2"] == f"MetadataError: {path}#2: row is a JSON array, not a JSON object"
    assert errors[f"{path}#3"].startswith(
        f"MetadataError: {path}#3: no text field (looked for text"
    )


def test_named_fields_are_the_only_ones_tried() -> None:
    fields = InputFields(text=("description",), id=("filename",))
    (document,) = _read(INPUTS / "newsplease.json", fields=fields)
    assert isinstance(document, Document)
    assert document.text == "Foreign ministers met in Astana."
    assert document.meta.input_id == "https%3A%2F%2Fnews.example.org%2Fsco-001.json"


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("not json", "MetadataError: {row}: line is not JSON (Expecting value"),
        ('"a string"', "MetadataError: {row}: row is a JSON string, not a JSON object"),
        ('{"text": 12}', "MetadataError: {row}: field 'text' is a number, not text"),
        ('{"text": ["a"]}', "MetadataError: {row}: field 'text' is a list, not text"),
        ('{"text": "a\\u0000b"}', "BinaryInputError: {row}: field 'text' contains a NUL"),
        ('{"text": "a\\ud800b"}', "EncodingError: {row}: field 'text' holds a lone surrogate"),
        ('{"text": null, "body": "  "}', "EmptyInputError: {row}: field 'text' is empty"),
        (
            '{"body": "x", "date": 20240102}',
            "MetadataError: {row}: field 'date': not a date: 20240102",
        ),
    ],
)
def test_a_bad_row_is_an_error_for_that_row(tmp_path: Path, line: str, error: str) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(line + '\n{"text": "Minister A met Minister B."}\n', "utf-8")
    items = _read(path)
    assert _errors(items)[f"{path}#1"].startswith(error.format(row=f"{path}#1"))
    assert [d.source for d in _documents(items)] == [f"{path}#2"]


def test_the_first_field_with_text_wins(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"text": "", "content": "Minister A met Minister B."}\n', "utf-8")
    (document,) = _read(path)
    assert isinstance(document, Document) and document.text == "Minister A met Minister B."


def test_an_over_long_line_is_refused_without_being_held(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    long_row = json.dumps({"text": "x" * (3 * LIMIT)})
    path.write_text(long_row + '\n{"text": "Minister A met Minister B."}\n', "utf-8")
    items = _read(path)
    assert _errors(items)[f"{path}#1"].startswith("InputTooLargeError:")
    assert [d.source for d in _documents(items)] == [f"{path}#2"]


def test_a_missing_or_empty_table_is_one_error(tmp_path: Path) -> None:
    missing = tmp_path / "none.jsonl"
    assert _errors(_read(missing)) == {str(missing): f"InputNotFoundError: {missing}: no such file"}
    empty = tmp_path / "empty.csv"
    empty.write_text("id,text\n", "utf-8")
    assert _errors(_read(empty)) == {str(empty): f"EmptyInputError: {empty}: no rows"}


def test_csv_that_stops_being_utf8_ends_at_that_row(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b"text\nMinister A met Minister B.\n" + b"caf\xe9 " * 4000 + b"\n")
    items = _read(path)
    assert [d.source for d in _documents(items)] == [f"{path}#1"]
    assert _errors(items)[f"{path}#2"].startswith("EncodingError:")


def test_rows_stream_a_large_file_is_not_read_whole(tmp_path: Path) -> None:
    """Taking the first row of a 10 MB JSONL file costs a row's memory, not the file's."""
    path = tmp_path / "big.jsonl"
    row = json.dumps({"id": "x", "text": "Minister A met Minister B in Astana. " * 5}) + "\n"
    path.write_text(row * 50_000, "utf-8")
    assert path.stat().st_size > 10_000_000
    tracemalloc.start()
    try:
        rows = iter_documents(path, "jsonl", FIELDS, max_bytes=LIMIT)
        first = next(rows)
        _, peak = tracemalloc.get_traced_memory()
        rows.close()
    finally:
        tracemalloc.stop()
    assert isinstance(first, Document)
    assert peak < 1_000_000


def test_stdin_is_not_a_table() -> None:
    (item,) = list(iter_documents("-", "jsonl", FIELDS, max_bytes=LIMIT))
    assert isinstance(item, BadRow)
    assert str(item.error) == "<stdin>: jsonl rows are read from a file, not stdin"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-03-15", date(2023, 3, 15)),
        ("2023-03-15 10:00:00", date(2023, 3, 15)),  # news-please
        ("2023-03-15T23:30:00+05:00", date(2023, 3, 15)),  # the local day, not UTC's
        ("2023/3/5", date(2023, 3, 5)),
        ("20230315", date(2023, 3, 15)),
        ("20230315101500", date(2023, 3, 15)),  # GDELT
        ("15 March 2023", date(2023, 3, 15)),
        ("March 15, 2023", date(2023, 3, 15)),
        ("15th Sept. 2023", date(2023, 9, 15)),
        ("Wed, 15 Mar 2023 10:00:00 GMT", date(2023, 3, 15)),  # RSS
        (datetime(2023, 3, 15, 10), date(2023, 3, 15)),
        (date(2023, 3, 15), date(2023, 3, 15)),
        ("", None),
        (None, None),
    ],
)
def test_publication_dates_in_the_shapes_corpora_write(value: object, expected: object) -> None:
    assert parse_published(value) == expected


@pytest.mark.parametrize("value", ["03/04/2023", "2023-02-30", "yesterday", "15 Marchember 2023"])
def test_a_date_that_could_be_misread_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="not a date"):
        parse_published(value)


def test_settings_carry_the_fields_format_and_run_date() -> None:
    settings = Settings(input_format="csv", input_fields={"text": ["body"]}, published="2024-05-01")
    assert settings.input_fields.text == ("body",)
    assert settings.input_fields.date == FIELDS.date
    assert settings.published == date(2024, 5, 1)


# --------------------------------------------------------------------------- Parquet

needs_pyarrow = pytest.mark.skipif(
    not parquet_available(),
    reason="pyarrow is not installed (pip install 'extractor[parquet]'); it is not in the "
    "test extra, being a 55 MB wheel",
)


@needs_pyarrow
def test_parquet_rows_in_batches_with_typed_dates(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "c.parquet"
    n = 150  # more than one batch
    table = pa.table(
        {
            "id": [f"r{i}" for i in range(n)],
            "published": [date(2024, 5, 1 + i % 28) for i in range(n)],
            "seen": [datetime(2024, 6, 1, 12) for _ in range(n)],
            "body": ["Minister A met Minister B."] * (n - 1) + [None],
            "unused": list(range(n)),
        }
    )
    pq.write_table(table, path)
    fields = InputFields(text=("body",))
    items = _read(path, fields=fields)
    good = _documents(items)
    assert len(good) == n - 1
    assert good[0].source == f"{path}#1"
    assert good[30].meta.published == date(2024, 5, 3)
    assert good[30].meta.input_id == "r30"
    assert _errors(items) == {f"{path}#{n}": f"EmptyInputError: {path}#{n}: field 'body' is empty"}
    (timestamped,) = _read(path, fields=InputFields(text=("body",), date=("seen",)))[:1]
    assert isinstance(timestamped, Document) and timestamped.meta.published == date(2024, 6, 1)


@needs_pyarrow
def test_a_file_that_is_not_parquet_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    path.write_bytes(b"not parquet at all")
    (item,) = _read(path)
    assert isinstance(item, BadRow)
    assert str(item.error).startswith(f"{path}: cannot read as Parquet")


def test_parquet_without_pyarrow_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import now fails, as when not installed
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    assert not parquet_available()
    with pytest.raises(ConfigurationError, match=r"pip install 'extractor\[parquet\]'"):
        _read(tmp_path / "c.parquet")
