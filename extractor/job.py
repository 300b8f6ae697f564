"""One ``extract`` run of the CLI: results to a writer, a tally, a progress bar, a summary.

The command (``cli.extract``) checks the options and builds the settings; a
``Job`` then feeds the batch engine and writes each result the moment it is
ready. What the run did is kept in a ``Tally``, a plain sum of small numbers,
so the parts of a run split over processes (``workers``) add up to the same
summary line one process would have printed.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from extractor import _exceptions
from extractor._exceptions import ExtractorError
from extractor.batch import ResumeState
from extractor.model.cost import Price
from extractor.pipeline import aextract_indexed, prepare_resume
from extractor.schemas import ErrorRecord, Result, Usage
from extractor.settings import Settings
from extractor.write import WRITERS, Format


@dataclass
class Tally:
    """What a run did, counted as documents finish; two tallies add up (``add``)."""

    ok: int = 0
    errors: int = 0
    skipped: int = 0
    tokens: int = 0
    """Tokens this run paid for: prompt-cache reads and results from our cache excluded."""
    prompt_cached: int = 0
    """Prompt tokens the provider's prompt cache served (billed at a fraction)."""
    from_cache: int = 0
    """Results taken whole from the response cache: no request, no token spent now."""
    dropped: int = 0
    nulled: int = 0
    quotes_cut: int = 0
    exit_code: int = 0
    """The gravest error record's exit code so far (0: none)."""
    spent: Usage = field(default_factory=Usage)
    """Every token this run paid for, prompt-cache reads and writes apart."""

    @property
    def done(self) -> int:
        return self.ok + self.errors + self.skipped

    def count(self, result: Result | None) -> None:
        if result is None:
            self.skipped += 1
        elif isinstance(result, ErrorRecord):
            self.errors += 1
            self.exit_code = max(self.exit_code, exit_code(result))
        else:
            self.ok += 1
            usage = result.run.usage
            if result.run.cached:
                self.from_cache += 1
            else:
                self.tokens += usage.total_tokens - usage.cache_read_tokens
                self.prompt_cached += usage.cache_read_tokens
                self.spent = self.spent + usage
            self.dropped += result.grounding.records_dropped
            self.nulled += result.grounding.fields_nulled
            self.quotes_cut += result.grounding.quotes_dropped

    def add(self, other: Tally) -> None:
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            joined = max(mine, theirs) if f.name == "exit_code" else mine + theirs
            setattr(self, f.name, joined)

    def cut(self) -> str:
        """What the support check removed, in words, or "" when it removed nothing."""
        parts = [
            f"{n} {what}"
            for n, what in (
                (self.dropped, "unsupported records dropped"),
                (self.nulled, "unsupported fields set to null"),
                (self.quotes_cut, "unsupported quotes dropped"),
            )
            if n
        ]
        return ", ".join(parts)


def exit_code(record: ErrorRecord) -> int:
    """The exit code of the error a record names (1 for one that is not ours)."""
    cls = getattr(_exceptions, record.error_type, None)
    return cls.exit_code if isinstance(cls, type) and issubclass(cls, ExtractorError) else 1


@dataclass
class Job:
    """One ``extract`` run, or one worker's part of it (``shard``)."""

    files: list[str]
    settings: Settings
    fmt: Format
    output: Path | None
    concurrency: int
    single: bool
    resume: bool
    rows: bool = False
    """Some input is a file of rows: how many documents the run has is known at its end."""
    price: Price | None = None
    """What tokens cost with this model (None: no price known); the summary shows the spend."""
    max_cost: float | None = None
    shard: tuple[int, int] = (0, 1)
    """``(k, n)``: this process takes every ``n``-th document from the ``k``-th."""
    resumed: ResumeState | None = None
    """The earlier output's state, when the caller read it already (a worker's parent did)."""
    tally: Tally = field(default_factory=Tally)
    stopped: str | None = None

    async def run(self) -> int:
        """The whole run: results written, then the summary; the exit code."""
        started, cpu_started = time.monotonic(), time.process_time()
        total = None if self.rows else len(self.files)
        with progress(total, enabled=self.rows or len(self.files) > 1) as advance:
            await self.execute(lambda: advance(self.tally))
        summary = len(self.files) > 1 or self.resume or self.rows or self.stopped
        return self.finish(
            time.monotonic() - started, time.process_time() - cpu_started, summary=bool(summary)
        )

    async def execute(self, advance: Callable[[], None] = lambda: None) -> None:
        """Extract and write every document of this job's part; ``advance`` after each."""
        state = self.resumed
        if state is None and self.resume and self.output:
            state = prepare_resume(self.output, self.settings)
            if note := state.report(self.output):
                typer.echo(f"extractor: {note}", err=True)
        appending = state is not None or self.shard[1] > 1  # workers share one output
        mode = "a" if appending else "w"
        out = open(self.output, mode, encoding="utf-8") if self.output else sys.stdout  # noqa: SIM115
        writer = WRITERS[self.fmt](out, single=self.single)
        writer.start(appending=bool(state and state.kept))
        try:
            results = aextract_indexed(
                self.files,
                settings=self.settings,
                concurrency=self.concurrency,
                resume=state,
                shard=self.shard,
            )
            async for index, result in results:
                self.count(result)
                advance()
                if result is not None:
                    writer.write(index, result)
                if self._over_budget():
                    await results.aclose()  # cancels what is in flight; written stays
                    break
            writer.finish()
        finally:
            if self.output:
                out.close()

    def finish(self, seconds: float, cpu_seconds: float, *, summary: bool) -> int:
        """The summary line (when asked, or when something was cut); the exit code."""
        if summary:
            self.summary(seconds, cpu_seconds)
        elif cut := self.tally.cut():
            typer.echo(f"extractor: {cut} (the warnings say which)", err=True)
        if self.stopped:
            typer.echo(f"extractor: stopped: {self.stopped}", err=True)
            return 1
        return self.tally.exit_code

    def _over_budget(self) -> bool:
        """Whether one more document of the average cost so far would pass ``--max-cost``."""
        tally = self.tally
        if self.max_cost is None or self.price is None or not tally.ok:
            return False
        spent = self.price.cost(tally.spent)
        paid = tally.ok - tally.from_cache
        average = spent / paid if paid else 0.0
        if spent + average <= self.max_cost:
            return False
        self.stopped = (
            f"${spent:.4f} spent of the --max-cost ${self.max_cost:g}, and the next document "
            f"would cost about ${average:.4f} more; --resume goes on from here"
        )
        return True

    def count(self, result: Result | None) -> None:
        """Count a result; an error record is also told on stderr, one line."""
        if isinstance(result, ErrorRecord):
            # Input errors already start with the source; others (a replay miss, a bug) do not.
            source = "<stdin>" if result.source == "-" else result.source
            message = result.message
            if not message.startswith(f"{source}: "):
                message = f"{source}: {message}"
            typer.echo(f"extractor: error: {message}", err=True)
        self.tally.count(result)

    def summary(self, seconds: float, cpu_seconds: float) -> None:
        """One line for the whole batch; the CPU figure tells whether more concurrency can help.

        A batch runs on one event loop per process, so when the CPU per
        document times the documents per second nears a second per second
        (per worker), the client, not the server, is the limit.
        """
        tally = self.tally
        done = tally.ok + tally.errors
        rate = done / seconds if seconds > 0 else 0.0
        cpu = f", {cpu_seconds / done * 1000:.1f} ms CPU each" if done else ""
        cut = f"; {c}" if (c := tally.cut()) else ""
        typer.echo(
            f"extractor: {tally.ok} extracted, {tally.errors} errors, "
            f"{tally.skipped} skipped, {self._tokens()} in {seconds:.1f} s "
            f"({rate:.1f} documents/s{cpu}){cut}",
            err=True,
        )

    def _tokens(self) -> str:
        """Tokens spent, told apart from what caches saved: a rerun from the cache spent
        nothing, and prompt-cache reads cost a fraction of a prompt token."""
        tally, saved = self.tally, []
        if tally.prompt_cached:
            saved.append(f"+{tally.prompt_cached:,} prompt tokens from the provider's cache")
        if tally.from_cache:
            saved.append(f"{tally.from_cache} {_plural(tally.from_cache, 'result')} from the cache")
        cost = ""
        if self.price is not None and not self.price.local and self.settings.mode != "replay":
            cost = f", ${self.price.cost(tally.spent):.4f}"
        return f"{tally.tokens:,} tokens spent{cost}" + (f" ({'; '.join(saved)})" if saved else "")


@contextmanager
def progress(total: int | None, *, enabled: bool) -> Iterator[Callable[[Tally], None]]:
    """A progress bar on a terminal; nothing when stderr is piped.

    ``total`` is None when rows of a table are read as the run goes: the bar
    then counts documents done, without an end or a time remaining.
    """
    if not (enabled and sys.stderr.isatty()):
        yield lambda tally: None
        return
    columns = (
        TextColumn("{task.completed}/{task.total} docs" if total else "{task.completed} docs"),
        BarColumn(),
        TextColumn(
            "{task.fields[rate]:.1f}/s  {task.fields[tokens]:,} tokens  "
            "{task.fields[errors]} errors"
        ),
        TimeRemainingColumn(),
    )
    started = time.monotonic()
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("extract", total=total, rate=0.0, tokens=0, errors=0)

        def advance(tally: Tally) -> None:
            elapsed = max(time.monotonic() - started, 1e-9)
            bar.update(
                task,
                completed=tally.done,
                rate=tally.done / elapsed,
                tokens=tally.tokens,
                errors=tally.errors,
            )

        yield advance


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"
