"""The bridge under faults: a broker that dies, floods of bad input, a full outbox."""

from __future__ import annotations

import asyncio
import gc
import itertools
import logging
import os
import sys
import time

import pytest

from knobflow.bridge.outbox import Publication
from knobflow.bridge.service import Bridge
from knobflow.engine import Gesture
from knobflow.simulate import SimulatedKnob
from support.mosquitto import Mosquitto, free_port

from .helpers import (
    TIMEOUT,
    GestureLog,
    Probe,
    Topics,
    devices_payload,
    errors_in,
    make_config,
    running,
)

IEEE = "0x54ef4410000a1b2c"
RECONNECT_BOUND = 5.0  # seconds from the broker's return to the bridge's new connection


@pytest.mark.asyncio
async def test_the_broker_killed_mid_rotation_and_restarted(
    own_mosquitto: Mosquitto, topics: Topics, caplog: pytest.LogCaptureFixture
) -> None:
    """The open rotation closes by its timeout while the broker is away; the bridge
    reconnects within 5 s of its return, publishes what waited, discovery and status,
    and gestures flow again."""
    caplog.set_level(logging.DEBUG)
    broker = own_mosquitto
    host, port = broker.host, broker.port
    made = GestureLog()
    bridge = Bridge(make_config(host, port, topics, rotation_timeout_ms=600), on_gesture=made)
    knob = SimulatedKnob("desk_knob", IEEE, base_topic=topics.z2m)
    async with Probe(host, port, [f"{topics.out}/#"]) as before:
        await before.publish(
            f"{topics.z2m}/bridge/devices", devices_payload(("desk_knob", IEEE)), retain=True
        )
        async with running(bridge):
            for step in knob.turn([12, 24], at=0)[:2]:  # start and one report: no stop
                await before.publish(step.topic, step.payload)
            await before.expect_gesture(topics, "desk_knob", "rotate_cw", after=0)
            first_cw = await made.expect("rotate_cw")
            await made.expect("rotate_cw", after=made.gestures.index(first_cw) + 1)

            broker.kill()
            await asyncio.wait_for(bridge.disconnected.wait(), TIMEOUT)
            stop = await made.expect("rotate_stop")
            assert stop["reason"] == "timeout" and stop["angle"] == 36
            assert bridge.disconnected.is_set()
            waiting = [p.payload for p in bridge.outbox.pending() if p.topic.endswith("/gesture")]
            assert any('"rotate_stop"' in p for p in waiting)

            broker.start()
            back = time.monotonic()
            await asyncio.wait_for(bridge.connected.wait(), TIMEOUT)
            assert time.monotonic() - back < RECONNECT_BOUND
            async with Probe(host, port, [f"{topics.out}/#", f"{topics.ha}/#"]) as after:
                status = await after.expect(lambda m: m.topic == f"{topics.out}/status")
                assert status.text == "online"
                event = f"{topics.ha}/event/{topics.out.replace('/', '_')}/{IEEE}_gesture/config"
                await after.expect(lambda m: m.topic == event and bool(m.payload))
                await asyncio.wait_for(bridge.ready.wait(), TIMEOUT)
                for step in knob.press(0):
                    await after.publish(step.topic, step.payload)
                await after.expect_gesture(topics, "desk_knob", "press")
            # the outbox is first in, first out: the press came after the stop
            assert not [p for p in bridge.outbox.pending() if p.topic.endswith("/gesture")]
    assert bridge.counters["reconnects"] == 1
    assert errors_in(caplog.records) == []
    assert "Traceback" not in caplog.text and "never retrieved" not in caplog.text


MALFORMED = [
    b"{",
    b"[]",
    b"NaN",
    b'"single"',
    b'{"action": 5}',
    b'{"action": "rotation", "action_rotation_angle": "12"}',
    b'{"action": "rotation", "action_rotation_angle": 1e400}',
    b'{"action": "rotation", "action_rotation_angle": 10000000}',
    b'{"action": "rotation", "action_rotation_button_state": "sideways"}',
    b"\xff\xfe",
]


def _rss() -> int:
    """Resident memory of this process in bytes (Linux)."""
    with open("/proc/self/statm", encoding="ascii") as stream:
        return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def _flood(probe: Probe, topics: Topics, knob: str, count: int) -> None:
    """``count`` malformed knob messages and ``count`` of other devices, in batches."""
    assert probe.client is not None
    probe.client.pending_calls_threshold = 1_000_000  # many publishes in flight on purpose
    bad = itertools.cycle(MALFORMED)
    for first in range(0, count, 500):
        batch = []
        for n in range(first, min(count, first + 500)):
            batch.append(probe.publish(f"{topics.z2m}/{knob}", next(bad), qos=0))
            batch.append(probe.publish(f"{topics.z2m}/lamp_{n}", b'{"state": "ON"}', qos=0))
        await asyncio.gather(*batch)


@pytest.mark.asyncio
async def test_floods_of_malformed_and_unknown_device_messages(
    mosquitto: Mosquitto, topics: Topics, caplog: pytest.LogCaptureFixture
) -> None:
    """10,000 malformed messages on a knob's topic and 10,000 messages of unknown
    devices: no crash, exact counters, no state for non-knobs, memory flat."""
    host, port = mosquitto.host, mosquitto.port
    knob = SimulatedKnob("desk_knob", IEEE, base_topic=topics.z2m)
    async with Probe(host, port, [f"{topics.out}/#"]) as probe:
        await probe.publish(
            f"{topics.z2m}/bridge/devices", devices_payload(("desk_knob", IEEE)), retain=True
        )
        async with running(Bridge(make_config(host, port, topics))) as bridge:
            await _flood(probe, topics, "desk_knob", 500)  # warm-up: caches, counters' keys
            await probe.publish(knob.topic, knob.message(action="single"))
            await probe.expect_gesture(topics, "desk_knob", "press")
            gc.collect()
            blocks, rss = sys.getallocatedblocks(), _rss()
            await _flood(probe, topics, "desk_knob", 10_000)
            await probe.publish(knob.topic, knob.message(action="double"))
            await probe.expect_gesture(topics, "desk_knob", "double_press", timeout=60)
            gc.collect()
            grown_blocks, grown_rss = sys.getallocatedblocks() - blocks, _rss() - rss
            counters = bridge.engine.counters
            assert counters["invalid"] == 10_500
            assert counters["ignored.not_a_knob"] == 10_500
            assert counters["events"] == 2 and counters["gestures"] == 2
            assert list(bridge.engine.knob_names_seen()) == ["desk_knob"]
            # state per unknown topic would be 10,000+ objects; the bounds are generous
            assert grown_blocks < 3_000, f"{grown_blocks} more memory blocks"
            assert grown_rss < 16 * 1024 * 1024, f"resident memory grew by {grown_rss} bytes"
    assert [g["gesture"] for g in probe.gestures(topics, "desk_knob")] == ["press", "double_press"]
    assert errors_in(caplog.records) == []


@pytest.mark.asyncio
async def test_while_the_broker_is_away_the_outbox_keeps_the_newest_gestures(
    topics: Topics,
) -> None:
    """Nothing to connect to: gestures queue up to the bound, the oldest are dropped and
    counted, and the retained state stays one message per knob."""
    bridge = Bridge(make_config("127.0.0.1", free_port(), topics), outbox_limit=100)
    knob = SimulatedKnob("desk_knob", IEEE, base_topic=topics.z2m)
    bridge.handle(
        f"{topics.z2m}/bridge/devices", devices_payload(("desk_knob", IEEE)).encode(), True
    )
    for _ in range(150):
        bridge.handle(knob.topic, knob.message(action="single").encode(), False)
    pending = bridge.outbox.pending()
    gestures = [p for p in pending if p.topic.endswith("/gesture")]
    assert len(gestures) == 100 and bridge.outbox.dropped == 50
    own = [p.topic for p in pending if p.retain and p.topic.startswith(topics.out)]
    assert own == [f"{topics.out}/desk_knob/state"]
    assert "dropped=50" in bridge.counter_text()
    assert isinstance(pending[0], Publication)


@pytest.mark.asyncio
async def test_a_failing_message_is_logged_and_the_bridge_goes_on(
    mosquitto: Mosquitto,
    topics: Topics,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug that raises on one message costs that message, not the service."""
    host, port = mosquitto.host, mosquitto.port
    knob = SimulatedKnob("desk_knob", IEEE, base_topic=topics.z2m)
    async with Probe(host, port, [f"{topics.out}/#"]) as probe:
        await probe.publish(
            f"{topics.z2m}/bridge/devices", devices_payload(("desk_knob", IEEE)), retain=True
        )
        async with running(Bridge(make_config(host, port, topics))) as bridge:
            feed = bridge.engine.feed

            def broken(
                topic: str, payload: object, now: float, retain: bool = False
            ) -> list[Gesture]:
                if payload == b"boom":
                    raise RuntimeError("a bug")
                return feed(topic, payload, now, retain)

            monkeypatch.setattr(bridge.engine, "feed", broken)
            await probe.publish(knob.topic, b"boom")
            await probe.publish(knob.topic, knob.message(action="single"))
            await probe.expect_gesture(topics, "desk_knob", "press")
            assert bridge.counters["errors"] == 1 and bridge.connected.is_set()
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(failures) == 1 and "could not handle a message" in failures[0].getMessage()
