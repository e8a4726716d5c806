"""The one typed settings object: config.yaml, overridden by APP_* environment variables.

Precedence (highest first): explicit overrides passed to `load_settings`, environment variables
(`APP_` prefix, `__` between nesting levels, e.g. `APP_LLM__API_KEY`), secret files
(`/run/secrets/APP_LLM__API_KEY` or `APP_SECRETS_DIR`), then config.yaml. Secrets are refused in
config.yaml so that a committed config file can never carry one.

This module holds the root `Settings` and its loader (sources, secret-free YAML, readable errors);
the sections it composes live in `app.config_sections` (pipeline, models, stores) and
`app.config_server` (serving), and are importable from here as before.
"""

from __future__ import annotations

import difflib
import os
import re
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from pydantic_settings import (
    BaseSettings,
    NestedSecretsSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from app.config_sections import (
    DEFAULT_PRICES,
    ApiSettings,
    CacheSettings,
    ChatSettings,
    DatabaseSettings,
    DocumentSettings,
    EmbeddingSettings,
    FilesSettings,
    LLMSettings,
    ModelPrice,
    QdrantSettings,
    QuotaSettings,
    RerankSettings,
    RetentionSettings,
    RetrievalSettings,
    Secret,
)
from app.config_server import AuthSettings, MetricsSettings, OtelSettings, ServerSettings
from app.errors import ConfigError

# The names other modules import from here: the root, its loader and the sections it composes.
__all__ = [
    "ApiSettings",
    "AuthSettings",
    "CacheSettings",
    "ChatSettings",
    "DatabaseSettings",
    "DocumentSettings",
    "EmbeddingSettings",
    "FilesSettings",
    "LLMSettings",
    "MetricsSettings",
    "ModelPrice",
    "OtelSettings",
    "QdrantSettings",
    "QuotaSettings",
    "RerankSettings",
    "RetentionSettings",
    "RetrievalSettings",
    "ServerSettings",
    "Settings",
    "default_config_file",
    "load_settings",
]

SECRET_KEYS = frozenset({"api_key", "password", "admin_password", "client_secret", "secret_key", "token"})

_config_file: ContextVar[Path | None] = ContextVar("config_file", default=None)


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
    retention: RetentionSettings = RetentionSettings()
    api: ApiSettings = ApiSettings()

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
