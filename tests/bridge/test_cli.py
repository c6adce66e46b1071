"""The commands as people run them: `knobflow run`, `demo`, `record`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from knobflow.simulate import SimulatedKnob
from support.mosquitto import Mosquitto

from .helpers import TIMEOUT, Probe, Service, Topics, devices_payload

IEEE = "0x54ef4410000a1b2c"
SCENARIOS = Path(__file__).parent.parent / "scenarios"


def _config(tmp_path: Path, broker: Mosquitto, topics: Topics) -> Path:
    path = tmp_path / "knobflow.yaml"
    path.write_text(
        f"mqtt: {{host: {broker.host}, port: {broker.port}}}\n"
        f"zigbee2mqtt: {{base_topic: {topics.z2m}}}\n"
        f"output: {{base_topic: {topics.out}}}\n"
        f"homeassistant: {{prefix: {topics.ha}}}\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.asyncio
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_publishes_offline_and_exits_0(
    sig: signal.Signals, mosquitto: Mosquitto, topics: Topics, tmp_path: Path
) -> None:
    knob = SimulatedKnob("desk_knob", IEEE, base_topic=topics.z2m)
    async with Probe(
        mosquitto.host, mosquitto.port, [f"{topics.out}/#", f"{topics.ha}/#"]
    ) as probe:
        await probe.publish(
            f"{topics.z2m}/bridge/devices", devices_payload(("desk_knob", IEEE)), retain=True
        )
        started = time.monotonic()
        service = Service("run", "--config", str(_config(tmp_path, mosquitto, topics)))
        await probe.expect(lambda m: m.topic.endswith(f"{IEEE}_gesture/config"))
        startup = time.monotonic() - started  # process start to discovery published
        await probe.expect(lambda m: m.topic == f"{topics.out}/status" and m.text == "online")
        await probe.publish(knob.topic, knob.message(action="single"))
        await probe.expect_gesture(topics, "desk_knob", "press")
        service.process.send_signal(sig)
        code, _, stderr = service.finish()
        offline = await probe.expect(
            lambda m: m.topic == f"{topics.out}/status" and m.text == "offline"
        )
    assert code == 0 and offline.text == "offline"
    lines = stderr.splitlines()
    assert "bridge: broker mqtt://127.0.0.1" in lines[0] and "knobs:" in lines[0]
    assert f"reading {topics.z2m}/#" in lines[0]
    assert "1 knob: 'desk_knob'" in stderr
    assert "stopped; counters:" in lines[-1] and "gestures=1" in lines[-1]
    assert "Traceback" not in stderr
    assert startup < 10.0  # generous here; the benchmark holds it to 1 s


def test_a_bad_config_is_one_error_and_exit_status_2(tmp_path: Path) -> None:
    path = tmp_path / "knobflow.yaml"
    path.write_text("mqtt: {port: 70000}\n", encoding="utf-8")
    done = subprocess.run(  # the exit status is what is tested
        [sys.executable, "-m", "knobflow.cli", "run", "--config", str(path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        f"knobflow run: {path}: mqtt.port: 70000 is out of range (allowed: >= 1 and <= 65535)"
    ]


def test_check_config_checks_the_password_file(tmp_path: Path) -> None:
    path = tmp_path / "knobflow.yaml"
    path.write_text("mqtt: {password_file: missing.txt}\n", encoding="utf-8")
    done = subprocess.run(  # the exit status is what is tested
        [sys.executable, "-m", "knobflow.cli", "check-config", str(path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 2
    assert "mqtt.password_file" in done.stderr and "missing.txt" in done.stderr


@pytest.mark.parametrize("where", ["embedded", "mosquitto"])
def test_the_demo_runs_to_the_end_and_shows_every_kind_of_gesture(
    where: str, request: pytest.FixtureRequest
) -> None:
    """With no arguments (its own broker) and with --broker HOST:PORT."""
    extra: list[str] = []
    if where == "mosquitto":
        broker: Mosquitto = request.getfixturevalue("mosquitto")
        extra = ["--broker", f"{broker.host}:{broker.port}"]
    done = subprocess.run(  # the exit status is what is tested
        [sys.executable, "-m", "knobflow.cli", "demo", "--speed", "8", *extra],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    shown = {line.split()[2] for line in done.stdout.splitlines() if line.startswith("   ")}
    for gesture in (
        "press", "double_press", "rotate_start", "rotate_cw", "rotate_ccw", "rotate_stop",
        "hold", "rotate_while_held_start", "rotate_while_held_cw", "rotate_while_held_stop",
        "release", "fast_spin_cw", "long_press", "double_then_turn",
    ):  # fmt: skip
        assert gesture in shown, gesture
    assert "Done in" in done.stdout and "Traceback" not in done.stderr


@pytest.mark.asyncio
async def test_record_writes_a_file_that_replays(
    mosquitto: Mosquitto, topics: Topics, tmp_path: Path
) -> None:
    """A recorded live session replays to the gestures of the same session."""
    scenario = [
        json.loads(line) for line in (SCENARIOS / "pressed_rotation.jsonl").read_text().splitlines()
    ]
    expected = [
        json.loads(line)["gesture"]
        for line in (SCENARIOS / "pressed_rotation.expected.jsonl").read_text().splitlines()
    ]
    out = tmp_path / "session.jsonl"
    config = _config(tmp_path, mosquitto, topics)
    async with Probe(mosquitto.host, mosquitto.port, []) as probe:
        devices = next(r for r in scenario if r["topic"].endswith("/bridge/devices"))
        await probe.publish(
            f"{topics.z2m}/bridge/devices", json.dumps(devices["payload"]), retain=True
        )
        service = Service("record", "--knob", "desk_knob", "-o", str(out), "--config", str(config))
        service.wait_for_line("recording 'desk_knob': 1 messages")  # bridge/devices: subscribed
        for record in scenario:
            if record["topic"] == "zigbee2mqtt/desk_knob":
                await probe.publish(f"{topics.z2m}/desk_knob", json.dumps(record["payload"]))
        await probe.publish(f"{topics.z2m}/kitchen_light", '{"state": "ON"}')  # not recorded
        wanted = 1 + sum(r["topic"] == "zigbee2mqtt/desk_knob" for r in scenario)
        end = time.monotonic() + TIMEOUT
        while len(out.read_text().splitlines()) < wanted:  # the file grows as messages come
            assert time.monotonic() < end, out.read_text()
            await _tick()
        service.process.send_signal(signal.SIGINT)
        code, _, stderr = service.finish()
    assert code == 0
    assert (
        stderr.splitlines()[-1]
        == f"recorded {wanted} messages ({wanted - 1} from the knob) to {out}"
    )
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[0]["retain"] is True and lines[0]["topic"].endswith("/bridge/devices")
    assert all(not line["retain"] for line in lines[1:])
    replayed = subprocess.run(  # the exit status is what is tested
        [
            sys.executable,
            "-m",
            "knobflow.cli",
            "replay",
            "--format",
            "jsonl",
            "--config",
            str(config),
            str(out),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert replayed.returncode == 0
    assert [json.loads(line)["gesture"] for line in replayed.stdout.splitlines()] == expected


def test_record_stops_after_its_duration(
    mosquitto: Mosquitto, topics: Topics, tmp_path: Path
) -> None:
    out = tmp_path / "short.jsonl"
    service = Service(
        "record", "--knob", "desk_knob", "-o", str(out), "--duration", "0.3",
        "--config", str(_config(tmp_path, mosquitto, topics)),
    )  # fmt: skip
    code, _, stderr = service.finish(timeout=TIMEOUT)
    assert code == 0 and out.read_text() == ""
    assert stderr.splitlines()[-1] == f"recorded 0 messages (0 from the knob) to {out}"


async def _tick() -> None:
    import asyncio

    await asyncio.sleep(0.02)  # between looks at a file written by another process


@pytest.mark.asyncio
async def test_record_next_to_the_bridge_with_the_same_config(
    mosquitto: Mosquitto, topics: Topics, tmp_path: Path
) -> None:
    """With a fixed ``mqtt.client_id``, recording beside the running bridge takes neither
    one's session away: the broker would drop the older of two clients with one id."""
    config = _config(tmp_path, mosquitto, topics)
    config.write_text(
        config.read_text(encoding="utf-8").replace("port: ", "client_id: kf-fixed, port: ", 1),
        encoding="utf-8",
    )
    out = tmp_path / "session.jsonl"
    knob = SimulatedKnob("desk_knob", IEEE, base_topic=topics.z2m)
    async with Probe(mosquitto.host, mosquitto.port, [f"{topics.out}/#"]) as probe:
        await probe.publish(
            f"{topics.z2m}/bridge/devices", devices_payload(("desk_knob", IEEE)), retain=True
        )
        bridge = Service("run", "--config", str(config))
        bridge.wait_for_line("connected to the broker")
        await probe.expect(lambda m: m.topic == f"{topics.out}/status" and m.text == "online")
        recorder = Service("record", "--knob", "desk_knob", "-o", str(out), "--config", str(config))
        recorder.wait_for_line("recording 'desk_knob': 1 messages")
        await probe.publish(knob.topic, knob.message(action="single"))
        await probe.expect_gesture(topics, "desk_knob", "press")
        end = time.monotonic() + TIMEOUT
        while len(out.read_text().splitlines()) < 2:  # bridge/devices and the press
            assert time.monotonic() < end, out.read_text()
            await _tick()
        for service in (recorder, bridge):
            service.process.send_signal(signal.SIGINT)
        (rec_code, _, rec_err), (code, _, stderr) = recorder.finish(), bridge.finish()
    assert code == 0 and rec_code == 0, (stderr, rec_err)
    assert "lost the connection" not in stderr and "reconnected" not in stderr, stderr
    assert rec_err.splitlines()[-1] == f"recorded 2 messages (1 from the knob) to {out}"
