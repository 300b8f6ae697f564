"""Which standings an organisation grants, in what order, and since when.

Status vocabularies differ by organisation (ASEAN has sectoral dialogue
partners, BRICS has partner countries) and change over time (in September 2025
the SCO merged observer and dialogue partner into "partner"). Keeping them as
dated, ordered data in ``extractor/data/status_vocabularies.json`` lets the
pipeline check a claim against the vocabulary in force on the article's date
and infer the status a subject moves up from ("upgrading to observer" implies
it is below observer now), without string checks scattered through the code.

The file is validated on first use, so a typo in it fails loudly instead of
silently shrinking a vocabulary.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from importlib.resources import files
from itertools import pairwise
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from extractor.schemas.vocab import Status

__all__ = ["is_known", "level_below", "levels"]

_DATA_FILE = "status_vocabularies.json"

# Roles held rather than rungs of a membership ladder: never part of a vocabulary.
_NOT_LEVELS = frozenset({Status.chair, Status.office_holder, Status.other})


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
        misplaced = _NOT_LEVELS.intersection(self.levels)
        if misplaced:
            raise ValueError(f"{sorted(misplaced)} are roles, not levels of a vocabulary")
        if self.start is not None and self.until is not None and self.start >= self.until:
            raise ValueError(f"period from {self.start} until {self.until} is empty")
        return self

    def covers(self, on: dt.date) -> bool:
        """Whether ``on`` falls inside this period."""
        return (self.start is None or self.start <= on) and (self.until is None or on < self.until)


class _VocabularyFile(BaseModel):
    """The whole data file: periods per organisation, oldest first, without gaps."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    note: str | list[str] = Field(alias="_note")
    organisations: dict[str, tuple[_Period, ...]]

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
def _vocabularies() -> dict[str, tuple[_Period, ...]]:
    """Load and validate the data file once, keyed by folded short name."""
    raw = (files("extractor") / "data" / _DATA_FILE).read_text("utf-8")
    data = _VocabularyFile.model_validate(json.loads(raw))
    return {org.casefold(): periods for org, periods in data.organisations.items()}


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
