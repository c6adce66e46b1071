"""Draining the outbox into the broker connection, in order.

QoS 0 publications (gestures, states, discovery: nearly everything) go
through aiomqtt's paho client without awaiting each one, straight after the
messages that made them (:meth:`Publisher.drain`): paho queues the burst and
aiomqtt's socket writer sends it. The next burst is handed over once paho
has written the last one, so a slow broker leaves publications waiting in the
outbox, where retained ones are coalesced by topic and gestures are bounded.

A QoS 1 or 2 publication (``online``, a flow's message, gestures with
``output.qos``) is sent by the publisher task through
``aiomqtt.Client.publish``, which waits for the broker's acknowledgement
before anything after it is sent: the order of the outbox is the order on
the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import aiomqtt
import paho.mqtt.client as paho

from knobflow.bridge.outbox import Outbox, Publication
from knobflow.output import OFFLINE

__all__ = ["FLUSH_TIMEOUT", "Publisher"]

log = logging.getLogger("knobflow.bridge")

FLUSH_TIMEOUT = 2.0  # at shutdown: time to send what is queued, then `offline`


def _not_yet(client: paho.Client, userdata: Any, sock: Any) -> None:
    """paho's ``on_socket_register_write`` while a burst is queued: the burst is written
    right after (with no callback at all, paho would write each message as it comes)."""


class Publisher:
    """Sends the outbox over one connection after another.

    :meth:`run` is the session's publisher task. Between QoS 1/2
    publications it waits, and :meth:`drain` sends QoS 0 ones at once.
    """

    def __init__(self, outbox: Outbox, counters: Counter[str], status_topic: str) -> None:
        self.outbox = outbox
        self.counters = counters
        self.status_topic = status_topic
        self.wake = asyncio.Event()
        self.over = False  # the session ends: stop at the next publication
        self._paho: paho.Client | None = None  # while a session runs
        self._idle = False  # the task waits: drain() may send
        self._kick: asyncio.Handle | None = None
        self._on_publish: Any = None  # aiomqtt's, while one of its publish calls waits
        self._register_write: Any = None  # aiomqtt's: watch the socket until paho wrote all

    def notify(self) -> None:
        """The outbox has something, or paho wrote what it had: drain at the next loop turn."""
        if self._kick is None and self._paho is not None:  # else the next session sends it
            self._kick = asyncio.get_running_loop().call_soon(self.drain)

    def drain(self, *, write: bool = False) -> None:
        """Hand the QoS 0 publications at the head of the outbox to paho now, unless it is
        still writing the last burst (it calls :meth:`notify` when done) or the task is busy
        with a QoS 1/2 one; wake the task when one of those is next.

        ``write``: the connection was just read from, so it is alive: write the burst
        now rather than through aiomqtt's socket writer (two turns of the loop later).
        """
        if self._kick is not None:
            self._kick.cancel()
            self._kick = None
        quick = self._paho
        if quick is None or not self._idle or self.over:
            return
        outbox = self.outbox
        if not quick.want_write():
            head = outbox.peek()
            if head is not None and not head.qos:
                try:
                    self._hand_over(quick, write)
                except aiomqtt.MqttError:  # the connection is gone: the session ends through it
                    return
        head = outbox.peek()
        if head is not None and head.qos:
            self.wake.set()

    def _hand_over(self, quick: paho.Client, write: bool) -> None:
        """Queue the QoS 0 head of the outbox in paho; with ``write``, write it at once, in
        this turn of the event loop (what the socket does not take, aiomqtt's writer sends
        later)."""
        outbox = self.outbox
        if not write:
            while (pub := outbox.peek()) is not None and not pub.qos:
                outbox.take()
                self._send_nowait(quick, pub)
            return
        # paho asks aiomqtt to watch the socket for each burst (through
        # call_soon_threadsafe: two more turns of the loop); this burst is written now
        quick.on_socket_register_write = _not_yet
        try:
            while (pub := outbox.peek()) is not None and not pub.qos:
                outbox.take()
                self._send_nowait(quick, pub)
        finally:
            quick.on_socket_register_write = self._register_write
        quick.loop_write()  # once written, paho calls on_socket_unregister_write
        if quick.want_write() and self._register_write is not None:
            self._register_write(quick, None, quick.socket())  # the socket is full

    def watch_writes(self, client: aiomqtt.Client) -> None:
        """Prepare a new client: be told when paho has written everything it had queued,
        and let paho call aiomqtt's ``on_publish`` only while aiomqtt waits for a publish
        (for every QoS 0 message written, paho builds a reason code and a properties
        object just to call it: a third of the cost of sending one)."""
        quick = client._client
        self._on_publish = quick.on_publish
        quick.on_publish = None
        self._register_write = quick.on_socket_register_write
        unregister = quick.on_socket_unregister_write

        def written(c: paho.Client, userdata: Any, sock: Any) -> None:
            if unregister is not None:
                unregister(c, userdata, sock)  # aiomqtt's: stop watching the socket
            if self.outbox:
                self.notify()

        quick.on_socket_unregister_write = written

    async def run(self, client: aiomqtt.Client) -> None:
        """Until the session ends (raises when the connection fails)."""
        outbox, wake = self.outbox, self.wake
        self._paho = client._client  # QoS 0 without aiomqtt's wait for each
        try:
            while not self.over:
                self._idle = True
                self.drain()
                head = outbox.peek()
                if head is None or not head.qos:  # nothing, or QoS 0 for drain()
                    wake.clear()
                    await wake.wait()
                    continue
                self._idle = False
                outbox.take()
                await self._send(client, head)
        finally:
            self._idle = False
            self._paho = None
            if self._kick is not None:
                self._kick.cancel()
                self._kick = None

    async def goodbye(self, client: aiomqtt.Client) -> None:
        """Send what is queued, then the retained ``offline`` (leaving discards the will)."""
        try:
            async with asyncio.timeout(FLUSH_TIMEOUT):
                while (pub := self.outbox.take()) is not None:
                    await self._send(client, pub)
                async with self._acknowledged(client):
                    await client.publish(self.status_topic, OFFLINE, qos=1, retain=True)
                self.counters["published"] += 1
        except (aiomqtt.MqttError, TimeoutError) as err:
            log.warning("could not publish everything before leaving: %s", str(err) or "timed out")

    def _send_nowait(self, quick: paho.Client, pub: Publication) -> None:
        """QoS 0 through paho: queued at once, written by aiomqtt's socket writer."""
        try:
            rc = quick.publish(pub.topic, pub.payload, 0, pub.retain).rc
            if rc != paho.MQTT_ERR_SUCCESS:  # not connected: what aiomqtt raises then
                raise aiomqtt.MqttCodeError(rc, "Could not publish message")
        except ValueError as err:  # a topic the client refuses: never retried
            self._bad_topic(pub, err)
            return
        except BaseException:
            self.outbox.put_back(pub)
            raise
        self.counters["published"] += 1

    async def _send(self, client: aiomqtt.Client, pub: Publication) -> None:
        try:
            async with self._acknowledged(client):
                await client.publish(pub.topic, pub.payload, qos=pub.qos, retain=pub.retain)
        except ValueError as err:
            self._bad_topic(pub, err)
            return
        except BaseException:
            self.outbox.put_back(pub)
            raise
        self.counters["published"] += 1

    @contextlib.asynccontextmanager
    async def _acknowledged(self, client: aiomqtt.Client) -> AsyncIterator[None]:
        """aiomqtt's ``on_publish`` in place while one of its publish calls waits."""
        quick = client._client
        quick.on_publish = self._on_publish
        try:
            yield
        finally:
            quick.on_publish = None

    def _bad_topic(self, pub: Publication, err: ValueError) -> None:
        self.counters["dropped.bad_topic"] += 1
        log.error("cannot publish to %r: %s", pub.topic, err)
