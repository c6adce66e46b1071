"""When the retained ``<out>/<knob>/state`` is published again.

A state is published when something its readers use changed: lifecycle
states, dial values, mode, settings, battery, voltage, operation mode. Link
quality changes with nearly every message a knob sends; a change of link
quality alone is published at most once per :data:`LINKQUALITY_EVERY`: the
newest value waits for that deadline (which the bridge's one timer keeps),
or goes out earlier with the next change that counts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["LINKQUALITY_EVERY", "KnobStates"]

LINKQUALITY_EVERY = 60.0  # seconds between states that differ only in link quality
_LINKQUALITY = "linkquality"


def _without_linkquality(state: dict[str, Any]) -> dict[str, Any]:
    """The state as its readers use it: without link quality (at the top or in telemetry)."""
    rest = dict(state)
    rest.pop(_LINKQUALITY, None)
    telemetry = rest.get("telemetry")
    if isinstance(telemetry, dict) and _LINKQUALITY in telemetry:
        rest["telemetry"] = {k: v for k, v in telemetry.items() if k != _LINKQUALITY}
    return rest


class KnobStates:
    """The last state published per knob, and the states held back.

    ``read(name)`` is the engine's state of a knob (``None``: not a knob);
    ``publish(name, state)`` sends one.
    """

    def __init__(
        self,
        read: Callable[[str], dict[str, Any] | None],
        publish: Callable[[str, dict[str, Any]], None],
        every: float = LINKQUALITY_EVERY,
    ) -> None:
        self._read = read
        self._publish = publish
        self._every = every
        self._last: dict[str, dict[str, Any]] = {}  # published
        self._when: dict[str, float] = {}  # when each was published
        self._held: dict[str, float] = {}  # knob -> when its held-back state is due

    def update(self, name: str, now: float, *, force: bool = False) -> None:
        """The knob's state may have changed at ``now``: publish it when that counts."""
        state = self._read(name)
        if state is None:  # not a knob (or not seen yet): nothing kept
            return
        last = self._last.get(name)
        if not force and last is not None:
            if state == last:
                self._held.pop(name, None)
                return
            if _without_linkquality(state) == _without_linkquality(last):
                due = self._when[name] + self._every
                if now < due:
                    self._held[name] = due
                    return
        self._send(name, state, now)

    def tick(self, now: float) -> None:
        """Publish the held-back states that are due."""
        for name in [n for n, due in self._held.items() if due <= now]:
            self.update(name, now, force=True)

    def next_deadline(self) -> float | None:
        """When a held-back state is due, or ``None``."""
        return min(self._held.values(), default=None)

    def forget(self, name: str) -> None:
        """The knob is gone."""
        self._last.pop(name, None)
        self._when.pop(name, None)
        self._held.pop(name, None)

    def _send(self, name: str, state: dict[str, Any], now: float) -> None:
        self._held.pop(name, None)
        # a copy: nested mappings (telemetry, settings) may be the engine's own
        self._last[name] = {k: dict(v) if isinstance(v, dict) else v for k, v in state.items()}
        self._when[name] = now
        self._publish(name, state)
