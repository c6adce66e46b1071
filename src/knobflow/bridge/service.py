"""The bridge service: one engine, one broker connection at a time, reconnecting.

    bridge = Bridge(load_config("knobflow.yaml"))
    await bridge.run()          # until bridge.stop(); raises BrokerRefused if refused at start

Inside one connection (aiomqtt): subscribe, publish ``online`` and everything
retained the bridge owns, then a :class:`~knobflow.bridge.receiver.Receiver`
feeds the :class:`~knobflow.bridge.router.Router` (engine, flows, state,
discovery) as messages are read, and a
:class:`~knobflow.bridge.publisher.Publisher` drains the outbox. The engine's
timer and the outbox live outside the connection: while the broker is away,
rotations and holds still close on time and their gestures wait in the
outbox (bounded) until the next connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
from collections import Counter
from collections.abc import Callable
from typing import Any

import aiomqtt

from knobflow.bridge.connect import BrokerRefused, BrokerSettings, broker_settings, explain
from knobflow.bridge.outbox import OUTBOX_LIMIT, Outbox
from knobflow.bridge.publisher import FLUSH_TIMEOUT, Publisher
from knobflow.bridge.receiver import Receiver
from knobflow.bridge.report import counter_text, start_line
from knobflow.bridge.router import Router
from knobflow.config import Config
from knobflow.engine import Gesture
from knobflow.flows import FlowRunner, build_flows
from knobflow.output import OFFLINE

__all__ = ["BACKOFF_FIRST", "BACKOFF_MAX", "Bridge"]

log = logging.getLogger("knobflow.bridge")

BACKOFF_FIRST = 0.25  # seconds before the first retry; doubles per failure ...
BACKOFF_MAX = 4.0  # ... up to this, so a returning broker is found within about 4 s
STATS_INTERVAL = 300.0  # counters are logged this often (when they changed) and at exit
STILL_DOWN_EVERY = 60.0  # while the broker stays away, a reminder this often
# paho leaves Nagle's algorithm on: a state message right after a gesture would wait
# for the gesture's acknowledgement (up to 40 ms)
SOCKET_OPTIONS = ((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),)


def _forget(tasks: set[asyncio.Task[Any]]) -> Callable[[asyncio.Task[Any]], None]:
    """A done callback: drop the task and read its outcome (a lost connection is no news)."""

    def done(task: asyncio.Task[Any]) -> None:
        tasks.discard(task)
        if not task.cancelled():
            task.exception()

    return done


class Bridge:
    """Zigbee2MQTT knob messages in, gestures, state and discovery out (docs/contract.md §6).

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
        self.outbox = Outbox(outbox_limit)
        self.counters: Counter[str] = Counter()
        self.router = Router(
            config,
            self.outbox,
            self.counters,
            flows=flows if flows is not None else build_flows(config),
            on_gesture=on_gesture,
            wake=self._wake,
            unsubscribe=self._unsubscribe,
        )
        self.engine = self.router.engine
        self.flows = self.router.flows
        self.discovery = self.router.discovery
        self.clock = self.router.clock
        self.publisher = Publisher(self.outbox, self.counters, self.router.status_topic)
        self.receiver = Receiver(self.router, self.publisher, self.counters)
        self.connected = asyncio.Event()
        self.disconnected = asyncio.Event()
        self.disconnected.set()
        self.ready = asyncio.Event()
        self._stats_interval = stats_interval
        self._stop = asyncio.Event()
        self._background: set[asyncio.Task[Any]] = set()
        self._client: aiomqtt.Client | None = None
        self._ever_connected = False
        self._session_up = False

    def handle(self, topic: str, payload: bytes, retain: bool = False) -> None:
        """One message from the broker (public for tests and embedding)."""
        self.router.handle(topic, payload, retain)

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
            self.router.close()
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

    def _new_client(self) -> aiomqtt.Client:
        s = self.settings
        client = aiomqtt.Client(
            **s.client_options(),
            identifier=s.client_id,
            will=aiomqtt.Will(self.router.status_topic, OFFLINE, qos=1, retain=True),
            clean_session=True,
            socket_options=SOCKET_OPTIONS,
        )
        self.receiver.attach(client)
        self.publisher.watch_writes(client)
        return client

    async def _session(self) -> None:
        """One connection, until it is lost (raises) or :meth:`stop` (returns)."""
        client = self._new_client()
        async with client:
            self._session_up = True  # from here on, an error is a lost connection
            self.publisher.over = False
            self._client = client
            self._connected()
            tasks: list[asyncio.Task[Any]] = []
            try:
                await client.subscribe(self.router.subscriptions())
                self.router.session_started()
                self.ready.set()
                self.receiver.start()
                # no message reaches aiomqtt's iterator: it raises when the connection is lost
                receiver = asyncio.create_task(self._watch(client))
                publisher = asyncio.create_task(self.publisher.run(client))
                stopper = asyncio.create_task(self._stop.wait())
                tasks = [receiver, publisher, stopper]
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                await self._end_tasks(tasks)
                if stopper in done:
                    await self.publisher.goodbye(client)
                    return
                for task in (receiver, publisher):
                    error = task.exception() if task in done and not task.cancelled() else None
                    if error is not None:
                        raise error
                raise aiomqtt.MqttError("the connection ended")
            finally:
                self._client = None
                self.receiver.stop()
                await self._end_tasks(tasks)
                self._disconnected()

    @staticmethod
    async def _watch(client: aiomqtt.Client) -> None:
        async for _ in client.messages:
            pass

    async def _end_tasks(self, tasks: list[asyncio.Task[Any]]) -> None:
        """Cancel the session's tasks and wait for them, never forever: Python 3.11's
        ``wait_for`` (inside aiomqtt's publish) can swallow a cancellation, so the
        publisher also stops at its ``over`` flag."""
        self.publisher.over = True
        self.publisher.notify()
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

    def _wake(self) -> None:
        self.publisher.notify()

    def _unsubscribe(self, topic_filter: str) -> None:
        if self._client is not None:
            task = asyncio.create_task(self._client.unsubscribe(topic_filter))
            self._background.add(task)
            task.add_done_callback(_forget(self._background))

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
