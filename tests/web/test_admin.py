"""The maintainer page /beheer (web/admin.py): who may see it, and what it shows, on the
small corpus's real index and a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from helpers import Server, build_small_index, client
from starlette.testclient import TestClient

from assistant.web.admin import ADMIN_PATH, admin_router
from assistant.web.app import create_app
from assistant.web.feedback import Feedback, FeedbackStore

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000000000200015e2f6b9a0000000049454e44ae426082"
)


def test_without_a_sign_on_only_this_machine_sees_it(tmp_path):
    config = tmp_path / "empty.toml"
    config.write_text("", encoding="utf-8")
    from assistant.core.settings import Settings

    settings = Settings.load(overrides={"index_dir": str(tmp_path / "index")}, environ={}, config_file=config)
    with TestClient(create_app(settings)) as far:  # the test client's address is "testclient"
        refused = far.get(ADMIN_PATH)
        assert refused.status_code == 403 and "alleen te zien op de computer" in refused.text
        assert far.get(ADMIN_PATH + "/feedback.csv").status_code == 403


def test_with_a_sign_on_the_signed_out_are_refused(tmp_path):
    config = tmp_path / "empty.toml"
    config.write_text("", encoding="utf-8")
    from assistant.core.settings import Settings

    settings = Settings.load(overrides={"auth": "header"}, environ={}, config_file=config)
    with TestClient(create_app(settings)) as anyone:
        assert anyone.get(ADMIN_PATH).status_code == 401
        assert anyone.get(ADMIN_PATH + "/feedback.csv").status_code == 401


@pytest.fixture
def admin_server(tmp_path, small_cache, embedder):
    settings = build_small_index(tmp_path, small_cache, embedder).replace(feedback_db=str(tmp_path / "fb.sqlite"))
    store = FeedbackStore(Path(settings.feedback_db))
    store.add(
        Feedback(rating=-1, answer="Het <b>antwoord</b>", mode="extractive", reason="iets anders", note="<i>n</i>")
    )
    report = tmp_path / "report"
    report.mkdir()
    (report / "report.md").write_text("# Rapport\n\n| MRR | 0.85 |\n|---|---|\n\n<script>alert(1)</script>\n")
    (report / "mrr.png").write_bytes(PNG)
    app = FastAPI()
    app.include_router(admin_router(settings, report))
    with Server(app) as running:
        yield running


def test_it_shows_documents_feedback_and_the_last_report(admin_server):
    with client(admin_server) as http:
        page = http.get(ADMIN_PATH)
        assert page.status_code == 200 and "script-src" not in page.headers["content-security-policy"]
        text = page.text
        assert "gids.md" in text and "vragen.md" in text and "Passages" in text
        assert "Het &lt;b&gt;antwoord&lt;/b&gt;" in text and "&lt;i&gt;n&lt;/i&gt;" in text and "iets anders" in text
        assert "<h1>Rapport</h1>" in text and "0.85" in text
        assert "<script>" not in text and "&lt;script&gt;" in text
        assert f'src="{ADMIN_PATH}/rapport/mrr.png"' in text
        plot = http.get(ADMIN_PATH + "/rapport/mrr.png")
        assert plot.status_code == 200 and plot.headers["content-type"] == "image/png"
        for bad in ("report.md", "..%2Freport%2Freport.md", "missing.png"):
            assert http.get(f"{ADMIN_PATH}/rapport/{bad}").status_code == 404, bad
        csv = http.get(ADMIN_PATH + "/feedback.csv")
        assert csv.status_code == 200 and "iets anders" in csv.text and csv.text.startswith("id,created_at")
