"""Ingestion throughput and memory: this app's pipeline against the LlamaIndex defaults, same
process, same embedding model, same embedded Qdrant, same PDF.

    .venv/bin/python bench/ingest.py [PDF]     (default: tests/data/bashref.pdf, 196 pages)

Baseline = what a LlamaIndex tutorial does: pypdf text per page, SentenceSplitter() defaults
(1024 tokens), VectorStoreIndex over a QdrantVectorStore. Ours = pypdfium2 in a limited child
process, sentence chunks sized for the model, dense + sparse vectors. Reports pages/s, the ratio,
chunks and peak RSS growth of each run.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ours(pdf: Path, embedder: object, tmp: Path) -> dict[str, float]:
    from app.config import load_settings
    from app.container import Container

    container = Container(load_settings(ROOT / "config.yaml", data_dir=tmp / "ours"))
    container.__dict__["embedder"] = embedder
    _ = container.vector_store
    before = rss_mb()
    started = time.perf_counter()
    result = container.ingestion.ingest_file("bench", pdf)
    seconds = time.perf_counter() - started
    container.close()
    return {"pages": result.pages, "chunks": result.chunks, "seconds": round(seconds, 2),
            "pages_per_s": round(result.pages / seconds, 2), "peak_rss_growth_mb": round(rss_mb() - before, 1)}


def baseline(pdf: Path, embedder: object, tmp: Path) -> dict[str, float]:
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.qdrant import QdrantVectorStore
    from pypdf import PdfReader
    from qdrant_client import QdrantClient

    before = rss_mb()
    started = time.perf_counter()
    reader = PdfReader(str(pdf))
    docs = [Document(text=p.extract_text() or "", metadata={"page": i + 1}) for i, p in enumerate(reader.pages)]
    nodes = SentenceSplitter().get_nodes_from_documents(docs)
    client = QdrantClient(path=str(tmp / "baseline"))
    store = QdrantVectorStore(collection_name="baseline", client=client)
    VectorStoreIndex(nodes, storage_context=StorageContext.from_defaults(vector_store=store),
                     embed_model=embedder.embed)  # type: ignore[attr-defined]
    seconds = time.perf_counter() - started
    client.close()
    return {"pages": len(docs), "chunks": len(nodes), "seconds": round(seconds, 2),
            "pages_per_s": round(len(docs) / seconds, 2), "peak_rss_growth_mb": round(rss_mb() - before, 1)}


def main() -> None:
    from app.config import load_settings
    from app.models.embeddings import build_embedding_model

    pdf = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "data" / "bashref.pdf"
    embedder = build_embedding_model(load_settings(ROOT / "config.yaml").embeddings)
    embedder.embed_query("warm up")
    with tempfile.TemporaryDirectory() as tmp:
        base = baseline(pdf, embedder, Path(tmp))
        mine = ours(pdf, embedder, Path(tmp))
    print(json.dumps({"file": pdf.name, "baseline": base, "ours": mine,
                      "throughput_ratio": round(mine["pages_per_s"] / base["pages_per_s"], 2)}))


if __name__ == "__main__":
    main()
