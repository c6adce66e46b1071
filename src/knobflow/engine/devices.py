"""The ``bridge/devices`` list of Zigbee2MQTT: which devices are knobs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["KNOB_MODEL", "DeviceInfo", "devices_in_list", "unsafe_name_reason"]

KNOB_MODEL = "ZNXNKG02LM"


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """A device as ``bridge/devices`` lists it (``ieee`` is ``None`` for a knob named
    in config that the list does not show)."""

    name: str
    ieee: str | None = None
    model: str | None = KNOB_MODEL

    @property
    def is_knob_model(self) -> bool:
        return self.model == KNOB_MODEL


def unsafe_name_reason(name: str) -> str | None:
    """Why a friendly name cannot be a knob name (an MQTT topic part), or ``None``."""
    if not name:
        return "is empty"
    for char, what in (("+", "'+'"), ("#", "'#'"), ("\0", "a NUL character")):
        if char in name:
            return f"contains {what}"
    return None


def devices_in_list(devices: Any) -> list[DeviceInfo] | None:
    """The devices of a decoded ``bridge/devices`` payload, ``None`` if it is not a list.

    Entries that are not objects or have no string ``friendly_name`` are skipped.
    """
    if not isinstance(devices, list):
        return None
    found: list[DeviceInfo] = []
    for device in devices:
        if not isinstance(device, dict):
            continue
        name = device.get("friendly_name")
        if not isinstance(name, str):
            continue
        definition = device.get("definition")
        model = definition.get("model") if isinstance(definition, dict) else None
        ieee = device.get("ieee_address")
        found.append(
            DeviceInfo(
                name,
                ieee if isinstance(ieee, str) else None,
                model if isinstance(model, str) else None,
            )
        )
    return found
