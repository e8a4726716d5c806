"""Models load on first use, once (Lazy), and a failure of theirs is told in one short line."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Lazy(Generic[T]):
    """A value made on first use, once, whichever thread asks first."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make: Callable[[], T] | None = make
        self._value: T | None = None
        self._lock = threading.Lock()

    @classmethod
    def of(cls, value: T) -> Lazy[T]:
        lazy = cls(lambda: value)
        lazy.get()
        return lazy

    @property
    def ready(self) -> bool:
        return self._make is None

    def get(self) -> T:
        with self._lock:
            if self._make is not None:
                self._value = self._make()
                self._make = None
            return self._value  # type: ignore[return-value]


def short_reason(error: Exception) -> str:
    """The first line of an error (its type when it has no message), at most 200 characters."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:200]
