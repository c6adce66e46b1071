"""Composite gestures (docs/contract.md §4)."""

from __future__ import annotations

import re

import pytest

from knobflow.engine import CompositeError, CompositeSpec, EngineConfig
from knobflow.testing import KnobScript

K = "knob"


def config(*specs: CompositeSpec) -> EngineConfig:
    return EngineConfig(explicit=(K,), composites=specs)


def test_a_composite_follows_the_gesture_that_completes_it() -> None:
    """Emitted right after its last part, before later gestures of the same message,
    with the same t, the matched names and the duration."""
    spec = CompositeSpec("press_then_turn", ("press", "rotate_start"), 1500)
    out = KnobScript(K).press(1.0).turn([24], start=2.0).run(config(spec))
    assert [g["gesture"] for g in out][:4] == [
        "press",
        "rotate_start",
        "press_then_turn",
        "rotate_cw",
    ]
    assert out[2] == {
        "knob": K, "gesture": "press_then_turn", "t": 2.0,
        "parts": ["press", "rotate_start"], "duration_ms": 1000.0,
    }  # fmt: skip


def test_parts_must_be_consecutive_and_within_the_gap() -> None:
    """A gesture in between, or a gap over max_gap_ms, breaks the sequence; equal to it is fine."""
    spec = CompositeSpec("two_presses", ("press", "press"), 1000)
    out = KnobScript(K).press(1.0).double(1.5).press(2.0).press(3.5).press(4.5).run(config(spec))
    matched = [g for g in out if g["gesture"] == "two_presses"]
    assert [g["t"] for g in matched] == [4.5]


def test_globs_match_gesture_names() -> None:
    """`rotate_*cw` matches rotate_cw and rotate_ccw (case-sensitive fnmatch)."""
    spec = CompositeSpec("wiggle", ("rotate_cw", "rotate_ccw", "rotate_cw"), 700)
    s = KnobScript(K)
    s.frame(1.0, "start_rotating", 12, 200).frame(1.5, "rotation", 0, 700)
    s.frame(2.0, "rotation", 12, 1200).frame(2.5, "stop_rotating", 12, 1700)
    out = s.run(config(spec))
    assert [g["gesture"] for g in out].count("wiggle") == 1
    wiggle = next(g for g in out if g["gesture"] == "wiggle")
    assert wiggle["parts"] == ["rotate_cw", "rotate_ccw", "rotate_cw"]
    assert wiggle["duration_ms"] == 1000.0


def test_matching_restarts_after_a_match() -> None:
    """Three presses match `press, press` once: the third starts afresh."""
    spec = CompositeSpec("two", ("press", "press"))
    out = KnobScript(K).press(1.0).press(1.5).press(2.0).run(config(spec))
    assert [g["gesture"] for g in out] == ["press", "press", "two", "press"]


def test_several_composites_come_in_config_order_and_see_no_composites() -> None:
    """Two completing at once come in config order; neither sees the other."""
    a = CompositeSpec("any_two", ("*", "*"))
    b = CompositeSpec("press_twice", ("press", "press"))
    out = KnobScript(K).press(1.0).press(1.5).run(config(a, b))
    assert [g["gesture"] for g in out] == ["press", "press", "any_two", "press_twice"]


def test_timer_gestures_count_as_parts() -> None:
    """A rotate_stop made by the timeout can complete a composite."""
    spec = CompositeSpec("spin_then_stop", ("rotate_cw", "rotate_stop"), 2000)
    out = KnobScript(K).frame(1.0, "start_rotating", 12, 200).run(config(spec))
    assert out[-1]["gesture"] == "spin_then_stop"
    assert out[-1]["t"] == 2.5


@pytest.mark.parametrize(
    ("name", "sequence", "message"),
    [
        ("Upper", ("press",), "must match [a-z][a-z0-9_]*"),
        ("1st", ("press",), "must match"),
        ("press", ("press",), "is a built-in gesture"),
        ("ok", (), "sequence is empty"),
        ("ok", ("press", "pres"), "part 2 ('pres') matches no built-in gesture"),
        ("ok", ("PRESS",), "part 1 ('PRESS') matches no built-in"),
    ],
)
def test_bad_definitions_name_the_composite_and_the_part(
    name: str, sequence: tuple[str, ...], message: str
) -> None:
    with pytest.raises(CompositeError, match=re.escape(message)):
        CompositeSpec(name, sequence)
