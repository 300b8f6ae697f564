"""CSV: a row per meeting and per status claim, for spreadsheets and quick joins.

Participants by name, evidence quotes and their offsets joined; JSON keeps
everything. Every cell is text from an article a stranger wrote, so a cell a
spreadsheet would run as a formula (one starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return, also after leading spaces) gets a leading
``'``, as OWASP advises for CSV exports: "=HYPERLINK(...)" is shown, never
followed. Readers that parse the file as data see the quote; JSON and JSONL
keep every value as it was.
"""

from __future__ import annotations

import csv
import io
from typing import IO

from extractor.schemas import ErrorRecord, Evidence, Result

CSV_COLUMNS = (
    "source", "document_id", "record", "id", "status", "date", "place", "participants",
    "subject", "subject_code", "organisation", "stance", "from_status", "claimant",
    "topics", "outcomes", "quotes", "offsets", "error",
)  # fmt: skip


def csv_header() -> str:
    return _csv_line(CSV_COLUMNS)


def csv_rows(result: Result) -> str:
    """Rows for one document: a row per meeting and per claim, or one error row."""
    if isinstance(result, ErrorRecord):
        return _csv_line(_row(source=result.source, record="error", error=result.message))
    doc = result.document
    names = {p.id: p.name or p.title or p.id for p in result.participants}
    lines = []
    for m in result.meetings:
        lines.append(_row(
            source=doc.source, document_id=doc.id, record="meeting", id=m.id, status=m.status,
            date=m.date.isoformat() if m.date else "", place=m.place or "",
            participants="; ".join(names[p] for p in m.participants),
            topics="; ".join(m.topics), outcomes="; ".join(m.outcomes),
            **_evidence(m.evidence),
        ))  # fmt: skip
    for c in result.status_claims:
        lines.append(_row(
            source=doc.source, document_id=doc.id, record="status_claim", id=c.id,
            status=c.status, subject=c.subject, subject_code=c.subject_code or "",
            organisation=c.organisation.short or c.organisation.full, stance=c.stance,
            from_status=c.from_status or "", claimant=names.get(c.claimant or "", ""),
            **_evidence(c.evidence),
        ))  # fmt: skip
    return "".join(_csv_line(line) for line in lines)


def _evidence(evidence: list[Evidence]) -> dict[str, str]:
    return {
        "quotes": " | ".join(e.quote for e in evidence),
        "offsets": ";".join(f"{e.start}-{e.end}" for e in evidence),
    }


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: str) -> str:
    """The cell as text a spreadsheet shows and never evaluates."""
    return "'" + cell if cell.lstrip(" ").startswith(_FORMULA_START) else cell


def _row(**values: object) -> tuple[str, ...]:
    return tuple(spreadsheet_safe(str(values.get(column, ""))) for column in CSV_COLUMNS)


def _csv_line(values: tuple[str, ...]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


class CsvWriter:
    """A header, then the rows of each document as it finishes."""

    def __init__(self, out: IO[str], *, single: bool) -> None:
        self.out = out

    def start(self, *, appending: bool) -> None:
        if not appending:  # a resumed file has its header already
            self.out.write(csv_header())

    def write(self, index: int, result: Result) -> None:
        self.out.write(csv_rows(result))
        self.out.flush()

    def finish(self) -> None:
        pass
