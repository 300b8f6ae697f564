"""What every output format is: a writer fed results as documents finish.

The CLI owns the file and the order documents finish in; a writer owns how
results look on the page. ``start`` is told whether the output already holds
earlier lines (a resumed run appends), ``write`` gets each result with its
input position, ``finish`` writes what only the end can (a JSON array).
"""

from __future__ import annotations

from typing import IO, Protocol

from extractor.schemas import Result


class Writer(Protocol):
    """One output format."""

    def __init__(self, out: IO[str], *, single: bool) -> None:
        """``single``: the run has one input, so JSON gives the object itself, not an array."""

    def start(self, *, appending: bool) -> None:
        """Before the first result; ``appending`` when earlier lines are kept (resume)."""

    def write(self, index: int, result: Result) -> None:
        """One document's result; ``index`` is its place among the inputs."""

    def finish(self) -> None:
        """After the last result."""
