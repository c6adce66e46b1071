"""The bridge service: one engine, one broker connection at a time, reconnecting.

    bridge = Bridge(load_config("knobflow.yaml"))
    await bridge.run()          # until bridge.stop(); raises BrokerRefused if refused at start

Inside one connection: subscribe, publish ``online`` and everything retained
the bridge owns, then a receiver feeds the engine while a publisher drains
the outbox. The engine's timer and the outbox live outside the connection:
while the broker is away, rotations and holds still close on time and their
gestures wait in the outbox (bounded) until the next connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import aiomqtt

from knobflow.bridge.connect import BrokerRefused, BrokerSettings, broker_settings, explain
from knobflow.bridge.discovery import DiscoveryPlan, DiscoverySettings
from knobflow.bridge.outbox import OUTBOX_LIMIT, Outbox, Publication
from knobflow.bridge.report import counter_text, knobs_line, start_line
from knobflow.bridge.restore import DialRestore
from knobflow.bridge.timers import Clock, DeadlineTimer
from knobflow.config import Config
from knobflow.engine import BUILTIN_GESTURES, Engine, Gesture, RegistryChange
from knobflow.engine.parse import MAX_PAYLOAD_BYTES
from knobflow.flows import FlowRunner, Outgoing
from knobflow.output import (
    OFFLINE,
    ONLINE,
    gesture_payload,
    gesture_topic,
    state_payload,
    state_topic,
    status_topic,
)

__all__ = ["BACKOFF_FIRST", "BACKOFF_MAX", "Bridge", "build_flows"]

log = logging.getLogger("knobflow.bridge")

BACKOFF_FIRST = 0.25  # seconds before the first retry; doubles per failure ...
BACKOFF_MAX = 4.0  # ... up to this, so a returning broker is found within about 4 s
DEVICES_GRACE = 0.5  # first discovery waits this long for the retained bridge/devices
FLUSH_TIMEOUT = 2.0  # at shutdown: time to send what is queued, then `offline`
STATS_INTERVAL = 300.0  # counters are logged this often (when they changed) and at exit
STILL_DOWN_EVERY = 60.0  # while the broker stays away, a reminder this often


def build_flows(config: Config, source: str = "config") -> FlowRunner | None:
    """The config's flows, compiled and tried once; ``None`` when there are none.

    Raises ``ConfigError`` naming ``flows[i].<key>`` for a bad rule.
    """
    if not config.flows:
        return None
    return FlowRunner.from_config(config.flows, config.composites, source=source)


def _forget(tasks: set[asyncio.Task[Any]]) -> Callable[[asyncio.Task[Any]], None]:
    """A done callback: drop the task and read its outcome (a lost connection is no news)."""

    def done(task: asyncio.Task[Any]) -> None:
        tasks.discard(task)
        if not task.cancelled():
            task.exception()

    return done


class Bridge:
    """Zigbee2MQTT knob messages in, gestures, state and discovery out (SPEC.md §6).

    ``on_gesture`` sees every gesture as it is made (before it is published).
    ``connected``, ``disconnected`` and ``ready`` (connected and subscribed)
    are events for hosts and tests to wait on.
    """

    def __init__(
        self,
        config: Config,
        settings: BrokerSettings | None = None,
        *,
        outbox_limit: int = OUTBOX_LIMIT,
        stats_interval: float = STATS_INTERVAL,
        on_gesture: Callable[[Gesture], None] | None = None,
        flows: FlowRunner | None = None,
    ) -> None:
        self.config = config
        self.settings = settings if settings is not None else broker_settings(config)
        self.engine = Engine(config.engine_config(), on_devices=self._on_devices)
        self.flows = flows if flows is not None else build_flows(config)
        self.outbox = Outbox(outbox_limit)
        self.counters: Counter[str] = Counter()
        self.clock = Clock()
        self.connected = asyncio.Event()
        self.disconnected = asyncio.Event()
        self.disconnected.set()
        self.ready = asyncio.Event()
        self._on_gesture = on_gesture
        self._stats_interval = stats_interval
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._timer = DeadlineTimer(self.clock, self._on_timer)
        self._out = config.output.base_topic
        self._qos = config.output.qos
        self._status = status_topic(self._out)
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
        self._background: set[asyncio.Task[Any]] = set()
        self._client: aiomqtt.Client | None = None
        self._devices_seen = False
        self._grace: asyncio.TimerHandle | None = None
        self._last_state: dict[str, str] = {}
        self._ever_connected = False
        self._session_up = False
        self._session_over = False

    # -- life cycle ---------------------------------------------------------------

    def stop(self) -> None:
        """Ask :meth:`run` to publish ``offline``, disconnect and return."""
        self._stop.set()

    async def run(self) -> None:
        """Connect, reconnect after every loss, until :meth:`stop`.

        Raises :class:`BrokerRefused` when the broker refuses the first connection
        for a reason no retry mends (wrong password, wrong CA, ...).
        """
        log.info("%s", start_line(self.config, self.settings, len(self.engine.knobs)))
        stats = asyncio.create_task(self._stats_loop())
        try:
            await self._connect_loop()
        finally:
            stats.cancel()
            await asyncio.gather(stats, return_exceptions=True)
            self._timer.cancel()
            if self._grace is not None:
                self._grace.cancel()
            log.info("stopped; counters: %s", self.counter_text())

    async def _connect_loop(self) -> None:
        delay = BACKOFF_FIRST
        failures = 0
        down_since = 0.0
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            self._session_up = False
            try:
                await self._session()
            except aiomqtt.MqttError as err:
                message, permanent = explain(err, self.settings)
                if self._session_up:
                    log.warning(
                        "lost the connection to the broker (%s); reconnecting. Meanwhile "
                        "rotations and holds still close on time and up to %d gestures wait "
                        "in the outbox",
                        message,
                        self.outbox.limit,
                    )
                elif permanent and not self._ever_connected:
                    raise BrokerRefused(message) from None
                else:
                    failures += 1
                    now = loop.time()
                    if failures == 1:
                        down_since = now
                        level = logging.ERROR if permanent else logging.WARNING
                        log.log(level, "%s; retrying (every %g s at most)", message, BACKOFF_MAX)
                    elif now - down_since >= STILL_DOWN_EVERY:
                        down_since = now
                        log.warning("%s (%d attempts so far); still retrying", message, failures)
                    else:
                        log.debug("%s (attempt %d)", message, failures)
            if self._session_up:
                delay, failures = BACKOFF_FIRST, 0
            if self._stop.is_set():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay * random.uniform(0.8, 1.0))
            delay = min(delay * 2, BACKOFF_MAX)

    async def _session(self) -> None:
        """One connection, until it is lost (raises) or :meth:`stop` (returns)."""
        s = self.settings
        client = aiomqtt.Client(
            s.host,
            s.port,
            username=s.username,
            password=s.password,
            identifier=s.client_id,
            keepalive=s.keepalive,
            tls_context=s.tls,
            will=aiomqtt.Will(self._status, OFFLINE, qos=1, retain=True),
            clean_session=True,
        )
        async with client:
            self._session_up = True  # from here on, an error is a lost connection
            self._session_over = False
            self._client = client
            self._connected()
            tasks: list[asyncio.Task[Any]] = []
            try:
                await client.subscribe(self._subscriptions())
                self._subscribed()
                receiver = asyncio.create_task(self._receive(client))
                publisher = asyncio.create_task(self._publish(client))
                stopper = asyncio.create_task(self._stop.wait())
                tasks = [receiver, publisher, stopper]
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                await self._end_tasks(tasks)
                if stopper in done:
                    await self._goodbye(client)
                    return
                for task in (receiver, publisher):
                    error = task.exception() if task in done and not task.cancelled() else None
                    if error is not None:
                        raise error
                raise aiomqtt.MqttError("the connection ended")
            finally:
                self._client = None
                await self._end_tasks(tasks)
                self._disconnected()

    async def _end_tasks(self, tasks: list[asyncio.Task[Any]]) -> None:
        """Cancel the session's tasks and wait for them, never forever: Python 3.11's
        ``wait_for`` (inside aiomqtt's publish) can swallow a cancellation, so the
        publisher also stops at the ``_session_over`` flag."""
        self._session_over = True
        self._wake.set()
        pending = [task for task in tasks if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=FLUSH_TIMEOUT)

    def _connected(self) -> None:
        if self._ever_connected:
            self.counters["reconnects"] += 1
            log.info("reconnected to the broker %s", self.settings.url)
        else:
            log.info("connected to the broker %s", self.settings.describe())
        self._ever_connected = True
        self.disconnected.clear()
        self.connected.set()

    def _disconnected(self) -> None:
        self.ready.clear()
        self.connected.clear()
        self.disconnected.set()

    def _subscriptions(self) -> list[tuple[str, int]]:
        topics = []
        if self.discovery is not None:
            # configs of earlier runs first, so that stale ones are known when bridge/devices comes
            topics += [(t, 0) for t in self.discovery.settings.subscriptions()]
            topics.append((self.discovery.settings.status_topic, 0))
        topics.append((self._z2m_filter, 0))
        if self._restore.active:  # before bridge/devices: the states come first
            topics.insert(0, (self._restore.filter, 0))
        return topics

    def _subscribed(self) -> None:
        """Publish what a fresh session needs: status, states, discovery."""
        self._enqueue(Publication(self._status, ONLINE, retain=True, qos=1))
        for name in list(self.engine.knobs):
            self._publish_state(name, force=True)
        if self.discovery is not None and self._discovery_live:
            self._enqueue_all(self.discovery.everything())
        if not self._settled and self._grace is None:
            loop = asyncio.get_running_loop()
            self._grace = loop.call_later(DEVICES_GRACE, self._grace_over)
        self.ready.set()

    async def _goodbye(self, client: aiomqtt.Client) -> None:
        """Send what is queued, then the retained ``offline`` (leaving discards the will)."""
        try:
            async with asyncio.timeout(FLUSH_TIMEOUT):
                while (pub := self.outbox.take()) is not None:
                    await self._send(client, pub)
                await client.publish(self._status, OFFLINE, qos=1, retain=True)
                self.counters["published"] += 1
        except (aiomqtt.MqttError, TimeoutError) as err:
            log.warning("could not publish everything before leaving: %s", str(err) or "timed out")

    # -- receiving ------------------------------------------------------------------

    async def _receive(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            payload = message.payload
            if not isinstance(payload, bytes):
                payload = str(payload).encode()
            try:
                self.handle(message.topic.value, payload, message.retain)
            except Exception:  # a bug: lose this message, not the service
                self.counters["errors"] += 1
                log.exception("could not handle a message on %r", message.topic.value)

    def handle(self, topic: str, payload: bytes, retain: bool = False) -> None:
        """One message from the broker (public for tests and embedding)."""
        if self._restore.offer(topic, payload, retain):
            pass
        elif topic.startswith(self._z2m_prefix):
            devices = topic == self._devices_topic
            refused = self.engine.counters["invalid.bridge_devices"]
            gestures = self.engine.feed(topic, payload, self.clock.now(), retain)
            self._emit(gestures, topic[len(self._z2m_prefix) :])
            if devices and self.engine.counters["invalid.bridge_devices"] == refused:
                self._devices_listed()
        elif self.discovery is not None:
            self._discovery_message(self.discovery, topic, payload, retain)
        else:
            self.counters["ignored"] += 1
        self._arm()

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

    def _on_timer(self, now: float) -> None:
        try:
            self._emit(self.engine.tick(now), None)
            for name in list(self.engine.knob_names_seen()):  # a timer may change a state
                self._publish_state(name)
            if self.flows is not None:
                self._enqueue_flows(self.flows.tick(now))
        except Exception:  # a bug: keep the timers running
            self.counters["errors"] += 1
            log.exception("a timer failed")
        self._arm()

    def _arm(self) -> None:
        """The one timer at the earliest deadline: the engine's, or a throttled flow's."""
        deadline = self.engine.next_deadline()
        if self.flows is not None and (held := self.flows.next_deadline()) is not None:
            deadline = held if deadline is None else min(deadline, held)
        self._timer.arm(deadline)

    def _emit(self, gestures: list[Gesture], name: str | None) -> None:
        touched = {name} if name is not None else set()
        for gesture in gestures:
            if self._on_gesture is not None:
                self._on_gesture(gesture)
            topic = gesture_topic(self._out, gesture.knob)
            self._enqueue(Publication(topic, gesture_payload(gesture), qos=self._qos))
            touched.add(gesture.knob)
            if self.flows is not None:
                self._enqueue_flows(self.flows.feed(gesture))
        for knob in touched:
            self._publish_state(knob)

    def _enqueue_flows(self, messages: list[Outgoing]) -> None:
        for message in messages:
            self._enqueue(Publication(message.topic, message.payload, message.retain, message.qos))

    def _publish_state(self, name: str, *, force: bool = False) -> None:
        state = self.engine.knob_state(name)
        if state is None:  # not a knob (or not seen yet): nothing kept
            return
        text = state_payload(state)
        if not force and self._last_state.get(name) == text:
            return
        self._last_state[name] = text
        self._enqueue(Publication(state_topic(self._out, name), text, retain=True))

    # -- knobs and discovery --------------------------------------------------------

    def _on_devices(self, change: RegistryChange) -> None:
        for device in change.removed:
            self._last_state.pop(device.name, None)
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
        if self._client is not None:
            task = asyncio.create_task(self._client.unsubscribe(self._restore.filter))
            self._background.add(task)
            task.add_done_callback(_forget(self._background))

    def _sync_discovery(self) -> None:
        if self.discovery is None:
            return
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None
        self._discovery_live = True
        knobs = self.engine.knobs.values()
        self._enqueue_all(self.discovery.update(knobs, complete=self._devices_seen))

    # -- publishing -----------------------------------------------------------------

    def _enqueue(self, pub: Publication) -> None:
        self.outbox.put(pub)
        self._wake.set()

    def _enqueue_all(self, pubs: Iterable[Publication]) -> None:
        for pub in pubs:
            self.outbox.put(pub)
        self._wake.set()

    async def _publish(self, client: aiomqtt.Client) -> None:
        while not self._session_over:
            pub = self.outbox.take()
            if pub is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            await self._send(client, pub)

    async def _send(self, client: aiomqtt.Client, pub: Publication) -> None:
        try:
            await client.publish(pub.topic, pub.payload, qos=pub.qos, retain=pub.retain)
        except ValueError as err:  # a topic the client refuses: never retried
            self.counters["dropped.bad_topic"] += 1
            log.error("cannot publish to %r: %s", pub.topic, err)
            return
        except BaseException:
            self.outbox.put_back(pub)
            raise
        self.counters["published"] += 1

    # -- reporting ------------------------------------------------------------------

    def counter_text(self) -> str:
        """Engine, bridge and flow counters as ``name=value`` pairs."""
        bridge = self.counters if self.flows is None else self.counters + self.flows.counters
        return counter_text(self.engine.counters, bridge, self.outbox)

    async def _stats_loop(self) -> None:
        last = ""
        while True:
            await asyncio.sleep(self._stats_interval)
            text = self.counter_text()
            if text != last:
                log.info("counters: %s", text)
                last = text
