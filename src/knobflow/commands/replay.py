"""Feed a recorded message stream (JSON Lines, docs/contract.md §5) through the engine on a
virtual clock and print the gestures. Exit status 1 if a line was not a valid
record (each is reported on stderr with its line number), 2 on bad arguments
or config."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from knobflow.config import Config, ConfigError, load_config
from knobflow.engine import Engine, Gesture
from knobflow.replay import BadRecord, read_records, replay
from knobflow.textformat import format_gesture

if TYPE_CHECKING:
    from knobflow.flows import Outgoing

help = "print the gestures of a recorded message stream"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="replay file (JSON Lines); - for stdin")
    parser.add_argument(
        "--knob",
        action="append",
        default=[],
        metavar="NAME",
        help="a knob's friendly name, besides those in the file's bridge/devices (repeatable)",
    )
    parser.add_argument("--config", type=Path, help="config file (settings, composites)")
    parser.add_argument(
        "--format",
        choices=("jsonl", "text"),
        default="text",
        help="jsonl: one JSON object per gesture; text: one readable line (default)",
    )
    parser.add_argument(
        "--flows",
        action="store_true",
        help="print the MQTT messages the config's flows would publish, instead of the gestures",
    )


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        engine = Engine(config.engine_config(tuple(args.knob)))
    except ConfigError as err:
        print(f"knobflow replay: {err}", file=sys.stderr)
        return 2
    except ValueError as err:  # a --knob name that cannot be a topic
        print(f"knobflow replay: --knob: {err}", file=sys.stderr)
        return 2
    out = sys.stdout
    source = str(args.file)

    def emit_json(gesture: Gesture) -> None:
        out.write(json.dumps(gesture.to_dict(), ensure_ascii=False) + "\n")

    def emit_text(gesture: Gesture) -> None:
        out.write(format_gesture(gesture) + "\n")

    def on_bad(bad: BadRecord) -> None:
        print(f"{source}:{bad.line}: skipped: {bad.reason}", file=sys.stderr)

    emit: Callable[[Gesture], None] = emit_json if args.format == "jsonl" else emit_text
    finish: Callable[[], None] = lambda: None  # noqa: E731 - nothing to finish without flows
    if args.flows:
        from knobflow.commands._extra import missing

        if missing("replay --flows", "jinja2"):
            return 2
        try:
            emit, finish = _flow_printer(config, args.format, source)
        except ConfigError as err:
            print(f"knobflow replay: {err}", file=sys.stderr)
            return 2
    try:
        stream = sys.stdin if source == "-" else args.file.open(encoding="utf-8")
    except OSError as err:
        print(f"knobflow replay: {source}: {err.strerror or err}", file=sys.stderr)
        return 2
    with stream:
        try:
            bad = replay(engine, read_records(stream), emit, on_bad)
            finish()
        except UnicodeDecodeError as err:
            print(f"knobflow replay: {source}: not UTF-8 text ({err})", file=sys.stderr)
            return 2
    out.flush()
    return 1 if bad else 0


def _flow_printer(
    config: Config, form: str, source: str
) -> tuple[Callable[[Gesture], None], Callable[[], None]]:
    """``emit`` and ``finish`` for ``--flows``: each gesture through the flows, on the replay's
    clock (held-back messages come out when their interval ends)."""
    from knobflow.flows import build_flows

    flows = build_flows(config, source)
    out = sys.stdout

    def show(t: float, message: Outgoing) -> None:
        if form == "jsonl":
            record = {"t": t, "topic": message.topic, "payload": message.payload}
            if message.qos or message.retain:
                record.update(qos=message.qos, retain=message.retain)
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            out.write(f"{t:9.3f}  {message.topic}  {message.payload}\n")

    def catch_up(now: float) -> None:
        while flows is not None and (due := flows.next_deadline()) is not None and due <= now:
            for message in flows.tick(due):
                show(due, message)

    def emit(gesture: Gesture) -> None:
        catch_up(gesture.t)
        for message in flows.feed(gesture) if flows is not None else ():
            show(gesture.t, message)

    return emit, lambda: catch_up(float("inf"))
