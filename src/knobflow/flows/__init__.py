"""Flows: rules that turn a knob's gestures straight into MQTT messages (no Home Assistant).

    flows:
      - knob: living_room_knob
        gesture: "rotate_c*w"
        topic: zigbee2mqtt/living_light/set
        payload: {brightness_step: "{{ delta * 1.4 }}", transition: 0.4}

Templates are Jinja2 in an immutable sandbox: gesture fields and arithmetic,
no access to Python internals, bounded sizes.
"""

from knobflow.config.model import FlowConfig
from knobflow.flows.runner import FlowRunner, Outgoing

__all__ = ["FlowConfig", "FlowRunner", "Outgoing"]
