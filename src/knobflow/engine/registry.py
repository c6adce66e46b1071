"""Which device names are knobs: discovered from ``bridge/devices`` and named in config."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from knobflow.engine.devices import DeviceInfo, unsafe_name_reason

__all__ = ["KnobRegistry", "RegistryChange"]

log = logging.getLogger("knobflow.engine")


@dataclass(frozen=True, slots=True)
class RegistryChange:
    """What a ``bridge/devices`` message changed."""

    added: tuple[DeviceInfo, ...] = ()
    removed: tuple[DeviceInfo, ...] = ()
    updated: tuple[DeviceInfo, ...] = ()  # same name, new details (an IEEE address learnt)
    refused: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.updated)


@dataclass
class KnobRegistry:
    """The set of knob names.

    Names given explicitly are knobs whatever ``bridge/devices`` says;
    with ``discover`` on, every device of model ZNXNKG02LM in the latest
    ``bridge/devices`` is a knob too. A later list replaces the earlier one.
    """

    explicit: Iterable[str] = ()
    discover: bool = True
    _explicit: frozenset[str] = field(init=False)
    _knobs: dict[str, DeviceInfo] = field(init=False, default_factory=dict)
    _refused: set[str] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        self._explicit = frozenset(self.explicit)
        for name in self._explicit:
            reason = unsafe_name_reason(name)
            if reason is not None:
                raise ValueError(f"knob name {name!r} {reason}")
            self._knobs[name] = DeviceInfo(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._knobs

    def __len__(self) -> int:
        return len(self._knobs)

    @property
    def knobs(self) -> Mapping[str, DeviceInfo]:
        """Every knob by name."""
        return self._knobs

    def update(self, devices: list[DeviceInfo]) -> RegistryChange:
        """Apply a new ``bridge/devices`` list; return what changed."""
        by_name = {d.name: d for d in devices}
        new: dict[str, DeviceInfo] = {}
        refused: list[str] = []
        for name in self._explicit:
            listed = by_name.get(name)
            new[name] = DeviceInfo(name, listed.ieee, listed.model) if listed else self._knobs[name]
        if self.discover:
            for device in devices:
                if not device.is_knob_model or device.name in new:
                    continue
                reason = unsafe_name_reason(device.name)
                if reason is not None:
                    refused.append(device.name)
                    if device.name not in self._refused:
                        log.warning("knob %r refused: its name %s", device.name, reason)
                    continue
                new[device.name] = device
        self._refused = set(refused)
        old = self._knobs
        self._knobs = new
        return RegistryChange(
            added=tuple(d for n, d in new.items() if n not in old),
            removed=tuple(d for n, d in old.items() if n not in new),
            updated=tuple(d for n, d in new.items() if n in old and old[n] != d),
            refused=tuple(refused),
        )
