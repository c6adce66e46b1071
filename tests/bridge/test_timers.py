"""The bridge's one deadline timer."""

from __future__ import annotations

import asyncio

import pytest

from knobflow.bridge.timers import Clock, DeadlineTimer


@pytest.mark.asyncio
async def test_the_timer_fires_once_at_its_deadline_never_before() -> None:
    clock = Clock()
    fired: list[float] = []
    done = asyncio.Event()

    def fire(now: float) -> None:
        fired.append(now)
        done.set()

    timer = DeadlineTimer(clock, fire)
    deadline = clock.now() + 0.05
    timer.arm(deadline + 10)
    timer.arm(deadline)  # moved earlier: only this one fires
    await asyncio.wait_for(done.wait(), 5)
    assert len(fired) == 1 and fired[0] >= deadline
    assert timer.deadline is None


@pytest.mark.asyncio
async def test_disarming_cancels() -> None:
    clock = Clock()
    timer = DeadlineTimer(clock, lambda now: pytest.fail("fired"))
    timer.arm(clock.now())
    timer.arm(None)
    await asyncio.sleep(0)  # one loop turn: a handle due now would run here
    assert timer.deadline is None
