#!/usr/bin/env python3
"""Reference values for the statistics of crates/analysis/src/{power,noise,stats}.rs.

Independent implementations (scipy, statsmodels, numpy) are run on fixed inputs and the
results written to crates/analysis/src/reference.json, which the Rust unit
tests read with include_str! and compare within tight tolerances.

Run it from the repository root in a fresh virtual environment:

    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install scipy statsmodels
    /tmp/refvenv/bin/python scripts/reference/stats_reference.py

It is deterministic (fixed inputs, a seeded numpy generator for the prediction matrix);
rerunning it with the same library versions rewrites the same file. The versions used
are recorded in the file.

Degrees of freedom of the power calculations: statsmodels' TTestIndPower uses the
noncentral t with the pooled df n1 + n2 - 2 and noncentrality d * sqrt(n1 n2 / (n1 + n2));
TTestPower (one sample, or paired on the differences) uses df n - 1 and noncentrality
d * sqrt(n). The Rust code makes the same choices.
"""

import json
import math
import pathlib
import sys

import numpy as np
import scipy
import statsmodels
from scipy import optimize, stats
from statsmodels.stats.power import TTestIndPower, TTestPower

OUT = pathlib.Path("crates/analysis/src/reference.json")
ALPHA = 0.05
POWER = 0.8


def interval(ci):
    return [float(ci.low), float(ci.high)]


def paired_cases():
    cases = [
        ([0.912, 0.905, 0.918, 0.909, 0.915], [0.903, 0.901, 0.910, 0.906, 0.904]),
        (
            [0.842, 0.851, 0.838, 0.847, 0.855, 0.840, 0.849, 0.844, 0.852, 0.846],
            [0.845, 0.846, 0.841, 0.843, 0.850, 0.842, 0.847, 0.839, 0.851, 0.848],
        ),
        ([0.70, 0.74, 0.69], [0.71, 0.70, 0.72]),
    ]
    out = []
    for a, b in cases:
        r = stats.ttest_rel(a, b)
        d = np.array(a) - np.array(b)
        out.append(
            {
                "a": a,
                "b": b,
                "mean_diff": float(d.mean()),
                "sd_diff": float(d.std(ddof=1)),
                "t": float(r.statistic),
                "df": float(r.df),
                "p": float(r.pvalue),
                "ci95": interval(r.confidence_interval(0.95)),
                "ci_bonferroni_m3": interval(r.confidence_interval(1 - ALPHA / 3)),
                "ci_bonferroni_m10": interval(r.confidence_interval(1 - ALPHA / 10)),
            }
        )
    return out


def cohen_d(a, b):
    a, b = np.asarray(a), np.asarray(b)
    na, nb = len(a), len(b)
    pooled = math.sqrt(((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / (na + nb - 2))
    return float((a.mean() - b.mean()) / pooled)


def welch_cases():
    cases = [
        ([0.81, 0.83, 0.80, 0.84, 0.82], [0.79, 0.80, 0.785, 0.81, 0.795, 0.80]),
        ([0.912, 0.905, 0.918, 0.909, 0.915], [0.903, 0.901, 0.910, 0.906, 0.904]),
        ([0.60, 0.75, 0.52, 0.81], [0.70, 0.71, 0.69, 0.705, 0.70, 0.695, 0.71]),
    ]
    out = []
    for a, b in cases:
        r = stats.ttest_ind(a, b, equal_var=False)
        out.append(
            {
                "a": a,
                "b": b,
                "t": float(r.statistic),
                "df": float(r.df),
                "p": float(r.pvalue),
                "ci95": interval(r.confidence_interval(0.95)),
                "ci_bonferroni_m3": interval(r.confidence_interval(1 - ALPHA / 3)),
                "ci_bonferroni_m10": interval(r.confidence_interval(1 - ALPHA / 10)),
                "cohen_d": cohen_d(a, b),
            }
        )
    return out


def trend_cases():
    levels = [1e-4, 1e-3, 1e-2, 1e-1]
    runs = [
        [0.801, 0.812, 0.795, 0.806, 0.809],
        [0.822, 0.815, 0.828, 0.819, 0.825],
        [0.831, 0.838, 0.829, 0.842, 0.835],
        [0.846, 0.839, 0.851, 0.843, 0.848],
    ]
    flat_runs = [y for ys in runs for y in ys]
    out = []
    for scale in ["log", "linear"]:
        xs = [math.log(l) if scale == "log" else l for l, ys in zip(levels, runs) for _ in ys]
        r = stats.linregress(xs, flat_runs)
        out.append(
            {
                "scale": scale,
                "levels": levels,
                "runs": runs,
                "slope": float(r.slope),
                "intercept": float(r.intercept),
                "r": float(r.rvalue),
                "p": float(r.pvalue),
                "slope_se": float(r.stderr),
                "intercept_se": float(r.intercept_stderr),
            }
        )
    # A flat trend (no effect): p is large.
    flat = [[0.80, 0.82, 0.81], [0.815, 0.805, 0.81], [0.81, 0.80, 0.82]]
    xs = [float(l) for l, ys in zip([1, 2, 3], flat) for _ in ys]
    r = stats.linregress(xs, [y for ys in flat for y in ys])
    out.append(
        {
            "scale": "linear",
            "levels": [1.0, 2.0, 3.0],
            "runs": flat,
            "slope": float(r.slope),
            "intercept": float(r.intercept),
            "r": float(r.rvalue),
            "p": float(r.pvalue),
            "slope_se": float(r.stderr),
            "intercept_se": float(r.intercept_stderr),
        }
    )
    return out


def nct_cases():
    grid = [
        (2.0, 5.0, 1.0),
        (-1.5, 8.0, 0.5),
        (0.0, 4.0, 2.0),
        (3.0, 10.0, -1.0),
        (-2.2, 12.0, -3.0),
        (2.306, 8.0, 2.8),
        (-2.306, 8.0, 2.8),
        (1.96, 5000.0, 2.5),
        (10.0, 3.0, 8.0),
        (30.0, 50.0, 35.0),
        (0.5, 1.0, 0.3),
        (2.0, 2.5, 6.0),
        (-0.7, 30.0, 0.0),
    ]
    return [
        {"t": t, "df": df, "nc": nc, "cdf": float(stats.nct.cdf(t, df, nc))}
        for t, df, nc in grid
    ]


def nct_power(nc, df):
    """Two-sided power at ALPHA, statsmodels' formula (ttest_power) with scipy's nct."""
    crit = stats.t.isf(ALPHA / 2, df)
    lower = stats.nct.cdf(-crit, df, nc)
    # scipy's nct.cdf is NaN in parts of the far lower tail with 1 df (below 1e-15).
    return stats.nct.sf(crit, df, nc) + (lower if np.isfinite(lower) else 0.0)


def power_cases():
    ind, one = TTestIndPower(), TTestPower()
    two_sample = []
    for d, n1, ratio in [(0.5, 10, 1.0), (1.0, 5, 1.0), (2.0, 3, 1.0), (0.2, 100, 1.0),
                         (1.5, 2, 1.0), (1.2, 5, 1.6), (0.05, 10000, 1.0)]:
        n2 = int(round(n1 * ratio))
        p = ind.power(effect_size=d, nobs1=n1, alpha=ALPHA, ratio=n2 / n1)
        two_sample.append({"d": d, "n1": n1, "n2": n2, "power": float(p)})
    paired = []
    for d, n in [(0.5, 10), (1.0, 5), (2.0, 3), (0.3, 50), (1.5, 2)]:
        paired.append({"d": d, "n": n, "power": float(one.power(effect_size=d, nobs=n, alpha=ALPHA))})

    def detectable(power_at, solved, n):
        # solve_power stops at a power within about 1e-6 of the target, so the root is
        # refined to 1e-14 with brentq on the same power formula evaluated with
        # scipy's noncentral t (statsmodels' own power is NaN from d = 11.55 on with
        # 2 pairs, where that tail is).
        exact = optimize.brentq(lambda d: power_at(d, n) - POWER, 0.9 * solved, 1.1 * solved,
                                xtol=1e-15, rtol=1e-14)
        return {"n": n, "d": float(exact), "d_solve_power": float(solved)}

    detectable_two_sample = [
        detectable(lambda d, n: nct_power(d * math.sqrt(n / 2), 2 * n - 2),
                   ind.solve_power(effect_size=None, nobs1=n, alpha=ALPHA, power=POWER), n)
        for n in [2, 3, 5, 10, 20, 50, 100, 1000]
    ]
    detectable_paired = [
        detectable(lambda d, n: nct_power(d * math.sqrt(n), n - 1),
                   one.solve_power(effect_size=None, nobs=n, alpha=ALPHA, power=POWER), n)
        for n in [2, 3, 5, 10, 30, 200]
    ]

    def needed(solver, power_at, d):
        frac = float(solver(d))
        n = math.ceil(frac)
        # The smallest whole n with power >= 0.8, confirmed by the power itself.
        while n > 2 and power_at(d, n - 1) >= POWER:
            n -= 1
        while power_at(d, n) < POWER:
            n += 1
        return {"d": d, "nobs_fraction": frac, "n": n,
                "power_at_n": float(power_at(d, n)), "power_below": float(power_at(d, n - 1))}

    seeds_two_sample = [
        needed(lambda d: ind.solve_power(effect_size=d, nobs1=None, alpha=ALPHA, power=POWER),
               lambda d, n: ind.power(effect_size=d, nobs1=n, alpha=ALPHA), d)
        for d in [0.3, 0.8, 1.5, 2.5, 4.0]
    ]
    seeds_paired = [
        needed(lambda d: one.solve_power(effect_size=d, nobs=None, alpha=ALPHA, power=POWER),
               lambda d, n: one.power(effect_size=d, nobs=n, alpha=ALPHA), d)
        for d in [0.3, 0.8, 1.5, 2.5]
    ]
    return {
        "alpha": ALPHA,
        "power": POWER,
        "two_sample": two_sample,
        "paired": paired,
        "detectable_two_sample": detectable_two_sample,
        "detectable_paired": detectable_paired,
        "seeds_two_sample": seeds_two_sample,
        "seeds_paired": seeds_paired,
    }


def noise_case():
    """A prediction matrix (6 runs x 200 examples, 10 classes) and its numpy statistics."""
    rng = np.random.default_rng(18)
    k, n, classes = 6, 200, 10
    labels = rng.integers(0, classes, n)
    difficulty = rng.choice([0.99, 0.85, 0.5, 0.2], size=n, p=[0.6, 0.2, 0.12, 0.08])
    correct = rng.random((k, n)) < difficulty
    wrong = (labels + rng.integers(1, 3, (k, n))) % classes
    preds = np.where(correct, labels, wrong)
    hits = preds == labels
    acc = hits.mean(axis=1)
    p = hits.mean(axis=0)
    floor = math.sqrt((p * (1 - p)).sum() * k / (k - 1)) / n
    sd = float(acc.std(ddof=1))
    fractions = [float((preds[i] != preds[j]).mean()) for i in range(k) for j in range(i + 1, k)]
    votes = np.array([np.bincount(preds[:, i], minlength=classes) for i in range(n)])
    majority = votes.argmax(axis=1)  # the lowest class on ties
    ensemble = float((majority == labels).mean())
    top = np.lexsort((np.arange(n), votes.max(axis=1)))[:10]
    return {
        "labels": labels.tolist(),
        "predictions": preds.tolist(),
        "accuracies": acc.tolist(),
        "observed_sd": sd,
        "floor_sd": floor,
        "excess_sd": math.sqrt(max(0.0, sd * sd - floor * floor)),
        "disagreement_mean": float(np.mean(fractions)),
        "disagreement_min": float(np.min(fractions)),
        "disagreement_max": float(np.max(fractions)),
        "ensemble_accuracy": ensemble,
        "ensemble_gain": ensemble - float(acc.mean()),
        "correct_counts": hits.sum(axis=0).tolist(),
        "most_contested_10": top.tolist(),
    }


def superiority_variance(theta, m, n):
    """Hanley-McNeil's variance of the Mann-Whitney estimate with m and n replaced by
    their mean (Newcombe 2006), at the true value theta."""
    big_n = (m + n) / 2
    return theta * (1 - theta) / (m * n) * (
        1 + (big_n - 1) * ((1 - theta) / (2 - theta) + theta / (1 + theta))
    )


def superiority_cases():
    """P(A beats B) from scipy's Mann-Whitney U (ties count half) and its 95% score
    interval: the roots of (theta_hat - t)^2 = z^2 V(t) on each side, by brentq."""
    cases = [(w["a"], w["b"]) for w in welch_cases()] + [
        ([0.90, 0.91, 0.92, 0.905, 0.915], [0.80, 0.81, 0.82, 0.805, 0.815]),
        ([0.85, 0.86, 0.86, 0.84], [0.86, 0.85, 0.84, 0.86, 0.87]),
    ]
    z = stats.norm.ppf(0.975)
    out = []
    for a, b in cases:
        m, n = len(a), len(b)
        theta = float(stats.mannwhitneyu(a, b).statistic) / (m * n)

        def score(t):
            return (theta - t) ** 2 - z * z * superiority_variance(t, m, n)

        # At theta_hat = 0 or 1 the variance vanishes there too: bracket from just inside.
        inner_lo, inner_hi = min(theta, 1 - 1e-12), max(theta, 1e-12)
        lo = 0.0 if score(0.0) <= 0 else optimize.brentq(score, 0.0, inner_lo, xtol=1e-14)
        hi = 1.0 if score(1.0) <= 0 else optimize.brentq(score, inner_hi, 1.0, xtol=1e-14)
        out.append({"a": a, "b": b, "theta": theta, "ci95": [lo, hi]})
    return out


def main():
    out = {
        "generated_by": "scripts/reference/stats_reference.py",
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "statsmodels": statsmodels.__version__,
        },
        "paired": paired_cases(),
        "welch": welch_cases(),
        "trend": trend_cases(),
        "nct": nct_cases(),
        "power": power_cases(),
        "noise": noise_case(),
        "superiority": superiority_cases(),
    }
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
