"""The gesture engine: pure Python, no I/O, time injected.

Everything a host needs::

    from knobflow.engine import Engine, EngineConfig, Gesture
"""

from knobflow.engine.composites import CompositeError, CompositeSpec
from knobflow.engine.core import Engine
from knobflow.engine.devices import KNOB_MODEL, DeviceInfo
from knobflow.engine.events import Action, KnobEvent, Parsed
from knobflow.engine.gestures import BUILTIN_GESTURES, Gesture, GestureName
from knobflow.engine.lifecycle import ButtonState, DialState
from knobflow.engine.parse import parse_message, parse_payload
from knobflow.engine.registry import RegistryChange
from knobflow.engine.settings import DialSettings, EngineConfig, KnobSettings

__all__ = [
    "BUILTIN_GESTURES",
    "KNOB_MODEL",
    "Action",
    "ButtonState",
    "CompositeError",
    "CompositeSpec",
    "DeviceInfo",
    "DialSettings",
    "DialState",
    "Engine",
    "EngineConfig",
    "Gesture",
    "GestureName",
    "KnobEvent",
    "KnobSettings",
    "Parsed",
    "RegistryChange",
    "parse_message",
    "parse_payload",
]
