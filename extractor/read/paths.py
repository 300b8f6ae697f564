"""What the PATH arguments of a command stand for: files, directories and globs.

``extract`` and ``batch submit`` read their inputs alike, so that a batch run
registers exactly the documents a live run over the same arguments would
extract; both take their list of inputs from here.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator
from pathlib import Path

from extractor.read.corpus import SUFFIXES_OF, format_of, iter_documents
from extractor.read.document import Document
from extractor.settings import Settings

__all__ = ["counted_inputs", "directory_suffixes", "expand_paths"]

_TEXT_SUFFIXES = (".txt", ".text", ".md", ".html", ".htm")


def directory_suffixes(input_format: str) -> set[str]:
    """What a directory stands for: text files, or with ``--input-format F`` the files of F
    (a folder of news-please's one-JSON-per-article output with ``--input-format json``)."""
    return set(SUFFIXES_OF.get(input_format, _TEXT_SUFFIXES))


def expand_paths(args: list[str], input_format: str = "auto") -> list[str]:
    """Files named, files under directories (text-like suffixes), and glob matches.

    A name that is none of these stays in its place, to be reported as missing
    where its result would have been.
    """
    found: list[str] = []
    suffixes = directory_suffixes(input_format)
    for arg in args:
        path = Path(arg)
        if arg == "-" or path.is_file():
            found.append(arg)
        elif path.is_dir():
            found += sorted(
                str(p) for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes
            )
        elif any(ch in arg for ch in "*?[") and (matches := sorted(glob.glob(arg, recursive=True))):
            found += [m for m in matches if Path(m).is_file()]
        else:
            found.append(arg)
    return found


def counted_inputs(files: list[str], settings: Settings) -> Iterator[str | Document]:
    """What a run would read, for ``--dry-run``: article files as paths, table files as rows
    (a row that cannot be read is left out: it costs no request)."""
    for name in files:
        fmt = format_of(name, settings.input_format)
        if fmt == "text":
            yield name
            continue
        for row in iter_documents(
            name, fmt, settings.input_fields, max_bytes=settings.max_input_bytes
        ):
            if isinstance(row, Document):
                yield row
