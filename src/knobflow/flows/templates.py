"""Sandboxed templates for flow payloads and topics.

Jinja2's ``ImmutableSandboxedEnvironment`` refuses attributes of Python
internals (``''.__class__``) and calls that mutate; on top of it, ``*`` and
``**`` are bounded so a template cannot build huge strings or numbers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError, Undefined
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

__all__ = ["MAX_SIZE", "Compiled", "TemplateFailure", "compile_value", "render_payload"]

MAX_SIZE = 10_000  # characters (or items) a `*` may produce
MAX_EXPONENT = 100
_ONE_EXPRESSION = re.compile(r"\s*\{\{(?P<expr>(?:(?!\}\}).)*)\}\}\s*", re.S)


class TemplateFailure(Exception):
    """A template could not be rendered (undefined name, refused access, bad arithmetic)."""


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponent {right!r} is over {MAX_EXPONENT}")
        else:
            for sized, count in ((left, right), (right, left)):
                if (
                    isinstance(sized, str | list | tuple)
                    and isinstance(count, int)
                    and len(sized) * count > MAX_SIZE
                ):
                    raise SecurityError(f"a result over {MAX_SIZE} items is refused")
        return super().call_binop(context, operator, left, right)


_ENV = _Sandbox(undefined=StrictUndefined, autoescape=False)
_ENV.globals.update({"clamp": _clamp, "min": min, "max": max, "abs": abs, "round": round})
_ENV.globals.pop("range", None)
_ENV.globals.pop("lipsum", None)
_ENV.globals.pop("cycler", None)
_ENV.globals.pop("joiner", None)
_ENV.globals.pop("namespace", None)


class Compiled:
    """A payload or topic value, compiled once: literals stay, templates are parsed."""

    __slots__ = ("_kind", "_value")

    def __init__(self, kind: str, value: Any) -> None:
        self._kind = kind  # literal | expr | text | dict | list
        self._value = value

    @property
    def is_literal(self) -> bool:
        return self._kind == "literal"

    def render(self, context: Mapping[str, Any]) -> Any:
        try:
            return self._render(context)
        except TemplateFailure:
            raise
        except (TemplateError, ArithmeticError, TypeError, ValueError, RecursionError) as err:
            raise TemplateFailure(_describe(err)) from None

    def _render(self, context: Mapping[str, Any]) -> Any:
        kind, value = self._kind, self._value
        if kind == "literal":
            return value
        if kind == "expr":
            result = value(**context)
            if isinstance(result, Undefined):
                str(result)  # raises the undefined error (or the sandbox's refusal)
            return _plain(result)
        if kind == "text":
            return value.render(context)
        if kind == "dict":
            return {k: v._render(context) for k, v in value.items()}
        return [v._render(context) for v in value]


def _plain(value: Any) -> Any:
    """Results must be plain JSON values: anything else is refused."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    raise TemplateFailure(f"a template gave {type(value).__name__}, not a JSON value")


def _describe(err: BaseException) -> str:
    if isinstance(err, SecurityError):
        return f"refused by the sandbox: {err}"
    return f"{type(err).__name__}: {err}"


def compile_value(value: Any) -> Compiled:
    """Compile a payload/topic value; raises ``TemplateFailure`` on a syntax error."""
    try:
        if isinstance(value, str):
            if "{{" not in value and "{%" not in value and "{#" not in value:
                return Compiled("literal", value)
            one = _ONE_EXPRESSION.fullmatch(value)
            if one is not None:
                expression = _ENV.compile_expression(one.group("expr"), undefined_to_none=False)
                return Compiled("expr", expression)
            return Compiled("text", _ENV.from_string(value))
        if isinstance(value, dict):
            return Compiled("dict", {str(k): compile_value(v) for k, v in value.items()})
        if isinstance(value, list):
            return Compiled("list", [compile_value(v) for v in value])
    except TemplateError as err:
        raise TemplateFailure(f"template syntax: {err}") from None
    return Compiled("literal", value)


def render_payload(compiled: Compiled, context: Mapping[str, Any]) -> str:
    """The MQTT payload text: strings as they are, anything else as compact JSON."""
    value = compiled.render(context)
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    except ValueError as err:
        raise TemplateFailure(f"the payload is not JSON: {err}") from None
