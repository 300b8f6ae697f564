"""Reading input into a document.

Everything downstream (grounding offsets, stable ids, resolved dates) refers to
one exact string, so this module is the single place that turns bytes into
that string, and it refuses anything that is not plainly UTF-8 text with a
one-line reason instead of letting a PDF or a truncated file reach the model.
It also reads the wire dateline, because "on Thursday" only means something
once we know which day the report was filed, and a header block of metadata
(``read.header``), which it takes off the text the model sees.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from stat import S_ISBLK, S_ISCHR, S_ISDIR, S_ISFIFO, S_ISREG, S_ISSOCK

from extractor._exceptions import (
    BinaryInputError,
    EmptyInputError,
    EncodingError,
    InputNotFoundError,
    InputTooLargeError,
)
from extractor.read.dateline import Dateline, parse_dateline
from extractor.read.header import split_header
from extractor.read.metadata import NO_METADATA, Metadata
from extractor.read.webpage import extractor_name, looks_like_html, reduce_html

__all__ = [
    "NO_METADATA",
    "STDIN",
    "Dateline",
    "Document",
    "Metadata",
    "decode_text",
    "document_from_text",
    "parse_dateline",
    "read_bytes",
    "read_document",
    "with_run_date",
]

STDIN = "-"
_STDIN_SOURCE = "<stdin>"
_UTF8_BOM = b"\xef\xbb\xbf"


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
    meta: Metadata = NO_METADATA

    @property
    def id(self) -> str:
        """Short content id: the same text gets the same id wherever it came from."""
        return self.sha256[:16]

    @property
    def chars(self) -> int:
        """Length in characters, the unit of every offset."""
        return len(self.text)


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


def decode_text(data: bytes, source: str) -> str:
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


def document_from_text(text: str, source: str, *, meta: Metadata | None = None) -> Document:
    """A document from text already in memory (library callers, tests, corpus rows).

    A leading BOM character is dropped, as when reading a file, so the same
    article gets the same id and offsets however it arrives. Without ``meta``
    (a file, a text), a header block or front matter at the top of plain text
    becomes the metadata and is taken off the text: the model sees the
    article, and every offset refers to it. With ``meta`` (a corpus row,
    whose metadata came beside the text) the text is taken as it is.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise EmptyInputError(f"{source}: input is empty")
    content_type, text_extractor, published = "text", None, None
    if looks_like_html(text):
        text, published = reduce_html(text, source)
        content_type, text_extractor = "html", extractor_name()
    elif meta is None and (header := split_header(text, source)) is not None:
        text = text[header.body_start :]
        meta = replace(header.meta, body_start=header.body_start)
    # A dateline without a year takes the one nearest the metadata's date.
    dateline = parse_dateline(text, published=(meta.published if meta else None) or published)
    if published and dateline is None:
        dateline = Dateline(published, None, None, 0, 0)
    elif published and dateline and dateline.date is None:
        dateline = replace(dateline, date=published)
    digest = hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()
    return Document(
        text=text,
        source=source,
        sha256=digest,
        dateline=dateline,
        content_type=content_type,
        text_extractor=text_extractor,
        meta=meta or NO_METADATA,
    )


def with_run_date(document: Document, published: date | None) -> Document:
    """The document with the run's publication date (``--date``) where it has none of its own.

    A row's or a header's date is the article's own and wins; the run's date
    is what a user knows of a whole folder ("all from 12 April").
    """
    if published is None or document.meta.published is not None:
        return document
    dateline = document.dateline
    if dateline is not None and dateline.date is None:  # "MOSCOW, March 17": the run's year
        dateline = parse_dateline(document.text, published=published)
    return replace(document, dateline=dateline, meta=replace(document.meta, published=published))


def read_document(path: str | Path, *, max_bytes: int) -> Document:
    """Read a file (or stdin for ``"-"``) into a document, or say why it cannot be one."""
    source, data = read_bytes(path, max_bytes=max_bytes)
    return document_from_text(decode_text(data, source), source)


def read_bytes(path: str | Path, *, max_bytes: int) -> tuple[str, bytes]:
    """A file's (or stdin's, for ``"-"``) name as sources say it, and its bytes, capped.

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
        return source, data

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
    return source, data


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
