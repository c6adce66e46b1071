"""Broker settings from the config: password file, TLS context, client id, and
connection errors in people's words.

Nothing here talks to the network or imports ``aiomqtt``: ``check-config``
uses :func:`broker_settings` to check the files a config names.
"""

from __future__ import annotations

import secrets
import ssl
from dataclasses import dataclass, field
from typing import Any

from knobflow.config import Config, ConfigError, MqttConfig, TlsConfig

__all__ = [
    "BrokerRefused",
    "BrokerSettings",
    "broker_settings",
    "explain",
]


@dataclass(frozen=True)
class BrokerSettings:
    """Everything needed to open a connection (the password already read from its file)."""

    host: str
    port: int
    client_id: str
    keepalive: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: ssl.SSLContext | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """``mqtt://host:port`` or ``mqtts://host:port`` (never with credentials)."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    def client_options(self) -> dict[str, Any]:
        """``aiomqtt.Client`` keyword arguments every client of this broker shares:
        address, credentials, TLS and keepalive (each caller adds its own client id)."""
        return {
            "hostname": self.host,
            "port": self.port,
            "username": self.username,
            "password": self.password,
            "tls_context": self.tls,
            "keepalive": self.keepalive,
        }

    def describe(self) -> str:
        """The broker for a log line: address, user (never the password), client id."""
        user = f" as user {self.username!r}" if self.username else ""
        return f"{self.url}{user} (client id {self.client_id})"


class BrokerRefused(Exception):
    """The broker or its TLS certificate refused us for good (wrong password, wrong CA, ...)."""


def broker_settings(config: Config, source: str = "config") -> BrokerSettings:
    """Read the password file and build the TLS context; errors name ``source`` and the key."""
    mqtt = config.mqtt
    return BrokerSettings(
        host=mqtt.host,
        port=mqtt.port,
        client_id=mqtt.client_id or f"knobflow-{secrets.token_hex(4)}",
        keepalive=mqtt.keepalive,
        username=mqtt.username,
        password=_password(mqtt, source),
        tls=None if mqtt.tls is None else tls_context(mqtt.tls, source),
    )


def _password(mqtt: MqttConfig, source: str) -> str | None:
    if mqtt.password_file is None:
        return mqtt.password
    try:
        with open(mqtt.password_file, encoding="utf-8") as stream:
            line = stream.readline()
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(
            f"cannot be read ({_reason(err)})",
            source=source,
            key="mqtt.password_file",
            value=mqtt.password_file,
            allowed="a readable file whose first line is the password",
        ) from None
    return line.rstrip("\r\n")


def tls_context(tls: TlsConfig, source: str = "config") -> ssl.SSLContext:
    """A client TLS context: the CA (or the system's), an optional client certificate."""
    try:
        context = ssl.create_default_context(cafile=tls.ca_file)
    except (OSError, ssl.SSLError) as err:
        raise ConfigError(
            f"cannot be used as a CA certificate ({_reason(err)})",
            source=source,
            key="mqtt.tls.ca_file",
            value=tls.ca_file,
            allowed="a readable PEM file",
        ) from None
    if tls.cert_file is not None:
        try:
            context.load_cert_chain(tls.cert_file, tls.key_file)
        except (OSError, ssl.SSLError) as err:
            raise ConfigError(
                f"cannot be used as a client certificate and key ({_reason(err)})",
                source=source,
                key="mqtt.tls.cert_file",
                value=tls.cert_file,
                allowed="readable PEM files (cert_file and key_file) that belong together",
            ) from None
    if tls.insecure:
        context.check_hostname = False
    return context


def _reason(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return str(err) or type(err).__name__


# MQTT 5 reason codes (paho reports MQTT 3.1.1 refusals with them too) that no retry mends
_REFUSALS = {
    132: "it does not support this MQTT protocol version",
    133: "it does not accept the client id (check mqtt.client_id)",
    134: "bad user name or password (check mqtt.username and the password)",
    135: "not authorized (check mqtt.username and the password)",
    138: "this client is banned",
    140: "bad authentication method",
}


def explain(error: BaseException, settings: BrokerSettings) -> tuple[str, bool]:
    """A one-line description of a failed connection, and whether retrying is pointless.

    ``error`` is what ``aiomqtt`` raised; its text never holds the password.
    """
    code = getattr(error, "rc", None)
    value = getattr(code, "value", code)
    where = settings.url
    if isinstance(value, int) and value in _REFUSALS:
        return f"the broker {where} refused the connection: {_REFUSALS[value]}", True
    text = " ".join(str(error).split()) or type(error).__name__
    if "SSL" in text or "certificate" in text:
        hint = (
            "check mqtt.tls.ca_file"
            if "CERTIFICATE_VERIFY_FAILED" in text
            else "check mqtt.tls and mqtt.port"
        )
        return f"TLS with the broker {where} failed: {_ssl_text(text)} ({hint})", True
    return f"cannot reach the broker {where}: {text}", False


def _ssl_text(text: str) -> str:
    # "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed ... (_ssl.c:1006)"
    if "] " in text:
        text = text.split("] ", 1)[1]
    if text.endswith(")") and "(_ssl.c:" in text:
        text = text[: text.rindex("(_ssl.c:")].rstrip()
    return text
