"""How the shipped question set was split into dev and test (run once, before any tuning).

``python -m bot.evaluation.split OUT_DIR LEGACY.jsonl NEW.jsonl...``

* The questions written independently for this set (``NEW``) are split by fact
  group, so the paraphrases of one fact land on the same side: within each
  (file, kind) stratum the groups are ordered by the sha256 of their id and
  dealt alternately to dev and test.
* The older question set (``LEGACY``), which earlier settings were calibrated
  on, goes to dev only: it can never be a held-out measure.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

_LEGACY_KINDS = {"fact": "factoid", "spun": "factoid", "summary": "why", "in_passing": "near_miss"}


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def split(legacy: Path, new: list[Path]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dev: list[dict[str, Any]] = []
    test: list[dict[str, Any]] = []
    for row in _read(legacy):
        row = dict(row)
        row["id"] = f"legacy-{row['id']}"
        row["group"] = row["id"]
        row["kind"] = _LEGACY_KINDS.get(row.get("kind", ""), row.get("kind", ""))
        dev.append(row)
    for path in new:
        rows = _read(path)
        groups: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(row["group"], []).append(row)
        strata: dict[str, list[str]] = {}
        for group, members in groups.items():
            strata.setdefault(members[0]["kind"], []).append(group)
        for _kind, names in sorted(strata.items()):
            ordered = sorted(names, key=lambda g: hashlib.sha256(g.encode()).hexdigest())
            for i, group in enumerate(ordered):
                (dev if i % 2 == 0 else test).extend(groups[group])
    return dev, test


def _write(rows: list[dict[str, Any]], path: Path) -> None:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )


def main(argv: list[str]) -> None:
    out, legacy, *new = (Path(a) for a in argv)
    dev, test = split(legacy, new)
    _write(dev, out / "qa_dev.jsonl")
    _write(test, out / "qa_test.jsonl")
    digest = hashlib.sha256((out / "qa_test.jsonl").read_bytes()).hexdigest()
    sys.stdout.write(f"dev {len(dev)}, test {len(test)}; test sha256 {digest}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
