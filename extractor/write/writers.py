"""Serialising results: one JSON document, JSON Lines for streams of any size, or CSV.

CSV flattens each meeting and status claim to one row (participants by name,
evidence quotes and their offsets joined), for spreadsheets and quick joins;
JSON keeps everything.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Literal, get_args

from extractor.schemas import ErrorRecord, Evidence, Result

Format = Literal["json", "jsonl", "csv"]
FORMATS: tuple[str, ...] = get_args(Format)

CSV_COLUMNS = (
    "source", "document_id", "record", "id", "status", "date", "place", "participants",
    "subject", "subject_code", "organisation", "stance", "from_status", "claimant",
    "topics", "outcomes", "quotes", "offsets", "error",
)  # fmt: skip


def jsonl_line(result: Result) -> str:
    """One compact line per document, so a long run can be followed, split and resumed."""
    return result.model_dump_json() + "\n"  # pydantic's own serialiser: UTF-8, one line


def json_document(results: list[Result], *, single: bool) -> str:
    """Pretty JSON: the object itself for one input, an array for several."""
    dumped = [r.model_dump(mode="json") for r in results]
    return json.dumps(dumped[0] if single else dumped, indent=2, ensure_ascii=False) + "\n"


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


def _row(**values: object) -> tuple[str, ...]:
    return tuple(str(values.get(column, "")) for column in CSV_COLUMNS)


def _csv_line(values: tuple[str, ...]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()
