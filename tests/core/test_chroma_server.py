"""Scale-out: a real Chroma server (`chroma run` on 127.0.0.1) shared by two app processes.

`livc index` writes the dense collections into the server; the rest of the index
(manifest, BM25, sentence vectors) stays in one index folder that both processes read.
Both answer at once, both pick up a new generation, both answer 503 with a Dutch
message while the server is down or hangs (never hang themselves), and both recover when
it is back. An app started while the server is still coming up waits for it; one whose
server never comes gives up with a clear message. Behind nginx (deploy/nginx-replicas.conf)
the API spreads over both replicas and a browser's chat sticks to one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from helpers import (
    PYTHON,
    ROOT,
    AppProcess,
    Nginx,
    ask_in_chat,
    cli_env,
    free_port,
    require_marker,
    settings_for,
    stop_process,
    write_small_corpus,
)
from playwright.sync_api import expect

from assistant.core.errors import SettingsError
from assistant.core.index import build_index, chroma_client, collection_names, read_manifest
from assistant.core.messages import UNAVAILABLE_TEXT
from assistant.core.settings import Settings

pytestmark = pytest.mark.server  # chroma run, app.py replicas, nginx

CHROMA = Path(sys.executable).parent / "chroma"
NEW_RULE = "De cel nodigt bij elke bespreking ook de preventiewerker van de gemeente uit."


class ChromaServer:
    """`chroma run` on a free 127.0.0.1 port, persisting into `folder`; stop() and
    start() again keep its data and port, as a restarted server would."""

    def __init__(self, folder: Path):
        self.folder, self.port = folder, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> ChromaServer:
        require_marker("server", "chroma run")
        log = open(self.folder / "chroma.log", "ab")
        self.process = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(self.folder / "db"), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NO_COLOR": "1"},
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chroma run stopped: {(self.folder / 'chroma.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("chroma run did not come up")

    def stop(self) -> None:
        stop_process(self.process)


def start_app(settings: Settings, folder: Path, name: str, **env: str) -> AppProcess:
    """A replica on the Chroma server of `settings`, giving up on a hanging server after 3 s."""
    return AppProcess(
        settings, folder, name, LIVC_CHROMA_URL=settings.chroma_url, LIVC_CHROMA_TIMEOUT="3", **env
    ).start()


def ask(app: AppProcess, question: str) -> httpx.Response:
    # A generous client timeout: the app itself must answer well within it, also when
    # the Chroma server hangs.
    return httpx.post(f"{app.url}/api/v1/ask", json={"question": question}, timeout=120)


@dataclass
class Cluster:
    server: ChromaServer
    settings: Settings
    apps: list[AppProcess]
    folder: Path


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, small_cache, embedder):
    """A Chroma server, the small corpus indexed into it, and two app processes serving it."""
    folder = tmp_path_factory.mktemp("chroma-server")
    server = ChromaServer(folder).start()
    write_small_corpus(folder / "corpus")
    (folder / "index").mkdir()
    shutil.copyfile(small_cache[0], folder / "index" / "embed-cache.sqlite")
    settings = settings_for(folder / "corpus", folder / "index", chroma_url=server.url)
    build_index(settings, embedder, progress=False)
    apps = [start_app(settings, folder, f"app{i}") for i in (1, 2)]
    try:
        for app in apps:
            app.wait_ready()
        yield Cluster(server, settings, apps, folder)
    finally:
        for app in apps:
            app.stop()
        server.stop()


def test_the_dense_index_lives_in_the_server_and_the_rest_in_the_shared_folder(cluster):
    manifest = read_manifest(cluster.settings.index_dir)
    names = collection_names(chroma_client(cluster.settings))
    assert {f"passages_{manifest.generation}", f"windows_{manifest.generation}"} <= set(names)
    assert not (cluster.settings.index_dir / "chroma").exists()
    assert (cluster.settings.index_dir / f"gen-{manifest.generation}" / "bm25").exists()


def test_two_app_processes_answer_at_once(cluster):
    # Questions in the small corpus's own words: it never says "politie", and a question about
    # a term the corpus never uses, closer to other subjects, is rightly refused.
    questions = [
        "Wie zit de cel voor?",
        "Hoe vaak vergadert de cel?",
        "Welke machtiging heeft de vertegenwoordiger van de korpschef?",
    ] * 4
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda i: (i % 2, ask(cluster.apps[i % 2], questions[i])), range(len(questions))))
    assert all(r.status_code == 200 for _, r in responses), [r.text for _, r in responses if r.status_code != 200]
    by_app: dict[tuple[int, str], str] = {}
    for (app, response), question in zip(responses, questions):
        body = response.json()
        assert body["citations"] and {c["document"] for c in body["citations"]} <= {"gids.md", "vragen.md"}
        by_app[(app, question)] = body["text"]
    for question in set(questions):  # the same index: the same answer from either process
        assert by_app[(0, question)] == by_app[(1, question)]


def test_a_new_generation_reaches_both_processes(cluster, embedder):
    guide = cluster.settings.corpus_dir / "gids.md"
    guide.write_text(guide.read_text(encoding="utf-8") + f"\n## 3. Preventie\n\n{NEW_RULE}\n", encoding="utf-8")
    report = build_index(cluster.settings, embedder, progress=False)
    assert report.changed
    for app in cluster.apps:  # each loads and warms it in the background, answering from the old one meanwhile
        deadline = time.time() + 120
        while True:
            found = httpx.get(f"{app.url}/api/v1/search", params={"q": "preventiewerker van de gemeente"}, timeout=60)
            assert found.status_code == 200
            if NEW_RULE in found.json()["results"][0]["text"]:
                break
            assert time.time() < deadline, "the new generation did not reach the app"
            time.sleep(0.5)


def test_a_stopped_server_gives_a_dutch_503_and_the_apps_recover_when_it_returns(cluster):
    cluster.server.stop()
    try:
        for app in cluster.apps:
            response = ask(app, "Wie zit de cel voor?")
            assert response.status_code == 503
            assert response.json() == {"code": "store_unavailable", "message": UNAVAILABLE_TEXT}
            assert response.headers["Retry-After"]
            assert httpx.get(f"{app.url}/healthz", timeout=10).status_code == 200  # the process lives on
            ready = httpx.get(f"{app.url}/readyz", timeout=30)  # a load balancer can tell
            assert ready.status_code == 503 and ready.json()["status"] == "store_unavailable"
    finally:
        cluster.server.start()
    for app in cluster.apps:
        response = ask(app, "Wie zit de cel voor?")
        assert response.status_code == 200, response.text
        assert "burgemeester" in response.json()["text"]
        assert httpx.get(f"{app.url}/readyz", timeout=30).status_code == 200


def test_a_hanging_server_fails_the_question_instead_of_holding_it(cluster):
    """SIGSTOP: the server accepts connections but never answers. The app gives up after
    chroma_timeout (3 s here) with the same 503, and serves again once the server resumes."""
    os.kill(cluster.server.process.pid, signal.SIGSTOP)
    try:
        response = ask(cluster.apps[0], "Hoe vaak vergadert de cel?")
        assert response.status_code == 503
        assert response.json()["code"] == "store_unavailable"
    finally:
        os.kill(cluster.server.process.pid, signal.SIGCONT)
    assert ask(cluster.apps[0], "Hoe vaak vergadert de cel?").status_code == 200


def test_the_apps_log_the_outage_without_question_text(cluster):
    for app in cluster.apps:
        text = app.log.read_text(encoding="utf-8")
        assert "vector store unavailable" in text
        assert "Wie zit de cel voor" not in text and "vergadert" not in text
        assert all(json.loads(line) for line in text.splitlines())


# ---------------------------------------------------------------- starting without a server


def test_an_app_started_before_its_server_waits_for_it(cluster, tmp_path, embedder):
    """Retry with backoff at start: the server comes up a few seconds after the app."""
    late = ChromaServer(tmp_path).start()
    (tmp_path / "index").mkdir()
    shutil.copyfile(cluster.settings.index_dir / "embed-cache.sqlite", tmp_path / "index" / "embed-cache.sqlite")
    settings = cluster.settings.replace(chroma_url=late.url, index_dir=tmp_path / "index")
    build_index(settings, embedder, progress=False)
    late.stop()
    app = start_app(settings, tmp_path, "late", LIVC_CHROMA_CONNECT_WAIT="120")
    try:
        deadline = time.time() + 120
        while "not reachable yet" not in (app.log.read_text(encoding="utf-8") if app.log.exists() else ""):
            assert time.time() < deadline and app.process.poll() is None, "the app did not wait for the server"
            time.sleep(0.5)
        late.start()
        app.wait_ready()
        assert ask(app, "Wie zit de cel voor?").status_code == 200
    finally:
        app.stop()
        late.stop()


def test_an_app_whose_server_never_comes_stops_with_a_clear_message(cluster, tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    app = start_app(cluster.settings.replace(chroma_url=dead), tmp_path, "dead", LIVC_CHROMA_CONNECT_WAIT="2")
    assert app.process.wait(timeout=240) == 1
    message = app.output.read_text(encoding="utf-8")
    assert f"the Chroma server at {dead} cannot be reached" in message
    assert "Traceback" not in message


def test_livc_index_with_the_server_down_says_so(cluster, tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    env = cli_env(LIVC_CHROMA_URL=dead, LIVC_CHROMA_CONNECT_WAIT="1", LIVC_CONFIG=str(cluster.folder / "empty.toml"))
    result = subprocess.run(
        [
            PYTHON,
            "-m",
            "assistant.ops.cli",
            "index",
            "--corpus",
            str(cluster.settings.corpus_dir),
            "--index",
            str(tmp_path / "index"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert "cannot be reached" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "url", ["127.0.0.1:8000", "ftp://host:8000", "http://", "http://host:port", "http://host:8000/some/path"]
)
def test_a_chroma_url_that_is_not_a_server_address_is_refused(url, tmp_path):
    with pytest.raises(SettingsError, match="chroma_url"):
        settings_for(tmp_path / "corpus", tmp_path / "index", chroma_url=url)


# ---------------------------------------------------------------- behind nginx

REPLICAS_CONF = ROOT / "deploy" / "nginx-replicas.conf"


def render_replicas(folder: Path, listen: int, apps: list[AppProcess]) -> str:
    """deploy/nginx-replicas.conf with this test's ports and log path."""
    text = REPLICAS_CONF.read_text(encoding="utf-8")
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{listen};",
        "server app1:7860 ": f"server 127.0.0.1:{apps[0].port} ",
        "server app2:7860 ": f"server 127.0.0.1:{apps[1].port} ",
        "access_log /var/log/nginx/livc.access.log livc_replicas;": f"access_log {folder}/access.log livc_replicas;",
    }
    for old, new in replacements.items():
        assert old in text, f"deploy/nginx-replicas.conf lost {old!r}"
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def proxy(cluster, tmp_path_factory):
    folder = tmp_path_factory.mktemp("nginx-replicas")
    with Nginx(folder, lambda port: render_replicas(folder, port, cluster.apps)) as running:
        yield running.url, folder / "access.log"


def replicas_in_log(log: Path, path: str, at_least: int = 0) -> list[str]:
    """The replicas that served `path`, by nginx's access log. nginx writes a line after
    the response has gone out, so the last request may not be there yet: wait (up to 10 s)
    for `at_least` lines."""
    deadline = time.monotonic() + 10
    while True:
        used = re.findall(rf'"\w+ {re.escape(path)}" \d+ \d+ upstream=(\S+)', log.read_text(encoding="utf-8"))
        if len(used) >= at_least or time.monotonic() > deadline:
            return used
        time.sleep(0.05)


def test_behind_nginx_api_requests_spread_over_both_replicas(proxy, cluster):
    url, log = proxy
    for n in range(12):  # twelve browsers (cookies) asking once each
        response = httpx.post(
            f"{url}/api/v1/ask",
            json={"question": "Wie zit de cel voor?"},
            cookies={"livc_route": f"browser-{n}"},
            timeout=120,
        )
        assert response.status_code == 200, response.text
    used = replicas_in_log(log, "/api/v1/ask", at_least=12)
    assert len(used) == 12
    assert {u for u in used} == {f"127.0.0.1:{app.port}" for app in cluster.apps}


def test_behind_nginx_a_browser_gets_a_route_cookie_and_keeps_its_replica(proxy):
    url, log = proxy
    first = httpx.get(f"{url}/healthz", timeout=30)
    cookie = first.cookies.get("livc_route")
    assert cookie and "HttpOnly" in first.headers["set-cookie"] and "SameSite=Lax" in first.headers["set-cookie"]
    before = len(replicas_in_log(log, "/readyz"))
    for _ in range(6):
        again = httpx.get(f"{url}/readyz", cookies={"livc_route": cookie}, timeout=30)
        assert again.status_code == 200 and "set-cookie" not in again.headers
    assert len(set(replicas_in_log(log, "/readyz", at_least=before + 6)[-6:])) == 1


def test_behind_nginx_the_chat_works_in_a_browser(proxy, browser):
    """Gradio keeps a conversation in one process: the chat only works if every request
    of the page reaches the same replica."""
    url, log = proxy
    page = browser.new_page(locale="nl-BE")
    try:
        page.goto(url + "/")
        expect(page.locator("#livc-question textarea")).to_be_visible(timeout=60_000)
        for question, expected in (
            ("Wie zit de cel voor?", "burgemeester"),
            ("Hoe vaak vergadert de cel?", "kwartaal"),
        ):
            expect(ask_in_chat(page, question, timeout=90_000)).to_contain_text(expected)
    finally:
        page.close()
    replicas = set(replicas_in_log(log, "/gradio_api/queue/join"))
    assert len(replicas) == 1


def test_the_chat_says_in_dutch_that_the_index_is_unreachable_and_answers_again_later(cluster, browser):
    page = browser.new_page(locale="nl-BE")
    try:
        page.goto(cluster.apps[0].url + "/")
        expect(page.locator("#livc-question textarea")).to_be_visible(timeout=60_000)
        cluster.server.stop()
        try:
            reply = ask_in_chat(page, "Wie zit de cel voor?", timeout=90_000)
            expect(reply).to_contain_text("zoekindex van de assistent is even niet bereikbaar")
        finally:
            cluster.server.start()
        expect(ask_in_chat(page, "Wie zit de cel voor?", timeout=90_000)).to_contain_text("burgemeester")
        expect(page.locator("#livc-chat [data-testid='bot']")).to_have_count(2)
    finally:
        page.close()
