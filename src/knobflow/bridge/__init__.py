"""The MQTT bridge: Zigbee2MQTT messages in, gestures, state and Home Assistant
discovery out, on a real broker (``knobflow run``).

A thin asyncio shell around the engine, one concept per module:

- :mod:`knobflow.bridge.service` — :class:`~knobflow.bridge.service.Bridge`, the
  connect/reconnect loop (aiomqtt);
- :mod:`knobflow.bridge.receiver` — messages from the connection to the router, in
  batches;
- :mod:`knobflow.bridge.router` — what each message does: engine, flows, state,
  discovery, the outbox;
- :mod:`knobflow.bridge.publisher` — the outbox to the broker, in order;
- :mod:`knobflow.bridge.connect` — broker settings from the config (password file, TLS)
  and readable connection errors;
- :mod:`knobflow.bridge.discovery` — Home Assistant discovery messages (pure functions);
- :mod:`knobflow.bridge.outbox` — the bounded queue of messages waiting for the broker;
- :mod:`knobflow.bridge.timers` — the clock and the engine's one deadline timer;
- :mod:`knobflow.bridge.events` — what the bridge publishes, for listeners in its loop.

JSON text is :mod:`knobflow.jsonio`'s, as everywhere in knobflow.

Only :mod:`~knobflow.bridge.service`, :mod:`~knobflow.bridge.receiver` and
:mod:`~knobflow.bridge.publisher` need ``aiomqtt`` (the ``bridge`` extra); the other
modules need no MQTT library.
"""

__all__: list[str] = []
