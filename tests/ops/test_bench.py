"""`livc bench --quick`: it runs as a user runs it and writes a complete, sane JSON and a PNG.

The benchmark itself is not a test: no figure is compared with a target. What is checked
is that every section is there, that times, rates and memory are finite and positive,
that the scales and the baseline with its ratios are present, and that the synthetic
copies behind the larger scales have the shape of their originals (so every derived
vector comes from a real one).
"""

from __future__ import annotations

import json
import math
import subprocess

import pytest
from helpers import CORPUS, FAQ, GUIDE, PYTHON, ROOT, cli_env

from assistant.core.chunking import chunk_sections
from assistant.core.documents import parse_markdown
from assistant.ops.bench import QUALITY_KEYS, variant_text

# livc bench --quick builds indexes of the shipped corpus and starts the app (conftest marks its users)
FIXTURE_MARKERS = {"quick": ("corpus", "server")}

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TOP_KEYS = {
    "schema",
    "kind",
    "started_at",
    "seconds",
    "quick",
    "machine",
    "embedder",
    "settings",
    "questions",
    "hot_path",
    "scales",
    "baseline",
    "notes",
}


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """One `livc bench --quick` run (about a minute): the process, its JSON and its folder."""
    base = tmp_path_factory.mktemp("bench")
    config = base / "empty-livc.toml"
    config.write_text("", encoding="utf-8")
    out = base / "out"
    result = subprocess.run(
        [PYTHON, "-m", "assistant.ops.cli", "bench", "--quick", "--out", str(out)],
        cwd=ROOT,
        env=cli_env(LIVC_CONFIG=str(config)),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result, json.loads((out / "latest.json").read_text(encoding="utf-8")), out


def positive(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def assert_percentiles(p: dict, n: int | None = None) -> None:
    assert all(positive(p[k]) for k in ("p50", "p95", "p99", "mean", "max")), p
    assert p["p50"] <= p["p95"] <= p["p99"] <= p["max"]
    if n is not None:
        assert p["n"] == n


def test_prints_the_table_and_writes_json_and_png(quick):
    result, data, out = quick
    for heading in ("Index build", "Latency ms", "HTTP /api/v1/ask", "Ours vs naive LlamaIndex baseline"):
        assert heading in result.stdout
    assert "QUICK" in result.stdout
    stamped = sorted(out.glob("bench-*.json"))
    assert len(stamped) == 1
    assert json.loads(stamped[0].read_text(encoding="utf-8")) == data
    assert (out / "bench.png").read_bytes().startswith(PNG_MAGIC)


def test_json_has_every_section(quick):
    _, data, _ = quick
    assert TOP_KEYS <= set(data)
    assert data["kind"] == "livc-bench" and data["quick"] is True
    assert positive(data["seconds"]) and positive(data["machine"]["cpus"])
    assert data["questions"]["n"] >= 2 and data["questions"]["in_scope"] >= 1
    assert [s["scale"] for s in data["scales"]] == [1, 10]
    assert any("extrapolated" in note for note in data["notes"])
    assert any(note.startswith("Quick run") for note in data["notes"])


def test_builds_cold_warm_and_rebuild_at_each_scale(quick):
    _, data, _ = quick
    one, ten = data["scales"]
    for entry in data["scales"]:
        cold, warm, rebuild = (entry["build"][k] for k in ("cold", "warm", "rebuild_cached"))
        assert cold["changed"] and cold["texts_embedded"] > 0 and cold["texts_from_cache"] < cold["texts_embedded"]
        assert warm["changed"] is False and warm["texts_embedded"] == 0
        assert rebuild["changed"] and rebuild["texts_embedded"] == 0 and rebuild["texts_from_cache"] > 0
        for build in (cold, warm, rebuild):
            assert positive(build["seconds"]) and positive(build["passages_per_s"])
        assert positive(entry["index_mb"]) and positive(entry["open_seconds"])
    # 1x: every vector from the model, at a measured rate.
    assert one["vectors"] == "model" and one["build"]["cold"]["derived_texts"] == 0
    assert positive(one["build"]["cold"]["texts_per_s"]) and positive(one["build"]["cold"]["model_seconds"])
    # 10x: ten copies with the shape of the original; derived vectors, every one from a
    # recorded original, and the model's time extrapolated (and labelled so).
    assert ten["passages"] == 10 * one["passages"] and ten["documents"] == 10 * one["documents"]
    cold = ten["build"]["cold"]
    assert ten["vectors"] == "derived" and cold["model_seconds"] == 0 and cold["fallback_vectors"] == 0
    assert cold["derived_texts"] == cold["texts_embedded"]
    assert positive(cold["embedding_extrapolated_s"]) and cold["estimated_seconds_with_model"] > cold["seconds"]


def test_latency_for_new_and_cached_questions(quick):
    _, data, _ = quick
    n = data["questions"]["n"]
    for entry in data["scales"]:
        for name in ("retrieval", "end_to_end"):
            new, cached = entry["latency_ms"][name]["new"], entry["latency_ms"][name]["cached"]
            assert_percentiles(new, n)
            assert_percentiles(cached, n)
            assert new["model_calls_per_question"] >= 1 and cached["model_calls_per_question"] == 0
    hot = data["hot_path"]
    assert hot["query_embedding_cache"] and hot["model_calls_per_repeated_question"]["end_to_end"] == 0
    assert 0 <= hot["dense_query_is_question"] <= 1
    blas = hot["query_embedding_blas_threads"]
    if blas is not None:  # needs threadpoolctl
        assert_percentiles(blas["alone_ms"]["one"])
        assert_percentiles(blas["alone_ms"]["default"])
        assert all(positive(v["calls_per_s"]) for v in blas["4_at_once"].values())


def test_http_levels_ready_time_and_memory(quick):
    _, data, _ = quick
    for entry in data["scales"]:
        http = entry["http"]
        assert positive(http["ready_seconds"]) and positive(http["peak_rss_mb"])
        assert http["peak_rss_mb"] >= http["rss_ready_mb"]
        assert [level["clients"] for level in http["levels"]] == [1, 4, 16]
        for level in http["levels"]:
            assert level["errors"] == {} and level["ok"] >= level["clients"]
            assert positive(level["requests_per_s"]) and positive(level["seconds"])
            assert_percentiles(level["latency_ms"], level["ok"])


def test_baseline_beside_ours_with_ratios(quick):
    _, data, _ = quick
    b = data["baseline"]
    assert "run_baseline" in b["description"]
    assert positive(b["baseline"]["build"]["seconds"]) and b["baseline"]["build"]["texts_embedded"] > 0
    assert_percentiles(b["baseline"]["latency_ms"]["retrieval"], data["questions"]["n"])
    assert b["baseline"]["model_calls_per_question"] == 1
    for system in ("ours", "baseline"):
        assert set(b["quality"][system]) == set(QUALITY_KEYS)
        for key, value in b["quality"][system].items():
            if key != "answer_words" and value is not None:
                assert 0 <= value <= 1, (system, key, value)
    assert b["ratios"]["latency"] and all(positive(v) for v in b["ratios"]["latency"].values())
    assert positive(b["ratios"]["build_cold"])
    assert set(b["ratios"]["quality"]) == set(QUALITY_KEYS) == set(b["ratios"]["quality_difference"])
    assert b["ratios"]["quality"]["hit@1"] is None or positive(b["ratios"]["quality"]["hit@1"])


@pytest.mark.parametrize("name", [GUIDE, FAQ])
def test_a_synthetic_copy_is_cut_like_its_original(name):
    """The variant of every passage is the passage of the variant: what lets a derived
    vector stand for the model's at 10x and 100x."""
    text = (CORPUS / name).read_text(encoding="utf-8")
    for k in (1, 7, 99):
        original = chunk_sections(parse_markdown(name, text))
        copy = chunk_sections(parse_markdown(name, variant_text(text, k)))
        assert [variant_text(p.embed_text, k) for p in original] == [p.embed_text for p in copy]
        assert [[variant_text(s, k) for s in p.sentences] for p in original] == [p.sentences for p in copy]
        assert [p.question and variant_text(p.question, k) for p in original] == [p.question for p in copy]
        assert sum(p.embed_text != c.embed_text for p, c in zip(original, copy)) > len(original) // 2
