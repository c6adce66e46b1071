"""A simulated Aqara knob H1 as Zigbee2MQTT 2.x publishes it.

Payloads are the converter's output merged with Zigbee2MQTT's cached state
(``battery``, ``linkquality``, ``operation_mode``, ``voltage``), keys sorted,
compact JSON, float32 artefacts in the percent fields
(``3.3333332538604736``), the ``*_speed`` fields stale on ``stop_rotating`` —
the shape of the shared scenarios. Used by ``knobflow demo``, the tests and
the benchmarks::

    knob = SimulatedKnob("desk_knob")
    steps = knob.press(at=0.5) + knob.turn([12, 24, 24], at=1.0)
    for step in steps:                     # at: seconds from the start
        publish(step.topic, step.payload, retain=step.retain)
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from knobflow.engine.devices import KNOB_MODEL
from knobflow.replay import Record

__all__ = [
    "DEMO_COMPOSITES",
    "SENSITIVITY_DEGREES",
    "SimulatedKnob",
    "Step",
    "bridge_devices",
    "demo_session",
    "devices_step",
    "encode",
    "float32",
]

REPORT_INTERVAL = 0.5  # seconds between rotation reports while turning
SENSITIVITY_DEGREES = {"low": 720, "medium": 360, "high": 180}  # degrees for 100 %


def float32(value: float) -> float:
    """``value`` as the device's float32, read back as a double (``3.3333332538604736``)."""
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def _number(value: float) -> int | float:
    """Integral numbers as JSON integers, as JavaScript prints them."""
    return int(value) if float(value).is_integer() else value


def encode(payload: Any) -> str:
    """Compact JSON with sorted keys, as Zigbee2MQTT publishes."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Step:
    """One message of a session: ``at`` seconds from its start; ``label`` narrates it."""

    at: float
    topic: str
    payload: str
    retain: bool = False
    label: str | None = None

    def record(self, offset: float = 0.0) -> Record:
        """The step as a replay record (the payload as raw MQTT text)."""
        return Record(round(offset + self.at, 6), self.topic, self.payload, self.retain)


@dataclass
class SimulatedKnob:
    """One knob: its name, address and the cached state Zigbee2MQTT merges into messages."""

    name: str = "demo_knob"
    ieee: str = "0x54ef4410000a1b2c"
    base_topic: str = "zigbee2mqtt"
    battery: int = 90
    voltage: int = 2985
    operation_mode: str = "event"
    sensitivity: str = "medium"
    _link: int = field(default=172, repr=False)

    @property
    def topic(self) -> str:
        return f"{self.base_topic}/{self.name}"

    def _linkquality(self) -> int:
        value = self._link
        self._link = value + 53 if value + 53 <= 255 else value - 97
        return value

    def message(self, **fields: Any) -> str:
        """A Zigbee2MQTT message of this knob: ``fields`` plus the cached state, keys sorted."""
        payload = {
            "battery": self.battery,
            "linkquality": self._linkquality(),
            "operation_mode": self.operation_mode,
            "voltage": self.voltage,
        }
        payload.update(fields)
        return encode(payload)

    def _step(self, at: float, label: str | None = None, **fields: Any) -> Step:
        return Step(round(at, 6), self.topic, self.message(**fields), label=label)

    # -- the button -------------------------------------------------------------------

    def press(self, at: float, label: str | None = None) -> list[Step]:
        return [self._step(at, label, action="single")]

    def double_press(self, at: float, label: str | None = None) -> list[Step]:
        return [self._step(at, label, action="double")]

    def hold(self, at: float, label: str | None = None) -> list[Step]:
        return [self._step(at, label, action="hold")]

    def release(self, at: float, label: str | None = None) -> list[Step]:
        return [self._step(at, label, action="release")]

    # -- the dial ---------------------------------------------------------------------

    def turn(
        self,
        steps: Sequence[float],
        at: float,
        *,
        pressed: bool = False,
        interval: float = REPORT_INTERVAL,
        label: str | None = None,
    ) -> list[Step]:
        """A turn: ``steps`` are the degrees moved between reports (multiples of 12).

        The first report is ``start_rotating`` (about 200 ms into the movement,
        already with its angle), then ``rotation`` every ``interval`` seconds,
        then ``stop_rotating`` one interval later with the last values repeated.
        """
        if not steps:
            raise ValueError("a turn needs at least one step")
        degrees = SENSITIVITY_DEGREES[self.sensitivity]
        out: list[Step] = []
        angle = 0.0
        percent = 0.0
        angle_speed: float = 0
        percent_speed: float = 0
        time_ms = 200
        for index, step in enumerate(steps):
            angle += step
            new_percent = float32(max(-100.0, min(100.0, angle / degrees * 100)))
            angle_speed, percent_speed = step, float32(new_percent - percent)
            percent = new_percent
            action = "start_rotating" if index == 0 else "rotation"
            out.append(
                self._rotation(
                    at + index * interval,
                    action,
                    angle,
                    angle_speed,
                    percent,
                    percent_speed,
                    time_ms,
                    pressed,
                    label if index == 0 else None,
                )
            )
            time_ms += round(interval * 1000)
        out.append(
            self._rotation(
                at + len(steps) * interval,
                "stop_rotating",
                angle,
                angle_speed,
                percent,
                percent_speed,
                time_ms,
                pressed,
                None,
            )
        )
        return out

    def _rotation(
        self,
        at: float,
        action: str,
        angle: float,
        angle_speed: float,
        percent: float,
        percent_speed: float,
        time_ms: int,
        pressed: bool,
        label: str | None,
    ) -> Step:
        return self._step(
            at,
            label,
            action=action,
            action_rotation_angle=_number(angle),
            action_rotation_angle_speed=_number(angle_speed),
            action_rotation_button_state="pressed" if pressed else "released",
            action_rotation_percent=_number(percent),
            action_rotation_percent_speed=_number(percent_speed),
            action_rotation_time=time_ms,
        )


def bridge_devices(knobs: Iterable[SimulatedKnob]) -> str:
    """The retained ``bridge/devices`` payload: a coordinator, the knobs and a light."""
    devices: list[dict[str, Any]] = [
        {
            "definition": None,
            "disabled": False,
            "friendly_name": "Coordinator",
            "ieee_address": "0x00124b0029c1d2e3",
            "interview_completed": True,
            "interviewing": False,
            "network_address": 0,
            "supported": True,
            "type": "Coordinator",
        }
    ]
    for number, knob in enumerate(knobs):
        devices.append(
            {
                "definition": {
                    "description": "Smart rotary knob H1 (wireless)",
                    "model": KNOB_MODEL,
                    "supports_ota": False,
                    "vendor": "Aqara",
                },
                "disabled": False,
                "friendly_name": knob.name,
                "ieee_address": knob.ieee,
                "interview_completed": True,
                "interviewing": False,
                "manufacturer": "LUMI",
                "model_id": "lumi.remote.rkba01",
                "network_address": 6699 + number,
                "power_source": "Battery",
                "supported": True,
                "type": "EndDevice",
            }
        )
    devices.append(
        {
            "definition": {
                "description": "TRADFRI bulb E26/E27, white spectrum, globe, opal, 980 lm",
                "model": "LED1545G12",
                "supports_ota": True,
                "vendor": "IKEA",
            },
            "disabled": False,
            "friendly_name": "kitchen_light",
            "ieee_address": "0x000b57fffe8a1c22",
            "interview_completed": True,
            "interviewing": False,
            "manufacturer": "IKEA of Sweden",
            "model_id": "TRADFRI bulb E27 WS globe 980lm",
            "network_address": 23552,
            "power_source": "Mains (single phase)",
            "supported": True,
            "type": "Router",
        }
    )
    return encode(devices)


def devices_step(knobs: Iterable[SimulatedKnob], base_topic: str = "zigbee2mqtt") -> Step:
    """``bridge/devices`` as a retained step at time 0."""
    return Step(0.0, f"{base_topic}/bridge/devices", bridge_devices(knobs), retain=True)


# The composite the demo shows (as a config mapping, docs/contract.md §4)
DEMO_COMPOSITES = {
    "double_then_turn": {"sequence": ["double_press", "rotate_start"], "max_gap_ms": 1500}
}


def demo_session(knob: SimulatedKnob) -> list[Step]:
    """About 15 s of a person playing with the knob: every kind of gesture once.

    press · double press then a turn (the demo's composite) · a turn back ·
    hold and turn while held · a fast spin · a long press.
    """
    k = knob
    return [
        *k.press(0.3, "press"),
        *k.double_press(1.3, "double press, then turn clockwise at once"),
        *k.turn([12, 24, 24, 24], 2.2, label=None),
        *k.turn([-12, -24, -36], 5.0, label="turn back, counter-clockwise"),
        *k.hold(7.4, "press and hold, turn while held, let go"),
        *k.turn([12, 24, 24], 7.9, pressed=True),
        *k.release(10.0),
        *k.turn([36, 96, 216, 240], 10.8, label="spin fast"),
        *k.hold(13.6, "long press"),
        *k.release(15.0),
    ]
