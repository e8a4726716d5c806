"""The Chat page: the conversation list and the "only these documents" picker on the left, the chat in
the middle (answers streamed in, a stop and a retry, thumbs and a comment box), the cited page on
the right. One class with its components, wiring and handlers; its parts (ConversationsPanel,
FeedbackBox, PageView) live in their own modules. The question service does the real work (quota,
cache, accounting, storing the turn) and checks the question; this page shows what it streams."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import gradio as gr
from loguru import logger

from app.answering.chat import ChatService
from app.answering.conversations import ConversationService
from app.answering.feedback import FeedbackService
from app.answering.service import Answer
from app.documents.pages import PageRenderer
from app.web.ui.citations import answer_markdown, shown_citations
from app.web.ui.conversations_panel import ConversationsPanel
from app.web.ui.errors import ui_errors, ui_errors_stream
from app.web.ui.feedback_box import FeedbackBox
from app.web.ui.i18n import I18N, language, msg
from app.web.ui.page_view import PageView, TenantOf
from app.web.ui.safe_markdown import model_output
from app.web.ui.session import Session, UserOf, bind_session, tab_of

Update = dict[Any, Any]  # component -> its new value or gr.update(...)
Chat = list[dict[str, Any]]
PRIVATE: dict[str, Any] = {"api_visibility": "private"}
STREAM_UPDATE_S = 0.05  # a streamed answer is shown at most this often (the final text always)
# The chat the browser sends with each question is echoed back with the answer: bounded, so a
# script cannot make the server parse, hold and send back megabytes per question.
MAX_HISTORY_MESSAGES = 200
MAX_HISTORY_BYTES = 256 * 1024


@dataclass(frozen=True)
class Hook:
    """Another page's component that an event of this page fills too, and how (`fill(request)`).
    layout.py passes it in, so the page never reaches into another page."""

    component: Any
    fill: Callable[[gr.Request], Any]


class ChatPage:
    def __init__(
        self,
        chat: ChatService,
        conversations: ConversationService,
        feedback: FeedbackService,
        pages: PageRenderer,
        user_of: UserOf,
        session: gr.State,
        user_keys: Literal["off", "optional", "required"],
        tenant_of: TenantOf | None = None,
    ) -> None:
        self._chat = chat
        self._user_of = user_of
        self._user_keys = user_keys
        self.session = session  # the tab's state (layout.py makes it; Settings keeps the API key in it)
        self.page_view = PageView(pages, user_of, session, tenant_of)
        self.feedback = FeedbackBox(feedback, user_of, session)
        self.conversations = ConversationsPanel(conversations, user_of, session, self.page_view, self.feedback)
        # The stop button of each browser tab's answer being streamed, by user and tab.
        self._stops: dict[str, threading.Event] = {}

    # ---- layout -------------------------------------------------------------------------------

    def render(self) -> None:
        """Build the components; call inside `with gr.Tab(...)`."""
        # Said once, above the chat, when no language model is configured (filled on load).
        self.banner = gr.Markdown(visible=False, elem_id="retrieval-only")
        # Set when an answer (or a stopped one) has arrived; its change runs `after_answer`. A refused
        # question leaves it as it was, so the page view, list and usage line stay as they were.
        self.answered = gr.State(0)
        with gr.Row(elem_id="chat-row"):
            with gr.Column(scale=1, min_width=200, elem_id="conversation-col"):
                # Open beside the chat on a wide screen; on a phone folded behind this one button above
                # the chat, so the question box is on the first screen (assets.py: CSS and script).
                gr.Button(I18N("chat.drawer"), size="sm", elem_id="drawer-toggle")
                with gr.Column(elem_id="chat-drawer"):
                    self.conversations.render()
                    self.scope = gr.CheckboxGroup(label=I18N("chat.scope"), choices=[], value=[], elem_id="scope")
            with gr.Column(scale=3, min_width=300, elem_id="answer-col"):
                self.chatbot = gr.Chatbot(
                    label=I18N("tab.chat"),
                    height=480,
                    elem_id="chatbot",
                    buttons=["copy"],  # a copy button on each message
                    feedback_options=("Like", "Dislike"),
                    # Not to the bottom as an answer grows: the page script keeps the newest
                    # question at the top of the box, so the answer is read from its start.
                    autoscroll=False,
                )
                self.feedback.render()
                with gr.Row():
                    # One line that grows: Enter sends, Shift+Enter adds a line.
                    self.question = gr.Textbox(
                        label=I18N("chat.question"),
                        placeholder=I18N("chat.placeholder"),
                        scale=5,
                        min_width=160,
                        lines=1,
                        max_lines=6,
                        elem_id="question",
                        autofocus=True,
                    )
                    with gr.Column(scale=1, min_width=90):
                        self.send = gr.Button(I18N("chat.send"), variant="primary", elem_id="send")
                        self.stop_button = gr.Button(I18N("chat.stop"), variant="stop", size="sm", elem_id="stop")
            # The page view beside the chat (below it on a phone, and over the chat when a [n] is
            # tapped there): always a source of the answer last received or clicked.
            with gr.Column(scale=4, min_width=280, elem_id="page-col"):
                self.page_view.render()

    def render_api(self) -> None:
        """The hidden components of the page's API functions; call inside a hidden row."""
        self.page_view.render_api()
        self.conversations.render_api()

    # ---- wiring -------------------------------------------------------------------------------

    def wire(self, load: Any, usage_line: Hook) -> None:
        """`usage_line`: the Settings page's usage summary, brought up to date after each answer."""
        self._usage_line = usage_line
        load(self.retrieval_banner, None, self.banner, **PRIVATE)
        ask_inputs = [self.question, self.chatbot, self.session, self.scope]
        ask_outputs = [
            self.chatbot,
            self.session,
            self.page_view.sources,
            self.question,
            *self.page_view.outputs,
            self.answered,
        ]
        after = [*self.page_view.outputs, *self.conversations.pager[:3], usage_line.component]
        for trigger, fn, inputs, api in (
            (self.send.click, self.ask, ask_inputs, {"api_name": "ask"}),
            (self.question.submit, self.ask, ask_inputs, PRIVATE),  # Enter sends, Shift+Enter adds a line
            (self.chatbot.retry, self.retry, ask_inputs[1:], PRIVATE),  # the last question asked again
        ):
            trigger(fn, inputs, ask_outputs, show_progress="minimal", **api)
        # One event after an answer (page view, conversation list, usage line): each event is a round
        # trip through the queue, and three per answer cost the server more than one. It follows the
        # answer's own mark, not the question event, so a refused question changes nothing beside.
        self.answered.change(self.after_answer, [self.session], [*after, self.conversations.offset], **PRIVATE)
        # Stop: the streaming answer ends after the word being received (its handler stops reading: the
        # LLM request is closed, the tokens spent are recorded, the partial answer kept, marked stopped).
        self.stop_button.click(self.stop, None, None, queue=False, **PRIVATE)
        self.page_view.wire(self.chatbot)
        self.feedback.wire(self.chatbot)
        self.conversations.wire(load, self.chatbot)

    # ---- handlers -----------------------------------------------------------------------------

    @ui_errors
    def retrieval_banner(self, request: gr.Request) -> Any:
        """Above the chat, once: with no language model, answers are the best passages."""
        if self._chat.generation_enabled:
            return gr.update(visible=False)
        return gr.update(visible=True, value=msg("retrieval_only", language(request)))

    @ui_errors_stream
    def ask(
        self, message: str, chat: Chat | None, session: Session, scope: list[str] | None, request: gr.Request
    ) -> Iterator[Update]:
        """Stream an answer into the chat, then attach its citations. The question service does the
        rest (quota, cache, accounting, storing the turn); a refused question makes no LLM call."""
        chat = bounded_history(chat, language(request))
        yield from self._answer(message, chat, session, scope, request)

    @ui_errors_stream
    def retry(
        self, chat: Chat | None, session: Session, scope: list[str] | None, request: gr.Request
    ) -> Iterator[Update]:
        """The chat's retry button: the last question asked again, its earlier answer replaced."""
        session = bind_session(session, self._user_of(request))
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
        chat: Chat,
        session: Session,
        scope: list[str] | None,
        request: gr.Request,
        use_cache: bool = True,
        retry: bool = False,
    ) -> Iterator[Update]:
        owner = self._user_of(request)
        session = bind_session(session, owner)
        lang = language(request)
        question = (message or "").strip()
        key = session.get("api_key") if self._user_keys != "off" else None
        events = self._chat.stream(  # the question is checked here (an empty or too long one is refused)
            owner,
            question,
            conversation_id=session.get("conversation_id"),
            doc_ids=scope or None,
            api_key=key,
            use_cache=use_cache,
            stopped_note=msg("stopped", lang),
            retry=retry,
        )
        if self._user_keys == "required" and not key:
            events.close()
            raise gr.Error(msg("key_required", lang))
        # The history comes from the browser and goes back out: text only, so a file entry naming a
        # path on the server can never be served back (Gradio's own check is the second line).
        chat = [{"role": _role(m), "content": message_text(m)} for m in chat]
        chat.append({"role": "user", "content": question})
        chat.append({"role": "assistant", "content": ""})
        index = len(chat) - 1
        answer: Answer | None = None
        conversation_id = session.get("conversation_id")
        streamed = ""
        tab = tab_of(owner, request)
        stop = self._stops[tab] = threading.Event()
        stopped = False
        shown_at = 0.0
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
                    # The first words: the sources and page beside belonged to the last answer.
                    yield self._shown(chat, session, self.page_view.cleared(index) if not shown_at else {})
                    shown_at = time.monotonic()
                if stop.is_set():
                    stopped = True
                    break
        finally:
            # Stopped (or the tab went away): the LLM request ends here; the question service records
            # the tokens spent, settles the quota and keeps the partial answer, marked as stopped.
            events.close()
            if self._stops.get(tab) is stop:
                del self._stops[tab]
        if stopped:
            chat[-1] = {"role": "assistant", "content": model_output(f"{streamed.rstrip()} {msg('stopped', lang)}")}
            # A stopped answer has no sources: recorded as such, so the page view after it stays empty
            # instead of going back to the previous answer's page.
            session = {**session, "answers": {**(session.get("answers") or {}), index: []}}
            yield self._shown(chat, session, {**self.page_view.cleared(index), self.answered: time.monotonic_ns()})
            return
        assert answer is not None
        citations = shown_citations([c.model_dump() for c in answer.citations], answer.mode)
        answers = {**(session.get("answers") or {}), index: citations}
        session = {**session, "conversation_id": conversation_id, "citations": citations, "answers": answers}
        claims = [c.model_dump() for c in answer.claims or []]  # weak and unsupported sentences are marked
        content = answer_markdown(answer.answer, answer.mode, citations, lang, claims)
        chat[-1] = {"role": "assistant", "content": content}
        if answer.cached:
            chat[-1]["content"] += f"\n\n*{msg('cached', lang)}*"
        yield self._shown(
            chat, session, {**self.page_view.listed(citations, index), self.answered: time.monotonic_ns()}
        )

    def _shown(self, chat: Chat, session: Session, beside: Update) -> Update:
        """One step of an answer: the chat and the tab's state, the question box emptied, and what
        changes beside the chat (`beside`: the page view's own update, or nothing)."""
        return {self.chatbot: chat, self.session: session, self.question: "", **beside}

    @ui_errors
    def stop(self, request: gr.Request) -> None:
        """The stop button: the answer this tab is streaming ends after the word being received. Not
        Gradio's `cancels` (its cancelled event races the stream's close in the browser and shows an
        error); the answer's own handler stops, keeps the partial answer and returns normally."""
        stop = self._stops.get(tab_of(self._user_of(request), request))
        if stop is not None:
            stop.set()

    @ui_errors
    def after_answer(self, session: Session, request: gr.Request) -> Update:
        """What the page updates when an answer has arrived, in one event instead of three: the page
        view (its first source), the conversation list (its newest page, where the answered
        conversation now is) and the usage line. A page that cannot be shown is a warning; the list
        and the usage line are still brought up to date."""
        try:
            page = self.page_view.show_last_sources(session, request)
        except gr.Error as e:
            gr.Warning(e.message)
            page = {self.page_view.image: None, self.page_view.passage: ""}
        line = self._usage_line
        return {**page, **self.conversations.listing(0, session, request), line.component: line.fill(request)}


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


def bounded_history(chat: list[Any] | None, lang: str) -> Chat:
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
