"""Which devices are knobs: `bridge/devices`, names in config, renames and removals (rule 10)."""

from __future__ import annotations

from typing import Any

from knobflow.engine import Engine, EngineConfig, RegistryChange

DEVICES = "zigbee2mqtt/bridge/devices"


def device(name: str, model: str | None = "ZNXNKG02LM", ieee: str = "0x01") -> dict[str, Any]:
    return {
        "friendly_name": name,
        "ieee_address": ieee,
        "definition": None if model is None else {"model": model, "vendor": "x"},
    }


def press(engine: Engine, name: str, t: float) -> list[str]:
    return [g.gesture for g in engine.feed(f"zigbee2mqtt/{name}", {"action": "single"}, t)]


def test_knobs_come_from_bridge_devices_by_model() -> None:
    """Only ZNXNKG02LM devices of bridge/devices become knobs; other devices create no state."""
    engine = Engine()
    engine.feed(
        DEVICES, [device("knob_a"), device("lamp", "LED1545G12"), device("coord", None)], 0.0, True
    )
    assert set(engine.knobs) == {"knob_a"}
    assert press(engine, "knob_a", 1.0) == ["press"]
    assert press(engine, "lamp", 1.0) == []
    assert list(engine.knob_names_seen()) == ["knob_a"]


def test_raw_text_device_list_is_read_too() -> None:
    """bridge/devices as raw MQTT text (bytes) works like a decoded list."""
    engine = Engine()
    engine.feed(DEVICES, b'[{"friendly_name":"k","definition":{"model":"ZNXNKG02LM"}}]', 0.0)
    assert "k" in engine.knobs


def test_a_device_list_that_is_not_an_array_is_ignored() -> None:
    """Rule 10: a bridge/devices payload that is not a JSON array keeps the current list."""
    engine = Engine()
    engine.feed(DEVICES, [device("k")], 0.0)
    for bad in [{"devices": []}, b"{", "null", 5]:
        engine.feed(DEVICES, bad, 0.5)
    assert set(engine.knobs) == {"k"}
    assert engine.counters["invalid.bridge_devices"] == 4


def test_explicit_names_are_knobs_whatever_the_list_says() -> None:
    """A knob named in config stays a knob, and learns its IEEE address from the list."""
    engine = Engine(EngineConfig(explicit=("manual",), discover=False))
    assert press(engine, "manual", 1.0) == ["press"]
    engine.feed(DEVICES, [device("manual", "ZNXNKG01LM", "0xabc"), device("auto")], 2.0)
    assert set(engine.knobs) == {"manual"}  # discovery off: "auto" is not taken
    assert engine.knobs["manual"].ieee == "0xabc"


def test_rename_keeps_the_old_turn_closing_by_timeout_and_starts_the_new_name_fresh() -> None:
    """Rule 10: after a rename the old name's open rotation still times out under the old
    name; messages for the old name are ignored; the new name starts with fresh state."""
    engine = Engine()
    engine.feed(DEVICES, [device("old")], 0.0)
    out = engine.feed(
        "zigbee2mqtt/old",
        {"action": "start_rotating", "action_rotation_angle": 12, "action_rotation_time": 200},
        1.0,
    )
    assert [g.gesture for g in out] == ["rotate_start", "rotate_cw"]
    engine.feed(DEVICES, [device("new")], 1.2)
    assert press(engine, "old", 1.3) == []
    out = engine.feed(
        "zigbee2mqtt/new",
        {"action": "rotation", "action_rotation_angle": 36, "action_rotation_time": 700},
        1.5,
    )
    assert [(g.knob, g.gesture) for g in out] == [("new", "rotate_start"), ("new", "rotate_cw")]
    assert out[1].fields["delta"] == 36
    out = engine.tick(2.5)
    assert [(g.knob, g.gesture, g.fields["reason"]) for g in out] == [
        ("old", "rotate_stop", "timeout")
    ]
    engine.tick(10.0)
    assert "old" not in list(engine.knob_names_seen())  # dropped once idle


def test_devices_listener_reports_changes() -> None:
    """The on_devices callback hears of added, removed and updated knobs."""
    changes: list[RegistryChange] = []
    engine = Engine(on_devices=changes.append)
    engine.feed(DEVICES, [device("a", ieee="0x1")], 0.0)
    engine.feed(DEVICES, [device("a", ieee="0x1")], 0.1)  # no change: no call
    engine.feed(DEVICES, [device("b", ieee="0x2")], 0.2)
    assert [([d.name for d in c.added], [d.name for d in c.removed]) for c in changes] == [
        (["a"], []),
        (["b"], ["a"]),
    ]


def test_names_that_cannot_be_topics_are_refused() -> None:
    """A friendly name with `+`, `#` or NUL is refused with a count, never a knob."""
    engine = Engine()
    engine.feed(DEVICES, [device("a+b"), device("c#"), device("nul\0"), device("ok")], 0.0)
    assert set(engine.knobs) == {"ok"}
    assert engine.counters["refused.unsafe_name"] == 3


def test_names_with_slashes_are_knobs() -> None:
    """Friendly names may contain `/`: the whole rest of the topic is the name."""
    engine = Engine()
    engine.feed(DEVICES, [device("office/desk/knob")], 0.0)
    assert press(engine, "office/desk/knob", 1.0) == ["press"]
    assert press(engine, "office/desk", 1.0) == []
