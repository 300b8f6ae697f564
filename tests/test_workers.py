"""``extract --workers N``: one run over several processes, sharing one JSONL output."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.job import Job, Tally
from extractor.settings import Settings
from extractor.testing.fakeserver import FakeServerConfig, run_in_thread
from extractor.workers import _account, _Report, share

from .conftest import SEED
from .test_batch import _cli, _lines, _Refusing, _source


def _articles(directory: Path, n: int) -> list[Path]:
    """``n`` distinct copies of the seed, each answered by the fake server in one request."""
    directory.mkdir(parents=True, exist_ok=True)
    text = SEED.read_text(encoding="utf-8")
    paths = [directory / f"a{i:04d}.txt" for i in range(n)]
    for i, path in enumerate(paths):
        path.write_text(f"{text}\nItem {i}.", encoding="utf-8")
    return paths


@pytest.mark.parametrize(("total", "n"), [(10, 2), (7, 3), (5000, 2), (2, 2), (1, 1), (9, 4)])
def test_share_parts_differ_by_at_most_one_and_add_up(total: int, n: int) -> None:
    """Every worker's part of a total: they add up to it and differ by one at most."""
    parts = [share(total, k, n) for k in range(n)]
    assert sum(parts) == total
    assert max(parts) - min(parts) <= 1


def test_two_workers_write_every_document_once_in_whole_lines(tmp_path: Path) -> None:
    """200 documents over two workers: 200 whole lines, each document once, one request
    each, and one summary line for the whole run."""
    articles = _articles(tmp_path / "in", 200)
    out = tmp_path / "out.jsonl"
    base_url, stop, stats = run_in_thread(FakeServerConfig(latency=0.01))
    try:
        proc = _cli(
            [str(tmp_path / "in"), "-f", "jsonl", "-o", str(out), "--concurrency", "8",
             "--workers", "2", "--no-cache"],
            base_url,
            tmp_path / "c.sqlite",
        )  # fmt: skip
        _, err = proc.communicate(timeout=120)
    finally:
        stop()
    assert proc.returncode == 0, err
    records = _lines(out)  # json.loads of each line: a torn or interleaved line fails here
    sources = Counter(_source(r) for r in records)
    assert set(sources) == {str(p) for p in articles} and max(sources.values()) == 1
    assert all(r["kind"] == "extraction" for r in records)
    assert stats["requests"] == 200
    summaries = [line for line in err.splitlines() if " extracted, " in line]
    assert len(summaries) == 1 and summaries[0].startswith("extractor: 200 extracted, 0 errors")


def test_resume_with_workers_goes_on_from_a_run_that_stopped(tmp_path: Path) -> None:
    """An output of 30 done documents and a torn last line, resumed by two workers: the
    other 30 are asked for, once each, and the file holds all 60 once."""
    articles = _articles(tmp_path / "in", 60)
    out = tmp_path / "out.jsonl"
    args = ["-f", "jsonl", "-o", str(out), "--concurrency", "4", "--no-cache"]
    base_url, stop, stats = run_in_thread(FakeServerConfig())
    try:
        first = _cli([*map(str, articles[:30]), *args], base_url, tmp_path / "c.sqlite")
        assert first.wait(timeout=120) == 0
        with out.open("a", encoding="utf-8") as handle:
            handle.write('{"kind": "extraction", "document": {"sour')  # a kill mid-line
        asked_before = stats["requests"]
        resumed = _cli(
            [str(tmp_path / "in"), *args, "--resume", "--workers", "2"],
            base_url,
            tmp_path / "c.sqlite",
        )
        _, err = resumed.communicate(timeout=120)
    finally:
        stop()
    assert resumed.returncode == 0, err
    assert "30 extracted, 0 errors, 30 skipped" in err
    assert stats["requests"] - asked_before == 30
    sources = Counter(_source(r) for r in _lines(out))
    assert set(sources) == {str(p) for p in articles} and max(sources.values()) == 1


def test_a_refused_key_is_told_once_for_all_workers(tmp_path: Path) -> None:
    """Every worker meets the same 401: one error line, exit 2, nothing written."""
    _articles(tmp_path / "in", 20)
    out = tmp_path / "out.jsonl"
    _Refusing.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        proc = _cli(
            [str(tmp_path / "in"), "-f", "jsonl", "-o", str(out), "--concurrency", "4",
             "--workers", "2", "--no-cache"],
            f"http://127.0.0.1:{server.server_address[1]}/v1",
            tmp_path / "c.sqlite",
        )  # fmt: skip
        _, err = proc.communicate(timeout=60)
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 2, err
    assert err.splitlines() == [
        "extractor: error: the server refused the API key (HTTP 401); check OPENAI_API_KEY"
    ]
    assert out.read_text(encoding="utf-8") == ""


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["-f", "jsonl"], "--workers needs -f jsonl and -o FILE"),
        (["-f", "json", "-o", "OUT"], "--workers needs -f jsonl and -o FILE"),
        (["-f", "jsonl", "-o", "OUT", "--concurrency", "1"], "needs --concurrency 2 or more"),
        (["-f", "jsonl", "-o", "OUT", "--gguf", "m.gguf"], "does not apply to --gguf"),
        (["-f", "jsonl", "-o", "OUT", "--record", "CASSETTES"], "does not apply to --record"),
    ],
)
def test_workers_refuse_what_they_cannot_share(
    tmp_path: Path, seed_path: Path, extra: list[str], message: str
) -> None:
    """Each combination ``--workers`` cannot split is one line and exit 2, before any call."""
    args = [a.replace("OUT", str(tmp_path / "out.jsonl")) for a in extra]
    args = [a.replace("CASSETTES", str(tmp_path / "cassettes")) for a in args]
    result = CliRunner().invoke(
        app, ["extract", str(seed_path), "--workers", "2", "--base-url", "http://127.0.0.1:1/v1",
              *args],
    )  # fmt: skip
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("extractor: error: ") and message in line
    assert not (tmp_path / "out.jsonl").exists()


class _Ended:
    """What ``_account`` reads of a worker process: how it exited."""

    def __init__(self, exitcode: int) -> None:
        self.exitcode = exitcode


def _job() -> Job:
    return Job([], Settings(cache=False), "jsonl", Path("out.jsonl"), 2, False, False)


def test_a_worker_killed_before_its_end_is_told_and_fails_the_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A worker that sent no final report (killed) is named with its signal, exit 1."""
    reports = {0: _Report(0, Tally(ok=3), final=True), 1: _Report(1, Tally(ok=1))}
    code = _account(_job(), reports, [_Ended(0), _Ended(-9)])
    assert code == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("extractor: error: worker 2 of 2 ended by signal 9 before")
    assert "--resume" in line


def test_the_same_error_from_every_worker_is_told_once_with_the_gravest_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Errors are told once each, and the run exits with the gravest of their codes."""
    reports: dict[int, Any] = {
        0: _Report(0, Tally(), final=True, error=("refused", 2)),
        1: _Report(1, Tally(), final=True, error=("refused", 2)),
        2: _Report(2, Tally(), final=True, error=("a bug", 1)),
    }
    code = _account(_job(), reports, [_Ended(0)] * 3)
    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        "extractor: error: refused",
        "extractor: error: a bug",
    ]


def test_a_budget_stop_in_one_worker_becomes_the_runs_stop() -> None:
    """A worker stopped by its part of --max-cost stops the run with its reason."""
    job = _job()
    reports = {
        0: _Report(0, Tally(ok=2), final=True, stopped="budget"),
        1: _Report(1, Tally(), final=True),
    }
    assert _account(job, reports, [_Ended(0), _Ended(0)]) == 0
    assert job.stopped == "budget"


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_a_sigterm_to_the_parent_ends_every_worker_and_resume_finishes(tmp_path: Path) -> None:
    """SIGTERM to the CLI mid-run: its workers end with it (none left writing), the lines
    written are whole, exit 143; --resume then finishes every document once."""
    articles = _articles(tmp_path / "in", 200)
    out = tmp_path / "out.jsonl"
    args = ["-f", "jsonl", "-o", str(out), "--concurrency", "4", "--workers", "2", "--no-cache"]
    base_url, stop, _ = run_in_thread(FakeServerConfig(latency=0.05))
    try:
        proc = _cli([str(tmp_path / "in"), *args], base_url, tmp_path / "c.sqlite")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            not out.exists() or out.read_text(encoding="utf-8").count("\n") < 10
        ):
            time.sleep(0.05)
        workers = _children(proc.pid)
        assert len(workers) == 2
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 143, err
        assert "terminated" in err and "--resume" in err
        assert not [w for w in workers if Path(f"/proc/{w}").exists()]
        written = len(_lines(out))  # every line whole
        assert 10 <= written < 200
        resumed = _cli([str(tmp_path / "in"), *args, "--resume"], base_url, tmp_path / "c.sqlite")
        _, err = resumed.communicate(timeout=120)
    finally:
        stop()
    assert resumed.returncode == 0, err
    sources = Counter(_source(r) for r in _lines(out))
    assert set(sources) == {str(p) for p in articles} and max(sources.values()) == 1
