"""The retained state is published when something its readers use changed; link quality
alone at most once a minute (on the router's clock, no broker needed, no waiting)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from knobflow.bridge._state import LINKQUALITY_EVERY, KnobStates
from knobflow.bridge.events import BridgeEvent, GesturePublished, StateChanged
from knobflow.bridge.outbox import Outbox, Publication
from knobflow.bridge.router import Router
from knobflow.config import config_from_mapping

from .helpers import devices_payload

T0 = 1_700_000_000.0


class FakeClock:
    def __init__(self) -> None:
        self.t = T0

    def now(self) -> float:
        return self.t


def _router(clock: FakeClock) -> tuple[Router, Outbox]:
    config = config_from_mapping({"homeassistant": {"discovery": False}}, "test")
    outbox = Outbox(1000)
    router = Router(
        config,
        outbox,
        Counter(),
        flows=None,
        on_gesture=None,
        wake=lambda: None,
        unsubscribe=lambda _: None,
        clock=clock,  # type: ignore[arg-type]
    )
    return router, outbox


def _states(outbox: Outbox) -> list[dict[str, Any]]:
    out = []
    while (pub := outbox.take()) is not None:
        if pub.topic == "knobflow/desk/state":
            out.append(json.loads(pub.payload))
    return out


@pytest.mark.asyncio
async def test_link_quality_alone_does_not_republish_but_a_battery_change_does() -> None:
    clock = FakeClock()
    router, outbox = _router(clock)
    router.handle("zigbee2mqtt/bridge/devices", devices_payload(("desk", "0x01")).encode(), True)
    router.handle("zigbee2mqtt/desk", b'{"battery": 90, "linkquality": 100}')
    assert [s["battery"] for s in _states(outbox)] == [90]

    for step, quality in enumerate((110, 95, 120), start=1):
        clock.t = T0 + step
        router.handle("zigbee2mqtt/desk", json.dumps({"battery": 90, "linkquality": quality}))
    assert _states(outbox) == []
    assert router.timer.deadline == pytest.approx(T0 + LINKQUALITY_EVERY)

    clock.t = T0 + 5
    router.handle("zigbee2mqtt/desk", b'{"battery": 85, "linkquality": 120}')
    states = _states(outbox)
    assert [(s["battery"], s["linkquality"]) for s in states] == [(85, 120)]
    assert router.timer.deadline is None  # nothing held back any more
    router.close()


@pytest.mark.asyncio
async def test_rotations_publish_the_state_for_their_lifecycle_not_for_each_frame() -> None:
    clock = FakeClock()
    router, outbox = _router(clock)
    router.handle("zigbee2mqtt/bridge/devices", devices_payload(("desk", "0x01")).encode(), True)
    _states(outbox)
    frame = {"action": "rotation", "action_rotation_angle": 12, "linkquality": 80}
    for i in range(10):
        clock.t = T0 + i * 0.1
        router.handle("zigbee2mqtt/desk", json.dumps({**frame, "linkquality": 80 + i}))
    dials = [s["dial"] for s in _states(outbox)]
    assert len(dials) == 1  # the rotation started; the other frames changed link quality alone
    router.close()


def test_a_held_back_link_quality_goes_out_at_its_deadline() -> None:
    state: dict[str, Any] = {"button": "idle", "linkquality": 100}
    sent: list[dict[str, Any]] = []
    states = KnobStates(lambda _: dict(state), lambda _, s: sent.append(s))
    states.update("desk", T0)
    state["linkquality"] = 50
    states.update("desk", T0 + 1)
    assert len(sent) == 1
    assert states.next_deadline() == T0 + LINKQUALITY_EVERY
    states.tick(T0 + LINKQUALITY_EVERY - 0.001)
    assert len(sent) == 1
    states.tick(T0 + LINKQUALITY_EVERY)
    assert sent[-1]["linkquality"] == 50
    assert states.next_deadline() is None
    state["linkquality"] = 60  # a minute after the last one: published at once
    states.update("desk", T0 + 2 * LINKQUALITY_EVERY)
    assert sent[-1]["linkquality"] == 60


def test_link_quality_inside_a_telemetry_mapping_counts_the_same() -> None:
    telemetry = {"battery": 90, "linkquality": 100}
    sent: list[dict[str, Any]] = []
    states = KnobStates(lambda _: {"telemetry": telemetry}, lambda _, s: sent.append(s))
    states.update("desk", T0)
    telemetry["linkquality"] = 7  # the same mapping changed in place
    states.update("desk", T0 + 1)
    assert len(sent) == 1
    telemetry["battery"] = 80
    states.update("desk", T0 + 2)
    assert len(sent) == 2


@pytest.mark.asyncio
async def test_listeners_see_each_gesture_and_state_in_order() -> None:
    clock = FakeClock()
    router, outbox = _router(clock)
    seen: list[BridgeEvent] = []
    stop = router.listen(seen.append)
    router.handle("zigbee2mqtt/bridge/devices", devices_payload(("desk", "0x01")).encode(), True)
    router.handle("zigbee2mqtt/desk", b'{"action": "single", "battery": 90}')
    kinds = [(type(e).__name__, getattr(e, "topic", "")) for e in seen]
    assert ("GesturePublished", "knobflow/desk/gesture") in kinds
    assert kinds[-1] == ("StateChanged", "knobflow/desk/state")
    gestures = [e for e in seen if isinstance(e, GesturePublished)]
    assert gestures[0].gesture.knob == "desk"
    last = seen[-1]
    assert isinstance(last, StateChanged)
    assert last.state["battery"] == 90
    published: list[Publication] = []
    while (pub := outbox.take()) is not None:
        published.append(pub)
    assert json.loads(published[-1].payload) == dict(last.state)
    stop()
    router.handle("zigbee2mqtt/desk", b'{"action": "single", "battery": 80}')
    assert len(seen) == len(kinds)
    router.close()


@pytest.mark.asyncio
async def test_a_failing_listener_is_counted_and_the_bridge_goes_on() -> None:
    clock = FakeClock()
    router, outbox = _router(clock)

    def broken(event: BridgeEvent) -> None:
        raise RuntimeError("listener bug")

    router.listen(broken)
    router.handle("zigbee2mqtt/bridge/devices", devices_payload(("desk", "0x01")).encode(), True)
    router.handle("zigbee2mqtt/desk", b'{"action": "single"}')
    assert router.counters["errors"] >= 1
    assert any(p.topic == "knobflow/desk/gesture" for p in iter(outbox.take, None))
    router.close()
