"""The thumbs up/down on the chat's answers and the optional comment box under the chat: a thumb is
stored at once; either thumb opens the box, a thumb taken back closes it. Enter in the box sends the
comment (Shift+Enter adds a line), for the answer whose thumb opened it."""

from __future__ import annotations

from typing import Any

import gradio as gr

from app.answering.feedback import FeedbackService
from app.web.ui.errors import info, refused, ui_errors
from app.web.ui.i18n import I18N, language, msg
from app.web.ui.session import Session, UserOf, bind_session

Update = dict[Any, Any]  # component -> its new value or gr.update(...)
Rated = tuple[str, int]  # the answer a comment is about: its conversation and its index in the chat
PRIVATE: dict[str, Any] = {"api_visibility": "private"}
THUMBS = {1: "Like", -1: "Dislike"}  # the Chatbot's names of a stored rating


class FeedbackBox:
    def __init__(self, feedback: FeedbackService, user_of: UserOf, session: gr.State) -> None:
        self._feedback = feedback
        self._user_of = user_of
        self.session = session  # the tab's state (layout.py makes it; the chat page shares it)

    def render(self) -> None:
        """The comment box (hidden until a thumb is given); call under the chat."""
        with gr.Group(visible=False, elem_id="feedback-box") as self.box:
            # One line that grows, like the question box: Enter sends, Shift+Enter adds a line (with
            # two lines Gradio's Enter only added a line, and a comment written that way was lost).
            self.text = gr.Textbox(label=I18N("feedback.comment"), lines=1, max_lines=6, elem_id="feedback-text")
            self.send = gr.Button(I18N("feedback.send"), size="sm", elem_id="feedback-send")
        # The rated answer, the box's own state: an event writing the tab's session meanwhile (an
        # answer, a conversation opened) cannot make the comment lose its answer.
        self.rated = gr.State(None)

    def wire(self, chatbot: gr.Chatbot) -> None:
        chatbot.like(self.rate, [self.session], [self.box, self.rated], **PRIVATE)
        for trigger in (self.send.click, self.text.submit):
            trigger(self.comment, [self.text, self.rated], [self.box, self.text, self.rated], **PRIVATE)

    def thumbs(self, owner: str, conversation_id: str, chat: list[dict[str, Any]]) -> list[str | None]:
        """The thumbs given earlier to a conversation's answers, one entry per answer in order (the
        Chatbot's `feedback_value`)."""
        rated = self._feedback.ratings(owner, conversation_id)
        return [THUMBS.get(rated.get(i, 0)) for i, m in enumerate(chat) if m["role"] == "assistant"]

    @ui_errors
    def rate(self, session: Session, evt: gr.LikeData, request: gr.Request) -> Update:
        """A thumb on an answer: stored at once; either thumb opens the (optional) comment box."""
        owner = self._user_of(request)
        session = bind_session(session, owner)
        conversation_id = session.get("conversation_id")
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        if not conversation_id or not isinstance(index, int):
            lang = language(request)
            raise refused(msg("feedback.not_stored", lang), lang)
        rating = _rating(evt.liked)
        self._feedback.rate(owner, conversation_id, index, rating)
        rated = rating is not None  # a thumb taken back closes the box
        return {self.box: gr.update(visible=rated), self.rated: (conversation_id, index) if rated else None}

    @ui_errors
    def comment(self, text: str, rated: Rated | None, request: gr.Request) -> Update:
        """Send: the comment is stored with the rated answer and the box closes. A comment with no
        rated answer is refused with the text kept (never dropped without a word)."""
        owner, lang = self._user_of(request), language(request)
        if not (text or "").strip():
            return {self.box: gr.update(visible=False), self.text: "", self.rated: None}
        if not rated:
            raise refused(msg("feedback.not_stored", lang), lang)
        conversation_id, index = rated
        self._feedback.comment(owner, conversation_id, int(index), text)
        info(msg("feedback.thanks", lang), lang)
        return {self.box: gr.update(visible=False), self.text: "", self.rated: None}


def _rating(liked: bool | str | None) -> int | None:
    """Gradio's like data: True/"Like" up, False/"Dislike" down, anything else takes it back."""
    if liked is True or liked == "Like":
        return 1
    if liked is False or liked == "Dislike":
        return -1
    return None
