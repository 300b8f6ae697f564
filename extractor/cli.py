"""The ``extractor`` command line.

Errors a user can cause (a missing file, no API key, a replay miss) end in one
line on stderr and a non-zero exit code, never a traceback; ``--verbose`` adds
the log. Results go to stdout or ``-o`` so they can be piped.
"""

from __future__ import annotations

import asyncio
import glob
import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from . import _exceptions
from ._exceptions import ConfigurationError, ExtractorError
from .pipeline import aextract_paths
from .schemas import DraftExtraction, ErrorRecord, Extraction
from .settings import Settings
from .writers import Format, Result, json_document, jsonl_line

app = typer.Typer(
    help="Grounded, typed records of meetings and status claims from news articles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_TEXT_SUFFIXES = {".txt", ".text", ".md", ".html", ".htm"}


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"extractor: error: {message}", err=True)
    return typer.Exit(code)


def expand_paths(args: list[str]) -> list[str]:
    """Files named, files under directories (text-like suffixes), and glob matches."""
    found: list[str] = []
    for arg in args:
        path = Path(arg)
        if arg == "-" or path.is_file():
            found.append(arg)
        elif path.is_dir():
            found += sorted(
                str(p) for p in path.rglob("*") if p.is_file() and p.suffix in _TEXT_SUFFIXES
            )
        elif any(ch in arg for ch in "*?[") and (matches := sorted(glob.glob(arg, recursive=True))):
            found += [m for m in matches if Path(m).is_file()]
        else:
            found.append(arg)  # reported as missing, in its place in the output
    return found


def _settings(**overrides: object) -> Settings:
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "settings"
        raise ConfigurationError(f"invalid setting {where}: {first['msg']}") from None


@app.command()
def extract(
    paths: Annotated[
        list[str], typer.Argument(help="Files, directories or globs; '-' reads stdin.")
    ],
    model: Annotated[str | None, typer.Option(help="Model name [env EXTRACTOR_MODEL].")] = None,
    base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible server URL [env OPENAI_BASE_URL].")
    ] = None,
    replay: Annotated[
        Path | None, typer.Option(help="Answer from recorded exchanges in DIR; no network.")
    ] = None,
    record: Annotated[
        Path | None, typer.Option(help="Call the model and record every exchange into DIR.")
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", "-f", help="json (pretty) or jsonl (a line per document).")
    ] = "json",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Documents in flight at once.")] = 4,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log to stderr.")] = False,
) -> None:
    """Extract meetings and status claims from articles, as JSON."""
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if output_format not in ("json", "jsonl"):
        raise _fail(f"unknown format {output_format!r}: use json or jsonl", 2)
    if replay and record:
        raise _fail("--replay and --record exclude each other", 2)
    mode = "replay" if replay else "record" if record else None
    try:
        settings = _settings(
            model=model, base_url=base_url, mode=mode, cassette_dir=replay or record
        )
        settings.ensure_runnable()
    except ExtractorError as exc:
        raise _fail(str(exc), exc.exit_code) from None

    files = expand_paths(paths)
    single = len(paths) == 1 and len(files) == 1 and (paths[0] == "-" or Path(paths[0]).is_file())
    try:
        code = asyncio.run(_run(files, settings, output_format, output, concurrency, single))  # type: ignore[arg-type]
    except ExtractorError as exc:
        raise _fail(str(exc), exc.exit_code) from None
    except KeyboardInterrupt:
        raise _fail("interrupted", 130) from None
    raise typer.Exit(code)


async def _run(
    files: list[str],
    settings: Settings,
    fmt: Format,
    output: Path | None,
    concurrency: int,
    single: bool,
) -> int:
    out = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
    results: list[Result] = []
    failures: list[ErrorRecord] = []
    try:
        async for result in aextract_paths(files, settings=settings, concurrency=concurrency):
            if isinstance(result, ErrorRecord):
                failures.append(result)
                typer.echo(f"extractor: error: {result.source}: {result.message}", err=True)
            if fmt == "jsonl":
                out.write(jsonl_line(result))
                out.flush()
            elif not (single and isinstance(result, ErrorRecord)):
                results.append(result)
        if fmt == "json" and results:
            out.write(json_document(results, single=single))
    finally:
        if output:
            out.close()
    return max((_exit_code(f) for f in failures), default=0)


def _exit_code(record: ErrorRecord) -> int:
    cls = getattr(_exceptions, record.error_type, None)
    return cls.exit_code if isinstance(cls, type) and issubclass(cls, ExtractorError) else 1


@app.command()
def schema(
    draft: Annotated[
        bool, typer.Option("--draft", help="The schema the model fills, not the output's.")
    ] = False,
) -> None:
    """Print the JSON Schema of the output (or, with --draft, of what the model fills)."""
    model = DraftExtraction if draft else Extraction
    typer.echo(json.dumps(model.model_json_schema(), indent=2, ensure_ascii=False))


def main() -> None:
    """Console-script entry point."""
    app()
