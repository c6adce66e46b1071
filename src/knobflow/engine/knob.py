"""One knob: its button and dial lifecycles and the gestures they make (docs/contract.md §3).

A :class:`Knob` is the model of both shared lifecycle machines
(:mod:`knobflow.engine.lifecycle`). Its state changes go through the machines'
triggers; the numbers of the open rotation (angles, times) live here. All
times are whole microseconds on the engine's clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from knobflow.engine.composites import CompositeMatcher
from knobflow.engine.dial import DialValue
from knobflow.engine.events import Action, KnobEvent
from knobflow.engine.gestures import Gesture, make_gesture
from knobflow.engine.lifecycle import ButtonState, DialState, Lifecycles
from knobflow.engine.settings import KnobSettings
from knobflow.engine.timers import TimerKind, TimerQueue

__all__ = ["Knob"]

log = logging.getLogger("knobflow.engine")

Number = int | float
DEFAULT_STEP_MS = 200  # the device's report interval for a first frame that has no time

# gesture names by family (held?) and step sign
_START = {False: "rotate_start", True: "rotate_while_held_start"}
_STOP = {False: "rotate_stop", True: "rotate_while_held_stop"}
_STEP = {
    (False, True): "rotate_cw",
    (False, False): "rotate_ccw",
    (True, True): "rotate_while_held_cw",
    (True, False): "rotate_while_held_ccw",
}


class Knob:
    """State of one knob. Create through :class:`~knobflow.engine.core.Engine`."""

    __slots__ = (
        "_angle",
        "_arrival",
        "_base",
        "_command_mode_warned",
        "_composites",
        "_count",
        "_dials",
        "_fast",
        "_held",
        "_hold_at",
        "_hold_deadline",
        "_hold_timeout",
        "_last_frame",
        "_lc",
        "_rotated",
        "_rotation_deadline",
        "_rotation_timeout",
        "_settle",
        "_settle_deadline",
        "_spun_ccw",
        "_spun_cw",
        "_start_at",
        "_time",
        "_timers",
        "button",
        "dial",
        "name",
        "retired",
        "seq",
        "settings",
        "telemetry",
    )

    # Set by the lifecycle machines (transitions' model_attribute).
    button: ButtonState
    dial: DialState

    def __init__(
        self,
        name: str,
        seq: int,
        settings: KnobSettings,
        timers: TimerQueue,
        composites: CompositeMatcher | None,
        counters: Callable[[str], None],
        lifecycles: Lifecycles,
    ) -> None:
        self._lc = lifecycles
        self.name = name
        self.seq = seq  # order first seen: simultaneous timers fire in this order
        self.settings = settings
        self._timers = timers
        self._composites = composites
        self._count = counters
        self._rotation_timeout = round(settings.rotation_timeout_ms * 1000)
        self._settle = round(settings.settle_ms * 1000)
        self._hold_timeout = round(settings.hold_timeout_ms * 1000)
        self._fast = settings.fast_spin_dps
        self.retired = False  # left bridge/devices; dropped once idle
        self.telemetry: dict[str, Any] = {}
        self._command_mode_warned = False
        # button
        self._hold_at = 0
        self._rotated = False
        self._hold_deadline: int | None = None
        # dial: the open rotation
        self._held = False
        self._start_at = 0
        self._base: Number = 0  # device angle where this rotation's count begins
        self._angle: Number = 0  # cumulative device angle of the previous frame
        self._time: Number | None = None  # its action_rotation_time
        self._arrival = 0  # its arrival
        self._spun_cw = False
        self._spun_ccw = False
        self._rotation_deadline: int | None = None
        self._settle_deadline: int | None = None
        self._last_frame: tuple[Action | None, Number | None, Number | None] | None = None
        self._dials: dict[bool, DialValue] = {}
        if settings.dial is not None:
            self._dials[False] = DialValue(settings.dial)
        if settings.held_dial is not None:
            self._dials[True] = DialValue(settings.held_dial)

    # -- what the engine asks -------------------------------------------------------

    def deadline(self, kind: int) -> int | None:
        if kind == 0:  # TimerKind.ROTATION
            return self._rotation_deadline
        if kind == 1:  # TimerKind.HOLD
            return self._hold_deadline
        return self._settle_deadline

    @property
    def idle(self) -> bool:
        """Nothing open and no timer pending."""
        return self.button is ButtonState.IDLE and self.dial is DialState.IDLE

    def state(self) -> dict[str, Any]:
        """Lifecycle states, telemetry and dial values (the bridge's state topic)."""
        out: dict[str, Any] = {"button": self.button.value, "dial": self.dial.value}
        out.update(self.telemetry)
        for held, dial in self._dials.items():
            out["held_value" if held else "value"] = dial.value
        return out

    def dial_values(self) -> dict[str, float]:
        return {("held_value" if held else "value"): d.value for held, d in self._dials.items()}

    def restore_dial_values(self, values: dict[str, Any]) -> None:
        """Set dial values kept from an earlier run (clamped; other keys ignored)."""
        for held, dial in self._dials.items():
            value = values.get("held_value" if held else "value")
            if isinstance(value, int | float) and not isinstance(value, bool):
                dial.set(float(value))

    def update_telemetry(self, telemetry: dict[str, Any]) -> None:
        self.telemetry.update(telemetry)
        if telemetry.get("operation_mode") == "command" and not self._command_mode_warned:
            self._command_mode_warned = True
            log.warning(
                "knob %r is in operation_mode 'command': it sends no events to Zigbee2MQTT; "
                'publish {"operation_mode": "event"} to zigbee2mqtt/%s/set and press it '
                "a few times to wake it",
                self.name,
                self.name,
            )

    def handle(self, event: KnobEvent, now: int, out: list[Gesture]) -> None:
        """Apply one knob event at ``now``; append the gestures it makes to ``out``."""
        action = event.action
        if action is Action.SINGLE:
            self._emit(out, "press", now, {})
        elif action is Action.DOUBLE:
            self._emit(out, "double_press", now, {})
        elif action is Action.HOLD:
            self._on_hold(now, out)
        elif action is Action.RELEASE:
            self._on_release(now, out)
        else:
            self._on_frame(event, now, out)

    def fire(self, kind: TimerKind, now: int, out: list[Gesture]) -> None:
        """A deadline of ``kind`` has come at ``now``."""
        if kind is TimerKind.ROTATION:
            self._close(now, "timeout", out)
        elif kind is TimerKind.HOLD:
            self._hold_deadline = None
            self._lc.button_hold_timeout(self)
            held_ms = (now - self._hold_at) / 1000
            self._emit(
                out,
                "release",
                now,
                {"held_ms": held_ms, "rotated": self._rotated, "reason": "timeout"},
            )
        else:
            self._settle_deadline = None
            self._lc.dial_settle(self)

    # -- button -----------------------------------------------------------------

    def _on_hold(self, now: int, out: list[Gesture]) -> None:
        if self.button is ButtonState.HELD:
            self._count("ignored.hold_while_held")
            return
        self._lc.button_hold(self)
        self._hold_at = now
        self._rotated = self.dial is DialState.ROTATING and self._held
        self._hold_deadline = now + self._hold_timeout
        self._timers.push(self._hold_deadline, self, TimerKind.HOLD)
        self._emit(out, "hold", now, {})

    def _on_release(self, now: int, out: list[Gesture]) -> None:
        if self.dial is DialState.ROTATING and self._held:
            self._close(now, "release", out)
        if self.button is not ButtonState.HELD:
            self._count("ignored.release_without_hold")
            return
        self._lc.button_release(self)
        self._hold_deadline = None
        held_ms = (now - self._hold_at) / 1000
        rotated = self._rotated
        self._emit(
            out, "release", now, {"held_ms": held_ms, "rotated": rotated, "reason": "release"}
        )
        if not rotated:
            self._emit(out, "long_press", now, {"held_ms": held_ms})

    # -- dial -------------------------------------------------------------------

    def _on_frame(self, event: KnobEvent, now: int, out: list[Gesture]) -> None:
        action = event.action
        key = (action, event.angle, event.time)
        if key == self._last_frame:
            self._count("duplicate")
            return
        self._last_frame = key
        if event.pressed is not None:
            held = event.pressed
        else:
            held = action is None or self.button is ButtonState.HELD
        rotating = self.dial is DialState.ROTATING

        if action is Action.START_ROTATING:
            if rotating:
                self._close(now, "device", out)
            self._open(event, held, now, out)
        elif action is Action.STOP_ROTATING:
            if rotating:
                if held != self._held:
                    self._change_family(event, held, now, out)
                else:
                    self._step(event, now, out, first=False)
                self._close(now, "device", out)
            elif self._in_settle(now):
                self._count("stray")
            elif (event.angle or 0) != 0:
                self._open(event, held, now, out)
                self._close(now, "device", out)
            else:
                self._count("ignored.lone_stop_without_angle")
        elif rotating:  # rotation, or an old converter's frame
            if held != self._held:
                self._change_family(event, held, now, out)
            else:
                self._step(event, now, out, first=False)
        elif action is not None and self._in_settle(now):
            self._count("stray")
        else:  # a lost start, or an old converter's first frame
            self._open(event, held, now, out)

    def _in_settle(self, now: int) -> bool:
        return self._settle_deadline is not None and now < self._settle_deadline

    def _open(self, event: KnobEvent, held: bool, now: int, out: list[Gesture]) -> None:
        """Open a rotation whose count starts at 0 with this frame as its first."""
        self._begin(held, now, base=0)
        self._angle = 0
        self._emit_start(event.angle if event.angle is not None else 0, now, out)
        self._step(event, now, out, first=True)

    def _change_family(self, event: KnobEvent, held: bool, now: int, out: list[Gesture]) -> None:
        """Close the open rotation (button change) and open the other family with
        this frame, counting from the previous frame (docs/contract.md §3)."""
        self._close(now, "button_change", out)
        self._begin(held, now, base=self._angle)
        angle = event.angle if event.angle is not None else self._angle
        self._emit_start(angle - self._base, now, out)
        self._step(event, now, out, first=False)

    def _begin(self, held: bool, now: int, base: Number) -> None:
        self._lc.dial_open(self)
        self._held = held
        self._start_at = now
        self._base = base
        self._spun_cw = self._spun_ccw = False
        self._settle_deadline = None
        if self._rotation_deadline is None:
            self._rotation_deadline = now + self._rotation_timeout
            self._timers.push(self._rotation_deadline, self, TimerKind.ROTATION)
        if held and self.button is ButtonState.HELD:
            self._rotated = True

    def _emit_start(self, angle: Number, now: int, out: list[Gesture]) -> None:
        self._emit(
            out,
            _START[self._held],
            now,
            {"direction": "cw" if angle >= 0 else "ccw", "angle": angle},
        )

    def _step(self, event: KnobEvent, now: int, out: list[Gesture], first: bool) -> None:
        """One frame of the open rotation: a step gesture if the angle moved."""
        angle = event.angle if event.angle is not None else self._angle
        time = event.time
        delta = angle - self._angle
        if delta != 0:
            if first:
                dt_ms: Number = time if time is not None and time > 0 else DEFAULT_STEP_MS
            elif time is not None and self._time is not None and time > self._time:
                dt_ms = time - self._time
            elif now > self._arrival:
                dt_ms = (now - self._arrival) / 1000
            else:
                dt_ms = DEFAULT_STEP_MS
            velocity = round(delta * 1000.0 / dt_ms, 6)
            clockwise = delta > 0
            net = angle - self._base
            fields: dict[str, Any] = {
                "delta": delta,
                "angle": net,
                "velocity": velocity,
                "direction": "cw" if clockwise else "ccw",
            }
            if event.percent is not None:
                fields["percent"] = event.percent
            dial = self._dials.get(self._held)
            if dial is not None:
                fields["value"] = dial.move(delta, velocity)
            self._emit(out, _STEP[self._held, clockwise], now, fields)
            if abs(velocity) >= self._fast:
                if clockwise and not self._spun_cw:
                    self._spun_cw = True
                    self._emit(
                        out,
                        "fast_spin_cw",
                        now,
                        {"velocity": velocity, "angle": net, "held": self._held},
                    )
                elif not clockwise and not self._spun_ccw:
                    self._spun_ccw = True
                    self._emit(
                        out,
                        "fast_spin_ccw",
                        now,
                        {"velocity": velocity, "angle": net, "held": self._held},
                    )
        self._angle = angle
        self._time = time
        self._arrival = now
        self._rotation_deadline = now + self._rotation_timeout

    def _close(self, now: int, reason: str, out: list[Gesture]) -> None:
        self._lc.dial_close(self)
        self._rotation_deadline = None
        self._settle_deadline = now + self._settle
        self._timers.push(self._settle_deadline, self, TimerKind.SETTLE)
        net = self._angle - self._base
        self._emit(
            out,
            _STOP[self._held],
            now,
            {
                "angle": net,
                "duration_ms": (now - self._start_at) / 1000,
                "direction": "cw" if net >= 0 else "ccw",
                "reason": reason,
            },
        )

    # -- output -----------------------------------------------------------------

    def _emit(self, out: list[Gesture], name: str, now: int, fields: dict[str, Any]) -> None:
        out.append(make_gesture(self.name, name, now / 1_000_000, fields))
        if self._composites is not None:
            self._composites.feed(self.name, name, now, out)
