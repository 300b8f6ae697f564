"""Pretty JSON: the object itself for one input, an array in input order for several."""

from __future__ import annotations

import json
from typing import IO

from extractor.schemas import ErrorRecord, Result


def json_document(results: list[Result], *, single: bool) -> str:
    """Pretty JSON: the object itself for one input, an array for several."""
    dumped = [r.model_dump(mode="json") for r in results]
    return json.dumps(dumped[0] if single else dumped, indent=2, ensure_ascii=False) + "\n"


class JsonWriter:
    """Holds the results until the end, then writes them in input order.

    A single input that failed writes nothing here: its error line on stderr
    and the exit code say it, and stdout stays empty rather than half a record.
    """

    def __init__(self, out: IO[str], *, single: bool) -> None:
        self.out, self.single = out, single
        self.results: list[tuple[int, Result]] = []

    def start(self, *, appending: bool) -> None:
        pass

    def write(self, index: int, result: Result) -> None:
        if not (self.single and isinstance(result, ErrorRecord)):
            self.results.append((index, result))

    def finish(self) -> None:
        if self.results:
            self.results.sort(key=lambda pair: pair[0])
            self.out.write(json_document([r for _, r in self.results], single=self.single))
