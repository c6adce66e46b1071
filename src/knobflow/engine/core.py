"""The engine: Zigbee2MQTT messages in, gestures out, on an injected clock.

    engine = Engine(EngineConfig(explicit=("desk_knob",)))
    gestures = engine.feed("zigbee2mqtt/desk_knob", b'{"action":"single"}', now=12.5)
    deadline = engine.next_deadline()      # seconds, or None
    gestures += engine.tick(deadline)      # when the host's clock gets there

No I/O, no sleeping, no wall clock: hosts own all three. Bad input is counted
in :attr:`Engine.counters` and logged at debug level; nothing raises.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from knobflow.engine.composites import CompositeMatcher
from knobflow.engine.devices import DeviceInfo, devices_in_list
from knobflow.engine.gestures import Gesture
from knobflow.engine.knob import Knob
from knobflow.engine.lifecycle import Lifecycles
from knobflow.engine.parse import MAX_DEVICES_BYTES, decode, parse_fields
from knobflow.engine.registry import KnobRegistry, RegistryChange
from knobflow.engine.settings import EngineConfig
from knobflow.engine.timers import TimerQueue, from_us, to_us

__all__ = ["Engine"]

log = logging.getLogger("knobflow.engine")

DevicesListener = Callable[[RegistryChange], None]


class Engine:
    """Every knob of one Zigbee2MQTT installation.

    ``feed`` and ``tick`` take the time in seconds (any monotonic origin:
    a replay file's ``t``, ``time.time()``); a time earlier than the last one
    counts as the last one. Timers due at or before a message's time fire
    before it.
    """

    def __init__(
        self,
        config: EngineConfig | None = None,
        *,
        on_devices: DevicesListener | None = None,
    ) -> None:
        self.config = config = config or EngineConfig()
        self.registry = KnobRegistry(config.knob_names, discover=config.discover)
        self.counters: Counter[str] = Counter()
        self._on_devices = on_devices
        self._knobs: dict[str, Knob] = {}
        self._timers = TimerQueue()
        self._heap = self._timers.heap  # read on every message: is a timer due?
        self._known = self.registry.knobs  # replaced on every bridge/devices change
        self._machines = Lifecycles()
        self._fired: set[str] = set()  # knobs whose timers fired, until take_fired()
        self._seq = 0
        self._now = -(2**62)
        self._prefix = config.base_topic + "/"
        self._devices_topic = config.base_topic + "/bridge/devices"

    # -- input ------------------------------------------------------------------

    def feed(self, topic: str, payload: Any, now: float, retain: bool = False) -> list[Gesture]:
        """One MQTT message received at ``now`` (seconds); returns the gestures it makes.

        ``payload`` is raw bytes or text as received, or an already decoded JSON value.
        """
        now_us = round(now * 1_000_000)
        if now_us < self._now:
            now_us = self._clock_went_back()
        self._now = now_us
        out: list[Gesture] = []
        heap = self._heap
        if heap and heap[0][0] <= now_us:
            self._run_timers(now_us, out)
        counters = self.counters
        counters["messages"] += 1
        prefix = self._prefix
        if not topic.startswith(prefix):
            counters["ignored.other_topic"] += 1
            return out
        name = topic[len(prefix) :]
        if name not in self._known:
            if topic == self._devices_topic:
                self._devices(payload)
            else:
                counters["ignored.not_a_knob"] += 1
            return out
        obj, error = decode(payload)
        if error is None:
            if type(obj) is dict:
                event, telemetry, error = parse_fields(obj, retain)
            else:
                error = "not a JSON object"
        if error is not None:
            counters["invalid"] += 1
            counters["invalid: " + error] += 1
            log.debug("dropped a message on %r: %s", topic, error)
            return out
        knob = self._knobs.get(name)
        if knob is None:
            knob = self._add_knob(name)
        if telemetry:
            knob.update_telemetry(telemetry)
        if event is None:
            counters["ignored.retained" if retain else "ignored.no_event"] += 1
            return out
        counters["events"] += 1
        knob.handle(event, now_us, out)
        counters["gestures"] += len(out)
        return out

    def tick(self, now: float) -> list[Gesture]:
        """Fire every timer due at or before ``now``; returns the gestures they make."""
        out: list[Gesture] = []
        self._run_timers(self._advance(now), out)
        self.counters["gestures"] += len(out)
        return out

    def next_deadline(self) -> float | None:
        """When :meth:`tick` has something to do next (seconds), or ``None``."""
        deadline = self._timers.next_deadline()
        return None if deadline is None else from_us(deadline)

    # -- what hosts read ----------------------------------------------------------

    @property
    def knobs(self) -> Mapping[str, DeviceInfo]:
        """The knobs known now (from ``bridge/devices`` and config), by name."""
        return self.registry.knobs

    def knob_state(self, name: str) -> dict[str, Any] | None:
        """Lifecycle states, telemetry and dial values of a knob seen so far."""
        knob = self._knobs.get(name)
        return None if knob is None else knob.state()

    def restore_dial_values(self, name: str, values: dict[str, Any]) -> None:
        """Give a knob the dial values it had (the bridge keeps them across restarts)."""
        knob = self._knobs.get(name)
        if knob is None:
            if name not in self.registry:
                return
            knob = self._add_knob(name)
        knob.restore_dial_values(values)

    def knob_names_seen(self) -> Iterable[str]:
        return self._knobs.keys()

    def take_fired(self) -> set[str]:
        """The knobs whose timers fired (in :meth:`tick` or before a message) since the
        last call: the only ones whose state can have changed without a message of theirs
        (a settle makes no gesture). Lets a host republish a few states, not all."""
        fired, self._fired = self._fired, set()
        return fired

    # -- inside -----------------------------------------------------------------

    def _advance(self, now: float) -> int:
        now_us = to_us(now)
        if now_us < self._now:
            return self._clock_went_back()
        self._now = now_us
        return now_us

    def _clock_went_back(self) -> int:
        self.counters["clock.went_back"] += 1
        return self._now

    def _run_timers(self, now: int, out: list[Gesture]) -> None:
        timers = self._timers
        while (due := timers.pop_due(now)) is not None:
            knob, kind, deadline = due
            assert isinstance(knob, Knob)
            self._fired.add(knob.name)
            knob.fire(kind, deadline, out)
            if knob.retired and knob.idle:
                self._drop(knob)

    def _add_knob(self, name: str) -> Knob:
        knob = Knob(
            name,
            self._seq,
            self.config.settings_for(name),
            self._timers,
            CompositeMatcher.for_specs(self.config.composites),
            self._count_one,
            self._machines,
        )
        self._seq += 1
        self._machines.add(knob)
        self._knobs[name] = knob
        return knob

    def _count_one(self, key: str) -> None:
        self.counters[key] += 1

    def _drop(self, knob: Knob) -> None:
        if self._knobs.get(knob.name) is knob:
            del self._knobs[knob.name]
        self._machines.remove(knob)

    def _devices(self, payload: Any) -> None:
        value, error = decode(payload, limit=MAX_DEVICES_BYTES)
        devices = None if error is not None else devices_in_list(value)
        if devices is None:
            self.counters["invalid.bridge_devices"] += 1
            log.debug("ignored a bridge/devices message that is not a JSON array")
            return
        change = self.registry.update(devices)
        self._known = self.registry.knobs
        self.counters["refused.unsafe_name"] += len(change.refused)
        for device in change.removed:
            knob = self._knobs.get(device.name)
            if knob is not None:
                knob.retired = True
                if knob.idle:
                    self._drop(knob)
        for device in change.added:
            knob = self._knobs.get(device.name)
            if knob is not None:
                knob.retired = False
        if change and self._on_devices is not None:
            self._on_devices(change)
