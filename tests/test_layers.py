"""The architecture's import rules, checked on the source (no import is executed)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO


def _imports(path: Path) -> set[str]:
    """Top-level packages a module imports, wherever the import statement sits."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _modules(folder: str) -> list[Path]:
    return sorted((REPO / folder).rglob("*.py"))


@pytest.mark.parametrize("path", _modules("ingest"), ids=lambda p: p.name)
def test_ingest_never_imports_bot(path: Path) -> None:
    assert "bot" not in _imports(path)


@pytest.mark.parametrize("path", _modules("bot/discord_bot"), ids=lambda p: p.name)
def test_discord_goes_through_the_facade(path: Path) -> None:
    assert not _imports(path) & {"ingest", "chromadb", "langchain", "langchain_core"}


@pytest.mark.parametrize(
    "folder", ["bot/discord_bot", "bot/evaluation", "benchmarks", "tests"], ids=str
)
def test_nothing_outside_the_facade_reaches_its_store(folder: str) -> None:
    reaching = [
        f"{path.relative_to(REPO)}:{node.lineno}"
        for path in _modules(folder)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute)
        and node.attr in ("store", "_store")
        and isinstance(node.value, ast.Name)
        and node.value.id.endswith("kb")
    ]
    assert not reaching, reaching


GLOBAL_STATE = ("os.environ[", "os.environ.setdefault", "os.putenv", ".setLevel(", "set_verbosity")


@pytest.mark.parametrize("path", _modules("bot") + _modules("ingest"), ids=lambda p: p.name)
def test_library_code_leaves_the_process_alone(path: Path) -> None:
    """Environment variables and other libraries' log levels are the entry points' business
    (``bot/process.py``, which only they call)."""
    if path == REPO / "bot" / "process.py":
        return
    text = path.read_text(encoding="utf-8")
    assert not [pattern for pattern in GLOBAL_STATE if pattern in text]
