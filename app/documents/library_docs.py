"""A team library's documents, for its members: list them and follow their uploads (readers), upload
and delete (editors and owners). One service for the web page, the CLI and the API. Every call
reads the caller's role from the database first (app/auth/libraries.py), then acts on the
library's tenant with the same registry, queue and ingestion as a user's own documents, so the
library's uploads are held against the library's documents and storage quotas.

A library the caller is not a member of is "not found", whatever it holds.
"""

from __future__ import annotations

from pathlib import Path

from app.audit import audit
from app.auth.libraries import Library, LibraryAccess, is_library
from app.documents.ingestion import IngestionService
from app.documents.jobs import FileJob, IngestionQueue
from app.documents.registry import DocumentInfo, DocumentPage, DocumentRegistry
from app.errors import NotFound


class LibraryDocuments:
    def __init__(
        self,
        access: LibraryAccess,
        registry: DocumentRegistry,
        ingestion: IngestionService,
        queue: IngestionQueue | None = None,
    ) -> None:
        self._access = access
        self._registry = registry
        self._ingestion = ingestion
        self._queue = queue

    def libraries(self, user: str) -> list[Library]:
        return self._access.libraries(user)

    def library(self, user: str, library: str, need: str = "reader") -> Library:
        """The caller's library by name or tenant, with at least role `need`; NotFound otherwise."""
        return self._access.library(user, library, need)  # type: ignore[arg-type]

    def tenant_of(self, user: str, doc_id: str) -> str:
        """Whose document `doc_id` is, as far as `user` may read it (see LibraryAccess.tenant_of)."""
        return self._access.tenant_of(user, doc_id)

    def documents(self, user: str, library: str, limit: int) -> tuple[Library, DocumentPage]:
        lib = self.library(user, library)
        return lib, self._registry.page(lib.tenant, limit)

    def indexing(self, user: str, library: str) -> bool:
        lib = self.library(user, library)
        return self._registry.count(lib.tenant, ("queued", "indexing")) > 0

    def jobs(self, user: str, library: str) -> list[FileJob]:
        lib = self.library(user, library)
        return self._queue.jobs(lib.tenant) if self._queue is not None else []

    def submit(self, user: str, library: str, path: Path, name: str, request_id: str | None = None) -> FileJob:
        """Queue an upload into the library (editors): held against the library's quotas."""
        if self._queue is None:
            raise NotFound("uploads are not accepted here")
        lib = self.library(user, library, "editor")
        job = self._queue.submit(lib.tenant, path, name, request_id=request_id)
        audit("document.uploaded", user, target=lib.tenant, name=job.file, library=lib.name)
        return job

    def delete(self, user: str, doc_id: str) -> DocumentInfo:
        """Delete a library document (its library's editors): the same removal as a user's own."""
        tenant = self._access.tenant_of(user, doc_id, need="editor")
        if not is_library(tenant):  # not a library document this user may change
            raise NotFound("document not found")
        doc = self._registry.get(tenant, doc_id)
        self._ingestion.delete(tenant, doc_id)
        audit("document.deleted", user, target=f"{tenant}/{doc_id}", name=doc.name)
        return doc
