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
from assistant.ops.bench.speed import COMPANIONS, FIGURES, MIN_SAMPLES, speed_figures, speed_lines

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
    "speed",
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
    for heading in ("Index build", "Latency ms", "HTTP /api/v1/ask", "Speed (x1)", "Ours vs naive LlamaIndex baseline"):
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
            # One model call per new question, whatever it embeds (the question as asked, its
            # form without "LIVC-R", a compound question's parts); none for a repeated one.
            assert new["model_calls_per_question"] == 1 and cached["model_calls_per_question"] == 0
            assert new["query_texts_per_question"] >= 1 and cached["query_texts_per_question"] == 0
        assert_percentiles(entry["latency_ms"]["query_embedding"]["new"], n)
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
            assert level["new_questions"] == level["requests"]  # every question distinct and new to the server
            assert positive(level["requests_per_s"]) and positive(level["seconds"])
            assert_percentiles(level["latency_ms"], level["ok"])
            # the server's own ask() time for every answered request, which the web layer adds to
            assert_percentiles(level["server_ask_ms"], level["ok"])
            assert level["server_ask_ms"]["p50"] <= level["latency_ms"]["p50"]


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


def assert_figure(figure: dict) -> None:
    """A speed figure: finite and positive with no reason, or None with one; its target beside it."""
    assert set(figure) == {"value", "target", "met", "reason", "inputs"}, figure
    assert len(figure["target"]) == 1 and set(figure["target"]) <= {"at_most", "at_least"}
    if figure["value"] is None:
        assert isinstance(figure["reason"], str) and figure["reason"] and figure["met"] is None
    else:
        assert positive(figure["value"]) and figure["reason"] is None and isinstance(figure["met"], bool)


def test_speed_figures_are_measured_or_null_with_a_reason(quick):
    result, data, _ = quick
    speed = data["speed"]
    assert speed["scale"] == 1 and set(FIGURES) | set(COMPANIONS) <= set(speed)
    for key in [*FIGURES, *COMPANIONS]:
        assert_figure(speed[key])
    # a count, given at any size; the p50 ratios need more questions than --quick asks
    assert (
        speed["model_calls_per_new_question"]["value"] == data["hot_path"]["model_calls_per_new_question"]["end_to_end"]
    )
    if data["questions"]["n"] < MIN_SAMPLES:
        assert speed["ask_p50_vs_query_embedding_p50"]["value"] is None
    for label, _, _ in [*FIGURES.values(), *COMPANIONS.values()]:
        assert label.split(" (")[0] in result.stdout


def _entry(n: int, levels=(1, 4, 16)) -> dict:
    summary = {"n": n, "p50": 40.0}
    return {
        "scale": 1,
        "latency_ms": {"end_to_end": {"new": summary}, "query_embedding": {"new": {"n": n, "p50": 32.0}}},
        "http": {
            "levels": [
                {
                    "clients": c,
                    "ok": 48,
                    "requests": 48,
                    "new_questions": 48,
                    "requests_per_s": 20.0 * c**0.25,
                    "latency_ms": {"p50": 60.0 * c},
                    "server_ask_ms": {"n": 48, "p50": 50.0 * c, "mean": 55.0 * c},
                }
                for c in levels
            ]
        },
    }


def test_speed_figures_from_a_run():
    """What each figure is computed from, its target, and why it is missing."""
    hot = {"model_calls_per_new_question": {"end_to_end": 1.55}}
    baseline = {
        "baseline": {"latency_ms": {"retrieval": {"n": 60, "p50": 20.0}}},
        "ratios": {"latency": {"end_to_end_new_p50": 2.0}},
    }
    speed = speed_figures(_entry(60), baseline, hot, 2)
    values = {key: speed[key]["value"] for key in FIGURES}
    assert values == {
        "model_calls_per_new_question": 1.55,
        "ask_p50_vs_baseline_p50": 2.0,
        "ask_p50_vs_query_embedding_p50": 1.25,
        "http_1_client_p50_vs_ask_p50": 1.5,
        "cores_put_to_use": 1.6,  # 40 req/s x 0.040 s
    }
    assert [speed[key]["met"] for key in FIGURES] == [False, False, False, False, True]
    # the companions divide by the server's own ask() time for the same requests
    assert speed["http_1_client_p50_vs_server_ask_p50"]["value"] == 1.2  # 60 / 50
    assert speed["cores_put_to_use_server_ask"]["value"] == 2.2  # 40 req/s x 0.055 s (the mean)
    for key in [*FIGURES, *COMPANIONS]:
        assert_figure(speed[key])
    table = "\n".join(speed_lines(speed))
    assert "1.55" in table and "≤ 1.05" in table and "≥ 1.5" in table

    few = speed_figures(_entry(6, levels=(1, 4)), None, hot, 2)
    assert few["model_calls_per_new_question"]["value"] == 1.55
    assert "baseline" in few["ask_p50_vs_baseline_p50"]["reason"]
    assert "fewer than" in few["ask_p50_vs_query_embedding_p50"]["reason"]
    assert "16 clients" in few["cores_put_to_use"]["reason"]
    assert "16 clients" in few["cores_put_to_use_server_ask"]["reason"]
    assert few["http_1_client_p50_vs_server_ask_p50"]["value"] == 1.2
    for key in [*FIGURES, *COMPANIONS]:
        assert_figure(few[key])
    assert "–" in "\n".join(speed_lines(few))


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
