"""The blueprint files as Home Assistant reads and imports them."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from awesomeversion import AwesomeVersion
from ha_harness import BLUEPRINT_DIR, BUILTIN_GESTURES
from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint.importer import fetch_blueprint_from_url
from homeassistant.components.blueprint.models import Blueprint
from homeassistant.core import HomeAssistant
from homeassistant.util.yaml import Input, load_yaml
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

BLUEPRINTS = ("knob_light", "knob_media", "knob_actions")
SOURCE = "https://github.com/knobflow/knobflow/blob/main/blueprints/automation/knobflow/{}.yaml"
RAW = "https://raw.githubusercontent.com/knobflow/knobflow/main/blueprints/automation/knobflow/{}.yaml"


def load(name: str) -> Blueprint:
    data = load_yaml(BLUEPRINT_DIR / f"{name}.yaml")
    assert isinstance(data, dict)
    return Blueprint(data, expected_domain="automation", schema=AUTOMATION_BLUEPRINT_SCHEMA)


def test_the_folder_holds_exactly_the_three_blueprints() -> None:
    assert sorted(p.stem for p in BLUEPRINT_DIR.iterdir()) == sorted(BLUEPRINTS)


@pytest.mark.parametrize("name", BLUEPRINTS)
def test_metadata(name: str) -> None:
    """Valid for this Home Assistant, with its source URL and an X.Y.Z minimum version."""
    blueprint = load(name)
    assert blueprint.validate() is None  # the running Home Assistant meets min_version
    meta = blueprint.metadata
    assert meta["source_url"] == SOURCE.format(name)
    min_version = meta["homeassistant"]["min_version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", min_version)
    # triggers:/actions:/trigger: need 2024.10, input sections 2024.6
    assert AwesomeVersion(min_version) >= AwesomeVersion("2024.10.0")


@pytest.mark.parametrize("name", BLUEPRINTS)
def test_every_input_is_named_described_and_explained(name: str) -> None:
    """Each input has a name and a description, and the blueprint's description names it."""
    blueprint = load(name)
    description = blueprint.metadata["description"]
    for key, spec in blueprint.inputs.items():
        assert spec.get("name"), key
        assert spec.get("description"), key
        assert f"*{spec['name']}*" in description, f"{key}: *{spec['name']}* not explained"


@pytest.mark.parametrize("name", BLUEPRINTS)
def test_current_syntax_queued_mode_and_both_triggers(name: str) -> None:
    """triggers/conditions/actions, queued with a raised max, the event and the exact MQTT topic."""
    data: dict[str, Any] = load(name).data
    assert {"triggers", "conditions", "actions"} <= data.keys()
    assert not {"trigger", "condition", "action"} & data.keys()
    assert (data["mode"], data["max_exceeded"]) == ("queued", "silent")
    assert data["max"] >= 20
    event, mqtt = data["triggers"]
    assert event["trigger"] == "event"
    assert event["event_type"] == "knobflow_gesture"
    assert event["event_data"] == {"knob": Input("knob")}
    assert mqtt["trigger"] == "mqtt"
    assert mqtt["enabled"] == Input("use_mqtt")
    assert mqtt["topic"] == "{{ out_base }}/{{ knob_name }}/gesture"
    assert data["trigger_variables"] == {"knob_name": Input("knob"), "out_base": Input("mqtt_base")}


def test_the_actions_blueprint_has_a_slot_per_gesture_and_composite_slots() -> None:
    inputs = load("knob_actions").inputs
    for name in BUILTIN_GESTURES:
        assert "action" in inputs[f"{name}_action"]["selector"]
        assert inputs[f"{name}_action"]["default"] == []
    for slot in (1, 2, 3):
        assert "text" in inputs[f"composite_{slot}_name"]["selector"]
        assert "action" in inputs[f"composite_{slot}_action"]["selector"]


@pytest.mark.parametrize("name", BLUEPRINTS)
async def test_home_assistant_imports_it_from_its_source_url(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, name: str
) -> None:
    """The import link works: the importer maps source_url to the raw file and parses it."""
    text = (BLUEPRINT_DIR / f"{name}.yaml").read_text(encoding="utf-8")
    aioclient_mock.get(RAW.format(name), text=text)
    imported = await fetch_blueprint_from_url(hass, SOURCE.format(name))
    assert imported.suggested_filename == f"knobflow/{name}"
    assert imported.blueprint.domain == "automation"
    assert imported.blueprint.metadata["source_url"] == SOURCE.format(name)


@pytest.mark.parametrize("name", BLUEPRINTS)
def test_the_docs_link_and_explain_it(name: str) -> None:
    """docs/blueprints.md has the import link (URL-encoded source_url) and every input."""
    docs = (BLUEPRINT_DIR.parents[2] / "docs" / "blueprints.md").read_text(encoding="utf-8")
    link = "https://my.home-assistant.io/redirect/blueprint_import/?blueprint_url="
    assert link + quote(SOURCE.format(name), safe="") in docs
    for key, spec in load(name).inputs.items():
        label = re.sub(r"Composite \d", "Composite N", spec["name"])
        assert f"*{label}*" in docs or f"*{spec['name']}*" in docs, key
