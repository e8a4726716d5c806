"""Login throttling per username and per client address.

After `max_failures` consecutive failures a key is cooling down for `lockout_s`: every attempt is
refused unchecked (and counted), so after `hard_lock_failures` failures in a row even the right
password waits until the cool-down has passed. A success resets the user's and the address's count.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _State:
    failures: int = 0
    last: float = 0.0


class LoginThrottle:
    def __init__(
        self,
        max_failures: int,
        lockout_s: float,
        hard_lock_failures: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max = max_failures
        self._lockout = lockout_s
        self._hard = hard_lock_failures
        self._clock = clock
        self._states: dict[str, _State] = {}
        self._lock = threading.Lock()

    def _keys(self, username: str, address: str | None) -> list[str]:
        return [f"user:{username.lower()}"] + ([f"addr:{address}"] if address else [])

    def blocked(self, username: str, address: str | None) -> bool:
        now = self._clock()
        with self._lock:
            for key in self._keys(username, address):
                state = self._states.get(key)
                if state and state.failures >= self._max and now - state.last < self._cooldown(state):
                    return True
        return False

    def _cooldown(self, state: _State) -> float:
        # A long run of failures (hard lock) doubles the cool-down.
        return self._lockout * (2 if state.failures >= self._hard else 1)

    def failure(self, username: str, address: str | None) -> None:
        now = self._clock()
        with self._lock:
            for key in self._keys(username, address):
                state = self._states.setdefault(key, _State())
                state.failures += 1
                state.last = now
            if len(self._states) > 100_000:  # bound memory under a spray of random names
                cutoff = now - 2 * self._lockout
                self._states = {k: s for k, s in self._states.items() if s.last >= cutoff}

    def success(self, username: str, address: str | None) -> None:
        with self._lock:
            for key in self._keys(username, address):
                self._states.pop(key, None)
