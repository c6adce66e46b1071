"""With orjson installed, payloads decode to exactly what the standard decoder gives:
the same values, the same types (int stays int), the same key order, and the same
verdict on what is not JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knobflow.engine import parse

pytest.importorskip("orjson")

numbers = (
    st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
)
scalars = st.none() | st.booleans() | numbers | st.text(max_size=12)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
EDGE_CASES = [
    b'{"a":1,"a":2,"b":3}',
    b"1e400",
    b"-1e400",
    b"NaN",
    b'{"x":Infinity}',
    b'"\\ud800"',
    b"18446744073709551616",
    b"-9223372036854775809",
    b"123456789012345678901234567890.5",
    b' {"a":1} \n',
    b'{"a":1}\x00',
    b"\xef\xbb\xbf{}",
    b'"\xff"',
    b"[" * 5000 + b"]" * 5000,
    b"",
    b"  ",
    b'{"action":"rotation","action_rotation_angle":12}',
]


def canonical(result: tuple[Any, str | None]) -> tuple[str | None, str | None]:
    value, error = result
    if error is not None:
        return None, error
    return json.dumps(value, allow_nan=True), None  # 1 and 1.0 differ, -0.0 stays, order kept


def both(payload: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    fast = canonical(parse.decode(payload))
    with monkeypatch.context() as m:
        m.setattr(parse, "_fast_loads", None)
        plain = canonical(parse.decode(payload))
    return fast, plain


def test_orjson_is_the_first_decoder() -> None:
    assert parse.fast_decoder() == "orjson"


@pytest.mark.parametrize("payload", EDGE_CASES, ids=range(len(EDGE_CASES)))
def test_edge_cases_decode_alike(payload: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, plain = both(payload, monkeypatch)
    assert fast == plain


@settings(max_examples=300)
@given(value=values, spaced=st.booleans())
def test_json_documents_decode_alike(value: Any, spaced: bool) -> None:
    separators = (", ", ": ") if spaced else (",", ":")
    payload = json.dumps(value, separators=separators, ensure_ascii=False).encode(
        "utf-8", "surrogatepass"
    )
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, plain = both(payload, monkeypatch)
    assert fast == plain


@settings(max_examples=300)
@given(value=values, cut=st.integers(min_value=0), junk=st.binary(max_size=3))
def test_damaged_documents_decode_alike(value: Any, cut: int, junk: bytes) -> None:
    text = json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    cut %= len(text) + 1
    payload = text[:cut] + junk + text[cut:]
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, plain = both(payload, monkeypatch)
    assert fast == plain
