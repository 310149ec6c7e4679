"""Run the LIVC-assistent in the browser: ``python app.py [--host H] [--port P] [--corpus DIR] [--index DIR]``.

A shim for ``livc serve`` (`assistant.ops.serve`), with the same options and output:
brings the index up to date, loads the model and the index once, then serves the chat
at http://127.0.0.1:7860/, the REST API under /api/v1, the embed page and the widget.
"""

from __future__ import annotations

import sys

from assistant.ops.serve import main

if __name__ == "__main__":
    sys.exit(main(prog="app.py"))
