"""The ``knobflow`` command. Each subcommand lives in :mod:`knobflow.commands`."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from knobflow import __version__

__all__ = ["main"]

# name -> module in knobflow.commands (each has `help`, `configure(parser)` and `run(args) -> int`)
COMMANDS = {
    "replay": "replay",
    "diagram": "diagram",
    "check-config": "check_config",
    "schema": "schema",
    "run": "run",
    "demo": "demo",
    "record": "record",
}
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="knobflow",
        description="Gestures for the Aqara knob H1 (ZNXNKG02LM) from Zigbee2MQTT.",
    )
    parser.add_argument("--version", action="version", version=f"knobflow {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log lines (-vv: debug)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"knobflow.commands.{module_name}")
        command = sub.add_parser(name, help=module.help, description=module.__doc__)
        module.configure(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `knobflow replay ... | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
