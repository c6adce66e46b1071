"""A private mosquitto and a real ``knobflow run`` process, for the bridge benchmarks.

    with Harness(knobs=["knob_a"]) as h:     # broker up, bridge started and online
        sock = h.connect("bench-pub")
        ...

The bridge runs as its own process (as in production), with a config that
names its knobs (no discovery unless asked), against a mosquitto with
``set_tcp_nodelay true`` started on a free port in a temporary folder.
Everything the bridge logs goes to ``bridge.log`` in that folder.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common import ROOT
from rawmqtt import PacketReader, connect, disconnect, subscribe

sys.path.insert(0, str(ROOT))
from tests.support.mosquitto import Mosquitto

__all__ = ["Harness", "bridge_command", "rotation_frames", "wait_for"]

READY_TIMEOUT = 20.0


def bridge_command(config: Path) -> list[str]:
    """``knobflow run --config FILE`` with this interpreter."""
    wrap = os.environ.get("KNOBFLOW_BENCH_WRAP")  # a script to run the bridge under (diagnostics)
    head = [sys.executable, wrap] if wrap else [sys.executable, "-m", "knobflow.cli"]
    return [*head, "run", "--config", str(config)]


def bridge_config(port: int, knobs: Sequence[str], discovery: bool = False) -> dict[str, Any]:
    return {
        "mqtt": {"host": "127.0.0.1", "port": port, "client_id": "knobflow-bench"},
        "zigbee2mqtt": {"discover": discovery},
        "homeassistant": {"discovery": discovery},
        "knobs": {name: {} for name in knobs},
    }


HEAD_FRAMES = 30  # 12° each: after 360° the device's percent stays at 100
LATER_FRAME = (
    b'{"action":"rotation","action_rotation_angle":%d,"action_rotation_angle_speed":12,'
    b'"action_rotation_button_state":"released","action_rotation_percent":100,'
    b'"action_rotation_percent_speed":0,"action_rotation_time":%d,"battery":90,'
    b'"linkquality":%d,"operation_mode":"event","voltage":2985}'
)


class TurnFrames:
    """The payloads of one endless clockwise turn of a knob, exactly as
    :meth:`knobflow.simulate.SimulatedKnob.turn` makes them (Zigbee2MQTT's shape):
    ``start_rotating``, then ``rotation`` frames 12° and 200 ms apart, so frame *n*
    (from 0) makes exactly one ``rotate_cw`` with ``angle`` 12 × (n + 1). The first
    frames come from the simulator, later ones from a template (cheap per frame)."""

    def __init__(self, name: str) -> None:
        from knobflow.simulate import SimulatedKnob

        steps = SimulatedKnob(name).turn([12] * HEAD_FRAMES, at=0.0, interval=0.2)
        self.head = [step.payload.encode() for step in steps[:HEAD_FRAMES]]
        self.next = 0
        self.link = 172  # the simulator's link quality: +53, or -97 past 255
        for _ in range(HEAD_FRAMES):
            self._step_link()

    def _step_link(self) -> int:
        value = self.link
        self.link = value + 53 if value + 53 <= 255 else value - 97
        return value

    def take(self) -> bytes:
        """The next frame."""
        n = self.next
        self.next = n + 1
        if n < HEAD_FRAMES:
            return self.head[n]
        return LATER_FRAME % (12 * (n + 1), 200 + 200 * n, self._step_link())


def rotation_frames(name: str, count: int) -> list[bytes]:
    """The first ``count`` frames of :class:`TurnFrames`."""
    frames = TurnFrames(name)
    return [frames.take() for _ in range(count)]


def wait_for(sock: Any, reader: PacketReader, topic: str, payload: bytes, timeout: float) -> None:
    """Read ``sock`` until a message ``payload`` arrives on ``topic``."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        if not select.select([sock], [], [], left)[0]:
            break
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("the broker closed the connection")
        if any(t == topic and p == payload for t, p in reader.feed(data)):
            return
    raise TimeoutError(f"no {payload!r} on {topic} within {timeout} s")


class Harness:
    """Broker and bridge for one benchmark run; a context manager."""

    def __init__(
        self,
        knobs: Sequence[str],
        *,
        discovery: bool = False,
        start_bridge: bool = True,
        env: dict[str, str] | None = None,
    ) -> None:
        self.knobs = list(knobs)
        self.discovery = discovery
        self.start_bridge = start_bridge
        self.env = env
        self.workdir = Path(tempfile.mkdtemp(prefix="knobflow-bench-"))
        self.broker = Mosquitto(self.workdir / "broker")
        self.bridge: subprocess.Popen[bytes] | None = None
        self.config = self.workdir / "knobflow.json"
        self.bridge_started = 0.0  # time.monotonic() just before the bridge process starts
        self.trials = 0  # for benchmarks that give each trial knobs of its own

    @property
    def port(self) -> int:
        return self.broker.port

    @property
    def bridge_log(self) -> Path:
        return self.workdir / "bridge.log"

    def connect(self, client_id: str) -> Any:
        return connect(self.broker.host, self.port, client_id)

    def __enter__(self) -> Harness:
        self.broker.start()
        config = bridge_config(self.port, self.knobs, self.discovery)
        self.config.write_text(json.dumps(config), encoding="utf-8")
        if self.start_bridge:
            self.launch()
            self.wait_online()
        return self

    def launch(self) -> None:
        """Start ``knobflow run`` (without waiting for it)."""
        env = {**os.environ, **(self.env or {})}
        with self.bridge_log.open("wb") as log:
            self.bridge_started = time.monotonic()
            self.bridge = subprocess.Popen(
                bridge_command(self.config), stdout=log, stderr=subprocess.STDOUT, env=env
            )

    def wait_online(self, timeout: float = READY_TIMEOUT) -> None:
        """Wait for the bridge's retained ``online`` (it is subscribed by then)."""
        sock = self.connect("bench-ready")
        try:
            reader = PacketReader()
            subscribe(sock, ["knobflow/status"])
            wait_for(sock, reader, "knobflow/status", b"online", timeout)
        except TimeoutError:
            raise RuntimeError(f"the bridge did not come online:\n{self.log()}") from None
        finally:
            disconnect(sock)

    def log(self) -> str:
        return self.bridge_log.read_text(errors="replace") if self.bridge_log.exists() else ""

    def stop_bridge(self) -> None:
        proc, self.bridge = self.bridge, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __exit__(self, *exc: object) -> None:
        try:
            self.stop_bridge()
        finally:
            self.broker.stop()
            shutil.rmtree(self.workdir, ignore_errors=True)
