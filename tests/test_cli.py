"""Tests for extractor.cli: the ``extractor`` command, its output shapes and its error lines."""

from __future__ import annotations

import csv
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import extractor.batch
import extractor.cli
from extractor.cli import app
from extractor.job import Job
from extractor.schemas import Extraction, Usage
from extractor.settings import Settings

from .conftest import CASSETTES, ROOT, SEED

runner = CliRunner()
REPLAY = ["--replay", str(CASSETTES)]


def _invoke(*args: str, stdin: str | None = None) -> Any:
    """Run the app in-process, with stdout and stderr kept apart."""
    return runner.invoke(app, list(args), input=stdin)


def _subprocess(
    *args: str, cwd: Path, stdin: bytes | None = None, **popen: Any
) -> subprocess.CompletedProcess:
    """Run ``python -m extractor`` as a user would, with the test's cleaned environment."""
    return subprocess.run(
        [sys.executable, "-m", "extractor", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env=dict(os.environ),
        timeout=120,
        check=False,
        **popen,
    )


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("extractor: error:")]


def _copy_seed(directory: Path, name: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    shutil.copyfile(SEED, target)
    return target


@pytest.fixture
def bad_inputs(tmp_path: Path) -> dict[str, Path]:
    """One file of each kind the reader must refuse, plus a path that does not exist."""
    files = {
        "missing": tmp_path / "missing.txt",
        "empty": tmp_path / "empty.txt",
        "png": tmp_path / "image.txt",
        "nul": tmp_path / "nul.txt",
        "latin1": tmp_path / "latin1.txt",
    }
    files["empty"].write_bytes(b"  \n\n")
    files["png"].write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    files["nul"].write_bytes(b"BEIJING, July 14 (APP) - text\x00with a NUL")
    files["latin1"].write_bytes("Caf\u00e9 in S\u00e3o Paulo\n".encode("latin-1"))
    return files


# --------------------------------------------------------------------------- success


def test_replay_on_seed_prints_one_extraction() -> None:
    """Replaying the seed prints one JSON object with three meetings and four status claims."""
    result = _invoke("extract", str(SEED), *REPLAY)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["kind"] == "extraction"
    assert data["document"]["source"] == str(SEED)
    assert len(data["meetings"]) == 3
    assert len(data["status_claims"]) == 4
    assert result.stderr == ""


def test_replay_on_seed_in_a_subprocess(tmp_path: Path) -> None:
    """The installed module runs end to end offline and writes nothing to stderr."""
    done = _subprocess("extract", str(SEED), *REPLAY, cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr == b""
    data = json.loads(done.stdout)
    assert (len(data["meetings"]), len(data["status_claims"])) == (3, 4)


def test_jsonl_prints_one_line_per_document(tmp_path: Path) -> None:
    """``--format jsonl`` prints exactly one compact JSON line for each input document."""
    a = _copy_seed(tmp_path, "a.txt")
    b = _copy_seed(tmp_path, "b.txt")
    result = _invoke("extract", str(a), str(b), "--format", "jsonl", *REPLAY)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    records = [json.loads(line) for line in lines]
    assert {r["document"]["source"] for r in records} == {str(a), str(b)}
    assert all(r["kind"] == "extraction" and len(r["meetings"]) == 3 for r in records)


def test_batch_ends_with_one_summary_line(tmp_path: Path) -> None:
    """A batch ends with one line of counts, tokens, rate and CPU per document on stderr."""
    a = _copy_seed(tmp_path, "a.txt")
    b = _copy_seed(tmp_path, "b.txt")
    result = _invoke("extract", str(a), str(b), "-f", "jsonl", *REPLAY)
    assert result.exit_code == 0, result.stderr
    (summary,) = result.stderr.splitlines()
    pattern = (
        r"extractor: 2 extracted, 0 errors, 0 skipped, [\d,]+ tokens spent in [\d.]+ s "
        r"\([\d.]+ documents/s, [\d.]+ ms CPU each\)"
    )
    assert re.fullmatch(pattern, summary), summary


def test_directory_expands_to_its_text_files(tmp_path: Path) -> None:
    """A directory argument stands for the text files under it, recursively, and nothing else."""
    corpus = tmp_path / "corpus"
    a = _copy_seed(corpus, "a.txt")
    b = _copy_seed(corpus / "sub", "b.txt")
    (corpus / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    result = _invoke("extract", str(corpus), *REPLAY)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, list)
    assert [r["document"]["source"] for r in data] == [str(a), str(b)]


def test_glob_expands_to_matching_files(tmp_path: Path) -> None:
    """A quoted glob is expanded by the tool itself, in sorted order."""
    a = _copy_seed(tmp_path, "a.txt")
    b = _copy_seed(tmp_path, "b.txt")
    _copy_seed(tmp_path, "c.text.bak")
    result = _invoke("extract", str(tmp_path / "*.txt"), *REPLAY)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [r["document"]["source"] for r in data] == [str(a), str(b)]


def test_glob_matching_one_file_still_gives_an_array(tmp_path: Path) -> None:
    """The output's shape follows the arguments, not how many files a glob happened to match."""
    _copy_seed(tmp_path, "only.txt")
    result = _invoke("extract", str(tmp_path / "*.txt"), *REPLAY)
    assert result.exit_code == 0, result.stderr
    assert isinstance(json.loads(result.stdout), list)


def test_several_inputs_give_an_array_in_input_order(tmp_path: Path) -> None:
    """Several files give a JSON array whose order is the order of the arguments."""
    b = _copy_seed(tmp_path, "b.txt")
    a = _copy_seed(tmp_path, "a.txt")
    result = _invoke("extract", str(b), str(a), *REPLAY)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [r["document"]["source"] for r in data] == [str(b), str(a)]


def test_output_option_writes_the_file(tmp_path: Path) -> None:
    """``-o FILE`` puts the result in the file and leaves stdout empty."""
    out = tmp_path / "out.json"
    result = _invoke("extract", str(SEED), "-o", str(out), *REPLAY)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    data = json.loads(out.read_text(encoding="utf-8"))
    assert (len(data["meetings"]), len(data["status_claims"])) == (3, 4)


def test_dash_reads_stdin() -> None:
    """``-`` reads the article from stdin and names it ``<stdin>``."""
    result = _invoke("extract", "-", *REPLAY, stdin=SEED.read_text(encoding="utf-8"))
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["document"]["source"] == "<stdin>"
    assert len(data["meetings"]) == 3


# --------------------------------------------------------------------------- configuration


def test_no_way_to_reach_a_model_is_one_line_naming_the_three_ways() -> None:
    """Without a key, a base URL or a replay directory the tool says how to run, in one line."""
    result = _invoke("extract", str(SEED))
    assert result.exit_code != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("extractor: error:")
    for way in ("OPENAI_API_KEY", "--base-url", "--replay"):
        assert way in lines[0]
    assert result.stdout == ""


def test_no_way_to_reach_a_model_in_a_subprocess(tmp_path: Path) -> None:
    """The configuration error reaches a real stderr as one line, not a traceback."""
    done = _subprocess("extract", str(SEED), cwd=tmp_path)
    stderr = done.stderr.decode()
    assert done.returncode == 2
    assert "Traceback" not in stderr
    assert len(stderr.splitlines()) == 1
    assert "OPENAI_API_KEY" in stderr and "--base-url" in stderr and "--replay" in stderr


def test_replay_and_record_together_are_refused(tmp_path: Path) -> None:
    """``--replay`` with ``--record`` is a usage error, refused before anything runs."""
    result = _invoke("extract", str(SEED), *REPLAY, "--record", str(tmp_path / "rec"))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "--replay" in lines[0] and "--record" in lines[0]
    assert not (tmp_path / "rec").exists()


def test_unknown_format_is_refused() -> None:
    """A format other than json, jsonl or csv is a usage error with one line."""
    result = _invoke("extract", str(SEED), "--format", "xml", *REPLAY)
    assert result.exit_code == 2
    assert _error_lines(result.stderr) == [
        "extractor: error: unknown format 'xml': use json, jsonl, csv"
    ]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("kind", ["missing", "empty", "png", "nul", "latin1"])
def test_bad_input_is_one_error_line(bad_inputs: dict[str, Path], kind: str) -> None:
    """Each unreadable input ends in one ``extractor: error:`` line naming it once, and exit 3."""
    path = bad_inputs[kind]
    result = _invoke("extract", str(path), *REPLAY)
    assert result.exit_code == 3
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"extractor: error: {path}: ")
    assert lines[0].count(path.name) == 1
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("kind", ["missing", "latin1"])
def test_bad_input_in_a_subprocess(bad_inputs: dict[str, Path], kind: str, tmp_path: Path) -> None:
    """On a real stderr an unreadable input is one line and no traceback."""
    done = _subprocess("extract", str(bad_inputs[kind]), *REPLAY, cwd=tmp_path)
    stderr = done.stderr.decode()
    assert done.returncode == 3
    assert "Traceback" not in stderr
    assert len(stderr.splitlines()) == 1
    assert stderr.startswith("extractor: error: ")
    assert done.stdout == b""


def test_error_messages_say_what_is_wrong(bad_inputs: dict[str, Path]) -> None:
    """The one line says why: no such file, empty, a PNG, a NUL byte, not UTF-8."""
    expected = {
        "missing": "no such file",
        "empty": "empty",
        "png": "PNG",
        "nul": "NUL byte",
        "latin1": "not valid UTF-8",
    }
    for kind, words in expected.items():
        result = _invoke("extract", str(bad_inputs[kind]), *REPLAY)
        assert words in result.stderr, (kind, result.stderr)


def test_bad_stdin_is_named_stdin_once() -> None:
    """Unreadable stdin is reported as ``<stdin>``, once, alone or in a batch."""
    alone = _invoke("extract", "-", *REPLAY, stdin="")
    assert alone.exit_code == 3
    assert alone.stderr.splitlines() == ["extractor: error: <stdin>: input is empty"]
    batch = _invoke("extract", "-", str(SEED), "-f", "jsonl", *REPLAY, stdin="")
    assert batch.exit_code == 3
    assert _error_lines(batch.stderr) == ["extractor: error: <stdin>: input is empty"]


def test_batch_with_a_bad_file_still_writes_the_good_one(
    bad_inputs: dict[str, Path], tmp_path: Path
) -> None:
    """One bad file costs its own line: the seed's result is written and the exit is non-zero."""
    png = bad_inputs["png"]
    out = tmp_path / "out.jsonl"
    result = _invoke("extract", str(png), str(SEED), "-f", "jsonl", "-o", str(out), *REPLAY)
    assert result.exit_code == 3
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    by_kind = {r["kind"]: r for r in records}
    assert len(records) == 2
    assert by_kind["extraction"]["document"]["source"] == str(SEED)
    assert len(by_kind["extraction"]["meetings"]) == 3
    assert by_kind["error"]["source"] == str(png)
    assert by_kind["error"]["error_type"] == "BinaryInputError"
    errors = _error_lines(result.stderr)
    assert len(errors) == 1
    assert errors[0].count(png.name) == 1, errors[0]  # the source is named once, not twice
    assert "Traceback" not in result.stderr


def test_batch_with_a_bad_file_in_a_subprocess(bad_inputs: dict[str, Path], tmp_path: Path) -> None:
    """A real run over a batch with one bad file prints the good result and one error line."""
    nul = bad_inputs["nul"]
    done = _subprocess("extract", str(SEED), str(nul), "-f", "jsonl", *REPLAY, cwd=tmp_path)
    stderr = done.stderr.decode()
    assert done.returncode == 3
    assert "Traceback" not in stderr
    kinds = [json.loads(line)["kind"] for line in done.stdout.decode().splitlines()]
    assert sorted(kinds) == ["error", "extraction"]
    errors = _error_lines(stderr)
    assert len(errors) == 1 and errors[0].count(nul.name) == 1


def test_missing_file_in_a_json_batch_keeps_its_place(bad_inputs: dict[str, Path]) -> None:
    """In a JSON batch a missing file becomes an error record at its argument's position."""
    missing = bad_inputs["missing"]
    result = _invoke("extract", str(SEED), str(missing), *REPLAY)
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    assert [r["kind"] for r in data] == ["extraction", "error"]
    assert data[1]["source"] == str(missing)


def test_unexpected_failure_in_a_batch_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug hitting one document is reported with that document's name, and the rest goes on."""
    boom = _copy_seed(tmp_path, "boom.txt")
    real = extractor.batch.extract_document

    async def flaky(document: Any, client: Any, **kwargs: Any) -> Any:
        if document.source.endswith("boom.txt"):
            raise RuntimeError("kaboom")
        return await real(document, client, **kwargs)

    monkeypatch.setattr(extractor.batch, "extract_document", flaky)
    result = _invoke("extract", str(SEED), str(boom), "-f", "jsonl", *REPLAY)
    assert result.exit_code == 1
    errors = _error_lines(result.stderr)
    assert len(errors) == 1
    assert errors[0].startswith(f"extractor: error: {boom}: ")
    assert "RuntimeError" in errors[0] and "kaboom" in errors[0]
    kinds = sorted(json.loads(line)["kind"] for line in result.stdout.splitlines())
    assert kinds == ["error", "extraction"]


# --------------------------------------------------------------------------- replay miss


def test_replay_miss_is_one_readable_line_naming_the_model(tmp_path: Path) -> None:
    """A request no cassette answers gives one line with the model and how to record it."""
    empty = tmp_path / "cassettes"
    empty.mkdir()
    result = _invoke("extract", str(SEED), "--replay", str(empty), "--model", "my-model-x")
    assert result.exit_code == 4
    errors = _error_lines(result.stderr)
    assert len(errors) == 1
    assert errors[0].startswith(f"extractor: error: {SEED}: no recorded exchange ")
    assert "'my-model-x'" in errors[0]
    assert "--record" in errors[0]
    assert result.stdout == ""


def test_replay_miss_in_a_subprocess_is_one_line(tmp_path: Path) -> None:
    """On a real stderr a replay miss is exactly one line: no library log, no traceback."""
    empty = tmp_path / "cassettes"
    empty.mkdir()
    done = _subprocess("extract", str(SEED), "--replay", str(empty), cwd=tmp_path)
    stderr = done.stderr.decode()
    assert done.returncode == 4
    assert "Traceback" not in stderr
    assert len(stderr.splitlines()) == 1, stderr
    assert stderr.startswith("extractor: error: ")
    assert "'gpt-4o-mini'" in stderr


# --------------------------------------------------------------------------- schema


def test_schema_prints_the_output_json_schema() -> None:
    """``extractor schema`` prints a JSON Schema of Extraction with its definitions."""
    result = _invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "Extraction"
    assert schema["type"] == "object"
    assert "$defs" in schema
    for name in ("document", "run", "participants", "meetings", "status_claims", "warnings"):
        assert name in schema["properties"]
    assert {"Meeting", "StatusClaim", "Evidence"} <= set(schema["$defs"])


def test_schema_draft_prints_what_the_model_fills() -> None:
    """``--draft`` prints the model-facing schema: records with quotes, no offsets or metadata."""
    result = _invoke("schema", "--draft")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert "status_claims" in schema["properties"]
    assert "meetings" in schema["properties"]
    assert "run" not in schema["properties"]
    assert "document" not in schema["properties"]
    assert result.stdout != _invoke("schema").stdout


def test_directory_without_text_files_is_an_error(tmp_path: Path) -> None:
    """An empty directory is a user mistake worth one line, not a silent success."""
    result = runner.invoke(app, ["extract", str(tmp_path), "--replay", str(CASSETTES)])
    assert result.exit_code != 0
    assert "no input files" in result.output


def test_one_file_whose_records_were_cut_says_so_on_stderr() -> None:
    """A run that nulled an unsupported field names the count; the exit code stays 0."""
    article = ROOT / "fixtures" / "corpus" / "001_sco_summit_astana.txt"
    result = _invoke("extract", str(article), *REPLAY)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["grounding"]["fields_nulled"] >= 1
    line = f"{document['grounding']['fields_nulled']} unsupported fields set to null"
    assert line in result.stderr


def test_a_clean_single_run_prints_nothing_on_stderr() -> None:
    """The seed is wholly supported: no summary line for one file."""
    result = _invoke("extract", str(SEED), *REPLAY)
    assert result.exit_code == 0 and result.stderr == ""


def test_summary_tells_spent_tokens_from_cached_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Prompt tokens read from the provider's cache and results from our cache are not spent."""
    done = _invoke("extract", str(SEED), *REPLAY)
    assert done.exit_code == 0, done.stderr
    fresh = Extraction.model_validate_json(done.stdout)
    usage = Usage(
        prompt_tokens=1000, completion_tokens=200, total_tokens=1200, cache_read_tokens=800
    )
    paid = fresh.model_copy(update={"run": fresh.run.model_copy(update={"usage": usage})})
    cached = paid.model_copy(update={"run": paid.run.model_copy(update={"cached": True})})
    job = Job([], Settings(cache=False), "jsonl", None, 1, False, False)
    for result in (paid, paid, cached):
        job.count(result)
    job.summary(1.0, 0.0)
    summary = capsys.readouterr().err.strip()
    assert summary.startswith(
        "extractor: 3 extracted, 0 errors, 0 skipped, 800 tokens spent "
        "(+1,600 prompt tokens from the provider's cache; 1 result from the cache) in 1.0 s"
    ), summary


def test_a_silent_stdin_stalls_neither_the_batch_nor_ctrl_c(tmp_path: Path) -> None:
    """With '-' waiting on a writer that says nothing, the other file is still extracted,
    and Ctrl-C then ends the run with one line (no wait for the writer, no abort)."""
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-m", "extractor", "extract", "-", str(SEED), "-f", "jsonl", *REPLAY],
        stdin=read_end,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
        cwd=tmp_path,
    )
    os.close(read_end)
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)  # a regression fails, not hangs
        assert ready, "no result while stdin waited"
        line = proc.stdout.readline()  # the seed's result, while stdin still waits
        assert json.loads(line)["document"]["source"] == str(SEED)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        os.close(write_end)
    assert proc.returncode == 130
    assert err.decode().splitlines() == ["extractor: error: interrupted"]


# --------------------------------------------------------------------------- corpora with metadata

INPUTS = ROOT / "fixtures" / "inputs"


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The loopback fake server, answering every article with grounded records; its URL."""
    from extractor.testing.fakeserver import FakeServerConfig, run_in_thread

    base_url, stop, _ = run_in_thread(FakeServerConfig())
    monkeypatch.setenv("OPENAI_API_KEY", "sk-cli-corpus-test")
    yield base_url
    stop()


def _records(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_a_jsonl_corpus_gives_every_row_its_id_url_and_title(fake_model: str) -> None:
    """The issue's command: each output line carries its row's id and URL; the bad row
    is an error record of its own, named by its line, and the run goes on."""
    path = INPUTS / "corpus.jsonl"
    result = _invoke(
        "extract", str(path), "--text-field", "body", "--date-field", "published",
        "-f", "jsonl", "--base-url", fake_model,
    )  # fmt: skip
    assert result.exit_code == 3, result.stderr  # an input error happened, the rest ran
    records = _records(result.stdout)
    done = {r["document"]["source"]: r["document"] for r in records if r["kind"] == "extraction"}
    assert set(done) == {f"{path}#1", f"{path}#2", f"{path}#5"}
    first = done[f"{path}#1"]
    assert (first["input_id"], first["url"], first["title"]) == (
        "sco-001",
        "https://news.example.org/sco-001",
        "Foreign ministers meet in Astana",
    )
    assert first["published"] == "2024-05-20"
    assert first["language"] == "en"
    assert first["offsets_refer_to"] == "body"
    assert all(d["input_id"] and d["url"] for d in done.values())
    (error,) = [r for r in records if r["kind"] == "error"]
    assert error["source"] == f"{path}#4"
    assert error["error_type"] == "MetadataError"
    lines = result.stderr.splitlines()
    assert lines[0] == f"extractor: error: {error['message']}"
    assert lines[-1].startswith("extractor: 3 extracted, 1 errors, 0 skipped")


def test_offsets_refer_to_the_row_text(fake_model: str) -> None:
    """Every quote is the row's text at its offsets (the fake server quotes the article)."""
    path = INPUTS / "corpus.csv"
    texts = {
        f"{path}#{n}": row["body"]
        for n, row in enumerate(csv.DictReader(path.open(encoding="utf-8")), 1)
    }
    result = _invoke("extract", str(path), "-f", "jsonl", "--base-url", fake_model)
    records = [r for r in _records(result.stdout) if r["kind"] == "extraction"]
    assert len(records) == 3
    for record in records:
        text = texts[record["document"]["source"]]
        quotes = [e for m in record["meetings"] for e in m["evidence"]]
        assert quotes
        assert all(text[e["start"] : e["end"]] == e["quote"] for e in quotes)


def test_a_header_file_and_a_run_date(fake_model: str, tmp_path: Path) -> None:
    """The header's metadata reaches the output, offsets refer to the body; ``--date``
    fills in only where the input has no date of its own."""
    undated = tmp_path / "undated.txt"
    undated.write_text("Minister Ivan Petrov met Ambassador Pedro Gomez in Moscow.\n", "utf-8")
    header = INPUTS / "header.txt"
    result = _invoke(
        "extract", str(header), str(undated), "--date", "2024-06-01",
        "-f", "jsonl", "--base-url", fake_model,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    docs = {r["document"]["source"]: r for r in _records(result.stdout)}
    with_header = docs[str(header)]
    assert with_header["document"]["published"] == "2024-05-20"
    assert with_header["document"]["url"] == "https://news.example.org/sco-001"
    assert with_header["document"]["offsets_refer_to"] == "body"
    body = header.read_text(encoding="utf-8").split("\n\n", 1)[1]
    for meeting in with_header["meetings"]:
        assert all(body[e["start"] : e["end"]] == e["quote"] for e in meeting["evidence"])
    assert docs[str(undated)]["document"]["published"] == "2024-06-01"
    assert docs[str(undated)]["document"]["offsets_refer_to"] == "file"


def test_a_json_file_of_one_article_gives_an_array(fake_model: str) -> None:
    """A ``.json`` file may hold rows, so its output is an array even for one article."""
    result = _invoke("extract", str(INPUTS / "newsplease.json"), "--base-url", fake_model)
    assert result.exit_code == 0, result.stderr
    (record,) = json.loads(result.stdout)
    assert record["document"]["url"] == "https://news.example.org/sco-001"
    assert record["document"]["published"] == "2024-05-20"


def test_a_directory_of_scraper_json_with_input_format_json(
    fake_model: str, tmp_path: Path
) -> None:
    folder = tmp_path / "scraped"
    folder.mkdir()
    shutil.copy(INPUTS / "newsplease.json", folder / "a.json")
    shutil.copy(INPUTS / "trafilatura.json", folder / "b.json")
    (folder / "notes.txt").write_text("not an article of the run", "utf-8")
    result = _invoke(
        "extract", str(folder), "--input-format", "json", "-f", "jsonl", "--base-url", fake_model
    )
    assert result.exit_code == 0, result.stderr
    urls = {r["document"]["url"] for r in _records(result.stdout)}
    assert urls == {"https://news.example.org/sco-001", "https://news.example.org/sco-002"}


def test_resume_skips_rows_done_and_rows_that_failed_for_good(
    fake_model: str, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    args = ["extract", str(INPUTS / "corpus.jsonl"), "-f", "jsonl", "-o", str(out)]
    first = _invoke(*args, "--base-url", fake_model)
    assert first.exit_code == 3, first.stderr
    before = out.read_text(encoding="utf-8")
    again = _invoke(*args, "--resume", "--base-url", fake_model)
    assert again.exit_code == 0, again.stderr
    assert out.read_text(encoding="utf-8") == before
    assert "0 extracted, 0 errors, 4 skipped" in again.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input-format", "xml"], "unknown input format 'xml': use auto, text, jsonl"),
        (["--input-format", "jsonl", "-"], "--input-format jsonl reads rows from files, not stdin"),
    ],
)
def test_input_options_are_checked_in_one_line(args: list[str], message: str) -> None:
    result = _invoke("extract", *(args if "-" in args else [*args, str(SEED)]), *REPLAY)
    assert result.exit_code == 2
    assert _error_lines(result.stderr)[0].startswith(f"extractor: error: {message}")


def test_a_bad_run_date_is_refused() -> None:
    result = _invoke("extract", str(SEED), "--date", "12/04/2022", *REPLAY)
    assert result.exit_code == 2
    assert "12/04/2022" in result.stderr


def test_parquet_without_pyarrow_is_one_line_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(extractor.cli, "parquet_available", lambda: False)
    path = tmp_path / "c.parquet"
    path.write_bytes(b"PAR1")
    result = _invoke("extract", str(path), *REPLAY)
    assert result.exit_code == 2
    assert _error_lines(result.stderr) == [
        "extractor: error: Parquet input needs pyarrow: pip install 'extractor[parquet]'"
    ]


def test_dry_run_prints_tokens_and_price_and_makes_no_call(tmp_path: Path) -> None:
    """No key, no server: the estimate for the seed, priced from the table, and nothing sent."""
    from extractor.model.cost import estimate_run, load_prices

    result = _invoke("extract", str(SEED), "--dry-run", "--model", "gpt-4o")
    assert result.exit_code == 0, result.stderr
    estimate = estimate_run([SEED], Settings(model="gpt-4o"))
    assert f"prompt tokens: {estimate.prompt_tokens:,}" in result.stdout
    assert f"completion tokens: {estimate.completion_tokens:,}" in result.stdout
    listed = load_prices().lookup("openai", "gpt-4o")
    assert listed is not None
    by_hand = estimate.prompt_tokens * listed.input + estimate.completion_tokens * listed.output
    assert f"price batch: ${by_hand / 1e6 * 0.5:.4f}" in result.stdout
    assert "price live (openai gpt-4o)" in result.stdout


def test_max_cost_under_the_estimate_is_refused_before_any_call(fake_model: str) -> None:
    """A budget the estimate already exceeds ends the run at start, with one line."""
    result = _invoke(
        "extract", str(SEED), "--base-url", fake_model, "--price-in", "1000", "--price-out",
        "1000", "--max-cost", "0.01",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "over --max-cost" in result.stderr and result.stdout == ""


def test_max_cost_stops_a_run_before_the_document_that_would_pass_it(
    fake_model: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answers dearer than the estimate: a budget of about two documents stops after two."""
    import dataclasses

    real = extractor.cli.estimate_run
    monkeypatch.setattr(
        extractor.cli,
        "estimate_run",
        lambda *a, **k: dataclasses.replace(real(*a, **k), price_live=0.0),
    )
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(6):
        _copy_seed(folder, f"a{i}.txt").write_text(
            SEED.read_text(encoding="utf-8") + f"\nItem {i}.", encoding="utf-8"
        )
    out = tmp_path / "out.jsonl"
    common = ("extract", str(folder), "--base-url", fake_model, "-f", "jsonl", "-o", str(out),
              "--price-in", "1000", "--price-out", "1000", "--concurrency", "1")  # fmt: skip
    probe = _invoke("extract", str(SEED), "--base-url", fake_model, "--no-cache")
    assert probe.exit_code == 0, probe.stderr
    one = json.loads(probe.stdout)["run"]["usage"]["total_tokens"] * 1000 / 1e6
    result = _invoke(*common, "--no-cache", "--max-cost", f"{one * 2.5:.6f}")
    assert result.exit_code == 1, result.stderr
    assert "stopped:" in result.stderr and "--resume" in result.stderr
    assert 1 <= len(out.read_text(encoding="utf-8").splitlines()) <= 3
    assert re.search(r"tokens spent, \$\d+\.\d{4}", result.stderr)


def test_base_url_repeated_spreads_documents_over_the_servers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two --base-url values: one fleet, both servers answer, every document is extracted."""
    from extractor.testing.fakeserver import FakeServerConfig, run_in_thread

    first, stop_first, first_stats = run_in_thread(FakeServerConfig(latency=0.05))
    second, stop_second, second_stats = run_in_thread(FakeServerConfig(latency=0.05))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-cli-fleet-test")
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(8):
        (folder / f"a{i}.txt").write_text(
            SEED.read_text(encoding="utf-8") + f"\nItem {i}.", encoding="utf-8"
        )
    try:
        result = _invoke(
            "extract", str(folder), "--base-url", first, "--base-url", second,
            "--replica-concurrency", "2", "--concurrency", "4", "-f", "jsonl", "--no-cache",
        )  # fmt: skip
    finally:
        stop_first()
        stop_second()
    assert result.exit_code == 0, result.stderr
    assert len(_records(result.stdout)) == 8
    assert first_stats["requests"] > 0 and second_stats["requests"] > 0


def test_a_concurrency_past_the_open_file_limit_is_warned_of_once(tmp_path: Path) -> None:
    """With room for 300 open files and no way to raise it, --concurrency 1000 says so in
    one line naming ulimit, and the run still goes on."""
    resource = pytest.importorskip("resource")

    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (300, 300))

    done = _subprocess(
        "extract", str(SEED), *REPLAY, "--concurrency", "1000",
        cwd=tmp_path, text=True, preexec_fn=low_limit,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (warning,) = [line for line in done.stderr.splitlines() if "warning" in line]
    assert "--concurrency 1000 needs about 1064 open files" in warning
    assert "allows 300 (ulimit -n)" in warning
    assert json.loads(done.stdout)["kind"] == "extraction"
