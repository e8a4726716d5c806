"""The local embedding model's options, checked against the real packaged model."""

from pathlib import Path

import numpy as np

from app.models.embeddings import EmbeddingModel, build_embedding_model
from tests.conftest import make_settings


def test_prefixes_go_before_questions_and_chunks(local_embedder: EmbeddingModel) -> None:
    """E5-style models want "query: " / "passage: "; the chunk budget loses the prefix's tokens."""
    settings = make_settings(
        Path("/nonexistent"), embeddings={"query_prefix": "query: ", "document_prefix": "passage: "}
    )
    prefixed = build_embedding_model(settings.embeddings)
    question, chunk = "Which option gives superscript citations?", "natbib prints superscript numbers."
    assert np.allclose(prefixed.embed_query(question), local_embedder.embed_query(f"query: {question}"), atol=1e-5)
    assert np.allclose(
        prefixed.embed_documents([chunk])[0], local_embedder.embed_documents([f"passage: {chunk}"])[0], atol=1e-5
    )
    assert not np.allclose(prefixed.embed_query(question), local_embedder.embed_query(question), atol=1e-3)
    assert prefixed.max_tokens == local_embedder.max_tokens - local_embedder.count_tokens(["passage: "])[0]
