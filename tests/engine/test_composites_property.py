"""The composite matcher agrees with a deliberately simple reference matcher over random streams."""

from __future__ import annotations

import fnmatch
import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from knobflow.engine import BUILTIN_GESTURES, CompositeSpec, Gesture
from knobflow.engine.composites import CompositeMatcher

PATTERNS = [
    *BUILTIN_GESTURES,
    "rotate_*",
    "*_cw",
    "rotate_while_held_*",
    "*press",
    "fast_spin_*",
    "*",
]


def reference(
    specs: list[tuple[str, list[str], int]], stream: list[tuple[str, int]]
) -> list[tuple[int, str, list[str], float]]:
    """docs/contract.md §4 read literally: per composite, the gestures since its last match; it matches
    when the last N fit its N patterns with every gap <= max_gap_ms."""
    since: dict[str, list[tuple[str, int]]] = {name: [] for name, _, _ in specs}
    found = []
    for index, (gesture, t) in enumerate(stream):
        for name, sequence, gap_ms in specs:
            history = since[name]
            history.append((gesture, t))
            last = history[-len(sequence) :]
            if len(last) < len(sequence):
                continue
            fits = all(fnmatch.fnmatchcase(g, p) for (g, _), p in zip(last, sequence, strict=True))
            gaps_ok = all(b[1] - a[1] <= gap_ms * 1000 for a, b in itertools.pairwise(last))
            if fits and gaps_ok:
                found.append((index, name, [g for g, _ in last], (last[-1][1] - last[0][1]) / 1000))
                since[name] = []
    return found


composites = st.lists(
    st.tuples(
        st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=4),
        st.sampled_from([100, 500, 1000, 1500]),
    ),
    min_size=1,
    max_size=4,
)
streams = st.lists(
    st.tuples(
        st.sampled_from(BUILTIN_GESTURES),
        st.sampled_from([0, 0, 1, 100_000, 500_000, 999_999, 1_000_000, 1_000_001, 2_000_000]),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(composites, streams)
def test_matcher_agrees_with_reference(
    raw: list[tuple[list[str], int]], steps: list[tuple[str, int]]
) -> None:
    specs = [(f"c{i}", sequence, gap) for i, (sequence, gap) in enumerate(raw)]
    stream = []
    now = 0
    for name, dt in steps:
        now += dt
        stream.append((name, now))
    matcher = CompositeMatcher([CompositeSpec(n, tuple(s), g) for n, s, g in specs])
    got: list[tuple[int, str, list[str], float]] = []
    for index, (gesture, t) in enumerate(stream):
        out: list[Gesture] = []
        matcher.feed("k", gesture, t, out)
        for g in out:
            fields: dict[str, Any] = dict(g.fields)
            assert g.t == t / 1_000_000
            got.append((index, g.gesture, fields["parts"], fields["duration_ms"]))
    assert got == reference(specs, stream)
