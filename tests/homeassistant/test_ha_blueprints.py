"""What every knobflow blueprint must do, checked in real Home Assistant.

Knob filtering, robustness against any gesture or payload, the MQTT switch, and that a
broken blueprint is caught (Home Assistant only marks its automation unavailable and
logs an error; setup still succeeds).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from ha_harness import (
    BUILTIN_GESTURES,
    EventPath,
    ServiceLog,
    automation_config,
    gesture,
    setup_automations,
    turn,
)
from homeassistant.components.automation import EVENT_AUTOMATION_TRIGGERED
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_capture_events

BLUEPRINTS = ("knob_light", "knob_media", "knob_actions")
RECORD = [{"action": "test.record", "data": {"knob": "{{ knob_name }}", "g": "{{ gesture_name }}"}}]


def inputs_for(blueprint: str, target: str) -> dict[str, Any]:
    """Inputs that make the blueprint act on ``target`` (a name) for press and turns."""
    if blueprint == "knob_light":
        return {"light": f"light.{target}"}
    if blueprint == "knob_media":
        return {"media_player": f"media_player.{target}"}
    return {"press_action": RECORD, "rotate_cw_action": RECORD, "rotate_ccw_action": RECORD}


def prepare_states(hass: HomeAssistant, *targets: str) -> None:
    for target in targets:
        hass.states.async_set(f"light.{target}", "on", {"brightness": 128})
        hass.states.async_set(f"media_player.{target}", "playing", {"volume_level": 0.5})


def targets_of(calls: list[tuple[str, str, dict[str, Any]]]) -> set[str]:
    """Which target each call went to: an entity's object id, or the recorded knob."""
    found = set()
    for _domain, _service, data in calls:
        if "entity_id" in data:
            found.update(entity.split(".", 1)[1] for entity in data["entity_id"])
        else:
            found.add(data["knob"])
    return found


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
async def test_only_the_chosen_knobs_gestures_run_it(
    hass: HomeAssistant, blueprints: Path, services: ServiceLog, path: Any, blueprint: str
) -> None:
    """Two knobs, two automations: each knob's gestures reach only its own automation."""
    prepare_states(hass, "desk", "office")
    await setup_automations(
        hass,
        automation_config(
            "desk", blueprint, knob="desk", **path.inputs, **inputs_for(blueprint, "desk")
        ),
        automation_config(
            "office",
            blueprint,
            knob="office/knob",
            **path.inputs,
            **inputs_for(blueprint, "office"),
        ),
    )
    await path.ready("desk", "office/knob")
    await path.send(gesture("office/knob", "press"), *turn("office/knob", 24))
    office = services.take()
    await path.send(gesture("desk", "press"), *turn("desk", -24))
    desk = services.take()
    assert len(office) == 2
    assert targets_of(office) in ({"office"}, {"office/knob"})
    assert len(desk) == 2
    assert targets_of(desk) == {"desk"}
    if isinstance(path, EventPath):
        # A knob no automation names, and a gesture with no knob at all.
        await path.send(gesture("desk_knob", "press"), {"gesture": "press", "t": 1.0})
        assert services.take() == []


def every_gesture(knob: str) -> list[dict[str, Any]]:
    """Every gesture name, bare (only knob, gesture, t) and with every field null."""
    names = [*BUILTIN_GESTURES, "double_then_turn"]
    nulls = dict.fromkeys(
        ("delta", "angle", "velocity", "direction", "percent", "held_ms", "rotated", "reason",
         "duration_ms", "held", "parts", "value"),
    )  # fmt: skip
    return [gesture(knob, name) for name in names] + [
        gesture(knob, name, **nulls) for name in names
    ]


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
async def test_every_gesture_renders_without_error(
    hass: HomeAssistant, blueprints: Path, services: ServiceLog, path: Any, blueprint: str
) -> None:
    """Any gesture, with or without its fields, runs the actions without a template error.

    Every accepted gesture must start the actions (a variable that fails to render stops
    the run before that, with only a log line), and nothing may be logged.
    """
    prepare_states(hass, "desk")
    await setup_automations(
        hass,
        automation_config(
            "desk", blueprint, knob="desk", **path.inputs, **inputs_for(blueprint, "desk")
        ),
    )
    await path.ready("desk")
    started = async_capture_events(hass, EVENT_AUTOMATION_TRIGGERED)
    gestures = every_gesture("desk")
    await path.send(*gestures)
    assert len(started) == len(gestures)
    # Bare steps carry no delta and bare stops no angle: nothing to do, and no error.
    calls = services.take()
    if blueprint == "knob_actions":
        assert [data["g"] for _d, _s, data in calls] == ["press", "rotate_cw", "rotate_ccw"] * 2
    else:
        assert [service for _d, service, _data in calls] == {
            "knob_light": ["toggle", "turn_on"] * 2,
            "knob_media": ["media_play_pause", "media_next_track"] * 2,
        }[blueprint]
    # "Run actions" from the UI: no gesture at all, nothing to do, no error.
    await hass.services.async_call(
        "automation", "trigger", {"entity_id": "automation.desk"}, blocking=True
    )
    await hass.async_block_till_done()
    assert len(started) == len(gestures) + 1
    assert services.take() == []


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
async def test_junk_on_the_gesture_topic_is_ignored(
    hass: HomeAssistant, blueprints: Path, services: ServiceLog, mqtt_paths: Any, blueprint: str
) -> None:
    """Payloads that are not a gesture object are dropped quietly; a gesture still works."""
    prepare_states(hass, "desk")
    mqtt = await mqtt_paths()
    await setup_automations(
        hass, automation_config("desk", blueprint, knob="desk", **inputs_for(blueprint, "desk"))
    )
    await mqtt.ready("desk")
    started = async_capture_events(hass, EVENT_AUTOMATION_TRIGGERED)
    topic = mqtt.topic("desk")
    await mqtt.send_raw(
        (topic, "not json"),
        (topic, ""),
        (topic, "[1, 2]"),
        (topic, '"press"'),
        (topic, "42"),
        (topic, "null"),
        (topic, json.dumps({"knob": "desk"})),
        (topic, json.dumps({"knob": "desk", "gesture": None})),
        (topic, json.dumps(gesture("desk", "press"))),
    )
    assert len(started) == 1
    assert len(services.take()) == 1


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
async def test_custom_mqtt_base_topic(
    hass: HomeAssistant, blueprints: Path, services: ServiceLog, mqtt_paths: Any, blueprint: str
) -> None:
    """The MQTT base topic input changes the exact topic listened to."""
    prepare_states(hass, "desk")
    mqtt = await mqtt_paths("home/knobflow")
    await setup_automations(
        hass,
        automation_config(
            "desk",
            blueprint,
            knob="desk",
            mqtt_base="home/knobflow",
            **inputs_for(blueprint, "desk"),
        ),
    )
    await mqtt.ready("desk")
    await mqtt.send(gesture("desk", "press"))
    assert len(services.take()) == 1


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
async def test_without_mqtt_the_switch_keeps_the_log_clean(
    hass: HomeAssistant, blueprints: Path, services: ServiceLog, blueprint: str,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """With no MQTT integration: MQTT off is silent; MQTT on logs an error, events still work."""
    prepare_states(hass, "desk", "office")
    await setup_automations(
        hass,
        automation_config(
            "desk", blueprint, knob="desk", use_mqtt=False, **inputs_for(blueprint, "desk")
        ),
        automation_config("office", blueprint, knob="office", **inputs_for(blueprint, "office")),
    )
    errors = [r for r in caplog.get_records("call") if r.levelno >= logging.WARNING]
    assert [r.name for r in errors] == ["homeassistant.components.automation.office"]
    assert "Cannot subscribe to topic 'knobflow/office/gesture'" in errors[0].getMessage()
    caplog.clear()
    events = EventPath(hass)
    await events.send(gesture("desk", "press"), gesture("office", "press"))
    assert targets_of(services.take()) == {"desk", "office"}


BREAKAGES = {
    "unknown trigger": ("trigger: event", "trigger: not_a_trigger"),
    "template syntax": ("{{ gesture_name != '' }}", "{{ gesture_name != '' }"),
    "unknown input": ("!input knob\n", "!input no_such_input\n"),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
@pytest.mark.parametrize("blueprint", BLUEPRINTS)
async def test_a_broken_blueprint_is_caught(
    hass: HomeAssistant, blueprints: Path, blueprint: str, breakage: str,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """A broken copy of each blueprint: setup succeeds, the automation is unavailable, and
    an error is logged; ``setup_automations`` (which every test uses) refuses it."""
    old, new = BREAKAGES[breakage]
    text = (blueprints / f"{blueprint}.yaml").read_text(encoding="utf-8")
    assert old in text
    (blueprints / f"broken_{blueprint}.yaml").write_text(text.replace(old, new), encoding="utf-8")
    prepare_states(hass, "desk")
    config = automation_config(
        "broken",
        f"broken_{blueprint}",
        knob="desk",
        use_mqtt=False,
        **inputs_for(blueprint, "desk"),
    )
    with pytest.raises(AssertionError, match="is unavailable"):
        await setup_automations(hass, config)
    errors = [
        r.getMessage()
        for r in caplog.get_records("call")
        if r.levelno >= logging.ERROR and r.name == "homeassistant.components.automation"
    ]
    assert errors, "no error was logged"
    assert all("blueprint" in message.lower() for message in errors), errors
    caplog.clear()
