"""Quotas through the running web app (gradio_client, real HTTP): 20 simultaneous questions against
`questions_per_day: 10` are answered exactly 10 times, with one process on SQLite and with two
processes sharing one PostgreSQL database; refusals reach the LLM server never and say which limit,
its value and when it resets, in the browser's language; cached answers make no LLM request."""

from __future__ import annotations

import concurrent.futures
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client, handle_file

from tests.conftest import DATA
from tests.fixtures.cli import run_app
from tests.fixtures.gradio_http import without_claim_marks
from tests.fixtures.llm_server import FakeOpenAIServer
from tests.fixtures.postgres import fresh_database
from tests.fixtures.server import ADMIN, RunningServer, running_server

CAROL = ("carol", "carols-long-password")


@pytest.fixture(scope="module")
def llm_srv() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as srv:
        yield srv


def llm_env(srv: FakeOpenAIServer) -> dict[str, str]:
    return {
        "APP_LLM__API_BASE": srv.base_url,
        "APP_LLM__API_KEY": "sk-server-key",
        "APP_LLM__MODEL": "gpt-4o-mini",
        "APP_LLM__MAX_RETRIES": "0",
        "APP_SERVER__CONCURRENCY": "32",
    }


def answer_text(outputs: Any) -> str:
    content = outputs[0][-1]["content"]
    if isinstance(content, list):
        return without_claim_marks("".join(part.get("text", "") for part in content if isinstance(part, dict)))
    return without_claim_marks(str(content))


def upload_and_wait(c: Client, name: str = "natbib.pdf", timeout: float = 180) -> None:
    import time

    c.predict([handle_file(str(DATA / name))], api_name="/upload")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = {r[0]: r for r in c.predict(api_name="/documents")["data"]}
        if name in rows and rows[name][5] == "ready":
            return
        time.sleep(0.5)
    raise AssertionError(f"{name} not ready")


def question(i: int) -> str:
    """Twenty different questions (so none is answered from the cache) with the same search terms."""
    words = ["Which", "option", "gives", "superscript", "citation", "numbers"]
    return " ".join(w + ("," if i >> k & 1 else "") for k, w in enumerate(words)) + "?"


def ask_all(clients: list[Client]) -> tuple[list[str], list[str]]:
    """Every client asks its own question at the same moment; returns (answers, refusals)."""
    barrier = threading.Barrier(len(clients))

    def one(i: int) -> tuple[bool, str]:
        barrier.wait()
        try:
            return True, answer_text(clients[i].predict(question(i), api_name="/ask"))
        except Exception as e:
            return False, str(e)

    with concurrent.futures.ThreadPoolExecutor(len(clients)) as pool:
        results = list(pool.map(one, range(len(clients))))
    return [text for ok, text in results if ok], [text for ok, text in results if not ok]


@pytest.fixture(scope="module")
def sqlite_server(tmp_path_factory: pytest.TempPathFactory, llm_srv: FakeOpenAIServer) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("quota-web") / "data"
    with running_server(data_dir, env=llm_env(llm_srv)) as srv:
        assert run_app(data_dir, "users", "add", CAROL[0], stdin=CAROL[1] + "\n").returncode == 0
        upload_and_wait(Client(srv.url, auth=CAROL, verbose=False))
        yield srv


def test_twenty_simultaneous_questions_allow_exactly_ten(
    sqlite_server: RunningServer, llm_srv: FakeOpenAIServer
) -> None:
    assert run_app(sqlite_server.data_dir, "quotas", "set", "carol", "--questions-per-day", "10").returncode == 0
    llm_srv.reset()
    llm_srv.latency = 0.3  # keep the questions in flight together
    llm_srv.reply_fn = lambda messages: "Use the super option [1]."
    clients = [Client(sqlite_server.url, auth=CAROL, verbose=False) for _ in range(20)]
    try:
        answers, refusals = ask_all(clients)
    finally:
        llm_srv.latency = 0.0
    assert len(answers) == 10 and len(refusals) == 10, (len(answers), refusals[:2])
    assert all(a.startswith("Use the super option") for a in answers), [a[:200] for a in answers]
    assert all("questions per day: 10" in r and "resets on" in r and "(UTC)" in r for r in refusals), refusals[0]
    assert llm_srv.counts["chat"] == 10  # a refused question never reaches the model
    assert "Traceback" not in " ".join(refusals)
    # In Japanese for a Japanese browser; still no LLM request.
    ja = Client(sqlite_server.url, auth=CAROL, verbose=False, headers={"Accept-Language": "ja,en;q=0.5"})
    with pytest.raises(Exception, match="1日の質問数の上限（10）に達しました"):
        ja.predict("Which option gives superscripts?", api_name="/ask")
    assert llm_srv.counts["chat"] == 10


def test_cached_answer_through_the_web_app(sqlite_server: RunningServer, llm_srv: FakeOpenAIServer) -> None:
    llm_srv.reset()
    llm_srv.reply_fn = lambda messages: "Load natbib with the super option [1]."
    admin = Client(sqlite_server.url, auth=ADMIN, verbose=False)
    upload_and_wait(admin)
    first = answer_text(admin.predict("Which option gives superscripts?", api_name="/ask"))
    # A new chat (a fresh session): within one conversation a repeat is a follow-up, never cached.
    fresh = Client(sqlite_server.url, auth=ADMIN, verbose=False)
    again = answer_text(fresh.predict("which option gives superscripts", api_name="/ask"))
    assert llm_srv.counts["chat"] == 1
    assert "from the cache" in again and "from the cache" not in first
    sources = first.split("Sources", 1)[1]
    assert sources.strip() and again.split("Sources", 1)[1].startswith(sources.rstrip())
    # Uploading a document invalidates it (deleting one too: tests/test_chat.py).
    upload_and_wait(admin, "jbtxdoc.pdf")
    fresh = Client(sqlite_server.url, auth=ADMIN, verbose=False)
    after = answer_text(fresh.predict("Which option gives superscripts?", api_name="/ask"))
    assert llm_srv.counts["chat"] == 2 and "from the cache" not in after


def test_two_processes_sharing_postgresql_allow_exactly_ten(tmp_path: Path, llm_srv: FakeOpenAIServer) -> None:
    with fresh_database() as url:
        env = {**llm_env(llm_srv), "APP_DATABASE__URL": url}
        first, second = tmp_path / "a", tmp_path / "b"
        # Index once, then give the second process a copy of the embedded vector store (one process
        # per embedded store); the documents, users, quotas and counters are shared in PostgreSQL.
        with running_server(first, env=env) as srv:
            assert run_app(first, "users", "add", CAROL[0], stdin=CAROL[1] + "\n", env=env).returncode == 0
            upload_and_wait(Client(srv.url, auth=CAROL, verbose=False))
        shutil.copytree(first / "qdrant", second / "qdrant")
        shutil.copytree(first / "files", second / "files")
        assert run_app(first, "quotas", "set", "carol", "--questions-per-day", "10", env=env).returncode == 0
        llm_srv.reset()
        llm_srv.latency = 0.3
        llm_srv.reply_fn = lambda messages: "Use the super option [1]."
        try:
            with running_server(first, env=env) as a, running_server(second, env=env, admin=None) as b:
                clients = [Client(srv.url, auth=CAROL, verbose=False) for srv in (a, b) for _ in range(10)]
                answers, refusals = ask_all(clients)
                errors = [line for srv in (a, b) for line in srv.log().splitlines() if "| ERROR" in line]
        finally:
            llm_srv.latency = 0.0
        other = [r for r in refusals if "limit of questions per day" not in r]
        assert len(answers) == 10 and len(refusals) == 10, (len(answers), len(refusals), other, errors[-5:])
        assert all(a.startswith("Use the super option") for a in answers), [a[:200] for a in answers]
        assert llm_srv.counts["chat"] == 10
        shown = run_app(first, "quotas", "show", "carol", env=env).stdout
        assert "used 10" in next(line for line in shown.splitlines() if "questions_per_day" in line)


def chat_usage(data_dir: Path, owner: str) -> list[tuple[int, int]]:
    import sqlite3

    with sqlite3.connect(data_dir / "app.db") as db:
        rows = db.execute(
            "SELECT prompt_tokens, completion_tokens FROM usage WHERE owner = ? AND kind = 'chat' ORDER BY id", (owner,)
        )
        return [(int(p), int(c)) for p, c in rows]


def test_an_answer_cut_by_the_client_still_records_its_tokens(
    sqlite_server: RunningServer, llm_srv: FakeOpenAIServer
) -> None:
    import time

    assert run_app(sqlite_server.data_dir, "quotas", "set", "carol", "--questions-per-day", "unlimited").returncode == 0
    before = chat_usage(sqlite_server.data_dir, "carol")
    reply = "Load natbib with the super option to get superscript numbers [1]. " * 30
    llm_srv.reset()
    llm_srv.reply_fn = lambda messages: reply
    llm_srv.stream_chunk_delay = 0.05
    try:
        job = Client(sqlite_server.url, auth=CAROL, verbose=False).submit(
            "How are citation numbers printed as superscripts?", api_name="/ask"
        )
        deadline = time.monotonic() + 30
        while len(job.outputs()) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(job.outputs()) >= 3, "the answer did not start streaming"
        job.cancel()  # the client goes away mid-answer
        deadline = time.monotonic() + 20
        while len(chat_usage(sqlite_server.data_dir, "carol")) == len(before) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        llm_srv.stream_chunk_delay = 0.0
    after = chat_usage(sqlite_server.data_dir, "carol")
    assert len(after) == len(before) + 1, "the cut answer's tokens were not recorded"
    prompt, completion = after[-1]
    # The whole prompt and only the part streamed before the cut (the full answer is about 500 tokens
    # and would take 15 s more to stream).
    assert prompt > 100 and 0 < completion < 100, (prompt, completion)
