from pathlib import Path

import pytest

from app.config import load_settings
from app.errors import ConfigError
from tests.conftest import ROOT, make_settings


def test_env_overrides_yaml_with_nested_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("APP_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("APP_EMBEDDINGS__MODEL", "/models/e5")
    monkeypatch.setenv("APP_LLM__API_KEY", "sk-from-env")
    monkeypatch.setenv("APP_QDRANT__URL", "http://qdrant:6333")
    settings = load_settings(ROOT / "config.yaml")
    assert settings.data_dir == tmp_path / "elsewhere"
    assert settings.embeddings.model == "/models/e5"
    assert settings.llm.api_key is not None and settings.llm.api_key.get_secret_value() == "sk-from-env"
    assert "sk-from-env" not in repr(settings)  # SecretStr never prints
    assert settings.qdrant.url == "http://qdrant:6333"
    assert settings.llm.model == "gpt-4o-mini"  # untouched values still come from config.yaml


def test_secret_in_config_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("llm:\n  api_key: sk-oops\n")
    with pytest.raises(ConfigError, match=r"llm\.api_key"):
        load_settings(config)


def test_secret_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "APP_LLM__API_KEY").write_text("sk-from-file")
    monkeypatch.setenv("APP_SECRETS_DIR", str(secrets))
    settings = load_settings(ROOT / "config.yaml")
    assert settings.llm.api_key is not None and settings.llm.api_key.get_secret_value() == "sk-from-file"


def test_invalid_value_names_the_option(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("retrieval:\n  mode: fuzzy\n")
    with pytest.raises(ConfigError, match=r"retrieval\.mode"):
        load_settings(config)


def test_chunk_size_over_model_limit_is_a_startup_error(tmp_path: Path, local_embedder) -> None:
    from tests.conftest import container_for

    settings = make_settings(tmp_path, documents={"chunk_size": 400})
    container = container_for(settings, local_embedder)
    with pytest.raises(ConfigError, match=r"chunk_size is 400 .* at most 254"):
        _ = container.ingestion
    container.close()


def test_unknown_keys_are_refused_with_the_closest_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("llm:\n  modle: gpt-4o\n")
    with pytest.raises(ConfigError, match=r"llm\.modle: unknown setting .*did you mean llm\.model\?"):
        load_settings(config)
    monkeypatch.setenv("APP_RETRIEVAL__TOP_KK", "3")
    with pytest.raises(ConfigError, match=r"APP_RETRIEVAL__TOP_KK.*did you mean retrieval\.top_k\?"):
        load_settings(ROOT / "config.yaml")
    monkeypatch.delenv("APP_RETRIEVAL__TOP_KK")
    monkeypatch.setenv("APP_LOG_LEVLE", "DEBUG")  # top level: pydantic-settings never looks at it
    with pytest.raises(ConfigError, match=r"APP_LOG_LEVLE: unknown setting; did you mean APP_LOG_LEVEL\?"):
        load_settings(ROOT / "config.yaml")
    monkeypatch.delenv("APP_LOG_LEVLE")
    monkeypatch.setenv("APP_HOME", "/srv/other-software")  # the host's own, close to no setting
    assert load_settings(ROOT / "config.yaml").llm.model


def test_database_url_with_a_password_is_a_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("database:\n  url: postgresql+psycopg://app:s3cret@db/app\n")
    with pytest.raises(ConfigError, match=r"database\.url") as refused:
        load_settings(config)
    assert "s3cret" not in str(refused.value)
    monkeypatch.setenv("APP_DATABASE__URL", "postgresql+psycopg://app:s3cret@db/app")
    assert "s3cret" not in repr(load_settings(ROOT / "config.yaml"))


def test_old_throttle_key_still_works(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_AUTH__HARD_LOCK_FAILURES", "7")
    assert load_settings(ROOT / "config.yaml").auth.max_failures_per_address == 7
    monkeypatch.setenv("APP_SERVER__TRUSTED_PROXIES", '["not-a-network"]')
    with pytest.raises(ConfigError, match=r"server\.trusted_proxies"):
        load_settings(ROOT / "config.yaml")


def test_an_env_null_lifts_a_limit_set_in_the_config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("quotas:\n  questions_per_day: 10\n  documents: 5\n")
    monkeypatch.setenv("APP_QUOTAS__QUESTIONS_PER_DAY", "null")
    settings = load_settings(config)
    assert settings.quotas.questions_per_day is None and settings.quotas.documents == 5
