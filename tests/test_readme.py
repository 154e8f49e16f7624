"""The README documents every setting, and the test command CI runs."""

from __future__ import annotations

import re

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
