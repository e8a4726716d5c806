"""Does reading the passages' vectors from the index change the claim check's decisions? (issue 27)

The check used to embed each cited passage; now it reads the vector ingestion stored for it. That
vector embeds the chunk as the index saw it: its section path from the PDF outline, a blank line,
then its text (documents.section_context), so it is not exactly the passage's own embedding. This
script ingests the five test PDFs with the app's pipeline (config.yaml), finds the stored point of
every passage of the labelled set tests/data/claims/claims.jsonl (by its folded text), and checks
every sentence twice: embedding the passages (before) and with their stored vectors (now).

    .venv/bin/python bench/claims_stored_vectors.py [--workspace /tmp/claims-stored-vectors]

Prints how many passages were found in the index and how many have a section path, and how many
decisions (supported / weak / unsupported) differ per split; the tune split's differences by id.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import claims as labelled  # noqa: E402

from app.answering.claims import CitedPassage, ClaimChecker  # noqa: E402
from app.config import load_settings  # noqa: E402
from app.container import Container  # noqa: E402
from app.text_forms import match_form  # noqa: E402

DOCS = ("natbib", "hyperref-doc", "bashref", "jbtxdoc", "bxjscls-manual")
USER = "bench"


def stored_points(workspace: Path) -> dict[tuple[str, str], dict]:
    """(document, folded chunk text) -> {"dense", "section"} of every point of the five PDFs."""
    c = Container(load_settings(ROOT / "config.yaml", data_dir=workspace))
    try:
        if not c.registry.list(USER):
            for doc in DOCS:
                c.ingestion.ingest_file(USER, ROOT / "tests" / "data" / f"{doc}.pdf")
        points = {}
        for p in c.vector_store.export_points():
            text = json.loads(p["payload"]["_node_content"])["text"]
            key = (str(p["payload"]["file_name"]).removesuffix(".pdf"), match_form(text))
            points.setdefault(key, {"dense": p["dense"], "section": p["payload"].get("section", "")})
        return points
    finally:
        c.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/claims-stored-vectors"))
    args = parser.parse_args()
    points = stored_points(args.workspace)
    rows = labelled.load()
    passages = {(r["doc"], match_form(p)) for r in rows for p in r["passages"]}
    found = passages & set(points)
    print(
        f"labelled passages {len(passages)}, found in the index {len(found)}, "
        f"with a section path {sum(bool(points[k]['section']) for k in found)}"
    )
    embed = labelled.local_embed()
    before = ClaimChecker(embed=embed)
    now = ClaimChecker(embed=embed, stored_vectors=True)
    differ: Counter[str] = Counter()
    for r in rows:
        cited = labelled.cited(r)
        with_vectors = [
            CitedPassage(
                c.number, c.passage, c.file, vector=points.get((r["doc"], match_form(c.passage)), {}).get("dense")
            )
            for c in cited
        ]
        a = [c.support for c in before.check(r["sentence"], cited)]
        b = [c.support for c in now.check(r["sentence"], with_vectors)]
        if a != b:
            differ[r["split"]] += 1
            if r["split"] == "tune":
                print(f"  tune {r['id']} ({r['label']}): {'/'.join(a)} -> {'/'.join(b)}")
    for split in ("tune", "held_out"):
        n = sum(r["split"] == split for r in rows)
        print(f"{split}: {differ[split]} of {n} sentences decided differently")


if __name__ == "__main__":
    main()
