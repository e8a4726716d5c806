"""The Documents page: drop PDFs to upload them (each queued for background ingestion, its progress in
a table), the user's documents, and deleting one after a confirmation. Also the `upload`,
`documents`, `jobs` and `delete_document` API functions. A timer keeps the tables (and the chat's
document picker, handed in by layout.py) up to date while something is being indexed."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import gradio as gr

from app.audit import audit
from app.documents.ingestion import IngestionService
from app.documents.jobs import IngestionQueue
from app.documents.library_docs import LibraryDocuments
from app.documents.names import display_name
from app.documents.registry import DocumentRegistry
from app.errors import QuotaExceeded
from app.web.ui.documents_table import DocumentsTable, documents_api_view, jobs_view
from app.web.ui.errors import client_host, info, refused, request_id, ui_errors, warn
from app.web.ui.i18n import I18N, MESSAGES, language, msg, quota_message
from app.web.ui.safe_markdown import literal
from app.web.ui.session import UserOf
from app.web.uploads import UploadLedger, UploadRefused

Update = dict[Any, Any]  # component -> its new value or gr.update(...)
PRIVATE: dict[str, Any] = {"api_visibility": "private"}
JOB_HEADERS = MESSAGES["en"]["job_headers"].split("|")
DOC_VIEW_HEADERS = MESSAGES["en"]["doc_view_headers"].split("|")
DELETE_COLUMN = 4  # the table's "delete…" cell


class DocumentsPage:
    def __init__(
        self,
        registry: DocumentRegistry,
        ingestion: IngestionService,
        queue: IngestionQueue,
        user_of: UserOf,
        max_upload_files: int,
        uploads: UploadLedger | None = None,
        libraries: LibraryDocuments | None = None,
    ) -> None:
        self._libraries = libraries  # the team libraries offered in the chat's picker
        self._registry = registry
        self._ingestion = ingestion
        self._queue = queue
        self._user_of = user_of
        self._max_files = max_upload_files
        self._uploads = uploads

    # ---- layout -------------------------------------------------------------------------------

    def render(self) -> None:
        """Build the components; call inside `with gr.Tab(...)`."""
        # Dropping or choosing files starts the upload; progress per file in the table below.
        self.files = gr.File(label=I18N("docs.upload"), file_count="multiple", file_types=[".pdf"], elem_id="files")
        self.jobs_table = gr.Dataframe(
            label=I18N("docs.progress"), headers=JOB_HEADERS, value=[], interactive=False, elem_id="jobs"
        )
        self.table = gr.Dataframe(
            label=I18N("docs.table"), headers=DOC_VIEW_HEADERS, value=[], interactive=False, elem_id="documents"
        )
        # A click on a row's delete cell asks here before anything is deleted: shown over the page,
        # where the user is looking, however far down the table the row was (assets.py).
        with gr.Group(visible=False, elem_id="confirm-delete", elem_classes=["confirm-dialog"]) as self.confirm:
            self.confirm_text = gr.Markdown()
            with gr.Row():
                self.chosen = gr.Dropdown(label=I18N("docs.select"), choices=[], value=None, interactive=False, scale=3)
                self.delete_button = gr.Button(I18N("docs.delete"), variant="stop", scale=1, elem_id="delete-doc")
                self.cancel = gr.Button(I18N("chat.cancel"), scale=1, elem_id="cancel-delete")
        self.refresh_button = gr.Button(I18N("docs.refresh"), size="sm")

    def render_api(self) -> None:
        """Hidden: the button the API functions hang on; call inside a hidden row."""
        self.api_trigger = gr.Button()

    def render_timer(self) -> None:
        """Ticks only while an upload of this user is queued or indexing (refresh turns it off again):
        an idle open tab costs the server nothing. Outside the tabs and the hidden row, so it runs."""
        self.timer = gr.Timer(1.0, active=False)

    # ---- wiring -------------------------------------------------------------------------------

    def wire(self, load: Any, scope_picker: gr.CheckboxGroup) -> None:
        """`scope_picker`: the chat's "only these documents" picker, offered the ready documents."""
        self._scope_picker = scope_picker
        refreshed = [self.jobs_table, self.table, scope_picker, self.chosen, self.timer]
        load(self.refresh, None, refreshed, **PRIVATE)
        self.timer.tick(self.refresh, None, refreshed, show_progress="hidden", **PRIVATE)
        self.files.upload(self.upload, [self.files], [self.jobs_table], api_name="upload").then(
            lambda: (None, gr.Timer(active=True)), None, [self.files, self.timer], **PRIVATE
        )
        self.refresh_button.click(self.refresh, None, refreshed, **PRIVATE)
        confirm = [self.chosen, self.confirm, self.confirm_text]
        self.table.select(self.pick_row_to_delete, None, confirm, **PRIVATE)
        self.delete_button.click(
            self.delete_confirmed, [self.chosen], [self.table, self.confirm, self.confirm_text], **PRIVATE
        )
        self.cancel.click(lambda: (gr.update(visible=False), ""), None, [self.confirm, self.confirm_text], **PRIVATE)
        # API-only functions for scripted clients.
        self.api_trigger.click(self.documents, None, self.table, api_name="documents")
        self.api_trigger.click(self.jobs, None, self.jobs_table, api_name="jobs")
        self.api_trigger.click(self.delete_document, [self.chosen], [self.table], api_name="delete_document")

    # ---- upload -------------------------------------------------------------------------------

    @ui_errors
    def upload(self, files: list[str] | None, request: gr.Request) -> dict[str, Any]:
        """Queue uploaded PDFs for background ingestion; returns the progress table at once."""
        owner = self._user_of(request)
        lang = language(request)
        if not files:
            raise refused(msg("no_files", lang), lang)
        if len(files) > self._max_files:
            raise refused(msg("too_many_files", lang, count=self._max_files), lang)
        for file in dict.fromkeys(str(f) for f in files):
            path = self._uploaded(file)
            name = display_name(path.name)  # the name enters here: everything after sees it clean
            if path.suffix.lower() != ".pdf":
                warn(msg("not_pdf", lang, name=html.escape(name)), lang)  # a toast shows HTML
                continue
            try:
                # Held against the documents and storage quotas before it is stored (per file).
                self._queue.submit(owner, path, name, request_id=request_id(request))
            except QuotaExceeded as e:
                self._release(owner, path)
                client = client_host(request)
                audit(
                    "document.refused", owner, outcome="refused", target=owner, name=name, limit=e.limit, client=client
                )
                warn(msg("upload_refused", lang, name=html.escape(name), reason=quota_message(e, lang)), lang)
                continue
            self._release(owner, path)
            audit("document.uploaded", owner, target=owner, name=name, client=client_host(request))
        return self.progress(owner, lang)

    def _release(self, owner: str, path: Path) -> None:
        """Gradio's copy of a submitted (or refused) upload goes: it no longer counts as pending."""
        if self._uploads is not None:
            self._uploads.release(owner, path)

    def _uploaded(self, file: str) -> Path:
        """Only files this server received as uploads; a path typed into a request is refused."""
        if self._uploads is None:
            raise UploadRefused("uploads are not accepted here")
        return self._uploads.accept(file)

    def progress(self, owner: str, lang: str, jobs: list[Any] | None = None) -> dict[str, Any]:
        """The upload progress table, newest first (`jobs`: already read, else read here)."""
        return jobs_view(jobs if jobs is not None else self._queue.jobs(owner), lang)

    @ui_errors
    def jobs(self, request: gr.Request) -> dict[str, Any]:
        """API: the caller's upload progress, from whichever instance is doing the work."""
        return self.progress(self._user_of(request), language(request))

    # ---- the documents ------------------------------------------------------------------------

    @ui_errors
    def documents(self, request: gr.Request) -> dict[str, Any]:
        """API: the caller's documents (column names and statuses in the browser's language)."""
        return documents_api_view(self._registry.list(self._user_of(request)), language(request))

    @ui_errors
    def refresh(self, request: gr.Request) -> Update:
        """Timer tick: upload progress, the documents table and the document pickers; the timer
        keeps ticking only while something of this user is still being indexed."""
        owner = self._user_of(request)
        lang = language(request)
        # Uploads before documents: a document turns ready before its upload says done, so an
        # upload shown as done always sits beside its ready document.
        jobs = self._queue.jobs(owner)
        table = DocumentsTable.of(self._registry, owner)
        busy = any(j.stage not in ("done", "failed") for j in jobs) or table.indexing
        return {
            self.jobs_table: self.progress(owner, lang, jobs),
            self.table: table.view(lang),
            self._scope_picker: self._scope_choices(owner, table, lang),
            self.chosen: table.delete_choices(),
            self.timer: gr.Timer(active=busy),
        }

    def _scope_choices(self, owner: str, table: DocumentsTable, lang: str) -> Any:
        """The chat's picker: each team library the user reads (all of its documents), then the
        user's own ready documents."""
        libraries = self._libraries.libraries(owner) if self._libraries is not None else []
        whole = [(msg("lib.scope", lang, name=lib.name), lib.tenant) for lib in libraries]
        return gr.update(choices=whole + table.scope_choices())

    @ui_errors
    def pick_row_to_delete(self, evt: gr.SelectData, request: gr.Request) -> Update:
        """A click on a row's delete cell: that document is chosen and a confirmation shown."""
        owner = self._user_of(request)
        lang = language(request)
        row, col = evt.index if isinstance(evt.index, (list, tuple)) else (evt.index, -1)
        docs = DocumentsTable.of(self._registry, owner).documents
        if col != DELETE_COLUMN or not isinstance(row, int) or row >= len(docs):
            return {self.confirm: gr.update(visible=False), self.confirm_text: ""}
        # The table is refreshed every second: the clicked row is matched by position and name.
        doc = docs[row]
        if evt.row_value and str(evt.row_value[0]) != doc.name:
            return {self.chosen: gr.update(value=None), self.confirm: gr.update(visible=False), self.confirm_text: ""}
        return {
            self.chosen: gr.update(value=doc.id),
            self.confirm: gr.update(visible=True),
            self.confirm_text: msg("docs.confirm_delete", lang, name=literal(doc.name)),
        }

    @ui_errors
    def delete_confirmed(self, doc_id: str | None, request: gr.Request) -> Update:
        """The confirmation's delete button: the table without ids, the confirmation hidden."""
        self.delete_document(doc_id, request)
        table = DocumentsTable.of(self._registry, self._user_of(request))
        return {
            self.table: table.view(language(request)),
            self.confirm: gr.update(visible=False),
            self.confirm_text: "",
        }

    @ui_errors
    def delete_document(self, doc_id: str | None, request: gr.Request) -> dict[str, Any]:
        """API: delete one of the caller's documents (another user's id is 'not found')."""
        owner = self._user_of(request)
        lang = language(request)
        if not doc_id:
            raise refused(msg("select_document", lang), lang)
        name = self._registry.get(owner, doc_id).name
        self._ingestion.delete(owner, doc_id)
        audit("document.deleted", owner, target=f"{owner}/{doc_id}", name=name, client=client_host(request))
        info(msg("deleted", lang, name=html.escape(name)), lang)
        return self.documents(request)
