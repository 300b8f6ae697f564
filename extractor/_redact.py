"""The one place secrets are scrubbed from text: error messages, log records, stored answers.

A server may repeat the key it was sent (proxies and gateways echo headers in
their error bodies), an exception may quote a URL with ``user:password@`` in
it, and a log line may carry either. Everything that can reach an output, a
log, the cache or a cassette goes through ``scrub`` first:

* every ``ExtractorError`` scrubs its message when it is created
  (``extractor._exceptions``), so an error record or a stderr line built from
  ``str(exc)`` is clean wherever it is written;
* every log record of the package and of the libraries under it (openai,
  anthropic, instructor, httpx, aiohttp) is scrubbed when it is created
  (``install_log_scrubbing``), whatever handler or formatter prints it;
* an answer stored in the cache or a cassette has any known secret removed.

Two kinds of secret are recognised: the ones the run knows (its API key and
base-URL password, registered with ``remember`` when ``Settings`` are built),
and text that looks like a credential whatever it holds (``Authorization:``,
``x-api-key:`` and ``api_key=`` values, ``Bearer`` tokens, ``sk-...`` keys,
``user:password@`` in a URL).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

REDACTED = "[redacted]"

_MIN_KNOWN = 6
"""A known secret shorter than this is left to the patterns: replacing a four-letter
word everywhere it occurs would garble messages more than it protects."""

_HEADER_VALUE = r"""["']?\s*[:=]\s*["']?"""
_PATTERNS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    # Authorization: Bearer xyz / "authorization": "Basic xyz" / Proxy-Authorization=...
    (
        re.compile(
            r"(?i)\b((?:proxy-)?authorization" + _HEADER_VALUE + r")"
            r"(?:(bearer|basic|token)\s+)?[^\s\"',;}]+"
        ),
        lambda m: m[1] + (f"{m[2]} " if m[2] else "") + REDACTED,
    ),
    # x-api-key: xyz / "api_key": "xyz" / api-key=xyz
    (
        re.compile(r"(?i)\b((?:x-)?api[-_]?key" + _HEADER_VALUE + r")[^\s\"',;}&]+"),
        r"\1" + REDACTED,
    ),
    # A bearer token quoted on its own.
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}"), "Bearer " + REDACTED),
    # OpenAI's and Anthropic's key shapes: sk-..., sk-proj-..., sk-ant-api03-...
    (re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{16,}"), REDACTED),
    # user:password@ in a URL.
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@"), r"\1" + REDACTED + "@"),
)

_known: set[str] = set()
_lock = threading.Lock()


def remember(*secrets: str | None) -> None:
    """Register secrets of this process (an API key, a password) for every later scrub.

    Registered for the life of the process: scrubbing a secret of another
    configuration run side by side costs nothing and leaks nothing. Also
    makes sure log records are scrubbed from now on.
    """
    fresh = {s for s in secrets if s and len(s) >= _MIN_KNOWN} - _known
    if fresh:
        with _lock:
            _known.update(fresh)
    install_log_scrubbing()


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without any registered secret, any of ``secrets``, or anything credential-like."""
    for secret in sorted({*_known, *(s for s in secrets if s)}, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def scrub_known(text: str) -> str:
    """``text`` without any registered secret, and nothing else changed.

    For a model's answer about to be stored: an article may well hold text
    shaped like a token, which the patterns would mangle, but the run's own key
    never belongs in it.
    """
    for secret in _known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


# --------------------------------------------------------------------------- logging

_SCRUBBED_LOGGERS = (
    "extractor",
    "openai",
    "anthropic",
    "instructor",
    "httpx",
    "httpcore",
    "aiohttp",
)
_installed = False


def scrub_record(record: logging.LogRecord) -> None:
    """Scrub one log record in place: its message (with its arguments) and its traceback."""
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: logging reports it when it is formatted
        return
    clean = scrub(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))


class ScrubbingFilter(logging.Filter):
    """A handler filter that scrubs every record it passes (for an application's own handlers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub_record(record)
        return True


def install_log_scrubbing() -> None:
    """Scrub every record the package and its HTTP/SDK libraries log, as it is created.

    A record factory, not a filter: a filter on a logger does not see its
    children's records, and a filter on a handler needs the application's
    handlers; the factory sees each record once, whoever prints it. It wraps
    the factory in place, so another one installed before it still runs.
    Records are only created for enabled levels, so a quiet run pays nothing.
    """
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if record.name.startswith(_SCRUBBED_LOGGERS):
                scrub_record(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
