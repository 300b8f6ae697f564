"""A meeting's place as written -> its English city, and the venue beside it.

Russian and Chinese reports place a meeting at a venue more often than in a
city ("в Секретариате ШОС", "在北京钓鱼台国宾馆"), and a model copying the words
hands on the venue in the article's script. Records compare meetings by city,
in English, so the place is read for the city it names ("北京" in
"北京钓鱼台国宾馆", "Пекине" in "посольство Лаоса в Пекине") or, failing that,
the city of the venue it names (the SCO Secretariat is in Beijing), and the
venue keeps its English name beside it.

The tables are ``places`` (cities) and ``venues`` in ``extractor/data/places.json``.
Russian words are compared in their dictionary forms (pymorphy3), so a city or
venue in any case meets its table entry; Chinese names are found anywhere in
the place, longest first. A place in Latin script is taken as already English.
Nothing is guessed: a place naming no known city or venue gives neither.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files

from extractor.normalise.names import lemma

__all__ = ["Place", "resolve_place"]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")


@dataclass(frozen=True)
class Place:
    """What a place as written names: its English city and the venue's English name, if known."""

    city: str | None
    venue: str | None


@dataclass(frozen=True)
class _Tables:
    cities_cjk: tuple[tuple[str, str], ...]  # (name, English city), longest name first
    organisations_cjk: tuple[str, ...]  # Chinese organisation names, masked before cities
    venues_cjk: tuple[tuple[str, Place], ...]
    cities_ru: dict[tuple[str, ...], str]  # dictionary forms of the words -> English city
    venues_ru: dict[tuple[str, ...], Place]
    longest_ru: int


def _lemmas(text: str) -> tuple[str, ...]:
    return tuple(lemma(w) for w in _WORD.findall(text))


@cache
def _tables() -> _Tables:
    """The city and venue tables, keyed for matching; built once, on the first non-Latin place."""
    data = json.loads((files("extractor") / "data" / "places.json").read_text("utf-8"))
    cities_cjk: list[tuple[str, str]] = []
    venues_cjk: list[tuple[str, Place]] = []
    cities_ru: dict[tuple[str, ...], str] = {}
    venues_ru: dict[tuple[str, ...], Place] = {}
    for name, city in data["places"].items():
        if _CJK.search(name):
            cities_cjk.append((name, city))
        elif _CYRILLIC.search(name):
            cities_ru[_lemmas(name)] = city
    for name, venue in data["venues"].items():
        if name.startswith("_"):
            continue
        place = Place(city=venue["city"], venue=venue["name"])
        if _CJK.search(name):
            venues_cjk.append((name, place))
        else:
            venues_ru[_lemmas(name)] = place
    cities_cjk.sort(key=lambda item: -len(item[0]))
    venues_cjk.sort(key=lambda item: -len(item[0]))
    raw = json.loads((files("extractor") / "data" / "organisations.json").read_text("utf-8"))
    organisations = sorted(
        {a for o in raw["organisations"] for a in o.get("aliases", []) if _CJK.search(a)},
        key=lambda a: -len(a),
    )
    longest = max(len(k) for k in (*cities_ru, *venues_ru))
    return _Tables(
        tuple(cities_cjk),
        tuple(organisations),
        tuple(venues_cjk),
        cities_ru,
        venues_ru,
        longest,
    )


@lru_cache(maxsize=2048)
def resolve_place(as_written: str | None) -> Place | None:
    """The English city (and venue) a non-Latin place names, or ``None`` when it names none.

    ``None`` too for a place in Latin script: it is English already, and the
    caller keeps it as written.
    """
    if not as_written or not (_CJK.search(as_written) or _CYRILLIC.search(as_written)):
        return None
    tables = _tables()
    if _CJK.search(as_written):
        venue = next((v for name, v in tables.venues_cjk if name in as_written), None)
        # "上海合作组织秘书处" names the SCO, not Shanghai: organisations and venues are
        # taken out before a city is looked for.
        rest = as_written
        for name in (*(n for n, _ in tables.venues_cjk), *tables.organisations_cjk):
            rest = rest.replace(name, "\x00")
        city = next((c for name, c in tables.cities_cjk if name in rest), None)
    else:
        city, venue = None, None
        words = _lemmas(as_written)
        for i in range(len(words)):
            for n in range(min(tables.longest_ru, len(words) - i), 0, -1):
                run = words[i : i + n]
                if city is None and run in tables.cities_ru:
                    city = tables.cities_ru[run]
                if venue is None and run in tables.venues_ru:
                    venue = tables.venues_ru[run]
    if city is None and venue is None:
        return None
    return Place(city=city or (venue.city if venue else None), venue=venue.venue if venue else None)
