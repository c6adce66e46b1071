"""Keep README.md's generated parts true: the gesture table, the lifecycle diagrams and the
config reference come from the code.

    python tools/readme.py          # rewrite the generated parts
    python tools/readme.py --check  # exit 1 when README.md is out of date (a test runs this)
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from knobflow.config import Config
from knobflow.config.docs import reference_table
from knobflow.diagram import markdown as diagram_markdown
from knobflow.engine.gestures import BUILTIN_GESTURES, DESCRIPTIONS, FIELDS

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"(<!-- begin:(?P<name>[a-z-]+) -->\n)(.*?)(<!-- end:(?P=name) -->)", re.S)


def gesture_table() -> str:
    rows = ["| gesture | when | extra fields |", "|---|---|---|"]
    for name in BUILTIN_GESTURES:
        fields = ", ".join(f"`{f}`" for f in FIELDS[name]) or "—"
        rows.append(f"| `{name}` | {DESCRIPTIONS[name]} | {fields} |")
    rows.append(
        "| *composite name* | a composite's last part (see Composites) | `parts`, `duration_ms` |"
    )
    return "\n".join(rows) + "\n"


def generated() -> dict[str, str]:
    return {
        "gestures": gesture_table(),
        "diagram": diagram_markdown(),
        "config": reference_table(Config),
    }


def render(text: str) -> str:
    parts = generated()
    missing = set(parts) - {m.group("name") for m in BLOCK.finditer(text)}
    if missing:
        raise SystemExit(f"README.md lacks the blocks: {', '.join(sorted(missing))}")
    return BLOCK.sub(lambda m: m.group(1) + parts[m.group("name")] + m.group(4), text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    new = render(text)
    if args.check:
        if new != text:
            print("README.md is out of date: run python tools/readme.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
