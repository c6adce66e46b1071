"""Shared by the benchmark scripts: the message mix, tables, results files, machine facts."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "tests" / "scenarios"
RESULTS = ROOT / "bench" / "results"
KNOB_IN_SCENARIOS = "desk_knob"

Message = tuple[float, str, bytes, bool]


def scenario_records() -> list[tuple[float, str, Any, bool]]:
    """Every message of every shared scenario except bridge/devices, as (t, topic, payload, retain).

    Scenarios are laid end to end (80 s apart) so their timers all fire.
    """
    out = []
    offset = 0.0
    for path in sorted(SCENARIOS.glob("*.jsonl")):
        if path.name.endswith(".expected.jsonl"):
            continue
        last = 0.0
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            rec = json.loads(line)
            if rec["topic"].endswith("/bridge/devices"):
                continue
            out.append((offset + rec["t"], rec["topic"], rec["payload"], rec.get("retain", False)))
            last = rec["t"]
        offset += last + 80.0
    return out


def knob_names(count: int) -> list[str]:
    return [f"knob_{i:05d}" for i in range(count)]


def devices_payload(names: Sequence[str]) -> bytes:
    devices = [
        {
            "friendly_name": name,
            "ieee_address": f"0x54ef4410{i:08x}",
            "type": "EndDevice",
            "definition": {"model": "ZNXNKG02LM", "vendor": "Aqara"},
            "model_id": "lumi.remote.rkba01",
        }
        for i, name in enumerate(names)
    ]
    return json.dumps(devices).encode()


def message_mix(knobs: int, cycles: int = 1) -> list[Message]:
    """The scenarios' messages for each of ``knobs`` knobs, interleaved in time, raw bytes;
    ``cycles`` times over."""
    names = knob_names(knobs)
    spread = 0.5 / max(knobs, 1)  # knobs start a little apart within half a second
    records = scenario_records()
    span = records[-1][0] + 80.0
    out: list[Message] = []
    for cycle in range(cycles):
        for t, topic, payload, retain in records:
            raw = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
            for index, name in enumerate(names):
                at = cycle * span + t + index * spread
                out.append((at, topic.replace(KNOB_IN_SCENARIOS, name), raw, retain))
    out.sort(key=lambda m: m[0])
    return out


def noise(seconds: float = 3.0) -> dict[str, float]:
    """How steady this machine is: a fixed small workload (a few ``json.loads``) run
    every millisecond; its median, 99th percentile and worst time in microseconds.
    On a quiet machine the p99 is close to the median; a p99 many times the median
    means stalls that no program on it can avoid (they show in every latency tail)."""
    payload = b'{"action":"rotation","action_rotation_angle":24,"battery":90}'
    loads = json.loads
    clock = time.perf_counter
    times = []
    next_at = clock()
    end = next_at + seconds
    while next_at < end:
        next_at += 0.001
        delay = next_at - clock()
        if delay > 0:
            time.sleep(delay)
        start = clock()
        for _ in range(8):
            loads(payload)
        times.append(clock() - start)
    times.sort()
    median = times[len(times) // 2]
    return {
        "median_us": median * 1e6,
        "p99_us": times[int(len(times) * 0.99)] * 1e6,
        "max_us": times[-1] * 1e6,
        "p99_over_median": times[int(len(times) * 0.99)] / median,
    }


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "cpu": _cpu_model(),
        "date": time.strftime("%Y-%m-%d"),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers], *[[_fmt(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [
        "  ".join(
            c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value >= 1000:
            return f"{value:,.0f}"
        return f"{value:.3g}" if value < 10 else f"{value:.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def write_results(name: str, results: dict[str, Any], out: Path | None) -> Path:
    path = out or RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": name,
        "machine": machine(),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        **results,
    }
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return path
