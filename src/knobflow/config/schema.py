"""Dataclasses as a config schema: validation with precise errors, and JSON Schema.

A config section is a frozen dataclass whose fields carry their rules in
``field(metadata=...)``: ``doc`` (one line for people), ``min``/``max``
(inclusive) or ``above`` (exclusive), ``choices``, ``pattern``. Types are
read from the annotations: ``bool``, ``int``, ``float``, ``str``, ``X | None``,
``list[X]``, ``dict[str, X]``, ``Literal[...]`` and nested sections.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

from knobflow.config.errors import ConfigError

__all__ = ["build", "json_schema", "meta", "type_text"]

T = TypeVar("T")


def meta(
    doc: str,
    *,
    min: float | None = None,
    max: float | None = None,
    above: float | None = None,
    pattern: str | None = None,
    secret: bool = False,
) -> dict[str, Any]:
    """Field metadata: ``field(default=..., metadata=meta("what it is", min=0))``."""
    out: dict[str, Any] = {"doc": doc}
    for key, value in (("min", min), ("max", max), ("above", above), ("pattern", pattern)):
        if value is not None:
            out[key] = value
    if secret:
        out["secret"] = True
    return out


def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _is_optional(tp: Any) -> tuple[bool, Any]:
    if get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) < len(get_args(tp)):
            return True, args[0] if len(args) == 1 else typing.Union[tuple(args)]  # noqa: UP007
    return False, tp


def type_text(tp: Any) -> str:
    """The type in people's words (errors, docs)."""
    optional, inner = _is_optional(tp)
    if optional:
        return type_text(inner) + " or null"
    origin = get_origin(tp)
    if tp is Any:
        return "any JSON value"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_text(a) for a in get_args(tp))
    if tp is bool:
        return "true or false"
    if tp is int:
        return "a whole number"
    if tp is float:
        return "a number"
    if tp is str:
        return "a string"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin is list or origin is tuple:
        return "a list of " + _plural(type_text(get_args(tp)[0]))
    if origin is dict:
        return "a mapping of names to " + _plural(type_text(get_args(tp)[1]))
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    return str(tp)


def _plural(text: str) -> str:
    for article in ("a ", "an "):
        if text.startswith(article):
            return text[len(article) :] + "s"
    return text


def _check_range(value: float, rules: Mapping[str, Any], key: str) -> None:
    low, high, above = rules.get("min"), rules.get("max"), rules.get("above")
    parts = []
    if above is not None:
        parts.append(f"> {above:g}")
    if low is not None:
        parts.append(f">= {low:g}")
    if high is not None:
        parts.append(f"<= {high:g}")
    if (
        (above is not None and not value > above)
        or (low is not None and value < low)
        or (high is not None and value > high)
    ):
        raise ConfigError("is out of range", key=key, value=value, allowed=" and ".join(parts))


def _convert(tp: Any, value: Any, key: str, rules: Mapping[str, Any]) -> Any:
    optional, inner = _is_optional(tp)
    if value is None:
        if optional:
            return None
        raise ConfigError("is not allowed here", key=key, value=None, allowed=type_text(tp))
    tp = inner
    origin = get_origin(tp)
    if tp is Any:
        return _json_value(value, key)
    if origin in (typing.Union, types.UnionType):
        for alternative in get_args(tp):
            try:
                return _convert(alternative, value, key, rules)
            except ConfigError:
                continue
        raise ConfigError("is not allowed", key=key, value=value, allowed=type_text(tp))
    if tp is bool:
        if type(value) is not bool:
            raise ConfigError("is not true or false", key=key, value=value, allowed="true, false")
        return value
    if tp is int:
        if type(value) is not int:
            raise ConfigError("is not a whole number", key=key, value=value)
        _check_range(value, rules, key)
        return value
    if tp is float:
        if type(value) not in (int, float) or not math.isfinite(value):
            raise ConfigError("is not a number", key=key, value=value)
        _check_range(value, rules, key)
        return value
    if tp is str:
        if type(value) is not str:
            raise ConfigError("is not a string", key=key, value=value)
        pattern = rules.get("pattern")
        if pattern is not None and not re.fullmatch(pattern, value):
            raise ConfigError(
                "is not allowed", key=key, value=value, allowed=f"text matching {pattern}"
            )
        return value
    if origin is Literal:
        choices = get_args(tp)
        if value not in choices or type(value) is bool:
            raise ConfigError(
                "is not allowed", key=key, value=value, allowed=", ".join(repr(c) for c in choices)
            )
        return value
    if origin is list or origin is tuple:
        if not isinstance(value, list):
            raise ConfigError("is not a list", key=key, value=value, allowed=type_text(tp))
        item = get_args(tp)[0]
        items = [_convert(item, v, f"{key}[{i}]", {}) for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError("is not a mapping", key=key, value=value, allowed=type_text(tp))
        item = get_args(tp)[1]
        out = {}
        for name, v in value.items():
            if type(name) is not str:
                raise ConfigError("is not a name (a string)", key=key, value=name)
            out[name] = _convert(item, v, f"{key}.{name}", {})
        return out
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return build(tp, value, key)
    raise TypeError(f"unsupported config type {tp!r}")  # a bug in a section, not in a file


def _json_value(value: Any, key: str) -> Any:
    """Any JSON value (``Any`` in a section): mappings with string keys, lists, scalars."""
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        if not math.isfinite(value):
            raise ConfigError("is not a finite number", key=key, value=value)
        return value
    if isinstance(value, list):
        return [_json_value(v, f"{key}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for name, v in value.items():
            if type(name) is not str:
                raise ConfigError("is not a name (a string)", key=key, value=name)
            out[name] = _json_value(v, f"{key}.{name}")
        return out
    raise ConfigError("is not a JSON value", key=key, value=value)


def build(cls: type[T], data: Any, key: str = "") -> T:
    """Validate ``data`` (a decoded mapping) into the section ``cls``.

    Raises :class:`ConfigError` naming the key path, the value and what is allowed.
    """
    where = key or "(top level)"
    if not isinstance(data, dict):
        raise ConfigError("is not a mapping", key=where, value=data, allowed="a mapping of keys")
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for name in data:
        if name not in fields:
            raise ConfigError(
                f"is an unknown key in {where}",
                key=f"{key}.{name}" if key else str(name),
                allowed=", ".join(sorted(fields)),
            )
    values = {}
    for name, f in fields.items():
        path = f"{key}.{name}" if key else name
        if name in data:
            try:
                values[name] = _convert(hints[name], data[name], path, f.metadata)
            except ConfigError as err:
                if not f.metadata.get("secret"):
                    raise
                hidden = "(hidden)" if err.value is not ... else ...
                raise ConfigError(
                    err.problem, key=err.key, value=hidden, allowed=err.allowed
                ) from None
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError("is missing", key=path, allowed=type_text(hints[name]))
    try:
        return cls(**values)
    except ConfigError as err:
        if err.key is None:
            raise ConfigError(
                err.problem, key=where, value=err.value, allowed=err.allowed
            ) from None
        raise


def json_schema(cls: type) -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) of the section ``cls``."""
    out = _section_schema(cls)
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return out


def _section_schema(cls: type) -> dict[str, Any]:
    hints = _hints(cls)
    props: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        prop = _type_schema(hints[f.name])
        prop.update(_rules_schema(f.metadata))
        if f.default is not dataclasses.MISSING and _jsonable(f.default):
            prop["default"] = f.default
        props[f.name] = prop
    schema: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if cls.__doc__:
        schema["description"] = " ".join(cls.__doc__.split())
    return schema


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def _rules_schema(rules: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "doc" in rules:
        out["description"] = rules["doc"]
    if "min" in rules:
        out["minimum"] = rules["min"]
    if "max" in rules:
        out["maximum"] = rules["max"]
    if "above" in rules:
        out["exclusiveMinimum"] = rules["above"]
    if "pattern" in rules:
        out["pattern"] = "^(?:" + rules["pattern"] + ")$"
    return out


def _type_schema(tp: Any) -> dict[str, Any]:
    optional, inner = _is_optional(tp)
    if optional:
        return {"anyOf": [_type_schema(inner), {"type": "null"}]}
    origin = get_origin(tp)
    if tp is Any:
        return {}
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [_type_schema(a) for a in get_args(tp)]}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is float:
        return {"type": "number"}
    if tp is str:
        return {"type": "string"}
    if origin is Literal:
        return {"enum": list(get_args(tp))}
    if origin is list or origin is tuple:
        return {"type": "array", "items": _type_schema(get_args(tp)[0])}
    if origin is dict:
        return {"type": "object", "additionalProperties": _type_schema(get_args(tp)[1])}
    if dataclasses.is_dataclass(tp):
        return _section_schema(tp)  # type: ignore[arg-type]
    raise TypeError(f"unsupported config type {tp!r}")
