"""Event handlers of the Gradio UI. Each reads the user from the request, calls one service, and
turns domain errors into gr.Error. No LlamaIndex, Qdrant or SQL here."""

from __future__ import annotations

import functools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr
from loguru import logger

from app.answering.prompts import RETRIEVAL_ONLY
from app.answering.service import Answer, Citation
from app.audit import audit
from app.config import Settings
from app.documents.names import display_name
from app.documents.registry import DocumentInfo
from app.errors import AppError, AuthError, QuotaExceeded
from app.web.identity import current_user, hf_allowed
from app.web.services import WebServices
from app.web.ui.documents_table import DocumentsTable
from app.web.ui.i18n import MESSAGES, language, msg, quota_message
from app.web.ui.safe_markdown import literal, model_output
from app.web.uploads import UploadLedger, UploadRefused

F = TypeVar("F", bound=Callable[..., Any])
Session = dict[str, Any]

DOC_HEADERS = MESSAGES["en"]["doc_headers"].split("|")
JOB_HEADERS = MESSAGES["en"]["job_headers"].split("|")
DOC_VIEW_HEADERS = MESSAGES["en"]["doc_view_headers"].split("|")
RANKED_PASSAGES = 5  # retrieval only: the best passages shown, best first
STREAM_UPDATE_S = 0.05  # a streamed answer is shown at most this often (the final text always)
# The chat the browser sends with each question is echoed back with the answer: bounded, so a
# script cannot make the server parse, hold and send back megabytes per question.
MAX_HISTORY_MESSAGES = 200
MAX_HISTORY_BYTES = 256 * 1024


def new_session() -> Session:
    """Per-browser-session state, kept server-side in gr.State (never sent to the browser)."""
    # "answers": the citations of each answer, by the answer's index in the chat (the page view and
    # the clickable [n] markers look them up there, so a source always belongs to its own answer).
    return {"conversation_id": None, "api_key": None, "citations": [], "answers": {}, "owner": None}


def bind_session(session: Session, owner: str) -> Session:
    """A browser tab's state belongs to the first user who used it; nobody else may use it (their
    own tab has its own state). The HTTP edge refuses a foreign session hash before this."""
    bound = session.get("owner")
    if bound is not None and bound != owner:
        logger.warning("refused another user's session state user={}", owner)
        raise AuthError("not signed in")
    session["owner"] = owner
    return session


def _find_request(args: tuple[Any, ...], kwargs: dict[str, Any]) -> gr.Request | None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, gr.Request):
            return value
    return None


def _client(request: gr.Request | None) -> str | None:
    client = getattr(request, "client", None)
    return getattr(client, "host", None)


def _request_id(request: gr.Request | None) -> str:
    """The id the HTTP edge gave the request that started this event (app/web/tracing.py)."""
    headers = getattr(request, "headers", None) or {}
    return str(headers.get("x-request-id") or "-")


def _to_gr_error(e: Exception, request: gr.Request | None) -> gr.Error:
    lang = language(request)
    if isinstance(e, AuthError):
        return gr.Error(msg("not_signed_in", lang))
    if isinstance(e, AppError):
        return gr.Error(str(e))
    ref = _request_id(request)
    ref = ref if ref != "-" else uuid.uuid4().hex[:8]
    logger.opt(exception=e).error("ui handler failed ref={}", ref)
    return gr.Error(msg("internal", lang, ref=ref))


def ui_errors(fn: F) -> F:
    """Domain errors become a readable gr.Error; anything else is logged with a reference."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        request = _find_request(args, kwargs)
        with logger.contextualize(request_id=_request_id(request), event=fn.__name__):
            try:
                return fn(*args, **kwargs)
            except gr.Error:
                raise
            except Exception as e:
                raise _to_gr_error(e, request) from e

    return wrapper  # type: ignore[return-value]


def ui_errors_stream(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
        request = _find_request(args, kwargs)
        steps = fn(*args, **kwargs)
        try:
            while True:
                # Gradio may run each step in another thread's context: bind the id per step,
                # never across a yield.
                with logger.contextualize(request_id=_request_id(request), event=fn.__name__):
                    try:
                        item = next(steps)
                    except StopIteration:
                        return
                    except gr.Error:
                        raise
                    except Exception as e:
                        raise _to_gr_error(e, request) from e
                yield item
        finally:
            steps.close()  # a client that went away ends the inner stream now (its usage is recorded)

    return wrapper  # type: ignore[return-value]


def format_citations(citations: list[dict[str, Any]], lang: str) -> str:
    if not citations:
        return ""
    lines = [f"\n\n---\n**{msg('sources', lang)}**"]
    lines.extend(_citation_entry(c, lang, max_quote=220) for c in citations)
    return "\n".join(lines)


def _citation_entry(c: dict[str, Any], lang: str, max_quote: int) -> str:
    """ "[n] **file** — p. N · section" and a quote of at most `max_quote` characters, as text."""
    quote = " ".join(str(c["text"]).split())
    quote = quote if len(quote) <= max_quote else quote[: max_quote - 1] + "…"
    section = f" · {literal(c['section'])}" if c.get("section") else ""
    return (
        f"\n[{c['number']}] **{literal(str(c['file']))}** — {msg('page', lang)} {c['page']}{section}"
        f"\n> {literal(quote)}"
    )


def _role(message: dict[str, Any]) -> str:
    return "user" if message.get("role") == "user" else "assistant"


def message_text(message: dict[str, Any]) -> str:
    """A chat message's text, whether the browser sent it as a string or as a list of parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")


def bounded_history(chat: list[Any] | None, lang: str) -> list[dict[str, Any]]:
    """The browser-sent chat, or a clear gr.Error when it holds more than MAX_HISTORY_MESSAGES
    messages or MAX_HISTORY_BYTES of JSON (nothing of it is sent back)."""
    chat = list(chat or [])
    size = 0
    if len(chat) <= MAX_HISTORY_MESSAGES:
        for m in chat:
            size += len(json.dumps(m, ensure_ascii=False, default=str).encode())
            if size > MAX_HISTORY_BYTES:
                break
    if len(chat) > MAX_HISTORY_MESSAGES or size > MAX_HISTORY_BYTES:
        logger.warning("chat history refused messages={} bytes_over={}", len(chat), size > MAX_HISTORY_BYTES)
        text = msg("history_too_long", lang, max_messages=MAX_HISTORY_MESSAGES, max_kb=MAX_HISTORY_BYTES // 1024)
        raise gr.Error(text, print_exception=False)
    return chat


def answer_markdown(text: str, mode: str, citations: list[dict[str, Any]], lang: str) -> str:
    """An answer as the chat shows it: the model's text and its sources; with no model (retrieval
    only) a short ranked list of the best passages instead (the banner above the chat says why)."""
    if mode == "retrieval_only" or text in RETRIEVAL_ONLY.values():
        return format_ranked(citations, lang)
    return model_output(text) + format_citations(citations, lang)


def shown_citations(citations: list[dict[str, Any]], mode: str) -> list[dict[str, Any]]:
    """The sources listed beside an answer: with no model, the ranked passages the chat shows."""
    return citations[:RANKED_PASSAGES] if mode == "retrieval_only" else citations


def format_ranked(citations: list[dict[str, Any]], lang: str) -> str:
    """The best passages, best first: "[n] file — p. N · section" and a short quote; each [n]
    opens its page beside the chat."""
    lines = [f"**{msg('ranked', lang)}**"]
    lines.extend(_citation_entry(c, lang, max_quote=140) for c in citations[:RANKED_PASSAGES])
    return "\n".join(lines)


def documents_table(docs: list[DocumentInfo], lang: str) -> dict[str, Any]:
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


def citation_choices(citations: list[dict[str, Any]], answer: int) -> list[tuple[str, str]]:
    """One choice per source of the answer at chat index `answer`; the value names the answer, so a
    new answer never leaves an old answer's source selected under an unchanged value."""
    choices = []
    for i, c in enumerate(citations):
        section = f" · {c['section']}" if c.get("section") else ""
        choices.append((f"[{c['number']}] {c['file']} p.{c['page']}{section}", f"{answer}:{i}"))
    return choices


def sources_update(citations: list[dict[str, Any]], answer: int) -> Any:
    """The source list beside the chat, its first source selected (that is the one shown)."""
    choices = citation_choices(citations, answer)
    return gr.update(choices=choices, value=choices[0][1] if choices else None, visible=bool(choices))


def _source_of(session: Session, value: str | None) -> dict[str, Any] | None:
    """The citation a source value ("<answer index>:<source index>") names in this session."""
    answer, _, index = str(value or "").partition(":")
    if not answer.isdigit() or not index.isdigit():
        return None
    citations = (session.get("answers") or {}).get(int(answer)) or []
    return citations[int(index)] if int(index) < len(citations) else None


def _tab(owner: str, request: gr.Request | None) -> str:
    """One browser tab of one user (Gradio's session hash; the edge refuses another user's)."""
    return f"{owner}/{getattr(request, 'session_hash', None) or '-'}"


def _cited_number(citations: list[dict[str, Any]], number: int) -> int | None:
    for i, c in enumerate(citations):
        if int(c["number"]) == number:
            return i
    return None


class Handlers:
    def __init__(self, services: WebServices, settings: Settings, uploads: UploadLedger | None = None) -> None:
        self.s = services
        self.settings = settings
        self.mode = settings.auth.mode
        self.uploads = uploads
        # The stop button of each browser tab's answer being streamed, by user and tab.
        self._stops: dict[str, threading.Event] = {}

    def user(self, request: gr.Request | None) -> str:
        a = self.settings.auth
        return current_user(
            request, self.mode, lambda info: hf_allowed(info, a.allowed_users, a.allowed_orgs, a.allow_any_hf_user)
        )

    # ---- chat -------------------------------------------------------------------------------

    def _api_key(self, session: Session, lang: str) -> str | None:
        policy = self.settings.llm.user_keys
        if policy == "off":
            return None
        key = session.get("api_key")
        if policy == "required" and not key:
            raise gr.Error(msg("key_required", lang))
        return key

    @ui_errors_stream
    def ask(
        self,
        message: str,
        chat: list[dict[str, Any]] | None,
        session: Session,
        scope: list[str] | None,
        request: gr.Request,
    ) -> Iterator[tuple[list[dict[str, Any]], Session, Any, str, Any, Any]]:
        """Stream an answer into the chat, then attach its citations. The question service does the
        rest (quota, cache, accounting, storing the turn); a refused question makes no LLM call."""
        chat = bounded_history(chat, language(request))
        yield from self._answer(message, chat, session, scope, request)

    @ui_errors_stream
    def retry(
        self,
        chat: list[dict[str, Any]] | None,
        session: Session,
        scope: list[str] | None,
        request: gr.Request,
    ) -> Iterator[tuple[list[dict[str, Any]], Session, Any, str, Any, Any]]:
        """The chat's retry button: the last question asked again, its earlier answer replaced."""
        owner = self.user(request)
        session = bind_session(session, owner)
        chat = bounded_history(chat, language(request))
        last = max((i for i, m in enumerate(chat) if m.get("role") == "user"), default=None)
        if last is None:
            return
        question = message_text(chat[last])
        answers = {i: c for i, c in (session.get("answers") or {}).items() if i < last}
        session = {**session, "answers": answers}
        # The stored turn is replaced only once the new answer exists (a failed retry keeps it).
        yield from self._answer(question, chat[:last], session, scope, request, use_cache=False, retry=True)

    def _answer(
        self,
        message: str,
        chat: list[dict[str, Any]],
        session: Session,
        scope: list[str] | None,
        request: gr.Request,
        use_cache: bool = True,
        retry: bool = False,
    ) -> Iterator[tuple[list[dict[str, Any]], Session, Any, str, Any, Any]]:
        owner = self.user(request)
        session = bind_session(session, owner)
        lang = language(request)
        question = (message or "").strip()
        if not question:
            raise gr.Error(msg("empty_question", lang))
        if len(question) > self.settings.chat.max_question_chars:
            raise gr.Error(msg("question_too_long", lang, n=len(question), max=self.settings.chat.max_question_chars))
        api_key = self._api_key(session, lang)
        conversation_id = session.get("conversation_id")
        # The history comes from the browser and goes back out: text only, so a file entry naming a
        # path on the server can never be served back (Gradio's own check is the second line).
        chat = [{"role": _role(m), "content": message_text(m)} for m in chat]
        chat.append({"role": "user", "content": question})
        chat.append({"role": "assistant", "content": ""})
        answer: Answer | None = None
        streamed = ""
        stop = self._stops[_tab(owner, request)] = threading.Event()
        stopped = False
        shown_at = 0.0
        events = self.s.chat.stream(
            owner,
            question,
            conversation_id=conversation_id,
            doc_ids=scope or None,
            api_key=api_key,
            use_cache=use_cache,
            stopped_note=msg("stopped", lang),
            retry=retry,
        )
        try:
            for event in events:
                if event.answer is not None:
                    answer, conversation_id = event.answer, event.conversation_id
                    continue
                streamed += event.delta
                if event.conversation_id != session.get("conversation_id"):
                    # Known from the first word on: a stopped answer stays in this conversation.
                    session = {**session, "conversation_id": event.conversation_id}
                if time.monotonic() - shown_at >= STREAM_UPDATE_S:
                    # One update per interval, not per word: each update re-sends the chat and costs
                    # the server a render and a diff (per word it was most of an answer's CPU).
                    chat[-1] = {"role": "assistant", "content": model_output(streamed)}
                    if not shown_at:  # the first words: the sources and page beside belonged to the last answer
                        yield chat, session, sources_update([], len(chat) - 1), "", None, ""
                    else:
                        yield chat, session, gr.update(), "", gr.update(), gr.update()
                    shown_at = time.monotonic()
                if stop.is_set():
                    stopped = True
                    break
        except QuotaExceeded as e:  # counted and logged by the question service
            raise gr.Error(quota_message(e, lang), title=msg("quota_title", lang), print_exception=False) from e
        finally:
            # Stopped (or the tab went away): the LLM request ends here; the question service records
            # the tokens spent, settles the quota and keeps the partial answer, marked as stopped.
            events.close()
            if self._stops.get(_tab(owner, request)) is stop:
                del self._stops[_tab(owner, request)]
        if stopped:
            chat[-1] = {"role": "assistant", "content": model_output(f"{streamed.rstrip()} {msg('stopped', lang)}")}
            # A stopped answer has no sources: recorded as such, so the page view after it stays empty
            # instead of going back to the previous answer's page.
            index = len(chat) - 1
            session = {**session, "answers": {**(session.get("answers") or {}), index: []}}
            yield chat, session, sources_update([], index), "", None, ""
            return
        assert answer is not None
        citations = shown_citations([c.model_dump() for c in answer.citations], answer.mode)
        index = len(chat) - 1
        answers = {**(session.get("answers") or {}), index: citations}
        session = {**session, "conversation_id": conversation_id, "citations": citations, "answers": answers}
        chat[-1] = {"role": "assistant", "content": answer_markdown(answer.answer, answer.mode, citations, lang)}
        if answer.cached:
            chat[-1]["content"] += f"\n\n*{msg('cached', lang)}*"
        yield chat, session, sources_update(citations, index), "", gr.update(), gr.update()

    @ui_errors
    def stop(self, request: gr.Request) -> None:
        """The stop button: the answer this tab is streaming ends after the word being received. Not
        Gradio's `cancels` (its cancelled event races the stream's close in the browser and shows an
        error); the answer's own handler stops, keeps the partial answer and returns normally."""
        stop = self._stops.get(_tab(self.user(request), request))
        if stop is not None:
            stop.set()

    @ui_errors
    def show_citation(self, choice: str | None, session: Session, request: gr.Request) -> tuple[str | None, str]:
        """The cited page as an image and the quoted passage beside it (none: the view is cleared)."""
        owner = self.user(request)
        cited = _source_of(bind_session(session, owner), choice)
        if cited is None:
            return None, ""
        c = Citation.model_validate(cited)
        image = str(self.s.pages.render_file(owner, c.doc_id, c.page, passage=c.passage or c.text))
        section = f" · {literal(c.section)}" if c.section else ""
        quote = literal(" ".join((c.passage or c.text).split()))
        return image, f"**{literal(c.file)}** — p. {c.page}{section}\n\n> {quote}"

    @ui_errors
    def show_last_sources(self, session: Session, request: gr.Request) -> tuple[str | None, str]:
        """After an answer arrives or a conversation opens: the first source of its last answer."""
        answers = bind_session(session, self.user(request)).get("answers") or {}
        last = max(answers, default=None)  # an answer without sources clears the view
        return self.show_citation(None if last is None else f"{last}:0", session, request)

    @ui_errors
    def open_cited(
        self, number: float | None, session: Session, evt: gr.SelectData, request: gr.Request
    ) -> tuple[Any, Any, Any]:
        """A click on an answer: the source whose [n] marker was clicked (told by the page script),
        else the answer's first source; the answer's own sources are listed beside it."""
        session = bind_session(session, self.user(request))
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        citations = (session.get("answers") or {}).get(index) if isinstance(index, int) else None
        if not citations:
            return gr.update(), gr.update(), gr.update()
        chosen = _cited_number(citations, int(number or 0)) or 0
        value = f"{index}:{chosen}"
        image, passage = self.show_citation(value, session, request)
        return gr.update(choices=citation_choices(citations, index), value=value, visible=True), image, passage

    @ui_errors
    def page_image(self, doc_id: str, page: float, request: gr.Request) -> str:
        """API: render one page of one of the caller's documents."""
        return str(self.s.pages.render_file(self.user(request), doc_id, int(page)))

    # ---- documents --------------------------------------------------------------------------

    @ui_errors
    def upload(self, files: list[str] | None, request: gr.Request) -> dict[str, Any]:
        """Queue uploaded PDFs for background ingestion; returns the progress table at once."""
        owner = self.user(request)
        lang = language(request)
        if not files:
            raise gr.Error(msg("no_files", lang))
        if len(files) > self.settings.documents.max_upload_files:
            raise gr.Error(msg("too_many_files", lang, count=self.settings.documents.max_upload_files))
        for file in dict.fromkeys(str(f) for f in files):
            path = self._uploaded(file)
            name = display_name(path.name)  # the name enters here: everything after sees it clean
            if path.suffix.lower() != ".pdf":
                gr.Warning(msg("not_pdf", lang, name=literal(name)))
                continue
            try:
                # Held against the documents and storage quotas before it is stored (per file).
                self.s.ingest_queue.submit(owner, path, name, request_id=_request_id(request))
            except QuotaExceeded as e:
                self._release(owner, path)
                client = _client(request)
                audit(
                    "document.refused", owner, outcome="refused", target=owner, name=name, limit=e.limit, client=client
                )
                gr.Warning(msg("upload_refused", lang, name=literal(name), reason=quota_message(e, lang)))
                continue
            self._release(owner, path)
            audit("document.uploaded", owner, target=owner, name=name, client=_client(request))
        return self.jobs_table(owner, lang)

    def _release(self, owner: str, path: Path) -> None:
        """Gradio's copy of a submitted (or refused) upload goes: it no longer counts as pending."""
        if self.uploads is not None:
            self.uploads.release(owner, path)

    def _uploaded(self, file: str) -> Path:
        """Only files this server received as uploads; a path typed into a request is refused."""
        if self.uploads is None:
            raise UploadRefused("uploads are not accepted here")
        return self.uploads.accept(file)

    @ui_errors
    def jobs(self, request: gr.Request) -> dict[str, Any]:
        """API: the caller's upload progress, from whichever instance is doing the work."""
        return self.jobs_table(self.user(request), language(request))

    def jobs_table(self, owner: str, lang: str, jobs: list[Any] | None = None) -> dict[str, Any]:
        rows = []
        for job in reversed(jobs if jobs is not None else self.s.ingest_queue.jobs(owner)):
            if job.stage == "failed":
                status = msg("failed", lang, message=job.message)
            elif job.stage == "done":
                status = msg(job.message if job.message in ("unchanged", "replaced") else "done", lang)
            elif job.stage == "embedding":
                status = msg("embedding", lang, done=job.done, total=job.total)
            else:
                status = msg(job.stage, lang)
            rows.append([job.file, status])
        return {"headers": msg("job_headers", lang).split("|"), "data": rows}

    @ui_errors
    def documents(self, request: gr.Request) -> dict[str, Any]:
        """API: the caller's documents (column names and statuses in the browser's language)."""
        return documents_table(self.s.registry.list(self.user(request)), language(request))

    @ui_errors
    def refresh(self, request: gr.Request) -> tuple[dict[str, Any], dict[str, Any], Any, Any, Any]:
        """Timer tick: upload progress, the documents table and the document pickers; the timer
        keeps ticking only while something of this user is still being indexed."""
        owner = self.user(request)
        table = DocumentsTable.of(self.s.registry, owner)
        lang = language(request)
        jobs = self.s.ingest_queue.jobs(owner)
        busy = any(j.stage not in ("done", "failed") for j in jobs) or table.indexing
        return (
            self.jobs_table(owner, lang, jobs),
            table.view(lang),
            table.scope_choices(),
            table.delete_choices(),
            gr.Timer(active=busy),
        )

    @ui_errors
    def pick_row_to_delete(self, evt: gr.SelectData, request: gr.Request) -> tuple[Any, Any, str]:
        """A click on a row's delete cell: that document is chosen and a confirmation shown."""
        owner = self.user(request)
        lang = language(request)
        row, col = evt.index if isinstance(evt.index, (list, tuple)) else (evt.index, -1)
        docs = DocumentsTable.of(self.s.registry, owner).documents
        if col != 4 or not isinstance(row, int) or row >= len(docs):
            return gr.update(), gr.update(visible=False), ""
        # The table is refreshed every second: the clicked row is matched by position and name.
        doc = docs[row]
        if evt.row_value and str(evt.row_value[0]) != doc.name:
            return gr.update(value=None), gr.update(visible=False), ""
        return (
            gr.update(value=doc.id),
            gr.update(visible=True),
            msg("docs.confirm_delete", lang, name=literal(doc.name)),
        )

    @ui_errors
    def delete_confirmed(self, doc_id: str | None, request: gr.Request) -> tuple[dict[str, Any], Any, str]:
        """The confirmation's delete button: the table without ids, the confirmation hidden."""
        self.delete_document(doc_id, request)
        table = DocumentsTable.of(self.s.registry, self.user(request))
        return table.view(language(request)), gr.update(visible=False), ""

    @ui_errors
    def delete_document(self, doc_id: str | None, request: gr.Request) -> dict[str, Any]:
        """API: delete one of the caller's documents (another user's id is 'not found')."""
        owner = self.user(request)
        lang = language(request)
        if not doc_id:
            raise gr.Error(msg("select_document", lang))
        name = self.s.registry.get(owner, doc_id).name
        self.s.ingestion.delete(owner, doc_id)
        audit("document.deleted", owner, target=f"{owner}/{doc_id}", name=name, client=_client(request))
        gr.Info(msg("deleted", lang, name=name))
        return self.documents(request)

    # ---- settings ---------------------------------------------------------------------------

    @ui_errors
    def set_key(self, key: str, session: Session, request: gr.Request) -> tuple[str, Session, str]:
        """Keep the key in this session's server-side state only; clear the input field."""
        session = bind_session(session, self.user(request))
        lang = language(request)
        if self.settings.llm.user_keys == "off":
            raise gr.Error(msg("keys_off", lang))
        key = (key or "").strip()
        if not key:
            return "", {**session, "api_key": None}, msg("key_none", lang)
        audit("key.set", session["owner"], client=_client(request))
        return "", {**session, "api_key": key}, msg("key_saved", lang)

    @ui_errors
    def clear_key(self, session: Session, request: gr.Request) -> tuple[str, Session, str]:
        session = bind_session(session, self.user(request))
        audit("key.cleared", session["owner"], client=_client(request))
        return "", {**session, "api_key": None}, msg("key_cleared", language(request))

    @ui_errors
    def usage(self, request: gr.Request) -> str:
        owner = self.user(request)
        totals = self.s.usage.totals(owner)
        return msg("usage", language(request), prompt=totals.prompt_tokens, completion=totals.completion_tokens)

    @ui_errors
    def retrieval_banner(self, request: gr.Request) -> Any:
        """Above the chat, once: with no language model, answers are the best passages."""
        if self.s.chat.generation_enabled:
            return gr.update(visible=False)
        return gr.update(visible=True, value=msg("retrieval_only", language(request)))

    @ui_errors
    def whoami(self, request: gr.Request) -> str:
        return f"**{self.user(request)}**"
