"""Start-up: ``knobflow run`` from process start to Home Assistant discovery published.

    python bench/startup.py                  # 1 and 100 knobs, median of 5 runs
    python bench/startup.py --knobs 1 --runs 1 --out /tmp/startup.json

Per run: a private mosquitto holding a retained ``zigbee2mqtt/bridge/devices``
(the simulator's: a coordinator, the knobs, a light), a raw-socket subscriber
on ``homeassistant/#`` and ``knobflow/status``, then ``knobflow run`` with
discovery on (the defaults) as a new process. Times are from just before the
process is started to the retained ``online``, and to the last of the
discovery configs (a device trigger per gesture and an event entity, per
knob). The bare interpreter's start (``python -c pass``) is shown for scale.
"""

from __future__ import annotations

import argparse
import os
import select
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import table, write_results
from harness import Harness
from rawmqtt import PacketReader, disconnect, publish_packet, subscribe

from knobflow.engine import BUILTIN_GESTURES
from knobflow.simulate import SimulatedKnob, bridge_devices

TIMEOUT = 30.0


def one_start(knobs: int) -> dict[str, float]:
    names = [f"knob_{i:03d}" for i in range(knobs)]
    devices = bridge_devices(
        SimulatedKnob(name, f"0x54ef4410{i:08x}") for i, name in enumerate(names)
    )
    expected = knobs * (len(BUILTIN_GESTURES) + 1)
    with Harness([], discovery=True, start_bridge=False) as h:
        z2m = h.connect("bench-z2m")
        z2m.sendall(publish_packet("zigbee2mqtt/bridge/devices", devices.encode(), retain=True))
        ha = h.connect("bench-ha")
        subscribe(ha, ["homeassistant/#", "knobflow/status"])
        reader = PacketReader()
        online = discovered = 0.0
        configs: set[str] = set()
        h.launch()
        start = h.bridge_started
        try:
            deadline = start + TIMEOUT
            while not (online and discovered):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"no discovery within {TIMEOUT} s:\n{h.log()}")
                if not select.select([ha], [], [], left)[0]:
                    continue
                data = ha.recv(1 << 20)
                now = time.monotonic()
                for topic, payload in reader.feed(data):
                    if topic == "knobflow/status" and payload == b"online" and not online:
                        online = now - start
                    elif topic.endswith("/config") and payload:
                        configs.add(topic)
                        if len(configs) == expected and not discovered:
                            discovered = now - start
        finally:
            disconnect(ha)
            disconnect(z2m)
    return {"online_s": online, "discovery_s": discovered, "configs": len(configs)}


def interpreter_start() -> float:
    start = time.monotonic()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--knobs", type=int, nargs="+", default=[1, 100])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    load = os.getloadavg()
    bare = statistics.median(interpreter_start() for _ in range(args.runs))
    rows, results = [], []
    for knobs in args.knobs:
        runs = [one_start(knobs) for _ in range(args.runs)]
        result: dict[str, Any] = {
            "knobs": knobs,
            "configs": runs[0]["configs"],
            "online_s": statistics.median(r["online_s"] for r in runs),
            "discovery_s": statistics.median(r["discovery_s"] for r in runs),
            "runs": runs,
        }
        results.append(result)
        rows.append(
            [knobs, result["configs"], result["online_s"] * 1000, result["discovery_s"] * 1000]
        )
    print(table(["knobs", "discovery configs", "online ms", "discovery done ms"], rows))
    data = {"runs": args.runs, "python_c_pass_s": bare, "loadavg_before": load}
    path = write_results("startup", {**data, "results": results}, args.out)
    print(f"\nmedian of {args.runs} runs; `python -c pass` takes {bare * 1000:.0f} ms here; "
          f"load average before: {load[0]:.2f}; results in {path}")  # fmt: skip


if __name__ == "__main__":
    main()
