"""The benchmark scripts of bench/ run end to end (on tiny sizes, timing nothing), so
that they never rot. All six run at once, each in a process of its own."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
TIMEOUT = 120

# script -> tiny arguments, and keys its results must have
SCRIPTS: dict[str, tuple[list[str], list[str]]] = {
    "engine": (["--knobs", "2", "--runs", "1", "--min-messages", "500"], ["results"]),
    "memory": (["--knobs", "20"], ["results"]),
    "latency": (["--rates", "200", "--duration", "0.25", "--runs", "1"], ["results"]),
    "sustained": (["--rates", "400", "--duration", "0.5", "--runs", "1"], ["per_run"]),
    "startup": (["--knobs", "1", "--runs", "1"], ["results"]),
    "costs": (["--rate", "200", "--duration", "0.3"], ["results"]),
}


@pytest.fixture(scope="module")
def finished(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, tuple[int, str, Path]]]:
    """Each script started with ``--out`` in a temporary folder; their exit codes and output."""
    folder = tmp_path_factory.mktemp("bench")
    started = {}
    for name, (args, _) in SCRIPTS.items():
        out = folder / f"{name}.json"
        started[name] = (
            subprocess.Popen(
                [sys.executable, str(BENCH / f"{name}.py"), *args, "--out", str(out)],
                cwd=BENCH,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            ),
            out,
        )
    results = {}
    try:
        for name, (process, out) in started.items():
            output, _ = process.communicate(timeout=TIMEOUT)
            results[name] = (process.returncode, output, out)
        yield results
    finally:
        for process, _ in started.values():
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_the_script_runs_and_writes_its_results(
    name: str, finished: dict[str, tuple[int, str, Path]]
) -> None:
    code, output, out = finished[name]
    assert code == 0, output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["benchmark"] == name
    assert data["machine"]["cpus"] >= 1
    for key in SCRIPTS[name][1]:
        assert data[key], (key, data)
    assert "results in" in output  # the table was printed, then where the results went


def test_the_fast_frames_are_the_simulators() -> None:
    """The load generator's cheap frames are byte for byte the simulator's."""
    sys.path.insert(0, str(BENCH))
    try:
        from harness import rotation_frames

        from knobflow.simulate import SimulatedKnob

        steps = SimulatedKnob("knob_a").turn([12] * 80, at=0.0, interval=0.2)[:80]
        assert rotation_frames("knob_a", 80) == [s.payload.encode() for s in steps]
    finally:
        sys.path.remove(str(BENCH))
