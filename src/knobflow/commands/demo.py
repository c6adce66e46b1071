"""Watch knobflow work in a few seconds, with nothing to set up: an embedded MQTT
broker on a free loopback port, the bridge, and a simulated knob whose gestures
are shown as the bridge publishes them. With --broker HOST:PORT the simulated
knob and the bridge use that broker instead (topics under knobflow-demo/, no
Home Assistant discovery; KNOBFLOW_MQTT_USERNAME and _PASSWORD apply)."""

from __future__ import annotations

import argparse
import sys

help = "show gestures of a simulated knob, live over MQTT (no setup needed)"


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{value:g} is out of range (allowed: 0.1 to 100)")
    return value


def _broker(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--speed",
        type=_speed,
        default=1.0,
        metavar="FACTOR",
        help="play the session faster (2: twice as fast)",
    )
    parser.add_argument(
        "--broker",
        type=_broker,
        metavar="HOST:PORT",
        help="use this broker instead of an embedded one",
    )


def run(args: argparse.Namespace) -> int:
    from knobflow.commands._extra import missing

    if missing("demo", "aiomqtt", "jinja2", *(() if args.broker else ("amqtt",))):
        return 2
    import asyncio

    from knobflow.bridge.connect import BrokerRefused
    from knobflow.bridge.demo import run_demo
    from knobflow.config import ConfigError

    try:
        result = asyncio.run(run_demo(sys.stdout, speed=args.speed, broker=args.broker))
    except (BrokerRefused, ConfigError) as err:
        print(f"knobflow demo: {err}", file=sys.stderr)
        return 1
    except TimeoutError:
        print("knobflow demo: the last gestures did not arrive in time", file=sys.stderr)
        return 1
    return 0 if result.complete else 1
