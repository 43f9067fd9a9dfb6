"""Serialised host work: the one lock an interpreter or runtime puts around every thread's host calls."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator

from tracekit.simulate.machine import Host


class HostLock:
    """The host lock of `Host.shared_lock`: one thread runs host work at a time.

    The holder keeps the lock across consecutive calls until it blocks on the device, ends, or has
    held it for `Host.lock_quantum_ns` while others wait (an interpreter's switch interval); the
    lock then passes to the longest-waiting thread. Without a shared lock every thread runs at once.
    """

    def __init__(self, host: Host, hold: Callable[[Generator, int, int], None]) -> None:
        self._shared, self._quantum, self._hold = host.shared_lock, host.lock_quantum_ns, hold
        self._owner: Generator | None = None
        self._since = 0
        self._waiting: deque[tuple[Generator, int]] = deque()

    def enter(self, thread: Generator, duration: int, now: int) -> int | None:
        """Start time of the hold, or None when the thread must wait (it is started later)."""
        if not self._shared:
            return now
        if self._owner is None:
            self._owner, self._since = thread, now
            return now
        if self._owner is thread:
            if not self._waiting or now - self._since < self._quantum:
                return now
            self._waiting.append((thread, duration))
            self._pass(now)
            return None
        self._waiting.append((thread, duration))
        return None

    def leave(self, thread: Generator, now: int) -> None:
        """The thread blocks or ends: pass the lock on if it held it."""
        if self._owner is thread:
            self._pass(now)

    def _pass(self, now: int) -> None:
        if not self._waiting:
            self._owner = None
            return
        thread, duration = self._waiting.popleft()
        self._owner, self._since = thread, now
        self._hold(thread, now, duration)
