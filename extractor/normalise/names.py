"""Russian personal names in the nominative, whatever case the article wrote them in.

A Russian article may name a person only in an oblique case ("встретился с
Константином Косачевым", "по словам Марии Захаровой"), and a model that copies
the words hands that form on. One person should be one name across articles, so
records carry the nominative ("Константин Косачев") with the form as written
beside it.

The analyser is pymorphy3 with its Russian dictionary, and the rule is the same
as for country codes: change a name only when the analysis is sure. A name is
left as written when every word of it can already be a nominative ("Лаврова"
may be a woman's surname; "Чжан Мин" and "Ван И" are Chinese names), when its
words cannot all be read in one oblique case, or when none of them is a known
first name, surname or patronymic in that case (pymorphy3's Name, Surn and Patr
tags). Words outside the dictionary ("Пхомвиханом") follow the case the known
words set. Only Cyrillic names are touched; initials and indeclinable words
("Си", "Шойгу") stay as they are.
"""

# Russian words and letters are written out below, which the confusable-character
# rules would read as Latin look-alikes.
# ruff: noqa: RUF001, RUF002

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pymorphy3 import MorphAnalyzer
    from pymorphy3.analyzer import Parse

__all__ = ["lemma", "nominative"]

_CYRILLIC_WORD = re.compile(r"[\u0400-\u04ff]+(?:-[\u0400-\u04ff]+)*")
_NAME_TAGS = frozenset({"Name", "Surn", "Patr"})
# The oblique cases a name is written in; "gen2", "loc2" and the like are
# variants pymorphy3 folds into these for names.
_CASES = ("gent", "datv", "accs", "ablt", "loct")
_MIN_SCORE = 0.0


@cache
def _analyser() -> MorphAnalyzer:
    """pymorphy3's Russian analyser, loaded once and only when a Cyrillic name needs it."""
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang="ru")


@lru_cache(maxsize=8192)
def _parses(word: str) -> tuple[Parse, ...]:
    return tuple(_analyser().parse(word))


def _is_name_word(word: str) -> bool:
    """A capitalised Cyrillic word of two letters or more (not an initial, not an acronym)."""
    return (
        len(word) >= 2
        and word[0].isupper()
        and not word.isupper()
        and _CYRILLIC_WORD.fullmatch(word) is not None
    )


def _capitalised(form: str, written: str) -> str:
    """The form with the written word's capitals ("косачев" -> "Косачев", hyphen parts too).

    A "ё" the dictionary restores where the article wrote "е" is written "е" again.
    """
    if "ё" not in written.lower():
        form = form.replace("ё", "е")
    parts = form.split("-")
    written_parts = written.split("-")
    if len(parts) != len(written_parts):
        return form[:1].upper() + form[1:]
    return "-".join(
        p[:1].upper() + p[1:] if w[:1].isupper() else p
        for p, w in zip(parts, written_parts, strict=True)
    )


def _in_case(word: str, case: str, gender: str | None) -> Parse | None:
    """The best singular parse of ``word`` in ``case``, a name-tagged one first.

    With ``gender`` set, a parse of another gender is not taken (a surname
    agrees with the first name it follows).
    """
    fitting = [
        p
        for p in _parses(word)
        if p.tag.case == case
        and p.tag.POS == "NOUN"
        and p.tag.number != "plur"
        and (gender is None or not ({"masc", "femn"} - {gender}) & p.tag.grammemes)
    ]
    if not fitting:
        return None
    return max(fitting, key=lambda p: (bool(_NAME_TAGS & p.tag.grammemes), p.score))


def _gender(words: list[str], case: str) -> str | None:
    """The gender the name-tagged words take in ``case``, when they agree on one."""
    genders = {
        p.tag.gender
        for w in words
        for p in _parses(w)
        if p.tag.case == case and _NAME_TAGS & p.tag.grammemes
        for g in ("masc", "femn")
        if g in p.tag.grammemes
    }
    return genders.pop() if len(genders) == 1 else None


def _anchors(parse: Parse, words: int) -> bool:
    """Whether a word's parse fixes the name's case: a known first name, surname or patronymic.

    In a name of two words or more, a word outside the dictionary read in that
    case fixes it too: Chinese and other foreign names ("Ли Цяном", "Си
    Цзиньпином") are not in it, and their case endings are all the analyser sees.
    """
    if _NAME_TAGS & parse.tag.grammemes:
        return True
    return words >= 2 and not parse.is_known and "Fixd" not in parse.tag.grammemes


@lru_cache(maxsize=4096)
def nominative(name: str | None) -> str | None:
    """The nominative of a Russian personal name, or the name as given when not sure.

    "Константином Косачевым" gives "Константин Косачев", "Марии Захаровой"
    gives "Мария Захарова"; "Сергей Лавров", "Чжан Мин", "Zhang Ming" and
    "Лаврова" come back as they are.
    """
    if not name or not _CYRILLIC_WORD.search(name):
        return name
    words = name.split()
    names = [w for w in words if _is_name_word(w)]
    if not names:
        return name
    lowered = [w.lower() for w in names]
    if all(any(p.tag.case == "nomn" for p in _parses(w)) for w in lowered):
        return name  # already a nominative, or may be one: never guess
    for case in _CASES:
        gender = _gender(lowered, case)
        chosen = [_in_case(w, case, gender) for w in lowered]
        if any(p is None for p in chosen):
            continue
        anchored = [p for p in chosen if p is not None and _anchors(p, len(names))]
        if not anchored:
            continue
        forms: dict[str, str] = {}
        for written, parse in zip(names, chosen, strict=True):
            assert parse is not None
            inflected = parse.inflect({"nomn"})
            if inflected is None:
                break
            forms[written] = _capitalised(inflected.word, written)
        else:
            return " ".join(forms.get(w, w) for w in words)
    return name


def lemma(word: str) -> str:
    """A Cyrillic word's dictionary form, folded ("Пекине" -> "пекин"), for table lookups.

    Place and venue tables are keyed by these, so "в Пекине", "Секретариате ШОС"
    and "Секретариат ШОС" meet one entry. A word pymorphy3 reads as a place
    (Geox) or a proper name is preferred over a common noun of the same spelling.
    """
    folded = word.lower()
    if not _CYRILLIC_WORD.fullmatch(folded):
        return folded
    parses = _parses(folded)
    if not parses:
        return folded
    best = max(parses, key=lambda p: ("Geox" in p.tag.grammemes, p.tag.POS == "NOUN", p.score))
    return best.normal_form.replace("ё", "е")
