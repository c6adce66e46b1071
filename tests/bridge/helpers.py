"""Helpers of the bridge tests: configs on private topics, a probe client, a running bridge."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiomqtt

from knobflow.bridge.service import Bridge
from knobflow.config import Config, config_from_mapping
from knobflow.engine import Gesture

TIMEOUT = 15.0  # generous: a loaded 2-core machine


@dataclass(frozen=True)
class Topics:
    """Base topics of one test, so tests never see each other's retained messages."""

    root: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:10]}")

    @property
    def z2m(self) -> str:
        return f"{self.root}/zigbee2mqtt"

    @property
    def out(self) -> str:
        return f"{self.root}/knobflow"

    @property
    def ha(self) -> str:
        return f"{self.root}/homeassistant"


def make_config(host: str, port: int, topics: Topics, **extra: Any) -> Config:
    data: dict[str, Any] = {
        "mqtt": {"host": host, "port": port},
        "zigbee2mqtt": {"base_topic": topics.z2m},
        "output": {"base_topic": topics.out},
        "homeassistant": {"prefix": topics.ha},
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return config_from_mapping(data, "test")


@dataclass
class Msg:
    topic: str
    payload: bytes
    retain: bool
    at: float  # time.monotonic() of arrival

    @property
    def text(self) -> str:
        return self.payload.decode()

    def json(self) -> Any:
        return json.loads(self.payload)


class Probe:
    """A client that subscribes to ``filters``, keeps every message and publishes for the test."""

    def __init__(self, host: str, port: int, filters: list[str], **client: Any) -> None:
        self.host, self.port, self.filters, self.options = host, port, filters, client
        self.messages: list[Msg] = []
        self._arrived = asyncio.Event()
        self._stack = contextlib.AsyncExitStack()
        self.client: aiomqtt.Client | None = None

    async def __aenter__(self) -> Probe:
        self.client = aiomqtt.Client(self.host, self.port, **self.options)
        await self._stack.enter_async_context(self.client)
        if self.filters:
            await self.client.subscribe([(f, 0) for f in self.filters])
        task = asyncio.create_task(self._read(self.client))
        self._stack.push_async_callback(_cancel, task)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def _read(self, client: aiomqtt.Client) -> None:
        with contextlib.suppress(
            aiomqtt.MqttError
        ):  # the broker went away: the test says what next
            async for message in client.messages:
                payload = message.payload if isinstance(message.payload, bytes) else b""
                self.messages.append(
                    Msg(message.topic.value, payload, message.retain, time.monotonic())
                )
                self._arrived.set()

    async def publish(
        self, topic: str, payload: str | bytes, *, retain: bool = False, qos: int = 1
    ) -> None:
        assert self.client is not None
        await self.client.publish(topic, payload, qos=qos, retain=retain)

    async def expect(
        self, pred: Callable[[Msg], bool], *, after: int = 0, timeout: float = TIMEOUT
    ) -> Msg:
        """The first message (index >= ``after``) for which ``pred`` holds, waiting for it."""
        index = after
        async with asyncio.timeout(timeout):
            while True:
                while index < len(self.messages):
                    if pred(self.messages[index]):
                        return self.messages[index]
                    index += 1
                self._arrived.clear()
                await self._arrived.wait()

    async def expect_gesture(
        self, topics: Topics, knob: str, gesture: str, *, after: int = 0, timeout: float = TIMEOUT
    ) -> dict[str, Any]:
        topic = f"{topics.out}/{knob}/gesture"
        msg = await self.expect(
            lambda m: m.topic == topic and m.json()["gesture"] == gesture,
            after=after,
            timeout=timeout,
        )
        data: dict[str, Any] = msg.json()
        return data

    def gestures(self, topics: Topics, knob: str, after: int = 0) -> list[dict[str, Any]]:
        topic = f"{topics.out}/{knob}/gesture"
        return [m.json() for m in self.messages[after:] if m.topic == topic]

    def mark(self) -> int:
        return len(self.messages)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


@contextlib.asynccontextmanager
async def running(bridge: Bridge, timeout: float = TIMEOUT) -> AsyncIterator[Bridge]:
    """Run ``bridge`` until the block ends; enter once it is connected and subscribed."""
    task = asyncio.create_task(bridge.run())
    ready = asyncio.create_task(bridge.ready.wait())
    try:
        done, _ = await asyncio.wait(
            {task, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if task in done:
            task.result()
        assert ready in done, "the bridge did not get ready"
        yield bridge
    finally:
        ready.cancel()
        bridge.stop()
        await asyncio.wait_for(task, timeout)


class GestureLog:
    """``on_gesture`` for a bridge: every gesture it makes, awaitable."""

    def __init__(self) -> None:
        self.gestures: list[Gesture] = []
        self._made = asyncio.Event()

    def __call__(self, gesture: Gesture) -> None:
        self.gestures.append(gesture)
        self._made.set()

    async def expect(self, name: str, *, after: int = 0, timeout: float = TIMEOUT) -> Gesture:
        index = after
        async with asyncio.timeout(timeout):
            while True:
                while index < len(self.gestures):
                    if self.gestures[index].gesture == name:
                        return self.gestures[index]
                    index += 1
                self._made.clear()
                await self._made.wait()


def errors_in(records: list[logging.LogRecord]) -> list[str]:
    """Log records that show a failure: ERROR and above, or anything with a traceback."""
    return [
        f"{r.levelname} {r.name}: {r.getMessage()}"
        for r in records
        if r.levelno >= logging.ERROR or r.exc_info is not None
    ]


def devices_payload(*knobs: tuple[str, str], others: int = 1) -> str:
    """A ``bridge/devices`` list: ``(name, ieee)`` knobs plus ``others`` lights."""
    devices: list[dict[str, Any]] = [
        {"friendly_name": "Coordinator", "ieee_address": "0x00124b0029c1d2e3", "definition": None}
    ]
    for name, ieee in knobs:
        devices.append(
            {
                "friendly_name": name,
                "ieee_address": ieee,
                "definition": {"model": "ZNXNKG02LM", "vendor": "Aqara"},
                "model_id": "lumi.remote.rkba01",
            }
        )
    for number in range(others):
        devices.append(
            {
                "friendly_name": f"light_{number}",
                "ieee_address": f"0x000b57fffe{number:06x}",
                "definition": {"model": "LED1545G12", "vendor": "IKEA"},
            }
        )
    return json.dumps(devices)


class Service:
    """``knobflow ...`` as a child process; its stderr lines collected as they come."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        import os
        import queue
        import subprocess
        import sys
        import threading

        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "knobflow.cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self._stdout: list[str] = []
        self._threads = [
            threading.Thread(target=self._read, daemon=True),
            threading.Thread(target=self._read_stdout, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        self._stdout.append(self.process.stdout.read())

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for_line(self, text: str, timeout: float = TIMEOUT) -> str:
        """The first stderr line containing ``text`` (blocking, with a timeout)."""
        import queue

        end = time.monotonic() + timeout
        for seen in self.lines:
            if text in seen:
                return seen
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line with {text!r} in {self.lines}") from None
            if line is None:
                raise AssertionError(f"the process ended without {text!r}: {self.lines}")
            self.lines.append(line)
            if text in line:
                return line

    def finish(self, timeout: float = TIMEOUT) -> tuple[int, str, str]:
        """Wait for the end: exit status, stdout, stderr."""
        code = self.process.wait(timeout=timeout)
        for thread in self._threads:
            thread.join(timeout)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()
        while (line := self._queue.get_nowait() if not self._queue.empty() else None) is not None:
            self.lines.append(line)
        return code, "".join(self._stdout), "\n".join(self.lines)
