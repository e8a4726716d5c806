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
    message: str
    finished: bool

    @classmethod
    def of(cls, j: FileJob) -> "Job":
        return cls(
            id=j.id, file=j.file, stage=j.stage, done=j.done, total=j.total, message=j.message, finished=j.finished
        )


class JobList(BaseModel):
    jobs: list[Job]


def router(services: ApiServices, read: object, write: object) -> APIRouter:
    r = APIRouter(tags=["documents"])
    Reader = Annotated[TokenUser, Depends(read)]
    Writer = Annotated[TokenUser, Depends(write)]

    @r.get("/documents", response_model=DocumentList, summary="List your documents, newest first")
    def list_documents(
        user: Reader, limit: Annotated[int, Query(ge=1, le=200)] = 50, offset: Annotated[int, Query(ge=0, le=10**9)] = 0
    ) -> DocumentList:
        page = services.registry.page(user.username, limit, offset)
        return DocumentList(documents=[Document.of(d) for d in page.documents], total=page.total, offset=page.offset)

    @r.get("/documents/{document_id}", response_model=Document, summary="One of your documents")
    def get_document(user: Reader, document_id: str) -> "Document":
        return Document.of(services.registry.get(user.username, _id(document_id)))

    @r.delete("/documents/{document_id}", status_code=204, summary="Delete one of your documents")
    def delete_document(user: Writer, document_id: str, request: Request) -> None:
        doc = services.registry.get(user.username, _id(document_id))
        services.ingestion.delete(user.username, doc.id)
        audit(
            "document.deleted",
            user.username,
            target=f"{user.username}/{doc.id}",
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
        doc = services.registry.get(user.username, _id(document_id))
        if doc.status != "ready" or not 1 <= page <= doc.pages:
            raise NotFound("no such page")
        path = services.pages.render_file(user.username, doc.id, page)
        return FileResponse(path, media_type="image/webp")

    @r.post(
        "/documents",
        status_code=202,
        response_model=Job,
        summary="Upload a PDF; answers at once with its ingestion job (follow it at /jobs/{id})",
    )
    async def upload(user: Writer, file: UploadFile, request: Request) -> JSONResponse:
        name = (file.filename or "upload.pdf")[:255]
        if not name.lower().endswith(".pdf"):
            raise ApiError(415, "not_pdf", "only PDF files are accepted (a name ending in .pdf)")
        head = await file.read(5)
        if head != b"%PDF-":
            raise ApiError(415, "not_pdf", "the file is not a PDF")
        await file.seek(0)
        job = await run_in_threadpool(_submit, services, user, file, name, request)
        return JSONResponse(
            Job.of(job).model_dump(mode="json"), status_code=202, headers={"Location": f"/api/v1/jobs/{job.id}"}
        )

    @r.get("/jobs", response_model=JobList, summary="Your recent ingestion jobs, oldest first")
    def list_jobs(user: Reader) -> JobList:
        return JobList(jobs=[Job.of(j) for j in services.ingest_queue.jobs(user.username)])

    @r.get("/jobs/{job_id}", response_model=Job, summary="One ingestion job and its progress")
    def get_job(user: Reader, job_id: Annotated[int, PathParam(ge=1, le=2**62)]) -> "Job":
        found = next((j for j in services.ingest_queue.jobs(user.username) if j.id == job_id), None)
        if found is None:
            raise NotFound("no such job")
        return Job.of(found)

    return r


def _submit(services: ApiServices, user: TokenUser, file: UploadFile, name: str, request: Request) -> FileJob:
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
            job = services.ingest_queue.submit(user.username, path, name, request_id=request_id(request))
        except QuotaExceeded as e:
            audit(
                "document.refused",
                user.username,
                outcome="refused",
                target=user.username,
                name=name,
                limit=e.limit,
                client=_client(request),
                token=user.prefix,
            )
            raise
    audit(
        "document.uploaded",
        user.username,
        target=user.username,
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
