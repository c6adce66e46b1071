"""The simulated knob publishes exactly what Zigbee2MQTT 2.x publishes."""

from __future__ import annotations

import json
from pathlib import Path

from knobflow.config import config_from_mapping
from knobflow.engine import Engine
from knobflow.replay import replay
from knobflow.simulate import DEMO_COMPOSITES, SimulatedKnob, demo_session, devices_step

SCENARIOS = Path(__file__).parent.parent / "scenarios"


def _scenario_payloads(name: str) -> list[str]:
    lines = (SCENARIOS / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    return [
        json.dumps(r["payload"], separators=(",", ":"), sort_keys=True)
        for r in records
        if r["topic"] == "zigbee2mqtt/desk_knob"
    ]


def test_a_fast_spin_is_byte_for_byte_the_scenario() -> None:
    knob = SimulatedKnob("desk_knob")
    steps = knob.turn([36, 96, 216, 240, 60], at=1.0)
    assert [s.payload for s in steps] == _scenario_payloads("fast_spin")
    assert [s.at for s in steps] == [1.0, 1.5, 2.0, 2.5, 3.0, 3.5]


def test_a_turn_while_pressed_is_byte_for_byte_the_scenario() -> None:
    knob = SimulatedKnob("desk_knob")
    steps = knob.hold(1.0) + knob.turn([12, 24, 24], at=1.5, pressed=True)
    assert [s.payload for s in steps] == _scenario_payloads("pressed_rotation")[: len(steps)]


def test_the_demo_session_makes_every_kind_of_gesture() -> None:
    knob = SimulatedKnob()
    records = [s.record() for s in [devices_step([knob]), *demo_session(knob)]]
    engine = Engine(config_from_mapping({"composites": DEMO_COMPOSITES}).engine_config())
    names: list[str] = []
    replay(engine, records, lambda g: names.append(g.gesture), lambda bad: None)
    for name in (
        "press", "double_press", "double_then_turn", "rotate_start", "rotate_cw", "rotate_ccw",
        "rotate_stop", "hold", "rotate_while_held_start", "rotate_while_held_cw",
        "rotate_while_held_stop", "release", "fast_spin_cw", "long_press",
    ):  # fmt: skip
        assert name in names, name
    assert demo_session(knob)[-1].at <= 20
