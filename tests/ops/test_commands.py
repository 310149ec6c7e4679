"""`livc` is the one command: serve (and `python app.py`, its shim), auth, bench-ingest and
load-test, run as a user runs them; and the harness's one percentile and free port."""

from __future__ import annotations

import json
import socket
import subprocess

import numpy as np
import pytest
from helpers import PYTHON, ROOT, cli_env, livc_in_process, write_small_corpus

from assistant.ops.harness import free_port, percentile
from assistant.web.auth import check_password, hash_token


def livc(*args: str, stdin: str = "", timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "-m", "assistant.ops.cli", *args],
        cwd=ROOT,
        env=cli_env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_one_percentile_is_linear_interpolation_as_numpys_default():
    samples = [12.0, 3.5, 40.25, 7.0, 19.0, 3.5, 88.0, 21.5, 5.0, 64.0, 30.0]
    for q in (0, 25, 50, 90, 95, 99, 100):
        assert percentile(samples, q) == pytest.approx(float(np.percentile(samples, q)))
    assert percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)  # between ranks, not the nearest rank (4)
    assert percentile([], 50) is None


def test_livc_eval_and_the_load_test_use_that_percentile():
    from assistant.ops import evaluation, load_test
    from assistant.ops.bench.latency import ms_summary

    ms = [10.0, 20.0, 30.0, 40.0]
    assert evaluation.percentile(ms, 95) == round(percentile(ms, 95), 1) == 38.5
    assert ms_summary(ms)["p95"] == 38.5
    figures = load_test.latency([load_test.Result("ask", 200, m / 1000) for m in ms])
    assert figures["p95_ms"] == 38.5


def test_free_port_can_be_bound():
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_app_py_and_livc_serve_take_the_same_options():
    shim = subprocess.run([PYTHON, "app.py", "--help"], cwd=ROOT, env=cli_env(), capture_output=True, text=True)
    serve = livc("serve", "--help")
    assert shim.returncode == serve.returncode == 0
    for option in ("--host", "--port", "--corpus", "--index", "--config"):
        assert option in shim.stdout and option in serve.stdout
    assert shim.stdout.startswith("usage: app.py")


def test_livc_serve_reports_an_unusable_users_file_in_one_line(tmp_path):
    env = cli_env(LIVC_AUTH="basic", LIVC_USERS_FILE=str(tmp_path / "missing.txt"))
    result = subprocess.run(
        [PYTHON, "-m", "assistant.ops.cli", "serve"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("livc: error: ") and "users_file" in lines[0], result.stderr


def test_livc_auth_token_prints_a_token_and_the_entry_that_accepts_it():
    result = livc("auth", "token", "monitoring")
    assert result.returncode == 0, result.stderr
    token_line, entry_line = result.stdout.strip().splitlines()
    token = token_line.rsplit(" ", 1)[1]
    assert entry_line.endswith(f'"monitoring:{hash_token(token)}"')


def test_livc_auth_password_reads_stdin_and_prints_a_users_file_line():
    result = livc("auth", "password", "alice", stdin="geheim wachtwoord\n")
    assert result.returncode == 0, result.stderr
    user, _, stored = result.stdout.strip().partition(":")
    assert user == "alice" and check_password("geheim wachtwoord", stored)
    empty = livc("auth", "password", "alice", stdin="\n")
    assert empty.returncode == 1 and empty.stderr.strip() == "livc: error: empty password"


def test_livc_bench_ingest_measures_a_folder(tmp_path):
    write_small_corpus(tmp_path / "corpus")
    out = tmp_path / "ingest.json"
    result = livc("bench-ingest", str(tmp_path / "corpus"), "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("format")
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["formats"]["markdown"]["documents"] == 2 and figures["formats"]["markdown"]["passages"] > 0


def test_the_old_entry_points_are_gone():
    assert not (ROOT / "scripts" / "load_test.py").exists()
    assert not (ROOT / "scripts" / "bench_ingest.py").exists()
    assert livc("load-test", "--help").returncode == 0


def test_livc_bench_vectors_times_both_searches_per_size(tmp_path):
    out = tmp_path / "vectors.json"
    result = livc_in_process("bench-vectors", "--sizes", "200,400", "--json", str(out))
    assert result.returncode == 0, result.stderr
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert [row["vectors"] for row in figures["sizes"]] == [200, 400]
    for row in figures["sizes"]:
        assert row["memory_ms"]["p50"] > 0 and row["chroma_ms"]["p50"] > 0
        ratio = row["memory_ms"]["p50"] / row["chroma_ms"]["p50"]  # of the rounded figures
        assert row["memory_vs_chroma_p50"] == pytest.approx(ratio, rel=0.01, abs=0.002)
        assert row["memory_mb"] == round(row["vectors"] * figures["dim"] * 4 / 1e6, 1)
    assert result.stdout.splitlines()[0].split()[:3] == ["vectors", "memory", "p50"]
