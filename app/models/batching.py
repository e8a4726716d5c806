"""Calls made at the same moment by different threads, served together by one batched call.

Fifty people asking at once means fifty question embeddings at once. Run one by one on a CPU, each
pays a whole model call, and run side by side each starts its own set of torch threads on the same
few cores. Coalesced, the questions that arrived while the model was busy are embedded in one
batch, by one thread at a time: a batch of 16 short questions costs about what 2 or 3 single ones
do. No thread of our own: the first caller does the work for everyone waiting (leader/followers),
and a leader hands over after one batch so no caller waits for more than the batch in progress and
its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _Call(Generic[T, R]):
    __slots__ = ("done", "error", "item", "lead", "result")

    def __init__(self, item: T) -> None:
        self.item = item
        self.result: R | None = None
        self.error: BaseException | None = None
        self.done = False
        self.lead = False


class Coalescer(Generic[T, R]):
    """`run(item)` returns `run_many([..., item, ...])[i]`, batching concurrent callers (at most
    `max_batch` items per call). An exception of `run_many` is raised in every caller of that batch."""

    def __init__(self, run_many: Callable[[Sequence[T]], Sequence[R]], max_batch: int = 32) -> None:
        self._run_many = run_many
        self._max = max_batch
        self._cond = threading.Condition()
        self._pending: list[_Call[T, R]] = []
        self._busy = False
        self.batches = 0  # calls of run_many so far (for tests and metrics)

    def run(self, item: T) -> R:
        call: _Call[T, R] = _Call(item)
        with self._cond:
            self._pending.append(call)
            if self._busy:
                while not call.done and not call.lead:
                    self._cond.wait()
            else:
                self._busy = True
                call.lead = True
        if not call.done:
            self._lead()
        if call.error is not None:
            raise call.error
        return call.result  # type: ignore[return-value]

    def _lead(self) -> None:
        with self._cond:
            batch, self._pending = self._pending[: self._max], self._pending[self._max :]
        try:
            results = self._run_many([c.item for c in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"batched call returned {len(results)} results for {len(batch)} items")
        except BaseException as e:  # every caller of this batch gets the error
            for c in batch:
                c.error = e
        else:
            for c, r in zip(batch, results, strict=True):
                c.result = r
        with self._cond:
            self.batches += 1
            for c in batch:
                c.done = True
            if self._pending:
                self._pending[0].lead = True  # the next waiting caller runs the next batch
            else:
                self._busy = False
            self._cond.notify_all()
