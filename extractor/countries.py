"""States as written in an article -> ISO 3166-1 alpha-3 codes, and back.

Articles (and the model reading them) name a state in many ways: "the Republic
of the Union of Myanmar", "Myanmar's", "PRC", "Россия", "中国". Records carry the
ISO code so that one state is one key across articles and languages.

The rule is *exact lookup after light normalisation, never a guess*: a wrong
code is worse than no code, because it silently attaches a claim to the wrong
state, while ``None`` stays visible. So there is no fuzzy matching, no
substring search and no adjective demonyms ("Cambodian"); a phrase that merely
*contains* a state ("Embassy of Cambodia in Beijing") is not a state and gives
``None``; picking the state out of such a phrase is the extractor's job.

Names come from pycountry (name, official_name, common_name, plus the natural
order of its inverted names such as "Korea, Republic of"); what pycountry misses
(short forms, former names, Russian and Chinese names) lives in
``extractor/data/country_aliases.json``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache, lru_cache
from importlib.resources import files

import pycountry

__all__ = ["country_code", "country_mentions", "country_name"]

_ALIASES_FILE = "country_aliases.json"

# Quote and dash look-alikes that models and wire services swap freely.
_APOSTROPHES = str.maketrans({c: "'" for c in "\u2018\u2019\u02bc\u2032\u00b4\u0060\uff07"})
_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2212"})


def _key(text: str) -> str:
    """Fold a name to the form both sides of every lookup are compared in.

    Folding case, accents (so "Cote d'Ivoire" meets "Côte d'Ivoire", and Russian
    "yo" meets "ye"), quote and dash variants, whitespace, edge punctuation and a
    leading "the" removes the differences that carry no meaning in a state's
    name, and nothing else.
    """
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).translate(_DASHES)
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = " ".join(unicodedata.normalize("NFC", text).split())
    text = _strip_edge_punctuation(text)
    if text.startswith("the "):
        text = _strip_edge_punctuation(text[4:].lstrip())
    return text


def _strip_edge_punctuation(text: str) -> str:
    """Drop punctuation at both ends ("Myanmar.", "“Burma”", "Philippines'")."""
    start, end = 0, len(text)
    while start < end and unicodedata.category(text[start]).startswith("P"):
        start += 1
    while end > start and unicodedata.category(text[end - 1]).startswith("P"):
        end -= 1
    return text[start:end].strip()


def _natural_order(name: str) -> str | None:
    """Turn ISO's inverted names ("Korea, Republic of") into running text.

    Articles write "the Republic of Korea", never the catalogue form, so the
    natural order is indexed too. Only the unambiguous shapes are inverted:
    a tail ending in "of"/"of the", or a single qualifying word ("British").
    """
    head, sep, tail = name.partition(", ")
    if not sep or ", " in tail:
        return None
    if tail.endswith((" of", " of the")) or " " not in tail:
        return f"{tail} {head}"
    return None


@cache
def _tables() -> tuple[dict[str, str], frozenset[str]]:
    """Build the folded-name -> alpha-3 table and the never-a-state set once.

    Names that fold to the same key for two different codes would make the
    lookup guess, so such a clash in the alias file fails loudly here instead.
    """
    index: dict[str, str] = {}
    ambiguous: set[str] = set()
    for country in pycountry.countries:
        code = country.alpha_3
        for field in ("name", "official_name", "common_name"):
            value = getattr(country, field, None)
            if not value:
                continue
            for form in (value, _natural_order(value)):
                if not form:
                    continue
                key = _key(form)
                if index.setdefault(key, code) != code:
                    ambiguous.add(key)  # two states fold to one name: never guess
    for key in ambiguous:
        del index[key]

    raw = json.loads((files("extractor") / "data" / _ALIASES_FILE).read_text("utf-8"))
    for code, names in raw["aliases"].items():
        if pycountry.countries.get(alpha_3=code) is None:
            raise ValueError(f"{_ALIASES_FILE}: {code!r} is not an ISO 3166-1 alpha-3 code")
        for name in names:
            key = _key(name)
            if not key:
                raise ValueError(f"{_ALIASES_FILE}: alias {name!r} of {code} is empty")
            if index.get(key, code) != code:
                raise ValueError(
                    f"{_ALIASES_FILE}: alias {name!r} of {code} already names {index[key]}"
                )
            index[key] = code
    not_states = frozenset(_key(name) for name in raw.get("not_states", []))
    return index, not_states


def _code_as_written(text: str) -> str | None:
    """Accept an ISO code only when written in capitals ("US", "MMR").

    Lower-case two- and three-letter words ("in", "me", "can") are ordinary
    words, not codes, so they are never read as one.
    """
    if not (text.isascii() and text.isalpha() and text.isupper()):
        return None
    if len(text) == 2:
        country = pycountry.countries.get(alpha_2=text)
    elif len(text) == 3:
        country = pycountry.countries.get(alpha_3=text)
    else:
        return None
    return country.alpha_3 if country is not None else None


def country_code(name: str | None) -> str | None:
    """Return the ISO 3166-1 alpha-3 code of the state ``name`` names, or ``None``.

    ``None`` means "not a state we can name with certainty" (unknown, empty,
    an organisation, a phrase around a state); it never raises, because the
    pipeline normalises whatever the model wrote and must keep going.
    """
    if not isinstance(name, str):
        return None
    return _code(name)


@lru_cache(maxsize=4096)
def _code(name: str) -> str | None:
    """``country_code`` for a string; cached, as articles name the same states again and again."""
    stripped = name.strip()
    index, not_states = _tables()
    key = _key(stripped)
    if not key or key in not_states:
        return None
    code = _code_as_written(stripped)
    if code is not None:
        return code
    if key in index:
        return index[key]
    # A possessive names the state too: "Myanmar's intention", "Cambodia's Chairmanship".
    if key.endswith("'s"):
        return index.get(_strip_edge_punctuation(key[:-2]))
    return None


def country_name(code: str | None) -> str | None:
    """Return the English name for an ISO 3166-1 alpha-2 or alpha-3 code, or ``None``.

    pycountry's common name ("Iran", "South Korea", "Taiwan") is preferred over
    the ISO short name ("Iran, Islamic Republic of") when it has one: the name
    is shown to people, and both are unambiguous for the code.
    """
    if not isinstance(code, str):
        return None
    code = code.strip().upper()
    if len(code) == 2 and code.isalpha():
        country = pycountry.countries.get(alpha_2=code)
    elif len(code) == 3 and code.isalpha():
        country = pycountry.countries.get(alpha_3=code)
    else:
        return None
    if country is None:
        return None
    return getattr(country, "common_name", None) or country.name


# A run of one to six words (Latin, Greek, Cyrillic letters, digits, apostrophes
# and hyphens inside a word): the longest state names ("the Republic of the
# Union of Myanmar") have six after "the".
_WORD = re.compile(r"[^\W_](?:[\w'\u2019-]*[^\W_])?")
_MAX_WORDS = 6
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def country_mentions(text: str) -> dict[str, list[tuple[int, int]]]:
    """Every state the text names, with the offsets of each naming, longest names first.

    For the support check, which must know whether a state is named in the
    article at all (however the model wrote it) and where. Word runs are looked
    up whole (the same exact lookup as ``country_code``, so no guessing), and
    runs of Chinese characters by their substrings, since they have no spaces.
    """
    found: dict[str, list[tuple[int, int]]] = {}
    taken: list[tuple[int, int]] = []

    def add(code: str, start: int, end: int) -> None:
        if any(s <= start and end <= e for s, e in taken):
            return  # inside a longer naming already found ("Republic of Korea")
        taken.append((start, end))
        found.setdefault(code, []).append((start, end))

    words = list(_WORD.finditer(text))
    for size in range(_MAX_WORDS, 0, -1):
        for i in range(len(words) - size + 1):
            start, end = words[i].start(), words[i + size - 1].end()
            if size > 1 and "\n" in text[start:end]:
                continue
            code = _code(text[start:end])
            if code is not None:
                add(code, start, end)
    for run in _CJK.finditer(text):
        chars = run.group()
        for size in range(min(len(chars), 8), 1, -1):
            for i in range(len(chars) - size + 1):
                code = _code(chars[i : i + size])
                if code is not None:
                    add(code, run.start() + i, run.start() + i + size)
    for spans in found.values():
        spans.sort()
    return found
