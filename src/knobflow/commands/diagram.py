"""Print the knob's lifecycles (button and dial) as Mermaid state diagrams,
generated from the state machines the engine runs."""

from __future__ import annotations

import argparse
import sys

help = "print the lifecycles as Mermaid state diagrams"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lifecycle",
        choices=("button", "dial"),
        help="print only this lifecycle, as bare Mermaid (default: both, as Markdown)",
    )


def run(args: argparse.Namespace) -> int:
    from knobflow.diagram import markdown, mermaid

    sys.stdout.write(mermaid(args.lifecycle) if args.lifecycle else markdown())
    return 0
