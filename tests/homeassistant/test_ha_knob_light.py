"""knob_light.yaml in real Home Assistant, along both delivery paths."""

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
from homeassistant.components.light import ColorMode, LightEntity, LightEntityFeature
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import setup_test_component_platform

KNOB = "desk_knob"
LIGHT = "light.desk"
TARGET = {"entity_id": [LIGHT]}
RECORD = {
    "action": "test.record",
    "data": {"name": "{{ gesture_name }}", "knob": "{{ knob_name }}"},
}


def set_light(hass: HomeAssistant, state: str = "on", **attrs: Any) -> None:
    """The light's state as a real colour-temperature light reports it."""
    base = {"min_color_temp_kelvin": 2700, "max_color_temp_kelvin": 6500}
    if state == "on":
        base |= {"brightness": 102, "color_temp_kelvin": 4000, "color_mode": "color_temp"}
    hass.states.async_set(LIGHT, state, base | attrs)


async def start(hass: HomeAssistant, path: Any, **inputs: Any) -> None:
    """The automation for KNOB and LIGHT (a 40 % light at 4000 K unless one exists)."""
    if hass.states.get(LIGHT) is None:
        set_light(hass)
    await setup_automations(
        hass,
        automation_config(
            "desk light", "knob_light", knob=KNOB, light=LIGHT, **path.inputs, **inputs
        ),
    )
    await path.ready(KNOB)


async def test_turn_steps_brightness_by_delta_times_gain(
    hass: HomeAssistant, blueprints: Any, services: ServiceLog, path: Any
) -> None:
    """Each step of a turn is one brightness_step_pct of delta × gain, with the transition."""
    await start(hass, path)
    await path.send(*turn(KNOB, 24, 48, -12))
    assert services.take() == [
        ("light", "turn_on", {**TARGET, "brightness_step_pct": 6.0, "transition": 0.5}),
        ("light", "turn_on", {**TARGET, "brightness_step_pct": 12.0, "transition": 0.5}),
        ("light", "turn_on", {**TARGET, "brightness_step_pct": -3.0, "transition": 0.5}),
    ]


async def test_gain_and_transition_inputs(
    hass: HomeAssistant, blueprints: Any, services: ServiceLog, path: Any
) -> None:
    """The gain and transition inputs shape the step."""
    await start(hass, path, brightness_gain=0.5, transition=0.2)
    await path.send(*turn(KNOB, -24))
    assert services.take() == [
        ("light", "turn_on", {**TARGET, "brightness_step_pct": -12.0, "transition": 0.2}),
    ]


async def test_turn_down_stops_at_minimum_and_never_turns_off(
    hass: HomeAssistant, blueprints: Any, services: ServiceLog, path: Any
) -> None:
    """A step down is cut at the minimum brightness; at the minimum it does nothing."""
    await start(hass, path, min_brightness=5)
    set_light(hass, brightness=26)  # 10 %
    await path.send(*turn(KNOB, -48))  # -12 %, cut to -5 %
    set_light(hass, brightness=13)  # 5 %
    await path.send(*turn(KNOB, -48))
    set_light(hass, brightness=8)  # 3 %, below the minimum: not raised by a turn down
    await path.send(*turn(KNOB, -12))
    assert services.take() == [
        ("light", "turn_on", {**TARGET, "brightness_step_pct": -5.0, "transition": 0.5}),
    ]


async def test_turn_up_at_full_brightness_does_nothing(
    hass: HomeAssistant, blueprints: Any, services: ServiceLog, path: Any
) -> None:
    """At 100 % a step up is cut to nothing; near it, to what is left."""
    await start(hass, path)
    set_light(hass, brightness=255)
    await path.send(*turn(KNOB, 24))
    set_light(hass, brightness=250)  # 98 %
    await path.send(*turn(KNOB, 24))
    assert services.take() == [
        ("light", "turn_on", {**TARGET, "brightness_step_pct": 2.0, "transition": 0.5}),
    ]


async def test_turn_on_an_off_light(
    hass: HomeAssistant, blueprints: Any, services: ServiceLog, path: Any
) -> None:
    """Turning up an off light switches it on (at least at the minimum); down does nothing."""
    await start(hass, path, min_brightness=5)
    set_light(hass, "off")
    await path.send(*turn(KNOB, -24))
    await path.send(*turn(KNOB, 12))  # 3 %, raised to the 5 % minimum
    assert services.take() == [
        ("light", "turn_on", {**TARGET, "brightness_step_pct": 5.0, "transition": 0.5}),
    ]


async def test_held_turn_sets_colour_temperature(
    hass: HomeAssistant, blueprints: Any, services: ServiceLog, path: Any
) -> None:
    """Each held step sets color_temp_kelvin to current + delta × gain."""
    await start(hass, path)
    await path.send(*turn(KNOB, 24, held=True))
    set_light(hass, color_temp_kelvin=4240)
    await path.send(*turn(KNOB, -36, held=True))
    assert services.take() == [
        ("light", "turn_on", {**TARGET, "color_temp_kelvin": 4240, "transition": 0.5}),
        ("light", "turn_on", {**TARGET, "color_temp_kelvin": 3880, "transition": 0.5}),
    ]


async def test_held_turn_stays_within_the_light_and_input_limits(
    hass: HomeAssistant, blueprints: Any, services: ServiceLog, path: Any
) -> None:
    """Kelvin is clamped to the light's own range and to the inputs; at a limit, no call."""
    await start(hass, path, max_kelvin=5000, kelvin_gain=-20)
    set_light(hass, color_temp_kelvin=2800)
    await path.send(*turn(KNOB, 24, held=True))  # -480 K: the light's minimum is 2700
    set_light(hass, color_temp_kelvin=4900)
    await path.send(*turn(KNOB, -24, held=True))  # +480 K: the input's maximum is 5000
    set_light(hass, color_temp_kelvin=2700)
    await path.send(*turn(KNOB, 12, held=True))  # already at the minimum
    assert services.take() == [
        ("light", "turn_on", {**TARGET, "color_temp_kelvin": 2700, "transition": 0.5}),
        ("light", "turn_on", {**TARGET, "color_temp_kelvin": 5000, "transition": 0.5}),
    ]


async def test_held_turn_from_a_colour_mode_starts_mid_range_and_ignores_an_off_light(
    hass: HomeAssistant, blueprints: Any, services: ServiceLog, path: Any
) -> None:
    """With no current kelvin the step starts from the middle of the range; off: nothing."""
    await start(hass, path)
    set_light(hass, color_temp_kelvin=None, color_mode="hs")
    await path.send(*turn(KNOB, 12, held=True))  # (2700 + 6500) / 2 + 120
    set_light(hass, "off")
    await path.send(*turn(KNOB, 12, held=True))
    assert services.take() == [
        ("light", "turn_on", {**TARGET, "color_temp_kelvin": 4720, "transition": 0.5}),
    ]


async def test_press_toggles_and_double_press_is_full_brightness(
    hass: HomeAssistant, blueprints: Any, services: ServiceLog, path: Any
) -> None:
    """Press toggles the light; double press sets 100 % with the transition."""
    await start(hass, path)
    await path.send(gesture(KNOB, "press"), gesture(KNOB, "double_press"))
    assert services.take() == [
        ("light", "toggle", TARGET),
        ("light", "turn_on", {**TARGET, "brightness_pct": 100.0, "transition": 0.5}),
    ]


async def test_fast_spins_and_long_press_run_their_actions(
    hass: HomeAssistant, blueprints: Any, services: ServiceLog, path: Any
) -> None:
    """A fast spin runs its action after its step's brightness change; long press its own."""
    await start(
        hass,
        path,
        fast_spin_cw_action=[RECORD | {"data": RECORD["data"] | {"v": "{{ gesture.velocity }}"}}],
        fast_spin_ccw_action=[RECORD],
        long_press_action=[RECORD | {"data": RECORD["data"] | {"ms": "{{ gesture.held_ms }}"}}],
    )
    steps = turn(KNOB, 96, -96)
    await path.send(
        steps[0],
        steps[1],
        fast_spin(KNOB, 480.0, 96),
        steps[2],
        fast_spin(KNOB, -480.0, 0),
        steps[3],
        gesture(KNOB, "hold"),
        gesture(KNOB, "release", held_ms=1200.0, rotated=False, reason="device"),
        gesture(KNOB, "long_press", held_ms=1200.0),
    )
    assert services.take() == [
        ("light", "turn_on", {**TARGET, "brightness_step_pct": 24.0, "transition": 0.5}),
        ("test", "record", {"name": "fast_spin_cw", "knob": KNOB, "v": 480.0}),
        ("light", "turn_on", {**TARGET, "brightness_step_pct": -24.0, "transition": 0.5}),
        ("test", "record", {"name": "fast_spin_ccw", "knob": KNOB}),
        ("test", "record", {"name": "long_press", "knob": KNOB, "ms": 1200.0}),
    ]


async def test_fast_spin_without_an_action_only_steps(
    hass: HomeAssistant, blueprints: Any, services: ServiceLog, path: Any
) -> None:
    """With the optional actions left empty, a fast spin and a long press do nothing."""
    await start(hass, path)
    steps = turn(KNOB, 96)
    await path.send(
        steps[0], steps[1], fast_spin(KNOB, 480.0, 96), steps[2],
        gesture(KNOB, "long_press", held_ms=900.0),
    )  # fmt: skip
    assert services.take() == [
        ("light", "turn_on", {**TARGET, "brightness_step_pct": 24.0, "transition": 0.5}),
    ]


class DimmableLight(LightEntity):
    """A colour-temperature light handled by Home Assistant's real light integration."""

    _attr_has_entity_name = False
    _attr_supported_color_modes = frozenset({ColorMode.COLOR_TEMP})
    _attr_color_mode = ColorMode.COLOR_TEMP
    _attr_min_color_temp_kelvin = 2700
    _attr_max_color_temp_kelvin = 6500
    _attr_should_poll = False
    _attr_supported_features = LightEntityFeature.TRANSITION

    def __init__(self, brightness: int) -> None:
        self._attr_name = "desk"
        self._attr_unique_id = "desk"
        self._attr_is_on = True
        self._attr_brightness = brightness
        self._attr_color_temp_kelvin = 4000
        self.commands: list[tuple[str, dict[str, Any]]] = []

    async def async_turn_on(self, **kwargs: Any) -> None:
        self.commands.append(("on", kwargs))
        self._attr_is_on = True
        self._attr_brightness = kwargs.get("brightness", self._attr_brightness)
        self._attr_color_temp_kelvin = kwargs.get("color_temp_kelvin", self._attr_color_temp_kelvin)
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        self.commands.append(("off", kwargs))
        self._attr_is_on = False
        self.async_write_ha_state()


async def test_a_real_light_is_never_turned_off_by_turning_down(
    hass: HomeAssistant, blueprints: Any, path: Any
) -> None:
    """Against Home Assistant's own light integration, a long turn down ends at the minimum.

    The light integration turns brightness_step_pct into an absolute brightness with its
    own rounding (and turns the light off at 0): the clamp must agree with it.
    """
    light = DimmableLight(brightness=40)  # 16 %
    setup_test_component_platform(hass, "light", [light])
    assert await async_setup_component(hass, "light", {"light": {"platform": "test"}})
    await start(hass, path, min_brightness=2, brightness_gain=1)
    await path.send(*turn(KNOB, -12, -12, -12))
    state = hass.states.get(LIGHT)
    assert state is not None
    assert state.state == "on"
    assert state.attributes["brightness"] == 5  # round(2 % of 255)
    assert light.commands == [
        ("on", {"brightness": 10, "transition": 0.5}),  # 16 % - 12 % = 4 %
        ("on", {"brightness": 5, "transition": 0.5}),  # cut at 2 %
    ]
    await path.send(gesture(KNOB, "press"), *turn(KNOB, 24, held=True))
    assert hass.states.is_state(LIGHT, "off")
    await path.send(*turn(KNOB, 12))  # turning up switches it on again
    assert light.commands[2:] == [("off", {}), ("on", {"brightness": 31, "transition": 0.5})]
