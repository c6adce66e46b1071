"""Messages from the connection to the router, in batches, and their publications out.

aiomqtt hands each message over through a queue and its message iterator: a
task and an ``asyncio.wait`` per message, and paho's ``loop_read`` reads one
packet per turn of the event loop. The :class:`Receiver` takes messages from
aiomqtt's paho client instead (``on_message``), lets one turn read every
packet already waiting, then ends the batch: the gestures it made are
written at once, then the knobs' states, and the engine's timer is moved.
aiomqtt keeps the connection: connecting, TLS, subscriptions, QoS 1/2 flows
and noticing a lost connection.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections import Counter
from typing import Any

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode

from knobflow.bridge.publisher import Publisher
from knobflow.bridge.router import Router

__all__ = ["BATCH_SECONDS", "Receiver"]

log = logging.getLogger("knobflow.bridge")

BATCH_SECONDS = 0.001  # reading more waiting messages before publishing, at most
_PEEK = int(socket.MSG_PEEK | socket.MSG_DONTWAIT)  # once: `|` on these enums is slow


def _waiting(sock: socket.socket) -> bool:
    """Whether the socket has bytes to read (or was closed), without taking any."""
    try:
        sock.recv(1, _PEEK)  # b"" when the peer closed: paho's own read sees it
    except BlockingIOError:
        return False
    except OSError:
        return True  # paho's own read reports it
    return True


class Receiver:
    """Feeds the router from one connection after another.

    Messages that arrive before :meth:`start` (retained ones, right after the
    SUBACK) are held until the session has queued its own start (``online``,
    states, discovery), as aiomqtt's queue held them.
    """

    def __init__(self, router: Router, publisher: Publisher, counters: Counter[str]) -> None:
        self.router = router
        self.publisher = publisher
        self.counters = counters
        self._held: list[tuple[str, bytes, bool]] | None = []
        self._batch: asyncio.Handle | None = None

    def attach(self, client: aiomqtt.Client) -> None:
        """Take the messages of a new client (before it connects)."""
        quick = client._client  # aiomqtt's paho client
        quick.on_message = self._deliver
        self._read_batches(quick)
        self._held = []

    def start(self) -> None:
        """Hand over the messages held so far, and every later one as it comes."""
        held, self._held = self._held, None
        if held:
            for topic, payload, retain in held:
                self.router.receive(topic, payload, retain)
            self._batch_done()

    def stop(self) -> None:
        """The session is over: hold what a next client brings until its start."""
        self._held = []

    def _read_batches(self, quick: paho.Client) -> None:
        """Let aiomqtt's socket reader take the packets already waiting in one turn of the
        event loop (paho's ``loop_read`` reads one; each further one would cost a turn),
        then end the batch. A batch ends when nothing more is waiting, or after
        ``BATCH_SECONDS``: messages that keep coming meanwhile must not hold back the
        gestures already made."""
        read_one = quick.loop_read
        clock = time.monotonic

        def loop_read(max_packets: int = 1) -> MQTTErrorCode:
            rc = read_one(max_packets)
            sock = quick.socket()
            if isinstance(sock, socket.socket) and not isinstance(sock, ssl.SSLSocket):
                until = clock() + BATCH_SECONDS
                while rc == paho.MQTT_ERR_SUCCESS and _waiting(sock) and clock() < until:
                    rc = read_one(max_packets)
            if self._batch is not None:
                self._batch_done()
            return rc

        setattr(quick, "loop_read", loop_read)  # noqa: B010 - this client's own method

    def _deliver(self, _client: paho.Client, _userdata: Any, message: paho.MQTTMessage) -> None:
        """paho's ``on_message``: each message as paho reads it, into the router."""
        payload = message.payload
        if type(payload) is not bytes:  # paho's are bytes; its type says bytearray too
            payload = bytes(payload)
        held = self._held
        if held is not None:
            held.append((message.topic, payload, message.retain))
            return
        self.router.receive(message.topic, payload, message.retain)
        if self._batch is None:  # ends with the read; at the next turn at the latest
            self._batch = asyncio.get_running_loop().call_soon(self._batch_done)

    def _batch_done(self) -> None:
        """After a batch: its gestures out at once, then the knobs' states (after the
        gestures in the outbox anyway) and the timer. A bug is logged, never raised into
        aiomqtt's reader (which would take it for a lost connection)."""
        if self._batch is not None:
            self._batch.cancel()
            self._batch = None
        try:
            self.publisher.drain(write=True)
            self.router.received()
            self.publisher.drain(write=True)
        except Exception:
            self.counters["errors"] += 1
            log.exception("could not publish what a batch of messages made")
