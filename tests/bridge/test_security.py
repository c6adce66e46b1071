"""Passwords and TLS against a mosquitto that demands both (certificates made here)."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from knobflow.bridge.connect import broker_settings
from knobflow.bridge.service import Bridge
from knobflow.config import apply_env, load_config
from support.mosquitto import Mosquitto

from .helpers import Probe, Service, Topics, errors_in, running

PASSWORD = "Kn0b-s3cret-Pa55"
WRONG = "wr0ng-Pa55word"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _make_ca(folder: Path, name: str) -> None:
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "2", "-subj", f"/CN={name}",
        cwd=folder,
    )  # fmt: skip


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, a server certificate for 127.0.0.1 signed by it, and an unrelated CA."""
    folder = tmp_path_factory.mktemp("pki")
    _make_ca(folder, "ca")
    _make_ca(folder, "other_ca")
    _openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1", cwd=folder,
    )  # fmt: skip
    (folder / "san.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "san.cnf", cwd=folder,
    )  # fmt: skip
    return folder


@pytest.fixture(scope="module")
def secure_broker(pki: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """TLS only, and a user name with a password (mosquitto_passwd)."""
    folder = tmp_path_factory.mktemp("secure-mosquitto")
    passwords = folder / "passwords"
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(passwords), "knob", PASSWORD],
        check=True,
        capture_output=True,
        timeout=30,
    )
    broker = Mosquitto(
        folder,
        allow_anonymous=False,
        extra_config=[
            f"password_file {passwords}",
            f"cafile {pki / 'ca.crt'}",
            f"certfile {pki / 'server.crt'}",
            f"keyfile {pki / 'server.key'}",
        ],
    )
    broker.start()
    yield broker
    broker.stop()


def _write_config(
    folder: Path, broker: Mosquitto, pki: Path, topics: Topics, *, password: str, ca: str = "ca.crt"
) -> Path:
    (folder / "password.txt").write_text(password + "\n", encoding="utf-8")
    config = {
        "mqtt": {
            "host": broker.host,
            "port": broker.port,
            "username": "knob",
            "password_file": "password.txt",
            "tls": {"ca_file": str(pki / ca)},
        },
        "zigbee2mqtt": {"base_topic": topics.z2m},
        "output": {"base_topic": topics.out},
        "homeassistant": {"prefix": topics.ha},
    }
    path = folder / "knobflow.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


@pytest.mark.asyncio
async def test_the_right_password_and_ca_connect(
    secure_broker: Mosquitto,
    pki: Path,
    topics: Topics,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    path = _write_config(tmp_path, secure_broker, pki, topics, password=PASSWORD)
    config = load_config(path)
    settings = broker_settings(config, str(path))
    probe = Probe(
        secure_broker.host,
        secure_broker.port,
        [f"{topics.out}/status"],
        username="knob",
        password=PASSWORD,
        tls_context=settings.tls,
    )
    async with probe, running(Bridge(config, settings)):
        status = await probe.expect(lambda m: m.topic == f"{topics.out}/status")
        assert status.text == "online"
    assert PASSWORD not in caplog.text
    assert errors_in(caplog.records) == []


@pytest.mark.asyncio
async def test_the_environment_password_overrides_the_file(
    secure_broker: Mosquitto, pki: Path, topics: Topics, tmp_path: Path
) -> None:
    path = _write_config(tmp_path, secure_broker, pki, topics, password=WRONG)
    config = apply_env(load_config(path), {"KNOBFLOW_MQTT_PASSWORD": PASSWORD})
    async with running(Bridge(config)) as bridge:
        assert bridge.connected.is_set()


def _refused(tmp_path: Path, path: Path, *extra: str) -> tuple[int, str]:
    service = Service(*extra, "run", "--config", str(path))
    code, stdout, stderr = service.finish(timeout=60)
    return code, stdout + stderr


def test_a_wrong_password_fails_with_one_clear_line(
    secure_broker: Mosquitto, pki: Path, topics: Topics, tmp_path: Path
) -> None:
    path = _write_config(tmp_path, secure_broker, pki, topics, password=WRONG)
    code, output = _refused(tmp_path, path)
    assert code == 1
    errors = [line for line in output.splitlines() if line.startswith("knobflow run:")]
    assert errors == [
        f"knobflow run: the broker mqtts://127.0.0.1:{secure_broker.port} refused the "
        "connection: not authorized (check mqtt.username and the password)"
    ]
    assert "Traceback" not in output and WRONG not in output


def test_a_wrong_ca_fails_with_one_clear_line(
    secure_broker: Mosquitto, pki: Path, topics: Topics, tmp_path: Path
) -> None:
    path = _write_config(tmp_path, secure_broker, pki, topics, password=PASSWORD, ca="other_ca.crt")
    code, output = _refused(tmp_path, path)
    assert code == 1
    errors = [line for line in output.splitlines() if line.startswith("knobflow run:")]
    assert len(errors) == 1
    assert errors[0].startswith(
        f"knobflow run: TLS with the broker mqtts://127.0.0.1:{secure_broker.port} failed: certificate verify failed"
    )
    assert errors[0].endswith("(check mqtt.tls.ca_file)")
    assert "Traceback" not in output and PASSWORD not in output


def test_passwords_never_appear_in_debug_logs(
    secure_broker: Mosquitto, pki: Path, topics: Topics, tmp_path: Path
) -> None:
    """At -vv (paho's packet log included), connecting and refusal alike."""
    path = _write_config(tmp_path, secure_broker, pki, topics, password=WRONG)
    code, output = _refused(tmp_path, path, "-vv")
    assert code == 1 and "DEBUG" in output and WRONG not in output
    path = _write_config(tmp_path, secure_broker, pki, topics, password=PASSWORD)
    service = Service("-vv", "run", "--config", str(path))
    service.wait_for_line("connected to the broker")
    service.process.send_signal(signal.SIGTERM)
    code, stdout, stderr = service.finish()
    assert code == 0 and "DEBUG" in stderr
    assert PASSWORD not in stdout + stderr
