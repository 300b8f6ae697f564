"""The corpus, replayed from its fixtures, must score at or above the committed baseline."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from extractor import ConfigurationError, Settings
from extractor.evaluation import Report, _inputs, evaluate, format_table, load_gold, shortfalls
from extractor.read.document import Document, read_document
from extractor.scoring import FIELDS, RECORD_TYPES

from .conftest import AUTHORED, CASSETTES, GOLD, ROOT

BASELINE = ROOT / "fixtures" / "eval_baseline.json"
MARGIN = 0.005
"""How far below the committed figures an F1 may fall: less than one record of the corpus."""
ROWS = ROOT / "fixtures" / "corpus" / "016_rows.jsonl"


@pytest.fixture(scope="module")
def report() -> Report:
    settings = Settings(mode="replay", cassette_dir=CASSETTES)
    return asyncio.run(evaluate(load_gold(GOLD), settings))


def test_corpus_is_large_enough() -> None:
    """At least 24 annotated articles besides the seed, each with fixtures."""
    cases = load_gold(GOLD)
    assert len(cases) >= 25
    for case in cases:
        assert case.document.is_file(), case.document
        if case.name != "000_8703ce6526d76945":
            assert (CASSETTES / case.name).is_dir(), f"no cassettes for {case.name}"


def test_every_article_ran(report: Report) -> None:
    """No article failed to run in replay (a miss would score it as empty)."""
    assert report.errors == []


def test_scores_hold_the_baseline(report: Report) -> None:
    """No per-type or per-field F1 drops more than MARGIN below the committed baseline."""
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))["overall"]
    overall = report.overall
    drops = [
        f"{kind} F1 {overall.records[kind].f1:.4f} < baseline {baseline['records'][kind]['f1']}"
        for kind in RECORD_TYPES
        if round(overall.records[kind].f1, 4) < baseline["records"][kind]["f1"] - MARGIN
    ] + [
        f"{name} F1 {overall.fields[name].f1:.4f} < baseline {baseline['fields'][name]['f1']}"
        for name in FIELDS
        if round(overall.fields[name].f1, 4) < baseline["fields"][name]["f1"] - MARGIN
    ]
    assert not drops, "\n".join(drops) + "\n\n" + format_table(report)


def test_meeting_dates_beat_the_mark_of_issue_14(report: Report) -> None:
    """Issue 14 set the bar: the meeting-date F1 was 0.85 before dates in context."""
    assert report.overall.fields["meeting_date"].f1 > 0.85, format_table(report)


def test_new_shapes_score_their_dates(report: Report) -> None:
    """Every meeting date of the issue-14 articles (rows, header, chains, ranges) is right."""
    by_name = {s.name: s for s in report.articles}
    for name in (
        "016_rows_xinhua",
        "016_rows_nodateline",
        "016_rows_late_metadata",
        "017_tass_header_block",
        "018_urdupoint_dateline_line3",
        "019_same_day_chain",
        "020_undated_article",
        "021_interfax_date_ranges",
        "022_xinhua_front_matter",
    ):
        dates = by_name[name].fields["meeting_date"]
        assert dates.tp == dates.gold == dates.predicted, (name, dates)


def test_gold_can_name_a_row_of_a_table_file() -> None:
    """Three gold files share one JSONL input, each naming its row by id, in case order."""
    cases = load_gold(GOLD)
    rows = [c for c in cases if c.row is not None]
    assert len(rows) == 3 and {c.document for c in rows} == {ROWS.resolve()}
    inputs = _inputs(cases, Settings())
    assert len(inputs) == len(cases)
    for case, item in zip(cases, inputs, strict=True):
        if case.row is None:
            assert item == case.document
        else:
            assert isinstance(item, Document) and item.meta.input_id == case.row
            assert item.meta.url and item.meta.title and item.meta.published


def test_a_row_the_table_lacks_is_a_clear_error(tmp_path: Path) -> None:
    """A gold naming a row that is not there, or a row of a plain text, says so."""
    for document, row, message in (
        (ROWS, "no-such-row", "no row with id"),
        (ROOT / "fixtures" / "corpus" / "020_undated_article.txt", "x", "needs a table file"),
    ):
        gold = {"document": str(document), "row": row, "provenance": "test"}
        (tmp_path / "case.json").write_text(json.dumps(gold), encoding="utf-8")
        with pytest.raises(ConfigurationError, match=message):
            _inputs(load_gold(tmp_path), Settings())


def test_row_scripts_were_recorded_from_the_rows_text() -> None:
    """The answer scripts of rows are recorded from copies of the rows: they must stay equal."""
    rows = {c.row: c for c in load_gold(GOLD) if c.row is not None}
    for item in _inputs(list(rows.values()), Settings()):
        assert isinstance(item, Document) and item.meta.input_id is not None
        name = rows[item.meta.input_id].name
        spec = json.loads((AUTHORED / f"{name}.json").read_text(encoding="utf-8"))
        copy = read_document(ROOT / spec["document"], max_bytes=10**7)
        assert (copy.text, copy.dateline) == (item.text, item.dateline), name


def test_grounding_holds_the_baseline(report: Report) -> None:
    """The share of returned quotes that align does not drop."""
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))["overall"]["grounding"]
    assert round(report.overall.grounding_rate, 4) >= baseline["rate"], format_table(report)


def test_thresholds_report_shortfalls(report: Report) -> None:
    """A threshold above the scores names each record type that misses it."""
    assert shortfalls(report, None) == []
    assert len(shortfalls(report, 1.01)) == 3


def test_table_lists_every_article_and_overall(report: Report) -> None:
    """The printed table has a row per article, an overall row and the field block."""
    table = format_table(report)
    for case in load_gold(GOLD):
        assert case.name in table
    assert "overall" in table and "meeting_date" in table


def test_missing_gold_dir_is_a_clear_error(tmp_path: Path) -> None:
    """An empty gold directory is a configuration error, not a crash."""
    with pytest.raises(ConfigurationError, match="no gold files"):
        load_gold(tmp_path)
