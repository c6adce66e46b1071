"""Validate a config file and exit: 0 when valid (with a summary), 2 with one
error naming the file, key, value and what is allowed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

help = "validate a config file"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", type=Path, nargs="?", help="config file (YAML or JSON)")
    parser.add_argument("--config", dest="config_option", type=Path, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    from knobflow.config import ConfigError, apply_env, load_config

    path = args.config or args.config_option
    source = str(path) if path else "environment"
    bridge = True
    try:
        config = apply_env(load_config(path))
        try:
            from knobflow.bridge.connect import broker_settings
            from knobflow.flows import build_flows
        except ImportError:  # installed without the bridge extra: the engine part only
            bridge = False
        else:
            broker_settings(config, source)  # reads the password and TLS files
            build_flows(config, source)  # compiles and tries every flow template
    except ConfigError as err:
        print(f"knobflow: {err}", file=sys.stderr)
        return 2
    knobs = ", ".join(config.knobs) or "none named (auto-discovery)"
    composites = ", ".join(config.composites) or "none"
    print(f"{path or '(no file: defaults)'}: valid")
    print(f"  broker: {config.mqtt.host}:{config.mqtt.port}")
    discover = "on" if config.zigbee2mqtt.discover else "off"
    print(f"  knobs: {knobs}; discovery from bridge/devices: {discover}")
    print(f"  composites: {composites}")
    print(f"  flows: {len(config.flows)} rule{'s' if len(config.flows) != 1 else ''}")
    if not bridge:
        print("  (the bridge extra is not installed: broker settings and flows were not tried)")
    return 0
