"""Tests for extractor.model.cassette: request keys, recording, replaying and what reaches disk."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

from extractor import ReplayMissError
from extractor.model.cassette import (
    KEY_CHARS,
    CassetteStore,
    CassetteTransport,
    normalised_request,
    request_key,
)
from extractor.testing import FAKE_KEY, Fault, ScriptedTransport, completion_body

from .conftest import ROOT

BASE_URL = "https://api.example.test/v1"
URL = f"{BASE_URL}/chat/completions"
RECORDED_MODEL = "gpt-4o-mini-2024-07-18"
ANSWER: dict[str, Any] = {"participants": [], "meetings": [], "status_claims": []}


def _body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "temperature": 0.0,
        "messages": [
            {"role": "system", "content": "Extract meetings."},
            {"role": "user", "content": "ASEAN foreign ministers met in Jakarta on Friday."},
        ],
    }
    body.update(overrides)
    return body


def _key(body: dict[str, Any] | bytes, path: str = "chat/completions") -> str:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return request_key(normalised_request("POST", path, raw))


def _recorder(
    directory: Path, inner: httpx2.AsyncBaseTransport, **kwargs: Any
) -> CassetteTransport:
    return CassetteTransport(
        CassetteStore(directory), "record", base_url=BASE_URL, inner=inner, **kwargs
    )


def _files(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.json"))


class _Canned(httpx2.AsyncBaseTransport):
    """Answers every request with one fixed response built by ``make``."""

    def __init__(self, make: Any) -> None:
        self.make = make

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        response: httpx2.Response = self.make(request)
        return response


class _Chunks(httpx2.AsyncByteStream):
    """A body that arrives like one from the network: not read until iterated."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.data[:10]
        yield self.data[10:]


# --------------------------------------------------------------------------- keys


def test_request_key_ignores_key_order() -> None:
    """The same request serialised with its keys in another order has the same key."""
    body = _body()
    reordered = dict(reversed(list(body.items())))
    reordered["messages"] = [dict(reversed(list(m.items()))) for m in body["messages"]]
    assert json.dumps(body) != json.dumps(reordered)
    assert _key(body) == _key(reordered)


def test_request_key_is_the_sha256_of_sorted_compact_json() -> None:
    """Keys are the SHA-256 of the request as sorted, compact UTF-8 JSON, for every fixture."""
    fixtures = sorted((ROOT / "fixtures" / "cassettes").rglob("*.json"))
    assert fixtures
    for path in fixtures:
        exchange = json.loads(path.read_text(encoding="utf-8"))
        request = exchange["request"]
        canonical = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        assert request_key(request) == hashlib.sha256(canonical.encode()).hexdigest()
        assert exchange["key"] == request_key(request)


def test_request_key_ignores_whitespace_of_the_json() -> None:
    """Pretty-printed and compact JSON of one request have the same key."""
    body = _body()
    assert _key(json.dumps(body, indent=4).encode()) == _key(
        json.dumps(body, separators=(",", ":")).encode()
    )


def test_request_key_ignores_pydantic_documentation_links() -> None:
    """Re-ask text differing only in pydantic's versioned help link gives the same key."""
    error = "1 validation error for DraftExtraction\n  Value error, quote not in article"
    links = [
        "",
        "\n    For further information visit https://errors.pydantic.dev/2.11/v/value_error",
        "\n    For further information visit https://errors.pydantic.dev/2.14/v/value_error",
    ]
    keys = {
        _key(_body(messages=[*_body()["messages"], {"role": "tool", "content": error + link}]))
        for link in links
    }
    assert len(keys) == 1


def test_request_key_keeps_the_rest_of_a_reask_message() -> None:
    """Only the link is ignored: a different error text is a different request."""
    first = _body(messages=[{"role": "tool", "content": "quote 'a' is not in the article"}])
    second = _body(messages=[{"role": "tool", "content": "quote 'b' is not in the article"}])
    assert _key(first) != _key(second)


def test_request_key_differs_by_model() -> None:
    """Another model is another request."""
    assert _key(_body(model="gpt-4o-mini")) != _key(_body(model="gpt-4o"))


def test_request_key_differs_by_messages() -> None:
    """Another article in the user message is another request."""
    other = [{"role": "user", "content": "The SCO summit opened in Astana."}]
    assert _key(_body()) != _key(_body(messages=other))


def test_request_key_differs_by_path() -> None:
    """The endpoint is part of the request."""
    assert _key(_body(), "chat/completions") != _key(_body(), "completions")


def test_normalised_request_holds_no_headers() -> None:
    """Only method, path and body decide a request; headers are never part of it."""
    normalised = normalised_request("post", "/chat/completions/", json.dumps(_body()).encode())
    assert set(normalised) == {"method", "path", "body"}
    assert normalised["method"] == "POST"
    assert normalised["path"] == "chat/completions"


# --------------------------------------------------------------------------- record


async def test_record_writes_one_pretty_file_per_exchange(tmp_path: Path) -> None:
    """Two different requests give two files, each pretty JSON with indent 2 and sorted keys."""
    scripted = ScriptedTransport([ANSWER, ANSWER])
    async with httpx2.AsyncClient(transport=_recorder(tmp_path, scripted)) as client:
        first = await client.post(URL, json=_body())
        second = await client.post(URL, json=_body(model="gpt-4o"))
    assert (first.status_code, second.status_code) == (200, 200)
    files = _files(tmp_path)
    assert len(files) == 2
    for path in files:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
        assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        assert path.stem == data["key"][:KEY_CHARS]
    assert {p.stem for p in files} == {
        _key(_body())[:KEY_CHARS],
        _key(_body(model="gpt-4o"))[:KEY_CHARS],
    }


async def test_record_keeps_non_ascii_text_readable(tmp_path: Path) -> None:
    """Cyrillic and CJK text is written as itself, not as escapes, so diffs stay readable."""
    body = _body(messages=[{"role": "user", "content": "Встреча в Пекине 上海合作组织"}])
    async with httpx2.AsyncClient(
        transport=_recorder(tmp_path, ScriptedTransport([ANSWER]))
    ) as client:
        await client.post(URL, json=body)
    (path,) = _files(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert "Встреча в Пекине 上海合作组织" in text
    assert "\\u" not in text


async def test_record_stores_provenance_with_the_responding_model(tmp_path: Path) -> None:
    """A recorded exchange says it was recorded, from the model named in the response."""
    inner = _Canned(
        lambda request: httpx2.Response(200, json=completion_body(ANSWER, model=RECORDED_MODEL))
    )
    recorder = _recorder(tmp_path, inner, provenance_note="nightly run")
    async with httpx2.AsyncClient(transport=recorder) as client:
        await client.post(URL, json=_body())
    (path,) = _files(tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    provenance = data["provenance"]
    assert provenance["source"] == "recorded"
    assert provenance["model"] == RECORDED_MODEL
    assert provenance["note"] == "nightly run"
    assert provenance["created_at"]
    assert data["request"]["body"]["model"] == "gpt-4o-mini"
    assert data["response"]["status"] == 200
    assert data["response"]["body"]["model"] == RECORDED_MODEL


async def test_record_stores_no_request_headers(tmp_path: Path) -> None:
    """The request's headers, the key among them, never reach the file."""
    async with httpx2.AsyncClient(
        transport=_recorder(tmp_path, ScriptedTransport([ANSWER]))
    ) as client:
        await client.post(
            URL,
            json=_body(),
            headers={"Authorization": f"Bearer {FAKE_KEY}", "X-Secret-Header": "hush"},
        )
    (path,) = _files(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert set(json.loads(text)["request"]) == {"method", "path", "body"}
    assert FAKE_KEY not in text
    assert "authorization" not in text.lower()
    assert "hush" not in text


async def test_authored_recording_says_authored_and_names_no_model(tmp_path: Path) -> None:
    """Answers scripted by a person are marked authored, with no model, whatever the body says."""
    inner = _Canned(
        lambda request: httpx2.Response(200, json=completion_body(ANSWER, model=RECORDED_MODEL))
    )
    async with httpx2.AsyncClient(transport=_recorder(tmp_path, inner, authored=True)) as client:
        await client.post(URL, json=_body())
    (path,) = _files(tmp_path)
    provenance = json.loads(path.read_text(encoding="utf-8"))["provenance"]
    assert provenance["source"] == "authored"
    assert provenance["model"] is None


async def test_non_200_responses_are_not_recorded(tmp_path: Path) -> None:
    """A 429 or 500 is handed on to the caller but never becomes a fixture."""
    scripted = ScriptedTransport([Fault(429, {"retry-after": "1"}), Fault(500)])
    async with httpx2.AsyncClient(transport=_recorder(tmp_path, scripted)) as client:
        throttled = await client.post(URL, json=_body())
        failed = await client.post(URL, json=_body())
    assert (throttled.status_code, failed.status_code) == (429, 500)
    assert throttled.json()["error"]["message"] == "scripted fault"
    assert _files(tmp_path) == []


async def test_only_allowed_response_headers_are_stored(tmp_path: Path) -> None:
    """content-type, retry-after* and x-ratelimit-* are kept; cookies and the rest are not."""
    headers = {
        "Content-Type": "application/json",
        "Retry-After": "3",
        "retry-after-ms": "2500",
        "X-RateLimit-Remaining-Requests": "42",
        "x-ratelimit-reset-tokens": "6m0s",
        "Set-Cookie": "session=abc123; HttpOnly",
        "OpenAI-Organization": "org-secret",
        "X-Request-Id": "req_123",
    }
    inner = _Canned(
        lambda request: httpx2.Response(200, headers=headers, json=completion_body(ANSWER))
    )
    async with httpx2.AsyncClient(transport=_recorder(tmp_path, inner)) as client:
        response = await client.post(URL, json=_body())
    assert response.headers["set-cookie"] == "session=abc123; HttpOnly"  # the caller still sees it
    (path,) = _files(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert json.loads(text)["response"]["headers"] == {
        "content-type": "application/json",
        "retry-after": "3",
        "retry-after-ms": "2500",
        "x-ratelimit-remaining-requests": "42",
        "x-ratelimit-reset-tokens": "6m0s",
    }
    assert "abc123" not in text
    assert "org-secret" not in text


async def test_gzip_response_is_decoded_exactly_once(tmp_path: Path) -> None:
    """A gzip body from the server reaches the caller as JSON, with content-encoding dropped."""
    payload = json.dumps(completion_body(ANSWER)).encode()
    compressed = gzip.compress(payload)
    inner = _Canned(
        lambda request: httpx2.Response(
            200,
            headers={
                "content-type": "application/json",
                "content-encoding": "gzip",
                "content-length": str(len(compressed)),
            },
            stream=_Chunks(compressed),
        )
    )
    async with httpx2.AsyncClient(transport=_recorder(tmp_path, inner)) as client:
        response = await client.post(URL, json=_body())
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert response.content == payload
    assert response.json() == completion_body(ANSWER)
    (path,) = _files(tmp_path)
    stored = json.loads(path.read_text(encoding="utf-8"))["response"]
    assert stored["body"] == completion_body(ANSWER)
    assert "content-encoding" not in stored["headers"]


def test_record_mode_needs_an_inner_transport(tmp_path: Path) -> None:
    """Recording from nothing is a cassette error, raised when the transport is built."""
    from extractor import CassetteError

    with pytest.raises(CassetteError, match="record mode needs"):
        CassetteTransport(CassetteStore(tmp_path), "record", base_url=BASE_URL)


# --------------------------------------------------------------------------- replay


def _sdk(transport: httpx2.AsyncBaseTransport) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        api_key=FAKE_KEY,
        base_url=BASE_URL,
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=transport),
    )


async def _ask(client: openai.AsyncOpenAI, content: str = "ASEAN ministers met.") -> Any:
    return await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": content}],
        temperature=0.0,
    )


async def test_replay_returns_the_recorded_response_through_the_sdk(tmp_path: Path) -> None:
    """What the SDK parsed while recording, it parses again from the file, offline."""
    answer = {"meetings": [{"quotes": ["ASEAN ministers met."]}]}
    inner = _Canned(
        lambda request: httpx2.Response(
            200, json=completion_body(answer, model=RECORDED_MODEL, prompt_tokens=7)
        )
    )
    recording = _sdk(_recorder(tmp_path, inner))
    recorded = await _ask(recording)
    await recording.close()

    replaying = _sdk(CassetteTransport(CassetteStore(tmp_path), "replay", base_url=BASE_URL))
    replayed = await _ask(replaying)
    await replaying.close()

    assert replayed.model == RECORDED_MODEL
    assert replayed.usage is not None and replayed.usage.prompt_tokens == 7
    tool_call = replayed.choices[0].message.tool_calls[0]
    assert json.loads(tool_call.function.arguments) == answer
    assert replayed.model_dump() == recorded.model_dump()


async def test_replay_finds_fixtures_in_subdirectories(tmp_path: Path) -> None:
    """Fixtures grouped by article in subdirectories are found by key."""
    async with httpx2.AsyncClient(
        transport=_recorder(tmp_path / "article-1", ScriptedTransport([ANSWER]))
    ) as client:
        await client.post(URL, json=_body())
    replay = CassetteTransport(CassetteStore(tmp_path), "replay", base_url=BASE_URL)
    async with httpx2.AsyncClient(transport=replay) as client:
        response = await client.post(URL, json=_body())
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == (
        "DraftExtraction"
    )


async def test_replay_key_survives_a_change_of_host(tmp_path: Path) -> None:
    """Recorded against one server, a fixture replays under another base URL with the same path."""
    async with httpx2.AsyncClient(
        transport=_recorder(tmp_path, ScriptedTransport([ANSWER]))
    ) as client:
        await client.post(URL, json=_body())
    other = "http://127.0.0.1:8080/v1"
    replay = CassetteTransport(CassetteStore(tmp_path), "replay", base_url=other)
    async with httpx2.AsyncClient(transport=replay) as client:
        response = await client.post(f"{other}/chat/completions", json=_body())
    assert response.status_code == 200


async def test_replay_miss_names_key_model_and_last_user_message(tmp_path: Path) -> None:
    """A miss says which request, for which model, and how the last user message starts."""
    body = _body(
        model="some-local-model",
        messages=[
            {"role": "user", "content": "An earlier user message that is not the last one."},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "Myanmar   seeks\n dialogue partner status " + "x" * 200},
        ],
    )
    replay = CassetteTransport(CassetteStore(tmp_path), "replay", base_url=BASE_URL)
    request = httpx2.Request("POST", URL, json=body)
    with pytest.raises(ReplayMissError) as caught:
        await replay.handle_async_request(request)
    message = str(caught.value)
    assert _key(body)[:KEY_CHARS] in message
    assert "'some-local-model'" in message
    assert "Myanmar seeks dialogue partner status" in message
    assert "An earlier user message" not in message
    assert "x" * 100 not in message  # only the start of the message
    assert "--record" in message


async def test_replay_miss_through_the_sdk_keeps_its_cause(tmp_path: Path) -> None:
    """Through the SDK a miss surfaces as itself or as the cause of its connection error.

    Older SDKs wrap what a transport raises in ``APIConnectionError``; newer ones
    let it through. Either way the miss can be surfaced.
    """
    client = _sdk(CassetteTransport(CassetteStore(tmp_path), "replay", base_url=BASE_URL))
    with pytest.raises((openai.APIConnectionError, ReplayMissError)) as caught:
        await _ask(client)
    await client.close()
    miss = caught.value if isinstance(caught.value, ReplayMissError) else caught.value.__cause__
    assert isinstance(miss, ReplayMissError)


async def test_replay_never_calls_further_down(tmp_path: Path) -> None:
    """Replay answers from files only; an unreadable fixture is a cassette error, not a call."""
    from extractor import CassetteError

    (tmp_path / f"{_key(_body())[:KEY_CHARS]}.json").write_text("{not json", encoding="utf-8")
    replay = CassetteTransport(CassetteStore(tmp_path), "replay", base_url=BASE_URL)
    with pytest.raises(CassetteError, match="cannot read cassette"):
        await replay.handle_async_request(httpx2.Request("POST", URL, json=_body()))
