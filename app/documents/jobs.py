"""Background ingestion through jobs kept in the app database, so several instances share them.

An upload is accepted first (its name cleaned, its place in the user's documents and storage quotas
held in the database until its job ends), then put into the file store (shared by all instances)
and queued; any instance's worker claims it with a lease it renews while it works, reports progress
on the row (so the uploader's page sees it on whichever instance it talks to), and records the
outcome. A job whose worker died is taken over when its lease expires. One user's jobs run one at
a time across all instances, so a double upload yields one document.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from loguru import logger
from sqlalchemy import and_, exists, or_, select, text, update
from sqlalchemy.orm import aliased

from app.documents.indexing import Progress
from app.documents.ingestion import IngestionService, sha256_of
from app.documents.lease import renewing
from app.documents.names import display_name
from app.documents.registry import DocumentRegistry
from app.errors import QuotaExceeded
from app.storage.db import Database, IngestJob, utcnow
from app.storage.files import FileStore

KEEP_FINISHED = 50  # finished jobs shown per user
IN_FLIGHT = ("queued", "indexing")
ACCEPT_S = 900  # an upload being stored ("accepting") holds its quota this long at most
INTERRUPTED = "the upload was interrupted; please upload it again"
# A finished job's message is its outcome; "unchanged" for a new name of content the user has is
# stored with that document's name after this line break (a cleaned name holds none): FileJob splits
# them, so `message` stays the outcome word for the API and the UI names the document.
DUPLICATE_OF = "\n"


@dataclass(frozen=True)
class FileJob:
    """What the UI shows of one job."""

    id: int
    owner: str
    file: str
    stage: str
    done: int
    total: int
    message: str
    # done "unchanged" under a new name: the user's document that has these bytes (its name), which
    # keeps them; the name asked for was not added
    duplicate_of: str = ""

    @property
    def finished(self) -> bool:
        return self.stage in ("done", "failed")


class IngestionQueue:
    def __init__(
        self,
        db: Database,
        ingestion: IngestionService,
        registry: DocumentRegistry,
        files: FileStore,
        workers: int,
        lease_s: float = 60.0,
        poll_s: float = 1.0,
        start: bool = True,
        nice: int = 0,
    ) -> None:
        self._db = db
        self._ingestion = ingestion
        self._registry = registry
        self._files = files
        self._lease = timedelta(seconds=lease_s)
        self._poll_s = poll_s
        self._nice = nice
        self.instance = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads = [
            threading.Thread(target=self._work, name=f"ingest-{i}", daemon=True) for i in range(workers if start else 0)
        ]
        for t in self._threads:
            t.start()

    # ---- the web side -------------------------------------------------------------------------

    def submit(self, owner: str, path: Path, name: str, request_id: str | None = None) -> FileJob:
        """Accept an upload and queue it; returns at once. Its name is cleaned here, where it enters
        (`display_name`), so the jobs table, the logs and every view see the clean form. Its document
        and bytes are held against the user's quotas before anything is stored: over a limit it
        raises QuotaExceeded (the job is recorded as failed with that message). `request_id` (the
        upload's) is bound to every log line of the job, on whichever instance runs it."""
        name = display_name(name)
        sha = sha256_of(path)
        size = path.stat().st_size
        with self._db.session() as s:
            row = IngestJob(
                owner=owner,
                name=name[:255],
                sha256=sha,
                status="accepting",  # not claimable yet: the file is not in the store
                stage="queued",
                message="",
                request_id=(request_id or None) and request_id[:64],
                lease_until=utcnow() + timedelta(seconds=ACCEPT_S),
            )
            s.add(row)
            s.flush()
            job_id = row.id
        try:
            if self._ingestion.quotas is not None:
                self._ingestion.quotas.admit_upload(owner, job_id, size, name)
            self._files.put(owner, sha, path)
        except BaseException as e:
            refused = str(e) if isinstance(e, QuotaExceeded) else "the upload could not be stored; please try again"
            try:
                self._finish(job_id, "failed", refused)
            except Exception:  # the database is away: the job stops counting when its time is up
                logger.exception("upload job not marked failed job={}", job_id)
            raise
        with self._db.session() as s:
            s.execute(update(IngestJob).where(IngestJob.id == job_id).values(status="queued", lease_until=None))
            queued = s.get(IngestJob, job_id)
            assert queued is not None
            job = _view(queued)
        self._wake.set()
        return job

    def jobs(self, owner: str) -> list[FileJob]:
        """This user's recent jobs, oldest first (from any instance)."""
        with self._db.session() as s:
            rows = s.scalars(
                select(IngestJob).where(IngestJob.owner == owner).order_by(IngestJob.id.desc()).limit(KEEP_FINISHED)
            ).all()
            jobs = [_view(r) for r in reversed(rows)]
        now = utcnow()
        stale = [r.id for r in rows if r.status == "accepting" and r.lease_until is not None and r.lease_until < now]
        if stale:  # its process died while storing the file: it will never be queued
            with self._db.session() as s:
                s.execute(
                    update(IngestJob)
                    .where(IngestJob.id.in_(stale), IngestJob.status == "accepting")
                    .values(status="failed", stage="failed", message=INTERRUPTED, lease_until=None)
                )
            jobs = [replace(j, stage="failed", message=INTERRUPTED) if j.id in stale else j for j in jobs]
        return jobs

    def unfinished(self) -> set[tuple[str, str]]:
        """(owner, sha256) of every job not yet done: their documents are the workers' to finish
        (a job whose worker died is taken over with its lease), not the start-up resume's."""
        with self._db.session() as s:
            rows = s.execute(
                select(IngestJob.owner, IngestJob.sha256).where(IngestJob.status.in_(("queued", "running")))
            ).all()
            return {(owner, sha) for owner, sha in rows}

    # ---- the worker side ----------------------------------------------------------------------

    def claim(self) -> IngestJob | None:
        """Take the oldest job that is queued or whose lease expired, unless its user already has a
        job held by a live worker. Atomic across processes (see _claim_one)."""
        now = utcnow()
        with self._db.session() as s:
            other = aliased(IngestJob)
            busy = exists().where(other.owner == IngestJob.owner, other.status == "running", other.lease_until >= now)
            claimable = or_(
                IngestJob.status == "queued", and_(IngestJob.status == "running", IngestJob.lease_until < now)
            )
            candidates = s.scalars(select(IngestJob.id).where(claimable, ~busy).order_by(IngestJob.id).limit(5)).all()
        for job_id in candidates:
            claimed = self._claim_one(job_id, now)
            if claimed is not None:
                return claimed
        return None

    def _claim_one(self, job_id: int, now: datetime) -> IngestJob | None:
        with self._db.session() as s:
            owner = s.scalar(select(IngestJob.owner).where(IngestJob.id == job_id))
            if owner is None:
                return None
            if s.get_bind().dialect.name == "postgresql":
                # Serialise claims for one user: the NOT EXISTS below cannot see another
                # transaction's uncommitted claim under READ COMMITTED.
                s.execute(text("SELECT pg_advisory_xact_lock(hashtext(:owner))"), {"owner": owner})
            other = aliased(IngestJob)
            result = s.execute(
                update(IngestJob)
                .where(
                    IngestJob.id == job_id,
                    or_(IngestJob.status == "queued", and_(IngestJob.status == "running", IngestJob.lease_until < now)),
                    ~exists().where(
                        other.owner == owner, other.id != job_id, other.status == "running", other.lease_until >= now
                    ),
                )
                .values(
                    status="running",
                    lease_owner=self.instance,
                    lease_until=now + self._lease,
                    attempts=IngestJob.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 0) != 1:
                return None
            row = s.get(IngestJob, job_id)
            if row is not None:
                s.expunge(row)
            return row

    def run_one(self) -> bool:
        """Claim and process one job; False when there was nothing to do."""
        job = self.claim()
        if job is None:
            return False
        self._process(job)
        return True

    def _process(self, job: IngestJob) -> None:
        with logger.contextualize(request_id=job.request_id or "-", user=job.owner):
            self._process_job(job)

    def _process_job(self, job: IngestJob) -> None:
        log = logger.bind(user=job.owner, file=job.name, job=job.id)
        if job.attempts > 1:
            # Its worker died: whatever it left half-indexed for this file is removed first.
            self._discard_half_indexed(job)
            log.warning("ingestion job taken over attempts={}", job.attempts)

        def update_progress(p: Progress) -> None:
            self._update(job.id, stage=p.stage, done=p.done, total=p.total or 0, message=p.message or "")

        every_s = self._lease.total_seconds() / 3
        with renewing(every_s, lambda: self._renew_lease(job.id), f"job {job.id}"):
            try:
                if not self._files.exists(job.owner, job.sha256):
                    self._finish(job.id, "failed", "the uploaded file is gone; please upload it again")
                    return
                with self._files.local_copy(job.owner, job.sha256) as local:
                    result = self._ingestion.ingest_file(job.owner, local, name=job.name, progress=update_progress)
                if result.outcome == "failed":
                    self._finish(job.id, "failed", result.message or "failed")
                    if not self._registry.sha_in_use(job.owner, job.sha256):
                        self._files.delete(job.owner, job.sha256)  # nothing refers to the refused upload
                elif result.outcome == "unchanged" and result.duplicate_of:
                    self._finish(job.id, "done", result.outcome + DUPLICATE_OF + result.duplicate_of)
                else:
                    self._finish(job.id, "done", result.outcome)
            except Exception:  # the worker must survive anything a single file does
                log.exception("ingestion job crashed")
                self._finish(job.id, "failed", "internal error")

    def _discard_half_indexed(self, job: IngestJob) -> None:
        for doc in self._registry.find(job.owner, sha256=job.sha256, statuses=IN_FLIGHT):
            self._ingestion.delete(job.owner, doc.id, missing_ok=True, keep_file=True)

    def _renew_lease(self, job_id: int) -> None:
        with self._db.session() as s:
            s.execute(
                update(IngestJob)
                .where(IngestJob.id == job_id, IngestJob.lease_owner == self.instance)
                .values(lease_until=utcnow() + self._lease)
            )

    def _update(self, job_id: int, **values: object) -> None:
        with self._db.session() as s:
            s.execute(update(IngestJob).where(IngestJob.id == job_id).values(**values))

    def _finish(self, job_id: int, status: str, message: str) -> None:
        self._update(job_id, status=status, stage=status, message=message, lease_until=None)
        if self._ingestion.quotas is not None:
            try:  # tidying only: a finished job's hold counts for nothing already
                self._ingestion.quotas.end_upload(job_id)
            except Exception as e:
                logger.warning("upload hold left behind job={} error={}", job_id, type(e).__name__)

    def _work(self) -> None:
        _lower_priority(self._nice)
        while not self._stop.is_set():
            try:
                worked = self.run_one()
            except Exception:  # the database may be away for a moment: wait and retry
                logger.exception("ingestion worker could not claim a job")
                worked = False
            if not worked:
                self._wake.wait(self._poll_s)
                self._wake.clear()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        deadline = time.monotonic() + 5
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))


def _lower_priority(nice: int) -> None:
    """This worker thread (and what it starts: torch's worker threads, the PDF reader's process)
    yields the CPU to the threads answering questions. On Linux a thread has its own nice value,
    inherited by threads and processes it creates; elsewhere this is a no-op."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except OSError as e:
        logger.warning("ingestion priority unchanged nice={} error={}", nice, e)


def _view(row: IngestJob) -> FileJob:
    stage = row.stage if row.status == "running" else "queued" if row.status == "accepting" else row.status
    message, twin = row.message or "", ""
    if stage == "done" and DUPLICATE_OF in message:
        message, twin = message.split(DUPLICATE_OF, 1)
    return FileJob(
        id=row.id,
        owner=row.owner,
        file=row.name,
        stage=stage,
        done=row.done or 0,
        total=row.total or 0,
        message=message,
        duplicate_of=twin,
    )
