"""The page's own CSS and the script it loads once (server.py hands both to Gradio).

The layout, by width: from 1101 px the chat page has three columns (conversations, chat, cited page;
the page gets the widest, so it reads without fullscreen); down to 701 px the page view wraps below;
on a phone (700 px and less) one column: the conversations and the document picker folded into one
line above the chat, the question box on the first screen, and the page view below the chat, shown
over the chat when a [n] is tapped there."""

from __future__ import annotations

# Gradio scopes each rule to its app (".gradio-container .contain <selector>"); a top-level rule is
# kept as written too, rules in @media only scoped. So the page's own state (the drawer, the page
# over the chat) is an attribute the script sets on #chat-row, inside the app, never on <body>.
CSS = """
.gradio-container { max-width: 1760px !important; }
/* The app's margins: 32 px on a wide screen, down to 8 px on a phone (a top-level rule: see above). */
.gradio-container > .main { padding-left: clamp(8px, 2.5vw, 32px) !important;
  padding-right: clamp(8px, 2.5vw, 32px) !important; }
footer { display: none !important; }
/* The tables' own "scroll to top" button floats over their last rows' right-hand cells: the
   documents table's delete cell could not be tapped under it on a phone. */
#documents .scroll-top-button, #admin-users .scroll-top-button { display: none !important; }
#header { align-items: center; flex-wrap: nowrap; gap: 8px; }
#header > * { min-width: 0 !important; }
#header #logout { flex: 0 0 auto; min-width: max-content !important; }
#header h2 { margin: 0; white-space: nowrap; }
#whoami { text-align: right; }
.citation-passage blockquote { font-size: 0.92em; }
#chatbot .bot, #chatbot [data-testid="bot"] { cursor: pointer; }
#chatbot details.sources { margin-top: 0.8em; border-top: 1px solid var(--border-color-primary); padding-top: 0.4em; }
#chatbot details.sources > summary { cursor: pointer; font-weight: 600; width: fit-content; }
/* A sentence the claim check found weak or unsupported (its title says why): subtle, never hiding
   the text. On a touch screen (no hover, so no tooltip) a tap shows the title under the sentence. */
#chatbot .claim { text-decoration: underline dotted; text-decoration-thickness: 1px; text-underline-offset: 3px;
  cursor: help; border-radius: 2px; }
#chatbot .claim-weak { text-decoration-color: var(--body-text-color-subdued); }
#chatbot .claim-unsupported { text-decoration-color: #d97706; background: rgba(217, 119, 6, 0.08); }
@media (hover: none) {
  /* inline-block: the sentence's underline does not run under the reason */
  #chatbot .claim[data-open]::after { content: attr(title); white-space: pre-line; display: inline-block;
    width: 100%; font-size: 0.85em; line-height: 1.35; color: var(--body-text-color); opacity: 0.75;
    margin: 2px 0 6px; }
}
#sources label { width: 100%; }
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
/* The cited page: as wide as its column, in a box that scrolls; a click zooms in (to the page's own
   pixels) or back out. The page script scrolls the highlighted passage into sight. */
#page-image { height: auto !important; }
#page-image .image-container { display: block; height: clamp(320px, calc(100vh - 250px), 1100px);
  overflow: auto; overscroll-behavior: contain; }
#page-image .image-container > button { display: block; width: 100%; height: auto; padding: 0; cursor: zoom-in; }
#page-image .image-frame { display: block; width: 100%; height: auto; }
#page-image img { display: block; width: 100%; height: auto; max-width: none; max-height: none; }
#page-image[data-zoom="in"] .image-frame { width: var(--page-zoomed-width, 200%); }
#page-image[data-zoom="in"] .image-container > button { cursor: zoom-out; }
#page-close, #drawer-toggle { display: none !important; }
/* A wide screen: the conversations in their own column, the page view the widest. */
@media (min-width: 1101px) {
  #chat-row { flex-wrap: nowrap; }
  #conversation-col { flex: 0 0 200px !important; }
  #answer-col { flex: 10 1 0 !important; }
  #page-col { flex: 13 1 0 !important; }
}
/* A phone: one column; the header on one line; every tab in view (wrapped, never in a menu). */
@media (max-width: 700px) {
  #header h2 { font-size: 1.1em; }
  [role="tablist"] > button[role="tab"] { padding: 0 10px; }
  #chat-row { flex-direction: column; }
  #chat-row > * { width: 100% !important; min-width: 0 !important; flex: 1 1 auto !important; }
  /* The conversations and the document picker: behind one button, opened and closed by the script. */
  #drawer-toggle { display: flex !important; justify-content: space-between; }
  #drawer-toggle::after { content: "▸"; }
  #chat-row[data-drawer="open"] #drawer-toggle::after { content: "▾"; }
  #chat-drawer { display: none !important; }
  #chat-row[data-drawer="open"] #chat-drawer { display: flex !important; }
  #chatbot { height: clamp(300px, calc(100dvh - 330px), 600px) !important; }
  #conversations .wrap { max-height: 40vh; }
  #page-image .image-container { height: 60vh; }
  /* A tapped [n]: the page over the chat, with a button to close it. */
  #chat-row[data-page="open"] #answer-col { visibility: hidden; }
  #chat-row[data-page="open"] #page-col { position: fixed; inset: 0; z-index: 1000; margin: 0; padding: 8px;
    overflow-y: auto; overscroll-behavior: contain; background: var(--body-background-fill); }
  #chat-row[data-page="open"] #page-close { display: flex !important; position: sticky; top: 0; z-index: 5; }
  #chat-row[data-page="open"] #page-image .image-container { height: calc(100dvh - 200px); }
}
/* U1: refusals, confirmations, tables */
/* A toast's title is the first line of its message, in the user's language (errors.titled); Gradio's
   own heading is the toast's type in English ("Warning"), so it is hidden. */
.toast-body .toast-title { font-size: 0 !important; }
.toast-body .toast-title > * { font-size: var(--text-sm); }
/* A confirmation (delete a document, remove a user) opens over the page near the top of the viewport,
   where the user is looking, however far down the click was (a Group carries its id and class twice). */
.confirm-dialog:not(.confirm-dialog *) { position: fixed !important; top: 16vh; left: 50%; z-index: 1001;
  transform: translateX(-50%); width: min(560px, calc(100vw - 24px)); padding: 12px; border-radius: 10px;
  background: var(--background-fill-primary); border: 1px solid var(--border-color-primary);
  box-shadow: 0 0 0 100vmax rgba(0, 0, 0, 0.3), 0 12px 40px rgba(0, 0, 0, 0.35); }
"""

# The page script, run once when the app loads:
# - which [n] marker a click in the chat landed on, read from the text under the pointer before
#   Gradio's own click handler turns the click into the Chatbot's select event (which reads it back);
#   a click anywhere on a source under an answer counts as a click on its [n]; on a phone such a tap
#   also shows the page view over the chat (closed by its button or Escape);
# - the newest question kept at the top of the chat box when it arrives (the Chatbot does not scroll
#   by itself), so its answer is read from its start while it streams;
# - the cited page scrolled to its highlighted passage (its box is in the image's file name, see
#   app/documents/pages.py) when it loads or its box changes size, and zoomed in or out where it is
#   clicked;
# - the copy button of an answer copies its text, not its Markdown.
CITE_CLICK_JS = r"""
() => {
  const narrow = () => window.matchMedia('(max-width: 700px)').matches;
  // The chat page's state on a phone (is the drawer open, is the page shown over the chat): an
  // attribute of #chat-row, which the CSS reads. state(name) reads it, state(name, open) sets it.
  const state = (name, open) => {
    const row = document.getElementById('chat-row');
    if (!row) return false;
    if (open !== undefined) { if (open) row.dataset[name] = 'open'; else delete row.dataset[name]; }
    return row.dataset[name] === 'open';
  };

  // ---- [n] markers and the page view over the chat on a phone
  const markerAt = (e) => {
    let node = null, offset = 0;
    if (document.caretPositionFromPoint) {
      const p = document.caretPositionFromPoint(e.clientX, e.clientY);
      if (p) { node = p.offsetNode; offset = p.offset; }
    } else if (document.caretRangeFromPoint) {
      const r = document.caretRangeFromPoint(e.clientX, e.clientY);
      if (r) { node = r.startContainer; offset = r.startOffset; }
    }
    if (node && node.nodeType === Node.TEXT_NODE) {
      const re = /\[(\d{1,3})\]/g;
      let m;
      while ((m = re.exec(node.textContent)) !== null) {
        if (offset >= m.index && offset <= m.index + m[0].length) return Number(m[1]);
      }
    }
    // A source under an answer: its "[n] file — p. N" line, or the quote that follows it.
    let entry = e.target.closest && e.target.closest('details.sources > p, details.sources > blockquote');
    if (entry && entry.tagName === 'BLOCKQUOTE') entry = entry.previousElementSibling;
    const m = entry ? /^\s*\[(\d{1,3})\]/.exec(entry.textContent) : null;
    return m ? Number(m[1]) : 0;
  };
  document.addEventListener('click', (e) => {
    window.__citeN = 0;
    const chat = document.getElementById('chatbot');
    if (!chat || !chat.contains(e.target)) return;
    window.__citeN = markerAt(e);
    if (window.__citeN && narrow()) {
      // Over the chat, at the page's own pixels (legible on a phone; a tap shows the whole page).
      state('page', true);
      zoom(true);
    }
  }, true);
  const closePage = () => { state('page', false); zoom(false); };
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape') closePage(); });

  // ---- on a phone, the conversations and the document picker behind one button
  const drawer = (open) => {
    state('drawer', open);
    const toggle = document.querySelector('#drawer-toggle');
    if (toggle) toggle.setAttribute('aria-expanded', String(open));
  };
  document.addEventListener('click', (e) => {
    const on = (selector) => e.target.closest && e.target.closest(selector);
    if (on('#page-close')) closePage();
    if (on('#drawer-toggle')) drawer(!state('drawer'));
    // A conversation opened or a new one started: the chat comes back into view.
    else if (narrow() && on('#conversations label, #new-chat')) drawer(false);
  });

  // ---- the newest question at the top of the chat box
  // Until the answer below it is long enough to let it get there, the question is moved up as the
  // answer grows; a scroll of the reader's own (wheel, touch, keys) ends that.
  let pinned = '', pending = false;
  const pinQuestion = () => {
    const wrap = document.querySelector('#chatbot .bubble-wrap');
    if (!wrap || !wrap.offsetParent) return;  // not shown (another tab): done when it is
    if (!wrap.__pinWatch) {
      wrap.__pinWatch = true;
      for (const type of ['wheel', 'touchstart', 'keydown']) wrap.addEventListener(type, () => { pending = false; });
    }
    const questions = wrap.querySelectorAll('.message-row.user-row');
    const last = questions[questions.length - 1];
    const key = last ? questions.length + '\u0000' + last.textContent : '';
    if (key !== pinned) { pinned = key; pending = !!last; }
    if (!pending) return;
    const want = wrap.scrollTop + last.getBoundingClientRect().top - wrap.getBoundingClientRect().top - 8;
    wrap.scrollTop = want;
    if (Math.abs(wrap.scrollTop - want) < 2) pending = false;
  };
  // Right after the change, before it is painted: the new question never shows where it was added.
  // Cheap unless a question is being pinned (only then is the layout read).
  new MutationObserver(pinQuestion).observe(document.body, { childList: true, subtree: true, characterData: true });

  // ---- the cited page: its highlighted passage in sight, zoom where clicked
  // Zoomed in, the page is shown at its own pixels (at least half as wide again as its box). Svelte
  // owns the component's class and style, so the state is a data attribute and the width a variable
  // on <html>.
  const MARK = /\.mark-(\d+)-(\d+)-(\d+)-(\d+)\.webp(?:[?#]|$)/;
  const zoomed = () => document.querySelector('#page-image[data-zoom="in"]') !== null;
  function zoom(on) {
    const view = document.querySelector('#page-image');
    if (!view) return;
    if (on) view.dataset.zoom = 'in'; else delete view.dataset.zoom;
    const img = view.querySelector('.image-container img');
    if (img && img.complete) showMark(img);
  }
  function zoomTo(img, box) {
    if (zoomed()) {
      const width = Math.max(img.naturalWidth, 1.5 * box.clientWidth);
      document.documentElement.style.setProperty('--page-zoomed-width', width + 'px');
    }
  }
  // The passage in the middle of the box, or its start near the top left when it does not fit.
  const place = (start, end, size) => (end - start < 0.8 * size ? (start + end - size) / 2 : start - 0.05 * size);
  function showMark(img) {
    const box = img.closest('.image-container');
    if (!box || !img.naturalWidth || !box.clientWidth) return;
    zoomTo(img, box);
    const m = MARK.exec(decodeURIComponent(img.currentSrc || img.src));
    if (!m) { box.scrollTo(0, 0); return; }
    const k = img.clientWidth / img.naturalWidth;
    const [left, top, right, bottom] = m.slice(1).map((v) => Number(v) * k);
    box.scrollTo(place(left, right, box.clientWidth), place(top, bottom, box.clientHeight));
  }
  const watched = new WeakSet();
  const sized = new ResizeObserver((entries) => entries.forEach((entry) => {
    const img = entry.target.querySelector('img');
    if (img && img.complete) showMark(img);
  }));
  document.addEventListener('load', (e) => {
    const img = e.target;
    if (!(img instanceof HTMLImageElement) || !img.closest('#page-image')) return;
    const box = img.closest('.image-container');
    if (box && !watched.has(box)) { watched.add(box); sized.observe(box); }
    showMark(img);
  }, true);
  document.addEventListener('click', (e) => {
    const img = e.target.closest && e.target.closest('#page-image .image-container img');
    if (!img) return;
    const view = img.closest('#page-image'), box = img.closest('.image-container');
    const r = box.getBoundingClientRect();
    const px = e.clientX - r.left, py = e.clientY - r.top;
    const before = img.clientWidth;
    if (zoomed()) delete view.dataset.zoom; else view.dataset.zoom = 'in';
    zoomTo(img, box);
    const f = img.clientWidth / before;  // the point clicked stays under the pointer
    box.scrollTo((box.scrollLeft + px) * f - px, (box.scrollTop + py) * f - py);
  });

  // ---- a sentence marked by the claim check: a tap shows why under it on a touch screen, which
  // has no hover and so no tooltip (the CSS shows it only there); another tap hides it
  document.addEventListener('click', (e) => {
    const claim = e.target.closest && e.target.closest('#chatbot .claim');
    if (claim) claim.toggleAttribute('data-open');
  });

  // ---- copy an answer as text
  let fromChat = false;
  document.addEventListener('click', (e) => { fromChat = !!e.target.closest && !!e.target.closest('#chatbot'); }, true);
  const plain = (t) => t.replace(/<\/?(?:details|summary|span)\b[^>]*>/g, '').replace(/^\s*---\s*$/gm, '')
    .replace(/^> ?/gm, '    ')
    .replace(/\*\*([^*]+)\*\*/g, '$1').replace(/(^|\s)\*([^*\n]+)\*(?=\s|$)/g, '$1$2')
    .replace(/\\([\\`*_{}\[\]()#+\-.!|>~<])/g, '$1').replace(/\n{3,}/g, '\n\n')
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&').trim();
  if (navigator.clipboard && navigator.clipboard.writeText) {
    const write = navigator.clipboard.writeText.bind(navigator.clipboard);
    navigator.clipboard.writeText = (text) => write(fromChat ? plain(String(text)) : text);
  }
}
"""
