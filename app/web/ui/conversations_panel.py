"""The conversations beside the chat (newest first, a page of PAGE at a time with newer/older buttons,
the open one highlighted; open, rename and delete in place) and the thumbs up/down on answers.
Handlers only: the layout places the components."""

from __future__ import annotations

from typing import Any

import gradio as gr

from app.answering.prompts import RETRIEVAL_ONLY
from app.audit import audit
from app.web.ui.handlers import (
    Handlers,
    Session,
    answer_markdown,
    bind_session,
    shown_citations,
    sources_update,
    ui_errors,
)
from app.web.ui.i18n import EN, JA, language, msg
from app.web.ui.safe_markdown import literal

Chat = list[dict[str, Any]]
_THUMB = {1: "Like", -1: "Dislike"}
PAGE = 50  # conversations per page of the list (and of the `conversations` API)


def _closed(session: Session) -> Session:
    """No conversation open: the next question starts a new one."""
    return {**session, "conversation_id": None, "citations": [], "answers": {}, "feedback_index": None}


class ConversationsPanel:
    def __init__(self, handlers: Handlers) -> None:
        self.h = handlers
        self.s = handlers.s

    # ---- the list -----------------------------------------------------------------------------

    def _page(self, offset: int, session: Session, request: gr.Request) -> tuple[Any, Any, Any, int]:
        """One page of the list from `offset`, newest first, the open conversation selected:
        (list, newer button, older button, the offset shown). The offset is the tab's own small
        state, apart from the session (which answers and openings write)."""
        owner = self.h.user(request)
        lang = language(request)
        offset = max(0, int(offset or 0))
        page = self.s.conversations.page(owner, PAGE, offset)
        if not page.conversations and offset:  # deleted down to nothing here: the newest page
            page = self.s.conversations.page(owner, PAGE, 0)
        listed = [(c.title, c.id) for c in page.conversations]
        current = (session or {}).get("conversation_id")
        value = current if any(i == current for _, i in listed) else None
        label = (JA if lang == "ja" else EN)["chat.conversations"]
        if page.total > PAGE:
            last = page.offset + len(listed)
            label = msg("chat.conversations_page", lang, first=page.offset + 1, last=last, total=page.total)
        newer = gr.update(visible=page.offset > 0)
        older = gr.update(visible=page.offset + len(listed) < page.total)
        return gr.update(choices=listed, value=value, label=label), newer, older, page.offset

    @ui_errors
    def choices(self, session: Session, request: gr.Request) -> tuple[Any, Any, Any, int]:
        """The newest page of conversations, with the newer/older buttons it needs."""
        return self._page(0, session, request)

    @ui_errors
    def newer(self, offset: int, session: Session, request: gr.Request) -> tuple[Any, Any, Any, int]:
        return self._page(int(offset or 0) - PAGE, session, request)

    @ui_errors
    def older(self, offset: int, session: Session, request: gr.Request) -> tuple[Any, Any, Any, int]:
        return self._page(int(offset or 0) + PAGE, session, request)

    @ui_errors
    def api_list(self, page: float | None, request: gr.Request) -> dict[str, Any]:
        """API: one page (1 = the newest PAGE) of the caller's conversations and how many there are."""
        number = max(1, int(page or 1))
        listed = self.s.conversations.page(self.h.user(request), PAGE, (number - 1) * PAGE)
        return {
            "page": number,
            "page_size": PAGE,
            "total": listed.total,
            "conversations": [
                {"id": c.id, "title": c.title, "updated_at": c.updated_at.isoformat()} for c in listed.conversations
            ],
        }

    @ui_errors
    def after_answer(self, session: Session, request: gr.Request) -> tuple[Any, ...]:
        """What the page updates when an answer has arrived, in one event instead of three: the page
        view (its first source), the conversation list (its newest page, where the answered
        conversation now is) and the usage line. A page that cannot be shown is a warning; the list
        and the usage line are still brought up to date."""
        try:
            image, passage = self.h.show_last_sources(session, request)
        except gr.Error as e:
            gr.Warning(e.message)
            image, passage = None, ""
        radio, newer, older, offset = self._page(0, session, request)
        return image, passage, radio, newer, older, self.h.usage(request), offset

    @ui_errors
    def open(self, conversation_id: str | None, session: Session, request: gr.Request) -> tuple[Any, Session, Any]:
        """One click on a title: its messages in the chat, its last sources beside it."""
        owner = self.h.user(request)
        session = bind_session(session, owner)
        lang = language(request)
        if not conversation_id:
            return gr.update(value=[], feedback_value=[]), _closed(session), sources_update([], 0)
        chat: Chat = []
        citations: list[dict[str, Any]] = []
        answers: dict[int, list[dict[str, Any]]] = {}
        for m in self.s.conversations.messages(owner, conversation_id):
            if m.role == "user":
                chat.append({"role": "user", "content": m.content})
                continue
            mode = "retrieval_only" if m.content in RETRIEVAL_ONLY.values() else ""
            citations = shown_citations(m.citations or [], mode)
            answers[len(chat)] = citations  # an answer without sources clears the page view
            chat.append({"role": "assistant", "content": answer_markdown(m.content, mode, citations, lang)})
        last = max(answers, default=0)
        session = {**_closed(session), "conversation_id": conversation_id, "citations": citations, "answers": answers}
        # The thumbs given earlier, one entry per answer in order.
        rated = self.s.feedback.ratings(owner, conversation_id)
        thumbs = [_THUMB.get(rated.get(i, 0)) for i, m in enumerate(chat) if m["role"] == "assistant"]
        return gr.update(value=chat, feedback_value=thumbs), session, sources_update(answers.get(last, []), last)

    @ui_errors
    def new(self, session: Session, request: gr.Request) -> tuple[Any, Session, Any, Any]:
        session = bind_session(session, self.h.user(request))
        return gr.update(value=[], feedback_value=[]), _closed(session), gr.update(value=None), sources_update([], 0)

    @ui_errors
    def ask_rename(self, conversation_id: str | None, request: gr.Request) -> tuple[Any, Any]:
        """The rename box under the list, filled with the open conversation's title."""
        owner = self.h.user(request)
        if not conversation_id:
            raise gr.Error(msg("chat.pick_first", language(request)))
        title = self.s.conversations.get(owner, conversation_id).title
        return gr.update(visible=True), gr.update(value=title)

    @ui_errors
    def rename(
        self, conversation_id: str | None, title: str, offset: int, session: Session, request: gr.Request
    ) -> tuple[Any, Any]:
        owner = self.h.user(request)
        if conversation_id and (title or "").strip():
            self.s.conversations.rename(owner, conversation_id, title)
        return self._page(offset, session, request)[0], gr.update(visible=False)

    @ui_errors
    def ask_delete(self, conversation_id: str | None, request: gr.Request) -> tuple[Any, str]:
        owner = self.h.user(request)
        lang = language(request)
        if not conversation_id:
            raise gr.Error(msg("chat.pick_first", lang))
        title = self.s.conversations.get(owner, conversation_id).title
        return gr.update(visible=True), msg("chat.confirm_delete", lang, title=literal(title))

    @ui_errors
    def delete(
        self, conversation_id: str | None, offset: int, session: Session, request: gr.Request
    ) -> tuple[Any, ...]:
        owner = self.h.user(request)
        session = bind_session(session, owner)
        if conversation_id:
            self.s.conversations.delete(owner, conversation_id)
            audit("conversation.deleted", owner, target=f"{owner}/{conversation_id}")
        if session.get("conversation_id") == conversation_id:
            session = _closed(session)
            chat: Any = gr.update(value=[], feedback_value=[])
        else:
            chat = gr.update()
        radio, newer, older, offset = self._page(offset, session, request)
        return radio, newer, older, offset, chat, session, gr.update(visible=False), sources_update([], 0)

    # ---- feedback -----------------------------------------------------------------------------

    @ui_errors
    def rate(self, session: Session, evt: gr.LikeData, request: gr.Request) -> tuple[Any, Session]:
        """A thumb on an answer: stored at once; either thumb opens the (optional) comment box."""
        owner = self.h.user(request)
        session = bind_session(session, owner)
        conversation_id = session.get("conversation_id")
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        if not conversation_id or not isinstance(index, int):
            raise gr.Error(msg("feedback.not_stored", language(request)))
        rating = _rating(evt.liked)
        self.s.feedback.rate(owner, conversation_id, index, rating)
        rated = rating is not None  # a thumb taken back closes the box
        return gr.update(visible=rated), {**session, "feedback_index": index if rated else None}

    @ui_errors
    def comment(self, text: str, session: Session, request: gr.Request) -> tuple[Any, str, Session]:
        owner = self.h.user(request)
        session = bind_session(session, owner)
        index, conversation_id = session.get("feedback_index"), session.get("conversation_id")
        if index is not None and conversation_id and (text or "").strip():
            self.s.feedback.comment(owner, conversation_id, int(index), text)
            gr.Info(msg("feedback.thanks", language(request)))
        return gr.update(visible=False), "", {**session, "feedback_index": None}


def _rating(liked: bool | str | None) -> int | None:
    """Gradio's like data: True/"Like" up, False/"Dislike" down, anything else takes it back."""
    if liked is True or liked == "Like":
        return 1
    if liked is False or liked == "Dislike":
        return -1
    return None
