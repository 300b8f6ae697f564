"""One run split over several processes (``extract --workers N``), for a client one core
cannot keep up with.

At a top-tier rate limit (thousands of requests in flight, hundreds of answers a
second) the client's own work (reading answers, the support check, assembling
records) needs more than one core, and a batch runs on one event loop, which
Python runs on one core. ``--workers N`` forks N processes once everything is
checked and loaded. Each takes every N-th document (``Job.shard``), its part of
``--concurrency`` and of ``--max-cost``, and 1/N of every rate limit
(``Settings.workers``), so together they keep to the run's limits. Each appends
whole lines to the one JSONL output: a line reaches a file opened for appending
in one ``write``, so two processes never interleave within a line, and
``--resume`` reads the file as if one process had written it.

The parent only adds up what the workers report (each sends its running
``Tally`` a few times a second), shows the progress bar and prints the one
summary line. Fork, not spawn: the workers inherit the settings, the imported
modules and a resumed output's state as they are, without importing or
pickling them again; the parent has started no thread and no event loop yet.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import time
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from typing import Any, cast

import typer

from extractor._exceptions import ExtractorError
from extractor._redact import scrub
from extractor.job import Job, Tally, progress
from extractor.pipeline import prepare_resume

__all__ = ["can_fork", "run_workers", "share"]

_REPORT_EVERY = 0.25
"""Seconds between a worker's reports: often enough for a live bar, cheap at any rate."""


def can_fork() -> bool:
    """Whether this platform starts workers the way ``run_workers`` needs (not Windows)."""
    return "fork" in multiprocessing.get_all_start_methods()


def share(total: int, k: int, n: int) -> int:
    """Worker ``k``'s part of ``total`` split over ``n``: the parts differ by at most one
    and add up to ``total``."""
    return total // n + (k < total % n)


@dataclass
class _Report:
    """What a worker sends its parent: its running tally, and at its end how it ended."""

    worker: int
    tally: Tally
    final: bool = False
    cpu: float = 0.0
    stopped: str | None = None
    error: tuple[str, int] | None = None
    """(message, exit code) of an error that ended the worker's part."""


def run_workers(job: Job, workers: int) -> int:
    """Run ``job`` split over ``workers`` processes; the exit code of the whole run."""
    assert job.output is not None and job.fmt == "jsonl"
    if job.resume:
        job.resumed = prepare_resume(job.output, job.settings)
        if note := job.resumed.report(job.output):
            typer.echo(f"extractor: {note}", err=True)
    else:
        job.output.write_text("", encoding="utf-8")  # made empty once, before any appends
    context = multiprocessing.get_context("fork")
    started, cpu_started = time.monotonic(), time.process_time()
    pipes: dict[Connection, Any] = {}
    for k in range(workers):
        part = replace(
            job,
            shard=(k, workers),
            concurrency=share(job.concurrency, k, workers),
            max_cost=None if job.max_cost is None else job.max_cost / workers,
            tally=Tally(),
        )
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_work, args=(part, send), name=f"extractor-worker-{k}")
        process.start()
        send.close()  # the worker holds its end: the parent sees EOF when it is gone
        pipes[receive] = process
    processes = list(pipes.values())
    latest: dict[int, _Report] = {}
    # A SIGTERM (a scheduler's kill, ``timeout``) ends the workers with the parent, as it
    # ends a one-process run, instead of leaving them writing on with nobody reading.
    signal.signal(signal.SIGTERM, _terminated)
    try:
        with progress(None if job.rows else len(job.files), enabled=True) as advance:
            while pipes:
                for ready in wait(list(pipes), timeout=1.0):
                    conn = cast(Connection, ready)  # wait() hands back what it was given
                    try:
                        report: _Report = conn.recv()
                    except EOFError:
                        pipes.pop(conn)
                        continue
                    latest[report.worker] = report
                    advance(_total(latest))
    except KeyboardInterrupt:
        _interrupt(processes, signal.SIGINT)
        raise
    except _Terminated:
        _interrupt(processes, signal.SIGTERM)
        typer.echo(
            "extractor: error: terminated; the lines written stay, --resume goes on", err=True
        )
        return 128 + signal.SIGTERM
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for process in processes:
        process.join()
    job.tally = _total(latest)
    cpu = time.process_time() - cpu_started + sum(r.cpu for r in latest.values())
    code = _account(job, latest, processes)
    # An error that ended the workers' parts (a refused key) is the run's last word, as
    # in one process; otherwise the one summary line for all of them.
    summary = not any(report.error for report in latest.values())
    return max(code, job.finish(time.monotonic() - started, cpu, summary=summary))


def _total(reports: dict[int, _Report]) -> Tally:
    total = Tally()
    for report in reports.values():
        total.add(report.tally)
    return total


def _account(job: Job, reports: dict[int, _Report], processes: list[Any]) -> int:
    """Tell once what ended workers early (an error, a budget, a kill); its exit code."""
    code, told = 0, set()
    for k, process in enumerate(processes):
        report = reports.get(k)
        if report is None or not report.final:
            how = f"signal {-process.exitcode}" if (process.exitcode or 0) < 0 else "an exit"
            typer.echo(
                f"extractor: error: worker {k + 1} of {len(processes)} ended by {how} before "
                "its part was done; its lines so far are kept, --resume goes on from there",
                err=True,
            )
            code = max(code, 1)
        elif report.error is not None:
            message, error_code = report.error
            if message not in told:  # a refused key ends every worker alike: said once
                typer.echo(f"extractor: error: {message}", err=True)
                told.add(message)
            code = max(code, error_code)
        elif report.stopped and job.stopped is None:
            job.stopped = report.stopped
    return code


class _Terminated(Exception):
    """The parent was sent SIGTERM."""


def _terminated(signum: int, frame: object) -> None:
    raise _Terminated


def _interrupt(processes: list[Any], signum: int) -> None:
    """Ctrl-C or SIGTERM: every worker ends as a one-process run would (what is written
    stays); one that does not end within ten seconds is killed."""
    for process in processes:
        if process.is_alive() and process.pid is not None:
            os.kill(process.pid, signum)  # also reaches them if the parent alone got it
    for process in processes:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join()


def _work(job: Job, send: Connection) -> None:
    """One worker: its part of the run, reported to the parent as it goes."""
    k = job.shard[0]
    last = 0.0

    def report(final: bool = False, **how: Any) -> None:
        nonlocal last
        last = time.monotonic()
        send.send(_Report(k, job.tally, final=final, cpu=time.process_time(), **how))

    def advance() -> None:
        if time.monotonic() - last >= _REPORT_EVERY:
            report()

    try:
        asyncio.run(job.execute(advance))
    except KeyboardInterrupt:
        report()
        os._exit(130)  # the parent says "interrupted", once
    except ExtractorError as exc:  # a refused key, an unknown model: the run's end
        report(final=True, error=(str(exc), exc.exit_code))
    except Exception as exc:  # a bug ends this worker's part, never silently
        report(final=True, error=(scrub(f"unexpected {type(exc).__name__}: {exc}"), 1))
    else:
        report(final=True, stopped=job.stopped)
    send.close()
