"""Helpers for testing automations built on knobflow (and for knobflow's own tests).

    from knobflow.testing import KnobScript

    script = KnobScript("desk_knob")
    script.press(at=1.0).turn([12, 36, 60], start=2.0)
    gestures = script.run()              # list of dicts, timers included

Everything runs on a virtual clock: no sleeping, no broker.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knobflow.engine import Engine, EngineConfig
from knobflow.replay import BadRecord, Record, read_records, replay

__all__ = ["KnobScript", "gestures_differ", "replay_file", "replay_records", "same_value"]

TOLERANCE = 1e-6


def replay_records(
    records: Iterable[Record | BadRecord], config: EngineConfig | None = None
) -> list[dict[str, Any]]:
    """Gestures (as dicts) of replaying ``records``, timers run to the end."""
    out: list[dict[str, Any]] = []
    replay(Engine(config), records, lambda g: out.append(g.to_dict()), lambda bad: None)
    return out


def replay_file(path: str | Path, config: EngineConfig | None = None) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as stream:
        return replay_records(read_records(stream), config)


def same_value(a: Any, b: Any) -> bool:
    """Numbers within 1e-6 (relative to their size); booleans are not numbers."""
    a_num = isinstance(a, int | float) and not isinstance(a, bool)
    b_num = isinstance(b, int | float) and not isinstance(b, bool)
    if a_num and b_num:
        close: bool = abs(a - b) <= TOLERANCE * max(1.0, abs(a), abs(b))
        return close
    if a_num or b_num or type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    equal: bool = a == b
    return equal


def gestures_differ(
    expected: Sequence[dict[str, Any]], actual: Sequence[dict[str, Any]]
) -> str | None:
    """``None`` when the streams match (same order, same fields, numbers within 1e-6),
    else a description of the first difference."""
    for index, (e, a) in enumerate(zip(expected, actual, strict=False)):
        if not same_value(e, a):
            return f"gesture #{index + 1}: expected {json.dumps(e)}, got {json.dumps(a)}"
    if len(expected) != len(actual):
        longer = expected if len(expected) > len(actual) else actual
        extra = longer[min(len(expected), len(actual))]
        which = "missing" if len(expected) > len(actual) else "unexpected"
        return (
            f"{len(expected)} gestures expected, {len(actual)} produced; first {which}: "
            f"{json.dumps(extra)}"
        )
    return None


@dataclass
class KnobScript:
    """A knob's messages, written as Zigbee2MQTT 2.x would publish them.

    Each method adds messages at the given time (seconds) and returns the
    script, so calls chain. ``run()`` replays them.
    """

    knob: str = "knob"
    base_topic: str = "zigbee2mqtt"
    records: list[Record] = field(default_factory=list)

    def message(
        self, at: float, payload: Any, *, retain: bool = False, topic: str | None = None
    ) -> KnobScript:
        self.records.append(Record(at, topic or f"{self.base_topic}/{self.knob}", payload, retain))
        return self

    def press(self, at: float) -> KnobScript:
        return self.message(at, {"action": "single"})

    def double(self, at: float) -> KnobScript:
        return self.message(at, {"action": "double"})

    def hold(self, at: float) -> KnobScript:
        return self.message(at, {"action": "hold"})

    def release(self, at: float) -> KnobScript:
        return self.message(at, {"action": "release"})

    def frame(
        self,
        at: float,
        action: str | None,
        angle: float | None = None,
        time: float | None = None,
        *,
        pressed: bool | None = None,
        percent: float | None = None,
    ) -> KnobScript:
        payload: dict[str, Any] = {}
        if action is not None:
            payload["action"] = action
        if angle is not None:
            payload["action_rotation_angle"] = angle
        if time is not None:
            payload["action_rotation_time"] = time
        if percent is not None:
            payload["action_rotation_percent"] = percent
        if pressed is not None:
            payload["action_rotation_button_state"] = "pressed" if pressed else "released"
        return self.message(at, payload)

    def turn(
        self,
        angles: Sequence[float],
        *,
        start: float,
        every: float = 0.5,
        pressed: bool | None = False,
        stop: bool = True,
    ) -> KnobScript:
        """A turn as the device reports it: ``start_rotating`` with the first
        cumulative angle, ``rotation`` frames, then ``stop_rotating`` repeating
        the last angle (``stop=False``: the stop is lost)."""
        for index, angle in enumerate(angles):
            action = "start_rotating" if index == 0 else "rotation"
            self.frame(start + index * every, action, angle, 200 + 500 * index, pressed=pressed)
        if stop:
            n = len(angles)
            self.frame(
                start + n * every, "stop_rotating", angles[-1], 200 + 500 * n, pressed=pressed
            )
        return self

    def run(self, config: EngineConfig | None = None) -> list[dict[str, Any]]:
        """The gestures of every message so far, timers run to the end."""
        config = config or EngineConfig(explicit=(self.knob,), base_topic=self.base_topic)
        ordered = sorted(self.records, key=lambda r: r.t)
        return replay_records(ordered, config)
