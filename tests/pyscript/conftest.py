"""Real pyscript in a real Home Assistant: the knobflow pyscript app as users run it.

Needs Home Assistant's test environment (``nox -s homeassistant``) and a checkout of
pyscript 1.7.0 named by ``PYSCRIPT_SRC`` (its ``custom_components/pyscript``). Without
either, every test here is skipped with the reason shown.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

PYSCRIPT_SRC = os.environ.get("PYSCRIPT_SRC", "")
HAVE_HA = importlib.util.find_spec("pytest_homeassistant_custom_component") is not None

if not PYSCRIPT_SRC:
    SKIP_REASON: str | None = (
        "PYSCRIPT_SRC is not set: point it at a checkout of pyscript 1.7.0 "
        "(custom-components/pyscript) to run the real-pyscript suite"
    )
elif not HAVE_HA:
    SKIP_REASON = "Home Assistant's test environment is not installed: run `nox -s homeassistant`"
elif not (Path(PYSCRIPT_SRC) / "custom_components" / "pyscript" / "__init__.py").is_file():
    raise pytest.UsageError(f"PYSCRIPT_SRC={PYSCRIPT_SRC} has no custom_components/pyscript")
else:
    SKIP_REASON = None
    # Home Assistant finds custom integrations through the `custom_components` package;
    # it must come from the checkout, imported now (else "Integration not found"). Only
    # that package is taken from the checkout: its folder also holds a `tests` package.
    _package = Path(PYSCRIPT_SRC).resolve() / "custom_components"
    _spec = importlib.util.spec_from_file_location(
        "custom_components", _package / "__init__.py", submodule_search_locations=[str(_package)]
    )
    assert _spec is not None and _spec.loader is not None
    sys.modules["custom_components"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["custom_components"])
    importlib.import_module("custom_components.pyscript")

    # A conversation dependency of Home Assistant's base components would fetch a model
    # cost map from the network at import time.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if SKIP_REASON is None:
        return
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


if SKIP_REASON is None:
    from collections.abc import AsyncIterator, Iterator

    from homeassistant.core import HomeAssistant
    from ps_harness import PyscriptApp
    from tests.support.mosquitto import Mosquitto

    @pytest.fixture(autouse=True)
    def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
        """Let Home Assistant load pyscript from ``custom_components``."""

    @pytest.fixture
    def broker(socket_enabled: None, tmp_path: Path) -> Iterator[Mosquitto]:
        """A private mosquitto on a free loopback port."""
        with Mosquitto(tmp_path / "mosquitto") as mosquitto:
            yield mosquitto

    @pytest.fixture
    async def app(
        hass: HomeAssistant, broker: Mosquitto, tmp_path: Path
    ) -> AsyncIterator[PyscriptApp]:
        """Home Assistant connected to the broker, the app copied into its config dir."""
        env = PyscriptApp(hass, broker.port, tmp_path / "config")
        await env.start_mqtt()
        yield env
        await env.stop()
