"""The ``kb`` command: ingest articles, ask questions, run the Discord bot, evaluate.

Only this module (and the Discord layer) turns errors into output: a known
error prints its message and exits 1; anything unexpected prints a short
apology (the traceback with ``--verbose``) and exits 2.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Annotated, Any, TypeVar

import click
import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot.process import set_up_process
from bot.results import Answer, Citation
from bot.settings import Settings, load_settings
from ingest.errors import KnowledgeBaseError
from ingest.report import IngestReport
from ingest.site import DEFAULT_DEPTH, DEFAULT_MAX_PAGES, CrawlOptions

app = typer.Typer(
    name="kb",
    help="Ask questions about your articles and get answers with cited passages.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: flags read as flags, not "--json <bool>"
)
eval_app = typer.Typer(
    help="Measure answer and retrieval quality.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(eval_app, name="eval")

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)
T = TypeVar("T")

_state: dict[str, Any] = {"home": None, "verbose": False}

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home", help="Knowledge-base folder (default: KB_HOME or ./.kb).", show_default=False
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of formatted text.")]
SourceOption = Annotated[
    str | None,
    typer.Option("--source", "-s", help="Only use this article (source id, path, URL or title)."),
]


def _print_version(value: bool) -> None:
    if value:
        from bot import __version__

        console.print(f"kb-bot {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    home: HomeOption = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log progress and errors in detail.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Show the version and exit.", is_eager=True, callback=_print_version
        ),
    ] = False,
) -> None:
    _state["home"] = home
    _state["verbose"] = verbose


def settings() -> Settings:
    """The settings for this invocation (``--home`` wins over ``KB_HOME``).

    A bad setting is a user error: its name, value and what is expected, exit 1.
    """
    base = _run(load_settings)
    set_up_process("INFO" if _state["verbose"] else base.log_level)
    if _state["home"] is not None:
        base = base.model_copy(update={"home": _state["home"]})
    return base


def knowledge_base(set_up: bool = True) -> Any:
    """The knowledge base; a never-used one gets its bundled articles now, with progress."""
    from bot.knowledge_base import KnowledgeBase

    kb = KnowledgeBase(settings=settings())
    context = click.get_current_context(silent=True)
    if context is not None:  # released when the command ends (several can run in one process)
        context.call_on_close(kb.close)
    if set_up:
        _run(lambda: _set_up(kb))
    return kb


def _set_up(kb: Any) -> None:
    corpus = kb.setup_needed()
    if corpus is None:
        return
    from ingest.load import expand

    count = len(expand([corpus]).pending)
    from bot.knowledge_base import bundled_corpus

    what = "bundled articles" if corpus == bundled_corpus() else f"articles from {corpus}"
    errors.print(f"Setting up the knowledge base: {count} {what}…")
    with _progress_bar() as progress:
        report = kb.setup(progress)
    if report is not None:
        errors.print(f"Ready: {report.summary()} in {report.seconds:.1f} s.")


@contextmanager
def _progress_bar(disable: bool = False) -> Iterator[Callable[[int, int, str], None]]:
    """A progress bar over chunks embedded (indeterminate while sources are being read)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("chunks"),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
        disable=disable,
    ) as bar:
        task = bar.add_task("Reading", total=None)

        def progress(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total or None, description=escape(what))

        yield progress


@contextmanager
def _user_errors() -> Iterator[None]:
    try:
        yield
    except KnowledgeBaseError as exc:
        errors.print(f"[red]Error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        errors.print("Interrupted.")
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        logging.getLogger("bot.cli").debug("unexpected error", exc_info=True)
        errors.print(
            f"[red]Sorry, something went wrong:[/red] {escape(type(exc).__name__)}: {escape(str(exc))}"
        )
        if _state["verbose"]:
            errors.print_exception()
        else:
            errors.print("Run again with --verbose for details.")
        raise typer.Exit(2) from exc


def _run(action: Callable[[], T]) -> T:
    with _user_errors():
        return action()


# --- ingest / sources / forget ------------------------------------------------------


@app.command()
def ingest(
    inputs: Annotated[
        list[str],
        typer.Argument(help="Files, folders (recursive), http(s) URLs or sitemap URLs (.xml)."),
    ],
    crawl: Annotated[
        bool, typer.Option("--crawl", help="Follow same-site links from each URL.")
    ] = False,
    max_pages: Annotated[
        int, typer.Option("--max-pages", min=1, help="With --crawl: most pages per URL.")
    ] = DEFAULT_MAX_PAGES,
    depth: Annotated[
        int, typer.Option("--depth", min=0, help="With --crawl: most links followed from a URL.")
    ] = DEFAULT_DEPTH,
    as_json: JsonOption = False,
) -> None:
    """Add or update articles. Unchanged ones are skipped; failures are reported, not fatal.

    Exits 0 when every source of this run was added, updated or unchanged (or
    failed the same way before, on the same content), 1 when one newly failed.
    """
    options = CrawlOptions(max_pages=max_pages, depth=depth) if crawl else None
    kb = _run(lambda: knowledge_base(set_up=False))
    with _progress_bar(disable=as_json) as progress:
        report: IngestReport = _run(lambda: kb.ingest(inputs, progress=progress, crawl=options))
    _finish_ingest(report, as_json, kb)


@app.command()
def sync(as_json: JsonOption = False) -> None:
    """Re-fetch the ingested web pages (conditional requests) and update the changed ones."""
    kb = _run(lambda: knowledge_base(set_up=False))
    with _progress_bar(disable=as_json) as progress:
        report: IngestReport = _run(lambda: kb.sync(progress=progress))
    _finish_ingest(report, as_json, kb)


def _finish_ingest(report: IngestReport, as_json: bool, kb: Any) -> None:
    if as_json:
        console.print_json(data=_report_json(report))
    else:
        _print_report(report, kb)
    if report.new_failures:
        raise typer.Exit(1)


def _short(source: str, width: int = 40) -> str:
    name = source.rsplit("/", 1)[-1] or source
    return escape(name if len(name) <= width else name[: width - 1] + "…")


def _report_json(report: IngestReport) -> dict[str, Any]:
    return {
        "summary": report.counts(),
        "embedded": report.embedded,
        "seconds": round(report.seconds, 3),
        "sources": [
            {
                "source": s.source,
                "status": s.status,
                "title": s.title,
                "chunks": s.chunks,
                "embedded": s.embedded,
                "reason": s.reason,
                "repeated": s.repeated,
                "warnings": list(s.warnings),
            }
            for s in report.sources
        ],
    }


_STATUS_STYLE = {
    "added": "green",
    "updated": "cyan",
    "unchanged": "dim",
    "removed": "yellow",
    "failed": "red",
}


def _print_report(report: IngestReport, kb: Any) -> None:
    table = Table(title="Ingest", title_justify="left")
    table.add_column("Status")
    table.add_column("Source", overflow="fold")
    table.add_column("Chunks", justify="right")
    table.add_column("Embedded", justify="right")
    table.add_column("Details", overflow="fold")
    for s in report.sources:
        style = _STATUS_STYLE[s.status]
        shown = kb.display_source(s.source)
        details = s.reason + (
            " (as in an earlier run; the source has not changed)" if s.repeated else ""
        )
        details = "\n".join(filter(None, [details, *(f"warning: {w}" for w in s.warnings)]))
        table.add_row(
            f"[{style}]{s.status}[/{style}]",
            escape(s.title or shown) + ("" if not s.title else f"\n[dim]{escape(shown)}[/dim]"),
            str(s.chunks) if s.status != "failed" else "",
            str(s.embedded) if s.status != "failed" else "",
            escape(details),
        )
    console.print(table)
    console.print(f"{report.summary()} in {report.seconds:.1f} s")


@app.command()
def sources(as_json: JsonOption = False) -> None:
    """List the articles in the knowledge base."""
    records = _run(lambda: knowledge_base().sources())
    if as_json:
        console.print_json(data=[r.__dict__ for r in records])
        return
    if not records:
        console.print(
            "The knowledge base is empty. Add articles with [bold]kb ingest PATH_OR_URL[/bold]."
        )
        return
    table = Table(title=f"{len(records)} articles", title_justify="left")
    table.add_column("Title", overflow="fold")
    table.add_column("Source", overflow="fold")
    table.add_column("Chunks", justify="right")
    table.add_column("Ingested at")
    for r in records:
        table.add_row(escape(r.title), escape(shown(r.source_id)), str(r.chunks), r.ingested_at)
    console.print(table)


@app.command()
def forget(
    source: Annotated[str, typer.Argument(help="Source id, path, URL or exact title.")],
) -> None:
    """Remove an article and all its passages from the knowledge base."""
    report = _run(lambda: knowledge_base(set_up=False).forget(source))
    console.print(f"Removed {escape(report.title or report.source)} ({report.chunks} passages).")


# --- ask / search / chat --------------------------------------------------------------


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question (quote it).")],
    source: SourceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Answer a question with cited passages (streamed as it is written when an LLM answers)."""
    if as_json:  # one JSON document: nothing is printed before the answer is final
        answer = _run(lambda: knowledge_base().ask(question, source=source))
        sys.stdout.write(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2) + "\n")
        return
    print_answer(_run(lambda: show_stream(knowledge_base().stream(question, source=source))))


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("-k", "--k", min=1, max=100, help="How many passages.")] = 5,
    source: SourceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the passages that best match a query."""
    results = _run(lambda: knowledge_base().search(query, k, source=source))
    if as_json:
        sys.stdout.write(
            json.dumps([c.to_dict() for c in results], ensure_ascii=False, indent=2) + "\n"
        )
        return
    if not results:
        console.print("No passages found: the knowledge base is empty.")
    for citation in results:
        console.print(_citation_panel(citation))


CHAT_COMMANDS = {
    "/new": "start a new conversation (follow-ups no longer refer to earlier questions)",
    "/sources": "list the articles",
    "/help": "show these commands",
    "/quit": "leave (Ctrl-D works too)",
}


@app.command()
def chat() -> None:
    """Ask one question after another; follow-ups like "Who made it?" refer to earlier ones."""
    from rich.prompt import Prompt

    kb = _run(knowledge_base)
    conversation = kb.conversation()
    console.print(
        "Ask about your articles; follow-up questions are understood. /help lists commands."
    )
    while True:
        try:
            question = Prompt.ask("[bold cyan]?[/bold cyan]", console=console).strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if not question:
            continue
        if question.startswith("/"):
            command = question.split()[0].lower()
            if command in ("/quit", "/exit"):
                return
            if command == "/new":
                conversation = kb.conversation()
                console.print("New conversation.")
            elif command == "/sources":
                for record in _run(kb.sources):
                    console.print(
                        f"• {escape(record.title)} [dim]({escape(shown(record.source_id))})[/dim]"
                    )
            elif command == "/help":
                _print_chat_help()
            else:
                console.print(f"Unknown command {escape(command)}.")
                _print_chat_help()
            continue
        try:
            with _user_errors():
                print_answer(show_stream(conversation.stream(question)))
        except typer.Exit:
            continue  # the error was printed; keep chatting


def _print_chat_help() -> None:
    console.print("Type a question, or one of these commands:")
    for command, meaning in CHAT_COMMANDS.items():
        console.print(f"  [bold]{command}[/bold]  {meaning}")


def show_stream(items: Iterable[str | Answer]) -> Answer:
    """Show the text as it arrives (a live panel, replaced when done); return the final answer.

    With an LLM the streamed text is provisional: the final answer keeps only the
    sentences its passages support, and is printed in full by :func:`print_answer`.
    """
    from rich.live import Live

    final: Answer | None = None
    written = ""
    with Live(console=console, transient=True, refresh_per_second=8) as live:
        for item in items:
            if isinstance(item, Answer):
                final = item
                continue
            written += item
            live.update(
                Panel(
                    Text(written),
                    title="Answer (writing…)",
                    title_align="left",
                    border_style="dim",
                )
            )
    if final is None:
        raise RuntimeError("the answer stream ended without an answer")
    return final


def print_answer(answer: Answer) -> None:
    """Render an answer: text with highlighted markers, then the numbered sources."""
    if answer.standalone_question != answer.question:
        console.print(f"[dim]Searched for: {escape(answer.standalone_question)}[/dim]")
    text = Text(answer.lead)
    text.highlight_regex(r"\[\d+\]", "bold cyan")
    console.print(
        Panel(
            text,
            title="Answer" if answer.answered else "Not found",
            title_align="left",
            border_style="green" if answer.answered else "yellow",
        )
    )
    if answer.notice:
        console.print(f"[dim]{escape(answer.notice)}[/dim]")
    if answer.dropped:
        sentences = "sentence" if answer.dropped == 1 else "sentences"
        console.print(
            f"[dim]{answer.dropped} {sentences} the cited passages do not support left out.[/dim]"
        )
    for citation in answer.citations:
        console.print(_citation_panel(citation))
    if not answer.answered and answer.closest:
        console.print("Closest articles:")
        for s in answer.closest:
            console.print(f"  • {escape(s.title)} [dim]({escape(s.url or shown(s.source))})[/dim]")


def shown(source: str) -> str:
    """A source as people read it: bundled articles by file name, not a site-packages path."""
    from bot.knowledge_base import display_source

    return display_source(source)


def _citation_panel(citation: Citation) -> Panel:
    body = Text(citation.text)
    for quote in filter(None, citation.quote.split(" … ")):
        start = citation.text.find(quote)
        if start >= 0:
            body.stylize("bold yellow", start, start + len(quote))
    return Panel(
        body,
        title=escape(citation.heading()),
        title_align="left",
        subtitle=escape(citation.url or shown(citation.source)),
        subtitle_align="left",
        border_style="cyan",
    )


# --- Discord, feedback ------------------------------------------------------------------


@app.command()
def discord() -> None:
    """Run the Discord bot (token from DISCORD_TOKEN or KB_DISCORD_TOKEN)."""
    from bot.discord_bot.runner import run

    _run(lambda: run(settings()))


@app.command()
def feedback(
    as_json: JsonOption = False,
    limit: Annotated[int, typer.Option(help="Most recent entries to show.")] = 50,
) -> None:
    """List the 👍 / 👎 feedback given in Discord."""
    from bot.feedback import FeedbackStore

    entries = _run(lambda: FeedbackStore(settings().feedback_path).recent(limit))
    if as_json:
        console.print_json(data=[e.__dict__ for e in entries])
        return
    if not entries:
        console.print("No feedback yet.")
        return
    table = Table(title="Feedback", title_justify="left")
    for column in ("When", "Vote", "User", "Question", "Answer"):
        table.add_column(column, overflow="fold")
    for e in entries:
        table.add_row(
            e.created_at,
            "👍" if e.helpful else "👎",
            str(e.user_id),
            escape(e.question),
            escape(e.answer[:200]),
        )
    console.print(table)


# --- evaluation -------------------------------------------------------------------------


@eval_app.command("qa")
def eval_qa(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="A question set (JSONL) to ask your knowledge base; "
            "default: the shipped dev and test splits on their own evaluation knowledge base."
        ),
    ] = None,
    split: Annotated[
        str,
        typer.Option(
            help="Shipped split(s) to report: dev, test, holdout, both (dev and test) or all."
        ),
    ] = "both",
    as_json: JsonOption = False,
    failures: Annotated[
        bool, typer.Option("--failures/--no-failures", help="List the questions not handled right.")
    ] = True,
    cross_fitted: Annotated[
        bool,
        typer.Option(
            "--cross-fitted",
            help="Also answer the dev split with models fitted without each question's fold "
            "(an honest dev figure: the shipped model was fitted on dev; about a minute).",
        ),
    ] = False,
    draws: Annotated[
        int,
        typer.Option(
            min=1,
            max=10,
            help="With --cross-fitted: draw the folds this many times and report the mean "
            "(one draw moves by a question or two from refitting alone).",
        ),
    ] = 1,
) -> None:
    """Answer quality: evidence cited, fact stated, abstentions, follow-ups (per split)."""
    from bot.evaluation.fit import cross_fitted as answer_cross_fitted
    from bot.evaluation.qa import (
        LIBRARIES,
        LIBRARY_PART,
        SPLITS,
        EvaluationLibraries,
        evaluate_qa,
        load_questions,
        print_qa,
        question_set,
        with_libraries,
    )

    if file is not None:
        kb = _run(knowledge_base)
        run_file = partial(evaluate_qa, lambda _: kb, file, errors)
        results = {file.name: _run(run_file)}
    else:
        choices = {**{name: (name,) for name in SPLITS}, "both": ("dev", "test"), "all": SPLITS}
        if split not in choices:
            errors.print(
                f"[red]Error:[/red] --split must be one of {', '.join(choices)}, not {split!r}."
            )
            raise typer.Exit(1)
        names = choices[split]
        errors.print("Building the evaluation knowledge bases (first run only)…")
        kbs = EvaluationLibraries(settings())
        asked = {q.library for name in names for q in load_questions(question_set(name))}
        for library in LIBRARIES:
            if library in asked:
                _run(partial(kbs, library))
        results = {}
        for name in names:
            results[name] = _run(partial(evaluate_qa, kbs, question_set(name), errors))
            if name == "dev" and cross_fitted:
                dev = question_set("dev")
                label = "dev, cross-fitted" + (f" (mean of {draws} draws)" if draws > 1 else "")
                run = partial(answer_cross_fitted, kbs, dev, errors, draws)
                results[label] = _run(run)
    results = with_libraries(results)
    if as_json:
        # the failures are listed once, with the whole split
        data = {n: r.to_dict(failures and LIBRARY_PART not in n) for n, r in results.items()}
        console.print_json(data=data)
    else:
        print_qa(results, console, failures=failures)


@eval_app.command("fit")
def eval_fit(
    out: Annotated[
        Path | None,
        typer.Option(help="Where to write the model (default: the shipped bot/answer_model.json)."),
    ] = None,
) -> None:
    """Fit the extractive answerer's models on the dev split (never the test split)."""
    from bot.evaluation.fit import fit
    from bot.evaluation.qa import EvaluationLibraries, question_set
    from bot.linear import default_model_path

    kbs = EvaluationLibraries(settings())
    model = _run(lambda: fit(kbs, question_set("dev"), progress=errors))
    target = out or default_model_path()
    model.save(target)
    console.print(
        f"Wrote {target}: threshold {model.threshold:.2f}, keep {model.keep:.2f} "
        f"(fitted on {model.provenance.get('questions')} dev questions)."
    )


@eval_app.command("beir")
def eval_beir(
    folder: Annotated[
        Path,
        typer.Argument(help="A BEIR dataset folder (corpus.jsonl, queries.jsonl, qrels/test.tsv)."),
    ],
    as_json: JsonOption = False,
    work: Annotated[
        Path | None,
        typer.Option(help="Where to build the evaluation store (default: KB_HOME/eval/NAME)."),
    ] = None,
) -> None:
    """Retrieval quality (nDCG@10, Recall@100) for dense, BM25 and hybrid search."""
    from bot.evaluation.beir import evaluate_beir, print_beir

    base = settings()
    result = _run(lambda: evaluate_beir(folder, base, work_dir=work, progress_console=errors))
    if as_json:
        console.print_json(data=result.to_dict())
    else:
        print_beir(result, console)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
