"""knobflow for pyscript: Aqara knob H1 gestures as ``knobflow_gesture`` events.

Copy this folder to ``<config>/pyscript/apps/knobflow/`` and add ``knobflow:`` under
``pyscript: apps:`` in ``configuration.yaml`` (docs/hosts.md has the steps). The
``knobflow`` package does the work at native speed; this file only connects it to
pyscript: one ``@mqtt_trigger`` per knob, one timer task, one event per gesture.

This is pyscript code, run by Home Assistant's pyscript integration, not by Python:
``mqtt_trigger``, ``task``, ``event``, ``log`` and ``pyscript`` are pyscript's
built-ins, and pyscript waits for ``task.sleep`` itself. It cannot ``import knobflow``
(pyscript would find this folder first), only submodules of the package, so keep no
``engine.py`` or ``hosts.py`` beside it.
"""

# ruff: noqa: F821 - mqtt_trigger, task, event, log and pyscript are pyscript's built-ins

import time

from knobflow.config import ConfigError
from knobflow.hosts import EVENT_TYPE, HostRuntime, pyscript_config, unused_sections

SOURCE = "pyscript.apps.knobflow"
TIMER = "knobflow_timer"

try:
    APP_CONFIG = pyscript.app_config
except NameError:  # an empty entry (`knobflow:`) leaves it undefined
    APP_CONFIG = None

# A reload stops the triggers but not a running task: end the old timer task.
task.unique(TIMER)

_triggers = {}  # topic -> its trigger function; deleting an entry stops that trigger


def _deliver(gestures):
    for gesture in gestures:
        event.fire(EVENT_TYPE, **HostRuntime.event_data(gesture))


def _timer():
    """The one timer task: sleeps until the engine's next deadline, ticks, ends when none."""
    task.unique(TIMER)
    while True:
        now = time.time()
        _deliver(_runtime.tick(now))
        delay = _runtime.wake_next(now)
        if delay is None:
            return
        task.sleep(delay)


def _on_message(topic, payload, retain):
    now = time.time()
    _deliver(_runtime.feed(topic, payload, now, retain))
    if topic == _runtime.devices_topic:
        _sync_triggers()
    if _runtime.wake_earlier(now) is not None:
        task.create(_timer)


def _make_trigger(topic):
    @mqtt_trigger(topic)
    def knobflow_message(topic=None, payload=None, retain=False, **kwargs):
        _on_message(topic, payload, retain)

    return knobflow_message


def _sync_triggers():
    changes = _runtime.topic_changes()
    for topic in sorted(changes.removed):
        del _triggers[topic]
        log.info(f"knobflow: no longer a knob: {_runtime.knob_of(topic)}")
    for topic in sorted(changes.added):
        _triggers[topic] = _make_trigger(topic)
        knob = _runtime.knob_of(topic)
        if knob is not None:
            log.info(f"knobflow: listening to knob {knob} on {topic}")


def _load():
    """The runtime for the app's config, or ``None`` (with an error in the log) when it is bad."""
    try:
        config = pyscript_config(APP_CONFIG, SOURCE)
    except ConfigError as err:
        log.error(f"knobflow not started: {err}")
        return None
    for key in unused_sections(APP_CONFIG):
        log.warning(f"knobflow: {SOURCE}: {key}: is for the bridge; this app does not use it")
    return HostRuntime(config)


_runtime = _load()
if _runtime is not None:
    _sync_triggers()
