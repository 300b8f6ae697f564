"""Corpora with metadata: one article per row of a JSONL, CSV, TSV or Parquet file, or scraper JSON.

Real corpora come as tables with the date, URL, outlet and title beside the
text; this module turns each row into a ``Document`` whose ``meta`` holds
them. Rows stream: a JSONL or CSV file is read a line or record at a time,
Parquet a batch of rows at a time, so a million-row corpus never sits in
memory. A row that cannot be an article (no text, a date that is no date, a
line that is not JSON) becomes a ``BadRow`` for that row alone, and the rows
after it go on; only a file that cannot be read at all ends its rows.

Each row's ``source`` is ``FILE#N``: N counts from 1, the line number in a
JSONL file, the record after the header in CSV and TSV, the row in Parquet,
the element of a JSON array. That name is what resume and error records go
by, so a rerun skips the rows already done. A ``.json`` file holding one
object (what news-please and trafilatura write, one file per article) is one
document named by the file itself.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from extractor._exceptions import (
    BinaryInputError,
    ConfigurationError,
    EmptyInputError,
    EncodingError,
    InputError,
    InputNotFoundError,
    InputTooLargeError,
    MetadataError,
)
from extractor.read.document import (
    STDIN,
    Document,
    decode_text,
    document_from_text,
    read_bytes,
)
from extractor.read.metadata import Metadata, looks_like_url, parse_published
from extractor.settings import InputFields, InputFormat

__all__ = [
    "PARQUET_MISSING",
    "TABLE_FORMATS",
    "BadRow",
    "RowFormat",
    "format_of",
    "iter_documents",
    "parquet_available",
    "row_document",
]

RowFormat = Literal["jsonl", "csv", "tsv", "json", "parquet"]
TABLE_FORMATS: tuple[RowFormat, ...] = ("jsonl", "csv", "tsv", "json", "parquet")
_SUFFIXES: dict[str, RowFormat] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".json": "json",
    ".parquet": "parquet",
}
SUFFIXES_OF: dict[str, tuple[str, ...]] = {
    fmt: tuple(s for s, f in _SUFFIXES.items() if f == fmt) for fmt in TABLE_FORMATS
}
PARQUET_MISSING = "Parquet input needs pyarrow: pip install 'extractor[parquet]'"
_PARQUET_BATCH = 64
_NOT_ARTICLE_SHAPED = (list, dict)


@dataclass(frozen=True)
class BadRow:
    """A row (or a whole file) that cannot be an article: what goes in its error record."""

    source: str
    error: Exception


def format_of(path: str | Path, override: InputFormat = "auto") -> Literal["text"] | RowFormat:
    """How an input is read: the override, else by extension; stdin and others are one article."""
    if override != "auto":
        return override
    if str(path) == STDIN:
        return "text"
    return _SUFFIXES.get(Path(path).suffix.lower(), "text")


def parquet_available() -> bool:
    """Whether pyarrow (the extra ``parquet``) is installed."""
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


def iter_documents(
    path: str | Path, fmt: RowFormat, fields: InputFields, *, max_bytes: int
) -> Generator[Document | BadRow, None, None]:
    """Every row of a table file as a document, or as the reason it is not one, lazily.

    ``max_bytes`` caps each row's text (and a JSONL line), as it caps a file;
    a ``.json`` file is read whole, so it is capped as one file. A file that
    cannot be opened or stops being readable ends in one ``BadRow`` named
    after the file (or the row where it broke). Parquet without pyarrow
    raises ``ConfigurationError``: every Parquet file would fail alike.
    """
    source = str(path)
    if source == STDIN:
        yield BadRow(
            "<stdin>", InputNotFoundError(f"<stdin>: {fmt} rows are read from a file, not stdin")
        )
        return
    rows: Iterator[tuple[str, Mapping[str, Any] | BadRow]]
    if fmt == "jsonl":
        rows = _jsonl_rows(source, max_bytes)
    elif fmt in ("csv", "tsv"):
        rows = _csv_rows(source, "\t" if fmt == "tsv" else ",", max_bytes)
    elif fmt == "json":
        rows = _json_rows(source, max_bytes)
    else:
        rows = _parquet_rows(source, fields)
    empty = True
    for row_source, values in rows:
        empty = False
        if isinstance(values, BadRow):
            yield values
            continue
        try:
            yield row_document(values, row_source, fields, max_bytes=max_bytes)
        except InputError as exc:
            yield BadRow(row_source, exc)
        except Exception as exc:  # a bug must cost one row, not the corpus
            yield BadRow(row_source, exc)
    if empty:
        yield BadRow(source, EmptyInputError(f"{source}: no rows"))


def row_document(
    values: Mapping[str, Any], source: str, fields: InputFields, *, max_bytes: int
) -> Document:
    """One row as a document: its text field the text, the other fields its ``meta``.

    Raises ``InputError`` (its message starting with ``source``) for a row
    without text, with text that is no text, or with a date that is no date.
    """
    text_key, text = _text(values, source, fields.text)
    if not isinstance(text, str):
        raise MetadataError(f"{source}: field {text_key!r} is {_kind(text)}, not text")
    if "\x00" in text:
        raise BinaryInputError(f"{source}: field {text_key!r} contains a NUL character; not text")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise EncodingError(
            f"{source}: field {text_key!r} holds a lone surrogate (broken \\u escape); not text"
        ) from None
    if size > max_bytes:
        raise InputTooLargeError(
            f"{source}: text is {size} bytes, over the limit of {max_bytes} bytes "
            "(set EXTRACTOR_MAX_INPUT_BYTES to raise it)"
        )
    date_key, raw_date = _first(values, fields.date)
    try:
        published = parse_published(raw_date)
    except ValueError as exc:
        raise MetadataError(f"{source}: field {date_key!r}: {exc}") from None
    meta = Metadata(
        input_id=_string(values, fields.id),
        url=_string(values, fields.url, url=True),
        title=_string(values, fields.title),
        outlet=_string(values, fields.outlet, url=False),
        language=_string(values, fields.language),
        published=published,
        body=True,
    )
    return document_from_text(text, source, meta=meta)


# --------------------------------------------------------------------------- fields


def _text(values: Mapping[str, Any], source: str, names: tuple[str, ...]) -> tuple[str, Any]:
    """The first named field with text in it; an empty one only when no other has any."""
    present = [name for name in names if name in values]
    if not present:
        have = ", ".join(repr(k) for k in list(values)[:12]) or "none"
        raise MetadataError(
            f"{source}: no text field (looked for {', '.join(names)}; the row has {have}); "
            "name it with --text-field"
        )
    for name in present:
        value = values[name]
        if not (value is None or (isinstance(value, str) and not value.strip())):
            return name, value
    raise EmptyInputError(f"{source}: field {present[0]!r} is empty")


def _first(values: Mapping[str, Any], names: tuple[str, ...]) -> tuple[str, Any]:
    """The first named field with a value, or the first name and None."""
    for name in names:
        value = values.get(name)
        if value is not None and value != "":
            return name, value
    return (names[0] if names else ""), None


def _string(
    values: Mapping[str, Any], names: tuple[str, ...], *, url: bool | None = None
) -> str | None:
    """The first named field with a value, as text; None when none has one.

    Among several names, ``source`` is a URL only when it looks like one and an
    outlet only when it does not: trafilatura's JSON names its URL ``source``,
    many corpora name their outlet so.
    """
    for name in names:
        value = values.get(name)
        if value is None or isinstance(value, _NOT_ARTICLE_SHAPED):
            continue
        text = str(value).strip()
        if not text:
            continue
        if url is not None and name == "source" and len(names) > 1 and looks_like_url(text) != url:
            continue
        return text
    return None


def _kind(value: object) -> str:
    return {list: "a list", dict: "an object", bool: "a boolean"}.get(type(value), "a number")


# --------------------------------------------------------------------------- formats

_Rows = Iterator[tuple[str, Mapping[str, Any] | BadRow]]


def _open_error(source: str, exc: OSError) -> BadRow:
    if isinstance(exc, FileNotFoundError):
        return BadRow(source, InputNotFoundError(f"{source}: no such file"))
    if isinstance(exc, IsADirectoryError):
        return BadRow(source, InputNotFoundError(f"{source}: is a directory, not a file"))
    return BadRow(source, InputNotFoundError(f"{source}: cannot read ({exc.strerror or exc})"))


def _jsonl_rows(source: str, max_bytes: int) -> _Rows:
    """One row per non-blank line; a line is read up to ``max_bytes``, the rest skipped."""
    try:
        handle: IO[bytes] = open(source, "rb")  # noqa: SIM115 - closed below, across yields
    except OSError as exc:
        yield source, _open_error(source, exc)
        return
    with handle:
        number = 0
        while line := handle.readline(max_bytes + 1):
            number += 1
            row = f"{source}#{number}"
            if len(line) > max_bytes and not line.endswith(b"\n"):
                while (rest := handle.readline(1 << 20)) and not rest.endswith(b"\n"):
                    pass  # the rest of an over-long line, read and dropped in bounded pieces
                yield row, BadRow(row, _too_large(row, max_bytes))
                continue
            if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            if not line.strip():
                continue
            try:
                values = json.loads(line)
            except UnicodeDecodeError as exc:
                yield row, BadRow(row, EncodingError(f"{row}: line is not valid UTF-8 ({exc})"))
                continue
            except ValueError as exc:
                yield row, BadRow(row, MetadataError(f"{row}: line is not JSON ({exc})"))
                continue
            yield row, _as_row(values, row)


def _too_large(source: str, max_bytes: int) -> InputTooLargeError:
    return InputTooLargeError(
        f"{source}: row is more than {max_bytes} bytes, over the limit "
        "(set EXTRACTOR_MAX_INPUT_BYTES to raise it)"
    )


def _as_row(values: object, source: str) -> Mapping[str, Any] | BadRow:
    if isinstance(values, dict):
        return values
    return BadRow(
        source, MetadataError(f"{source}: row is {_json_kind(values)}, not a JSON object")
    )


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, str):
        return "a JSON string"
    return "a JSON " + ("null" if value is None else type(value).__name__)


def _csv_rows(source: str, delimiter: str, max_bytes: int) -> _Rows:
    """One row per record after the header line; column names are the field names.

    The file is decoded a line at a time, so the rows before a line that is
    not UTF-8 are still articles; reading stops at that line.
    """
    # Article texts are longer than the csv module's default cap of 128 KiB per field;
    # the row's text is still capped by max_bytes in row_document.
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))
    try:
        handle: IO[bytes] = open(source, "rb")  # noqa: SIM115 - closed below, across yields
    except OSError as exc:
        yield source, _open_error(source, exc)
        return
    with handle:
        reader = csv.DictReader(_text_lines(handle, 2 * max_bytes + (1 << 16)), delimiter=delimiter)
        number = 0
        try:
            for record in reader:
                number += 1
                row = f"{source}#{number}"
                yield row, {k: v for k, v in record.items() if k is not None}
        except (UnicodeDecodeError, InputTooLargeError, csv.Error) as exc:
            where = f"{source}#{number + 1}"
            cls: type[InputError] = InputError
            if isinstance(exc, UnicodeDecodeError):
                cls, what = EncodingError, f"not valid UTF-8 ({exc.reason})"
            elif isinstance(exc, InputTooLargeError):
                cls, what = InputTooLargeError, f"a line is over {exc} (EXTRACTOR_MAX_INPUT_BYTES)"
            else:
                what = f"not a CSV record ({exc})"
            yield where, BadRow(where, cls(f"{where}: {what}; rows after it not read"))


def _text_lines(handle: IO[bytes], limit: int) -> Iterator[str]:
    """The file's lines decoded one by one (a BOM dropped), each at most ``limit`` bytes."""
    first = True
    while line := handle.readline(limit + 1):
        if len(line) > limit:
            raise InputTooLargeError(f"{limit} bytes")
        yield line.decode("utf-8-sig" if first else "utf-8")
        first = False


def _json_rows(source: str, max_bytes: int) -> _Rows:
    """A ``.json`` file: one object is one article (named by the file), an array is rows."""
    try:
        name, data = read_bytes(source, max_bytes=max_bytes)
        text = decode_text(data, name)
        values = json.loads(text)
    except InputTooLargeError as exc:
        yield (
            source,
            BadRow(
                source,
                InputTooLargeError(f"{exc}; a large corpus streams as JSONL (one object a line)"),
            ),
        )
        return
    except InputError as exc:
        yield source, BadRow(source, exc)
        return
    except ValueError as exc:
        yield source, BadRow(source, MetadataError(f"{source}: not JSON ({exc})"))
        return
    if isinstance(values, dict):
        yield source, values
    elif isinstance(values, list):
        for number, item in enumerate(values, 1):
            row = f"{source}#{number}"
            yield row, _as_row(item, row)
    else:
        yield source, _as_row(values, source)


def _parquet_rows(source: str, fields: InputFields) -> _Rows:
    """Rows of a Parquet file, a batch at a time, only the columns some field names."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigurationError(PARQUET_MISSING) from None
    if not Path(source).is_file():
        yield source, BadRow(source, InputNotFoundError(f"{source}: no such file"))
        return
    wanted = {name for names in fields.model_dump().values() for name in names}
    number = 0
    try:
        parquet = pq.ParquetFile(source)
        columns = [c for c in parquet.schema_arrow.names if c in wanted]
        for batch in parquet.iter_batches(batch_size=_PARQUET_BATCH, columns=columns):
            for values in batch.to_pylist():
                number += 1
                yield f"{source}#{number}", values
    except (OSError, ValueError, pa.ArrowException) as exc:
        where = source if number == 0 else f"{source}#{number + 1}"
        yield where, BadRow(where, MetadataError(f"{where}: cannot read as Parquet ({exc})"))
