"""`ingest PATH... --user NAME`: PDFs or folders into a user's workspace, with a progress bar."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.audit import audit, cli_actor
from app.cli.documents import add_workspace, workspace
from app.config import Settings
from app.container import Container
from app.documents.pdf_reader import check_file
from app.errors import IngestError

if TYPE_CHECKING:
    from app.documents.indexing import Progress
    from app.documents.ingestion import IngestResult


def register(sub: Any) -> None:
    p = sub.add_parser("ingest", help="ingest PDF files or folders for a user or a team library")
    p.add_argument("paths", nargs="+", type=Path, help="PDF files or folders (searched recursively)")
    add_workspace(p)
    p.set_defaults(handler=run)


def collect_pdfs(paths: list[Path]) -> tuple[list[tuple[Path, str]], list[Path]]:
    """(PDF files found with the name they get, paths that do not exist).

    A file found in a folder is named by its path inside that folder (`a/notes.pdf`, `b/notes.pdf`),
    so two different files with the same base name are both kept; a file given by itself keeps its
    base name. Ingesting the same name again replaces that document (that is how an update is made),
    even with the bytes of another document; a new name for bytes the user already has is not added
    and the line says which document has them."""
    found: list[tuple[Path, str]] = []
    missing = []
    for path in paths:
        if path.is_dir():
            pdfs = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".pdf")
            found.extend((p, p.relative_to(path).as_posix()) for p in pdfs)
        elif path.is_file():
            found.append((path, path.name))
        else:
            missing.append(path)
    return found, missing


def describe(result: IngestResult) -> str:
    if result.outcome == "failed":
        return f"failed     {result.file}: {result.message}"
    if result.outcome == "unchanged":
        if result.duplicate_of:  # a new name for content the user has: not added under this name
            return f"unchanged  {result.file}: same content as {result.duplicate_of}, kept under that name only"
        return f"unchanged  {result.file}"
    rate = result.pages / result.seconds if result.seconds else 0.0
    recognised = f" ({result.recognised} recognised)" if result.recognised else ""
    unread = f"; {result.message}" if result.message else ""  # pages that needed recognising and have no text
    twin = f"; same content as {result.duplicate_of}" if result.duplicate_of else ""
    return (
        f"{result.outcome:<10} {result.file}: {result.pages} pages{recognised}, {result.chunks} chunks, "
        f"{result.seconds:.1f} s ({rate:.1f} pages/s){unread}{twin}"
    )


def progress_text(p: Progress) -> str:
    """What the progress bar says beside its count: the file and its stage."""
    if p.stage == "recognising":
        return f"{p.file} recognising page {p.done}/{p.total}"
    return f"{p.file} {p.stage}"


def ingest_paths(
    container: Container, user: str, files: list[tuple[Path, str]], show_progress: bool = True
) -> list[IngestResult]:
    from tqdm import tqdm

    service = container.ingestion
    service.resume(user)
    results = []
    bar = tqdm(total=0, unit="page", file=sys.stderr, disable=not show_progress, dynamic_ncols=True)
    try:
        for path, name in files:
            seen = {"done": 0}

            def on_progress(p: Progress, seen: dict[str, int] = seen) -> None:
                if p.stage == "embedding" and p.total and bar.total < bar.n + p.total - seen["done"]:
                    bar.total = bar.n + p.total - seen["done"]
                if p.stage in ("embedding", "done") and p.done > seen["done"]:
                    bar.update(p.done - seen["done"])
                    seen["done"] = p.done
                bar.set_postfix_str(progress_text(p), refresh=True)

            result = service.ingest_file(user, path, name=name, progress=on_progress)
            if result.outcome in ("ingested", "replaced"):
                audit("document.uploaded", cli_actor(), target=f"{user}/{result.doc_id}", name=name)
            results.append(result)
            bar.write(describe(result), file=sys.stderr if result.outcome == "failed" else sys.stdout)
    finally:
        bar.close()
    return results


def run(settings: Settings, args: argparse.Namespace) -> int:
    files, missing = collect_pdfs(args.paths)
    for path in missing:
        print(f"failed     {path}: no such file or folder", file=sys.stderr)
    if not files and not missing:
        print("no PDF files found", file=sys.stderr)
        return 1
    with Container(settings) as container:
        args.user = workspace(container, settings, args)
        accepted = first_checks(files, settings.documents.max_file_mb)
        results: list[IngestResult] = []
        # The ingestion service (LlamaIndex, the vector store, the model) only when there is work for it.
        if accepted or container.registry.in_flight(args.user):
            # The progress bar is for a person watching; in a pipe or a log it is noise.
            results = ingest_paths(container, args.user, accepted, show_progress=sys.stderr.isatty())
    failed = sum(r.outcome == "failed" for r in results) + len(missing) + len(files) - len(accepted)
    return 1 if failed else 0


def first_checks(files: list[tuple[Path, str]], max_file_mb: float) -> list[tuple[Path, str]]:
    """The files that pass the checks made before anything is stored (size, PDF signature); one
    line on stderr for each of the others, as the ingestion service would report them."""
    accepted = []
    for path, name in files:
        try:
            check_file(path, max_file_mb)
        except IngestError as e:
            print(f"failed     {name}: {e}", file=sys.stderr)
            continue
        accepted.append((path, name))
    return accepted
