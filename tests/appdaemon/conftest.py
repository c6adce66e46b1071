"""Fixtures for the AppDaemon app's tests: real AppDaemon 4.5 against a private mosquitto.

This suite needs AppDaemon's own virtual environment (``nox -s appdaemon``); anywhere
else each test module skips itself, with that reason shown.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import pytest

if importlib.util.find_spec("appdaemon") is not None:
    from ad_harness import TestClient
    from tests.support.mosquitto import Mosquitto

    @pytest.fixture(scope="module")
    def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
        """A private mosquitto on a free loopback port."""
        with Mosquitto(tmp_path_factory.mktemp("mosquitto")) as mosquitto:
            yield mosquitto

    @pytest.fixture(scope="module")
    def client(broker: Mosquitto) -> Iterator[TestClient]:
        """Publishes Zigbee2MQTT payloads; collects ``knobflow/#`` and ``test/#``."""
        test_client = TestClient(broker.port, subscribe=("knobflow/#", "test/#"))
        yield test_client
        test_client.close()
