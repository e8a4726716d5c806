"""A lease kept alive from a thread while long work runs (an ingestion job's, a document's): a page
can take longer to read than the lease lasts, so the work itself cannot be the one to renew it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from loguru import logger


@contextmanager
def renewing(every_s: float, renew: Callable[[], None], what: str) -> Iterator[None]:
    """Call `renew` every `every_s` seconds until the block ends. A failed renewal (the database
    away for a moment) is logged and the next one tried: the lease expires only if they all fail."""
    done = threading.Event()

    def loop() -> None:
        while not done.wait(every_s):
            try:
                renew()
            except Exception:
                logger.warning("could not renew the lease of {}", what)

    threading.Thread(target=loop, name="lease", daemon=True).start()
    try:
        yield
    finally:
        done.set()
