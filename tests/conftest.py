"""Shared fixtures: real embedded Qdrant, the real local embedding model, real PDFs, and an
OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings, load_settings
from app.container import Container
from app.models.embeddings import EmbeddingModel, build_embedding_model
from tests.fixtures.llm_server import FakeOpenAIServer, default_reply

# The API tests' running server (one per pytest worker, shared by tests/test_api_*.py).
pytest_plugins = ["tests.fixtures.api"]

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Tests never read a developer's own config or secrets.
os.environ.pop("APP_CONFIG", None)
os.environ["APP_SECRETS_DIR"] = str(Path(__file__).parent / "no-secrets")


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    return load_settings(ROOT / "config.yaml", data_dir=data_dir, **overrides)


@pytest.fixture(scope="session")
def local_embedder() -> EmbeddingModel:
    """The packaged all-MiniLM-L6-v2, loaded once for the whole session."""
    return build_embedding_model(make_settings(Path("/nonexistent")).embeddings)


@pytest.fixture(scope="session")
def llm_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def llm(llm_server: FakeOpenAIServer) -> Iterator[FakeOpenAIServer]:
    """The session's LLM server, reset before and after each test."""
    llm_server.reset()
    llm_server.reply_fn = default_reply
    yield llm_server
    llm_server.reset()
    llm_server.reply_fn = default_reply
    llm_server.timeout_sleep = 30.0


def container_for(settings: Settings, embedder: EmbeddingModel | None = None) -> Container:
    container = Container(settings)
    if embedder is not None:
        container.__dict__["embedder"] = embedder  # share the loaded model between containers
    return container


@pytest.fixture
def container(tmp_path: Path, local_embedder: EmbeddingModel) -> Iterator[Container]:
    """A fresh workspace (SQLite, embedded Qdrant, file store) with the local model, no LLM."""
    c = container_for(make_settings(tmp_path / "data"), local_embedder)
    yield c
    c.close()


@pytest.fixture(scope="session")
def library(tmp_path_factory: pytest.TempPathFactory, local_embedder: EmbeddingModel) -> Iterator[Container]:
    """One workspace, shared by read-only tests: alice owns the four real PDFs, bob owns natbib only."""
    settings = make_settings(tmp_path_factory.mktemp("library") / "data")
    c = container_for(settings, local_embedder)
    for name in ("natbib.pdf", "hyperref-doc.pdf", "jbtxdoc.pdf", "bxjscls-manual.pdf"):
        result = c.ingestion.ingest_file("alice", DATA / name)
        assert result.outcome == "ingested", result
    assert c.ingestion.ingest_file("bob", DATA / "natbib.pdf").outcome == "ingested"
    yield c
    c.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: SQLite in tmp_path, then a fresh one on the PostgreSQL server of this machine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.db'}"
    else:
        from tests.fixtures.postgres import fresh_database

        with fresh_database() as url:
            yield url
