"""Installed without the ``bridge`` extra, the commands that need it say so in one line
(exit status 2, no traceback); the engine's commands still work.

The extra's modules are hidden from a real ``knobflow`` process by a finder on
``sys.meta_path`` (a ``sitecustomize`` module in a temporary folder on ``PYTHONPATH``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HIDDEN = ("aiomqtt", "paho", "amqtt", "jinja2")
BLOCKER = f"""
import sys

HIDDEN = {HIDDEN!r}


class Hide:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HIDDEN:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, Hide())
"""
SESSION = '{"t": 0, "topic": "zigbee2mqtt/desk", "payload": {"action": "single"}}\n'


def _knobflow(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from knobflow.cli import main; sys.exit(main())",
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["run"], "aiomqtt, jinja2"),
        (["demo", "--speed", "8"], "aiomqtt, jinja2, amqtt"),
        (["record", "--knob", "desk", "-o", "out.jsonl"], "aiomqtt"),
        (["replay", "--flows", "session.jsonl"], "jinja2"),
    ],
)
def test_a_command_needing_the_extra_names_it_and_exits_2(
    tmp_path: Path, args: list[str], names: str
) -> None:
    (tmp_path / "session.jsonl").write_text(SESSION, encoding="utf-8")
    result = _knobflow(tmp_path, *args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"needs {names} (not installed)" in lines[0]
    assert "pip install 'knobflow[bridge]'" in lines[0]
    assert "Traceback" not in result.stderr


def test_the_engine_commands_work_without_the_extra(tmp_path: Path) -> None:
    session = Path(__file__).parents[1] / "scenarios" / "single_press.jsonl"
    result = _knobflow(tmp_path, "replay", str(session))
    assert result.returncode == 0, result.stderr
    assert "desk_knob       press" in result.stdout
