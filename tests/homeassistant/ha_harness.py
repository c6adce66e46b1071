"""Run knobflow's blueprints in a real Home Assistant: fake services, gestures, delivery paths.

The services the blueprints call (``light.turn_on``, ``media_player.volume_set``, …) are
replaced by recorders that validate their data with Home Assistant's own service schemas,
so a call with data the real integration would refuse fails here too. Every call lands in
one ordered log of ``(domain, service, data)`` tuples.

Gestures reach the automations along the two paths of docs/contract.md §7: the ``knobflow_gesture``
event (``EventPath``) and a real MQTT message through a private mosquitto to Home
Assistant's MQTT integration (``MqttPath``). Waiting is event-driven throughout: Home
Assistant's ``async_block_till_done``, its MQTT "subscriptions processed" signal and a
counter of received messages; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import voluptuous as vol
from homeassistant.components.light import LIGHT_TURN_OFF_SCHEMA, LIGHT_TURN_ON_SCHEMA
from homeassistant.components.media_player import (
    ATTR_MEDIA_SEEK_POSITION,
    ATTR_MEDIA_VOLUME_LEVEL,
)
from homeassistant.components.mqtt import async_subscribe
from homeassistant.components.mqtt.const import (
    MQTT_CONNECTION_STATE,
    MQTT_PROCESSED_SUBSCRIPTIONS,
)
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.setup import async_setup_component
from paho.mqtt import publish
from pytest_homeassistant_custom_component.common import MockConfigEntry

__all__ = [
    "BLUEPRINT_DIR",
    "BUILTIN_GESTURES",
    "EVENT",
    "TIMEOUT",
    "EventPath",
    "MqttPath",
    "ServiceLog",
    "automation_config",
    "fast_spin",
    "gesture",
    "install_blueprints",
    "setup_automations",
    "turn",
]

REPO = Path(__file__).resolve().parents[2]
BLUEPRINT_DIR = REPO / "blueprints" / "automation" / "knobflow"
EVENT = "knobflow_gesture"
TIMEOUT = 15.0  # seconds: a guard against hanging, never a pause

Call = tuple[str, str, dict[str, Any]]

# The built-in gesture names of docs/contract.md §3.
BUILTIN_GESTURES = (
    "press",
    "double_press",
    "hold",
    "release",
    "long_press",
    "rotate_start",
    "rotate_cw",
    "rotate_ccw",
    "rotate_stop",
    "rotate_while_held_start",
    "rotate_while_held_cw",
    "rotate_while_held_ccw",
    "rotate_while_held_stop",
    "fast_spin_cw",
    "fast_spin_ccw",
)


def _entity_schema(fields: Mapping[Any, Any] | None = None) -> vol.Schema:
    return cv.make_entity_service_schema(dict(fields or {}))


# Home Assistant's own service schemas (light/__init__.py, media_player/__init__.py).
SERVICE_SCHEMAS: dict[tuple[str, str], vol.Schema | None] = {
    ("light", "turn_on"): _entity_schema(LIGHT_TURN_ON_SCHEMA),
    ("light", "toggle"): _entity_schema(LIGHT_TURN_ON_SCHEMA),
    ("light", "turn_off"): _entity_schema(LIGHT_TURN_OFF_SCHEMA),
    ("media_player", "volume_set"): _entity_schema(
        {vol.Required(ATTR_MEDIA_VOLUME_LEVEL): cv.small_float}
    ),
    ("media_player", "volume_up"): _entity_schema(),
    ("media_player", "volume_down"): _entity_schema(),
    ("media_player", "media_play_pause"): _entity_schema(),
    ("media_player", "media_next_track"): _entity_schema(),
    ("media_player", "media_previous_track"): _entity_schema(),
    ("media_player", "media_seek"): _entity_schema(
        {vol.Required(ATTR_MEDIA_SEEK_POSITION): cv.positive_float}
    ),
    # Stand-ins for the user's own actions in the blueprints' optional action inputs.
    ("test", "record"): None,
}


class ServiceLog:
    """Fake services that validate like the real ones and log every call in order."""

    def __init__(self, hass: HomeAssistant, services: Iterable[tuple[str, str]]) -> None:
        self.hass = hass
        self.calls: list[Call] = []
        for domain, service in services:
            hass.services.async_register(
                domain,
                service,
                partial(self._record, domain, service),
                schema=SERVICE_SCHEMAS[domain, service],
            )

    @callback
    def _record(self, domain: str, service: str, call: ServiceCall) -> None:
        self.calls.append((domain, service, dict(call.data)))

    def take(self) -> list[Call]:
        """The calls so far, clearing the log."""
        calls, self.calls = self.calls, []
        return calls


def gesture(knob: str, name: str, t: float = 1.0, **fields: Any) -> dict[str, Any]:
    """A gesture as docs/contract.md §3 writes it: ``knob``, ``gesture``, ``t`` and its own fields."""
    return {"knob": knob, "gesture": name, "t": t, **fields}


def turn(knob: str, *deltas: float, held: bool = False, t: float = 1.0) -> list[dict[str, Any]]:
    """A whole turn as the engine reports it: start, one step per delta, stop.

    Steps come every 0.5 s (the knob's cadence); ``angle`` is cumulative, ``direction``
    the sign of the step (of the net angle for start and stop).
    """
    family = "rotate_while_held" if held else "rotate"
    out = []
    angle = 0.0
    first = deltas[0] if deltas else 0
    out.append(gesture(knob, f"{family}_start", t, direction=_direction(first), angle=first))
    for i, delta in enumerate(deltas):
        angle += delta
        out.append(
            gesture(
                knob,
                f"{family}_{_direction(delta)}",
                t + 0.5 * i,
                delta=delta,
                angle=angle,
                velocity=delta / 0.5,
                direction=_direction(delta),
                percent=round(angle / 360 * 100, 6),
            )
        )
    out.append(
        gesture(
            knob,
            f"{family}_stop",
            t + 0.5 * len(deltas),
            angle=angle,
            duration_ms=500.0 * len(deltas),
            direction=_direction(angle),
            reason="device",
        )
    )
    return out


def fast_spin(knob: str, velocity: float, angle: float, held: bool = False) -> dict[str, Any]:
    """A ``fast_spin_cw``/``_ccw`` gesture (the sign of ``velocity`` decides)."""
    return gesture(
        knob, f"fast_spin_{_direction(velocity)}", velocity=velocity, angle=angle, held=held
    )


def _direction(value: float) -> str:
    return "ccw" if value < 0 else "cw"


def install_blueprints(hass: HomeAssistant, config_dir: Path) -> Path:
    """Copy the repository's blueprints into a fresh config dir and point Home Assistant at it."""
    dest = config_dir / "blueprints" / "automation" / "knobflow"
    shutil.copytree(BLUEPRINT_DIR, dest)
    hass.config.config_dir = str(config_dir)
    return dest


def automation_config(alias: str, blueprint: str, **inputs: Any) -> dict[str, Any]:
    """One automation made from ``blueprints/automation/knobflow/<blueprint>.yaml``."""
    return {
        "id": alias.replace(" ", "_"),
        "alias": alias,
        "use_blueprint": {"path": f"knobflow/{blueprint}.yaml", "input": inputs},
    }


async def setup_automations(
    hass: HomeAssistant, *configs: dict[str, Any], expect: str | None = "on"
) -> list[str]:
    """Set up the automations at once and return their entity ids.

    A blueprint that Home Assistant refuses does not fail the setup: its automation is
    created ``unavailable`` and an error is logged. So each automation's state is
    checked against ``expect`` (``None`` skips the check).
    """
    assert await async_setup_component(hass, "automation", {"automation": list(configs)})
    await hass.async_block_till_done()
    ids = []
    for config in configs:
        entity_id = f"automation.{config['alias'].lower().replace(' ', '_')}"
        state = hass.states.get(entity_id)
        assert state is not None, f"{entity_id} was not created"
        if expect is not None:
            assert state.state == expect, f"{entity_id} is {state.state}: {state.attributes}"
        ids.append(entity_id)
    return ids


class EventPath:
    """Gestures as the ``knobflow_gesture`` event (the pyscript and AppDaemon hosts)."""

    name = "event"
    # Inputs for the blueprints: no MQTT integration here, so the MQTT trigger is off.
    inputs: Mapping[str, Any] = {"use_mqtt": False}

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass

    async def ready(self, *knobs: str) -> None:
        """Nothing to wait for: event listeners exist once the automations are set up."""

    async def send(self, *gestures: Mapping[str, Any]) -> None:
        for item in gestures:
            self.hass.bus.async_fire(EVENT, dict(item))
        await self.hass.async_block_till_done()


class MqttPath:
    """Gestures as MQTT messages on ``<base>/<knob>/gesture`` (the bridge), via a real broker.

    Home Assistant's MQTT integration connects to the broker; a separate paho client
    publishes, as the bridge would. ``ready()`` waits until the broker has acknowledged
    the automations' subscriptions; ``send()`` waits until Home Assistant has received
    every message and finished the runs they started.
    """

    name = "mqtt"
    inputs: Mapping[str, Any] = {"use_mqtt": True}

    def __init__(self, hass: HomeAssistant, port: int, base: str = "knobflow") -> None:
        self.hass = hass
        self.port = port
        self.base = base
        self.entry: MockConfigEntry | None = None
        self._subscribed: set[str] = set()
        self._sub_changed = asyncio.Event()
        self._received = 0
        self._recv_changed = asyncio.Event()
        self._observed: set[str] = set()
        self._unsubs: list[Callable[[], None]] = []

    def topic(self, knob: str) -> str:
        return f"{self.base}/{knob}/gesture"

    async def start(self) -> None:
        """Set up the MQTT integration against the broker and wait until it is connected."""
        connected = asyncio.Event()

        @callback
        def on_connection(state: bool) -> None:
            if state:
                connected.set()

        @callback
        def on_processed(chunk: list[tuple[str, int]]) -> None:
            self._subscribed.update(topic for topic, _qos in chunk)
            self._sub_changed.set()

        self._unsubs.append(
            async_dispatcher_connect(self.hass, MQTT_CONNECTION_STATE, on_connection)
        )
        self._unsubs.append(
            async_dispatcher_connect(self.hass, MQTT_PROCESSED_SUBSCRIPTIONS, on_processed)
        )
        self.entry = MockConfigEntry(
            domain="mqtt",
            data={"broker": "127.0.0.1", "port": self.port},
            options={"discovery": False, "birth_message": {}, "will_message": {}},
        )
        self.entry.add_to_hass(self.hass)
        assert await self.hass.config_entries.async_setup(self.entry.entry_id)
        async with asyncio.timeout(TIMEOUT):
            await connected.wait()

    async def stop(self) -> None:
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        if self.entry is not None:
            await self.hass.config_entries.async_unload(self.entry.entry_id)
            await self.hass.async_block_till_done()

    async def _wait_subscribed(self, topics: set[str]) -> None:
        async with asyncio.timeout(TIMEOUT):
            while not topics <= self._subscribed:
                self._sub_changed.clear()
                await self._sub_changed.wait()

    async def ready(self, *knobs: str) -> None:
        """Wait until the broker holds the subscriptions for these knobs' gesture topics.

        The automations subscribe to the exact topics, so this also checks the topic each
        blueprint builds. Then a counter subscribes to the same topics (Home Assistant
        re-subscribes each topic and its callbacks run in subscription order, the
        automations' first).
        """
        topics = {self.topic(knob) for knob in knobs}
        await self._wait_subscribed(topics)

        @callback
        def count(_msg: Any) -> None:
            self._received += 1
            self._recv_changed.set()

        self._subscribed -= topics
        for topic in topics - self._observed:
            self._unsubs.append(await async_subscribe(self.hass, topic, count))
            self._observed.add(topic)
        await self._wait_subscribed(topics)

    async def send(self, *gestures: Mapping[str, Any]) -> None:
        await self.send_raw(
            *((self.topic(item["knob"]), json.dumps(dict(item))) for item in gestures)
        )

    async def send_raw(self, *messages: tuple[str, str | bytes]) -> None:
        """Publish ``(topic, payload)`` pairs in one connection, in order, QoS 1."""
        for topic, _payload in messages:
            assert topic in self._observed, f"call ready() for {topic} first"
        expected = self._received + len(messages)
        msgs = [{"topic": topic, "payload": payload, "qos": 1} for topic, payload in messages]
        await self.hass.async_add_executor_job(
            partial(publish.multiple, msgs, hostname="127.0.0.1", port=self.port)
        )
        async with asyncio.timeout(TIMEOUT):
            while self._received < expected:
                self._recv_changed.clear()
                await self._recv_changed.wait()
        await self.hass.async_block_till_done()
