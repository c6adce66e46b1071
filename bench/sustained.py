"""Sustained throughput of the bridge: the highest rate at which the backlog stays flat.

    python bench/sustained.py                    # search, then 30 s at the rate found; 5 runs
    python bench/sustained.py --rates 2000 --duration 2 --runs 1 --out /tmp/s.json   # one rate

Per run: a private mosquitto and a real ``knobflow run`` process. A
raw-socket publisher (``rawmqtt.py``) sends Zigbee2MQTT rotation frames of
100 knobs in turn, in batches every 10 ms; a raw-socket subscriber counts the
gestures coming back. The backlog is sent - received (every frame makes one
gesture). A rate holds when, over the last two thirds of the run, the backlog
grows by less than 2 % of the rate per second and stays under one second of
messages, and every gesture arrives once the publisher stops.

Without ``--rates``: rates rise by 25 % from 1,000 msg/s, 5 s each, until one
fails; the last that held is then run for ``--duration`` s (30), stepping down
by 10 % until one holds. The same check on plain messages through the broker
(publisher → broker → subscriber, no bridge) at the rate found shows that the
instrument and the broker are not the limit.
"""

from __future__ import annotations

import argparse
import os
import select
import statistics
import time
from pathlib import Path
from typing import Any

from common import table, write_results
from harness import Harness, TurnFrames
from latency import cpu_seconds
from rawmqtt import PUBLISH, disconnect, publish_packet, split_packets, subscribe

KNOBS = 100
MAX_TRIALS = 40  # each trial turns knobs of its own, so that no turn runs on into the next
TICK = 0.01  # seconds between batches
PROBE_SECONDS = 5.0
PROBE_START = 1000
PROBE_STEP = 1.25
CONFIRM_STEP = 0.9
FLOOR_TOPIC = "bench/floor"
DRAIN = 5.0


class Counter:
    """PUBLISH packets in a byte stream."""

    def __init__(self) -> None:
        self.count = 0
        self._rest = b""

    def feed(self, data: bytes) -> None:
        buffer = self._rest + data if self._rest else data
        packets, rest = split_packets(buffer)
        self.count += sum(1 for first, _, _ in packets if first >> 4 == PUBLISH)
        self._rest = buffer[rest:]


def knob_names(trial: int) -> list[str]:
    return [f"t{trial:02d}_k{i:03d}" for i in range(KNOBS)]


def run_rate(h: Harness, rate: int, duration: float, *, floor: bool = False) -> dict[str, Any]:
    """Offer ``rate`` msg/s for ``duration`` s; sample the backlog every 100 ms."""
    h.trials += 1
    if h.trials >= MAX_TRIALS:
        raise RuntimeError("too many trials for one bridge")
    names = knob_names(h.trials)
    turns = {name: TurnFrames(name) for name in names}
    topics = [f"zigbee2mqtt/{name}" for name in names]
    filler = b"x" * 330
    pub, sub = h.connect(f"bench-load-{rate}"), h.connect(f"bench-count-{rate}")
    # this trial's knobs only: the last trial's turns end (rotate_stop) while this one runs
    subscribe(sub, [FLOOR_TOPIC] if floor else [f"knobflow/{name}/gesture" for name in names])
    counter = Counter()
    expect_extra = 0 if floor else KNOBS  # each knob's first frame also makes a rotate_start
    samples: list[tuple[float, int]] = []
    assert h.bridge is not None
    cpu_before = cpu_seconds(h.bridge.pid)
    clock = time.perf_counter
    start = clock()
    total = round(rate * duration)
    sent = 0
    next_tick = start
    next_sample = start + 0.1
    try:
        while sent < total:
            now = clock()
            if now >= next_tick:
                due = min(total, round((now - start + TICK) * rate))
                if due > sent:
                    batch = []
                    for i in range(sent, due):
                        if floor:
                            batch.append(publish_packet(FLOOR_TOPIC, filler))
                        else:
                            k = i % KNOBS
                            batch.append(publish_packet(topics[k], turns[names[k]].take()))
                    pub.sendall(b"".join(batch))
                    sent = due
                next_tick += TICK
            if now >= next_sample:
                samples.append((now - start, sent - min(sent, counter.count)))
                next_sample += 0.1
            wait = max(0.0, min(next_tick, next_sample) - clock())
            if select.select([sub], [], [], wait)[0]:
                counter.feed(sub.recv(1 << 20))
        elapsed = clock() - start
        expect = total + min(total, expect_extra)
        deadline = clock() + DRAIN
        while counter.count < expect and clock() < deadline:
            if select.select([sub], [], [], 0.05)[0]:
                counter.feed(sub.recv(1 << 20))
    finally:
        disconnect(pub)
        disconnect(sub)
    cpu = cpu_seconds(h.bridge.pid) - cpu_before
    received = counter.count - min(counter.count, expect_extra)
    return {
        "rate": rate,
        "offered_msgs_per_s": total / elapsed,
        "messages": total,
        "received": received,
        "bridge_cpu_us_per_message": cpu * 1e6 / total,
        **flatness(samples, rate, lost=received < total),
    }


def flatness(samples: list[tuple[float, int]], rate: int, lost: bool) -> dict[str, Any]:
    """Whether the backlog stayed flat over the last two thirds of the samples."""
    tail = samples[len(samples) // 3 :]
    if len(tail) < 2:
        return {"flat": not lost, "backlog_growth_per_s": 0.0, "max_backlog": 0}
    xs = [t for t, _ in tail]
    ys = [b for _, b in tail]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in tail) / var if var else 0.0
    peak = max(ys)
    flat = slope < 0.02 * rate and peak < rate and not lost
    return {"flat": flat, "backlog_growth_per_s": slope, "max_backlog": peak}


def one_run(rates: list[int] | None, duration: float) -> dict[str, Any]:
    with Harness([name for trial in range(MAX_TRIALS) for name in knob_names(trial)]) as h:
        trials = []
        if rates:
            trials = [run_rate(h, rate, duration) for rate in rates]
            held = [t["rate"] for t in trials if t["flat"]]
            best = max(held) if held else None
            floor_rate = max(rates)
        else:
            rate, best = PROBE_START, None
            while True:
                trial = run_rate(h, rate, PROBE_SECONDS)
                trials.append({**trial, "probe": True})
                if not trial["flat"]:
                    break
                best, rate = rate, round(rate * PROBE_STEP)
            confirmed = None
            candidate = best if best is not None else round(PROBE_START * CONFIRM_STEP)
            for _ in range(4):
                trial = run_rate(h, candidate, duration)
                trials.append(trial)
                if trial["flat"]:
                    confirmed = candidate
                    break
                candidate = round(candidate * CONFIRM_STEP)
            best = confirmed
            floor_rate = 2 * (best or PROBE_START)
        floor = run_rate(h, floor_rate, min(duration, 10.0), floor=True)
    return {"sustained_msgs_per_s": best, "trials": trials, "floor_check": floor}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rates", type=int, nargs="+", help="only these rates (no search)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds at the final rate")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    load = os.getloadavg()
    runs = [one_run(args.rates, args.duration) for _ in range(args.runs)]
    found = [r["sustained_msgs_per_s"] or 0 for r in runs]
    median = statistics.median(found)
    rows = []
    for number, run in enumerate(runs, 1):
        final = [t for t in run["trials"] if not t.get("probe")]
        last = final[-1] if final else run["trials"][-1]
        check = run["floor_check"]
        rows.append(
            [
                number,
                run["sustained_msgs_per_s"] or 0,
                last["bridge_cpu_us_per_message"],
                last["max_backlog"],
                check["rate"],
                "yes" if check["flat"] else "no",
            ]
        )
    headers = ["run", "sustained msg/s", "bridge CPU µs/msg", "max backlog", "floor msg/s"]
    print(table([*headers, "floor flat"], rows))
    data = {"runs": args.runs, "duration_s": args.duration, "loadavg_before": load}
    results = {"sustained_msgs_per_s": median, "per_run": found, "details": runs}
    path = write_results("sustained", {**data, **results}, args.out)
    print(f"\nmedian of {args.runs} runs: {median:,.0f} msg/s held for {args.duration:g} s; "
          f"load average before: {load[0]:.2f}; results in {path}")  # fmt: skip


if __name__ == "__main__":
    main()
