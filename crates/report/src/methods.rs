//! The methods in words: how comparisons, factors, the noise floor and divergence are
//! decided, as the report prints them beside the numbers.

/// How comparisons are decided, in words, for the report.
pub const COMPARISON_METHOD: &str = "Each comparison is decided by one t-test on the runs \
    that did not diverge: the paired t-test over replicates when the study pairs seeds \
    (replicate r shares its seeds across levels, the default), else Welch's t-test; both \
    p-values are shown. Its interval and p are Bonferroni-adjusted over the experiment's m \
    comparisons (every pair of levels, or, for an ordered numeric factor, neighbouring \
    levels only, m = levels − 1), so the interval excludes 0 exactly when the adjusted p is \
    below 0.05. Three words, each with its own test: \"resolved\" (A beats B) when the \
    adjusted test rejects; \"within seed noise\" only when an equivalence test (two \
    one-sided tests at the adjusted level: the (1 − 2α/m) interval inside ± the study's \
    margin) shows the difference smaller than the margin; \"not resolved\" otherwise, \
    with the seeds a test at 80% power would need. Fewer than 3 paired differences that \
    do not vary at all are no evidence either way (not resolved, no spread). Ordered \
    numeric factors also get a least-squares trend of accuracy over all runs (log scale \
    for train_size, lr, batch_size and width; linear otherwise). Levels that differ only \
    in the set they are scored on (the test split and its twilight copy) are the same \
    trained models, one per replicate, so their paired comparison is a repeated measure of \
    each model.";

/// How each factor is tested and measured, in words, for the report.
pub const FACTOR_METHOD: &str = "Each factor is tested as its study was run: with paired \
    seeds, replicates are blocks, and the test is the randomized complete block ANOVA on \
    the replicates whose runs all did not diverge, with Friedman's test as its rank check; \
    without pairing, the one-way ANOVA with Kruskal–Wallis. The factors' p-values are \
    Holm-adjusted over the study (a factor is called distinguishable when its adjusted p is \
    below 0.05, so that a study of factors without effect calls any at most 5% of the \
    time). The effect is the standard deviation of the levels' true mean accuracies, \
    corrected for seed noise (√max(0, (MS_level − MS_error)/b)), which unlike the \
    best-minus-worst range does not grow with the number of levels when there is no \
    effect; its 95% interval comes from the noncentral F. \"× seed noise\" divides it by \
    the sd between the seeds of one level, pooled over the experiment's levels, diverged \
    runs out (the spread one run per arm has to beat; the tests use the smaller residual \
    after the seed blocks, which is why a factor below one seed noise can be resolved). Best \
    against worst is shown with an interval valid over every pair of levels (paired t \
    intervals, Bonferroni over all pairs), so it holds for the pair the data picked. \
    Divergence is its own outcome: each level's rate, compared across levels by the \
    Freeman–Halton exact test. A claim is tested part by part as the study file states \
    it (a best level, a trend, a peak inside the range, one level beating another, \
    equivalence within the margin, one factor moving accuracy less than another), each \
    part at 5%, on its outcome (test accuracy, the train–test gap, the rare classes' \
    accuracy, the divergence rate); the claim is Supported when every part is, \
    Contradicted when any part is, and Not resolved otherwise.";

/// What the floor and excess are, in words, for the report.
pub const NOISE_METHOD: &str = "From the stored predictions of a level's runs (non-diverged, \
    evaluated on the same examples): the floor is the sd of accuracy the runs would show if \
    each test example flipped between right and wrong independently, with its own \
    difficulty (sqrt of the sum over examples of p(1 − p)·k/(k − 1), over n, where p is the \
    share of the k runs right on it): the test set's own sampling noise, which more seeds \
    do not remove. Its interval is a 95% bootstrap over runs. The excess, \
    sqrt(max(0, observed² − floor²)), is the sd of the runs' true accuracies: the part of \
    the seed noise that comes from training. Disagreement is the share of examples on \
    which two runs predict different classes; the ensemble is the majority vote of the \
    runs; where two classes or more tie for the most votes it takes the lowest class (by \
    label: a fixed, arbitrary rule), and the number of such tied examples is given per \
    level (a two-way split is common with an even number of runs). sds combine in \
    quadrature: observed² ≈ floor² + excess².";

/// The divergence rule of [`cnnvar_core::RunRecord::divergence`] in words, for the
/// report.
pub const DIVERGENCE_RULE: &str = "A run counts as diverged (it blew up) when a loss \
    became NaN or infinite, when its training loss exploded (the last epoch's more than \
    twice the first's), or when its final test accuracy is at chance (not above it by 2 \
    points) and it is not still learning: its training loss did not fall in each of its \
    last 3 epochs, it had been 10 points above chance and collapsed, or its training loss \
    blew up on the way (an epoch's above twice a uniform guess's, ln of the class count). \
    A run at chance whose loss is still falling, or that ran one epoch without blowing up, \
    has not learned yet (too small a learning rate, too few \
    epochs): it is not diverged, and its accuracy counts as it is. Diverged runs are out \
    of every accuracy statistic; each level's divergence rate is its own outcome, \
    compared across levels by an exact test";
