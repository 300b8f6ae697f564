"""Tests for extractor.write: JSON, JSON Lines and CSV output, a writer per format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractor import ErrorRecord, Extraction, Settings, extract
from extractor.write import json_document, jsonl_line

from .conftest import CASSETTES, SEED

NON_ASCII = "Пекин 北京 São Paulo «Zhang Ming» — café"


@pytest.fixture
def seed_extraction() -> Extraction:
    """The seed replayed; per test, so the cleaned environment applies to its settings."""
    settings = Settings(mode="replay", cassette_dir=CASSETTES, cache=False)
    return extract(SEED.read_text(encoding="utf-8"), settings=settings, source=str(SEED))


def _error(source: str = "a.txt", message: str = "a.txt: input is empty") -> ErrorRecord:
    return ErrorRecord(source=source, error_type="EmptyInputError", message=message)


def test_jsonl_line_is_one_line_of_valid_json(seed_extraction: Extraction) -> None:
    """A whole extraction becomes exactly one line, ending in a newline, that parses back."""
    line = jsonl_line(seed_extraction)
    assert line.endswith("\n")
    assert line.count("\n") == 1
    assert json.loads(line) == seed_extraction.model_dump(mode="json")
    assert Extraction.model_validate_json(line) == seed_extraction


def test_jsonl_line_escapes_newlines_inside_values() -> None:
    """A newline inside a message is escaped, so it cannot split the record across lines."""
    line = jsonl_line(_error(message="first line\nsecond line\r\nthird"))
    assert line.count("\n") == 1
    assert json.loads(line)["message"] == "first line\nsecond line\r\nthird"


def test_jsonl_line_keeps_non_ascii_as_is() -> None:
    """Cyrillic, CJK and accented text are written as themselves, not as ``\\u`` escapes."""
    line = jsonl_line(_error(source=f"{NON_ASCII}.txt", message=NON_ASCII))
    assert NON_ASCII in line
    assert "\\u" not in line
    record = json.loads(line)
    assert record["message"] == NON_ASCII
    assert record["kind"] == "error"


def test_json_document_single_is_the_object(seed_extraction: Extraction) -> None:
    """For one input the document is the result object itself, pretty-printed."""
    text = json_document([seed_extraction], single=True)
    data = json.loads(text)
    assert isinstance(data, dict)
    assert data["kind"] == "extraction"
    assert data == seed_extraction.model_dump(mode="json")
    assert text.endswith("}\n")
    assert "\n  " in text  # indented


def test_json_document_several_is_an_array_in_order(seed_extraction: Extraction) -> None:
    """For several inputs the document is an array, keeping the given order and error records."""
    error = _error()
    data = json.loads(json_document([error, seed_extraction], single=False))
    assert isinstance(data, list)
    assert [r["kind"] for r in data] == ["error", "extraction"]
    assert data[0] == error.model_dump(mode="json")


def test_json_document_not_single_is_an_array_even_for_one() -> None:
    """A batch that produced one result is still an array, so its shape does not depend on luck."""
    data = json.loads(json_document([_error()], single=False))
    assert isinstance(data, list) and len(data) == 1
    assert data[0]["error_type"] == "EmptyInputError"


def test_json_document_keeps_non_ascii_as_is() -> None:
    """Pretty JSON also writes non-ASCII text as itself."""
    text = json_document([_error(message=NON_ASCII)], single=True)
    assert NON_ASCII in text
    assert "\\u" not in text


def test_csv_has_a_row_per_record_and_parses_back(seed_path: Path) -> None:
    """The seed gives 3 meeting rows and 4 claim rows, with offsets that slice the text."""
    import csv
    import io

    from extractor import Settings, extract, read_document
    from extractor.write import CSV_COLUMNS, csv_header, csv_rows

    from .conftest import CASSETTES

    document = read_document(seed_path, max_bytes=10**6)
    result = extract(document, settings=Settings(mode="replay", cassette_dir=CASSETTES))
    rows = list(csv.DictReader(io.StringIO(csv_header() + csv_rows(result))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["record"] for r in rows].count("meeting") == 3
    assert [r["record"] for r in rows].count("status_claim") == 4
    for row in rows:
        quotes = row["quotes"].split(" | ")
        for quote, span in zip(quotes, row["offsets"].split(";"), strict=True):
            start, end = map(int, span.split("-"))
            assert document.text[start:end] == quote


def test_csv_error_row() -> None:
    """An error record is one row saying why."""
    from extractor.schemas import ErrorRecord
    from extractor.write import csv_rows

    row = csv_rows(ErrorRecord(source="a.txt", error_type="EmptyInputError", message="empty"))
    assert row.startswith("a.txt,,error,") and row.rstrip().endswith("empty")


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_every_format_is_a_writer_fed_as_documents_finish(
    fmt: str, seed_extraction: Extraction
) -> None:
    """Results arriving out of order come out whole; JSON restores the input order."""
    import io

    from extractor.write import FORMATS, WRITERS

    assert set(FORMATS) == set(WRITERS)
    out = io.StringIO()
    writer = WRITERS[fmt](out, single=False)
    writer.start(appending=False)
    writer.write(1, _error("b.txt", "b.txt: input is empty"))
    writer.write(0, seed_extraction)
    writer.finish()
    text = out.getvalue()
    if fmt == "json":
        assert [r["kind"] for r in json.loads(text)] == ["extraction", "error"]
    elif fmt == "jsonl":
        assert [json.loads(line)["kind"] for line in text.splitlines()] == ["error", "extraction"]
    else:
        assert text.splitlines()[0].startswith("source,") and "b.txt" in text


def test_a_resumed_csv_gets_no_second_header(seed_extraction: Extraction) -> None:
    """Appending to a kept CSV writes rows only."""
    import io

    from extractor.write import WRITERS

    out = io.StringIO()
    writer = WRITERS["csv"](out, single=False)
    writer.start(appending=True)
    writer.write(0, seed_extraction)
    assert not out.getvalue().startswith("source,")


@pytest.mark.parametrize(
    "cell",
    ['=HYPERLINK("http://evil.example","click")', "+1+2", "-2+3", "@SUM(A1)", "\t=1", "  =1"],
)
def test_csv_cells_a_spreadsheet_would_evaluate_are_escaped(
    seed_extraction: Extraction, cell: str
) -> None:
    """A quote, place or source starting like a formula is written with a leading quote."""
    import csv
    import io

    from extractor.schemas import ErrorRecord
    from extractor.write import csv_header, csv_rows

    meeting = seed_extraction.meetings[0]
    evidence = [meeting.evidence[0].model_copy(update={"quote": cell}), *meeting.evidence[1:]]
    hostile = seed_extraction.model_copy(
        update={
            "document": seed_extraction.document.model_copy(update={"source": cell}),
            "meetings": [meeting.model_copy(update={"place": cell, "evidence": evidence})],
        }
    )
    error = ErrorRecord(source=cell, error_type="InputError", message=cell)
    text = csv_header() + csv_rows(hostile) + csv_rows(error)
    rows = list(csv.DictReader(io.StringIO(text)))
    cells = [rows[0]["source"], rows[0]["place"], rows[0]["quotes"].split(" | ")[0]]
    cells += [rows[-1]["source"], rows[-1]["error"]]
    assert cells == ["'" + cell] * 5
    assert all(
        not v.lstrip(" ").startswith(("=", "+", "-", "@", "\t")) for r in rows for v in r.values()
    )


def test_csv_leaves_ordinary_cells_alone(seed_extraction: Extraction) -> None:
    """Dates, offsets and text that only contain a sign keep their value."""
    import csv
    import io

    from extractor.write import csv_header, csv_rows

    rows = list(csv.DictReader(io.StringIO(csv_header() + csv_rows(seed_extraction))))
    assert rows[0]["date"] == "2022-07-14"
    assert not any(v.startswith("'") for r in rows for v in r.values())
