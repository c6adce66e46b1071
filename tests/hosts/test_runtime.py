"""HostRuntime: the host-independent part of the pyscript and AppDaemon apps."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest

from knobflow.config import ConfigError
from knobflow.engine import Gesture
from knobflow.hosts import EVENT_TYPE, HostRuntime, TopicChanges
from knobflow.replay import Record, read_records
from knobflow.testing import gestures_differ

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
INDEX = json.loads((SCENARIOS / "index.json").read_text(encoding="utf-8"))["scenarios"]
DEVICES = "zigbee2mqtt/bridge/devices"
KNOB_LIST = json.dumps(
    [
        {"friendly_name": "desk", "definition": {"model": "ZNXNKG02LM"}},
        {"friendly_name": "office/knob", "definition": {"model": "ZNXNKG02LM"}},
        {"friendly_name": "lamp", "definition": {"model": "LED1545G12"}},
    ]
)


def start_frame(angle: float = 12, ms: float = 200) -> dict[str, Any]:
    return {
        "action": "start_rotating",
        "action_rotation_angle": angle,
        "action_rotation_time": ms,
        "action_rotation_button_state": "released",
    }


def test_the_event_type_is_the_specs() -> None:
    assert EVENT_TYPE == "knobflow_gesture"


def test_from_mapping_names_the_source_in_errors() -> None:
    with pytest.raises(ConfigError, match=r"^somewhere: fast_spin_dps: 'fast' "):
        HostRuntime.from_mapping({"fast_spin_dps": "fast"}, "somewhere")


def test_one_wildcard_subscription_and_a_filter_for_it() -> None:
    runtime = HostRuntime.from_mapping({"zigbee2mqtt": {"base_topic": "z2m"}}, "test")
    assert runtime.subscription == "z2m/#"
    assert runtime.is_input("z2m/desk")
    assert runtime.is_input("z2m/bridge/devices")
    assert not runtime.is_input("z2m")
    assert not runtime.is_input("z2mx/desk")
    assert not runtime.is_input("zigbee2mqtt/desk")


def test_topics_follow_bridge_devices_and_explicit_knobs() -> None:
    """bridge/devices is always listened to; knobs join from config and from the list."""
    runtime = HostRuntime.from_mapping({"knobs": {"hall": None}}, "test")
    assert runtime.topics() == {DEVICES, "zigbee2mqtt/hall"}
    assert runtime.topic_changes() == TopicChanges(added=frozenset({DEVICES, "zigbee2mqtt/hall"}))
    assert not runtime.topic_changes()
    runtime.feed(DEVICES, KNOB_LIST, 1.0, retain=True)
    assert runtime.topic_changes() == TopicChanges(
        added=frozenset({"zigbee2mqtt/desk", "zigbee2mqtt/office/knob"})
    )
    runtime.feed(DEVICES, "[]", 2.0, retain=True)
    changes = runtime.topic_changes()
    assert changes.removed == {"zigbee2mqtt/desk", "zigbee2mqtt/office/knob"}
    assert not changes.added
    assert runtime.topics() == {DEVICES, "zigbee2mqtt/hall"}


def test_knob_of_names_the_knob_of_a_topic() -> None:
    runtime = HostRuntime.from_mapping({}, "test")
    assert runtime.knob_of("zigbee2mqtt/office/knob") == "office/knob"
    assert runtime.knob_of(DEVICES) is None
    assert runtime.knob_of("other/desk") is None


def test_a_message_wakes_the_host_at_the_engines_deadline() -> None:
    """wake_earlier asks for a wake-up only when none is set or the one set is later."""
    runtime = HostRuntime.from_mapping({"knobs": {"desk": None}}, "test")
    assert runtime.wake_earlier(0.5) is None  # nothing pending
    runtime.feed("zigbee2mqtt/desk", {"action": "hold"}, 1.0)
    assert runtime.wake_earlier(1.0) == pytest.approx(60.0)
    assert runtime.wake_at == pytest.approx(61.0)
    runtime.feed("zigbee2mqtt/desk", start_frame(), 2.0)  # rotation timeout: 3.5
    assert runtime.wake_earlier(2.0) == pytest.approx(1.5)
    runtime.feed("zigbee2mqtt/desk", {**start_frame(36, 700), "action": "rotation"}, 3.0)
    assert runtime.wake_earlier(3.0) is None  # the deadline moved later: 3.5 wakes early


def test_an_early_wake_up_finds_nothing_due_and_sets_the_next() -> None:
    runtime = HostRuntime.from_mapping({"knobs": {"desk": None}}, "test")
    runtime.feed("zigbee2mqtt/desk", start_frame(), 1.0)
    assert runtime.wake_earlier(1.0) == pytest.approx(1.5)
    runtime.feed("zigbee2mqtt/desk", {**start_frame(36, 700), "action": "rotation"}, 2.0)
    assert runtime.wake_earlier(2.0) is None
    assert runtime.tick(2.5) == []
    assert runtime.wake_next(2.5) == pytest.approx(1.0)
    stop = runtime.tick(3.5)
    assert [g.gesture for g in stop] == ["rotate_stop"]
    assert runtime.wake_next(3.5) == pytest.approx(0.3)  # the settle window
    assert runtime.tick(3.8) == []
    assert runtime.wake_next(3.8) is None
    assert runtime.wake_at is None


def test_a_late_wake_up_gives_a_zero_delay_not_a_negative_one() -> None:
    runtime = HostRuntime.from_mapping({"knobs": {"desk": None}}, "test")
    runtime.feed("zigbee2mqtt/desk", start_frame(), 1.0)
    assert runtime.wake_next(9.0) == 0.0
    runtime.wake_cleared()
    assert runtime.wake_at is None
    assert runtime.wake_earlier(9.0) == 0.0


class _Direction(StrEnum):
    CW = "cw"


def test_event_data_is_the_gesture_in_plain_built_in_types() -> None:
    gesture = Gesture("desk", "rotate_start", 2.5, {"direction": _Direction.CW, "parts": ("a",)})
    data = HostRuntime.event_data(gesture)
    assert data == {
        "knob": "desk",
        "gesture": "rotate_start",
        "t": 2.5,
        "direction": "cw",
        "parts": ["a"],
    }
    assert type(data["direction"]) is str


def test_message_is_the_specs_gesture_topic_and_json() -> None:
    runtime = HostRuntime.from_mapping({"output": {"base_topic": "kf", "qos": 1}}, "test")
    gesture = Gesture("office/knob", "press", 3.0, {})
    assert runtime.message(gesture) == (
        "kf/office/knob/gesture",
        '{"knob":"office/knob","gesture":"press","t":3.0}',
    )
    assert runtime.output_qos == 1


def _run_like_appdaemon(runtime: HostRuntime, records: list[Record]) -> list[dict[str, Any]]:
    """A host with one cancellable timer (AppDaemon's run_in), on the records' clock."""
    out: list[dict[str, Any]] = []
    timer: float | None = None  # when the one timer fires

    def fire(now: float) -> float | None:
        out.extend(g.to_dict() for g in runtime.tick(now))
        delay = runtime.wake_next(now)
        return None if delay is None else now + delay

    for record in records:
        while timer is not None and timer <= record.t:
            timer = fire(timer)
        made = runtime.feed(record.topic, record.payload, record.t, record.retain)
        # Every timer fired before the message: nothing here is a late timeout.
        assert all(g.t == pytest.approx(record.t, abs=1e-6) for g in made), made
        out.extend(g.to_dict() for g in made)
        delay = runtime.wake_earlier(record.t)
        if delay is not None:
            timer = record.t + delay  # cancel the old timer, arm the new one
    while timer is not None:
        timer = fire(timer)
    return out


@pytest.mark.parametrize("scenario", INDEX, ids=[s["name"] for s in INDEX])
def test_a_host_with_one_timer_reproduces_every_scenario(scenario: dict[str, Any]) -> None:
    """Re-arming one timer after each message and each wake-up fires every timeout on time."""
    config = {}
    if scenario.get("config"):
        config = json.loads((SCENARIOS / scenario["config"]).read_text(encoding="utf-8"))
    runtime = HostRuntime.from_mapping(config, "test")
    lines = (SCENARIOS / scenario["file"]).read_text(encoding="utf-8").splitlines()
    records = [r for r in read_records(lines) if isinstance(r, Record)]
    expected = [
        json.loads(line)
        for line in (SCENARIOS / scenario["expected"]).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert gestures_differ(expected, _run_like_appdaemon(runtime, records)) is None
