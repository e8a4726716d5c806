"""GET /export/my-data: the signed-in user's own data as one zip (Settings > Your data).

The edge (app/web/edge.py) lets only a signed-in, allowed user reach this route and records who in
`request.state.user`, whatever the sign-in (password, single sign-on, trusted proxy, Hugging Face);
the archive is always of that user, never of a name in the request. It is built by the service
(app/admin/data_export.py) into a private temporary file under the data dir, sent, and removed once
sent or on any failure. One export per user at a time, and AT_ONCE in all, on each instance; a link
from another site is refused (no export started by someone else's page)."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from loguru import logger
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from app.admin.data_export import DataExport, default_file_name
from app.audit import audit
from app.errors import AppError, NotFound
from app.storage.file_cache import private_dirs

EXPORT_PATH = "/export/my-data"
AT_ONCE = 3  # archives built at the same time on one instance (each needs disk for a copy of the originals)
STALE_S = 6 * 3600  # an archive left behind (a process killed, a download cut) is removed by a later export


def export_router(exports: DataExport, folder: Path) -> APIRouter:
    router = APIRouter()
    busy: set[str] = set()
    lock = threading.Lock()

    @router.get(EXPORT_PATH, include_in_schema=False)
    async def export_my_data(request: Request) -> Response:
        user = getattr(request.state, "user", None)
        if not user:
            return JSONResponse({"detail": "not signed in"}, status_code=401)
        if request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
            return JSONResponse({"detail": "start the download from the app's Settings page"}, status_code=403)
        with lock:
            if user in busy:
                return JSONResponse({"detail": "your archive is being made already; wait for it"}, status_code=429)
            if len(busy) >= AT_ONCE:
                return JSONResponse({"detail": "other archives are being made; try again in a minute"}, status_code=429)
            busy.add(user)
        client = request.client.host if request.client else None
        try:
            path = await run_in_threadpool(_build, exports, folder, user)
        except AppError as e:
            with lock:
                busy.discard(user)
            status = 404 if isinstance(e, NotFound) else 503
            return JSONResponse({"detail": str(e)}, status_code=status)
        except OSError as e:  # the disk is full (the archive holds a copy of every original)
            with lock:
                busy.discard(user)
            logger.error("export failed user={} error={} errno={}", user, type(e).__name__, e.errno)
            return JSONResponse({"detail": "the archive could not be written on the server; try again later"}, 503)
        except BaseException:
            with lock:
                busy.discard(user)
            raise
        audit("user.exported", user, target=user, client=client)

        def done() -> None:
            path.unlink(missing_ok=True)
            with lock:
                busy.discard(user)

        return FileResponse(
            path, media_type="application/zip", filename=default_file_name(user), background=BackgroundTask(done)
        )

    return router


def _build(exports: DataExport, folder: Path, user: str) -> Path:
    private_dirs(folder)
    _remove_stale(folder)
    fd, name = tempfile.mkstemp(prefix="export-", suffix=".zip", dir=folder)
    os.close(fd)
    path = Path(name)
    try:
        exports.write(user, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _remove_stale(folder: Path) -> None:
    import time

    for old in folder.glob("export-*.zip"):
        try:
            if time.time() - old.stat().st_mtime > STALE_S:
                old.unlink()
        except OSError:
            logger.warning("could not remove an old export file={}", old.name)
