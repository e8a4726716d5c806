"""Ingestion throughput and memory: this app's pipeline against the LlamaIndex defaults, same
process, same embedding model, same embedded Qdrant, same PDF.

    .venv/bin/python bench/ingest.py [PDF]     (default: tests/data/bashref.pdf, 196 pages)

Baseline = what a LlamaIndex tutorial does: pypdf text per page, SentenceSplitter() defaults
(1024 tokens), VectorStoreIndex over a QdrantVectorStore. Ours = pypdfium2 in a limited child
process, sentence chunks sized for the model, dense + sparse vectors. Each runs in its own
process (so peak memory is its own); reports pages/s, the ratio, chunks, seconds per chunk and the
peak RSS growth during ingestion. Note the baseline's 1024-token chunks are silently truncated by
the 256-token model: it embeds far less text, which is most of its speed.
"""

from __future__ import annotations

import json
import resource
import subprocess
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
    return {
        "pages": result.pages,
        "chunks": result.chunks,
        "seconds": round(seconds, 2),
        "pages_per_s": round(result.pages / seconds, 2),
        "peak_rss_growth_mb": round(rss_mb() - before, 1),
    }


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
    VectorStoreIndex(
        nodes, storage_context=StorageContext.from_defaults(vector_store=store), embed_model=embedder.embed
    )  # type: ignore[attr-defined]
    seconds = time.perf_counter() - started
    client.close()
    return {
        "pages": len(docs),
        "chunks": len(nodes),
        "seconds": round(seconds, 2),
        "pages_per_s": round(len(docs) / seconds, 2),
        "peak_rss_growth_mb": round(rss_mb() - before, 1),
    }


def variant(name: str, pdf: Path) -> dict[str, float]:
    """One variant in this (fresh) process, so its peak memory is its own."""
    from app.config import load_settings
    from app.models.embeddings import build_embedding_model

    embedder = build_embedding_model(load_settings(ROOT / "config.yaml").embeddings)
    embedder.embed_query("warm up")
    with tempfile.TemporaryDirectory() as tmp:
        return (baseline if name == "baseline" else ours)(pdf, embedder, Path(tmp))


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--variant":
        print(json.dumps(variant(sys.argv[2], Path(sys.argv[3]))))
        return
    pdf = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "data" / "bashref.pdf"
    runs = {}
    for name in ("baseline", "ours"):
        out = subprocess.run(
            [sys.executable, __file__, "--variant", name, str(pdf)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        runs[name] = json.loads(out.strip().splitlines()[-1])
    base, mine = runs["baseline"], runs["ours"]
    print(
        json.dumps(
            {
                "file": pdf.name,
                "baseline": base,
                "ours": mine,
                "throughput_ratio": round(mine["pages_per_s"] / base["pages_per_s"], 2),
                "seconds_per_chunk": {
                    "baseline": round(base["seconds"] / base["chunks"], 3),
                    "ours": round(mine["seconds"] / mine["chunks"], 3),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
