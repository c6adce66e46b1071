"""The part of a Home Assistant host that does not depend on the host.

The pyscript app and the AppDaemon app are thin shims around one
:class:`HostRuntime`: it owns the engine, knows which topics to listen to,
keeps the one wake-up a host needs for the engine's timers, and turns gestures
into ``knobflow_gesture`` event data and docs/contract.md §6 messages. Hosts bring the
clock (``time.time()``), the subscriptions, the sleeping and the delivery.

    runtime = HostRuntime.from_mapping(app_config, "pyscript.apps.knobflow")
    for gesture in runtime.feed(topic, payload, time.time(), retain):
        fire("knobflow_gesture", runtime.event_data(gesture))
    delay = runtime.wake_earlier(time.time())   # arm a timer in `delay` s when not None
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from knobflow.config import Config, config_from_mapping
from knobflow.engine import Engine, Gesture
from knobflow.output import gesture_payload, gesture_topic

__all__ = ["EVENT_TYPE", "HostRuntime", "TopicChanges"]

EVENT_TYPE = "knobflow_gesture"
"""The Home Assistant event hosts fire for each gesture (docs/contract.md §7)."""

# Deadlines within a microsecond are the same deadline (docs/contract.md §3, rule 8).
_SAME = 1e-6


@dataclass(frozen=True, slots=True)
class TopicChanges:
    """Exact topics to start and stop listening to."""

    added: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)


class HostRuntime:
    """One engine with everything a host inside Home Assistant does around it."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.engine = Engine(config.engine_config())
        self.base_topic = config.zigbee2mqtt.base_topic
        self.devices_topic = f"{self.base_topic}/bridge/devices"
        self.output_base = config.output.base_topic
        self.output_qos = config.output.qos
        self._prefix = self.base_topic + "/"
        self._listening: frozenset[str] = frozenset()
        self._wake_at: float | None = None

    @classmethod
    def from_mapping(cls, data: Any, source: str) -> HostRuntime:
        """Validate decoded config data; a ``ConfigError`` names ``source``."""
        return cls(config_from_mapping(data, source))

    # -- what to listen to ----------------------------------------------------------

    @property
    def subscription(self) -> str:
        """One wildcard subscription that covers every input topic (``<base>/#``)."""
        return self._prefix + "#"

    def is_input(self, topic: str) -> bool:
        """Whether a topic is under Zigbee2MQTT's base topic (a filter for ``subscription``)."""
        return topic.startswith(self._prefix)

    def topics(self) -> frozenset[str]:
        """The exact topics to listen to now: ``bridge/devices`` and one per knob."""
        return frozenset((self.devices_topic, *(self._prefix + name for name in self.engine.knobs)))

    def topic_changes(self) -> TopicChanges:
        """Topics gained and lost since the previous call (all of them on the first call).

        For hosts with one subscription per topic: call it at start and after each
        ``bridge/devices`` message.
        """
        now = self.topics()
        changes = TopicChanges(now - self._listening, self._listening - now)
        self._listening = now
        return changes

    def knob_of(self, topic: str) -> str | None:
        """The knob name in a knob topic of :meth:`topics` (``None`` for ``bridge/devices``
        and topics outside the base topic); for naming knobs in log lines."""
        if topic == self.devices_topic or not topic.startswith(self._prefix):
            return None
        return topic[len(self._prefix) :]

    # -- messages and timers ----------------------------------------------------------

    def feed(self, topic: str, payload: Any, now: float, retain: bool = False) -> list[Gesture]:
        """One MQTT message received at ``now`` (``time.time()``); the gestures it makes."""
        return self.engine.feed(topic, payload, now, retain)

    def tick(self, now: float) -> list[Gesture]:
        """The gestures of every timer due at or before ``now``."""
        return self.engine.tick(now)

    def next_deadline(self) -> float | None:
        """When the engine has a timer to fire next, or ``None``."""
        return self.engine.next_deadline()

    def wake_earlier(self, now: float) -> float | None:
        """After a message: seconds from ``now`` to a new wake-up, when one is needed.

        A new wake-up is needed when the engine has a deadline and no wake-up is
        set, or the one set is later. The returned delay is recorded as the wake-up
        set; ``None`` means the wake-up already set will do (a wake-up that comes
        too early finds nothing due and sets the next one).
        """
        deadline = self.engine.next_deadline()
        if deadline is None:
            return None
        if self._wake_at is not None and self._wake_at <= deadline + _SAME:
            return None
        self._wake_at = deadline
        return max(0.0, deadline - now)

    def wake_next(self, now: float) -> float | None:
        """After a wake-up has ticked: seconds from ``now`` to the next one, or ``None``
        when no timer is pending (then no wake-up is set)."""
        deadline = self.engine.next_deadline()
        self._wake_at = deadline
        return None if deadline is None else max(0.0, deadline - now)

    def wake_cleared(self) -> None:
        """Forget the wake-up set (its timer was cancelled or its task died)."""
        self._wake_at = None

    @property
    def wake_at(self) -> float | None:
        """The time of the wake-up set, or ``None``."""
        return self._wake_at

    # -- delivery -------------------------------------------------------------------

    @staticmethod
    def event_data(gesture: Gesture) -> dict[str, Any]:
        """The ``knobflow_gesture`` event's data: the gesture's fields as plain values."""
        return {key: _plain(value) for key, value in gesture.to_dict().items()}

    def message(self, gesture: Gesture) -> tuple[str, str]:
        """The gesture's MQTT message (docs/contract.md §6): ``(<out>/<knob>/gesture, JSON)``."""
        return gesture_topic(self.output_base, gesture.knob), gesture_payload(gesture)


def _plain(value: Any) -> Any:
    """Built-in types only (``StrEnum`` members become ``str``), so every event bus takes them."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
