"""`knobflow replay`: the replay format of docs/contract.md §5, bad lines, options, output formats."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from knobflow.cli import main

TOPIC = "zigbee2mqtt/desk_knob"


def line(t: float, payload: object, topic: str = TOPIC, **extra: object) -> str:
    return json.dumps({"t": t, "topic": topic, "payload": payload, **extra})


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_bad_lines_are_reported_with_their_number_and_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every kind of invalid record is named on stderr with its line; the rest still plays; exit 1."""
    lines = [
        line(1.0, {"action": "single"}),
        "",  # blank: skipped silently
        "   ",
        "{not json",
        '{"t": NaN, "topic": "x", "payload": 1}',
        "[1, 2]",
        json.dumps({"t": "2", "topic": TOPIC, "payload": {}}),
        json.dumps({"t": True, "topic": TOPIC, "payload": {}}),
        line(0.5, {"action": "single"}),  # t went back
        json.dumps({"t": 2.0, "topic": 5, "payload": {}}),
        json.dumps({"t": 2.0, "topic": TOPIC}),
        line(2.0, {"action": "single"}, retain="yes"),
        line(3.0, {"action": "double"}),
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    status, out, err = run(
        ["replay", "--format", "jsonl", "--knob", "desk_knob", str(path)], capsys
    )
    assert status == 1
    assert [json.loads(x)["gesture"] for x in out.splitlines()] == ["press", "double_press"]
    reported = [int(x.split(":")[1]) for x in err.splitlines()]
    assert reported == [4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert "smaller than the previous line" in err


def test_string_payload_is_the_raw_mqtt_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A string payload is parsed as the raw MQTT text; a non-JSON string is bad input, not a bad line."""
    path = tmp_path / "raw.jsonl"
    path.write_text(
        "\n".join([line(1.0, '{"action":"single"}'), line(2.0, "not json"), line(3.0, "single")])
        + "\n"
    )
    status, out, _ = run(["replay", "--format", "jsonl", "--knob", "desk_knob", str(path)], capsys)
    assert status == 0
    assert [json.loads(x)["gesture"] for x in out.splitlines()] == ["press"]


def test_timers_run_on_after_the_last_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After the last line the clock runs on until no timer is pending (a hold times out)."""
    path = tmp_path / "hold.jsonl"
    path.write_text(line(1.0, {"action": "hold"}) + "\n")
    status, out, _ = run(["replay", "--format", "jsonl", "--knob", "desk_knob", str(path)], capsys)
    assert status == 0
    release = json.loads(out.splitlines()[-1])
    assert release == {"knob": "desk_knob", "gesture": "release", "t": 61.0, "held_ms": 60000.0,
                       "rotated": False, "reason": "timeout"}  # fmt: skip


def test_text_format_is_one_readable_line_per_gesture(
    scenarios_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(["replay", str(scenarios_dir / "pressed_rotation.jsonl")], capsys)
    assert status == 0
    rows = out.splitlines()
    assert len(rows) == 7
    assert rows[1].split()[:3] == ["1.500", "desk_knob", "rotate_while_held_start"]
    assert "rotated=yes" in rows[-1]


def test_config_settings_apply(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--config changes timers (here the hold timeout) and names knobs."""
    config = tmp_path / "k.yaml"
    config.write_text("hold_timeout_ms: 2000\nknobs:\n  desk_knob:\n")
    path = tmp_path / "hold.jsonl"
    path.write_text(line(1.0, {"action": "hold"}) + "\n")
    status, out, _ = run(
        ["replay", "--format", "jsonl", "--config", str(config), str(path)], capsys
    )
    assert status == 0
    assert json.loads(out.splitlines()[-1])["t"] == 3.0


@pytest.mark.parametrize(
    ("config_text", "message"),
    [
        ("fast_spin_dps: -3\n", "fast_spin_dps: -3 is out of range (allowed: > 0)"),
        ("knobs:\n  a:\n    settle_ms: soon\n", "knobs.a.settle_ms: 'soon' is not a number"),
        (
            "composites:\n  twist:\n    sequence: [press, rotat]\n",
            "part 2 ('rotat') matches no built-in gesture",
        ),
        ("bogus: 1\n", "bogus: is an unknown key"),
        ("a: [\n", "is not valid YAML"),
        ("knobs: {a: 1, a: 2}\n", "is given twice"),
    ],
)
def test_bad_config_is_one_error_naming_file_key_and_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config_text: str, message: str
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(config_text)
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    status, out, err = run(["replay", "--config", str(config), str(path)], capsys)
    assert status == 2
    assert out == ""
    assert str(config) in err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_missing_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["replay", str(tmp_path / "nope.jsonl")], capsys)
    assert status == 2
    assert "nope.jsonl" in err


def test_stdin_is_read_with_dash(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(line(1.0, {"action": "single"}) + "\n"))
    status, out, _ = run(["replay", "--format", "jsonl", "--knob", "desk_knob", "-"], capsys)
    assert status == 0
    assert json.loads(out)["gesture"] == "press"


def test_unsafe_knob_name_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    status, _, err = run(["replay", "--knob", "a+b", str(path)], capsys)
    assert status == 2
    assert "'a+b'" in err
