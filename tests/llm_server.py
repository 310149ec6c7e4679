"""A scripted OpenAI-compatible chat-completions server for the tests: real HTTP and real
server-sent events on 127.0.0.1, each reply chosen by the test, for what a real model cannot
be made to do on demand (an invented number, a citation to [7] of five sources, an English
reply, a cut-off stream, a slow first token, a 500, a 429). It records every request (path,
headers, JSON body), so a test can check what left the process.

    with ScriptedModel() as model:
        model.reply("De burgemeester zit de cel voor [1].")
        settings = settings.replace(llm_url=model.url, llm_model="test")
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Script:
    """One reply: `text` sent in `pieces` characters per chunk (0: one chunk), or an HTTP
    `status` with an error body; `first_delay` seconds before the first chunk, `delay`
    between chunks; `cut_after` chunks and the connection drops (no [DONE]); `done` False
    ends the stream without a finish reason or [DONE]."""

    text: str = ""
    status: int = 200
    pieces: int = 6
    first_delay: float = 0.0
    delay: float = 0.0
    cut_after: int | None = None
    done: bool = True
    headers: dict[str, str] = field(default_factory=dict)


class ScriptedModel:
    def __init__(self) -> None:
        self.scripts: list[Script] = []
        self.default = Script("Dat staat niet in de passages.")
        self.requests: list[dict] = []
        self.closed = threading.Event()  # set when a client closed a stream before its end
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                owner.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                script = owner.scripts.pop(0) if owner.scripts else owner.default
                owner._answer(self, script)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def reply(self, text: str = "", **options) -> ScriptedModel:
        """Queue the next reply (see Script)."""
        self.scripts.append(Script(text, **options))
        return self

    def _answer(self, handler: BaseHTTPRequestHandler, script: Script) -> None:
        if script.status != 200:
            payload = json.dumps({"error": {"message": "scripted failure", "code": script.status}}).encode()
            handler.send_response(script.status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            for k, v in script.headers.items():
                handler.send_header(k, v)
            handler.end_headers()
            handler.wfile.write(payload)
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.close_connection = True
        size = script.pieces or max(len(script.text), 1)
        chunks = [script.text[i : i + size] for i in range(0, len(script.text), size)]
        try:
            time.sleep(script.first_delay)
            self._event(handler, {"choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]})
            for i, chunk in enumerate(chunks):
                if script.cut_after is not None and i >= script.cut_after:
                    return  # the connection closes without the end of the stream
                if i:
                    time.sleep(script.delay)
                self._event(handler, {"choices": [{"index": 0, "delta": {"content": chunk}, "finish_reason": None}]})
            if script.done:
                self._event(handler, {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                handler.wfile.write(b"data: [DONE]\n\n")
                handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.closed.set()

    @staticmethod
    def _event(handler: BaseHTTPRequestHandler, data: dict) -> None:
        handler.wfile.write(f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode())
        handler.wfile.flush()

    def __enter__(self) -> ScriptedModel:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
