"""Unbounded work (issue 12), the long form of tests/test_unbounded.py (same engine:
tests/fixtures/unbounded.py and tests/fixtures/many_documents.py). Everything runs on 127.0.0.1,
against a server of its own and the test LLM server; every phase stops by itself.

    .venv/bin/python bench/unbounded.py                          # both parts, the defaults below
    .venv/bin/python bench/unbounded.py --part documents         # 10,000 documents for one user
    .venv/bin/python bench/unbounded.py --part uploads           # 10 users upload 2,000 pages at once

documents  one user's library grows to --documents; at each of --checkpoints, --samples small PDFs
           are ingested for real (the time per document as the count grows) and one dense and one
           sparse search over the whole library are timed both ways: every ready id listed in the
           filter (the retriever before) and the tenant minus the documents not ready (now). The
           library is made of PDFs from the PDF factory ingested for real and copies of them (a
           real ingest costs about a second here). Then, against the server: `documents list` (all,
           and --limit), the Documents tab's refresh event (time, size, rows), the `documents` API
           (every row), a question whose answer is in one document of the 10,000, a delete, and
           the documents quota refusing the next upload.
uploads    --uploaders users upload the same --pages page PDF (documents.max_pages is 2000) at the
           same moment; until all are indexed or --max-minutes: the server's RSS (alone and with its
           PDF-reading children), jobs running at once, and another user's questions meanwhile.

Writes test-artifacts/unbounded-bench.json and prints it; exits 1 when a check fails (a count, the one
document found, one job at a time, the refusal message).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import make_settings  # noqa: E402
from tests.fixtures import many_documents, pdf_factory  # noqa: E402
from tests.fixtures import unbounded as ub  # noqa: E402
from tests.fixtures.cli import run_app  # noqa: E402
from tests.fixtures.llm_server import FakeOpenAIServer  # noqa: E402
from tests.fixtures.server import running_server  # noqa: E402

RESULTS = ROOT / "test-artifacts" / "unbounded-bench.json"


def grow_library(data_dir: Path, pdfs: Path, total: int, checkpoints: list[int], samples: int) -> dict[str, Any]:
    """In-process: the library grown to each checkpoint, real ingests and searches timed there."""
    from app.container import Container

    c = Container(make_settings(data_dir))
    rows: list[dict[str, Any]] = []
    try:
        ub.add_users(c, ["big", "asker"])
        templates = []
        for pdf in [*many_documents.template_pdfs(pdfs), many_documents.needle_pdf(pdfs)]:
            result = c.ingestion.ingest_file("big", pdf)
            assert result.outcome == "ingested", result
            templates.append(c.registry.get("big", result.doc_id))
        have, copied, n = len(templates), 0, 0
        for checkpoint in sorted({*checkpoints, total}):
            if checkpoint - samples > have:
                copied_s = many_documents.copy_documents(c, "big", templates[:-1], checkpoint - samples - have, copied)
                copied += checkpoint - samples - have
                have = checkpoint - samples
                print(f"copied up to {have} documents in {copied_s:.1f} s", flush=True)
            times = []
            for _ in range(samples):
                pdf = pdf_factory.text_pdf(
                    pdfs, [f"Sample note {n}: shelf {n} holds the maps."], name=f"sample-{n}.pdf"
                )
                seconds, result = ub.timed(lambda pdf=pdf: c.ingestion.ingest_file("big", pdf))
                assert result.outcome == "ingested", result
                times.append(round(seconds, 2))
                n += 1
            have += samples
            c.vector_store.client.optimize_now()  # searched as a running server would, once indexed
            list_s, docs = ub.timed(lambda: c.registry.list("big"))
            row = {
                "documents": len(docs),
                "ingest_s": times,
                "registry_list_s": round(list_s, 3),
                **ub.search_costs(c, "big", many_documents.NEEDLE_QUESTION),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
        asker_pdf = pdf_factory.text_pdf(pdfs, [many_documents.NEEDLE], name="asker.pdf")
        assert c.ingestion.ingest_file("asker", asker_pdf).outcome == "ingested"
    finally:
        c.close()
    return {"growth": rows}


def documents_over_http(server: Any, total: int, pdfs: Path) -> tuple[dict[str, Any], list[str]]:
    """The CLI, the web table, the documents API, a question, a delete, the quota: with `total` documents."""
    failed: list[str] = []
    out: dict[str, Any] = {}
    seconds, listing = ub.timed(lambda: run_app(server.data_dir, "documents", "list", "--user", "big"))
    out["cli_list_all"] = {"seconds": round(seconds, 2), "lines": len(listing.stdout.splitlines())}
    if len(listing.stdout.splitlines()) != total:
        failed.append(f"documents list printed {len(listing.stdout.splitlines())} lines, not {total}")
    seconds, _ = ub.timed(lambda: run_app(server.data_dir, "documents", "list", "--user", "big", "--limit", "20"))
    out["cli_list_20_s"] = round(seconds, 2)
    client = ub.signed_in(server, "big")
    index = ub.ids_by_name(client)
    session = uuid.uuid4().hex[:11]
    views = [ub.refresh(client, index, session) for _ in range(5)]
    out["refresh"] = {**views[-1].__dict__, "seconds": sorted(v.seconds for v in views)[2]}
    from tests.fixtures.gradio_http import run_event

    seconds, api = ub.timed(lambda: run_event(client, index["documents"], [], timeout=300))
    out["documents_api"] = {
        "seconds": round(seconds, 2),
        "kilobytes": round(len(json.dumps(api.output)) / 1024),
        "rows": len(api.output[0]["data"]) if api.success else None,
    }
    asks = [ub.ask(client, index, f"{many_documents.NEEDLE_QUESTION} ({i})") for i in range(5)]
    out["ask_s"] = sorted(round(s, 2) for s, _ in asks)
    if not all("lighthouse.pdf" in text for _, text in asks):
        failed.append("the question did not cite lighthouse.pdf")
    newest = json.loads(
        run_app(server.data_dir, "documents", "list", "--user", "big", "--limit", "1", "--json").stdout.splitlines()[0]
    )
    seconds, deleted = ub.timed(lambda: run_event(client, index["delete_document"], [newest["id"]], session))
    out["delete_s"] = round(seconds, 2)
    if not deleted.success:
        failed.append(f"delete failed: {deleted.error}")
    run_app(server.data_dir, "quotas", "set", "big", "--documents", str(total - 1))
    pdf = pdf_factory.text_pdf(pdfs, ["One too many."], name="one-more.pdf")
    ub.upload(client, index, pdf, "one-more.pdf")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and ub.jobs_of(server.data_dir, "big")[-1][0] not in ("done", "failed"):
        time.sleep(0.5)
    out["quota_refusal"] = ub.jobs_of(server.data_dir, "big")[-1]
    if "quota reached: documents is" not in str(out["quota_refusal"]):
        failed.append(f"the documents quota did not refuse: {out['quota_refusal']}")
    client.close()
    return out, failed


def uploads_over_http(
    server: Any, uploaders: list[str], pdf: Path, max_minutes: float
) -> tuple[dict[str, Any], list[str]]:
    clients = [ub.signed_in(server, user) for user in uploaders]
    asker = ub.signed_in(server, "asker")
    index = ub.ids_by_name(asker)
    queued = ub.upload_at_once(clients, index, pdf)
    watch = ub.watch_ingestion(
        server,
        uploaders,
        lambda finished: finished >= len(uploaders),
        asker,
        index,
        many_documents.NEEDLE_QUESTION,
        max_minutes * 60,
    )
    for client in [*clients, asker]:
        client.close()
    jobs = {user: ub.jobs_of(server.data_dir, user) for user in uploaders}
    out = {"queued_s": [round(s, 2) for s in queued], **watch.figures(), "jobs": jobs}
    failed = []
    if watch.max_running_jobs > 1:
        failed.append(f"{watch.max_running_jobs} jobs ran at once")
    if not all("asker.pdf" in text for text in watch.ask_texts):
        failed.append("a question asked during the uploads did not cite asker.pdf")
    if any(len(j) != 1 for j in jobs.values()):
        failed.append(f"uploads lost or doubled: {jobs}")
    return out, failed


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--part", choices=("documents", "uploads", "both"), default="both")
    p.add_argument("--documents", type=int, default=10_000)
    p.add_argument("--checkpoints", default="10,1000,2500,5000,10000")
    p.add_argument("--samples", type=int, default=3, help="real ingests timed at each checkpoint")
    p.add_argument("--uploaders", type=int, default=10)
    p.add_argument("--pages", type=int, default=2000)
    p.add_argument("--max-minutes", type=float, default=40.0, help="the uploads part stops after this long")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args()
    figures: dict[str, Any] = {"args": vars(args) | {"out": str(args.out)}}
    failed: list[str] = []
    uploaders = [f"up{i:02d}" for i in range(args.uploaders)]
    with tempfile.TemporaryDirectory(prefix="unbounded-") as tmp:
        data_dir, pdfs = Path(tmp) / "data", Path(tmp) / "pdfs"
        if args.part in ("documents", "both"):
            checkpoints = [int(x) for x in args.checkpoints.split(",") if int(x) <= args.documents]
            figures["documents"] = grow_library(data_dir, pdfs, args.documents, checkpoints, args.samples)
        else:
            from app.container import Container

            c = Container(make_settings(data_dir))
            ub.add_users(c, ["big", "asker"])
            assert c.ingestion.ingest_file(
                "asker", pdf_factory.text_pdf(pdfs, [many_documents.NEEDLE], name="asker.pdf")
            )
            c.close()
        if args.part in ("uploads", "both"):
            from app.container import Container

            c = Container(make_settings(data_dir))
            ub.add_users(c, uploaders)
            c.close()
            big_pdf = pdf_factory.big_pdf(pdfs, args.pages)
        with FakeOpenAIServer() as llm:
            env = {
                "APP_LLM__API_BASE": llm.base_url,
                "APP_LLM__API_KEY": "sk-bench",
                "APP_LLM__MODEL": "test-chat",
                "APP_LLM__MAX_RETRIES": "0",
            }
            with running_server(data_dir, env=env, admin=None, startup_timeout=600) as server:
                if args.part in ("documents", "both"):
                    figures["documents"]["server"], errors = documents_over_http(server, args.documents, pdfs)
                    failed += errors
                if args.part in ("uploads", "both"):
                    figures["uploads"], errors = uploads_over_http(server, uploaders, big_pdf, args.max_minutes)
                    failed += errors
    figures["failed"] = failed
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2, default=str))
    print(json.dumps(figures, indent=2, default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
