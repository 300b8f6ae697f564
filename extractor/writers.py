"""Serialising results: one JSON document, or JSON Lines for streams of any size."""

from __future__ import annotations

import json
from typing import Literal

from .schemas import Result

Format = Literal["json", "jsonl"]


def jsonl_line(result: Result) -> str:
    """One compact line per document, so a long run can be followed, split and resumed."""
    return result.model_dump_json() + "\n"  # pydantic's own serialiser: UTF-8, one line


def json_document(results: list[Result], *, single: bool) -> str:
    """Pretty JSON: the object itself for one input, an array for several."""
    dumped = [r.model_dump(mode="json") for r in results]
    return json.dumps(dumped[0] if single else dumped, indent=2, ensure_ascii=False) + "\n"
