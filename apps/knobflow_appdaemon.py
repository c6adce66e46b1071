"""knobflow for AppDaemon 4.5: Aqara knob H1 gestures from Zigbee2MQTT.

Listens to Zigbee2MQTT through AppDaemon's MQTT plugin, runs knobflow's engine,
keeps one scheduler timer at the engine's next deadline, publishes each gesture
on ``<out>/<knob>/gesture`` (docs/contract.md §6) and, when a HASS plugin is configured,
fires ``knobflow_gesture`` in Home Assistant too. ``apps.yaml`` beside this file
is an example entry; docs/hosts.md has the install steps.

The module is not called ``knobflow``: AppDaemon puts the apps folder on
``sys.path``, where a ``knobflow.py`` would hide the package.

AppDaemon's MQTT events carry no retain flag, so this app cannot tell a retained
knob message from a live one: keep ``retain`` off for the knobs in Zigbee2MQTT
(its default), or a restart replays the last action as a gesture.
"""

from __future__ import annotations

import time
from typing import Any

from appdaemon.plugins.mqtt.mqttapi import Mqtt

from knobflow.config import ConfigError
from knobflow.engine import Gesture
from knobflow.hosts import AUTO, EVENT_TYPE, HostRuntime, appdaemon_config, unused_sections

__all__ = ["Knobflow"]

# Sections of the shared config file that only the bridge reads.
USED_SECTIONS = frozenset({"output"})


class Knobflow(Mqtt):
    """One knobflow engine for every knob of one Zigbee2MQTT installation."""

    def initialize(self) -> None:
        source = f"apps.yaml: {self.name}"
        try:
            config, options = appdaemon_config(self.args, source)
        except ConfigError as err:
            self.error(f"knobflow not started: {err}", level="ERROR")
            raise
        for key in unused_sections(self.args, USED_SECTIONS):
            self.log(f"{source}: {key}: is for the bridge; this app ignores it", level="WARNING")

        mqtt_namespace = options.mqtt_namespace
        if mqtt_namespace == AUTO:
            mqtt_namespace = self._plugin_namespace("mqtt") or "default"
        self._mqtt_namespace: str = mqtt_namespace
        ha_namespace = options.ha_namespace
        if ha_namespace == AUTO:
            ha_namespace = self._plugin_namespace("hass")
        self._ha_namespace: str | None = ha_namespace

        self._runtime = HostRuntime(config)
        self._timer: str | None = None
        self.set_namespace(mqtt_namespace)
        # Listen first, then subscribe: the retained bridge/devices comes in answer.
        self.listen_event(self._on_message, "MQTT_MESSAGE", topic=self._runtime.is_input)
        self.mqtt_subscribe(self._runtime.subscription, namespace=mqtt_namespace)
        self.log(
            f"knobflow listening on {self._runtime.subscription} (namespace {mqtt_namespace}); "
            f"gestures on {self._runtime.output_base}/<knob>/gesture"
            + (f" and as {EVENT_TYPE} in namespace {ha_namespace}" if ha_namespace else "")
        )

    def terminate(self) -> None:
        if self._timer is not None:
            self.cancel_timer(self._timer, silent=True)
            self._timer = None

    # -- input ----------------------------------------------------------------------

    def _on_message(self, event_name: str, data: dict[str, Any], cb_args: dict[str, Any]) -> None:
        topic = data.get("topic")
        if not isinstance(topic, str):
            return  # the plugin's own connect/disconnect notices
        now = time.time()
        self._deliver(self._runtime.feed(topic, data.get("payload"), now))
        delay = self._runtime.wake_earlier(now)
        if delay is not None:
            self._arm(delay)

    def _on_timer(self, cb_args: dict[str, Any]) -> None:
        self._timer = None
        now = time.time()
        self._deliver(self._runtime.tick(now))
        delay = self._runtime.wake_next(now)
        if delay is not None:
            self._arm(delay)

    def _arm(self, delay: float) -> None:
        if self._timer is not None:
            self.cancel_timer(self._timer, silent=True)
        self._timer = self.run_in(self._on_timer, delay)

    # -- output ---------------------------------------------------------------------

    def _deliver(self, gestures: list[Gesture]) -> None:
        runtime = self._runtime
        for gesture in gestures:
            topic, payload = runtime.message(gesture)
            self.mqtt_publish(
                topic, payload, qos=runtime.output_qos, retain=False, namespace=self._mqtt_namespace
            )
            if self._ha_namespace is not None:
                self.fire_event(
                    EVENT_TYPE, namespace=self._ha_namespace, **runtime.event_data(gesture)
                )

    def _plugin_namespace(self, plugin_type: str) -> str | None:
        """The namespace of the first enabled plugin of a type (``mqtt``, ``hass``), if any."""
        for plugin in self.AD.plugins.config.values():
            if getattr(plugin, "disable", False) or getattr(plugin, "type", None) != plugin_type:
                continue
            namespace = getattr(plugin, "namespace", None)
            if isinstance(namespace, str):
                return namespace
        return None
