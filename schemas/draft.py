"""What the model fills: flat records in the article's own words, one quote per field.

This layer is sent to the model as the response model's JSON Schema, so every
field description is an instruction the model reads; they are kept to what
the field's name and the prompt do not already say, because they travel with
every request (the prompt's rules say which strings are copied word for word,
so no description repeats it).

Two choices shape it:

- **Sides are written inline.** A meeting lists its sides as objects (name,
  title, organisation, state, mentions), not as references into a separate
  list: small models fill the flat shape and leave referenced participants
  nameless. The pipeline merges the same person met twice
  (``extractor.normalise.identity``).
- **The evidence comes first.** A record opens with its sentences. Under
  constrained decoding (json_schema mode) every key is required (null where
  the article says nothing): a small model otherwise skips the optional keys
  it most needs to write, such as a side's name. A hosted model in tools mode
  is only required to give the evidence, sides, subject, status and stance.
- **Every checked field has its own verbatim quote.** A claim carries the words
  naming its subject, the words stating the status and the words carrying the
  stance, besides the sentence that states it, so ``extractor.ground.support`` can
  check each field against its own evidence instead of trusting that a quote
  merely occurs somewhere.

Validation here is structural only (types, vocabularies, list bounds). Whether
the quotes are in the article and support their fields depends on the article,
so ``extractor.ground.support`` checks it and the model client re-asks with what it
found.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .vocab import MeetingFormat, MeetingStatus, ParticipantKind, Stance, Status

# Bounds a weak model's worst answer (a record repeated until the token limit).
MAX_SIDES = 20
MAX_MENTIONS = 8
MAX_QUOTES = 4
MAX_RECORDS = 60
MAX_PHRASES = 8
MAX_SKIP_NOTES = 5  # malformed records named one by one in a lenient parse; the rest counted


class _Draft(BaseModel):
    model_config = ConfigDict(extra="ignore", use_enum_values=False)


class DraftParticipant(_Draft):
    """A side, or who made or backed a claim."""

    name: str | None = Field(default=None, description="Personal name, without title.")
    title: str | None = None
    organisation: str | None = Field(
        default=None, description="Organisation it acts for; null for a state's envoy."
    )
    state: str | None = Field(
        default=None, description="State it represents: the ambassador OF it, not the host."
    )
    kind: ParticipantKind = ParticipantKind.person
    mentions: list[str] = Field(
        min_length=1,
        max_length=MAX_MENTIONS,
        description="Every way the article names it.",
    )


class DraftMeeting(_Draft):
    """A meeting, call or talk between two or more sides."""

    quotes: list[str] = Field(
        min_length=1, max_length=MAX_QUOTES, description="The sentences reporting it."
    )
    sides: list[DraftParticipant] = Field(min_length=2, max_length=MAX_SIDES)
    status: MeetingStatus = Field(
        default=MeetingStatus.held, description="planned if only announced."
    )
    format: MeetingFormat = MeetingFormat.unknown
    date_text: str | None = Field(default=None, description="Words dating it ('on Thursday').")
    place: str | None = None
    topics: list[str] = Field(default_factory=list, max_length=MAX_PHRASES)
    outcomes: list[str] = Field(
        default_factory=list, max_length=MAX_PHRASES, description="Agreements or decisions."
    )


class DraftStatusClaim(_Draft):
    """An entity's standing with an organisation or office."""

    quotes: list[str] = Field(
        min_length=1, max_length=MAX_QUOTES, description="The sentence stating it."
    )
    subject: str = Field(description="Whose standing, by name.")
    subject_quote: str = Field(description="Words naming the subject ('Myanmar', 'his country').")
    organisation: str
    status: Status = Field(description="chair: rotating chair; office_holder: an office.")
    status_quote: str = Field(description="Words stating it ('dialogue partner status').")
    stance: Stance = Field(description="supported: backs another's bid.")
    stance_quote: str | None = Field(
        default=None, description="Words carrying it ('was seeking'); null for holds if none."
    )
    upgrade: bool = Field(default=False, description="Moves up to it.")
    from_status: Status | None = None
    claimant: DraftParticipant | None = Field(default=None, description="Who said it.")
    supporters: list[DraftParticipant] = Field(
        default_factory=list, max_length=MAX_SIDES, description="Who welcomed or backed the bid."
    )
    time_text: str | None = Field(default=None, description="When it applies ('this year').")


class DraftExtraction(_Draft):
    """The meetings and status claims the article reports."""

    meetings: list[DraftMeeting] = Field(default_factory=list, max_length=MAX_RECORDS)
    status_claims: list[DraftStatusClaim] = Field(default_factory=list, max_length=MAX_RECORDS)


def parse_leniently(data: object) -> tuple[DraftExtraction, list[str]]:
    """Keep every well-formed record of a failed answer, and say what was skipped.

    Used when the re-ask budget is spent: one malformed record must not cost the
    good ones. Support is checked afterwards, as for any answer.
    """
    if not isinstance(data, dict):
        return DraftExtraction(), ["the model's last answer was not a JSON object"]
    skipped: list[str] = []

    def keep(name: str, model: type[_Draft]) -> list[Any]:
        items = data.get(name)
        kept: list[Any] = []
        malformed = 0
        for i, item in enumerate(items if isinstance(items, list) else []):
            # Bounded work and warnings, whatever a runaway answer holds.
            if len(kept) >= MAX_RECORDS or i >= 4 * MAX_RECORDS:
                skipped.append(f"dropped {name}[{i}:]: more than the {MAX_RECORDS} records kept")
                break
            try:
                kept.append(model.model_validate(item))
            except ValueError as exc:
                malformed += 1
                if malformed <= MAX_SKIP_NOTES:
                    first = str(exc).splitlines()[1:2] or [str(exc)]
                    skipped.append(f"dropped malformed {name}[{i}]: {first[0].strip()}")
        if malformed > MAX_SKIP_NOTES:
            skipped.append(f"dropped {malformed - MAX_SKIP_NOTES} more malformed {name}")
        return kept

    draft = DraftExtraction.model_construct(
        meetings=keep("meetings", DraftMeeting),
        status_claims=keep("status_claims", DraftStatusClaim),
    )
    return draft, skipped


def combine(drafts: list[DraftExtraction]) -> DraftExtraction:
    """One draft from the drafts of several chunks.

    Duplicates across chunks are expected (chunks overlap); the assembly step
    merges participants, meetings and claims that are the same.
    """
    if len(drafts) == 1:
        return drafts[0]
    return DraftExtraction.model_construct(
        meetings=[m for d in drafts for m in d.meetings],
        status_claims=[c for d in drafts for c in d.status_claims],
    )
