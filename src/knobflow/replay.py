"""Replay files (docs/contract.md §5): recorded messages through the engine on a virtual clock."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from knobflow.engine import Engine, Gesture

__all__ = ["BadRecord", "Record", "read_records", "replay", "write_record"]


@dataclass(frozen=True, slots=True)
class Record:
    """One message of a replay file."""

    t: float
    topic: str
    payload: Any  # a string is the raw MQTT text; anything else the decoded JSON value
    retain: bool = False

    def to_json(self) -> str:
        return json.dumps(
            {"t": self.t, "topic": self.topic, "payload": self.payload, "retain": self.retain},
            ensure_ascii=False,
            allow_nan=False,
        )


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A line that is not a valid replay record."""

    line: int
    reason: str


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constants)


def read_records(lines: Iterable[str]) -> Iterator[Record | BadRecord]:
    """Each line's record, or what is wrong with it. Blank lines are skipped."""
    last_t = -math.inf
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = _DECODER.decode(line)
        except (ValueError, RecursionError) as err:
            yield BadRecord(number, f"not JSON ({err})")
            continue
        if not isinstance(obj, dict):
            yield BadRecord(number, "not a JSON object")
            continue
        t: Any = obj.get("t")
        if type(t) not in (int, float) or not math.isfinite(t):
            yield BadRecord(number, f"'t' is not a finite number: {t!r}")
            continue
        if t < last_t:
            yield BadRecord(number, f"'t' {t!r} is smaller than the previous line's ({last_t!r})")
            continue
        topic = obj.get("topic")
        if not isinstance(topic, str):
            yield BadRecord(number, f"'topic' is not a string: {topic!r}")
            continue
        if "payload" not in obj:
            yield BadRecord(number, "no 'payload'")
            continue
        retain = obj.get("retain", False)
        if type(retain) is not bool:
            yield BadRecord(number, f"'retain' is not true or false: {retain!r}")
            continue
        last_t = t
        yield Record(float(t), topic, obj["payload"], retain)


def replay(
    engine: Engine,
    records: Iterable[Record | BadRecord],
    emit: Callable[[Gesture], None],
    on_bad: Callable[[BadRecord], None],
) -> int:
    """Feed every record, fire timers at their virtual deadlines, then run the
    clock on until no timer is pending. Returns the number of bad lines."""
    bad = 0
    for record in records:
        if isinstance(record, BadRecord):
            bad += 1
            on_bad(record)
            continue
        for gesture in engine.feed(record.topic, record.payload, record.t, record.retain):
            emit(gesture)
    while (deadline := engine.next_deadline()) is not None:
        for gesture in engine.tick(deadline):
            emit(gesture)
    return bad


def write_record(stream: TextIO, record: Record) -> None:
    stream.write(record.to_json() + "\n")
