"""Dial values across restarts, and the counters in the log."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from knobflow.bridge.service import Bridge
from knobflow.simulate import SimulatedKnob
from support.mosquitto import Mosquitto

from .helpers import Probe, Topics, devices_payload, make_config, running

IEEE = "0x54ef4410000a1b2c"


@pytest.mark.asyncio
async def test_dial_values_continue_from_the_retained_state_of_an_earlier_run(
    mosquitto: Mosquitto, topics: Topics
) -> None:
    host, port = mosquitto.host, mosquitto.port
    config = make_config(host, port, topics, dial={"min": 0, "max": 100})
    knob = SimulatedKnob("desk_knob", IEEE, base_topic=topics.z2m)
    earlier = {"button": "idle", "dial": "idle", "value": 42.0}
    async with Probe(host, port, [f"{topics.out}/desk_knob/gesture"]) as probe:
        await probe.publish(f"{topics.out}/desk_knob/state", json.dumps(earlier), retain=True)
        await probe.publish(
            f"{topics.z2m}/bridge/devices", devices_payload(("desk_knob", IEEE)), retain=True
        )
        async with running(Bridge(config)):
            for step in knob.turn([36], at=0):
                await probe.publish(step.topic, step.payload)
            turned = await probe.expect_gesture(topics, "desk_knob", "rotate_cw")
    assert turned["value"] == pytest.approx(52.0)  # 42 + 36° x 100/360


class _Seen(logging.Handler):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.found = asyncio.Event()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if self.text in message:
            self.messages.append(message)
            self.found.set()


@pytest.mark.asyncio
async def test_counters_are_logged_periodically_when_they_change(
    mosquitto: Mosquitto, topics: Topics
) -> None:
    host, port = mosquitto.host, mosquitto.port
    seen = _Seen("counters: ")
    logger = logging.getLogger("knobflow.bridge")
    logger.addHandler(seen)
    level = logger.level
    logger.setLevel(logging.INFO)
    knob = SimulatedKnob("desk_knob", IEEE, base_topic=topics.z2m)
    try:
        async with Probe(host, port, [f"{topics.out}/#"]) as probe:
            await probe.publish(
                f"{topics.z2m}/bridge/devices", devices_payload(("desk_knob", IEEE)), retain=True
            )
            bridge = Bridge(make_config(host, port, topics), stats_interval=0.05)
            async with running(bridge):
                await probe.publish(knob.topic, knob.message(action="single"))
                await probe.expect_gesture(topics, "desk_knob", "press")
                while not any("gestures=1" in m for m in seen.messages):
                    seen.found.clear()
                    await asyncio.wait_for(seen.found.wait(), 10)
    finally:
        logger.removeHandler(seen)
        logger.setLevel(level)
    periodic = [m for m in seen.messages if m.startswith("counters: ")]
    assert len(periodic) == len(set(periodic))  # only when they changed
    assert "published=" in periodic[-1] and "messages=" in periodic[-1]
    assert seen.messages[-1].startswith("stopped; counters: ")
