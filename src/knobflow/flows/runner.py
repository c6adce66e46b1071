"""Running flow rules: gestures in, MQTT messages out, with per-rule throttling."""

from __future__ import annotations

import fnmatch
import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from knobflow.config.errors import ConfigError
from knobflow.config.model import FlowConfig
from knobflow.engine.devices import unsafe_name_reason
from knobflow.engine.gestures import BUILTIN_GESTURES, COMPOSITE_FIELDS, FIELDS, Gesture
from knobflow.flows.templates import Compiled, TemplateFailure, compile_value, render_payload

__all__ = ["FlowRunner", "Outgoing"]

log = logging.getLogger("knobflow.flows")

# a representative value of every gesture field, to try each template at start
_SAMPLE: dict[str, Any] = {
    "delta": 24,
    "angle": 48,
    "velocity": 48.0,
    "direction": "cw",
    "percent": 13.3,
    "value": 50.0,
    "duration_ms": 1000.0,
    "reason": "device",
    "held_ms": 800.0,
    "rotated": False,
    "held": False,
    "parts": ["press", "rotate_start"],
}


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message a flow publishes."""

    topic: str
    payload: str
    qos: int = 0
    retain: bool = False


@dataclass(slots=True)
class _Rule:
    index: int
    knob: str
    names: frozenset[str]
    topic: Compiled
    payload: Compiled
    qos: int
    retain: bool
    interval: float  # seconds


def _context(gesture: Gesture) -> dict[str, Any]:
    return gesture.to_dict()


class FlowRunner:
    """Every rule of a config, compiled and checked once."""

    def __init__(self, rules: Sequence[_Rule]) -> None:
        self._rules = tuple(rules)
        self._by_index: Mapping[int, _Rule] = {rule.index: rule for rule in self._rules}
        self.counters: Counter[str] = Counter()
        self._last_sent: dict[tuple[int, str], float] = {}
        self._pending: dict[tuple[int, str], tuple[float, Gesture]] = {}

    def __bool__(self) -> bool:
        return bool(self._rules)

    @classmethod
    def from_config(
        cls,
        flows: Iterable[FlowConfig],
        composites: Iterable[str] = (),
        *,
        source: str = "config",
    ) -> FlowRunner:
        """Compile every rule; a bad one is a ``ConfigError`` naming ``flows[i].<key>``."""
        known = (*BUILTIN_GESTURES, *composites)
        composite_names = set(composites)
        rules = []
        for index, flow in enumerate(flows):
            where = f"flows[{index}]"
            names: set[str] = set()
            for pattern in flow.gestures:
                matched = {n for n in known if fnmatch.fnmatchcase(n, pattern)}
                if not matched:
                    raise ConfigError(
                        "matches no gesture",
                        source=source,
                        key=f"{where}.gesture",
                        value=pattern,
                        allowed=", ".join(known),
                    )
                names |= matched
            compiled = {}
            for key, value in (("topic", flow.topic), ("payload", flow.payload)):
                try:
                    compiled[key] = compile_value(value)
                except TemplateFailure as err:
                    raise ConfigError(str(err), source=source, key=f"{where}.{key}") from None
            topic = compiled["topic"]
            if topic.is_literal:
                reason = unsafe_name_reason(flow.topic)
                if reason is not None:
                    raise ConfigError(
                        f"cannot be published on: it {reason}",
                        source=source,
                        key=f"{where}.topic",
                        value=flow.topic,
                    )
            rule = _Rule(
                index,
                flow.knob,
                frozenset(names),
                topic,
                compiled["payload"],
                flow.qos,
                flow.retain,
                flow.min_interval_ms / 1000,
            )
            for name in sorted(names):  # try each template on each gesture it will see
                fields = COMPOSITE_FIELDS if name in composite_names else FIELDS[name]
                sample = {"knob": "knob", "gesture": name, "t": 1.0}
                sample.update({f: _SAMPLE[f] for f in fields})
                for key, part in (("topic", rule.topic), ("payload", rule.payload)):
                    try:
                        part.render(sample)
                    except TemplateFailure as err:
                        raise ConfigError(
                            f"fails for gesture {name!r}: {err}",
                            source=source,
                            key=f"{where}.{key}",
                        ) from None
            rules.append(rule)
        return cls(rules)

    # -- running ----------------------------------------------------------------

    def feed(self, gesture: Gesture) -> list[Outgoing]:
        """The messages a gesture makes now (throttled ones wait for :meth:`tick`)."""
        out: list[Outgoing] = []
        for rule in self._rules:
            if gesture.gesture not in rule.names or not fnmatch.fnmatchcase(
                gesture.knob, rule.knob
            ):
                continue
            key = (rule.index, gesture.knob)
            if rule.interval:
                last = self._last_sent.get(key)
                if last is not None and gesture.t - last < rule.interval - 1e-6:
                    if key in self._pending:
                        self.counters["flows.throttled"] += 1  # the one it replaces is dropped
                    self._pending[key] = (last + rule.interval, gesture)
                    continue
                if self._pending.pop(key, None) is not None:
                    self.counters["flows.throttled"] += 1  # superseded by this newer one
            self._send(rule, gesture, gesture.t, out)
        return out

    def tick(self, now: float) -> list[Outgoing]:
        """Send held-back messages whose interval has ended by ``now``."""
        out: list[Outgoing] = []
        due = sorted((at, key) for key, (at, _) in self._pending.items() if at <= now + 1e-6)
        for at, key in due:
            _, gesture = self._pending.pop(key)
            self._send(self._by_index[key[0]], gesture, at, out)
        return out

    def next_deadline(self) -> float | None:
        return min((at for at, _ in self._pending.values()), default=None)

    def _send(self, rule: _Rule, gesture: Gesture, at: float, out: list[Outgoing]) -> None:
        context = _context(gesture)
        try:
            topic = rule.topic.render(context)
            if not isinstance(topic, str) or unsafe_name_reason(topic) is not None:
                raise TemplateFailure(f"topic {topic!r} cannot be published on")
            payload = render_payload(rule.payload, context)
        except TemplateFailure as err:
            self.counters["flows.failed"] += 1
            log.warning(
                "flows[%d] failed for %s of %r: %s", rule.index, gesture.gesture, gesture.knob, err
            )
            return
        if rule.interval:
            self._last_sent[(rule.index, gesture.knob)] = at
        self.counters["flows.sent"] += 1
        out.append(Outgoing(topic, payload, rule.qos, rule.retain))
