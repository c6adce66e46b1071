"""Record a live knob's messages (its topic and bridge/devices) to a replay file
(docs/contract.md §5), showing a running count on stderr; stop with Ctrl-C or --duration.
The file replays with `knobflow replay FILE`. The broker comes from --config and
the KNOBFLOW_MQTT_* variables, as for `knobflow run`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

help = "record a live knob's messages to a replay file"


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{value:g} is not above 0")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--knob", required=True, metavar="NAME", help="the knob's friendly name")
    parser.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="replay file to write; - for stdout"
    )
    parser.add_argument("--config", type=Path, help="config file (broker, Zigbee2MQTT base topic)")
    parser.add_argument(
        "--duration",
        type=_positive,
        metavar="SECONDS",
        help="stop after this long (default: Ctrl-C)",
    )


def run(args: argparse.Namespace) -> int:
    from knobflow.commands._extra import missing

    if missing("record", "aiomqtt"):
        return 2
    from knobflow.config import ConfigError, apply_env, load_config
    from knobflow.engine.devices import unsafe_name_reason

    reason = unsafe_name_reason(args.knob)
    if reason is not None:
        print(f"knobflow record: --knob {args.knob!r} {reason}", file=sys.stderr)
        return 2
    try:
        config = apply_env(load_config(args.config))
        from knobflow.bridge.connect import broker_settings

        settings = broker_settings(config, str(args.config) if args.config else "environment")
    except ConfigError as err:
        print(f"knobflow record: {err}", file=sys.stderr)
        return 2
    try:
        stream = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")  # noqa: SIM115
    except OSError as err:
        print(f"knobflow record: {args.output}: {err.strerror or err}", file=sys.stderr)
        return 2

    import asyncio

    from knobflow.bridge.record import Recorder

    base = config.zigbee2mqtt.base_topic
    recorder = Recorder(settings, [f"{base}/{args.knob}", f"{base}/bridge/devices"], stream)
    counter = _Counter(sys.stderr, args.knob, f"{base}/{args.knob}")
    try:
        with stream if stream is not sys.stdout else _nothing():
            status = asyncio.run(recorder.run(args.duration, counter.update))
    finally:
        counter.done(args.output)
    if status is not None:
        print(f"knobflow record: {status}", file=sys.stderr)
        return 1
    return 0


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


class _Counter:
    """``recording desk_knob: 12 messages (9 from the knob)`` on stderr, in place on a terminal."""

    def __init__(self, out: TextIO, knob: str, topic: str) -> None:
        self.out = out
        self.knob = knob
        self.topic = topic
        self.total = 0
        self.from_knob = 0
        self.tty = out.isatty()

    def update(self, topic: str, payload: Any) -> None:
        del payload
        self.total += 1
        self.from_knob += topic == self.topic
        if self.tty:
            self.out.write("\r" + self._text())
            self.out.flush()
        elif self.total == 1 or self.total % 100 == 0:
            self.out.write(self._text() + "\n")

    def _text(self) -> str:
        return f"recording {self.knob!r}: {self.total} messages ({self.from_knob} from the knob)"

    def done(self, where: str) -> None:
        end = "\n" if self.tty and self.total else ""
        self.out.write(f"{end}recorded {self.total} messages ({self.from_knob} from the knob)")
        self.out.write(f" to {where}\n" if where != "-" else "\n")
