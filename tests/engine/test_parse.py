"""Parsing Zigbee2MQTT messages of the knob: every variant of DEVICE.md, every kind of bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from knobflow.engine import Action, Engine, EngineConfig, KnobEvent, parse_message, parse_payload
from knobflow.engine.parse import MAX_PAYLOAD_BYTES, knob_name

CACHED = {"battery": 90, "linkquality": 172, "operation_mode": "event", "voltage": 2985}


def z2m(**fields: Any) -> bytes:
    """A Z2M 2.x message: the converter's fields merged with the cached state, keys sorted."""
    return json.dumps({**CACHED, **fields}, sort_keys=True).encode()


# -- what counts ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("single", Action.SINGLE),
        ("double", Action.DOUBLE),
        ("hold", Action.HOLD),
        ("release", Action.RELEASE),
        ("start_rotating", Action.START_ROTATING),
        ("rotation", Action.ROTATION),
        ("stop_rotating", Action.STOP_ROTATING),
    ],
)
def test_each_device_action_is_an_event(action: str, expected: Action) -> None:
    """Z2M 2.x: each of the seven actions is a knob event."""
    assert parse_payload(z2m(action=action)).event == KnobEvent(expected)


def test_rotation_fields_are_read_with_their_button_state() -> None:
    """Z2M 2.x since Feb 2024: cumulative angle, time, percent and button state."""
    parsed = parse_payload(
        z2m(
            action="rotation",
            action_rotation_angle=-24,
            action_rotation_angle_speed=-72,
            action_rotation_button_state="pressed",
            action_rotation_percent=-6.666666507720947,
            action_rotation_percent_speed=-20,
            action_rotation_time=700,
        )
    )
    assert parsed.event == KnobEvent(Action.ROTATION, -24, 700, -6.666666507720947, True)
    assert parsed.telemetry == CACHED


def test_home_assistant_nulls_count_as_absent() -> None:
    """Z2M with the HA extension: null rotation fields on a press are ignored."""
    payload = z2m(
        action="single",
        action_rotation_angle=None,
        action_rotation_angle_speed=None,
        action_rotation_button_state=None,
        action_rotation_percent=None,
        action_rotation_time=None,
    )
    assert parse_payload(payload).event == KnobEvent(Action.SINGLE)


def test_legacy_empty_action_follow_up_is_ignored() -> None:
    """Z2M 1.x legacy triggers: the `"action": ""` follow-up is no event, and no error."""
    parsed = parse_payload(z2m(action="", action_rotation_angle=None, action_rotation_time=None))
    assert parsed.event is None
    assert parsed.error is None
    assert parsed.telemetry == CACHED


def test_old_converter_pressed_frame_without_action_is_a_rotation_frame() -> None:
    """Converters before Feb 2024: numeric angle and no `action` key is a pressed rotation frame."""
    parsed = parse_payload(
        z2m(action_rotation_angle=12, action_rotation_angle_speed=12, action_rotation_time=200)
    )
    assert parsed.event == KnobEvent(None, 12, 200)
    assert parsed.event.is_rotation


@pytest.mark.parametrize(
    "payload",
    [
        z2m(),  # battery report / cache republish
        z2m(last_seen="2026-11-29T10:00:00Z"),
        z2m(action="shake"),  # unknown action name
        z2m(action=None),
    ],
)
def test_messages_without_a_known_action_are_telemetry_only(payload: bytes) -> None:
    """No action, a null action or an unknown name: no event, no error, telemetry kept."""
    parsed = parse_payload(payload)
    assert parsed.event is None
    assert parsed.error is None
    assert parsed.telemetry == CACHED


def test_retained_messages_give_telemetry_but_never_events() -> None:
    """A retained action (device option `retain: true`) replays on subscribe: not a gesture."""
    parsed = parse_payload(z2m(action="single", battery=55), retain=True)
    assert parsed.event is None
    assert parsed.telemetry == {**CACHED, "battery": 55}


@pytest.mark.parametrize(
    "payload",
    [
        {"action": "single"},
        '{"action": "single"}',
        b'{"action": "single"}',
        bytearray(b'{"action": "single"}'),
    ],
)
def test_payload_may_be_decoded_text_or_bytes(payload: Any) -> None:
    """A decoded object, the raw text and the raw bytes parse alike."""
    assert parse_payload(payload).event == KnobEvent(Action.SINGLE)


def test_floats_with_float32_artefacts_pass_through() -> None:
    """Percent values like 3.3333332538604736 are kept exactly as sent."""
    parsed = parse_payload(z2m(action="rotation", action_rotation_percent=3.3333332538604736))
    assert parsed.event is not None
    assert parsed.event.percent == 3.3333332538604736


# -- bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "invalid JSON"),
        (b"", "invalid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"action": "single", "battery": NaN}', "invalid JSON"),
        (b'{"action_rotation_angle": Infinity}', "invalid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'"single"', "not a JSON object"),
        (b"null", "not a JSON object"),
        (b"[" * 100_000 + b"]" * 100_000, "oversize"),
        (b"[" * 30_000 + b"]" * 30_000, "invalid JSON"),  # recursion depth
        (b'{"action": 1}', "action is not a string"),
        (b'{"action": ["single"]}', "action is not a string"),
        (b'{"action": "rotation", "action_rotation_angle": "12"}', "action_rotation_angle is not a number"),
        (b'{"action": "rotation", "action_rotation_angle": true}', "action_rotation_angle is not a number"),
        (b'{"action": "rotation", "action_rotation_angle": 1e400}', "action_rotation_angle is not finite"),
        (b'{"action": "rotation", "action_rotation_angle": 1000001}', "action_rotation_angle is out of range"),
        (b'{"action": "rotation", "action_rotation_angle": -1e7}', "action_rotation_angle is out of range"),
        (b'{"action": "rotation", "action_rotation_time": "700"}', "action_rotation_time is not a number"),
        (b'{"action": "rotation", "action_rotation_time": ' + b"9" * 400 + b"}", "action_rotation_time is too large"),
        (b'{"action": "rotation", "action_rotation_percent": {}}', "action_rotation_percent is not a number"),
        (b'{"action": "rotation", "action_rotation_button_state": "down"}', "action_rotation_button_state is neither pressed nor released"),
        (b'{"action": "rotation", "action_rotation_button_state": 1}', "action_rotation_button_state is neither pressed nor released"),
        (b'{"action": "", "action_rotation_angle": "x"}', "action_rotation_angle is not a number"),
    ],
)  # fmt: skip
def test_bad_payloads_are_rejected_with_a_reason(payload: bytes, reason: str) -> None:
    """Each kind of bad input is dropped with its reason; nothing raises."""
    parsed = parse_payload(payload)
    assert parsed.error == reason
    assert parsed.event is None


def test_size_limit_is_64_kib_of_utf8() -> None:
    """64 KiB exactly passes; one byte more is dropped unread. Text counts in UTF-8 bytes."""
    filler = "x" * (MAX_PAYLOAD_BYTES - len('{"action":"single","pad":""}'))
    exact = '{"action":"single","pad":"' + filler + '"}'
    assert len(exact.encode()) == MAX_PAYLOAD_BYTES
    assert parse_payload(exact).event == KnobEvent(Action.SINGLE)
    assert parse_payload(exact.encode()).event == KnobEvent(Action.SINGLE)
    over = exact.replace("x", "é", 1)  # one more byte in UTF-8, same length in characters
    assert parse_payload(over).error == "oversize"
    assert parse_payload({"action": "single", "pad": filler}).event == KnobEvent(Action.SINGLE)
    assert parse_payload({"action": "single", "pad": filler + "y"}).error == "oversize"


def test_decoded_payloads_that_are_not_json_values_are_rejected() -> None:
    """Python values that JSON cannot hold (a set) are bad input, not a crash."""
    assert parse_payload({"action": {1, 2}}).error == "not a JSON value"


def test_bad_telemetry_values_are_left_out() -> None:
    """Telemetry with wrong types is not kept, but does not drop the event."""
    parsed = parse_payload(
        {"action": "single", "battery": True, "voltage": "x" * 100, "linkquality": 1e400}
    )
    assert parsed.event == KnobEvent(Action.SINGLE)
    assert parsed.telemetry is None


# -- topics ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "name"),
    [
        ("zigbee2mqtt/desk_knob", "desk_knob"),
        ("zigbee2mqtt/office/knob", "office/knob"),
        ("zigbee2mqtt/desk_knob/action", "desk_knob/action"),
        ("zigbee2mqtt", None),
        ("zigbee2mqtt/", None),
        ("zigbee2mqttx/desk_knob", None),
        ("other/desk_knob", None),
    ],
)
def test_the_knob_name_is_the_whole_topic_after_the_base(topic: str, name: str | None) -> None:
    """Rule 10: names may contain `/`; `<name>/action` is another topic."""
    assert knob_name(topic, "zigbee2mqtt") == name
    assert parse_message(topic, b"{}")[0] == name


def test_engine_counts_bad_input_and_keeps_state() -> None:
    """Bad messages on a knob topic are counted, logged, and change nothing; other topics cost nothing."""
    engine = Engine(EngineConfig(explicit=("k",)))
    assert engine.feed(
        "zigbee2mqtt/k", b'{"action":"start_rotating","action_rotation_angle":12}', 1.0
    )
    before = engine.knob_state("k")
    for payload in [
        b"{",
        b'{"action": 5}',
        b'{"action":"rotation","action_rotation_angle":NaN}',
        b"[]",
    ]:
        assert engine.feed("zigbee2mqtt/k", payload, 1.1) == []
    assert engine.feed("zigbee2mqtt/lamp", b"{", 1.2) == []
    assert engine.feed("elsewhere/k", b"{", 1.2) == []
    assert engine.knob_state("k") == before
    assert engine.counters["invalid"] == 4
    assert engine.counters["ignored.not_a_knob"] == 1
    assert engine.counters["ignored.other_topic"] == 1
    assert list(engine.knob_names_seen()) == ["k"]
