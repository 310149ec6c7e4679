"""What each ``livc`` command does, given its parsed arguments and the settings (``cli`` holds
the parser and the one place that turns a failure into a line on stderr)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..core.errors import BenchError, StoreError
from ..core.messages import (
    ASK_FAQ_LABEL,
    ASK_NOTICE,
    ASK_SOURCES,
    ASK_SUGGESTIONS,
    ASK_VERSION,
    GENERATED_LABEL,
    LOW_CONFIDENCE_LABEL,
)
from ..core.settings import Settings

EXIT_ERROR = 1
DEFAULT_GOLD = Path("eval/gold-dev.jsonl")
FOLLOWUP_GOLD = Path("eval/followup-dev.jsonl")


def cmd_index(args, settings: Settings) -> int:
    from ..core.embeddings import make_embedder
    from ..core.index import build_index, watch_index

    embedder = make_embedder(settings)
    if args.watch:
        return _watch(args, settings, embedder, watch_index)
    report = build_index(settings, embedder, progress=not args.quiet, force=args.force)
    print(summary(report))
    return 0


def summary(report) -> str:
    """What a build did, in a few lines: documents, pages, passages, time, and every
    skipped file with its reason."""
    m = report.manifest
    pages = sum(d.get("pages", 0) for d in m.documents)
    size = f"{len(m.documents)} documents" + (f" ({pages} pages)" if pages else "") + f", {m.passages} passages"
    if report.changed:
        lines = [
            f"Index built in {report.seconds:.1f} s: {size}.",
            f"  read {len(report.parsed)} new or changed document(s) ({report.pages} pages), "
            f"kept {len(report.kept)} unchanged, removed {len(report.removed)}; "
            f"{report.embedded} texts embedded, {report.reused} from cache.",
        ]
    else:
        lines = [f"Index is up to date: {size}."]
    lines += [f"skipped {name}: {reason}" for name, reason in report.skipped]
    return "\n".join(lines)


def _watch(args, settings: Settings, embedder, watch_index) -> int:
    """livc index --watch: a build now, then one whenever the corpus changes, until Ctrl+C."""
    import signal
    import threading
    import time

    # A process started with SIGINT ignored (a background job of a script or a CI runner:
    # shells without job control do that) keeps it ignored, Python installs no handler and
    # Ctrl+C or `kill -INT` did nothing, only SIGTERM stopped the watcher. We promise Ctrl+C.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    print(f"Watching {settings.corpus_dir} every {args.interval:g} s; Ctrl+C stops.", flush=True)
    seen = {"first": True}

    def report(outcome) -> None:
        stamp = time.strftime("%H:%M:%S")
        if isinstance(outcome, StoreError):
            print(f"{stamp} livc: error: {outcome}", file=sys.stderr, flush=True)
        elif outcome.changed or seen["first"]:
            print(f"{stamp} {summary(outcome)}", flush=True)
        seen["first"] = False

    stop = threading.Event()
    try:
        watch_index(settings, embedder, interval=args.interval, progress=not args.quiet, report=report, stop=stop)
    except KeyboardInterrupt:
        stop.set()
        print("Stopped watching.", flush=True)
    return 0


def cmd_documents(args, settings: Settings) -> int:
    from ..core.index import document_status

    status = document_status(settings)
    if status is None:
        raise StoreError(f"no index in {settings.index_dir}: run 'livc index' first")
    if args.json:
        print(json.dumps(status, ensure_ascii=False, indent=2))
        return 0
    print(
        f"Index {status['generation']} built {status['built_at']}: {len(status['documents'])} documents, "
        f"{status['passages']} passages."
    )
    for d in status["documents"]:
        pages = f", {d['pages']} pages" if d.get("pages") else ""
        note = f"  [{d['state']}]" if d["state"] != "indexed" else ""
        print(
            f"- {d['name']}{note}\n    {d['title']}\n    {d['format']}{pages}, {d['passages']} passages; "
            f"version {d.get('date') or '?'}, sha256 {d['sha256'][:12]}"
        )
    for d in status["not_indexed"]:
        print(f"- {d['name']}  [{d['state']}]" + (f": {d['reason']}" if d.get("reason") else ""))
    return 0


def cmd_ask(args, settings: Settings) -> int:
    from ..core.assistant import Assistant, clean_question

    question = clean_question(" ".join(args.question))  # fail fast, before loading anything
    answer = Assistant.open(settings).ask(question)
    if args.json:  # the API's body (POST /api/v1/ask); the URLs are the app's paths
        from ..web.schemas import answer_json

        print(json.dumps(answer_json(answer, settings), ensure_ascii=False, indent=2))
    else:
        print(format_answer(answer))
    return 0


def format_answer(answer) -> str:
    """The answer and its numbered sources as plain text for a terminal."""
    from ..core.documents import display_date

    lines = [ASK_NOTICE.format(notice=answer.notice), ""] if answer.notice else []
    if answer.language_note:  # an English or French question: the guide is Dutch
        lines += [answer.language_note, ""]
    if not answer.abstained and answer.confidence == "low":  # as the chat and the API say it
        lines += [LOW_CONFIDENCE_LABEL, ""]
    if answer.mode == "generative":  # written by the model: said so, above it
        lines += [GENERATED_LABEL, ""]
    lines += [answer.text, ""]
    if answer.abstained:
        lines.append(ASK_SUGGESTIONS)
        cited = answer.suggestions
    else:
        lines.append(ASK_SOURCES)
        cited = answer.citations
    for c in cited:
        p = c.passage
        pages = (f", p. {p.page}" + (f"–{p.page_end}" if p.page_end and p.page_end != p.page else "")) if p.page else ""
        where = " › ".join(p.section_path) + pages
        # The title names the document; a Q&A entry says so (it answers a question as asked).
        label = ASK_FAQ_LABEL if p.kind == "faq" else ""
        lines.append(f"[{c.n}] {p.title}{label} — {where}")
        lines.append(f"    “{c.quote}”")
        if p.doc_date or p.doc_sha256:
            version = ASK_VERSION.format(date=display_date(p.doc_date) or "?", sha=p.doc_sha256[:12] or "?")
            lines.append(f"    {version}")
    return "\n".join(lines)


def cmd_eval(args, settings: Settings) -> int:
    from ..core.assistant import Assistant
    from .evaluation import run_eval, summary_lines

    if args.followup:
        return _eval_followup(args, settings)
    if args.verifier:
        return _eval_verifier(args, settings)
    gold = args.gold or [DEFAULT_GOLD]
    result = run_eval(
        Assistant.open(settings),
        gold,
        report_dir=args.report,
        json_path=args.json_path,
        with_baseline=not args.no_baseline,
    )
    print("\n".join(summary_lines(result)))
    generation = result.get("generation") or result.get("pooled", {}).get("generation")
    if generation:  # with a model configured (llm_url)
        print(f"generation: {json.dumps(generation, ensure_ascii=False)}")
    print(f"report: {args.report / 'report.md'}")
    return 0


def _eval_followup(args, settings: Settings) -> int:
    """livc eval --followup: the follow-up measurement of `assistant.core.followup`."""
    from ..core.assistant import Assistant
    from .followup_eval import format_followup, run_followup_eval

    result = run_followup_eval(
        Assistant.open(settings), args.followup, report_dir=args.report, json_path=args.json_path
    )
    print(format_followup(result))
    print(f"report: {args.report / 'followup.md'}")
    return 0


def _eval_verifier(args, settings: Settings) -> int:
    """livc eval --verifier: the sentence check of generated answers (`assistant.core.generation.verify`)."""
    from ..core.assistant import Assistant
    from .evaluation.verifier import format_verifier, run_verifier_eval

    out = run_verifier_eval(Assistant.open(settings), report_dir=args.report, json_path=args.json_path)
    print(format_verifier(out))
    print(f"report: {args.report / 'verifier.json'}")
    return 0


def cmd_privacy_eval(args, settings: Settings) -> int:
    from .privacy_eval import evaluate, format_report

    result = evaluate(args.cases, args.gold, settings.corpus_dir)
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else format_report(result))
    return 0


def cmd_feedback(args, settings: Settings) -> int:
    from ..web.feedback import FeedbackStore, feedback_path

    store = FeedbackStore(feedback_path(settings))
    if args.csv_path:
        if str(args.csv_path) == "-":
            store.export_csv(sys.stdout)
        else:
            with open(args.csv_path, "w", encoding="utf-8", newline="") as out:
                n = store.export_csv(out)
            print(f"{n} feedback records written to {args.csv_path}")
        return 0
    records = store.list(limit=args.limit)
    if not records:
        print(f"No feedback yet ({store.path}).")
        return 0
    for f in records:
        thumb = "up  " if f.rating > 0 else "down"
        print(f"#{f.id} {f.created_at} {thumb} {f.reason or '-'} [{f.mode}{', abstained' if f.abstained else ''}]")
        if f.question:
            print(f"    question: {f.question}")
        if f.note:
            print(f"    note:     {f.note}")
        print(f"    answer:   {' '.join(f.answer.split())[:160]}")
        for c in f.citations:
            print(f"    [{c['n']}] {c['doc']} — {c['section']}")
    print(f"({len(records)} newest of {store.path}; --csv FILE exports all)")
    return 0


def cmd_bench(args, settings: Settings) -> int:
    from .bench import BenchConfig, format_table, run_bench

    config = BenchConfig.make(
        args.quick,
        out_dir=args.out,
        gold=args.gold,
        scales=args.scales,
        questions=args.questions,
        config_file=args.config,
    )
    try:
        result = run_bench(
            config, settings, log=lambda message: print(f"bench: {message}", file=sys.stderr, flush=True)
        )
    except BenchError as exc:
        print(f"livc: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(format_table(result))
    print(f"\nwritten: {result['files']['json']}, {result['files']['latest']}, {result['files']['plot']}")
    return 0


def cmd_bench_ingest(args, settings: Settings) -> int:
    from .ingest_bench import command

    return command(args, settings)


def cmd_bench_vectors(args, settings: Settings) -> int:
    from .vector_bench import command

    return command(args, settings)


def cmd_load_test(args, settings: Settings) -> int:
    from .load_test import command

    return command(args, settings)


def cmd_model(args, settings: Settings) -> int:
    from .model_serve import serve_model

    return serve_model(args)


def cmd_auth(args, settings: Settings) -> int:
    """livc auth token NAME | livc auth password USER (the password from the terminal, or a line of stdin)."""
    import getpass

    from ..web.auth import hash_password, hash_token, new_token

    if args.auth_command == "token":
        value = new_token()
        print(f"token (give to the program; shown once): {value}")
        print(f'api_tokens entry (livc.toml or LIVC_API_TOKENS): "{args.name}:{hash_token(value)}"')
        return 0
    secret = getpass.getpass(f"password for {args.user}: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if not secret:
        print("livc: error: empty password", file=sys.stderr)
        return EXIT_ERROR
    print(f"{args.user}:{hash_password(secret)}")
    return 0


def cmd_serve(args, settings: Settings) -> int:
    from .serve import serve

    return serve(settings, prog="livc")


def cmd_config(args, settings: Settings) -> int:
    width = max(len(k) for k in settings.as_dict())
    for key, value in settings.as_dict().items():
        print(f"{key:<{width}}  {value!s:<40}  ({settings.sources[key]})")
    return 0
