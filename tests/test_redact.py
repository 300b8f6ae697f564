"""Tests for extractor._redact: the one place secrets are scrubbed from text and logs."""

from __future__ import annotations

import logging

import pytest

from extractor import ConfigurationError, TransportError
from extractor._redact import REDACTED, ScrubbingFilter, remember, scrub, scrub_known
from extractor.testing import FAKE_KEY

RUN_KEY = "gw-7f3a9c1e55d04b2b"  # a gateway token that looks like nothing in particular


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        (f"Authorization: Bearer {FAKE_KEY}", f"Authorization: Bearer {REDACTED}"),
        ('{"authorization": "Basic Ym9iOmh1bnRlcjI="}', f'{{"authorization": "Basic {REDACTED}"}}'),
        ("proxy-authorization=abc123def", f"proxy-authorization={REDACTED}"),
        ("x-api-key: sk-ant-api03-abcdefghijklmnop", f"x-api-key: {REDACTED}"),
        ('{"api_key": "k-123456"}', f'{{"api_key": "{REDACTED}"}}'),
        ("got token Bearer abcdefgh12345678 from you", f"got token Bearer {REDACTED} from you"),
        ("the key sk-proj-abcdefghijklmnop1234 is wrong", f"the key {REDACTED} is wrong"),
        ("at http://bob:hunter2@gw.example/v1", f"at http://{REDACTED}@gw.example/v1"),
    ],
)
def test_credential_shapes_are_scrubbed(text: str, clean: str) -> None:
    """Header values, bearer tokens, sk- keys and URL passwords go, whatever they hold."""
    assert scrub(text) == clean


@pytest.mark.parametrize(
    "text",
    [
        "the server refused the API key (HTTP 401); check OPENAI_API_KEY",
        "no Authorization header was sent",
        "Minsk-based envoys met; the risk-free rate is 3%",
        "see https://example.org/v1/chat/completions",
        "the request to http://127.0.0.1:1/v1 timed out: no complete answer within 3 s",
    ],
)
def test_plain_text_is_left_alone(text: str) -> None:
    """Messages about keys, or with dashes and URLs, are not secrets and keep every word."""
    assert scrub(text) == text


def test_a_remembered_secret_is_scrubbed_whatever_its_shape() -> None:
    """A key that matches no pattern is scrubbed once the run has registered it."""
    assert scrub(f"echo {RUN_KEY}", [RUN_KEY]) == f"echo {REDACTED}"
    remember(RUN_KEY)
    assert scrub(f"echo {RUN_KEY}!") == f"echo {REDACTED}!"
    assert scrub_known(f'{{"quote": "{RUN_KEY} sk-in-an-article-0123456789"}}') == (
        f'{{"quote": "{REDACTED} sk-in-an-article-0123456789"}}'
    )


def test_our_errors_scrub_their_messages() -> None:
    """Every ExtractorError is clean from the moment it exists: str, args and repr."""
    error = TransportError(f"HTTP 500: bad key {FAKE_KEY} (Authorization: Bearer {FAKE_KEY})")
    assert FAKE_KEY not in str(error) and FAKE_KEY not in repr(error)
    assert FAKE_KEY not in "".join(map(str, error.args))
    assert str(ConfigurationError("plain")) == "plain"


def test_log_records_are_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    """The package's records, and its libraries', are scrubbed as they are made; others not."""
    remember(RUN_KEY)
    caplog.set_level(logging.DEBUG)
    logging.getLogger("extractor.model.test").info("sent %s with %s", RUN_KEY, FAKE_KEY)
    logging.getLogger("openai._base_client").debug("headers {'Authorization': 'Bearer x12345678'}")
    try:
        raise RuntimeError(f"boom {RUN_KEY}")
    except RuntimeError:
        logging.getLogger("httpx2").exception("failed")
    assert RUN_KEY not in caplog.text and FAKE_KEY not in caplog.text
    assert "x12345678" not in caplog.text
    assert "sent [redacted] with [redacted]" in caplog.text
    assert "RuntimeError: boom [redacted]" in caplog.text


def test_scrubbing_filter_for_an_applications_handlers() -> None:
    """An application's handler can scrub any record, not only the package's."""
    record = logging.LogRecord("app", logging.INFO, __file__, 1, "key %s", (FAKE_KEY,), None)
    assert ScrubbingFilter().filter(record)
    assert record.getMessage() == f"key {REDACTED}"
