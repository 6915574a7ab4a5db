#!/usr/bin/env python3
"""Prints the "Chance or chaos?" findings of a study's report (its `report.md`, written by
`cnnvar report DIR`) as the Markdown list the README quotes.

    python3 scripts/readme_chaos.py results/chaos

The README's copy sits between `<!-- readme_chaos.py results/chaos: begin -->` and
`<!-- … end -->`; `cargo xtask ci` (xtask/src/tidy.rs) checks it is this output, so the
README's numbers are the report's, never typed. Standard library only.
"""

import sys
from pathlib import Path

SECTION = "## Chance or chaos?"


def chaos_bullets(report: str) -> list[str]:
    """The bullet lines of the report's "Chance or chaos?" section, in order."""
    lines = report.splitlines()
    try:
        start = lines.index(SECTION)
    except ValueError:
        sys.exit(f"the report has no `{SECTION}` section")
    bullets = []
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        if line.startswith("- "):
            bullets.append(line)
    return bullets


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: readme_chaos.py STUDY_DIR")
    report = Path(sys.argv[1]) / "report.md"
    for line in chaos_bullets(report.read_text(encoding="utf-8")):
        print(line)


if __name__ == "__main__":
    main()
