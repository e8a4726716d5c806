"""The coalescer that embeds simultaneous questions together (app/models/batching.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


# ---- model batches: cut_batches ------------------------------------------------------------------


def _cost(lengths: Sequence[int], batches: Sequence[range]) -> int:
    from app.models.onnx_embedding import RUN_OVERHEAD_TOKENS

    return sum(RUN_OVERHEAD_TOKENS + len(b) * lengths[b[-1]] for b in batches)


def _filled(lengths: Sequence[int], max_rows: int, max_tokens: int) -> list[range]:
    """Each batch filled to its limit: the way the model was fed before cut_batches."""
    batches, start = [], 0
    for j, n in enumerate(lengths):
        rows = j - start + 1
        if j > start and (rows > max_rows or rows * n > max_tokens):
            batches.append(range(start, j))
            start = j
    if lengths:
        batches.append(range(start, len(lengths)))
    return batches


def test_model_batches_do_not_pad_short_texts_up_to_long_ones() -> None:
    """Five short texts and ten long ones: filling the first batch to its limit puts the short ones
    with five long ones (each padded to 200 tokens); the cut keeps them apart."""
    from app.models.onnx_embedding import cut_batches

    lengths = [20] * 5 + [200] * 10
    assert _filled(lengths, 32, 2048) == [range(0, 10), range(10, 15)]
    assert cut_batches(lengths, 32, 2048) == [range(0, 5), range(5, 15)]
    assert _cost(lengths, cut_batches(lengths, 32, 2048)) < _cost(lengths, _filled(lengths, 32, 2048))


@given(
    lengths=st.lists(st.integers(1, 300), max_size=80).map(sorted),
    max_rows=st.integers(1, 40),
    max_tokens=st.integers(1, 4096),
)
def test_model_batches_cover_every_text_within_the_limits_and_never_cost_more(
    lengths: list[int], max_rows: int, max_tokens: int
) -> None:
    from app.models.onnx_embedding import cut_batches

    batches = cut_batches(lengths, max_rows, max_tokens)
    assert [i for b in batches for i in b] == list(range(len(lengths)))  # each text once, in order
    for b in batches:
        assert 1 <= len(b) <= max_rows
        assert len(b) == 1 or len(b) * lengths[b[-1]] <= max_tokens  # a text over the limit goes alone
    assert _cost(lengths, batches) <= _cost(lengths, _filled(lengths, max_rows, max_tokens))
