"""Messages in, publications out: the engine, flows, state and discovery of the bridge.

The :class:`Router` owns everything that does not depend on a connection: the
engine and its one timer, the flows, the outbox, the retained state of each
knob, Home Assistant discovery and the dial values read back at start. The
connection feeds it messages (:meth:`Router.receive`, then
:meth:`Router.received` once per batch read from the socket) and drains its
outbox; :meth:`Router.handle` is one message as a batch of its own.

States are published once per batch: a burst of frames of one knob makes one
retained state message (the outbox keeps only the newest per topic anyway).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Iterable

from knobflow.bridge.discovery import DiscoveryPlan, DiscoverySettings
from knobflow.bridge.jsontext import compact, compact_sorted
from knobflow.bridge.outbox import Outbox, Publication
from knobflow.bridge.report import knobs_line
from knobflow.bridge.restore import DialRestore
from knobflow.bridge.timers import Clock, DeadlineTimer
from knobflow.config import Config
from knobflow.engine import BUILTIN_GESTURES, Engine, Gesture, RegistryChange
from knobflow.engine.parse import MAX_PAYLOAD_BYTES
from knobflow.flows import FlowRunner, Outgoing
from knobflow.output import ONLINE, gesture_topic, state_topic, status_topic

__all__ = ["DEVICES_GRACE", "Router"]

log = logging.getLogger("knobflow.bridge")

DEVICES_GRACE = 0.5  # first discovery waits this long for the retained bridge/devices


class Router:
    """What the bridge does with each message, independent of the connection.

    ``wake`` is called whenever the outbox gets something; ``unsubscribe``
    when the dial values are restored and their filter is no longer needed.
    """

    def __init__(
        self,
        config: Config,
        outbox: Outbox,
        counters: Counter[str],
        *,
        flows: FlowRunner | None,
        on_gesture: Callable[[Gesture], None] | None,
        wake: Callable[[], None],
        unsubscribe: Callable[[str], None],
    ) -> None:
        self.engine = Engine(config.engine_config(), on_devices=self._on_devices)
        self.flows = flows
        self.outbox = outbox
        self.counters = counters
        self.clock = Clock()
        self.timer = DeadlineTimer(self.clock, self._on_timer)
        self._on_gesture = on_gesture
        self._wake = wake
        self._unsubscribe = unsubscribe
        self._out = config.output.base_topic
        self._qos = config.output.qos
        self.status_topic = status_topic(self._out)
        base = config.zigbee2mqtt.base_topic
        self._z2m_filter = base + "/#"
        self._z2m_prefix = base + "/"
        self._devices_topic = base + "/bridge/devices"
        ha = config.homeassistant
        self.discovery: DiscoveryPlan | None = None
        if ha.discovery:
            gestures = BUILTIN_GESTURES + tuple(config.composites)
            self.discovery = DiscoveryPlan(DiscoverySettings(ha.prefix, self._out, gestures))
        self._discovery_live = False  # first discovery sent (bridge/devices seen, or grace over)
        self._restore = DialRestore(config)
        self._settled = False  # the knob list is known: bridge/devices read, or the grace is over
        self._devices_seen = False
        self._grace: asyncio.TimerHandle | None = None
        self._last_state: dict[str, str] = {}
        self._touched: set[str] = set()  # knobs whose state may have changed in this batch
        self._gesture_topics: dict[str, str] = {}
        self._state_topics: dict[str, str] = {}

    # -- a session ------------------------------------------------------------------

    def subscriptions(self) -> list[tuple[str, int]]:
        topics = []
        if self.discovery is not None:
            # configs of earlier runs first, so that stale ones are known when bridge/devices comes
            topics += [(t, 0) for t in self.discovery.settings.subscriptions()]
            topics.append((self.discovery.settings.status_topic, 0))
        topics.append((self._z2m_filter, 0))
        if self._restore.active:  # before bridge/devices: the states come first
            topics.insert(0, (self._restore.filter, 0))
        return topics

    def session_started(self) -> None:
        """Queue what a fresh session needs: status, states, discovery."""
        self._enqueue(Publication(self.status_topic, ONLINE, retain=True, qos=1))
        for name in list(self.engine.knobs):
            self._publish_state(name, force=True)
        if self.discovery is not None and self._discovery_live:
            self._enqueue_all(self.discovery.everything())
        if not self._settled and self._grace is None:
            loop = asyncio.get_running_loop()
            self._grace = loop.call_later(DEVICES_GRACE, self._grace_over)

    def close(self) -> None:
        """The bridge stops: no more timers."""
        self.timer.cancel()
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None

    # -- receiving ------------------------------------------------------------------

    def handle(self, topic: str, payload: bytes, retain: bool = False) -> None:
        """One message from the broker, as a batch of its own."""
        self._handle(topic, payload, retain)
        self.batch_done()

    def receive(self, topic: str, payload: bytes, retain: bool) -> None:
        """One message of a batch; a bug costs this message, not the service."""
        try:
            self._handle(topic, payload, retain)
        except Exception:
            self.counters["errors"] += 1
            log.exception("could not handle a message on %r", topic)

    def batch_done(self) -> None:
        """After the messages of one read: publish the states they changed, move the timer."""
        self._publish_touched()
        self._arm()

    def received(self) -> None:
        """:meth:`batch_done` for the connection: a bug is logged, the service goes on."""
        try:
            self.batch_done()
        except Exception:
            self.counters["errors"] += 1
            log.exception("could not publish the knobs' states")

    def _publish_touched(self) -> None:
        touched = self._touched
        touched.update(self.engine.take_fired())  # a timer may change a state, gesture or not
        if touched:
            for name in touched:
                self._publish_state(name)
            touched.clear()

    def _handle(self, topic: str, payload: bytes, retain: bool) -> None:
        if self._restore.active and self._restore.offer(topic, payload, retain):
            pass
        elif topic.startswith(self._z2m_prefix):
            engine = self.engine
            # telemetry may change a knob's state even without a gesture
            self._touched.add(topic[len(self._z2m_prefix) :])
            if topic == self._devices_topic:
                refused = engine.counters["invalid.bridge_devices"]
                self._emit(engine.feed(topic, payload, self.clock.now(), retain))
                if engine.counters["invalid.bridge_devices"] == refused:
                    self._publish_touched()
                    self._devices_listed()
            else:
                gestures = engine.feed(topic, payload, self.clock.now(), retain)
                if gestures:
                    self._emit(gestures)
        elif self.discovery is not None:
            self._discovery_message(self.discovery, topic, payload, retain)
        else:
            self.counters["ignored"] += 1

    def _discovery_message(
        self, plan: DiscoveryPlan, topic: str, payload: bytes, retain: bool
    ) -> None:
        if len(payload) > MAX_PAYLOAD_BYTES:
            self.counters["dropped.oversize"] += 1
        elif topic == plan.settings.status_topic:
            if payload.strip() == ONLINE.encode() and not retain:
                log.info("Home Assistant is online: publishing discovery again")
                self._enqueue_all(plan.everything())
        elif retain and payload and plan.settings.owns(topic):
            self._enqueue_all(plan.retained_seen(topic))
        else:
            self.counters["ignored"] += 1

    # -- the engine's timer ---------------------------------------------------------

    def _on_timer(self, now: float) -> None:
        try:
            self._emit(self.engine.tick(now))
            self._publish_touched()
            if self.flows is not None:
                self._enqueue_flows(self.flows.tick(now))
        except Exception:  # a bug: keep the timers running
            self._touched.clear()
            self.counters["errors"] += 1
            log.exception("a timer failed")
        self._arm()

    def _arm(self) -> None:
        """The one timer at the earliest deadline: the engine's, or a throttled flow's."""
        deadline = self.engine.next_deadline()
        if self.flows is not None and (held := self.flows.next_deadline()) is not None:
            deadline = held if deadline is None else min(deadline, held)
        self.timer.arm(deadline)

    # -- publishing -------------------------------------------------------------------

    def _emit(self, gestures: list[Gesture]) -> None:
        outbox, qos, flows = self.outbox, self._qos, self.flows
        topics = self._gesture_topics
        for gesture in gestures:
            if self._on_gesture is not None:
                self._on_gesture(gesture)
            knob = gesture.knob
            topic = topics.get(knob)
            if topic is None:
                topic = topics[knob] = gesture_topic(self._out, knob)
            outbox.put(Publication(topic, compact(gesture.to_dict()), False, qos))
            self._touched.add(knob)
            if flows is not None:
                self._enqueue_flows(flows.feed(gesture))
        self._wake()

    def _enqueue_flows(self, messages: list[Outgoing]) -> None:
        for message in messages:
            self._enqueue(Publication(message.topic, message.payload, message.retain, message.qos))

    def _publish_state(self, name: str, *, force: bool = False) -> None:
        state = self.engine.knob_state(name)
        if state is None:  # not a knob (or not seen yet): nothing kept
            return
        text = compact_sorted(state)
        if not force and self._last_state.get(name) == text:
            return
        self._last_state[name] = text
        topic = self._state_topics.get(name)
        if topic is None:
            topic = self._state_topics[name] = state_topic(self._out, name)
        self._enqueue(Publication(topic, text, retain=True))

    def _enqueue(self, pub: Publication) -> None:
        self.outbox.put(pub)
        self._wake()

    def _enqueue_all(self, pubs: Iterable[Publication]) -> None:
        for pub in pubs:
            self.outbox.put(pub)
        self._wake()

    # -- knobs and discovery --------------------------------------------------------

    def _on_devices(self, change: RegistryChange) -> None:
        for device in change.removed:
            self._last_state.pop(device.name, None)
            self._gesture_topics.pop(device.name, None)
            self._state_topics.pop(device.name, None)
        if len(change.added) > 3:
            names = ", ".join(repr(d.name) for d in change.added)
            log.info("%d knobs found in bridge/devices: %s", len(change.added), names)
        else:
            for device in change.added:
                log.info("knob %r found (IEEE %s)", device.name, device.ieee or "unknown")
        for device in change.removed:
            log.info("knob %r left bridge/devices", device.name)
        if self._discovery_live:
            self._sync_discovery()

    def _devices_listed(self) -> None:
        if not self._devices_seen:
            self._devices_seen = True
            log.info("%s", knobs_line(list(self.engine.knobs)))
        self._settled = True
        self._restore_dials()
        self._sync_discovery()

    def _grace_over(self) -> None:
        self._grace = None
        self._settled = True
        if not self._devices_seen:
            log.info("no %s yet; %s", self._devices_topic, knobs_line(list(self.engine.knobs)))
        self._restore_dials()
        if not self._discovery_live:
            self._sync_discovery()

    def _restore_dials(self) -> None:
        """The knob list is known: give each knob its dial values, stop listening for them."""
        if not self._restore.active:
            return
        restored = self._restore.apply(self.engine)
        for name in restored:
            self._publish_state(name)
        if restored:
            log.info("dial values restored from the retained state of: %s", ", ".join(restored))
        self._unsubscribe(self._restore.filter)

    def _sync_discovery(self) -> None:
        if self.discovery is None:
            return
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None
        self._discovery_live = True
        knobs = self.engine.knobs.values()
        self._enqueue_all(self.discovery.update(knobs, complete=self._devices_seen))
