"""Many documents at once: bounded concurrency, results as they complete, resume.

A fixed number of workers pull paths from one shared iterator, so memory holds
``concurrency`` documents in flight, not the corpus. Each result (or error
record) is handed on the moment it is ready, which lets the CLI write it to
JSONL at once. Resuming reads what an earlier run wrote and skips documents
already done, keyed by text hash, model and prompt version.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from extractor._exceptions import ExtractorError, InputError
from extractor.model.client import ModelClient
from extractor.read.document import Document, read_document
from extractor.runner import extract_document
from extractor.schemas import ErrorRecord, Result
from extractor.settings import Settings

log = logging.getLogger(__name__)

ResumeKey = tuple[str, str, str]
_PERMANENT = {cls.__name__ for cls in InputError.__subclasses__()} | {"InputError"}


def resume_key(sha256: str, model: str, prompt_version: str) -> ResumeKey:
    return (sha256, model, prompt_version)


@dataclass
class ResumeState:
    """What an earlier run already wrote to the output, and should not be done again."""

    done: set[ResumeKey] = field(default_factory=set)
    failed_for_good: set[str] = field(default_factory=set)
    kept: int = 0
    dropped: int = 0

    def skip(self, document: Document, model: str, prompt_version: str) -> bool:
        return resume_key(document.sha256, model, prompt_version) in self.done


def prepare_resume(path: Path) -> ResumeState:
    """Read an output JSONL for resuming, and rewrite it to hold only lines to keep.

    Kept: extractions, and errors no rerun can fix (unreadable input). Dropped:
    a line cut short by a killed run, and transient errors (network, model),
    whose documents are tried again. The rewrite is atomic (write, then rename).
    """
    state = ResumeState()
    if not path.exists():
        return state
    kept_lines: list[str] = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                record = json.loads(line)
                if not line.endswith("\n"):
                    raise ValueError("cut short")
            except ValueError:
                state.dropped += 1
                continue
            if record.get("kind") == "extraction":
                doc, run = record["document"], record["run"]
                state.done.add(resume_key(doc["sha256"], run["model"], run["prompt_version"]))
            elif record.get("kind") == "error" and record.get("error_type") in _PERMANENT:
                state.failed_for_good.add(record["source"])
            else:
                state.dropped += 1
                continue
            kept_lines.append(line)
    state.kept = len(kept_lines)
    tmp = path.with_name(path.name + ".resume-tmp")
    with tmp.open("w", encoding="utf-8") as out:
        out.writelines(kept_lines)
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(path)
    return state


Skip = Callable[[Document], bool]


async def iter_results(
    paths: Iterable[str | Path],
    client: ModelClient,
    *,
    concurrency: int,
    skip: Skip | None = None,
    skip_sources: set[str] | None = None,
) -> AsyncIterator[tuple[int, Result | None]]:
    """``(input index, result)`` as each document completes; ``None`` for a skipped one."""
    settings: Settings = client.settings
    numbered = iter(enumerate(paths))
    queue: asyncio.Queue[tuple[int, Result | None] | None] = asyncio.Queue()

    async def one(path: str | Path) -> Result | None:
        if skip_sources and str(path) in skip_sources:
            return None
        try:
            document = read_document(path, max_bytes=settings.max_input_bytes)
            if skip and skip(document):
                return None
            return await extract_document(document, client)
        except ExtractorError as exc:
            return ErrorRecord(source=str(path), error_type=type(exc).__name__, message=str(exc))
        except Exception as exc:  # a bug must cost one document, not the batch
            log.exception("unexpected failure on %s", path)
            return ErrorRecord(
                source=str(path),
                error_type="InternalError",
                message=f"unexpected {type(exc).__name__}: {exc}",
            )

    async def worker() -> None:
        for index, path in numbered:  # shared iterator: each path goes to one worker
            await queue.put((index, await one(path)))

    async def run_workers() -> None:
        try:
            await asyncio.gather(*(worker() for _ in range(max(concurrency, 1))))
        finally:
            await queue.put(None)

    runner = asyncio.create_task(run_workers())
    try:
        while (item := await queue.get()) is not None:
            yield item
        await runner  # surface a failure of the runner itself
    finally:
        runner.cancel()
