"""Property tests: random real-looking frames, malformed messages and time jumps for several
knobs, with every invariant of docs/contract.md §3 checked after every step by an independent monitor."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from knobflow.engine import Engine, EngineConfig, Gesture, KnobSettings
from knobflow.engine.parse import parse_payload
from knobflow.testing import gestures_differ

KNOBS = ("a", "b", "office/c")
SETTINGS = KnobSettings()
ROTATION_TIMEOUT = SETTINGS.rotation_timeout_ms / 1000
HOLD_TIMEOUT = SETTINGS.hold_timeout_ms / 1000
QUIET = HOLD_TIMEOUT + ROTATION_TIMEOUT + 1

STEP_NAMES = {
    "rotate_cw": False,
    "rotate_ccw": False,
    "rotate_while_held_cw": True,
    "rotate_while_held_ccw": True,
}
START_NAMES = {"rotate_start": False, "rotate_while_held_start": True}
STOP_NAMES = {"rotate_stop": False, "rotate_while_held_stop": True}


@dataclass
class KnobMonitor:
    """What the gestures of one knob have said so far, checked against the invariants of docs/contract.md §3."""

    open_family: bool | None = None
    start_angle: float = 0.0
    deltas: float = 0.0
    steps: int = 0
    holding: bool = False
    rotated: bool = False
    last: dict[str, Any] | None = None
    last_t: float = -math.inf
    fast: set[str] = field(default_factory=set)

    def see(self, g: dict[str, Any]) -> None:
        name, t = g["gesture"], g["t"]
        assert t >= self.last_t - 1e-9, f"time went back: {g}"
        self.last_t = t
        if name in START_NAMES:
            assert self.open_family is None, f"{name} while a rotation is open"
            self.open_family = START_NAMES[name]
            self.start_angle = g["angle"]
            self.deltas = 0.0
            self.steps = 0
            self.fast = set()
            assert g["direction"] == ("cw" if g["angle"] >= 0 else "ccw")
            if self.open_family and self.holding:
                self.rotated = True
        elif name in STEP_NAMES:
            assert self.open_family == STEP_NAMES[name], f"{name} outside its rotation"
            assert g["delta"] != 0
            assert (g["delta"] > 0) == name.endswith("_cw")
            assert g["direction"] == ("cw" if g["delta"] > 0 else "ccw")
            assert (g["velocity"] > 0) == (g["delta"] > 0)
            if self.steps == 0 and self.start_angle != 0:
                # a start frame that moved gives its step at once, the whole angle
                assert self.last is not None and self.last["gesture"] in START_NAMES
                assert math.isclose(g["delta"], self.start_angle), (
                    "first step is not the start's angle"
                )
            self.steps += 1
            self.deltas += g["delta"]
            assert math.isclose(g["angle"], self.deltas, abs_tol=1e-6), (
                "angle is not the sum of deltas"
            )
        elif name in ("fast_spin_cw", "fast_spin_ccw"):
            assert self.open_family is not None and g["held"] == self.open_family
            assert self.last is not None and self.last["gesture"] in STEP_NAMES
            assert abs(g["velocity"]) >= SETTINGS.fast_spin_dps
            assert name not in self.fast, "two fast spins of one direction in one rotation"
            self.fast.add(name)
        elif name in STOP_NAMES:
            assert self.open_family == STOP_NAMES[name], f"{name} without its start"
            assert math.isclose(g["angle"], self.deltas, abs_tol=1e-6), (
                "stop angle != sum of deltas"
            )
            assert g["duration_ms"] >= 0
            assert g["reason"] in ("device", "timeout", "button_change", "release")
            assert g["direction"] == ("cw" if g["angle"] >= 0 else "ccw")
            self.open_family = None
        elif name == "hold":
            assert not self.holding, "hold while held"
            self.holding = True
            self.rotated = self.open_family is True
        elif name == "release":
            assert self.holding, "release without hold"
            assert g["rotated"] == self.rotated, "rotated flag wrong"
            assert g["held_ms"] >= 0
            assert g["reason"] in ("release", "timeout")
            self.holding = False
        elif name == "long_press":
            assert self.last is not None and self.last["gesture"] == "release"
            assert self.last["rotated"] is False and self.last["reason"] == "release"
            assert self.last["t"] == t and self.last["held_ms"] == g["held_ms"]
        else:
            assert name in ("press", "double_press"), f"unknown gesture {name}"
        self.last = g


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=10,
)
FIELDS = (
    "action",
    "action_rotation_angle",
    "action_rotation_time",
    "action_rotation_percent",
    "action_rotation_button_state",
)


@st.composite
def malformed(draw: st.DrawFn) -> Any:
    """Payloads the parser must reject: broken bytes, non-objects, bad field types."""
    kind = draw(st.sampled_from(["bytes", "text", "nonobject", "badfield", "nan"]))
    if kind == "bytes":
        raw = draw(st.binary(max_size=40))
        assume(parse_payload(raw).error is not None)
        return raw
    if kind == "text":
        return draw(st.sampled_from(["{", '{"action":', "nul", "[1,", '{"a":1}}', ""]))
    if kind == "nonobject":
        return draw(st.one_of(json_scalars, st.lists(json_values, max_size=3)))
    if kind == "nan":
        return '{"action":"rotation","action_rotation_angle":NaN}'
    name = draw(st.sampled_from(FIELDS))
    bad = {
        "action": st.one_of(
            st.integers(), st.booleans(), st.lists(st.text(max_size=3), max_size=2)
        ),
        "action_rotation_angle": st.one_of(st.text(max_size=3), st.booleans(), st.just(2e6)),
        "action_rotation_time": st.one_of(st.text(max_size=3), st.booleans(), st.just([])),
        "action_rotation_percent": st.one_of(st.text(max_size=3), st.booleans(), st.just({})),
        "action_rotation_button_state": st.one_of(st.just("down"), st.integers(), st.booleans()),
    }[name]
    payload = {"action": "rotation", "action_rotation_angle": 12, name: draw(bad)}
    assume(parse_payload(payload).error is not None)
    return payload


def snapshot(engine: Engine) -> dict[str, Any]:
    """Everything observable of the engine's knobs (lifecycles, telemetry, timers)."""
    knobs = {}
    for name in list(engine.knob_names_seen()):
        knob = engine._knobs[name]
        knobs[name] = {
            k: getattr(knob, k)
            for k in type(knob).__slots__
            if k not in ("_timers", "_lc", "_count", "_composites")
        }
    return {"knobs": repr(knobs), "deadline": engine.next_deadline()}


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.engine = Engine(EngineConfig(explicit=KNOBS))
        self.now = 0.0
        self.monitors = {k: KnobMonitor() for k in KNOBS}
        self.angles = dict.fromkeys(KNOBS, 0)
        self.times: dict[str, int] = dict.fromkeys(KNOBS, 0)
        self.last_frame: dict[str, dict[str, Any]] = {}
        self.log: list[
            tuple[float, str, Any, bool]
        ] = []  # every message, for the independence check
        self.gestures: list[dict[str, Any]] = []

    # -- helpers --

    def _record(self, out: list[Gesture]) -> None:
        for gesture in out:
            g = gesture.to_dict()
            json.dumps(g, allow_nan=False)  # every gesture is plain JSON
            assert g["knob"] in KNOBS
            self.monitors[g["knob"]].see(g)
            self.gestures.append(g)

    def _feed(self, knob_topic: str, payload: Any, retain: bool = False) -> list[Gesture]:
        self.log.append((self.now, knob_topic, payload, retain))
        out = self.engine.feed(knob_topic, payload, self.now, retain)
        self._record(out)
        return out

    # -- rules --

    @rule(dt=st.sampled_from([0.0, 0.0000004, 0.1, 0.2, 0.3, 0.5, 0.5, 1.0, 1.5, 2.0, 61.0]))
    def time_passes(self, dt: float) -> None:
        self.now += dt

    @rule(dt=st.floats(min_value=0, max_value=5))
    def time_passes_any(self, dt: float) -> None:
        self.now += dt

    @rule(
        knob=st.sampled_from(KNOBS), action=st.sampled_from(["single", "double", "hold", "release"])
    )
    def button(self, knob: str, action: str) -> None:
        self._feed(f"zigbee2mqtt/{knob}", {"action": action, "battery": 90})

    @rule(
        knob=st.sampled_from(KNOBS),
        action=st.sampled_from(["start_rotating", "rotation", "rotation", "stop_rotating", None]),
        move=st.sampled_from([0, 12, 24, -12, -24, 36, 216, -240, 1.5]),
        pressed=st.sampled_from([None, True, False]),
        with_time=st.booleans(),
        with_angle=st.sampled_from([True, True, True, False]),
        as_text=st.booleans(),
    )
    def frame(
        self,
        knob: str,
        action: str | None,
        move: float,
        pressed: bool | None,
        with_time: bool,
        with_angle: bool,
        as_text: bool,
    ) -> None:
        if action == "start_rotating":
            self.angles[knob] = move
            self.times[knob] = 200
        else:
            self.angles[knob] += move
            self.times[knob] += 500
        payload: dict[str, Any] = {"battery": 90, "linkquality": 100}
        if action is not None:
            payload["action"] = action
        if with_angle or action is None:
            payload["action_rotation_angle"] = self.angles[knob]
            payload["action_rotation_percent"] = self.angles[knob] / 3.6
        if with_time:
            payload["action_rotation_time"] = self.times[knob]
        if pressed is not None:
            payload["action_rotation_button_state"] = "pressed" if pressed else "released"
        self.last_frame[knob] = payload
        self._feed(f"zigbee2mqtt/{knob}", json.dumps(payload) if as_text else payload)

    @precondition(lambda self: bool(self.last_frame))
    @rule(data=st.data())
    def duplicate(self, data: st.DataObject) -> None:
        """A repeated rotation frame is dropped and changes nothing (not even the timeout)."""
        knob = data.draw(st.sampled_from(sorted(self.last_frame)))
        self._record(self.engine.tick(self.now))
        before = snapshot(self.engine)
        duplicates = self.engine.counters["duplicate"]
        assert self._feed(f"zigbee2mqtt/{knob}", dict(self.last_frame[knob])) == []
        assert snapshot(self.engine) == before
        assert self.engine.counters["duplicate"] == duplicates + 1

    @rule(knob=st.sampled_from(KNOBS), payload=malformed())
    def garbage(self, knob: str, payload: Any) -> None:
        self._record(self.engine.tick(self.now))  # fire what is due, so only the message is judged
        before = snapshot(self.engine)
        invalid = self.engine.counters["invalid"]
        out = self._feed(f"zigbee2mqtt/{knob}", payload)
        assert out == []
        assert snapshot(self.engine) == before
        assert self.engine.counters["invalid"] == invalid + 1

    @rule(knob=st.sampled_from(KNOBS), action=st.sampled_from(["single", "hold", "start_rotating"]))
    def retained(self, knob: str, action: str) -> None:
        self._record(self.engine.tick(self.now))
        out = self._feed(
            f"zigbee2mqtt/{knob}", {"action": action, "action_rotation_angle": 12}, True
        )
        assert out == []

    @rule(payload=st.one_of(json_values, st.binary(max_size=20)))
    def other_device(self, payload: Any) -> None:
        self._record(self.engine.tick(self.now))
        seen = list(self.engine.knob_names_seen())
        out = self._feed("zigbee2mqtt/lamp", payload)
        out += self._feed("zigbee2mqtt/a/action", "single")
        assert out == []
        assert list(self.engine.knob_names_seen()) == seen

    @rule()
    def tick(self) -> None:
        self._record(self.engine.tick(self.now))

    @rule()
    def quiet(self) -> None:
        """After input stops, every open rotation or hold is closed by its timeout."""
        self.now += QUIET
        self._record(self.engine.tick(self.now))
        for name, monitor in self.monitors.items():
            assert monitor.open_family is None, f"{name}: rotation still open"
            assert not monitor.holding, f"{name}: hold still open"
        assert self.engine.next_deadline() is None

    # -- invariants --

    @invariant()
    def deadline_is_in_the_future_or_due(self) -> None:
        deadline = self.engine.next_deadline()
        if deadline is not None:
            assert math.isfinite(deadline)

    def teardown(self) -> None:
        """Knobs never influence each other: each knob's messages alone give the same gestures."""
        self.now += QUIET
        self._record(self.engine.tick(self.now))
        for knob in KNOBS:
            alone = Engine(EngineConfig(explicit=KNOBS))
            mine: list[dict[str, Any]] = []
            for t, topic, payload, retain in self.log:
                if topic == f"zigbee2mqtt/{knob}":
                    mine += [g.to_dict() for g in alone.feed(topic, payload, t, retain)]
            mine += [g.to_dict() for g in alone.tick(self.now)]
            together = [g for g in self.gestures if g["knob"] == knob]
            problem = gestures_differ(mine, together)
            assert problem is None, f"{knob}: {problem}"


EngineMachine.TestCase.settings = settings(
    max_examples=250,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestEngineProperties = EngineMachine.TestCase
