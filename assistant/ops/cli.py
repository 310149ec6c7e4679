"""The ``livc`` command: index, documents, ask, eval, bench, bench-ingest, load-test, serve, auth, config,
feedback, privacy-eval. It mirrors the library one to one, and it is the one command of the project
(``python app.py`` is a shim for ``livc serve``).

Every command accepts ``--corpus DIR`` and ``--index DIR``. Errors print one line to
stderr and exit non-zero; no traceback reaches the user. This module is the command line's
surface (the parser and that one error line); what each command does is in ``commands``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..core.errors import LivcError
from ..core.settings import Settings
from .commands import (
    EXIT_ERROR,
    FOLLOWUP_GOLD,
    cmd_ask,
    cmd_auth,
    cmd_bench,
    cmd_bench_ingest,
    cmd_bench_vectors,
    cmd_config,
    cmd_documents,
    cmd_eval,
    cmd_feedback,
    cmd_index,
    cmd_load_test,
    cmd_model,
    cmd_privacy_eval,
    cmd_serve,
)

EXIT_USAGE = 2
EXIT_PIPE_CLOSED = 141  # as a shell reports a command ended by SIGPIPE (128 + 13)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        settings = settings_from_args(args)
        return args.run(args, settings) or 0
    except KeyboardInterrupt:
        print("livc: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader stopped reading (`livc ask ... | head -3`): what it read is what it
        # wanted, so no error line; stdout goes nowhere so exiting does not fail on it again.
        _discard_stdout()
        return EXIT_PIPE_CLOSED
    except Exception as exc:  # noqa: BLE001 - the one place that turns any failure into a clear line
        print(f"livc: error: {describe(exc)}", file=sys.stderr)
        return EXIT_ERROR


def _discard_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a file (a test's capture): nothing to flush
        pass
    finally:
        os.close(devnull)


def describe(exc: Exception) -> str:
    """A one-line message for an exception: ours (core.errors) carry their own; others get their type."""
    if isinstance(exc, LivcError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides = {
        "corpus_dir": getattr(args, "corpus", None),
        "index_dir": getattr(args, "index", None),
        "host": getattr(args, "host", None),
        "port": getattr(args, "port", None),
    }
    return Settings.load(overrides=overrides, config_file=getattr(args, "config", None))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="livc", description="LIVC-assistent: cited answers from the LIVC-R guide.")
    sub = parser.add_subparsers(dest="command")

    def command(name: str, help: str, run) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument(
            "--corpus", type=Path, help="folder with the source documents (default corpus/, env LIVC_CORPUS_DIR)"
        )
        p.add_argument("--index", type=Path, help="folder of the local index (default index/, env LIVC_INDEX_DIR)")
        p.add_argument("--config", type=Path, help="TOML settings file (default livc.toml, env LIVC_CONFIG)")
        p.set_defaults(run=run)
        return p

    p = command("index", "build or refresh the local index", cmd_index)
    p.add_argument(
        "--force", action="store_true", help="read every document again and rebuild even when nothing changed"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument(
        "--watch",
        action="store_true",
        help="keep running: rebuild whenever a file in the corpus folder is added, changed or removed "
        "(a running app serves the new index from its next question); Ctrl+C stops",
    )
    p.add_argument("--interval", type=float, default=5.0, help="with --watch: seconds between checks (default 5)")

    p = command("documents", "list the indexed documents: title, version (date, hash), pages, passages", cmd_documents)
    p.add_argument("--json", action="store_true", help="print the list as JSON")

    p = command("ask", "answer one question with cited sources", cmd_ask)
    p.add_argument("question", nargs="+", help="the question (quote it)")
    p.add_argument("--json", action="store_true", help="print the answer as JSON: the API's body of POST /api/v1/ask")

    p = command("eval", "score the assistant against gold question sets", cmd_eval)
    p.add_argument(
        "--gold",
        type=Path,
        nargs="+",
        action="extend",
        dest="gold",
        help="gold JSONL file(s), default eval/gold-dev.jsonl; several (--gold a b, or --gold a --gold b) "
        "are each scored on their own and pooled",
    )
    p.add_argument("--json", type=Path, dest="json_path", help="write the result JSON here too")
    p.add_argument(
        "--report", type=Path, default=Path("eval/reports/latest"), help="folder for report.md, report.json and plots"
    )
    p.add_argument("--no-baseline", action="store_true", help="skip the naive LlamaIndex baseline")
    p.add_argument(
        "--verifier",
        action="store_true",
        help="instead: precision and recall of the check of generated sentences on a verification set "
        "built from the corpus, and the thresholds calibrated on it; writes verifier.json into --report",
    )
    p.add_argument(
        "--followup",
        type=Path,
        nargs="?",
        const=FOLLOWUP_GOLD,
        metavar="FILE",
        help=f"instead: follow-up detection (precision, recall) and retrieval with and without the "
        f"history, on FILE (default {FOLLOWUP_GOLD}); writes followup.json and followup.md "
        "into --report",
    )

    command("config", "print the effective settings and where each came from", cmd_config)

    p = command(
        "serve", "serve the chat, the API, the embed page and the widget in the browser (as python app.py)", cmd_serve
    )
    from .serve import add_options

    add_options(p, folders=False)

    p = command("privacy-eval", "precision and recall of the personal-data guard", cmd_privacy_eval)
    p.add_argument(
        "--cases", type=Path, default=Path("eval/privacy-cases.jsonl"), help="invented case sentences (JSONL)"
    )
    p.add_argument(
        "--gold",
        type=Path,
        nargs="*",
        default=[Path("eval/gold-dev.jsonl"), Path("eval/gold-dev2.jsonl"), Path("eval/followup-dev.jsonl")],
        help="gold question files: no personal data, so every hit is a false positive",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")

    p = command(
        "bench",
        "measure index build, query latency, HTTP throughput and memory at 1x/10x/100x the corpus, "
        "beside the naive LlamaIndex baseline (all in a temporary folder; --index is never touched)",
        cmd_bench,
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a run of about a minute: a slice of the corpus, scales 1 and 10, a few questions",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("bench"),
        help="folder for bench-<time>.json, latest.json and bench.png (default bench/)",
    )
    p.add_argument("--scales", type=_scales, help="corpus scales, starting at 1 (default 1,10,100; --quick 1,10)")
    p.add_argument(
        "--gold", type=Path, default=Path("eval/gold-dev.jsonl"), help="questions: JSONL with a 'question' field"
    )
    p.add_argument("--questions", type=int, help="use only this many of the gold questions")

    p = command(
        "bench-ingest",
        "ingestion speed: pages/s and passages/s of reading and chunking per format, "
        "and with --embed a cold and a warm index build",
        cmd_bench_ingest,
    )
    from .ingest_bench import add_options as add_ingest_options

    add_ingest_options(p)

    p = command(
        "bench-vectors",
        "vector search in memory against Chroma at growing collection sizes: where memory_search_limit lies",
        cmd_bench_vectors,
    )
    from .vector_bench import add_options as add_vector_options

    add_vector_options(p)

    p = command(
        "load-test",
        "many clients at once against a running app (or one it starts with --start) for a "
        "while: failures, latency percentiles, requests/s, the server's memory",
        cmd_load_test,
    )
    from .load_test import add_options as add_load_options

    add_load_options(p)

    p = command("model", "a local language model for generated answers (needs the llm extra)", cmd_model)
    model = p.add_subparsers(dest="model_command", required=True)
    from .model_serve import add_options as add_model_options

    add_model_options(
        model.add_parser(
            "serve",
            help="serve a GGUF model over an OpenAI-compatible API with llama.cpp (xllamacpp), "
            "on 127.0.0.1:8080 by default; set llm_url to http://127.0.0.1:8080/v1",
        )
    )

    p = command("auth", "make API tokens and users-file lines", cmd_auth)
    auth = p.add_subparsers(dest="auth_command", required=True)
    token = auth.add_parser("token", help="a new API token, and the api_tokens entry that accepts it")
    token.add_argument("name", help="who uses the token, e.g. 'monitoring'")
    password = auth.add_parser("password", help="a users-file line (asks for the password, or reads a line from stdin)")
    password.add_argument("user")

    p = command("feedback", "list the feedback users gave on answers, or export it as CSV", cmd_feedback)
    p.add_argument("--csv", type=Path, dest="csv_path", help="write every record to this CSV file ('-' for stdout)")
    p.add_argument("--limit", type=int, default=20, help="how many of the newest records to list (default 20)")
    return parser


def _scales(text: str) -> tuple[int, ...]:
    try:
        scales = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"scales must be numbers separated by commas, e.g. 1,10,100, not {text!r}"
        ) from None
    if not scales or scales[0] != 1 or list(scales) != sorted(set(scales)):
        raise argparse.ArgumentTypeError(f"scales must start with 1 and increase, e.g. 1,10,100, not {text!r}")
    return scales


if __name__ == "__main__":
    sys.exit(main())
