"""The bridge is an asyncio service on aiomqtt (>=2.5,<3): a requirement of the project.

Performance work optimises around aiomqtt (for example by publishing QoS 0 messages
through its paho client without awaiting each one, or batching), never by replacing
it with an MQTT protocol implementation of the project's own: aiomqtt and paho carry
the protocol, TLS, authentication and QoS flows that users rely on.
"""

from __future__ import annotations

import re
from pathlib import Path

import knobflow.bridge

BRIDGE = Path(knobflow.bridge.__file__).parent


def test_the_bridge_connects_with_aiomqtt() -> None:
    service = [p for p in BRIDGE.glob("*.py") if p.name not in ("record.py", "demo.py")]
    assert any("aiomqtt.Client(" in p.read_text(encoding="utf-8") for p in service), (
        "the bridge service must connect with aiomqtt.Client (see this module's docstring)"
    )


def test_the_project_implements_no_mqtt_protocol_of_its_own() -> None:
    packet_types = re.compile(r"^\s*(CONNACK|PUBACK|SUBACK|PINGREQ)\s*=", re.M)
    own = [
        p.name for p in BRIDGE.glob("*.py") if packet_types.search(p.read_text(encoding="utf-8"))
    ]
    assert own == [], (
        f"{own}: MQTT packets are aiomqtt's and paho's job; optimise around aiomqtt instead "
        "(see this module's docstring)"
    )
