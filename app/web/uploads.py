"""Files users upload through Gradio, between the upload request and the moment they are submitted.

Gradio writes each upload to its own upload folder and later hands the event handler a *path*.
That path comes from the browser's request, so the handler must never trust it: only a regular
file inside the upload folder is accepted, and every refusal looks the same (no probing the disk).
The ledger bounds how much one user may leave there without submitting it.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from loguru import logger

from app.errors import AppError


class UploadRefused(AppError):
    """A path that is not one of this server's uploads (same message whatever the reason)."""


class UploadLedger:
    """Per-user list of uploaded-but-not-submitted files on this instance (Gradio's upload folder is
    local to the instance, so this state is too)."""

    def __init__(self, upload_folder: str | Path) -> None:
        self.folder = Path(os.path.realpath(upload_folder))
        self._files: dict[str, set[str]] = {}
        self._in_flight: dict[str, int] = {}  # bytes of this user's upload requests still being received
        self._lock = threading.Lock()

    def begin(self, user: str, size: int, limit: int) -> bool:
        """Reserve `size` bytes for an upload request, if the user's uploads waiting here plus those
        still arriving stay within `limit`; False refuses it. Simultaneous requests each see the
        others' reservations (checking only finished uploads let N parallel requests all pass)."""
        waiting = self.pending_bytes(user)
        with self._lock:
            arriving = self._in_flight.get(user, 0)
            if waiting + arriving + size > limit:
                return False
            self._in_flight[user] = arriving + size
        return True

    def end(self, user: str, size: int) -> None:
        """The request is over (its files, if any, are now counted by `record`)."""
        with self._lock:
            left = self._in_flight.get(user, 0) - size
            if left > 0:
                self._in_flight[user] = left
            else:
                self._in_flight.pop(user, None)

    def record(self, user: str, response_body: bytes) -> None:
        """Remember the paths an upload request wrote (Gradio answers with their list)."""
        try:
            paths = json.loads(response_body)
        except ValueError:
            return
        if not isinstance(paths, list):
            return
        with self._lock:
            self._files.setdefault(user, set()).update(os.path.realpath(p) for p in paths if isinstance(p, str))

    def pending_bytes(self, user: str) -> int:
        with self._lock:
            paths = set(self._files.get(user, ()))
        total, gone = 0, set()
        for p in paths:
            try:
                total += os.stat(p).st_size
            except OSError:
                gone.add(p)  # submitted, or removed by Gradio's cache clean-up
        if gone:
            with self._lock:
                self._files.get(user, set()).difference_update(gone)
        return total

    def accept(self, path: str | Path) -> Path:
        """The real path of an uploaded file, or UploadRefused. Symlinks and anything outside the
        upload folder (the data dir, system files, another instance's folder) are refused alike."""
        candidate = Path(path)
        try:
            real = Path(os.path.realpath(candidate))
            inside = real.is_relative_to(self.folder) and real != self.folder
            ok = inside and not candidate.is_symlink() and real.is_file()
        except (OSError, ValueError):
            ok = False
        if not ok:
            logger.warning("refused a file path that is not an upload")
            raise UploadRefused("this file was not uploaded here; please upload it again")
        return real

    def release(self, user: str, path: Path) -> None:
        """The file was submitted: delete Gradio's copy so it no longer counts (or lingers)."""
        key = str(path)
        with self._lock:
            self._files.get(user, set()).discard(key)
            # Gradio names uploads by their content: another user may hold the very same file.
            shared = any(key in files for files in self._files.values())
        if not shared:
            path.unlink(missing_ok=True)
