"""The config file's sections (docs/contract.md §8), shared by every host.

The engine part (timers, knobs, composites, dials) is the same everywhere; the
bridge adds ``mqtt``, ``zigbee2mqtt``, ``output`` and ``homeassistant``.
Every key has a default, so an empty file is a valid config.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from knobflow.config.errors import ConfigError
from knobflow.config.schema import meta
from knobflow.engine.composites import CompositeError, CompositeSpec
from knobflow.engine.devices import unsafe_name_reason
from knobflow.engine.settings import DialSettings, EngineConfig, KnobSettings

__all__ = [
    "CompositeConfig",
    "Config",
    "DialConfig",
    "FlowConfig",
    "HomeAssistantConfig",
    "KnobConfig",
    "MqttConfig",
    "OutputConfig",
    "TlsConfig",
    "Zigbee2MqttConfig",
]

TOPIC_LEVELS = r"[^+#\x00]+"


@dataclass(frozen=True)
class DialConfig:
    """A virtual dial: a value in [min, max] moved by turns, added to step gestures as `value`."""

    min: float = field(default=0.0, metadata=meta("lowest value"))
    max: float = field(default=100.0, metadata=meta("highest value"))
    initial: float | None = field(default=None, metadata=meta("value at start (default: min)"))
    gain: float | None = field(
        default=None,
        metadata=meta("value per degree of turn; default: one full turn (360°) sweeps min..max"),
    )
    acceleration: float = field(
        default=0.0,
        metadata=meta(
            "extra gain per 360 °/s of speed: a step counts "
            "× (1 + acceleration × |velocity| / 360)",
            min=0,
        ),
    )

    def __post_init__(self) -> None:
        if not self.max > self.min:
            raise ConfigError(
                "max must be greater than min", value={"min": self.min, "max": self.max}
            )
        if self.initial is not None and not self.min <= self.initial <= self.max:
            raise ConfigError("initial must lie within min..max", value=self.initial)

    def settings(self) -> DialSettings:
        return DialSettings(self.min, self.max, self.initial, self.gain, self.acceleration)


def _ms(doc: str, default: float, *, zero_ok: bool = False) -> Any:
    rules = meta(doc, min=0) if zero_ok else meta(doc, above=0)
    return field(default=default, metadata=rules)


def _ms_override(doc: str, *, zero_ok: bool = False) -> Any:
    rules = meta(doc, min=0) if zero_ok else meta(doc, above=0)
    return field(default=None, metadata=rules)


@dataclass(frozen=True)
class KnobConfig:
    """Settings of one knob; keys left out take the top-level value."""

    rotation_timeout_ms: float | None = _ms_override("see the top-level key")
    settle_ms: float | None = _ms_override("see the top-level key", zero_ok=True)
    hold_timeout_ms: float | None = _ms_override("see the top-level key")
    fast_spin_dps: float | None = _ms_override("see the top-level key")
    dial: DialConfig | None = field(default=None, metadata=meta("see the top-level key"))
    held_dial: DialConfig | None = field(default=None, metadata=meta("see the top-level key"))


@dataclass(frozen=True)
class CompositeConfig:
    """A composite gesture: a sequence of built-in gesture names or globs."""

    sequence: list[str] = field(
        metadata=meta("gesture names or globs (`rotate_*_cw`) that must come one after another")
    )
    max_gap_ms: float = _ms("longest pause between two parts", 1000)


@dataclass(frozen=True)
class TlsConfig:
    """TLS to the broker. File paths are relative to the config file's folder."""

    ca_file: str | None = field(
        default=None, metadata=meta("CA certificate (PEM); default: the system's")
    )
    cert_file: str | None = field(default=None, metadata=meta("client certificate (PEM)"))
    key_file: str | None = field(default=None, metadata=meta("client key (PEM)"))
    insecure: bool = field(
        default=False, metadata=meta("skip the server certificate's host name check (testing only)")
    )

    def __post_init__(self) -> None:
        if (self.cert_file is None) != (self.key_file is None):
            raise ConfigError(
                "cert_file and key_file go together", value=self.cert_file or self.key_file
            )


@dataclass(frozen=True)
class MqttConfig:
    """The MQTT broker. KNOBFLOW_MQTT_HOST, _PORT, _USERNAME and _PASSWORD override these."""

    host: str = field(default="localhost", metadata=meta("broker host name or address"))
    port: int = field(default=1883, metadata=meta("broker port", min=1, max=65535))
    client_id: str | None = field(
        default=None, metadata=meta("MQTT client id; default: knobflow-<random>")
    )
    username: str | None = field(default=None, metadata=meta("user name"))
    password: str | None = field(
        default=None, metadata=meta("password (prefer password_file)", secret=True)
    )
    password_file: str | None = field(
        default=None, metadata=meta("file holding the password (first line)")
    )
    tls: TlsConfig | None = field(
        default=None, metadata=meta("TLS settings; leave out for plain TCP")
    )
    keepalive: int = field(default=60, metadata=meta("keepalive seconds", min=5, max=65535))

    def __post_init__(self) -> None:
        if self.password is not None and self.password_file is not None:
            raise ConfigError("give password or password_file, not both", value="(hidden)")


@dataclass(frozen=True)
class Zigbee2MqttConfig:
    """Where Zigbee2MQTT publishes."""

    base_topic: str = field(
        default="zigbee2mqtt", metadata=meta("Zigbee2MQTT's base topic", pattern=TOPIC_LEVELS)
    )
    discover: bool = field(
        default=True,
        metadata=meta(
            "every ZNXNKG02LM in bridge/devices is a knob (else only the knobs named in `knobs`)"
        ),
    )


@dataclass(frozen=True)
class OutputConfig:
    """Where the bridge publishes gestures, state and status."""

    base_topic: str = field(
        default="knobflow", metadata=meta("base topic of knobflow's messages", pattern=TOPIC_LEVELS)
    )
    qos: int = field(default=0, metadata=meta("QoS of gesture messages", min=0, max=2))


@dataclass(frozen=True)
class HomeAssistantConfig:
    """Home Assistant MQTT discovery."""

    discovery: bool = field(
        default=True, metadata=meta("publish device triggers and event entities")
    )
    prefix: str = field(
        default="homeassistant",
        metadata=meta("Home Assistant's discovery prefix", pattern=TOPIC_LEVELS),
    )


@dataclass(frozen=True)
class FlowConfig:
    """A rule: when a knob makes a gesture, publish an MQTT message."""

    gesture: str | list[str] = field(
        metadata=meta("gesture name or glob (built-in or composite), or a list of them")
    )
    topic: str = field(metadata=meta("topic to publish on; may use templates"))
    payload: Any = field(
        metadata=meta(
            "text, or a mapping/list turned into JSON; strings may hold templates "
            "(`{{ delta * 1.4 }}`), a string that is one template keeps its type"
        )
    )
    knob: str = field(default="*", metadata=meta("knob name or glob"))
    qos: int = field(default=0, metadata=meta("QoS of the message", min=0, max=2))
    retain: bool = field(default=False, metadata=meta("publish retained"))
    min_interval_ms: float = field(
        default=0,
        metadata=meta(
            "at most one message per knob this often; a gesture in between is held back "
            "and the latest one is sent when the interval ends",
            min=0,
        ),
    )

    @property
    def gestures(self) -> tuple[str, ...]:
        return (self.gesture,) if isinstance(self.gesture, str) else tuple(self.gesture)


@dataclass(frozen=True)
class Config:
    """A knobflow config file. Every key is optional."""

    rotation_timeout_ms: float = _ms(
        "no rotation frame for this long closes a turn (reason timeout)", 1500
    )
    settle_ms: float = _ms(
        "after a stop, `rotation` frames within this window are ignored", 300, zero_ok=True
    )
    hold_timeout_ms: float = _ms(
        "held with no release for this long gives release (reason timeout)", 60000
    )
    fast_spin_dps: float = _ms("speed (°/s) of a step that makes fast_spin_cw/ccw", 360)
    dial: DialConfig | None = field(
        default=None, metadata=meta("a dial value for plain turns (added as `value`)")
    )
    held_dial: DialConfig | None = field(
        default=None, metadata=meta("a dial value for turns while held")
    )
    knobs: dict[str, KnobConfig | None] = field(
        default_factory=dict,
        metadata=meta(
            "knobs by Zigbee2MQTT friendly name, with their own settings; "
            "each is a knob even when bridge/devices does not list it"
        ),
    )
    composites: dict[str, CompositeConfig] = field(
        default_factory=dict, metadata=meta("composite gestures by name ([a-z][a-z0-9_]*)")
    )
    zigbee2mqtt: Zigbee2MqttConfig = field(
        default_factory=Zigbee2MqttConfig, metadata=meta("Zigbee2MQTT")
    )
    mqtt: MqttConfig = field(
        default_factory=MqttConfig, metadata=meta("the broker (bridge, demo, record)")
    )
    output: OutputConfig = field(default_factory=OutputConfig, metadata=meta("the bridge's topics"))
    homeassistant: HomeAssistantConfig = field(
        default_factory=HomeAssistantConfig, metadata=meta("Home Assistant discovery (bridge)")
    )
    flows: list[FlowConfig] = field(
        default_factory=list,
        metadata=meta("rules that publish MQTT messages for gestures (bridge; see Flows)"),
    )

    def __post_init__(self) -> None:
        for name in self.knobs:
            reason = unsafe_name_reason(name)
            if reason is not None:
                raise ConfigError(
                    f"is not a usable knob name: it {reason}", key=f"knobs.{name}", value=name
                )
        self.composite_specs()  # raises on a bad composite

    def knob_settings(self, name: str | None = None) -> KnobSettings:
        """The settings of knob ``name`` (the top-level ones for ``None`` or unlisted knobs)."""
        base = KnobSettings(
            self.rotation_timeout_ms,
            self.settle_ms,
            self.hold_timeout_ms,
            self.fast_spin_dps,
            self.dial.settings() if self.dial else None,
            self.held_dial.settings() if self.held_dial else None,
        )
        own = self.knobs.get(name) if name is not None else None
        if own is None:
            return base
        return KnobSettings(
            own.rotation_timeout_ms
            if own.rotation_timeout_ms is not None
            else base.rotation_timeout_ms,
            own.settle_ms if own.settle_ms is not None else base.settle_ms,
            own.hold_timeout_ms if own.hold_timeout_ms is not None else base.hold_timeout_ms,
            own.fast_spin_dps if own.fast_spin_dps is not None else base.fast_spin_dps,
            own.dial.settings() if own.dial else base.dial,
            own.held_dial.settings() if own.held_dial else base.held_dial,
        )

    def composite_specs(self) -> tuple[CompositeSpec, ...]:
        specs = []
        for name, composite in self.composites.items():
            try:
                specs.append(CompositeSpec(name, tuple(composite.sequence), composite.max_gap_ms))
            except CompositeError as err:
                raise ConfigError(str(err), key=f"composites.{name}") from None
        return tuple(specs)

    def engine_config(self, extra_knobs: tuple[str, ...] = ()) -> EngineConfig:
        """The engine's part of this config; ``extra_knobs`` are names given elsewhere
        (``--knob``)."""
        return EngineConfig(
            defaults=self.knob_settings(),
            knobs={name: self.knob_settings(name) for name in self.knobs},
            composites=self.composite_specs(),
            base_topic=self.zigbee2mqtt.base_topic,
            discover=self.zigbee2mqtt.discover,
            explicit=tuple(extra_knobs),
        )
