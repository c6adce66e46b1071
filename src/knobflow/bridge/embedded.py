"""An MQTT broker inside the process (amqtt), on a free loopback port.

For ``knobflow demo`` and the tests: it always binds ``127.0.0.1`` on a port
the system picks, never a well-known port on every interface.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EmbeddedBroker"]


class EmbeddedBroker:
    """``async with EmbeddedBroker() as broker: ... broker.port``"""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self._broker: Any = None

    async def start(self) -> EmbeddedBroker:
        from amqtt.broker import Broker  # heavy: only when a broker is wanted

        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:0"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
        broker = Broker(config)
        await broker.start()
        self._broker = broker
        server = broker._servers["default"].instance
        self.port = int(server.sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        broker, self._broker = self._broker, None
        if broker is not None:
            await broker.shutdown()

    async def __aenter__(self) -> EmbeddedBroker:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
