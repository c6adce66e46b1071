"""Broker settings from the config, and connection errors in words."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiomqtt import MqttError
from aiomqtt.exceptions import MqttConnectError
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from knobflow.bridge.connect import broker_settings, explain
from knobflow.config import ConfigError, apply_env, config_from_mapping, load_config


def test_the_password_file_gives_its_first_line(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("s3cret line\nsecond\n", encoding="utf-8")
    (tmp_path / "k.yaml").write_text(
        "mqtt: {username: knob, password_file: pw}\n", encoding="utf-8"
    )
    settings = broker_settings(load_config(tmp_path / "k.yaml"))
    assert settings.password == "s3cret line"
    assert "s3cret" not in repr(settings) and "s3cret" not in settings.describe()
    assert settings.client_id.startswith("knobflow-")


def test_a_missing_password_file_is_a_config_error_naming_file_key_and_value(
    tmp_path: Path,
) -> None:
    (tmp_path / "k.yaml").write_text("mqtt: {password_file: nowhere}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        broker_settings(load_config(tmp_path / "k.yaml"), str(tmp_path / "k.yaml"))
    text = str(caught.value)
    assert str(tmp_path / "k.yaml") in text and "mqtt.password_file" in text
    assert str(tmp_path / "nowhere") in text and "readable file" in text


def test_a_bad_ca_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not a certificate\n", encoding="utf-8")
    config = config_from_mapping({"mqtt": {"tls": {"ca_file": str(tmp_path / "ca.pem")}}})
    with pytest.raises(ConfigError, match=r"mqtt\.tls\.ca_file"):
        broker_settings(config)


def test_the_environment_overrides_the_broker_and_hides_the_password() -> None:
    config = apply_env(
        config_from_mapping({"mqtt": {"host": "broker.lan"}}),
        {
            "KNOBFLOW_MQTT_HOST": "10.0.0.2",
            "KNOBFLOW_MQTT_PORT": "1884",
            "KNOBFLOW_MQTT_PASSWORD": "pw1",
        },
    )
    settings = broker_settings(config)
    assert (settings.host, settings.port, settings.password) == ("10.0.0.2", 1884, "pw1")
    assert "pw1" not in repr(settings)


def test_a_password_of_the_wrong_type_is_not_shown_in_the_error() -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_mapping({"mqtt": {"password": 123456789}}, "k.yaml")
    assert "123456789" not in str(caught.value)
    assert "mqtt.password" in str(caught.value)


def test_errors_say_what_failed_and_whether_retrying_helps() -> None:
    settings = broker_settings(config_from_mapping({"mqtt": {"host": "h", "port": 1}}))
    refused = MqttConnectError(ReasonCode(PacketTypes.CONNACK, identifier=135))
    text, permanent = explain(refused, settings)
    assert permanent and text == (
        "the broker mqtt://h:1 refused the connection: not authorized "
        "(check mqtt.username and the password)"
    )
    text, permanent = explain(MqttError("[Errno 111] Connection refused"), settings)
    assert (
        not permanent
        and text == "cannot reach the broker mqtt://h:1: [Errno 111] Connection refused"
    )
    tls = MqttError(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
        "self-signed certificate in certificate chain (_ssl.c:1006)"
    )
    text, permanent = explain(tls, settings)
    assert permanent and text == (
        "TLS with the broker mqtt://h:1 failed: certificate verify failed: self-signed "
        "certificate in certificate chain (check mqtt.tls.ca_file)"
    )
