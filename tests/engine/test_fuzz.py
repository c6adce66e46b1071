"""Fuzzing the parser and the engine's input: no exception escapes, bad input changes nothing."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from knobflow.engine import Engine, EngineConfig
from knobflow.engine.parse import parse_payload
from knobflow.replay import read_records

keys = st.sampled_from(
    [
        "action",
        "action_rotation_angle",
        "action_rotation_time",
        "action_rotation_percent",
        "action_rotation_button_state",
        "battery",
        "operation_mode",
        "x",
    ]
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=10),
    st.sampled_from(["single", "rotation", "start_rotating", "pressed", "released", ""]),
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=5)
)
objects = st.dictionaries(keys, values, max_size=6)


def _engine_mid_turn() -> Engine:
    engine = Engine(EngineConfig(explicit=("k",)))
    engine.feed("zigbee2mqtt/k", {"action": "hold"}, 0.0)
    engine.feed(
        "zigbee2mqtt/k",
        {"action": "start_rotating", "action_rotation_angle": 12, "action_rotation_time": 200},
        0.5,
    )
    return engine


def _state(engine: Engine) -> str:
    knob = engine._knobs["k"]
    return repr(
        {
            k: getattr(knob, k)
            for k in type(knob).__slots__
            if k not in ("_timers", "_lc", "_count", "_composites")
        }
    )


@settings(max_examples=400)
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200), values, objects))
def test_parser_never_raises(payload: Any) -> None:
    """Any bytes, text or JSON-like value gives a Parsed, never an exception."""
    parsed = parse_payload(payload)
    assert (parsed.error is None) or (parsed.event is None and parsed.telemetry is None)


@settings(max_examples=400)
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200), values, objects), st.booleans())
def test_rejected_input_changes_no_knob_state(payload: Any, as_json_text: bool) -> None:
    """A message the parser rejects leaves the knob exactly as it was and emits nothing."""
    if as_json_text and not isinstance(payload, bytes | str):
        with contextlib.suppress(ValueError):
            payload = json.dumps(payload)
    engine = _engine_mid_turn()
    before = _state(engine)
    out = engine.feed("zigbee2mqtt/k", payload, 0.6)
    if parse_payload(payload).error is not None:
        assert out == []
        assert _state(engine) == before


@settings(max_examples=200)
@given(st.lists(st.one_of(st.text(max_size=60), st.builds(json.dumps, objects)), max_size=8))
def test_replay_reader_never_raises(lines: list[str]) -> None:
    """Any text lines give records or line-numbered complaints, never an exception."""
    for record in read_records(lines):
        assert record is not None
