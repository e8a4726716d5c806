"""Run every benchmark in turn and print their JSON lines (used by `make bench`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in (
    "pdf_extract.py",
    "ingest.py",
    "ingest_vs_tutorial.py",
    "model_batches.py",
    "concurrency.py",
    "object_store.py",
    "cache_cost.py",
    "page_render.py",
    "startup.py",
    "vector_store.py",
):
    print(f"# {script}", flush=True)
    subprocess.run([sys.executable, str(HERE / script)], check=True)

# Long: 50 users in four scenarios, each on a server of its own (about 30-40 minutes on 2 cores).
for script, args in (("load.py", ["--scenario", "all"]),):
    print(f"# {script} {' '.join(args)} (long)", flush=True)
    subprocess.run([sys.executable, str(HERE / script), *args], check=True)
