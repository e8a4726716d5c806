"""GET /export/my-data: the signed-in user's own data as one zip (Settings > Your data).

The edge (app/web/edge.py) lets only a signed-in, allowed user reach this route and records who in
`request.state.user`, whatever the sign-in (password, single sign-on, trusted proxy, Hugging Face);
the archive is always of that user, never of a name in the request. It is built by the service
(app/admin/data_export.py) into a private temporary file under the data dir, sent, and removed once
sent or on any failure. One export per user at a time, and AT_ONCE in all, on each instance; a link
from another site is refused (no export started by someone else's page).

The Settings link is a plain link: the archive comes as an attachment, so the browser saves it and
stays on the page; a refusal comes as a short page saying why, with a way back (a browser shows
nothing useful for a failed download), or as JSON to a client that does not ask for HTML."""

from __future__ import annotations

import html
import os
import tempfile
import threading
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
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
            return _refused(request, 401, "not signed in")
        if request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
            return _refused(request, 403, "start the download from the app's Settings page")
        with lock:
            if user in busy:
                return _refused(request, 429, "your archive is being made already; wait for it")
            if len(busy) >= AT_ONCE:
                return _refused(request, 429, "other archives are being made; try again in a minute")
            busy.add(user)
        client = request.client.host if request.client else None
        try:
            path = await run_in_threadpool(_build, exports, folder, user)
        except AppError as e:
            with lock:
                busy.discard(user)
            status = 404 if isinstance(e, NotFound) else 503
            return _refused(request, status, str(e))
        except OSError as e:  # the disk is full (the archive holds a copy of every original)
            with lock:
                busy.discard(user)
            logger.error("export failed user={} error={} errno={}", user, type(e).__name__, e.errno)
            return _refused(request, 503, "the archive could not be written on the server; try again later")
        except BaseException:
            with lock:
                busy.discard(user)
            raise
        audit("user.exported", user, target=user, client=client)

        async def done() -> None:
            # On the event loop, not in a worker thread: a busy thread pool would otherwise keep the
            # user's slot taken after the archive was sent ("being made already" on the next click).
            # No await in here, so once the file is gone the slot is free too.
            path.unlink(missing_ok=True)
            with lock:
                busy.discard(user)

        return FileResponse(
            path, media_type="application/zip", filename=default_file_name(user), background=BackgroundTask(done)
        )

    return router


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Your data</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem">
<h1 style="font-size: 1.3rem">Your archive could not be made</h1>
<p id="export-refused">{detail}</p>
<p><a href="/">Back to the app</a></p>
</body></html>"""


def _refused(request: Request, status: int, detail: str) -> Response:
    """Why no archive: a page for a browser that followed the Settings link, JSON otherwise."""
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(PAGE.format(detail=html.escape(detail[:1].upper() + detail[1:] + ".")), status_code=status)
    return JSONResponse({"detail": detail}, status_code=status)


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
