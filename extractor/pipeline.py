"""The public entry points: one article, or many files and corpus rows.

The async functions are the real implementation; the sync ``extract`` runs
them on a private event loop (in a worker thread when the caller already has a
loop running, as in a notebook), so there is one code path to test.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import AsyncGenerator, AsyncIterator, Coroutine, Iterable
from typing import Any, TypeVar

from extractor.batch import Input, Result, ResumeState, iter_results, prepare_resume
from extractor.model.client import ModelClient
from extractor.read.document import Document, document_from_text, with_run_date
from extractor.runner import extract_document
from extractor.schemas import Extraction
from extractor.settings import Settings

__all__ = [
    "ResumeState",
    "aextract",
    "aextract_indexed",
    "aextract_paths",
    "extract",
    "extract_document",
    "prepare_resume",
]

T = TypeVar("T")


def _as_document(source: str | Document, name: str) -> Document:
    return source if isinstance(source, Document) else document_from_text(source, name)


async def aextract(
    text: str | Document, *, settings: Settings | None = None, source: str = "<text>"
) -> Extraction:
    """Extract meetings and status claims from one article (text or ``Document``).

    A text may start with a header block (``date:``, ``url:``, ``title:``
    lines and a blank line, or front matter between ``---`` lines): it becomes
    the document's metadata, and offsets refer to the text after it.
    """
    settings = settings or Settings()
    settings.ensure_runnable()
    document = with_run_date(_as_document(text, source), settings.published)
    async with ModelClient(settings) as client:
        return await extract_document(document, client)


def extract(
    text: str | Document, *, settings: Settings | None = None, source: str = "<text>"
) -> Extraction:
    """Blocking form of ``aextract``."""
    return _run(aextract(text, settings=settings, source=source))


async def aextract_paths(
    paths: Iterable[Input], *, settings: Settings | None = None, concurrency: int = 4
) -> AsyncIterator[Result]:
    """Extract many files, yielding each result as it completes (not in input order).

    A table file (``.jsonl``/``.ndjson``, ``.csv``, ``.tsv``, ``.parquet``, or
    a ``.json`` array; ``settings.input_format`` overrides the extension)
    gives one document per row, read lazily, its metadata from the fields
    ``settings.input_fields`` names; a ``Document`` is taken as it is. A file
    or row that cannot be read or extracted yields an ``ErrorRecord`` and the
    rest go on; ``Extraction.document.source`` / ``ErrorRecord.source`` say
    which file (``FILE#N`` for a row) a result belongs to. ``concurrency`` bounds the model requests
    in flight, chunks of long documents included. A ``ConfigurationError``
    met on the way (the server refuses the key, does not know the model) is
    raised at once, the documents in flight cancelled: every other document
    would fail the same way.
    """
    settings = settings or Settings()
    settings.ensure_runnable()
    async with ModelClient(settings) as client:
        async for _, result in iter_results(paths, client, concurrency=concurrency):
            if result is not None:
                yield result


async def aextract_indexed(
    paths: Iterable[Input],
    *,
    settings: Settings,
    concurrency: int = 4,
    resume: ResumeState | None = None,
    shard: tuple[int, int] = (0, 1),
) -> AsyncGenerator[tuple[int, Result | None], None]:
    """``(index, result)`` for every document (a row counts as one) as it completes; what the
    CLI runs on.

    With ``resume`` (from ``prepare_resume`` on an earlier output, which
    checks it was written with this model and prompt), a document already
    extracted (same source, same text), or an input that can never be read,
    yields ``None`` instead of being extracted again. ``shard=(k, n)``: only
    every ``n``-th document from the ``k``-th, one process's part of a run.
    """
    settings.ensure_runnable()
    async with ModelClient(settings) as client:
        async for item in iter_results(
            paths,
            client,
            concurrency=concurrency,
            skip=resume.skip if resume else None,
            skip_sources=resume.failed_for_good if resume else None,
            shard=shard,
        ):
            yield item


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
