"""Reading a config file (YAML or JSON) into a validated :class:`Config`."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from knobflow.config.errors import ConfigError
from knobflow.config.model import Config
from knobflow.config.schema import build

__all__ = ["ENV_OVERRIDES", "apply_env", "config_from_mapping", "load_config"]

ENV_OVERRIDES = {
    "KNOBFLOW_MQTT_HOST": "host",
    "KNOBFLOW_MQTT_PORT": "port",
    "KNOBFLOW_MQTT_USERNAME": "username",
    "KNOBFLOW_MQTT_PASSWORD": "password",
}


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML that refuses a key given twice in one mapping (a silent override otherwise)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, str | int | float | bool) and key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def read_data(path: Path) -> Any:
    """The decoded contents of a YAML or JSON file (``.json`` is read as strict JSON)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("no such file", source=str(path)) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot be read: {err}", source=str(path)) from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text, parse_constant=_reject_constant)
        except ValueError as err:
            raise ConfigError(f"is not valid JSON: {err}", source=str(path)) from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as err:
        raise ConfigError(
            f"is not valid YAML: {_yaml_problem(err)}", source=_yaml_where(path, err)
        ) from None


def _yaml_where(path: Path, err: yaml.YAMLError) -> str:
    mark = getattr(err, "problem_mark", None)
    return f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)


def _yaml_problem(err: yaml.YAMLError) -> str:
    problem = getattr(err, "problem", None)
    context = getattr(err, "context", None)
    if problem:
        return f"{context}, {problem}" if context else str(problem)
    return " ".join(str(err).split())


def config_from_mapping(data: Any, source: str = "config") -> Config:
    """Validate decoded config data; errors name ``source`` (a file, ``apps.yaml``, ...)."""
    if data is None:
        data = {}
    try:
        return build(Config, data)
    except ConfigError as err:
        raise err.within(source) from None


def load_config(path: str | os.PathLike[str] | None) -> Config:
    """The config of a YAML or JSON file; ``None`` gives the defaults.

    File paths inside the file (TLS, password file) are made relative to the file's folder.
    """
    if path is None:
        return Config()
    path = Path(path)
    config = config_from_mapping(read_data(path), str(path))
    return _resolve_paths(config, path.parent)


def _resolve_paths(config: Config, folder: Path) -> Config:
    def resolve(value: str | None) -> str | None:
        if value is None:
            return None
        p = Path(value).expanduser()
        return str(p if p.is_absolute() else folder / p)

    mqtt = config.mqtt
    tls = mqtt.tls
    if tls is not None:
        tls = replace(
            tls,
            ca_file=resolve(tls.ca_file),
            cert_file=resolve(tls.cert_file),
            key_file=resolve(tls.key_file),
        )
    mqtt = replace(mqtt, password_file=resolve(mqtt.password_file), tls=tls)
    return replace(config, mqtt=mqtt)


def apply_env(config: Config, environ: Mapping[str, str] | None = None) -> Config:
    """Apply ``KNOBFLOW_MQTT_*`` variables over the config's ``mqtt`` section."""
    environ = os.environ if environ is None else environ
    changes: dict[str, Any] = {}
    for var, key in ENV_OVERRIDES.items():
        if var not in environ:
            continue
        value: Any = environ[var]
        if key == "port":
            try:
                value = int(value)
            except ValueError:
                raise ConfigError(
                    "is not a whole number", source="environment", key=var, value=value
                ) from None
            if not 1 <= value <= 65535:
                raise ConfigError(
                    "is out of range",
                    source="environment",
                    key=var,
                    value=value,
                    allowed="1..65535",
                )
        changes[key] = value
    if not changes:
        return config
    if "password" in changes:
        changes["password_file"] = None
    return replace(config, mqtt=replace(config.mqtt, **changes))
