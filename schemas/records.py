"""What users get: grounded, normalised records with their provenance.

Every record carries ``Evidence`` whose ``quote`` is exactly
``document text[start:end]``; the pipeline builds these only from quotes it
could align, so an ``Extraction`` cannot hold an ungrounded record. Codes and
dates here are computed by the code (ISO 3166-1 alpha-3, ISO 8601), never taken
on trust from the model.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field

from .vocab import MeetingFormat, MeetingStatus, ParticipantKind, Stance, Status


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


Aligned: TypeAlias = Literal["exact", "normalised", "diacritics"]
"""How a model's quote was found: byte for byte, after folding quote marks, dashes,
spaces and case, or only when diacritics were ignored too ("Gusmao" for "Gusmão")."""

EvidenceField: TypeAlias = Literal[
    "mention",
    "meeting",
    "date",
    "place",
    "claim",
    "subject",
    "status",
    "stance",
    "organisation",
    "time",
]
"""Which field a passage supports: a participant's mention, the sentence reporting a
meeting or stating a claim, or one field of it."""


class Evidence(_Record):
    """A passage of the document: ``text[start:end] == quote``, and what it supports."""

    quote: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    field: EvidenceField | None = Field(
        default=None, description="The field this passage supports."
    )
    aligned: Aligned = Field(default="exact", description="How the model's quote was found.")


class Organisation(_Record):
    """An organisation as canonically named, with the words the article used."""

    short: str | None = Field(description="Canonical short name (e.g. 'SCO'); null if unknown.")
    full: str = Field(description="Canonical full name, or the name as written if unknown.")
    as_written: str


class Participant(_Record):
    """One person, organisation or state, with every mention of it in the document."""

    id: str
    kind: ParticipantKind
    name: str | None
    title: str | None
    organisation: Organisation | None
    state: str | None = Field(description="ISO 3166-1 alpha-3 of the state represented.")
    state_as_written: str | None
    mentions: list[Evidence]
    name_as_written: str | None = Field(
        default=None,
        description="The name as the article wrote it; 'name' is its nominative when a "
        "Russian name was written in another case ('Константином Косачевым').",
    )
    unchecked: list[str] = Field(
        default_factory=list,
        description="Fields no rule can check against the text: the title, written in English "
        "by the model, and the kind; read them as the model's.",
    )


DateBasis = Literal["stated", "dateline", "metadata", "event"]


class Meeting(_Record):
    """A meeting between two or more participants (ids into ``Extraction.participants``)."""

    id: str
    participants: list[str] = Field(min_length=2)
    status: MeetingStatus
    format: MeetingFormat
    date: dt.date | None
    date_text: str | None
    place: str | None = Field(
        description="The city in English where known ('Beijing' for '北京钓鱼台国宾馆'), "
        "else the place as written."
    )
    place_as_written: str | None = Field(
        default=None, description="The place as the article wrote it (null when from the dateline)."
    )
    venue: str | None = Field(
        default=None,
        description="The venue's English name when the place names a known one "
        "('Diaoyutai State Guesthouse').",
    )
    date_end: dt.date | None = Field(
        default=None, description="Last day of a meeting over several days ('14-15 July')."
    )
    date_earliest: dt.date | None = Field(
        default=None,
        description="With no single day known, the first day the words allow "
        "('later that week' after a Tuesday meeting: the Wednesday).",
    )
    date_latest: dt.date | None = Field(
        default=None, description="With no single day known, the last day the words allow."
    )
    date_basis: DateBasis | None = Field(
        default=None,
        description="What the date was resolved from: stated (a full date in the text), "
        "dateline (the article's dateline date, for 'on Tuesday' or no date at all), metadata "
        "(the input's publication date), event (another dated meeting, for 'on the same day').",
    )
    from_dateline: list[Literal["date", "place"]] = Field(
        default_factory=list,
        description="Fields the article did not state for this meeting, taken from the dateline.",
    )
    topics: list[str]
    outcomes: list[str]
    evidence: list[Evidence] = Field(min_length=1)
    unchecked: list[str] = Field(
        default_factory=list,
        description="Fields no rule can check against the text (free-text summaries, "
        "judgements such as the format); read them as the model's, not the article's.",
    )


class StatusClaim(_Record):
    """A statement about an entity's standing with an organisation or office."""

    id: str
    subject: str = Field(
        description="The subject in English where known: a state's English name, an "
        "organisation's short name, a Russian name's nominative; else as written."
    )
    subject_as_written: str | None = Field(
        default=None, description="The subject as the article wrote it."
    )
    subject_code: str | None = Field(description="ISO 3166-1 alpha-3 when the subject is a state.")
    subject_participant: str | None
    organisation: Organisation
    status: Status
    status_text: str
    stance: Stance | None = Field(
        description="Null when no words in the claim's passage carry the stance the model gave."
    )
    from_status: Status | None
    from_status_inferred: bool = Field(
        default=False,
        description="True when from_status was inferred from the organisation's vocabulary "
        "because the text speaks of an upgrade without naming the lower status.",
    )
    claimant: str | None
    supporters: list[str] = Field(default_factory=list)
    time_text: str | None
    evidence: list[Evidence] = Field(min_length=1)
    unchecked: list[str] = Field(
        default_factory=list,
        description="Fields no rule can check against the text (e.g. a stance of 'holds' "
        "that no word states, an inferred upgrade); read them as the model's.",
    )


class Usage(_Record):
    """Tokens spent, summed over every attempt (re-asks included)."""

    prompt_tokens: int = Field(default=0, description="All prompt tokens, cached ones included.")
    completion_tokens: int = 0
    total_tokens: int = 0
    cache_read_tokens: int = Field(
        default=0, description="Prompt tokens the provider's prompt cache served (cheaper)."
    )
    cache_write_tokens: int = Field(
        default=0, description="Prompt tokens written to the provider's prompt cache (Anthropic)."
    )

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
        )


class Grounding(_Record):
    """How much of the model's final answer the text supports, and what was cut."""

    quotes_returned: int = 0
    quotes_grounded: int = Field(default=0, description="Quotes found in the text.")
    records_kept: int = Field(default=0, description="Meetings and claims in the output.")
    records_dropped: int = Field(
        default=0,
        description="Participants, meetings and claims dropped: a core field unsupported.",
    )
    fields_nulled: int = Field(
        default=0, description="Fields set to null (or a side removed) as unsupported."
    )
    quotes_dropped: int = Field(
        default=0, description="Quotes dropped alone; the record's other evidence held."
    )

    @property
    def rate(self) -> float:
        return self.quotes_grounded / self.quotes_returned if self.quotes_returned else 1.0


class DocumentInfo(_Record):
    """Which document the records come from, so offsets can be checked against it."""

    id: str
    source: str
    sha256: str
    chars: int
    dateline_date: dt.date | None
    dateline_place: str | None
    outlet: str | None
    content_type: Literal["text", "html"] = "text"
    text_extractor: str | None = Field(
        default=None, description="What reduced an HTML page to the text the offsets refer to."
    )
    text: str | None = Field(
        default=None,
        description="For an HTML page, the reduced text that every offset refers to.",
    )
    input_id: str | None = Field(default=None, description="The input's own id (a row's id).")
    url: str | None = Field(default=None, description="The article's URL, from its metadata.")
    title: str | None = Field(default=None, description="The article's title, from its metadata.")
    language: str | None = Field(default=None, description="Language code from the metadata.")
    published: dt.date | None = Field(
        default=None, description="Publication date from the metadata or --date."
    )
    body_start: int | None = Field(
        default=None,
        description="For a file read with a header block: where the body (that every offset "
        "refers to) starts in the file, in characters.",
    )
    offsets_refer_to: Literal["file", "body"] = Field(
        default="file",
        description="file: the file's text (or, for HTML, 'text'); body: the article's text "
        "without its header block, or a row's text field.",
    )


class RunInfo(_Record):
    """How the records were made: enough to reproduce or audit the run."""

    model: str
    prompt_version: str
    mode: Literal["live", "record", "replay"]
    attempts: int = Field(description="Model calls made, the first answer and every re-ask.")
    usage: Usage
    chunks: int = Field(default=1, description="Parts the article was split into.")
    cached: bool = Field(
        default=False, description="True when the whole result came from the cache, no call made."
    )


class Extraction(_Record):
    """Everything extracted from one document."""

    kind: Literal["extraction"] = "extraction"
    document: DocumentInfo
    run: RunInfo
    participants: list[Participant]
    meetings: list[Meeting]
    status_claims: list[StatusClaim]
    grounding: Grounding = Field(default_factory=Grounding)
    warnings: list[str] = Field(default_factory=list)

    def participant(self, participant_id: str) -> Participant:
        """The participant with that id (meetings and claims refer to participants by id)."""
        for p in self.participants:
            if p.id == participant_id:
                return p
        raise KeyError(participant_id)


class ErrorRecord(_Record):
    """A document that yielded no extraction, and why; a batch goes on past it."""

    kind: Literal["error"] = "error"
    source: str
    error_type: str
    message: str


Result: TypeAlias = Extraction | ErrorRecord
"""What one document yields: its extraction, or why there is none."""
