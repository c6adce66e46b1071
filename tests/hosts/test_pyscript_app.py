"""The pyscript app's wiring, run as plain Python against a FAKE of pyscript's built-ins.

CI-level only: ``fake_pyscript`` stands in for pyscript (see its docstring for what
it models). The same behaviour in real pyscript inside a real Home Assistant is
checked by ``tests/pyscript`` (``nox -s homeassistant``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import knobflow
from knobflow.replay import Record, read_records
from knobflow.testing import gestures_differ

from .fake_pyscript import APP_FILE, FakePyscript

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
INDEX = json.loads((SCENARIOS / "index.json").read_text(encoding="utf-8"))["scenarios"]
DEVICES = "zigbee2mqtt/bridge/devices"


def devices(*knobs: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"friendly_name": "Coordinator", "type": "Coordinator"}]
    out += [
        {"friendly_name": k, "ieee_address": f"0x{i:016x}", "definition": {"model": "ZNXNKG02LM"}}
        for i, k in enumerate(knobs)
    ]
    out.append({"friendly_name": "kitchen_light", "definition": {"model": "LED1545G12"}})
    return out


def turn(action: str, angle: float, ms: float, *, held: bool = False) -> dict[str, Any]:
    return {
        "action": action,
        "action_rotation_angle": angle,
        "action_rotation_time": ms,
        "action_rotation_button_state": "pressed" if held else "released",
    }


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakePyscript:
    """The fake pyscript, with ``time.time()`` on its virtual clock (starting at 0, like the scenarios)."""
    now = [0.0]

    def set_clock(t: float) -> None:
        now[0] = t

    clock: Callable[[], float] = lambda: now[0]  # noqa: E731
    monkeypatch.setattr(time, "time", clock)
    return FakePyscript(clock, set_clock)


def gestures(fake: FakePyscript) -> list[dict[str, Any]]:
    assert {event_type for event_type, _ in fake.events} <= {"knobflow_gesture"}
    return [data for _, data in fake.events]


def at(fake: FakePyscript, t: float, topic: str, payload: Any, *, retain: bool = False) -> None:
    fake.run_until(t)
    fake.deliver(topic, payload, retain=retain)


def test_the_app_file_is_the_one_users_copy() -> None:
    """The app sits where Home Assistant's config/pyscript/ expects an app package."""
    assert APP_FILE.parts[-4:] == ("pyscript", "apps", "knobflow", "__init__.py")
    assert not (APP_FILE.parent / "engine.py").exists()
    assert not (APP_FILE.parent / "hosts.py").exists()
    assert "import knobflow\n" not in APP_FILE.read_text(encoding="utf-8")


@pytest.mark.parametrize("scenario", INDEX, ids=[s["name"] for s in INDEX])
def test_every_scenario_through_the_app_gives_its_expected_events(
    fake: FakePyscript, scenario: dict[str, Any]
) -> None:
    """Each shared scenario, delivered as MQTT messages on the scenario's clock, fires
    exactly the expected gestures as knobflow_gesture events, timeouts included."""
    config = None
    if scenario.get("config"):
        config = json.loads((SCENARIOS / scenario["config"]).read_text(encoding="utf-8"))
    with fake.no_errors():
        fake.load_app(config) if config is not None else fake.load_app()
        lines = (SCENARIOS / scenario["file"]).read_text(encoding="utf-8").splitlines()
        for record in read_records(lines):
            assert isinstance(record, Record)
            fake.run_until(record.t)
            before = len(fake.events)
            fake.deliver(record.topic, record.payload, retain=record.retain)
            # The timer task fired every timeout before this message: what the message
            # made carries its own time, never a late timeout's.
            made = gestures(fake)[before:]
            assert all(g["t"] == pytest.approx(record.t, abs=1e-6) for g in made), made
        fake.run_all()
    expected = [
        json.loads(line)
        for line in (SCENARIOS / scenario["expected"]).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert gestures_differ(expected, gestures(fake)) is None
    assert fake.live_tasks() == 0


def test_one_trigger_per_knob_follows_bridge_devices(fake: FakePyscript) -> None:
    """Triggers: bridge/devices at first, then one per listed knob; a new list replaces them."""
    fake.load_app()
    assert fake.topics() == {DEVICES}
    fake.deliver(DEVICES, devices("desk_knob", "office/knob"), retain=True)
    assert fake.topics() == {DEVICES, "zigbee2mqtt/desk_knob", "zigbee2mqtt/office/knob"}
    fake.deliver(DEVICES, devices("office/knob", "hall_knob"), retain=True)
    assert fake.topics() == {DEVICES, "zigbee2mqtt/office/knob", "zigbee2mqtt/hall_knob"}
    infos = [message for level, message in fake.log if level == "info"]
    assert "knobflow: listening to knob office/knob on zigbee2mqtt/office/knob" in infos
    assert "knobflow: no longer a knob: desk_knob" in infos


def test_config_sets_base_topic_and_knobs(fake: FakePyscript) -> None:
    """Explicit knobs get triggers at load; the base topic comes from the config."""
    fake.load_app(
        {"zigbee2mqtt": {"base_topic": "z2m", "discover": False}, "knobs": {"desk": None}}
    )
    assert fake.topics() == {"z2m/bridge/devices", "z2m/desk"}
    fake.deliver("z2m/desk", {"action": "double"})
    assert [g["gesture"] for g in gestures(fake)] == ["double_press"]


def test_a_retained_knob_message_gives_no_gesture(fake: FakePyscript) -> None:
    """The trigger's retain flag reaches the engine: a retained action is telemetry only."""
    fake.load_app({"knobs": {"desk": None}})
    fake.deliver("zigbee2mqtt/desk", {"action": "single", "battery": 80}, retain=True)
    fake.deliver("zigbee2mqtt/desk", {"action": "single"})
    assert [g["gesture"] for g in gestures(fake)] == ["press"]


def test_one_timer_task_at_a_time_ending_when_nothing_is_pending(fake: FakePyscript) -> None:
    """Frames that push the deadline later start no task; an earlier deadline replaces the
    task; the task ends once every timer has fired."""
    fake.load_app({"knobs": {"desk": None}})
    t0 = time.time()
    at(fake, t0, "zigbee2mqtt/desk", {"action": "hold"})  # hold timeout: t0 + 60
    assert fake.live_tasks() == 1
    at(fake, t0 + 1.0, "zigbee2mqtt/desk", turn("start_rotating", 12, 200, held=True))
    assert fake.live_tasks() == 1  # the 60 s task was replaced by one for t0 + 2.5
    at(fake, t0 + 1.5, "zigbee2mqtt/desk", turn("rotation", 36, 700, held=True))
    assert fake.live_tasks() == 1
    fake.run_all()
    assert fake.live_tasks() == 0
    timed = [(g["gesture"], g["t"], g.get("reason")) for g in gestures(fake)[-2:]]
    assert timed == [
        ("rotate_while_held_stop", pytest.approx(t0 + 3.0), "timeout"),
        ("release", pytest.approx(t0 + 60.0), "timeout"),
    ]


def test_after_a_reload_each_gesture_arrives_once(fake: FakePyscript) -> None:
    """A reload ends the old timer task and the old triggers: nothing arrives twice."""
    fake.load_app()
    fake.deliver(DEVICES, devices("desk"), retain=True)
    t0 = time.time()
    at(fake, t0, "zigbee2mqtt/desk", turn("start_rotating", 12, 200))
    assert fake.live_tasks() == 1
    fake.load_app()  # reload: the retained bridge/devices comes again
    assert fake.live_tasks() == 0
    fake.deliver(DEVICES, devices("desk"), retain=True)
    fake.events.clear()
    at(fake, t0 + 0.5, "zigbee2mqtt/desk", {"action": "single"})
    at(fake, t0 + 1.0, "zigbee2mqtt/desk", turn("start_rotating", -24, 200))
    fake.run_all()
    assert [(g["gesture"], g.get("reason")) for g in gestures(fake)] == [
        ("press", None),
        ("rotate_start", None),
        ("rotate_ccw", None),
        ("rotate_stop", "timeout"),
    ]


def test_a_bad_config_is_logged_by_key_and_nothing_starts(fake: FakePyscript) -> None:
    """The error names the config entry, the key and the value; no trigger is made."""
    fake.load_app({"rotation_timeout_ms": -1, "knobs": {"desk": None}})
    errors = [message for level, message in fake.log if level == "error"]
    assert len(errors) == 1
    assert errors[0].startswith(
        "knobflow not started: pyscript.apps.knobflow: rotation_timeout_ms: -1 "
    )
    assert fake.topics() == set()


def test_a_list_of_instances_is_refused(fake: FakePyscript) -> None:
    fake.load_app([{"knobs": {"a": None}}, {"knobs": {"b": None}}])
    errors = [message for level, message in fake.log if level == "error"]
    assert errors and "pyscript.apps.knobflow" in errors[0] and "one instance only" in errors[0]


def test_the_bridge_sections_are_named_as_unused(fake: FakePyscript) -> None:
    fake.load_app({"mqtt": {"host": "broker"}, "output": {"base_topic": "kf"}})
    warnings = [message for level, message in fake.log if level == "warning"]
    assert warnings == [
        "knobflow: pyscript.apps.knobflow: mqtt: is for the bridge; this app does not use it",
        "knobflow: pyscript.apps.knobflow: output: is for the bridge; this app does not use it",
    ]


def test_event_data_holds_plain_values(fake: FakePyscript) -> None:
    """Event data is built-in types only (no StrEnum), the gesture's fields in order."""
    fake.load_app({"knobs": {"desk": None}})
    fake.deliver("zigbee2mqtt/desk", turn("start_rotating", 30, 100))
    start = gestures(fake)[0]
    assert list(start) == ["knob", "gesture", "t", "direction", "angle"]
    assert all(type(v) in (str, int, float, bool) for v in start.values())


def test_requirements_pin_this_version_of_knobflow() -> None:
    """pyscript installs what requirements.txt pins (`name==version` only)."""
    lines = (APP_FILE.parent / "requirements.txt").read_text(encoding="utf-8").splitlines()
    pins = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert pins == [f"knobflow=={knobflow.__version__}"]
