"""Home Assistant MQTT discovery for knobs (docs/contract.md §6), without I/O.

Per knob: one device trigger per gesture name (built-in and composite) and one
``event`` entity with every gesture name as its ``event_types``, all attached
to the knob's own Zigbee2MQTT device (``identifiers: ["zigbee2mqtt_<ieee>"]``
and no other device field, so the device keeps its name and model).

Topics: ``<prefix>/device_automation/<node>/<key>_<gesture>/config`` and
``<prefix>/event/<node>/<key>_gesture/config``; ``<node>`` is the output base
topic made safe (``knobflow``), ``<key>`` the knob's IEEE address. Keyed by
IEEE address, a knob renamed in Zigbee2MQTT keeps its triggers and entity.

A knob named in config that ``bridge/devices`` does not list has no IEEE
address, so no Zigbee2MQTT device to join: it gets a device of its own,
identified ``knobflow_<key>`` (``<key>`` made from its name) and named after
the knob. Once ``bridge/devices`` lists it, those configs are removed and the
knob joins its Zigbee2MQTT device.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from knobflow import __version__
from knobflow.bridge.outbox import Publication
from knobflow.engine import BUILTIN_GESTURES, DeviceInfo
from knobflow.jsonio import dumps
from knobflow.output import OFFLINE, ONLINE, gesture_topic, status_topic

__all__ = [
    "EVENT_TEMPLATE",
    "TRIGGER_TEMPLATE",
    "TRIGGER_TYPE",
    "DiscoveryPlan",
    "DiscoverySettings",
    "device_of",
    "event_config",
    "knob_configs",
    "knob_key",
    "trigger_config",
]

TRIGGER_TYPE = "gesture"  # Zigbee2MQTT's own triggers for this device use type "action"
TRIGGER_TEMPLATE = "{{ value_json.gesture }}"
# the gesture's fields, plus the event_type Home Assistant wants
EVENT_TEMPLATE = "{{ dict(value_json, event_type=value_json.gesture) | tojson }}"
ORIGIN = {"name": "knobflow", "sw_version": __version__}
MAX_ORPHANS = 10_000  # retained configs of earlier runs remembered until bridge/devices comes

_SAFE = re.compile(r"[A-Za-z0-9_-]+")
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class DiscoverySettings:
    """Where discovery goes and what it announces."""

    prefix: str = "homeassistant"
    output_base: str = "knobflow"
    gestures: tuple[str, ...] = BUILTIN_GESTURES  # built-in names, then composites

    @property
    def node(self) -> str:
        """The ``<node_id>`` level of every discovery topic: the output base made safe."""
        return _UNSAFE_CHARS.sub("_", self.output_base)

    @property
    def status_topic(self) -> str:
        return f"{self.prefix}/status"

    def owns(self, topic: str) -> bool:
        """Whether ``topic`` is a discovery config topic of this bridge."""
        for component in ("device_automation", "event"):
            head = f"{self.prefix}/{component}/{self.node}/"
            if topic.startswith(head) and topic.endswith("/config"):
                return "/" not in topic[len(head) : -len("/config")]
        return False

    def subscriptions(self) -> tuple[str, ...]:
        """Filters for the configs this bridge published before (to remove stale ones)."""
        return (
            f"{self.prefix}/device_automation/{self.node}/+/config",
            f"{self.prefix}/event/{self.node}/+/config",
        )


def knob_key(knob: DeviceInfo) -> str:
    """The knob's part of discovery topics and ids: its IEEE address, else made from its name."""
    if knob.ieee is not None and _SAFE.fullmatch(knob.ieee):
        return knob.ieee
    text = knob.ieee if knob.ieee is not None else knob.name
    digest = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    slug = _UNSAFE_CHARS.sub("_", text).strip("_")[:40]
    return f"{'ieee' if knob.ieee is not None else 'name'}_{slug}_{digest}".replace("__", "_")


def device_of(knob: DeviceInfo) -> dict[str, Any]:
    """The ``device`` block: the knob's Zigbee2MQTT device, or a device of its own."""
    if knob.ieee is not None:
        return {"identifiers": [f"zigbee2mqtt_{knob.ieee}"]}
    return {
        "identifiers": [f"knobflow_{knob_key(knob)}"],
        "name": knob.name,
        "manufacturer": "Aqara",
        "model": "Knob H1 (ZNXNKG02LM), not listed in bridge/devices",
    }


def trigger_config(knob: DeviceInfo, gesture: str, settings: DiscoverySettings) -> dict[str, Any]:
    """The device trigger of one gesture of one knob."""
    return {
        "automation_type": "trigger",
        "topic": gesture_topic(settings.output_base, knob.name),
        "type": TRIGGER_TYPE,
        "subtype": gesture,
        "value_template": TRIGGER_TEMPLATE,
        "payload": gesture,
        "device": device_of(knob),
        "origin": ORIGIN,
    }


def event_config(knob: DeviceInfo, settings: DiscoverySettings) -> dict[str, Any]:
    """The knob's ``event`` entity: every gesture, attributes from the gesture's fields."""
    return {
        "name": "Gesture",
        "unique_id": f"{settings.node}_{knob_key(knob)}_gesture",
        "state_topic": gesture_topic(settings.output_base, knob.name),
        "event_types": list(settings.gestures),
        "value_template": EVENT_TEMPLATE,
        "availability_topic": status_topic(settings.output_base),
        "payload_available": ONLINE,
        "payload_not_available": OFFLINE,
        "icon": "mdi:knob",
        "device": device_of(knob),
        "origin": ORIGIN,
    }


def _dumps(config: dict[str, Any]) -> str:
    return dumps(config)


def knob_configs(knob: DeviceInfo, settings: DiscoverySettings) -> dict[str, str]:
    """Every discovery config of one knob: topic → JSON payload."""
    key, head = knob_key(knob), settings.prefix
    out = {
        f"{head}/device_automation/{settings.node}/{key}_{gesture}/config": _dumps(
            trigger_config(knob, gesture, settings)
        )
        for gesture in settings.gestures
    }
    out[f"{head}/event/{settings.node}/{key}_gesture/config"] = _dumps(event_config(knob, settings))
    return out


class DiscoveryPlan:
    """Which configs should be on the broker, and what to publish to get there.

    ``update`` takes the current knobs and returns the configs that are new or
    changed plus an empty retained payload for each config no longer wanted.
    Retained configs of earlier runs (``retained_seen``) that no knob wants are
    removed too, but only once the knob list is complete (``bridge/devices``
    seen): until then a knob missing from the list may just be unknown yet.
    """

    def __init__(self, settings: DiscoverySettings) -> None:
        self.settings = settings
        self.complete = False
        self._wanted: dict[str, str] = {}
        self._orphans: set[str] = set()

    @property
    def wanted(self) -> dict[str, str]:
        return self._wanted

    def update(self, knobs: Iterable[DeviceInfo], *, complete: bool) -> list[Publication]:
        wanted: dict[str, str] = {}
        for knob in knobs:
            wanted.update(knob_configs(knob, self.settings))
        old, self._wanted = self._wanted, wanted
        out = [Publication(t, "", retain=True) for t in old if t not in wanted]
        out += [Publication(t, p, retain=True) for t, p in wanted.items() if old.get(t) != p]
        if complete and not self.complete:
            self.complete = True
            out += [Publication(t, "", retain=True) for t in sorted(self._orphans - wanted.keys())]
            self._orphans.clear()
        return out

    def everything(self) -> list[Publication]:
        """Every wanted config again (Home Assistant restarted, or the broker did)."""
        return [Publication(t, p, retain=True) for t, p in self._wanted.items()]

    def retained_seen(self, topic: str) -> list[Publication]:
        """A retained config of this bridge is on the broker: remove it if no knob wants it."""
        if topic in self._wanted:
            return []
        if self.complete:
            return [Publication(topic, "", retain=True)]
        if len(self._orphans) < MAX_ORPHANS:
            self._orphans.add(topic)
        return []
