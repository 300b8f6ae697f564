"""Which standings an organisation grants, in what order, and since when.

Status vocabularies differ by organisation (ASEAN has sectoral dialogue
partners, BRICS has partner countries) and change over time (in September 2025
the SCO merged observer and dialogue partner into "partner"). Keeping them as
dated, ordered data in ``extractor/data/status_vocabularies.json`` lets the
pipeline check a claim against the vocabulary in force on the article's date
and infer the status a subject moves up from ("upgrading to observer" implies
it is below observer now), without string checks scattered through the code.

The same file holds the words that show a status or a stance in a quote
(surface forms such as "observer", "наблюдател*", "观察员"; cues such as
"seek*", "заявк*", "申请") and the function words a quote must go beyond:
``status_cue``, ``stance_cue`` and ``only_stopwords`` let a support check
confirm mechanically that a claim's quotes say what the claim says. The
notation of cues is documented in the file's ``_note``.

The file is validated on first use, so a typo in it fails loudly instead of
silently shrinking a vocabulary.
"""

# ruff: noqa: RUF002  (Russian words in the docstrings are meant to be there)

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Mapping
from enum import StrEnum
from functools import cache
from importlib.resources import files
from itertools import pairwise
from typing import Annotated, Any, Literal, Self, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from extractor.schemas.vocab import Stance, Status
from extractor.text.lookalikes import DASHES, INVISIBLE, SINGLE_QUOTES

__all__ = [
    "NOT_LEVELS",
    "agreed_level_below",
    "ever_known",
    "is_known",
    "level_below",
    "levels",
    "only_stopwords",
    "stance_checkable",
    "stance_cue",
    "status_checkable",
    "status_cue",
]

_DATA_FILE = "status_vocabularies.json"

# Roles held rather than rungs of a membership ladder: never part of a vocabulary.
NOT_LEVELS = frozenset({Status.chair, Status.office_holder, Status.other})


class _Period(BaseModel):
    """One vocabulary and the dates it was in force: ``from`` inclusive, ``until`` exclusive."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    start: dt.date | None = Field(alias="from")
    until: dt.date | None
    levels: tuple[Status, ...] = Field(min_length=1)
    note: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        """Reject repeated levels, non-ladder roles and empty date ranges."""
        if len(set(self.levels)) != len(self.levels):
            raise ValueError(f"levels repeat a status: {list(self.levels)}")
        misplaced = NOT_LEVELS.intersection(self.levels)
        if misplaced:
            raise ValueError(f"{sorted(misplaced)} are roles, not levels of a vocabulary")
        if self.start is not None and self.until is not None and self.start >= self.until:
            raise ValueError(f"period from {self.start} until {self.until} is empty")
        return self

    def covers(self, on: dt.date) -> bool:
        """Whether ``on`` falls inside this period."""
        return (self.start is None or self.start <= on) and (self.until is None or on < self.until)


# --- Folding: how quotes and cues are compared --------------------------------

# Han ideographs (with extensions and compatibility forms) and kana: scripts
# written without spaces, so their cues match as substrings and their stop
# words are single characters.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_CJK_CHAR = re.compile(f"[{_CJK}]")
# Hyphens and dashes read as spaces ("Secretary-General" is "secretary general").
_DASHES = "-" + DASHES
_APOSTROPHES = SINGLE_QUOTES
_INVISIBLE = INVISIBLE
_ASCII_TABLE = str.maketrans({"-": " ", "`": "'"})


def _script_allows_stripping(text: str) -> bool:
    """Whether ``text`` is Latin, Greek or Cyrillic, whose diacritics fold away."""
    return all(ord(c) < 0x0530 or 0x1E00 <= ord(c) < 0x2000 for c in text)


def _fold_char(ch: str) -> str:
    """One character as compared: case and diacritics folded, dashes as spaces.

    ё folds to е and é to e, but й stays й (it is a letter of its own, not
    и with an accent). Kana keep their voicing marks. Invisible characters
    fold to nothing.
    """
    if ch in _INVISIBLE:
        return ""
    if ch.isspace() or ch in _DASHES:
        return " "
    if ch in _APOSTROPHES:
        return "'"
    if ch in "йЙ":
        return "й"
    decomposed = unicodedata.normalize("NFKD", ch)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    if base and _script_allows_stripping(base):
        return "".join(" " if c in _DASHES else c for c in base.casefold())
    return unicodedata.normalize("NFKC", ch).casefold()


class _FoldTable(dict[int, str]):
    """``str.translate`` table that folds each character on first sight and remembers it."""

    def __init__(self) -> None:
        super().__init__()
        self.uneven: set[str] = set()  # characters that fold to none or to several

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        self[code] = folded
        if len(folded) != 1:
            self.uneven.add(chr(code))
        return folded


_FOLD_TABLE = _FoldTable()


def _fold(text: str) -> tuple[str, list[int] | None]:
    """``text`` folded, and the original offset of each folded character.

    The offsets are ``None`` when every character folds to exactly one, as in
    ASCII, Cyrillic and CJK text: then offsets are the same on both sides.
    Whitespace is not collapsed; patterns accept any run of it instead.
    """
    if text.isascii():
        return text.translate(_ASCII_TABLE).lower(), None
    folded = text.translate(_FOLD_TABLE)
    if _FOLD_TABLE.uneven.isdisjoint(text):
        return folded, None
    index = [i for i, ch in enumerate(text) for _ in _FOLD_TABLE[ord(ch)]]
    return folded, index


# --- Cue words and stop words, validated as they are read ----------------------

_Language = Literal["en", "ru", "zh", "fr", "es"]
# A word of letters, with apostrophes or hyphens inside ("d'accord", "porte-parole").
_LETTER_WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")
_CJK_WORD = re.compile(f"[{_CJK}]+")


def _check_word(word: str, *, star: bool) -> None:
    """Reject a word that is neither all CJK nor all letters, or misuses ``*``."""
    if _CJK_CHAR.search(word):
        if not _CJK_WORD.fullmatch(word):
            raise ValueError(f"{word!r} mixes CJK with other characters (CJK words take no '*')")
        return
    stem = word[:-1] if star and word.endswith("*") else word
    if not _LETTER_WORD.fullmatch(stem):
        raise ValueError(
            f"{word!r} is not a word of letters"
            + (" with an optional trailing '*'" if star else " (no '*' allowed)")
        )


def _check_cue(cue: str) -> str:
    """A cue is words of letters (optionally ending in ``*``) or CJK, single-spaced."""
    words = cue.split(" ")
    if not cue or any(not w for w in words):
        raise ValueError(f"cue {cue!r} is empty or not single-spaced")
    for word in words:
        _check_word(word, star=True)
    return cue


def _check_stopword(word: str) -> str:
    """A stop word is one word of letters only (as text is cut into words); CJK, one character."""
    _check_word(word, star=False)
    if _CJK_CHAR.search(word):
        if len(word) != 1:
            raise ValueError(f"CJK stop word {word!r} must be a single character")
    elif not word.isalpha():
        raise ValueError(f"stop word {word!r} must be letters only (text is cut at ' and -)")
    return word


_Cue = Annotated[str, AfterValidator(_check_cue)]
_StopWord = Annotated[str, AfterValidator(_check_stopword)]
_CueLists = Annotated[
    dict[_Language, Annotated[tuple[_Cue, ...], Field(min_length=1)]], Field(min_length=1)
]


def _check_no_repeats(kind: str, words: tuple[str, ...]) -> None:
    """Reject two words that fold alike (a repeat, or "партнёр" beside "партнер")."""
    seen: dict[str, str] = {}
    for word in words:
        key = " ".join(_fold(word)[0].split())
        if key in seen:
            raise ValueError(f"{kind}: {word!r} repeats {seen[key]!r}")
        seen[key] = word


def _check_cue_table(
    kind: str, table: Mapping[Any, Mapping[Any, tuple[str, ...]] | None], members: type[StrEnum]
) -> None:
    """Every value of the enum must be listed, with its cues or null; no language repeats one."""
    missing = [m.value for m in members if m not in table]
    if missing:
        raise ValueError(f"{kind} lacks {missing}; list each, null for no mandatory cue")
    for key, lists in table.items():
        for language, cues in (lists or {}).items():
            _check_no_repeats(f"{kind}.{key}.{language}", cues)


class _VocabularyFile(BaseModel):
    """The whole data file: periods per organisation, oldest first, without gaps; cue words."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    note: str | list[str] = Field(alias="_note")
    organisations: dict[str, tuple[_Period, ...]]
    status_cues: dict[Status, _CueLists | None]
    stance_cues: dict[Stance, _CueLists | None]
    stopwords: Annotated[
        dict[_Language, Annotated[tuple[_StopWord, ...], Field(min_length=1)]],
        Field(min_length=1),
    ]

    @model_validator(mode="after")
    def _check_cues(self) -> Self:
        """Every status and stance is listed; no language list repeats a cue or a stop word."""
        _check_cue_table("status_cues", self.status_cues, Status)
        _check_cue_table("stance_cues", self.stance_cues, Stance)
        for language, words in self.stopwords.items():
            _check_no_repeats(f"stopwords.{language}", words)
        return self

    @model_validator(mode="after")
    def _check_timelines(self) -> Self:
        """Each organisation's periods must chain end to start, open only at the ends."""
        for org, periods in self.organisations.items():
            if not periods:
                raise ValueError(f"{org}: no periods")
            for earlier, later in pairwise(periods):
                if earlier.until is None or later.start != earlier.until:
                    raise ValueError(
                        f"{org}: a period ending {earlier.until} is followed by one "
                        f"starting {later.start}; periods must be oldest first and contiguous"
                    )
            if periods[-1].until is not None:
                raise ValueError(f"{org}: the last period must be open-ended (until: null)")
        return self


@cache
def _file() -> _VocabularyFile:
    """Load and validate the data file once."""
    raw = (files("extractor") / "data" / _DATA_FILE).read_text("utf-8")
    return _VocabularyFile.model_validate(json.loads(raw))


@cache
def _vocabularies() -> dict[str, tuple[_Period, ...]]:
    """The periods of each organisation, keyed by folded short name."""
    return {org.casefold(): periods for org, periods in _file().organisations.items()}


def levels(org_short: str, on: dt.date | None = None) -> list[Status]:
    """Return the organisation's statuses in force on ``on``, highest first.

    ``on=None`` gives the current (latest) vocabulary. An unknown organisation,
    or a date before its first period, gives ``[]`` rather than an error: most
    organisations in articles have no status ladder at all.
    """
    periods = _vocabularies().get(org_short.strip().casefold()) if org_short else None
    if not periods:
        return []
    if on is None:
        return list(periods[-1].levels)
    if isinstance(on, dt.datetime):  # a datetime does not compare with a date
        on = on.date()
    for period in periods:
        if period.covers(on):
            return list(period.levels)
    return []


def level_below(org_short: str, status: Status, on: dt.date | None = None) -> Status | None:
    """Return the status just below ``status``, or ``None`` at the bottom or outside.

    This is what "upgrading to observer" implies the subject holds now.
    """
    ladder = levels(org_short, on)
    if status not in ladder:
        return None
    index = ladder.index(status)
    return ladder[index + 1] if index + 1 < len(ladder) else None


def is_known(org_short: str, status: Status, on: dt.date | None = None) -> bool:
    """Whether the organisation granted ``status`` on ``on`` (or grants it now)."""
    return status in levels(org_short, on)


def ever_known(org_short: str, status: Status) -> bool:
    """Whether the organisation granted ``status`` at any date, for an article of unknown date.

    An undated article about SCO observers is not wrong because the SCO has
    had no observers since 2025; only a status no vocabulary ever had is.
    """
    periods = _vocabularies().get(org_short.strip().casefold()) if org_short else None
    return any(status in period.levels for period in periods or ())


def agreed_level_below(org_short: str, status: Status) -> Status | None:
    """The status just below ``status`` in every vocabulary the organisation ever had, or None.

    For an article of unknown date: "upgrading to member" implies the SCO
    subject is an observer only if every period says so, and it is not (since
    2025 the rung below member is partner), so nothing is inferred.
    """
    periods = _vocabularies().get(org_short.strip().casefold()) if org_short else None
    below: set[Status | None] = set()
    for period in periods or ():
        ladder = period.levels
        index = ladder.index(status) if status in ladder else None
        below.add(ladder[index + 1] if index is not None and index + 1 < len(ladder) else None)
    (agreed,) = below if len(below) == 1 else (None,)
    return agreed


# --- Cues in quotes ---------------------------------------------------------------

_Key = TypeVar("_Key", Status, Stance)


def _word_pattern(word: str) -> str:
    """The regex of one folded cue word: CJK as a substring, else a whole word or a prefix.

    The start-of-word check of a cue's first word is left to ``_cue_pattern``,
    which puts one in front of all Latin and Cyrillic cues together.
    """
    if _CJK_CHAR.search(word):
        return r"\s*".join(re.escape(c) for c in word)
    if word.endswith("*"):
        return rf"{re.escape(word[:-1])}\w*"
    return rf"{re.escape(word)}(?!\w)"


def _cue_pattern(cues: list[str]) -> re.Pattern[str]:
    """One regex for a list of cues, the longest first so it wins where two start together.

    Latin and Cyrillic cues share a single look-behind for the start of a word:
    one per cue made the search of a long list several times slower.
    """
    words_cues: list[str] = []
    cjk_cues: list[str] = []
    for cue in sorted({" ".join(_fold(c)[0].split()) for c in cues}, key=lambda c: (-len(c), c)):
        words = cue.split(" ")
        pattern = _word_pattern(words[0])
        for before, word in pairwise(words):
            both_cjk = _CJK_CHAR.match(before[-1]) and _CJK_CHAR.match(word[0])
            pattern += (r"\s*" if both_cjk else r"\s+") + _word_pattern(word)
        (cjk_cues if _CJK_CHAR.match(cue) else words_cues).append(pattern)
    branches = []
    if words_cues:
        branches.append(rf"(?<!\w)(?:{'|'.join(words_cues)})")
    if cjk_cues:
        branches.append("|".join(cjk_cues))
    return re.compile("|".join(branches))


def _patterns(
    table: Mapping[_Key, Mapping[Any, tuple[str, ...]] | None],
) -> dict[_Key, re.Pattern[str] | None]:
    """Each key's compiled cue regex, or ``None`` where the key has no mandatory cue."""
    return {
        key: None if lists is None else _cue_pattern([c for cues in lists.values() for c in cues])
        for key, lists in table.items()
    }


@cache
def _status_patterns() -> dict[Status, re.Pattern[str] | None]:
    """Compiled cue regexes per status, built once."""
    return _patterns(_file().status_cues)


@cache
def _stance_patterns() -> dict[Stance, re.Pattern[str] | None]:
    """Compiled cue regexes per stance, built once."""
    return _patterns(_file().stance_cues)


def _find(text: str, pattern: re.Pattern[str] | None) -> str | None:
    """The first (leftmost, then longest) match of ``pattern`` in ``text``, as written there."""
    if pattern is None or not text:
        return None
    folded, index = _fold(text)
    found = pattern.search(folded)
    if found is None:
        return None
    if index is None:
        return text[found.start() : found.end()]
    return text[index[found.start()] : index[found.end() - 1] + 1]


def status_cue(text: str, status: Status) -> str | None:
    """Return the first surface form of ``status`` in ``text``, as written there, or ``None``.

    Matching folds case, diacritics (ё as е), hyphens and whitespace; Latin
    and Cyrillic cues match whole words or, with a trailing ``*``, word
    prefixes ("статуса наблюдателя" gives "наблюдателя"); CJK cues match as
    substrings. ``Status.other`` has no cues and always gives ``None`` (see
    ``status_checkable``). ``Status.office_holder`` is matched against a list
    of common titles only; since titles are open-ended, a caller may also
    accept a quote containing the claim's own office words.
    """
    return _find(text, _status_patterns().get(status))


def status_checkable(status: Status) -> bool:
    """Whether ``status`` has mandatory cues, so a status quote without one fails the check.

    False only for ``Status.other``: its quotes are not mechanically checkable.
    True for ``Status.office_holder``, checked against the title list (or, at
    the caller's choice, the claim's own office words).
    """
    return _status_patterns().get(status) is not None


def stance_cue(text: str, stance: Stance) -> str | None:
    """Return the first cue of ``stance`` in ``text``, as written there, or ``None``.

    Matching works as in ``status_cue``. ``Stance.holds`` has no cues ("SCO
    member states" holds membership without saying so) and always gives
    ``None`` (see ``stance_checkable``).
    """
    return _find(text, _stance_patterns().get(stance))


def stance_checkable(stance: Stance) -> bool:
    """Whether ``stance`` has mandatory cues (False for ``Stance.holds``, often implicit)."""
    return _stance_patterns().get(stance) is not None


# A CJK character on its own, or a run of other word characters.
_TOKEN = re.compile(f"[{_CJK}]|(?:(?![{_CJK}])\\w)+")


@cache
def _stopwords() -> frozenset[str]:
    """All stop words of all languages, folded (CJK ones are single characters)."""
    return frozenset(_fold(w)[0] for words in _file().stopwords.values() for w in words)


def only_stopwords(text: str) -> bool:
    """Whether ``text`` has no word outside the stop words, so it supports nothing.

    True as well for text without letters (empty, punctuation, numbers alone).
    Words are compared whole after the same folding as cues; a CJK stretch
    counts as stop words only when each of its characters is one ("他的").
    """
    stop = _stopwords()
    folded = _fold(text)[0]
    for token in _TOKEN.finditer(folded):
        word = token.group()
        if word not in stop and any(c.isalpha() for c in word):
            return False
    return True
