"""The subcommands of ``knobflow``; each module has ``help``, ``configure`` and ``run``."""
