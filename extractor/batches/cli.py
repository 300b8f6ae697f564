"""``extractor batch submit / status / collect``: the provider's batch API from the shell.

Every command opens the state file (by default beside the output:
``out.jsonl.batch.sqlite``), does its steps, and can be killed and run again:
what was done stays done. Errors a user can cause end in one line on stderr.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from extractor import _exceptions
from extractor._cli_common import (
    DateFieldOption,
    DateOption,
    IdFieldOption,
    InputFormatOption,
    LanguageFieldOption,
    OutletFieldOption,
    TextFieldOption,
    TitleFieldOption,
    UrlFieldOption,
    check_input_format,
    fail,
    input_fields,
)
from extractor._exceptions import ExtractorError
from extractor.batches.engine import (
    Engine,
    Report,
    check_same_run,
    settings_from_state,
)
from extractor.batches.state import BatchStateFile
from extractor.model.batch_api import BatchProgress
from extractor.read.paths import counted_inputs, expand_paths
from extractor.settings import Settings

T = TypeVar("T")

batch_app = typer.Typer(
    help="Run documents through the provider's batch API (half the price, within 24 h): "
    "submit, then status, then collect.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

STATE_SUFFIX = ".batch.sqlite"

OutputOption = Annotated[
    Path, typer.Option("--output", "-o", help="The JSONL output the records go to.")
]
StateOption = Annotated[
    Path | None,
    typer.Option("--state", help=f"The batch state file (default: the output + {STATE_SUFFIX})."),
]
KeyOption = Annotated[
    str | None,
    typer.Option("--key", help="API key (else env: EXTRACTOR_API_KEY, OPENAI_API_KEY, ...)."),
]
BaseUrlOption = Annotated[
    str | None, typer.Option(help="The provider's server (else the provider's own).")
]
WaitOption = Annotated[bool, typer.Option("--wait", help="Poll until every batch has ended.")]
IntervalOption = Annotated[float, typer.Option(min=0, help="Seconds between polls with --wait.")]


def _note(message: str) -> None:
    typer.echo(f"extractor: {message}", err=True)


def _state_path(output: Path | None, state: Path | None) -> Path:
    if state is not None:
        return state
    if output is None:
        raise fail("name the run: -o OUTPUT (its state is beside it) or --state FILE", 2)
    return output.with_name(output.name + STATE_SUFFIX)


def _run(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine; our errors become one line and their exit code."""
    try:
        return asyncio.run(make())
    except ExtractorError as exc:
        raise fail(str(exc), exc.exit_code) from None
    except KeyboardInterrupt:
        raise fail("interrupted (run the command again to go on)", 130) from None


def _open_state(path: Path, *, must_exist: bool, exclusive: bool = True) -> BatchStateFile:
    if must_exist and not path.is_file():
        raise fail(f"no batch state at {path}: run 'extractor batch submit' first", 2)
    try:
        return BatchStateFile(path, exclusive=exclusive)
    except ExtractorError as exc:
        raise fail(str(exc), exc.exit_code) from None


def _summary(report: Report) -> str:
    parts = [
        f"{n} {what}"
        for n, what in (
            (report.registered, "documents registered"),
            (report.from_cache, "found whole in the cache"),
            (report.batches_created, "batches created"),
            (report.requests_submitted, "requests submitted"),
            (report.batches_collected, "batches collected"),
            (report.answers, "answers"),
            (report.reasked, "documents re-asked"),
            (report.resubmitted, "lines to resubmit"),
            (report.given_up, "lines given up"),
            (report.finished, "documents finished"),
            (report.written, "records written"),
        )
        if n
    ]
    return ", ".join(parts) or "nothing to do"


@batch_app.command()
def submit(
    paths: Annotated[list[str], typer.Argument(help="Files, directories or globs of articles.")],
    output: OutputOption,
    model: Annotated[str | None, typer.Option(help="Model name (env: EXTRACTOR_MODEL).")] = None,
    provider: Annotated[str | None, typer.Option(help="openai or anthropic.")] = None,
    mode: Annotated[
        str | None, typer.Option("--mode", help="tools or json_schema (OpenAI only).")
    ] = None,
    base_url: BaseUrlOption = None,
    key: KeyOption = None,
    max_tokens: Annotated[int | None, typer.Option(min=1, help="Cap on one answer.")] = None,
    reasks: Annotated[
        int | None, typer.Option(min=0, help="Re-ask rounds after an unsupported answer.")
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="No response cache.")] = False,
    cache_path: Annotated[Path | None, typer.Option(help="Response cache file.")] = None,
    input_format: InputFormatOption = "auto",
    text_field: TextFieldOption = None,
    id_field: IdFieldOption = None,
    date_field: DateFieldOption = None,
    url_field: UrlFieldOption = None,
    title_field: TitleFieldOption = None,
    outlet_field: OutletFieldOption = None,
    language_field: LanguageFieldOption = None,
    published: DateOption = None,
    state: StateOption = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Print the requests, tokens and price (batch and live); make no call."
        ),
    ] = False,
) -> None:
    """Build the live path's requests, skip the cached ones, and create the batches."""
    check_input_format(input_format)
    overrides: dict[str, Any] = {
        "model": model,
        "provider": provider,
        "output_mode": mode,
        "base_url": base_url,
        "api_key": key,
        "max_tokens": max_tokens,
        "reasks": reasks,
        "cache": False if no_cache else None,
        "cache_path": cache_path,
        "input_format": input_format,
        "input_fields": input_fields(
            text=text_field,
            id=id_field,
            date=date_field,
            url=url_field,
            title=title_field,
            outlet=outlet_field,
            language=language_field,
        ),
        "published": published.date() if published else None,
    }
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
        if not dry_run:
            settings.ensure_runnable()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "settings"
        raise fail(f"invalid setting {where}: {first['msg']}", 2) from None
    except ExtractorError as exc:
        raise fail(str(exc), exc.exit_code) from None
    files = expand_paths(paths, input_format)
    if not files:
        raise fail(f"no input files in {' '.join(paths)}", 3)
    if dry_run:
        from extractor.model.cost import estimate_run, format_estimate

        typer.echo(format_estimate(estimate_run(counted_inputs(files, settings), settings)))
        raise typer.Exit(0)
    path = _state_path(output, state)
    store = _open_state(path, must_exist=False)

    async def go() -> Report:
        check_same_run(store, settings)
        async with Engine(store, settings) as engine:
            engine.recover()
            await engine.register(files)
            await engine.submit_pending()
            engine.write(output)
            return engine.report

    try:
        report = _run(go)
    finally:
        store.close()
    for line in report.lost:
        _note(line)
    _note(f"{_summary(report)}; state in {path}")
    _note(f"next: extractor batch collect -o {output} --wait")


@batch_app.command()
def status(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="The run's JSONL output.")
    ] = None,
    state: StateOption = None,
    wait: WaitOption = False,
    interval: IntervalOption = 30.0,
    key: KeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Each batch's progress, and how many documents are in each state."""
    path = _state_path(output, state)
    store = _open_state(path, must_exist=True, exclusive=False)  # reads; notes progress

    async def go() -> None:
        settings = settings_from_state(store, api_key=key, base_url=base_url)
        async with Engine(store, settings) as engine:
            with _bar(enabled=wait) as show:
                while True:
                    polled = await engine.poll()
                    show(polled)
                    if not wait or all(p.finished for _, p in polled):
                        return
                    await asyncio.sleep(interval)

    try:
        _run(go)
        _print_status(store)
    finally:
        store.close()


@batch_app.command()
def collect(
    output: OutputOption,
    state: StateOption = None,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait", help="Go on (poll, collect, re-ask) until every document is written."
        ),
    ] = False,
    interval: IntervalOption = 30.0,
    key: KeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Download what ended, write the records, submit re-asks and resubmissions."""
    path = _state_path(output, state)
    store = _open_state(path, must_exist=True)

    async def go() -> tuple[Report, bool]:
        settings = settings_from_state(store, api_key=key, base_url=base_url)
        async with Engine(store, settings) as engine:
            with _bar(enabled=wait) as show:
                done = await engine.collect(
                    output, wait=wait, interval=interval, on_round=lambda e, p: show(p)
                )
            return engine.report, done

    try:
        report, done = _run(go)
        for line in report.lost:
            _note(line)
        _note(_summary(report))
        waiting = store.open_documents()
        failures = _failures(store)
    finally:
        store.close()
    if not done:
        _note(
            f"{waiting} documents still waiting for their batches: collect again later "
            "(or with --wait)"
        )
        raise typer.Exit(0)
    raise typer.Exit(max(failures, default=0))


def _failures(store: BatchStateFile) -> list[int]:
    """The exit code of each error record, as the extract command counts them."""
    codes = []
    for (error_type,) in store.db.execute(
        "select json_extract(record, '$.error_type') from documents where state = 'failed'"
    ):
        cls = getattr(_exceptions, str(error_type), None)
        ok = isinstance(cls, type) and issubclass(cls, ExtractorError)
        codes.append(cls.exit_code if ok else 1)  # type: ignore[union-attr]
    return codes


def _print_status(store: BatchStateFile) -> None:
    """One line per batch, then the documents by state and the requests by round."""
    for batch in store.batches():
        provider_id = (batch.handle or {}).get("batch_id", "-")
        progress = batch.progress or {}
        counts = ", ".join(
            f"{progress.get(k, 0)} {k}"
            for k in ("succeeded", "failed", "expired", "canceled")
            if progress.get(k)
        )
        typer.echo(
            f"batch {batch.id} (round {batch.round}) {provider_id}: {batch.state}"
            + (f", {progress.get('status')}" if progress else "")
            + f"; {batch.requests} requests"
            + (f" ({counts})" if counts else "")
        )
    documents = store.document_states()
    typer.echo("documents: " + ", ".join(f"{n} {state}" for state, n in documents.items()))
    rounds = store.rounds()
    if rounds:
        typer.echo(
            "requests by round: " + ", ".join(f"{r}: {n}" for r, n in sorted(rounds.items()))
        )


class _bar:
    """With ``--wait`` on a terminal, a bar of the requests the batches have settled."""

    def __init__(self, *, enabled: bool) -> None:
        self.wait = enabled
        self.enabled = enabled and sys.stderr.isatty()
        self.progress: Progress | None = None
        self.task: Any = None
        self.started = time.monotonic()

    def __enter__(self) -> Callable[[list[tuple[int, BatchProgress]]], None]:
        if self.enabled:
            self.progress = Progress(
                TextColumn("{task.completed}/{task.total} requests"),
                BarColumn(),
                TextColumn("{task.fields[batches]}"),
                console=Console(stderr=True),
                transient=True,
            )
            self.progress.__enter__()
            self.task = self.progress.add_task("batches", total=None, batches="")
        return self.show

    def show(self, polled: list[tuple[int, BatchProgress]]) -> None:
        total = sum(p.total for _, p in polled)
        settled = sum(p.total - p.processing for _, p in polled)
        ended = sum(p.finished for _, p in polled)
        if self.progress is None:
            if self.wait and polled:  # piped: a line per poll instead of a bar
                _note(f"{settled}/{total} requests settled, {ended}/{len(polled)} batches ended")
            return
        self.progress.update(
            self.task,
            total=total or None,
            completed=settled,
            batches=f"{ended}/{len(polled)} batches ended",
        )

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(None, None, None)


__all__ = ["STATE_SUFFIX", "batch_app"]
