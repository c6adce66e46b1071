"""A FAKE of pyscript's built-ins, for the CI-level test of the pyscript app only.

This is not pyscript. It lets the app file (``pyscript/apps/knobflow/__init__.py``)
run as plain Python in the main test session, where Home Assistant and pyscript
are not installed, so that the app's wiring of the package (triggers per knob,
the timer task, events, config errors, reload) is checked on a virtual clock. What
it models of pyscript, and nothing more:

- ``@mqtt_trigger(topic)`` registers the function for that exact topic until the
  function object is deleted (pyscript's ``EvalFuncVar.__del__``) or the app is
  reloaded; a delivery calls it with ``topic``, ``payload`` (text), ``payload_obj``,
  ``qos``, ``retain`` and ``trigger_type``;
- ``task.create``, ``task.unique`` (kills the other task holding the name) and
  ``task.sleep``; a sleeping task resumes at its wake time on the virtual clock.
  The fake resumes a task by calling its function again from the top, which is
  the same for the app's timer loop (each pass re-reads the engine's deadline);
- ``event.fire``, ``log.*`` and ``pyscript.app_config`` (undefined, ``NameError``,
  for an empty config).

Whether real pyscript behaves like this is what ``tests/pyscript`` checks, in a
real Home Assistant.
"""

from __future__ import annotations

import heapq
import json
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["APP_FILE", "FakePyscript", "Sleep"]

APP_FILE = Path(__file__).resolve().parents[2] / "pyscript" / "apps" / "knobflow" / "__init__.py"

_MISSING = object()


class Sleep(Exception):
    """Raised by the fake ``task.sleep``: the task is suspended until its wake time."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


@dataclass(eq=False)
class _Task:
    func: Callable[[], Any]
    load: int
    cancelled: bool = False
    names: set[str] = field(default_factory=set)


class _Trigger:
    """The decorated function: calls the app's function; unregisters when deleted."""

    def __init__(self, fake: FakePyscript, topic: str, func: Callable[..., Any]) -> None:
        self.topic = topic
        self.func = func
        self.load = fake.load
        fake.triggers.setdefault(topic, weakref.WeakSet()).add(self)

    def __call__(self, **kwargs: Any) -> Any:
        return self.func(**kwargs)


class _TaskApi:
    """Stands for pyscript's ``task``."""

    def __init__(self, fake: FakePyscript) -> None:
        self._fake = fake

    def create(self, func: Callable[[], Any]) -> _Task:
        task = _Task(func, self._fake.load)
        self._fake.ready.append(task)
        return task

    def unique(self, name: str) -> None:
        fake = self._fake
        holder = fake.unique_names.get(name)
        current = fake.current
        if holder is not None and holder is not current:
            holder.cancelled = True
        if current is not None:
            fake.unique_names[name] = current
            current.names.add(name)

    def sleep(self, seconds: float) -> None:
        raise Sleep(seconds)


class _EventApi:
    """Stands for pyscript's ``event``."""

    def __init__(self, fake: FakePyscript) -> None:
        self._fake = fake

    def fire(self, event_type: str, **data: Any) -> None:
        self._fake.events.append((event_type, data))


class _LogApi:
    """Stands for pyscript's ``log``."""

    def __init__(self, fake: FakePyscript) -> None:
        self._fake = fake

    def _record(self, level: str, message: str) -> None:
        self._fake.log.append((level, message))

    def debug(self, message: str) -> None:
        self._record("debug", message)

    def info(self, message: str) -> None:
        self._record("info", message)

    def warning(self, message: str) -> None:
        self._record("warning", message)

    def error(self, message: str) -> None:
        self._record("error", message)


class _PyscriptApi:
    """Stands for pyscript's ``pyscript`` (only ``app_config``)."""

    def __init__(self, app_config: Any) -> None:
        self._app_config = app_config

    @property
    def app_config(self) -> Any:
        if self._app_config is _MISSING:
            raise NameError("name 'pyscript.app_config' is not defined")
        return self._app_config


class FakePyscript:
    """Loads the app with fake built-ins; delivers MQTT messages; runs tasks on a virtual clock."""

    def __init__(self, clock: Callable[[], float], set_clock: Callable[[float], None]) -> None:
        self.clock = clock
        self.set_clock = set_clock
        self.triggers: dict[str, weakref.WeakSet[_Trigger]] = {}
        self.ready: list[_Task] = []
        self.sleeping: list[tuple[float, int, _Task]] = []
        self.unique_names: dict[str, _Task] = {}
        self.current: _Task | None = None
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.log: list[tuple[str, str]] = []
        self.load = 0
        self.namespace: dict[str, Any] = {}
        self._seq = 0

    # -- loading --------------------------------------------------------------------

    def load_app(self, app_config: Any = _MISSING) -> dict[str, Any]:
        """Run the app file as pyscript would load it (again: a reload).

        ``app_config`` is the ``pyscript: apps: knobflow:`` entry; leave it out for
        an empty entry (then ``pyscript.app_config`` is undefined).
        """
        # A reload stops every trigger of the old load; running tasks go on.
        for triggers in self.triggers.values():
            for trigger in list(triggers):
                if trigger.load == self.load:
                    triggers.discard(trigger)
        self.load += 1
        task_api = _TaskApi(self)

        def mqtt_trigger(topic: str) -> Callable[[Callable[..., Any]], _Trigger]:
            def decorate(func: Callable[..., Any]) -> _Trigger:
                return _Trigger(self, topic, func)

            return decorate

        namespace: dict[str, Any] = {
            "__name__": "apps.knobflow",
            "__file__": str(APP_FILE),
            "mqtt_trigger": mqtt_trigger,
            "task": task_api,
            "event": _EventApi(self),
            "log": _LogApi(self),
            "pyscript": _PyscriptApi(app_config),
        }
        code = compile(APP_FILE.read_text(encoding="utf-8"), str(APP_FILE), "exec")
        exec(code, namespace)
        self.namespace = namespace
        self.run_ready()
        return namespace

    # -- input ----------------------------------------------------------------------

    def topics(self) -> set[str]:
        """Topics with a live trigger."""
        return {topic for topic, triggers in self.triggers.items() if len(triggers)}

    def deliver(self, topic: str, payload: Any, *, retain: bool = False) -> None:
        """One MQTT message at the current virtual time, to every live trigger of its topic."""
        text = payload if isinstance(payload, str) else json.dumps(payload)
        kwargs: dict[str, Any] = {
            "trigger_type": "mqtt",
            "topic": topic,
            "payload": text,
            "qos": 0,
            "retain": retain,
        }
        with suppress(ValueError):
            kwargs["payload_obj"] = json.loads(text)
        for trigger in list(self.triggers.get(topic, ())):
            trigger(**kwargs)
        self.run_ready()

    # -- tasks ----------------------------------------------------------------------

    def run_ready(self) -> None:
        while self.ready:
            self._run(self.ready.pop(0))

    def _run(self, task: _Task) -> None:
        if task.cancelled:
            return
        self.current = task
        try:
            task.func()
        except Sleep as sleep:
            self._seq += 1
            heapq.heappush(self.sleeping, (self.clock() + sleep.seconds, self._seq, task))
        finally:
            self.current = None
        self._forget_if_done(task)

    def _forget_if_done(self, task: _Task) -> None:
        if any(t is task for _, _, t in self.sleeping):
            return
        for name in task.names:
            if self.unique_names.get(name) is task:
                del self.unique_names[name]

    def next_wake(self) -> float | None:
        """When the first live sleeping task wakes, or ``None``."""
        while self.sleeping and self.sleeping[0][2].cancelled:
            heapq.heappop(self.sleeping)
        return self.sleeping[0][0] if self.sleeping else None

    def run_until(self, t: float) -> None:
        """Advance the virtual clock to ``t``, waking sleeping tasks on the way (at ``t`` too)."""
        while (wake := self.next_wake()) is not None and wake <= t + 1e-9:
            _, _, task = heapq.heappop(self.sleeping)
            self.set_clock(max(wake, self.clock()))
            self._run(task)
            self.run_ready()
        self.set_clock(max(t, self.clock()))

    def run_all(self, limit: float = 1e6) -> None:
        """Let every sleeping task run to its end (or the clock reach ``limit``)."""
        while (wake := self.next_wake()) is not None and wake < limit:
            self.run_until(wake)

    def live_tasks(self) -> int:
        return sum(1 for _, _, task in self.sleeping if not task.cancelled)

    @contextmanager
    def no_errors(self) -> Iterator[None]:
        """Fail when the app logs a warning or an error inside the block."""
        before = len(self.log)
        yield
        bad = [entry for entry in self.log[before:] if entry[0] in ("warning", "error")]
        assert not bad, bad
