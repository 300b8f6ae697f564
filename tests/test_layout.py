"""The package layout: stages as subpackages, imports going one way, everything shipped."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "extractor"

# Each stage, and the stages (plus the shared foundations) it may import.
FOUNDATION = {
    "extractor._exceptions",
    "extractor._redact",
    "extractor.settings",
    "extractor.schemas",
}
ALLOWED = {
    "text": set(),
    "normalise": {"text"},
    "read": {"text"},
    "model": {"text", "read"},
    "ground": {"text", "normalise", "read"},
    "write": set(),
}


def _imports(path: Path) -> set[str]:
    """The ``extractor.*`` modules a file imports, at any depth of the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] == "extractor"}


@pytest.mark.parametrize("stage", sorted(ALLOWED))
def test_a_stage_imports_only_the_stages_below_it(stage: str) -> None:
    """text < normalise, read < model, ground; write needs only the schemas."""
    for path in sorted((PACKAGE / stage).rglob("*.py")):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in FOUNDATION):
                continue
            target = name.split(".")[1]
            assert target == stage or target in ALLOWED[stage], f"{path.name} imports {name}"


def test_no_relative_imports_hide_the_direction() -> None:
    """Every import inside the package is absolute, so the layer it reaches is visible."""
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        relative = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level]
        assert not relative, path


def test_every_subpackage_says_what_it_owns() -> None:
    """Each stage's ``__init__`` has a docstring, and pyproject ships every subpackage."""
    pyproject = (PACKAGE.parent / "pyproject.toml").read_text("utf-8")
    for init in PACKAGE.rglob("__init__.py"):
        if init.parent == PACKAGE:
            continue
        dotted = ".".join(init.parent.relative_to(PACKAGE.parent).parts)
        assert ast.get_docstring(ast.parse(init.read_text("utf-8"))), init
        assert f'"{dotted}"' in pyproject, dotted


def test_the_constraints_pin_a_version_inside_every_declared_range() -> None:
    """constraints.txt (what CI installs) never contradicts pyproject's ranges."""
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    root = PACKAGE.parent
    project = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["project"]
    declared = [
        Requirement(r)
        for r in [*project["dependencies"], *project["optional-dependencies"]["test"]]
    ]
    pins = {}
    for line in (root / "constraints.txt").read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    for requirement in declared:
        pinned = pins.get(canonicalize_name(requirement.name))
        assert pinned is not None, f"{requirement.name} is not pinned"
        assert requirement.specifier.contains(pinned), f"{requirement} excludes {pinned}"
