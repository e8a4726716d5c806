"""Fewer tokens per Japanese page (issue 29): the true token counts of an over-long sentence's
parts, and what the embedding model reads of a chunk: the section path capped, one [UNK] for a run
of them. The nodes (what the sparse encoder and the answers read) keep every character."""

from __future__ import annotations

import itertools
from pathlib import Path

from app.documents.chunking import Chunk, Chunker
from app.documents.indexing import SECTION_KEY, DocumentIndexer, DocumentRef
from app.documents.pdf_reader import ReadLimits
from app.documents.pdf_text import PageText
from app.models.embeddings import EmbeddingModel
from app.text_forms import match_form
from tests.conftest import container_for, make_settings

JA = "文献データベースの各エントリには種類とキーがあり、フィールドの値は中括弧で囲む。"  # 40 tokens
EN = "Each entry of the bibliography database has a type and a key, and field values are in braces. "


def _covered(text: str, chunks: list[Chunk]) -> bool:
    covered: set[int] = set()
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        covered.update(range(chunk.start, chunk.end))
    return all(i in covered for i, ch in enumerate(text) if not ch.isspace())


def _bare(text: str) -> str:
    return "".join(text.split())


def _shared(chunks: list[Chunk]) -> int:
    """Characters shared by neighbouring chunks."""
    return sum(max(0, a.end - b.start) for a, b in itertools.pairwise(chunks))


def test_an_overlong_sentences_last_part_packs_with_what_follows(local_embedder: EmbeddingModel) -> None:
    count, split = local_embedder.count_tokens, local_embedder.split_tokens
    chunker = Chunker(count, split, chunk_size=64, overlap=0)
    long = "、".join(f"項目{i}" for i in range(40)) + "。"  # one sentence of ~160 tokens
    text = long + "短い文です。" * 3
    chunks = chunker.split(text)
    assert _covered(text, chunks)
    assert all(c.tokens <= 64 and count([c.text])[0] <= c.tokens + 2 for c in chunks)
    # the sentence's short tail and the three short sentences make one chunk, not two
    assert chunks[-1].text.endswith("短い文です。" * 3) and chunks[-1].start < text.index("短い文です。")
    assert chunks[-1].tokens == count([chunks[-1].text])[0]


def _indexer(tmp_path: Path, embedder: EmbeddingModel, **documents: object) -> DocumentIndexer:
    """An indexer with the path uncapped and [UNK] runs kept, unless `documents` says otherwise."""
    settings = make_settings(tmp_path / "data")
    store = container_for(settings, embedder).vector_store
    update = {"section_header_tokens": 0, "collapse_unknown_tokens": False, **documents}
    return DocumentIndexer(settings.documents.model_copy(update=update), store, embedder, ReadLimits())


TITLES = ("第II部リファレンス", "フォントメトリックと和文フォント", "JFMファイルの構造")  # 9, 4, 9 tokens
PATH = " > ".join(TITLES)
DOC = DocumentRef("d", "u", "x.pdf")


def _pages() -> list[PageText]:
    return [
        # ゑ and 弧 are both [UNK], and ゑ joins the word-pieces after it unless they stay apart
        PageText(
            number=1,
            label="1",
            text="JFMファイルの構造\n" + JA * 24 + "値は、ゑ弧のマクロ。",
            headings=tuple(enumerate(TITLES)),
        ),
        PageText(number=2, label="2", text=EN * 24),
    ]


def test_uncapped_and_uncollapsed_the_model_reads_what_the_sparse_encoder_reads(
    tmp_path: Path, local_embedder: EmbeddingModel
) -> None:
    from llama_index.core.schema import MetadataMode

    batches = list(_indexer(tmp_path, local_embedder, chunk_overlap=45).batches(DOC, _pages()))
    nodes = [n for b in batches for n in b.nodes]
    ends = [(n.metadata["page"], n.metadata["start"], n.metadata["end"]) for n in nodes]
    assert any(p == q and b < e for (p, _, e), (q, b, _) in itertools.pairwise(ends))  # chunks that overlap
    assert len(nodes) > 6 and {n.metadata.get(SECTION_KEY) for n in nodes} == {PATH}
    assert [t for b in batches for t in b.dense] == [n.get_content(MetadataMode.EMBED) for n in nodes]


def test_section_path_is_capped_from_the_outside_keeping_the_innermost(
    tmp_path: Path, local_embedder: EmbeddingModel
) -> None:
    def index(cap: int) -> list[tuple[str, str, int]]:
        batches = list(_indexer(tmp_path / str(cap), local_embedder, section_header_tokens=cap).batches(DOC, _pages()))
        return [
            (str(n.metadata.get(SECTION_KEY, "")), d, t)
            for b in batches
            for n, d, t in zip(b.nodes, b.dense, b.tokens, strict=True)
        ]

    full = index(0)
    assert {s for s, _, _ in full} == {PATH}  # page 2 is still in that section
    for cap, kept in ((30, TITLES), (20, TITLES[1:]), (12, TITLES[2:]), (1, TITLES[2:])):
        header = " > ".join(kept)
        saved = local_embedder.count_tokens([PATH])[0] - local_embedder.count_tokens([header])[0]
        # the same chunks under the shorter path (for both encoders), counted with it
        want = [(header, d.replace(PATH, header, 1), t - saved) for _, d, t in full]
        assert index(cap) == want, cap


def test_a_run_of_unknown_characters_is_read_as_one_unk(tmp_path: Path, local_embedder: EmbeddingModel) -> None:
    from llama_index.core.schema import MetadataMode

    tokenizer = local_embedder._tokenizer  # the model's WordPiece: which characters it lacks
    unk = tokenizer.token_to_id("[UNK]")
    pages = _pages()
    plain = list(_indexer(tmp_path / "plain", local_embedder).batches(DOC, pages))
    less = list(_indexer(tmp_path / "less", local_embedder, collapse_unknown_tokens=True).batches(DOC, pages))
    nodes = [n for b in less for n in b.nodes]
    assert [n.get_content(MetadataMode.EMBED) for n in nodes] == [
        n.get_content(MetadataMode.EMBED) for b in plain for n in b.nodes
    ]
    saved = 0
    for node, before, after, t0, t1 in zip(
        nodes,
        [d for b in plain for d in b.dense],
        [d for b in less for d in b.dense],
        [t for b in plain for t in b.tokens],
        [t for b in less for t in b.tokens],
        strict=True,
    ):
        ids0 = tokenizer.encode(match_form(before), add_special_tokens=False).ids
        ids1 = tokenizer.encode(match_form(after), add_special_tokens=False).ids
        # the same tokens, but no [UNK] right after another one
        assert ids1 == [x for i, x in enumerate(ids0) if not (x == unk and i and ids0[i - 1] == unk)]
        assert t0 - t1 == len(ids0) - len(ids1)
        saved += t0 - t1
        if node.metadata["page"] == 2:  # English: nothing unknown, nothing changed but the path
            assert after.endswith("\n\n" + node.text) and before.endswith("\n\n" + node.text)
    assert saved > 0  # JA has kanji the model lacks side by side (データベース, 中括弧)
