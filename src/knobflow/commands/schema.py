"""Print the JSON Schema of the config file (for editors and validators)."""

from __future__ import annotations

import argparse
import json
import sys

help = "print the config file's JSON Schema"


def configure(parser: argparse.ArgumentParser) -> None:
    del parser  # no options


def run(args: argparse.Namespace) -> int:
    from knobflow.config import Config, json_schema

    del args
    json.dump(json_schema(Config), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0
