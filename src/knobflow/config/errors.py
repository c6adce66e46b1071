"""The one error bad configuration raises."""

from __future__ import annotations

from typing import Any

__all__ = ["ConfigError"]


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class ConfigError(ValueError):
    """Bad configuration: says which file, which key, which value, what is allowed."""

    def __init__(
        self,
        problem: str,
        *,
        source: str | None = None,
        key: str | None = None,
        value: Any = ...,
        allowed: str | None = None,
    ) -> None:
        self.source = source
        self.key = key
        self.value = value
        self.problem = problem
        self.allowed = allowed
        parts = []
        if source:
            parts.append(source)
        if key:
            parts.append(key)
        head = ": ".join(parts)
        body = problem if value is ... else f"{_show(value)} {problem}"
        if allowed:
            body += f" (allowed: {allowed})"
        super().__init__(f"{head}: {body}" if head else body)

    def within(self, source: str) -> ConfigError:
        """The same error, naming the file (or other source) it came from."""
        return ConfigError(
            self.problem, source=source, key=self.key, value=self.value, allowed=self.allowed
        )
