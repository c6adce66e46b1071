"""The knob's two lifecycles as ``transitions`` state machines, declared as data.

The button goes idle → held → idle; the dial goes idle → rotating → stopped
→ idle (the settle window). Each :class:`~knobflow.engine.core.Engine` owns one
machine per lifecycle and adds every knob to both as a model
(``model_attribute`` ``button`` and ``dial``). Timers are not part of the
machines: the engine keeps them as deadlines on its own clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from transitions import Machine
from transitions.core import Event, MachineError

__all__ = [
    "BUTTON_TRANSITIONS",
    "DIAL_TRANSITIONS",
    "ButtonState",
    "DialState",
    "Lifecycles",
]


class ButtonState(StrEnum):
    IDLE = "idle"
    HELD = "held"


class DialState(StrEnum):
    IDLE = "idle"
    ROTATING = "rotating"
    STOPPED = "stopped"


# trigger, source(s), destination, what causes it (for the diagram and docs)
BUTTON_TRANSITIONS: tuple[dict[str, Any], ...] = (
    {"trigger": "button_hold", "source": ButtonState.IDLE, "dest": ButtonState.HELD},
    {"trigger": "button_release", "source": ButtonState.HELD, "dest": ButtonState.IDLE},
    {"trigger": "button_hold_timeout", "source": ButtonState.HELD, "dest": ButtonState.IDLE},
)

DIAL_TRANSITIONS: tuple[dict[str, Any], ...] = (
    {
        "trigger": "dial_open",
        "source": [DialState.IDLE, DialState.STOPPED],
        "dest": DialState.ROTATING,
    },
    {"trigger": "dial_close", "source": DialState.ROTATING, "dest": DialState.STOPPED},
    {"trigger": "dial_settle", "source": DialState.STOPPED, "dest": DialState.IDLE},
)

# What each trigger means for people (diagram labels).
TRIGGER_LABELS: dict[str, str] = {
    "button_hold": "hold",
    "button_release": "release",
    "button_hold_timeout": "hold_timeout_ms",
    "dial_open": "start / lost start / lone stop / button change",
    "dial_close": "stop / rotation_timeout_ms / release / button change",
    "dial_settle": "settle_ms",
}


class _SkipBindingFilter(logging.Filter):
    """Knobs declare only the triggers they use; transitions logs each name it
    does not bind (``model_override``). Those lines carry no information."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "model override policy" not in record.getMessage()


logging.getLogger("transitions.core").addFilter(_SkipBindingFilter())


class DirectEvent(Event):
    """An event of a machine without callbacks, conditions or queue.

    transitions' own ``Event.trigger`` builds an ``EventData`` and runs every
    callback list (prepare, before, after, enter, exit, finalize) even when they
    are empty; for knobflow's machines that is ~15 µs of a ~16 µs trigger. This
    event keeps the semantics that remain — a trigger from a state it has no
    transition for raises ``MachineError``, otherwise the model moves to the
    destination — and nothing else. :class:`LeanMachine` refuses definitions
    that would need more, and a test checks it against a stock ``Machine``.
    """

    def __init__(self, name: str, machine: Any) -> None:
        super().__init__(name, machine)
        self._moves: dict[Any, Any] | None = None

    def _compile(self) -> dict[Any, Any]:
        machine = self.machine
        moves = {}
        for source, transitions in self.transitions.items():
            (transition,) = transitions  # one transition per source: no conditions to choose
            dest = transition.dest
            assert dest is not None  # internal transitions (dest None) are not used
            moves[machine.get_state(source).value] = machine.get_state(dest).value
        return moves

    def trigger(self, model: Any, *args: Any, **kwargs: Any) -> bool:
        moves = self._moves
        if moves is None:
            moves = self._moves = self._compile()
        attribute = self.machine.model_attribute
        state = getattr(model, attribute)
        try:
            setattr(model, attribute, moves[state])
        except KeyError:
            raise MachineError(f"Can't trigger event {self.name} from state {state}!") from None
        return True


def _compared_by_identity(kind: type) -> bool:
    """Instances of ``kind`` are equal only to themselves, and hash accordingly."""
    eq: object = kind.__eq__
    hash_: object = kind.__hash__
    return eq is object.__eq__ and hash_ is object.__hash__


class LeanMachine(Machine):
    """A transitions ``Machine`` whose events are :class:`DirectEvent`.

    ``add_model`` skips transitions' per-model work when it would do nothing: with
    ``model_override`` a model gets only the methods it already declares, so a model
    that declares none (a knob) only takes the initial state and joins ``models``.
    Stock ``add_model`` tries every binding anyway, logs a (filtered) warning for
    each and tests membership in the list of models: at 10,000 knobs, most of the
    cost of adding a knob. (A set of those models, compared by identity as ``in``
    compares them, answers the membership test.)
    """

    event_cls = DirectEvent

    def __init__(self, **kwargs: Any) -> None:
        for transition in kwargs.get("transitions", ()):
            extra = set(transition) - {"trigger", "source", "dest"}
            if extra:
                raise ValueError(f"LeanMachine transitions take no {sorted(extra)}")
        self._members: set[Any] = set()  # the models compared by identity, for `in`
        super().__init__(**kwargs)

    def _bound_names(self) -> list[str]:
        """Every attribute stock ``add_model`` would bind or look for on a model."""
        names = ["trigger", "may_trigger"]
        for trigger in self.events:
            names += [trigger, f"may_{trigger}"]
        prefix = "is_" if self.model_attribute == "state" else f"is_{self.model_attribute}_"
        for state in self.states.values():
            names.append(prefix + state.name)
            names += [f"{callback}_{state.name}" for callback in self.state_cls.dynamic_methods]
        return names

    def add_model(self, model: Any, initial: Any = None) -> None:
        if (
            model is None
            or isinstance(model, list)
            or model is self.self_literal
            or not self.model_override
            or not _compared_by_identity(type(model))
            or any(getattr(model, name, None) is not None for name in self._bound_names())
        ):
            super().add_model(model, initial)
            return
        if initial is None:
            if self.initial is None:
                raise ValueError(
                    "No initial state configured for machine, must specify when adding model."
                )
            initial = self.initial
        if model in self._members:
            return
        self.set_state(initial, model=model)
        self.models.append(model)
        self._members.add(model)

    def remove_model(self, model: Any) -> None:
        super().remove_model(model)
        for removed in model if isinstance(model, list) else [model]:
            self._members.discard(removed)


def _machine(attribute: str, states: type[StrEnum], transitions: tuple[dict[str, Any], ...]) -> Any:
    return LeanMachine(
        model=None,
        states=list(states),
        transitions=[dict(t) for t in transitions],
        initial=next(iter(states)),
        auto_transitions=False,
        model_attribute=attribute,
        model_override=True,
        ignore_invalid_triggers=False,
    )


class Lifecycles:
    """The two shared machines of one engine, and their triggers as ``trigger(model)``.

    Knobs are models of both machines but carry no bound trigger methods
    (``model_override`` with none declared): at 10,000 knobs, six bound methods
    each would cost more memory than the rest of a knob.
    """

    def __init__(self) -> None:
        self.button = _machine("button", ButtonState, BUTTON_TRANSITIONS)
        self.dial = _machine("dial", DialState, DIAL_TRANSITIONS)
        events = {**self.button.events, **self.dial.events}
        self.button_hold: Callable[[object], bool] = events["button_hold"].trigger
        self.button_release: Callable[[object], bool] = events["button_release"].trigger
        self.button_hold_timeout: Callable[[object], bool] = events["button_hold_timeout"].trigger
        self.dial_open: Callable[[object], bool] = events["dial_open"].trigger
        self.dial_close: Callable[[object], bool] = events["dial_close"].trigger
        self.dial_settle: Callable[[object], bool] = events["dial_settle"].trigger

    def add(self, model: object) -> None:
        self.button.add_model(model)
        self.dial.add_model(model)

    def remove(self, model: object) -> None:
        self.button.remove_model(model)
        self.dial.remove_model(model)


LIFECYCLES: dict[str, tuple[str, type[StrEnum], tuple[dict[str, Any], ...]]] = {
    "button": ("button", ButtonState, BUTTON_TRANSITIONS),
    "dial": ("dial", DialState, DIAL_TRANSITIONS),
}
