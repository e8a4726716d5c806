"""Can one tenant's uploads be seen in another tenant's scores or rankings? (issue: cross-tenant signals)

Bob owns two one-page PDFs, one about zebra crossings, one about valves, and asks "zebra valve".
Then alice uploads N documents full of the word "zebra". The sparse index weighs terms by their
IDF over the whole collection (all tenants), so bob's sparse scores move although none of his data
changed; the fused (rank-based) ranking he is shown is printed too.

    .venv/bin/python bench/cross_tenant_idf.py [N]
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(n: int) -> None:
    from llama_index.core.vector_stores.types import VectorStoreQueryMode

    from app.models.embeddings import build_embedding_model
    from tests.conftest import container_for, make_settings
    from tests.fixtures.pdf_factory import text_pdf

    with tempfile.TemporaryDirectory(prefix="pdfqa-idf-") as tmp_name:
        tmp = Path(tmp_name)
        c = container_for(make_settings(tmp / "data"), build_embedding_model(make_settings(tmp).embeddings))
        for name, text in (
            ("crossing.pdf", "The zebra crossing is painted white. Zebra stripes help drivers see it."),
            ("valves.pdf", "The valve is checked weekly. Each valve carries a tag with its pressure."),
        ):
            assert c.ingestion.ingest_file("bob", text_pdf(tmp, [text], name=name)).outcome == "ingested"

        def bob_sees() -> dict[str, object]:
            docs = [d.id for d in c.registry.list("bob")]
            hits = c.vector_store.search("bob", docs, "zebra valve", None, VectorStoreQueryMode.SPARSE, 5)
            fused = c.retriever.retrieve("bob", "zebra valve")
            return {
                "sparse": {str(h.node.metadata.get("file_name")): round(h.score, 4) for h in hits},
                "shown_ranking": [p.file for p in fused.passages],
            }

        before = bob_sees()
        for i in range(n):
            pdf = text_pdf(tmp, [f"Zebra herd {i}. The zebra is a striped animal. Zebra, zebra."], name=f"z{i}.pdf")
            c.ingestion.ingest_file("alice", pdf)
        after = bob_sees()
        c.close()
    print(json.dumps({"bench": "cross_tenant_idf", "alice_documents": n, "before": before, "after": after}))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
