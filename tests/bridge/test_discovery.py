"""Discovery messages, built without I/O (docs/contract.md §6)."""

from __future__ import annotations

import json

import jinja2

from knobflow.bridge.discovery import (
    EVENT_TEMPLATE,
    TRIGGER_TEMPLATE,
    DiscoveryPlan,
    DiscoverySettings,
    device_of,
    knob_configs,
    knob_key,
)
from knobflow.engine import BUILTIN_GESTURES, DeviceInfo

IEEE = "0x54ef4410000a1b2c"
SETTINGS = DiscoverySettings("homeassistant", "knobflow", (*BUILTIN_GESTURES, "wiggle"))
DESK = DeviceInfo("desk_knob", IEEE)


def test_every_gesture_has_a_trigger_and_the_knob_one_event_entity() -> None:
    configs = knob_configs(DESK, SETTINGS)
    triggers = {t: json.loads(p) for t, p in configs.items() if "/device_automation/" in t}
    assert len(triggers) == len(BUILTIN_GESTURES) + 1
    assert {c["subtype"] for c in triggers.values()} == {*BUILTIN_GESTURES, "wiggle"}
    for topic, config in triggers.items():
        gesture = config["subtype"]
        assert topic == f"homeassistant/device_automation/knobflow/{IEEE}_{gesture}/config"
        assert config["type"] == "gesture"  # not Z2M's "action": those would be replaced
        assert config["payload"] == gesture
        assert config["value_template"] == TRIGGER_TEMPLATE
        assert config["topic"] == "knobflow/desk_knob/gesture"
        assert config["device"] == {"identifiers": [f"zigbee2mqtt_{IEEE}"]}
    event = json.loads(configs[f"homeassistant/event/knobflow/{IEEE}_gesture/config"])
    assert event["event_types"] == [*BUILTIN_GESTURES, "wiggle"]
    assert event["unique_id"] == f"knobflow_{IEEE}_gesture"
    assert event["availability_topic"] == "knobflow/status"
    assert event["device"] == {"identifiers": [f"zigbee2mqtt_{IEEE}"]}


def _render(template: str, value_json: dict[str, object]) -> str:
    # Home Assistant's templates are Jinja2 with `tojson`; `dict` is a Jinja2 global
    return jinja2.Environment(autoescape=False).from_string(template).render(value_json=value_json)


def test_the_event_template_yields_event_type_and_the_gesture_fields() -> None:
    gesture = {"knob": "desk_knob", "gesture": "rotate_cw", "t": 12.5, "delta": 24, "angle": 36}
    rendered = json.loads(_render(EVENT_TEMPLATE, gesture))
    assert rendered == {**gesture, "event_type": "rotate_cw"}
    composite = {"knob": "desk_knob", "gesture": "wiggle", "t": 1.0, "parts": ["a", "b"]}
    assert json.loads(_render(EVENT_TEMPLATE, composite))["event_type"] == "wiggle"
    assert _render(TRIGGER_TEMPLATE, gesture) == "rotate_cw"


def test_a_knob_without_ieee_gets_a_device_of_its_own() -> None:
    knob = DeviceInfo("office/knob 2", None)
    key = knob_key(knob)
    assert key.startswith("name_office_knob_2_")
    assert all(c.isalnum() or c in "_-" for c in key)
    assert knob_key(DeviceInfo("office_knob 2", None)) != key  # names that slug alike differ
    device = device_of(knob)
    assert device["identifiers"] == [f"knobflow_{key}"]
    assert device["name"] == "office/knob 2"
    topics = knob_configs(knob, SETTINGS)
    assert f"homeassistant/event/knobflow/{key}_gesture/config" in topics


def test_an_odd_ieee_address_never_makes_an_unsafe_topic() -> None:
    key = knob_key(DeviceInfo("knob", "0x12/+#"))
    assert "/" not in key and "+" not in key and "#" not in key
    assert device_of(DeviceInfo("knob", "0x12/+#")) == {"identifiers": ["zigbee2mqtt_0x12/+#"]}


def test_the_plan_publishes_changes_and_removes_configs_no_knob_wants() -> None:
    plan = DiscoveryPlan(SETTINGS)
    first = plan.update([DESK], complete=True)
    assert len(first) == len(BUILTIN_GESTURES) + 2 and all(p.retain and p.payload for p in first)
    assert plan.update([DESK], complete=True) == []  # nothing changed, nothing sent
    renamed = plan.update(
        [DeviceInfo("study_knob", IEEE)], complete=True
    )  # same topics, new payloads
    assert len(renamed) == len(first) and all(p.payload for p in renamed)
    gone = plan.update([], complete=True)
    assert {p.topic for p in gone} == {p.topic for p in first}
    assert all(p.payload == "" and p.retain for p in gone)


def test_learning_the_ieee_moves_a_config_knob_to_its_zigbee2mqtt_device() -> None:
    plan = DiscoveryPlan(SETTINGS)
    own = plan.update([DeviceInfo("desk_knob", None)], complete=False)
    moved = plan.update([DESK], complete=True)
    removed = {p.topic for p in moved if not p.payload}
    assert removed == {p.topic for p in own}
    assert all(IEEE in p.topic for p in moved if p.payload)


def test_stale_configs_are_removed_only_once_the_knob_list_is_complete() -> None:
    plan = DiscoveryPlan(SETTINGS)
    stale = "homeassistant/device_automation/knobflow/0xdead_press/config"
    assert plan.retained_seen(stale) == []  # bridge/devices not seen yet: maybe a knob
    pubs = plan.update([DESK], complete=True)
    assert [p for p in pubs if p.topic == stale and p.payload == ""]
    later = "homeassistant/event/knobflow/0xbeef_gesture/config"
    assert [(p.topic, p.payload) for p in plan.retained_seen(later)] == [(later, "")]
    wanted = next(iter(plan.wanted))
    assert plan.retained_seen(wanted) == []


def test_only_this_bridges_topics_count_as_its_own() -> None:
    assert SETTINGS.owns(f"homeassistant/event/knobflow/{IEEE}_gesture/config")
    assert not SETTINGS.owns("homeassistant/event/zigbee2mqtt/x/config")
    assert not SETTINGS.owns("homeassistant/event/knobflow/a/b/config")
    odd = DiscoverySettings("ha", "home/knobflow v2")
    assert odd.node == "home_knobflow_v2"
