"""Gestures as one readable line each, for people."""

from __future__ import annotations

import json
from typing import Any

from knobflow.engine import Gesture

__all__ = ["format_gesture", "format_value"]


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return ",".join(format_value(v) for v in value)
    if isinstance(value, str):
        return value
    return json.dumps(value)


def format_gesture(gesture: Gesture, name_width: int = 14) -> str:
    """``  12.500  desk_knob       rotate_cw       delta=24 angle=48 velocity=48 ...``"""
    fields = " ".join(f"{k}={format_value(v)}" for k, v in gesture.fields.items())
    return (
        f"{gesture.t:9.3f}  {gesture.knob:<{name_width}}  {gesture.gesture:<23} {fields}".rstrip()
    )
