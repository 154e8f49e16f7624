"""The kb command: through typer's CliRunner in this process, and once as a user runs it
(``test_ask_on_a_fresh_home_...``, in a process of its own, with its own environment)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot import KnowledgeBase
from tests.conftest import GPT_J, REPO
from tests.kb_cli import invoke_kb, run_kb


@pytest.fixture(scope="module")
def cli_home(corpus_kb: KnowledgeBase) -> Path:
    return corpus_kb.settings.home


def test_ask_json_matches_the_documented_schema(cli_home: Path, model_cache: Path) -> None:
    result = invoke_kb(
        ["ask", "Why did EleutherAI take GPT-J offline?", "--json"], cli_home, model_cache
    )

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"question", "answer", "answered", "citations"} <= set(data)
    assert data["answered"] is True and "[1]" in data["answer"]
    citation = data["citations"][0]
    assert {"n", "source", "title", "section", "text", "score"} <= set(citation)
    assert citation["n"] == 1 and citation["source"].endswith(GPT_J)
    assert isinstance(citation["score"], float) and "GPT-J" in citation["text"]


def test_ask_prints_the_answer_and_numbered_sources(cli_home: Path, model_cache: Path) -> None:
    result = invoke_kb(["ask", "How big is DeepMind's Gopher model?"], cli_home, model_cache)

    assert result.returncode == 0, result.stderr
    assert "280 billion" in result.stdout
    assert "[1] The Battle of Open Source" in result.stdout


def test_unanswerable_question_says_so(cli_home: Path, model_cache: Path) -> None:
    result = invoke_kb(["ask", "Who won the 2022 World Cup?", "--json"], cli_home, model_cache)

    data = json.loads(result.stdout)
    assert data["answered"] is False and data["citations"] == []
    assert data["closest"] and "The closest articles are" in data["answer"]  # the text, whole


def test_an_abstention_names_the_closest_articles_once(cli_home: Path, model_cache: Path) -> None:
    result = invoke_kb(["ask", "Who won the 2022 World Cup?"], cli_home, model_cache)

    assert result.returncode == 0, result.stderr
    assert "I could not find this in the knowledge base." in result.stdout
    assert "Closest articles:" in result.stdout
    assert "The closest articles are" not in result.stdout  # listed once, not twice


def test_ask_json_shows_what_was_searched_for(cli_home: Path, model_cache: Path) -> None:
    result = invoke_kb(["ask", "What is BLOOM?", "--json"], cli_home, model_cache)
    assert json.loads(result.stdout)["standalone_question"] == "What is BLOOM?"


def test_chat_keeps_one_conversation_until_new(cli_home: Path, model_cache: Path) -> None:
    session = "\n".join(
        ["What is BLOOM?", "Who made it?", "/help", "/new", "Who made it?", "/quit", "Never asked?"]
    )
    result = invoke_kb(["chat"], cli_home, model_cache, input=session + "\n")

    assert result.returncode == 0, result.stderr
    _intro, first, follow, help_text, new, fresh, end = result.stdout.split("?: ")
    bloom = "BLOOM: An open-source model focused on collaboration"
    assert bloom in first
    # The follow-up is resolved against the first question, and not re-answered with it.
    assert "Searched for: Who made BLOOM?" in follow and bloom not in follow
    # /help lists the commands instead of being asked; /new forgets the subject.
    assert all(c in help_text for c in ("/new", "/sources", "/quit", "Ctrl-D"))
    assert "New conversation." in new
    assert "Searched for" not in fresh
    assert end.strip() == ""  # /quit left before "Never asked?"


def test_chat_ends_at_end_of_input(cli_home: Path, model_cache: Path) -> None:
    result = invoke_kb(["chat"], cli_home, model_cache, input="/sources\n")
    assert result.returncode == 0, result.stderr
    assert "The Ultimate Debate" in result.stdout


def test_search_json_and_sources(cli_home: Path, model_cache: Path) -> None:
    result = invoke_kb(["search", "GPT-J hosting", "-k", "2", "--json"], cli_home, model_cache)
    assert [c["n"] for c in json.loads(result.stdout)] == [1, 2]

    listing = invoke_kb(["sources", "--json"], cli_home, model_cache)
    assert len(json.loads(listing.stdout)) == 3


def test_user_errors_print_a_message_and_exit_1(cli_home: Path, model_cache: Path) -> None:
    result = invoke_kb(["ask", "   "], cli_home, model_cache)
    assert result.returncode == 1
    assert "Please ask a question" in result.stderr
    assert "Traceback" not in result.stderr

    forget = invoke_kb(["forget", "no-such-article"], cli_home, model_cache)
    assert forget.returncode == 1 and "not in the knowledge base" in forget.stderr


def test_ingest_reports_each_source_and_fails_on_bad_input(
    tmp_path: Path, model_cache: Path
) -> None:
    good = tmp_path / "note.md"
    good.write_text(
        "# Tidal power\n\nTidal turbines turn the rise and fall of the sea into electricity.\n"
    )
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4 truncated")

    result = invoke_kb(["ingest", str(good), str(bad), "--json"], tmp_path / "home", model_cache)

    assert result.returncode == 1  # one source failed
    report = json.loads(result.stdout)
    statuses = {Path(s["source"]).name: s for s in report["sources"]}
    assert statuses["note.md"]["status"] == "added"
    assert (
        statuses["broken.pdf"]["status"] == "failed"
        and "corrupt" in statuses["broken.pdf"]["reason"]
    )


def test_importing_bot_and_kb_help_do_not_load_torch(tmp_path: Path) -> None:
    # A fresh interpreter: what this test session has imported does not count.
    probe = (
        "import sys, bot, bot.cli; from typer.testing import CliRunner; "
        "shown = CliRunner().invoke(bot.cli.app, ['--help']); "
        "assert shown.exit_code == 0 and 'ingest' in shown.stdout, shown.output; "
        "heavy = [m for m in ('torch', 'chromadb', 'sentence_transformers', 'discord', 'langchain_core') "
        "if m in sys.modules]; print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert result.stdout.strip() == "[]", result.stderr


def test_ingest_of_an_empty_path_is_an_error_not_the_current_folder(tmp_path: Path) -> None:
    home = tmp_path / "kb"
    result = invoke_kb(["ingest", ""], home, tmp_path / "models", KB_AUTO_INGEST="false")

    assert result.returncode != 0
    assert "The path or URL is empty." in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert not (home / "chroma").exists()  # nothing was ingested


# --- a first run that talks, and the small things a new user trips over (issue 12) -------


def test_version_and_help_show_flags_as_flags(tmp_path: Path) -> None:
    model_cache = tmp_path / "models"  # nothing here needs the model: the fast tier
    version = invoke_kb(["--version"], tmp_path / "kb", model_cache)
    assert version.returncode == 0 and version.stdout.startswith("kb-bot ")

    for command in (["--help"], ["ask", "--help"], ["ingest", "--help"], ["sync", "--help"]):
        shown = invoke_kb(command, tmp_path / "kb", model_cache)
        assert shown.returncode == 0, shown.stderr
        assert "<bool>" not in shown.stdout and "--json <" not in shown.stdout
    ingest_help = invoke_kb(["ingest", "--help"], tmp_path / "kb", model_cache).stdout
    assert "--crawl" in ingest_help and "--max-pages" in ingest_help and "--depth" in ingest_help


def test_a_bad_setting_names_the_variable_the_value_and_what_is_expected(tmp_path: Path) -> None:
    result = invoke_kb(
        ["ask", "What is BLOOM?"], tmp_path / "kb", tmp_path / "models", KB_ANSWER_SENTENCES="abc"
    )

    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert (
        "KB_ANSWER_SENTENCES='abc'" in message and "expected a whole number from 1 to 6" in message
    )
    assert "ValidationError" not in message and "Traceback" not in message


def test_ask_on_a_fresh_home_sets_up_with_progress_and_answers_in_the_same_command(
    tmp_path: Path, model_cache: Path
) -> None:
    # The one test of kb in a process of its own (console script environment, stdio,
    # exit code as the shell sees it); every other CLI test runs it in-process.
    result = run_kb(["ask", "How big is DeepMind's Gopher model?"], tmp_path / "fresh", model_cache)

    assert result.returncode == 0, result.stderr
    assert "Setting up the knowledge base: 3 bundled articles" in result.stderr
    assert "280 billion" in result.stdout
    # Bundled articles are cited by file name, never by an installation path.
    assert GPT_J in result.stdout and str(REPO / "corpus") not in result.stdout


def test_a_rerun_exits_0_when_only_an_old_failure_repeats_and_parser_warnings_go_in_the_report(
    tmp_path: Path, model_cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import re

    from tests.documents import text_pdf

    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 truncated")
    pdf = text_pdf(["The tidal turbine in the bay produces four megawatts at spring tide."])
    (folder / "tides.pdf").write_bytes(re.sub(rb"startxref\s+\d+", b"startxref\n99", pdf))
    home = tmp_path / "kb"

    first = invoke_kb(["ingest", str(folder), "--json"], home, model_cache, KB_AUTO_INGEST="false")
    assert first.returncode == 1  # a new failure
    report = {Path(s["source"]).name: s for s in json.loads(first.stdout)["sources"]}
    assert report["tides.pdf"]["status"] == "added"
    assert any("startxref" in w for w in report["tides.pdf"]["warnings"])
    # Not leaked by pypdf onto the terminal, nor into logging (which would print it there).
    assert "startxref" not in first.stderr and "startxref" not in caplog.text

    again = invoke_kb(["ingest", str(folder), "--json"], home, model_cache, KB_AUTO_INGEST="false")
    assert again.returncode == 0, again.stdout
    rerun = {Path(s["source"]).name: s for s in json.loads(again.stdout)["sources"]}
    assert rerun["broken.pdf"]["status"] == "failed" and rerun["broken.pdf"]["repeated"] is True
    assert rerun["tides.pdf"]["status"] == "unchanged"

    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 still truncated, differently")
    changed = invoke_kb(["ingest", str(folder)], home, model_cache, KB_AUTO_INGEST="false")
    assert changed.returncode == 1  # new content that fails is a new failure


def test_ingest_progress_counts_chunks(tmp_path: Path, model_cache: Path) -> None:
    from bot import KnowledgeBase
    from tests.conftest import make_settings

    kb = KnowledgeBase(settings=make_settings(tmp_path / "kb", model_cache, auto_ingest=False))
    seen: list[tuple[int, int, str]] = []
    report = kb.ingest([REPO / "corpus"], progress=lambda d, t, w: seen.append((d, t, w)))

    embedding = [(d, t) for d, t, _ in seen if t]
    assert embedding[-1] == (report.embedded, report.embedded) and report.embedded > 3
    assert len(embedding) > 3  # many steps while embedding, not one per file
    assert all(d <= t for d, t in embedding)
