"""The Documents page's team libraries: the libraries of the groups the user is in, one at a time —
its documents and its uploads' progress for every member; uploading and deleting for its editors.
Shown only to members of some group. Every handler asks LibraryDocuments, which reads the user's
role from the database: the dropdown's value is never trusted (a library the user left, or never
was in, is "not found")."""

from __future__ import annotations

import html
from typing import Any

import gradio as gr

from app.documents.library_docs import LibraryDocuments
from app.documents.names import display_name
from app.errors import NotFound, QuotaExceeded
from app.web.ui.documents_table import TABLE_ROWS, jobs_view, pages_cell, status_cell
from app.web.ui.errors import info, refused, request_id, ui_errors, warn
from app.web.ui.i18n import I18N, language, msg, quota_message
from app.web.ui.safe_markdown import literal
from app.web.ui.session import UserOf
from app.web.uploads import UploadLedger, UploadRefused

Update = dict[Any, Any]
PRIVATE: dict[str, Any] = {"api_visibility": "private"}


class LibrariesPanel:
    def __init__(
        self,
        libraries: LibraryDocuments,
        user_of: UserOf,
        max_upload_files: int,
        uploads: UploadLedger | None = None,
    ) -> None:
        self._libraries = libraries
        self._user_of = user_of
        self._max_files = max_upload_files
        self._uploads = uploads

    # ---- layout -------------------------------------------------------------------------------

    def render(self) -> None:
        """Build the components; call inside the Documents tab."""
        with gr.Group(visible=False, elem_id="libraries") as self.group:
            gr.Markdown(I18N("lib.title"), elem_id="libraries-title")
            self.pick = gr.Dropdown(label=I18N("lib.pick"), choices=[], value=None, elem_id="library-pick")
            self.note = gr.Markdown(visible=False, elem_id="library-note")
            self.files = gr.File(
                label=I18N("lib.upload"),
                file_count="multiple",
                file_types=[".pdf"],
                visible=False,
                elem_id="library-files",
            )
            self.jobs_table = gr.Dataframe(
                label=I18N("lib.progress"), value=[], interactive=False, visible=False, elem_id="library-jobs"
            )
            self.table = gr.Dataframe(label=I18N("lib.table"), value=[], interactive=False, elem_id="library-docs")
            with gr.Row(visible=False, elem_id="library-delete-row") as self.delete_row:
                self.chosen = gr.Dropdown(label=I18N("docs.select"), choices=[], value=None, scale=3)
                self.delete_button = gr.Button(I18N("lib.delete"), variant="stop", scale=1, elem_id="library-delete")
            with gr.Group(visible=False, elem_id="library-confirm", elem_classes=["confirm-dialog"]) as self.confirm:
                self.confirm_text = gr.Markdown()
                with gr.Row():
                    self.confirm_button = gr.Button(
                        I18N("docs.delete"), variant="stop", elem_id="library-confirm-delete"
                    )
                    self.cancel = gr.Button(I18N("chat.cancel"), elem_id="library-cancel")
            self.refresh_button = gr.Button(I18N("docs.refresh"), size="sm", elem_id="library-refresh")

    # ---- wiring -------------------------------------------------------------------------------

    def wire(self, load: Any) -> None:
        shown = [
            self.group,
            self.pick,
            self.note,
            self.files,
            self.jobs_table,
            self.table,
            self.delete_row,
            self.chosen,
        ]
        load(self.open, [self.pick], shown, **PRIVATE)
        self.pick.change(self.open, [self.pick], shown, **PRIVATE)
        self.refresh_button.click(self.open, [self.pick], shown, **PRIVATE)
        self.files.upload(self.upload, [self.files, self.pick], [self.jobs_table], **PRIVATE).then(
            lambda: None, None, [self.files], **PRIVATE
        )
        self.delete_button.click(
            self.ask_delete, [self.chosen, self.pick], [self.confirm, self.confirm_text], **PRIVATE
        )
        self.confirm_button.click(self.delete, [self.chosen, self.pick], [*shown, self.confirm], **PRIVATE)
        self.cancel.click(lambda: gr.update(visible=False), None, [self.confirm], **PRIVATE)

    # ---- handlers -----------------------------------------------------------------------------

    @ui_errors
    def open(self, chosen: str | None, request: gr.Request) -> Update:
        """The user's libraries, and the chosen one (else the first): its documents and uploads;
        the upload and delete controls only for its editors."""
        user = self._user_of(request)
        lang = language(request)
        libraries = self._libraries.libraries(user)
        choices = [(msg("lib.option", lang, name=lib.name, role=lib.role), lib.tenant) for lib in libraries]
        hidden = {
            self.group: gr.update(visible=False),
            self.pick: gr.update(choices=[], value=None),
            self.note: gr.update(visible=False),
            self.files: gr.update(visible=False),
            self.jobs_table: gr.update(visible=False, value=[]),
            self.table: gr.update(value=[]),
            self.delete_row: gr.update(visible=False),
            self.chosen: gr.update(choices=[], value=None),
        }
        if not libraries:
            return hidden
        lib = next((x for x in libraries if x.tenant == chosen), libraries[0])
        # Uploads before documents: a document turns ready before its upload says done, so an
        # upload shown as done always sits beside its ready document.
        jobs = self._libraries.jobs(user, lib.tenant)
        _, page = self._libraries.documents(user, lib.tenant, TABLE_ROWS)
        shown, total = len(page.documents), page.total
        label = (
            msg("lib.table_newest", lang, library=lib.name, shown=shown, total=total)
            if shown < total
            else msg("lib.table_all", lang, library=lib.name, total=total)
        )
        rows = [
            [d.name, pages_cell(d, lang), status_cell(d, lang), f"{d.created_at:%Y-%m-%d %H:%M}"]
            for d in page.documents
        ]
        headers = msg("doc_view_headers", lang).split("|")[:4]
        return {
            self.group: gr.update(visible=True),
            self.pick: gr.update(choices=choices, value=lib.tenant),
            self.note: gr.update(visible=not lib.can_edit, value=msg("lib.reader_note", lang)),
            self.files: gr.update(visible=lib.can_edit),
            self.jobs_table: gr.update(visible=bool(jobs), value=jobs_view(jobs, lang)),
            self.table: gr.update(value={"headers": headers, "data": rows}, label=label),
            self.delete_row: gr.update(visible=lib.can_edit and bool(page.documents)),
            self.chosen: gr.update(choices=[(d.name, d.id) for d in page.documents], value=None),
        }

    @ui_errors
    def upload(self, files: list[str] | None, library: str | None, request: gr.Request) -> Any:
        """Queue uploaded PDFs into the library (its editors only), held against its quotas."""
        user = self._user_of(request)
        lang = language(request)
        if not files:
            raise refused(msg("no_files", lang), lang)
        if len(files) > self._max_files:
            raise refused(msg("too_many_files", lang, count=self._max_files), lang)
        if self._uploads is None:
            raise UploadRefused("uploads are not accepted here")
        accepted = [self._uploads.accept(f) for f in dict.fromkeys(str(f) for f in files)]  # only this server's
        try:
            lib = self._libraries.library(user, library or "", "editor")
        except NotFound:  # not (or no longer) an editor: the files go, nothing is kept
            for path in accepted:
                self._uploads.release(user, path)
            raise
        for path in accepted:
            name = display_name(path.name)
            try:
                if path.suffix.lower() != ".pdf":
                    warn(msg("not_pdf", lang, name=html.escape(name)), lang)
                    continue
                self._libraries.submit(user, lib.tenant, path, name, request_id=request_id(request))
            except QuotaExceeded as e:
                warn(msg("upload_refused", lang, name=html.escape(name), reason=quota_message(e, lang)), lang)
            finally:
                self._uploads.release(user, path)
        return gr.update(visible=True, value=jobs_view(self._libraries.jobs(user, lib.tenant), lang))

    @ui_errors
    def ask_delete(self, doc_id: str | None, library: str | None, request: gr.Request) -> Update:
        user = self._user_of(request)
        lang = language(request)
        if not doc_id:
            raise refused(msg("select_document", lang), lang)
        lib, page = self._libraries.documents(user, library or "", TABLE_ROWS)
        if not lib.can_edit:
            raise refused(msg("lib.reader_note", lang), lang)
        doc = next((d for d in page.documents if d.id == doc_id), None)
        if doc is None:
            raise refused(msg("select_document", lang), lang)
        text = msg("lib.confirm_delete", lang, name=literal(doc.name), library=literal(lib.name))
        return {self.confirm: gr.update(visible=True), self.confirm_text: text}

    @ui_errors
    def delete(self, doc_id: str | None, library: str | None, request: gr.Request) -> Update:
        user = self._user_of(request)
        lang = language(request)
        if not doc_id:
            raise refused(msg("select_document", lang), lang)
        doc = self._libraries.delete(user, doc_id)
        info(msg("deleted", lang, name=html.escape(doc.name)), lang)
        return {**self.open(library, request), self.confirm: gr.update(visible=False)}
