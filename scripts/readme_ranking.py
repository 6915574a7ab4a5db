#!/usr/bin/env python3
"""Prints a study's ranking and claims (its `ranking.csv` and `claims.csv`, written by
`cnnvar report DIR`) as the Markdown tables the README opens its results with.

    python3 scripts/readme_ranking.py results/full

The README's copy sits between `<!-- readme_ranking.py results/full: begin -->` and
`<!-- … end -->`; `cargo xtask ci` (xtask/src/tidy.rs) checks it is this output, so the
README's numbers are generated, never typed. Standard library only.

Ranking, one row per factor: its effect (the sd of its levels' true mean accuracies,
corrected for seed noise, in points, with its 95% interval), that effect over the
experiment's seed noise (one run's sd within its level and seed block), best against
worst with an interval valid over every pair of levels, the factor test matching the
design (block ANOVA over paired seeds) Holm-adjusted over the study, and the claim's
verdict. Claims, one row per part: what it says, on which outcome, the verdict and the
estimate with its interval.
"""

import csv
import sys
from pathlib import Path


def num(x: str, digits: int = 1) -> str:
    return f"{float(x):.{digits}f}" if x else "–"


def interval(lo: str, hi: str, digits: int = 1) -> str:
    return f"[{num(lo, digits)}, {num(hi, digits)}]" if lo and hi else ""


def p_text(p: str) -> str:
    if not p:
        return "–"
    return "< 0.001" if float(p) < 0.001 else f"{float(p):.3f}"


def ranking_row(r: dict) -> str:
    effect = f"{num(r['effect_sd'], 2)} {interval(r['effect_ci_low'], r['effect_ci_high'], 2)}"
    ratio = f"{num(r['noise_ratio'])}×"
    spread = f"{num(r['best_minus_worst'])} {interval(r['best_worst_ci_low'], r['best_worst_ci_high'])}"
    differ = "yes" if r["distinguishable"] == "true" else "no"
    diverged = f", {r['diverged_runs']} diverged" if r["diverged_runs"] != "0" else ""
    return (
        f"| {r['rank']} | {r['title']} | {effect} | {ratio} | {r['best']} − {r['worst']}: {spread} "
        f"| {differ} (p {p_text(r['p_holm'])}{diverged}) | {r['claim_verdict'] or '–'} |"
    )


def claims_row(r: dict) -> str:
    estimate = f"{num(r['estimate'], 2)} {interval(r['ci_low'], r['ci_high'], 2)}" if r["estimate"] else "–"
    verdict = f"**{r['verdict']}**" if r["verdict"] == "Contradicted" else r["verdict"]
    return f"| {r['experiment']} | {r['says']} | {r['outcome']} | {verdict} | {estimate} | {r['test']} |"


def read(path: Path) -> list:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def tables(study_dir: Path) -> str:
    lines = [
        "| # | factor | effect: sd of level means, points [95% CI] | × seed noise "
        "| best − worst, points [95% CI, all pairs] | levels differ? (Holm) | claim |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [ranking_row(r) for r in read(study_dir / "ranking.csv")]
    claims = read(study_dir / "claims.csv")
    if claims:
        lines += [
            "",
            "| experiment | claim part | outcome | verdict | estimate, points [95% CI] | test |",
            "|---|---|---|---|---|---|",
        ]
        lines += [claims_row(r) for r in claims]
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: readme_ranking.py STUDY_DIR")
    print(tables(Path(sys.argv[1])))


if __name__ == "__main__":
    main()
