"""Quote alignment on a 1 MB article: time and memory, side by side with plain str.find.

    python bench/align_bench.py [--size 1000000] [--quotes 200] [--seed 0]

Builds a mixed-script article (Latin, Cyrillic, CJK, curly quotes, runs of
whitespace), picks quotes from it and perturbs them the way models do
(straight quotes for curly, collapsed whitespace, changed case), then aligns
them with ``extractor.text.align.Aligner``. Prints the index build time, the
time for all quotes, the peak memory (tracemalloc) and, for reference, the time
``str.find`` takes for the unperturbed quotes (which it alone could match).
Every aligned span is checked against the text.

Then, on a fresh aligner, ``Aligner.locate`` for the same quotes (the first
fold, as ``find``) and for those of them that lose an accent when models drop
diacritics (the Cyrillic "й" written "и"): the first such lookup builds the
diacritic-blind index, timed on its own, and the rest are timed per quote.
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc
import unicodedata

from extractor.text.align import Aligner

PARAGRAPHS = [
    "The SCO Secretary-General met the Ambassador of {n} on the \u201cinteraction plan\u201d.",
    "Генеральный секретарь ШОС встретился с послом страны номер {n}  и обсудил сотрудничество.",
    "上海合作组织秘书长会见了第{n}号国家大使，双方讨论了合作。",
    "The sides agreed   to continue regular contacts (round {n}) \u2014 the Embassy said.",
]


def build(size: int, rng: random.Random) -> str:
    parts: list[str] = []
    total = 0
    n = 0
    while total < size:
        para = rng.choice(PARAGRAPHS).format(n=n)
        parts.append(para)
        total += len(para) + 2
        n += 1
    return "\n\n".join(parts)[:size]


def perturb(quote: str, rng: random.Random) -> str:
    quote = quote.replace("\u201c", '"').replace("\u201d", '"').replace("\u2014", "-")
    quote = " ".join(quote.split())
    return quote.upper() if rng.random() < 0.3 else quote


def drop_accents(quote: str) -> str:
    bare = "".join(c for c in unicodedata.normalize("NFD", quote) if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", bare)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--quotes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    text = build(args.size, rng)
    originals = []
    for _ in range(args.quotes):
        start = rng.randrange(0, len(text) - 200)
        start = text.rfind("\n\n", 0, start) + 2 if "\n\n" in text[:start] else 0
        end = text.find("\n\n", start)
        originals.append(text[start : end if end > 0 else start + 80])
    quotes = [perturb(q, rng) for q in originals]

    t0 = time.perf_counter()
    aligner = Aligner(text)
    t1 = time.perf_counter()
    spans = [aligner.find(q) for q in quotes]
    t2 = time.perf_counter()

    del aligner  # memory is measured in a second pass: tracemalloc slows the first
    tracemalloc.start()
    Aligner(text).find(quotes[0])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    t3 = time.perf_counter()
    plain = [text.find(q) for q in originals]
    t4 = time.perf_counter()

    aligner = Aligner(text)  # fresh, so the lazy build below is the first
    t5 = time.perf_counter()
    located = [aligner.locate(q) for q in quotes]
    t6 = time.perf_counter()
    bare = [b for b in map(drop_accents, quotes) if b not in quotes]
    t7 = time.perf_counter()
    blind = [aligner.locate(q) for q in bare[:1]]
    t8 = time.perf_counter()
    blind += [aligner.locate(q) for q in bare[1:]]
    t9 = time.perf_counter()

    found = [s for s in spans if s is not None]
    assert [None if m is None else (m.start, m.end) for m in located] == spans
    for m, quote in zip(blind, bare, strict=True):
        assert m is not None and m.how == "diacritics"
        assert drop_accents(perturb(text[m.start : m.end], random.Random(0))).casefold() == (
            quote.casefold()
        )
    for (a, b), quote in zip(spans, quotes, strict=True):  # the span is the quote, as perturbed
        assert perturb(text[a:b], random.Random(0)).casefold() == quote.casefold()
    print(f"article: {len(text):,} characters, {args.quotes} quotes (perturbed)")
    rows = [
        ("Aligner index build", t1 - t0, None),
        ("Aligner.find x quotes", t2 - t1, (t2 - t1) / len(quotes) * 1000),
        ("str.find x quotes (exact)", t4 - t3, (t4 - t3) / len(quotes) * 1000),
        ("Aligner.locate x quotes", t6 - t5, (t6 - t5) / len(quotes) * 1000),
        ("locate: blind index (lazy)", t8 - t7, None),
        ("locate x accents dropped", t9 - t8, (t9 - t8) / max(1, len(bare) - 1) * 1000),
    ]
    print(f"{'step':<28}{'seconds':>10}{'per quote ms':>14}")
    for name, seconds, per in rows:
        print(f"{name:<28}{seconds:>10.3f}{'' if per is None else f'{per:.3f}':>14}")
    print(f"accents dropped: {len(bare)} quotes, all located with how='diacritics'")
    print(f"aligned: {len(found)}/{len(quotes)}; str.find matched {sum(p >= 0 for p in plain)}")
    print(f"peak memory while aligning: {peak / 1e6:.1f} MB ({peak / len(text):.1f} bytes/char)")


if __name__ == "__main__":
    main()
