"""Aligning a model's quote to character offsets in the original text.

Every record must point at the words that support it, but models do not copy
text byte for byte: they straighten curly quotes, collapse line breaks, change
case, swap dashes, or emit a different Unicode form of the same letter. A plain
``text.find(quote)`` would reject good records for those trivial changes, while
a fuzzy matcher would accept words the article never said. The middle road is
to compare both sides after a fixed set of normalisations and to keep a map
from every normalised character back to the original one, so the offsets we
report always refer to the article exactly as it was read.

Names are where models stray further: they drop accents ("Gusmao" for
"Gusmão") or spell umlauts out ("Kraehenbuehl" for "Krähenbühl"). Ignoring
diacritics everywhere would be too loose for ordinary words, so ``Aligner.locate``
tries a diacritic-blind fold only when the quote is not found otherwise, and
says so in the ``Match`` it returns, letting the caller weigh that evidence.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from extractor.text.lookalikes import INVISIBLE, PUNCTUATION

__all__ = ["Aligner", "How", "Match", "align"]

# Quote marks and dashes (``extractor.text.lookalikes``) are mapped before NFKD as
# well as after it, because some of them (the acute accent, the double prime)
# decompose into spaces or pairs and would otherwise never match.
_PUNCT = {chr(k): v for k, v in PUNCTUATION.items()}
_INVISIBLE = INVISIBLE
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
    return _collapse_spaces(text.translate(table))


def _collapse_spaces(translated: str) -> tuple[str, array[int]]:
    """A text folded character for character, with runs of spaces made one, and its offsets."""
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


# The folds that ignore diacritics, tried only when a quote is not found by the
# one above. Only the combining diacritical blocks count as diacritics: they are
# the accents of Latin, Greek and Cyrillic, whereas combining marks of other
# scripts are letters in all but name (kana voicing marks, Indic vowel signs and
# viramas, Hebrew and Arabic points), and dropping them would let "か" match "が".
_DIACRITIC_BLOCKS = ((0x0300, 0x036F), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0xFE20, 0xFE2F))
# Letters with a stroke, ligatures and the dotless i (escaped, being a look-alike),
# which NFKD leaves alone but models write plain all the same ("Sorensen", "Lodz",
# "Kilic"). "ß" needs no entry: casefold already spells it "ss", in every fold.
_BLIND_LETTERS = {
    "ø": "o",
    "đ": "d",
    "ð": "d",
    "ħ": "h",
    "ł": "l",
    "\u0131": "i",
    "æ": "ae",
    "œ": "oe",
}
# The spelt-out forms of German and Nordic letters ("Kraehenbuehl", "Soerensen",
# "Aarhus"), as pairs of base letter and mark because that is what NFKD and
# casefold make of "ä" and "Ä" alike.
_SPELT_OUT = (("a\u0308", "ae"), ("o\u0308", "oe"), ("u\u0308", "ue"), ("a\u030a", "aa"))
_SPELT_LETTERS = {**_BLIND_LETTERS, "ø": "oe", "þ": "th"}


def _is_diacritic(ch: str) -> bool:
    code = ord(ch)
    return any(low <= code <= high for low, high in _DIACRITIC_BLOCKS)


@lru_cache(maxsize=8192)
def _is_mark(ch: str) -> bool:
    """Whether a character belongs to the letter before it (any combining mark)."""
    return unicodedata.category(ch).startswith("M")


def _folded_cluster(cluster: str) -> str:
    # NFKD again for the canonical order of several marks on one letter.
    return unicodedata.normalize("NFKD", "".join(_fold(ch) for ch in cluster))


@lru_cache(maxsize=8192)
def _fold_blind(cluster: str) -> str:
    """The fold of a letter and its marks with the diacritics dropped: "Ã" becomes "a"."""
    folded = "".join(ch for ch in _folded_cluster(cluster) if not _is_diacritic(ch))
    return "".join(_BLIND_LETTERS.get(ch, ch) for ch in folded)


@lru_cache(maxsize=8192)
def _fold_spelt(cluster: str) -> str:
    """Like ``_fold_blind`` but with umlauts and "å" spelt out: "Ä" becomes "ae"."""
    folded = _folded_cluster(cluster)
    for pair, spelt in _SPELT_OUT:
        folded = folded.replace(pair, spelt)
    folded = "".join(ch for ch in folded if not _is_diacritic(ch))
    return "".join(_SPELT_LETTERS.get(ch, ch) for ch in folded)


def _fold_text_by(text: str, fold: Callable[[str], str]) -> tuple[str, array[int]]:
    """``text`` under one of the diacritic-blind folds, and the offset each character came from.

    The fold works on a letter together with the marks after it (a decomposed
    "a" and tilde is one "a"), and each folded character maps to the offset of
    that letter, so a match can neither split a letter from its marks nor keep
    only some of them. A text with no separate marks whose characters all fold
    to one character (NFC Latin, Cyrillic, CJK) takes ``str.translate``, as the
    first fold does; the rest take the loop.
    """
    chars = set(text)
    marks = {ch for ch in chars if _is_mark(ch)}
    if not marks:
        table: dict[int, str] = {}
        for ch in chars:
            folded = fold(ch)
            if len(folded) != 1:
                break
            if folded != ch:
                table[ord(ch)] = folded
        else:
            return _collapse_spaces(text.translate(table))
    parts: list[str] = []
    index = array("q")
    last_space = False
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and text[j] in marks:
            j += 1
        for part in fold(text[i:j]):
            if part == _SPACE:
                if last_space:
                    continue
                last_space = True
            else:
                last_space = False
            parts.append(part)
            index.append(i)
        i = j
    return "".join(parts), index


def _quote_by(quote: str, fold: Callable[[str], str] | None) -> tuple[str, ...]:
    """The forms of a quote to look for under a fold (None: the first), best first.

    As ``_normalise_quote``: whole, then without wrapping quote marks; empty if
    nothing is left to find.
    """
    if fold is None:
        whole, inner = _normalise_quote(quote)
    else:
        whole = _fold_text_by(quote, fold)[0].strip(_SPACE)
        inner = whole.strip(_SPACE + _QUOTE_MARKS)
    if not inner:
        return ()
    return (whole, inner) if whole != inner else (inner,)


How = Literal["exact", "normalised", "diacritics"]


@dataclass(frozen=True, slots=True)
class Match:
    """Where a quote was found, ``text[start:end]`` being the original passage, and how.

    ``how`` lets a caller weigh the evidence: "exact" is the quote byte for byte
    (less surrounding whitespace), "normalised" differs only in what ``find``
    tolerates (quote marks, dashes, whitespace, case, Unicode form), and
    "diacritics" matched only once accents were ignored, which is right for a
    name ("Gusmao") but weaker evidence for an ordinary word.
    """

    start: int
    end: int
    how: How


class _Folding:
    """One fold of the text with its map back to original offsets, and searches in it.

    ``clustered`` says the map points at letters whose marks follow them (the
    diacritic-blind folds), so a span's end is carried over those marks.
    """

    __slots__ = ("clustered", "index", "norm", "text")

    def __init__(self, text: str, norm: str, index: array[int], clustered: bool) -> None:
        self.text, self.norm, self.index, self.clustered = text, norm, index, clustered

    def spans(self, needle: str, pos: int, bounded: bool) -> Iterator[tuple[tuple[int, int], int]]:
        """Matches at or after a folded position, in order, and where each ends in the fold."""
        norm = self.norm
        while (pos := norm.find(needle, pos)) >= 0:
            end = pos + len(needle)
            span = self._span(pos, end, bounded)
            if span is not None:
                yield span, end
            pos += 1

    def last_before(self, needle: str, pos: int, bounded: bool) -> tuple[int, int] | None:
        """The last match starting before a folded position."""
        norm, width = self.norm, len(needle)
        limit = pos + width - 1  # rfind's end: a match ending there starts at pos - 1
        while (found := norm.rfind(needle, 0, limit)) >= 0:
            span = self._span(found, found + width, bounded)
            if span is not None:
                return span
            limit = found + width - 1
        return None

    def nearest(self, needle: str, near: int | None, bounded: bool) -> tuple[int, int] | None:
        """The match nearest an original offset (the first if ``near`` is None).

        Only two matches can be nearest: the first starting at or after
        ``near`` and the last starting before it, which also ends last of those
        before, since folded offsets map to original ones in order. A tie goes to
        the earlier.
        """
        if near is None:
            return next((span for span, _ in self.spans(needle, 0, bounded)), None)
        pos = bisect_left(self.index, near)
        after = next((span for span, _ in self.spans(needle, pos, bounded)), None)
        before = self.last_before(needle, pos, bounded)
        if before is None or (after is not None and after[0] - near < max(0, near - before[1] + 1)):
            return after
        return before

    def _span(self, pos: int, end: int, bounded: bool) -> tuple[int, int] | None:
        """The original span of a folded match, if it covers whole characters (and words)."""
        norm, index, text = self.norm, self.index, self.text
        # As Aligner._on_boundaries: not inside a character, not before a mark of its last.
        if pos > 0 and index[pos - 1] == index[pos]:
            return None
        if end < len(norm) and (index[end] == index[end - 1] or unicodedata.combining(norm[end])):
            return None
        start, stop = index[pos], index[end - 1] + 1
        if self.clustered:
            while stop < len(text) and _is_mark(text[stop]):
                stop += 1
        if bounded and not _word_edges(text, start, stop):
            return None
        return start, stop


def _disjoint(
    folding: _Folding, needle: str, bounded: bool
) -> Iterator[tuple[tuple[int, int], int]]:
    """Non-overlapping matches in text order, each searched for after the last one ends."""
    pos = 0
    while (found := next(folding.spans(needle, pos, bounded), None)) is not None:
        yield found
        pos = found[1]


def _spells_out(text: str) -> bool:
    """Whether the spelt-out fold of ``text`` differs from the blind one.

    Checked on the distinct characters, plus the separate diaeresis and ring
    that a decomposed "ä" or "å" is spelt out from, so most texts (English,
    Russian, Chinese) get the spelt-out fold for free.
    """
    chars = set(text)
    if "\u0308" in chars or "\u030a" in chars:
        return True
    return any(_fold_spelt(ch) != _fold_blind(ch) for ch in chars)


def _word_edges(text: str, start: int, end: int) -> bool:
    """As ``Aligner._word_edges``, with a combining mark counted as part of its word.

    The mark is what a decomposed "café" ends with, and it must not make the
    "s" after it look like the start of another word.
    """

    def inside(a: int, b: int) -> bool:
        return _wordy(text[a]) and _wordy(text[b]) and not _unspaced(text[b])

    if start > 0 and inside(start - 1, start):
        return False
    return not (end < len(text) and inside(end, end - 1))


def _wordy(ch: str) -> bool:
    return ch.isalnum() or _is_mark(ch)


class Aligner:
    """Finds quotes in one document; build once per text, call ``find`` many times.

    The normalised text and its index map are built here, once, because a
    document's quotes are checked many times (every record, every re-ask), and
    each lookup then costs one ``str.find`` on the normalised string.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._norm, self._index = _fold_text(text)
        # The diacritic-blind folds, built on the first quote that needs them:
        # most documents never do, and each costs about what the first fold does.
        self._blind: _Folding | None = None
        self._spelt: _Folding | None = None

    def locate(
        self, quote: str, near: int | None = None, *, whole_word: bool = False
    ) -> Match | None:
        """Where the quote is and how it was matched, trying the strict fold before the blind ones.

        The first fold is ``find``'s; only if it fails are diacritics ignored,
        first dropped ("Gusmao" for "Gusmão"), then spelt out ("Kraehenbuehl"
        for "Krähenbühl"), so a quote is never matched more loosely than it
        has to be. ``near`` picks, of several occurrences, the one nearest an
        original offset (one containing it is at distance 0), where
        ``find``'s ``start_hint`` only looks forward; without it the first
        occurrence wins. ``whole_word`` prefers a whole-word match in any fold
        to a match inside a word in a stricter one: "Gusmão" the name is better
        evidence for "Gusmao" than "Gusmaoist" is.
        """
        strict = _quote_by(quote, None)
        if not strict:
            return None
        for bounded in (True, False) if whole_word else (False,):
            for level, folding, needles in self._foldings(quote, strict):
                for needle in needles:
                    found = folding.nearest(needle, near, bounded)
                    if found is not None:
                        return self._match(found, quote, level)
        return None

    def locate_all(self, quote: str, *, whole_word: bool = False) -> list[Match]:
        """Every non-overlapping occurrence, in text order, from the strictest fold that finds any.

        As ``find_all``, the quote is looked for without wrapping quote marks
        and ``whole_word`` keeps only whole-word matches. One fold for all the
        occurrences, so a name spelt right in the text is not mixed with
        looser matches of it.
        """
        strict = _quote_by(quote, None)
        if not strict:
            return []
        for level, folding, needles in self._foldings(quote, strict):
            spans = [span for span, _ in _disjoint(folding, needles[-1], whole_word)]
            if spans:
                return [self._match(span, quote, level) for span in spans]
        return []

    def _foldings(
        self, quote: str, strict: tuple[str, ...]
    ) -> Iterator[tuple[int, _Folding, tuple[str, ...]]]:
        """Each fold in turn, strictest first, built when first reached, with the quote's forms.

        ``strict`` is the quote's forms under the first fold. The spelt-out fold
        is skipped when it could find nothing the blind one did not: the text
        has nothing to spell out and the quote no umlaut.
        """
        yield 0, _Folding(self.text, self._norm, self._index, False), strict
        if self._blind is None:
            self._blind = _Folding(self.text, *_fold_text_by(self.text, _fold_blind), True)
        blind_needles = _quote_by(quote, _fold_blind)
        if blind_needles:
            yield 1, self._blind, blind_needles
        if self._spelt is None:
            if _spells_out(self.text):
                self._spelt = _Folding(self.text, *_fold_text_by(self.text, _fold_spelt), True)
            else:
                self._spelt = self._blind
        spelt_needles = _quote_by(quote, _fold_spelt)
        if spelt_needles and (self._spelt is not self._blind or spelt_needles != blind_needles):
            yield 2, self._spelt, spelt_needles

    def _match(self, span: tuple[int, int], quote: str, level: int) -> Match:
        start, end = span
        if level:
            return Match(start, end, "diacritics")
        return Match(start, end, "exact" if self.text[start:end] == quote.strip() else "normalised")

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
