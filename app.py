"""Run the LIVC-assistent in the browser: ``python app.py [--host H] [--port P] [--corpus DIR] [--index DIR]``.

Brings the index up to date (with a progress bar when something must be embedded),
loads the model and the index once, then serves the chat at http://127.0.0.1:7860/,
the REST API under /api/v1 (docs at /docs), the embed page /embed and /widget.js
(host, port and path prefix from the settings: LIVC_HOST, LIVC_PORT, LIVC_ROOT_PATH,
or livc.toml). Nothing is downloaded and nothing is sent anywhere.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# Gradio reads these when it is imported; they must be set first.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    from assistant.web.auth import Gate
    from assistant.ops.cli import describe
    from assistant.web.logs import configure_logging
    from assistant.core.settings import Settings

    try:
        settings = Settings.load(
            overrides={"host": args.host, "port": args.port, "corpus_dir": args.corpus, "index_dir": args.index},
            config_file=args.config,
        )
        configure_logging(settings)
        Gate.from_settings(settings)  # a users_file that cannot be used stops here, before the index is built
        app = build(settings)
    except Exception as exc:  # noqa: BLE001 - one clear line instead of a traceback
        print(f"app.py: error: {describe(exc)}", file=sys.stderr)
        return 1

    import uvicorn

    from assistant.web.serving import uvicorn_options

    where = f"http://{settings.host}:{settings.port}{settings.root_path if settings.root_path.startswith('/') else ''}/"
    print(f"LIVC-assistent: open {where} in your browser (Ctrl+C stops).", flush=True)
    warn_if_open(settings)
    from assistant.web.logs import capture_stderr

    capture_stderr()  # what libraries print there (Gradio's tracebacks quote raw inputs) is logged, masked
    # proxy_headers off (assistant.web.auth applies forwarded headers, only from a configured
    # proxy), uvicorn's loggers through the JSON-lines handler, and timeouts and limits
    # for headers, idle connections and shutdown (assistant.web.serving).
    uvicorn.run(app, **uvicorn_options(settings))
    return 0


def warn_if_open(settings) -> None:
    """auth 'none' is meant for 127.0.0.1: say so when the app listens further."""
    if settings.auth == "none" and settings.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"app.py: warning: auth is 'none' and the app listens on {settings.host}: everyone who can reach "
              "this port can use it. Set auth (header or basic) for an intranet.", file=sys.stderr, flush=True)


def build(settings):
    """The whole web app for `settings`: index brought up to date, model and index loaded once."""
    from assistant.core.assistant import WARM_UP_QUESTION, Assistant
    from assistant.web.chat import mount
    from assistant.web.app import create_app

    if settings.build_on_start:
        print("Index controleren en zo nodig bijwerken…", flush=True)
    assistant = Assistant.open(settings, build=settings.build_on_start, progress=True)
    assistant.ask(WARM_UP_QUESTION)  # the first official does not wait for lazy loading
    assistant.watch_index()  # a new index generation is loaded and warmed beside the questions
    return mount(create_app(settings, assistant), assistant, settings)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="app.py", description="Serve the LIVC-assistent chat in the browser.")
    parser.add_argument("--host", help="interface to listen on (default 127.0.0.1, env LIVC_HOST)")
    parser.add_argument("--port", type=int, help="port (default 7860, env LIVC_PORT)")
    parser.add_argument("--corpus", type=Path, help="folder with the source documents (default corpus/)")
    parser.add_argument("--index", type=Path, help="folder of the local index (default index/)")
    parser.add_argument("--config", type=Path, help="TOML settings file (default livc.toml, env LIVC_CONFIG)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
