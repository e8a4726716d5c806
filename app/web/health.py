"""/healthz (the process is alive) and /readyz (Qdrant, the database and the file store answer)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from loguru import logger

from app.container import Container


def health_router(container: Container) -> APIRouter:
    router = APIRouter()
    # Probes run on a thread pool of their own: a server busy streaming answers (whose handlers
    # fill the shared worker threads) still answers its load balancer at once.
    probes = ThreadPoolExecutor(max_workers=2, thread_name_prefix="probe")

    @router.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        checks = {
            "database": container.db.ping,
            "qdrant": container.vector_store.ping,
            "files": container.files.ping,
        }
        loop = asyncio.get_running_loop()
        failed = {}
        for name, check in checks.items():
            try:
                await asyncio.wait_for(loop.run_in_executor(probes, check), timeout=10)
            except Exception as e:  # report which dependency is down, never the exception text
                logger.warning("readiness check failed check={} error={}", name, type(e).__name__)
                failed[name] = f"{name} is not answering ({type(e).__name__})"
        if failed:
            return JSONResponse({"status": "unavailable", "failed": failed}, status_code=503)
        return JSONResponse({"status": "ready"})

    return router
