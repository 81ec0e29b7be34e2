"""Failed staff logins per client address: after ``LIMIT`` failures within ``WINDOW`` seconds, refuse for a while.

Per process and in memory (a restart forgets): enough to make guessing an admin token over the login form
pointless, which is what it is for. Tokens themselves are 32 random bytes; guessing is hopeless anyway.
"""

from __future__ import annotations

import threading
import time
from collections import deque

LIMIT = 5
WINDOW = 15 * 60
MAX_ADDRESSES = 10000  # bound the memory a flood of addresses can take


class FailedLogins:
    def __init__(self, limit: int = LIMIT, window: float = WINDOW) -> None:
        self.limit, self.window = limit, window
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        times = self._seen.get(address, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def blocked(self, address: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            return len(self._recent(address, now)) >= self.limit

    def failed(self, address: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            if address not in self._seen and len(self._seen) >= MAX_ADDRESSES:
                self._seen.pop(next(iter(self._seen)))  # the oldest address goes first
            times = self._recent(address, now)
            times.append(now)
            self._seen[address] = times


__all__ = ["FailedLogins"]
