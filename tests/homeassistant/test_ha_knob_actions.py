"""knob_actions.yaml in real Home Assistant, along both delivery paths."""

from __future__ import annotations

from typing import Any

from ha_harness import (
    BUILTIN_GESTURES,
    ServiceLog,
    automation_config,
    fast_spin,
    gesture,
    setup_automations,
    turn,
)
from homeassistant.core import HomeAssistant

KNOB = "office/knob"


def record(slot: str, **fields: str) -> list[dict[str, Any]]:
    """An action that logs its slot, the gesture's name, the knob and some fields."""
    data = {"slot": slot, "name": "{{ gesture_name }}", "knob": "{{ knob_name }}", **fields}
    return [{"action": "test.record", "data": data}]


STEP = {"delta": "{{ gesture.delta }}", "angle": "{{ gesture.angle }}"}
EVERY_ACTION = {f"{name}_action": record(name) for name in BUILTIN_GESTURES} | {
    "rotate_cw_action": record("rotate_cw", **STEP),
    "rotate_ccw_action": record("rotate_ccw", **STEP),
    "rotate_while_held_cw_action": record("rotate_while_held_cw", **STEP),
    "rotate_while_held_ccw_action": record("rotate_while_held_ccw", **STEP),
    "rotate_while_held_stop_action": record("rotate_while_held_stop", angle="{{ gesture.angle }}"),
    "fast_spin_cw_action": record("fast_spin_cw", v="{{ gesture.velocity }}"),
    "fast_spin_ccw_action": record("fast_spin_ccw", v="{{ gesture.velocity }}"),
    "release_action": record("release", rotated="{{ gesture.rotated }}"),
    "long_press_action": record("long_press", ms="{{ gesture.held_ms }}"),
}


async def start(hass: HomeAssistant, path: Any, **inputs: Any) -> None:
    await setup_automations(
        hass,
        automation_config("office actions", "knob_actions", knob=KNOB, **path.inputs, **inputs),
    )
    await path.ready(KNOB)


def logged(slot: str, name: str | None = None, **fields: Any) -> tuple[str, str, dict[str, Any]]:
    return ("test", "record", {"slot": slot, "name": name or slot, "knob": KNOB, **fields})


async def test_every_builtin_gesture_runs_its_own_action(
    hass: HomeAssistant, blueprints: Any, services: ServiceLog, path: Any
) -> None:
    """Each of the fifteen built-in gestures runs its own action input, with its fields."""
    await start(hass, path, **EVERY_ACTION)
    held = turn(KNOB, 24, -12, held=True)
    plain = turn(KNOB, 96, -48)
    await path.send(
        gesture(KNOB, "press"),
        gesture(KNOB, "double_press"),
        gesture(KNOB, "hold"),
        *held,
        gesture(KNOB, "release", held_ms=2000.0, rotated=True, reason="device"),
        gesture(KNOB, "hold"),
        gesture(KNOB, "release", held_ms=900.0, rotated=False, reason="device"),
        gesture(KNOB, "long_press", held_ms=900.0),
        plain[0],
        plain[1],
        fast_spin(KNOB, 480.0, 96),
        plain[2],
        fast_spin(KNOB, -480.0, 48),
        plain[3],
    )
    assert services.take() == [
        logged("press"),
        logged("double_press"),
        logged("hold"),
        logged("rotate_while_held_start"),
        logged("rotate_while_held_cw", delta=24, angle=24.0),
        logged("rotate_while_held_ccw", delta=-12, angle=12.0),
        logged("rotate_while_held_stop", angle=12.0),
        logged("release", rotated=True),
        logged("hold"),
        logged("release", rotated=False),
        logged("long_press", ms=900.0),
        logged("rotate_start"),
        logged("rotate_cw", delta=96, angle=96.0),
        logged("fast_spin_cw", v=480.0),
        logged("rotate_ccw", delta=-48, angle=48.0),
        logged("fast_spin_ccw", v=-480.0),
        logged("rotate_stop"),
    ]


async def test_unset_actions_do_nothing(
    hass: HomeAssistant, blueprints: Any, services: ServiceLog, path: Any
) -> None:
    """Only the gestures given an action do something."""
    await start(hass, path, press_action=record("press"), rotate_cw_action=record("rotate_cw"))
    await path.send(gesture(KNOB, "double_press"), *turn(KNOB, 12, -12), gesture(KNOB, "press"))
    assert services.take() == [logged("rotate_cw"), logged("press")]


async def test_composites_run_their_slot_by_name(
    hass: HomeAssistant, blueprints: Any, services: ServiceLog, path: Any
) -> None:
    """A composite runs the slot with its name; unnamed slots and other names do nothing."""
    await start(
        hass,
        path,
        composite_1_name="double_then_turn",
        composite_1_action=record("composite_1", parts="{{ gesture.parts }}"),
        composite_2_name=" wiggle ",
        composite_2_action=record("composite_2", ms="{{ gesture.duration_ms }}"),
        composite_3_action=record("composite_3"),
    )
    parts = ["double_press", "rotate_start"]
    await path.send(
        gesture(KNOB, "double_then_turn", parts=parts, duration_ms=800.0),
        gesture(KNOB, "triple_press", parts=["press"] * 3, duration_ms=700.0),
        gesture(KNOB, "wiggle", parts=["rotate_cw", "rotate_ccw", "rotate_cw"], duration_ms=1200.0),
    )
    assert services.take() == [
        logged("composite_1", "double_then_turn", parts=parts),
        logged("composite_2", "wiggle", ms=1200.0),
    ]
