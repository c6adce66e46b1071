"""The messages waiting to go to the broker, kept while it is away.

Gestures (not retained) queue in order up to a bound; when it is reached the
oldest is dropped and counted. Retained messages (state, status, discovery)
keep only their newest payload per topic, so they never grow beyond the
number of topics the bridge owns.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass

__all__ = ["OUTBOX_LIMIT", "Outbox", "Publication"]

OUTBOX_LIMIT = 1000  # gestures kept while the broker is away (about 2 minutes of constant turning)


@dataclass(frozen=True, slots=True)
class Publication:
    """One MQTT message to publish."""

    topic: str
    payload: str
    retain: bool = False
    qos: int = 0


class Outbox:
    """A bounded FIFO of publications; retained ones are coalesced by topic."""

    __slots__ = ("_retained", "_seq", "_transient", "dropped", "limit")

    def __init__(self, limit: int = OUTBOX_LIMIT) -> None:
        if limit < 1:
            raise ValueError("the outbox limit must be at least 1")
        self.limit = limit
        self.dropped = 0
        self._seq = 0
        self._transient: deque[tuple[int, Publication]] = deque()
        self._retained: OrderedDict[str, tuple[int, Publication]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._transient) + len(self._retained)

    def __bool__(self) -> bool:
        return bool(self._transient or self._retained)

    def put(self, pub: Publication) -> None:
        """Queue ``pub``; a retained one replaces a pending one of the same topic."""
        self._seq += 1
        if pub.retain:
            self._retained[pub.topic] = (self._seq, pub)
            self._retained.move_to_end(pub.topic)
            return
        self._transient.append((self._seq, pub))
        if len(self._transient) > self.limit:
            self._transient.popleft()
            self.dropped += 1

    def peek(self) -> Publication | None:
        """The oldest publication, left in place, or ``None``."""
        transient, retained = self._transient, self._retained
        if retained:
            first = next(iter(retained.values()))
            if not transient or first[0] < transient[0][0]:
                return first[1]
        return transient[0][1] if transient else None

    def take(self) -> Publication | None:
        """Remove and return the oldest publication, or ``None``."""
        transient, retained = self._transient, self._retained
        if retained and (not transient or next(iter(retained.values()))[0] < transient[0][0]):
            return retained.popitem(last=False)[1][1]
        if transient:
            return transient.popleft()[1]
        return None

    def put_back(self, pub: Publication) -> None:
        """Return a publication that could not be sent to the front of the queue.

        A retained one is dropped when a newer payload for its topic is pending.
        """
        if pub.retain:
            if pub.topic not in self._retained:
                self._retained[pub.topic] = (-1, pub)
                self._retained.move_to_end(pub.topic, last=False)
            return
        if len(self._transient) >= self.limit:
            self.dropped += 1  # it is the oldest one
            return
        self._transient.appendleft((-1, pub))

    def pending(self) -> list[Publication]:
        """Everything queued, oldest first (for tests and diagnostics)."""
        items = sorted([*self._transient, *self._retained.values()], key=lambda item: item[0])
        return [pub for _, pub in items]
