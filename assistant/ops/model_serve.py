"""``livc model serve --model FILE.gguf``: a local language model behind an OpenAI-compatible
HTTP API, for operators without a model server of their own.

It runs llama.cpp's own server through the ``xllamacpp`` package (a prebuilt build on PyPI;
``pip install -e '.[llm]'``), in this process, on 127.0.0.1 by default: point the assistant at
it with ``LIVC_LLM_URL=http://127.0.0.1:8080/v1``. It reads only the GGUF file it is given and
downloads nothing. Ctrl+C or SIGTERM stops it.

Threads: one by default, by measurement on this machine (2 cores, shared with other work,
load about 3.4), SmolLM2-135M, 128 tokens: one thread gave a steady 50-52 tokens/s, two
threads anything from 9 to 86 tokens/s (llama.cpp's threads wait on each other, and one of
them waits for a busy core). One thread also leaves a core to the app's embedding model and
web server. Give more with ``--threads`` on a machine with cores to spare.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from ..core.errors import LivcError

DEFAULT_PORT = 8080
DEFAULT_THREADS = 1
DEFAULT_CONTEXT = 4096  # the prompt: about five passages of 160 words, the instructions and the question


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=Path, required=True, help="the GGUF file of the model")
    # Their own dests: --host and --port of the other commands are the app's settings.
    p.add_argument(
        "--host",
        dest="model_host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    p.add_argument(
        "--port",
        dest="model_port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0: any free one)",
    )
    p.add_argument(
        "--threads", type=int, default=DEFAULT_THREADS, help=f"CPU threads for generating (default {DEFAULT_THREADS})"
    )
    p.add_argument(
        "--context", type=int, default=DEFAULT_CONTEXT, help=f"context in tokens (default {DEFAULT_CONTEXT})"
    )
    p.add_argument(
        "--parallel", type=int, default=1, help="answers generated at once (default 1; each gets the context)"
    )
    p.add_argument("--alias", default="", help="the model's name in the API (default: the file's name)")


def params(args: argparse.Namespace):
    """llama.cpp's server parameters from the command line."""
    import xllamacpp

    if not args.model.is_file():
        raise LivcError(f"no model file {args.model}")
    p = xllamacpp.CommonParams()
    p.model.path = str(args.model)
    p.n_ctx = args.context * args.parallel  # llama.cpp splits the context over the parallel slots
    p.n_parallel = args.parallel
    p.cpuparams.n_threads = args.threads
    p.cpuparams_batch.n_threads = args.threads
    p.hostnames = [args.model_host]
    p.port = args.model_port
    p.model_alias = {args.alias or args.model.stem}
    return p


def serve_model(args: argparse.Namespace) -> int:
    try:
        import xllamacpp
    except ImportError:
        raise LivcError("livc model serve needs the llm extra: pip install -e '.[llm]'") from None
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    server = xllamacpp.Server(params(args))
    # The server's own address: with --port 0 it chose a free port.
    print(f"model server ready: {server.listening_address}/v1 (threads {args.threads}); Ctrl+C stops", flush=True)
    try:
        stop.wait()
    finally:
        del server  # stops llama.cpp's HTTP and worker threads
    print("model server stopped", file=sys.stderr, flush=True)
    return 0
