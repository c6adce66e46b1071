"""End-to-end latency through a real mosquitto: knob message sent → gesture received.

    python bench/latency.py                  # 100, 1,000 and 5,000 msg/s, 10 s each, 5 runs
    python bench/latency.py --rates 1000 --duration 3 --runs 1 --out /tmp/latency.json

Per run: a private mosquitto (``set_tcp_nodelay true``) and a real
``knobflow run`` process. For each rate, two phases with the same instrument:

- floor: plain messages published to ``bench/floor`` and received back by a
  subscriber — the broker's own round trip, and the instrument's ceiling;
- bridge: Zigbee2MQTT rotation frames of 100 knobs in turn (the knob of
  message *i* is *i* mod 100), each 12° further than that knob's previous
  frame, so each frame makes exactly one ``rotate_cw`` whose ``knob`` and
  ``angle`` name the frame. Each frame also changes the knob's retained state
  (link quality moves), so the bridge publishes two messages per frame.

The instrument is one process with two raw-socket MQTT connections
(``rawmqtt.py``): it writes pre-encoded PUBLISH packets on a precise schedule
(``time.perf_counter``) and timestamps every read of the subscriber's socket.
Latency of a message = time of the read that completed its gesture - time
just before its packet was written. CPU seconds of the bridge, the broker and
the instrument are reported per message.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import select
import statistics
import time
from pathlib import Path
from typing import Any

from common import noise, table, write_results
from harness import Harness, rotation_frames
from rawmqtt import PUBLISH, disconnect, publish_packet, split_packets, subscribe

KNOBS_PER_RATE = 100
DRAIN = 3.0  # seconds to wait for the last gestures after the last message
FLOOR_TOPIC = "bench/floor"
PAYLOAD_SIZE = 330  # about a Zigbee2MQTT rotation frame


def knob_names(rate: int) -> list[str]:
    return [f"r{rate}_k{i:03d}" for i in range(KNOBS_PER_RATE)]


def cpu_seconds(pid: int) -> float:
    """CPU seconds of a process so far: the scheduler's own count (Linux
    /proc/PID/schedstat, nanoseconds), else user + system ticks."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    return cpu_seconds(os.getpid())


def drive(
    pub: Any, sub: Any, packets: list[bytes], rate: float, expect: int
) -> tuple[list[float], list[tuple[float, bytes]]]:
    """Write ``packets`` at ``rate`` per second on ``pub`` while reading ``sub``.

    Returns the send time of each packet and every read as ``(time, bytes)``;
    stops ``DRAIN`` seconds after the last write or once ``expect`` PUBLISH
    packets have been read.
    """
    clock = time.perf_counter
    count = len(packets)
    sent = [0.0] * count
    reads: list[tuple[float, bytes]] = []
    recv = sub.recv
    sendall = pub.sendall
    start = clock() + 0.05
    interval = 1.0 / rate
    schedule = [start + i * interval for i in range(count)]
    index = 0
    end = None
    counter = _Counter()
    check = 0.0
    while True:
        now = clock()
        if index < count and schedule[index] <= now:
            stop = index + 1
            while stop < count and schedule[stop] <= now:
                stop += 1
            sendall(b"".join(packets[index:stop]) if stop - index > 1 else packets[index])
            for i in range(index, stop):
                sent[i] = now
            index = stop
            if index == count:
                end = clock() + DRAIN
            continue
        if index < count:
            timeout = max(0.0, schedule[index] - now)
        else:
            assert end is not None
            if now >= end:
                break
            if now >= check:  # at most every 50 ms: are they all in?
                check = now + 0.05
                if counter.count(reads) >= expect:
                    break
            timeout = min(0.05, end - now)
        if select.select([sub], [], [], timeout)[0]:
            data = recv(1 << 20)
            reads.append((clock(), data))
    return sent, reads


class _Counter:
    """PUBLISH packets in the reads so far, counted from where the last count stopped."""

    def __init__(self) -> None:
        self.seen = 0
        self.total = 0
        self.buffer = b""

    def count(self, reads: list[tuple[float, bytes]]) -> int:
        for _, data in reads[self.seen :]:
            self.buffer += data
            packets, rest = split_packets(self.buffer)
            self.total += sum(1 for first, _, _ in packets if first >> 4 == PUBLISH)
            self.buffer = self.buffer[rest:]
        self.seen = len(reads)
        return self.total


def publishes(reads: list[tuple[float, bytes]]) -> list[tuple[float, str, bytes]]:
    """Every PUBLISH read, as ``(time of the read that completed it, topic, payload)``."""
    out = []
    buffer = b""
    for at, data in reads:
        buffer += data
        packets, rest = split_packets(buffer)
        for first, start, end in packets:
            if first >> 4 != PUBLISH:
                continue
            topic_end = start + 2 + ((buffer[start] << 8) | buffer[start + 1])
            payload_start = topic_end + (2 if first & 0x06 else 0)
            out.append((at, buffer[start + 2 : topic_end].decode(), buffer[payload_start:end]))
        buffer = buffer[rest:]
    return out


def floor_phase(h: Harness, rate: int, duration: float) -> dict[str, Any]:
    count = max(1, round(rate * duration))
    packets = [
        publish_packet(FLOOR_TOPIC, f"{i:08d}".encode().ljust(PAYLOAD_SIZE, b"x"))
        for i in range(count)
    ]
    pub, sub = h.connect(f"bench-pub-{rate}"), h.connect(f"bench-sub-{rate}")
    subscribe(sub, [FLOOR_TOPIC])
    try:
        sent, reads, cpu = _measured(h, pub, sub, packets, rate, count)
    finally:
        disconnect(pub)
        disconnect(sub)
    latencies = []
    for at, _, payload in publishes(reads):
        latencies.append(at - sent[int(payload[:8])])
    return summary(latencies, count, cpu)


def bridge_phase(h: Harness, rate: int, duration: float) -> dict[str, Any]:
    count = max(1, round(rate * duration))
    names = knob_names(rate)
    per_knob = -(-count // len(names))
    frames = {name: rotation_frames(name, per_knob) for name in names}
    packets = []
    for i in range(count):
        name = names[i % len(names)]
        packets.append(publish_packet(f"zigbee2mqtt/{name}", frames[name][i // len(names)]))
    pub, sub = h.connect(f"bench-z2m-{rate}"), h.connect(f"bench-app-{rate}")
    subscribe(sub, ["knobflow/+/gesture"])
    # every frame makes a rotate_cw; each knob's first frame a rotate_start as well
    expect = count + min(count, len(names))
    try:
        sent, reads, cpu = _measured(h, pub, sub, packets, rate, expect)
    finally:
        disconnect(pub)
        disconnect(sub)
    index_of = {name: i for i, name in enumerate(names)}
    latencies = []
    for at, _, payload in publishes(reads):
        gesture = json.loads(payload)
        if gesture["gesture"] != "rotate_cw":
            continue
        frame = round(gesture["angle"] / 12) - 1
        latencies.append(at - sent[frame * len(names) + index_of[gesture["knob"]]])
    return summary(latencies, count, cpu)


def _measured(
    h: Harness, pub: Any, sub: Any, packets: list[bytes], rate: int, expect: int
) -> tuple[list[float], list[tuple[float, bytes]], dict[str, float]]:
    assert h.bridge is not None
    assert h.broker.process is not None
    pids = {"bridge": h.bridge.pid, "broker": h.broker.process.pid}
    before = {k: cpu_seconds(p) for k, p in pids.items()}
    mine = own_cpu()
    gc.collect()
    gc.disable()
    try:
        sent, reads = drive(pub, sub, packets, rate, expect)
    finally:
        gc.enable()
    cpu = {k: cpu_seconds(p) - before[k] for k, p in pids.items()}
    cpu["instrument"] = own_cpu() - mine
    return sent, reads, cpu


def summary(latencies: list[float], count: int, cpu: dict[str, float]) -> dict[str, Any]:
    ms = sorted(x * 1000 for x in latencies)
    if not ms:
        raise RuntimeError("no message came back")
    return {
        "messages": count,
        "received": len(ms),
        "p50_ms": ms[len(ms) // 2],
        "p99_ms": ms[min(len(ms) - 1, int(len(ms) * 0.99))],
        "max_ms": ms[-1],
        "cpu_us_per_message": {k: v * 1e6 / count for k, v in cpu.items()},
    }


def one_run(rates: list[int], duration: float) -> dict[int, dict[str, Any]]:
    knobs = [name for rate in rates for name in knob_names(rate)]
    out = {}
    with Harness(knobs) as h:
        for rate in rates:
            floor = floor_phase(h, rate, duration)
            bridge = bridge_phase(h, rate, duration)
            out[rate] = {"floor": floor, "bridge": bridge}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rates", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    load = os.getloadavg()
    steadiness = noise(min(3.0, args.duration))
    runs = [one_run(args.rates, args.duration) for _ in range(args.runs)]
    rows, results = [], []
    for rate in args.rates:
        phases = [run[rate] for run in runs]

        def med(phase: str, key: str, ps: list[dict[str, Any]] = phases) -> float:
            return statistics.median(p[phase][key] for p in ps)

        def cpu(phase: str, who: str, ps: list[dict[str, Any]] = phases) -> float:
            return statistics.median(p[phase]["cpu_us_per_message"][who] for p in ps)

        result = {
            "rate": rate,
            "p50_ms": med("bridge", "p50_ms"),
            "p99_ms": med("bridge", "p99_ms"),
            "max_ms": med("bridge", "max_ms"),
            "floor_p50_ms": med("floor", "p50_ms"),
            "floor_p99_ms": med("floor", "p99_ms"),
            "floor_max_ms": med("floor", "max_ms"),
            "bridge_cpu_us_per_message": cpu("bridge", "bridge"),
            "broker_cpu_us_per_message": cpu("bridge", "broker"),
            "instrument_cpu_us_per_message": cpu("bridge", "instrument"),
            "floor_instrument_cpu_us_per_message": cpu("floor", "instrument"),
            "runs": phases,
        }
        result["p99_above_floor_ms"] = result["p99_ms"] - result["floor_p99_ms"]
        result["ratio_p50"] = result["p50_ms"] / result["floor_p50_ms"]
        result["ratio_p99"] = result["p99_ms"] / result["floor_p99_ms"]
        results.append(result)
        rows.append(
            [
                rate,
                result["p50_ms"],
                result["p99_ms"],
                result["max_ms"],
                result["floor_p50_ms"],
                result["floor_p99_ms"],
                result["p99_above_floor_ms"],
                result["ratio_p50"],
                result["bridge_cpu_us_per_message"],
            ]
        )
    headers = ["msg/s", "p50 ms", "p99 ms", "max ms", "floor p50", "floor p99"]
    headers += ["p99 - floor", "ratio p50", "bridge CPU µs/msg"]
    print(table(headers, rows))
    data = {"runs": args.runs, "duration_s": args.duration, "loadavg_before": load}
    data["machine_noise"] = steadiness
    path = write_results("latency", {**data, "results": results}, args.out)
    print(f"\nmedian of {args.runs} runs of {args.duration:g} s per phase; load average before: "
          f"{load[0]:.2f}; machine noise: a {steadiness['median_us']:.0f} µs task run every "
          f"ms has p99 {steadiness['p99_us']:.0f} µs ({steadiness['p99_over_median']:.1f}×); "
          f"results in {path}")  # fmt: skip


if __name__ == "__main__":
    main()
