"""An MQTT broker inside the process (amqtt), on a free loopback port.

For ``knobflow demo`` and the tests: it always binds ``127.0.0.1`` on a port
the system picks, never a well-known port on every interface.
"""

from __future__ import annotations

import socket
from typing import Any

__all__ = ["EmbeddedBroker"]


def _free_port(host: str) -> int:
    """A port the system has free on ``host`` now (amqtt tells no bound port publicly)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class EmbeddedBroker:
    """``async with EmbeddedBroker() as broker: ... broker.port``"""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self._broker: Any = None

    async def start(self) -> EmbeddedBroker:
        from amqtt.broker import Broker  # heavy: only when a broker is wanted

        port = _free_port(self.host)
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
        broker = Broker(config)
        await broker.start()
        self._broker = broker
        self.port = port
        return self

    async def stop(self) -> None:
        broker, self._broker = self._broker, None
        if broker is not None:
            await broker.shutdown()

    async def __aenter__(self) -> EmbeddedBroker:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
