"""Chunked against whole: scores of the long corpus article at several chunk sizes.

    python bench/chunk_bench.py [--article 010_long_summit_roundup]

Runs the pipeline offline over the article with the authored final answer (the
test double projects it onto each part, as a model reading only that part would
answer), for chunk budgets from "whole" down to a few thousand characters, and
prints P/R/F1 per record type against the gold, with the number of parts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from extractor.schemas import Gold
from extractor.scoring import RECORD_TYPES, score
from extractor.testing import run_scripted, scripted_settings

ROOT = Path(__file__).resolve().parent.parent


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--article", default="010_long_summit_roundup")
    args = parser.parse_args()
    spec = json.loads((ROOT / "fixtures" / "authored" / f"{args.article}.json").read_text("utf-8"))
    gold_path = ROOT / "fixtures" / "gold" / f"{args.article}.json"
    gold = Gold.model_validate_json(gold_path.read_text("utf-8"))
    path = ROOT / spec["document"]
    print(f"{args.article}: {len(path.read_text('utf-8')):,} characters")
    print(f"{'chunk budget':>12} {'parts':>5}  " + "  ".join(f"{k:>20}" for k in RECORD_TYPES))
    for budget in (1_000_000, 12_000, 8_000, 5_000, 3_000):
        settings = scripted_settings(chunk_chars=budget, chunk_overlap=min(600, budget // 5))
        # The final answer again on every re-ask, as a model that keeps its answer would.
        script = [spec["answers"][-1]] * (settings.reasks + 1)
        result, _ = await run_scripted(path, script, settings)
        s = score(result, gold)
        cells = [
            f"{s.records[k].precision:.2f}/{s.records[k].recall:.2f}/{s.records[k].f1:.2f}"
            for k in RECORD_TYPES
        ]
        label = "whole" if result.run.chunks == 1 else f"{budget:,}"
        print(f"{label:>12} {result.run.chunks:>5}  " + "  ".join(f"{c:>20}" for c in cells))


if __name__ == "__main__":
    asyncio.run(main())
