"""The pyscript app in real pyscript 1.7.0 inside a real Home Assistant, over a real broker.

MQTT message in, ``knobflow_gesture`` event out; a stop made by the app's timer task;
a reload, after which each gesture arrives exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip(
    "pytest_homeassistant_custom_component",
    reason="Home Assistant's test environment is not installed: run `nox -s homeassistant`",
)

from ps_harness import PyscriptApp, bridge_devices

DEVICES = "zigbee2mqtt/bridge/devices"
KNOB = "desk_knob"
KNOB_TOPIC = f"zigbee2mqtt/{KNOB}"
ROTATION_TIMEOUT = 0.4


def turn(action: str, angle: float, ms: float) -> dict[str, Any]:
    return {
        "action": action,
        "action_rotation_angle": angle,
        "action_rotation_time": ms,
        "action_rotation_button_state": "released",
        "battery": 90,
    }


def names(gestures: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(g["gesture"], g.get("reason")) for g in gestures]


@pytest.fixture(autouse=True)
def no_warnings(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail a test when pyscript (or the app, which logs through it) warned or erred
    unexpectedly. Tests that expect such a line read it and call ``caplog.clear()``."""
    caplog.set_level(logging.INFO)
    yield
    bad = [
        f"{r.levelname} {r.name}: {r.getMessage()}"
        for r in caplog.get_records("call")
        if r.levelno >= logging.WARNING and r.name.startswith("custom_components.pyscript")
    ]
    assert not bad, "unexpected log lines:\n" + "\n".join(bad)


async def start(app: PyscriptApp, config: Any = None) -> None:
    """The retained knob list first (as Zigbee2MQTT keeps it), then pyscript with the app;
    returns once the knob's own trigger is subscribed."""
    await app.publish(DEVICES, bridge_devices(KNOB), retain=True)
    await app.start_pyscript(config)
    await app.subscribed(KNOB_TOPIC)


async def test_a_knob_message_fires_knobflow_gesture(app: PyscriptApp) -> None:
    """A press published by Zigbee2MQTT becomes a knobflow_gesture event with its fields."""
    await start(app)
    sent = await app.publish(KNOB_TOPIC, {"action": "single", "battery": 90})
    [press] = await app.wait_events(1)
    assert set(press.data) == {"knob", "gesture", "t"}
    assert press.data["knob"] == KNOB
    assert press.data["gesture"] == "press"
    assert sent <= press.data["t"] <= press.at


async def test_a_lost_stop_is_closed_by_the_timer_task(app: PyscriptApp) -> None:
    """With no stop_rotating, rotate_stop (reason timeout) fires at the rotation timeout
    after the last frame, with no further message."""
    await start(app, {"rotation_timeout_ms": ROTATION_TIMEOUT * 1000})
    await app.publish(KNOB_TOPIC, turn("start_rotating", 12, 200))
    await app.publish(KNOB_TOPIC, turn("rotation", 36, 700))
    received = await app.wait_events(4)
    assert names(app.gestures()) == [
        ("rotate_start", None),
        ("rotate_cw", None),
        ("rotate_cw", None),
        ("rotate_stop", "timeout"),
    ]
    last_step, stop = received[2], received[3]
    assert stop.data["t"] == pytest.approx(last_step.data["t"] + ROTATION_TIMEOUT, abs=1e-6)
    assert stop.data["angle"] == 36
    assert stop.at - stop.data["t"] < 0.5  # the task woke on time


@pytest.mark.parametrize("how", ["service", "config_change"])
async def test_after_a_reload_each_gesture_arrives_once(
    app: PyscriptApp, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    """A reload (``pyscript.reload`` naming the app, or after its config changed) replaces
    the triggers and ends the old timer task: no gesture twice, no stop from the old
    engine's turn."""
    config = {"rotation_timeout_ms": ROTATION_TIMEOUT * 1000}
    await start(app, config)
    await app.publish(KNOB_TOPIC, turn("start_rotating", 90, 200))  # its timer is sleeping
    await app.wait_events(2)
    app.events.clear()

    caplog.clear()
    if how == "service":
        await app.reload("apps.knobflow")
    else:
        app.write_config({**config, "fast_spin_dps": 720})
        await app.reload()
    reloaded = [r for r in caplog.get_records("call") if r.getMessage().startswith("Reloaded ")]
    assert len(reloaded) == 1, "the app was not reloaded"
    await app.subscribed(KNOB_TOPIC)
    await app.publish(KNOB_TOPIC, {"action": "single"})
    await app.publish(KNOB_TOPIC, turn("start_rotating", -12, 200))
    await app.wait_events(4)  # press, start, step, stop by the new timer task
    # A marker after everything: anything doubled would have come before it.
    await app.publish(KNOB_TOPIC, {"action": "double"})
    await app.wait_events(5)
    assert names(app.gestures()) == [
        ("press", None),
        ("rotate_start", None),
        ("rotate_ccw", None),
        ("rotate_stop", "timeout"),
        ("double_press", None),
    ]


async def test_a_bad_config_is_logged_naming_the_key(
    app: PyscriptApp, caplog: pytest.LogCaptureFixture
) -> None:
    """The app logs the entry, key and value in Home Assistant's log and starts nothing."""
    await app.start_pyscript({"rotation_timeout_ms": -1})
    errors = [
        r.getMessage()
        for r in caplog.get_records("call")
        if r.levelno >= logging.ERROR and r.name.startswith("custom_components.pyscript")
    ]
    assert len(errors) == 1, errors
    assert errors[0].startswith(
        "knobflow not started: pyscript.apps.knobflow: rotation_timeout_ms: -1 "
    )
    caplog.clear()
