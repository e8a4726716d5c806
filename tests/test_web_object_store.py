"""The running web app (`python -m app serve`) with its originals in an S3-compatible bucket,
configured the way an operator would: APP_FILES__URL, APP_FILES__ENDPOINT_URL and the standard
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY variables. (Deleting is covered at the service level in
test_object_store.py: the UI's delete takes its id from a per-session dropdown a script cannot fill.)"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
from gradio_client import Client, handle_file
from PIL import Image

from app.documents.ingestion import sha256_of
from app.storage.files import owner_key
from tests.conftest import DATA
from tests.fixtures.s3_server import ACCESS_KEY, SECRET_KEY, s3_server
from tests.fixtures.server import ADMIN, running_server


def wait_ready(c: Client, name: str, timeout: float = 120) -> list[Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for row in c.predict(api_name="/documents")["data"]:
            if row[0] == name and row[5] == "ready":
                return list(row)
            assert not (row[0] == name and str(row[5]).startswith("failed")), row
        time.sleep(0.5)
    raise AssertionError(f"{name} not ready in {timeout} s")


def test_upload_ask_and_page_view_through_the_web_app_with_s3(tmp_path: Path) -> None:
    with s3_server() as s3:
        bucket = s3.new_bucket()
        env = {
            "APP_FILES__URL": f"s3://{bucket}/web",
            "APP_FILES__ENDPOINT_URL": s3.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        }
        with running_server(tmp_path / "data", env=env) as server:
            assert httpx.get(f"{server.url}/readyz").json() == {"status": "ready"}  # includes the bucket
            c = Client(server.url, auth=ADMIN, verbose=False)
            c.predict([handle_file(str(DATA / "natbib.pdf"))], api_name="/upload")
            row = wait_ready(c, "natbib.pdf")
            key = f"web/{owner_key(ADMIN[0])}/{sha256_of(DATA / 'natbib.pdf')}.pdf"
            assert s3.keys(bucket) == {key}
            assert not (tmp_path / "data" / "files").exists()

            image_path = c.predict(row[6], 3, api_name="/page")
            with Image.open(image_path) as img:
                assert img.width > 500 and img.height > 700

            # Retrieval-only (no LLM configured): the answer lists the passages with their citations.
            answer = c.predict("How do I get superscript citation numbers?", [], [], api_name="/ask")
            assert "natbib.pdf" in json.dumps(answer, ensure_ascii=False)
            assert len(list((tmp_path / "data" / "cache" / "files").rglob("*.pdf"))) == 1
            log = server.log()
        assert SECRET_KEY not in log
        logs = tmp_path / "data" / "logs"
        assert not any(SECRET_KEY in p.read_text(errors="replace") for p in logs.rglob("*") if p.is_file())
