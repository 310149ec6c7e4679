"""``livc serve`` (and ``python app.py``, its shim): the LIVC-assistent in the browser.

Brings the index up to date (with a progress bar when something must be embedded),
loads the model and the index once, then serves the chat at http://127.0.0.1:7860/,
the REST API under /api/v1 (docs at /docs), the embed page /embed and /widget.js
(host, port and path prefix from the settings: LIVC_HOST, LIVC_PORT, LIVC_ROOT_PATH,
or livc.toml). Nothing is downloaded and nothing is sent anywhere.

Messages start with the program's name: ``livc`` for ``livc serve``, ``app.py`` for
``python app.py`` (whose options and output are those it always had).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# Gradio reads these when it is imported; they must be set first.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def add_options(parser: argparse.ArgumentParser, folders: bool = True) -> None:
    """The options of ``python app.py``; `folders` False when the parser has --corpus,
    --index and --config already (the livc subcommands do)."""
    parser.add_argument("--host", help="interface to listen on (default 127.0.0.1, env LIVC_HOST)")
    parser.add_argument("--port", type=int, help="port (default 7860, env LIVC_PORT)")
    if folders:
        parser.add_argument("--corpus", type=Path, help="folder with the source documents (default corpus/)")
        parser.add_argument("--index", type=Path, help="folder of the local index (default index/)")
        parser.add_argument("--config", type=Path, help="TOML settings file (default livc.toml, env LIVC_CONFIG)")


def main(argv: list[str] | None = None, prog: str = "app.py") -> int:
    """``python app.py [--host H] [--port P] [--corpus DIR] [--index DIR] [--config FILE]``."""
    parser = argparse.ArgumentParser(prog=prog, description="Serve the LIVC-assistent chat in the browser.")
    add_options(parser)
    args = parser.parse_args(argv)

    from ..core.settings import Settings
    from .cli import describe

    try:
        settings = Settings.load(
            overrides={"host": args.host, "port": args.port, "corpus_dir": args.corpus, "index_dir": args.index},
            config_file=args.config,
        )
        app = prepare(settings)
    except Exception as exc:  # noqa: BLE001 - one clear line instead of a traceback
        print(f"{prog}: error: {describe(exc)}", file=sys.stderr)
        return 1
    run(app, settings, prog)
    return 0


def serve(settings, prog: str = "livc") -> int:
    """Prepare and serve the app for `settings` until it is stopped (``livc serve``)."""
    run(prepare(settings), settings, prog)
    return 0


def prepare(settings):
    """Logging configured, the users file checked, then the whole web app (`build`)."""
    from ..web.auth import Gate
    from ..web.logs import configure_logging

    configure_logging(settings)
    Gate.from_settings(settings)  # a users_file that cannot be used stops here, before the index is built
    return build(settings)


def run(app, settings, prog: str) -> None:
    """Serve `app` with uvicorn until Ctrl+C or SIGTERM."""
    import uvicorn

    from ..web.logs import capture_stderr
    from ..web.serving import uvicorn_options

    where = f"http://{settings.host}:{settings.port}{settings.root_path if settings.root_path.startswith('/') else ''}/"
    print(f"LIVC-assistent: open {where} in your browser (Ctrl+C stops).", flush=True)
    warn_if_open(settings, prog)
    capture_stderr()  # what libraries print there (Gradio's tracebacks quote raw inputs) is logged, masked
    # proxy_headers off (assistant.web.auth applies forwarded headers, only from a configured
    # proxy), uvicorn's loggers through the JSON-lines handler, and timeouts and limits
    # for headers, idle connections and shutdown (assistant.web.serving).
    uvicorn.run(app, **uvicorn_options(settings))


def warn_if_open(settings, prog: str = "app.py") -> None:
    """auth 'none' is meant for 127.0.0.1: say so when the app listens further."""
    if settings.auth == "none" and settings.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"{prog}: warning: auth is 'none' and the app listens on {settings.host}: everyone who can reach "
            "this port can use it. Set auth (header or basic) for an intranet.",
            file=sys.stderr,
            flush=True,
        )


def build(settings):
    """The whole web app for `settings`: index brought up to date, model and index loaded once."""
    from ..core.assistant import WARM_UP_QUESTION, Assistant
    from ..web.app import create_app
    from ..web.chat import mount

    if settings.build_on_start:
        print("Index controleren en zo nodig bijwerken…", flush=True)
    assistant = Assistant.open(settings, build=settings.build_on_start, progress=True)
    assistant.ask(WARM_UP_QUESTION)  # the first official does not wait for lazy loading
    assistant.watch_index()  # a new index generation is loaded and warmed beside the questions
    return mount(create_app(settings, assistant), assistant, settings)
