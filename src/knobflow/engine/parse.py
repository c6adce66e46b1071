"""Parsing Zigbee2MQTT messages of the knob (SPEC.md §2).

Pure functions: a payload in, a :class:`~knobflow.engine.events.Parsed` out.
Nothing here raises on bad input; rejections carry a short reason.
"""

from __future__ import annotations

import json
import math
from typing import Any

from knobflow.engine.events import Action, KnobEvent, Parsed

__all__ = [
    "MAX_ANGLE",
    "MAX_DEVICES_BYTES",
    "MAX_PAYLOAD_BYTES",
    "TELEMETRY_KEYS",
    "decode",
    "knob_name",
    "parse_message",
    "parse_payload",
]

MAX_PAYLOAD_BYTES = 64 * 1024
# bridge/devices lists every device with its full definition: far more than 64 KiB
MAX_DEVICES_BYTES = 16 * 1024 * 1024
MAX_ANGLE = 1e6
TELEMETRY_KEYS = ("battery", "voltage", "linkquality", "operation_mode", "sensitivity")

_ACTIONS: dict[str, Action] = {a.value: a for a in Action}
_BUTTON_STATES = {"pressed": True, "released": False}
_IGNORED = Parsed()
_MAX_INT = 10**300  # larger ints cannot become floats


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _number(value: Any) -> int | float | str | None:
    """A finite number, ``None`` for absent (or ``null``), or a string saying what is wrong."""
    if value is None:
        return None
    kind = type(value)
    if kind is float:
        return value if math.isfinite(value) else "not finite"
    if kind is int:
        return value if -_MAX_INT < value < _MAX_INT else "too large"
    return "not a number"  # bool, str, list, object, ...


def _size_of_decoded(obj: Any) -> int:
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=True)
    return len(text.encode("utf-8"))


def decode(payload: Any, limit: int = MAX_PAYLOAD_BYTES) -> tuple[Any, str | None]:
    """Decode a payload (bytes, text, or an already decoded JSON value).

    Returns ``(value, None)`` or ``(None, reason)``. Payloads over ``limit``
    bytes (UTF-8) are refused unread.
    """
    if isinstance(payload, bytes | bytearray | memoryview):
        if len(payload) > limit:
            return None, "oversize"
        try:
            text = bytes(payload).decode("utf-8")
        except UnicodeDecodeError:
            return None, "not UTF-8"
    elif isinstance(payload, str):
        if len(payload) * 4 > limit and len(payload.encode("utf-8", "surrogatepass")) > limit:
            return None, "oversize"
        text = payload
    else:
        try:
            size = _size_of_decoded(payload)
        except (TypeError, ValueError, RecursionError):
            return None, "not a JSON value"
        if size > limit:
            return None, "oversize"
        return payload, None
    try:
        return _DECODER.decode(text), None
    except (ValueError, RecursionError):
        return None, "invalid JSON"


def parse_payload(payload: Any, retain: bool = False) -> Parsed:
    """Parse one message on a knob's topic.

    ``payload`` is raw bytes or text as it came over MQTT, or an already
    decoded JSON value. Retained messages may carry telemetry, never events.
    """
    obj, error = decode(payload)
    if error is not None:
        return Parsed(error=error)
    if type(obj) is not dict:
        return Parsed(error="not a JSON object")
    return parse_object(obj, retain)


def parse_object(obj: dict[str, Any], retain: bool = False) -> Parsed:
    """Validate a decoded Z2M message (SPEC.md §3, precise rule 9)."""
    get = obj.get
    action = get("action")
    if action is not None and type(action) is not str:
        return Parsed(error="action is not a string")
    angle = _number(get("action_rotation_angle"))
    if type(angle) is str:
        return Parsed(error=f"action_rotation_angle is {angle}")
    time = _number(get("action_rotation_time"))
    if type(time) is str:
        return Parsed(error=f"action_rotation_time is {time}")
    percent = _number(get("action_rotation_percent"))
    if type(percent) is str:
        return Parsed(error=f"action_rotation_percent is {percent}")
    if angle is not None and abs(angle) > MAX_ANGLE:  # type: ignore[arg-type]
        return Parsed(error="action_rotation_angle is out of range")
    state = get("action_rotation_button_state")
    pressed: bool | None = None
    if state is not None:
        pressed = _BUTTON_STATES.get(state) if type(state) is str else None
        if pressed is None:
            return Parsed(error="action_rotation_button_state is neither pressed nor released")

    telemetry: dict[str, Any] | None = None
    for key in TELEMETRY_KEYS:
        value = get(key)
        if value is not None and _telemetry_ok(value):
            if telemetry is None:
                telemetry = {}
            telemetry[key] = value

    if retain:
        return Parsed(telemetry=telemetry) if telemetry else _IGNORED
    if action is None:
        if angle is None:
            return Parsed(telemetry=telemetry) if telemetry else _IGNORED
        # an old converter's pressed rotation frame: numbers, no action
        event = KnobEvent(None, angle, time, percent, pressed)  # type: ignore[arg-type]
    else:
        known = _ACTIONS.get(action)
        if known is None:  # "" follow-ups and unknown names
            return Parsed(telemetry=telemetry) if telemetry else _IGNORED
        event = KnobEvent(known, angle, time, percent, pressed)  # type: ignore[arg-type]
    return Parsed(event=event, telemetry=telemetry)


def _telemetry_ok(value: Any) -> bool:
    if type(value) is str:
        return len(value) <= 64
    return type(value) is not bool and type(_number(value)) is not str


def knob_name(topic: str, base_topic: str) -> str | None:
    """The device name of a ``<base>/<name>`` topic (the whole rest), else ``None``."""
    if (
        len(topic) > len(base_topic) + 1
        and topic.startswith(base_topic)
        and topic[len(base_topic)] == "/"
    ):
        return topic[len(base_topic) + 1 :]
    return None


def parse_message(
    topic: str, payload: Any, retain: bool = False, *, base_topic: str = "zigbee2mqtt"
) -> tuple[str | None, Parsed]:
    """Parse any Z2M message: the device name of its topic, and what it says.

    This does not know which devices are knobs; :class:`~knobflow.engine.Engine`
    asks its registry first and never parses messages of other devices.
    """
    return knob_name(topic, base_topic), parse_payload(payload, retain)
