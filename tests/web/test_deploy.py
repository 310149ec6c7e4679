"""deploy/ stays consistent with what the tests run.

Docker is not available here, so deploy/compose.yaml is never started; these checks keep it
in line with the layout tests/test_chroma_server.py does run: nginx-replicas.conf names the
replicas compose defines, every replica reads the index the indexer writes into the same
Chroma server, and every LIVC_* value is a setting the app accepts.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import yaml
from helpers import ROOT

from assistant.core.settings import Settings

DEPLOY = ROOT / "deploy"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def replicas(compose: dict) -> dict[str, dict]:
    return {name: s for name, s in compose["services"].items() if s.get("command") == ["python", "app.py"]}


def test_nginx_routes_to_exactly_the_replicas_compose_runs(compose):
    conf = (DEPLOY / "nginx-replicas.conf").read_text(encoding="utf-8")
    upstream = set(re.findall(r"^\s*server (\S+):(\d+) ", conf, re.M))
    assert len(replicas(compose)) >= 2
    assert upstream == {(name, s["environment"]["LIVC_PORT"]) for name, s in replicas(compose).items()}
    nginx = compose["services"]["nginx"]
    assert "./nginx-replicas.conf:/etc/nginx/conf.d/default.conf:ro" in nginx["volumes"]


def test_replicas_read_the_index_the_indexer_writes_into_the_same_chroma_server(compose):
    indexer = compose["services"]["indexer"]
    assert indexer["command"] == ["livc", "index"]
    server = urlsplit(indexer["environment"]["LIVC_CHROMA_URL"])
    assert server.hostname in compose["services"]  # the chroma service, by its compose name
    index_volume = next(v for v in indexer["volumes"] if v.endswith(":/srv/index"))
    for name, replica in replicas(compose).items():
        env = replica["environment"]
        assert env["LIVC_CHROMA_URL"] == indexer["environment"]["LIVC_CHROMA_URL"], name
        assert env["LIVC_INDEX_DIR"] == indexer["environment"]["LIVC_INDEX_DIR"] == "/srv/index", name
        assert env["LIVC_BUILD_ON_START"] == "false", name  # the index volume is read-only for them
        assert f"{index_volume}:ro" in replica["volumes"], name
        assert replica["depends_on"]["indexer"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("service", ["indexer", "app1", "app2"])
def test_every_livc_value_in_compose_is_a_valid_setting(compose, service, tmp_path):
    env = {k: str(v) for k, v in compose["services"][service]["environment"].items()}
    config = tmp_path / "empty.toml"
    config.write_text("", encoding="utf-8")
    settings = Settings.load(environ=env, config_file=config)  # raises SettingsError on any wrong value
    assert all(
        settings.sources[k.removeprefix("LIVC_").lower()].startswith("env") for k in env if k.startswith("LIVC_")
    )


def test_the_image_holds_what_the_commands_need():
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    for source in re.findall(r"^COPY (.+) \S+$", dockerfile, re.M):
        for part in source.split():
            assert (ROOT / part).exists(), part
    assert 'livc = "assistant.ops.cli:main"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "GRADIO_ANALYTICS_ENABLED=False" in dockerfile and "HF_HUB_OFFLINE=1" in dockerfile


def test_the_chroma_server_image_matches_the_client_major_version(compose):
    from importlib.metadata import version

    tag = compose["services"]["chroma"]["image"].split(":")[1]
    assert tag.split(".")[0] == version("chromadb").split(".")[0]
