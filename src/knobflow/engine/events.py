"""Knob events: the device vocabulary after parsing (docs/contract.md §2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["ROTATION_ACTIONS", "Action", "KnobEvent", "Parsed"]


class Action(StrEnum):
    """The ``action`` values of the knob that count."""

    SINGLE = "single"
    DOUBLE = "double"
    HOLD = "hold"
    RELEASE = "release"
    START_ROTATING = "start_rotating"
    ROTATION = "rotation"
    STOP_ROTATING = "stop_rotating"


ROTATION_ACTIONS = frozenset({Action.START_ROTATING, Action.ROTATION, Action.STOP_ROTATING})

Number = int | float


@dataclass(frozen=True, slots=True)
class KnobEvent:
    """One knob event.

    ``action`` is ``None`` for an old-converter pressed rotation frame (a
    message with a numeric ``action_rotation_angle`` and no ``action``).
    ``pressed`` is the frame's ``action_rotation_button_state`` (``None`` when
    not sent). Rotation numbers are the device's, cumulative since the turn
    began, ``None`` when absent.
    """

    action: Action | None
    angle: Number | None = None
    time: Number | None = None
    percent: Number | None = None
    pressed: bool | None = None

    @property
    def is_rotation(self) -> bool:
        return self.action is None or self.action in ROTATION_ACTIONS


@dataclass(frozen=True, slots=True)
class Parsed:
    """What one message on a knob's topic says.

    ``error`` is set (and nothing else) when the message was rejected; else
    ``event`` is the knob event or ``None`` (telemetry, follow-ups, retained),
    and ``telemetry`` the telemetry fields it carried.
    """

    event: KnobEvent | None = None
    telemetry: Mapping[str, Any] | None = None
    error: str | None = None


_new = object.__new__
_set_action, _set_angle, _set_time, _set_percent, _set_pressed = (
    KnobEvent.__dict__[name].__set__ for name in ("action", "angle", "time", "percent", "pressed")
)


def make_event(
    action: Action | None,
    angle: Number | None,
    time: Number | None,
    percent: Number | None,
    pressed: bool | None,
) -> KnobEvent:
    """``KnobEvent(...)`` without the frozen dataclass's slow ``__init__``
    (the parser's hot path)."""
    event: KnobEvent = _new(KnobEvent)
    _set_action(event, action)
    _set_angle(event, angle)
    _set_time(event, time)
    _set_percent(event, percent)
    _set_pressed(event, pressed)
    return event
