"""Where ingestion spends its time per page, file by file (issue 29: Japanese against English pages).

    .venv/bin/python bench/ingest_profile.py [--tokens-only] PDF [PDF ...]

In one process, each stage alone over the whole file, in milliseconds per page: reading (pypdfium2
in-process, text cleaning included), chunking into nodes (sentence split, token counts, section
headers), the sparse encoder, the embedding model (the app's batching, length-sorted). And the
tokens per page: the page text, the chunks' bodies (plus the overlap), their section paths (the
sparse encoder reads bodies and paths) and what the embedding model reads (as the chunker counts it,
the counts that sort the model's batches; `input_tokens_per_page`: that text counted again); tokens
per chunk; and the page characters (not spaces) in no chunk (0: every character of every page is in
some chunk). Prints one JSON line per file. With --tokens-only, only the counts (deterministic: no
timing, no model run), e.g. to compare chunking settings given as APP_DOCUMENTS__* variables.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from llama_index.core.schema import MetadataMode

    from app.config import load_settings
    from app.container import Container
    from app.documents.indexing import DocumentRef
    from app.documents.pdf_text import extract_pages
    from app.models import sparse

    args = sys.argv[1:]
    tokens_only = "--tokens-only" in args
    names = [a for a in args if a != "--tokens-only"]
    with tempfile.TemporaryDirectory() as tmp:
        container = Container(load_settings(ROOT / "config.yaml", data_dir=Path(tmp)))
        model = container.embedder
        if not tokens_only:
            model.load()
            model.embed_documents(["warm up"] * 8)
        for name in names:
            path = Path(name)
            started = time.perf_counter()
            count, pages_iter = extract_pages(path, "pypdfium2", 2000)
            pages = list(pages_iter)
            read = time.perf_counter() - started
            started = time.perf_counter()
            batches = list(container.ingestion.indexer.batches(DocumentRef("p", "p", path.name), pages))
            chunked = time.perf_counter() - started
            nodes = [n for b in batches for n in b.nodes]
            tokens = [t for b in batches for t in b.tokens]
            page_tokens = sum(model.count_tokens([p.text for p in pages if p.text]))
            body_tokens = sum(model.count_tokens([n.text for n in nodes]))
            texts = [t for b in batches for t in b.dense]  # what the model reads (the sparse encoder: nodes)
            input_tokens = sum(model.count_tokens(texts))  # what the model reads, counted again
            headers = [str(n.metadata["section"]) for n in nodes if "section" in n.metadata]
            header_tokens = sum(model.count_tokens(headers)) if headers else 0

            # Coverage: every non-space character of every page lies in some chunk of that page.
            spans: dict[int, list[tuple[int, int]]] = {}
            for n in nodes:
                spans.setdefault(int(n.metadata["page"]), []).append((int(n.metadata["start"]), int(n.metadata["end"])))
            uncovered = 0
            for page in pages:
                covered = bytearray(len(page.text))
                for start, end in spans.get(page.number, []):
                    covered[start:end] = b"\1" * (end - start)
                uncovered += sum(1 for i, ch in enumerate(page.text) if not covered[i] and not ch.isspace())

            def per_page(x: float, pages_read: int = count) -> float:
                return round(1000 * x / pages_read, 1)

            row = {
                "file": path.name,
                "pages": count,
                "chunks": len(nodes),
                "chars_per_page": round(sum(len(p.text) for p in pages) / count),
                "page_tokens_per_page": round(page_tokens / count),
                "chunk_tokens_per_page": round(body_tokens / count),
                "embedded_tokens_per_page": round(sum(tokens) / count),
                "header_tokens_per_page": round(header_tokens / count),
                "tokens_per_chunk": round(sum(tokens) / len(nodes)),
                "embedded_tokens": sum(tokens),
                "input_tokens_per_page": round(input_tokens / count),
                "uncovered_chars": uncovered,
            }
            if not tokens_only:
                started = time.perf_counter()
                sparse.encode_documents([n.get_content(MetadataMode.EMBED) for n in nodes])
                sparse_s = time.perf_counter() - started
                started = time.perf_counter()
                model.embed_documents(texts, token_counts=tokens)
                embed_s = time.perf_counter() - started
                row |= {
                    "read_ms_per_page": per_page(read),
                    "chunk_ms_per_page": per_page(chunked),
                    "sparse_ms_per_page": per_page(sparse_s),
                    "embed_ms_per_page": per_page(embed_s),
                    "embed_ms_per_1000_tokens": round(1e6 * embed_s / sum(tokens), 1),
                }
            print(json.dumps(row), flush=True)
        container.close()


if __name__ == "__main__":
    main()
