"""/healthz (the process is alive) and /readyz (Qdrant, the database and the file store answer)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from loguru import logger

from app.container import Container


def health_router(container: Container) -> APIRouter:
    router = APIRouter()

    @router.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        checks = {
            "database": container.db.ping,
            "qdrant": container.vector_store.ping,
            "files": container.files.ping,
        }
        failed = {}
        for name, check in checks.items():
            try:
                check()
            except Exception as e:  # report which dependency is down, never the exception text
                logger.warning("readiness check failed check={} error={}", name, type(e).__name__)
                failed[name] = f"{name} is not answering ({type(e).__name__})"
        if failed:
            return JSONResponse({"status": "unavailable", "failed": failed}, status_code=503)
        return JSONResponse({"status": "ready"})

    return router
