"""The bridge's start-up: when the knob list is known, and what that unlocks.

The knob list comes from Zigbee2MQTT's retained ``bridge/devices``. The
bridge waits for it a short grace period after its first session starts;
then it goes on with the knobs named in the config (discovery is published
for those, and completed when ``bridge/devices`` comes):

    WAITING --session--> GRACE --bridge/devices--> LISTED
                           |                          ^
                           +--grace over--> PROVISIONAL --bridge/devices--+

Once the list is known (``PROVISIONAL`` or ``LISTED``) dial values are
restored and discovery is live; ``LISTED`` is final.
"""

from __future__ import annotations

import enum

__all__ = ["DEVICES_GRACE", "Phase", "Startup", "Step"]

DEVICES_GRACE = 0.5  # first discovery waits this long for the retained bridge/devices


class Phase(enum.Enum):
    WAITING = "waiting"  # no session yet
    GRACE = "grace"  # a session, waiting for bridge/devices
    PROVISIONAL = "provisional"  # grace over without bridge/devices: the config's knobs
    LISTED = "listed"  # bridge/devices read


class Step(enum.Enum):
    """What a transition asks of the bridge."""

    NONE = "none"  # nothing new
    START_GRACE = "start_grace"  # arm the grace timer
    SETTLE = "settle"  # the knob list is known for the first time: restore, discovery
    COMPLETE = "complete"  # bridge/devices after the grace: discovery completed


class Startup:
    """The start-up phase, one transition per event; each returns the :class:`Step` to take."""

    __slots__ = ("phase",)

    def __init__(self) -> None:
        self.phase = Phase.WAITING

    @property
    def settled(self) -> bool:
        """The knob list is known (from bridge/devices, or the grace is over)."""
        return self.phase in (Phase.PROVISIONAL, Phase.LISTED)

    @property
    def listed(self) -> bool:
        """bridge/devices has been read."""
        return self.phase is Phase.LISTED

    def session_started(self) -> Step:
        if self.phase is Phase.WAITING:
            self.phase = Phase.GRACE
            return Step.START_GRACE
        return Step.NONE

    def grace_over(self) -> Step:
        if self.phase is Phase.GRACE:
            self.phase = Phase.PROVISIONAL
            return Step.SETTLE
        return Step.NONE

    def devices_listed(self) -> Step:
        before, self.phase = self.phase, Phase.LISTED
        if before is Phase.PROVISIONAL:
            return Step.COMPLETE
        if before is Phase.LISTED:
            return Step.NONE
        return Step.SETTLE
