"""Submit and collect: documents through the provider's batch API, on the live path's code.

The live path asks, waits, parses, checks and perhaps re-asks, inside one
call. A batch answer comes hours later, in another process. So instead of
cutting the re-ask loop into resumable pieces, each document is *replayed*:
``runner.extract_settled`` runs the live path's own code, over the live HTTP
stack (response cache included), with ``HeldAnswers`` in place of the
network. That transport answers every request whose answer the state file
holds; for one it lacks, it notes the exact request body (and the response
cache's key for it, which becomes the batch ``custom_id``) and stops the
document with ``AnswerPending``. So:

* ``submit`` replays each new document: one found whole in the caches is
  done at once; the others leave the requests they need (one per chunk).
* ``collect`` downloads results into the state, then replays each document
  whose requests are all answered: it either finishes (the live path's
  record, byte for byte, the answers put in the response cache on the way
  by the cache layer) or stops at the next request it needs: a re-ask (the
  support check or the schema found a problem), which goes into the next
  round of batches. The live loop's own budget (``Settings.reasks``) bounds
  the rounds.

Failed, expired or missing lines are submitted again, up to ``MAX_TRIES``
submissions in all; then the document gets an error record. A kill at any
point loses nothing: every step is a transaction of the state file, a batch
is recorded as an intent before it is created, and the output's length is
recorded after each write (see ``write``).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx2
import orjson

from extractor._exceptions import (
    ConfigurationError,
    ExtractorError,
    InputError,
    TransportError,
)
from extractor._redact import scrub
from extractor.batch import _expand, _read
from extractor.batches.state import BatchStateFile, Wanted, pack
from extractor.model.batch_api import (
    BatchAPI,
    BatchHandle,
    BatchProgress,
    BatchRequest,
    RequestTooLarge,
    batch_api,
    split_for,
)
from extractor.model.cassette import keyed
from extractor.model.client import ModelClient
from extractor.model.providers import PROVIDERS
from extractor.read.corpus import BadRow
from extractor.read.document import Document, with_run_date
from extractor.runner import extract_settled
from extractor.schemas import ErrorRecord, Result
from extractor.settings import Settings
from extractor.write import jsonl_line

log = logging.getLogger(__name__)

MAX_TRIES = 3
"""Submissions of one request (the first and two more) before its document gets an error."""

_SHAPING = (
    "provider",
    "model",
    "output_mode",
    "max_tokens",
    "repetition_penalty",
    "reasks",
    "temperature",
    "chunk_chars",
    "chunk_overlap",
    "published",
    "input_format",
    "input_fields",
)
"""The settings that shape requests and records: a state's run keeps them throughout."""
_KEPT_OUT = {"api_key", "base_url_auth", "mode", "cassette_dir", "gguf"}
"""What the state file never holds: credentials, and what a batch run cannot use."""


class AnswerPending(Exception):
    """A replayed document needs an answer the state does not hold yet (control flow only:
    ``extract_settled`` lets it through, the engine catches it)."""


Checkpoint = Callable[[str], None]
"""Called after each step is written (``registered``, ``created``, ``downloaded``,
``replayed``, ``written``) and in the two gaps a kill can fall into (``submitted``: a batch
created at the provider, not yet recorded; ``appended``: records in the output, not yet
recorded): tests stop a run there, as a kill would."""


def stored_settings(settings: Settings) -> str:
    """The settings as the state keeps them: JSON, without credentials."""
    data = settings.model_dump(mode="json", exclude=_KEPT_OUT)
    return orjson.dumps(data).decode()


def settings_from_state(
    state: BatchStateFile, *, api_key: str | None = None, base_url: str | None = None
) -> Settings:
    """The run's settings, as ``submit`` stored them, with the key (and server) given now."""
    text = state.get_meta("settings")
    if text is None:
        raise ConfigurationError(f"{state.path} holds no batch run: run 'extractor batch submit'")
    data: dict[str, Any] = orjson.loads(text)
    if base_url:
        data["base_url"] = base_url
    if api_key:
        data["api_key"] = api_key
    try:
        settings = Settings(**data)
    except ValueError as exc:
        raise ConfigurationError(f"the settings in {state.path} do not validate: {exc}") from None
    settings.ensure_runnable()
    return settings


def check_same_run(state: BatchStateFile, settings: Settings) -> None:
    """Refuse to add to a state with settings that would shape other requests or records."""
    text = state.get_meta("settings")
    if text is None:
        return
    before = orjson.loads(text)
    now = orjson.loads(stored_settings(settings))
    for name in _SHAPING:
        if before.get(name) != now.get(name):
            raise ConfigurationError(
                f"{state.path} was started with {name} {before.get(name)!r}, not "
                f"{now.get(name)!r}: use the same settings, or another --state"
            )


class HeldAnswers(httpx2.AsyncBaseTransport):
    """The network's place in the replay stack: answers from the state, or ``AnswerPending``.

    Keyed exactly as the response cache above it keys (``cassette.keyed``
    against the same base path), so a batch ``custom_id`` is the live
    request's cache key, and the answer stored under it is what a live rerun
    finds.
    """

    def __init__(self, state: BatchStateFile, settings: Settings) -> None:
        self.state = state
        base_url = settings.base_url or PROVIDERS[settings.provider].default_base_url
        self.base_path = httpx2.URL(base_url).path.rstrip("/")
        self.wanted: dict[str, Wanted] = {}
        """The requests the document being replayed lacks (cleared per document)."""

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        _, key = await keyed(request, self.base_path)
        answer = self.state.answer(key)
        if answer is not None:
            headers = {"content-type": "application/json"}
            return httpx2.Response(200, headers=headers, content=answer, request=request)
        body = orjson.loads(await request.aread())  # the bytes the live path would send
        self.wanted[key] = Wanted(key, body)
        raise AnswerPending(key)


@dataclass
class Report:
    """What one command did, for its summary line."""

    registered: int = 0
    from_cache: int = 0
    batches_created: int = 0
    requests_submitted: int = 0
    batches_collected: int = 0
    answers: int = 0
    resubmitted: int = 0
    given_up: int = 0
    finished: int = 0
    reasked: int = 0
    written: int = 0
    lost: list[str] = field(default_factory=list)


def error_record(source: str, exc: BaseException) -> ErrorRecord:
    """The live path's error record for a failure (see ``batch.iter_results``)."""
    if isinstance(exc, ExtractorError):
        return ErrorRecord(source=source, error_type=type(exc).__name__, message=str(exc))
    log.exception("unexpected failure on %s", source, exc_info=exc)
    return ErrorRecord(
        source=source,
        error_type="InternalError",
        message=scrub(f"unexpected {type(exc).__name__}: {exc}"),
    )


class Engine:
    """One batch run's work over its state file: open with ``async with``.

    ``api`` replaces the provider's batch client (tests); ``checkpoint`` sees
    each step once it is written.
    """

    def __init__(
        self,
        state: BatchStateFile,
        settings: Settings,
        *,
        api: BatchAPI | None = None,
        checkpoint: Checkpoint | None = None,
    ) -> None:
        if settings.mode != "live" or settings.gguf is not None:
            raise ConfigurationError(
                "the batch commands call a provider's batch API: no --replay, --record or --gguf"
            )
        self.state = state
        self.settings = settings
        self.held = HeldAnswers(state, settings)
        self.client = ModelClient(settings, inner=self.held)
        self.api: BatchAPI = api or batch_api(settings)
        self.checkpoint = checkpoint or (lambda step: None)
        self.report = Report()

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.client.aclose()
        finally:
            await self.api.aclose()

    # ----------------------------------------------------------------- replay

    async def _replay(self, document: Document) -> Result | list[Wanted]:
        """The document's record, or the requests it still needs."""
        self.held.wanted = {}
        try:
            return await extract_settled(document, self.client, waiting=AnswerPending)
        except AnswerPending:
            return list(self.held.wanted.values())
        except ConfigurationError:
            raise  # every document would meet it: end the command
        except Exception as exc:  # a failure costs one document, as live
            return error_record(document.source, exc)

    # ----------------------------------------------------------------- submit

    async def register(self, inputs: Iterable[str | Path | Document]) -> None:
        """Every input not yet in the state: done from the caches, an error, or its requests.

        Inputs are read as the live path reads them (table files give their
        rows); a document already registered (same source, same text) is
        skipped, so a rerun after a kill goes on where the first stopped.
        """
        state, settings = self.state, self.settings
        if state.get_meta("settings") is None:
            state.set_meta("settings", stored_settings(settings))
        known = state.known_sources()
        items: AsyncIterator[Any] = _expand(inputs, settings, set())
        async for item in items:
            source = item.source if isinstance(item, Document | BadRow) else str(item)
            try:
                if isinstance(item, BadRow):
                    raise item.error
                document = (
                    item
                    if isinstance(item, Document)
                    else await _read(item, settings.max_input_bytes)
                )
            except InputError as exc:
                if (source, "") not in known:
                    with state.step() as db:
                        state.add_finished(
                            db, source, "", "failed", jsonl_line(error_record(source, exc))
                        )
                    known.add((source, ""))
                    self.report.registered += 1
                continue
            document = with_run_date(document, settings.published)
            if (document.source, document.sha256) in known:
                continue
            outcome = await self._replay(document)
            with state.step() as db:
                if isinstance(outcome, list):
                    state.add_waiting(db, document, outcome)
                else:
                    kind = "failed" if isinstance(outcome, ErrorRecord) else "done"
                    state.add_finished(
                        db, document.source, document.sha256, kind, jsonl_line(outcome)
                    )
                    self.report.from_cache += kind == "done"
            known.add((document.source, document.sha256))
            self.report.registered += 1
            self.checkpoint("registered")

    def recover(self) -> None:
        """Batches whose creation a kill cut short: their requests are submitted again.

        The intent was written before the call and the handle after it, so
        such a batch may or may not exist at the provider; the batch APIs
        cannot be searched for it, so its requests go out again (at worst
        one batch's requests are paid twice; no answer is lost, and no
        document is written twice).
        """
        for batch in self.state.batches("intent"):
            again = self.state.abandon(batch.id)
            self.report.lost.append(
                f"batch {batch.id} was being created when the run stopped: if the provider "
                f"created it, it is not tracked (cancel it there); its {again} requests are "
                "submitted again"
            )

    async def submit_pending(self) -> None:
        """Every pending request in batches within the provider's limits, a round at a time.

        Each batch is an intent in the state before the call and a handle
        after it, so a kill in between is found by ``recover``.
        """
        by_round: dict[int, list[BatchRequest]] = {}
        for key, round_, body in self.state.pending():
            by_round.setdefault(round_, []).append(BatchRequest(key, body))
        for round_, requests in sorted(by_round.items()):
            try:
                batches = split_for(self.api, requests)
            except RequestTooLarge as exc:
                raise ConfigurationError(str(exc)) from None
            for batch in batches:
                row = self.state.intend(round_, [r.custom_id for r in batch])
                try:
                    handle = await self.api.submit(batch)
                except (ExtractorError, ValueError):
                    # Refused or unreachable: nothing was created that we know of. The
                    # requests stay pending for the next run, which says the same if it fails.
                    self.state.abandon(row)
                    raise
                self.checkpoint("submitted")  # created at the provider, not yet recorded
                self.state.created(row, handle.to_dict())
                self.report.batches_created += 1
                self.report.requests_submitted += len(batch)
                self.checkpoint("created")

    # ----------------------------------------------------------------- collect

    async def poll(self) -> list[tuple[int, BatchProgress]]:
        """Every batch not yet collected, polled once; its progress is kept in the state."""
        polled = []
        for batch in self.state.batches("created"):
            assert batch.handle is not None
            progress = await self.api.poll(BatchHandle.from_dict(batch.handle))
            self.state.note_progress(batch.id, asdict(progress))
            polled.append((batch.id, progress))
        return polled

    async def download(self, polled: list[tuple[int, BatchProgress]]) -> None:
        """Each finished batch's results into the state, in one step per batch.

        An answer is kept for the replay; a failed, expired, canceled or
        missing line is pending again while it has tries left, else failed
        with the provider's reason. A kill during the download rolls the step
        back: the results are read again on the next run.
        """
        for batch, progress in polled:
            if not progress.finished:
                continue
            stored = next(b for b in self.state.batches("created") if b.id == batch)
            assert stored.handle is not None
            handle = BatchHandle.from_dict(stored.handle)
            expected = self.state.keys_of(batch)
            why = "; ".join(progress.errors)  # why a whole batch failed (OpenAI's validation)
            wanted = set(expected)
            # Streamed into one step: memory holds a line, and a kill rolls the step back.
            with self.state.step() as db:
                async for result in self.api.results(handle, expected=expected):
                    if result.custom_id not in wanted:
                        continue  # not ours, or already read from another file
                    wanted.discard(result.custom_id)
                    if result.ok and result.body is not None:
                        db.execute(
                            "update requests set state = 'answered', answer = ?, error = null "
                            "where key = ?",
                            (pack(result.body), result.custom_id),
                        )
                        self.report.answers += 1
                        continue
                    said = why if result.outcome == "missing" and why else result.error
                    reason = scrub(f"{result.outcome}: {said or 'no reason given'}")
                    tries = db.execute(
                        "select tries from requests where key = ?", (result.custom_id,)
                    ).fetchone()[0]
                    again = int(tries) < MAX_TRIES
                    db.execute(
                        "update requests set state = ?, batch = null, error = ? where key = ?",
                        ("pending" if again else "failed", reason, result.custom_id),
                    )
                    if again:
                        self.report.resubmitted += 1
                    else:
                        self.report.given_up += 1
                db.execute("update batches set state = 'collected' where id = ?", (batch,))
            self.report.batches_collected += 1
            self.checkpoint("downloaded")

    async def replay_ready(self) -> None:
        """Each open document with all its answers in: its record, or its next requests."""
        state = self.state
        for doc, round_ in state.ready():
            document = state.document(doc)
            failed = state.failed_request(doc)
            if failed is not None:
                tries, reason = failed
                error = TransportError(
                    f"{document.source}: the batch request failed {tries} "
                    f"{'time' if tries == 1 else 'times'} ({reason})"
                )
                outcome: Result | list[Wanted] = error_record(document.source, error)
            else:
                outcome = await self._replay(document)
            with state.step() as db:
                if isinstance(outcome, list):
                    state.rewant(db, doc, outcome, round_ + 1)
                    self.report.reasked += 1
                else:
                    kind = "failed" if isinstance(outcome, ErrorRecord) else "done"
                    state.finish(db, doc, kind, jsonl_line(outcome))
                    self.report.finished += 1
            self.checkpoint("replayed")

    def write(self, output: Path) -> None:
        """Append every finished document's record not yet in ``output``, exactly once.

        The state records the output's length after each write. A longer file
        holds a write a kill cut off before it was recorded: it is cut back
        and written again. A missing or empty one is written afresh from the
        state; one shorter than recorded was changed by someone else and is
        refused.
        """
        state = self.state
        path = str(output.resolve())
        committed = int(state.get_meta("output_bytes") or 0)
        size = output.stat().st_size if output.exists() else 0
        if state.get_meta("output") != path or (size == 0 and committed):
            with state.step() as db:
                db.execute("update documents set written = 0")
                state.set_meta("output", path, db)
                state.set_meta("output_bytes", "0", db)
            committed = 0
        elif size < committed:
            raise ConfigurationError(
                f"{output} is shorter than the batch state recorded ({size:,} bytes, not "
                f"{committed:,}): it was changed; write to a new -o to get every record again"
            )
        records = state.unwritten()
        if not records and size == committed:
            return
        try:
            with output.open("r+b" if output.exists() else "wb") as out:
                out.truncate(committed)
                out.seek(committed)
                for _, record in records:
                    out.write(record.encode("utf-8"))
                out.flush()
                os.fsync(out.fileno())
                end = out.tell()
        except OSError as exc:
            raise ConfigurationError(f"cannot write {output}: {exc.strerror or exc}") from None
        self.checkpoint("appended")  # in the file, not yet recorded
        with state.step() as db:
            db.executemany(
                "update documents set written = 1 where id = ?", [(i,) for i, _ in records]
            )
            state.set_meta("output_bytes", str(end), db)
        self.report.written += len(records)
        self.checkpoint("written")

    async def collect(
        self,
        output: Path,
        *,
        wait: bool = False,
        interval: float = 30.0,
        on_round: Callable[[Engine, list[tuple[int, BatchProgress]]], None] | None = None,
    ) -> bool:
        """Poll, download, replay, submit the next round, write; with ``wait``, until done.

        True when every document is written. ``on_round`` sees each pass
        (the CLI's progress).
        """
        self.recover()
        while True:
            polled = await self.poll()
            await self.download(polled)
            await self.replay_ready()
            await self.submit_pending()
            self.write(output)
            if on_round is not None:
                on_round(self, polled)
            if not self.state.open_documents():
                return True
            if not wait:
                return False
            await asyncio.sleep(interval)


__all__ = [
    "MAX_TRIES",
    "AnswerPending",
    "Engine",
    "HeldAnswers",
    "Report",
    "check_same_run",
    "settings_from_state",
    "stored_settings",
]
