"""Engine throughput: messages per second through parsing and the engine, against the
`json.loads` floor on the same payloads.

    python bench/engine.py                 # 100 and 10,000 knobs, median of 5 runs
    python bench/engine.py --knobs 10 --runs 1 --min-messages 1000 --out /tmp/engine.json

The mix is every shared scenario (presses, holds, turns, lost stops, old
converters, Home Assistant nulls, ...) for each knob, interleaved in time, so
timers fire along the way; after the last message the clock runs on until every
turn and hold is closed.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from pathlib import Path

from common import devices_payload, knob_names, message_mix, table, write_results

from knobflow.engine import Engine
from knobflow.engine.parse import fast_decoder


def engine_rate(knobs: int, messages: list[tuple[float, str, bytes, bool]]) -> tuple[float, int]:
    engine = Engine()
    engine.feed("zigbee2mqtt/bridge/devices", devices_payload(knob_names(knobs)), 0.0, True)
    feed = engine.feed
    gestures = 0
    gc.collect()
    start = time.perf_counter()
    for t, topic, payload, retain in messages:
        gestures += len(feed(topic, payload, t, retain))
    while (deadline := engine.next_deadline()) is not None:
        gestures += len(engine.tick(deadline))
    elapsed = time.perf_counter() - start
    return len(messages) / elapsed, gestures


def loads_rate(messages: list[tuple[float, str, bytes, bool]]) -> float:
    loads = json.loads
    gc.collect()
    start = time.perf_counter()
    for _, _, payload, _ in messages:
        try:
            loads(payload)
        except ValueError:  # the mix has malformed payloads on purpose
            continue
    return len(messages) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--knobs", type=int, nargs="+", default=[100, 10_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--min-messages", type=int, default=100_000, help="per run (long enough to time)"
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rows = []
    results = []
    for knobs in args.knobs:
        per_cycle = len(message_mix(1))
        messages = message_mix(knobs, cycles=max(1, args.min_messages // (knobs * per_cycle)))
        gestures = engine_rate(knobs, messages)[1]
        # engine and floor in turn, so that each pair sees the same weather on a noisy machine
        pairs = [(engine_rate(knobs, messages)[0], loads_rate(messages)) for _ in range(args.runs)]
        engine_runs = [e for e, _ in pairs]
        floor_runs = [f for _, f in pairs]
        engine = statistics.median(engine_runs)
        floor = statistics.median(floor_runs)
        ratio = statistics.median(f / e for e, f in pairs)
        rows.append([knobs, len(messages), gestures, engine, floor, ratio])
        results.append(
            {
                "knobs": knobs,
                "messages": len(messages),
                "gestures": gestures,
                "engine_msgs_per_s": engine,
                "json_loads_msgs_per_s": floor,
                "ratio": ratio,
                "engine_runs": engine_runs,
                "json_loads_runs": floor_runs,
            }
        )
    print(
        table(["knobs", "messages", "gestures", "engine msg/s", "json.loads msg/s", "ratio"], rows)
    )
    print("ratio: json.loads msg/s over engine msg/s, median of the runs' pairs")
    print(f"the engine decodes payloads with {fast_decoder()} (orjson when installed)")
    path = write_results(
        "engine", {"runs": args.runs, "decoder": fast_decoder(), "results": results}, args.out
    )
    print(f"\nmedian of {args.runs} runs; results in {path}")


if __name__ == "__main__":
    main()
