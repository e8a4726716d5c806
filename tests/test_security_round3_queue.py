"""Security round 3 (issue 23), items 5 and 7 (fairness), over real HTTP against `python -m app serve`:

- session states keyed by a hash the client chooses: one user's 10,000 new hashes must neither push
  another user's open conversation out nor grow the server without bound; a closed tab's state
  (no heartbeat) expires;
- one user's flood of questions must not starve the others: a per-user limit on queued events,
  with a clear message, released whenever the events end (answered, failed, client gone).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.cli import run_app
from tests.fixtures.gradio_http import fn_index, run_event, signed_in, upload_and_wait
from tests.fixtures.llm_server import FakeOpenAIServer
from tests.fixtures.pdf_factory import text_pdf
from tests.fixtures.server import ADMIN, RunningServer, running_server

BOB = ("bob", "bobs-long-password")
MAX_QUEUED = 20  # server.max_queued_per_user, default
MAX_TABS = 32  # server.max_tabs_per_user, default
TAB_IDLE_S = 6  # server.tab_idle_minutes, shortened below
PUMP = "The blue pump in hall seven is serviced every Tuesday by the night crew."


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, llm: FakeOpenAIServer) -> Iterator[RunningServer]:
    """Default limits (concurrency 32, 20 queued events and 32 tabs per user), except that a closed
    tab's state expires after 6 s instead of 30 minutes."""
    env = {
        "APP_LLM__API_BASE": llm.base_url,
        "APP_LLM__API_KEY": "sk-server-key",
        "APP_LLM__MODEL": "test-chat",
        "APP_LLM__MAX_RETRIES": "0",
        "APP_CACHE__ANSWER_TTL_S": "0",
        "APP_SERVER__TAB_IDLE_MINUTES": str(TAB_IDLE_S / 60),
    }
    with running_server(tmp_path_factory.mktemp("round3q") / "data", env=env) as srv:
        result = run_app(srv.data_dir, "users", "add", BOB[0], stdin=BOB[1] + "\n")
        assert result.returncode == 0, result.stderr
        yield srv


def join(client: httpx.Client, index: int, data: list[Any], session_hash: str, **headers: str) -> httpx.Response:
    body = {"data": data, "fn_index": index, "session_hash": session_hash, "event_data": None, "trigger_id": None}
    return client.post("/gradio_api/queue/join", json=body, headers=headers)


def rss_mb(server: RunningServer) -> float:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]


def open_conversation(client: httpx.Client, session_hash: str) -> str | None:
    """The conversation this tab's server-side state has open (None: a fresh state)."""
    result = run_event(client, fn_index(client, "choices"), [None], session_hash=session_hash, timeout=300)
    assert result.success, result
    return result.output[0]["value"]  # type: ignore[no-any-return]


def tab_states(server: RunningServer) -> float:
    text = httpx.get(f"{server.url}/metrics", timeout=30).text
    found = re.search(r"^pdfqa_tab_states (\S+)$", text, re.M)
    assert found, "no pdfqa_tab_states gauge in /metrics"
    return float(found.group(1))


class Heartbeat:
    """An open tab: the heartbeat connection a browser keeps while the page is open."""

    def __init__(self, client: httpx.Client, session_hash: str) -> None:
        self.client, self.session_hash = client, session_hash
        self.stop = threading.Event()
        self.opened = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with self.client.stream("GET", f"/gradio_api/heartbeat/{self.session_hash}", timeout=None) as r:
            assert r.status_code == 200
            for _ in r.iter_raw():
                self.opened.set()
                if self.stop.is_set():
                    return

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        assert self.opened.wait(30), "the heartbeat did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()  # noticed at the next ALIVE (every 15 s); the thread is a daemon


async def _flood(
    server: RunningServer, cookies: httpx.Cookies, index: int, calls: int
) -> tuple[Counter[str], set[str]]:
    """`calls` queue/joins of one user, each under a new session hash, 24 at a time; every other one
    from a browser that prefers Japanese. Returns the outcomes and the refusal texts seen."""
    outcomes: Counter[str] = Counter()
    texts: set[str] = set()
    limits = httpx.Limits(max_connections=24, max_keepalive_connections=24)
    async with httpx.AsyncClient(base_url=server.url, cookies=cookies, timeout=300, limits=limits) as client:
        sem = asyncio.Semaphore(24)

        async def one(i: int) -> None:
            async with sem:
                body = {"data": [], "fn_index": index, "session_hash": uuid.uuid4().hex, "trigger_id": None}
                lang = {"Accept-Language": "ja" if i % 2 else "en-US"}
                r = await client.post("/gradio_api/queue/join", json=body, headers=lang)
                detail = r.json().get("detail", "") if r.status_code != 200 else ""
                texts.add(detail)
                tabs = "tabs" in detail or "タブ" in detail
                outcomes[f"{r.status_code} {'tabs' if tabs else detail[:60]}".strip()] += 1

        await asyncio.gather(*(one(i) for i in range(calls)))
    return outcomes, texts


# ---- 5. session states bounded per user -----------------------------------------------------------


def test_ten_thousand_new_session_hashes_keep_others_states_and_memory(server: RunningServer) -> None:
    alice, bob = signed_in(server, *ADMIN), signed_in(server, *BOB)
    ask = fn_index(alice, "ask")
    tab = uuid.uuid4().hex[:11]
    asked = run_event(alice, ask, ["Where is the pump?", [], None, []], session_hash=tab)
    assert asked.success, asked
    conversation = open_conversation(alice, tab)
    assert conversation, "alice's tab has her conversation open"
    whoami = fn_index(bob, "whoami")
    for _ in range(3):  # warm up bob's path before measuring
        assert run_event(bob, whoami, []).success
    before = rss_mb(server)

    with Heartbeat(alice, tab):  # alice's tab stays open during the flood
        started = time.monotonic()
        outcomes, _texts = asyncio.run(_flood(server, bob.cookies, whoami, 10_000))
        elapsed = time.monotonic() - started
        time.sleep(3)  # the accepted events finish
        after = rss_mb(server)
        still_open = open_conversation(alice, tab)

    print(f"flood: {dict(outcomes)} in {elapsed:.0f} s; RSS {before:.0f} -> {after:.0f} MB")
    assert still_open == conversation, "bob's flood pushed alice's open conversation out"
    assert after - before < 150, f"the server grew by {after - before:.0f} MB"
    states = tab_states(server)
    assert states <= MAX_TABS + 8, f"{states:g} session states held"
    # bob's calls are over as soon as they are answered and keep no heartbeat: each new one takes
    # the place of one of his finished ones; only while all of his tabs are busy is one refused.
    queued = ("429 You have 20 requests waiting", "429 処理待ち・処理中のリクエストが 20 件")
    assert all(k in ("200", "429 tabs") or k.startswith(queued) for k in outcomes), outcomes
    assert sum(outcomes.values()) == 10_000 and outcomes["200"] > 0


def test_a_closed_tabs_state_expires_and_an_open_one_does_not(server: RunningServer) -> None:
    alice = signed_in(server, *ADMIN)
    ask = fn_index(alice, "ask")
    closed, kept = uuid.uuid4().hex[:11], uuid.uuid4().hex[:11]
    for tab in (closed, kept):
        assert run_event(alice, ask, ["Where is the pump?", [], None, []], session_hash=tab).success
        assert open_conversation(alice, tab)
    with Heartbeat(alice, kept):
        time.sleep(TAB_IDLE_S + 8)  # idle limit + the 5 s sweep + margin
        assert open_conversation(alice, closed) is None, "a state with no heartbeat and no use did not expire"
        assert open_conversation(alice, kept), "an open tab's state expired"


def test_a_scripts_finished_calls_make_room_for_its_next_ones(server: RunningServer) -> None:
    """A script (no heartbeat) calling with a new session hash each time, more times in a minute
    than a user may hold tabs: each finished call's state makes room for the next, none is refused."""
    dana = ("dana", "danas-long-password")
    result = run_app(server.data_dir, "users", "add", dana[0], stdin=dana[1] + "\n")
    assert result.returncode == 0, result.stderr
    client = signed_in(server, *dana)
    whoami = fn_index(client, "whoami")
    outcomes = [run_event(client, whoami, []) for _ in range(MAX_TABS + 10)]
    refused = [r.error for r in outcomes if not r.success]
    assert not refused, refused[:3]


# ---- 7. one user's flood does not starve the others ---------------------------------------------


@pytest.fixture(scope="module")
def bobs_document(server: RunningServer, tmp_path_factory: pytest.TempPathFactory, llm: FakeOpenAIServer) -> None:
    """bob has a document, so that his questions go to the (slow) language model."""
    bob = signed_in(server, *BOB)
    pdf = text_pdf(tmp_path_factory.mktemp("pdf"), [f"Maintenance notes.\n{PUMP}\nThe red pump is never serviced."])
    upload_and_wait(bob, pdf, timeout=180)
    chats = llm.counts["chat"]
    answer = run_event(bob, fn_index(bob, "ask"), ["When is the blue pump in hall seven serviced?", [], None, []])
    assert answer.success and llm.counts["chat"] > chats, "bob's question did not reach the language model"


def seconds_to_start(client: httpx.Client, index: int, data: list[Any], limit: float = 90) -> float:
    """From the join to the moment a worker takes the event (Gradio's process_starts message)."""
    session_hash = uuid.uuid4().hex[:11]
    started = time.monotonic()
    r = join(client, index, data, session_hash)
    assert r.status_code == 200, r.text
    with client.stream("GET", "/gradio_api/queue/data", params={"session_hash": session_hash}, timeout=limit) as s:
        for line in s.iter_lines():
            if line.startswith("data:") and json.loads(line[5:]).get("msg") == "process_starts":
                return time.monotonic() - started
    raise AssertionError("the event never started")


def bob_questions(bob: httpx.Client, count: int, tabs: int = 4) -> Counter[str]:
    ask = fn_index(bob, "ask")
    hashes = [uuid.uuid4().hex[:11] for _ in range(tabs)]

    def one(i: int) -> str:
        r = join(bob, ask, [f"When is the blue pump in hall seven serviced? ({i})", [], None, []], hashes[i % tabs])
        return str(r.status_code) if r.status_code == 200 else f"{r.status_code} {r.json().get('detail', '')}"

    with ThreadPoolExecutor(16) as pool:
        return Counter(pool.map(one, range(count)))


def test_bobs_400_questions_do_not_starve_alice(
    server: RunningServer, llm: FakeOpenAIServer, bobs_document: None
) -> None:
    alice, bob = signed_in(server, *ADMIN), signed_in(server, *BOB)
    llm.latency = 3.0  # every answer takes 3 s
    try:
        outcomes = bob_questions(bob, 400)
        waited = seconds_to_start(alice, fn_index(alice, "ask"), ["Where is the pump?", [], None, []])
    finally:
        llm.latency = 0.0
    print(f"bob: {dict(outcomes)}; alice's question started after {waited:.2f} s")
    assert waited < 2, f"alice's question waited {waited:.1f} s behind bob's"
    message = f"429 You have {MAX_QUEUED} requests waiting or running, the most allowed at once."
    assert outcomes["200"] <= MAX_QUEUED, outcomes
    assert sum(n for k, n in outcomes.items() if k.startswith(message)) == 400 - outcomes["200"], outcomes


def wait_until_accepted(client: httpx.Client, index: int, data: list[Any], limit: float = 60) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if join(client, index, data, uuid.uuid4().hex[:11]).status_code == 200:
            return time.monotonic() - started
        time.sleep(0.25)
    raise AssertionError(f"still refused after {limit} s: a queued-event count leaked")


def test_the_count_is_released_when_events_end_fail_or_lose_their_client(
    server: RunningServer, llm: FakeOpenAIServer, bobs_document: None
) -> None:
    bob = signed_in(server, *BOB)
    ask = fn_index(bob, "ask")
    question = ["When is the blue pump in hall seven serviced?", [], None, []]
    wait_until_accepted(bob, ask, question)  # the previous test's questions ended (nobody read them)
    time.sleep(1)
    # Failing answers: the model answers 500 to everything for a while.
    llm.fail_next(200, 500, endpoint="chat")
    try:
        # The previous test's slow questions end one by one (a loaded machine: seconds apart); every
        # slot comes back once they have, else this loop ends at its deadline with the count held.
        deadline = time.monotonic() + 60
        while True:
            outcomes = bob_questions(bob, MAX_QUEUED + 10)
            if outcomes["200"] >= MAX_QUEUED - 2 or time.monotonic() > deadline:
                break
            time.sleep(2)
        assert outcomes["200"] >= MAX_QUEUED - 2, outcomes  # the one accepted above may still count
        wait_until_accepted(bob, ask, question, limit=60)
    finally:
        llm.reset()
    # A client that goes away: its tab's event stream closes while its slow questions wait.
    llm.latency = 3.0
    try:
        tab = uuid.uuid4().hex[:11]
        accepted = sum(join(bob, ask, question, tab).status_code == 200 for _ in range(MAX_QUEUED + 5))
        assert accepted <= MAX_QUEUED
        with bob.stream("GET", "/gradio_api/queue/data", params={"session_hash": tab}, timeout=30) as s:
            next(s.iter_lines())
        assert wait_until_accepted(bob, ask, question, limit=60) < 30
    finally:
        llm.latency = 0.0


def test_open_tabs_beyond_the_bound_are_refused_with_a_clear_message(server: RunningServer) -> None:
    """A tab with an open heartbeat is open: a user may hold MAX_TABS of them; one more is refused
    (in the browser's language) and the open tabs keep working. (Last in this file: the
    heartbeats end only at their next ALIVE, up to 15 s later.)"""
    carol = ("carol", "carols-long-password")  # a user of its own: bob's earlier tabs are still busy
    result = run_app(server.data_dir, "users", "add", carol[0], stdin=carol[1] + "\n")
    assert result.returncode == 0, result.stderr
    client = signed_in(server, *carol)
    whoami = fn_index(client, "whoami")
    tabs = [uuid.uuid4().hex[:11] for _ in range(MAX_TABS)]
    beats = []
    try:
        for tab in tabs:
            joined = join(client, whoami, [], tab)
            assert joined.status_code == 200, joined.text
            beats.append(Heartbeat(client, tab).__enter__())
        texts = {}
        for lang in ("en-US", "ja"):
            refused = join(client, whoami, [], uuid.uuid4().hex[:11], **{"Accept-Language": lang})
            assert refused.status_code == 429, refused.text
            texts[lang] = refused.json()["detail"]
        assert texts["en-US"] == (
            f"You have {MAX_TABS} tabs of this app open and in use, the most allowed. "
            "Close one, or wait a minute, and try again."
        )
        assert texts["ja"].startswith(f"このアプリのタブが {MAX_TABS} 個"), texts
        assert all(join(client, whoami, [], tab).status_code == 200 for tab in tabs[:3])  # open tabs still work
    finally:
        for beat in beats:
            beat.__exit__()
