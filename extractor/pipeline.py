"""The pipeline end to end: document -> prompt -> model -> grounded Extraction.

The async functions are the real implementation; the sync ``extract`` runs
them on a private event loop (in a worker thread when the caller already has a
loop running, as in a notebook), so there is one code path to test.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import AsyncIterator, Awaitable, Iterable
from pathlib import Path
from typing import TypeVar

from ._exceptions import ExtractorError
from .assemble import assemble
from .document import Document, document_from_text, read_document
from .grounding import Aligner
from .llm import ModelClient
from .prompting import load_prompt
from .schemas import ErrorRecord, Extraction, RunInfo
from .settings import Settings

T = TypeVar("T")
log = logging.getLogger(__name__)


def _as_document(source: str | Document, name: str) -> Document:
    return source if isinstance(source, Document) else document_from_text(source, name)


async def extract_document(document: Document, client: ModelClient) -> Extraction:
    """One document through an open client."""
    prompt = load_prompt()
    aligner = Aligner(document.text)
    answer = await client.ask(prompt.messages(document), aligner)
    run = RunInfo(
        model=client.settings.model,
        prompt_version=prompt.version,
        mode=client.settings.mode,
        attempts=answer.attempts,
        usage=answer.usage,
    )
    return assemble(document, answer.draft, run, aligner=aligner, warnings=answer.warnings)


async def aextract(
    text: str | Document, *, settings: Settings | None = None, source: str = "<text>"
) -> Extraction:
    """Extract meetings and status claims from one article (text or ``Document``)."""
    settings = settings or Settings()
    settings.ensure_runnable()
    document = _as_document(text, source)
    async with ModelClient(settings) as client:
        return await extract_document(document, client)


def extract(
    text: str | Document, *, settings: Settings | None = None, source: str = "<text>"
) -> Extraction:
    """Blocking form of ``aextract``."""
    return _run(aextract(text, settings=settings, source=source))


async def aextract_paths(
    paths: Iterable[str | Path], *, settings: Settings | None = None, concurrency: int = 4
) -> AsyncIterator[Extraction | ErrorRecord]:
    """Extract many files; a bad file yields an ``ErrorRecord`` and the rest go on.

    Results come in input order.
    """
    settings = settings or Settings()
    settings.ensure_runnable()
    limit = asyncio.Semaphore(max(concurrency, 1))

    async def one(path: str | Path, client: ModelClient) -> Extraction | ErrorRecord:
        async with limit:
            try:
                document = read_document(path, max_bytes=settings.max_input_bytes)
                return await extract_document(document, client)
            except ExtractorError as exc:
                return ErrorRecord(
                    source=str(path), error_type=type(exc).__name__, message=str(exc)
                )
            except Exception as exc:  # a bug must cost one document, not the batch
                log.exception("unexpected failure on %s", path)
                return ErrorRecord(
                    source=str(path),
                    error_type="InternalError",
                    message=f"unexpected {type(exc).__name__}: {exc}",
                )

    async with ModelClient(settings) as client:
        tasks = [asyncio.ensure_future(one(p, client)) for p in paths]
        try:
            for task in tasks:
                yield await task
        finally:
            for task in tasks:
                task.cancel()


def _run(coro: Awaitable[T]) -> T:
    async def main() -> T:
        return await coro

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()
