"""Deadlines on the engine's clock, in integer microseconds.

Times that agree to within a microsecond are equal (docs/contract.md §3, rule 8), so
the engine turns every time into whole microseconds once, on entry.
"""

from __future__ import annotations

import heapq
from enum import IntEnum
from typing import Protocol

__all__ = ["TimerKind", "TimerQueue", "from_us", "to_us"]


def to_us(seconds: float) -> int:
    """Seconds (float) to whole microseconds."""
    return round(seconds * 1_000_000)


def from_us(us: int) -> float:
    """Whole microseconds to seconds, rounded to 6 decimals."""
    return us / 1_000_000


class TimerKind(IntEnum):
    """What a deadline ends; simultaneous deadlines of one knob fire in this order."""

    ROTATION = 0
    HOLD = 1
    SETTLE = 2


_KINDS = tuple(TimerKind)


class HasDeadlines(Protocol):
    seq: int

    def deadline(self, kind: int) -> int | None: ...


class TimerQueue:
    """A heap of wake-ups ``(deadline, knob order, kind)``.

    An entry is only a reminder: when it comes up, the knob's own deadline for
    that kind decides. A deadline that moved later (a rotation frame pushes
    the rotation timeout) needs no new entry; the old one is moved on when it
    comes up, so feeding frames costs no heap work.
    """

    __slots__ = ("_heap",)

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, int, HasDeadlines]] = []

    @property
    def heap(self) -> list[tuple[int, int, int, HasDeadlines]]:
        """The entries, earliest first at index 0 (read-only: a cheap "anything due?" check)."""
        return self._heap

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, deadline: int, knob: HasDeadlines, kind: TimerKind) -> None:
        heapq.heappush(self._heap, (deadline, knob.seq, kind, knob))

    def _settle_top(self) -> tuple[int, int, int, HasDeadlines] | None:
        """Drop or move on stale entries; return the first live one."""
        heap = self._heap
        while heap:
            entry = heap[0]
            deadline, seq, kind, knob = entry
            actual = knob.deadline(kind)
            if actual == deadline:
                return entry
            if actual is None or actual < deadline:
                heapq.heappop(heap)
            else:  # moved later
                heapq.heapreplace(heap, (actual, seq, kind, knob))
        return None

    def next_deadline(self) -> int | None:
        top = self._settle_top()
        return None if top is None else top[0]

    def pop_due(self, now: int) -> tuple[HasDeadlines, TimerKind, int] | None:
        """The next live deadline at or before ``now``, removed; else ``None``."""
        heap = self._heap
        if not heap or heap[0][0] > now:  # entries are never later than their deadline
            return None
        top = self._settle_top()
        if top is None or top[0] > now:
            return None
        heapq.heappop(self._heap)
        return top[3], _KINDS[top[2]], top[0]
