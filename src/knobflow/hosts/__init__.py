"""What the Home Assistant hosts (the pyscript app, the AppDaemon app) share.

Both apps are thin shims: the engine, topics, timers, config and the shapes of
their output live here, where they are tested without either host.

    from knobflow.hosts import HostRuntime, pyscript_config
"""

from knobflow.hosts.options import (
    APPDAEMON_KEYS,
    AUTO,
    AppDaemonOptions,
    appdaemon_config,
    pyscript_config,
    unused_sections,
)
from knobflow.hosts.runtime import EVENT_TYPE, HostRuntime, TopicChanges

__all__ = [
    "APPDAEMON_KEYS",
    "AUTO",
    "EVENT_TYPE",
    "AppDaemonOptions",
    "HostRuntime",
    "TopicChanges",
    "appdaemon_config",
    "pyscript_config",
    "unused_sections",
]
