"""Many documents at once: bounded concurrency, results as they complete, resume.

A fixed number of workers pull inputs from one shared iterator, so memory holds
``concurrency`` documents in flight, not the corpus: a table file (JSONL, CSV,
Parquet, a JSON array) is expanded into its rows lazily, a small batch of rows
at a time, as the workers ask for them. They share one limiter
with every chunk of every document, so ``concurrency`` also bounds the requests
in flight. Files are read in a worker thread: a slow disk or a stalled network
mount must not stop the event loop and every request with it. Each result (or
error record) is handed on the moment it is ready, which lets the CLI write it
to JSONL at once. A ``ConfigurationError`` (a refused key, an unknown model)
would be met by every document alike, so it ends the run instead of becoming
an error record per document.

Resuming reads what an earlier run wrote and skips documents already done,
keyed by source and text hash; it refuses an output that is not this tool's
JSONL, or one written with another model or prompt version.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import shutil
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extractor._exceptions import ConfigurationError, ExtractorError, InputError
from extractor._redact import scrub
from extractor.model.client import ModelClient
from extractor.model.prompting import load_prompt
from extractor.read.corpus import BadRow, format_of, iter_documents
from extractor.read.document import STDIN, Document, read_document, with_run_date
from extractor.runner import Limiter, extract_document, gather_or_cancel
from extractor.schemas import ErrorRecord, Result
from extractor.settings import Settings

log = logging.getLogger(__name__)

ResumeKey = tuple[str, str]
"""A document's identity for resuming: its source and its text's SHA-256. Two inputs with
the same text are two documents; a file whose text changed is a new one."""
_PERMANENT = {cls.__name__ for cls in InputError.__subclasses__()} | {"InputError"}
_KINDS = ("extraction", "error")
_TORN = re.compile(rb'\{\s*"kind"\s*:')
"""How a line of ours cut short begins (the first line of a file has nothing else to go by)."""


@dataclass
class ResumeState:
    """What an earlier run already wrote to the output, and should not be done again.

    Dropped lines come in three kinds: ``torn``, a last line cut short by a
    killed run (normal; its document is done again); ``retried``, transient
    errors whose documents are tried again; ``foreign``, lines that are not
    records of ours (a damaged file), for which the original is kept at
    ``backup`` before the rewrite.
    """

    done: set[ResumeKey] = field(default_factory=set)
    failed_for_good: set[str] = field(default_factory=set)
    kept: int = 0
    torn: int = 0
    retried: int = 0
    foreign: int = 0
    backup: Path | None = None

    @property
    def dropped(self) -> int:
        return self.torn + self.retried + self.foreign

    def skip(self, document: Document) -> bool:
        return (document.source, document.sha256) in self.done

    def report(self, path: Path) -> str:
        """One line saying what the resume dropped from ``path``, or "" when nothing."""
        if not self.dropped:
            return ""
        parts = [
            f"{n} {what}"
            for n, what in (
                (self.torn, "cut short"),
                (self.retried, "transient errors to retry"),
                (self.foreign, "not records of this tool"),
            )
            if n
        ]
        line = (
            f"resuming {path}: kept {self.kept} lines, dropped {self.dropped} ({', '.join(parts)})"
        )
        return line + (f"; the original is kept as {self.backup}" if self.backup else "")


def prepare_resume(path: Path, settings: Settings) -> ResumeState:
    """Read an output JSONL for resuming, and rewrite it to hold only lines to keep.

    Kept: extractions, and errors no rerun can fix (unreadable input). Dropped:
    a line cut short by a killed run, transient errors (network, model), whose
    documents are tried again, and lines that are not records of ours, after
    the original is copied to a backup. The rewrite is atomic (write, then
    rename) and skipped when nothing is dropped.

    Refused with a ``ConfigurationError``, the file untouched: a path that is
    not a regular file, a file whose first line is not a record of ours (a
    ``-f json`` output, someone's notes: rewriting would destroy it), and one
    holding extractions of another model or prompt version (keeping them
    would give those documents twice, or mix two runs in one output).
    """
    state = ResumeState()
    if not path.exists():
        return state
    if not path.is_file():
        raise ConfigurationError(f"cannot resume into {path}: not a regular file")
    model, version = settings.model, load_prompt().version
    tmp = path.with_name(path.name + ".resume-tmp")
    try:
        with path.open("rb") as handle, tmp.open("wb") as out:
            seen_record = False
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                record = _record(line)
                if record is None:
                    # Only the last line can lack its newline: a write cut short by a kill.
                    if not line.endswith(b"\n") and (seen_record or _TORN.match(line)):
                        state.torn += 1
                    elif not seen_record:
                        raise ConfigurationError(
                            f"cannot resume into {path}: line {number} is not a record of "
                            "extractor's JSONL output; use -o with a new file"
                        )
                    else:
                        state.foreign += 1
                    continue
                seen_record = True
                if record["kind"] == "extraction":
                    run = record["run"]
                    if run["model"] != model:
                        raise ConfigurationError(
                            f"{path} was written with model {run['model']}, not {model}; "
                            f"resume with the same model (--model {run['model']}) "
                            "or write to a new output"
                        )
                    if run["prompt_version"] != version:
                        raise ConfigurationError(
                            f"{path} was written with prompt {run['prompt_version']}, not "
                            f"{version}; write to a new output to use this prompt"
                        )
                    doc = record["document"]
                    state.done.add((doc["source"], doc["sha256"]))
                elif record["error_type"] in _PERMANENT:
                    state.failed_for_good.add(record["source"])
                else:
                    state.retried += 1
                    continue
                state.kept += 1
                out.write(line)
            if state.dropped:
                out.flush()
                os.fsync(out.fileno())
        if state.dropped:
            if state.foreign:
                state.backup = _free_name(path.with_name(path.name + ".bak"))
                shutil.copy2(path, state.backup)
            tmp.replace(path)
    except OSError as exc:
        raise ConfigurationError(f"cannot resume {path}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return state


def _record(line: bytes) -> dict[str, Any] | None:
    """The line as one of our records, with the fields resuming reads; else None."""
    if not line.endswith(b"\n"):
        return None  # cut short, even if what is there parses
    try:
        record = json.loads(line)
    except ValueError:  # also undecodable UTF-8
        return None
    if not isinstance(record, dict) or record.get("kind") not in _KINDS:
        return None
    try:
        if record["kind"] == "extraction":
            doc, run = record["document"], record["run"]
            fields: tuple[object, ...] = (
                doc["source"],
                doc["sha256"],
                run["model"],
                run["prompt_version"],
            )
        else:
            fields = (record["source"], record["error_type"])
    except (KeyError, TypeError):
        return None
    return record if all(isinstance(f, str) for f in fields) else None


def _free_name(path: Path) -> Path:
    """``path``, or ``path.1``, ``path.2``...: the first that does not exist, so no backup
    replaces an earlier one."""
    candidate, n = path, 0
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}.{n}")
    return candidate


Skip = Callable[[Document], bool]
Input = str | Path | Document
"""What a batch takes: a path (a file, a table file of rows, ``"-"`` for stdin) or a
document already made."""
_Item = str | Path | Document | BadRow
_ROWS_PER_READ = 16
_BYTES_PER_READ = 1 << 20


async def _read(path: str | Path, max_bytes: int) -> Document:
    """``read_document`` off the event loop, so a slow read stalls one document, not the run.

    Stdin is read in a daemon thread of its own: a read blocked on a terminal
    or a pipe cannot be interrupted, and the default executor's threads are
    joined on exit, so Ctrl-C would otherwise wait for the writer forever.
    """
    if str(path) != STDIN:
        return await asyncio.to_thread(read_document, path, max_bytes=max_bytes)
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Document] = loop.create_future()

    def settle(result: Document | None, error: BaseException | None) -> None:
        if not future.done():
            future.set_exception(error) if error else future.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            result, error = read_document(path, max_bytes=max_bytes), None
        except BaseException as exc:  # handed to the awaiting task, as to_thread does
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name="extractor-stdin", daemon=True).start()
    return await future


async def iter_results(
    inputs: Iterable[Input],
    client: ModelClient,
    *,
    concurrency: int,
    skip: Skip | None = None,
    skip_sources: set[str] | None = None,
    shard: tuple[int, int] = (0, 1),
) -> AsyncIterator[tuple[int, Result | None]]:
    """``(input index, result)`` as each document completes; ``None`` for a skipped one.

    The index counts documents, each row of a table file one. ``shard=(k, n)``
    takes only the documents whose index is ``k`` modulo ``n``: the part of
    one of ``n`` processes sharing the run, each reading the same inputs. Raises
    ``ConfigurationError`` as soon as one document meets it, with the
    documents in flight cancelled: what was yielded before stays valid.
    """
    settings: Settings = client.settings
    items = _expand(inputs, settings, skip_sources or set())
    lock = asyncio.Lock()  # an async generator cannot be advanced by two workers at once
    counter = iter(range(1 << 62))
    limiter = Limiter(concurrency)
    queue: asyncio.Queue[tuple[int, Result | None] | None] = asyncio.Queue()

    part, parts = shard

    async def take() -> tuple[int, _Item] | None:
        async with lock:
            while (item := await anext(items, None)) is not None:
                if (index := next(counter)) % parts == part:
                    return index, item
            return None

    async def one(item: _Item) -> Result | None:
        source = _source(item)
        if skip_sources and source in skip_sources:
            return None
        try:
            if isinstance(item, BadRow):
                raise item.error
            if isinstance(item, Document):
                document = item
            else:
                document = await _read(item, settings.max_input_bytes)
            if skip and skip(document):
                return None
            document = with_run_date(document, settings.published)
            return await extract_document(document, client, limiter=limiter)
        except ConfigurationError:
            raise  # every other document would fail alike: end the run
        except ExtractorError as exc:
            return ErrorRecord(source=source, error_type=type(exc).__name__, message=str(exc))
        except Exception as exc:  # a bug must cost one document, not the batch
            log.exception("unexpected failure on %s", source)
            return ErrorRecord(
                source=source,
                error_type="InternalError",
                message=scrub(f"unexpected {type(exc).__name__}: {exc}"),  # not ours: unscrubbed
            )

    async def worker() -> None:
        while (taken := await take()) is not None:  # each input goes to one worker
            index, item = taken
            await queue.put((index, await one(item)))

    async def run_workers() -> None:
        try:
            await gather_or_cancel(worker() for _ in range(max(concurrency, 1)))
        finally:
            await items.aclose()  # no worker is in it any more: its table file closes now
            await queue.put(None)

    runner = asyncio.create_task(run_workers())
    try:
        while (item := await queue.get()) is not None:
            yield item
        await runner  # surface a failure of the runner itself
    finally:
        runner.cancel()


def _source(item: _Item) -> str:
    """The name an item's result or error record goes by."""
    if isinstance(item, Document | BadRow):
        return item.source
    return str(item)


async def _expand(
    inputs: Iterable[Input], settings: Settings, skip_sources: set[str]
) -> AsyncGenerator[_Item, None]:
    """Every document-to-be of the inputs, in order: table files give their rows.

    Rows are read in a worker thread, a few at a time (at most
    ``_ROWS_PER_READ`` rows or about ``_BYTES_PER_READ`` bytes of text), so a
    slow disk stalls no request and memory holds a handful of rows ahead of
    the workers, not the file. A table file that failed for good in an earlier
    run (missing, unreadable) is passed on whole, to be skipped by its name.
    """
    for item in inputs:
        if isinstance(item, Document):
            yield item
            continue
        fmt = format_of(item, settings.input_format)
        if fmt == "text" or str(item) in skip_sources:
            yield item
            continue
        rows = iter_documents(item, fmt, settings.input_fields, max_bytes=settings.max_input_bytes)
        try:
            while batch := await asyncio.to_thread(_next_rows, rows):
                for row in batch:
                    yield row
        finally:
            # A worker cancelled while its thread reads leaves the generator running: it
            # cannot be closed then, and is collected (its file closed) once the read ends.
            with contextlib.suppress(ValueError):
                rows.close()


def _next_rows(rows: Generator[Document | BadRow, None, None]) -> list[Document | BadRow]:
    """The next few rows: up to ``_ROWS_PER_READ``, fewer once ``_BYTES_PER_READ`` of text."""
    batch: list[Document | BadRow] = []
    size = 0
    for row in rows:
        batch.append(row)
        size += len(row.text) if isinstance(row, Document) else 0
        if len(batch) >= _ROWS_PER_READ or size >= _BYTES_PER_READ:
            break
    return batch
