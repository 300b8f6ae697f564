"""A local GGUF model with nothing else to install: llama.cpp's server, in this process.

``--gguf MODEL.gguf`` needs no separate server: the ``local`` extra brings the
prebuilt CPU wheel ``xllamacpp`` (llama.cpp with its OpenAI-compatible HTTP
server), and ``LocalServer`` starts it on a free loopback port, waits until
it answers ``/health``, and stops it when the run ends, on errors and on
Ctrl-C too (the model client closes it; the process's exit would as well).
Requests then go through the same HTTP stack as for any server, so the
response cache, cassettes and retries all apply; json_schema mode makes
llama.cpp decode against the draft schema, so a small model's answer is
always valid JSON of the right shape.
"""

from __future__ import annotations

import logging
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from extractor._exceptions import ConfigurationError

log = logging.getLogger(__name__)

INSTALL_HINT = "--gguf needs the 'local' extra: pip install 'extractor[local]'"


class LocalServer:
    """llama.cpp's OpenAI-compatible server for one GGUF file, on 127.0.0.1."""

    def __init__(
        self,
        gguf: Path,
        *,
        threads: int | None = None,
        context: int = 0,
        verbose: bool | None = None,
        ready_timeout: float = 120.0,
    ) -> None:
        """``context`` 0 takes the model's own context length; ``threads`` defaults to all
        cores; ``verbose`` (llama.cpp's own log on stderr) defaults to this module's logger
        being enabled for DEBUG."""
        self.gguf = Path(gguf)
        self.threads = threads or os.cpu_count() or 1
        self.context = context
        self.verbose = log.isEnabledFor(logging.DEBUG) if verbose is None else verbose
        self.ready_timeout = ready_timeout
        self._server: Any = None
        self.base_url: str | None = None

    def start(self) -> str:
        """Load the model and serve it; the base URL (``http://127.0.0.1:PORT/v1``)."""
        if self._server is not None:
            assert self.base_url is not None
            return self.base_url
        if not self.gguf.is_file():
            raise ConfigurationError(f"no GGUF model file at {self.gguf}")
        try:
            import xllamacpp
        except ImportError:
            raise ConfigurationError(INSTALL_HINT) from None
        params = xllamacpp.CommonParams()
        params.model.path = str(self.gguf)
        params.hostnames = ["127.0.0.1"]
        params.port = 0  # the server binds a free port and reports it
        params.n_ctx = self.context
        params.n_parallel = 1  # one slot: on a CPU, parallel slots only share the cores
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        params.n_gpu_layers = 0
        params.endpoint_metrics = True  # /metrics: the model's own tokens/s, for the bench
        params.verbosity = 3 if self.verbose else -1  # llama.cpp logs to stderr itself
        started = time.monotonic()
        try:
            self._server = xllamacpp.Server(params)
        except Exception as exc:  # a file that is not a model, or one llama.cpp cannot load
            raise ConfigurationError(f"llama.cpp cannot serve {self.gguf}: {exc}") from None
        address = str(self._server.listening_address or "").rstrip("/")
        if not address.startswith("http"):
            self.stop()
            raise ConfigurationError(f"llama.cpp did not start a server for {self.gguf}")
        self._wait_until_ready(address)
        self.base_url = address + "/v1"
        log.info(
            "serving %s at %s (loaded in %.1f s)",
            self.gguf.name,
            self.base_url,
            time.monotonic() - started,
        )
        return self.base_url

    def _wait_until_ready(self, address: str) -> None:
        """Poll ``/health`` until the model is loaded (200), or give up with one line."""
        deadline = time.monotonic() + self.ready_timeout
        while True:
            try:
                with urllib.request.urlopen(address + "/health", timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise ConfigurationError(
                    f"the local model server for {self.gguf.name} was not ready after "
                    f"{self.ready_timeout:.0f} s"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop the server and free the model (llama.cpp stops when its object goes)."""
        server, self._server = self._server, None
        self.base_url = None
        if server is not None:
            del server
