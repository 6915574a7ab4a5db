#!/usr/bin/env python3
"""Reference values for the inference primitives of crates/analysis/src/inference/.

Independent implementations (scipy, statsmodels, numpy, and for two tests direct
Python enumerations) are run on fixed inputs, and the results are written to
crates/analysis/src/inference/reference.json, which the Rust unit tests read with
include_str! and compare within tight tolerances.

Run it from the repository root in a fresh virtual environment:

    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install scipy statsmodels numpy pandas
    /tmp/refvenv/bin/python scripts/reference/inference_reference.py

It is deterministic (fixed inputs and a seeded numpy generator); rerunning it with the
same library versions rewrites the same file. The versions used are recorded in it.

Where no library function exists, the reference is computed here and says so:
* the noncentrality interval: a Brent root-finder on scipy.stats.ncf.cdf;
* Page's L with ties: the exact permutation variance of tied within-block ranks
  (scipy.stats.page_trend_test keeps the untied variance, so it is used untied only);
* Freeman-Halton: every k x 2 table with the observed margins enumerated, with
  exact rational probabilities (fractions.Fraction);
* the block bootstrap: the same SplitMix64 stream as the Rust code, numpy's sd and
  numpy's default (linear) quantiles.
"""

import itertools
import json
import math
import pathlib
import sys
from fractions import Fraction

import numpy as np
import pandas as pd
import scipy
import statsmodels
import statsmodels.formula.api as smf
from scipy import optimize, stats
from statsmodels.stats.anova import anova_lm
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.weightstats import ttost_paired

OUT = pathlib.Path("crates/analysis/src/inference/reference.json")
RNG = np.random.default_rng(20240611)


def interval(ci):
    return [float(ci.low), float(ci.high)]


def null_table(k, b, level_sd=0.0, noise=0.3, base=90.0, decimals=None):
    """A table y[level][block] in accuracy points: block effects, level effects, noise."""
    blocks = RNG.normal(0.0, 0.5, size=b)
    levels = RNG.normal(0.0, level_sd, size=k) if level_sd > 0 else np.zeros(k)
    y = base + levels[:, None] + blocks[None, :] + RNG.normal(0.0, noise, size=(k, b))
    if decimals is not None:
        y = np.round(y, decimals)
    return y


TABLES = [
    null_table(3, 5),
    null_table(5, 10, level_sd=0.2),
    null_table(9, 20, level_sd=0.1),
    null_table(2, 3, level_sd=0.5),
    null_table(4, 6, level_sd=1.0, decimals=2),
    np.array(
        [
            [98.91, 98.87, 99.02, 98.95, 98.90],
            [98.72, 98.80, 98.85, 98.77, 98.69],
            [99.05, 99.01, 99.10, 99.12, 98.98],
        ]
    ),
]


def long_frame(y):
    k, b = y.shape
    return pd.DataFrame(
        {
            "y": y.ravel(),
            "level": np.repeat(np.arange(k), b),
            "block": np.tile(np.arange(b), k),
        }
    )


def rcbd_cases():
    out = []
    for y in TABLES:
        table = anova_lm(smf.ols("y ~ C(level) + C(block)", data=long_frame(y)).fit())
        ms = table["sum_sq"] / table["df"]
        out.append(
            {
                "y": y.tolist(),
                "f": float(table.loc["C(level)", "F"]),
                "p": float(table.loc["C(level)", "PR(>F)"]),
                "ms_level": float(ms["C(level)"]),
                "ms_block": float(ms["C(block)"]),
                "ms_error": float(ms["Residual"]),
                "df_error": float(table.loc["Residual", "df"]),
                "level_means": y.mean(axis=1).tolist(),
            }
        )
    return out


def friedman_cases():
    out = []
    tables = [y for y in TABLES if y.shape[0] >= 3] + [np.round(null_table(4, 8, level_sd=0.3), 1)]
    for y in tables:
        r = stats.friedmanchisquare(*y)
        out.append({"y": y.tolist(), "statistic": float(r.statistic), "p": float(r.pvalue)})
    return out


def page_tied(y, increasing):
    """Page's L with the exact permutation variance of tied within-block ranks."""
    k, b = y.shape
    ranks = stats.rankdata(y, axis=0)
    weights = np.arange(1, k + 1) if increasing else np.arange(k, 0, -1)
    L = float((weights[:, None] * ranks).sum())
    expected = b * k * (k + 1) ** 2 / 4
    variance = 0.0
    for j in range(b):
        _, counts = np.unique(y[:, j], return_counts=True)
        ties = float(np.sum(counts**3 - counts))
        variance += k * (k + 1) / 12 * (k * (k * k - 1) - ties) / 12
    return L, float(stats.norm.sf((L - expected) / math.sqrt(variance)))


def page_cases():
    out = []
    rising = null_table(5, 6, noise=0.3) + np.arange(5)[:, None] * 0.15
    for y, direction in [(rising, "increasing"), (rising, "decreasing"), (TABLES[2], "increasing"), (TABLES[5], "decreasing")]:
        k = y.shape[0]
        predicted = np.arange(1, k + 1) if direction == "increasing" else np.arange(k, 0, -1)
        r = stats.page_trend_test(y.T, predicted_ranks=predicted, method="asymptotic")
        out.append({"y": y.tolist(), "direction": direction, "l": float(r.statistic), "p": float(r.pvalue), "source": "scipy"})
    tied = np.round(rising, 0)
    L, p = page_tied(tied, True)
    out.append({"y": tied.tolist(), "direction": "increasing", "l": L, "p": p, "source": "direct, tie-corrected"})
    return out


def multipletest_cases():
    vectors = [
        [0.01, 0.04, 0.03, 0.005, 0.5, 0.2],
        [0.001, 0.001, 0.02, 0.9, 1.0],
        list(RNG.uniform(0.0, 0.2, size=16)),
        [0.3],
    ]
    out = []
    for p in vectors:
        out.append(
            {
                "p": [float(v) for v in p],
                "holm": multipletests(p, method="holm")[1].tolist(),
                "bonferroni": multipletests(p, method="bonferroni")[1].tolist(),
            }
        )
    return out


def ncf_cases():
    grid = [
        (1.0, 2, 8, 0.0),
        (0.5, 2, 8, 1.5),
        (3.2, 2, 8, 4.0),
        (2.0, 4, 36, 10.0),
        (12.0, 8, 152, 60.0),
        (0.05, 8, 152, 3.0),
        (40.0, 1, 2, 25.0),
        (3.0, 3, 12, 400.0),
        (150.0, 3, 12, 400.0),
        (5000.0, 3, 12, 10000.0),
        (30.0, 1, 19, 0.3),
        (1.0e5, 4, 76, 4.0e5),
        (3.0e5, 3, 12, 1.0e6),
    ]
    out = []
    for x, d1, d2, lam in grid:
        # scipy 1.17.1's ncf.sf returns minus the cdf at a noncentrality of exactly 0
        # (ncf.sf(1, 2, 8, 0) = -0.5904); there the central F's sf is the reference.
        sf = stats.f.sf(x, d1, d2) if lam == 0 else stats.ncf.sf(x, d1, d2, lam)
        out.append(
            {
                "x": x,
                "df1": d1,
                "df2": d2,
                "lambda": lam,
                "cdf": float(stats.ncf.cdf(x, d1, d2, lam)),
                "sf": float(sf),
            }
        )
    return out


def lambda_interval(f, d1, d2, alpha):
    """Brent's method on scipy.stats.ncf.cdf; 0 where the bound is not reachable."""

    def bound(target):
        g = lambda lam: stats.ncf.cdf(f, d1, d2, lam) - target
        if stats.f.cdf(f, d1, d2) <= target:
            return 0.0
        hi = max(1.0, f * d1)
        while g(hi) > 0:
            hi *= 2
        return float(optimize.brentq(g, 0.0, hi, xtol=1e-13, rtol=4 * np.finfo(float).eps, maxiter=500))

    return [bound(1 - alpha / 2), bound(alpha / 2)]


def ncf_interval_cases():
    out = []
    for f, d1, d2, alpha in [
        (5.0, 2, 8, 0.05),
        (1.5, 2, 8, 0.05),
        (12.0, 4, 36, 0.05),
        (3.0, 8, 152, 0.1),
        (40.0, 1, 19, 0.05),
        (250.0, 3, 12, 0.05),
    ]:
        out.append({"f": f, "df1": d1, "df2": d2, "alpha": alpha, "interval": lambda_interval(f, d1, d2, alpha)})
    return out


def level_spread_cases():
    out = []
    for y in [TABLES[1], TABLES[4], TABLES[5]]:
        k, b = y.shape
        table = anova_lm(smf.ols("y ~ C(level) + C(block)", data=long_frame(y)).fit())
        ms = table["sum_sq"] / table["df"]
        ms_level, ms_error = float(ms["C(level)"]), float(ms["Residual"])
        f = float(table.loc["C(level)", "F"])
        variance = (ms_level - ms_error) / b
        sd = math.sqrt(max(0.0, variance))
        lam = lambda_interval(f, k - 1, (k - 1) * (b - 1), 0.05)
        ratio_ci = [math.sqrt(v / (b * (k - 1))) for v in lam]
        out.append(
            {
                "y": y.tolist(),
                "alpha": 0.05,
                "variance": variance,
                "sd": sd,
                "ratio": sd / math.sqrt(ms_error),
                "sd_ci": [r * math.sqrt(ms_error) for r in ratio_ci],
                "ratio_ci": ratio_ci,
            }
        )
    return out


def best_worst_cases():
    out = []
    for y, alpha in [(TABLES[0], 0.05), (TABLES[2], 0.05), (TABLES[3], 0.1), (TABLES[5], 0.05)]:
        k = y.shape[0]
        means = y.mean(axis=1)
        best, worst = int(np.argmax(means)), int(np.argmin(means))
        pairs = k * (k - 1) // 2
        r = stats.ttest_rel(y[best], y[worst])
        out.append(
            {
                "y": y.tolist(),
                "alpha": alpha,
                "best": best,
                "worst": worst,
                "diff": float(np.mean(y[best] - y[worst])),
                "ci": interval(r.confidence_interval(1 - alpha / pairs)),
                "p_adjusted": float(min(1.0, r.pvalue * pairs)),
            }
        )
    return out


def tost_cases():
    out = []
    a = TABLES[1][0]
    for b, delta in [(TABLES[1][1], 0.3), (TABLES[1][2], 0.1), (TABLES[1][3], 1.0), (a + 0.5 + RNG.normal(0, 0.1, a.size), 0.4)]:
        p, (t1, p1, _), (t2, p2, _) = ttost_paired(a, b, -delta, delta)
        out.append(
            {
                "a": a.tolist(),
                "b": np.asarray(b).tolist(),
                "delta": delta,
                "p": float(p),
                "t_lower": float(t1),
                "p_lower": float(p1),
                "t_upper": float(t2),
                "p_upper": float(p2),
            }
        )
    return out


def slope_trend_cases():
    out = []
    levels = np.array([1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    x = np.log(levels)
    rising = null_table(5, 6, noise=0.4) + 0.12 * x[:, None]
    falling = null_table(5, 4, noise=0.2) - 0.05 * x[:, None]
    for y, direction in [(rising, "increasing"), (falling, "decreasing"), (rising, "decreasing")]:
        slopes = np.array([stats.linregress(x, y[:, j]).slope for j in range(y.shape[1])])
        r = stats.ttest_1samp(slopes, 0.0)
        one = stats.ttest_1samp(slopes, 0.0, alternative="greater" if direction == "increasing" else "less")
        out.append(
            {
                "x": x.tolist(),
                "y": y.tolist(),
                "direction": direction,
                "slopes": slopes.tolist(),
                "mean": float(slopes.mean()),
                "t": float(r.statistic),
                "p_two_sided": float(r.pvalue),
                "p_one_sided": float(one.pvalue),
                "ci95": interval(r.confidence_interval(0.95)),
            }
        )
    return out


def sd_interval_cases():
    out = []
    for values, alpha in [(TABLES[1][0], 0.05), (TABLES[3][0], 0.05), (TABLES[2][4], 0.1)]:
        n = len(values)
        s = float(np.std(values, ddof=1))
        ss = (n - 1) * s * s
        ci = [math.sqrt(ss / stats.chi2.ppf(1 - alpha / 2, n - 1)), math.sqrt(ss / stats.chi2.ppf(alpha / 2, n - 1))]
        out.append({"values": list(map(float, values)), "alpha": alpha, "sd": s, "ci": ci})
    return out


def variance_ratio_cases():
    out = []
    pairs = [
        (TABLES[1][0], TABLES[1][1]),
        (RNG.normal(0, 2.0, 8), RNG.normal(0, 0.5, 12)),
        (TABLES[3][0], TABLES[3][1]),
    ]
    for a, b in pairs:
        d1, d2 = len(a) - 1, len(b) - 1
        ratio = float(np.var(a, ddof=1) / np.var(b, ddof=1))
        p = min(1.0, 2 * min(stats.f.cdf(ratio, d1, d2), stats.f.sf(ratio, d1, d2)))
        ci = [ratio / stats.f.ppf(0.975, d1, d2), ratio / stats.f.ppf(0.025, d1, d2)]
        out.append({"a": list(map(float, a)), "b": list(map(float, b)), "ratio": ratio, "p": float(p), "ci": ci})
    return out


def levene_cases():
    out = []
    groups_list = [
        [list(TABLES[1][i]) for i in range(5)],
        [list(RNG.normal(0, s, n)) for s, n in [(1.0, 6), (3.0, 9), (0.5, 4)]],
        [list(TABLES[4][i]) for i in range(4)],
    ]
    for groups in groups_list:
        r = stats.levene(*groups, center="median")
        out.append({"groups": [list(map(float, g)) for g in groups], "statistic": float(r.statistic), "p": float(r.pvalue)})
    return out


def fisher_cases():
    tables = [[[3, 2], [0, 5]], [[0, 5], [5, 0]], [[1, 9], [11, 3]], [[10, 10], [10, 10]], [[0, 20], [4, 16]], [[7, 13], [1, 19]]]
    return [{"table": t, "p": float(stats.fisher_exact(t)[1])} for t in tables]


def freeman_halton_brute(rows):
    """Exact two-sided p: every table with these margins, exact probabilities."""
    sizes = [a + b for a, b in rows]
    events = sum(a for a, _ in rows)
    total = sum(sizes)
    denominator = math.comb(total, events)

    def prob(xs):
        return Fraction(math.prod(math.comb(n, x) for n, x in zip(sizes, xs)), denominator)

    observed = prob([a for a, _ in rows])
    p = Fraction(0)
    for xs in itertools.product(*[range(n + 1) for n in sizes]):
        if sum(xs) == events:
            q = prob(xs)
            if q <= observed:
                p += q
    return float(p)


def freeman_halton_cases():
    tables = [
        [[0, 5], [1, 4], [4, 1]],
        [[0, 5], [0, 5], [0, 5], [5, 0]],
        [[1, 4], [2, 3], [1, 4], [2, 3]],
        [[0, 8], [3, 5], [1, 7], [6, 2], [0, 8]],
        [[2, 3], [0, 5]],
        [[0, 3], [1, 2], [0, 3], [2, 1], [3, 0], [0, 3]],
    ]
    return [{"table": t, "p": freeman_halton_brute(t)} for t in tables]


MASK = (1 << 64) - 1


class SplitMix:
    """SplitMix64, the stream of the Rust code's SplitMix."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n


def bootstrap_case(a, b, resamples, alpha, seed):
    rng = SplitMix(seed)
    a = np.asarray(a, dtype=float)
    b = None if b is None else np.asarray(b, dtype=float)
    n = len(a)
    stats_, dropped = [], 0
    for _ in range(resamples):
        idx = [rng.below(n) for _ in range(n)]
        sa = float(np.std(a[idx], ddof=1))
        if b is None:
            stats_.append(sa)
            continue
        sb = float(np.std(b[idx], ddof=1))
        if sb > 0:
            stats_.append(sa / sb)
        elif sa > 0:
            stats_.append(math.inf)
        else:
            dropped += 1
    estimate = float(np.std(a, ddof=1)) if b is None else float(np.std(a, ddof=1) / np.std(b, ddof=1))
    ci = [float(np.quantile(stats_, alpha / 2)), float(np.quantile(stats_, 1 - alpha / 2))]
    return {
        "a": a.tolist(),
        "b": None if b is None else b.tolist(),
        "resamples": resamples,
        "alpha": alpha,
        "seed": seed,
        "estimate": estimate,
        "ci": ci,
        "dropped": dropped,
    }


def bootstrap_cases():
    return [
        bootstrap_case(TABLES[1][0], None, 2000, 0.05, 12345),
        bootstrap_case(TABLES[2][3], TABLES[2][7], 2000, 0.05, 99),
        bootstrap_case(TABLES[0][0], TABLES[0][1], 1000, 0.1, 7),
    ]


# The protocol experiment of results/full (studies/full.toml): validation accuracy in
# points of 5 replicates (rows) x 5 folds (columns).
FULL_PROTOCOL = np.array(
    [
        [87.65, 87.25, 85.60, 87.70, 87.45],
        [88.25, 86.50, 87.60, 87.10, 86.45],
        [87.60, 88.05, 88.45, 87.55, 88.15],
        [88.05, 89.05, 87.60, 87.15, 86.90],
        [86.80, 87.95, 87.75, 88.40, 87.30],
    ]
)


def fold_variance_cases():
    """The k-fold estimate against a single split on a replicates x folds table: the
    single split's variance pooled over folds, the k-fold mean's variance across
    replicates, their ratio, and the replicate effect of the two-way ANOVA without
    interaction (statsmodels) whose F gives the ratio's interval (scipy's F quantiles).
    Its own generator, so that the cases above keep their values."""
    rng = np.random.default_rng(20260601)
    shared = rng.normal(0.0, 0.4, size=(8, 1))
    tables = [
        FULL_PROTOCOL,
        87.0 + shared + rng.normal(0.0, 0.6, size=(8, 5)),
        90.0 + rng.normal(0.0, 0.5, size=(4, 3)),
        np.round(85.0 + rng.normal(0.0, 1.0, size=(6, 1)) + rng.normal(0.0, 0.3, size=(6, 10)), 2),
    ]
    out = []
    for y, alpha in zip(tables, [0.05, 0.05, 0.1, 0.05]):
        r, k = y.shape
        frame = pd.DataFrame(
            [{"y": float(y[i, j]), "rep": str(i), "fold": str(j)} for i in range(r) for j in range(k)]
        )
        table = anova_lm(smf.ols("y ~ C(rep) + C(fold)", data=frame).fit())
        f = float(table.loc["C(rep)", "F"])
        p = float(table.loc["C(rep)", "PR(>F)"])
        d1, d2 = r - 1, (r - 1) * (k - 1)
        single = float(np.sum(np.var(y, axis=0, ddof=1)) / k)
        k_fold = float(np.var(y.mean(axis=1), ddof=1))
        lo = 1 + (k - 1) * stats.f.ppf(alpha / 2, d1, d2) / f
        hi = 1 + (k - 1) * stats.f.ppf(1 - alpha / 2, d1, d2) / f
        out.append(
            {
                "y": [list(map(float, row)) for row in y],
                "alpha": alpha,
                "single_split_var": single,
                "k_fold_var": k_fold,
                "ratio": min(single / k_fold, k),
                "f": f,
                "df": [d1, d2],
                "p": p,
                "ci": [min(lo, k), min(hi, k)],
            }
        )
    return out


def sd_interval_ratio_cases():
    """Upper over lower end of the 95% chi-square interval of an sd, by degrees of freedom."""
    return [
        {"df": df, "ratio": math.sqrt(stats.chi2.ppf(0.975, df) / stats.chi2.ppf(0.025, df))}
        for df in [1, 2, 4, 6, 9, 17, 18, 19, 50]
    ]


def main():
    reference = {
        "generated_by": "scripts/reference/inference_reference.py",
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "scipy": scipy.__version__,
            "statsmodels": statsmodels.__version__,
        },
        "rcbd": rcbd_cases(),
        "friedman": friedman_cases(),
        "page": page_cases(),
        "multipletests": multipletest_cases(),
        "ncf": ncf_cases(),
        "ncf_interval": ncf_interval_cases(),
        "level_spread": level_spread_cases(),
        "best_worst": best_worst_cases(),
        "tost": tost_cases(),
        "slope_trend": slope_trend_cases(),
        "sd_interval": sd_interval_cases(),
        "variance_ratio": variance_ratio_cases(),
        "levene": levene_cases(),
        "fisher": fisher_cases(),
        "freeman_halton": freeman_halton_cases(),
        "bootstrap": bootstrap_cases(),
        "fold_variance": fold_variance_cases(),
        "sd_interval_ratio": sd_interval_ratio_cases(),
    }
    OUT.write_text(json.dumps(reference, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
