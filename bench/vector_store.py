"""The embedded vector store at scale: qdrant-client's local mode (the baseline) against Qdrant Edge,
both through the app's own VectorStore (open_client + open_store), on the same synthetic corpus.

Points are tenant-owned like the app writes them: 384-dimensional normalised random dense vectors,
sparse vectors made by the app's own `sparse.encode_documents` from generated text (Zipf-distributed
words, about 120 per chunk), and llama-index's payload (`_node_content`, tenant, doc_id, file name,
page). 50 tenants with 20 documents each. Every query is filtered on the tenant and that tenant's
document ids, as the retriever does; "hybrid" is a dense then a sparse search, what the retriever
runs for one question. Each (engine, size) is written in one process, then opened and searched in
a fresh one (as a server starts), whose RSS growth from opening the store and searching is reported.

    .venv/bin/python bench/vector_store.py [--sizes 10000,100000] [--queries 200]
        [--local-queries 40] [--local-queries-large 10]

Upsert rate: points written through `import_points` in batches of 256 (vectors made beforehand, so
only the engine is timed). Edge is measured twice: right after the writes (unindexed segments)
and after its optimizer has built the HNSW index ("indexed", the steady state of a server).
"""

from __future__ import annotations

import argparse
import importlib
import json
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DIM = 384
TENANTS = 50
DOCS_PER_TENANT = 20
WORDS_PER_CHUNK = 120
VOCABULARY = 4000
SEED = 7


def _vocabulary() -> list[str]:
    import numpy as np

    rng = np.random.default_rng(SEED)
    syllables = ["ka", "ri", "to", "men", "sul", "pra", "ve", "lon", "tic", "gra", "no", "bel", "dus", "fi", "quo"]
    words = set()
    while len(words) < VOCABULARY:
        words.add("".join(rng.choice(syllables, size=int(rng.integers(2, 5)))))
    return sorted(words)


def build_corpus(size: int, cache: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """`size` points as export_points writes them, and the vocabulary (cached per size)."""
    file = cache / f"corpus-{size}.pickle"
    if file.exists():
        return pickle.loads(file.read_bytes())  # type: ignore[no-any-return]
    import numpy as np
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
    from llama_index.core.vector_stores.utils import node_to_metadata_dict

    from app.models import sparse

    rng = np.random.default_rng(SEED + size)
    vocabulary = _vocabulary()
    zipf = 1.0 / np.arange(1, VOCABULARY + 1)
    zipf /= zipf.sum()
    dense = rng.standard_normal((size, DIM)).astype(np.float32)
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    points = []
    for start in range(0, size, 1000):
        texts = [
            " ".join(vocabulary[w] for w in rng.choice(VOCABULARY, size=WORDS_PER_CHUNK, p=zipf))
            for _ in range(min(1000, size - start))
        ]
        indices, values = sparse.encode_documents(texts)
        for k, text in enumerate(texts):
            i = start + k
            tenant = f"user{i % TENANTS:02d}"
            doc = f"{tenant}-doc{(i // TENANTS) % DOCS_PER_TENANT:02d}"
            node = TextNode(
                id_=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{doc}:{i}")),
                text=text,
                metadata={"tenant": tenant, "file_name": f"{doc}.pdf", "page": i % 300 + 1, "start": 0, "end": 900},
            )
            node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=doc)
            points.append(
                {
                    "id": node.node_id,
                    "dense": dense[i].tolist(),
                    "sparse": {"indices": indices[k], "values": values[k]},
                    "payload": node_to_metadata_dict(node, remove_text=False, flat_metadata=False),
                }
            )
    file.write_bytes(pickle.dumps((points, vocabulary), protocol=pickle.HIGHEST_PROTOCOL))
    return points, vocabulary


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _disk_mb(path: Path) -> float:
    """Blocks in use (Edge preallocates sparse files: their apparent size is mostly holes)."""
    return sum(f.stat().st_blocks * 512 for f in path.rglob("*") if f.is_file()) / 1e6


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000, 2),
    }


def measure_queries(store: Any, vocabulary: list[str], queries: int) -> dict[str, Any]:
    import numpy as np
    from llama_index.core.vector_stores.types import VectorStoreQueryMode

    rng = np.random.default_rng(SEED + 1)
    dense_s, sparse_s, hybrid_s, hits = [], [], [], 0
    warm_up = 3  # the first searches load the stemmer and fault in pages: reported, not counted
    first_ms = 0.0
    for q in range(queries + warm_up):
        tenant = f"user{q % TENANTS:02d}"
        docs = [f"{tenant}-doc{d:02d}" for d in range(DOCS_PER_TENANT)]
        vector = rng.standard_normal(DIM)
        vector = (vector / np.linalg.norm(vector)).tolist()
        question = " ".join(rng.choice(vocabulary[:800], size=6))
        started = time.perf_counter()
        dense = store.search(tenant, docs, question, vector, VectorStoreQueryMode.DEFAULT, 20)
        between = time.perf_counter()
        lexical = store.search(tenant, docs, question, None, VectorStoreQueryMode.SPARSE, 20)
        ended = time.perf_counter()
        if q < warm_up:
            first_ms = first_ms or round((ended - started) * 1000, 1)
            continue
        dense_s.append(between - started)
        sparse_s.append(ended - between)
        hybrid_s.append(ended - started)
        hits += len(dense) + len(lexical)
        assert all(r.node.metadata["tenant"] == tenant for r in dense + lexical), "a result of another tenant"
    return {
        "queries": queries,
        "first_hybrid_ms": first_ms,
        "dense": _percentiles(dense_s),
        "sparse": _percentiles(sparse_s),
        "hybrid": _percentiles(hybrid_s),
        "hits_per_query": round(hits / queries, 1),
    }


def build_case(engine: str, size: int, queries: int, work: Path) -> dict[str, Any]:
    """Write one engine's store at one size (and, for Edge, search it before indexing, then index it)."""
    from app.storage import edge_store
    from app.storage.vector_factory import open_client, open_store

    edge_store.OPTIMIZE_AFTER_IDLE_S = 86400  # indexing is timed below, not started by the idle timer
    points, vocabulary = build_corpus(size, work)
    folder = work / f"{engine}-{size}"
    client = open_client(None, None, folder, 10, engine)  # type: ignore[arg-type]
    store = open_store(client, "bench", DIM, False)
    started = time.perf_counter()
    for start in range(0, size, 256):
        store.import_points(points[start : start + 256])
    upsert_s = time.perf_counter() - started
    result: dict[str, Any] = {
        "engine": engine,
        "points": size,
        "upsert_s": round(upsert_s, 2),
        "upsert_per_s": round(size / upsert_s),
    }
    del points
    if engine == "edge":
        result["fresh"] = measure_queries(store, vocabulary, queries)
        started = time.perf_counter()
        client.optimize_now()
        result["index_s"] = round(time.perf_counter() - started, 1)
    store.close()
    return result


def serve_case(engine: str, size: int, queries: int, work: Path) -> dict[str, Any]:
    """Open the store built by build_case in a fresh process (as a server starts) and search it;
    RSS is this process's growth from opening the store and searching (imports excluded)."""
    from app.models import sparse
    from app.storage.vector_factory import open_client, open_store

    importlib.import_module("app.storage.edge_store" if engine == "edge" else "app.storage.qdrant_store")
    sparse.encode_queries(["warm up the stemmer"])
    folder = work / f"{engine}-{size}"
    rss_before = _rss_mb()
    started = time.perf_counter()
    client = open_client(None, None, folder, 10, engine)  # type: ignore[arg-type]
    store = open_store(client, "bench", DIM, False)
    store.ping()  # Edge loads a shard on first use
    result: dict[str, Any] = {"reopen_s": round(time.perf_counter() - started, 2)}
    result["search"] = measure_queries(store, _vocabulary(), queries)
    result["rss_mb"] = round(_rss_mb() - rss_before)
    store.close()
    result["disk_mb"] = round(_disk_mb(folder))
    return result


def _ratio(baseline: float, candidate: float) -> float:
    return round(baseline / candidate, 1) if candidate else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated point counts")
    parser.add_argument("--queries", type=int, default=200, help="questions per Edge run")
    parser.add_argument("--local-queries", type=int, default=40, help="questions per local-mode run below 50k")
    parser.add_argument("--local-queries-large", type=int, default=10, help="questions per local-mode run at 50k+")
    parser.add_argument("--engines", default="local,edge")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # phase:engine:size:queries:workdir, in a child
    args = parser.parse_args()
    if args.case:
        phase, engine, size, queries, work = args.case.split(":", 4)
        run = build_case if phase == "build" else serve_case
        print(json.dumps(run(engine, int(size), int(queries), Path(work))), flush=True)
        return
    with tempfile.TemporaryDirectory(prefix="pdfqa-bench-vectors-") as tmp:
        results: dict[tuple[str, int], dict[str, Any]] = {}
        for size in (int(s) for s in args.sizes.split(",")):
            for engine in args.engines.split(","):
                if engine == "local":
                    queries = args.local_queries if size < 50_000 else args.local_queries_large
                else:
                    queries = args.queries
                result: dict[str, Any] = {}
                for phase in ("build", "serve"):
                    done = subprocess.run(
                        [sys.executable, __file__, "--case", f"{phase}:{engine}:{size}:{queries}:{tmp}"],
                        capture_output=True,
                        text=True,
                        check=False,
                    )
                    if done.returncode != 0:
                        sys.exit(f"{engine} at {size} failed:\n{done.stderr[-3000:]}")
                    result.update(json.loads(done.stdout.strip().splitlines()[-1]))
                results[(engine, size)] = result
                print(json.dumps(result), flush=True)
            local, edge = results.get(("local", size)), results.get(("edge", size))
            if local and edge:
                ratios = {
                    f"{kind}_{p}": _ratio(local["search"][kind][p], edge["search"][kind][p])
                    for kind in ("dense", "sparse", "hybrid")
                    for p in ("p50_ms", "p95_ms")
                }
                ratios["upsert"] = round(edge["upsert_per_s"] / local["upsert_per_s"], 1)
                ratios["rss"] = round(edge["rss_mb"] / max(local["rss_mb"], 1), 2)
                ratios["disk"] = round(edge["disk_mb"] / max(local["disk_mb"], 1), 2)
                print(json.dumps({"points": size, "edge_vs_local": ratios}), flush=True)


if __name__ == "__main__":
    main()
