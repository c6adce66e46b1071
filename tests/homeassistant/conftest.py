"""Fixtures for the blueprint tests, which run in a real Home Assistant.

This suite needs its own virtual environment (``nox -s homeassistant``): Home Assistant's
pins clash with the other hosts'. Anywhere else (the main ``nox -s tests`` run) the folder
is skipped at collection.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

if importlib.util.find_spec("pytest_homeassistant_custom_component") is None:
    # Not in the Home Assistant environment: nothing here can be imported.
    collect_ignore_glob = ["*"]
else:
    from ha_harness import EventPath, MqttPath, ServiceLog, install_blueprints
    from homeassistant.core import HomeAssistant
    from tests.support.mosquitto import Mosquitto

    # Loggers whose warnings or errors mean a blueprint misbehaved.
    WATCHED = ("homeassistant", "pytest_homeassistant_custom_component")

    @pytest.fixture(autouse=True)
    def no_warnings(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
        """Fail a test when Home Assistant logged a warning or an error it did not expect.

        A broken blueprint, a variable that fails to render or a refused service call
        only shows up in the log: the automation itself keeps going. Tests that expect
        such a line assert on it and then call ``caplog.clear()``.
        """
        caplog.set_level(logging.INFO)
        yield
        bad = [
            f"{r.levelname} {r.name}: {r.getMessage()}"
            for r in caplog.get_records("call")
            if r.levelno >= logging.WARNING and r.name.startswith(WATCHED)
        ]
        assert not bad, "unexpected log lines:\n" + "\n".join(bad)

    @pytest.fixture
    def blueprints(hass: HomeAssistant, tmp_path: Path) -> Path:
        """The repository's blueprints, copied into this test's config dir."""
        return install_blueprints(hass, tmp_path / "config")

    @pytest.fixture
    def services(hass: HomeAssistant) -> ServiceLog:
        """Every service the blueprints call, faked with Home Assistant's own schemas."""
        return ServiceLog(
            hass,
            [
                ("light", "turn_on"),
                ("light", "toggle"),
                ("light", "turn_off"),
                ("media_player", "volume_set"),
                ("media_player", "volume_up"),
                ("media_player", "volume_down"),
                ("media_player", "media_play_pause"),
                ("media_player", "media_next_track"),
                ("media_player", "media_previous_track"),
                ("media_player", "media_seek"),
                ("test", "record"),
            ],
        )

    @pytest.fixture
    def broker(socket_enabled: None, tmp_path: Path) -> Iterator[Mosquitto]:
        """A private mosquitto on a free loopback port."""
        with Mosquitto(tmp_path / "mosquitto") as mosquitto:
            yield mosquitto

    @pytest.fixture
    async def mqtt_paths(
        hass: HomeAssistant, broker: Mosquitto, mock_hass_config: None
    ) -> AsyncIterator[Callable[..., Awaitable[MqttPath]]]:
        """Start Home Assistant's MQTT integration on the private broker, as a path."""
        started: list[MqttPath] = []

        async def start(base: str = "knobflow") -> MqttPath:
            mqtt = MqttPath(hass, broker.port, base)
            await mqtt.start()
            started.append(mqtt)
            return mqtt

        yield start
        for mqtt in started:
            await mqtt.stop()

    @pytest.fixture(params=["event", "mqtt"])
    async def path(
        request: pytest.FixtureRequest, hass: HomeAssistant, blueprints: Path
    ) -> AsyncIterator[Any]:
        """Each delivery path in turn: the ``knobflow_gesture`` event, then real MQTT."""
        if request.param == "event":
            yield EventPath(hass)
            return
        # Only synchronous fixtures can be requested from here.
        broker: Mosquitto = request.getfixturevalue("broker")
        request.getfixturevalue("mock_hass_config")
        mqtt = MqttPath(hass, broker.port)
        try:
            await mqtt.start()
            yield mqtt
        finally:
            await mqtt.stop()
