"""One document through the stages: chunks, prompt, model, grounding and assembly."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType
from typing import TypeVar

from extractor._exceptions import ConfigurationError
from extractor.ground.assemble import assemble, document_info
from extractor.ground.support import Article, review
from extractor.model.cache import result_key
from extractor.model.client import DraftAnswer, ModelClient, Verdict
from extractor.model.prompting import Prompt, load_prompt
from extractor.read.chunking import Chunk, split
from extractor.read.document import Document
from extractor.schemas import Extraction, RunInfo, Usage
from extractor.schemas.draft import DraftExtraction, combine

T = TypeVar("T")

DEFAULT_CONCURRENCY = 4
"""Requests in flight for one document extracted on its own (``aextract``): the same as
``aextract_paths``'s default, so a long article alone cannot send all its chunks at once."""


class Limiter:
    """The run's permits for model requests, shared by every document and chunk.

    ``async with limiter:`` around one ask (its re-asks go one after another)
    keeps the requests in flight at most ``permits``, however many chunks
    wait. Once an ask fails with a ``ConfigurationError`` (a refused key, an
    unknown model) no permit is granted any more: a waiter woken by the failed
    ask's release would otherwise send its request before the cancellation
    that ends the run reaches it.
    """

    def __init__(self, permits: int) -> None:
        self._permits = asyncio.Semaphore(max(permits, 1))
        self.stopped: ConfigurationError | None = None

    async def __aenter__(self) -> None:
        await self._permits.acquire()
        if self.stopped is not None:
            self._permits.release()
            raise ConfigurationError(str(self.stopped))

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(exc, ConfigurationError):
            self.stopped = exc  # before the release, so the next holder sees it
        self._permits.release()


async def gather_or_cancel(aws: Iterable[Awaitable[T]]) -> list[T]:
    """``asyncio.gather``, except that the first failure cancels the rest.

    Plain ``gather`` lets the others run on after one fails; their answers
    would be thrown away, and each of them costs requests (a refused key
    would be met once per chunk or per worker instead of once).
    """
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()  # a no-op for the finished ones
        await asyncio.gather(*tasks, return_exceptions=True)  # none outlives the call


async def _ask_chunk(
    document: Document,
    chunk: Chunk,
    client: ModelClient,
    prompt: Prompt,
    whole: Article,
    limiter: Limiter,
) -> DraftAnswer:
    """The model's answer for one chunk; its support is checked against that chunk's text.

    A one-chunk document is checked against ``whole``, the article assembly
    checks it against again, so what it looks up is built once. The ask holds
    one of the run's ``limiter`` permits.
    """
    async with limiter:
        part, messages = prompt.for_chunk(document, chunk, mode=client.settings.output_mode)
        if chunk.count == 1:
            return await client.ask(messages, _checker(whole))
        answer = await client.ask(messages, _checker(Article(part.text)))
    label = f"part {chunk.index + 1}/{chunk.count}"
    answer.warnings = [f"{label}: {w}" for w in answer.warnings]
    return answer


def _checker(article: Article) -> Callable[[DraftExtraction], Verdict]:
    """What the model client re-asks about (every finding of the support check), and how
    many records survive it (which attempt is best when none is fully supported)."""

    def check(draft: DraftExtraction) -> Verdict:
        checked = review(draft, article)
        return Verdict(checked.problems(), len(checked.meetings) + len(checked.claims))

    return check


async def extract_document(
    document: Document, client: ModelClient, *, limiter: Limiter | None = None
) -> Extraction:
    """Extract one document through an open client (shared by every entry point).

    A document longer than ``chunk_chars`` is split; the chunks are asked
    concurrently and their drafts combined, then grounded against the whole
    text, so offsets always refer to the original document. ``limiter`` bounds
    the requests in flight: a batch passes the one its documents share, so a
    long article's chunks wait their turn with everyone else's; without one,
    the document gets ``DEFAULT_CONCURRENCY``.
    """
    if limiter is None:
        limiter = Limiter(DEFAULT_CONCURRENCY)
    return await _extract_cached(document, client, limiter, gather_or_cancel)


async def extract_settled(
    document: Document, client: ModelClient, *, waiting: type[BaseException]
) -> Extraction:
    """``extract_document``, except that every chunk is asked to its end, whatever the others do.

    The provider batch path (``extractor.batches``) runs a document over the
    answers it already holds: its transport answers a request it holds and,
    for one it lacks, notes the request and raises ``waiting``. Every chunk
    must get that far, so that one batch round asks for every answer the
    document still lacks; live, ``gather_or_cancel`` stops the other chunks at
    the first failure instead, to spare their calls. Once all chunks ended,
    the first failure that is not ``waiting`` is raised (the document has
    failed: asking for more would be waste), else the first ``waiting``.
    Everything else (the result cache, parsing, checks, re-asks, assembly) is
    the live path's own code.
    """

    async def settle(aws: Iterable[Awaitable[DraftAnswer]]) -> list[DraftAnswer]:
        outcomes = await asyncio.gather(*aws, return_exceptions=True)
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        if failures:
            raise next((f for f in failures if not isinstance(f, waiting)), failures[0])
        return [o for o in outcomes if not isinstance(o, BaseException)]

    return await _extract_cached(document, client, Limiter(DEFAULT_CONCURRENCY), settle)


_Gather = Callable[[Iterable[Awaitable[DraftAnswer]]], Awaitable[list[DraftAnswer]]]


async def _extract_cached(
    document: Document, client: ModelClient, limiter: Limiter, gather: _Gather
) -> Extraction:
    """The document's result from the result cache, else extracted and stored there."""
    settings = client.settings
    prompt = load_prompt()
    cache = client.cache
    if cache is None:
        return await _extract(document, client, prompt, limiter, gather)
    published = document.meta.published
    key = result_key(
        document.sha256, settings, prompt.version, published.isoformat() if published else ""
    )
    if (stored := cache.get_result(key)) is not None:
        return _from_cache(stored, document)
    result = await _extract(document, client, prompt, limiter, gather)
    cache.put_result(key, result.model_dump_json())
    return result


def _from_cache(stored: str, document: Document) -> Extraction:
    """A stored extraction, as found for this input now: its source, id, URL and title.

    The same text may come again from another file or row (syndicated wire
    copy), with metadata of its own; the records are the text's, the document
    block is this input's.
    """
    result = Extraction.model_validate_json(stored)
    return result.model_copy(
        update={
            "document": document_info(document),
            "run": result.run.model_copy(update={"cached": True}),
        }
    )


async def _extract(
    document: Document, client: ModelClient, prompt: Prompt, limiter: Limiter, gather: _Gather
) -> Extraction:
    settings = client.settings
    chunks = split(document.text, settings.chunk_chars, settings.chunk_overlap)
    whole = Article(document.text)
    if len(chunks) == 1:  # most documents: no task to schedule for the one ask
        answers = [await _ask_chunk(document, chunks[0], client, prompt, whole, limiter)]
    else:
        answers = await gather(
            _ask_chunk(document, c, client, prompt, whole, limiter) for c in chunks
        )
    run = RunInfo(
        model=settings.model,
        prompt_version=prompt.version,
        mode=settings.mode,
        attempts=sum(a.attempts for a in answers),
        usage=sum((a.usage for a in answers), Usage()),
        chunks=len(chunks),
    )
    return assemble(
        document,
        combine([a.draft for a in answers]),
        run,
        article=whole,
        warnings=[w for a in answers for w in a.warnings],
    )
