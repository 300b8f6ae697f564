"""Tests for extractor.read.document: reading input and parsing the dateline."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import socket
import sys
from datetime import date
from pathlib import Path

import pytest

from extractor._exceptions import (
    BinaryInputError,
    EmptyInputError,
    EncodingError,
    InputError,
    InputNotFoundError,
    InputTooLargeError,
)
from extractor.read.document import (
    Document,
    document_from_text,
    read_document,
)

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_8703ce6526d76945.txt"
LIMIT = 1_000_000


class FakeStdin:
    """Stands in for ``sys.stdin``: only ``.buffer`` is read."""

    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def write(tmp_path: Path, data: bytes, name: str = "a.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- documents


def test_document_from_text() -> None:
    """A document keeps the text exactly and derives id, sha256, length and dateline."""
    text = "BEIJING, July 14 (Xinhua) -- A\r\nB\u00a0C"
    doc = document_from_text(text, "mem")
    assert doc.text == text
    assert doc.source == "mem"
    assert doc.sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert doc.id == doc.sha256[:16]
    assert doc.chars == len(text)
    assert doc.dateline is not None and doc.dateline.place == "Beijing"


def test_document_is_frozen() -> None:
    """Documents cannot be changed after they are made."""
    doc = document_from_text("some text", "mem")
    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.text = "other"  # type: ignore[misc]


def test_document_from_empty_text() -> None:
    """Whitespace-only text is refused as empty."""
    with pytest.raises(EmptyInputError, match="mem"):
        document_from_text(" \n\t ", "mem")


def test_read_seed() -> None:
    """The seed reads into a document whose hash is of its bytes and whose dateline is the gold."""
    doc = read_document(SEED, max_bytes=LIMIT)
    assert isinstance(doc, Document)
    assert doc.sha256 == hashlib.sha256(SEED.read_bytes()).hexdigest()
    assert doc.source == str(SEED)
    assert doc.dateline is not None and doc.dateline.date == date(2022, 7, 14)


def test_read_keeps_newlines_and_strips_bom(tmp_path: Path) -> None:
    """A UTF-8 BOM is dropped and CRLF newlines are kept as decoded."""
    path = write(tmp_path, b"\xef\xbb\xbfline one\r\nline two\r\n")
    doc = read_document(path, max_bytes=LIMIT)
    assert doc.text == "line one\r\nline two\r\n"
    assert doc.sha256 == hashlib.sha256(b"line one\r\nline two\r\n").hexdigest()


def test_read_accepts_str_path(tmp_path: Path) -> None:
    """A path given as a string reads the same as a Path."""
    path = write(tmp_path, "Москва и 北京".encode())
    assert read_document(str(path), max_bytes=LIMIT).text == "Москва и 北京"


def test_missing_file(tmp_path: Path) -> None:
    """A missing path raises InputNotFoundError naming it."""
    path = tmp_path / "nope.txt"
    with pytest.raises(InputNotFoundError, match=r"nope\.txt"):
        read_document(path, max_bytes=LIMIT)


def test_directory(tmp_path: Path) -> None:
    """A directory raises InputNotFoundError naming it."""
    with pytest.raises(InputNotFoundError, match="directory"):
        read_document(tmp_path, max_bytes=LIMIT)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_refused_without_opening_it(tmp_path: Path) -> None:
    """A FIFO is refused at once (opening it would wait for a writer forever)."""
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with pytest.raises(InputNotFoundError) as info:
        read_document(fifo, max_bytes=LIMIT)
    assert str(info.value) == f"{fifo}: not a regular file (FIFO)"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_character_device_is_refused() -> None:
    """A device such as /dev/zero, which would never end, is refused, not read."""
    with pytest.raises(
        InputNotFoundError, match=r"^/dev/zero: not a regular file \(character device\)$"
    ):
        read_document("/dev/zero", max_bytes=LIMIT)


def test_socket_is_refused(tmp_path: Path) -> None:
    """A Unix socket is refused with its kind named."""
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(InputNotFoundError, match=r"not a regular file \(socket\)"):
            read_document(path, max_bytes=LIMIT)


def test_a_fifo_swapped_in_after_the_stat_is_still_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What is opened is checked again, and the open does not block on a FIFO."""
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    regular = write(tmp_path, b"text")
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda path: real_stat(regular))  # the race: stat saw a file
    with pytest.raises(InputNotFoundError, match=r"not a regular file \(FIFO\)"):
        read_document(fifo, max_bytes=LIMIT)


def test_read_is_bounded_when_the_file_grows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file that grows after the stat is read no further than the limit plus one byte."""
    path = write(tmp_path, b"x" * 10)
    path.write_bytes(b"x" * 10_000)
    real_stat, real_fstat = os.stat, os.fstat

    def stale(status: os.stat_result) -> os.stat_result:  # the size the file had at first
        return os.stat_result((*status[:6], 10, *status[7:]))

    monkeypatch.setattr(os, "stat", lambda path: stale(real_stat(path)))
    monkeypatch.setattr(os, "fstat", lambda fd: stale(real_fstat(fd)))
    reads: list[int] = []
    real_fdopen = os.fdopen

    def counting_fdopen(fd: int, mode: str) -> object:
        handle = real_fdopen(fd, mode)
        real_read = handle.read

        def read(n: int = -1) -> bytes:
            data = real_read(n)
            reads.append(len(data))
            return data

        handle.read = read  # type: ignore[method-assign]
        return handle

    monkeypatch.setattr(os, "fdopen", counting_fdopen)
    with pytest.raises(InputTooLargeError, match="more than 100 bytes"):
        read_document(path, max_bytes=100)
    assert sum(reads) == 101


def test_too_large_file_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file over the limit raises InputTooLargeError with size, limit and the setting, unread."""
    path = write(tmp_path, b"x" * 101)

    def no_open(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file must not be opened")

    monkeypatch.setattr(Path, "open", no_open)
    with pytest.raises(InputTooLargeError) as info:
        read_document(path, max_bytes=100)
    message = str(info.value)
    assert str(path) in message
    assert "101" in message and "100" in message
    assert "EXTRACTOR_MAX_INPUT_BYTES" in message
    assert "\n" not in message


def test_file_at_the_limit_is_read(tmp_path: Path) -> None:
    """A file exactly at the limit is accepted."""
    path = write(tmp_path, b"x" * 100)
    assert read_document(path, max_bytes=100).chars == 100


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
        b"PK\x03\x04\x14\x00\x00\x00",
        b"\x89PNG\r\n\x1a\n\x00\x00",
        b"\x1f\x8b\x08\x00\x00\x00",
        b"some text\x00with a NUL",
    ],
)
def test_binary_input(tmp_path: Path, data: bytes) -> None:
    """Known binary formats and NUL bytes raise BinaryInputError naming the file."""
    path = write(tmp_path, data, "bin.dat")
    with pytest.raises(BinaryInputError, match=r"bin\.dat"):
        read_document(path, max_bytes=LIMIT)


def test_invalid_utf8_names_offset(tmp_path: Path) -> None:
    """Invalid UTF-8 raises EncodingError naming the byte offset."""
    path = write(tmp_path, b"caf\xe9 au lait", "latin1.txt")
    with pytest.raises(EncodingError, match=r"latin1\.txt.*offset 3"):
        read_document(path, max_bytes=LIMIT)


def test_invalid_utf8_offset_counts_bom(tmp_path: Path) -> None:
    """The reported offset is into the file, BOM included."""
    path = write(tmp_path, b"\xef\xbb\xbfab\xff")
    with pytest.raises(EncodingError, match="offset 5"):
        read_document(path, max_bytes=LIMIT)


def test_utf16_is_an_encoding_error(tmp_path: Path) -> None:
    """UTF-16 text is reported as the wrong encoding rather than as binary."""
    path = write(tmp_path, "hello".encode("utf-16"))
    with pytest.raises(EncodingError, match="UTF-16"):
        read_document(path, max_bytes=LIMIT)


@pytest.mark.parametrize("data", [b"", b"  \n\t\r\n ", b"\xef\xbb\xbf \n"])
def test_empty_input(tmp_path: Path, data: bytes) -> None:
    """Empty or whitespace-only files raise EmptyInputError naming the file."""
    path = write(tmp_path, data, "empty.txt")
    with pytest.raises(EmptyInputError, match=r"empty\.txt"):
        read_document(path, max_bytes=LIMIT)


def test_errors_are_input_errors(tmp_path: Path) -> None:
    """Every reading failure is an InputError, so callers can catch one family."""
    with pytest.raises(InputError):
        read_document(tmp_path / "missing", max_bytes=LIMIT)


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    """``-`` reads bytes from stdin."""
    monkeypatch.setattr(
        sys, "stdin", FakeStdin("BEIJING, July 14 (Xinhua) -- \u4e0a\u5408".encode())
    )
    doc = read_document("-", max_bytes=LIMIT)
    assert doc.text == "BEIJING, July 14 (Xinhua) -- \u4e0a\u5408"
    assert doc.source == "<stdin>"


def test_stdin_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stdin over the limit raises InputTooLargeError."""
    monkeypatch.setattr(sys, "stdin", FakeStdin(b"x" * 11))
    with pytest.raises(InputTooLargeError, match=r"stdin.*EXTRACTOR_MAX_INPUT_BYTES"):
        read_document("-", max_bytes=10)


def test_stdin_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    """Empty stdin raises EmptyInputError."""
    monkeypatch.setattr(sys, "stdin", FakeStdin(b""))
    with pytest.raises(EmptyInputError, match="stdin"):
        read_document("-", max_bytes=LIMIT)


def test_stdin_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Binary data on stdin raises BinaryInputError."""
    monkeypatch.setattr(sys, "stdin", FakeStdin(b"%PDF-1.4 ..."))
    with pytest.raises(BinaryInputError):
        read_document("-", max_bytes=LIMIT)
