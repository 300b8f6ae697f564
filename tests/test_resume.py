"""``--resume``: what it keeps, what it refuses to touch, and how documents are keyed."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from extractor._exceptions import ConfigurationError
from extractor.batch import prepare_resume
from extractor.cli import app
from extractor.model.prompting import load_prompt
from extractor.settings import Settings

from .conftest import CASSETTES, SEED

runner = CliRunner()
REPLAY = ["--replay", str(CASSETTES)]


def _resume(out: Path, *inputs: Path, extra: tuple[str, ...] = ()) -> Any:
    args = ["extract", *map(str, inputs), "-f", "jsonl", "-o", str(out), "--resume"]
    return runner.invoke(app, [*args, *REPLAY, *extra])


def _copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copyfile(SEED, target)
    return target


def _sources(out: Path) -> list[str]:
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return sorted(
        r["document"]["source"] if r["kind"] == "extraction" else r["source"] for r in records
    )


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("extractor: error:")]


def _record(source: str, model: str = "m", sha256: str = "abc") -> str:
    run = {"model": model, "prompt_version": load_prompt().version}
    return json.dumps(
        {"kind": "extraction", "document": {"source": source, "sha256": sha256}, "run": run}
    )


# --------------------------------------------------------------------------- not our file


@pytest.mark.parametrize(
    "content",
    [
        '[\n  {\n    "kind": "extraction"\n  }\n]\n',  # an earlier -f json output of a batch
        '{\n  "kind": "extraction",\n  "meetings": []\n}\n',  # -f json of one file
        "Notes for Monday\n- call the desk\n",
        "document,record,quote\na.txt,meeting,Putin met Zhang\n",  # a CSV output
        '{"name": "a config file"}\n',
        "a single line without a newline",
    ],
    ids=["json-array", "json-object", "notes", "csv", "other-json", "one-line"],
)
def test_resume_refuses_a_file_it_did_not_write(tmp_path: Path, content: str) -> None:
    """A file that is not this tool's JSONL is left byte for byte as it was, with one line."""
    out = tmp_path / "out.jsonl"
    out.write_text(content, encoding="utf-8")
    result = _resume(out, _copy(tmp_path, "a.txt"))
    assert result.exit_code == ConfigurationError.exit_code
    (error,) = _errors(result.stderr)
    assert f"cannot resume into {out}" in error and "not a record" in error
    assert result.stderr.count("\n") == 1
    assert out.read_text(encoding="utf-8") == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "out.jsonl"]


def test_resume_refuses_an_output_that_is_not_a_regular_file(tmp_path: Path) -> None:
    """A directory (or FIFO) named as the output is refused, not opened."""
    out = tmp_path / "out.jsonl"
    out.mkdir()
    result = _resume(out, _copy(tmp_path, "a.txt"))
    assert result.exit_code == ConfigurationError.exit_code
    assert _errors(result.stderr) == [
        f"extractor: error: cannot resume into {out}: not a regular file"
    ]
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "fifo.jsonl"
        os.mkfifo(fifo)
        with pytest.raises(ConfigurationError, match="not a regular file"):
            prepare_resume(fifo, Settings(model="m", cache=False))


def test_a_damaged_line_is_dropped_reported_and_the_original_kept(tmp_path: Path) -> None:
    """Our JSONL with a garbled line goes on; stderr counts the drop; a backup keeps the rest."""
    out = tmp_path / "out.jsonl"
    a, b = _copy(tmp_path, "a.txt"), _copy(tmp_path, "b.txt")
    first = runner.invoke(app, ["extract", str(a), "-f", "jsonl", "-o", str(out), *REPLAY])
    assert first.exit_code == 0, first.stderr
    original = out.read_text(encoding="utf-8") + "garbage from an editor\n"
    out.write_text(original, encoding="utf-8")
    result = _resume(out, a, b)
    assert result.exit_code == 0, result.stderr
    note = result.stderr.splitlines()[0]
    backup = tmp_path / "out.jsonl.bak"
    assert note == (
        f"extractor: resuming {out}: kept 1 lines, dropped 1 (1 not records of this tool); "
        f"the original is kept as {backup}"
    )
    assert backup.read_text(encoding="utf-8") == original
    assert _sources(out) == [str(a), str(b)]
    # A second damaged resume does not overwrite the first backup.
    out.write_text(out.read_text(encoding="utf-8") + "{broken\n", encoding="utf-8")
    again = _resume(out, a, b)
    assert again.exit_code == 0, again.stderr
    assert (tmp_path / "out.jsonl.bak.1").exists() and backup.read_text(
        encoding="utf-8"
    ) == original


def test_a_line_cut_short_by_a_kill_is_dropped_without_a_backup(tmp_path: Path) -> None:
    """The torn last line a kill leaves is normal: dropped, said, and no backup made."""
    out = tmp_path / "out.jsonl"
    a, b = _copy(tmp_path, "a.txt"), _copy(tmp_path, "b.txt")
    assert (
        runner.invoke(app, ["extract", str(a), "-f", "jsonl", "-o", str(out), *REPLAY]).exit_code
        == 0
    )
    with out.open("a", encoding="utf-8") as handle:
        handle.write('{"kind":"extraction","document":{"id":"ad9d')
    result = _resume(out, a, b)
    assert result.exit_code == 0, result.stderr
    assert f"resuming {out}: kept 1 lines, dropped 1 (1 cut short)" in result.stderr
    assert "original" not in result.stderr
    assert not (tmp_path / "out.jsonl.bak").exists()
    assert _sources(out) == [str(a), str(b)]


def test_a_file_holding_only_a_torn_first_line_resumes(tmp_path: Path) -> None:
    """Killed while writing its very first line, the output is still ours to resume."""
    out = tmp_path / "out.jsonl"
    out.write_text('{"kind":"extraction","docu', encoding="utf-8")
    a = _copy(tmp_path, "a.txt")
    result = _resume(out, a)
    assert result.exit_code == 0, result.stderr
    assert _sources(out) == [str(a)]


def test_resume_with_nothing_dropped_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    """Nothing to drop: no rewrite, no note; the bytes and the inode stay."""
    out = tmp_path / "out.jsonl"
    text = _record("a.txt") + "\n" + _record("b.txt", sha256="def") + "\n"
    out.write_text(text, encoding="utf-8")
    inode = out.stat().st_ino
    state = prepare_resume(out, Settings(model="m", cache=False))
    assert (state.kept, state.dropped, state.report(out)) == (2, 0, "")
    assert out.read_text(encoding="utf-8") == text and out.stat().st_ino == inode


def test_records_missing_their_keys_are_not_taken_for_ours(tmp_path: Path) -> None:
    """A line with our kind but without the fields resuming reads is a damaged line, not a crash."""
    out = tmp_path / "out.jsonl"
    lines = [_record("a.txt"), '{"kind": "extraction"}', '{"kind": "error", "source": 3}', "[1, 2]"]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    state = prepare_resume(out, Settings(model="m", cache=False))
    assert (state.kept, state.foreign) == (1, 3)
    assert state.backup is not None and state.backup.name == "out.jsonl.bak"
    assert out.read_text(encoding="utf-8") == lines[0] + "\n"


# --------------------------------------------------------------------------- keys


def test_two_inputs_with_the_same_text_are_both_written(tmp_path: Path) -> None:
    """Syndicated copies (same text, other files) are two documents: resume skips neither."""
    out = tmp_path / "out.jsonl"
    a, b = _copy(tmp_path, "a.txt"), _copy(tmp_path, "b.txt")
    assert (
        runner.invoke(app, ["extract", str(a), "-f", "jsonl", "-o", str(out), *REPLAY]).exit_code
        == 0
    )
    result = _resume(out, a, b)
    assert result.exit_code == 0, result.stderr
    assert "1 extracted, 0 errors, 1 skipped" in result.stderr
    assert _sources(out) == [str(a), str(b)]
    again = _resume(out, a, b)  # all done: nothing more is written
    assert "0 extracted, 0 errors, 2 skipped" in again.stderr
    assert _sources(out) == [str(a), str(b)]


def test_resume_with_another_model_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    """Another --model would write every document a second time: refused, the file untouched."""
    out = tmp_path / "out.jsonl"
    a, b = _copy(tmp_path, "a.txt"), _copy(tmp_path, "b.txt")
    assert (
        runner.invoke(app, ["extract", str(a), "-f", "jsonl", "-o", str(out), *REPLAY]).exit_code
        == 0
    )
    before = out.read_bytes()
    written_with = json.loads(before)["run"]["model"]
    result = _resume(out, a, b, extra=("--model", "another-model"))
    assert result.exit_code == ConfigurationError.exit_code
    assert _errors(result.stderr) == [
        f"extractor: error: {out} was written with model {written_with}, not another-model; "
        f"resume with the same model (--model {written_with}) or write to a new output"
    ]
    assert out.read_bytes() == before


def test_resume_with_another_prompt_version_is_refused(tmp_path: Path) -> None:
    """Extractions of another prompt version are not mixed with this one's."""
    out = tmp_path / "out.jsonl"
    record = json.loads(_record("a.txt"))
    record["run"]["prompt_version"] = "0.old"
    out.write_text(json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"written with prompt 0\.old, not .*new output"):
        prepare_resume(out, Settings(model="m", cache=False))
    assert json.loads(out.read_text(encoding="utf-8")) == record


def test_a_changed_file_is_extracted_again(tmp_path: Path) -> None:
    """The key holds the text's hash: a file edited since the first run is a new document."""
    out = tmp_path / "out.jsonl"
    a = _copy(tmp_path, "a.txt")
    out.write_text(_record(str(a), model="gpt-4o-mini", sha256="old") + "\n", encoding="utf-8")
    result = _resume(out, a)
    assert result.exit_code == 0, result.stderr
    assert "1 extracted, 0 errors, 0 skipped" in result.stderr
