"""Ingestion: PDF file -> pages -> chunks -> embeddings -> Qdrant, idempotent by content.

- Identical bytes already ingested by the same user under the same name: "unchanged", no
  embedding call. Under another name only: "unchanged" too, and the result names that document
  (`duplicate_of`): the content is searchable already, under the name it has.
- Same file name, new bytes: the new version is indexed, then the old one removed ("replaced"),
  even when the new bytes equal another of the user's documents (`duplicate_of` names it): a name
  given again always gets the content given with it.
- A crash mid-document leaves a registry row in "indexing" that no search sees; `resume()`
  (run by the CLI and the server at start) re-indexes it from the stored original.
- Pages without a usable text layer are recognised (documents.ocr); the registry keeps how many
  were, and their words with boxes for the page view. Whether the engine can run is said once,
  at start; without it, scanned PDFs are refused with that reason.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from loguru import logger
from pydantic import BaseModel

from app import metrics, telemetry
from app.config import DocumentSettings
from app.documents.indexing import DocumentIndexer, DocumentRef, Progress, ProgressFn
from app.documents.lease import renewing
from app.documents.names import display_name
from app.documents.pdf_reader import ReadLimits, check_file
from app.documents.pdf_text import PageText
from app.documents.registry import DocumentInfo, DocumentRegistry
from app.documents.scanned import OcrOptions, ocr_state
from app.errors import AppError, ConfigError, IngestError, QuotaExceeded
from app.models.embeddings import EmbeddingModel
from app.storage.files import FileStore
from app.storage.vector_store import VectorStore

if TYPE_CHECKING:
    from app.usage.quotas import QuotaService

Outcome = Literal["ingested", "unchanged", "replaced", "failed"]
NOTES_SHOWN = 3  # pages named in a document's note (the rest are counted)
_SAID: set[str] = set()  # what this process has already said about OCR (once, not per service)


class IngestResult(BaseModel):
    file: str
    outcome: Outcome
    doc_id: str | None = None
    pages: int = 0
    chunks: int = 0
    seconds: float = 0.0
    reason: str | None = None  # machine-friendly code when failed
    message: str | None = None  # user-facing explanation when failed; when ingested, the pages left unread
    recognised: int = 0  # pages whose text was recognised from their image (OCR)
    duplicate_of: str | None = None  # another of the user's documents with the same bytes (its name)


def check_chunk_size(settings: DocumentSettings, embedder: EmbeddingModel) -> None:
    """A chunk longer than the model reads would be cut silently: a configuration error."""
    if settings.chunk_size > embedder.max_tokens:
        raise ConfigError(
            f"documents.chunk_size is {settings.chunk_size} tokens but the embedding model "
            f"{embedder.name!r} reads at most {embedder.max_tokens}; longer chunks would be silently "
            f"truncated. Set documents.chunk_size to {embedder.max_tokens} or less."
        )


def ocr_options(settings: DocumentSettings) -> OcrOptions:
    return OcrOptions(
        mode=settings.ocr,
        engine=settings.ocr_engine,
        languages=tuple(settings.ocr_languages),
        page_timeout_s=settings.ocr_page_timeout_s,
    )


def check_ocr(settings: DocumentSettings) -> None:
    """Raises OcrUnavailable when text recognition is on but its engine cannot run (the admin
    console's state of the OCR engine)."""
    reason = ocr_state(ocr_options(settings))
    if reason:
        from app.documents.ocr import OcrUnavailable

        raise OcrUnavailable(reason)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class IngestionService:
    def __init__(
        self,
        settings: DocumentSettings,
        registry: DocumentRegistry,
        files: FileStore,
        store: VectorStore,
        embedder: EmbeddingModel,
        quotas: QuotaService | None = None,
        lease_s: float = 60.0,
    ) -> None:
        """`lease_s`: a document whose ingestion has not renewed its lease this long is taken over
        by `resume` (its process died); a live one, in this or another process, is left alone."""
        self._settings = settings
        self._lease_s = lease_s
        self._quotas = quotas  # documents, storage_mb and pages_per_day limits
        self._registry = registry
        self._files = files
        self._store = store
        self._embedder = embedder
        check_chunk_size(settings, embedder)
        self._owner_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        ocr = ocr_options(settings)
        limits = ReadLimits(
            max_pages=settings.max_pages,
            timeout_s=settings.parse_timeout_s,
            memory_mb=settings.parse_memory_mb,
            isolate=settings.isolate_parser,
            ocr=ocr,
        )
        self.indexer = DocumentIndexer(settings, store, embedder, limits)
        self.ocr_unavailable = ocr_state(ocr)
        said = f"{ocr.engine}:{self.ocr_unavailable}"
        if self.ocr_unavailable and said not in _SAID:
            _SAID.add(said)
            logger.warning(
                "OCR unavailable engine={} reason={}; scanned PDFs are refused", ocr.engine, self.ocr_unavailable
            )

    @property
    def quotas(self) -> QuotaService | None:
        """The quotas ingestion checks (the upload queue holds uploads against the same ones)."""
        return self._quotas

    def ingest_file(
        self, owner: str, path: Path, name: str | None = None, progress: ProgressFn | None = None
    ) -> IngestResult:
        """Ingest one PDF for `owner`. Never raises for a bad file: the result says what happened."""
        with telemetry.span("ingest") as note:
            result = self._ingest_file(owner, path, name, progress)
            note(outcome=result.outcome, pages=result.pages, chunks=result.chunks, reason=result.reason or "")
        metrics.INGESTED.labels(result.outcome).inc()
        if result.outcome == "failed":
            metrics.INGEST_FAILURES.labels(result.reason or "failed").inc()
        else:
            metrics.INGESTED_PAGES.inc(result.pages)
            metrics.INGESTED_CHUNKS.inc(result.chunks)
        if result.seconds:
            metrics.INGEST_SECONDS.observe(result.seconds)
        return result

    def _ingest_file(self, owner: str, path: Path, name: str | None, progress: ProgressFn | None) -> IngestResult:
        name = display_name(name or path.name)
        report = progress or (lambda _p: None)
        log = logger.bind(user=owner, file=name)
        started = time.perf_counter()
        try:
            self._check_size(path)
            sha = sha256_of(path)
            with self._owner_locks[owner]:
                same_bytes = self._registry.find(owner, sha256=sha)
                older = self._registry.find(owner, name=name)
                twin = next((d.name for d in same_bytes if d.name != name), None)
                if any(d.name == name for d in same_bytes) or (same_bytes and not older):
                    # Nothing to index: this name has these bytes already, or it is a new name for
                    # content the user has under another one (said plainly, never silently).
                    report(Progress(name, "done", message="unchanged"))
                    log.info("ingest unchanged sha={} duplicate_of={}", sha[:12], twin or "-")
                    return IngestResult(file=name, outcome="unchanged", duplicate_of=None if older else twin)
                for failed in self._registry.find(owner, name=name, statuses=("failed",)):
                    self._registry.remove(failed.id)  # a retry supersedes the earlier failure
                self._check_storage(owner, path.stat().st_size, replaced=older)
                self._files.put(owner, sha, path)
                doc = self._registry.create(owner, name, sha, path.stat().st_size, older[-1].id if older else None)
            pages, chunks, recognised, note = self._index(doc, path, report)
            for old in older:
                self.delete(owner, old.id)
        except AppError as e:
            reason = e.reason if isinstance(e, IngestError) else "quota" if isinstance(e, QuotaExceeded) else "service"
            report(Progress(name, "failed", message=str(e)))
            log.warning("ingest failed reason={} error={}", reason, e)
            return IngestResult(
                file=name,
                outcome="failed",
                reason=reason,
                message=str(e),
                seconds=time.perf_counter() - started,
            )
        seconds = time.perf_counter() - started
        log.info(
            "ingest done doc={} pages={} recognised={} chunks={} seconds={:.2f}",
            doc.id,
            pages,
            recognised,
            chunks,
            seconds,
        )
        if note:
            log.warning("ingest left pages unread doc={} note={}", doc.id, note)
        return IngestResult(
            file=name,
            outcome="replaced" if older else "ingested",
            doc_id=doc.id,
            pages=pages,
            chunks=chunks,
            seconds=seconds,
            message=note,
            recognised=recognised,
            duplicate_of=twin,
        )

    def _check_storage(self, owner: str, size: int, replaced: list[DocumentInfo]) -> None:
        """The user's documents and storage limits, counting this file and not the versions it replaces."""
        if self._quotas is None:
            return
        count, size_bytes = self._registry.kept_totals(owner, excluding=[d.id for d in replaced])
        self._quotas.check_storage(owner, count + 1, size_bytes + size)

    def _check_size(self, path: Path) -> None:
        check_file(path, self._settings.max_file_mb)  # size and PDF signature, before anything is stored

    def _index(self, doc: DocumentInfo, path: Path, report: ProgressFn) -> tuple[int, int, int, str | None]:
        """Read, chunk, embed and store one registered document; mark it ready or failed. Returns
        (pages, chunks, pages recognised, a note naming the pages left unread or None)."""

        def on_pages(count: int) -> None:  # the PDF has text: count its pages, before any embedding
            if self._quotas is not None:
                self._quotas.take_pages(doc.owner, count)
            self._registry.update(doc.id, pages=count)

        recognised: list[int] = []
        unread: list[str] = []

        def on_page(page: PageText) -> None:
            if page.ocr:
                self._registry.save_words(doc.id, page.number, page.words)
                recognised.append(page.number)
            if page.note:
                unread.append(f"p. {page.number}: {page.note}")

        self._registry.forget_words(doc.id)  # a resumed document is read again from its first page
        try:
            with renewing(self._lease_s / 3, lambda: self._registry.touch(doc.id), f"document {doc.id}"):
                ref = DocumentRef(doc.id, doc.owner, doc.name)
                pages, chunks = self.indexer.index(ref, path, report, on_pages, on_page)
        except BaseException as e:
            # Leave nothing behind that a later search could see or that would block a retry.
            self._store.delete_document(doc.owner, doc.id)
            self._registry.forget_words(doc.id)
            message = str(e) if isinstance(e, AppError) else "internal error while indexing"
            self._registry.update(doc.id, status="failed", error=message)
            if not self._registry.find(doc.owner, sha256=doc.sha256):
                self._files.delete(doc.owner, doc.sha256)
            raise
        note = _unread_note(unread)
        # A ready document's `error` says which pages could not be read (None: every page was).
        self._registry.update(doc.id, status="ready", chunks=chunks, ocr_pages=len(recognised), error=note)
        report(Progress(doc.name, "done", done=pages, total=pages))
        return pages, chunks, len(recognised), note

    def build_vectors(self, doc: DocumentInfo, path: Path) -> int:
        """Read, chunk, embed and store one already-registered document into this service's store,
        touching neither its row nor any quota (re-indexing into a new collection). Returns the
        number of chunks."""
        return self.indexer.index(DocumentRef(doc.id, doc.owner, doc.name), path)[1]

    def resume(
        self, owner: str | None = None, skip: Callable[[DocumentInfo], bool] = lambda _doc: False
    ) -> list[IngestResult]:
        """Finish documents a previous process left half-indexed (status queued/indexing), except
        those `skip` names (e.g. documents whose upload job is still queued or held by a worker)
        and those whose lease is still renewed (being ingested now, here or by another process)."""
        results = []
        for doc in self._registry.in_flight(owner):
            if skip(doc) or not self._registry.claim_stale(doc.id, self._lease_s):
                continue
            logger.bind(user=doc.owner).info("resuming interrupted ingestion doc={}", doc.id)
            self._store.delete_document(doc.owner, doc.id)
            if not self._files.exists(doc.owner, doc.sha256):
                self._registry.update(doc.id, status="failed", error="the original file is missing")
                continue
            started = time.perf_counter()
            try:
                with self._files.local_copy(doc.owner, doc.sha256) as local:
                    pages, chunks, recognised, note = self._index(doc, local, lambda _p: None)
                if doc.replaces:
                    self.delete(doc.owner, doc.replaces, missing_ok=True)
                results.append(
                    IngestResult(
                        file=doc.name,
                        outcome="ingested",
                        doc_id=doc.id,
                        pages=pages,
                        chunks=chunks,
                        seconds=time.perf_counter() - started,
                        message=note,
                        recognised=recognised,
                    )
                )
            except AppError as e:
                results.append(IngestResult(file=doc.name, outcome="failed", reason="service", message=str(e)))
        return results

    def delete(self, owner: str, doc_id: str, missing_ok: bool = False, keep_file: bool = False) -> None:
        """Remove a document: points first (so nothing stale can be found), then the row and file."""
        try:
            doc = self._registry.get(owner, doc_id)
        except AppError:
            if missing_ok:
                return
            raise
        self._store.delete_document(owner, doc_id)
        self._registry.remove(doc_id)
        if not keep_file and not self._registry.sha_in_use(owner, doc.sha256):
            self._files.delete(owner, doc.sha256)
        logger.bind(user=owner).info("document deleted doc={}", doc_id)


def _unread_note(unread: list[str]) -> str | None:
    """ "2 pages not read: p. 3: ...; p. 7: ..." for the pages that needed recognising and have no text."""
    if not unread:
        return None
    shown = "; ".join(unread[:NOTES_SHOWN]) + (
        f"; and {len(unread) - NOTES_SHOWN} more" if len(unread) > NOTES_SHOWN else ""
    )
    return f"{len(unread)} page{'s' if len(unread) > 1 else ''} not read: {shown}"
