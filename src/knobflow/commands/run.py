"""Run the MQTT bridge: read the knobs' Zigbee2MQTT messages from the broker and
publish their gestures, state and Home Assistant discovery (docs/contract.md §6).

Without --config the defaults apply (broker localhost:1883, every ZNXNKG02LM in
bridge/devices, discovery on); KNOBFLOW_MQTT_HOST, _PORT, _USERNAME and
_PASSWORD override the broker settings either way. Exit status: 0 after
SIGINT/SIGTERM, 1 when the broker refuses the connection (wrong password,
wrong CA, ...), 2 for a bad config."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

help = "run the MQTT bridge (gestures, state, Home Assistant discovery)"

EXIT_REFUSED = 1
EXIT_CONFIG = 2


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="config file (YAML or JSON); optional")


def run(args: argparse.Namespace) -> int:
    from knobflow.commands._extra import missing

    if missing("run", "aiomqtt", "jinja2"):
        return EXIT_CONFIG
    from knobflow.config import ConfigError, apply_env, load_config

    source = str(args.config) if args.config else "environment"
    try:
        config = apply_env(load_config(args.config))
        from knobflow.bridge.connect import broker_settings

        settings = broker_settings(config, source)
        from knobflow.flows import build_flows

        flows = build_flows(config, source)
    except ConfigError as err:
        print(f"knobflow run: {err}", file=sys.stderr)
        return EXIT_CONFIG
    if args.verbose == 0:
        logging.getLogger("knobflow").setLevel(logging.INFO)

    import asyncio

    from knobflow.bridge.connect import BrokerRefused
    from knobflow.bridge.service import Bridge

    async def main() -> None:
        import signal

        bridge = Bridge(config, settings, flows=flows)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, bridge.stop)
        try:
            await bridge.run()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    import gc

    # Everything loaded so far (interpreter, aiomqtt, paho, the config) lives as long as
    # the process: out of the collector's sight, a full collection takes a millisecond or
    # two instead of ~15 ms (a latency spike for every message in flight). No collection
    # first: it would cost ~50 ms of start-up for a few kilobytes.
    gc.freeze()
    try:
        asyncio.run(main())
    except BrokerRefused as err:
        print(f"knobflow run: {err}", file=sys.stderr)
        return EXIT_REFUSED
    return 0
