"""Gestures: what knobflow emits (docs/contract.md §3)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "BUILTIN_GESTURES",
    "COMPOSITE_FIELDS",
    "DESCRIPTIONS",
    "FIELDS",
    "Gesture",
    "GestureName",
]


class GestureName(StrEnum):
    """The built-in gesture names. Composites add names of their own."""

    PRESS = "press"
    DOUBLE_PRESS = "double_press"
    HOLD = "hold"
    RELEASE = "release"
    LONG_PRESS = "long_press"
    ROTATE_START = "rotate_start"
    ROTATE_CW = "rotate_cw"
    ROTATE_CCW = "rotate_ccw"
    ROTATE_STOP = "rotate_stop"
    ROTATE_WHILE_HELD_START = "rotate_while_held_start"
    ROTATE_WHILE_HELD_CW = "rotate_while_held_cw"
    ROTATE_WHILE_HELD_CCW = "rotate_while_held_ccw"
    ROTATE_WHILE_HELD_STOP = "rotate_while_held_stop"
    FAST_SPIN_CW = "fast_spin_cw"
    FAST_SPIN_CCW = "fast_spin_ccw"


BUILTIN_GESTURES: tuple[str, ...] = tuple(g.value for g in GestureName)

# What each gesture is for, in people's words: the README's table, discovery and the CLI use it.
DESCRIPTIONS: Mapping[str, str] = {
    "press": "short press (device `single`)",
    "double_press": "double press (device `double`)",
    "hold": "button held down, at once",
    "release": "held button let go, or hold timeout",
    "long_press": "at release, when no turn happened while held",
    "rotate_start": "a turn begins (button released)",
    "rotate_cw": "a clockwise step of a turn",
    "rotate_ccw": "a counter-clockwise step of a turn",
    "rotate_stop": "a turn ends",
    "rotate_while_held_start": "a turn while pressed begins",
    "rotate_while_held_cw": "a clockwise step while pressed",
    "rotate_while_held_ccw": "a counter-clockwise step while pressed",
    "rotate_while_held_stop": "a turn while pressed ends",
    "fast_spin_cw": "a fast clockwise step (once per turn)",
    "fast_spin_ccw": "a fast counter-clockwise step (once per turn)",
}


_STEP = ("delta", "angle", "velocity", "direction", "percent", "value")
_START = ("direction", "angle")
_STOP = ("angle", "duration_ms", "direction", "reason")
_SPIN = ("velocity", "angle", "held")

# The extra fields of each gesture, in output order (`percent` only when the device sent it,
# `value` only when a dial is configured).
FIELDS: Mapping[str, tuple[str, ...]] = {
    "press": (),
    "double_press": (),
    "hold": (),
    "release": ("held_ms", "rotated", "reason"),
    "long_press": ("held_ms",),
    "rotate_start": _START,
    "rotate_cw": _STEP,
    "rotate_ccw": _STEP,
    "rotate_stop": _STOP,
    "rotate_while_held_start": _START,
    "rotate_while_held_cw": _STEP,
    "rotate_while_held_ccw": _STEP,
    "rotate_while_held_stop": _STOP,
    "fast_spin_cw": _SPIN,
    "fast_spin_ccw": _SPIN,
}
COMPOSITE_FIELDS = ("parts", "duration_ms")


@dataclass(frozen=True, slots=True)
class Gesture:
    """One gesture of one knob.

    ``knob``, ``gesture`` and ``t`` are always there; ``fields`` holds the
    gesture's extra fields (``delta``, ``angle``, ``reason``, ...) in the order
    docs/contract.md §3 lists them. Treat ``fields`` as read-only.
    """

    knob: str
    gesture: str
    t: float
    fields: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The gesture as the JSON object of docs/contract.md §3."""
        out: dict[str, Any] = {"knob": self.knob, "gesture": str(self.gesture), "t": self.t}
        out.update(self.fields)
        return out

    def __getitem__(self, key: str) -> Any:
        if key == "knob":
            return self.knob
        if key == "gesture":
            return self.gesture
        if key == "t":
            return self.t
        return self.fields[key]

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __iter__(self) -> Iterator[str]:
        yield "knob"
        yield "gesture"
        yield "t"
        yield from self.fields


_new = object.__new__
_set_knob, _set_gesture, _set_t, _set_fields = (
    Gesture.__dict__[name].__set__ for name in ("knob", "gesture", "t", "fields")
)


def make_gesture(knob: str, gesture: str, t: float, fields: Mapping[str, Any]) -> Gesture:
    """``Gesture(knob, gesture, t, fields)`` without the frozen dataclass's slow ``__init__``
    (it sets each field through ``object.__setattr__``); the engine makes one per step."""
    made: Gesture = _new(Gesture)
    _set_knob(made, knob)
    _set_gesture(made, gesture)
    _set_t(made, t)
    _set_fields(made, fields)
    return made
