"""``knobflow demo``: a broker, the bridge and a simulated knob, gestures shown live.

Three MQTT clients in one event loop: the simulated knob publishes a
Zigbee2MQTT session (:func:`knobflow.simulate.demo_session`), the bridge turns
it into gestures, and a viewer subscribed to the bridge's gesture topic prints
each gesture as it arrives over MQTT.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

import aiomqtt

from knobflow.bridge.connect import BrokerRefused, BrokerSettings, broker_settings
from knobflow.bridge.embedded import EmbeddedBroker
from knobflow.bridge.service import Bridge
from knobflow.config import Config, apply_env, config_from_mapping
from knobflow.engine import Gesture
from knobflow.jsonio import loads
from knobflow.output import gesture_topic
from knobflow.simulate import DEMO_COMPOSITES, SimulatedKnob, demo_session, devices_step
from knobflow.textformat import format_gesture

__all__ = ["DemoResult", "run_demo"]

SETTLE_TIMEOUT = 10.0  # after the session: time for the last gestures to arrive
CONNECT_TIMEOUT = 10.0  # a demo does not wait for a broker as a service does


@dataclass
class DemoResult:
    """What the viewer saw."""

    gestures: Counter[str] = field(default_factory=Counter)
    made: int = 0  # gestures the bridge made
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return sum(self.gestures.values()) == self.made


def _config(host: str, port: int, *, own_broker: bool) -> Config:
    if own_broker:
        z2m, out = "zigbee2mqtt", "knobflow"
    else:  # someone's real broker: stay clear of their Zigbee2MQTT and Home Assistant
        z2m, out = "knobflow-demo/zigbee2mqtt", "knobflow-demo/knobflow"
    config = config_from_mapping(
        {
            "composites": DEMO_COMPOSITES,
            "zigbee2mqtt": {"base_topic": z2m},
            "output": {"base_topic": out},
            "homeassistant": {"discovery": own_broker},
        },
        "demo",
    )
    config = apply_env(config)  # a real broker's user name and password
    return replace(config, mqtt=replace(config.mqtt, host=host, port=port))


async def run_demo(
    out: TextIO, *, speed: float = 1.0, broker: tuple[str, int] | None = None
) -> DemoResult:
    """Run the demo, printing to ``out``; against ``broker`` (host, port) or an embedded one."""
    async with contextlib.AsyncExitStack() as stack:
        if broker is None:
            embedded = await stack.enter_async_context(EmbeddedBroker())
            host, port, where = embedded.host, embedded.port, "an embedded MQTT broker"
        else:
            host, port = broker
            where = "the MQTT broker"
        config = _config(host, port, own_broker=broker is None)
        settings = broker_settings(config, "demo")
        return await _Demo(config, settings, out, speed, own_broker=broker is None).run(
            f"{where} on {host}:{port}"
        )
    raise AssertionError("unreachable")  # pragma: no cover - for mypy


class _Demo:
    def __init__(
        self,
        config: Config,
        settings: BrokerSettings,
        out: TextIO,
        speed: float,
        *,
        own_broker: bool,
    ) -> None:
        self.config = config
        self.settings = settings
        self.out = out
        self.speed = speed
        self.own_broker = own_broker
        self.knob = SimulatedKnob(base_topic=config.zigbee2mqtt.base_topic)
        self.result = DemoResult()
        self.arrived = asyncio.Event()
        self.t0 = 0.0
        self.bridge = Bridge(config, settings, on_gesture=self._made)

    def _made(self, gesture: Gesture) -> None:
        del gesture
        self.result.made += 1

    def _client(self) -> aiomqtt.Client:
        s = self.settings
        return aiomqtt.Client(**s.client_options())  # a client id of its own (random)

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    async def run(self, where: str) -> DemoResult:
        out_base = self.config.output.base_topic
        topic = gesture_topic(out_base, self.knob.name)
        self.say(f"knobflow demo: {where}, the bridge, and a simulated Aqara knob H1")
        self.say(f"publishing like Zigbee2MQTT on {self.knob.topic}. Each line below is")
        self.say(f"a gesture read back from {topic} (t: seconds since the start).")
        started = time.monotonic()
        bridge_task = asyncio.create_task(self.bridge.run())
        try:
            await self._wait_ready(bridge_task)
            async with self._client() as viewer, self._client() as knob:
                await viewer.subscribe(topic)
                watch = asyncio.create_task(self._watch(viewer))
                try:
                    self.t0 = self.bridge.clock.now()
                    await self._play(knob)
                    await self._settle()
                finally:
                    watch.cancel()
                    await asyncio.gather(watch, return_exceptions=True)
                if not self.own_broker:  # leave nothing retained on someone's broker
                    await knob.publish(f"{self.knob.base_topic}/bridge/devices", b"", retain=True)
        finally:
            self.bridge.stop()
            await bridge_task
        self.result.seconds = time.monotonic() - started
        self._summary()
        return self.result

    async def _wait_ready(self, bridge_task: asyncio.Task[None]) -> None:
        ready = asyncio.create_task(self.bridge.ready.wait())
        done, _ = await asyncio.wait(
            {ready, bridge_task}, timeout=CONNECT_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        ready.cancel()
        if bridge_task in done:
            bridge_task.result()  # raises BrokerRefused
        if ready not in done:
            raise BrokerRefused(
                f"cannot reach the broker {self.settings.url} within {CONNECT_TIMEOUT:g} s"
            )

    async def _play(self, client: aiomqtt.Client) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for step in [devices_step([self.knob], self.knob.base_topic), *demo_session(self.knob)]:
            delay = start + step.at / self.speed - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if step.label:
                self.say(f"\n  > {step.label}")
            await client.publish(step.topic, step.payload, retain=step.retain)

    async def _watch(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            if not isinstance(message.payload, bytes):
                continue
            data: dict[str, Any] = loads(message.payload)
            name = str(data.pop("gesture"))
            knob = str(data.pop("knob"))
            t = float(data.pop("t")) - self.t0
            self.result.gestures[name] += 1
            self.say("  " + format_gesture(Gesture(knob, name, t, data), name_width=9))
            self.arrived.set()

    async def _settle(self) -> None:
        """Wait until the engine has nothing pending and every gesture came back."""
        engine, outbox = self.bridge.engine, self.bridge.outbox
        async with asyncio.timeout(SETTLE_TIMEOUT):
            while engine.next_deadline() is not None or outbox or not self.result.complete:
                self.arrived.clear()
                deadline = engine.next_deadline()
                wait = 0.05 if deadline is None else max(0.0, deadline - self.bridge.clock.now())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.arrived.wait(), wait + 0.05)

    def _summary(self) -> None:
        seen = self.result.gestures
        total = sum(seen.values())
        kinds = ", ".join(f"{name} {count}" for name, count in seen.items())
        self.say(f"\nDone in {self.result.seconds:.1f} s: {total} gestures ({kinds}).")
        out = self.config.output.base_topic
        also = f"The bridge also kept {out}/{self.knob.name}/state and {out}/status retained"
        plan = self.bridge.discovery
        if plan is not None:
            also += f", and published {len(plan.wanted)} Home Assistant discovery configs"
        self.say(also + ".")
        self.say("Next: `knobflow run --config knobflow.yaml` with your broker and knobs,")
        self.say("or `knobflow record --knob NAME -o session.jsonl` to record a real knob.")
