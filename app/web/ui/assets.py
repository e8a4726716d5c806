"""The page's own CSS and the script it loads once (server.py hands both to Gradio)."""

from __future__ import annotations

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
