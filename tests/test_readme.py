"""The README documents every setting and the test command CI runs; its Python runs as shown."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from bot.settings import Settings
from tests.conftest import REPO


def _readme() -> str:
    return (REPO / "README.md").read_text(encoding="utf-8")


def test_settings_table_lists_exactly_the_settings() -> None:
    documented = set(re.findall(r"^\| `(KB_[A-Z_]+)` \|", _readme(), flags=re.MULTILINE))
    actual = {f"KB_{name.upper()}" for name in Settings.model_fields}
    assert documented == actual


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in _readme()
    assert re.search(r"^make test$", ci, flags=re.MULTILINE)


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
