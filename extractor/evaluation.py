"""Running the pipeline over a gold directory and reporting the scores.

Used by ``extractor eval`` and by the regression test that holds the committed
baseline, so both read the same gold, run the same pipeline and print the same
table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from extractor._exceptions import ConfigurationError
from extractor.batch import iter_results
from extractor.model.client import ModelClient
from extractor.read.corpus import format_of, iter_documents
from extractor.read.document import Document
from extractor.schemas import ErrorRecord, Extraction, Gold
from extractor.scoring import FIELDS, RECORD_TYPES, Score, score, total
from extractor.settings import Settings


@dataclass(frozen=True)
class GoldCase:
    """One annotated article: its gold and where its text is."""

    name: str
    gold: Gold
    document: Path
    row: str | None = None
    """For a table file of rows: the id (``input_id``) of the row the gold is for."""


@dataclass
class Report:
    """Scores per article and overall, and the articles that failed to run."""

    articles: list[Score]
    errors: list[ErrorRecord] = field(default_factory=list)

    @property
    def overall(self) -> Score:
        return total(self.articles)

    def as_dict(self) -> dict[str, object]:
        return {
            "overall": self.overall.as_dict(),
            "articles": [s.as_dict() for s in self.articles],
            "errors": [e.model_dump(mode="json") for e in self.errors],
        }


def load_gold(directory: Path) -> list[GoldCase]:
    """Every ``*.json`` gold file in the directory, validated."""
    paths = sorted(Path(directory).glob("*.json"))
    if not paths:
        raise ConfigurationError(f"no gold files (*.json) in {directory}")
    cases = []
    for path in paths:
        try:
            gold = Gold.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            first = str(exc).splitlines()[:3]
            raise ConfigurationError(f"invalid gold file {path}: {' '.join(first)}") from None
        cases.append(GoldCase(path.stem, gold, (path.parent / gold.document).resolve(), gold.row))
    return cases


def _inputs(cases: list[GoldCase], settings: Settings) -> list[Path | Document]:
    """What each case runs on, in case order: its file, or its row of a table file.

    A case names its row by id, so one table file holds several cases; each row
    is read here (the file once), so the run's index is still the case's.
    """
    rows: dict[Path, dict[str, Document]] = {}
    inputs: list[Path | Document] = []
    for case in cases:
        if case.row is None:
            inputs.append(case.document)
            continue
        if case.document not in rows:
            rows[case.document] = _rows_by_id(case.document, settings)
        found = rows[case.document].get(case.row)
        if found is None:
            raise ConfigurationError(
                f"gold {case.name}: no row with id {case.row!r} in {case.document}"
            )
        inputs.append(found)
    return inputs


def _rows_by_id(path: Path, settings: Settings) -> dict[str, Document]:
    fmt = format_of(path, settings.input_format)
    if fmt == "text":
        raise ConfigurationError(f"{path}: a gold 'row' needs a table file (JSONL, CSV, ...)")
    found: dict[str, Document] = {}
    for item in iter_documents(
        path, fmt, settings.input_fields, max_bytes=settings.max_input_bytes
    ):
        if isinstance(item, Document) and item.meta.input_id is not None:
            found.setdefault(item.meta.input_id, item)
    return found


async def evaluate(cases: list[GoldCase], settings: Settings, concurrency: int = 4) -> Report:
    """Extract every gold article and score it; a failed article scores as nothing found."""
    scores: dict[int, Score] = {}
    errors: list[ErrorRecord] = []
    async with ModelClient(settings) as client:
        inputs = _inputs(cases, settings)
        async for index, result in iter_results(inputs, client, concurrency=concurrency):
            case = cases[index]
            if not isinstance(result, Extraction):
                errors.append(result or _skipped(case))
                result = _empty(case, settings)
            scores[index] = score(result, case.gold, case.name)
    return Report(articles=[scores[i] for i in sorted(scores)], errors=errors)


def _skipped(case: GoldCase) -> ErrorRecord:
    return ErrorRecord(source=str(case.document), error_type="Skipped", message="not run")


def _empty(case: GoldCase, settings: Settings) -> Extraction:
    return Extraction.model_validate(
        {
            "document": {
                "id": "",
                "source": str(case.document),
                "sha256": "",
                "chars": 0,
                "dateline_date": None,
                "dateline_place": None,
                "outlet": None,
            },
            "run": {
                "model": settings.model,
                "prompt_version": "",
                "mode": settings.mode,
                "attempts": 0,
                "usage": {},
            },
            "participants": [],
            "meetings": [],
            "status_claims": [],
        }
    )


def _prf(s: Score, kind: str) -> str:
    r = s.records[kind]
    return f"{r.precision:4.2f} {r.recall:4.2f} {r.f1:4.2f}"


def format_table(report: Report) -> str:
    """A plain-text table: one row per article, then overall, then per-field scores."""
    width = max([len(s.name) for s in report.articles] + [7])
    head = f"{'article':<{width}}  {'meetings P/R/F1':<15}  {'particip. P/R/F1':<16}  "
    head += f"{'claims P/R/F1':<15}  grounded  dropped  nulled  quotes cut"
    lines = [head, "-" * len(head)]
    for s in [*report.articles, report.overall]:
        if s is report.overall:
            lines.append("-" * len(head))
        lines.append(
            f"{s.name:<{width}}  {_prf(s, 'meetings'):<15}  {_prf(s, 'participants'):<16}  "
            f"{_prf(s, 'status_claims'):<15}  {s.grounding_rate:8.1%}  {s.records_dropped:7d}  "
            f"{s.fields_nulled:6d}  {s.quotes_dropped:10d}"
        )
    overall = report.overall
    lines += ["", f"{'field':<16}  precision  recall    f1"]
    for key in FIELDS:
        f = overall.fields[key]
        lines.append(f"{key:<16}  {f.precision:9.2f}  {f.recall:6.2f}  {f.f1:4.2f}")
    for error in report.errors:
        lines.append(f"error: {error.source}: {error.message}")
    return "\n".join(lines)


def shortfalls(report: Report, min_f1: float | None) -> list[str]:
    """Per-type overall F1 below the threshold, as readable lines."""
    if min_f1 is None:
        return []
    overall = report.overall
    return [
        f"{kind} F1 {overall.records[kind].f1:.3f} is below {min_f1}"
        for kind in RECORD_TYPES
        if overall.records[kind].f1 < min_f1
    ]


def write_json(report: Report, path: Path) -> None:
    path.write_text(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n", "utf-8")
