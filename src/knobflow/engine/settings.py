"""Per-knob settings of the engine (docs/contract.md §3 "Lifecycle and timers")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from knobflow.engine.composites import CompositeSpec

__all__ = ["DialSettings", "EngineConfig", "KnobSettings"]


@dataclass(frozen=True, slots=True)
class DialSettings:
    """A virtual dial ``value`` in ``[min, max]`` moved by a family's steps.

    Each step moves it by ``delta × gain`` (``gain`` ``None``: one full turn,
    360°, sweeps the whole range), multiplied by ``1 + acceleration ×
    |velocity| / 360`` when ``acceleration`` is set, then clamped.
    """

    min: float = 0.0
    max: float = 100.0
    initial: float | None = None  # None: min
    gain: float | None = None
    acceleration: float = 0.0

    @property
    def degrees_gain(self) -> float:
        """Value units per degree."""
        return self.gain if self.gain is not None else (self.max - self.min) / 360.0

    @property
    def start(self) -> float:
        return self.min if self.initial is None else self.initial


@dataclass(frozen=True, slots=True)
class KnobSettings:
    """Timers and thresholds of one knob; the defaults are those of docs/contract.md §3."""

    rotation_timeout_ms: float = 1500
    settle_ms: float = 300
    hold_timeout_ms: float = 60000
    fast_spin_dps: float = 360
    dial: DialSettings | None = None  # plain turns
    held_dial: DialSettings | None = None  # turns while held


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Everything the engine needs, built once (from a config file or in code).

    ``knobs`` holds per-knob settings; every name in it, and every name in
    ``explicit``, is a knob whatever ``bridge/devices`` says. With ``discover``
    on, devices of model ZNXNKG02LM in ``bridge/devices`` are knobs too.
    """

    defaults: KnobSettings = field(default_factory=KnobSettings)
    knobs: Mapping[str, KnobSettings] = field(default_factory=dict)
    composites: tuple[CompositeSpec, ...] = ()
    base_topic: str = "zigbee2mqtt"
    discover: bool = True
    explicit: tuple[str, ...] = ()

    def settings_for(self, name: str) -> KnobSettings:
        return self.knobs.get(name, self.defaults)

    @property
    def knob_names(self) -> tuple[str, ...]:
        """Every knob named in config, in order."""
        return tuple(dict.fromkeys((*self.knobs, *self.explicit)))
