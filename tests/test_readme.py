"""The README documents every setting and the test commands (CI's and the fast tier);
its Python runs as shown."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from bot.settings import Settings
from tests.conftest import REPO


def _readme() -> str:
    return (REPO / "README.md").read_text(encoding="utf-8")


def test_settings_table_lists_exactly_the_settings() -> None:
    documented = set(re.findall(r"^\| `(KB_[A-Z_]+)` \|", _readme(), flags=re.MULTILINE))
    actual = {f"KB_{name.upper()}" for name in Settings.model_fields}
    assert documented == actual


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def test_settings_table_shows_each_default_as_settings_has_it() -> None:
    rows = re.findall(r"^\| `KB_([A-Z_]+)` \| ([^|]+) \|", _readme(), flags=re.MULTILINE)
    assert rows
    for name, cell in rows:
        field = Settings.model_fields[name.lower()]
        if field.default_factory is not None:
            continue  # computed where it runs (~/.cache/kb-bot, no channels)
        literal = re.match(r"`([^`]*)`", cell.strip())
        if cell.strip() == "unset" or literal is None:
            assert field.default is None, (name, cell)
        else:
            assert literal.group(1) == _shown(field.default), (name, cell)


def _dry_run(target: str) -> list[str]:
    """The commands ``make <target>`` would run, as make itself resolves them."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    result = subprocess.run(
        ["make", "--dry-run", "--no-print-directory", "-C", str(REPO), target],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def _index(commands: list[str], pattern: str) -> int:
    found = [i for i, command in enumerate(commands) if re.search(pattern, command)]
    assert len(found) == 1, (pattern, commands)
    return found[0]


def test_ci_runs_the_readme_test_command() -> None:
    documented = re.search(r"^`([^`]+)` is what CI runs \(`\.ci/run`\)", _readme(), re.MULTILINE)
    assert documented, "the README's Development section names the command CI runs"
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    commands = [
        line.strip()
        for line in ci
        if line.strip() and not line.lstrip().startswith(("#", "set ", "cd "))
    ]
    assert commands == [documented.group(1)] == ["make test"]


def test_make_test_lints_type_checks_then_runs_every_test() -> None:
    commands = _dry_run("test")

    ruff_check = _index(commands, r"/ruff check \.$")
    ruff_format = _index(commands, r"/ruff format --check \.$")
    mypy = _index(commands, r"/mypy$")
    pytest_run = _index(commands, r"/python -m pytest\b")
    assert max(ruff_check, ruff_format, mypy) < pytest_run
    assert commands[pytest_run].endswith("-m pytest -q")  # no marker filter: every tier


def test_make_test_fast_deselects_exactly_the_documented_markers() -> None:
    documented = re.search(r'`pytest -m "([^"]+)"`', _readme())
    assert documented and "`make test-fast`" in _readme()
    expression = documented.group(1)

    [pytest_run] = [c for c in _dry_run("test-fast") if "-m pytest" in c]

    assert pytest_run.endswith(f'-m pytest -q -m "{expression}"')
    with (REPO / "pyproject.toml").open("rb") as f:
        registered = {
            m.split(":")[0] for m in tomllib.load(f)["tool"]["pytest"]["ini_options"]["markers"]
        }
    used = set(re.findall(r"not (\w+)", expression))
    assert used == {"slow", "server", "discord"} and used <= registered


_RUNNER = """
import ast, asyncio, sys, types
source = sys.stdin.read()
code = compile(source, "README.md", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
namespace = {"__name__": "__main__"}
result = eval(code, namespace)
if isinstance(result, types.CoroutineType):
    asyncio.run(result)
"""


def test_the_python_snippets_run_verbatim_from_another_directory(
    tmp_path: Path, model_cache: Path
) -> None:
    blocks = re.findall(r"^```python\n(.*?)^```", _readme(), flags=re.MULTILINE | re.DOTALL)
    assert blocks
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env.update({"KB_MODEL_CACHE": str(model_cache), "PYTHONPATH": str(REPO)})
    for block in blocks:
        result = subprocess.run(
            [sys.executable, "-c", _RUNNER],
            input=block,
            capture_output=True,
            text=True,
            cwd=elsewhere,
            env=env,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr[-3000:]
    assert (elsewhere / ".kb").is_dir()  # the default home, in the working directory
