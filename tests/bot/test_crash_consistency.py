"""A real ingest process killed at every write step: the next open repairs, no re-ingest.

The knowledge base starts with three articles (Alpha, Beta, Delta). The killed
process ingests the same folder after Alpha was rewritten, Gamma added and
Delta deleted, so one write batch updates and adds sources and the folder sync
then removes one. After each kill the test opens the knowledge base and checks
that every source is at its old or its new version (record, chunks and
sentence vectors alike), that nothing is orphaned, that the lexical index
agrees with the store, and that an exact-phrase search finds the right article.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot import KnowledgeBase
from bot.lexical import version_key
from ingest.faults import STEPS
from ingest.store import ChromaStore, chunk_digest
from tests.conftest import REPO, make_settings, open_store

FILLER = (
    "The parish records list the tolls, the floods and the repairs of each decade in "
    "patient detail, with the names of the masons and the price of lime. "
) * 6

ALPHA_OLD = "The Pellinore bridge spans the river Ascot with nine granite arches."
ALPHA_NEW = "The Pellinore bridge was widened in 1912 by the engineer Quastley Marrowfield."
BETA = "The Tollymore ferry crossed the estuary twice a day until the causeway opened."
DELTA = "The Brackenfold viaduct carried the mineral railway over the Vennick gorge."
GAMMA = "The Ossington aqueduct feeds the Wrenhaven canal from the Corrow reservoir."


def _article(title: str, lead: str) -> str:
    return f"# {title}\n\n{lead}\n\n{FILLER}\n\n## History\n\n{FILLER}\n\n## Today\n\n{FILLER}\n"


def _state(kb: KnowledgeBase) -> dict[str, Any]:
    """Per source: (content hash, chunk ids) as the store holds them now."""
    with open_store(kb.settings) as store:
        return {
            sid: (record.content_hash, frozenset(store.chunk_ids(sid)))
            for sid, record in store.sources().items()
        }


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("crash")
    folder = root / "bridges"
    folder.mkdir()
    (folder / "alpha.md").write_text(_article("Alpha", ALPHA_OLD), "utf-8")
    (folder / "beta.md").write_text(_article("Beta", BETA), "utf-8")
    (folder / "delta.md").write_text(_article("Delta", DELTA), "utf-8")
    old = KnowledgeBase(settings=make_settings(root / "old", model_cache, auto_ingest=False))
    assert old.ingest([folder]).ok
    old_state = _state(old)
    old.close()

    shutil.copytree(root / "old", root / "new")
    (folder / "alpha.md").write_text(_article("Alpha", ALPHA_NEW), "utf-8")
    (folder / "gamma.md").write_text(_article("Gamma", GAMMA), "utf-8")
    (folder / "delta.md").unlink()
    new = KnowledgeBase(settings=make_settings(root / "new", model_cache, auto_ingest=False))
    summary = new.ingest([folder]).summary()
    assert "1 added" in summary and "1 updated" in summary and "1 removed" in summary, summary
    new_state = _state(new)
    new.close()
    assert len(old_state[str(folder / "alpha.md")][1] - new_state[str(folder / "alpha.md")][1])
    return {"root": root, "folder": folder, "old": old_state, "new": new_state}


def _kill_at(step: str, homes: dict[str, Any], work: Path) -> None:
    shutil.copytree(homes["root"] / "old", work)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "KB_TEST_KILL_AT": step,
        "OMP_WAIT_POLICY": "PASSIVE",
    }
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.bot.crash_writer",
            str(work),
            str(homes["root"] / "new"),
            str(homes["folder"]),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode == -signal.SIGKILL, (process.returncode, process.stderr)


@pytest.mark.parametrize("step", STEPS)
def test_a_write_killed_at_any_step_is_repaired_on_the_next_open(
    step: str, homes: dict[str, Any], tmp_path: Path, model_cache: Path
) -> None:
    work = tmp_path / "kb"
    _kill_at(step, homes, work)
    folder = homes["folder"]
    alpha, gamma = str(folder / "alpha.md"), str(folder / "gamma.md")

    kb = KnowledgeBase(settings=make_settings(work, model_cache, auto_ingest=False))
    try:
        # The first search takes over the store the dead writer left, repairs it and
        # brings the lexical index up to date; then the exact phrases are found.
        state = _state(kb)
        if state[alpha] == homes["new"][alpha]:
            assert kb.search(ALPHA_NEW, k=1)[0].source == alpha
        else:
            assert kb.search(ALPHA_OLD, k=1)[0].source == alpha
        assert kb.search(BETA, k=1)[0].source.endswith("beta.md")
        if gamma in state:
            assert kb.search(GAMMA, k=1)[0].source == gamma

        # Each source is at its old or its new version, record and chunks alike.
        for sid in {*homes["old"], *homes["new"]}:
            assert state.get(sid) in (homes["old"].get(sid), homes["new"].get(sid)), sid
        with open_store(kb.settings) as store:
            records = store.sources()
            chunks = list(store.all_chunks())
            assert {c.source_id for c in chunks} <= set(records)  # no chunk without its source
            for sid, record in records.items():
                ids = [c.id for c in chunks if c.source_id == sid]
                assert record.chunks == len(ids) > 0 and record.digest == chunk_digest(ids)
            vectors = store.sentence_vectors(chunks)
            assert set(vectors) == {c.id for c in chunks}  # no missing sentence vectors
            assert all(len(vectors[c.id]) == len(c.sentences) for c in chunks)
            sentences = sum(len(c.sentences) for c in chunks)
            assert store._sentences.count() == sentences + 1  # no orphans (+ the revision)
            assert store.recover() == 0  # nothing left pending

        # The lexical index holds exactly the store's chunks, at the recorded versions.
        snapshot = kb._lexical.snapshot
        assert dict(snapshot.sources) == {sid: version_key(r) for sid, r in records.items()}
        assert sorted(snapshot.live_ids()) == sorted(c.id for c in chunks)
    finally:
        kb.close()


def test_ingest_after_a_repair_completes_the_rest(
    homes: dict[str, Any], tmp_path: Path, model_cache: Path
) -> None:
    work = tmp_path / "kb"
    _kill_at("write-chunks", homes, work)
    kb = KnowledgeBase(settings=make_settings(work, model_cache, auto_ingest=False))
    try:
        assert kb.ingest([homes["folder"]]).ok
        assert _state(kb) == homes["new"]
        assert kb.search(ALPHA_NEW, k=1)[0].source == str(homes["folder"] / "alpha.md")
    finally:
        kb.close()


def test_a_server_mode_store_repairs_a_dead_writers_work_on_open(
    homes: dict[str, Any], tmp_path: Path
) -> None:
    """Without a lock (a Chroma server), markers left by dead processes are repaired on open."""
    work = tmp_path / "kb"
    _kill_at("write-stale", homes, work)
    settings = make_settings(work, tmp_path, auto_ingest=False)
    import chromadb

    client = chromadb.PersistentClient(path=str(settings.store_path))
    try:
        store = ChromaStore(client, settings.collection)  # as a server-mode store opens
        assert store.recover() == 0  # the dead writer's work was repaired on open
        state = {
            sid: (r.content_hash, frozenset(store.chunk_ids(sid)))
            for sid, r in store.sources().items()
        }
        alpha = str(homes["folder"] / "alpha.md")
        assert state[alpha] == homes["new"][alpha]  # its new chunks were all in place
    finally:
        client.close()
