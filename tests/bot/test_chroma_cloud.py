"""Chroma Cloud: its settings, and the Cloud client end to end against a local server.

Chroma Cloud itself is not reachable from the test machine; ``chromadb.CloudClient``
is pointed at a ``chroma run`` server on 127.0.0.1 instead (its ``cloud_host`` and
``cloud_port`` exist for this), with the local server's ``default_tenant`` and
``default_database``. That exercises our constructor, the API-key header and the
tenant/database handling of the Cloud client; not Cloud's own service.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot import KnowledgeBase
from bot.settings import Settings, load_settings
from ingest.errors import ConfigurationError, StoreError
from ingest.store import ChromaStore
from tests.conftest import GPT_J, make_settings

KEY = "ck-local-test-key-not-a-secret"
CLOUD = {
    "chroma_cloud_api_key": KEY,
    "chroma_tenant": "default_tenant",
    "chroma_database": "default_database",
}


def _settings(**values: object) -> Settings:
    return load_settings(_env_file=None, **values)


# --- settings (fast tier) ---------------------------------------------------------------


def test_cloud_is_off_unless_its_three_settings_are_set() -> None:
    assert not _settings().chroma_cloud
    settings = _settings(**CLOUD)
    assert settings.chroma_cloud
    assert settings.chroma_cloud_address == ("api.trychroma.com", 443, True)


@pytest.mark.parametrize("left_out", sorted(CLOUD))
def test_part_of_the_cloud_settings_is_a_plain_error_naming_what_is_missing(
    left_out: str,
) -> None:
    values = {k: v for k, v in CLOUD.items() if k != left_out}

    with pytest.raises(ConfigurationError) as raised:
        _settings(**values)

    message = str(raised.value)
    assert f"KB_{left_out.upper()} missing" in message
    assert "KB_CHROMA_CLOUD_API_KEY, KB_CHROMA_TENANT and KB_CHROMA_DATABASE" in message
    assert KEY not in message and "A setting" not in message


def test_a_chroma_server_and_chroma_cloud_together_are_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"both KB_CHROMA_HOST .* unset one of them"):
        _settings(chroma_host="chroma.internal", **CLOUD)


def test_the_cloud_address_takes_a_scheme_a_host_and_a_port() -> None:
    assert _settings(chroma_cloud_url="http://127.0.0.1:8123/").chroma_cloud_address == (
        "127.0.0.1",
        8123,
        False,
    )
    with pytest.raises(
        ConfigurationError, match=re.escape("KB_CHROMA_CLOUD_URL='api.trychroma.com'")
    ):
        _settings(chroma_cloud_url="api.trychroma.com")


# --- against a local chroma run (server tier) ---------------------------------------------


def _cloud_kb(home: Path, model_cache: Path, port: int, **overrides: object) -> KnowledgeBase:
    values = {**CLOUD, "chroma_cloud_url": f"http://127.0.0.1:{port}", **overrides}
    settings = make_settings(home, model_cache, auto_ingest=False, **values)
    return KnowledgeBase(settings=settings)


def test_a_knowledge_base_through_the_cloud_client_ingests_and_answers(
    tmp_path: Path, model_cache: Path, chroma_server: int, corpus_copy: Path
) -> None:
    kb = _cloud_kb(tmp_path / "kb", model_cache, chroma_server)

    report = kb.ingest([corpus_copy])
    assert len(report.added) == 3 and report.embedded > 0
    answer = kb.ask("Why did EleutherAI take GPT-J offline?")
    assert answer.answered and answer.citations[0].source.endswith(GPT_J)

    # The records are on the server, where a plain server client finds them too: the
    # Cloud constructor is the same adapter over another client, not another schema.
    other = ChromaStore.server("127.0.0.1", chroma_server, kb.settings.collection)
    try:
        assert {r.source_id for r in other.sources().values()} == {
            str(p.resolve()) for p in corpus_copy.glob("*.txt")
        }
    finally:
        other.close()

    # Another process's knowledge base on the same Cloud database sees the articles
    # and a re-ingest embeds nothing.
    again = _cloud_kb(tmp_path / "other-home", model_cache, chroma_server).ingest([corpus_copy])
    assert again.embedded == 0 and len(again.unchanged) == 3


def test_an_unknown_tenant_is_a_store_error_that_names_it_without_the_key(
    tmp_path: Path, model_cache: Path, chroma_server: int
) -> None:
    kb = _cloud_kb(tmp_path / "kb", model_cache, chroma_server, chroma_tenant="no-such-tenant")

    with pytest.raises(StoreError) as raised:
        kb.sources()

    message = str(raised.value)
    assert "Chroma Cloud" in message and "no-such-tenant" in message and KEY not in message
