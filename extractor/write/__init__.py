"""Records out: JSON, JSONL and CSV, a writer class per format, one file each.

A new format is a new module with a class following ``base.Writer`` and one
line in ``WRITERS``. Imports only the schemas.
"""

from typing import Literal, get_args

from extractor.write.base import Writer
from extractor.write.csv_table import CSV_COLUMNS, CsvWriter, csv_header, csv_rows
from extractor.write.json_array import JsonWriter, json_document
from extractor.write.jsonl import JsonlWriter, jsonl_line

Format = Literal["json", "jsonl", "csv"]
WRITERS: dict[str, type[Writer]] = {"json": JsonWriter, "jsonl": JsonlWriter, "csv": CsvWriter}
FORMATS: tuple[str, ...] = get_args(Format)
assert set(FORMATS) == set(WRITERS), "every format has a writer"

__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "WRITERS",
    "Format",
    "Writer",
    "csv_header",
    "csv_rows",
    "json_document",
    "jsonl_line",
]
