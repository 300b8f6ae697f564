"""``extractor batch submit / status / collect`` from the shell, on the fake batch server."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.testing.fakebatch import FakeBatchConfig, run_in_thread
from extractor.testing.scripted import FAKE_KEY

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from batch_bench import write_articles

runner = CliRunner()


@pytest.fixture
def server() -> Iterator[tuple[str, dict[str, Any]]]:
    base_url, stop, stats = run_in_thread(FakeBatchConfig(fail_rate=0.1, ungrounded_rate=0.2))
    try:
        yield base_url, stats
    finally:
        stop()


def _invoke(*args: str | Path) -> Any:
    return runner.invoke(app, [str(a) for a in args])


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_submit_status_collect(
    tmp_path: Path, server: tuple[str, dict[str, Any]], provider: str
) -> None:
    base_url, _ = server
    write_articles(tmp_path / "in", 30)
    out = tmp_path / "out.jsonl"
    model = "gpt-4o-mini" if provider == "openai" else "claude-haiku-4-5"
    common = ("--base-url", base_url, "--key", FAKE_KEY)
    result = _invoke(
        "batch", "submit", tmp_path / "in", "--model", model, "--provider", provider,
        "-o", out, *common,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "30 documents registered" in result.stderr and "1 batches created" in result.stderr
    assert (tmp_path / "out.jsonl.batch.sqlite").is_file()

    status = _invoke("batch", "status", "-o", out, "--key", FAKE_KEY)
    assert status.exit_code == 0, status.stderr
    assert "batch 1 (round 1)" in status.stdout and "30 requests" in status.stdout
    assert "documents: " in status.stdout

    collected = _invoke("batch", "collect", "-o", out, "--wait", "--interval", "0", *common)
    assert collected.exit_code == 0, collected.stderr
    lines = [orjson.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(lines) == 30 and {r["kind"] for r in lines} == {"extraction"}
    assert len({r["document"]["source"] for r in lines}) == 30

    after = _invoke("batch", "status", "-o", out, "--key", FAKE_KEY)
    assert "30 done" in after.stdout and "requests by round: 1: 30, 2:" in after.stdout
    again = _invoke("batch", "collect", "-o", out, *common)  # nothing left: nothing repeated
    assert again.exit_code == 0 and "nothing to do" in again.stderr
    assert len(out.read_text("utf-8").splitlines()) == 30


def test_errors_are_one_line(tmp_path: Path, server: tuple[str, dict[str, Any]]) -> None:
    base_url, _ = server
    missing = _invoke("batch", "collect", "-o", tmp_path / "none.jsonl", "--key", FAKE_KEY)
    assert missing.exit_code == 2
    assert missing.stderr.startswith("extractor: error: no batch state at")
    assert len(missing.stderr.splitlines()) == 1

    write_articles(tmp_path / "in", 2)
    out = tmp_path / "out.jsonl"
    args = ("batch", "submit", tmp_path / "in", "-o", out, "--base-url", base_url)
    assert _invoke(*args, "--key", FAKE_KEY).exit_code == 0
    other = _invoke(*args, "--key", FAKE_KEY, "--model", "gpt-4.1")
    assert other.exit_code == 2 and "was started with model 'gpt-4o-mini'" in other.stderr
    assert "Traceback" not in other.stderr + missing.stderr


def test_a_refused_key_is_one_line_without_the_key(tmp_path: Path) -> None:
    base_url, stop, _ = run_in_thread(FakeBatchConfig(api_key=FAKE_KEY))
    try:
        write_articles(tmp_path / "in", 2)
        out = tmp_path / "out.jsonl"
        args = ("batch", "submit", tmp_path / "in", "-o", out, "--base-url", base_url)
        refused = _invoke(*args, "--key", "sk-wrong-key-123")
        assert refused.exit_code == 2, refused.stderr
        assert "sk-wrong-key-123" not in refused.stderr
        assert len(refused.stderr.splitlines()) == 1 and "Traceback" not in refused.stderr
        # The requests stayed pending: the right key submits them.
        fixed = _invoke(*args, "--key", FAKE_KEY)
        assert fixed.exit_code == 0 and "2 requests submitted" in fixed.stderr, fixed.stderr
    finally:
        stop()


def test_dry_run_prints_the_batch_price_and_calls_nothing(
    tmp_path: Path, server: tuple[str, dict[str, Any]]
) -> None:
    base_url, stats = server
    write_articles(tmp_path / "in", 3)
    before = stats["requests"]
    result = _invoke(
        "batch", "submit", tmp_path / "in", "-o", tmp_path / "out.jsonl", "--dry-run",
        "--base-url", base_url,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "documents: 3; requests: 3" in result.stdout
    assert stats["requests"] == before
    assert not (tmp_path / "out.jsonl.batch.sqlite").exists()


def test_submit_reads_a_corpus_by_the_fields_named_as_extract_does(
    tmp_path: Path, server: tuple[str, dict[str, Any]]
) -> None:
    """Rows whose fields have names of their own (``story``, ``day``, ``key``), named by
    ``--text-field`` and the like: each record carries the row's id and date; without the
    options the same rows are error records, as in ``extract``."""
    base_url, _ = server
    corpus = tmp_path / "rows.jsonl"
    rows = [
        {"key": f"r-{n}", "day": f"2024-05-2{n}", "story": text}
        for n, text in enumerate(
            [
                "Foreign Minister Murat Nurtleu met Foreign Minister Wang Yi in Astana on Monday.",
                "Ambassador Li Wei met Minister Sara Khan in Tashkent on Friday to discuss trade.",
            ]
        )
    ]
    corpus.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    common = ("--base-url", base_url, "--key", FAKE_KEY)

    def run(out: Path, *fields: str) -> list[dict[str, Any]]:
        submitted = _invoke("batch", "submit", corpus, "--model", "gpt-4o-mini", "-o", out,
                            *fields, *common)  # fmt: skip
        assert submitted.exit_code == 0, submitted.stderr
        _invoke("batch", "collect", "-o", out, "--wait", "--interval", "0", *common)
        return [orjson.loads(line) for line in out.read_text("utf-8").splitlines()]

    named = run(tmp_path / "named.jsonl", "--text-field", "story", "--date-field", "day",
                "--id-field", "key")  # fmt: skip
    documents = sorted((r["document"] for r in named), key=lambda d: d["input_id"])
    assert [r["kind"] for r in named] == ["extraction", "extraction"]
    assert [(d["input_id"], d["published"]) for d in documents] == [
        ("r-0", "2024-05-20"),
        ("r-1", "2024-05-21"),
    ]
    assert {d["offsets_refer_to"] for d in documents} == {"body"}  # the row's text, not a file
    unnamed = run(tmp_path / "unnamed.jsonl")
    assert [r["kind"] for r in unnamed] == ["error", "error"]


def test_an_unknown_input_format_is_one_line_as_for_extract(tmp_path: Path) -> None:
    """The corpus options are extract's own: the same check, the same line."""
    result = _invoke("batch", "submit", tmp_path, "--input-format", "xml", "-o", tmp_path / "o")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "extractor: error: unknown input format 'xml': use auto, text, jsonl, csv, tsv, json, "
        "parquet"
    ]
