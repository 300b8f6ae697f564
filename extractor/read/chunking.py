"""Splitting a long article into overlapping chunks the model can read whole.

Cuts fall on paragraph boundaries where possible, then on sentence ends, and
only as a last resort inside a sentence, so a quote is rarely split. Each chunk
after the first repeats the end of the previous one (``overlap`` characters,
rounded to whole sentences or paragraphs), so a fact straddling a cut is seen
whole at least once; the merge step folds the duplicates this creates.
Chunks are spans of the original text, so offsets need no translation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PARAGRAPH_END = re.compile(r"\n[ \t\u00a0]*\n\s*")
# After . ! ? (and the CJK full stops), with optional closing quotes or brackets.
_SENTENCE_END = re.compile(
    r"(?<=[.!?\u3002\uff01\uff1f])[\"'\u201d\u2019)\]]*\s+|(?<=[\u3002\uff01\uff1f])"
)


@dataclass(frozen=True)
class Chunk:
    """A span of the document: ``text[start:end]``."""

    start: int
    end: int
    index: int
    count: int


def _cut_points(text: str) -> list[int]:
    """Offsets where a chunk may end, best first by kind: paragraphs, then sentences."""
    return sorted({m.end() for m in _PARAGRAPH_END.finditer(text)})


def _sentence_points(text: str, lo: int, hi: int) -> list[int]:
    return [m.end() for m in _SENTENCE_END.finditer(text, lo, hi) if lo < m.end() < hi]


def _best_cut(text: str, start: int, limit: int, paragraphs: list[int]) -> int:
    """The latest good place to end a chunk that starts at ``start``, at most ``limit``."""
    floor = start + (limit - start) // 2  # never make a chunk less than half the budget
    candidates = [p for p in paragraphs if floor <= p <= limit]
    if candidates:
        return candidates[-1]
    sentences = _sentence_points(text, floor, limit + 1)
    if sentences:
        return sentences[-1]
    space = text.rfind(" ", floor, limit)
    return space + 1 if space > start else limit


def _overlap_start(text: str, cut: int, overlap: int, paragraphs: list[int], floor: int) -> int:
    """Where the next chunk starts: ``overlap`` characters back, on a boundary."""
    if overlap <= 0:
        return cut
    target = max(cut - overlap, floor)
    bounds = [p for p in paragraphs if target <= p < cut] + _sentence_points(text, target, cut)
    return min(bounds) if bounds else cut


def split(text: str, budget: int, overlap: int = 0) -> list[Chunk]:
    """Chunks of at most ``budget`` characters covering the whole text, in order."""
    if budget <= 0:
        raise ValueError("budget must be positive")
    if len(text) <= budget:
        return [Chunk(0, len(text), 0, 1)]
    overlap = min(overlap, budget // 2)
    paragraphs = _cut_points(text)
    spans: list[tuple[int, int]] = []
    start = 0
    while start < len(text):
        limit = start + budget
        if limit >= len(text):
            spans.append((start, len(text)))
            break
        cut = _best_cut(text, start, limit, paragraphs)
        spans.append((start, cut))
        start = max(_overlap_start(text, cut, overlap, paragraphs, start + 1), start + 1)
    return [Chunk(s, e, i, len(spans)) for i, (s, e) in enumerate(spans)]
