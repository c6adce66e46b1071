"""Mermaid state diagrams of the lifecycles, drawn by ``transitions`` from the
same definitions the engine runs (:mod:`knobflow.engine.lifecycle`)."""

from __future__ import annotations

from typing import Any

from knobflow.engine.lifecycle import LIFECYCLES, TRIGGER_LABELS

__all__ = ["markdown", "mermaid"]


class _Model:
    pass


def mermaid(lifecycle: str) -> str:
    """One lifecycle (``button`` or ``dial``) as a Mermaid ``stateDiagram-v2``."""
    from transitions.extensions.diagrams import GraphMachine  # only the diagram needs it

    attribute, states, transitions = LIFECYCLES[lifecycle]
    model = _Model()
    GraphMachine(
        model=model,
        states=list(states),
        transitions=[dict(t) for t in transitions],
        initial=next(iter(states)),
        auto_transitions=False,
        graph_engine="mermaid",
        model_attribute=attribute,
        title=f"knob {lifecycle}",
        show_conditions=False,
    )
    graph: Any = model.get_graph()  # type: ignore[attr-defined]
    text: str = graph.draw(None)
    return text.rstrip() + "\n"


def markdown() -> str:
    """Both lifecycles as Markdown: fenced diagrams and what each trigger means."""
    parts = []
    for name in LIFECYCLES:
        parts.append(f"```mermaid\n{mermaid(name)}```\n")
    rows = "\n".join(f"| `{trigger}` | {label} |" for trigger, label in TRIGGER_LABELS.items())
    parts.append("| trigger | caused by |\n|---|---|\n" + rows + "\n")
    return "\n".join(parts)
