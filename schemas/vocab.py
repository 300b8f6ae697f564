"""Closed vocabularies shared by what the model fills and what users get.

They are enums so that the JSON Schema sent to the model lists the allowed
values and pydantic rejects anything else (which instructor then re-asks).
Which statuses an organisation has, in what order and since when, is data:
see ``extractor/data/status_vocabularies.json`` and ``extractor.normalise.statuses``.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """A standing with respect to an organisation or office."""

    member = "member"
    observer = "observer"
    dialogue_partner = "dialogue_partner"
    sectoral_dialogue_partner = "sectoral_dialogue_partner"
    development_partner = "development_partner"
    partner = "partner"
    chair = "chair"
    office_holder = "office_holder"
    other = "other"


class Stance(StrEnum):
    """What the claim says the subject does about the status."""

    holds = "holds"
    seeks = "seeks"
    applied = "applied"
    memorandum_signed = "memorandum_signed"
    granted = "granted"
    welcomed = "welcomed"
    supported = "supported"
    declined = "declined"
    left = "left"


class ParticipantKind(StrEnum):
    """Whether a side is a person or speaks as an institution."""

    person = "person"
    organisation = "organisation"
    state = "state"


class MeetingStatus(StrEnum):
    """A meeting the article reports as having happened, or one announced."""

    held = "held"
    planned = "planned"


class MeetingFormat(StrEnum):
    """How the sides met, when the article says."""

    in_person = "in_person"
    phone = "phone"
    video = "video"
    unknown = "unknown"
