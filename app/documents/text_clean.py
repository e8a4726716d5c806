"""Clean text extracted from PDF pages so that chunks read well and tokenise consistently.

The page keeps the document's own characters (full-width punctuation, half-width katakana,
circled numbers): only Latin ligatures are spelled out. Comparing text is done in
`app.text_forms.match_form`, which folds those forms to what people type.
"""

from __future__ import annotations

import re
import unicodedata

# Han, Hiragana, Katakana, CJK punctuation and full-width forms.
CJK = r"\u3000-\u303f\u3040-\u309f\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"

_SOFT_BREAK = re.compile(r"[\u00ad\u0002](?:[ \t]*\n[ \t]*)?")  # soft hyphen / PDFium's break marker at line end
_HYPHEN_BREAK = re.compile(r"(?<=[a-z])-\s*\n\s*(?=[a-z])")  # "informa-\ntion" -> "information"
# Japanese characters as they compare (app/text_forms.match_form): without the full-width ASCII
# forms and symbols, which fold to ASCII (（，：Ａ１ -> (,:A1). Spacing and line joins decide on
# these, so the page keeps its own characters and still splits and joins exactly where its folded
# form would (the chunks, and so retrieval, are those of the folded text).
CJK_FOLDED = r"\u3001-\u303f\u3040-\u309f\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff61-\uff9f"
_CJK_GAP = re.compile(rf"(?<=[{CJK_FOLDED}])[ \t]+(?=[{CJK_FOLDED}])")  # justified Japanese lines: "文 書" -> "文書"
_CJK_NEWLINE = re.compile(rf"(?<=[{CJK_FOLDED}])\n(?=[{CJK_FOLDED}])")  # a Japanese sentence wrapped over lines
_SPACES = re.compile(r"[ \t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_CONTROL = re.compile(r"[\u0000-\u0008\u000b\u000e-\u001f\ufffe\uffff]")
_BLANK_LINES = re.compile(r"\n{3,}")
_LIGATURES = {code: unicodedata.normalize("NFKC", chr(code)) for code in range(0xFB00, 0xFB07)}  # ﬁ -> fi


def clean_page_text(text: str) -> str:
    """Normalise one page: line ends, Latin ligatures, hyphenation, Japanese spacing, whitespace."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SOFT_BREAK.sub("", text)
    text = _CONTROL.sub("", text)
    text = unicodedata.normalize("NFC", text).translate(_LIGATURES)
    text = _HYPHEN_BREAK.sub("", text)
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = _CJK_GAP.sub("", text)
    text = _CJK_NEWLINE.sub("", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()
