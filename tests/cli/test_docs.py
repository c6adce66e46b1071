"""The README stays true: generated parts in sync, its commands run, CI runs its test command."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from knobflow.cli import main

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def shell_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, re.S)


def test_generated_parts_of_the_readme_are_up_to_date() -> None:
    """Gesture table, lifecycle diagrams and config reference match the code."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "readme.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_quick_start_is_the_demo() -> None:
    """The README's first command installs and runs `knobflow demo` (tested in tests/bridge)."""
    assert shell_blocks(README)[0].strip().endswith("knobflow demo")


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run runs exactly the test command the README gives."""
    test_command = shell_blocks(README)[1].strip()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci.splitlines()


def test_example_session_replays(capsys: pytest.CaptureFixture[str]) -> None:
    """The README's example session replays cleanly to every kind of gesture it shows."""
    assert main(["replay", "--format", "jsonl", str(ROOT / "examples" / "session.jsonl")]) == 0
    out = capsys.readouterr().out
    for name in ["press", "double_press", "rotate_cw", "rotate_ccw", "rotate_while_held_cw",
                 "fast_spin_cw", "long_press"]:  # fmt: skip
        assert f'"gesture": "{name}"' in out
