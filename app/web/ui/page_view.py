"""The chat page's view of a cited page, beside the chat (below it on a narrow screen): the sources
of the answer last received or clicked, the page as an image with the passage marked, and the quoted
passage. Also the `page` API (one page of one of the caller's documents as an image)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from app.answering.service import Citation
from app.documents.pages import PageRenderer
from app.web.ui.citations import Citations, citation_choices, cited_index, source_of, sources_update
from app.web.ui.errors import ui_errors
from app.web.ui.i18n import I18N, language, msg
from app.web.ui.safe_markdown import literal
from app.web.ui.session import Session, UserOf, bind_session

Update = dict[Any, Any]  # component -> its new value or gr.update(...)
TenantOf = Callable[[str, str], str]  # (user, document id) -> the tenant to read it as
PRIVATE: dict[str, Any] = {"api_visibility": "private"}


class PageView:
    def __init__(
        self, pages: PageRenderer, user_of: UserOf, session: gr.State, tenant_of: TenantOf | None = None
    ) -> None:
        self._pages = pages
        self._user_of = user_of
        # Whose document a cited page is (the user's or a team library's they may read), asked on
        # every render: a member who left the group sees "not found" at the next click.
        self._tenant_of: TenantOf = tenant_of or (lambda user, _doc_id: user)
        self.session = session  # the tab's state (layout.py makes it; the chat page shares it)

    # ---- layout -------------------------------------------------------------------------------

    def render(self) -> None:
        """The source list, the page and the passage; call inside the page's column. The page is
        shown as wide as its column, in a box that scrolls (the page script scrolls the highlighted
        passage into sight and zooms in and out where the page is clicked); on a phone the close
        button ends the view over the chat that a tapped [n] opens (assets.py)."""
        gr.Button(I18N("chat.close_page"), size="sm", elem_id="page-close")
        self.sources = gr.Radio(label=I18N("chat.sources"), choices=[], value=None, visible=False, elem_id="sources")
        self.image = gr.Image(
            label=I18N("chat.page"),
            type="filepath",
            interactive=False,
            elem_id="page-image",
            buttons=["download", "fullscreen"],
        )
        self.passage = gr.Markdown(label=I18N("chat.passage"), elem_classes=["citation-passage"], elem_id="passage")

    def render_api(self) -> None:
        """Hidden: the `page` API's inputs and output, and the [n] a click in the chat landed on."""
        self.api_doc_id = gr.Textbox()
        self.api_page = gr.Number(precision=0)
        self.api_image = gr.Image(type="filepath")
        self.api_trigger = gr.Button()
        self.cite_number = gr.Number(precision=0)

    @property
    def outputs(self) -> list[Any]:
        """The page and the passage: what `show_citation` and `show_last_sources` fill."""
        return [self.image, self.passage]

    # ---- wiring -------------------------------------------------------------------------------

    def wire(self, chatbot: gr.Chatbot) -> None:
        """A source chosen in the list, or a click on an answer (on one of its [n] markers: that
        source; the page script tells which one); the `page` API."""
        self.sources.input(self.show_citation, [self.sources, self.session], self.outputs, **PRIVATE)
        chatbot.select(
            self.open_cited,
            [self.cite_number, self.session],
            [self.sources, *self.outputs],
            js="(n, s) => [window.__citeN || 0, s]",
            **PRIVATE,
        )
        self.api_trigger.click(self.page_image, [self.api_doc_id, self.api_page], self.api_image, api_name="page")

    # ---- updates for the chat's own events -----------------------------------------------------

    def cleared(self, answer: int) -> Update:
        """No sources and an empty view: a new answer has begun (or ended with no sources)."""
        return {self.sources: sources_update([], answer), self.image: None, self.passage: ""}

    def listed(self, citations: Citations, answer: int) -> Update:
        """The answer's sources in the list, its first selected (the view follows in its own event)."""
        return {self.sources: sources_update(citations, answer)}

    # ---- handlers -----------------------------------------------------------------------------

    @ui_errors
    def show_citation(self, choice: str | None, session: Session, request: gr.Request) -> Update:
        """The cited page as an image and the quoted passage beside it (none: the view is cleared)."""
        owner = self._user_of(request)
        cited = source_of(bind_session(session, owner), choice)
        if cited is None:
            return {self.image: None, self.passage: ""}
        c = Citation.model_validate(cited)
        tenant = self._tenant_of(owner, c.doc_id)
        image = str(self._pages.render_file(tenant, c.doc_id, c.page, passage=c.passage or c.text))
        lang = language(request)
        section = f" · {literal(c.section)}" if c.section else ""
        # A recognised page's text may be misread: said beside the image it can be checked against.
        recognised = f"\n\n*{msg('source.recognised', lang)}*" if c.ocr else ""
        quote = literal(" ".join((c.passage or c.text).split()))
        library = f" ({literal(msg('lib.citation', lang, name=c.library))})" if c.library else ""
        heading = f"**{literal(c.file)}**{library} — {msg('page', lang)} {c.page}{section}{recognised}"
        return {self.image: image, self.passage: f"{heading}\n\n> {quote}"}

    @ui_errors
    def show_last_sources(self, session: Session, request: gr.Request) -> Update:
        """After an answer arrives or a conversation opens: the first source of its last answer."""
        answers = bind_session(session, self._user_of(request)).get("answers") or {}
        last = max(answers, default=None)  # an answer without sources clears the view
        return self.show_citation(None if last is None else f"{last}:0", session, request)

    @ui_errors
    def open_cited(self, number: float | None, session: Session, evt: gr.SelectData, request: gr.Request) -> Any:
        """A click on an answer: the source whose [n] marker was clicked (told by the page script),
        else the answer's first source; the answer's own sources are listed beside it."""
        session = bind_session(session, self._user_of(request))
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        citations = (session.get("answers") or {}).get(index) if isinstance(index, int) else None
        if not citations:
            return gr.skip()  # an answer without sources (or a question): nothing changes
        chosen = cited_index(citations, int(number or 0)) or 0
        value = f"{index}:{chosen}"
        listed = gr.update(choices=citation_choices(citations, index), value=value, visible=True)
        return {self.sources: listed, **self.show_citation(value, session, request)}

    @ui_errors
    def page_image(self, doc_id: str, page: float, request: gr.Request) -> str:
        """API: render one page of one of the caller's documents (or of a library's they read)."""
        user = self._user_of(request)
        return str(self._pages.render_file(self._tenant_of(user, doc_id), doc_id, int(page)))
