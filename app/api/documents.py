"""/api/v1/documents and /api/v1/jobs: upload (a job with its progress), list, get, delete, and the
image of a page. Every call is scoped to the token's user by the services themselves."""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which name the
# dependency aliases made inside router().

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from app.api.errors import ApiError, request_id
from app.api.services import ApiServices
from app.api.types import UtcDatetime
from app.audit import audit
from app.auth.tokens import TokenUser
from app.documents.jobs import FileJob
from app.documents.registry import DocumentInfo
from app.errors import NotFound, QuotaExceeded

MAX_PAGE = 10_000


class Document(BaseModel):
    id: str
    name: str
    status: str  # queued | indexing | ready | failed
    pages: int
    chunks: int
    size_bytes: int
    ocr_pages: int
    error: str | None
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @classmethod
    def of(cls, d: DocumentInfo) -> "Document":
        return cls.model_validate(d.model_dump())


class DocumentList(BaseModel):
    documents: list[Document]
    total: int
    offset: int


class Job(BaseModel):
    id: int
    file: str
    stage: str  # queued, reading, recognising, embedding, ..., done | failed
    done: int
    total: int
    message: str  # done: ingested | replaced | unchanged; failed: why
    finished: bool
    # message "unchanged" because another of the owner's documents holds the same bytes: its name
    # (the file is not added under its own name; the content stays searchable under that one)
    duplicate_of: str | None = None

    @classmethod
    def of(cls, j: FileJob) -> "Job":
        return cls(
            id=j.id,
            file=j.file,
            stage=j.stage,
            done=j.done,
            total=j.total,
            message=j.message,
            finished=j.finished,
            duplicate_of=j.duplicate_of or None,
        )


class JobList(BaseModel):
    jobs: list[Job]


def router(services: ApiServices, read: object, write: object) -> APIRouter:
    r = APIRouter(tags=["documents"])
    Reader = Annotated[TokenUser, Depends(read)]
    Writer = Annotated[TokenUser, Depends(write)]

    def owner(user: TokenUser, library: str | None, need: str = "reader") -> str:
        """The user's own workspace, or a team library they are in with at least role `need`
        (read from the database on each request; any other library is "not found")."""
        if library is None:
            return user.username
        return services.libraries.library(user.username, library, need).tenant  # type: ignore[arg-type]

    Library = Annotated[
        str | None, Query(max_length=128, description="a team library (its group's name); omitted: your own")
    ]

    @r.get("/documents", response_model=DocumentList, summary="List your (or a library's) documents, newest first")
    def list_documents(
        user: Reader,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
        library: Library = None,
    ) -> DocumentList:
        page = services.registry.page(owner(user, library), limit, offset)
        return DocumentList(documents=[Document.of(d) for d in page.documents], total=page.total, offset=page.offset)

    @r.get("/documents/{document_id}", response_model=Document, summary="One of your documents")
    def get_document(user: Reader, document_id: str) -> "Document":
        doc_id = _id(document_id)
        return Document.of(services.registry.get(services.libraries.tenant_of(user.username, doc_id), doc_id))

    @r.delete("/documents/{document_id}", status_code=204, summary="Delete one of your documents")
    def delete_document(user: Writer, document_id: str, request: Request) -> None:
        doc_id = _id(document_id)
        tenant = services.libraries.tenant_of(user.username, doc_id, need="editor")
        doc = services.registry.get(tenant, doc_id)
        services.ingestion.delete(tenant, doc.id)
        audit(
            "document.deleted",
            user.username,
            target=f"{tenant}/{doc.id}",
            name=doc.name,
            client=_client(request),
            token=user.prefix,
        )

    @r.get(
        "/documents/{document_id}/pages/{page}",
        summary="The image of one page (WebP)",
        response_class=FileResponse,
        responses={200: {"content": {"image/webp": {}}}},
    )
    def page_image(user: Reader, document_id: str, page: Annotated[int, PathParam(ge=1, le=MAX_PAGE)]) -> FileResponse:
        doc_id = _id(document_id)
        tenant = services.libraries.tenant_of(user.username, doc_id)
        doc = services.registry.get(tenant, doc_id)
        if doc.status != "ready" or not 1 <= page <= doc.pages:
            raise NotFound("no such page")
        path = services.pages.render_file(tenant, doc.id, page)
        return FileResponse(path, media_type="image/webp")

    @r.post(
        "/documents",
        status_code=202,
        response_model=Job,
        summary="Upload a PDF; answers at once with its ingestion job (follow it at /jobs/{id})",
    )
    async def upload(user: Writer, file: UploadFile, request: Request, library: Library = None) -> JSONResponse:
        tenant = owner(user, library, "editor")  # a library's uploads are its editors' and count against it
        name = (file.filename or "upload.pdf")[:255]
        if not name.lower().endswith(".pdf"):
            raise ApiError(415, "not_pdf", "only PDF files are accepted (a name ending in .pdf)")
        head = await file.read(5)
        if head != b"%PDF-":
            raise ApiError(415, "not_pdf", "the file is not a PDF")
        await file.seek(0)
        job = await run_in_threadpool(_submit, services, user, tenant, file, name, request)
        return JSONResponse(
            Job.of(job).model_dump(mode="json"), status_code=202, headers={"Location": f"/api/v1/jobs/{job.id}"}
        )

    @r.get("/jobs", response_model=JobList, summary="Your (or a library's) recent ingestion jobs, oldest first")
    def list_jobs(user: Reader, library: Library = None) -> JobList:
        return JobList(jobs=[Job.of(j) for j in services.ingest_queue.jobs(owner(user, library))])

    @r.get("/jobs/{job_id}", response_model=Job, summary="One ingestion job and its progress")
    def get_job(user: Reader, job_id: Annotated[int, PathParam(ge=1, le=2**62)], library: Library = None) -> "Job":
        found = next((j for j in services.ingest_queue.jobs(owner(user, library)) if j.id == job_id), None)
        if found is None:
            raise NotFound("no such job")
        return Job.of(found)

    return r


def _submit(
    services: ApiServices, user: TokenUser, tenant: str, file: UploadFile, name: str, request: Request
) -> FileJob:
    with tempfile.TemporaryDirectory(prefix="pdfqa-api-") as folder:
        path = Path(folder) / "upload.pdf"
        size = 0
        with open(path, "wb") as out:
            while chunk := file.file.read(1024 * 1024):
                size += len(chunk)
                if size > services.max_file_bytes:
                    raise ApiError(413, "too_large", f"a file may have at most {services.max_file_bytes // 1048576} MB")
                out.write(chunk)
        try:
            job = services.ingest_queue.submit(tenant, path, name, request_id=request_id(request))
        except QuotaExceeded as e:
            audit(
                "document.refused",
                user.username,
                outcome="refused",
                target=tenant,
                name=name,
                limit=e.limit,
                client=_client(request),
                token=user.prefix,
            )
            raise
    audit(
        "document.uploaded",
        user.username,
        target=tenant,
        name=job.file,
        client=_client(request),
        token=user.prefix,
    )
    return job


def _id(value: str) -> str:
    if len(value) > 64:
        raise NotFound("document not found")
    return value


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None
