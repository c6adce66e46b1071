"""Flows: rules that turn a knob's gestures straight into MQTT messages (no Home Assistant).

    flows:
      - knob: living_room_knob
        gesture: "rotate_c*w"
        topic: zigbee2mqtt/living_light/set
        payload: {brightness_step: "{{ delta * 1.4 }}", transition: 0.4}

Templates are Jinja2 in an immutable sandbox: gesture fields and arithmetic,
no access to Python internals, bounded sizes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from knobflow.config.model import FlowConfig
from knobflow.flows.runner import FlowRunner, Outgoing

if TYPE_CHECKING:
    from knobflow.config import Config

__all__ = ["FlowConfig", "FlowRunner", "Outgoing", "build_flows"]


def build_flows(config: Config, source: str = "config") -> FlowRunner | None:
    """The config's flows, compiled and tried once; ``None`` when there are none.

    Raises ``ConfigError`` naming ``flows[i].<key>`` for a bad rule.
    """
    if not config.flows:
        return None
    return FlowRunner.from_config(config.flows, config.composites, source=source)
