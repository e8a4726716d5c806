"""The Documents tab's table and the document pickers, bounded: a user with 10,000 documents gets
the newest TABLE_ROWS in the table and the pickers, with "the N newest of M" in the table's label,
not 10,000 rows on every refresh (tests/test_unbounded.py measures both)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from app.documents.registry import IN_FLIGHT, READY, DocumentInfo, DocumentPage, DocumentRegistry
from app.web.ui.i18n import msg

TABLE_ROWS = 200  # documents shown in the table and offered by the pickers, newest first


def pages_cell(d: DocumentInfo, lang: str) -> int | str:
    """The page count, and how many pages were recognised from their image when any were."""
    return msg("docs.pages_recognised", lang, pages=d.pages, recognised=d.ocr_pages) if d.ocr_pages else d.pages


def status_cell(d: DocumentInfo, lang: str) -> str:
    """The status; a ready document whose scanned pages could not all be read says which."""
    if d.status == READY and d.error:
        return msg("status.ready_note", lang, note=d.error)
    return msg(f"status.{d.status}", lang, error=d.error or "")


def documents_view(docs: list[DocumentInfo], lang: str) -> dict[str, Any]:
    """The documents table people see: name, pages, status, date and a delete cell (no ids)."""
    rows = [
        [
            d.name,
            pages_cell(d, lang),
            status_cell(d, lang),
            f"{d.created_at:%Y-%m-%d %H:%M}",
            msg("docs.delete_row", lang),
        ]
        for d in docs
    ]
    return {"headers": msg("doc_view_headers", lang).split("|"), "data": rows}


def jobs_view(jobs: list[Any], lang: str) -> dict[str, Any]:
    """The upload progress table, newest first: file and stage in the reader's language."""
    rows = []
    for job in reversed(jobs):
        if job.stage == "failed":
            status = msg("failed", lang, message=job.message)
        elif job.stage == "done" and job.message == "unchanged" and getattr(job, "duplicate_of", ""):
            status = msg("unchanged_as", lang, name=job.duplicate_of)  # which document has these bytes
        elif job.stage == "done":
            status = msg(job.message if job.message in ("unchanged", "replaced") else "done", lang)
        elif job.stage in ("recognising", "embedding"):
            status = msg(job.stage, lang, done=job.done, total=job.total)
        else:
            status = msg(job.stage, lang)
        rows.append([job.file, status])
    return {"headers": msg("job_headers", lang).split("|"), "data": rows}


def documents_api_view(docs: list[DocumentInfo], lang: str) -> dict[str, Any]:
    """The `documents` API's table: every column, the id last (what scripts delete by)."""
    rows = [
        [
            d.name,
            d.pages,
            d.chunks,
            f"{d.size_bytes / 1048576:.1f} MB",
            f"{d.created_at:%Y-%m-%d %H:%M}",
            msg(f"status.{d.status}", lang, error=d.error or ""),
            d.id,
        ]
        for d in docs
    ]
    return {"headers": msg("doc_headers", lang).split("|"), "data": rows}


@dataclass(frozen=True)
class DocumentsTable:
    """One read of a user's documents for the table, the pickers and the refresh timer."""

    page: DocumentPage
    indexing: bool  # some document of the user is queued or being indexed (on any page)

    @classmethod
    def of(cls, registry: DocumentRegistry, owner: str) -> DocumentsTable:
        return cls(registry.page(owner, TABLE_ROWS), registry.count(owner, IN_FLIGHT) > 0)

    @property
    def documents(self) -> list[DocumentInfo]:
        return self.page.documents

    def label(self, lang: str) -> str:
        shown, total = len(self.documents), self.page.total
        if shown < total:
            return msg("docs.table_newest", lang, shown=f"{shown:,}", total=f"{total:,}")
        return msg("docs.table_all", lang, total=f"{total:,}")

    def view(self, lang: str) -> Any:
        return gr.update(value=documents_view(self.documents, lang), label=self.label(lang))

    def scope_choices(self) -> list[tuple[str, str]]:
        """The chat's "only these documents" picker: the shown documents that are ready."""
        return [(d.name, d.id) for d in self.documents if d.status == READY]

    def delete_choices(self) -> Any:
        """The delete confirmation's document (a row picked in the table is one of these)."""
        return gr.update(choices=[(d.name, d.id) for d in self.documents])
