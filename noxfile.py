"""Every test suite of knobflow, each in the virtual environment it needs.

nox                      # everything: lint, tests, appdaemon, homeassistant
nox -s tests             # one session
nox -s tests -- -k replay    # arguments after -- go to pytest
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess

import nox

nox.options.sessions = ["lint", "tests", "appdaemon", "homeassistant"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

DEV = [
    "pytest>=8",
    "hypothesis>=6.100",
    "pytest-asyncio>=0.23",
    "mypy>=1.10",
    "ruff>=0.5",
    "types-PyYAML",
]


def python(version: str) -> str:
    """An interpreter for ``version``: ``pythonX.Y`` on PATH if it runs, else one that pyenv
    installed but has not activated (its shims fail for versions not selected)."""
    found = shutil.which(f"python{version}")
    if (
        found
        and subprocess.run([found, "-c", ""], capture_output=True, check=False).returncode == 0
    ):
        return found
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = sorted(
        glob.glob(os.path.join(root, "versions", f"{version}.*", "bin", f"python{version}"))
    )
    return candidates[-1] if candidates else version


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff and mypy --strict over the package, the tests and the hosts."""
    session.install("-e", ".[bridge]", *DEV)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy", "--strict")


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """The engine, the CLI and the bridge, against real MQTT brokers."""
    session.install("-e", ".[bridge]", *DEV)
    session.run("pytest", "tests", *session.posargs)


@nox.session(python="3.11")
def appdaemon(session: nox.Session) -> None:
    """The AppDaemon app in real AppDaemon 4.5.13, in a venv of its own (AppDaemon pins
    pydantic and paho-mqtt, which clash with the bridge extra)."""
    session.install("appdaemon==4.5.13", "-e", ".", "pytest>=8")
    session.run("pytest", "tests/appdaemon", *session.posargs)


@nox.session(python=python("3.13"))
def homeassistant(session: nox.Session) -> None:
    """The blueprints in real Home Assistant 2026.2.3, with a private mosquitto (apt).

    Its own environment, pinned by requirements/homeassistant-constraints.txt:
    Home Assistant's pins clash with AppDaemon's. Home Assistant declares
    Python >= 3.13.2 but its test harness runs on 3.13.0, hence
    --ignore-requires-python. The suite has its own pytest configuration.
    """
    session.install(
        "--ignore-requires-python",
        "-r",
        "requirements/homeassistant.txt",
        "-c",
        "requirements/homeassistant-constraints.txt",
    )
    session.run(
        "pytest",
        "-c",
        "tests/homeassistant/pytest.ini",
        "--rootdir",
        "tests/homeassistant",
        "tests/homeassistant",
        *session.posargs,
        env={"LITELLM_LOCAL_MODEL_COST_MAP": "True"},
    )
    # The pyscript app in real pyscript: needs knobflow installed, and PYSCRIPT_SRC naming a
    # pyscript 1.7.0 checkout (without it the suite is skipped, with the reason shown).
    session.install("-e", ".", "-c", "requirements/homeassistant-constraints.txt")
    session.run("pytest", "tests/pyscript", *session.posargs)
