"""The one exception hierarchy of the package.

Everything the package raises on purpose derives from ``ExtractorError``, so a
caller can catch one class, and the CLI can turn any of them into a one-line
message and an exit code instead of a traceback::

    ExtractorError
    ├── ConfigurationError      settings that cannot work (no key, no base URL, no replay)
    ├── InputError              a document that cannot be read as text
    │   ├── InputNotFoundError      missing path
    │   ├── EmptyInputError         nothing but whitespace
    │   ├── BinaryInputError        NUL bytes or other binary content
    │   ├── EncodingError           not valid UTF-8
    │   ├── InputTooLargeError      over ``Settings.max_input_bytes``
    │   └── MetadataError           a corpus row or header that cannot be read (no text
    │                               field, an unreadable date, a line that is not JSON)
    ├── CassetteError           record/replay problems
    │   └── ReplayMissError         replay mode met a request no fixture answers
    └── ModelError              the model could not be reached or gave nothing usable
        ├── TransportError          network faults and error statuses the retries did not clear
        └── ResponseError           no parseable answer after the re-ask budget

Each class carries ``exit_code`` so the CLI maps families to distinct codes.

Every message is scrubbed of secrets when the error is created
(``extractor._redact.scrub``): a message often quotes what a server said, and
a server may repeat the key it was sent. So whatever is built from
``str(exc)`` (an error record, a stderr line, a log) is clean.
"""

from __future__ import annotations

from typing import Any

from extractor._redact import scrub


class ExtractorError(Exception):
    """Root of every error the package raises on purpose; its message never holds a secret."""

    exit_code = 1

    def __init__(self, *args: Any) -> None:
        super().__init__(*(scrub(a) if isinstance(a, str) else a for a in args))


class ConfigurationError(ExtractorError):
    """Settings that cannot lead to a working run."""

    exit_code = 2


class InputError(ExtractorError):
    """A document that cannot be turned into text."""

    exit_code = 3


class InputNotFoundError(InputError):
    """The path does not exist or is not a readable file."""


class EmptyInputError(InputError):
    """The document holds no text."""


class BinaryInputError(InputError):
    """The document looks like binary data, not text."""


class EncodingError(InputError):
    """The document is not valid UTF-8."""


class InputTooLargeError(InputError):
    """The document is larger than the configured limit."""


class MetadataError(InputError):
    """A corpus row, scraper file or header block whose shape or metadata cannot be read."""


class CassetteError(ExtractorError):
    """Record/replay could not do what was asked."""

    exit_code = 4


class ReplayMissError(CassetteError):
    """Replay mode met a request that no recorded exchange answers."""


class ModelError(ExtractorError):
    """The model call failed for good."""

    exit_code = 5


class TransportError(ModelError):
    """The server could not be reached, did not answer in time, or answered an error status
    (after the retries, for the faults that are retried)."""


class ResponseError(ModelError):
    """The model never produced a parseable answer within the re-ask budget."""
