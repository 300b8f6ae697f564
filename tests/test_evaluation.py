"""The corpus, replayed from its fixtures, must score at or above the committed baseline."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from extractor import Settings
from extractor.evaluation import Report, evaluate, format_table, load_gold, shortfalls
from extractor.scoring import FIELDS, RECORD_TYPES

from .conftest import CASSETTES, GOLD, ROOT

BASELINE = ROOT / "fixtures" / "eval_baseline.json"


@pytest.fixture(scope="module")
def report() -> Report:
    settings = Settings(mode="replay", cassette_dir=CASSETTES)
    return asyncio.run(evaluate(load_gold(GOLD), settings))


def test_corpus_is_large_enough() -> None:
    """At least 15 annotated articles besides the seed, each with fixtures."""
    cases = load_gold(GOLD)
    assert len(cases) >= 16
    for case in cases:
        assert case.document.is_file(), case.document
        if case.name != "000_8703ce6526d76945":
            assert (CASSETTES / case.name).is_dir(), f"no cassettes for {case.name}"


def test_every_article_ran(report: Report) -> None:
    """No article failed to run in replay (a miss would score it as empty)."""
    assert report.errors == []


def test_scores_hold_the_baseline(report: Report) -> None:
    """No per-type or per-field F1 drops below the committed baseline (stored to 4 places)."""
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))["overall"]
    overall = report.overall
    drops = [
        f"{kind} F1 {overall.records[kind].f1:.4f} < baseline {baseline['records'][kind]['f1']}"
        for kind in RECORD_TYPES
        if round(overall.records[kind].f1, 4) < baseline["records"][kind]["f1"]
    ] + [
        f"{name} F1 {overall.fields[name].f1:.4f} < baseline {baseline['fields'][name]['f1']}"
        for name in FIELDS
        if round(overall.fields[name].f1, 4) < baseline["fields"][name]["f1"]
    ]
    assert not drops, "\n".join(drops) + "\n\n" + format_table(report)


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
    from extractor import ConfigurationError

    with pytest.raises(ConfigurationError, match="no gold files"):
        load_gold(tmp_path)
