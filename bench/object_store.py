"""Object store costs, each beside its baseline in the same run, against moto's S3 server started in
another process on 127.0.0.1 (so the server's memory is not counted):

- rendering a cited page: cold (download + sha256 check + render) vs from the local cache vs from a
  local-disk store;
- a 50 MB upload: peak Python allocations of the streamed upload (1 MB copies into 8 MB parts) vs
  fsspec's `put_file` (one PUT of the whole file).

Prints one JSON line. Run: .venv/bin/python bench/object_store.py
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import boto3
import pypdfium2 as pdfium

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.config import load_settings  # noqa: E402
from app.storage.files import FileStore, open_file_store  # noqa: E402

PDF = ROOT / "tests" / "data" / "bashref.pdf"
BUCKET = "pdfqa-bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def render_ms(store: FileStore, sha: str, drop_cache: bool) -> float:
    if drop_cache and store.cache is not None:
        store.cache.discard(store.key("bench", sha))
    started = time.perf_counter()
    with store.local_copy("bench", sha) as path:
        pdf = pdfium.PdfDocument(str(path))
        pdf[2].render(scale=1.6).to_pil()
        pdf.close()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    port = free_port()
    server_bin = Path(sys.executable).parent / "moto_server"
    server = subprocess.Popen(
        [str(server_bin), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        endpoint = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        creds = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench-secret"}
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **creds).create_bucket(Bucket=BUCKET)
        tmp = Path(tempfile.mkdtemp())
        files = {
            "url": f"s3://{BUCKET}/files",
            "endpoint_url": endpoint,
            "region": "us-east-1",
            "access_key": "bench",
            "secret_key": "bench-secret",
        }
        remote = open_file_store(load_settings(ROOT / "config.yaml", data_dir=tmp / "s3", files=files))
        local = open_file_store(load_settings(ROOT / "config.yaml", data_dir=tmp / "local"))
        sha = hashlib.sha256(PDF.read_bytes()).hexdigest()
        remote.put("bench", sha, PDF)
        local.put("bench", sha, PDF)
        cold = [render_ms(remote, sha, drop_cache=True) for _ in range(7)]
        cached = [render_ms(remote, sha, drop_cache=False) for _ in range(15)]
        on_disk = [render_ms(local, sha, drop_cache=False) for _ in range(15)]

        big = tmp / "big.pdf"
        big.write_bytes(os.urandom(50 * 1024 * 1024))
        big_sha = hashlib.sha256(big.read_bytes()).hexdigest()
        tracemalloc.start()
        remote.put("bench", big_sha, big)
        streamed = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        tracemalloc.start()
        remote.fs.put_file(str(big), f"{BUCKET}/baseline/{big_sha}.pdf")
        single_put = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    finally:
        server.terminate()
        server.wait()
    print(
        json.dumps(
            {
                "bench": "object_store",
                "pdf": PDF.name,
                "render_page3_ms": {
                    "cold_from_s3": round(statistics.median(cold), 1),
                    "cached": round(statistics.median(cached), 1),
                    "local_disk": round(statistics.median(on_disk), 1),
                },
                "upload_50mb_peak_alloc_mb": {
                    "streamed_parts": round(streamed / 2**20, 1),
                    "single_put": round(single_put / 2**20, 1),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
