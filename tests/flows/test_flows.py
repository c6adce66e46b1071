"""Flows: gesture → MQTT message rules, their templates, sandbox and throttle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from knobflow.cli import main
from knobflow.config import ConfigError, config_from_mapping
from knobflow.engine import Gesture
from knobflow.flows import FlowRunner, Outgoing
from knobflow.testing import KnobScript


def runner(*flows: dict[str, Any], composites: dict[str, Any] | None = None) -> FlowRunner:
    config = config_from_mapping({"flows": list(flows), "composites": composites or {}}, "k.yaml")
    return FlowRunner.from_config(config.flows, config.composites, source="k.yaml")


def step(
    t: float, delta: float = 24, knob: str = "desk", name: str = "rotate_cw", **extra: Any
) -> Gesture:
    fields = {"delta": delta, "angle": delta, "velocity": 48.0, "direction": "cw", **extra}
    return Gesture(knob, name, t, fields)


LIGHT = {
    "knob": "desk",
    "gesture": ["rotate_cw", "rotate_ccw"],
    "topic": "zigbee2mqtt/light/set",
    "payload": {"brightness_step": "{{ (delta * 1.4) | round | int }}", "transition": 0.4},
}


def test_a_turn_step_becomes_a_brightness_step_with_exact_payload() -> None:
    out = runner(LIGHT).feed(step(1.0, -24, name="rotate_ccw"))
    assert out == [Outgoing("zigbee2mqtt/light/set", '{"brightness_step":-34,"transition":0.4}')]


def test_a_single_template_string_keeps_its_type_and_text_templates_render_text() -> None:
    flows = runner(
        {"gesture": "press", "topic": "t/{{ knob }}", "payload": {"n": "{{ t * 2 }}", "s": "at {{ t }}s", "b": "{{ true }}"}},
        {"gesture": "press", "topic": "plain", "payload": "TOGGLE"},
        {"gesture": "press", "topic": "whole", "payload": "{{ {'state': 'ON', 'of': knob} }}"},
    )  # fmt: skip
    out = flows.feed(Gesture("office/knob", "press", 1.5, {}))
    assert out[0] == Outgoing("t/office/knob", '{"n":3.0,"s":"at 1.5s","b":true}')
    assert out[1] == Outgoing("plain", "TOGGLE")
    assert json.loads(out[2].payload) == {"state": "ON", "of": "office/knob"}


def test_rules_select_by_knob_glob_and_gesture_and_keep_config_order() -> None:
    flows = runner(
        {"knob": "kitchen_*", "gesture": "press", "topic": "a", "payload": 1},
        {"gesture": "*press", "topic": "b", "payload": 2, "qos": 1, "retain": True},
    )
    assert [o.topic for o in flows.feed(Gesture("kitchen_knob", "press", 1.0, {}))] == ["a", "b"]
    assert flows.feed(Gesture("desk", "double_press", 1.0, {})) == [Outgoing("b", "2", 1, True)]
    assert flows.feed(Gesture("desk", "hold", 1.0, {})) == []


def test_composites_can_drive_flows() -> None:
    flows = runner(
        {"gesture": "press_then_turn", "topic": "scene", "payload": "{{ parts | join('+') }}"},
        composites={"press_then_turn": {"sequence": ["press", "rotate_start"]}},
    )
    out = flows.feed(
        Gesture(
            "k", "press_then_turn", 2.0, {"parts": ["press", "rotate_start"], "duration_ms": 900.0}
        )
    )
    assert out == [Outgoing("scene", "press+rotate_start")]


def test_throttle_holds_back_and_sends_the_latest_when_the_interval_ends() -> None:
    flows = runner(
        {**LIGHT, "payload": {"brightness": "{{ value | int }}"}, "min_interval_ms": 400}
    )
    assert len(flows.feed(step(1.0, value=10))) == 1
    assert flows.feed(step(1.1, value=20)) == []
    assert flows.feed(step(1.2, value=30)) == []  # replaces the held-back 20
    assert flows.next_deadline() == pytest.approx(1.4)
    assert flows.tick(1.39) == []
    assert flows.tick(1.4) == [Outgoing("zigbee2mqtt/light/set", '{"brightness":30}')]
    assert flows.next_deadline() is None
    assert flows.feed(step(1.7, value=40)) == []  # 1.4 + 0.4 = 1.8
    assert len(flows.feed(step(1.8, value=50))) == 1
    assert flows.counters["flows.throttled"] == 2
    assert flows.counters["flows.sent"] == 3


def test_throttle_is_per_knob() -> None:
    flows = runner({**LIGHT, "knob": "*", "min_interval_ms": 1000})
    assert len(flows.feed(step(1.0, knob="a"))) == 1
    assert len(flows.feed(step(1.1, knob="b"))) == 1


def test_a_runtime_template_failure_is_logged_and_counted_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    flows = runner({"gesture": "rotate_cw", "topic": "t", "payload": {"p": "{{ percent * 2 }}"}})
    assert flows.feed(step(1.0)) == []  # this step carries no percent
    assert flows.counters["flows.failed"] == 1
    assert "flows[0] failed for rotate_cw" in caplog.text
    assert flows.feed(step(2.0, percent=10)) == [Outgoing("t", '{"p":20}')]


def test_a_templated_topic_that_cannot_be_published_is_a_failure() -> None:
    flows = runner({"gesture": "press", "topic": "lights/{{ knob }}", "payload": 1})
    assert flows.feed(Gesture("a+b", "press", 1.0, {})) == []
    assert flows.counters["flows.failed"] == 1


@pytest.mark.parametrize(
    ("flow", "message"),
    [
        (
            {"payload": "{{ ''.__class__ }}"},
            "flows[0].payload: fails for gesture 'press': refused by the sandbox",
        ),
        ({"payload": "{{ knob.__class__.__mro__[1].__subclasses__() }}"}, "refused by the sandbox"),
        ({"payload": "{{ self.__init__.__globals__ }}"}, "refused by the sandbox"),
        ({"payload": "{{ 'x' * 100000 }}"}, "a result over 10000 items is refused"),
        ({"payload": "{{ 10 ** 1000 }}"}, "exponent 1000 is over 100"),
        ({"payload": "{{ range(10) | list }}"}, "'range' is undefined"),
        (
            {"payload": "{{ delta }}"},
            "fails for gesture 'press': UndefinedError: 'delta' is undefined",
        ),
        ({"payload": "{{ 1 + }}"}, "flows[0].payload: template syntax"),
        ({"payload": "{% for %}"}, "template syntax"),
        ({"topic": "a/#"}, "flows[0].topic: 'a/#' cannot be published on: it contains '#'"),
        ({"gesture": "presss"}, "flows[0].gesture: 'presss' matches no gesture"),
        ({"qos": 3}, "flows[0].qos: 3 is out of range"),
        ({"payload": float("nan")}, "flows[0].payload: nan is not a finite number"),
    ],
)
def test_bad_and_hostile_rules_are_config_errors_naming_the_key(
    flow: dict[str, Any], message: str
) -> None:
    rule = {"gesture": "press", "topic": "t", "payload": 1, **flow}
    with pytest.raises(ConfigError) as caught:
        runner(rule)
    assert message in str(caught.value)
    assert str(caught.value).startswith("k.yaml: flows[0]")


def test_replay_shows_what_the_flows_would_publish(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`knobflow replay --flows`: a config's flows tried offline, throttle on the file's clock."""
    config = tmp_path / "k.yaml"
    config.write_text(
        "knobs: {desk: {}}\n"
        "dial: {}\n"
        "flows:\n"
        "  - {gesture: press, topic: lamp/set, payload: TOGGLE}\n"
        "  - gesture: rotate_c*w\n"
        "    topic: lamp/set\n"
        "    payload: {brightness: '{{ value | int }}'}\n"
        "    min_interval_ms: 1000\n"
    )
    script = KnobScript("desk").press(0.5).turn([36, 72, 108], start=1.0)
    replay = tmp_path / "session.jsonl"
    replay.write_text("".join(r.to_json() + "\n" for r in script.records))
    assert (
        main(["replay", "--flows", "--format", "jsonl", "--config", str(config), str(replay)]) == 0
    )
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines == [
        {"t": 0.5, "topic": "lamp/set", "payload": "TOGGLE"},
        {"t": 1.0, "topic": "lamp/set", "payload": '{"brightness":10}'},
        {"t": 2.0, "topic": "lamp/set", "payload": '{"brightness":20}'},  # held back from 1.5
        {"t": 3.0, "topic": "lamp/set", "payload": '{"brightness":30}'},  # held back from 2.0
    ]
