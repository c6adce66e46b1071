"""Memory per knob: resident memory of an engine with N knobs registered (from
`bridge/devices`) and each mid-gesture (held, and turning while held).

    python bench/memory.py                     # 10,000 knobs
    python bench/memory.py --knobs 100 1000 10000

Each size is measured in a fresh process: RSS after building the engine with
its knobs, minus RSS of the same process before (interpreter, imports and the
input messages already loaded), divided by N.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from common import table, write_results

CHILD = r"""
import gc, json, os, sys, tracemalloc
sys.path.insert(0, {bench!r})
from common import devices_payload, knob_names
from knobflow.engine import Engine

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

n = {knobs}
names = knob_names(n)
devices = devices_payload(names)
hold = b'{{"action":"hold","battery":90,"linkquality":120,"operation_mode":"event","voltage":2985}}'
turn = (b'{{"action":"start_rotating","action_rotation_angle":12,"action_rotation_angle_speed":12,'
        b'"action_rotation_button_state":"pressed","action_rotation_percent":3.3333332538604736,'
        b'"action_rotation_percent_speed":3.3333332538604736,"action_rotation_time":200,'
        b'"battery":90,"linkquality":120,"operation_mode":"event","voltage":2985}}')
topics = ["zigbee2mqtt/" + name for name in names]
gc.collect()
before = rss()
if {trace}:
    tracemalloc.start()
engine = Engine()
engine.feed("zigbee2mqtt/bridge/devices", devices, 0.0, True)
for i, topic in enumerate(topics):
    engine.feed(topic, hold, 1.0 + i * 1e-5)
    engine.feed(topic, turn, 1.0 + i * 1e-5)
gc.collect()
traced = tracemalloc.get_traced_memory()[0] if {trace} else 0
after = rss()
states = sum(1 for name in names if engine.knob_state(name)["dial"] == "rotating")
result = {{"rss_before": before, "rss_after": after, "traced": traced, "rotating": states}}
print(json.dumps(result))
"""


def child(knobs: int, trace: bool) -> dict[str, int]:
    bench = str(Path(__file__).resolve().parent)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD.format(bench=bench, knobs=knobs, trace=trace)],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "0"},
    )  # fmt: skip
    data: dict[str, int] = json.loads(proc.stdout)
    assert data["rotating"] == knobs, data
    return data


def measure(knobs: int) -> dict[str, float]:
    data = child(knobs, trace=False)  # RSS without tracemalloc's own bookkeeping
    data["traced"] = child(knobs, trace=True)["traced"]
    rss = data["rss_after"] - data["rss_before"]
    return {
        "knobs": knobs,
        "rss_bytes": rss,
        "rss_bytes_per_knob": rss / knobs,
        "traced_bytes_per_knob": data["traced"] / knobs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--knobs", type=int, nargs="+", default=[10_000])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = [measure(n) for n in args.knobs]
    rows = [
        [r["knobs"], r["rss_bytes"] / 2**20, r["rss_bytes_per_knob"], r["traced_bytes_per_knob"]]
        for r in results
    ]
    print(table(["knobs", "RSS MiB", "RSS bytes/knob", "Python bytes/knob"], rows))
    path = write_results("memory", {"results": results}, args.out)
    print(f"\nresults in {path}")


if __name__ == "__main__":
    main()
