"""Settings: one frozen struct, read once from ``FACTCHECK_*`` environment variables.

Every field can be set by an environment variable named ``FACTCHECK_`` plus the
field name in upper case (``FACTCHECK_STORE=/data/factcheck.db``). Tuple fields take
a comma-separated list. Tests and the CLI build their own ``Settings`` and pass it in.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from service.onnx_backend import Runtime
from service.store.ann import HnswParams

ENV_PREFIX = "FACTCHECK_"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_STANCE_MODEL = PROJECT_ROOT / "models" / "factcheck-nli-minilm-l6-v2"

PositiveInt = Annotated[int, Meta(ge=1)]
Fraction = Annotated[float, Meta(ge=0.0, le=1.0)]


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Everything configurable about one running service."""

    # Where the data lives: a SQLite file path (the embedded default), or a
    # postgresql:// URL for the shared PostgreSQL + pgvector store (several replicas).
    store: str = str(PROJECT_ROOT / "var" / "factcheck.db")
    # Models: a name (resolved offline to packaged weights where we ship them) or a path.
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    stance_model: str = str(DEFAULT_STANCE_MODEL)
    # Optional mapping of the stance model's label names to stances, e.g.
    # "LABEL_0=contradicts,LABEL_1=neutral,LABEL_2=supports"; empty uses the standard NLI names.
    stance_labels: str = ""
    # The fitted verdict model (service/judge/verdict.py, fitted by `factcheck fit-verdict`);
    # empty or missing: the plain threshold rule with uncalibrated confidence.
    verdict_model: str = str(PROJECT_ROOT / "models" / "verdict-model.json")
    device: str = "cpu"
    offline: bool = True

    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=0, le=65535)] = 8000
    cors_origins: tuple[str, ...] = ()
    demo_path: str = str(PROJECT_ROOT.parent / "shared" / "data" / "seeds")
    load_demo: bool = False  # ingest the demo corpus at start-up (unchanged documents are skipped)

    # Limits (validated by the API types too; here so a deployment can lower them).
    max_body_bytes: PositiveInt = 20_000_000
    max_statement_chars: PositiveInt = 2_000
    max_top_k: PositiveInt = 50
    max_documents_per_request: PositiveInt = 1_000
    max_json_depth: PositiveInt = 64  # arrays and objects in a body or stream line (deeper: 400)

    # Retrieval and judgement.
    candidates: PositiveInt = 50  # per retriever (dense, lexical) before fusion
    rrf_k: PositiveInt = 60
    # Candidates screened by the rules beyond top_k; those with a rule signal are returned
    # first (0: none). Only the returned passages go to the stance model.
    judge_extra: Annotated[int, Meta(ge=0, le=50)] = 5
    # Texts and pairs per forward pass, sorted by length first. Small passes pad little
    # (64 statements embed 1.55x faster in passes of 16 than in one), and a single check
    # waits for at most one pass of bulk work (service/priority.py): passes of 8 are
    # ~0.1 s on a 2-core VM and as fast per pair as 32 (bench/NOTES.md).
    embed_batch_size: PositiveInt = 8
    stance_batch_size: PositiveInt = 8
    # Worker threads for the engine's calls (ingests, checks' waits); their forward passes
    # take turns on the cores (service/priority.py).
    model_threads: PositiveInt = 4

    # Production: access control, limits, deadlines, shutdown, logs (see README "Operations").
    # API keys, one per line or comma: ``name:role:secret`` with role ``reader`` or ``writer``
    # and the secret given plainly or as ``sha256=<hex digest>``. Empty (and no file): no auth.
    api_keys: str = ""
    api_keys_file: str = ""  # a file in the same format (e.g. a mounted Kubernetes Secret)
    rate_limit: str = ""  # per API key (or client address without auth), e.g. "600/minute"
    request_timeout_s: Annotated[float, Meta(gt=0)] = 30.0  # deadline of one model call
    idempotency_ttl_s: Annotated[float, Meta(gt=0)] = 86_400.0  # Idempotency-Key lifetime
    drain_s: Annotated[float, Meta(ge=0)] = 5.0  # SIGTERM: readiness 503 this long, then stop
    # Slow clients (`factcheck serve`): a request's head must arrive within header_timeout_s,
    # each piece of its body within body_timeout_s of the last; connections (and request
    # tasks) at once beyond max_connections get 503 (0: the open-file limit less 128).
    header_timeout_s: Annotated[float, Meta(gt=0)] = 10.0
    body_timeout_s: Annotated[float, Meta(gt=0)] = 30.0
    max_connections: Annotated[int, Meta(ge=0)] = 0
    keep_alive_s: Annotated[int, Meta(ge=1)] = 5  # idle kept-alive connections are closed
    log_json: bool = True  # structured JSON log lines from `factcheck serve`
    # Batch scoring: one request's limit, and the micro-batcher that gathers statements
    # from concurrent requests into one embedding call and one stance call.
    max_batch_items: PositiveInt = 256  # statements per POST /v1/check/batch
    microbatch_size: PositiveInt = 64  # statements per model call at most
    # Batches run at once, each on its own worker thread (0: one per CPU core), besides the
    # single checks' lane. Their forward passes take turns (service/priority.py); more
    # workers overlap only retrieval and the rules. 1 here: a model call already runs on
    # every core (intra_op_threads_batch), and a second worker gave nothing on this VM.
    microbatch_workers: Annotated[int, Meta(ge=0)] = 1
    # Gather for this long before a model call. 0: take what is waiting and go; statements
    # that arrive while a call runs wait for it and form the next batch, so batches still
    # grow under load while a lone check waits for nothing (bench/NOTES.md).
    microbatch_wait_ms: Annotated[float, Meta(ge=0.0, le=1_000.0)] = 0.0
    queue_size: PositiveInt = 1_024  # statements waiting; beyond it checks answer 503
    # Fair admission to that queue (service/batching.py): one caller (API key, else client
    # address) may hold this share of it (429 beyond; never less than one whole batch),
    # one stream this share, and this share is kept for single checks (/v1/check, the
    # panel's) that batches and streams cannot take (503 for them beyond the rest).
    queue_caller_share: Fraction = 0.5
    queue_stream_share: Fraction = 0.25
    queue_single_share: Fraction = 0.125
    stream_window: PositiveInt = 128  # statements of one stream in flight at once
    max_line_bytes: PositiveInt = 64_000  # one NDJSON line of the stream

    def __post_init__(self) -> None:
        if self.queue_size - self.single_reserve < self.max_batch_items:
            raise ValueError(
                f"queue_size ({self.queue_size}) less its share for single checks must hold "
                f"a whole batch (max_batch_items = {self.max_batch_items})"
            )

    @property
    def caller_quota(self) -> int:
        """Statements one caller may have waiting (at least one whole batch)."""
        return max(int(self.queue_size * self.queue_caller_share), self.max_batch_items)

    @property
    def stream_quota(self) -> int:
        """Statements one stream may have waiting."""
        return max(int(self.queue_size * self.queue_stream_share), 1)

    @property
    def single_reserve(self) -> int:
        """Places of the queue kept for single checks."""
        return int(self.queue_size * self.queue_single_share)

    # Speed (figures and the reasons for these defaults: bench/NOTES.md).
    # Vector search: exact, HNSW (usearch, int8, saved as <store>.hnsw), or auto: HNSW when
    # the store holds at least ann_min_claims searchable claims when it is opened.
    vector_index: Literal["auto", "exact", "hnsw"] = "auto"
    ann_min_claims: PositiveInt = 50_000
    # The graph (changing the first three rebuilds it at the next open) and its search:
    # see HnswParams for why these defaults.
    ann_dtype: Literal["i8", "f16", "f32"] = HnswParams.dtype
    ann_connectivity: Annotated[int, Meta(ge=4, le=128)] = HnswParams.connectivity
    ann_expansion_add: PositiveInt = HnswParams.expansion_add
    ann_expansion_search: PositiveInt = HnswParams.expansion_search
    ann_rescore: PositiveInt = HnswParams.rescore  # graph hits re-scored in float32
    # Lexical search in stores of 50k+ claims leaves out words found in more than this
    # fraction of the claims (1.0: never), keeping the 3 rarest: see SqliteStore._lexical_words.
    lexical_max_df: Fraction = 1.0
    # Lexical ranking of unfiltered searches: FTS5 alone, or FTS5's BM25 over the best
    # lexical_candidates of a tantivy index (saved as <store>.tantivy/), or auto: tantivy
    # when the store holds at least lexical_min_claims searchable claims when it is opened.
    # Filtered searches (source, date, document) always rank in FTS5.
    lexical_index: Literal["auto", "fts5", "tantivy"] = "auto"
    lexical_min_claims: PositiveInt = 50_000
    lexical_candidates: PositiveInt = 100  # recall@50 1.000 at 1M: bench/NOTES.md
    query_cache_size: Annotated[int, Meta(ge=0)] = 1024  # statement embeddings kept (LRU)
    # Model runtimes: torch in fp32 or bf16, or ONNX Runtime (exported locally into
    # onnx_cache) in fp32 or with int8 dynamic quantization; stance auto = torch-bf16 on a CPU
    # with bf16 units, else onnx (Runtime.resolve). Intra-op threads per model call (0: the
    # library's). ONNX fp32 gives torch's outputs (to 1e-6) about twice as fast as torch
    # fp32; bf16 stance judgements match fp32's on the held-out sets (model card) and run
    # 1.5x faster than ONNX fp32. One thread per call lets concurrent requests share the cores.
    embedding_backend: Literal["torch", "onnx", "onnx-int8"] = "onnx"
    stance_backend: Literal["auto", "torch", "torch-bf16", "onnx", "onnx-int8"] = "auto"
    intra_op_threads: Annotated[int, Meta(ge=0)] = 1
    # Intra-op threads for a model call of a whole batch or more (stance_batch_size pairs,
    # embed_batch_size texts: the batch path's), 0: all cores. Big calls gain from every core.
    intra_op_threads_batch: Annotated[int, Meta(ge=0)] = 0
    onnx_cache: str = str(PROJECT_ROOT / "var" / "onnx")
    # Backend and threads of each model call by its size, from a table measured on this
    # machine (service/runtime_table.py): "auto" (measured at the first start or by
    # `factcheck prepare`, saved in onnx_cache), "off" (the *_backend and intra_op_threads*
    # settings above for every call), or the path of a saved table.
    runtime_table: str = "auto"

    def hnsw(self) -> HnswParams:
        """The vector graph's parameters."""
        return HnswParams(
            dtype=self.ann_dtype,
            connectivity=self.ann_connectivity,
            expansion_add=self.ann_expansion_add,
            expansion_search=self.ann_expansion_search,
            rescore=self.ann_rescore,
        )

    def runtime(self, backend: str) -> Runtime:
        """How a model with ``backend`` runs under these settings."""
        return Runtime(
            backend=backend,
            threads=self.intra_op_threads,
            batch_threads=self.intra_op_threads_batch,
            onnx_cache=self.onnx_cache,
        ).resolve()

    def stance_label_map(self) -> dict[str, str] | None:
        """The ``stance_labels`` setting as a mapping, or None for the model's own names."""
        if not self.stance_labels.strip():
            return None
        pairs = (item.split("=", 1) for item in self.stance_labels.split(",") if item.strip())
        return {label.strip(): stance.strip() for label, stance in pairs}

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``FACTCHECK_*`` variables, then apply ``overrides``."""
        env = os.environ if env is None else env
        fields = {f.name: f for f in msgspec.structs.fields(cls)}
        raw: dict[str, Any] = {}
        for key, value in env.items():
            name = key[len(ENV_PREFIX) :].lower() if key.startswith(ENV_PREFIX) else None
            if name in fields:
                is_tuple = "tuple" in str(fields[name].type)
                raw[name] = (
                    [v.strip() for v in value.split(",") if v.strip()] if is_tuple else value
                )
        raw.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return msgspec.convert(raw, cls, strict=False)
        except msgspec.ValidationError as exc:
            raise ValueError(f"invalid setting: {exc}") from exc
