"""Run the pyscript app in a real Home Assistant with real pyscript and a real broker.

The app folder is copied into a fresh config dir as a user would copy it; pyscript's
section goes into ``configuration.yaml`` (pyscript reads it again on reload) and to
the setup call. Home Assistant's MQTT integration connects to a private mosquitto;
a plain paho client publishes Zigbee2MQTT payloads. Waiting is event-driven: the
MQTT integration's "subscription done" callback and the ``knobflow_gesture`` events,
each under a timeout; nothing sleeps for a result.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from homeassistant.components.mqtt.client import async_on_subscribe_done
from homeassistant.components.mqtt.const import MQTT_CONNECTION_STATE
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.setup import async_setup_component
from paho.mqtt import publish
from pytest_homeassistant_custom_component.common import MockConfigEntry

__all__ = ["APP_DIR", "EVENT", "TIMEOUT", "PyscriptApp", "Received", "bridge_devices"]

REPO = Path(__file__).resolve().parents[2]
APP_DIR = REPO / "pyscript" / "apps" / "knobflow"
EVENT = "knobflow_gesture"
TIMEOUT = 15.0  # seconds: a guard against hanging, never a pause


def bridge_devices(*knobs: str) -> str:
    devices: list[dict[str, Any]] = [{"friendly_name": "Coordinator", "type": "Coordinator"}]
    devices += [
        {
            "friendly_name": name,
            "ieee_address": f"0x54ef4410000a{i:04x}",
            "definition": {"model": "ZNXNKG02LM", "vendor": "Aqara"},
        }
        for i, name in enumerate(knobs)
    ]
    devices.append({"friendly_name": "kitchen_light", "definition": {"model": "LED1545G12"}})
    return json.dumps(devices)


class Received:
    """A ``knobflow_gesture`` event with its arrival time (``time.time()``)."""

    def __init__(self, data: dict[str, Any], at: float) -> None:
        self.data = data
        self.at = at


class PyscriptApp:
    """Home Assistant + MQTT + pyscript with the knobflow app, and the events it fires."""

    def __init__(self, hass: HomeAssistant, port: int, config_dir: Path) -> None:
        self.hass = hass
        self.port = port
        self.config_dir = config_dir
        self.events: list[Received] = []
        self._new_event = asyncio.Event()
        self._unsubs: list[Any] = []
        self.entry: MockConfigEntry | None = None

    # -- set-up -----------------------------------------------------------------------

    async def start_mqtt(self) -> None:
        """Copy the app into a fresh config dir; connect Home Assistant's MQTT to the broker."""
        shutil.copytree(APP_DIR, self.config_dir / "pyscript" / "apps" / "knobflow")
        (self.config_dir / "configuration.yaml").write_text("{}\n", encoding="utf-8")
        self.hass.config.config_dir = str(self.config_dir)
        connected = asyncio.Event()

        @callback
        def on_connection(state: bool) -> None:
            if state:
                connected.set()

        self._unsubs.append(
            async_dispatcher_connect(self.hass, MQTT_CONNECTION_STATE, on_connection)
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

        @callback
        def on_event(event: Event) -> None:
            self.events.append(Received(dict(event.data), time.time()))
            self._new_event.set()

        self._unsubs.append(self.hass.bus.async_listen(EVENT, on_event))

    def write_config(self, app_config: Any) -> dict[str, Any]:
        """pyscript's section, in configuration.yaml (read again on reload); returned too."""
        section: dict[str, Any] = {"allow_all_imports": True, "apps": {"knobflow": app_config}}
        text = yaml.safe_dump({"pyscript": section})
        (self.config_dir / "configuration.yaml").write_text(text, encoding="utf-8")
        return section

    async def start_pyscript(self, app_config: Any = None) -> None:
        section = self.write_config(app_config)
        assert await async_setup_component(self.hass, "pyscript", {"pyscript": section})
        await self.hass.async_block_till_done()
        # pyscript starts its triggers when Home Assistant has started, as at a real boot.
        self.hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
        await self.hass.async_block_till_done()

    async def reload(self, global_ctx: str | None = None) -> None:
        """``pyscript.reload``: it reloads files and apps whose source or config changed,
        and those under ``global_ctx`` (``apps.knobflow``, or ``*`` for all)."""
        data = {} if global_ctx is None else {"global_ctx": global_ctx}
        await self.hass.services.async_call("pyscript", "reload", data, blocking=True)
        await self.hass.async_block_till_done()

    async def stop(self) -> None:
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        if self.entry is not None:
            await self.hass.config_entries.async_unload(self.entry.entry_id)
            await self.hass.async_block_till_done()

    # -- MQTT -------------------------------------------------------------------------

    async def subscribed(self, topic: str) -> None:
        """Wait until Home Assistant holds a subscription for ``topic`` at the broker."""
        done = asyncio.Event()
        unsub = async_on_subscribe_done(self.hass, topic, 0, done.set)
        try:
            async with asyncio.timeout(TIMEOUT):
                await done.wait()
        finally:
            unsub()

    async def publish(self, topic: str, payload: Any, *, retain: bool = False) -> float:
        """Publish (dicts as JSON) through the broker; returns the send time."""
        text = payload if isinstance(payload, str) else json.dumps(payload)
        sent = time.time()
        await self.hass.async_add_executor_job(
            partial(
                publish.single,
                topic,
                text,
                qos=1,
                retain=retain,
                hostname="127.0.0.1",
                port=self.port,
            )
        )
        return sent

    # -- events -----------------------------------------------------------------------

    async def wait_events(self, count: int, timeout: float = TIMEOUT) -> list[Received]:
        """Wait until ``count`` events have arrived in all; return them."""
        async with asyncio.timeout(timeout):
            while len(self.events) < count:
                self._new_event.clear()
                await self._new_event.wait()
        return self.events[:count]

    def gestures(self) -> list[dict[str, Any]]:
        return [received.data for received in self.events]
