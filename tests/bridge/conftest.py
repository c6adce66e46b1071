"""Brokers for the bridge tests: a private mosquitto for the session, the embedded amqtt broker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from knobflow.bridge.embedded import EmbeddedBroker
from support.mosquitto import Mosquitto

from .helpers import Topics


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path_factory.mktemp("mosquitto"))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def own_mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A broker of this test alone (to kill and restart)."""
    broker = Mosquitto(tmp_path / "mosquitto")
    broker.start()
    yield broker
    broker.stop()


@pytest_asyncio.fixture
async def amqtt_broker() -> AsyncIterator[EmbeddedBroker]:
    async with EmbeddedBroker() as broker:
        yield broker


@pytest_asyncio.fixture(params=["mosquitto", "amqtt"])
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, int]]:
    """Each test using it runs against mosquitto and against the embedded amqtt broker."""
    if request.param == "mosquitto":
        mosq: Mosquitto = request.getfixturevalue("mosquitto")
        yield mosq.host, mosq.port
    else:
        async with EmbeddedBroker() as embedded:
            yield embedded.host, embedded.port


@pytest.fixture
def topics() -> Topics:
    return Topics()
