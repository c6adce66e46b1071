"""Parsing Zigbee2MQTT messages of the knob (docs/contract.md §2).

Pure functions: a payload in, a :class:`~knobflow.engine.events.Parsed` out.
Nothing here raises on bad input; rejections carry a short reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from knobflow.engine.events import Action, KnobEvent, Parsed, make_event

__all__ = [
    "MAX_ANGLE",
    "MAX_DEVICES_BYTES",
    "MAX_PAYLOAD_BYTES",
    "TELEMETRY_KEYS",
    "decode",
    "fast_decoder",
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
_raw_decode = _DECODER.raw_decode  # no whitespace skipping: the common case, a bit faster
_JSON_SPACE = " \t\n\r"

_fast_loads: Callable[[bytes], Any] | None
try:  # optional, several times faster than the standard decoder
    from orjson import loads as _orjson_loads
except ImportError:  # pragma: no cover - the standard decoder alone gives the same values
    _fast_loads = None
else:
    _fast_loads = _orjson_loads
# orjson makes floats of integers beyond 64 bits: a value holding a float that large
# is decoded again by the standard decoder, which keeps such integers exact
_BIG = float(2**63)


def _no_big_floats(value: Any) -> bool:
    """Whether ``value`` holds no float of magnitude 2**63 or more (at any depth)."""
    kind = type(value)
    if kind is dict:
        items: Any = value.values()
    elif kind is list:
        items = value
    else:
        return kind is not float or -_BIG < value < _BIG
    for item in items:
        kind = type(item)
        if kind is float:
            if not -_BIG < item < _BIG:
                return False
        elif (kind is dict or kind is list) and not _no_big_floats(item):
            return False
    return True


def fast_decoder() -> str:
    """The decoder that parses payloads first: ``orjson`` if installed, else ``json``."""
    return "json" if _fast_loads is None else "orjson"


def _size_of_decoded(obj: Any) -> int:
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=True)
    return len(text.encode("utf-8"))


def decode(payload: Any, limit: int = MAX_PAYLOAD_BYTES) -> tuple[Any, str | None]:
    """Decode a payload (bytes, text, or an already decoded JSON value).

    Returns ``(value, None)`` or ``(None, reason)``. Payloads over ``limit``
    bytes (UTF-8) are refused unread.
    """
    kind = type(payload)
    if kind is bytes or kind is bytearray or kind is memoryview:
        if len(payload) > limit:
            return None, "oversize"
        if kind is not bytes:
            payload = bytes(payload)
        if _fast_loads is not None:
            try:
                value = _fast_loads(payload)
            except ValueError:
                pass  # whatever orjson refuses, the standard decoder judges, as without it
            else:
                if _no_big_floats(value):
                    return value, None
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            return None, "not UTF-8"
    elif kind is str:
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
        value, end = _raw_decode(text)
    except (ValueError, RecursionError):
        pass  # leading whitespace, or really invalid: let the full decoder decide
    else:
        if end == len(text) or not text[end:].strip(_JSON_SPACE):
            return value, None
        return None, "invalid JSON"
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
    """Validate a decoded Z2M message (docs/contract.md §3, precise rule 9)."""
    event, telemetry, error = parse_fields(obj, retain)
    if error is not None:
        return Parsed(error=error)
    if event is None and telemetry is None:
        return _IGNORED
    return Parsed(event, telemetry)


def _number_problem(value: Any) -> str | None:
    """What is wrong with a non-null number field, or ``None``."""
    kind = type(value)
    if kind is int:
        return None if -_MAX_INT < value < _MAX_INT else "too large"
    if kind is float:
        return None if value - value == 0 else "not finite"  # inf - inf and NaN are NaN
    return "not a number"  # bool, str, list, object, ...


def parse_fields(
    obj: dict[str, Any], retain: bool = False
) -> tuple[KnobEvent | None, dict[str, Any] | None, str | None]:
    """:func:`parse_object` as a plain tuple ``(event, telemetry, error)``
    (the engine's hot path)."""
    get = obj.get
    action = get("action")
    if action is not None and type(action) is not str:
        return None, None, "action is not a string"
    angle = get("action_rotation_angle")
    if angle is not None:
        problem = _number_problem(angle)
        if problem is not None:
            return None, None, "action_rotation_angle is " + problem
        if not -MAX_ANGLE <= angle <= MAX_ANGLE:
            return None, None, "action_rotation_angle is out of range"
    time = get("action_rotation_time")
    if time is not None and (problem := _number_problem(time)) is not None:
        return None, None, "action_rotation_time is " + problem
    percent = get("action_rotation_percent")
    if percent is not None and (problem := _number_problem(percent)) is not None:
        return None, None, "action_rotation_percent is " + problem
    state = get("action_rotation_button_state")
    pressed: bool | None = None
    if state is not None:
        pressed = _BUTTON_STATES.get(state) if type(state) is str else None
        if pressed is None:
            return None, None, "action_rotation_button_state is neither pressed nor released"

    telemetry: dict[str, Any] | None = None
    for key in TELEMETRY_KEYS:
        value = get(key)
        if value is None:
            continue
        kind = type(value)
        if (
            (kind is str and len(value) <= 64)
            or (kind is int and -_MAX_INT < value < _MAX_INT)
            or (kind is float and value - value == 0)
        ):
            if telemetry is None:
                telemetry = {key: value}
            else:
                telemetry[key] = value

    if retain:
        return None, telemetry, None
    if action is None:
        if angle is None:
            return None, telemetry, None
        # an old converter's pressed rotation frame: numbers, no action
        return make_event(None, angle, time, percent, pressed), telemetry, None
    known = _ACTIONS.get(action)
    if known is None:  # "" follow-ups and unknown names
        return None, telemetry, None
    return make_event(known, angle, time, percent, pressed), telemetry, None


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
