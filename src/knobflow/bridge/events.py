"""What the bridge publishes, in-process: for code running in the bridge's event loop.

    def seen(event: BridgeEvent) -> None:
        if isinstance(event, GesturePublished): ...
        elif isinstance(event, StateChanged): ...

    stop = bridge.router.listen(seen)     # every event from now on; stop() ends it

Listeners are called synchronously, in the bridge's event loop, in the order
the publications enter the outbox (a gesture before the state it changed).
They must not block; an exception in one is logged and counted
(``errors``), and the bridge goes on. The objects are read-only: the
``state`` mapping is the one published, not to be changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from knobflow.engine import Gesture

__all__ = ["BridgeEvent", "GesturePublished", "Listener", "StateChanged"]


@dataclass(frozen=True, slots=True)
class GesturePublished:
    """A gesture, as it goes to ``topic`` (``<out>/<knob>/gesture``)."""

    gesture: Gesture
    topic: str


@dataclass(frozen=True, slots=True)
class StateChanged:
    """A knob's retained state, as it goes to ``topic`` (``<out>/<knob>/state``)."""

    knob: str
    state: Mapping[str, Any]
    topic: str


BridgeEvent = GesturePublished | StateChanged
Listener = Callable[[BridgeEvent], None]
