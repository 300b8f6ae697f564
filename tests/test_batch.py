"""Many documents: faults, resume after a kill, exactly-once output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from extractor._exceptions import InputError
from extractor.batch import prepare_resume
from extractor.model.prompting import load_prompt
from extractor.settings import Settings
from extractor.testing.fakeserver import FakeServerConfig, run_in_thread


def _articles(directory: Path, n: int) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = directory / f"a{i:04d}.txt"
        path.write_text(
            f"date 2024-03-0{1 + i % 9} MOSCOW, March {1 + i % 9} /TASS/. Minister Ivan{i} "
            f"met Ambassador Pedro{i} in Moscow on Monday. They discussed trade item {i}.\n",
            encoding="utf-8",
        )
        paths.append(path)
    return paths


def _cli(args: list[str], base_url: str, cache: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "OPENAI_API_KEY": "sk-batch-test", "EXTRACTOR_CACHE_PATH": str(cache)}
    env.pop("OPENAI_BASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "extractor", "extract", *args, "--base-url", base_url],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _source(record: dict[str, object]) -> str:
    if record["kind"] == "error":
        return str(record["source"])
    return str(record["document"]["source"])  # type: ignore[index]


def test_fault_mix_accounts_for_every_document_once(tmp_path: Path) -> None:
    """Under 30% faults every document ends as one result or error record, all grounded."""
    articles = _articles(tmp_path / "in", 40)
    config = FakeServerConfig(
        fault_rate=0.3,
        seed=7,
        hang_seconds=3.0,
        faults=("500", "hang", "malformed", "length", "ungrounded"),
    )
    base_url, stop, stats = run_in_thread(config)
    out = tmp_path / "out.jsonl"
    try:
        proc = _cli(
            [
                str(tmp_path / "in"),
                "-f",
                "jsonl",
                "-o",
                str(out),
                "--concurrency",
                "8",
                "--timeout",
                "1",
                "--no-cache",
            ],
            base_url,
            tmp_path / "c.sqlite",
        )
        proc.communicate(timeout=120)
    finally:
        stop()
    records = _lines(out)
    sources = Counter(_source(r) for r in records)
    assert set(sources) == {str(p) for p in articles}
    assert max(sources.values()) == 1
    assert sum(stats["faults"].values()) > 0  # the mix really happened
    texts = {str(p): p.read_text(encoding="utf-8") for p in articles}
    for record in records:
        if record["kind"] != "extraction":
            continue
        text = texts[_source(record)]
        for meeting in record["meetings"]:  # type: ignore[union-attr]
            for ev in meeting["evidence"]:
                assert text[ev["start"] : ev["end"]] == ev["quote"]


def test_resume_after_sigkill_ends_with_every_document_exactly_once(tmp_path: Path) -> None:
    """Killed mid-run with SIGKILL, then resumed, the output holds each document once."""
    articles = _articles(tmp_path / "in", 60)
    base_url, stop, _ = run_in_thread(FakeServerConfig(latency=0.05))
    out = tmp_path / "out.jsonl"
    args = [str(tmp_path / "in"), "-f", "jsonl", "-o", str(out), "--concurrency", "2", "--no-cache"]
    try:
        proc = _cli(args, base_url, tmp_path / "c.sqlite")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if out.exists() and out.read_text(encoding="utf-8").count("\n") >= 10:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        written_before = out.read_text(encoding="utf-8").count("\n")
        assert 10 <= written_before < len(articles)
        with out.open("a", encoding="utf-8") as handle:
            handle.write('{"kind": "extraction", "document": {"sour')  # a line cut short
        resumed = _cli([*args, "--resume"], base_url, tmp_path / "c.sqlite")
        _, err = resumed.communicate(timeout=120)
    finally:
        stop()
    assert resumed.returncode == 0, err
    sources = Counter(_source(r) for r in _lines(out))
    assert set(sources) == {str(p) for p in articles}
    assert max(sources.values()) == 1
    assert f"{written_before} skipped" in err


def test_prepare_resume_keeps_results_and_permanent_errors(tmp_path: Path) -> None:
    """Finished documents and unreadable files stay; transient errors and torn lines go."""
    out = tmp_path / "out.jsonl"
    settings = Settings(model="m", cache=False)
    extraction = {
        "kind": "extraction",
        "document": {"sha256": "abc", "source": "a.txt"},
        "run": {"model": "m", "prompt_version": load_prompt().version},
    }
    lines = [
        json.dumps(extraction),
        json.dumps(
            {
                "kind": "error",
                "source": "b.txt",
                "error_type": "EncodingError",
                "message": "not UTF-8",
            }
        ),
        json.dumps(
            {
                "kind": "error",
                "source": "c.txt",
                "error_type": "TransportError",
                "message": "HTTP 500",
            }
        ),
    ]
    out.write_text("\n".join(lines) + "\n" + '{"kind": "extr', encoding="utf-8")
    state = prepare_resume(out, settings)
    assert state.done == {("a.txt", "abc")}
    assert state.failed_for_good == {"b.txt"}
    assert (state.kept, state.torn, state.retried, state.foreign) == (2, 1, 1, 0)
    assert state.backup is None  # nothing but what a kill and a retry leave behind
    assert out.read_text(encoding="utf-8").splitlines() == lines[:2]


class _Refusing(BaseHTTPRequestHandler):
    """A server that refuses every key, as OpenAI does: 401 with its error shape."""

    requests: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).requests.append(self.path)
        body = json.dumps(
            {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}
        ).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_refused_key_ends_the_run_at_once_and_resume_still_works(tmp_path: Path) -> None:
    """100 documents against a 401: one line, exit 2, at most --concurrency requests, the
    output as it was; once the key is right, --resume finishes every document once."""
    articles = _articles(tmp_path / "in", 100)
    out = tmp_path / "out.jsonl"
    args = ["-f", "jsonl", "-o", str(out), "--concurrency", "4", "--no-cache"]
    base_url, stop, _ = run_in_thread(FakeServerConfig())
    try:
        first = _cli([*map(str, articles[:10]), *args], base_url, tmp_path / "c.sqlite")
        assert first.wait(timeout=120) == 0
        before = out.read_bytes()
        assert before.count(b"\n") == 10

        _Refusing.requests = []
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            refused = _cli(
                [str(tmp_path / "in"), *args, "--resume"],
                f"http://127.0.0.1:{server.server_address[1]}/v1",
                tmp_path / "c.sqlite",
            )
            _, err = refused.communicate(timeout=60)
        finally:
            server.shutdown()
            server.server_close()
        assert refused.returncode == 2, err
        assert err.splitlines() == [
            "extractor: error: the server refused the API key (HTTP 401); check OPENAI_API_KEY"
        ]
        assert 1 <= len(_Refusing.requests) <= 4
        assert out.read_bytes() == before  # nothing written for the refused documents

        resumed = _cli([str(tmp_path / "in"), *args, "--resume"], base_url, tmp_path / "c.sqlite")
        _, err = resumed.communicate(timeout=120)
    finally:
        stop()
    assert resumed.returncode == 0, err
    assert "90 extracted, 0 errors, 10 skipped" in err
    sources = Counter(_source(r) for r in _lines(out))
    assert set(sources) == {str(p) for p in articles} and max(sources.values()) == 1


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_among_the_inputs_does_not_stall_the_run(tmp_path: Path) -> None:
    """A FIFO gets an error record at once; the files beside it are extracted."""
    articles = _articles(tmp_path / "in", 3)
    fifo = tmp_path / "in" / "pipe.txt"
    os.mkfifo(fifo)
    out = tmp_path / "out.jsonl"
    base_url, stop, _ = run_in_thread(FakeServerConfig())
    try:
        inputs = [str(articles[0]), str(fifo), *map(str, articles[1:])]
        proc = _cli(
            [*inputs, "-f", "jsonl", "-o", str(out), "--no-cache"], base_url, tmp_path / "c"
        )
        try:
            _, err = proc.communicate(timeout=60)
        finally:
            proc.kill()  # a regression hangs on the FIFO: fail, do not hang the suite
    finally:
        stop()
    assert proc.returncode == InputError.exit_code, err
    assert f"extractor: error: {fifo}: not a regular file (FIFO)" in err.splitlines()
    records = {_source(r): r for r in _lines(out)}
    assert records[str(fifo)]["kind"] == "error"
    assert records[str(fifo)]["error_type"] == "InputNotFoundError"
    assert all(records[str(p)]["kind"] == "extraction" for p in articles)


async def test_parquet_without_pyarrow_ends_a_library_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every Parquet file would fail alike, so the run ends with one ConfigurationError."""
    from extractor._exceptions import ConfigurationError
    from extractor.pipeline import aextract_paths

    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    (tmp_path / "c.parquet").write_bytes(b"PAR1")
    settings = Settings(mode="replay", cassette_dir=tmp_path, cache=False)
    with pytest.raises(ConfigurationError, match="extractor\\[parquet\\]"):
        async for _ in aextract_paths([tmp_path / "c.parquet"], settings=settings):
            pass


async def test_shards_split_the_documents_exactly_once_in_index_order() -> None:
    """Three shards of 20 documents: each index in exactly one shard, the one of its
    remainder, and each shard's results are its own documents."""
    from extractor import Extraction, document_from_text
    from extractor.pipeline import aextract_indexed
    from extractor.testing.fakeserver import FakeServer

    text = "Alpha met Beta in Geneva on Monday, officials said."
    documents = [document_from_text(f"{text} Item {n}.", f"doc-{n}", meta=None) for n in range(20)]
    taken: dict[int, list[tuple[int, Any]]] = {}
    async with FakeServer(FakeServerConfig()) as server:
        settings = Settings(
            base_url=server.base_url, api_key="sk-test", model="fake-model", cache=False
        )
        for k in range(3):
            taken[k] = [
                item
                async for item in aextract_indexed(
                    documents, settings=settings, concurrency=4, shard=(k, 3)
                )
            ]
    indexes = sorted(index for part in taken.values() for index, _ in part)
    assert indexes == list(range(20))
    for k, part in taken.items():
        for index, result in part:
            assert isinstance(result, Extraction) and index % 3 == k
            assert result.document.source == f"doc-{index}"
