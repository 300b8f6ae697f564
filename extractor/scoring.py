"""Scoring extractions against gold: precision, recall and F1 per record type and field.

Matching rules (also in docs/annotation.md):

- Participants match by normalised name (casefold, honorifics dropped,
  punctuation and whitespace runs ignored; a name whose words are a subset of
  the other's also matches, "Lavrov" / "Sergey Lavrov"), or, when both are
  unnamed, by title and side (organisation or state). One-to-one.
- A meeting matches a gold meeting when its set of sides, mapped through the
  participant matching, equals the gold's. One-to-one.
- A claim pairs with a gold claim when the subject agrees (ISO code when both
  have one, else normalised name) and at least the organisation (by its short or
  full name) or the status agrees; among candidates the one agreeing on most
  fields wins. A pair is a record-level true positive only when organisation,
  status and stance all agree.
- Field scores count a pair as correct only when that field agrees; precision
  is over predicted records, recall over gold records, so a missing or spurious
  record costs every field. A meeting's date agrees when its first day does
  and, where the gold gives a last day (``date_end``, a meeting over several
  days), that day too.

Pure functions over ``Extraction`` and ``Gold``; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from extractor.schemas import (
    Extraction,
    Gold,
    GoldParticipant,
    Meeting,
    Organisation,
    Participant,
    StatusClaim,
)
from extractor.schemas.gold import GoldMeeting, GoldStatusClaim

RECORD_TYPES = ("meetings", "participants", "status_claims")
FIELDS = ("organisation", "status", "stance", "subject_country", "meeting_date")

_HONORIFICS = {"mr", "mrs", "ms", "dr", "sir", "madam", "excellency"}
_HONORIFIC_PHRASES = re.compile(r"\b(?:h\.\s?e\.|(?:his|her) excellency)", re.IGNORECASE)
_PUNCT = re.compile(r"[.,;:'\u2019\"()]")

P = TypeVar("P")
G = TypeVar("G")


@dataclass
class PRF:
    """Counts behind precision, recall and F1."""

    tp: int = 0
    predicted: int = 0
    gold: int = 0

    @property
    def precision(self) -> float:
        return self.tp / self.predicted if self.predicted else (1.0 if not self.gold else 0.0)

    @property
    def recall(self) -> float:
        return self.tp / self.gold if self.gold else 1.0  # nothing to find, nothing missed

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __iadd__(self, other: PRF) -> PRF:
        self.tp += other.tp
        self.predicted += other.predicted
        self.gold += other.gold
        return self

    def as_dict(self) -> dict[str, float | int]:
        return {
            "tp": self.tp,
            "predicted": self.predicted,
            "gold": self.gold,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


@dataclass
class Score:
    """The score of one article, or the sum over many (micro-averaged)."""

    name: str
    records: dict[str, PRF] = field(default_factory=lambda: {k: PRF() for k in RECORD_TYPES})
    fields: dict[str, PRF] = field(default_factory=lambda: {k: PRF() for k in FIELDS})
    quotes_returned: int = 0
    quotes_grounded: int = 0
    records_kept: int = 0
    records_dropped: int = 0
    fields_nulled: int = 0
    quotes_dropped: int = 0

    @property
    def grounding_rate(self) -> float:
        return self.quotes_grounded / self.quotes_returned if self.quotes_returned else 1.0

    def add(self, other: Score) -> None:
        for k in RECORD_TYPES:
            self.records[k] += other.records[k]
        for k in FIELDS:
            self.fields[k] += other.fields[k]
        self.quotes_returned += other.quotes_returned
        self.quotes_grounded += other.quotes_grounded
        self.records_kept += other.records_kept
        self.records_dropped += other.records_dropped
        self.fields_nulled += other.fields_nulled
        self.quotes_dropped += other.quotes_dropped

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "records": {k: v.as_dict() for k, v in self.records.items()},
            "fields": {k: v.as_dict() for k, v in self.fields.items()},
            "grounding": {
                "quotes_returned": self.quotes_returned,
                "quotes_grounded": self.quotes_grounded,
                "rate": round(self.grounding_rate, 4),
                "records_kept": self.records_kept,
                "records_dropped": self.records_dropped,
                "fields_nulled": self.fields_nulled,
                "quotes_dropped": self.quotes_dropped,
            },
        }


def normalise_name(name: str | None) -> tuple[str, ...]:
    """Words of a name without case, punctuation or honorifics."""
    if not name:
        return ()
    words = _PUNCT.sub(" ", _HONORIFIC_PHRASES.sub(" ", name.casefold())).split()
    return tuple(w for w in words if w not in _HONORIFICS)


def _names_match(a: str | None, b: str | None) -> bool:
    wa, wb = set(normalise_name(a)), set(normalise_name(b))
    return bool(wa and wb) and (wa <= wb or wb <= wa)


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").casefold() == (b or "").casefold()


def _participant_agreement(p: Participant, g: GoldParticipant) -> int:
    if p.name or g.name:
        if not _names_match(p.name, g.name):
            return 0
        return 2 + (normalise_name(p.name) == normalise_name(g.name))
    same_side = _same_organisation(p.organisation, g.organisation) and _same(p.state, g.state)
    same_title = normalise_name(p.title) == normalise_name(g.title)
    return 1 if same_side and same_title else 0


def _assign(
    predicted: Sequence[P], gold: Sequence[G], agreement: Callable[[P, G], int]
) -> dict[int, int]:
    """Greedy one-to-one pairing, strongest agreement first; 0 means no pair."""
    candidates = sorted(
        (
            (-score, i, j)
            for i, p in enumerate(predicted)
            for j, g in enumerate(gold)
            if (score := agreement(p, g)) > 0
        ),
    )
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for _, i, j in candidates:
        if i not in pairs and j not in used:
            pairs[i] = j
            used.add(j)
    return pairs


def _same_organisation(org: Organisation | None, gold: str | None) -> bool:
    """Gold names an organisation by its short name, or its full name when it has none."""
    if org is None:
        return gold is None
    return _same(org.short, gold) or _same(org.full, gold)


def _claim_fields(c: StatusClaim, g: GoldStatusClaim) -> dict[str, bool]:
    return {
        "organisation": _same_organisation(c.organisation, g.organisation),
        "status": c.status == g.status,
        "stance": c.stance == g.stance,
        "subject_country": c.subject_code == g.subject_code,
    }


def _claim_agreement(c: StatusClaim, g: GoldStatusClaim) -> int:
    if c.subject_code and g.subject_code:
        same_subject = c.subject_code == g.subject_code
    else:
        same_subject = normalise_name(c.subject) == normalise_name(g.subject)
    if not same_subject:
        return 0
    agree = _claim_fields(c, g)
    if not (agree["organisation"] or agree["status"]):
        return 0
    return 1 + sum(agree.values())


def score(extraction: Extraction, gold: Gold, name: str = "") -> Score:
    """Score one article's extraction against its gold."""
    result = Score(name=name or extraction.document.source)
    people = _assign(extraction.participants, gold.participants, _participant_agreement)
    result.records["participants"] = PRF(
        len(people), len(extraction.participants), len(gold.participants)
    )

    label_of = {
        extraction.participants[i].id: gold.participants[j].label for i, j in people.items()
    }

    def sides(ids: Iterable[str]) -> frozenset[str]:
        return frozenset(label_of.get(pid, f"unmatched:{pid}") for pid in ids)

    meetings = _assign(
        extraction.meetings,
        gold.meetings,
        lambda m, g: 1 + _same_date(m, g) if sides(m.participants) == set(g.participants) else 0,
    )
    result.records["meetings"] = PRF(len(meetings), len(extraction.meetings), len(gold.meetings))
    result.fields["meeting_date"] = PRF(
        sum(_same_date(extraction.meetings[i], gold.meetings[j]) for i, j in meetings.items()),
        len(extraction.meetings),
        len(gold.meetings),
    )

    claims = _assign(extraction.status_claims, gold.status_claims, _claim_agreement)
    agreements = [
        _claim_fields(extraction.status_claims[i], gold.status_claims[j]) for i, j in claims.items()
    ]
    n_pred, n_gold = len(extraction.status_claims), len(gold.status_claims)
    strict = sum(a["organisation"] and a["status"] and a["stance"] for a in agreements)
    result.records["status_claims"] = PRF(strict, n_pred, n_gold)
    for key in ("organisation", "status", "stance", "subject_country"):
        result.fields[key] = PRF(sum(a[key] for a in agreements), n_pred, n_gold)

    result.quotes_returned = extraction.grounding.quotes_returned
    result.quotes_grounded = extraction.grounding.quotes_grounded
    result.records_kept = extraction.grounding.records_kept
    result.records_dropped = extraction.grounding.records_dropped
    result.fields_nulled = extraction.grounding.fields_nulled
    result.quotes_dropped = extraction.grounding.quotes_dropped
    return result


def total(scores: Iterable[Score], name: str = "overall") -> Score:
    """Micro-averaged sum of article scores."""
    overall = Score(name=name)
    for s in scores:
        overall.add(s)
    return overall


def _same_date(m: Meeting, g: GoldMeeting) -> bool:
    """The first day agrees, and the last one too where the gold gives it."""
    return m.date == g.date and (g.date_end is None or m.date_end == g.date_end)
