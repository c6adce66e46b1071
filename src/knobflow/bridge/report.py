"""What the bridge says in its log: the start line, the knobs, the counters."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from knobflow import __version__
from knobflow.bridge.connect import BrokerSettings
from knobflow.bridge.outbox import Outbox
from knobflow.config import Config
from knobflow.output import status_topic

__all__ = ["counter_text", "knobs_line", "start_line"]


def start_line(config: Config, settings: BrokerSettings, named: int) -> str:
    """Broker, topics and knobs, in one line (never the password)."""
    z2m, out, ha = config.zigbee2mqtt, config.output.base_topic, config.homeassistant
    knobs = f"{named} named in config" if named else "none named in config"
    if z2m.discover:
        knobs += f", plus every ZNXNKG02LM in {z2m.base_topic}/bridge/devices"
    discovery = (
        f"Home Assistant discovery under {ha.prefix}/"
        if ha.discovery
        else "no Home Assistant discovery"
    )
    flows = f"; {len(config.flows)} flow rule{'s' if len(config.flows) != 1 else ''}"
    return (
        f"knobflow {__version__} bridge: broker {settings.describe()}; "
        f"reading {z2m.base_topic}/# (knobs: {knobs}); "
        f"publishing {out}/<knob>/gesture, {out}/<knob>/state and {status_topic(out)}; "
        f"{discovery}{flows if config.flows else ''}"
    )


def knobs_line(names: Sequence[str]) -> str:
    """``2 knobs: 'desk_knob', 'hall_knob'`` (at most ten named)."""
    if not names:
        return "no knobs yet (none named in config, none in bridge/devices)"
    shown = ", ".join(repr(n) for n in names[:10]) + (", ..." if len(names) > 10 else "")
    return f"{len(names)} knob{'s' if len(names) != 1 else ''}: {shown}"


def counter_text(engine: Mapping[str, int], bridge: Mapping[str, int], outbox: Outbox) -> str:
    """Engine and bridge counters as ``name=value`` pairs; ``dropped`` sums every drop."""
    merged: Counter[str] = Counter(engine)
    merged.update(bridge)
    drops = sum(v for k, v in bridge.items() if k.startswith("dropped."))
    merged["dropped"] = outbox.dropped + drops
    merged["outbox"] = len(outbox)
    return ", ".join(f"{k}={v}" for k, v in sorted(merged.items()) if v)
