"""The HTTP half of .ci/image-test: what a user does with the running container, over plain HTTP.

    python .ci/image_http.py URL USER PASSWORD first PDF    sign in, upload PDF, wait until ready, ask, see a citation
    python .ci/image_http.py URL USER PASSWORD again NAME   after a restart: NAME still ready, the conversation too

Each step prints one line ("ok: ..."); the first failure prints "FAIL: ..." and exits 1. The Gradio
queue calls are the suite's own (tests/fixtures/gradio_http.py), as any script would make them.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fixtures.gradio_http import fn_index, run_event

QUESTION = "What does this document describe?"


def fail(message: str) -> None:
    print(f"FAIL: {message}", flush=True)
    sys.exit(1)


def ok(message: str) -> None:
    print(f"ok: {message}", flush=True)


def sign_in(url: str, user: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60)
    wrong = client.post("/login", data={"username": user, "password": password + "x"})
    if wrong.status_code == 200:
        fail("sign-in with a wrong password was accepted")
    client.cookies.clear()
    response = client.post("/login", data={"username": user, "password": password})
    if response.status_code != 200 or not client.cookies:
        fail(f"sign-in as {user}: HTTP {response.status_code} {response.text[:200]}")
    ok(f"signed in as {user} over HTTP (a wrong password refused with HTTP {wrong.status_code})")
    return client


def documents(client: httpx.Client) -> list[list[Any]]:
    result = run_event(client, fn_index(client, "documents"), [])
    if not result.success:
        fail(f"documents list: {result.error}")
    return list(result.output[0]["data"])


def conversations(client: httpx.Client) -> dict[str, Any]:
    result = run_event(client, fn_index(client, "conversations"), [1])
    if not result.success:
        fail(f"conversations list: {result.error}")
    return dict(result.output[0])


def first(client: httpx.Client, pdf: Path) -> None:
    sent = client.post("/gradio_api/upload", files=[("files", (pdf.name, pdf.read_bytes()))])
    if sent.status_code != 200:
        fail(f"upload route: HTTP {sent.status_code} {sent.text[:200]}")
    queued = run_event(
        client, fn_index(client, "upload"), [[{"path": sent.json()[0], "meta": {"_type": "gradio.FileData"}}]]
    )
    if not queued.success:
        fail(f"upload event: {queued.error}")
    ok(f"uploaded {pdf.name} ({pdf.stat().st_size} bytes) through /gradio_api/upload and the upload event")
    started, rows = time.monotonic(), []
    while time.monotonic() - started < 180:
        rows = [r for r in documents(client) if r[0] == pdf.name]
        if rows and str(rows[0][5]).startswith("ready"):
            break
        if rows and str(rows[0][5]).startswith("failed"):
            fail(f"document {pdf.name}: {rows[0][5]}")
        time.sleep(1)
    else:
        fail(f"document {pdf.name} not ready after 180 s: {rows}")
    ok(f"{pdf.name} ready in {time.monotonic() - started:.1f} s ({rows[0][1]} pages)")
    asked = run_event(client, fn_index(client, "ask"), [QUESTION, [], None, []], timeout=120)
    if not asked.success:
        fail(f"ask: {asked.error}")
    answer = json.dumps(asked.output[0][-1], ensure_ascii=False)
    if f"**{pdf.name}** — p. " not in answer:
        fail(f"the answer cites no page of {pdf.name}: {answer[:400]}")
    ok(f"asked {QUESTION!r}: the answer cites {pdf.name} with a page")
    listed = conversations(client)
    if listed["total"] < 1:
        fail(f"no conversation stored after the answer: {listed}")
    ok(f"conversation stored ({listed['total']}: {listed['conversations'][0]['title']!r})")


def again(client: httpx.Client, name: str) -> None:
    rows = [r for r in documents(client) if r[0] == name]
    if not rows or not str(rows[0][5]).startswith("ready"):
        fail(f"after the restart {name} is not listed as ready: {rows}")
    ok(f"after the restart {name} is still there, ready")
    listed = conversations(client)
    if listed["total"] < 1:
        fail(f"after the restart no conversation is listed: {listed}")
    ok(f"after the restart the conversation is still there ({listed['conversations'][0]['title']!r})")


def main() -> None:
    url, user, password, step, what = sys.argv[1:6]
    client = sign_in(url, user, password)
    if step == "first":
        first(client, Path(what))
    elif step == "again":
        again(client, what)
    else:
        fail(f"unknown step {step}")


if __name__ == "__main__":
    main()
