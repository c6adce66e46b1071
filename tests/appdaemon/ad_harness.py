"""Real AppDaemon (a subprocess) and a plain MQTT client, for the AppDaemon app's tests.

AppDaemon runs from a temporary config folder: ``appdaemon.yaml`` with the MQTT
plugin only (pointing at a private mosquitto, ``utility_delay: 0.05``), and an
``apps`` folder holding the repository's app module and an ``apps.yaml``. Waiting
is on messages and log lines, each with a timeout; nothing sleeps for a result.
"""

from __future__ import annotations

import json
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion

__all__ = [
    "APP_MODULE",
    "EXAMPLE_APPS_YAML",
    "TIMEOUT",
    "AppDaemonProcess",
    "Message",
    "TestClient",
    "bridge_devices",
]

REPO = Path(__file__).resolve().parents[2]
APP_MODULE = REPO / "apps" / "knobflow_appdaemon.py"
EXAMPLE_APPS_YAML = REPO / "apps" / "apps.yaml"
TIMEOUT = 15.0  # seconds: a guard against hanging, never a pause


def bridge_devices(*knobs: str, others: tuple[str, ...] = ("kitchen_light",)) -> str:
    """A ``bridge/devices`` payload listing knobs (model ZNXNKG02LM) and other devices."""
    devices: list[dict[str, Any]] = [
        {"friendly_name": "Coordinator", "ieee_address": "0x00", "type": "Coordinator"}
    ]
    for i, name in enumerate(knobs):
        devices.append(
            {
                "friendly_name": name,
                "ieee_address": f"0x54ef4410000a{i:04x}",
                "type": "EndDevice",
                "definition": {"model": "ZNXNKG02LM", "vendor": "Aqara"},
            }
        )
    for i, name in enumerate(others):
        devices.append(
            {
                "friendly_name": name,
                "ieee_address": f"0x000b57fffe8a{i:04x}",
                "definition": {"model": "LED1545G12", "vendor": "IKEA"},
            }
        )
    return json.dumps(devices)


@dataclass(frozen=True)
class Message:
    """A message the test client received, with its arrival time (``time.time()``)."""

    at: float
    topic: str
    payload: str

    def json(self) -> Any:
        return json.loads(self.payload)


class TestClient:
    """A paho client that publishes Zigbee2MQTT payloads and collects what comes back."""

    __test__ = False  # not a test class

    def __init__(self, port: int, subscribe: tuple[str, ...] = ("knobflow/#",)) -> None:
        self._inbox: list[Message] = []
        self._changed = threading.Condition()
        self._subscribed: queue.Queue[int] = queue.Queue()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"knobflow-test-{uuid.uuid4().hex[:8]}"
        )
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        for topic in subscribe:
            _, mid = self.client.subscribe(topic, qos=1)
            assert self._subscribed.get(timeout=TIMEOUT) == mid

    def _on_message(self, client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._changed:
            self._inbox.append(Message(time.time(), msg.topic, msg.payload.decode()))
            self._changed.notify_all()

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, *args: Any) -> None:
        self._subscribed.put(mid)

    def publish(self, topic: str, payload: Any, *, retain: bool = False) -> float:
        """Publish (dicts as JSON) and wait until the broker has it; returns the send time."""
        text = payload if isinstance(payload, str) else json.dumps(payload)
        sent = time.time()
        info = self.client.publish(topic, text, qos=1, retain=retain)
        info.wait_for_publish(timeout=TIMEOUT)
        return sent

    def take(
        self, count: int, prefix: str = "knobflow/", timeout: float = TIMEOUT
    ) -> list[Message]:
        """The next ``count`` messages whose topic starts with ``prefix``, in order of
        arrival, waiting at most ``timeout`` in all. Other messages stay for other calls."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                mine = [m for m in self._inbox if m.topic.startswith(prefix)]
                if len(mine) >= count:
                    taken = mine[:count]
                    for m in taken:
                        self._inbox.remove(m)
                    return taken
                left = deadline - time.monotonic()
                if left <= 0:
                    got = [m.payload for m in mine]
                    raise AssertionError(f"{len(mine)} of {count} messages in {timeout} s: {got}")
                self._changed.wait(left)

    def gestures(self, count: int, timeout: float = TIMEOUT) -> list[dict[str, Any]]:
        """The next ``count`` gesture messages' payloads."""
        return [m.json() for m in self.take(count, "knobflow/", timeout)]

    def drain(self) -> None:
        with self._changed:
            self._inbox.clear()

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class AppDaemonProcess:
    """AppDaemon 4.5 with the MQTT plugin only, run from a temporary config folder."""

    def __init__(
        self,
        workdir: Path,
        broker_port: int,
        apps: Mapping[str, Any] | Path,
        *,
        extra_apps: Mapping[str, Path] | None = None,
        namespaces: tuple[str, ...] = (),
    ) -> None:
        self.workdir = workdir
        self.conf = workdir / "conf"
        self.log_file = workdir / "appdaemon.log"
        apps_dir = self.conf / "apps"
        apps_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(APP_MODULE, apps_dir / APP_MODULE.name)
        for name, path in (extra_apps or {}).items():
            shutil.copy(path, apps_dir / name)
        if isinstance(apps, Path):
            shutil.copy(apps, apps_dir / "apps.yaml")
        else:
            (apps_dir / "apps.yaml").write_text(yaml.safe_dump(dict(apps)), encoding="utf-8")
        config: dict[str, Any] = {
            "appdaemon": {
                "time_zone": "UTC",
                "latitude": 0,
                "longitude": 0,
                "elevation": 0,
                "utility_delay": 0.05,
                "production_mode": True,
                "plugins": {
                    "MQTT": {
                        "type": "mqtt",
                        "namespace": "mqtt",
                        "client_host": "127.0.0.1",
                        "client_port": broker_port,
                        "client_id": f"appdaemon-{uuid.uuid4().hex[:8]}",
                        "client_topics": "NONE",
                    }
                },
            },
        }
        if namespaces:
            config["appdaemon"]["namespaces"] = {ns: {"writeback": "safe"} for ns in namespaces}
        (self.conf / "appdaemon.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> AppDaemonProcess:
        with self.log_file.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "appdaemon", "-c", str(self.conf)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
            )
        return self

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    def wait_for_log(self, pattern: str, timeout: float = TIMEOUT) -> re.Match[str]:
        """Wait until a line of AppDaemon's log matches ``pattern`` (a regular expression)."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            found = regex.search(self.log())
            if found:
                return found
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"AppDaemon exited ({self.process.returncode}):\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no log line matching {pattern!r}:\n{self.log()}")
            time.sleep(0.02)  # polling a file: the loop's step, not the test's result

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
