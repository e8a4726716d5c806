"""Security round 3 (issue 23), items 2, 4 and 12, over real HTTP against `python -m app serve`:

- names enter clean: an uploaded file's name and a conversation's title are cleaned where they
  enter, so the jobs API, the documents list, the conversation list, app.log and audit.log never
  see bidi overrides, line separators, zero-width or control characters;
- quotas at the door: the `storage_mb` and `documents` quotas are held when an upload is accepted,
  before the file reaches the file store, and queued uploads count (many files sent at once never
  put more than the quota on disk); refused files get a message naming the limit, per file;
- the chat history the browser sends with a question is bounded (a clear error, nothing echoed);
- the conversation list is paged (a user with 5,000 conversations gets 50 per response).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import DATA
from tests.fixtures.cli import run_app
from tests.fixtures.gradio_http import EventResult, fn_index, run_event, signed_in
from tests.fixtures.server import RunningServer, running_server

PASSWORD = "a-long-enough-password"
# Invisible or layout-changing characters a hostile file name or question may carry.
HOSTILE = ["\u202e", "\u2028", "\u2029", "\u200b", "\u2066", "\u2069", "\ufeff", "\x85", "\x1b", "\n", "\r"]
HOSTILE_ESCAPED = ["\\u202e", "\\u2028", "\\u2029", "\\u200b", "\\u2066", "\\u2069", "\\ufeff", "\\x85", "\\x1b"]


def add_user(data_dir: Path, name: str) -> None:
    result = run_app(data_dir, "users", "add", name, stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("round3-uploads")
    # JSON log lines: app.log then holds every record's fields (the file a job works on, too).
    env = {"GRADIO_TEMP_DIR": str(root / "gradio-uploads"), "APP_SERVER__CONCURRENCY": "8", "APP_LOG_JSON": "true"}
    with running_server(root / "data", env=env) as srv:
        for user in ("dora", "quinn", "nina", "hugo", "paige"):
            add_user(srv.data_dir, user)
        yield srv


_TABS: dict[int, str] = {}


def tab(client: httpx.Client) -> str:
    """One browser tab per client: the server bounds the tabs (session states) one user may hold."""
    return _TABS.setdefault(id(client), uuid.uuid4().hex[:11])


def call(client: httpx.Client, index: int, data: list[Any], timeout: float = 120) -> EventResult:
    """One event in this client's tab."""
    return run_event(client, index, data, session_hash=tab(client), timeout=timeout)


def upload(client: httpx.Client, files: list[tuple[str, bytes]]) -> EventResult:
    """The browser's upload: the files to Gradio, then the upload event that submits them."""
    sent = client.post("/gradio_api/upload", files=[("files", (n, b, "application/pdf")) for n, b in files])
    assert sent.status_code == 200, sent.text
    data = [[{"path": p, "meta": {"_type": "gradio.FileData"}} for p in sent.json()]]
    return call(client, fn_index(client, "upload"), data, timeout=120)


def jobs(client: httpx.Client) -> list[list[Any]]:
    result = call(client, fn_index(client, "jobs"), [])
    assert result.success, result.error
    return list(result.output[0]["data"])


def documents(client: httpx.Client) -> list[list[Any]]:
    result = call(client, fn_index(client, "documents"), [])
    assert result.success, result.error
    return list(result.output[0]["data"])


def wait_finished(client: httpx.Client, count: int, timeout: float = 300) -> list[list[Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = jobs(client)
        if len(rows) >= count and all(r[1].startswith(("done", "failed")) for r in rows):
            return rows
        time.sleep(0.5)
    raise AssertionError(f"uploads not finished: {jobs(client)}")


def variant(source: str, tag: str) -> bytes:
    """A real PDF with a comment after its end: the same document, different bytes (and sha256)."""
    return (DATA / source).read_bytes() + f"\n% variant {tag}\n".encode()


def stored_bytes(data_dir: Path, owner: str) -> int:
    """Bytes of `owner` in the data dir's file store (finished and partial files alike)."""
    from app.storage.files import owner_key

    folder = data_dir / "files" / owner_key(owner)
    total = 0
    for p in folder.glob("*") if folder.is_dir() else []:
        with contextlib.suppress(FileNotFoundError):  # removed between listing and stat
            total += p.stat().st_size
    return total


def stored_files(data_dir: Path, owner: str) -> int:
    from app.storage.files import owner_key

    folder = data_dir / "files" / owner_key(owner)
    return len([p for p in folder.glob("*.pdf")]) if folder.is_dir() else 0


class DiskWatch:
    """Samples a user's file-store usage until stopped; `peak` is the most seen at once."""

    def __init__(self, data_dir: Path, owner: str) -> None:
        self.data_dir, self.owner = data_dir, owner
        self.peak_bytes = self.peak_files = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, stored_bytes(self.data_dir, self.owner))
            self.peak_files = max(self.peak_files, stored_files(self.data_dir, self.owner))
            time.sleep(0.01)

    def __enter__(self) -> DiskWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def warnings_of(result: EventResult) -> list[str]:
    return [str(m.get("log") or m.get("message") or "") for m in result.messages if m.get("msg") == "log"]


# ---- 2. names enter clean --------------------------------------------------------------------


def test_an_uploaded_file_name_is_clean_in_jobs_documents_and_both_logs(server: RunningServer) -> None:
    dora = signed_in(server, "dora", PASSWORD)
    hostile = "in\u202evoice\u2028two\u2029para\u200bzero\u2066iso\u2069\x85nel\ufeff\x1b[31m\r\nred.pdf"
    result = upload(dora, [(hostile, variant("natbib.pdf", "names"))])
    assert result.success, result.error
    # The client sends \r\n as %0D%0A (HTML5 form encoding); Gradio drops \x1b; we drop the rest.
    expected = "invoice two parazeroiso nel[31m%0D%0Ared.pdf"
    queued = [r[0] for r in result.output[0]["data"]]
    assert queued == [expected], queued
    assert [r[0] for r in jobs(dora)] == [expected]
    rows = wait_finished(dora, 1)
    assert rows[0][1].startswith("done"), rows
    assert [d[0] for d in documents(dora)] == [expected]

    logs = server.data_dir / "logs"
    app_log = (logs / "app.log").read_text(encoding="utf-8")
    audit_log = (logs / "audit.log").read_text(encoding="utf-8")
    uploaded = [json.loads(line) for line in audit_log.split("\n") if '"document.uploaded"' in line]
    assert [e["name"] for e in uploaded] == [expected], uploaded
    records = [json.loads(line)["record"] for line in app_log.split("\n") if line.strip()]
    assert expected in [r["extra"].get("file") for r in records]  # the job's log lines name the file
    for text in (app_log, audit_log):
        for ch in HOSTILE[:-2]:  # newlines separate log lines, of course
            assert ch not in text, repr(ch)
        for escaped in HOSTILE_ESCAPED:
            assert escaped not in text, escaped


def test_a_conversation_title_is_clean_in_the_conversation_list(server: RunningServer) -> None:
    dora = signed_in(server, "dora", PASSWORD)
    question = "Why\u202e is\u2028this\u200b\u2066 text\u2069\x1b[2J\nso\ufeff\x85odd?"
    asked = call(dora, fn_index(dora, "ask"), [question, [], None, []])
    assert asked.success, asked.error
    listed = call(dora, fn_index(dora, "conversations"), [1])
    assert listed.success, listed.error
    titles = [c["title"] for c in listed.output[0]["conversations"]]
    assert titles == ["Why is this text[2J so odd?"], titles
    # The list beside the chat (the page's own load event) shows the same clean title.
    choices = conversation_list(dora)["choices"]
    assert [c[0] for c in choices] == titles
    audit_log = (server.data_dir / "logs" / "audit.log").read_text(encoding="utf-8")
    app_log = (server.data_dir / "logs" / "app.log").read_text(encoding="utf-8")
    for ch in HOSTILE[:-2]:
        assert ch not in app_log and ch not in audit_log, repr(ch)


# ---- 4. quotas at the door -------------------------------------------------------------------


def test_storage_quota_is_held_at_the_door_for_files_sent_at_once(server: RunningServer) -> None:
    limit = run_app(server.data_dir, "quotas", "set", "quinn", "--storage-mb", "1")
    assert limit.returncode == 0, limit.stderr
    quota = 1024 * 1024
    # 14 real PDFs, 290 KB to 790 KB each (4.7 MB in all), sent as 7 upload events at once.
    names = ["natbib.pdf", "hyperref-doc.pdf", "jbtxdoc.pdf", "bashref.pdf", "bxjscls-manual.pdf", "natbib.pdf"]
    files = [(f"q{i:02d}-{src}", variant(src, f"q{i}")) for i, src in enumerate(names * 3)][:14]
    batches = [files[i : i + 2] for i in range(0, len(files), 2)]
    clients = [signed_in(server, "quinn", PASSWORD) for _ in batches]
    barrier = threading.Barrier(len(batches))

    def send(i: int) -> EventResult:
        barrier.wait()
        return upload(clients[i], batches[i])

    with DiskWatch(server.data_dir, "quinn") as watch:
        with ThreadPoolExecutor(len(batches)) as pool:
            results = list(pool.map(send, range(len(batches))))
        at_the_door = jobs(clients[0])
        rows = wait_finished(clients[0], len(files))
    assert all(r.success for r in results), [r.error for r in results]
    refused_message = "quota reached: storage mb is 1; delete documents or ask the administrator"
    # Refused at once, when the upload was accepted, not later by the worker.
    refused_now = [r for r in at_the_door if r[1] == f"failed: {refused_message}"]
    accepted = [r for r in rows if r[1] != f"failed: {refused_message}"]
    assert len(rows) == len(files) and len(refused_now) == len(files) - len(accepted), at_the_door
    sizes = {n: len(b) for n, b in files}
    assert len(accepted) >= 1 and sum(sizes[r[0]] for r in accepted) <= quota, accepted
    assert watch.peak_bytes <= quota, watch.peak_bytes
    # One warning per refused file, naming the file and the limit.
    warned = [w for r in results for w in warnings_of(r)]
    assert len(warned) == len(refused_now), warned
    assert all("was not accepted" in w and "storage (MB): 1" in w for w in warned), warned
    kept = documents(clients[0])
    assert sum(sizes[d[0]] for d in kept) <= quota and stored_bytes(server.data_dir, "quinn") <= quota
    # Held while queued, given back when done: what is kept now still leaves room for nothing big.
    again = upload(clients[0], [("again-bashref.pdf", variant("bashref.pdf", "again"))])
    assert again.success and any("storage (MB): 1" in w for w in warnings_of(again)), again.messages


def test_documents_quota_is_held_at_the_door_for_files_sent_at_once(server: RunningServer) -> None:
    assert run_app(server.data_dir, "quotas", "set", "nina", "--documents", "2").returncode == 0
    files = [(f"n{i}.pdf", variant("jbtxdoc.pdf", f"n{i}")) for i in range(6)]
    clients = [signed_in(server, "nina", PASSWORD) for _ in files]
    barrier = threading.Barrier(len(files) - 1)

    def send(i: int) -> EventResult:
        barrier.wait()
        return upload(clients[i], [files[i]])

    with DiskWatch(server.data_dir, "nina") as watch:
        # The first one alone; the other five at once while it is being ingested (its document is
        # being made: counted once, not twice, so one more still fits).
        first = upload(clients[0], [files[0]])
        assert first.success and not warnings_of(first), first.messages
        deadline = time.monotonic() + 60
        while jobs(clients[0])[0][1] == "queued" and time.monotonic() < deadline:
            time.sleep(0.1)
        with ThreadPoolExecutor(len(files) - 1) as pool:
            results = list(pool.map(send, range(1, len(files))))
        at_the_door = jobs(clients[0])
        rows = wait_finished(clients[0], len(files))
    refused_message = "failed: quota reached: documents is 2; delete documents or ask the administrator"
    assert [r[1] for r in at_the_door].count(refused_message) == 4, at_the_door
    assert [r[1] for r in rows].count(refused_message) == 4, rows
    assert watch.peak_files <= 2, watch.peak_files
    assert len(documents(clients[0])) == 2
    warned = [w for r in results for w in warnings_of(r)]
    assert len(warned) == 4 and all("documents: 2" in w for w in warned), warned


# ---- 12. a bounded chat history, a paged conversation list -----------------------------------


def message(i: int, text: str) -> dict[str, Any]:
    """A chat message as the browser's Chatbot sends it (Gradio 6 messages format)."""
    return {"role": "user" if i % 2 == 0 else "assistant", "content": [{"type": "text", "text": text}]}


def test_an_oversized_chat_history_is_refused_and_not_echoed(server: RunningServer) -> None:
    hugo = signed_in(server, "hugo", PASSWORD)
    ask = fn_index(hugo, "ask")
    marker = "echo-me-" + uuid.uuid4().hex
    big = [message(i, marker + "x" * 190_000) for i in range(10)]  # 1.9 MB
    many = [message(i, marker) for i in range(202)]
    for history in (big, many):
        result = call(hugo, ask, ["What is natbib?", history, None, []], timeout=120)
        assert not result.success
        assert "too long" in (result.error or "") and "Start a new chat" in (result.error or ""), result.error
        assert marker not in json.dumps(result.messages), "the history was echoed back"
    # A normal history still works and comes back with the answer.
    small = [message(0, "Hello " + marker), message(1, "Hi.")]
    result = call(hugo, ask, ["What is natbib?", small, None, []], timeout=120)
    assert result.success, result.error
    assert marker in json.dumps(result.output)


def conversation_list(client: httpx.Client, event: str = "load") -> dict[str, Any]:
    """The list beside the chat as the page's own events send it (the load event, or a click on
    the newer/older buttons), for one browser tab."""
    config = client.get("/config").json()
    ids = {c.get("props", {}).get("elem_id"): c["id"] for c in config["components"]}
    target = ids["conversations"] if event == "load" else ids[event]

    def wanted(dep: dict[str, Any]) -> bool:
        triggers = [tuple(t) for t in dep.get("targets", [])]
        if event == "load":
            return dep["outputs"][:1] == [target] and any(t[1] == "load" for t in triggers)
        return (target, "click") in triggers

    found = next(((int(d.get("id", i)), d) for i, d in enumerate(config["dependencies"]) if wanted(d)), None)
    assert found is not None, f"no {event} event for the conversation list"
    result = call(client, found[0], [None] * len(found[1]["inputs"]))  # states: the server's own
    assert result.success, result.error
    radio = result.output[0]
    return {
        "choices": radio["choices"],
        "label": radio.get("label"),
        "newer": result.output[1].get("visible"),
        "older": result.output[2].get("visible"),
    }


def test_the_conversation_list_is_paged(server: RunningServer) -> None:
    from app.storage.db import Conversation, Database, utcnow

    db = Database(f"sqlite:///{server.data_dir / 'app.db'}")
    start = utcnow()
    with db.session() as s:  # 5,000 conversations, newest "c4999"
        s.add_all(
            Conversation(id=f"c{i:04d}", owner="paige", title=f"topic {i}", updated_at=start + timedelta(seconds=i))
            for i in range(5000)
        )
    db.close()
    paige = signed_in(server, "paige", PASSWORD)
    api = fn_index(paige, "conversations")
    first = call(paige, api, [1])
    assert first.success, first.error
    page = first.output[0]
    assert page["total"] == 5000 and page["page_size"] == 50
    assert [c["title"] for c in page["conversations"]] == [f"topic {i}" for i in range(4999, 4949, -1)]
    last = call(paige, api, [100]).output[0]["conversations"]
    assert [c["title"] for c in last] == [f"topic {i}" for i in range(49, -1, -1)]
    assert call(paige, api, [101]).output[0]["conversations"] == []
    assert len(json.dumps(first.output)) < 20_000

    shown = conversation_list(paige)
    assert [c[0] for c in shown["choices"]] == [f"topic {i}" for i in range(4999, 4949, -1)]
    assert shown["newer"] is False and shown["older"] is True and "1–50 of 5000" in str(shown["label"])
    older = conversation_list(paige, "conv-older")
    assert [c[0] for c in older["choices"]] == [f"topic {i}" for i in range(4949, 4899, -1)]
    assert older["newer"] is True and "51–100 of 5000" in str(older["label"])
    newer = conversation_list(paige, "conv-newer")
    assert [c[0] for c in newer["choices"]] == [c[0] for c in shown["choices"]]
