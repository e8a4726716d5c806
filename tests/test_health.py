"""/healthz and /readyz, and what a failing Qdrant looks like to callers."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.container import Container
from app.errors import ServiceUnavailable
from app.web.health import health_router


def test_readiness_reports_a_failed_vector_store(container: Container) -> None:
    app = FastAPI()
    app.include_router(health_router(container))
    client = TestClient(app)
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    container.vector_store.client.close()  # Qdrant goes away
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert set(body["failed"]) == {"qdrant"} and "Traceback" not in response.text
    assert client.get("/healthz").status_code == 200  # the process itself is still alive


def test_queries_against_a_failed_vector_store_raise_a_domain_error(container: Container) -> None:
    from tests.conftest import DATA

    assert container.ingestion.ingest_file("alice", DATA / "jbtxdoc.pdf").outcome == "ingested"
    container.vector_store.client.close()
    with pytest.raises(ServiceUnavailable, match="vector store"):
        container.retriever.retrieve("alice", "文献データベース")
    # The registry still says ready: nothing was corrupted by the failed query.
    assert [d.status for d in container.registry.list("alice")] == ["ready"]
