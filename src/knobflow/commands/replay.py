"""Feed a recorded message stream (JSON Lines, SPEC.md §5) through the engine on a
virtual clock and print the gestures. Exit status 1 if a line was not a valid
record (each is reported on stderr with its line number), 2 on bad arguments
or config."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from knobflow.config import ConfigError, load_config
from knobflow.engine import Engine, Gesture
from knobflow.replay import BadRecord, read_records, replay
from knobflow.textformat import format_gesture

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

    emit = emit_json if args.format == "jsonl" else emit_text
    try:
        stream = sys.stdin if source == "-" else args.file.open(encoding="utf-8")
    except OSError as err:
        print(f"knobflow replay: {source}: {err.strerror or err}", file=sys.stderr)
        return 2
    with stream:
        try:
            bad = replay(engine, read_records(stream), emit, on_bad)
        except UnicodeDecodeError as err:
            print(f"knobflow replay: {source}: not UTF-8 text ({err})", file=sys.stderr)
            return 2
    out.flush()
    return 1 if bad else 0
