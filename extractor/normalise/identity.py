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


def _fold(text: str | None) -> str | None:
    return text.casefold() if text is not None else None


def _compatible(a: str | None, b: str | None) -> bool:
    """Folded values that do not contradict each other (either may be unknown)."""
    return a is None or b is None or a == b


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

    # Words and sides folded once per profile, not again for every pair compared.
    names = [_words(p.name) for p in profiles]
    titles = [_words(p.title) if p.title else None for p in profiles]
    sides = [(_fold(p.organisation), _fold(p.state)) for p in profiles]

    def same_side(i: int, j: int) -> bool:
        (org_i, state_i), (org_j, state_j) = sides[i], sides[j]
        return _compatible(org_i, org_j) and _compatible(state_i, state_j)

    def same_name(i: int, j: int) -> bool:
        wi, wj = names[i], names[j]
        return bool(wi and wj) and (wi <= wj or wj <= wi)

    for i, a in enumerate(profiles):
        for j in range(i + 1, len(profiles)):
            if a.is_person and profiles[j].is_person and same_side(i, j) and same_name(i, j):
                union(i, j)

    # A title-only participant joins the one named holder of that title on that side.
    for i, a in enumerate(profiles):
        if a.name or not a.is_person:
            continue
        holders = {
            root(j)
            for j, b in enumerate(profiles)
            if j != i
            and b.name
            and b.is_person
            and titles[i] is not None
            and titles[i] == titles[j]
            and same_side(i, j)
        }
        if len(holders) == 1:
            union(i, holders.pop())
    return [root(i) for i in range(len(profiles))]
