"""Each Home Assistant host's config source, adapted to the shared config model.

The engine part (timers, knobs, composites, ``zigbee2mqtt``) is docs/contract.md §8's,
validated by :func:`knobflow.config.config_from_mapping`; each host adds a few
keys of its own and has no use for some of the bridge's sections.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from knobflow.config import Config, ConfigError, config_from_mapping

__all__ = [
    "APPDAEMON_KEYS",
    "AUTO",
    "AppDaemonOptions",
    "appdaemon_config",
    "pyscript_config",
    "unused_sections",
]

AUTO = "auto"
"""A namespace option's value that means: find the plugin's namespace."""

APPDAEMON_KEYS = frozenset(
    {
        "name",
        "config_path",
        "module",
        "class",
        "dependencies",
        "global_dependencies",
        "disable",
        "priority",
        "pin_app",
        "pin_thread",
        "log",
        "log_level",
        "plugin",
        "use_dictionary_unpacking",
    }
)
"""Keys of an ``apps.yaml`` entry that AppDaemon itself reads (not knobflow's)."""

_BRIDGE_SECTIONS = ("mqtt", "output", "homeassistant")


@dataclass(frozen=True, slots=True)
class AppDaemonOptions:
    """The AppDaemon app's own keys in ``apps.yaml``.

    ``mqtt_namespace``: the MQTT plugin's namespace (``auto``: the first plugin of
    type ``mqtt``). ``ha_namespace``: where to fire ``knobflow_gesture`` (``auto``:
    the HASS plugin's namespace when one is configured; ``None``: never).
    """

    mqtt_namespace: str = AUTO
    ha_namespace: str | None = AUTO


def _namespace(data: Mapping[str, Any], key: str, source: str, *, off_ok: bool) -> str | None:
    value = data.get(key, AUTO)
    if off_ok and (value is None or value is False):
        return None
    if isinstance(value, str) and value:
        return value
    allowed = "a namespace name, auto" + (", or false" if off_ok else "")
    raise ConfigError("is not a namespace", source=source, key=key, value=value, allowed=allowed)


def appdaemon_config(args: Mapping[str, Any], source: str) -> tuple[Config, AppDaemonOptions]:
    """An ``apps.yaml`` entry (AppDaemon's ``self.args``) as the shared config and options.

    AppDaemon's own keys (``module``, ``class``, ...) are left out; every other key
    is knobflow's, so a misspelt one is an error naming ``source`` and the key.
    """
    if not isinstance(args, Mapping):
        raise ConfigError("must be a mapping", source=source, value=args)
    options = AppDaemonOptions(
        mqtt_namespace=_namespace(args, "mqtt_namespace", source, off_ok=False) or AUTO,
        ha_namespace=_namespace(args, "ha_namespace", source, off_ok=True),
    )
    own = {"mqtt_namespace", "ha_namespace"}
    data = {k: v for k, v in args.items() if k not in APPDAEMON_KEYS and k not in own}
    return config_from_mapping(data, source), options


def pyscript_config(app_config: Any, source: str) -> Config:
    """``pyscript.app_config`` as the shared config (``None`` for an empty entry)."""
    if app_config is None:
        app_config = {}
    if not isinstance(app_config, Mapping):
        raise ConfigError(
            "must be a mapping of knobflow settings (one instance only)",
            source=source,
            value=app_config,
        )
    return config_from_mapping(dict(app_config), source)


def unused_sections(data: Any, used: frozenset[str] = frozenset()) -> list[str]:
    """The bridge's sections present in ``data`` that a host does not use (for a warning)."""
    if not isinstance(data, Mapping):
        return []
    return [key for key in _BRIDGE_SECTIONS if key in data and key not in used]
