"""The outbox: bounded for gestures, coalescing for retained messages."""

from __future__ import annotations

from knobflow.bridge.outbox import Outbox, Publication


def drain(outbox: Outbox) -> list[Publication]:
    out = []
    while (pub := outbox.take()) is not None:
        out.append(pub)
    return out


def test_gestures_beyond_the_bound_drop_the_oldest_and_are_counted() -> None:
    outbox = Outbox(limit=3)
    for n in range(5):
        outbox.put(Publication("g", str(n)))
    assert outbox.dropped == 2
    assert [p.payload for p in drain(outbox)] == ["2", "3", "4"]


def test_retained_messages_keep_only_the_newest_payload_per_topic() -> None:
    outbox = Outbox(limit=10)
    outbox.put(Publication("state", "1", retain=True))
    outbox.put(Publication("g", "a"))
    outbox.put(Publication("state", "2", retain=True))
    outbox.put(Publication("status", "online", retain=True))
    assert len(outbox) == 3
    assert [(p.topic, p.payload) for p in drain(outbox)] == [
        ("g", "a"),
        ("state", "2"),
        ("status", "online"),
    ]
    assert outbox.dropped == 0


def test_a_publication_put_back_goes_first_unless_a_newer_one_is_waiting() -> None:
    outbox = Outbox(limit=10)
    outbox.put(Publication("g", "1"))
    outbox.put(Publication("g", "2"))
    first = outbox.take()
    assert first is not None
    outbox.put_back(first)
    assert [p.payload for p in outbox.pending()] == ["1", "2"]
    outbox = Outbox(limit=10)
    outbox.put(Publication("state", "old", retain=True))
    old = outbox.take()
    assert old is not None
    outbox.put(Publication("state", "new", retain=True))
    outbox.put_back(old)
    assert [p.payload for p in drain(outbox)] == ["new"]
