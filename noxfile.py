"""Every test suite of knobflow, each in the virtual environment it needs.

    nox                      # everything: lint, tests, appdaemon, homeassistant
    nox -s tests             # one session
    nox -s tests -- -k replay    # arguments after -- go to pytest
"""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "tests", "appdaemon", "homeassistant"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

DEV = ["pytest>=8", "hypothesis>=6.100", "pytest-asyncio>=0.23", "mypy>=1.10", "ruff>=0.5",
       "types-PyYAML"]


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
