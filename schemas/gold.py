"""Gold records: what a careful annotator says an article contains.

Deliberately smaller than the output records: only what is scored (see
``extractor.scoring`` and ``docs/annotation.md``), written by hand, one JSON
file per article under ``fixtures/gold/``. Participants are listed once and
referred to by ``label`` from meetings and claims.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .vocab import MeetingFormat, MeetingStatus, Stance, Status


class _Gold(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GoldParticipant(_Gold):
    """A side of a meeting, or the claimant or supporter of a claim."""

    label: str = Field(description="The name as written, or a short description if unnamed.")
    name: str | None = None
    title: str | None = None
    organisation: str | None = Field(
        default=None, description="Canonical short name (SCO, ICRC), else the full name."
    )
    state: str | None = Field(default=None, description="ISO 3166-1 alpha-3 represented.")


class GoldMeeting(_Gold):
    participants: list[str] = Field(min_length=2, description="Participant labels.")
    status: MeetingStatus = MeetingStatus.held
    format: MeetingFormat | None = None
    date: dt.date | None = None
    date_end: dt.date | None = Field(
        default=None, description="The last day of a meeting over several days (scored if set)."
    )
    place: str | None = None
    outcome_contains: list[str] = Field(
        default_factory=list, description="Words each expected outcome contains (not scored)."
    )


class GoldStatusClaim(_Gold):
    subject: str
    subject_code: str | None = None
    organisation: str = Field(description="Canonical short name, else the full name.")
    status: Status
    stance: Stance
    from_status: Status | None = None
    claimant: str | None = Field(default=None, description="Participant label.")
    supporters: list[str] = Field(default_factory=list, description="Participant labels.")


class Gold(_Gold):
    """The gold of one article."""

    document: str = Field(description="Path of the article, relative to this gold file.")
    row: str | None = Field(
        default=None,
        description="For a table file of rows (JSONL, CSV, ...): the id of its row.",
    )
    provenance: str
    notes: str | None = None
    participants: list[GoldParticipant] = Field(default_factory=list)
    meetings: list[GoldMeeting] = Field(default_factory=list)
    status_claims: list[GoldStatusClaim] = Field(default_factory=list)

    @model_validator(mode="after")
    def _labels_resolve(self) -> Gold:
        labels = {p.label for p in self.participants}
        if len(labels) != len(self.participants):
            raise ValueError("participant labels must be unique")
        used = [label for m in self.meetings for label in m.participants]
        for c in self.status_claims:
            used += [c.claimant] if c.claimant else []
            used += c.supporters
        missing = sorted(set(used) - labels)
        if missing:
            raise ValueError(f"labels not among participants: {missing}")
        return self
