"""Virtual dial values: `value` on step gestures, gain, clamping, acceleration, per family."""

from __future__ import annotations

import re

import pytest

from knobflow.config import ConfigError, config_from_mapping
from knobflow.engine import DialSettings, Engine, EngineConfig, KnobSettings
from knobflow.testing import KnobScript

K = "knob"


def with_dial(**dials: DialSettings | None) -> EngineConfig:
    return EngineConfig(defaults=KnobSettings(**dials), explicit=(K,))


def test_no_dial_no_value() -> None:
    out = KnobScript(K).turn([12, 36], start=1.0).run(with_dial())
    assert all("value" not in g for g in out)


def test_default_gain_sweeps_the_range_in_one_turn() -> None:
    """One full turn (360°) moves 0..100 by 100: 36° is 10."""
    out = KnobScript(K).turn([36, 72, 108], start=1.0).run(with_dial(dial=DialSettings()))
    assert [g["value"] for g in out if g["gesture"] == "rotate_cw"] == [10.0, 20.0, 30.0]


def test_values_clamp_at_both_ends() -> None:
    """Turning past max stays at max; turning back comes down from it, never below min."""
    s = KnobScript(K)
    s.frame(1.0, "start_rotating", 360, 200).frame(1.5, "rotation", 720, 700)
    s.frame(2.0, "rotation", 684, 1200).frame(2.5, "rotation", -1000, 1700)
    out = s.run(with_dial(dial=DialSettings(initial=50)))
    assert [g["value"] for g in out if "value" in g] == [100.0, 100.0, 90.0, 0.0]


def test_gain_and_initial_and_range_apply() -> None:
    dial = DialSettings(min=2700, max=6500, initial=4000, gain=10)
    out = KnobScript(K).turn([12, -12], start=1.0).run(with_dial(dial=dial))
    assert [g["value"] for g in out if "value" in g] == [4120.0, 3880.0]


def test_acceleration_scales_fast_steps() -> None:
    """× (1 + acceleration × |velocity| / 360): 36° at 180 °/s with acceleration 2 counts double."""
    s = KnobScript(K).frame(1.0, "start_rotating", 36, 200)  # 180 °/s
    out = s.run(with_dial(dial=DialSettings(acceleration=2)))
    assert [g["value"] for g in out if "value" in g] == [20.0]


def test_families_have_their_own_dials() -> None:
    """Plain turns move `dial`, turns while held move `held_dial`; each keeps its value."""
    config = with_dial(dial=DialSettings(), held_dial=DialSettings(initial=50))
    s = KnobScript(K).turn([36], start=1.0, pressed=False).turn([36], start=5.0, pressed=True)
    s.turn([36], start=9.0, pressed=False)
    out = s.run(config)
    steps = [(g["gesture"], g["value"]) for g in out if "value" in g]
    assert steps == [("rotate_cw", 10.0), ("rotate_while_held_cw", 60.0), ("rotate_cw", 20.0)]


def test_engine_reports_and_restores_values() -> None:
    """The state has the values; restoring clamps them (the bridge keeps them across restarts)."""
    engine = Engine(with_dial(dial=DialSettings()))
    engine.restore_dial_values(K, {"value": 250.0})
    engine.feed(f"zigbee2mqtt/{K}", {"action": "start_rotating", "action_rotation_angle": -36}, 1.0)
    state = engine.knob_state(K)
    assert state is not None
    assert state["value"] == 90.0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"dial": {"min": 10, "max": 5}},
            "dial: {'min': 10, 'max': 5} max must be greater than min",
        ),
        ({"dial": {"initial": 500}}, "dial: 500 initial must lie within min..max"),
        (
            {"knobs": {"k": {"held_dial": {"acceleration": -1}}}},
            "knobs.k.held_dial.acceleration: -1 is out of range",
        ),
    ],
)
def test_bad_dial_config_names_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        config_from_mapping(data, "k.yaml")
