"""Each Home Assistant host's config source, through the shared config model."""

from __future__ import annotations

from typing import Any

import pytest

from knobflow.config import ConfigError
from knobflow.hosts import (
    APPDAEMON_KEYS,
    AUTO,
    AppDaemonOptions,
    appdaemon_config,
    pyscript_config,
    unused_sections,
)

SOURCE = "apps.yaml: knobflow"

# What AppDaemon 4.5 puts in self.args for a plain entry.
AD_ARGS: dict[str, Any] = {
    "name": "knobflow",
    "config_path": "/conf/apps/apps.yaml",
    "module": "knobflow_appdaemon",
    "class": "Knobflow",
    "priority": 50,
}


def test_appdaemons_own_keys_are_not_knobflows() -> None:
    config, options = appdaemon_config({**AD_ARGS, "fast_spin_dps": 540}, SOURCE)
    assert config.fast_spin_dps == 540
    assert options == AppDaemonOptions(mqtt_namespace=AUTO, ha_namespace=AUTO)
    assert AppDaemonOptions() == options
    assert {"module", "class", "name", "config_path"} <= APPDAEMON_KEYS


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, AppDaemonOptions("auto", "auto")),
        (
            {"mqtt_namespace": "mqtt", "ha_namespace": "default"},
            AppDaemonOptions("mqtt", "default"),
        ),
        ({"ha_namespace": False}, AppDaemonOptions("auto", None)),
        ({"ha_namespace": None}, AppDaemonOptions("auto", None)),
    ],
)
def test_namespace_options(given: dict[str, Any], expected: AppDaemonOptions) -> None:
    assert appdaemon_config({**AD_ARGS, **given}, SOURCE)[1] == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"mqtt_namespace": False},
            r"^apps\.yaml: knobflow: mqtt_namespace: False is not a namespace \(allowed: a namespace name, auto\)$",
        ),
        (
            {"ha_namespace": 3},
            r"^apps\.yaml: knobflow: ha_namespace: 3 is not a namespace \(allowed: a namespace name, auto, or false\)$",
        ),
        ({"ha_namespace": ""}, r"^apps\.yaml: knobflow: ha_namespace: '' is not a namespace"),
        ({"rotation_timeout_ms": 0}, r"^apps\.yaml: knobflow: rotation_timeout_ms: 0 "),
        ({"rotaton_timeout_ms": 100}, r"^apps\.yaml: knobflow: rotaton_timeout_ms"),
        ({"composites": {"x": {"sequence": ["nope"]}}}, r"^apps\.yaml: knobflow: composites\.x"),
    ],
)
def test_appdaemon_errors_name_the_entry_and_the_key(given: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        appdaemon_config({**AD_ARGS, **given}, SOURCE)


def test_appdaemon_args_must_be_a_mapping() -> None:
    with pytest.raises(ConfigError, match=r"^apps\.yaml: knobflow: \['a'\] must be a mapping"):
        appdaemon_config(["a"], SOURCE)  # type: ignore[arg-type]


def test_pyscript_config_of_an_empty_entry_is_the_default() -> None:
    assert pyscript_config(None, "pyscript.apps.knobflow").rotation_timeout_ms == 1500
    assert pyscript_config({}, "pyscript.apps.knobflow").zigbee2mqtt.discover is True


def test_pyscript_errors_name_the_entry_and_the_key() -> None:
    with pytest.raises(
        ConfigError, match=r"^pyscript\.apps\.knobflow: knobs\.desk\.settle_ms: -1 "
    ):
        pyscript_config({"knobs": {"desk": {"settle_ms": -1}}}, "pyscript.apps.knobflow")
    with pytest.raises(ConfigError, match="one instance only"):
        pyscript_config([{}], "pyscript.apps.knobflow")


def test_unused_sections_are_the_bridges_that_a_host_does_not_read() -> None:
    data: dict[str, Any] = {"mqtt": {}, "output": {}, "homeassistant": {}, "knobs": {}}
    assert unused_sections(data) == ["mqtt", "output", "homeassistant"]
    assert unused_sections(data, frozenset({"output"})) == ["mqtt", "homeassistant"]
    assert unused_sections(None) == []
