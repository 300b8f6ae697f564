"""Secrets never reach cassettes, caches, logs or outputs, through the real HTTP path."""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from extractor import ConfigurationError, Extraction, Settings, TransportError, extract
from extractor.cli import app
from extractor.testing import FAKE_KEY, completion_body

from .conftest import ROOT

ARTICLE = (
    "JAKARTA, March 3 (APP) - Indonesian Foreign Minister Retno Marsudi met Vietnamese "
    "Foreign Minister Bui Thanh Son at the ASEAN Secretariat on Friday. "
    "The two ministers agreed to hold regular consultations ahead of the ASEAN summit."
)
MEETING_QUOTE = (
    "Retno Marsudi met Vietnamese Foreign Minister Bui Thanh Son at the ASEAN Secretariat on Friday"
)
MINISTERS: list[dict[str, Any]] = [
    {
        "name": "Retno Marsudi",
        "title": "Foreign Minister",
        "state": "Indonesia",
        "kind": "person",
        "mentions": ["Retno Marsudi"],
    },
    {
        "name": "Bui Thanh Son",
        "title": "Foreign Minister",
        "state": "Vietnam",
        "kind": "person",
        "mentions": ["Bui Thanh Son"],
    },
]
ANSWER: dict[str, Any] = {
    "meetings": [
        {
            "sides": MINISTERS,
            "outcomes": ["agreed to hold regular consultations"],
            "quotes": [MEETING_QUOTE],
        }
    ],
    "status_claims": [],
}
# A committed key would look like this: "sk-" then a long run of key characters.
KEY_LIKE = re.compile(rb"(?<![A-Za-z0-9])sk-[A-Za-z0-9_\-]{16,}")


@dataclass
class StubServer:
    """A chat-completions endpoint on loopback that answers ANSWER and remembers headers."""

    url: str
    authorizations: list[str] = field(default_factory=list)


def _serve(handler: type[BaseHTTPRequestHandler], seen: list[str]) -> Iterator[StubServer]:
    """Run a stub on a free loopback port for one test, then stop it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield StubServer(f"http://127.0.0.1:{server.server_address[1]}/v1", seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def stub_server() -> Iterator[StubServer]:
    """An OpenAI-compatible stub on 127.0.0.1; it echoes nothing of what it is sent.

    It answers in the shape the request asks for: a tool call, or (json_schema
    mode, the default for a server on loopback) JSON content.
    """
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            sent = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            as_content = "response_format" in sent
            body = json.dumps(
                completion_body(ANSWER, model="stub-model-2025", as_content=as_content)
            ).encode()
            seen.append(self.headers.get("Authorization", ""))
            if not self.path.endswith("/chat/completions"):
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Set-Cookie", "session=stub-cookie")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    yield from _serve(Handler, seen)


def _leaks(data: bytes) -> list[str]:
    """What in ``data`` looks like a secret: the test key, an Authorization header, a key."""
    found = []
    if FAKE_KEY.encode() in data:
        found.append("the API key")
    if b"authorization" in data.lower():
        found.append("'authorization'")
    found += [m.decode() for m in KEY_LIKE.findall(data)]
    return found


def _leaky_files(directory: Path) -> dict[str, list[str]]:
    return {
        str(path.relative_to(directory)): leaks
        for path in sorted(directory.rglob("*"))
        if path.is_file() and (leaks := _leaks(path.read_bytes()))
    }


def _cassettes(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.json"))


def test_leak_check_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The scan itself works: a planted key and header are found, plain text is not."""
    (tmp_path / "clean.json").write_text('{"note": "Minsk-based envoys met"}', encoding="utf-8")
    (tmp_path / "key.json").write_text(json.dumps({"k": FAKE_KEY}), encoding="utf-8")
    (tmp_path / "header.json").write_text('{"Authorization": "x"}', encoding="utf-8")
    (tmp_path / "other.txt").write_text("token sk-proj-abcdefghijklmnop1234", encoding="utf-8")
    assert set(_leaky_files(tmp_path)) == {"key.json", "header.json", "other.txt"}


def test_library_record_writes_no_secret(
    tmp_path: Path, stub_server: StubServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Recording through real HTTP sends the key to the server and writes it nowhere."""
    caplog.set_level(logging.DEBUG)
    record_dir = tmp_path / "cassettes"
    settings = Settings(
        api_key=SecretStr(FAKE_KEY),
        base_url=stub_server.url,
        mode="record",
        cassette_dir=record_dir,
        cache_path=tmp_path / "cache" / "responses.sqlite",
    )
    result = extract(ARTICLE, settings=settings, source="asean.txt")

    assert isinstance(result, Extraction)
    assert [e.quote for m in result.meetings for e in m.evidence] == [MEETING_QUOTE]
    assert result.warnings == [] and result.run.attempts == 1  # the answer is fully supported
    # The key really travelled, so its absence below means something.
    assert stub_server.authorizations == [f"Bearer {FAKE_KEY}"]
    (cassette,) = _cassettes(record_dir)
    provenance = json.loads(cassette.read_text(encoding="utf-8"))["provenance"]
    assert provenance == {**provenance, "source": "recorded", "model": "stub-model-2025"}
    assert (tmp_path / "cache" / "responses.sqlite").is_file()
    assert _leaky_files(tmp_path) == {}
    assert "stub-cookie" not in cassette.read_text(encoding="utf-8")
    assert _leaks(result.model_dump_json().encode()) == []
    # The logs did see the exchange (what the SDK logs of it varies by version).
    assert any(r.name.startswith(("openai", "httpx")) for r in caplog.records)
    assert _leaks(caplog.text.encode()) == []


def test_cli_record_writes_and_prints_no_secret(
    tmp_path: Path,
    stub_server: StubServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``extractor extract --record -v`` keeps the key out of files, stdout, stderr and logs."""
    caplog.set_level(logging.DEBUG)
    article = tmp_path / "asean.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    record_dir = tmp_path / "recorded"
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    result = CliRunner().invoke(
        app,
        [
            "extract",
            str(article),
            "--record",
            str(record_dir),
            "--base-url",
            stub_server.url,
            "--cache-path",
            str(tmp_path / "responses.sqlite"),
            "-v",
        ],
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["kind"] == "extraction"
    assert len(data["meetings"]) == 1 and data["warnings"] == []
    assert stub_server.authorizations == [f"Bearer {FAKE_KEY}"]
    assert len(_cassettes(record_dir)) == 1
    assert _leaky_files(tmp_path) == {}
    assert _leaks(result.stdout.encode()) == []
    assert _leaks(result.stderr.encode()) == []
    # The logs did see the exchange (what the SDK logs of it varies by version).
    assert any(r.name.startswith(("openai", "httpx")) for r in caplog.records)
    assert _leaks(caplog.text.encode()) == []


def test_committed_fixtures_hold_no_secret() -> None:
    """No file under fixtures/ holds a key or an Authorization header, whoever recorded it."""
    fixtures = ROOT / "fixtures"
    files = [p for p in fixtures.rglob("*") if p.is_file()]
    assert any(p.suffix == ".json" and "cassettes" in p.parts for p in files)
    leaky = {str(p.relative_to(fixtures)): _leaks(p.read_bytes()) for p in files}
    assert {name: leaks for name, leaks in leaky.items() if leaks} == {}


# --------------------------------------------------------------------------- servers that echo

PASSWORD = "hunter2-gateway-pass"
# A credential left anywhere: the key, an sk- key, an unscrubbed Bearer or Basic value.
SECRET_LIKE = re.compile(
    rb"(?i)(?<![A-Za-z0-9])sk-[A-Za-z0-9_\-]{16,}|(bearer|basic) (?!\[redacted\])\S"
)


def _secrets_in(data: bytes) -> list[str]:
    """What in ``data`` is a secret (the key, the password, a credential value); mentions of an
    Authorization header whose value is scrubbed are not."""
    found = [m.group().decode() for m in SECRET_LIKE.finditer(data)]
    found += [s for s in (FAKE_KEY, PASSWORD) if s.encode() in data]
    return found


@pytest.fixture
def echo_server() -> Iterator[StubServer]:
    """A chat-completions stub that echoes the credentials it is sent, as gateways do.

    An article holding ``REFUSE-400`` is answered 400, one holding ``FAIL-500``
    500, each body repeating the Authorization header and the bare key (or
    password); others get ANSWER, with the Authorization header in an extra
    field, so the cache and the cassettes are offered it too.
    """
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            authorization = self.headers.get("Authorization", "")
            seen.append(authorization)
            credential = authorization.split(" ")[-1]
            echo = f"request with Authorization: {authorization} (credential {credential})"
            status, payload = (
                200,
                completion_body(
                    ANSWER, model="stub-model-2025", as_content="response_format" in json.loads(raw)
                ),
            )
            payload["gateway_note"] = echo
            if b"REFUSE-400" in raw or b"FAIL-500" in raw:
                status = 400 if b"REFUSE-400" in raw else 500
                payload = {"error": {"message": echo, "type": "gateway_error", "key": credential}}
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    yield from _serve(Handler, seen)


def test_cli_never_writes_a_key_the_server_echoes(
    tmp_path: Path,
    echo_server: StubServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """400 and 500 bodies that repeat the key reach the error records, stderr and the log
    scrubbed; the 200 that repeats it reaches the cache and the cassette scrubbed. A 400
    (not retried) does not say "after N tries"; the retried 500 does."""
    caplog.set_level(logging.INFO)
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "ok.txt").write_text(ARTICLE, encoding="utf-8")
    (inputs / "refused.txt").write_text(ARTICLE + " REFUSE-400.", encoding="utf-8")
    (inputs / "failed.txt").write_text(ARTICLE + " FAIL-500.", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("EXTRACTOR_MAX_BACKOFF", "0.01")
    result = CliRunner().invoke(
        app,
        [
            "extract",
            str(inputs),
            "-f",
            "jsonl",
            "-o",
            str(out),
            "--record",
            str(tmp_path / "recorded"),
            "--base-url",
            echo_server.url,
            "--cache-path",
            str(tmp_path / "cache" / "responses.sqlite"),
            "-v",
        ],
    )
    assert result.exit_code == 5, result.stderr
    assert set(echo_server.authorizations) == {f"Bearer {FAKE_KEY}"}  # the key did travel
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    records = {Path(r.get("source") or r["document"]["source"]).name: r for r in lines}
    assert records["ok.txt"]["kind"] == "extraction"
    refused, failed = records["refused.txt"]["message"], records["failed.txt"]["message"]
    assert refused.startswith("the server answered HTTP 400: ")
    assert failed.startswith("the server answered HTTP 500 after 5 tries: ")
    assert "Authorization: Bearer [redacted]" in refused
    assert len(_cassettes(tmp_path / "recorded")) == 1
    assert (tmp_path / "cache" / "responses.sqlite").is_file()
    leaky = {
        str(p.relative_to(tmp_path)): found
        for p in sorted(tmp_path.rglob("*"))
        if p.is_file() and (found := _secrets_in(p.read_bytes()))
    }
    assert leaky == {}
    assert _secrets_in(result.stdout.encode()) == []
    assert _secrets_in(result.stderr.encode()) == []
    assert "HTTP 400: " in result.stderr and "HTTP 500 after 5 tries" in result.stderr
    # -v logged every request (the 500 five times), and no secret with them.
    requests = [r.getMessage() for r in caplog.records if r.name == "extractor.model.requestlog"]
    assert len(requests) == 7 and all("/v1/chat/completions: " in line for line in requests)
    assert _secrets_in(caplog.text.encode()) == []


def test_base_url_credentials_are_sent_as_basic_auth_and_never_shown(
    tmp_path: Path, echo_server: StubServer, caplog: pytest.LogCaptureFixture
) -> None:
    """``http://user:password@host/v1`` (a gateway behind Basic auth) works: the credentials
    travel as an Authorization header, and the password is in no message, log or file."""
    caplog.set_level(logging.DEBUG)
    host = echo_server.url.removeprefix("http://")
    settings = Settings(
        base_url=f"http://bob:{PASSWORD}@{host}",
        mode="record",
        cassette_dir=tmp_path / "recorded",
        cache_path=tmp_path / "responses.sqlite",
        transport_retries=0,
    )
    assert settings.base_url == echo_server.url and PASSWORD not in repr(settings)
    settings.ensure_runnable()
    result = extract(ARTICLE, settings=settings, source="asean.txt")
    assert isinstance(result, Extraction) and len(result.meetings) == 1
    token = base64.b64encode(f"bob:{PASSWORD}".encode()).decode()
    assert echo_server.authorizations == [f"Basic {token}"]
    with pytest.raises(TransportError) as caught:
        extract(ARTICLE + " FAIL-500.", settings=settings, source="failing.txt")
    assert str(caught.value).startswith("the server answered HTTP 500: ")
    for text in (str(caught.value), result.model_dump_json(), caplog.text):
        assert _secrets_in(text.encode()) == [] and token not in text
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and _secrets_in(p.read_bytes())]


def test_base_url_credentials_and_an_openai_key_are_refused_together() -> None:
    """Both need OpenAI's Authorization header: refused at start, in a line without either."""
    settings = Settings(
        base_url=f"http://bob:{PASSWORD}@127.0.0.1:9/v1", api_key=SecretStr(FAKE_KEY)
    )
    with pytest.raises(ConfigurationError, match="drop one") as caught:
        settings.ensure_runnable()
    assert _secrets_in(str(caught.value).encode()) == []
