"""The coalescer that embeds simultaneous questions together (app/models/batching.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.models.batching import Coalescer


def test_simultaneous_calls_share_batches_and_each_gets_its_own_result() -> None:
    sizes: list[int] = []
    running = threading.Lock()

    def run_many(items: Sequence[int]) -> list[int]:
        assert running.acquire(blocking=False), "two batches ran at once"
        try:
            sizes.append(len(items))
            time.sleep(0.05)
            return [i * 10 for i in items]
        finally:
            running.release()

    coalescer = Coalescer(run_many, max_batch=8)
    start = threading.Barrier(40)

    def call(i: int) -> int:
        start.wait()
        return coalescer.run(i)

    with ThreadPoolExecutor(40) as pool:
        results = list(pool.map(call, range(40)))
    assert results == [i * 10 for i in range(40)]
    assert sum(sizes) == 40 and max(sizes) <= 8
    assert len(sizes) <= 10  # one at a time would be 40 calls


def test_a_failing_batch_fails_its_callers_only() -> None:
    fail = threading.Event()
    fail.set()

    def run_many(items: Sequence[str]) -> list[str]:
        time.sleep(0.02)
        if fail.is_set():
            raise ValueError("model failed")
        return [s.upper() for s in items]

    coalescer = Coalescer(run_many)
    with ThreadPoolExecutor(5) as pool:
        futures = [pool.submit(coalescer.run, s) for s in "abcde"]
        errors = [f.exception() for f in futures]
    assert all(isinstance(e, ValueError) for e in errors)
    fail.clear()
    assert coalescer.run("x") == "X"  # nothing left stuck behind the failure


def test_a_wrong_number_of_results_is_an_error_not_a_mix_up() -> None:
    with pytest.raises(RuntimeError, match="0 results for 1 items"):
        Coalescer(lambda items: []).run(1)
