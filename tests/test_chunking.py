from app.documents.chunking import Chunker, split_sentences
from app.models.embeddings import EmbeddingModel
from tests.conftest import DATA


def test_japanese_and_english_sentence_ends() -> None:
    text = "これは一文目です。これは二文目！三文目？ The end. Next one."
    sentences = [text[s:e].strip() for s, e in split_sentences(text)]
    assert sentences == ["これは一文目です。", "これは二文目！", "三文目？", "The end.", "Next one."]
    normalised = "これは一文目です。これは二文目!三文目? The end."  # after NFKC, as page text arrives
    assert [normalised[s:e].strip() for s, e in split_sentences(normalised)] == [
        "これは一文目です。",
        "これは二文目!",
        "三文目?",
        "The end.",
    ]


def test_chunks_fit_the_model_and_keep_spans(local_embedder: EmbeddingModel) -> None:
    from app.documents.pdf_reader import read_pdf

    chunker = Chunker(local_embedder.count_tokens, local_embedder.split_tokens, chunk_size=120, overlap=20)
    pages = [page for name in ("hyperref-doc.pdf", "jbtxdoc.pdf") for page in read_pdf(DATA / name)[:8]]
    assert len(pages) == 16
    total = 0
    for page in pages:
        chunks = chunker.split(page.text)
        # every page of these manuals has text: at least as many chunks as 120-token pieces of it
        page_tokens = local_embedder.count_tokens([page.text])[0]
        assert page_tokens > 0 and len(chunks) >= -(-page_tokens // 120), (page.number, page_tokens, len(chunks))
        covered = set()
        for chunk in chunks:
            assert page.text[chunk.start : chunk.end] == chunk.text
            # measured with the embedding model's own tokenizer
            assert local_embedder.count_tokens([chunk.text])[0] <= 120 + 2
            covered.update(range(chunk.start, chunk.end))
        # together the chunks hold all of the page's text
        assert all(i in covered for i, ch in enumerate(page.text) if not ch.isspace())
        total += len(chunks)
    assert total >= 16


def test_japanese_chunks_end_at_sentence_ends(local_embedder: EmbeddingModel) -> None:
    sentence = "文献データベースの各エントリには種類とキーがあり、フィールドの値は中括弧で囲む。"
    text = sentence * 20
    chunker = Chunker(local_embedder.count_tokens, local_embedder.split_tokens, chunk_size=100, overlap=0)
    chunks = chunker.split(text)
    assert len(chunks) > 1
    assert all(c.text.endswith("。") for c in chunks)


def test_overlong_sentence_is_cut_within_the_limit(local_embedder: EmbeddingModel) -> None:
    text = " ".join(f"word{i}" for i in range(600))  # no sentence end at all
    chunker = Chunker(local_embedder.count_tokens, local_embedder.split_tokens, chunk_size=64, overlap=8)
    chunks = chunker.split(text)
    assert len(chunks) > 5
    assert all(local_embedder.count_tokens([c.text])[0] <= 64 + 2 for c in chunks)
    assert "word599" in chunks[-1].text
