"""The SQLite response cache: reruns cost no calls, and no secret is stored."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx2
import pytest

from extractor import ResponseError
from extractor.model.cache import CachingTransport, ResponseCache
from extractor.model.providers import OpenAIChat
from extractor.testing import FAKE_KEY, run_scripted, scripted_settings


def _settings(tmp_path: Path, **more: Any) -> Any:
    return scripted_settings(cache=True, cache_path=tmp_path / "cache.sqlite", **more)


async def test_second_run_is_answered_from_the_cache(
    tmp_path: Path, seed_path: Path, seed_spec: dict[str, Any]
) -> None:
    """A rerun of the same document makes no request and gives the same records."""
    first, transport = await run_scripted(seed_path, seed_spec["answers"], _settings(tmp_path))
    assert len(transport.requests) == 2  # the first answer is re-asked
    second, transport = await run_scripted(seed_path, [], _settings(tmp_path))
    assert transport.requests == []
    assert second.model_dump(exclude={"run"}) == first.model_dump(exclude={"run"})
    assert second.run.attempts == 2  # what the result cost when it was made
    assert second.run.cached and not first.run.cached


async def test_changed_code_recomputes_from_cached_answers(
    tmp_path: Path, seed_path: Path, seed_spec: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the stored result no longer applies, the answers are replayed: no request either."""
    first, _ = await run_scripted(seed_path, seed_spec["answers"], _settings(tmp_path))
    monkeypatch.setattr("extractor.runner.result_key", lambda *a: "another-code-version")
    second, transport = await run_scripted(seed_path, [], _settings(tmp_path))
    assert transport.requests == [] and not second.run.cached
    assert second.model_dump(exclude={"run"}) == first.model_dump(exclude={"run"})


async def test_cache_can_be_disabled(
    tmp_path: Path, seed_path: Path, seed_spec: dict[str, Any]
) -> None:
    """With the cache off, the same document asks the model again."""
    settings = scripted_settings(cache=False, cache_path=tmp_path / "cache.sqlite")
    await run_scripted(seed_path, seed_spec["answers"], settings)
    _, transport = await run_scripted(seed_path, seed_spec["answers"], settings)
    assert len(transport.requests) == 2
    assert not (tmp_path / "cache.sqlite").exists()


async def test_no_secret_reaches_the_cache(
    tmp_path: Path, seed_path: Path, seed_spec: dict[str, Any]
) -> None:
    """The API key and any authorization header appear nowhere in the database."""
    await run_scripted(seed_path, seed_spec["answers"], _settings(tmp_path))
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("cache.sqlite*"))
    assert raw  # something was stored
    assert FAKE_KEY.encode() not in raw
    assert b"authorization" not in raw.lower() and b"bearer" not in raw.lower()


def test_concurrent_writers_share_one_file(tmp_path: Path) -> None:
    """Two connections (as two processes would) write and read the same cache."""
    path = tmp_path / "c.sqlite"
    a, b = ResponseCache(path), ResponseCache(path)
    a.put("k1", {"body": 1}, 200, {"choices": [1]})
    b.put("k2", {"body": 2}, 200, {"choices": [2]})
    assert a.get("k2") is not None and b.get("k1") is not None
    assert len(a) == 2
    mode = sqlite3.connect(path).execute("pragma journal_mode").fetchone()[0]
    assert mode == "wal"
    a.close()
    b.close()


def test_miss_and_hit_are_counted(tmp_path: Path) -> None:
    """The cache says how often it answered."""
    cache = ResponseCache(tmp_path / "c.sqlite")
    assert cache.get("nope") is None
    cache.put("k", {}, 200, {"choices": []})
    assert cache.get("k") == {"response": {"status": 200, "headers": {}, "body": {"choices": []}}}
    assert (cache.hits, cache.misses) == (1, 1)


async def test_cut_off_and_malformed_answers_are_not_cached(
    tmp_path: Path, seed_path: Path, seed_spec: dict[str, Any]
) -> None:
    """A truncated answer fails this run but is asked again on the next, which can succeed."""
    good = seed_spec["answers"][-1]
    settings = _settings(tmp_path, reasks=0)
    with pytest.raises(ResponseError):
        await run_scripted(seed_path, ['{"participants": [', good], settings)
    result, transport = await run_scripted(seed_path, [good], settings)
    assert len(transport.requests) == 1 and len(result.meetings) == 3


async def test_fully_cached_run_builds_no_model_client(
    tmp_path: Path, seed_path: Path, seed_spec: dict[str, Any]
) -> None:
    """When every result is cached, the SDK client is never even built."""
    from extractor.model.client import ModelClient
    from extractor.read.document import read_document
    from extractor.runner import extract_document

    await run_scripted(seed_path, seed_spec["answers"], _settings(tmp_path))
    async with ModelClient(_settings(tmp_path)) as client:
        result = await extract_document(read_document(seed_path, max_bytes=10**6), client)
        assert result.run.cached and client._provider is None


async def test_stored_request_names_the_tool_instead_of_repeating_its_schema(
    tmp_path: Path, seed_path: Path, seed_spec: dict[str, Any]
) -> None:
    """Each row keeps its request readable, with the tool schema cut to the tool's name."""
    await run_scripted(seed_path, seed_spec["answers"], _settings(tmp_path))
    with sqlite3.connect(tmp_path / "cache.sqlite") as db:
        requests = [json.loads(r) for (r,) in db.execute("select request from responses")]
    assert requests
    for request in requests:
        assert request["body"]["tools"] == ["DraftExtraction"]
        assert request["body"]["messages"][-1]["role"] in ("user", "tool")


async def test_encoded_answer_is_stored_and_handed_on_decoded(tmp_path: Path) -> None:
    """A gzip answer from the network is stored as its JSON text and read back as JSON."""
    body = {"choices": [{"finish_reason": "stop", "message": {"content": '{"ok": 1}'}}]}
    packed = gzip.compress(json.dumps(body).encode())

    class Gzipped(httpx2.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            headers = {"content-type": "application/json", "content-encoding": "gzip"}
            return httpx2.Response(200, headers=headers, stream=httpx2.ByteStream(packed))

    cache = ResponseCache(tmp_path / "cache.sqlite")
    transport = CachingTransport(
        cache, Gzipped(), base_url="http://127.0.0.1:9/v1", answers=OpenAIChat
    )
    request = httpx2.Request("POST", "http://127.0.0.1:9/v1/chat/completions", json={"q": 1})
    response = await transport.handle_async_request(request)
    assert json.loads(await response.aread()) == body
    (stored,) = sqlite3.connect(tmp_path / "cache.sqlite").execute("select body from responses")
    assert json.loads(stored[0]) == body
    again = await transport.handle_async_request(request)  # a hit, decoded as stored
    assert json.loads(await again.aread()) == body
    cache.close()


async def test_the_same_text_from_another_input_keeps_that_input_s_metadata(
    tmp_path: Path, seed_path: Path, seed_spec: dict[str, Any]
) -> None:
    """A wire story syndicated twice: the second copy comes from the cache with its own URL."""
    text = seed_path.read_text(encoding="utf-8")
    first_copy, second_copy = tmp_path / "a.txt", tmp_path / "b.txt"
    first_copy.write_text(f"url: https://a.example/1\ntitle: First\n\n{text}", encoding="utf-8")
    second_copy.write_text(f"url: https://b.example/2\ntitle: Second\n\n{text}", encoding="utf-8")
    first, _ = await run_scripted(first_copy, seed_spec["answers"], _settings(tmp_path))
    second, transport = await run_scripted(second_copy, [], _settings(tmp_path))
    assert transport.requests == [] and second.run.cached
    assert first.document.sha256 == second.document.sha256
    assert (first.document.url, first.document.title) == ("https://a.example/1", "First")
    assert (second.document.url, second.document.title) == ("https://b.example/2", "Second")
    assert second.document.source == str(second_copy)
    assert first.document.body_start == len("url: https://a.example/1\ntitle: First\n\n")
    assert second.document.body_start == len("url: https://b.example/2\ntitle: Second\n\n")


def test_a_result_depends_on_the_input_s_publication_date() -> None:
    """Dates resolve against the metadata date, so it is part of the stored result's key."""
    from extractor.model.cache import result_key

    settings = scripted_settings()
    assert result_key("abc", settings, "v", "2023-03-15") != result_key("abc", settings, "v", "")
