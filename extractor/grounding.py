"""Aligning a model's quote to character offsets in the original text.

Every record must point at the words that support it, but models do not copy
text byte for byte: they straighten curly quotes, collapse line breaks, change
case, swap dashes, or emit a different Unicode form of the same letter. A plain
``text.find(quote)`` would reject good records for those trivial changes, while
a fuzzy matcher would accept words the article never said. The middle road is
to compare both sides after a fixed set of normalisations and to keep a map
from every normalised character back to the original one, so the offsets we
report always refer to the article exactly as it was read.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from bisect import bisect_left
from functools import lru_cache

__all__ = ["Aligner", "align"]

# Quote marks and dashes that models substitute for one another: curly, low-9,
# reversed, angle and full-width quotes, primes, modifier-letter apostrophes, the
# acute and grave accents; hyphen, non-breaking hyphen, figure/en/em dash, bar,
# minus, small and full-width hyphens. Escaped so the look-alikes stay visible.
# Mapped before NFKD as well as after it, because some of them (the acute
# accent, the double prime) decompose into spaces or pairs and would otherwise
# never match.
_SINGLE_QUOTES = (
    "'\u2018\u2019\u201a\u201b\u2032\u2035\u2039\u203a`\u00b4\u02b9\u02bb\u02bc\u02bd\u02c8\uff07"
)
_DOUBLE_QUOTES = '"\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb\u3003\uff02\u275d\u275e'
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63\uff0d"
_PUNCT = {
    **{c: "'" for c in _SINGLE_QUOTES},
    **{c: '"' for c in _DOUBLE_QUOTES},
    **{c: "-" for c in _DASHES},
}
# Invisible characters that carry no text: soft hyphen, zero-width space and
# joiners, word joiner, BOM. Articles scraped from the web are full of them.
_INVISIBLE = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff")
_SPACE = " "
_QUOTE_MARKS = "'\""


def _is_space(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in ("Zs", "Zl", "Zp")


@lru_cache(maxsize=8192)
def _fold(ch: str) -> str:
    """The normalised form of one original character ("" if it carries no text).

    Whitespace folds to a single space; the caller collapses runs. Cached
    because a document uses few distinct characters, which keeps building the
    index of a megabyte of text well under a second.
    """
    if ch in _INVISIBLE:
        return ""
    if _is_space(ch):
        return _SPACE
    ch = _PUNCT.get(ch, ch)
    out = []
    for part in unicodedata.normalize("NFKD", ch):
        part = _PUNCT.get(part, part)
        if part in _INVISIBLE:
            continue
        if _is_space(part):
            out.append(_SPACE)
        else:
            out.append(part.casefold())
    return "".join(out)


def _normalise_quote(quote: str) -> tuple[str, str]:
    """The quote folded like the text: trimmed of whitespace, then also of wrapping quote marks.

    Both forms are returned because a quote mark at the edge is sometimes part
    of the passage (the article quotes someone) and sometimes the model's own
    wrapping; the first form is tried first so a passage keeps its marks.
    """
    whole = _fold_only(quote).strip(_SPACE)
    return whole, whole.strip(_SPACE + _QUOTE_MARKS)


_SPACE_RUNS = re.compile("  +")


def _fold_text(text: str) -> tuple[str, array[int]]:
    """``text`` folded, and for each folded character the offset it came from.

    Most texts fold character for character (every character stays one
    character: ASCII, most Latin, Cyrillic and CJK), and for those the work is
    done by ``str.translate`` and a regex over whitespace runs instead of a
    Python loop over every character, which made this the costliest step of a
    document after the model call. Texts with a character that folds to
    several or to none (accented letters in NFKD, ligatures, invisible
    characters) take the character loop.
    """
    table = _one_to_one(text)
    if table is None:
        return _fold_each(text)
    translated = text.translate(table)
    parts: list[str] = []
    index = array("q")
    kept = 0  # start of the stretch not yet copied
    for run in _SPACE_RUNS.finditer(translated):
        start = run.start() + 1  # a run of whitespace is one space, at its first character
        parts.append(translated[kept:start])
        index.extend(range(kept, start))
        kept = run.end()
    parts.append(translated[kept:])
    index.extend(range(kept, len(translated)))
    return "".join(parts), index


def _fold_only(text: str) -> str:
    """``_fold_text`` without the offsets, which a quote does not need."""
    table = _one_to_one(text)
    if table is None:
        return _fold_each(text)[0]
    return _SPACE_RUNS.sub(_SPACE, text.translate(table))


# What ``_one_to_one`` has learnt of characters so far, shared by every text: the
# folds that change a character into one other, the characters known to fold one
# to one, and those that fold to none or several. Unicode bounds all three.
_ONE_TO_ONE: dict[int, str] = {}
_SEEN: set[str] = set()
_NOT_ONE_TO_ONE: set[str] = set()


def _one_to_one(text: str) -> dict[int, str] | None:
    """A ``str.translate`` table folding ``text``, or None if a character folds to 0 or 2+.

    The table is shared and holds every character met so far, so a text costs
    set operations over its distinct characters, not a fold of each of them.
    """
    chars = set(text)
    if not chars.isdisjoint(_NOT_ONE_TO_ONE):
        return None
    for ch in chars - _SEEN:
        folded = _fold(ch)
        if len(folded) != 1:
            _NOT_ONE_TO_ONE.add(ch)
            return None
        if folded != ch:
            _ONE_TO_ONE[ord(ch)] = folded
        _SEEN.add(ch)
    return _ONE_TO_ONE


def _fold_each(text: str) -> tuple[str, array[int]]:
    """``_fold_text`` one character at a time, for texts that do not fold one to one."""
    parts: list[str] = []
    index = array("q")
    last_space = False
    memo: dict[str, str] = {}  # cheaper than the lru_cache call in this hot loop
    for i, ch in enumerate(text):
        folded = memo.get(ch)
        if folded is None:
            folded = memo[ch] = _fold(ch)
        if not folded:
            continue
        if folded == _SPACE:
            # A run of whitespace is one space, anchored at its first character.
            if last_space:
                continue
            last_space = True
            parts.append(_SPACE)
            index.append(i)
            continue
        for part in folded:
            if part == _SPACE:
                if last_space:
                    continue
                last_space = True
            else:
                last_space = False
            parts.append(part)
            index.append(i)
    return "".join(parts), index


class Aligner:
    """Finds quotes in one document; build once per text, call ``find`` many times.

    The normalised text and its index map are built here, once, because a
    document's quotes are checked many times (every record, every re-ask), and
    each lookup then costs one ``str.find`` on the normalised string.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._norm, self._index = _fold_text(text)

    def find(
        self, quote: str, start_hint: int = 0, *, whole_word: bool = False
    ) -> tuple[int, int] | None:
        """``(start, end)`` in the original text of the passage the quote stands for.

        ``text[start:end]`` may differ from ``quote`` in the tolerated ways, so
        callers should store that slice, not the quote. ``start_hint`` prefers
        the first match at or after an original offset (a later mention of the
        same words), falling back to the first match anywhere. ``whole_word``
        prefers matches that do not start or end inside a word (a short mention
        such as "Посол" should not land inside "посольством"), falling back to
        any match.
        """
        whole, inner = _normalise_quote(quote)
        if not inner:
            return None
        needles = (whole, inner) if whole != inner else (inner,)
        starts = [0]
        if start_hint > 0:
            starts.insert(0, bisect_left(self._index, start_hint))
        for bounded in (True, False) if whole_word else (False,):
            for pos in starts:
                for needle in needles:
                    found = self._search_at(needle, pos, bounded)
                    if found is not None:
                        return found[0]
        return None

    def find_all(self, quote: str, *, whole_word: bool = False) -> list[tuple[int, int]]:
        """Every non-overlapping place the quote stands for, in text order."""
        _, inner = _normalise_quote(quote)
        if not inner:
            return []
        spans: list[tuple[int, int]] = []
        pos = 0
        while (found := self._search_at(inner, pos, whole_word)) is not None:
            spans.append(found[0])
            pos = found[1]
        return spans

    def _search_at(
        self, needle: str, pos: int, bounded: bool = False
    ) -> tuple[tuple[int, int], int] | None:
        """The next match at or after a normalised position, and where it ends there."""
        norm, index = self._norm, self._index
        while True:
            pos = norm.find(needle, pos)
            if pos < 0:
                return None
            end = pos + len(needle)
            if self._on_boundaries(pos, end):
                span = (index[pos], index[end - 1] + 1)
                if not bounded or self._word_edges(*span):
                    return span, end
            pos += 1

    def _word_edges(self, start: int, end: int) -> bool:
        """Whether an original span neither starts nor ends inside a word.

        Scripts written without spaces (CJK) have no word edges to respect.
        """
        text = self.text

        def inside(a: int, b: int) -> bool:
            return text[a].isalnum() and text[b].isalnum() and not _unspaced(text[b])

        if start > 0 and inside(start - 1, start):
            return False
        return not (end < len(text) and inside(end, end - 1))

    def _on_boundaries(self, start: int, end: int) -> bool:
        """Whether a match covers whole original characters.

        Without this, "cafe" would match inside "café" (its NFKD form is "cafe"
        plus a combining accent) and "i" inside the ligature "ﬁ".
        """
        norm, index = self._norm, self._index
        if start > 0 and index[start - 1] == index[start]:
            return False
        if end < len(norm):
            if index[end] == index[end - 1]:
                return False
            if unicodedata.combining(norm[end]):
                return False
        return True


def _unspaced(ch: str) -> bool:
    """Han, kana and other scripts written without spaces between words."""
    code = ord(ch)
    return (
        0x2E80 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3FFFF
        or 0xFF00 <= code <= 0xFFEF
    )


def align(quote: str, text: str) -> tuple[int, int] | None:
    """One-off alignment; build an ``Aligner`` instead when checking many quotes."""
    return Aligner(text).find(quote)
