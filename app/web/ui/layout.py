"""The Gradio Blocks: first the layout, then the wiring of events to Handlers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from app.web.ui.admin_tab import AdminTab
from app.web.ui.conversations_panel import ConversationsPanel
from app.web.ui.handlers import DOC_VIEW_HEADERS, JOB_HEADERS, Handlers, new_session
from app.web.ui.i18n import I18N
from app.web.ui.usage_tab import UsageTab

CSS = """
.citation-passage blockquote { font-size: 0.92em; }
#chatbot .bot, #chatbot [data-testid="bot"] { cursor: pointer; }
#sources label { width: 100%; }
footer { display: none !important; }
/* The conversation list: one title per line, the open one highlighted, no radio dots. */
#conversations .wrap { flex-direction: column; gap: 2px; max-height: 46vh; overflow-y: auto; flex-wrap: nowrap; }
#conversations label { width: 100%; margin: 0; border-radius: 6px; white-space: normal; overflow: hidden;
  text-overflow: ellipsis; display: block; padding: 6px 10px; font-size: 0.92em; flex: 0 0 auto; }
#conversations label span { margin-left: 0 !important; }
#conversations label input { position: absolute; opacity: 0; pointer-events: none; }
#conversations label.selected, #conversations label:has(input:checked) {
  background: var(--color-accent-soft); border-color: var(--color-accent); font-weight: 600; }
#retrieval-only { border-left: 4px solid var(--color-accent); padding: 4px 12px; }
#chat-row { flex-wrap: wrap; }
#chat-row > * { min-width: 0; }
#chatbot .message-row, #chatbot .message { max-width: 100%; overflow-wrap: anywhere; }
/* A phone: everything in one column, the page view below the chat. */
@media (max-width: 700px) {
  #chat-row { flex-direction: column; }
  #chat-row > * { width: 100% !important; min-width: 0 !important; flex: 1 1 auto !important; }
  #conversations .wrap { max-height: 24vh; }
  #page-image { max-height: 60vh; }
}
"""

# Which [n] marker a click in the chat landed on: read from the text under the pointer, before
# Gradio's own click handler turns the click into the Chatbot's select event (which reads it back).
CITE_CLICK_JS = r"""
() => {
  document.addEventListener('click', (e) => {
    window.__citeN = 0;
    const chat = document.getElementById('chatbot');
    if (!chat || !chat.contains(e.target)) return;
    let node = null, offset = 0;
    if (document.caretPositionFromPoint) {
      const p = document.caretPositionFromPoint(e.clientX, e.clientY);
      if (p) { node = p.offsetNode; offset = p.offset; }
    } else if (document.caretRangeFromPoint) {
      const r = document.caretRangeFromPoint(e.clientX, e.clientY);
      if (r) { node = r.startContainer; offset = r.startOffset; }
    }
    if (!node || node.nodeType !== Node.TEXT_NODE) return;
    const re = /\[(\d{1,3})\]/g;
    let m;
    while ((m = re.exec(node.textContent)) !== null) {
      if (offset >= m.index && offset <= m.index + m[0].length) { window.__citeN = Number(m[1]); return; }
    }
  }, true);
  // The copy button of an answer copies its text, not its Markdown (bold marks, quote signs, rules).
  let fromChat = false;
  document.addEventListener('click', (e) => { fromChat = !!e.target.closest && !!e.target.closest('#chatbot'); }, true);
  const plain = (t) => t.replace(/^\s*---\s*$/gm, '').replace(/^> ?/gm, '    ')
    .replace(/\*\*([^*]+)\*\*/g, '$1').replace(/(^|\s)\*([^*\n]+)\*(?=\s|$)/g, '$1$2')
    .replace(/\\([\\`*_{}\[\]()#+\-.!|>~<])/g, '$1').replace(/\n{3,}/g, '\n\n')
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&').trim();
  if (navigator.clipboard && navigator.clipboard.writeText) {
    const write = navigator.clipboard.writeText.bind(navigator.clipboard);
    navigator.clipboard.writeText = (text) => write(fromChat ? plain(String(text)) : text);
  }
}
"""


@dataclass
class Ui:
    """Every component an event needs, by name."""

    session: gr.State
    whoami: gr.Markdown
    chatbot: gr.Chatbot
    question: gr.Textbox
    send: gr.Button
    stop: gr.Button
    retrieval_banner: gr.Markdown
    conversations: gr.Radio
    conv_newer: gr.Button
    conv_older: gr.Button
    conv_offset: gr.State
    api_conversations: gr.JSON
    new_chat: gr.Button
    rename_box: gr.Group
    new_title: gr.Textbox
    rename_open: gr.Button
    rename: gr.Button
    delete_chat: gr.Button
    chat_confirm: gr.Group
    chat_confirm_text: gr.Markdown
    chat_delete_yes: gr.Button
    chat_delete_no: gr.Button
    feedback_box: gr.Group
    feedback_text: gr.Textbox
    feedback_send: gr.Button
    scope: gr.CheckboxGroup
    sources: gr.Radio
    cite_number: gr.Number
    page_image: gr.Image
    passage: gr.Markdown
    files: gr.File
    jobs: gr.Dataframe
    documents: gr.Dataframe
    doc_select: gr.Dropdown
    delete_doc: gr.Button
    confirm_box: gr.Group
    confirm_text: gr.Markdown
    cancel_delete: gr.Button
    refresh: gr.Button
    timer: gr.Timer
    api_key: gr.Textbox | None
    key_save: gr.Button | None
    key_clear: gr.Button | None
    key_status: gr.Markdown
    usage: gr.Markdown
    api_doc_id: gr.Textbox
    api_page: gr.Number
    api_image: gr.Image
    api_trigger: gr.Button


def build_blocks(handlers: Handlers, user_keys: str, hf_oauth: bool = False) -> gr.Blocks:
    with gr.Blocks(title="PDF Q&A", delete_cache=(300, 900)) as demo:
        usage = UsageTab(handlers.s.usage_report, handlers.user)
        admin = AdminTab(handlers.s.admin, handlers.user, handlers.s.feedback)
        ui = _layout(user_keys, hf_oauth, usage, admin)
        _wire(demo, ui, handlers, ConversationsPanel(handlers))
        usage.wire([demo.load] + ([usage.tab.select] if usage.tab is not None else []))
        admin.wire(demo.load)
    return demo


def _t(key: str) -> Any:
    """A label as a translation key, resolved in the browser from its language."""
    return I18N(key)


def _layout(user_keys: str, hf_oauth: bool, usage_tab: UsageTab, admin_tab: AdminTab | None = None) -> Ui:
    session = gr.State(new_session())
    with gr.Row(equal_height=True):
        gr.Markdown("## PDF Q&A")
        whoami = gr.Markdown(elem_id="whoami")
        if hf_oauth:
            gr.LoginButton()
        else:
            gr.Button(_t("logout"), link="/logout", size="sm", scale=0, elem_id="logout")
    with gr.Tabs():
        with gr.Tab(_t("tab.chat"), id="chat"):
            # Said once, above the chat, when no language model is configured (filled on load).
            retrieval_banner = gr.Markdown(visible=False, elem_id="retrieval-only")
            with gr.Row(elem_id="chat-row"):
                with gr.Column(scale=1, min_width=220, elem_id="conversation-col"):
                    new_chat = gr.Button(_t("chat.new"), variant="secondary", elem_id="new-chat")
                    # Newest first; a click opens one; the open one is the selected (highlighted) item.
                    conversations = gr.Radio(
                        label=_t("chat.conversations"), choices=[], value=None, elem_id="conversations"
                    )
                    conv_offset = gr.State(0)  # the first conversation of the page shown
                    with gr.Row():  # a page of conversations at a time (shown when there are more)
                        conv_newer = gr.Button(_t("chat.newer"), size="sm", visible=False, elem_id="conv-newer")
                        conv_older = gr.Button(_t("chat.older"), size="sm", visible=False, elem_id="conv-older")
                    with gr.Row():
                        rename_open = gr.Button(_t("chat.rename"), size="sm", elem_id="rename-chat")
                        delete_chat = gr.Button(_t("chat.delete"), variant="stop", size="sm", elem_id="delete-chat")
                    with gr.Group(visible=False, elem_id="rename-box") as rename_box:
                        new_title = gr.Textbox(label=_t("chat.new_title"), elem_id="new-title", max_lines=1)
                        rename = gr.Button(_t("chat.save_title"), size="sm", elem_id="save-title")
                    with gr.Group(visible=False, elem_id="confirm-chat-delete") as chat_confirm:
                        chat_confirm_text = gr.Markdown()
                        with gr.Row():
                            chat_delete_yes = gr.Button(
                                _t("chat.delete_confirm"), variant="stop", size="sm", elem_id="delete-chat-yes"
                            )
                            chat_delete_no = gr.Button(_t("chat.cancel"), size="sm", elem_id="delete-chat-no")
                    scope = gr.CheckboxGroup(label=_t("chat.scope"), choices=[], value=[], elem_id="scope")
                with gr.Column(scale=3, min_width=300, elem_id="answer-col"):
                    chatbot = gr.Chatbot(
                        label=_t("tab.chat"),
                        height=480,
                        elem_id="chatbot",
                        buttons=["copy"],  # a copy button on each message
                        feedback_options=("Like", "Dislike"),
                    )
                    with gr.Group(visible=False, elem_id="feedback-box") as feedback_box:
                        feedback_text = gr.Textbox(
                            label=_t("feedback.comment"), lines=2, max_lines=6, elem_id="feedback-text"
                        )
                        feedback_send = gr.Button(_t("feedback.send"), size="sm", elem_id="feedback-send")
                    with gr.Row():
                        # One line that grows: Enter sends, Shift+Enter adds a line.
                        question = gr.Textbox(
                            label=_t("chat.question"),
                            placeholder=_t("chat.placeholder"),
                            scale=5,
                            min_width=160,
                            lines=1,
                            max_lines=6,
                            elem_id="question",
                            autofocus=True,
                        )
                        with gr.Column(scale=1, min_width=90):
                            send = gr.Button(_t("chat.send"), variant="primary", elem_id="send")
                            stop = gr.Button(_t("chat.stop"), variant="stop", size="sm", elem_id="stop")
                # The page view beside the chat (below it on a narrow screen): always a source of
                # the answer last received or clicked.
                with gr.Column(scale=2, min_width=280, elem_id="page-col"):
                    sources = gr.Radio(
                        label=_t("chat.sources"), choices=[], value=None, visible=False, elem_id="sources"
                    )
                    page_image = gr.Image(
                        label=_t("chat.page"),
                        type="filepath",
                        interactive=False,
                        height=520,
                        elem_id="page-image",
                        buttons=["download", "fullscreen"],
                    )
                    passage = gr.Markdown(
                        label=_t("chat.passage"), elem_classes=["citation-passage"], elem_id="passage"
                    )
        with gr.Tab(_t("tab.documents"), id="documents"):
            # Dropping or choosing files starts the upload; progress per file in the table below.
            files = gr.File(label=_t("docs.upload"), file_count="multiple", file_types=[".pdf"], elem_id="files")
            jobs = gr.Dataframe(
                label=_t("docs.progress"), headers=JOB_HEADERS, value=[], interactive=False, elem_id="jobs"
            )
            documents = gr.Dataframe(
                label=_t("docs.table"), headers=DOC_VIEW_HEADERS, value=[], interactive=False, elem_id="documents"
            )
            # A click on a row's delete cell asks here before anything is deleted.
            with gr.Group(visible=False, elem_id="confirm-delete") as confirm_box:
                confirm_text = gr.Markdown()
                with gr.Row():
                    doc_select = gr.Dropdown(
                        label=_t("docs.select"), choices=[], value=None, interactive=False, scale=3
                    )
                    delete_doc = gr.Button(_t("docs.delete"), variant="stop", scale=1, elem_id="delete-doc")
                    cancel_delete = gr.Button(_t("chat.cancel"), scale=1, elem_id="cancel-delete")
            refresh = gr.Button(_t("docs.refresh"), size="sm")
        with gr.Tab(_t("tab.settings"), id="settings"):
            api_key = key_save = key_clear = None
            if user_keys != "off":
                api_key = gr.Textbox(label=_t("settings.key"), type="password", elem_id="api-key")
                with gr.Row():
                    key_save = gr.Button(_t("settings.key_save"), variant="primary")
                    key_clear = gr.Button(_t("settings.key_clear"))
            key_status = gr.Markdown()
            usage = gr.Markdown(label=_t("settings.usage"))
        with gr.Tab(_t("tab.usage"), id="usage", elem_id="usage-tab") as usage_tab.tab:
            usage_tab.render()
        if admin_tab is not None:  # shown to admins only (and every admin handler checks again)
            with gr.Tab(_t("tab.admin"), id="admin", elem_id="admin-tab", visible=False) as admin_tab.tab:
                admin_tab.render()
    # Hidden API-only components (page rendering for clients).
    with gr.Row(visible=False):
        api_doc_id = gr.Textbox()
        api_page = gr.Number(precision=0)
        api_image = gr.Image(type="filepath")
        api_trigger = gr.Button()
        cite_number = gr.Number(precision=0)
        api_conversations = gr.JSON()
    # Ticks only while an upload of this user is queued or indexing (refresh turns it off again):
    # an idle open tab costs the server nothing.
    timer = gr.Timer(1.0, active=False)
    return Ui(
        session=session,
        whoami=whoami,
        chatbot=chatbot,
        question=question,
        send=send,
        stop=stop,
        retrieval_banner=retrieval_banner,
        conversations=conversations,
        conv_newer=conv_newer,
        conv_older=conv_older,
        conv_offset=conv_offset,
        api_conversations=api_conversations,
        new_chat=new_chat,
        rename_box=rename_box,
        new_title=new_title,
        rename_open=rename_open,
        rename=rename,
        delete_chat=delete_chat,
        chat_confirm=chat_confirm,
        chat_confirm_text=chat_confirm_text,
        chat_delete_yes=chat_delete_yes,
        chat_delete_no=chat_delete_no,
        feedback_box=feedback_box,
        feedback_text=feedback_text,
        feedback_send=feedback_send,
        scope=scope,
        sources=sources,
        cite_number=cite_number,
        page_image=page_image,
        passage=passage,
        files=files,
        jobs=jobs,
        documents=documents,
        doc_select=doc_select,
        delete_doc=delete_doc,
        confirm_box=confirm_box,
        confirm_text=confirm_text,
        cancel_delete=cancel_delete,
        refresh=refresh,
        timer=timer,
        api_key=api_key,
        key_save=key_save,
        key_clear=key_clear,
        key_status=key_status,
        usage=usage,
        api_doc_id=api_doc_id,
        api_page=api_page,
        api_image=api_image,
        api_trigger=api_trigger,
    )


def _wire(demo: gr.Blocks, ui: Ui, h: Handlers, c: ConversationsPanel) -> None:
    private: dict[str, Any] = {"api_visibility": "private"}
    refresh_outputs = [ui.jobs, ui.documents, ui.scope, ui.doc_select, ui.timer]
    demo.load(h.whoami, None, ui.whoami, **private)
    demo.load(h.retrieval_banner, None, ui.retrieval_banner, **private)
    demo.load(h.refresh, None, refresh_outputs, **private)
    conversation_list = [ui.conversations, ui.conv_newer, ui.conv_older, ui.conv_offset]
    demo.load(c.choices, [ui.session], conversation_list, **private)
    demo.load(h.usage, None, ui.usage, **private)
    ui.timer.tick(h.refresh, None, refresh_outputs, show_progress="hidden", **private)

    ask_inputs = [ui.question, ui.chatbot, ui.session, ui.scope]
    page_view = [ui.page_image, ui.passage]
    ask_outputs = [ui.chatbot, ui.session, ui.sources, ui.question, *page_view]
    for trigger, fn, inputs, api in (
        (ui.send.click, h.ask, ask_inputs, {"api_name": "ask"}),
        (ui.question.submit, h.ask, ask_inputs, private),  # Enter sends, Shift+Enter adds a line
        (ui.chatbot.retry, h.retry, ask_inputs[1:], private),  # the last question asked again
    ):
        answered = trigger(fn, inputs, ask_outputs, show_progress="minimal", **api)
        # One event after the answer (page view, conversation list, usage line): each event is a
        # round trip through the queue, and three per answer cost the server more than one.
        answered.then(
            c.after_answer, [ui.session], [*page_view, *conversation_list[:3], ui.usage, ui.conv_offset], **private
        )
    # Stop: the streaming answer ends after the word being received (its handler stops reading: the
    # LLM request is closed, the tokens spent are recorded, the partial answer kept, marked stopped).
    ui.stop.click(h.stop, None, None, queue=False, **private)
    # A source chosen in the list, or a click on an answer (on one of its [n] markers: that source).
    ui.sources.input(h.show_citation, [ui.sources, ui.session], page_view, **private)
    ui.chatbot.select(
        h.open_cited,
        [ui.cite_number, ui.session],
        [ui.sources, *page_view],
        js="(n, s) => [window.__citeN || 0, s]",
        **private,
    )
    ui.chatbot.like(c.rate, [ui.session], [ui.feedback_box, ui.session], **private)
    for trigger in (ui.feedback_send.click, ui.feedback_text.submit):
        trigger(c.comment, [ui.feedback_text, ui.session], [ui.feedback_box, ui.feedback_text, ui.session], **private)

    hidden = gr.update(visible=False)
    boxes = [ui.rename_box, ui.chat_confirm]
    # The rename/delete/feedback boxes close first: closing them at the end of the chain would close a
    # box the user opened while the page view was still loading.
    ui.conversations.input(lambda: (hidden, hidden, hidden), None, [*boxes, ui.feedback_box], **private).then(
        c.open, [ui.conversations, ui.session], [ui.chatbot, ui.session, ui.sources], **private
    ).then(h.show_last_sources, [ui.session], page_view, **private)
    # The chat's own clear button starts a new chat too (the cleared conversation stays in the list).
    for trigger in (ui.new_chat.click, ui.chatbot.clear):
        trigger(lambda: (hidden, hidden, hidden), None, [*boxes, ui.feedback_box], **private).then(
            c.new, [ui.session], [ui.chatbot, ui.session, ui.conversations, ui.sources], **private
        ).then(h.show_last_sources, [ui.session], page_view, **private)
    ui.rename_open.click(c.ask_rename, [ui.conversations], [ui.rename_box, ui.new_title], **private)
    for trigger in (ui.rename.click, ui.new_title.submit):
        trigger(
            c.rename,
            [ui.conversations, ui.new_title, ui.conv_offset, ui.session],
            [ui.conversations, ui.rename_box],
            **private,
        )
    ui.delete_chat.click(c.ask_delete, [ui.conversations], [ui.chat_confirm, ui.chat_confirm_text], **private)
    ui.chat_delete_no.click(lambda: hidden, None, ui.chat_confirm, **private)
    ui.chat_delete_yes.click(
        c.delete,
        [ui.conversations, ui.conv_offset, ui.session],
        [*conversation_list, ui.chatbot, ui.session, ui.chat_confirm, ui.sources],
        **private,
    ).then(h.show_last_sources, [ui.session], page_view, **private)
    ui.conv_newer.click(c.newer, [ui.conv_offset, ui.session], conversation_list, **private)
    ui.conv_older.click(c.older, [ui.conv_offset, ui.session], conversation_list, **private)

    ui.files.upload(h.upload, [ui.files], [ui.jobs], api_name="upload").then(
        lambda: (None, gr.Timer(active=True)), None, [ui.files, ui.timer], **private
    )
    ui.refresh.click(h.refresh, None, refresh_outputs, **private)
    confirm = [ui.doc_select, ui.confirm_box, ui.confirm_text]
    ui.documents.select(h.pick_row_to_delete, None, confirm, **private)
    ui.delete_doc.click(h.delete_confirmed, [ui.doc_select], [ui.documents, ui.confirm_box, ui.confirm_text], **private)
    ui.cancel_delete.click(lambda: (gr.update(visible=False), ""), None, [ui.confirm_box, ui.confirm_text], **private)
    # API-only endpoints for scripted clients.
    ui.api_trigger.click(h.documents, None, ui.documents, api_name="documents")
    ui.api_trigger.click(h.jobs, None, ui.jobs, api_name="jobs")
    ui.api_trigger.click(h.delete_document, [ui.doc_select], [ui.documents], api_name="delete_document")
    ui.api_trigger.click(h.page_image, [ui.api_doc_id, ui.api_page], ui.api_image, api_name="page")
    ui.api_trigger.click(c.api_list, [ui.api_page], ui.api_conversations, api_name="conversations")
    if ui.api_key is not None and ui.key_save is not None and ui.key_clear is not None:
        ui.key_save.click(
            h.set_key, [ui.api_key, ui.session], [ui.api_key, ui.session, ui.key_status], api_name="set_key"
        )
        ui.api_key.submit(h.set_key, [ui.api_key, ui.session], [ui.api_key, ui.session, ui.key_status], **private)
        ui.key_clear.click(h.clear_key, [ui.session], [ui.api_key, ui.session, ui.key_status], **private)
