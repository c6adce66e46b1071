"""knob_media.yaml in real Home Assistant, along both delivery paths."""

from __future__ import annotations

from typing import Any

from ha_harness import (
    ServiceLog,
    automation_config,
    fast_spin,
    gesture,
    setup_automations,
    turn,
)
from homeassistant.core import HomeAssistant

KNOB = "living_room_knob"
PLAYER = "media_player.living_room"
TARGET = {"entity_id": [PLAYER]}
RECORD = {
    "action": "test.record",
    "data": {"name": "{{ gesture_name }}", "knob": "{{ knob_name }}"},
}


def set_player(hass: HomeAssistant, state: str = "playing", **attrs: Any) -> None:
    base = {"volume_level": 0.5, "is_volume_muted": False} if state != "off" else {}
    hass.states.async_set(PLAYER, state, base | attrs)


async def start(hass: HomeAssistant, path: Any, **inputs: Any) -> None:
    """The automation for KNOB and PLAYER (playing at volume 0.5)."""
    set_player(hass)
    await setup_automations(
        hass,
        automation_config(
            "living room media",
            "knob_media",
            knob=KNOB,
            media_player=PLAYER,
            **path.inputs,
            **inputs,
        ),
    )
    await path.ready(KNOB)


async def test_turn_sets_volume_from_current_plus_delta_times_gain(
    hass: HomeAssistant, blueprints: Any, services: ServiceLog, path: Any
) -> None:
    """Each step sets the volume to the current level + delta × gain (0.2 %/° by default)."""
    await start(hass, path)
    await path.send(*turn(KNOB, 24, -12))
    assert services.take() == [
        ("media_player", "volume_set", {**TARGET, "volume_level": 0.548}),
        ("media_player", "volume_set", {**TARGET, "volume_level": 0.476}),
    ]


async def test_volume_stays_within_zero_and_one(
    hass: HomeAssistant, blueprints: Any, services: ServiceLog, path: Any
) -> None:
    """Steps are clamped to 0..1; at a limit, or with no volume reported, nothing is sent."""
    await start(hass, path, volume_gain=1)
    set_player(hass, volume_level=0.95)
    await path.send(*turn(KNOB, 12))
    set_player(hass, volume_level=1.0)
    await path.send(*turn(KNOB, 12))
    set_player(hass, volume_level=0.05)
    await path.send(*turn(KNOB, -12))
    set_player(hass, volume_level=0.0)
    await path.send(*turn(KNOB, -12))
    set_player(hass, "off")
    await path.send(*turn(KNOB, 12))
    assert services.take() == [
        ("media_player", "volume_set", {**TARGET, "volume_level": 1.0}),
        ("media_player", "volume_set", {**TARGET, "volume_level": 0.0}),
    ]


async def test_held_turn_skips_one_track_by_the_sign_of_its_angle(
    hass: HomeAssistant, blueprints: Any, services: ServiceLog, path: Any
) -> None:
    """One track per held turn, when it stops: clockwise next, counter-clockwise previous."""
    await start(hass, path)
    await path.send(*turn(KNOB, 24, 24, 24, held=True))
    await path.send(*turn(KNOB, -12, -24, held=True))
    await path.send(*turn(KNOB, 24, -24, held=True))  # net 0°: nothing
    assert services.take() == [
        ("media_player", "media_next_track", TARGET),
        ("media_player", "media_previous_track", TARGET),
    ]


async def test_held_turn_threshold(
    hass: HomeAssistant, blueprints: Any, services: ServiceLog, path: Any
) -> None:
    """A held turn smaller than the threshold skips nothing."""
    await start(hass, path, track_threshold=36)
    await path.send(*turn(KNOB, 24, held=True))
    await path.send(*turn(KNOB, -24, -12, held=True))
    assert services.take() == [("media_player", "media_previous_track", TARGET)]


async def test_press_plays_or_pauses_and_double_press_is_next_track(
    hass: HomeAssistant, blueprints: Any, services: ServiceLog, path: Any
) -> None:
    """Press is play/pause, double press the next track."""
    await start(hass, path)
    await path.send(gesture(KNOB, "press"), gesture(KNOB, "double_press"))
    assert services.take() == [
        ("media_player", "media_play_pause", TARGET),
        ("media_player", "media_next_track", TARGET),
    ]


async def test_fast_spins_and_long_press_run_their_actions(
    hass: HomeAssistant, blueprints: Any, services: ServiceLog, path: Any
) -> None:
    """A fast spin runs its action after its step's volume change; long press its own."""
    await start(
        hass,
        path,
        fast_spin_cw_action=[RECORD | {"data": RECORD["data"] | {"v": "{{ gesture.velocity }}"}}],
        fast_spin_ccw_action=[RECORD],
        long_press_action=[RECORD],
    )
    cw = turn(KNOB, 96)
    ccw = turn(KNOB, -96)
    await path.send(
        cw[0], cw[1], fast_spin(KNOB, 480.0, 96), cw[2],
        ccw[0], ccw[1], fast_spin(KNOB, -480.0, -96), ccw[2],
        gesture(KNOB, "long_press", held_ms=1500.0),
    )  # fmt: skip
    assert services.take() == [
        ("media_player", "volume_set", {**TARGET, "volume_level": 0.692}),
        ("test", "record", {"name": "fast_spin_cw", "knob": KNOB, "v": 480.0}),
        ("media_player", "volume_set", {**TARGET, "volume_level": 0.308}),
        ("test", "record", {"name": "fast_spin_ccw", "knob": KNOB}),
        ("test", "record", {"name": "long_press", "knob": KNOB}),
    ]


async def test_fast_spin_without_an_action_only_changes_volume(
    hass: HomeAssistant, blueprints: Any, services: ServiceLog, path: Any
) -> None:
    """With the optional actions left empty, a fast spin only steps the volume."""
    await start(hass, path)
    cw = turn(KNOB, 96)
    await path.send(cw[0], cw[1], fast_spin(KNOB, 480.0, 96), cw[2])
    assert services.take() == [
        ("media_player", "volume_set", {**TARGET, "volume_level": 0.692}),
    ]
