"""Deciding which participants of one document are the same person.

Models often list a person twice ("Zhang Ming" and "The SCO Secretary-General
Zhang"), or once by title only. Users want one participant per person with all
its mentions, so participants are merged when their names agree (equal, or one
a subset of the other's words) and nothing they say contradicts it (a different
organisation or state), or when a nameless one shares its title and side with
exactly one named participant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    """What identity is judged on: normalised name, title and side."""

    name: str | None
    title: str | None
    organisation: str | None  # canonical short name when known, else as written
    state: str | None  # ISO alpha-3 when known, else as written
    is_person: bool


_EDGE = ".,'\u2019"  # punctuation around a word: "Zhang," and "Myanmar\u2019s"


def _words(text: str | None) -> frozenset[str]:
    if not text:
        return frozenset()
    stripped = (w.strip(_EDGE) for w in text.split())
    return frozenset(w.casefold() for w in stripped if w)


def _compatible(a: str | None, b: str | None) -> bool:
    return a is None or b is None or a.casefold() == b.casefold()


def _same_side(a: Profile, b: Profile) -> bool:
    return _compatible(a.organisation, b.organisation) and _compatible(a.state, b.state)


def _same_name(a: Profile, b: Profile) -> bool:
    wa, wb = _words(a.name), _words(b.name)
    return bool(wa and wb) and (wa <= wb or wb <= wa)


def _same_title(a: Profile, b: Profile) -> bool:
    return bool(a.title and b.title) and _words(a.title) == _words(b.title)


def group_same(profiles: Sequence[Profile]) -> list[int]:
    """For each profile, the index of the first profile of its group (union-find)."""
    parent = list(range(len(profiles)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        ri, rj = root(i), root(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)

    for i, a in enumerate(profiles):
        for j in range(i + 1, len(profiles)):
            b = profiles[j]
            if a.is_person and b.is_person and _same_side(a, b) and _same_name(a, b):
                union(i, j)

    # A title-only participant joins the one named holder of that title on that side.
    for i, a in enumerate(profiles):
        if a.name or not a.is_person:
            continue
        holders = {
            root(j)
            for j, b in enumerate(profiles)
            if j != i and b.name and b.is_person and _same_title(a, b) and _same_side(a, b)
        }
        if len(holders) == 1:
            union(i, holders.pop())
    return [root(i) for i in range(len(profiles))]
