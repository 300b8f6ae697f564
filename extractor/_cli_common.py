"""What the ``extract`` and ``batch submit`` commands share: how they fail, and how they are
told to read a corpus.

A batch run must read its inputs exactly as a live run does, so the two
commands take the same corpus options (``--input-format``, ``--text-field``
and the other row fields, ``--date``), declared once here. ``extractor.cli``
imports ``extractor.batches.cli`` to mount the ``batch`` commands, so what
both need lives in neither.
"""

from __future__ import annotations

import typing
from datetime import datetime
from typing import Annotated, Any

import typer

from extractor.settings import InputFields, InputFormat

__all__ = [
    "INPUT_FORMATS",
    "DateFieldOption",
    "DateOption",
    "IdFieldOption",
    "InputFormatOption",
    "LanguageFieldOption",
    "OutletFieldOption",
    "TextFieldOption",
    "TitleFieldOption",
    "UrlFieldOption",
    "check_input_format",
    "fail",
    "input_fields",
]

INPUT_FORMATS: tuple[str, ...] = typing.get_args(InputFormat)


def fail(message: str, code: int) -> typer.Exit:
    """The one ``extractor: error:`` line on stderr, and the exit to raise with ``code``."""
    typer.echo(f"extractor: error: {message}", err=True)
    return typer.Exit(code)


def check_input_format(input_format: str) -> None:
    """A one-line exit for an ``--input-format`` that is not one."""
    if input_format not in INPUT_FORMATS:
        raise fail(f"unknown input format {input_format!r}: use {', '.join(INPUT_FORMATS)}", 2)


_PANEL = "Corpus input"
_DEFAULTS = InputFields()

InputFormatOption = Annotated[
    str,
    typer.Option(
        help="How inputs are read: auto (by extension: .jsonl/.ndjson, .csv, .tsv, .json, "
        ".parquet are rows of articles; other files are one article each), or one of "
        "text, jsonl, csv, tsv, json, parquet for every input.",
        rich_help_panel=_PANEL,
    ),
]
DateOption = Annotated[
    datetime | None,
    typer.Option(
        "--date",
        formats=["%Y-%m-%d"],
        help="Publication date (YYYY-MM-DD) of every article that has none of its own "
        "(from its row or header); a dateline in the text still wins.",
        rich_help_panel=_PANEL,
    ),
]


def _field(what: str, defaults: tuple[str, ...]) -> Any:
    return typer.Option(
        help=f"Row field holding the {what} (default: the first of {', '.join(defaults)}).",
        rich_help_panel=_PANEL,
    )


TextFieldOption = Annotated[str | None, _field("text", _DEFAULTS.text)]
IdFieldOption = Annotated[str | None, _field("input's id", _DEFAULTS.id)]
DateFieldOption = Annotated[str | None, _field("publication date", _DEFAULTS.date)]
UrlFieldOption = Annotated[str | None, _field("URL", _DEFAULTS.url)]
TitleFieldOption = Annotated[str | None, _field("title", _DEFAULTS.title)]
OutletFieldOption = Annotated[str | None, _field("outlet", _DEFAULTS.outlet)]
LanguageFieldOption = Annotated[str | None, _field("language code", _DEFAULTS.language)]


def input_fields(**named: str | None) -> InputFields | None:
    """The row fields the options named (``text="body"``), or None for the defaults."""
    given = {key: (value,) for key, value in named.items() if value}
    return InputFields(**given) if given else None
