"""The ``extractor`` command line.

Errors a user can cause (a missing file, no API key, a replay miss) end in one
line on stderr and a non-zero exit code, never a traceback; ``--verbose`` adds
the log. Results go to stdout or ``-o`` so they can be piped.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from extractor import evaluation
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
from extractor._exceptions import ConfigurationError, ExtractorError
from extractor.evaluation import load_gold
from extractor.job import Job
from extractor.model.cost import (
    estimate_run,
    format_estimate,
    no_price_message,
    settings_price,
)
from extractor.model.network import allow_open_files
from extractor.read.corpus import (
    PARQUET_MISSING,
    format_of,
    parquet_available,
)
from extractor.read.paths import counted_inputs, directory_suffixes, expand_paths
from extractor.schemas import DraftExtraction, Extraction
from extractor.settings import Settings
from extractor.workers import can_fork, run_workers
from extractor.write import FORMATS

app = typer.Typer(
    help="Grounded, typed records of meetings and status claims from news articles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _configure_logging(verbose: bool) -> None:
    """``--verbose`` logs to stderr; otherwise no library log does.

    Without a handler, Python's last-resort handler prints every WARNING and
    ERROR record (instructor logs each failed API call) to stderr, ahead of our
    one ``extractor: error:`` line, which already says what went wrong.
    """
    root = logging.getLogger()
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    elif not root.handlers:
        root.addHandler(logging.NullHandler())


# Options shared by the commands that run the model. Env-var hints are written
# "(env: NAME)": square brackets would be read as rich markup and vanish.
ModelOption = Annotated[
    str | None,
    typer.Option(help="Model name; 'anthropic/NAME' selects Anthropic (env: EXTRACTOR_MODEL)."),
]
ProviderOption = Annotated[
    str | None,
    typer.Option(
        help="openai (chat completions, also any compatible server) or anthropic "
        "(env: EXTRACTOR_PROVIDER)."
    ),
]
ModeOption = Annotated[
    str | None,
    typer.Option(
        "--mode",
        help="tools (a forced tool call) or json_schema (constrained JSON output, what local "
        "servers do best). Default: tools, json_schema for a local server or --gguf.",
    ),
]
BaseUrlOption = Annotated[
    list[str] | None,
    typer.Option(
        "--base-url",
        help="OpenAI-compatible server URL: Ollama, vLLM, llama.cpp (env: OPENAI_BASE_URL). "
        "Repeat it for several servers of one model (a fleet); a server's own limits go in "
        "its URL's fragment: URL#concurrency=16,rpm=600.",
    ),
]
ReplicaConcurrencyOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="With several --base-url: requests in flight at most on each server without "
        "#concurrency= (default: unbounded).",
    ),
]
KeyOption = Annotated[
    str | None,
    typer.Option(
        "--key", help="API key (else env: EXTRACTOR_API_KEY, OPENAI_API_KEY, ANTHROPIC_API_KEY)."
    ),
]
GgufOption = Annotated[
    Path | None,
    typer.Option(
        help="Serve this local GGUF model in-process with llama.cpp (pip install "
        "'extractor[local]'); json_schema mode."
    ),
]
MaxTokensOption = Annotated[
    int | None,
    typer.Option(min=1, help="Cap on one answer's tokens (default: sized to the article)."),
]
ChunkCharsOption = Annotated[
    int | None,
    typer.Option(
        min=500,
        help="Split articles longer than this many characters (default: 12,000; 4,000 with "
        "--gguf) (env: EXTRACTOR_CHUNK_CHARS).",
    ),
]
ReasksOption = Annotated[
    int | None,
    typer.Option(min=0, help="Re-asks after an unsupported answer (default: 2; 0 with --gguf)."),
]
PenaltyOption = Annotated[
    float | None,
    typer.Option(help="Repetition penalty sent to a local server (llama.cpp, vLLM); 1.0 is none."),
]
ReplayOption = Annotated[
    Path | None, typer.Option(help="Answer from recorded exchanges in DIR; no network.")
]
RecordOption = Annotated[
    Path | None, typer.Option(help="Call the model and record every exchange into DIR.")
]
NoCacheOption = Annotated[bool, typer.Option("--no-cache", help="Do not use the response cache.")]


ConcurrencyOption = Annotated[
    int,
    typer.Option(
        min=1, help="Model requests in flight at once; a long article's chunks share them too."
    ),
]


def _run_settings(
    replay: Path | None, record: Path | None, *, call: bool = True, **overrides: Any
) -> Settings:
    """Settings for a command that runs the model, or a one-line exit saying why not.

    ``call=False`` (a dry run) needs no key: nothing is sent.
    """
    if replay and record:
        raise fail("--replay and --record exclude each other", 2)
    overrides.update(
        mode="replay" if replay else "record" if record else None, cassette_dir=replay or record
    )
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
        if call:
            settings.ensure_runnable()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "settings"
        raise fail(
            f"invalid setting {where}: {first['msg']}", ConfigurationError.exit_code
        ) from None
    except ExtractorError as exc:
        raise fail(str(exc), exc.exit_code) from None
    return settings


@app.command()
def extract(
    paths: Annotated[
        list[str], typer.Argument(help="Files, directories or globs; '-' reads stdin.")
    ],
    model: ModelOption = None,
    provider: ProviderOption = None,
    mode: ModeOption = None,
    base_url: BaseUrlOption = None,
    replica_concurrency: ReplicaConcurrencyOption = None,
    key: KeyOption = None,
    gguf: GgufOption = None,
    max_tokens: MaxTokensOption = None,
    chunk_chars: ChunkCharsOption = None,
    reasks: ReasksOption = None,
    repetition_penalty: PenaltyOption = None,
    replay: ReplayOption = None,
    record: RecordOption = None,
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="json (pretty), jsonl (a line per document) or csv (a row per record).",
        ),
    ] = "json",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    concurrency: ConcurrencyOption = 4,
    resume: Annotated[
        bool,
        typer.Option(
            help="Skip documents already in the -o JSONL file (same path and text); refuses a "
            "file this tool did not write, or one written with another model or prompt."
        ),
    ] = False,
    no_cache: NoCacheOption = False,
    cache_path: Annotated[
        Path | None, typer.Option(help="Response cache file (default: user cache dir).")
    ] = None,
    rpm: Annotated[
        float | None,
        typer.Option(help="Client-side limit, requests/minute (each server's, with a fleet)."),
    ] = None,
    tpm: Annotated[
        float | None,
        typer.Option(help="Client-side limit, tokens/minute (each server's, with a fleet)."),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            help="Deadline of one HTTP request, in seconds: connecting, sending, waiting and "
            "reading the whole answer (each retry gets its own)."
        ),
    ] = None,
    input_format: InputFormatOption = "auto",
    text_field: TextFieldOption = None,
    id_field: IdFieldOption = None,
    date_field: DateFieldOption = None,
    url_field: UrlFieldOption = None,
    title_field: TitleFieldOption = None,
    outlet_field: OutletFieldOption = None,
    language_field: LanguageFieldOption = None,
    published: DateOption = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Print the requests, tokens and price the run would take, and make no call.",
            rich_help_panel="Cost",
        ),
    ] = False,
    max_cost: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="Stop before spending more than this many US dollars (refused at start when "
            "the estimate is over it).",
            rich_help_panel="Cost",
        ),
    ] = None,
    price_in: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="Price of a million prompt tokens in USD, for a model the table lacks.",
            rich_help_panel="Cost",
        ),
    ] = None,
    price_out: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="Price of a million completion tokens in USD, for a model the table lacks.",
            rich_help_panel="Cost",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Processes sharing the run, for more documents a second than one core "
            "keeps up with: each takes every N-th document and 1/N of --concurrency, of the "
            "rate limits and of --max-cost. Needs -f jsonl -o FILE.",
        ),
    ] = 1,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log to stderr.")] = False,
) -> None:
    """Extract meetings and status claims from articles, as JSON."""
    _configure_logging(verbose)
    if output_format not in FORMATS:
        raise fail(f"unknown format {output_format!r}: use {', '.join(FORMATS)}", 2)
    check_input_format(input_format)
    fields = input_fields(
        text=text_field,
        id=id_field,
        date=date_field,
        url=url_field,
        title=title_field,
        outlet=outlet_field,
        language=language_field,
    )
    if resume and (output is None or output_format != "jsonl"):
        raise fail("--resume needs -f jsonl and -o FILE (the output it resumes)", 2)
    if workers > 1:
        _check_workers(workers, concurrency, output, output_format, gguf, record, dry_run)
    settings = _run_settings(
        replay,
        record,
        call=not dry_run,
        model=model,
        provider=provider,
        output_mode=mode,
        base_url=base_url,
        replica_concurrency=replica_concurrency,
        api_key=key,
        gguf=gguf,
        max_tokens=max_tokens,
        chunk_chars=chunk_chars,
        reasks=reasks,
        repetition_penalty=repetition_penalty,
        cache=False if no_cache else None,
        cache_path=cache_path,
        rpm=rpm,
        tpm=tpm,
        timeout=timeout,
        input_format=input_format,
        input_fields=fields,
        published=published.date() if published else None,
        workers=workers,
    )

    files = expand_paths(paths, input_format)
    if not files:
        looked = ", ".join(sorted(directory_suffixes(input_format)))
        raise fail(f"no input files in {' '.join(paths)} (looked for {looked})", 3)
    formats = {format_of(f, settings.input_format) for f in files}
    if "parquet" in formats and not parquet_available():
        raise fail(PARQUET_MISSING, ConfigurationError.exit_code)
    if "-" in files and format_of("-", settings.input_format) != "text":
        raise fail(f"--input-format {input_format} reads rows from files, not stdin", 2)
    price = settings_price(settings, price_in=price_in, price_out=price_out)
    if dry_run or max_cost is not None:
        estimate = estimate_run(
            counted_inputs(files, settings), settings, price_in=price_in, price_out=price_out
        )
        if dry_run:
            typer.echo(format_estimate(estimate))
            for reason in estimate.unreadable:
                typer.echo(f"extractor: cannot be read: {reason}", err=True)
            raise typer.Exit(0)
        if price is None:
            raise fail(
                "--max-cost needs a price: " + no_price_message(settings.provider, settings.model),
                2,
            )
        assert max_cost is not None
        if (expected := estimate.price_live or 0.0) > max_cost:
            raise fail(
                f"the run is estimated at ${expected:.4f}, over --max-cost ${max_cost:g} "
                "(--dry-run shows the figures)",
                2,
            )
    # One argument naming one article file (present or not), not a directory or glob that
    # matched one, nor a file of rows: the JSON output is then the object, not an array.
    single = len(paths) == 1 and files == paths and formats == {"text"}
    job = Job(files, settings, output_format, output, concurrency, single, resume)  # type: ignore[arg-type]
    job.rows = formats != {"text"}
    job.price, job.max_cost = price, max_cost
    # Everything loaded so far (the SDK, instructor, pydantic's schemas: most of
    # the heap) lives as long as the process; keeping it out of the collector's
    # full passes saves about a millisecond of CPU per document in a batch.
    gc.freeze()
    _room_for(concurrency)
    try:
        code = run_workers(job, workers) if workers > 1 else asyncio.run(job.run())
    except ExtractorError as exc:
        raise fail(str(exc), exc.exit_code) from None
    except KeyboardInterrupt:
        raise fail("interrupted", 130) from None
    raise typer.Exit(code)


_FILES_BESIDE_SOCKETS = 64
"""Open files a run needs besides one socket per request: inputs, output, caches, logs."""


def _room_for(concurrency: int) -> None:
    """Make room for a socket per request in flight, or say at once why a run cannot have it."""
    needed = concurrency + _FILES_BESIDE_SOCKETS
    if (allowed := allow_open_files(needed)) < needed:
        typer.echo(
            f"extractor: warning: --concurrency {concurrency} needs about {needed} open files "
            f"and this system allows {allowed} (ulimit -n); requests past that fail to "
            "connect: lower --concurrency or raise the limit",
            err=True,
        )


def _check_workers(
    workers: int,
    concurrency: int,
    output: Path | None,
    output_format: str,
    gguf: Path | None,
    record: Path | None,
    dry_run: bool,
) -> None:
    """A one-line exit for what ``--workers`` cannot share."""
    if dry_run:
        return  # nothing runs
    if output is None or output_format != "jsonl":
        raise fail("--workers needs -f jsonl and -o FILE (the workers append to one file)", 2)
    if concurrency < workers:
        raise fail(f"--workers {workers} needs --concurrency {workers} or more", 2)
    if gguf is not None:
        raise fail("--workers does not apply to --gguf: the local model serves one process", 2)
    if record is not None:
        raise fail("--workers does not apply to --record: one process writes cassettes", 2)
    if not can_fork():
        raise fail("--workers needs a platform that can fork processes (Linux, macOS)", 2)


@app.command("eval")
def evaluate_command(
    gold: Annotated[Path, typer.Option(help="Directory of gold files (fixtures/gold).")],
    replay: ReplayOption = None,
    record: RecordOption = None,
    model: ModelOption = None,
    provider: ProviderOption = None,
    mode: ModeOption = None,
    base_url: BaseUrlOption = None,
    replica_concurrency: ReplicaConcurrencyOption = None,
    key: KeyOption = None,
    gguf: GgufOption = None,
    max_tokens: MaxTokensOption = None,
    chunk_chars: ChunkCharsOption = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the scores as JSON here.")
    ] = None,
    min_f1: Annotated[
        float | None, typer.Option(help="Exit 1 if any record type's overall F1 is below this.")
    ] = None,
    concurrency: ConcurrencyOption = 4,
    no_cache: NoCacheOption = False,
) -> None:
    """Score the pipeline against gold records: P/R/F1 per record type and field."""
    _configure_logging(verbose=False)
    settings = _run_settings(
        replay,
        record,
        model=model,
        provider=provider,
        output_mode=mode,
        base_url=base_url,
        replica_concurrency=replica_concurrency,
        api_key=key,
        gguf=gguf,
        max_tokens=max_tokens,
        chunk_chars=chunk_chars,
        cache=False if no_cache else None,
    )
    try:
        cases = load_gold(gold)
        report = asyncio.run(evaluation.evaluate(cases, settings, concurrency))
    except ExtractorError as exc:
        raise fail(str(exc), exc.exit_code) from None
    typer.echo(evaluation.format_table(report))
    if json_out:
        evaluation.write_json(report, json_out)
    problems = evaluation.shortfalls(report, min_f1)
    for problem in problems:
        typer.echo(f"extractor: {problem}", err=True)
    raise typer.Exit(1 if problems else 0)


@app.command()
def schema(
    draft: Annotated[
        bool, typer.Option("--draft", help="The schema the model fills, not the output's.")
    ] = False,
) -> None:
    """Print the JSON Schema of the output (or, with --draft, of what the model fills)."""
    model = DraftExtraction if draft else Extraction
    typer.echo(json.dumps(model.model_json_schema(), indent=2, ensure_ascii=False))


from extractor.batches.cli import batch_app  # noqa: E402  (it imports this module lazily)

app.add_typer(batch_app, name="batch")


def main() -> None:
    """Console-script entry point."""
    app()
