"""Ingestion: PDF file -> pages -> chunks -> embeddings -> Qdrant, idempotent by content.

- Identical bytes already ingested by the same user: "unchanged", no embedding call.
- Same file name, new bytes: the new version is indexed, then the old one removed ("replaced").
- A crash mid-document leaves a registry row in "indexing" that no search sees; `resume()`
  (run by the CLI and the server at start) re-indexes it from the stored original.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from llama_index.core.schema import MetadataMode, NodeRelationship, RelatedNodeInfo, TextNode
from loguru import logger
from pydantic import BaseModel

from app import metrics, telemetry
from app.config import DocumentSettings
from app.documents.chunking import Chunker
from app.documents.names import display_name
from app.documents.pdf_reader import PageText, ReadLimits, check_file, read_pdf
from app.documents.registry import DocumentInfo, DocumentRegistry
from app.documents.sections import SEPARATOR, SectionTracker
from app.errors import AppError, ConfigError, IngestError, QuotaExceeded
from app.models.embeddings import EmbeddingModel
from app.storage.files import FileStore
from app.storage.vector_store import TENANT_KEY, VectorStore

if TYPE_CHECKING:
    from app.usage.quotas import QuotaService

NODE_NAMESPACE = uuid.UUID("6f1c2b1e-9a55-4c2b-8f0e-3d7c1e0b9a11")
EMBED_BATCH = 64
META_KEYS = [TENANT_KEY, "file_name", "page", "page_label", "start", "end"]
SECTION_KEY = "section"  # the only metadata in the embedded (and sparse-encoded) text

Outcome = Literal["ingested", "unchanged", "replaced", "failed"]


class IngestResult(BaseModel):
    file: str
    outcome: Outcome
    doc_id: str | None = None
    pages: int = 0
    chunks: int = 0
    seconds: float = 0.0
    reason: str | None = None  # machine-friendly code when failed
    message: str | None = None  # user-facing explanation when failed


@dataclass(frozen=True)
class Progress:
    file: str
    stage: Literal["queued", "reading", "embedding", "done", "failed"]
    done: int = 0  # pages embedded so far
    total: int = 0  # pages in the file
    message: str = ""


ProgressFn = Callable[[Progress], None]


def check_chunk_size(settings: DocumentSettings, embedder: EmbeddingModel) -> None:
    """A chunk longer than the model reads would be cut silently: a configuration error."""
    if settings.chunk_size > embedder.max_tokens:
        raise ConfigError(
            f"documents.chunk_size is {settings.chunk_size} tokens but the embedding model "
            f"{embedder.name!r} reads at most {embedder.max_tokens}; longer chunks would be silently "
            f"truncated. Set documents.chunk_size to {embedder.max_tokens} or less."
        )


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
    ) -> None:
        self._settings = settings
        self._quotas = quotas  # documents, storage_mb and pages_per_day limits
        self._registry = registry
        self._files = files
        self._store = store
        self._embedder = embedder
        check_chunk_size(settings, embedder)
        self._chunker = Chunker(
            embedder.count_tokens, embedder.split_tokens, settings.chunk_size, settings.chunk_overlap
        )
        self._owner_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self._limits = ReadLimits(
            max_pages=settings.max_pages,
            timeout_s=settings.parse_timeout_s,
            memory_mb=settings.parse_memory_mb,
            isolate=settings.isolate_parser,
        )

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
                if self._registry.find(owner, sha256=sha):
                    report(Progress(name, "done", message="unchanged"))
                    log.info("ingest unchanged sha={}", sha[:12])
                    return IngestResult(file=name, outcome="unchanged")
                for failed in self._registry.find(owner, name=name, statuses=("failed",)):
                    self._registry.remove(failed.id)  # a retry supersedes the earlier failure
                older = self._registry.find(owner, name=name)
                self._check_storage(owner, path.stat().st_size, replaced=older)
                self._files.put(owner, sha, path)
                doc = self._registry.create(owner, name, sha, path.stat().st_size, older[-1].id if older else None)
            pages, chunks = self._index(doc, path, report)
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
        log.info("ingest done doc={} pages={} chunks={} seconds={:.2f}", doc.id, pages, chunks, seconds)
        return IngestResult(
            file=name,
            outcome="replaced" if older else "ingested",
            doc_id=doc.id,
            pages=pages,
            chunks=chunks,
            seconds=seconds,
        )

    def _check_storage(self, owner: str, size: int, replaced: list[DocumentInfo]) -> None:
        """The user's documents and storage limits, counting this file and not the versions it replaces."""
        if self._quotas is None:
            return
        gone = {d.id for d in replaced}
        kept = [d for d in self._registry.list(owner) if d.status != "failed" and d.id not in gone]
        self._quotas.check_storage(owner, len(kept) + 1, sum(d.size_bytes for d in kept) + size)

    def _check_size(self, path: Path) -> None:
        check_file(path, self._settings.max_file_mb)  # size and PDF signature, before anything is stored

    def _index(self, doc: DocumentInfo, path: Path, report: ProgressFn) -> tuple[int, int]:
        """Read, chunk, embed and store one registered document; mark it ready or failed."""
        try:
            report(Progress(doc.name, "reading"))
            pages = read_pdf(path, self._settings.pdf_parser, self._limits)
            if self._quotas is not None:
                self._quotas.take_pages(doc.owner, len(pages))
            self._registry.update(doc.id, pages=len(pages))
            nodes = self._nodes(doc, pages)
            self._embed_and_store(doc, nodes, len(pages), report)
        except BaseException as e:
            # Leave nothing behind that a later search could see or that would block a retry.
            self._store.delete_document(doc.owner, doc.id)
            message = str(e) if isinstance(e, AppError) else "internal error while indexing"
            self._registry.update(doc.id, status="failed", error=message)
            if not self._registry.find(doc.owner, sha256=doc.sha256):
                self._files.delete(doc.owner, doc.sha256)
            raise
        self._registry.update(doc.id, status="ready", chunks=len(nodes), error=None)
        report(Progress(doc.name, "done", done=len(pages), total=len(pages)))
        return len(pages), len(nodes)

    def _nodes(self, doc: DocumentInfo, pages: list[PageText]) -> list[TextNode]:
        nodes = []
        sections = SectionTracker()
        for page in pages:
            sections.start_page(page)
            for i, chunk in enumerate(self._chunker.split(page.text)):
                metadata: dict[str, str | int] = {
                    TENANT_KEY: doc.owner,
                    "file_name": doc.name,
                    "page": page.number,
                    "page_label": page.label,
                    "start": chunk.start,
                    "end": chunk.end,
                }
                if self._settings.section_context:
                    section = self._section_header(sections.path(chunk.start, chunk.end), chunk.tokens)
                    if section:
                        metadata[SECTION_KEY] = section
                node = TextNode(
                    id_=str(uuid.uuid5(NODE_NAMESPACE, f"{doc.id}:{page.number}:{i}")),
                    text=chunk.text,
                    metadata=metadata,
                    excluded_embed_metadata_keys=META_KEYS,
                    excluded_llm_metadata_keys=[*META_KEYS, SECTION_KEY],
                    metadata_template="{value}",
                    start_char_idx=chunk.start,
                    end_char_idx=chunk.end,
                )
                node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=doc.id)
                nodes.append(node)
        if not nodes:
            raise IngestError("the PDF has no extractable text", reason="no_text")
        return nodes

    def _section_header(self, titles: list[str], chunk_tokens: int) -> str:
        """The section path, outermost levels dropped until it fits beside the chunk in the
        embedding model's input (the model would silently cut the chunk's tail otherwise)."""
        # max_tokens already leaves out the model's special tokens; 4 spare for the blank line
        # between header and chunk and for word-pieces that merge differently at the joint.
        budget = self._embedder.max_tokens - chunk_tokens - 4
        while titles:
            header = SEPARATOR.join(titles)
            if self._embedder.count_tokens([header])[0] <= budget:
                return header
            titles = titles[1:]
        return ""

    def build_vectors(self, doc: DocumentInfo, path: Path) -> int:
        """Read, chunk, embed and store one already-registered document into this service's store,
        touching neither its row nor any quota (re-indexing into a new collection). Returns the
        number of chunks."""
        pages = read_pdf(path, self._settings.pdf_parser, self._limits)
        nodes = self._nodes(doc, pages)
        self._embed_and_store(doc, nodes, len(pages), lambda _p: None)
        return len(nodes)

    def _embed_and_store(self, doc: DocumentInfo, nodes: list[TextNode], n_pages: int, report: ProgressFn) -> None:
        report(Progress(doc.name, "embedding", done=0, total=n_pages))
        for i in range(0, len(nodes), EMBED_BATCH):
            batch = nodes[i : i + EMBED_BATCH]
            vectors = self._embedder.embed_documents([n.get_content(MetadataMode.EMBED) for n in batch], doc.owner)
            for node, vector in zip(batch, vectors, strict=True):
                node.embedding = vector
            self._store.add(batch)
            report(Progress(doc.name, "embedding", done=int(batch[-1].metadata["page"]), total=n_pages))

    def resume(
        self, owner: str | None = None, skip: Callable[[DocumentInfo], bool] = lambda _doc: False
    ) -> list[IngestResult]:
        """Finish documents a previous process left half-indexed (status queued/indexing), except
        those `skip` names (e.g. documents whose upload job is still queued or held by a worker)."""
        results = []
        for doc in self._registry.in_flight(owner):
            if skip(doc):
                continue
            logger.bind(user=doc.owner).info("resuming interrupted ingestion doc={}", doc.id)
            self._store.delete_document(doc.owner, doc.id)
            if not self._files.exists(doc.owner, doc.sha256):
                self._registry.update(doc.id, status="failed", error="the original file is missing")
                continue
            started = time.perf_counter()
            try:
                with self._files.local_copy(doc.owner, doc.sha256) as local:
                    pages, chunks = self._index(doc, local, lambda _p: None)
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
