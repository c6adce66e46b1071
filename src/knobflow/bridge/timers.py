"""The bridge's clock and the engine's one deadline timer.

The engine keeps its own timers as data and reports its next deadline; the
bridge keeps exactly one asyncio timer at that deadline, moved after every
message and every tick. No polling: nothing runs while no rotation or hold is
open. The timer lives outside the broker connection, so open rotations and
holds are closed on time while the broker is away.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

__all__ = ["Clock", "DeadlineTimer"]


class Clock:
    """Seconds since the epoch, read from a monotonic clock anchored once at start.

    Gesture times look like wall-clock times (``t`` in a gesture is Unix time)
    but never jump when the system clock is set.
    """

    __slots__ = ("_mono0", "_wall0")

    def __init__(self) -> None:
        self._wall0 = time.time()
        self._mono0 = time.monotonic()

    def now(self) -> float:
        return self._wall0 + (time.monotonic() - self._mono0)


class DeadlineTimer:
    """One ``loop.call_later`` handle, kept at the engine's next deadline.

    ``fire(now)`` is called at the deadline with a time no earlier than it
    (an event loop may wake a hair early). A deadline that moves later keeps
    the handle it has (a rotation frame pushes the rotation timeout on every
    message); when that handle comes up early it is moved to the deadline.
    """

    __slots__ = ("_armed", "_clock", "_deadline", "_fire", "_handle")

    def __init__(self, clock: Clock, fire: Callable[[float], None]) -> None:
        self._clock = clock
        self._fire = fire
        self._deadline: float | None = None
        self._armed: float | None = None  # when the handle runs (never after the deadline)
        self._handle: asyncio.TimerHandle | None = None

    @property
    def deadline(self) -> float | None:
        return self._deadline

    def arm(self, deadline: float | None) -> None:
        """Fire at ``deadline`` (engine seconds); ``None`` disarms."""
        if deadline == self._deadline:
            return
        if deadline is None:
            self.cancel()
            return
        self._deadline = deadline
        armed = self._armed
        if armed is not None and armed <= deadline:
            return  # the handle comes up first and moves on to the deadline
        self._schedule(deadline)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle = None
        self._deadline = None
        self._armed = None

    def _schedule(self, at: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._armed = at
        delay = max(0.0, at - self._clock.now())
        self._handle = asyncio.get_running_loop().call_later(delay, self._run)

    def _run(self) -> None:
        deadline, armed = self._deadline, self._armed
        self._handle = None
        self._armed = None
        if deadline is not None and armed is not None and deadline > armed:
            self._schedule(deadline)  # the deadline moved later meanwhile
            return
        self._deadline = None
        now = self._clock.now()
        self._fire(now if deadline is None else max(now, deadline))
