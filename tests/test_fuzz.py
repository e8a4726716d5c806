"""Property tests with hypothesis: any Unicode through the sparse tokenizer, the sentence splitter
and the Markdown escaping, and any values through the config loader, give a result or a domain
error, never anything else."""

from __future__ import annotations

import itertools
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from app.config import load_settings
from app.documents.chunking import split_sentences
from app.errors import ConfigError
from app.models import sparse
from app.web.ui.safe_markdown import literal, model_output
from tests.conftest import ROOT

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=400)
# Text rich in the characters that matter here: scripts, punctuation, Markdown and HTML.
SPECIAL = [*"ab あア漢。！？.!?\n []()!<>*_`|~&#-：・", "\u3000", "\ufb01"]
MIXED = st.text(alphabet=st.sampled_from(SPECIAL), max_size=300)


@settings(max_examples=300, deadline=None)
@given(st.one_of(TEXT, MIXED))
def test_sparse_encoding_takes_any_text(text: str) -> None:
    (indices,), (values,) = sparse.encode_documents([text])
    assert len(indices) == len(values) and len(set(indices)) == len(indices)
    assert all(v > 0 for v in values)
    (q_indices,), (q_values,) = sparse.encode_queries([text])
    assert len(q_indices) == len(q_values)


@settings(max_examples=300, deadline=None)
@given(st.one_of(TEXT, MIXED))
def test_sentences_cover_the_text_in_order(text: str) -> None:
    spans = split_sentences(text)
    if not text.strip():
        assert spans == []
        return
    assert all(0 <= s < e <= len(text) for s, e in spans)
    assert spans[0][0] == 0 and not text[spans[-1][1] :].strip()
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))  # no gap, no overlap


IMAGE = re.compile(r"(?<!\\)!\[[^\]]*\]\(")
COMMONMARK = MarkdownIt("commonmark", {"html": True})


@settings(max_examples=300, deadline=None)
@given(st.one_of(TEXT, MIXED))
def test_escaped_text_never_renders_an_image_or_a_tag(text: str) -> None:
    shown = literal(text)
    assert not IMAGE.search(shown)
    assert "<" not in shown and ">" not in shown
    # An answer keeps its Markdown (block quotes, code) but parses to no image, link or HTML.
    tokens = COMMONMARK.parse(model_output(text))
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in t.children or []}
    assert not kinds & {"image", "link_open", "html_block", "html_inline"}


VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(["chunk_size", "chunk_overlap", "max_file_mb", "pdf_parser", "typo"]), VALUES))
def test_the_config_loader_gives_settings_or_a_config_error(documents: dict[str, Any]) -> None:
    try:
        settings_ = load_settings(ROOT / "config.yaml", documents=documents)
    except ConfigError as e:
        assert str(e).startswith("invalid configuration")
    else:
        assert settings_.documents.chunk_overlap < settings_.documents.chunk_size
