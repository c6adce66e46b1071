"""Configuration: one validated, frozen object built once at start (docs/contract.md §8)."""

from knobflow.config.errors import ConfigError
from knobflow.config.load import apply_env, config_from_mapping, load_config
from knobflow.config.model import (
    CompositeConfig,
    Config,
    DialConfig,
    FlowConfig,
    HomeAssistantConfig,
    KnobConfig,
    MqttConfig,
    OutputConfig,
    TlsConfig,
    Zigbee2MqttConfig,
)
from knobflow.config.schema import json_schema

__all__ = [
    "CompositeConfig",
    "Config",
    "ConfigError",
    "DialConfig",
    "FlowConfig",
    "HomeAssistantConfig",
    "KnobConfig",
    "MqttConfig",
    "OutputConfig",
    "TlsConfig",
    "Zigbee2MqttConfig",
    "apply_env",
    "config_from_mapping",
    "json_schema",
    "load_config",
]
