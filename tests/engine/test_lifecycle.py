"""The lifecycle machines: declared as data, run by transitions, drawn from the same data."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from transitions import Machine, MachineError

from knobflow.diagram import markdown, mermaid
from knobflow.engine.lifecycle import LIFECYCLES, LeanMachine


def stock_and_lean(name: str) -> tuple[Any, Any, type, list[str]]:
    attribute, states, transitions = LIFECYCLES[name]
    kwargs: dict[str, Any] = {
        "model": None,
        "states": list(states),
        "transitions": [dict(t) for t in transitions],
        "initial": next(iter(states)),
        "auto_transitions": False,
        "model_attribute": attribute,
    }
    triggers = sorted({t["trigger"] for t in transitions})
    return Machine(**kwargs), LeanMachine(**kwargs), states, triggers


@pytest.mark.parametrize("name", list(LIFECYCLES))
def test_lean_events_behave_like_stock_transitions(name: str) -> None:
    """From every state, every trigger gives the same state (or the same MachineError)
    in the lean machine as in a stock transitions Machine built from the same data."""
    stock, lean, states, triggers = stock_and_lean(name)
    attribute = LIFECYCLES[name][0]
    for state in states:
        for trigger in triggers:
            outcomes = []
            for machine in (stock, lean):

                class Model:
                    pass

                model = Model()
                machine.add_model(model, initial=state)
                try:
                    getattr(model, trigger)()
                    outcomes.append(getattr(model, attribute))
                except MachineError:
                    outcomes.append("MachineError")
            assert outcomes[0] == outcomes[1], (state, trigger, outcomes)


def test_lean_machine_refuses_callbacks_it_would_ignore() -> None:
    with pytest.raises(ValueError, match="conditions"):
        LeanMachine(
            states=["a", "b"],
            transitions=[{"trigger": "go", "source": "a", "dest": "b", "conditions": "ok"}],
            initial="a",
        )


def test_diagrams_show_every_transition_of_the_definitions() -> None:
    """`knobflow diagram` draws each trigger of each lifecycle, from the same data."""
    for name, (_, _, transitions) in LIFECYCLES.items():
        text = mermaid(name)
        assert text.startswith("---\nknob " + name)
        assert "stateDiagram-v2" in text
        for transition in transitions:
            assert transition["trigger"] in text
    assert markdown().count("```mermaid") == 2


def test_a_session_logs_nothing_through_transitions(caplog: pytest.LogCaptureFixture) -> None:
    """Knobs joining the machines and every trigger stay out of the host's log, even at DEBUG
    (AppDaemon and Home Assistant show every library's INFO lines)."""
    from knobflow.testing import KnobScript

    with caplog.at_level(logging.DEBUG):
        script = KnobScript("k").hold(0.0).turn([12, 24], start=1.0, pressed=True).release(3.0)
        assert script.run()
    assert [r for r in caplog.records if r.name.startswith("transitions")] == []
