"""Grounded, typed records of meetings and status claims from news about organisations.

    >>> from extractor import extract, Settings
    >>> result = extract(text, settings=Settings(mode="replay", cassette_dir="fixtures/cassettes"))
    >>> [m.participants for m in result.meetings]

Every record points at the exact words of the article that support it
(``Evidence.quote == text[start:end]``), and every field is carried by its own
evidence; the rules are in ``extractor.ground.support`` and ``docs/annotation.md``.
"""

from extractor._exceptions import (
    BinaryInputError,
    CassetteError,
    ConfigurationError,
    EmptyInputError,
    EncodingError,
    ExtractorError,
    InputError,
    InputNotFoundError,
    InputTooLargeError,
    MetadataError,
    ModelError,
    ReplayMissError,
    ResponseError,
    TransportError,
)
from extractor.pipeline import aextract, aextract_paths, extract
from extractor.read.document import Dateline, Document, document_from_text, read_document
from extractor.schemas import (
    ErrorRecord,
    Evidence,
    Extraction,
    Meeting,
    Organisation,
    Participant,
    Stance,
    Status,
    StatusClaim,
)
from extractor.settings import Settings

__all__ = [
    "BinaryInputError",
    "CassetteError",
    "ConfigurationError",
    "Dateline",
    "Document",
    "EmptyInputError",
    "EncodingError",
    "ErrorRecord",
    "Evidence",
    "Extraction",
    "ExtractorError",
    "InputError",
    "InputNotFoundError",
    "InputTooLargeError",
    "Meeting",
    "MetadataError",
    "ModelError",
    "Organisation",
    "Participant",
    "ReplayMissError",
    "ResponseError",
    "Settings",
    "Stance",
    "Status",
    "StatusClaim",
    "TransportError",
    "aextract",
    "aextract_paths",
    "document_from_text",
    "extract",
    "read_document",
]
