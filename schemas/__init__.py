"""Pydantic models of the extractor: the draft the model fills and the records users get."""

from .draft import DraftExtraction, DraftMeeting, DraftParticipant, DraftStatusClaim
from .gold import Gold, GoldMeeting, GoldParticipant, GoldStatusClaim
from .records import (
    DocumentInfo,
    ErrorRecord,
    Evidence,
    Extraction,
    Grounding,
    Meeting,
    Organisation,
    Participant,
    Result,
    RunInfo,
    StatusClaim,
    Usage,
)
from .vocab import MeetingFormat, MeetingStatus, ParticipantKind, Stance, Status

__all__ = [
    "DocumentInfo",
    "DraftExtraction",
    "DraftMeeting",
    "DraftParticipant",
    "DraftStatusClaim",
    "ErrorRecord",
    "Evidence",
    "Extraction",
    "Gold",
    "GoldMeeting",
    "GoldParticipant",
    "GoldStatusClaim",
    "Grounding",
    "Meeting",
    "MeetingFormat",
    "MeetingStatus",
    "Organisation",
    "Participant",
    "ParticipantKind",
    "Result",
    "RunInfo",
    "Stance",
    "Status",
    "StatusClaim",
    "Usage",
]
