"""knobflow: gestures for the Aqara knob H1 (ZNXNKG02LM) from Zigbee2MQTT.

The engine (:mod:`knobflow.engine`) is pure Python with an injected clock; the
bridge, the CLI and the Home Assistant apps are thin hosts around it.
"""

from knobflow.engine import (
    BUILTIN_GESTURES,
    Engine,
    EngineConfig,
    Gesture,
    GestureName,
    KnobSettings,
)

__version__ = "0.1.0"

__all__ = [
    "BUILTIN_GESTURES",
    "Engine",
    "EngineConfig",
    "Gesture",
    "GestureName",
    "KnobSettings",
    "__version__",
]
