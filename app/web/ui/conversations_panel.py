"""The chat page's conversation list (newest first, a page of PAGE at a time with newer/older buttons,
the open one highlighted; open, rename and delete in place) and the `conversations` API. Opening,
starting or deleting a conversation changes the chat, the page view and the feedback box beside it:
the chat page hands those parts in."""

from __future__ import annotations

from typing import Any

import gradio as gr

from app.answering.conversations import ConversationService
from app.answering.prompts import is_retrieval_only
from app.audit import audit
from app.web.ui.citations import Citations, answer_markdown, shown_citations
from app.web.ui.errors import ui_errors
from app.web.ui.feedback_box import FeedbackBox
from app.web.ui.i18n import EN, I18N, JA, language, msg
from app.web.ui.page_view import PageView
from app.web.ui.safe_markdown import literal
from app.web.ui.session import Session, UserOf, bind_session

Chat = list[dict[str, Any]]
Update = dict[Any, Any]  # component -> its new value or gr.update(...)
PRIVATE: dict[str, Any] = {"api_visibility": "private"}
PAGE = 50  # conversations per page of the list (and of the `conversations` API)


def _closed(session: Session) -> Session:
    """No conversation open: the next question starts a new one."""
    return {**session, "conversation_id": None, "citations": [], "answers": {}, "feedback_index": None}


class ConversationsPanel:
    def __init__(
        self,
        conversations: ConversationService,
        user_of: UserOf,
        session: gr.State,
        page_view: PageView,
        feedback: FeedbackBox,
    ) -> None:
        self._conversations = conversations
        self._user_of = user_of
        self.session = session  # the tab's state (layout.py makes it; the chat page shares it)
        self._page_view = page_view
        self._feedback = feedback

    # ---- layout -------------------------------------------------------------------------------

    def render(self) -> None:
        """The list and its buttons; call inside the chat page's left column."""
        self.new_button = gr.Button(I18N("chat.new"), variant="secondary", elem_id="new-chat")
        # Newest first; a click opens one; the open one is the selected (highlighted) item.
        self.list = gr.Radio(label=I18N("chat.conversations"), choices=[], value=None, elem_id="conversations")
        self.offset = gr.State(0)  # the first conversation of the page shown
        with gr.Row():  # a page of conversations at a time (shown when there are more)
            self.newer_button = gr.Button(I18N("chat.newer"), size="sm", visible=False, elem_id="conv-newer")
            self.older_button = gr.Button(I18N("chat.older"), size="sm", visible=False, elem_id="conv-older")
        with gr.Row():
            self.rename_button = gr.Button(I18N("chat.rename"), size="sm", elem_id="rename-chat")
            self.delete_button = gr.Button(I18N("chat.delete"), variant="stop", size="sm", elem_id="delete-chat")
        with gr.Group(visible=False, elem_id="rename-box") as self.rename_box:
            self.title = gr.Textbox(label=I18N("chat.new_title"), elem_id="new-title", max_lines=1)
            self.save_title = gr.Button(I18N("chat.save_title"), size="sm", elem_id="save-title")
        with gr.Group(visible=False, elem_id="confirm-chat-delete") as self.confirm:
            self.confirm_text = gr.Markdown()
            with gr.Row():
                self.delete_yes = gr.Button(
                    I18N("chat.delete_confirm"), variant="stop", size="sm", elem_id="delete-chat-yes"
                )
                self.delete_no = gr.Button(I18N("chat.cancel"), size="sm", elem_id="delete-chat-no")

    def render_api(self) -> None:
        """Hidden: the `conversations` API's page number and result."""
        self.api_page = gr.Number(precision=0)
        self.api_result = gr.JSON()
        self.api_trigger = gr.Button()

    @property
    def pager(self) -> list[Any]:
        """The list, its newer/older buttons and the offset shown: what `listing` fills."""
        return [self.list, self.newer_button, self.older_button, self.offset]

    # ---- wiring -------------------------------------------------------------------------------

    def wire(self, load: Any, chatbot: gr.Chatbot) -> None:
        self._chatbot = chatbot
        session, sources, page = self.session, self._page_view.sources, self._page_view.outputs
        show_page = self._page_view.show_last_sources
        load(self.choices, [session], self.pager, **PRIVATE)
        hidden = gr.update(visible=False)
        boxes = [self.rename_box, self.confirm, self._feedback.box]
        # The rename/delete/feedback boxes close first: closing them at the end of the chain would close a
        # box the user opened while the page view was still loading.
        self.list.input(lambda: (hidden, hidden, hidden), None, boxes, **PRIVATE).then(
            self.open, [self.list, session], [chatbot, session, sources], **PRIVATE
        ).then(show_page, [session], page, **PRIVATE)
        # The chat's own clear button starts a new chat too (the cleared conversation stays in the list).
        for trigger in (self.new_button.click, chatbot.clear):
            trigger(lambda: (hidden, hidden, hidden), None, boxes, **PRIVATE).then(
                self.new, [session], [chatbot, session, self.list, sources], **PRIVATE
            ).then(show_page, [session], page, **PRIVATE)
        self.rename_button.click(self.ask_rename, [self.list], [self.rename_box, self.title], **PRIVATE)
        for trigger in (self.save_title.click, self.title.submit):
            trigger(self.rename, [self.list, self.title, self.offset, session], [self.list, self.rename_box], **PRIVATE)
        self.delete_button.click(self.ask_delete, [self.list], [self.confirm, self.confirm_text], **PRIVATE)
        self.delete_no.click(lambda: hidden, None, self.confirm, **PRIVATE)
        self.delete_yes.click(
            self.delete,
            [self.list, self.offset, session],
            [*self.pager, chatbot, session, self.confirm, sources],
            **PRIVATE,
        ).then(show_page, [session], page, **PRIVATE)
        self.newer_button.click(self.newer, [self.offset, session], self.pager, **PRIVATE)
        self.older_button.click(self.older, [self.offset, session], self.pager, **PRIVATE)
        self.api_trigger.click(self.api_list, [self.api_page], self.api_result, api_name="conversations")

    # ---- the list -----------------------------------------------------------------------------

    def listing(self, offset: int, session: Session, request: gr.Request) -> Update:
        """One page of the list from `offset`, newest first, the open conversation selected, the
        newer/older buttons it needs and the offset shown. The offset is the tab's own small state,
        apart from the session (which answers and openings write)."""
        owner = self._user_of(request)
        lang = language(request)
        offset = max(0, int(offset or 0))
        page = self._conversations.page(owner, PAGE, offset)
        if not page.conversations and offset:  # deleted down to nothing here: the newest page
            page = self._conversations.page(owner, PAGE, 0)
        listed = [(c.title, c.id) for c in page.conversations]
        current = (session or {}).get("conversation_id")
        value = current if any(i == current for _, i in listed) else None
        label = (JA if lang == "ja" else EN)["chat.conversations"]
        if page.total > PAGE:
            last = page.offset + len(listed)
            label = msg("chat.conversations_page", lang, first=page.offset + 1, last=last, total=page.total)
        return {
            self.list: gr.update(choices=listed, value=value, label=label),
            self.newer_button: gr.update(visible=page.offset > 0),
            self.older_button: gr.update(visible=page.offset + len(listed) < page.total),
            self.offset: page.offset,
        }

    @ui_errors
    def choices(self, session: Session, request: gr.Request) -> Update:
        """The newest page of conversations, with the newer/older buttons it needs."""
        return self.listing(0, session, request)

    @ui_errors
    def newer(self, offset: int, session: Session, request: gr.Request) -> Update:
        return self.listing(int(offset or 0) - PAGE, session, request)

    @ui_errors
    def older(self, offset: int, session: Session, request: gr.Request) -> Update:
        return self.listing(int(offset or 0) + PAGE, session, request)

    @ui_errors
    def api_list(self, page: float | None, request: gr.Request) -> dict[str, Any]:
        """API: one page (1 = the newest PAGE) of the caller's conversations and how many there are."""
        number = max(1, int(page or 1))
        listed = self._conversations.page(self._user_of(request), PAGE, (number - 1) * PAGE)
        return {
            "page": number,
            "page_size": PAGE,
            "total": listed.total,
            "conversations": [
                {"id": c.id, "title": c.title, "updated_at": c.updated_at.isoformat()} for c in listed.conversations
            ],
        }

    # ---- one conversation ---------------------------------------------------------------------

    @ui_errors
    def open(self, conversation_id: str | None, session: Session, request: gr.Request) -> Update:
        """One click on a title: its messages in the chat, its last sources beside it."""
        owner = self._user_of(request)
        session = bind_session(session, owner)
        lang = language(request)
        if not conversation_id:
            return {self._chatbot: _empty_chat(), self.session: _closed(session), **self._page_view.listed([], 0)}
        chat: Chat = []
        citations: Citations = []
        answers: dict[int, Citations] = {}
        for m in self._conversations.messages(owner, conversation_id):
            if m.role == "user":
                chat.append({"role": "user", "content": m.content})
                continue
            mode = "retrieval_only" if is_retrieval_only(m.content) else ""
            citations = shown_citations(m.citations or [], mode)
            answers[len(chat)] = citations  # an answer without sources clears the page view
            chat.append({"role": "assistant", "content": answer_markdown(m.content, mode, citations, lang, m.claims)})
        last = max(answers, default=0)
        session = {**_closed(session), "conversation_id": conversation_id, "citations": citations, "answers": answers}
        thumbs = self._feedback.thumbs(owner, conversation_id, chat)
        return {
            self._chatbot: gr.update(value=chat, feedback_value=thumbs),
            self.session: session,
            **self._page_view.listed(answers.get(last, []), last),
        }

    @ui_errors
    def new(self, session: Session, request: gr.Request) -> Update:
        session = bind_session(session, self._user_of(request))
        return {
            self._chatbot: _empty_chat(),
            self.session: _closed(session),
            self.list: gr.update(value=None),
            **self._page_view.listed([], 0),
        }

    @ui_errors
    def ask_rename(self, conversation_id: str | None, request: gr.Request) -> Update:
        """The rename box under the list, filled with the open conversation's title."""
        owner = self._user_of(request)
        if not conversation_id:
            raise gr.Error(msg("chat.pick_first", language(request)))
        title = self._conversations.get(owner, conversation_id).title
        return {self.rename_box: gr.update(visible=True), self.title: gr.update(value=title)}

    @ui_errors
    def rename(
        self, conversation_id: str | None, title: str, offset: int, session: Session, request: gr.Request
    ) -> Update:
        owner = self._user_of(request)
        if conversation_id and (title or "").strip():
            self._conversations.rename(owner, conversation_id, title)
        return {self.list: self.listing(offset, session, request)[self.list], self.rename_box: gr.update(visible=False)}

    @ui_errors
    def ask_delete(self, conversation_id: str | None, request: gr.Request) -> Update:
        owner = self._user_of(request)
        lang = language(request)
        if not conversation_id:
            raise gr.Error(msg("chat.pick_first", lang))
        title = self._conversations.get(owner, conversation_id).title
        return {
            self.confirm: gr.update(visible=True),
            self.confirm_text: msg("chat.confirm_delete", lang, title=literal(title)),
        }

    @ui_errors
    def delete(self, conversation_id: str | None, offset: int, session: Session, request: gr.Request) -> Update:
        owner = self._user_of(request)
        session = bind_session(session, owner)
        if conversation_id:
            self._conversations.delete(owner, conversation_id)
            audit("conversation.deleted", owner, target=f"{owner}/{conversation_id}")
        chat: Any = gr.update()
        if session.get("conversation_id") == conversation_id:
            session = _closed(session)
            chat = _empty_chat()
        return {
            **self.listing(offset, session, request),
            self._chatbot: chat,
            self.session: session,
            self.confirm: gr.update(visible=False),
            **self._page_view.listed([], 0),
        }


def _empty_chat() -> Any:
    return gr.update(value=[], feedback_value=[])
