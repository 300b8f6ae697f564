"""Tests for extractor.pipeline: the library entry points, sync, async and batch."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

import extractor.batch
import extractor.pipeline
from extractor import (
    ConfigurationError,
    EmptyInputError,
    ErrorRecord,
    Extraction,
    Settings,
    aextract,
    aextract_paths,
    document_from_text,
    extract,
)

from .conftest import CASSETTES, SEED


def _replay() -> Settings:
    return Settings(mode="replay", cassette_dir=CASSETTES, cache=False)


def _assert_seed(result: Extraction) -> None:
    assert isinstance(result, Extraction)
    assert len(result.meetings) == 3
    assert len(result.status_claims) == 4
    assert result.warnings == []


async def _collect(paths: list[Any], **kwargs: Any) -> list[ErrorRecord | Extraction]:
    return [result async for result in aextract_paths(paths, **kwargs)]


def test_extract_on_seed_text(seed_text: str) -> None:
    """The blocking ``extract`` returns the seed's Extraction, named by ``source``."""
    result = extract(seed_text, settings=_replay(), source="seed.txt")
    _assert_seed(result)
    assert result.document.source == "seed.txt"
    assert result.document.dateline_date is not None
    assert result.document.dateline_date.isoformat() == "2022-07-14"


def test_extract_accepts_a_document(seed_text: str) -> None:
    """A ``Document`` goes through as it is, keeping its own source."""
    document = document_from_text(seed_text, "from-a-document")
    result = extract(document, settings=_replay(), source="ignored")
    _assert_seed(result)
    assert result.document.source == "from-a-document"
    assert result.document.sha256 == document.sha256


async def test_aextract_on_seed(seed_text: str) -> None:
    """``aextract`` awaited on the seed gives the same records as the blocking form."""
    result = await aextract(seed_text, settings=_replay())
    _assert_seed(result)
    assert result.document.source == "<text>"


async def test_extract_inside_a_running_loop(seed_text: str) -> None:
    """Called from a coroutine (a notebook, a web handler), ``extract`` runs on another thread."""
    asyncio.get_running_loop()  # the premise: a loop is running here
    caller = threading.get_ident()
    seen: list[int] = []
    real_run = asyncio.run

    def spying_run(coro: Any, **kwargs: Any) -> Any:
        seen.append(threading.get_ident())
        return real_run(coro, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(asyncio, "run", spying_run)
        result = extract(seed_text, settings=_replay())
    _assert_seed(result)
    assert seen and all(ident != caller for ident in seen)


def test_extract_refuses_empty_text() -> None:
    """Blank text is refused with an input error before any model is asked."""
    with pytest.raises(EmptyInputError):
        extract("   \n", settings=_replay())


async def test_aextract_paths_in_input_order_with_one_worker(tmp_path: Path) -> None:
    """With one worker, results come in input order, and a bad file yields an ErrorRecord."""
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n")
    copy = tmp_path / "copy.txt"
    shutil.copyfile(SEED, copy)
    results = await _collect([SEED, bad, str(copy)], settings=_replay(), concurrency=1)
    assert [type(r) for r in results] == [Extraction, ErrorRecord, Extraction]
    first, error, last = results
    assert isinstance(first, Extraction) and first.document.source == str(SEED)
    assert isinstance(error, ErrorRecord)
    assert error.source == str(bad)
    assert error.error_type == "BinaryInputError"
    assert "PNG" in error.message
    assert isinstance(last, Extraction) and last.document.source == str(copy)
    _assert_seed(last)


async def test_aextract_paths_concurrent_gives_one_result_per_input(tmp_path: Path) -> None:
    """With several workers every input still yields exactly one result, errors included."""
    paths = []
    for i in range(4):
        target = tmp_path / f"doc{i}.txt"
        shutil.copyfile(SEED, target)
        paths.append(target)
    missing = tmp_path / "missing.txt"
    results = await _collect([*paths, missing], settings=_replay(), concurrency=3)
    sources = sorted(r.document.source if isinstance(r, Extraction) else r.source for r in results)
    assert sources == sorted(str(p) for p in [*paths, missing])
    errors = [r for r in results if isinstance(r, ErrorRecord)]
    assert [(e.source, e.error_type) for e in errors] == [(str(missing), "InputNotFoundError")]


async def test_unexpected_exception_becomes_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug while extracting one document becomes an InternalError record; the batch goes on."""
    boom = tmp_path / "boom.txt"
    shutil.copyfile(SEED, boom)
    real = extractor.batch.extract_document

    async def flaky(document: Any, client: Any, **kwargs: Any) -> Any:
        if document.source == str(boom):
            raise ZeroDivisionError(
                "division by zero in a test, Authorization: Bearer sk-abcdefghijklmnopqrstuv"
            )
        return await real(document, client, **kwargs)

    monkeypatch.setattr(extractor.batch, "extract_document", flaky)
    results = await _collect([boom, SEED], settings=_replay(), concurrency=1)
    assert len(results) == 2
    error, good = results
    assert isinstance(error, ErrorRecord)
    assert error.source == str(boom)
    assert error.error_type == "InternalError"
    assert "ZeroDivisionError" in error.message
    assert "sk-abcdefghijklmnopqrstuv" not in error.message  # a bug's message is scrubbed too
    _assert_seed(good)  # type: ignore[arg-type]


async def test_aextract_without_key_or_base_url_fails_before_any_request(
    seed_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No key and no base URL raise ConfigurationError before a client is even built."""
    built: list[Settings] = []

    class NoClient:
        def __init__(self, settings: Settings, *args: Any) -> None:
            built.append(settings)
            raise AssertionError("a model client was built")

    monkeypatch.setattr(extractor.pipeline, "ModelClient", NoClient)
    settings = Settings(cache=False)
    assert settings.api_key is None and settings.base_url is None
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        await aextract(seed_text, settings=settings)
    with pytest.raises(ConfigurationError):
        await _collect([SEED], settings=settings)
    with pytest.raises(ConfigurationError):
        await asyncio.to_thread(extract, seed_text)
    assert built == []


def test_default_settings_come_from_the_environment(
    seed_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ``settings=``, the entry points read the environment once, at the call."""
    monkeypatch.setenv("EXTRACTOR_MODE", "replay")
    monkeypatch.setenv("EXTRACTOR_CASSETTE_DIR", str(CASSETTES))
    monkeypatch.setenv("EXTRACTOR_CACHE", "false")
    _assert_seed(extract(seed_text))


async def test_aextract_paths_raises_a_refused_key_instead_of_an_error_per_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 401 ends the batch with ConfigurationError after at most ``concurrency`` requests."""
    from extractor.model.client import ModelClient

    from .test_runner import CountingTransport

    transport = CountingTransport()  # answers every request 401
    monkeypatch.setattr(
        extractor.pipeline, "ModelClient", lambda settings: ModelClient(settings, inner=transport)
    )
    paths = []
    for i in range(30):
        paths.append(tmp_path / f"doc{i}.txt")
        shutil.copyfile(SEED, paths[-1])
    settings = Settings(api_key="sk-wrong", cache=False, max_backoff=0.01)
    results: list[Any] = []
    with pytest.raises(ConfigurationError, match="401"):
        async for result in aextract_paths(paths, settings=settings, concurrency=3):
            results.append(result)
    assert results == [] and 1 <= transport.total <= 3


# --------------------------------------------------------------------------- corpora with metadata


def _corpus(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


async def test_aextract_paths_takes_files_rows_and_documents_alike(
    tmp_path: Path, seed_text: str
) -> None:
    """A text file, each row of a JSONL file and a ready Document are one result each; a
    row carries its metadata, and the run's date goes only where none was given."""
    corpus = _corpus(
        tmp_path / "c.jsonl",
        [
            {"id": "r1", "url": "https://x.example/r1", "title": "T1", "text": seed_text},
            {"id": "r2", "date": "2022-07-13", "text": seed_text},
            {"id": "r3"},
        ],
    )
    document = document_from_text(seed_text, "given")
    settings = Settings(
        mode="replay", cassette_dir=CASSETTES, cache=False, published=dt.date(2022, 7, 1)
    )
    results = await _collect([SEED, corpus, document], settings=settings, concurrency=1)
    sources = [r.document.source if isinstance(r, Extraction) else r.source for r in results]
    assert sources == [str(SEED), f"{corpus}#1", f"{corpus}#2", f"{corpus}#3", "given"]
    seed, r1, r2, bad, given = results
    assert isinstance(r1, Extraction) and isinstance(r2, Extraction)
    assert (r1.document.input_id, r1.document.url, r1.document.title) == (
        "r1",
        "https://x.example/r1",
        "T1",
    )
    assert r1.document.offsets_refer_to == "body"
    assert r1.document.published == dt.date(2022, 7, 1)  # the run's date: the row has none
    assert r2.document.published == dt.date(2022, 7, 13)  # the row's own date wins
    assert isinstance(seed, Extraction) and seed.document.offsets_refer_to == "file"
    assert isinstance(bad, ErrorRecord) and bad.error_type == "MetadataError"
    assert bad.message.startswith(f"{corpus}#3: no text field")
    assert isinstance(given, Extraction) and given.document.published == dt.date(2022, 7, 1)
    assert (len(r1.meetings), len(r1.status_claims)) == (3, 4)


async def test_rows_are_read_as_the_workers_ask_for_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large corpus is not read ahead of the workers: a few batches at most."""
    corpus = _corpus(tmp_path / "c.jsonl", [{"text": f"Row {i}."} for i in range(2000)])
    read = 0
    real_iter = extractor.batch.iter_documents

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal read
        for item in real_iter(*args, **kwargs):
            read += 1
            yield item

    async def quick(document: Any, client: Any, **kwargs: Any) -> Any:
        return ErrorRecord(source=document.source, error_type="Test", message="not extracted")

    monkeypatch.setattr(extractor.batch, "iter_documents", counting)
    monkeypatch.setattr(extractor.batch, "extract_document", quick)
    seen = 0
    async for _ in aextract_paths([corpus], settings=_replay(), concurrency=2):
        seen += 1
        assert read <= seen + 2 * extractor.batch._ROWS_PER_READ + 2
        if seen == 50:
            break
    assert read < 200


async def test_a_missing_corpus_is_one_error_record(tmp_path: Path) -> None:
    missing = tmp_path / "none.csv"
    (error,) = await _collect([missing], settings=_replay())
    assert isinstance(error, ErrorRecord)
    assert (error.source, error.error_type) == (str(missing), "InputNotFoundError")


def test_extract_reads_a_header_block(seed_text: str) -> None:
    """A text handed to ``extract`` may carry its metadata in a header block."""
    text = "url: https://x.example/seed\ntitle: The seed\n\n" + seed_text
    result = extract(text, settings=_replay(), source="seed")
    _assert_seed(result)
    assert (result.document.url, result.document.title) == ("https://x.example/seed", "The seed")
    assert result.document.offsets_refer_to == "body"
    assert result.document.sha256 == document_from_text(seed_text, "seed").sha256
