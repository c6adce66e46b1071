"""The lifecycle rules of docs/contract.md §3, one behaviour per test, on a virtual clock.

Expected values are worked out by hand from docs/contract.md, not taken from the engine.
"""

from __future__ import annotations

from typing import Any

from knobflow.engine import EngineConfig, KnobSettings
from knobflow.testing import KnobScript, gestures_differ


def names(gestures: list[dict[str, Any]]) -> list[str]:
    return [g["gesture"] for g in gestures]


def only(gestures: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [g for g in gestures if g["gesture"] == name]


def assert_stream(actual: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    problem = gestures_differ(expected, actual)
    assert problem is None, problem


K = "knob"


def g(gesture: str, t: float, **fields: Any) -> dict[str, Any]:
    return {"knob": K, "gesture": gesture, "t": t, **fields}


# -- button ---------------------------------------------------------------------


def test_single_and_double_become_press_and_double_press() -> None:
    """`single` is a press and `double` a double press, at the message's time."""
    out = KnobScript(K).press(1.0).double(2.25).run()
    assert_stream(out, [g("press", 1.0), g("double_press", 2.25)])


def test_hold_then_release_gives_release_and_long_press() -> None:
    """A hold without turning ends in release (rotated false) then long_press, both with held_ms."""
    out = KnobScript(K).hold(1.0).release(2.5).run()
    assert_stream(
        out,
        [
            g("hold", 1.0),
            g("release", 2.5, held_ms=1500.0, rotated=False, reason="release"),
            g("long_press", 2.5, held_ms=1500.0),
        ],
    )


def test_hold_timeout_releases_without_long_press() -> None:
    """Held with no release for hold_timeout_ms: release with reason timeout, no long_press,
    and the late device release then emits nothing."""
    out = KnobScript(K).hold(1.0).release(70.0).run()
    assert_stream(
        out,
        [g("hold", 1.0), g("release", 61.0, held_ms=60000.0, rotated=False, reason="timeout")],
    )


def test_second_hold_while_held_is_ignored() -> None:
    """A hold while one is open changes nothing: held_ms counts from the first."""
    out = KnobScript(K).hold(1.0).hold(2.0).release(3.0).run()
    assert names(out) == ["hold", "release", "long_press"]
    assert out[1]["held_ms"] == 2000.0


def test_release_without_hold_emits_nothing() -> None:
    """A release with no open hold is dropped."""
    assert KnobScript(K).release(1.0).run() == []


# -- dial -----------------------------------------------------------------------


def test_start_while_open_closes_the_open_rotation_and_counts_from_zero() -> None:
    """Rule 1: start_rotating during a rotation stops it (reason device); the new one counts from 0."""
    s = KnobScript(K)
    s.frame(1.0, "start_rotating", 12, 200, pressed=False)
    s.frame(1.5, "rotation", 36, 700, pressed=False)
    s.frame(2.0, "start_rotating", 24, 200, pressed=False)
    s.frame(2.5, "stop_rotating", 24, 700, pressed=False)
    out = s.run()
    assert_stream(
        out,
        [
            g("rotate_start", 1.0, direction="cw", angle=12),
            g("rotate_cw", 1.0, delta=12, angle=12, velocity=60.0, direction="cw"),
            g("rotate_cw", 1.5, delta=24, angle=36, velocity=48.0, direction="cw"),
            g("rotate_stop", 2.0, angle=36, duration_ms=1000.0, direction="cw", reason="device"),
            g("rotate_start", 2.0, direction="cw", angle=24),
            g("rotate_cw", 2.0, delta=24, angle=24, velocity=120.0, direction="cw"),
            g("rotate_stop", 2.5, angle=24, duration_ms=500.0, direction="cw", reason="device"),
        ],
    )


def test_lost_start_opens_a_rotation_with_the_cumulative_angle_as_first_step() -> None:
    """A rotation frame with no open rotation opens one; its step is the whole cumulative angle
    and its velocity uses the frame's own action_rotation_time."""
    out = KnobScript(K).frame(1.0, "rotation", -36, 700, pressed=False).run()
    assert_stream(
        out,
        [
            g("rotate_start", 1.0, direction="ccw", angle=-36),
            g(
                "rotate_ccw",
                1.0,
                delta=-36,
                angle=-36,
                velocity=round(-36 / 0.7, 6),
                direction="ccw",
            ),
            g("rotate_stop", 2.5, angle=-36, duration_ms=1500.0, direction="ccw", reason="timeout"),
        ],
    )


def test_rotation_frames_in_the_settle_window_are_stray() -> None:
    """After a stop, rotation frames within settle_ms are ignored; one exactly settle_ms
    after the stop is a lost start (rule 7)."""
    s = KnobScript(K).turn([12], start=1.0)  # stop at 1.5
    s.frame(1.6, "rotation", 24, 800, pressed=False)  # stray
    s.frame(1.8, "rotation", 36, 1000, pressed=False)  # exactly 300 ms: a lost start
    out = s.run()
    assert names(out) == [
        "rotate_start", "rotate_cw", "rotate_stop",
        "rotate_start", "rotate_cw", "rotate_stop",
    ]  # fmt: skip
    assert out[3] == g("rotate_start", 1.8, direction="cw", angle=36)
    assert out[4]["delta"] == 36


def test_start_rotating_in_the_settle_window_opens_a_rotation() -> None:
    """The settle window only filters `rotation` frames, not a new start."""
    s = KnobScript(K).turn([12], start=1.0)
    s.frame(1.6, "start_rotating", 12, 200, pressed=False)
    assert names(s.run())[3:5] == ["rotate_start", "rotate_cw"]


def test_lone_stop_outside_the_window_gives_start_step_and_stop() -> None:
    """A stop_rotating with nothing open and a non-zero angle: start, step, stop (duration 0)."""
    out = KnobScript(K).frame(5.0, "stop_rotating", 24, 300, pressed=False).run()
    assert_stream(
        out,
        [
            g("rotate_start", 5.0, direction="cw", angle=24),
            g("rotate_cw", 5.0, delta=24, angle=24, velocity=80.0, direction="cw"),
            g("rotate_stop", 5.0, angle=24, duration_ms=0.0, direction="cw", reason="device"),
        ],
    )


def test_lone_stop_inside_the_window_or_without_angle_is_ignored() -> None:
    """A lone stop within settle_ms of a stop, or with a zero/absent angle, emits nothing."""
    s = KnobScript(K).turn([12], start=1.0)  # stop at 1.5
    s.frame(1.7, "stop_rotating", 48, 1200, pressed=False)
    s.frame(5.0, "stop_rotating", None, 300, pressed=False)
    s.frame(6.0, "stop_rotating", 0, 400, pressed=False)
    assert len(s.run()) == 3


def test_stop_frame_with_movement_gives_the_step_before_the_stop() -> None:
    """A stop frame whose angle moved past the last rotation frame: step first, then stop."""
    s = KnobScript(K)
    s.frame(1.0, "start_rotating", 12, 200, pressed=False)
    s.frame(1.5, "stop_rotating", 30, 700, pressed=False)
    out = s.run()
    assert names(out) == ["rotate_start", "rotate_cw", "rotate_cw", "rotate_stop"]
    assert out[2]["delta"] == 18
    assert out[3]["angle"] == 30


def test_button_change_mid_turn_closes_and_opens_the_other_family() -> None:
    """A pressed frame during a released turn: stop (button_change) at the last angle, then a
    held start counting from the previous frame, whose step uses the previous frame's times."""
    s = KnobScript(K)
    s.frame(1.0, "start_rotating", 12, 200, pressed=False)
    s.frame(1.5, "rotation", 36, 700, pressed=False)
    s.frame(2.0, "rotation", 60, 1100, pressed=True)
    s.frame(2.5, "stop_rotating", 60, 1600, pressed=True)
    out = s.run()
    assert_stream(
        out,
        [
            g("rotate_start", 1.0, direction="cw", angle=12),
            g("rotate_cw", 1.0, delta=12, angle=12, velocity=60.0, direction="cw"),
            g("rotate_cw", 1.5, delta=24, angle=36, velocity=48.0, direction="cw"),
            g("rotate_stop", 2.0, angle=36, duration_ms=1000.0, direction="cw", reason="button_change"),
            g("rotate_while_held_start", 2.0, direction="cw", angle=24),
            g("rotate_while_held_cw", 2.0, delta=24, angle=24, velocity=60.0, direction="cw"),
            g(
                "rotate_while_held_stop", 2.5, angle=24, duration_ms=500.0, direction="cw",
                reason="device",
            ),
        ],
    )  # fmt: skip


def test_stop_frame_with_other_button_state_closes_opens_and_stops() -> None:
    """Rule 2: a stop frame whose held state differs: button_change stop, the other family's
    start, then its stop (device), even with no new movement."""
    s = KnobScript(K)
    s.frame(1.0, "start_rotating", 12, 200, pressed=True)
    s.frame(1.5, "stop_rotating", 12, 700, pressed=False)
    out = s.run()
    assert_stream(
        out,
        [
            g("rotate_while_held_start", 1.0, direction="cw", angle=12),
            g("rotate_while_held_cw", 1.0, delta=12, angle=12, velocity=60.0, direction="cw"),
            g(
                "rotate_while_held_stop", 1.5, angle=12, duration_ms=500.0, direction="cw",
                reason="button_change",
            ),
            g("rotate_start", 1.5, direction="cw", angle=0),
            g("rotate_stop", 1.5, angle=0, duration_ms=0.0, direction="cw", reason="device"),
        ],
    )  # fmt: skip


def test_release_closes_an_open_held_rotation_first() -> None:
    """release stops the held turn (reason release), then release with rotated true, no long_press."""
    s = KnobScript(K).hold(1.0)
    s.frame(1.5, "start_rotating", -12, 200, pressed=True)
    s.release(2.0)
    out = s.run()
    assert_stream(
        out,
        [
            g("hold", 1.0),
            g("rotate_while_held_start", 1.5, direction="ccw", angle=-12),
            g("rotate_while_held_ccw", 1.5, delta=-12, angle=-12, velocity=-60.0, direction="ccw"),
            g(
                "rotate_while_held_stop", 2.0, angle=-12, duration_ms=500.0, direction="ccw",
                reason="release",
            ),
            g("release", 2.0, held_ms=1000.0, rotated=True, reason="release"),
        ],
    )  # fmt: skip


def test_release_without_hold_still_closes_a_held_rotation() -> None:
    """A release with no open hold closes an open held rotation and emits nothing else."""
    s = KnobScript(K).frame(1.0, "start_rotating", 12, 200, pressed=True).release(1.4)
    assert names(s.run()) == [
        "rotate_while_held_start",
        "rotate_while_held_cw",
        "rotate_while_held_stop",
    ]


def test_released_turn_during_a_hold_does_not_count_as_rotated() -> None:
    """Rule 6: only held-family rotations make `rotated` true."""
    s = KnobScript(K).hold(1.0).turn([12], start=1.2, pressed=False).release(3.0)
    out = s.run()
    assert only(out, "release")[0]["rotated"] is False
    assert names(out)[-1] == "long_press"


def test_hold_while_a_held_rotation_is_open_counts_as_rotated() -> None:
    """A hold arriving after a pressed turn began (order unverified on the device) still counts."""
    s = KnobScript(K).frame(1.0, "start_rotating", 12, 200, pressed=True).hold(1.2).release(3.0)
    assert only(s.run(), "release")[0]["rotated"] is True


def test_frames_without_button_state_are_held_while_a_hold_is_open() -> None:
    """Precedence 2: no button state, hold open: the frame belongs to the held family."""
    s = KnobScript(K).hold(1.0).frame(1.5, "start_rotating", 12, 200).release(2.0)
    assert names(s.run())[1] == "rotate_while_held_start"


def test_duplicate_frames_are_dropped_and_do_not_extend_the_timeout() -> None:
    """Same action, angle and time as the previous rotation frame: dropped; the timeout
    still counts from the original frame."""
    s = KnobScript(K)
    s.frame(1.0, "start_rotating", 12, 200, pressed=False)
    s.frame(1.5, "rotation", 36, 700, pressed=False)
    s.frame(2.5, "rotation", 36, 700, pressed=False)
    out = s.run()
    assert names(out) == ["rotate_start", "rotate_cw", "rotate_cw", "rotate_stop"]
    assert out[-1]["t"] == 3.0
    assert out[-1]["reason"] == "timeout"


def test_duplicate_of_an_old_stop_is_not_a_lone_stop() -> None:
    """A stop frame repeated long after (a retransmission) is a duplicate, not a new turn."""
    s = KnobScript(K).turn([12, 36], start=1.0)  # stop at 2.0 (36, 1200)
    s.frame(9.0, "stop_rotating", 36, 1200, pressed=False)
    assert names(s.run()) == ["rotate_start", "rotate_cw", "rotate_cw", "rotate_stop"]


def test_frame_without_angle_keeps_the_previous_angle() -> None:
    """A rotation frame without action_rotation_angle makes no step but keeps the turn alive."""
    s = KnobScript(K)
    s.frame(1.0, "start_rotating", 12, 200, pressed=False)
    s.frame(2.0, "rotation", None, 1200, pressed=False)
    out = s.run()
    assert names(out) == ["rotate_start", "rotate_cw", "rotate_stop"]
    assert out[-1]["t"] == 3.5


def test_velocity_falls_back_to_arrival_time_then_to_200_ms() -> None:
    """Rule 4: without device times the arrival difference is used; with neither, 200 ms."""
    s = KnobScript(K)
    s.frame(1.0, "start_rotating", 12, None, pressed=False)  # first frame, no time: 200 ms
    s.frame(1.25, "rotation", 24, None, pressed=False)  # arrival difference 250 ms
    s.frame(1.25, "rotation", 36, 500, pressed=False)  # same arrival, previous has no time: 200 ms
    s.frame(1.75, "rotation", 48, 400, pressed=False)  # device time went back: arrival 500 ms
    out = only(s.run(), "rotate_cw")
    assert [x["velocity"] for x in out] == [60.0, 48.0, 60.0, 24.0]


def test_fast_spin_once_per_rotation_and_direction() -> None:
    """fast_spin_cw at the first fast clockwise step only; a fast reverse adds fast_spin_ccw."""
    s = KnobScript(K)
    s.frame(1.0, "start_rotating", 36, 200, pressed=False)  # 180 °/s
    s.frame(1.5, "rotation", 252, 700, pressed=False)  # 432 °/s
    s.frame(2.0, "rotation", 492, 1200, pressed=False)  # 480 °/s, no second fast_spin_cw
    s.frame(2.5, "rotation", 252, 1700, pressed=False)  # -480 °/s
    s.frame(3.0, "stop_rotating", 252, 2200, pressed=False)
    out = s.run()
    assert names(out).count("fast_spin_cw") == 1
    assert names(out).count("fast_spin_ccw") == 1
    assert only(out, "fast_spin_cw")[0] == g(
        "fast_spin_cw", 1.5, velocity=432.0, angle=252, held=False
    )
    assert names(out).index("fast_spin_cw") == names(out).index("rotate_cw") + 2


def test_fast_spin_compares_the_rounded_velocity() -> None:
    """Rule 11: 396° in 1100 ms is exactly 360 °/s: a fast spin at the default threshold."""
    s = KnobScript(K)
    s.frame(1.0, "start_rotating", 12, 200, pressed=True)
    s.frame(2.1, "rotation", 408, 1300, pressed=True)
    out = s.run()
    assert only(out, "fast_spin_cw") == [
        g("fast_spin_cw", 2.1, velocity=360.0, angle=408, held=True)
    ]


def test_old_converter_frames_are_held_starts_even_in_the_settle_window() -> None:
    """Rule 3: a frame with a numeric angle and no action is held; it starts a rotation when
    none is open, settle window or not."""
    s = KnobScript(K).turn([12], start=1.0)  # stop at 1.5
    s.frame(1.6, None, 24, 200)
    out = s.run()
    assert names(out)[3:] == [
        "rotate_while_held_start",
        "rotate_while_held_cw",
        "rotate_while_held_stop",
    ]
    assert out[-1]["reason"] == "timeout"


def test_hold_timeout_leaves_a_held_rotation_open() -> None:
    """Rule 8: the hold timeout releases the button but the held turn ends by its own timeout."""
    s = KnobScript(K).hold(0.0)
    s.frame(59.0, "start_rotating", 12, 200, pressed=True)
    s.frame(59.9, "rotation", 24, 700, pressed=True)
    out = s.run()
    assert names(out) == [
        "hold", "rotate_while_held_start", "rotate_while_held_cw", "rotate_while_held_cw",
        "release", "rotate_while_held_stop",
    ]  # fmt: skip
    assert out[4]["reason"] == "timeout"
    assert out[4]["rotated"] is True
    assert out[5]["t"] == 61.4


def test_timers_fire_before_a_message_at_the_same_time() -> None:
    """Rule 8: a deadline equal to a message's time fires first (13.723 + 0.3 == 14.023)."""
    s = KnobScript(K)
    s.frame(12.223, "start_rotating", 12, 200, pressed=False)  # timeout at 13.723
    s.frame(14.023, "rotation", 24, 700, pressed=False)  # exactly settle_ms after: lost start
    out = s.run()
    assert names(out) == [
        "rotate_start", "rotate_cw", "rotate_stop",
        "rotate_start", "rotate_cw", "rotate_stop",
    ]  # fmt: skip
    assert out[2]["t"] == 13.723


def test_a_message_at_a_deadline_comes_after_the_timer() -> None:
    """Rule 8: a frame arriving exactly at the rotation timeout finds the turn already
    stopped (and falls in the settle window)."""
    s = KnobScript(K)
    s.frame(1.0, "start_rotating", 12, 200, pressed=False)
    s.frame(2.5, "rotation", 24, 700, pressed=False)
    out = s.run()
    assert names(out) == ["rotate_start", "rotate_cw", "rotate_stop"]
    assert out[-1]["reason"] == "timeout"
    assert out[-1]["t"] == 2.5


def test_simultaneous_timers_fire_by_knob_first_seen_then_rotation_before_hold() -> None:
    """Rule 8: equal deadlines (within 1 µs) fire knob by knob in first-seen order, and
    within a knob the rotation timeout before the hold timeout."""
    settings = KnobSettings(rotation_timeout_ms=1000, hold_timeout_ms=1500)
    config = EngineConfig(defaults=settings, explicit=("a", "b"))
    a, b = KnobScript("a"), KnobScript("b")
    b.hold(0.5)  # b is seen first; its hold times out at 2.0
    a.hold(0.5000004)  # within a microsecond of 0.5
    a.frame(1.0, "start_rotating", 12, 200, pressed=False)  # rotation timeouts at 2.0
    b.frame(1.0, "start_rotating", 12, 200, pressed=False)
    from knobflow.testing import replay_records

    out = replay_records(
        sorted(b.records[:1] + a.records + b.records[1:], key=lambda r: r.t), config
    )
    timed = [(x["knob"], x["gesture"]) for x in out if x.get("reason") == "timeout"]
    assert timed == [
        ("b", "rotate_stop"), ("b", "release"), ("a", "rotate_stop"), ("a", "release"),
    ]  # fmt: skip


def test_knobs_do_not_influence_each_other() -> None:
    """Interleaved turns of two knobs give each knob exactly its own gestures."""
    config = EngineConfig(explicit=("a", "b"))
    one = KnobScript("a").turn([12, 36], start=1.0).hold(5.0).release(6.0)
    two = KnobScript("b").turn([-12, -36, -60], start=1.2, pressed=True)
    from knobflow.testing import replay_records

    both = replay_records(sorted(one.records + two.records, key=lambda r: r.t), config)
    alone_a = one.run(config)
    alone_b = two.run(config)
    assert gestures_differ(alone_a, [x for x in both if x["knob"] == "a"]) is None
    assert gestures_differ(alone_b, [x for x in both if x["knob"] == "b"]) is None


def test_settings_per_knob_apply() -> None:
    """A knob's own rotation_timeout_ms replaces the default for that knob only."""
    config = EngineConfig(
        knobs={"slow": KnobSettings(rotation_timeout_ms=5000)}, explicit=("fast",)
    )
    a = KnobScript("slow").frame(1.0, "start_rotating", 12, 200).run(config)
    b = KnobScript("fast").frame(1.0, "start_rotating", 12, 200).run(config)
    assert a[-1]["t"] == 6.0
    assert b[-1]["t"] == 2.5


def test_percent_is_passed_through_when_sent() -> None:
    """`percent` appears on steps only when the frame carries action_rotation_percent."""
    s = KnobScript(K)
    s.frame(1.0, "start_rotating", 12, 200, percent=3.3333332538604736)
    s.frame(1.5, "rotation", 24, 700)
    steps = only(s.run(), "rotate_cw")
    assert steps[0]["percent"] == 3.3333332538604736
    assert "percent" not in steps[1]
