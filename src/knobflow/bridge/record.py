"""Recording a live knob to a replay file (``knobflow record``)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

import aiomqtt

from knobflow.bridge.connect import BrokerSettings, explain
from knobflow.jsonio import loads
from knobflow.replay import Record, write_record

__all__ = ["Recorder", "payload_value"]


def payload_value(payload: bytes) -> Any:
    """The decoded JSON value when the payload is JSON (readable files), else the raw text."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return payload.decode("utf-8", "replace")
    try:
        return loads(text)
    except ValueError:
        return text


class Recorder:
    """Subscribe to ``topics`` and write every message as a replay record, ``t`` from 0."""

    def __init__(self, settings: BrokerSettings, topics: Sequence[str], stream: TextIO) -> None:
        self.settings = settings
        self.topics = list(topics)
        self.stream = stream
        self.count = 0
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run(
        self,
        duration: float | None = None,
        on_record: Callable[[str, Any], None] | None = None,
    ) -> str | None:
        """Record until :meth:`stop`, SIGINT/SIGTERM or ``duration``.

        Returns ``None``, or what failed in words.
        """
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self.stop)
        if duration is not None:
            loop.call_later(duration, self.stop)
        s = self.settings
        start = time.monotonic()
        try:
            # a client id of its own: recording next to the running bridge (same config)
            # must not take over the bridge's session
            identifier = f"{s.client_id}-record"
            async with aiomqtt.Client(**s.client_options(), identifier=identifier) as client:
                await client.subscribe([(topic, 0) for topic in self.topics])
                reader = asyncio.create_task(self._read(client, start, on_record))
                stopper = asyncio.create_task(self._stop.wait())
                await asyncio.wait({reader, stopper}, return_when=asyncio.FIRST_COMPLETED)
                for task in (reader, stopper):
                    task.cancel()
                await asyncio.gather(stopper, return_exceptions=True)
                with contextlib.suppress(asyncio.CancelledError):
                    await reader  # raises a lost connection
        except aiomqtt.MqttError as err:
            return explain(err, s)[0]
        finally:
            self.stream.flush()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.remove_signal_handler(sig)
        return None

    async def _read(
        self,
        client: aiomqtt.Client,
        start: float,
        on_record: Callable[[str, Any], None] | None,
    ) -> None:
        async for message in client.messages:
            raw = message.payload if isinstance(message.payload, bytes) else b""
            value = payload_value(raw)
            topic = message.topic.value
            t = round(time.monotonic() - start, 6)
            write_record(self.stream, Record(t, topic, value, bool(message.retain)))
            self.stream.flush()
            self.count += 1
            if on_record is not None:
                on_record(topic, value)
