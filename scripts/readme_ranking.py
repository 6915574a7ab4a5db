#!/usr/bin/env python3
"""Prints a study's ranking (its `ranking.csv`, written by `cnnvar report DIR`) as the
Markdown table the README opens its results with.

    python3 scripts/readme_ranking.py results/full/ranking.csv

Each row: the factor, its effect (the spread of its level means, best minus worst, in
accuracy points, with the 95% bootstrap interval cnnvar computed), that spread as a
multiple of the experiment's seed noise (sd within levels), the best and worst level,
and whether the data support the write-up's claim (the first words of cnnvar's
finding). Standard library only.
"""

import csv
import sys


def verdict(finding: str) -> str:
    """The verdict of a finding, without the claim it quotes."""
    for prefix, words in [
        ("Supported", "yes"),
        ("Not supported", "**no**"),
        ("Cannot be told apart", "no: within seed noise"),
    ]:
        if finding.startswith(prefix):
            return words
    return finding.split(":", 1)[0]


def points(x: str) -> str:
    return f"{100 * float(x):.1f}"


def row(r: dict) -> str:
    effect = f"{points(r['range'])} [{points(r['range_ci_low'])}, {points(r['range_ci_high'])}]"
    ratio = f"{float(r['noise_ratio']):.1f}×"
    return (
        f"| {r['rank']} | {r['title']} | {effect} | {ratio} | {r['best']} | {r['worst']} "
        f"| {verdict(r['finding'])} |"
    )


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: readme_ranking.py RANKING_CSV")
    with open(sys.argv[1], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    print(
        "| # | factor | effect, points [95% CI] | × seed noise | best | worst "
        "| write-up's claim supported? |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(row(r))


if __name__ == "__main__":
    main()
