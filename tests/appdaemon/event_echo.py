"""A test-only AppDaemon app: republishes every ``knobflow_gesture`` event on MQTT.

The knobflow app fires its events in a namespace of its own in these tests (no
Home Assistant here); this app listens there and publishes each event's data on
``test/event`` so the test client can compare it with the gesture message.
"""

from __future__ import annotations

import json
from typing import Any

from appdaemon.plugins.mqtt.mqttapi import Mqtt


class EventEcho(Mqtt):
    def initialize(self) -> None:
        self.listen_event(self._echo, "knobflow_gesture", namespace=self.args["listen_namespace"])

    def _echo(self, event_name: str, data: dict[str, Any], cb_args: dict[str, Any]) -> None:
        self.mqtt_publish("test/event", json.dumps(data), namespace="mqtt")
