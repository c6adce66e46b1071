"""The MQTT messages knobflow publishes (docs/contract.md §6), shared by every publishing host."""

from __future__ import annotations

import json
from typing import Any

from knobflow.engine import Gesture

__all__ = [
    "DEFAULT_OUTPUT_BASE",
    "OFFLINE",
    "ONLINE",
    "gesture_payload",
    "gesture_topic",
    "state_payload",
    "state_topic",
    "status_topic",
]

DEFAULT_OUTPUT_BASE = "knobflow"
ONLINE = "online"
OFFLINE = "offline"


def gesture_topic(base: str, knob: str) -> str:
    """``<out>/<knob>/gesture`` (not retained)."""
    return f"{base}/{knob}/gesture"


def state_topic(base: str, knob: str) -> str:
    """``<out>/<knob>/state`` (retained)."""
    return f"{base}/{knob}/state"


def status_topic(base: str) -> str:
    """``<out>/status``: ``online``/``offline``, retained, ``offline`` as last will."""
    return f"{base}/status"


def gesture_payload(gesture: Gesture) -> str:
    """The gesture as compact JSON text."""
    return json.dumps(gesture.to_dict(), separators=(",", ":"), ensure_ascii=False)


def state_payload(state: dict[str, Any]) -> str:
    return json.dumps(state, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
