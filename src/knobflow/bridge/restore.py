"""Dial values across restarts: read back from the bridge's own retained state.

When a knob has a dial (``dial``/``held_dial`` in the config), its ``value``
lives in the engine and is published in the retained ``<out>/<knob>/state``.
At start the bridge subscribes to ``<out>/#`` before the Zigbee2MQTT topics,
keeps the dial values of every retained state it receives, and once the
knob list is known gives each knob its values back (and unsubscribes).
"""

from __future__ import annotations

from typing import Any

from knobflow.config import Config
from knobflow.engine import Engine
from knobflow.jsonio import MAX_PAYLOAD_BYTES, loads

__all__ = ["DialRestore"]

MAX_KEPT = 10_000  # retained states kept until the knob list is known
DIAL_KEYS = ("value", "held_value")


class DialRestore:
    """The dial values of an earlier run, kept until the knob list is known."""

    def __init__(self, config: Config) -> None:
        own = [k for k in config.knobs.values() if k is not None]
        self.active = bool(
            config.dial or config.held_dial or any(k.dial or k.held_dial for k in own)
        )
        self.filter = f"{config.output.base_topic}/#"
        self._prefix = config.output.base_topic + "/"
        self._values: dict[str, dict[str, Any]] = {}

    def offer(self, topic: str, payload: bytes, retain: bool) -> bool:
        """Take a message if it is a retained state of the output topics; ``False`` if not ours."""
        if not (self.active and retain and topic.startswith(self._prefix)):
            return False
        rest = topic[len(self._prefix) :]
        fits = len(payload) <= MAX_PAYLOAD_BYTES and len(self._values) < MAX_KEPT
        if rest.endswith("/state") and fits:
            self._keep(rest[: -len("/state")], payload)
        return True

    def _keep(self, name: str, payload: bytes) -> None:
        try:
            state = loads(payload)
        except ValueError:
            return
        if isinstance(state, dict):
            values = {k: state[k] for k in DIAL_KEYS if k in state}
            if values:
                self._values[name] = values

    def apply(self, engine: Engine) -> list[str]:
        """Give the knobs their values; the window closes. Returns the knobs restored."""
        self.active = False
        restored = [name for name in self._values if name in engine.knobs]
        for name in restored:
            engine.restore_dial_values(name, self._values[name])
        self._values.clear()
        return restored
