"""Virtual dial values: a number in ``[min, max]`` moved by a knob's turns."""

from __future__ import annotations

from knobflow.engine.settings import DialSettings

__all__ = ["DialValue"]


class DialValue:
    """One family's dial of one knob."""

    __slots__ = ("_gain", "_settings", "value")

    def __init__(self, settings: DialSettings) -> None:
        self._settings = settings
        self._gain = settings.degrees_gain
        self.value = settings.start

    def set(self, value: float) -> None:
        self.value = min(self._settings.max, max(self._settings.min, value))

    def move(self, delta: float, velocity: float) -> float:
        """Move by a step of ``delta`` degrees at ``velocity`` °/s; return the new value."""
        factor = 1.0 + self._settings.acceleration * abs(velocity) / 360.0
        self.set(round(self.value + delta * self._gain * factor, 6))
        return self.value
