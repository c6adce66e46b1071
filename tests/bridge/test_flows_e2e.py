"""Flows end to end through a real broker: the example config turns a knob into a light
controller, and a simulated Zigbee2MQTT light follows it with no Home Assistant in the loop."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from knobflow.bridge.service import Bridge
from knobflow.cli import main
from knobflow.config import apply_env, load_config
from knobflow.simulate import SimulatedKnob, Step
from support.mosquitto import Mosquitto

from .helpers import TIMEOUT, Probe, Topics, devices_payload, make_config, running

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "light-controller.yaml"
KNOB, LIGHT = "living_room_knob", "living_room_light"


class SimulatedLight:
    """A Zigbee2MQTT light: applies `<base>/<light>/set` commands as Zigbee2MQTT does."""

    def __init__(self) -> None:
        self.state: dict[str, Any] = {"state": "OFF", "brightness": 100, "color_temp": 300}
        self.commands: list[dict[str, Any]] = []
        self.received = asyncio.Event()

    def apply(self, command: dict[str, Any]) -> None:
        self.commands.append(command)
        s = self.state
        if "state" in command:
            s["state"] = (
                ("OFF" if s["state"] == "ON" else "ON")
                if command["state"] == "TOGGLE"
                else command["state"]
            )
        if "brightness" in command:
            s["brightness"] = command["brightness"]
        if "brightness_step" in command:
            s["brightness"] = max(0, min(254, s["brightness"] + command["brightness_step"]))
            s["state"] = "ON" if s["brightness"] > 0 else "OFF"
        if "color_temp" in command:
            s["color_temp"] = command["color_temp"]
        if "color_temp_step" in command:
            s["color_temp"] = max(153, min(500, s["color_temp"] + command["color_temp_step"]))
        if "scene_recall" in command:
            s["scene"] = command["scene_recall"]
        self.received.set()

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(TIMEOUT):
            while len(self.commands) < count:
                self.received.clear()
                await self.received.wait()


@contextlib.asynccontextmanager
async def light_on(host: str, port: int, light: SimulatedLight) -> AsyncIterator[None]:
    async with aiomqtt.Client(host, port) as client:
        await client.subscribe(f"zigbee2mqtt/{LIGHT}/set")

        async def serve() -> None:
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                light.apply(json.loads(message.payload))

        task = asyncio.create_task(serve())
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def session(knob: SimulatedKnob) -> list[Step]:
    """Press, turn up, turn down, turn while held, double press, long press, fast spin, wiggle."""
    steps = [
        *knob.press(0),
        *knob.turn([36, 36], at=1),
        *knob.turn([-24], at=3),
        *knob.hold(5), *knob.turn([24], at=5.2, pressed=True), *knob.release(6.5),
        *knob.double_press(8),
        *knob.hold(9), *knob.release(10),
        *knob.turn([36, 216], at=11),
        *knob.turn([12, -24, 24], at=13, interval=0.3),
    ]  # fmt: skip
    return sorted(steps, key=lambda s: s.at)


@pytest.mark.asyncio
async def test_the_example_config_drives_a_light_through_flows_alone(
    own_mosquitto: Mosquitto,
) -> None:
    env = {"KNOBFLOW_MQTT_HOST": own_mosquitto.host, "KNOBFLOW_MQTT_PORT": str(own_mosquitto.port)}
    config = apply_env(load_config(EXAMPLE), env)
    light = SimulatedLight()
    knob = SimulatedKnob(KNOB, "0x54ef4410000a1b2c")
    async with light_on(own_mosquitto.host, own_mosquitto.port, light), running(Bridge(config)):
        async with Probe(own_mosquitto.host, own_mosquitto.port, []) as probe:
            for step in session(knob):
                await probe.publish(step.topic, step.payload, qos=0)
        await light.wait_for(14)
    assert light.commands == [
        {"state": "TOGGLE"},
        {"brightness_step": 50, "transition": 0.4},
        {"brightness_step": 50, "transition": 0.4},
        {"brightness_step": -34, "transition": 0.4},
        {"color_temp_step": -48, "transition": 0.4},
        {"state": "ON", "brightness": 254},
        {"state": "ON", "brightness": 5, "color_temp": 454},
        {"brightness_step": 50, "transition": 0.4},
        {"brightness_step": 302, "transition": 0.4},
        {"state": "ON", "brightness": 254, "transition": 0.2},
        {"brightness_step": 17, "transition": 0.4},
        {"brightness_step": -34, "transition": 0.4},
        {"brightness_step": 34, "transition": 0.4},
        {"scene_recall": 1},
    ]
    assert light.state == {"state": "ON", "brightness": 254, "color_temp": 454, "scene": 1}


@pytest.mark.asyncio
async def test_a_throttled_flow_sends_the_latest_value_when_the_interval_ends(
    mosquitto: Mosquitto, topics: Topics
) -> None:
    """A dial `value` flow with min_interval_ms: the steps in between collapse and the final
    position arrives when the interval ends, sent by the bridge's own timer."""
    host, port = mosquitto.host, mosquitto.port
    target = f"{topics.root}/lamp/set"
    config = make_config(
        host, port, topics,
        knobs={"desk": None},
        dial={"min": 0, "max": 100},
        flows=[{"gesture": "rotate_c*w", "topic": target, "payload": {"brightness": "{{ value | int }}"},
                "min_interval_ms": 2000}],
    )  # fmt: skip
    knob = SimulatedKnob("desk", "0x01", base_topic=topics.z2m)
    async with Probe(host, port, [target]) as probe, running(Bridge(config)) as bridge:
        for step in knob.turn([36, 36, 36], at=0):
            await probe.publish(step.topic, step.payload, qos=0)
        first = await probe.expect(lambda m: m.topic == target)
        last = await probe.expect(
            lambda m: m.topic == target, after=probe.messages.index(first) + 1
        )
        assert bridge.flows is not None
        assert bridge.flows.counters["flows.throttled"] == 1
    assert (first.json(), last.json()) == ({"brightness": 10}, {"brightness": 30})
    assert last.at - first.at > 1.5  # held back for the interval, not sent at once
    assert [m.json() for m in probe.messages if m.topic == target] == [
        {"brightness": 10},
        {"brightness": 30},
    ]


@pytest.mark.asyncio
async def test_dial_values_survive_a_restart_of_the_bridge(
    mosquitto: Mosquitto, topics: Topics
) -> None:
    """Run one turns the dial to 10; run two, a new bridge, continues from 10."""
    host, port = mosquitto.host, mosquitto.port
    config = make_config(host, port, topics, dial={"min": 0, "max": 100})
    knob = SimulatedKnob("desk_knob", "0x54ef4410000a1b2c", base_topic=topics.z2m)
    devices = devices_payload(("desk_knob", "0x54ef4410000a1b2c"))
    async with Probe(host, port, [f"{topics.out}/desk_knob/#"]) as probe:
        await probe.publish(f"{topics.z2m}/bridge/devices", devices, retain=True)
        for run in (1, 2):
            mark = probe.mark()
            async with running(Bridge(config)):
                for step in knob.turn([36], at=0):
                    await probe.publish(step.topic, step.payload)
                turned = await probe.expect_gesture(topics, "desk_knob", "rotate_cw", after=mark)
                await probe.expect(
                    lambda m, run=run: (
                        m.topic.endswith("/state") and m.json().get("value") == 10.0 * run
                    ),
                    after=mark,
                )
            assert turned["value"] == pytest.approx(10.0 * run)


def test_run_refuses_a_hostile_flow_before_starting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "k.yaml"
    config.write_text(
        "flows:\n  - gesture: press\n    topic: a/b\n    payload: \"{{ ''.__class__.__mro__ }}\"\n"
    )
    assert main(["run", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert f"{config}: flows[0].payload: fails for gesture 'press': refused by the sandbox" in err


@pytest.mark.asyncio
async def test_composites_get_device_triggers_and_event_types(
    mosquitto: Mosquitto, topics: Topics
) -> None:
    """A composite from the config is discovered like a built-in gesture."""
    host, port = mosquitto.host, mosquitto.port
    ieee = "0x54ef4410000a1b2c"
    config = make_config(
        host, port, topics, composites={"wiggle": {"sequence": ["rotate_cw", "rotate_ccw"]}}
    )
    async with Probe(host, port, [f"{topics.ha}/#"]) as probe:
        await probe.publish(
            f"{topics.z2m}/bridge/devices", devices_payload(("desk_knob", ieee)), retain=True
        )
        async with running(Bridge(config)):
            trigger = await probe.expect(
                lambda m: m.topic.endswith(f"/{ieee}_wiggle/config") and bool(m.payload)
            )
            event = await probe.expect(
                lambda m: m.topic.endswith(f"/{ieee}_gesture/config") and bool(m.payload)
            )
    assert trigger.topic.startswith(f"{topics.ha}/device_automation/")
    assert trigger.json()["subtype"] == "wiggle"
    assert trigger.json()["payload"] == "wiggle"
    assert event.json()["event_types"][-1] == "wiggle"
