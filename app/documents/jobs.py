"""Background ingestion: uploads are queued and indexed on worker threads, so a long upload never
blocks anyone's chat. Per-file progress is kept in memory for the UI to poll."""

from __future__ import annotations

import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from loguru import logger

from app.documents.ingestion import IngestionService, IngestResult, Progress

KEEP_FINISHED = 50  # finished jobs shown per user


@dataclass
class FileJob:
    id: int
    owner: str
    file: str
    stage: str = "queued"
    done: int = 0
    total: int = 0
    message: str = ""
    result: IngestResult | None = field(default=None, repr=False)

    @property
    def finished(self) -> bool:
        return self.stage in ("done", "failed")


class IngestionQueue:
    def __init__(self, ingestion: IngestionService, workers: int, staging: Path) -> None:
        self._ingestion = ingestion
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingest")
        self._staging = staging
        staging.mkdir(parents=True, exist_ok=True)
        # Jobs live in this process only: copies staged by an earlier run have no job any more.
        for orphan in staging.glob("*.pdf"):
            orphan.unlink(missing_ok=True)
        self._jobs: dict[str, list[FileJob]] = {}
        self._lock = threading.Lock()
        self._next_id = 0

    def submit(self, owner: str, path: Path, name: str) -> FileJob:
        """Copy the upload aside (the web framework may delete its temp file) and queue it."""
        fd, staged_name = tempfile.mkstemp(suffix=".pdf", dir=self._staging)
        staged = Path(staged_name)
        try:
            with open(fd, "wb") as out, open(path, "rb") as src:
                shutil.copyfileobj(src, out)
        except BaseException:
            staged.unlink(missing_ok=True)  # never leave a half-copied file behind
            raise
        with self._lock:
            self._next_id += 1
            job = FileJob(id=self._next_id, owner=owner, file=name)
            jobs = self._jobs.setdefault(owner, [])
            jobs.append(job)
            finished = [j for j in jobs if j.finished]
            for old in finished[: max(0, len(finished) - KEEP_FINISHED)]:
                jobs.remove(old)
        self._pool.submit(self._run, job, staged)
        return job

    def jobs(self, owner: str) -> list[FileJob]:
        with self._lock:
            return [replace(j) for j in self._jobs.get(owner, [])]  # snapshots, safe to read unlocked

    def _run(self, job: FileJob, staged: Path) -> None:
        def update(p: Progress) -> None:
            with self._lock:
                job.stage, job.done, job.total = p.stage, p.done, p.total or job.total
                job.message = p.message

        try:
            result = self._ingestion.ingest_file(job.owner, staged, name=job.file, progress=update)
            with self._lock:
                job.result = result
                job.stage = "failed" if result.outcome == "failed" else "done"
                job.message = result.message or result.outcome
        except Exception:  # the queue must survive anything a single file does
            logger.bind(user=job.owner, file=job.file).exception("ingestion job crashed")
            with self._lock:
                job.stage, job.message = "failed", "internal error"
        finally:
            staged.unlink(missing_ok=True)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
