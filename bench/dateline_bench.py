"""Datelines: the share of the corpus and of the authored line set that parse right.

    python bench/dateline_bench.py [--lines fixtures/datelines/lines.jsonl]

Every record of the line set (and every corpus article it names) is parsed with
``parse_dateline(text, published=...)``; a record is right when the date and
the place are both as expected, or, for a line with no dateline, when nothing
is found. Prints the share of corpus articles, of dateline lines and of
negative lines that are right, every failure with its shape, and which table
shape read each line (so a shape that never fires shows up). Corpus articles
the line set does not name are listed, not scored. The exit status is 1 when
any record fails.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import date
from pathlib import Path

from extractor.read import dateline as dl
from extractor.read.document import read_document

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", default=str(ROOT / "fixtures" / "datelines" / "lines.jsonl"))
    args = parser.parse_args()
    records = [json.loads(line) for line in Path(args.lines).read_text("utf-8").splitlines()]
    records = [r for r in records if "_about" not in r]
    totals: Counter[str] = Counter()
    right: Counter[str] = Counter()
    used: Counter[str] = Counter()
    failures: list[str] = []
    named: set[str] = set()
    for record in records:
        if "file" in record:  # read as the pipeline reads it: header off, its date the hint
            kind = "corpus"
            named.add(record["file"])
            found = read_document(ROOT / record["file"], max_bytes=10**7).dateline
        else:
            kind = "line" if record["expect"] else "negative"
            published = date.fromisoformat(record["published"]) if record.get("published") else None
            found = dl.parse_dateline(record["text"], published=published)
        shape = found.shape if found else None
        expect = record["expect"]
        got = None if found is None else {
            "date": found.date.isoformat() if found.date else None, "place": found.place
        }  # fmt: skip
        totals[kind] += 1
        if shape:
            used[shape] += 1
        if got == expect:
            right[kind] += 1
        else:
            label = record.get("file") or record["text"][:60].replace("\n", " | ")
            failures.append(f"  [{record['shape']}] {label!r}: expected {expect}, got {got}")
    corpus = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "fixtures" / "corpus").glob("*.txt"))
    unnamed = [p for p in corpus if p not in named]

    print(f"{'set':<10} {'right':>6} {'of':>4} {'share':>7}")
    for kind in ("corpus", "line", "negative"):
        share = right[kind] / totals[kind] if totals[kind] else 0.0
        print(f"{kind:<10} {right[kind]:>6} {totals[kind]:>4} {share:>7.1%}")
    lines = right["line"] + right["negative"]
    all_lines = totals["line"] + totals["negative"]
    print(f"{'lines, all':<10} {lines:>6} {all_lines:>4} {lines / max(all_lines, 1):>7.1%}")
    print(f"\nshapes used ({len(used)} of {len(dl.shapes())}):")
    for entry in dl.shapes():
        print(f"  {used[entry.name]:>3}  {entry.name}")
    if unnamed:
        print("\ncorpus articles with no expected dateline in the line set (not scored):")
        print("\n".join(f"  {p}" for p in unnamed))
    print(f"\nfailures: {len(failures)}")
    print("\n".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
