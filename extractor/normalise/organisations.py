"""Organisations as written in an article -> one canonical short and full name.

The same organisation appears as "Shanghai Cooperation Organization", "SCO",
"the SCO Secretariat", "ШОС" or "上海合作组织"; records must carry one name so
claims about it can be grouped and counted. The table lives in
``extractor/data/organisations.json``.

Matching is deliberately conservative, because a wrong organisation silently
corrupts a status claim while ``None`` stays visible:

1. an exact match of the whole (folded) phrase on a name or alias;
2. otherwise, a longer phrase resolves only if every known name it contains
   (acronyms as whole words in capitals, full names as whole words, Chinese
   names of three or more characters anywhere), after dropping names nested
   inside longer ones, belongs to one organisation. "the SCO Secretariat" is the
   SCO; "SCO-ICRC cooperation" is nothing; "the Embassy of Cambodia" contains
   no organisation name at all and stays ``None``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files

from pydantic import BaseModel, ConfigDict, Field

from extractor.text.lookalikes import PUNCTUATION

__all__ = [
    "OrganisationInfo",
    "defined_acronyms",
    "organisations_named",
    "resolve_organisation",
    "resolve_with_local",
]

_DATA_FILE = "organisations.json"


# Letters that continue a word in the scripts acronyms and names are written in;
# CJK is excluded on purpose so "SCO秘书处" still finds "SCO".
_WORD_CHAR = r"0-9A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u052f"
_BEFORE = rf"(?<![{_WORD_CHAR}])"
_AFTER = rf"(?![{_WORD_CHAR}])"

# Short Chinese names ("东盟", "北约") also occur inside unrelated words
# ("河北约有" = "Hebei has about"), so only longer ones are searched for inside text.
_MIN_CJK_INSIDE = 3


@dataclass(frozen=True, slots=True)
class OrganisationInfo:
    """The canonical names of an organisation, as records carry them."""

    short: str
    full: str


class _Entry(BaseModel):
    """One organisation in the data file; extra keys are typos and rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    short: str = Field(min_length=1)
    full: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)


class _DataFile(BaseModel):
    """The whole data file, so a malformed one fails on first use, loudly."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    note: str | list[str] = Field(alias="_note")
    organisations: list[_Entry]


@dataclass(frozen=True, slots=True)
class _Pattern:
    """A name to look for inside a longer phrase, and how to look for it."""

    regex: re.Pattern[str]
    on_folded: bool
    info: OrganisationInfo


@dataclass(frozen=True, slots=True)
class _Tables:
    """Everything the lookups need, built once from the data file."""

    acronyms: dict[str, OrganisationInfo]
    names: dict[str, OrganisationInfo]
    patterns: tuple[_Pattern, ...]


def _base(text: str) -> str:
    """Normalise what carries no meaning but keeps case and length per character.

    The folded form derived from this has the same length, so spans found in
    the case-sensitive text and in the folded text can be compared directly.
    """
    text = unicodedata.normalize("NFKC", text).translate(PUNCTUATION)
    return " ".join(text.split())


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    """Fold one character's case and accents, keeping it one character long.

    Cached: texts use few distinct characters, and this runs for every one of them.
    """
    folded = "".join(
        c for c in unicodedata.normalize("NFKD", char.casefold()) if not unicodedata.combining(c)
    )
    if len(folded) == 1:
        return folded
    lower = char.lower()
    return lower if len(lower) == 1 else char


def _fold(base: str) -> str:
    """Fold case, accents, hyphens and the organiz/organis spelling, length-preserving.

    Hyphens become spaces so "South-East" meets "South East" and "SCO-ICRC"
    keeps its two words apart.
    """
    folded = "".join(_fold_char(c) for c in base).replace("-", " ")
    return folded.replace("organiz", "organis")


def _strip_edges(text: str) -> str:
    """Drop edge punctuation, a leading "the" and spaces ("the SCO's." -> "SCO's")."""
    text = text.strip(" ")
    while text and unicodedata.category(text[0]).startswith("P"):
        text = text[1:].lstrip()
    while text and unicodedata.category(text[-1]).startswith("P"):
        text = text[:-1].rstrip()
    if text[:4].casefold() == "the ":
        text = _strip_edges(text[4:])
    return text


def _without_possessive(text: str) -> str | None:
    """Return the phrase without a trailing "'s", if it has one."""
    if text.endswith(("'s", "'S")):
        return _strip_edges(text[:-2])
    return None


def _is_acronym(alias: str) -> bool:
    """An alias written without spaces and without lower case is an acronym."""
    return (
        " " not in alias and any(c.isupper() for c in alias) and not any(c.islower() for c in alias)
    )


def _has_cjk(text: str) -> bool:
    """Chinese names have no word boundaries, so they are matched differently."""
    return any("\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf" for c in text)


def _pattern(alias: str, info: OrganisationInfo) -> _Pattern | None:
    """Compile how ``alias`` is found inside a longer phrase, if it may be."""
    base = _base(alias)
    if _has_cjk(base):
        if len(base) < _MIN_CJK_INSIDE:
            return None
        return _Pattern(re.compile(re.escape(_fold(base))), True, info)
    if _is_acronym(base):
        # Acronyms are searched in the unfolded text: only capitals make "WHO" the WHO.
        return _Pattern(re.compile(_BEFORE + re.escape(base) + _AFTER), False, info)
    return _Pattern(re.compile(_BEFORE + re.escape(_fold(base)) + _AFTER), True, info)


def _register(table: dict[str, OrganisationInfo], key: str, info: OrganisationInfo) -> None:
    """Add ``key``, refusing one that already names another organisation."""
    if not key:
        raise ValueError(f"{_DATA_FILE}: an alias of {info.short} is empty")
    known = table.setdefault(key, info)
    if known != info:
        raise ValueError(f"{_DATA_FILE}: {key!r} names both {known.short} and {info.short}")


@cache
def _tables() -> _Tables:
    """Load, validate and index the data file once."""
    raw = (files("extractor") / "data" / _DATA_FILE).read_text("utf-8")
    data = _DataFile.model_validate(json.loads(raw))
    acronyms: dict[str, OrganisationInfo] = {}
    names: dict[str, OrganisationInfo] = {}
    patterns: list[_Pattern] = []
    shorts: set[str] = set()
    for entry in data.organisations:
        if entry.short in shorts:
            raise ValueError(f"{_DATA_FILE}: {entry.short!r} is listed twice")
        shorts.add(entry.short)
        info = OrganisationInfo(short=entry.short, full=entry.full)
        for alias in dict.fromkeys([entry.short, entry.full, *entry.aliases]):
            base = _base(alias)
            if _is_acronym(base):
                _register(acronyms, _strip_edges(base), info)
            else:
                _register(names, _strip_edges(_fold(base)), info)
            pattern = _pattern(alias, info)
            if pattern is not None:
                patterns.append(pattern)
    return _Tables(acronyms=acronyms, names=names, patterns=tuple(patterns))


def _exact(text: str, tables: _Tables) -> OrganisationInfo | None:
    """Look the whole phrase up as an acronym (as written) or a folded name."""
    key = _strip_edges(text)
    folded = _strip_edges(_fold(text))
    for acronym, name in ((key, folded), (_without_possessive(key), _without_possessive(folded))):
        if acronym is not None and acronym in tables.acronyms:
            return tables.acronyms[acronym]
        if name is not None and name in tables.names:
            return tables.names[name]
    return None


def _contained(text: str, tables: _Tables) -> OrganisationInfo | None:
    """Resolve a longer phrase by the one organisation whose names it contains."""
    folded = _fold(text)
    spans: list[tuple[int, int, OrganisationInfo]] = []
    for pattern in tables.patterns:
        haystack = folded if pattern.on_folded else text
        spans.extend((m.start(), m.end(), pattern.info) for m in pattern.regex.finditer(haystack))
    outermost = {
        info
        for start, end, info in spans
        if not any(s <= start and end <= e and (s, e) != (start, end) for s, e, _ in spans)
    }
    return outermost.pop() if len(outermost) == 1 else None


def resolve_organisation(name: str | None) -> OrganisationInfo | None:
    """Return the canonical names of the organisation ``name`` refers to, or ``None``.

    ``None`` means unknown, empty, or a phrase that names no organisation or
    more than one; it never raises, because the pipeline normalises whatever
    the model wrote and must keep going.
    """
    if not isinstance(name, str):
        return None
    return _resolve(name)


@lru_cache(maxsize=4096)
def _resolve(name: str) -> OrganisationInfo | None:
    """``resolve_organisation`` for a string; cached, as every article names the same few."""
    text = _base(name)
    if not text:
        return None
    tables = _tables()
    return _exact(text, tables) or _contained(text, tables)


def organisations_named(text: str) -> frozenset[str]:
    """Short names of every known organisation the text names, in any of its names.

    The support check asks whether a claim's organisation is named in the
    article at all, however the model spelt it; this scans the whole text once
    with the same patterns ``resolve_organisation`` uses inside a phrase.
    """
    tables = _tables()
    base = _base(text)
    folded = _fold(base)
    found: set[str] = set()
    for pattern in tables.patterns:
        if pattern.info.short not in found and pattern.regex.search(
            folded if pattern.on_folded else base
        ):
            found.add(pattern.info.short)
    return frozenset(found)


# "Organization of Turkic States (OTS)": a name the article abbreviates itself.
_DEFINED_ACRONYM = re.compile(
    r"\b((?:[A-Z][\w'\u2019-]*)(?:\s+(?:(?:of|for|and|the|on|in|de|du|des)\s+)*"
    r"[A-Z][\w'\u2019-]*){1,8})\s+\(([A-Z][A-Z0-9]{1,9})\)"
)

_ACRONYM_IN_PARENS = re.compile(r"\([A-Z][A-Z0-9]{1,9}\)")


def defined_acronyms(text: str) -> dict[str, str]:
    """Acronyms the article defines, each with the full name it gives (first definition wins).

    The full name is the run of words ending before the parenthesis whose capitals
    spell the acronym ("the Secretary-General of the Organization of Turkic States
    (OTS)" gives "Organization of Turkic States").
    """
    found: dict[str, str] = {}
    for paren in _ACRONYM_IN_PARENS.finditer(text):
        # A definition holds no parenthesis before its own, so only the stretch since the
        # last one is searched: the same matches as over the whole text, at a fraction of
        # the cost (the full pattern is tried at every capital letter).
        before = paren.start()
        stretch = max(text.rfind("(", 0, before), text.rfind(")", 0, before)) + 1
        match = _DEFINED_ACRONYM.search(text, stretch, paren.end())
        if match is None:
            continue
        words, acronym = match.group(1).split(), match.group(2)
        capitals = 0
        for start in range(len(words) - 1, -1, -1):
            capitals += words[start][0].isupper()
            if capitals == len(acronym):
                initials = "".join(w[0] for w in words[start:] if w[0].isupper())
                if initials == acronym:
                    found.setdefault(acronym, " ".join(words[start:]))
                break
    return found


def resolve_with_local(as_written: str, local: dict[str, str]) -> OrganisationInfo | None:
    """``resolve_organisation``, then the acronyms an article defines (``defined_acronyms``).

    An acronym the data does not know ("OTS" in an article that writes
    "Organization of Turkic States (OTS)") still names one organisation, by
    its acronym or its full name, however the model wrote it.
    """
    info = resolve_organisation(as_written)
    if info is not None:
        return info
    written = _strip_edges(_fold(_base(as_written)))
    for acronym, full in local.items():
        if written in (_strip_edges(_fold(_base(acronym))), _strip_edges(_fold(_base(full)))):
            return resolve_organisation(full) or OrganisationInfo(short=acronym, full=full)
    return None
