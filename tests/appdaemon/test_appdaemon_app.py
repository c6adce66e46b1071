"""The AppDaemon app in real AppDaemon 4.5: Zigbee2MQTT payloads in, gesture messages out.

One AppDaemon runs the repository's example ``apps.yaml`` (with shorter timeouts and
a namespace for events) for the whole module; each test uses knobs of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("appdaemon", reason="AppDaemon is not installed here: run `nox -s appdaemon`")

import yaml
from ad_harness import (
    EXAMPLE_APPS_YAML,
    TIMEOUT,
    AppDaemonProcess,
    TestClient,
    bridge_devices,
)
from tests.support.mosquitto import Mosquitto

HERE = Path(__file__).parent
EVENTS = "knobflow_events"  # the namespace the app fires knobflow_gesture in here
ROTATION_TIMEOUT = 0.6
HOLD_TIMEOUT = 0.8
KNOBS = (
    "desk_knob",
    "office/knob",
    "lost_knob",
    "held_knob",
    "hold_knob",
    "old_name",
    "event_knob",
    "probe_knob",
)
TIMING = ("t", "held_ms", "duration_ms")  # depend on arrival times


def frame(action: str, angle: float, ms: float, *, held: bool = False) -> dict[str, Any]:
    """A Zigbee2MQTT 2.x rotation frame of the knob."""
    return {
        "action": action,
        "action_rotation_angle": angle,
        "action_rotation_time": ms,
        "action_rotation_button_state": "pressed" if held else "released",
        "battery": 90,
        "linkquality": 160,
        "operation_mode": "event",
    }


def untimed(gestures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The gestures without the fields that depend on when messages arrived."""
    return [{k: v for k, v in g.items() if k not in TIMING} for g in gestures]


@pytest.fixture(scope="module")
def appdaemon(
    broker: Mosquitto, client: TestClient, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppDaemonProcess]:
    """AppDaemon with the example app entry, started after the retained ``bridge/devices``."""
    client.publish("zigbee2mqtt/bridge/devices", bridge_devices(*KNOBS), retain=True)
    apps = yaml.safe_load(EXAMPLE_APPS_YAML.read_text(encoding="utf-8"))
    apps["knobflow"].update(
        ha_namespace=EVENTS,
        rotation_timeout_ms=ROTATION_TIMEOUT * 1000,
        hold_timeout_ms=HOLD_TIMEOUT * 1000,
    )
    apps["echo"] = {"module": "event_echo", "class": "EventEcho", "listen_namespace": EVENTS}
    process = AppDaemonProcess(
        tmp_path_factory.mktemp("appdaemon"),
        broker.port,
        apps,
        extra_apps={"event_echo.py": HERE / "event_echo.py"},
        namespaces=(EVENTS,),
    )
    process.start()
    try:
        process.wait_for_log(r"App initialization complete")
        _wait_until_listening(client)
        yield process
    finally:
        process.stop()


def _wait_until_listening(client: TestClient) -> None:
    """Press the probe knob until its gesture comes back: the app's subscription is live."""
    for _ in range(int(TIMEOUT / 0.25)):
        client.publish("zigbee2mqtt/probe_knob", {"action": "single"})
        try:
            client.take(1, "knobflow/probe_knob/", timeout=0.25)
        except AssertionError:
            continue
        return
    raise AssertionError("the app never answered the probe knob")


@pytest.fixture(autouse=True)
def clean_log(appdaemon: AppDaemonProcess, client: TestClient) -> Iterator[None]:
    """Start each test with no messages pending; end it with no warning or error logged."""
    client.drain()
    before = len(appdaemon.log())
    yield
    new = appdaemon.log()[before:]
    bad = [line for line in new.splitlines() if re.search(r"WARNING|ERROR|Traceback", line)]
    assert not bad, "AppDaemon logged:\n" + "\n".join(bad)


def test_button_actions_become_press_gestures(client: TestClient) -> None:
    """single, double, hold and release give press, double_press, hold, release and long_press."""
    knob = "desk_knob"
    for action in ("single", "double", "hold", "release"):
        client.publish(f"zigbee2mqtt/{knob}", {"action": action, "battery": 90})
    got = client.gestures(5)
    assert untimed(got) == [
        {"knob": knob, "gesture": "press"},
        {"knob": knob, "gesture": "double_press"},
        {"knob": knob, "gesture": "hold"},
        {"knob": knob, "gesture": "release", "rotated": False, "reason": "release"},
        {"knob": knob, "gesture": "long_press"},
    ]
    assert got[3]["held_ms"] == got[4]["held_ms"] >= 0


def test_a_turn_gives_start_steps_and_stop_on_the_knobs_topic(client: TestClient) -> None:
    """A turn with a device stop, on a knob whose name holds a slash."""
    knob = "office/knob"
    client.publish(f"zigbee2mqtt/{knob}", frame("start_rotating", 12, 200))
    client.publish(f"zigbee2mqtt/{knob}", frame("rotation", 36, 700))
    client.publish(f"zigbee2mqtt/{knob}", frame("stop_rotating", 36, 900))
    messages = client.take(4)
    assert {m.topic for m in messages} == {f"knobflow/{knob}/gesture"}
    got = [m.json() for m in messages]
    assert untimed(got) == [
        {"knob": knob, "gesture": "rotate_start", "direction": "cw", "angle": 12},
        {
            "knob": knob,
            "gesture": "rotate_cw",
            "delta": 12,
            "angle": 12,
            "velocity": 60.0,
            "direction": "cw",
        },
        {
            "knob": knob,
            "gesture": "rotate_cw",
            "delta": 24,
            "angle": 36,
            "velocity": 48.0,
            "direction": "cw",
        },
        {
            "knob": knob,
            "gesture": "rotate_stop",
            "angle": 36,
            "direction": "cw",
            "reason": "device",
        },
    ]
    assert got[3]["duration_ms"] == pytest.approx((got[3]["t"] - got[0]["t"]) * 1000, abs=0.01)


def test_a_lost_stop_is_closed_by_the_timer(client: TestClient) -> None:
    """With no stop_rotating, rotate_stop (reason timeout) comes at the rotation timeout
    after the last frame, with no further message needed."""
    knob = "lost_knob"
    client.publish(f"zigbee2mqtt/{knob}", frame("start_rotating", -12, 200))
    client.publish(f"zigbee2mqtt/{knob}", frame("rotation", -60, 700))
    first = client.take(3)
    assert [m.json()["gesture"] for m in first] == ["rotate_start", "rotate_ccw", "rotate_ccw"]
    last_step = first[-1].json()

    stop_message = client.take(1, timeout=ROTATION_TIMEOUT + TIMEOUT)[0]
    stop = stop_message.json()
    assert untimed([stop]) == [
        {
            "knob": knob,
            "gesture": "rotate_stop",
            "angle": -60,
            "direction": "ccw",
            "reason": "timeout",
        }
    ]
    assert stop["t"] == pytest.approx(last_step["t"] + ROTATION_TIMEOUT, abs=1e-6)
    # The timer fires on time (utility_delay 0.05), not at some later message.
    assert stop_message.at - stop["t"] < 0.5


def test_a_hold_without_release_ends_by_the_hold_timeout(client: TestClient) -> None:
    """hold with no release: release (reason timeout) at the hold timeout, no long_press."""
    knob = "hold_knob"
    client.publish(f"zigbee2mqtt/{knob}", {"action": "hold"})
    hold = client.gestures(1)[0]
    release_message = client.take(1, timeout=HOLD_TIMEOUT + TIMEOUT)[0]
    release = release_message.json()
    assert untimed([hold, release]) == [
        {"knob": knob, "gesture": "hold"},
        {"knob": knob, "gesture": "release", "rotated": False, "reason": "timeout"},
    ]
    assert release["t"] == pytest.approx(hold["t"] + HOLD_TIMEOUT, abs=1e-6)
    assert release_message.at - release["t"] < 0.5
    # Nothing else for this knob came in between: the next gesture is the next press.
    client.publish(f"zigbee2mqtt/{knob}", {"action": "single"})
    assert untimed(client.gestures(1)) == [{"knob": knob, "gesture": "press"}]


def test_a_turn_while_held_is_its_own_family(client: TestClient) -> None:
    """Pressed frames give rotate_while_held_*; the release reports that a turn happened."""
    knob = "held_knob"
    client.publish(f"zigbee2mqtt/{knob}", {"action": "hold"})
    client.publish(f"zigbee2mqtt/{knob}", frame("start_rotating", 24, 200, held=True))
    client.publish(f"zigbee2mqtt/{knob}", frame("stop_rotating", 24, 300, held=True))
    client.publish(f"zigbee2mqtt/{knob}", {"action": "release"})
    assert [(g["gesture"], g.get("reason")) for g in client.gestures(5)] == [
        ("hold", None),
        ("rotate_while_held_start", None),
        ("rotate_while_held_cw", None),
        ("rotate_while_held_stop", "device"),
        ("release", "release"),
    ]


def test_messages_of_other_devices_and_topics_give_nothing(client: TestClient) -> None:
    """A light's message, a knob's action copy and a knob's set topic are not knob events."""
    client.publish("zigbee2mqtt/kitchen_light", {"action": "single", "state": "ON"})
    client.publish("zigbee2mqtt/desk_knob/action", "single")
    client.publish("zigbee2mqtt/desk_knob/set", {"action": "single"})
    client.publish("zigbee2mqtt/desk_knob", {"battery": 88, "action": ""})
    client.publish("zigbee2mqtt/desk_knob", "not json")
    # A marker: a gesture made by anything above would have come before it.
    client.publish("zigbee2mqtt/desk_knob", {"action": "double"})
    assert untimed(client.gestures(1)) == [{"knob": "desk_knob", "gesture": "double_press"}]


def test_a_new_bridge_devices_list_replaces_the_knobs(client: TestClient) -> None:
    """A renamed knob: the old name gives nothing any more, the new one works at once."""
    renamed = [k for k in KNOBS if k != "old_name"] + ["new_name"]
    client.publish("zigbee2mqtt/bridge/devices", bridge_devices(*renamed), retain=True)
    client.publish("zigbee2mqtt/old_name", {"action": "single"})
    client.publish("zigbee2mqtt/new_name", {"action": "double"})
    assert untimed(client.gestures(1)) == [{"knob": "new_name", "gesture": "double_press"}]


def test_each_gesture_is_also_fired_as_an_event(client: TestClient) -> None:
    """With ha_namespace set, knobflow_gesture carries the same fields as the MQTT message."""
    knob = "event_knob"
    client.publish(f"zigbee2mqtt/{knob}", frame("start_rotating", 400, 1000))
    gestures = client.gestures(3)
    assert [g["gesture"] for g in gestures] == ["rotate_start", "rotate_cw", "fast_spin_cw"]
    events: list[dict[str, Any]] = []
    while len(events) < 3:  # earlier tests' events may still be on their way
        data = client.take(1, "test/event")[0].json()
        if data["knob"] == knob:
            # AppDaemon's fire_event adds `timeout: None` to events of a namespace without a
            # plugin (the HASS plugin takes it as its own argument and sends the rest).
            assert data.pop("timeout") is None
            events.append(data)
    assert events == gestures


@pytest.mark.parametrize(
    ("name", "entry", "expected"),
    [
        ("bad_value", {"rotation_timeout_ms": -5}, r"rotation_timeout_ms: -5 "),
        ("misspelt", {"rotaton_timeout_ms": 500}, r"rotaton_timeout_ms: "),
        ("bad_namespace", {"ha_namespace": 3}, r"ha_namespace: 3 is not a namespace"),
    ],
)
def test_a_bad_entry_is_logged_by_key_and_the_app_does_not_start(
    broker: Mosquitto, tmp_path: Path, name: str, entry: dict[str, Any], expected: str
) -> None:
    """A config error names apps.yaml, the app, the key and the value; AppDaemon refuses the app."""
    apps = {name: {"module": "knobflow_appdaemon", "class": "Knobflow", **entry}}
    process = AppDaemonProcess(tmp_path, broker.port, apps).start()
    try:
        process.wait_for_log(rf"ERROR {name}: knobflow not started: apps\.yaml: {name}: {expected}")
        process.wait_for_log(rf"App '{name}' failed to start")
        assert "knobflow listening" not in process.log()
    finally:
        process.stop()


def test_the_example_entry_runs_as_it_is(broker: Mosquitto, tmp_path: Path) -> None:
    """The example apps.yaml starts, with no HASS plugin firing no event."""
    process = AppDaemonProcess(tmp_path, broker.port, EXAMPLE_APPS_YAML).start()
    try:
        line = process.wait_for_log(r"knobflow listening on .*")
        assert line.group(0).rstrip() == (
            "knobflow listening on zigbee2mqtt/# (namespace mqtt); "
            "gestures on knobflow/<knob>/gesture"
        )
    finally:
        process.stop()
