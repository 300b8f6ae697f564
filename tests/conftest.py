"""Shared fixtures; every test runs with the network switched off."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_8703ce6526d76945.txt"
CASSETTES = ROOT / "fixtures" / "cassettes"
GOLD = ROOT / "fixtures" / "gold"
AUTHORED = ROOT / "fixtures" / "authored"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse any connection that leaves the machine, so a test cannot pass by going online."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else str(address)
        if host not in ("127.0.0.1", "::1", "localhost") and self.family != socket.AF_UNIX:
            raise OSError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket, "getaddrinfo", _loopback_only(socket.getaddrinfo))


def _loopback_only(real: Any) -> Any:
    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in (None, "127.0.0.1", "::1", "localhost"):
            raise OSError(f"test tried to resolve {host!r}")
        return real(host, *args, **kwargs)

    return getaddrinfo


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep the developer's keys, settings and response cache out of the tests."""
    import os

    for name in list(os.environ):
        if name.startswith(("EXTRACTOR_", "OPENAI_", "ANTHROPIC_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("EXTRACTOR_CACHE_PATH", str(tmp_path / "responses.sqlite"))


@pytest.fixture
def seed_path() -> Path:
    return SEED


@pytest.fixture
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture
def seed_spec() -> dict[str, Any]:
    """The authored answers for the seed: first with a misquote, then corrected."""
    spec: dict[str, Any] = json.loads((AUTHORED / "000_8703ce6526d76945.json").read_text("utf-8"))
    return spec


def ministers() -> list[dict[str, Any]]:
    """Two participants as a model drafts them, for the short ASEAN articles of the tests."""
    return [
        {
            "ref": "p1",
            "name": "Retno Marsudi",
            "title": "Foreign Minister",
            "state": "Indonesia",
            "kind": "person",
            "mentions": ["Retno Marsudi"],
        },
        {
            "ref": "p2",
            "name": "Bui Thanh Son",
            "title": "Foreign Minister",
            "state": "Vietnam",
            "kind": "person",
            "mentions": ["Bui Thanh Son"],
        },
    ]
