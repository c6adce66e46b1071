"""What one message costs on this machine, below knobflow: the floor under the
bridge's latency and throughput figures.

    python bench/costs.py                     # 1,000 msg/s, 5 s per measurement
    python bench/costs.py --rate 200 --duration 1 --out /tmp/costs.json

Three CPU costs per message, each at the same steady rate, one message at a time:

- ``asyncio wakeup``: a bare asyncio program woken by one byte on a socket
  (``loop.add_reader``) and reading it. Nothing else runs in it: the cost of
  waking a Python event loop on this machine.
- ``bridge, message ignored``: a real ``knobflow run`` receiving messages on a
  Zigbee2MQTT topic that is not a knob (``zigbee2mqtt/lamp``), through a
  private mosquitto: aiomqtt/paho reading the packet, the router dropping it.
  No engine work, nothing published.
- ``bridge, one gesture each``: the same bridge receiving rotation frames of
  100 knobs, each making a ``rotate_cw`` and a new retained state (two
  publications), as in ``latency.py``.

The broker's own CPU per message is shown beside the bridge's for scale
(mosquitto is C).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import time
from pathlib import Path
from typing import Any

from common import table, write_results
from harness import Harness, rotation_frames
from latency import _measured, cpu_seconds, knob_names
from rawmqtt import disconnect, publish_packet, subscribe


def _send_steadily(sock: socket.socket, count: int, rate: float) -> None:
    """Write one byte ``count`` times at ``rate`` per second, then ``q``."""
    clock = time.perf_counter
    at = clock()
    for _ in range(count):
        at += 1.0 / rate
        while (left := at - clock()) > 0:
            time.sleep(left)
        sock.send(b"x")
    sock.send(b"q")


def asyncio_wakeup(rate: float, duration: float) -> float:
    """CPU µs per wakeup of a bare asyncio reader (in a child process, so that the
    writer's CPU is not counted)."""
    count = max(1, round(rate * duration))
    ours, theirs = socket.socketpair()
    child = os.fork()
    if child == 0:  # the writer
        ours.close()
        try:
            _send_steadily(theirs, count, rate)
        finally:
            os._exit(0)
    theirs.close()
    ours.setblocking(False)

    async def read_all() -> tuple[int, float]:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        wakeups = 0

        def readable() -> None:
            nonlocal wakeups
            wakeups += 1
            data = ours.recv(4096)
            if b"q" in data or not data:
                loop.remove_reader(ours)
                done.set_result(None)

        loop.add_reader(ours, readable)
        start = cpu_seconds(os.getpid())
        await done
        return wakeups, cpu_seconds(os.getpid()) - start

    try:
        wakeups, cpu = asyncio.run(read_all())
    finally:
        ours.close()
        os.waitpid(child, 0)
    return cpu * 1e6 / wakeups


def bridge_costs(rate: int, duration: float) -> dict[str, dict[str, float]]:
    """Bridge and broker CPU µs per message: ignored messages, then gesture frames."""
    count = max(1, round(rate * duration))
    names = knob_names(rate)
    out = {}
    with Harness(names) as h:
        frame = rotation_frames("lamp", 1)[0]
        ignored = [publish_packet("zigbee2mqtt/lamp", frame) for _ in range(count)]
        per_knob = -(-count // len(names))
        frames = {name: rotation_frames(name, per_knob) for name in names}
        gestures = []
        for i in range(count):
            name = names[i % len(names)]
            gestures.append(publish_packet(f"zigbee2mqtt/{name}", frames[name][i // len(names)]))
        # every frame makes a rotate_cw; each knob's first frame a rotate_start as well
        for label, packets, expect in [
            ("ignored", ignored, 0),
            ("gesture", gestures, count + min(count, len(names))),
        ]:
            pub, sub = h.connect(f"costs-pub-{label}"), h.connect(f"costs-sub-{label}")
            if expect:
                subscribe(sub, ["knobflow/+/gesture"])
            try:
                cpu = _measured(h, pub, sub, packets, rate, max(expect, 1))[2]
            finally:
                disconnect(pub)
                disconnect(sub)
            out[label] = {who: cpu[who] * 1e6 / count for who in ("bridge", "broker")}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=int, default=1000, help="messages per second")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    wakeup = asyncio_wakeup(args.rate, args.duration)
    bridge = bridge_costs(args.rate, args.duration)
    rows: list[list[Any]] = [
        ["asyncio wakeup (bare program)", wakeup, "-"],
        ["bridge, message ignored", bridge["ignored"]["bridge"], bridge["ignored"]["broker"]],
        ["bridge, one gesture each", bridge["gesture"]["bridge"], bridge["gesture"]["broker"]],
    ]
    print(table(["CPU µs per message", "knobflow / Python", "mosquitto"], rows))
    path = write_results(
        "costs",
        {
            "rate": args.rate,
            "duration_s": args.duration,
            "results": {"asyncio_wakeup_us": wakeup, "bridge": bridge},
        },
        args.out,
    )
    print(f"\nat {args.rate:,} msg/s, one message at a time; results in {path}")


if __name__ == "__main__":
    main()
