"""Composite gestures: named sequences of built-in gestures (docs/contract.md §4)."""

from __future__ import annotations

import fnmatch
import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from knobflow.engine.gestures import BUILTIN_GESTURES, Gesture
from knobflow.engine.timers import from_us

__all__ = ["NAME_PATTERN", "CompositeError", "CompositeMatcher", "CompositeSpec"]

NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
DEFAULT_MAX_GAP_MS = 1000


class CompositeError(ValueError):
    """A composite definition is wrong; the message names the composite and the part."""


@dataclass(frozen=True, slots=True)
class CompositeSpec:
    """A composite: ``sequence`` of gesture names or globs, consecutive, each
    within ``max_gap_ms`` of the previous."""

    name: str
    sequence: tuple[str, ...]
    max_gap_ms: float = DEFAULT_MAX_GAP_MS
    # for each part, the built-in names it matches
    matches: tuple[frozenset[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not NAME_PATTERN.fullmatch(self.name):
            raise CompositeError(
                f"composite {self.name!r}: the name must match [a-z][a-z0-9_]* "
                "(lowercase letter, then lowercase letters, digits or _)"
            )
        if self.name in BUILTIN_GESTURES:
            raise CompositeError(
                f"composite {self.name!r}: the name is a built-in gesture; choose another"
            )
        if not self.sequence:
            raise CompositeError(f"composite {self.name!r}: the sequence is empty")
        if not self.max_gap_ms > 0:
            raise CompositeError(
                f"composite {self.name!r}: max_gap_ms {self.max_gap_ms!r} must be > 0"
            )
        matches = []
        for index, part in enumerate(self.sequence):
            if not isinstance(part, str):
                raise CompositeError(
                    f"composite {self.name!r}: part {index + 1} ({part!r}) is not a string"
                )
            names = frozenset(n for n in BUILTIN_GESTURES if fnmatch.fnmatchcase(n, part))
            if not names:
                raise CompositeError(
                    f"composite {self.name!r}: part {index + 1} ({part!r}) matches no built-in "
                    f"gesture (known: {', '.join(BUILTIN_GESTURES)})"
                )
            matches.append(names)
        object.__setattr__(self, "matches", tuple(matches))


class _Track:
    """One composite's recent gestures for one knob, since its last match."""

    __slots__ = ("names", "times")

    def __init__(self, size: int) -> None:
        self.names: deque[str] = deque(maxlen=size)
        self.times: deque[int] = deque(maxlen=size)


class CompositeMatcher:
    """Matches every composite over one knob's built-in gestures."""

    __slots__ = ("_gaps", "_specs", "_tracks")

    def __init__(self, specs: Sequence[CompositeSpec]) -> None:
        self._specs = tuple(specs)
        self._gaps = tuple(round(s.max_gap_ms * 1000) for s in self._specs)
        self._tracks = [_Track(len(s.sequence)) for s in self._specs]

    @staticmethod
    def for_specs(specs: Iterable[CompositeSpec]) -> CompositeMatcher | None:
        specs = tuple(specs)
        return CompositeMatcher(specs) if specs else None

    def feed(self, knob: str, name: str, now: int, out: list[Gesture]) -> None:
        """A built-in gesture ``name`` at ``now``: append every composite it completes."""
        for spec, gap, track in zip(self._specs, self._gaps, self._tracks, strict=True):
            track.names.append(name)
            track.times.append(now)
            size = len(spec.sequence)
            if len(track.names) < size:
                continue
            times = track.times
            if not all(times[i + 1] - times[i] <= gap for i in range(size - 1)):
                continue
            if not all(n in m for n, m in zip(track.names, spec.matches, strict=True)):
                continue
            out.append(
                Gesture(
                    knob,
                    spec.name,
                    from_us(now),
                    {"parts": list(track.names), "duration_ms": (now - times[0]) / 1000},
                )
            )
            track.names.clear()
            track.times.clear()
