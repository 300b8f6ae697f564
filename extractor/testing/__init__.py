"""Test doubles shipped with the package, for our tests and for yours.

``scripted``: a model server that says what a script says (in OpenAI's chat
completions or Anthropic's Messages API), and the tool that records authored
cassettes from such scripts (``python -m extractor.testing``).
``fakeserver``: a server speaking both APIs, with latency, rate limits and
faults, for benchmarks. The top layer: may import anything in the project.
"""

from extractor.testing.scripted import (
    AUTHORED_MODEL,
    FAKE_KEY,
    Fault,
    ScriptedTransport,
    anthropic_error,
    author_cassettes,
    completion_body,
    message_body,
    project,
    run_scripted,
    scripted_settings,
)

__all__ = [
    "AUTHORED_MODEL",
    "FAKE_KEY",
    "Fault",
    "ScriptedTransport",
    "anthropic_error",
    "author_cassettes",
    "completion_body",
    "message_body",
    "project",
    "run_scripted",
    "scripted_settings",
]
