"""Bounded hand-offs between threads, so reading, embedding and storing overlap.

Ingestion reads and chunks pages in one thread, embeds in the caller's thread and stores in a third:
the model (which releases the GIL while it computes) is kept busy while the next pages are chunked and
the previous vectors are written. Every queue holds at most `depth` items, so memory stays bounded
whatever the length of the document, and an error on any side stops the others and reaches the caller.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
_DONE = object()


class Prefetch(Generic[T]):
    """Iterate `items` in a background thread, at most `depth` items ahead of the consumer.
    Use as a context manager: leaving it early stops the producer."""

    def __init__(self, items: Iterator[T], depth: int = 2, name: str = "prefetch") -> None:
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(items,), name=name, daemon=True)
        self._thread.start()

    def _run(self, items: Iterator[T]) -> None:
        try:
            for item in items:
                if not self._offer(item):
                    return
        except BaseException as e:  # handed to the consumer, raised there
            self._error = e
        self._offer(_DONE)

    def _offer(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            if item is _DONE:
                if self._error is not None:
                    raise self._error
                return
            yield item  # type: ignore[misc]

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> Prefetch[T]:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class Background(Generic[T]):
    """Call `work(item)` for each item `put`, in order, in one background thread, with at most
    `depth` items waiting. `finish()` waits for all of them and raises the first error; `abort()`
    drops what is waiting and returns once the thread has stopped (nothing is written after it)."""

    def __init__(self, work: Callable[[T], None], depth: int = 2, name: str = "background") -> None:
        self._work = work
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._abort = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if self._error is not None or self._abort.is_set():
                continue  # drain without working
            try:
                self._work(item)  # type: ignore[arg-type]
            except BaseException as e:
                self._error = e

    def put(self, item: T) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(item)

    def finish(self) -> None:
        self._queue.put(_DONE)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        self._abort.set()
        self._queue.put(_DONE)
        self._thread.join()
