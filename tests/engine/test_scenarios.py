"""Every recorded scenario replays to exactly its expected gestures (docs/contract.md §5)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from knobflow.cli import main
from knobflow.testing import gestures_differ

SCENARIOS = Path(__file__).parent.parent / "scenarios"
INDEX = json.loads((SCENARIOS / "index.json").read_text(encoding="utf-8"))["scenarios"]


def load_jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("scenario", INDEX, ids=[s["name"] for s in INDEX])
def test_scenario_replays_to_expected_gestures(
    scenario: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """`knobflow replay --format jsonl` prints the scenario's expected gestures and exit status."""
    argv = ["replay", "--format", "jsonl", str(SCENARIOS / scenario["file"])]
    if scenario.get("config"):
        argv += ["--config", str(SCENARIOS / scenario["config"])]
    status = main(argv)
    out = capsys.readouterr().out
    expected = load_jsonl((SCENARIOS / scenario["expected"]).read_text(encoding="utf-8"))
    assert gestures_differ(expected, load_jsonl(out)) is None
    assert status == scenario.get("exit_status", 0)


def test_installed_command_replays_a_scenario() -> None:
    """The `knobflow` console script runs as a program, not only in-process."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "knobflow.cli",
            "replay",
            "--format",
            "jsonl",
            str(SCENARIOS / "slow_cw.jsonl"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    expected = load_jsonl((SCENARIOS / "slow_cw.expected.jsonl").read_text(encoding="utf-8"))
    assert gestures_differ(expected, load_jsonl(proc.stdout)) is None


def test_differences_are_detected() -> None:
    """The comparison used above fails on a changed number, field or order."""
    expected = load_jsonl((SCENARIOS / "slow_cw.expected.jsonl").read_text(encoding="utf-8"))
    changed = [dict(g) for g in expected]
    changed[2]["velocity"] += 0.001
    assert gestures_differ(expected, changed) is not None
    assert gestures_differ(expected, expected[:-1]) is not None
    assert gestures_differ(expected, [expected[1], expected[0], *expected[2:]]) is not None
    flag = [dict(g) for g in expected]
    flag[0]["angle"] = True
    assert gestures_differ(expected, flag) is not None
