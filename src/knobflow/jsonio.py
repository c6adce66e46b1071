"""JSON in and out, the same way everywhere in knobflow.

- :func:`decode` — a payload off the wire (bytes, text, or an already decoded
  value) to a value, never raising: ``(value, None)`` or ``(None, reason)``.
  Used by the engine for every knob message.
- :func:`loads` — text or bytes to a value, raising :class:`ValueError` on
  anything that is not strict JSON (``NaN``/``Infinity`` refused). Used for
  config files, replay lines, restored states and commands.
- :func:`dumps` — one compact encoder (``,``/``:`` separators, UTF-8 kept as
  is) for everything knobflow writes: gestures, states, discovery, replay and
  record lines.

Decoding uses ``orjson`` when it is installed (extras ``fast`` and
``bridge``), the standard decoder otherwise; both give the same values,
types, key order and verdicts. ``orjson`` turns integers beyond 64 bits into
floats, so a value holding such a float is decoded again by the standard
decoder, which keeps the integer exact.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "decode",
    "decoder_name",
    "dumps",
    "loads",
]

MAX_PAYLOAD_BYTES = 64 * 1024
_JSON_SPACE = " \t\n\r"
# orjson makes floats of integers beyond 64 bits: such a value is decoded again
_BIG = float(2**63)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_raw_decode = _DECODER.raw_decode  # no whitespace skipping: the common case, a bit faster
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_SIZER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=True)

_fast_loads: Callable[[bytes | str], Any] | None
_fast_dumps: Callable[[Any], bytes] | None
try:  # optional: several times faster than the standard library, the same values
    from orjson import dumps as _orjson_dumps
    from orjson import loads as _orjson_loads
except ImportError:  # pragma: no cover - the standard library alone gives the same results
    _fast_loads = None
    _fast_dumps = None
else:
    _fast_loads = _orjson_loads
    _fast_dumps = _orjson_dumps


def decoder_name() -> str:
    """The decoder that parses first: ``orjson`` if installed, else ``json``."""
    return "json" if _fast_loads is None else "orjson"


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


def _std_loads(text: str) -> Any:
    """The standard decoder, strict; raises ``ValueError`` (or ``RecursionError``)."""
    try:
        value, end = _raw_decode(text)
    except (ValueError, RecursionError):
        return _DECODER.decode(text)  # leading whitespace, or really invalid: it decides
    if end == len(text) or not text[end:].strip(_JSON_SPACE):
        return value
    return _DECODER.decode(text)  # raises: extra data


def loads(data: str | bytes | bytearray) -> Any:
    """Strict JSON to a value; ``ValueError`` names what is wrong (also for
    invalid UTF-8 and nesting too deep to decode)."""
    if not isinstance(data, str):
        data = bytes(data)
        if _fast_loads is not None:
            try:
                value = _fast_loads(data)
            except ValueError:
                pass  # whatever orjson refuses, the standard decoder judges
            else:
                if _no_big_floats(value):
                    return value
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ValueError(f"not UTF-8 ({err.reason})") from None
    elif _fast_loads is not None:
        try:
            value = _fast_loads(data)
        except ValueError:
            pass
        else:
            if _no_big_floats(value):
                return value
    try:
        return _std_loads(data)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _size_of_decoded(obj: Any) -> int:
    return len(_SIZER.encode(obj).encode("utf-8"))


def decode(payload: Any, limit: int = MAX_PAYLOAD_BYTES) -> tuple[Any, str | None]:
    """Decode a payload (bytes, text, or an already decoded JSON value); never raises.

    Returns ``(value, None)`` or ``(None, reason)``. Payloads over ``limit``
    bytes (UTF-8) are refused unread; a decoded value counts by the length of
    its compact text.
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
        return _std_loads(text), None
    except (ValueError, RecursionError):
        return None, "invalid JSON"


def dumps(obj: Any) -> str:
    """Compact JSON text of ``obj`` (``TypeError`` if it is not JSON). What knobflow
    writes never holds NaN or infinities (the engine refuses them on input)."""
    if _fast_dumps is not None:
        try:
            return _fast_dumps(obj).decode("utf-8")
        except TypeError:
            pass  # integers beyond 64 bits, non-string keys: the standard encoder's case
    return _ENCODER.encode(obj)
