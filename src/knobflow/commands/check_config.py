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
    try:
        config = apply_env(load_config(path))
        from knobflow.bridge.connect import broker_settings  # reads the password and TLS files

        broker_settings(config, str(path) if path else "environment")
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
    return 0
