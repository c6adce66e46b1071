"""The bridge end to end on a real broker (mosquitto and the embedded amqtt broker)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest

from knobflow import __version__
from knobflow.bridge.service import Bridge
from knobflow.simulate import SimulatedKnob
from support.mosquitto import Mosquitto

from .helpers import Msg, Probe, Topics, devices_payload, errors_in, make_config, running

IEEE = "0x54ef4410000a1b2c"
ALL_GESTURES = [
    "press",
    "double_press",
    "hold",
    "release",
    "long_press",
    "rotate_start",
    "rotate_cw",
    "rotate_ccw",
    "rotate_stop",
    "rotate_while_held_start",
    "rotate_while_held_cw",
    "rotate_while_held_ccw",
    "rotate_while_held_stop",
    "fast_spin_cw",
    "fast_spin_ccw",
]


def node(topics: Topics) -> str:
    return topics.out.replace("/", "_")


def event_topic(topics: Topics, key: str = IEEE) -> str:
    return f"{topics.ha}/event/{node(topics)}/{key}_gesture/config"


def trigger_topic(topics: Topics, gesture: str, key: str = IEEE) -> str:
    return f"{topics.ha}/device_automation/{node(topics)}/{key}_{gesture}/config"


def is_topic(topic: str, payload: bytes | None = None) -> Callable[[Msg], bool]:
    def check(m: Msg) -> bool:
        return m.topic == topic and (payload is None or m.payload == payload)

    return check


@pytest.mark.asyncio
async def test_knob_messages_give_gestures_state_status_and_discovery(
    broker: tuple[str, int], topics: Topics, caplog: pytest.LogCaptureFixture
) -> None:
    """Z2M payloads of a press and a turn come out as gestures, retained state,
    retained status and the exact discovery configs of docs/contract.md §6."""
    caplog.set_level(logging.DEBUG)
    host, port = broker
    knob = SimulatedKnob("desk_knob", IEEE, base_topic=topics.z2m)
    async with Probe(host, port, [f"{topics.out}/#", f"{topics.ha}/#"]) as probe:
        await probe.publish(
            f"{topics.z2m}/bridge/devices", devices_payload(("desk_knob", IEEE)), retain=True
        )
        async with running(Bridge(make_config(host, port, topics))):
            await probe.expect(is_topic(f"{topics.out}/status", b"online"))
            event = await probe.expect(is_topic(event_topic(topics)))
            assert event.retain is False or event.retain is True  # live or retained delivery
            assert event.json() == {
                "name": "Gesture",
                "unique_id": f"{node(topics)}_{IEEE}_gesture",
                "state_topic": f"{topics.out}/desk_knob/gesture",
                "event_types": ALL_GESTURES,
                "value_template": "{{ dict(value_json, event_type=value_json.gesture) | tojson }}",
                "availability_topic": f"{topics.out}/status",
                "payload_available": "online",
                "payload_not_available": "offline",
                "icon": "mdi:knob",
                "device": {"identifiers": [f"zigbee2mqtt_{IEEE}"]},
                "origin": {"name": "knobflow", "sw_version": __version__},
            }
            trigger = await probe.expect(is_topic(trigger_topic(topics, "rotate_cw")))
            assert trigger.json() == {
                "automation_type": "trigger",
                "topic": f"{topics.out}/desk_knob/gesture",
                "type": "gesture",
                "subtype": "rotate_cw",
                "value_template": "{{ value_json.gesture }}",
                "payload": "rotate_cw",
                "device": {"identifiers": [f"zigbee2mqtt_{IEEE}"]},
                "origin": {"name": "knobflow", "sw_version": __version__},
            }
            for gesture in ALL_GESTURES:
                await probe.expect(is_topic(trigger_topic(topics, gesture)))

            for step in knob.press(0) + knob.turn([12, 24], 0):
                await probe.publish(step.topic, step.payload)
            await probe.expect_gesture(topics, "desk_knob", "rotate_stop")
            stopped = probe.mark()
            gestures = probe.gestures(topics, "desk_knob")
            assert [g["gesture"] for g in gestures] == [
                "press",
                "rotate_start",
                "rotate_cw",
                "rotate_cw",
                "rotate_stop",
            ]
            assert set(gestures[0]) == {"knob", "gesture", "t"}
            assert gestures[2]["delta"] == 12 and gestures[3]["delta"] == 24
            assert gestures[4]["angle"] == 36 and gestures[4]["reason"] == "device"
            state_topic = f"{topics.out}/desk_knob/state"
            # after the stop, the settle window's timer brings the dial back to idle
            state = await probe.expect(
                lambda m: m.topic == state_topic and m.json()["dial"] == "idle", after=stopped
            )
            assert state.json() == {
                "battery": 90,
                "button": "idle",
                "dial": "idle",
                "linkquality": state.json()["linkquality"],
                "operation_mode": "event",
                "voltage": 2985,
            }
            mark = probe.mark()
        offline = await probe.expect(is_topic(f"{topics.out}/status", b"offline"), after=mark)
        assert offline.text == "offline"
    async with Probe(host, port, [f"{topics.out}/status"]) as late:  # the retained value
        msg = await late.expect(is_topic(f"{topics.out}/status"))
        assert (msg.text, msg.retain) == ("offline", True)
    assert errors_in(caplog.records) == []


@pytest.mark.asyncio
async def test_a_retained_stale_action_is_ignored(broker: tuple[str, int], topics: Topics) -> None:
    """A knob message retained on the broker replays on subscribe and makes no gesture."""
    host, port = broker
    knob = SimulatedKnob("desk_knob", IEEE, base_topic=topics.z2m)
    async with Probe(host, port, [f"{topics.out}/#"]) as probe:
        await probe.publish(
            f"{topics.z2m}/bridge/devices", devices_payload(("desk_knob", IEEE)), retain=True
        )
        await probe.publish(knob.topic, knob.message(action="single"), retain=True)
        async with running(Bridge(make_config(host, port, topics))) as bridge:
            await probe.publish(knob.topic, knob.message(action="double"))
            await probe.expect_gesture(topics, "desk_knob", "double_press")
            assert [g["gesture"] for g in probe.gestures(topics, "desk_knob")] == ["double_press"]
            assert bridge.engine.counters["ignored.retained"] == 1
        await probe.publish(knob.topic, b"", retain=True)


@pytest.mark.asyncio
async def test_home_assistant_online_publishes_discovery_again(
    broker: tuple[str, int], topics: Topics
) -> None:
    host, port = broker
    async with Probe(host, port, [f"{topics.ha}/#"]) as probe:
        await probe.publish(
            f"{topics.z2m}/bridge/devices", devices_payload(("desk_knob", IEEE)), retain=True
        )
        async with running(Bridge(make_config(host, port, topics))):
            await probe.expect(is_topic(event_topic(topics)))
            mark = probe.mark()
            await probe.publish(f"{topics.ha}/status", "online")
            await probe.expect(is_topic(event_topic(topics)), after=mark)
            for gesture in ALL_GESTURES:
                await probe.expect(is_topic(trigger_topic(topics, gesture)), after=mark)


@pytest.mark.asyncio
async def test_a_knob_leaving_bridge_devices_gets_empty_retained_configs(
    broker: tuple[str, int], topics: Topics
) -> None:
    host, port = broker
    devices = f"{topics.z2m}/bridge/devices"
    other = "0x54ef4410000a9999"
    async with Probe(host, port, [f"{topics.ha}/#"]) as probe:
        await probe.publish(
            devices, devices_payload(("desk_knob", IEEE), ("hall_knob", other)), retain=True
        )
        async with running(Bridge(make_config(host, port, topics))):
            await probe.expect(is_topic(event_topic(topics)))
            await probe.expect(is_topic(event_topic(topics, other)))
            mark = probe.mark()
            await probe.publish(devices, devices_payload(("desk_knob", IEEE)), retain=True)
            await probe.expect(is_topic(event_topic(topics, other), b""), after=mark)
            for gesture in ALL_GESTURES:
                await probe.expect(is_topic(trigger_topic(topics, gesture, other), b""), after=mark)
            assert not [m for m in probe.messages[mark:] if IEEE in m.topic and not m.payload]
    async with Probe(host, port, [f"{topics.ha}/#"]) as late:  # what stays retained
        await late.expect(is_topic(event_topic(topics)))
        assert not [m for m in late.messages if other in m.topic]


@pytest.mark.asyncio
async def test_a_config_knob_not_in_bridge_devices_gets_a_device_of_its_own(
    broker: tuple[str, int], topics: Topics
) -> None:
    """Named in config, unknown to bridge/devices: own device; once listed, the Z2M device."""
    host, port = broker
    config = make_config(host, port, topics, knobs={"kitchen/knob": None})
    key = "name_kitchen_knob_"
    async with Probe(host, port, [f"{topics.ha}/#"]) as probe, running(Bridge(config)):
        own = await probe.expect(lambda m: m.topic.endswith("_gesture/config") and key in m.topic)
        device = own.json()["device"]
        assert device["name"] == "kitchen/knob"
        assert device["identifiers"][0].startswith("knobflow_name_kitchen_knob_")
        assert own.json()["state_topic"] == f"{topics.out}/kitchen/knob/gesture"
        mark = probe.mark()
        listed = devices_payload(("kitchen/knob", IEEE))
        await probe.publish(f"{topics.z2m}/bridge/devices", listed, retain=True)
        joined = await probe.expect(is_topic(event_topic(topics)), after=mark)
        assert joined.json()["device"] == {"identifiers": [f"zigbee2mqtt_{IEEE}"]}
        await probe.expect(is_topic(own.topic, b""), after=mark)


@pytest.mark.asyncio
async def test_stale_configs_of_an_earlier_run_are_removed(
    broker: tuple[str, int], topics: Topics
) -> None:
    host, port = broker
    stale = trigger_topic(topics, "press", "0x00000000deadbeef")
    async with Probe(host, port, [f"{topics.ha}/#"]) as probe:
        await probe.publish(stale, json.dumps({"automation_type": "trigger"}), retain=True)
        await probe.publish(
            f"{topics.z2m}/bridge/devices", devices_payload(("desk_knob", IEEE)), retain=True
        )
        async with running(Bridge(make_config(host, port, topics))):
            await probe.expect(is_topic(stale, b""))
            await probe.expect(is_topic(event_topic(topics)))


@pytest.mark.asyncio
async def test_unsafe_knob_names_are_refused_with_a_log_line(
    mosquitto: Mosquitto, topics: Topics, caplog: pytest.LogCaptureFixture
) -> None:
    host, port = mosquitto.host, mosquitto.port
    devices = devices_payload(("bad+knob", "0x1111111111111111"), ("desk_knob", IEEE))
    async with Probe(host, port, [f"{topics.ha}/#", f"{topics.out}/#"]) as probe:
        await probe.publish(f"{topics.z2m}/bridge/devices", devices, retain=True)
        async with running(Bridge(make_config(host, port, topics))) as bridge:
            await probe.expect(is_topic(event_topic(topics)))
            assert list(bridge.engine.knobs) == ["desk_knob"]
    refused = [
        r for r in caplog.records if "bad+knob" in r.getMessage() and "refused" in r.getMessage()
    ]
    assert len(refused) == 1 and refused[0].levelno == logging.WARNING
    assert not [m for m in probe.messages if "1111111111111111" in m.topic]


@pytest.mark.asyncio
async def test_payloads_over_64_kib_are_dropped_except_bridge_devices(
    mosquitto: Mosquitto, topics: Topics
) -> None:
    host, port = mosquitto.host, mosquitto.port
    knob = SimulatedKnob("desk_knob", IEEE, base_topic=topics.z2m)
    big_network = devices_payload(("desk_knob", IEEE), others=2000)
    assert len(big_network) > 64 * 1024
    async with Probe(host, port, [f"{topics.out}/#"]) as probe:
        await probe.publish(f"{topics.z2m}/bridge/devices", big_network, retain=True)
        async with running(Bridge(make_config(host, port, topics))) as bridge:
            padded = json.dumps({"action": "single", "pad": "x" * 70_000})
            await probe.publish(knob.topic, padded)
            await probe.publish(knob.topic, knob.message(action="double"))
            await probe.expect_gesture(topics, "desk_knob", "double_press")
            assert [g["gesture"] for g in probe.gestures(topics, "desk_knob")] == ["double_press"]
            assert bridge.engine.counters["invalid: oversize"] == 1
            assert list(bridge.engine.knobs) == ["desk_knob"]
