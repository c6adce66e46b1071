"""The MQTT bridge: Zigbee2MQTT messages in, gestures, state and Home Assistant
discovery out, on a real broker (``knobflow run``).

A thin asyncio shell around the engine, one concept per module:

- :mod:`knobflow.bridge.service` — :class:`~knobflow.bridge.service.Bridge`, the
  connect/reconnect loop;
- :mod:`knobflow.bridge.connect` — broker settings from the config (password file, TLS)
  and readable connection errors;
- :mod:`knobflow.bridge.discovery` — Home Assistant discovery messages (pure functions);
- :mod:`knobflow.bridge.outbox` — the bounded queue of messages waiting for the broker;
- :mod:`knobflow.bridge.timers` — the clock and the engine's one deadline timer.

Only :mod:`~knobflow.bridge.service` needs ``aiomqtt`` (the ``bridge`` extra); the
other modules import nothing beyond the standard library and the engine.
"""

__all__: list[str] = []
