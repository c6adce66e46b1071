"""Messages in, publications out: the engine, flows, state and discovery of the bridge.

The :class:`Router` owns everything that does not depend on a connection: the
engine and its one timer, the flows, the outbox, the retained state of each
knob, Home Assistant discovery and the dial values read back at start. The
connection feeds it messages (:meth:`Router.receive`, then
:meth:`Router.received` once per batch read from the socket) and drains its
outbox; :meth:`Router.handle` is one message as a batch of its own.

States are published once per batch, and only when they changed in a way
their readers use (:mod:`knobflow.bridge._state`); when the knob list is known
is the start-up's concern (:mod:`knobflow.bridge._startup`).

Code in the bridge's event loop sees what is published through
:meth:`Router.listen` (:mod:`knobflow.bridge.events`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from knobflow.bridge._startup import DEVICES_GRACE, Startup, Step
from knobflow.bridge._state import KnobStates
from knobflow.bridge.discovery import DiscoveryPlan, DiscoverySettings
from knobflow.bridge.events import BridgeEvent, GesturePublished, Listener, StateChanged
from knobflow.bridge.outbox import Outbox, Publication
from knobflow.bridge.report import knobs_line
from knobflow.bridge.restore import DialRestore
from knobflow.bridge.timers import Clock, DeadlineTimer
from knobflow.config import Config
from knobflow.engine import BUILTIN_GESTURES, Engine, Gesture, RegistryChange
from knobflow.flows import FlowRunner, Outgoing
from knobflow.jsonio import MAX_PAYLOAD_BYTES, dumps
from knobflow.output import ONLINE, gesture_topic, state_topic, status_topic

__all__ = ["DEVICES_GRACE", "Router"]

log = logging.getLogger("knobflow.bridge")


class Router:
    """What the bridge does with each message, independent of the connection.

    ``wake`` is called whenever the outbox gets something; ``unsubscribe``
    when the dial values are restored and their filter is no longer needed.
    ``clock`` gives the engine's time (tests bring their own).
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
        clock: Clock | None = None,
    ) -> None:
        self.engine = Engine(config.engine_config(), on_devices=self._on_devices)
        self.flows = flows
        self.outbox = outbox
        self.counters = counters
        self.clock = clock if clock is not None else Clock()
        self.timer = DeadlineTimer(self.clock, self._on_timer)
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
        self._restore = DialRestore(config)
        self.startup = Startup()
        self._grace: asyncio.TimerHandle | None = None
        self.states = KnobStates(self.engine.knob_state, self._publish_state)
        self._touched: set[str] = set()  # knobs whose state may have changed in this batch
        self._gesture_topics: dict[str, str] = {}
        self._state_topics: dict[str, str] = {}
        self._listeners: list[Listener] = []
        if on_gesture is not None:
            self.listen(_gestures_to(on_gesture))

    # -- in-process hooks -------------------------------------------------------------

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every gesture and state the bridge publishes from now on
        (:mod:`knobflow.bridge.events`); returns the function that stops it."""
        self._listeners.append(listener)

        def stop() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return stop

    def _tell(self, event: BridgeEvent) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                self.counters["errors"] += 1
                log.exception("a listener of the bridge failed")

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
        now = self.clock.now()
        for name in list(self.engine.knobs):
            self.states.update(name, now, force=True)
        if self.discovery is not None and self.startup.settled:
            self._enqueue_all(self.discovery.everything())
        if self.startup.session_started() is Step.START_GRACE:
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
            now, update = self.clock.now(), self.states.update
            for name in touched:
                update(name, now)
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
            self.states.tick(now)
            if self.flows is not None:
                self._enqueue_flows(self.flows.tick(now))
        except Exception:  # a bug: keep the timers running
            self._touched.clear()
            self.counters["errors"] += 1
            log.exception("a timer failed")
        self._arm()

    def _arm(self) -> None:
        """The one timer at the earliest deadline: the engine's, a throttled flow's, or a
        held-back state's."""
        deadline = self.engine.next_deadline()
        if self.flows is not None and (held := self.flows.next_deadline()) is not None:
            deadline = held if deadline is None else min(deadline, held)
        if (state := self.states.next_deadline()) is not None:
            deadline = state if deadline is None else min(deadline, state)
        self.timer.arm(deadline)

    # -- publishing -------------------------------------------------------------------

    def _emit(self, gestures: list[Gesture]) -> None:
        outbox, qos, flows = self.outbox, self._qos, self.flows
        topics = self._gesture_topics
        tell = self._tell if self._listeners else None
        for gesture in gestures:
            knob = gesture.knob
            topic = topics.get(knob)
            if topic is None:
                topic = topics[knob] = gesture_topic(self._out, knob)
            if tell is not None:
                tell(GesturePublished(gesture, topic))
            outbox.put(Publication(topic, dumps(gesture.to_dict()), False, qos))
            self._touched.add(knob)
            if flows is not None:
                self._enqueue_flows(flows.feed(gesture))
        self._wake()

    def _enqueue_flows(self, messages: list[Outgoing]) -> None:
        for message in messages:
            self._enqueue(Publication(message.topic, message.payload, message.retain, message.qos))

    def _publish_state(self, name: str, state: dict[str, Any]) -> None:
        topic = self._state_topics.get(name)
        if topic is None:
            topic = self._state_topics[name] = state_topic(self._out, name)
        if self._listeners:
            self._tell(StateChanged(name, state, topic))
        self._enqueue(Publication(topic, dumps(state), retain=True))

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
            self.states.forget(device.name)
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
        if self.startup.settled:
            self._sync_discovery()

    def _devices_listed(self) -> None:
        step = self.startup.devices_listed()
        self._end_grace()
        if step is not Step.NONE:
            log.info("%s", knobs_line(list(self.engine.knobs)))
        if step is Step.SETTLE:
            self._restore_dials()
        self._sync_discovery()

    def _grace_over(self) -> None:
        self._grace = None
        if self.startup.grace_over() is Step.SETTLE:
            log.info("no %s yet; %s", self._devices_topic, knobs_line(list(self.engine.knobs)))
            self._restore_dials()
            self._sync_discovery()
            self._arm()

    def _end_grace(self) -> None:
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None

    def _restore_dials(self) -> None:
        """The knob list is known: give each knob its dial values, stop listening for them."""
        if not self._restore.active:
            return
        restored = self._restore.apply(self.engine)
        now = self.clock.now()
        for name in restored:
            self.states.update(name, now)
        if restored:
            log.info("dial values restored from the retained state of: %s", ", ".join(restored))
        self._unsubscribe(self._restore.filter)

    def _sync_discovery(self) -> None:
        if self.discovery is None:
            return
        knobs = self.engine.knobs.values()
        self._enqueue_all(self.discovery.update(knobs, complete=self.startup.listed))


def _gestures_to(on_gesture: Callable[[Gesture], None]) -> Listener:
    def listener(event: BridgeEvent) -> None:
        if isinstance(event, GesturePublished):
            on_gesture(event.gesture)

    return listener
