#!/usr/bin/env python3
"""Prints the README's comparison of the write-up's own Keras code (a study of
examples/keras, run by `cnnvar sweep`) with cnnvar's burn runs of the same arms
(the study `seed` beside it): per level, the mean and sd of test accuracy over the
paired seeds, and each claim's verdict, from the studies' summary.csv and claims.csv
(written by `cnnvar report DIR`).

    python3 scripts/readme_keras.py results/keras-seed

The README's copy sits between `<!-- readme_keras.py results/keras-seed: begin -->` and
`<!-- … end -->`; `cargo xtask ci` (xtask/src/tidy.rs) checks it is this output, so the
README's numbers are the reports', never typed. Standard library only.
"""

import csv
import sys
from pathlib import Path

# The study of cnnvar's own runs of the same arms, beside the Keras study.
BURN_STUDY = "seed"


def accuracies(study: Path) -> dict:
    """(experiment, level) -> (n, mean, sd) of test accuracy, from summary.csv."""
    with open(study / "summary.csv", newline="", encoding="utf-8") as f:
        return {
            (r["experiment"], r["level"]): (int(r["n"]), float(r["mean"]), float(r["sd"] or 0))
            for r in csv.DictReader(f)
            if r["metric"] == "test_accuracy"
        }


def verdicts(study: Path) -> dict:
    """experiment -> its claim's verdict, from claims.csv."""
    with open(study / "claims.csv", newline="", encoding="utf-8") as f:
        return {r["experiment"]: r["claim_verdict"] for r in csv.DictReader(f)}


def cell(stats) -> str:
    if stats is None:
        return "–"
    n, mean, sd = stats
    return f"{100 * mean:.2f} ± {100 * sd:.2f} ({n})"


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: readme_keras.py KERAS_STUDY_DIR")
    keras = Path(sys.argv[1])
    burn = keras.parent / BURN_STUDY
    k, b = accuracies(keras), accuracies(burn)
    kv, bv = verdicts(keras), verdicts(burn)
    print("| experiment | level | Keras: mean ± sd (seeds) | cnnvar (burn): mean ± sd (seeds) |")
    print("|---|---|---|---|")
    for key in k:
        if key[0] == "exp0":
            continue
        print(f"| {key[0]} | {key[1]} | {cell(k[key])} | {cell(b.get(key))} |")
    print()
    for exp in sorted(set(kv) | set(bv)):
        print(f"- {exp}: Keras **{kv.get(exp, '–')}**, cnnvar's burn runs **{bv.get(exp, '–')}**")


if __name__ == "__main__":
    main()
