"""Load in CI, the short form of `bench/load.py` (same engine, tests/fixtures/load.py): 8 users for
15 s against a real server on 127.0.0.1, mixing uploads, questions, follow-ups, page views, document
lists and refreshes. No server error; the server's memory grows by at most RSS_GROWTH_MB; and the
server's database holds exactly the documents, conversations, questions and LLM calls sent."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from tests.fixtures import load

USERS = [f"load{i}" for i in range(8)]
SECONDS = 15
# The server process after its set-up (model loaded, every user's first document ingested, a first
# question answered and page rendered): 15 s of this load added 90-160 MB on this machine (torch's
# allocator during the second uploads' embedding, the render cache, Gradio's per-session state).
RSS_GROWTH_MB = 250


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[load.LoadTarget]:
    # A short LLM latency: the count checks need answers, not the 1 s of the benchmark.
    with load.load_server(tmp_path_factory.mktemp("load") / "data", 0.2, USERS) as server:
        yield server


@pytest.fixture(scope="module")
def run(target: load.LoadTarget, tmp_path_factory: pytest.TempPathFactory) -> load.Run:
    pdfs = load.small_pdfs(tmp_path_factory.mktemp("pdfs"), 2 * len(USERS))
    return load.run_mixed(target, USERS, SECONDS, pdfs, settle_s=120)


def test_mixed_load_has_no_server_error(run: load.Run) -> None:
    failed = [s for s in run.samples + run.setup if not s.ok]
    assert failed == [], failed[:5]
    kinds = load.summary(run.samples)
    # The mix really happened: every kind of request was made during the timed phase.
    assert {"ask", "ask.then", "page", "page.image", "documents", "refresh", "upload"} <= set(kinds), kinds
    assert kinds["ask"]["count"] >= len(USERS), kinds["ask"]


def test_memory_growth_is_bounded(run: load.Run) -> None:
    growth = run.rss_end[0] - run.rss_start[0]
    assert growth <= RSS_GROWTH_MB, (run.rss_start, run.rss_end, run.rss_peak)


def test_database_matches_what_was_sent(run: load.Run, target: load.LoadTarget) -> None:
    assert run.mismatches == []
    documents, questions = load.cli_counts(target.server.data_dir, USERS[0])
    stored = load.database_counts(target.server.data_dir)[USERS[0]]
    assert documents == len(stored["documents"]) >= 1 and questions == stored["questions"] >= 1


def test_the_count_check_sees_one_lost_upload_or_one_miscount(run: load.Run, target: load.LoadTarget) -> None:
    """The check can fail: the run's own ledgers with one upload the server never got, or one
    question, conversation or LLM call more than was sent, are each reported for that user."""
    calls = target.llm.counts["chat"]
    assert load.mismatches(target.server.data_dir, run.tabs, calls) == []
    tab = run.tabs[0]
    for change in (
        lambda ledger: ledger.uploaded.append("never-sent.pdf"),
        lambda ledger: setattr(ledger, "questions", ledger.questions + 1),
        lambda ledger: ledger.turns.update({"another-tab/0": 1}),
        lambda ledger: setattr(ledger, "generated", ledger.generated + 1),
    ):
        wrong = SimpleNamespace(user=tab.user, ledger=copy.deepcopy(tab.ledger))
        change(wrong.ledger)
        found = load.mismatches(target.server.data_dir, [wrong, *run.tabs[1:]], calls)  # type: ignore[list-item]
        assert len(found) == 1 and found[0].startswith(f"{tab.user}: "), found


def test_an_error_event_is_recorded_as_a_failure(target: load.LoadTarget) -> None:
    """A page of a document that does not exist: the event fails and the load counts it (as the
    user's mistake, not the server's)."""
    import asyncio

    recorder = load.Recorder()

    async def main() -> None:
        tab = load.Tab(target.server.url, USERS[0], recorder)
        await tab.open()
        assert not await tab.page("0" * 32, 1)
        await tab.close()

    asyncio.run(main())
    failed = recorder.errors()
    assert [s.kind for s in failed] == ["page"] and not failed[0].server_fault, failed
