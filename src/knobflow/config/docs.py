"""The config file's keys as a Markdown table, from the same dataclasses that validate it."""

from __future__ import annotations

import dataclasses
from typing import Any, get_args, get_origin, get_type_hints

from knobflow.config.schema import _is_optional, type_text

__all__ = ["reference_table"]


def _default_text(f: dataclasses.Field[Any]) -> str:
    if f.default is not dataclasses.MISSING:
        value = f.default
        if value is None:
            return "—"
        if isinstance(value, bool):
            return "`true`" if value else "`false`"
        if isinstance(value, float) and value.is_integer():
            return f"`{int(value)}`"
        return f"`{value}`"
    return "(required)" if f.default_factory is dataclasses.MISSING else "—"


def _section(tp: Any) -> Any | None:
    """The dataclass a field's type holds (directly, optionally, or as mapping values)."""
    _, inner = _is_optional(tp)
    if get_origin(inner) is dict:
        _, inner = _is_optional(get_args(inner)[1])
    elif get_origin(inner) is list:
        _, inner = _is_optional(get_args(inner)[0])
    return inner if isinstance(inner, type) and dataclasses.is_dataclass(inner) else None


def _rows(cls: type, prefix: str, seen: set[type], out: list[str]) -> None:
    hints = get_type_hints(cls)
    nested: list[tuple[str, type]] = []
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        _, inner = _is_optional(tp)
        key = f"{prefix}{f.name}"
        if get_origin(inner) is dict:
            key += ".<name>"
        elif get_origin(inner) is list and _section(tp) is not None:
            key += "[]"
        doc = f.metadata.get("doc", "")
        rules = []
        for rule, text in (("above", "> {}"), ("min", "≥ {}"), ("max", "≤ {}")):
            if rule in f.metadata:
                rules.append(text.format(f"{f.metadata[rule]:g}"))
        allowed = type_text(tp) + (f" ({', '.join(rules)})" if rules else "")
        if get_origin(inner) is dict and _section(tp) is not None:
            allowed = "a mapping of names to sections (below)"
        elif get_origin(inner) is list and _section(tp) is not None:
            allowed = "a list of sections (below)"
        elif _section(tp) is not None:
            allowed = "a section (below)" + (" or null" if _is_optional(tp)[0] else "")
        cells = [f"`{key}`", allowed, _default_text(f), doc]
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        section = _section(tp)
        if section is not None and section not in seen:
            seen.add(section)
            nested.append((key + ".", section))
    for key, section in nested:
        _rows(section, key, seen, out)


def reference_table(cls: type) -> str:
    """Every key of ``cls`` and its sections: key, what is allowed, default, meaning."""
    out = ["| key | allowed | default | meaning |", "|---|---|---|---|"]
    _rows(cls, "", set(), out)
    return "\n".join(out) + "\n"
