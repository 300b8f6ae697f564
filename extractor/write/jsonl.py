"""JSON Lines: one compact line per document, written as it finishes."""

from __future__ import annotations

from typing import IO

from extractor.schemas import Result


def jsonl_line(result: Result) -> str:
    """One compact line per document, so a long run can be followed, split and resumed."""
    return result.model_dump_json() + "\n"  # pydantic's own serialiser: UTF-8, one line


class JsonlWriter:
    """A line per document as it finishes: flat memory however large the run."""

    def __init__(self, out: IO[str], *, single: bool) -> None:
        self.out = out

    def start(self, *, appending: bool) -> None:
        pass

    def write(self, index: int, result: Result) -> None:
        self.out.write(jsonl_line(result))
        self.out.flush()

    def finish(self) -> None:
        pass
