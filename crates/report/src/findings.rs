//! What the analysis found besides the verdicts on pairs, in words: the spread of each
//! source of seed randomness, whether `rerun`, `threads`, `split` and `nudge` spread
//! accuracy as much as new seeds ("Chance or chaos?"), k-fold cross-validation against a single split, and how
//! much of the seed noise is the test set; and how long the study took.

use cnnvar_analysis::cv::ProtocolStats;
use cnnvar_analysis::noise::NoiseSummary;
use cnnvar_analysis::sources::{BACKEND, ChaosStats, ChaosVerdict, EqualSpread, SPLIT, THREADS};
use cnnvar_analysis::timing::StudyTime;
use cnnvar_analysis::{ALPHA, MissingNoise, SourceStats, StudyNoise};

use crate::words::{grouped, p_text, pts, pts2};

/// `subset: sd 1.02 [0.79, 1.45] points, 0.95 [0.71, 1.32] of all seeds' sd; …; spread
/// differs between init, order and subset (Brown–Forsythe p = 0.003)`: each source's
/// sd with its chi-square interval and its ratio to the all-seeds sd, then the test of
/// equal spread.
pub fn sources_sentence(sources: &[SourceStats], equal: Option<&EqualSpread>) -> String {
    let mut parts: Vec<String> = sources.iter().filter_map(source_words).collect();
    if let Some(e) = equal {
        let names = match e.sources.as_slice() {
            [rest @ .., last] if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            other => other.join(", "),
        };
        let verb = if e.test.p < ALPHA { "differs" } else { "not shown to differ" };
        parts.push(format!("spread {verb} between {names} (Brown–Forsythe {})", p_text(e.test.p)));
    }
    parts.join("; ")
}

/// `init: sd 0.87 [0.66, 1.27] points, 0.75 [0.42, 1.38] of all seeds' sd`; `None`
/// without an sd.
fn source_words(s: &SourceStats) -> Option<String> {
    if s.ignored {
        return Some(format!(
            "{}: ignored by the training (all {} runs predicted every test example alike:              changing this seed changes nothing, so it is no component of the noise)",
            s.source, s.n
        ));
    }
    let sd = s.sd?;
    let ci = s.sd_ci.map_or(String::new(), |(lo, hi)| format!(" [{}, {}]", pts2(lo), pts2(hi)));
    let ratio = match (s.ratio_to_all, s.ratio_to_all_ci) {
        (Some(r), Some((lo, hi))) => format!(", {r:.2} [{lo:.2}, {hi:.2}] of all seeds' sd"),
        _ => String::new(),
    };
    Some(format!("{}: sd {}{ci} points{ratio}", s.source, pts2(sd)))
}

/// One plain sentence for a `rerun`, `threads`, `split`, `backend` or `nudge` level: "changing one weight by one ulp
/// gives 97% [52, 190] of the spread of fully new seeds: the variation is chaos, not
/// bad luck with seeds".
pub fn chaos_sentence(c: &ChaosStats) -> String {
    match c.nudge_epoch {
        Some(epoch) => nudge_sentence(c, epoch) + &twin_clause(c),
        None if c.source == THREADS => threads_sentence(c),
        None if c.source == SPLIT => split_sentence(c),
        None if c.source == BACKEND => backend_sentence(c),
        None => rerun_sentence(c),
    }
}

/// [`chaos_sentence`] of a `split` level: one model, a new bootstrap resample of the
/// test set each replicate.
fn split_sentence(c: &ChaosStats) -> String {
    let (sd, share) = (chaos_sd(c), chaos_share(c));
    let what = "scoring the same model on a fresh draw of the test set (a bootstrap resample)";
    match c.verdict {
        ChaosVerdict::Identical => {
            format!("{what} gave identical accuracy in all {} runs", c.n)
        }
        ChaosVerdict::AsMuchAsNewSeeds => format!(
            "{what} gave {sd}, {share}: which test images are drawn moves accuracy as much \
             as new seeds do"
        ),
        ChaosVerdict::LessThanNewSeeds => {
            format!("{what} gave {sd}, {share}: the test set's own part is smaller than new seeds'")
        }
        ChaosVerdict::NotResolved => {
            format!("{what} gave {sd}, {share}: how it compares with new seeds, not resolved")
        }
        ChaosVerdict::NoComparison => {
            format!("{what} gave {sd} (no all-seeds spread to compare with)")
        }
    }
}

/// [`chaos_sentence`] of a `threads` level: the fixed seeds trained with 1 to 4 threads.
fn threads_sentence(c: &ChaosStats) -> String {
    numerical_noise_sentence(
        c,
        "training the same seeds with 1, 2, 3 or 4 threads",
        "the thread count does not change the arithmetic",
        "the order of the arithmetic's reductions alone varies accuracy as much as new seeds",
    )
}

/// [`chaos_sentence`] of a `backend` level: the fixed seeds' initial weights trained on
/// each CPU backend in turn.
fn backend_sentence(c: &ChaosStats) -> String {
    numerical_noise_sentence(
        c,
        "training the same initial weights on flex, ndarray and LibTorch in turn",
        "the backends' arithmetic agrees",
        "another implementation of the same arithmetic alone varies accuracy as much as new \
         seeds",
    )
}

/// The sentence of a source of numerical noise (`threads`, `backend`): `what` was done,
/// then what its verdict says, `identical` and `as_much` being the source's own words for
/// no spread at all and a spread as large as new seeds'.
fn numerical_noise_sentence(c: &ChaosStats, what: &str, identical: &str, as_much: &str) -> String {
    let (sd, share) = (chaos_sd(c), chaos_share(c));
    match c.verdict {
        ChaosVerdict::Identical => {
            format!("{what} gave identical accuracy in all {} runs: {identical}", c.n)
        }
        ChaosVerdict::AsMuchAsNewSeeds => format!("{what} gave {sd}, {share}: {as_much}"),
        ChaosVerdict::LessThanNewSeeds => {
            format!("{what} gave {sd}, {share}: numerical noise, but less than new seeds")
        }
        ChaosVerdict::NotResolved => {
            format!("{what} gave {sd}, {share}: numerical noise; how much, not resolved")
        }
        ChaosVerdict::NoComparison => {
            format!("{what} gave {sd} (no all-seeds spread to compare with)")
        }
    }
}

/// [`chaos_sentence`] of a `nudge` level (`epoch` 0) or a `nudge@E` level.
fn nudge_sentence(c: &ChaosStats, epoch: u32) -> String {
    let share = chaos_share(c);
    let nudge = match epoch {
        0 => "changing one weight by one ulp".to_string(),
        e => format!("changing one weight by one ulp after epoch {e}"),
    };
    match c.verdict {
        ChaosVerdict::Identical => {
            format!("{nudge} left accuracy identical in all {} runs: no chaos here", c.n)
        }
        ChaosVerdict::AsMuchAsNewSeeds => {
            format!("{nudge} gives {share}: the variation is chaos, not bad luck with seeds")
        }
        ChaosVerdict::LessThanNewSeeds => {
            format!("{nudge} gives {share}: the nudge alone moves accuracy less than new seeds")
        }
        ChaosVerdict::NotResolved => format!(
            "{nudge} gives {share}: not resolved (the interval is too wide; more seeds \
             would tell)"
        ),
        ChaosVerdict::NoComparison => {
            format!("{nudge} gave {} (no all-seeds spread to compare with)", chaos_sd(c))
        }
    }
}

/// `; its runs predict 7.9% of the test images differently from their un-nudged twins
/// (6.5–9.8%)`, or nothing without twins.
fn twin_clause(c: &ChaosStats) -> String {
    match &c.twin_disagreement {
        Some(d) => format!(
            "; its runs predict {} of the test images differently from their un-nudged \
             twins ({}–{})",
            pct_short(d.mean),
            pct_short(d.min),
            pct_short(d.max)
        ),
        None => String::new(),
    }
}

/// A share as a percentage with a decimal, or more below 1% so that a share that is not
/// zero never reads as one: `7.9%`, `0.11%`, `0.004%`, `0%`.
pub(crate) fn pct_short(share: f64) -> String {
    let p = 100.0 * share;
    if p == 0.0 {
        "0%".into()
    } else if p.abs() < 0.1 {
        format!("{p:.3}%")
    } else if p.abs() < 1.0 {
        format!("{p:.2}%")
    } else {
        format!("{p:.1}%")
    }
}

/// [`chaos_sentence`] of a `rerun` level.
fn rerun_sentence(c: &ChaosStats) -> String {
    let (sd, share) = (chaos_sd(c), chaos_share(c));
    match c.verdict {
        ChaosVerdict::Identical => format!(
            "rerunning the same seeds gave identical accuracy in all {} runs (deterministic)",
            c.n
        ),
        ChaosVerdict::AsMuchAsNewSeeds => format!(
            "rerunning the same seeds gave {sd}, {share}: the runs are not deterministic, and \
             that alone varies accuracy as much as new seeds"
        ),
        ChaosVerdict::LessThanNewSeeds => format!(
            "rerunning the same seeds gave {sd}, {share}: not deterministic, but less than \
             new seeds"
        ),
        ChaosVerdict::NotResolved => format!(
            "rerunning the same seeds gave {sd}, {share}: not deterministic; how much, not \
             resolved"
        ),
        ChaosVerdict::NoComparison => {
            format!("rerunning the same seeds gave {sd} (no all-seeds spread to compare with)")
        }
    }
}

/// `97% [52, 190] of the spread of fully new seeds`, or nothing without a ratio.
fn chaos_share(c: &ChaosStats) -> String {
    let pct = |x: f64| format!("{:.0}", 100.0 * x);
    match (c.ratio, c.ratio_ci) {
        (Some(r), Some((lo, hi))) => {
            format!("{}% [{}, {}] of the spread of fully new seeds", pct(r), pct(lo), pct(hi))
        }
        _ => String::new(),
    }
}

/// `sd 0.12 [0.09, 0.18] points`, or `1 run, too few for an sd`.
fn chaos_sd(c: &ChaosStats) -> String {
    match (c.sd, c.sd_ci) {
        (Some(sd), Some((lo, hi))) => {
            format!("sd {} [{}, {}] points", pts2(sd), pts2(lo), pts2(hi))
        }
        _ => format!("{} run{}, too few for an sd", c.n, if c.n == 1 { "" } else { "s" }),
    }
}

/// The protocol experiment's finding in one sentence: how many times less the k-fold
/// estimate moves than a single split, with the intervals, and the share of that which
/// is only its k times more validation images.
pub fn protocol_sentence(cv: &ProtocolStats) -> String {
    let (folds, pooled_sd) = (cv.folds, cv.single_split_sd_pooled);
    let Some(v) = &cv.ratio else {
        return format!(
            "{folds}-fold estimate {} against a single split (sd {} points, pooled over the \
             folds)",
            pts(cv.k_fold.mean),
            pts2(pooled_sd)
        );
    };
    let images = match &cv.floor {
        Some(f) => format!(
            "; it also scores {folds}× more images ({} against {}), and the validation images \
             alone give sd {} of a single split's {} and {} of the {folds}-fold estimate's {} \
             points",
            grouped(folds * cv.examples_per_fold),
            grouped(cv.examples_per_fold),
            pts2(f.single_split),
            pts2(pooled_sd),
            pts2(f.k_fold),
            pts2(cv.k_fold.sd.unwrap_or(f64::NAN))
        ),
        None => String::new(),
    };
    format!(
        "across {} replicates, the {folds}-fold estimate ({} ± {} sd) moves {:.1}× less than a \
         single split (sd {} points, pooled over the {folds} folds as the split), 95% CI \
         [{:.2}, {:.2}]× (variance ratio {:.2} [{:.2}, {:.2}], from the replicate × fold \
         ANOVA; at most {folds}× in variance){images}",
        cv.replicates,
        pts(cv.k_fold.mean),
        pts2(cv.k_fold.sd.unwrap_or(f64::NAN)),
        v.sd_ratio,
        pts2(pooled_sd),
        v.sd_ratio_ci.0,
        v.sd_ratio_ci.1,
        v.ratio,
        v.ci.0,
        v.ci.1
    )
}

/// The protocol section's line: both estimators' spread with intervals, the variance
/// ratio with its interval and test, and the validation images' share.
pub fn protocol_line(cv: &ProtocolStats) -> String {
    let k = cv.folds;
    let points = |ci: Option<(f64, f64)>| ci.map(|(lo, hi)| (100.0 * lo, 100.0 * hi));
    let mut line = format!(
        "single split (each of the {k} folds in turn, pooled): sd {}{} points between \
         replicates ({:.1} df); {k}-fold cross-validation: mean {}%, sd {}{} points ({} \
         replicates).",
        pts2(cv.single_split_sd_pooled),
        interval2(points(cv.single_split_pooled_sd_ci)),
        cv.single_split_df,
        pts2(cv.k_fold.mean),
        pts2(cv.k_fold.sd.unwrap_or(f64::NAN)),
        interval2(points(cv.k_fold_sd_ci)),
        cv.replicates
    );
    if let Some(v) = &cv.ratio {
        let test = match v.f {
            Some(f) => format!(
                "; F({}, {}) = {f:.2}, {} for no effect shared by the folds of a replicate",
                v.df.0,
                v.df.1,
                p_text(v.p)
            ),
            None => String::new(),
        };
        line += &format!(
            " The {k}-fold estimate moves {:.2}× less{} in sd (variance ratio {:.2}{}, from the \
             replicate × fold ANOVA, at most {k}{test}).",
            v.sd_ratio,
            interval2(Some(v.sd_ratio_ci)),
            v.ratio,
            interval2(Some(v.ci))
        );
    }
    if let Some(f) = &cv.floor {
        line += &format!(
            " It scores {k}× more images ({} against {}): the validation images alone give sd \
             {} of a single split's {} and {} of the {k}-fold estimate's {} points{}.",
            grouped(k * cv.examples_per_fold),
            grouped(cv.examples_per_fold),
            pts2(f.single_split),
            pts2(cv.single_split_sd_pooled),
            pts2(f.k_fold),
            pts2(cv.k_fold.sd.unwrap_or(f64::NAN)),
            if f.from_predictions { " (binomial within each class)" } else { " (binomial)" }
        );
    }
    line
}

/// ` [lo, hi]` with two decimals, as they are; nothing without an interval.
fn interval2(ci: Option<(f64, f64)>) -> String {
    ci.map_or(String::new(), |(lo, hi)| format!(" [{lo:.2}, {hi:.2}]"))
}

/// A level's test-set noise in one sentence: its seed sd against the floor that
/// independent errors on its test examples give, how often its runs disagree and what
/// their majority vote scores.
pub fn level_noise_sentence(s: &NoiseSummary) -> String {
    let ci =
        s.floor_ci.map(|(lo, hi)| format!(" [{}, {}]", pts2(lo), pts2(hi))).unwrap_or_default();
    let floor = format!(
        "the {} points{ci} that independent errors on {} test examples give",
        pts2(s.floor_sd),
        s.examples
    );
    let tail = format!(
        "runs disagree on {:.1}% of examples; a majority vote of the {} runs scores {} ({:+.2} \
         points over the mean run)",
        100.0 * s.disagreement.mean,
        s.runs,
        pts(s.ensemble_accuracy),
        100.0 * s.ensemble_gain
    );
    if s.within_floor {
        format!(
            "Seed sd {} points is within {floor}: on this test set the seeds cannot be told \
             apart in accuracy; {tail}",
            pts2(s.observed_sd)
        )
    } else {
        format!(
            "Seed sd {} points exceeds {floor}: the excess, {} points, is a real difference in \
             accuracy between runs; {tail}",
            pts2(s.observed_sd),
            pts2(s.excess_sd)
        )
    }
}

/// Why a level has no test-set noise, for its row of the test-set noise table.
pub fn missing_noise_text(m: &MissingNoise) -> String {
    match m {
        MissingNoise::NoPredictions => "no run of this level has stored predictions".into(),
        MissingNoise::OneRun { run } => format!(
            "only run {run} has stored predictions (of the level's non-diverged runs); \
             test-set noise needs 2"
        ),
        MissingNoise::DifferentExamples { first, other } => format!(
            "runs {first} and {other} were evaluated on different examples (their labels \
             differ), so their predictions cannot be pooled"
        ),
        MissingNoise::Invalid(e) => e.to_string(),
    }
}

/// The study's test-set noise in one sentence: how much of the seed sd within its levels
/// the test set alone produces, and the rest (in quadrature), a real difference between
/// the trained models.
pub fn study_noise_sentence(n: &StudyNoise) -> String {
    let test_set = match n.examples {
        (lo, hi) if lo == hi => format!("a {}-image test set", grouped(lo)),
        (lo, hi) => format!("test sets of {} to {} images", grouped(lo), grouped(hi)),
    };
    let over = format!("sd within a level, pooled over {} levels and {} runs", n.levels, n.runs);
    if n.floor_sd >= n.observed_sd {
        format!(
            "Of the {} points of test accuracy between seeds ({over}), all is what {test_set} \
             alone produces (a floor of {} points): on this test set the seeds cannot be told \
             apart in accuracy.",
            pts2(n.observed_sd),
            pts2(n.floor_sd)
        )
    } else {
        format!(
            "Of the {} points of test accuracy between seeds ({over}), {} is what {test_set} \
             alone produces; the rest, {} points (in quadrature), is a real difference between \
             the trained models.",
            pts2(n.observed_sd),
            pts2(n.floor_sd),
            pts2(n.excess_sd)
        )
    }
}

/// `wall time 3 h 28 min (first run's start to last run's finish; runs going for 2 h
/// 52 min of it, 2.0 runs at a time on average), compute time 5 h 38 min (430 runs'
/// durations summed)`: the pause between sittings is named only when it reaches a
/// minute.
pub fn study_time_sentence(t: &StudyTime) -> String {
    let paused = t.wall_seconds - t.busy_seconds;
    let busy = if paused >= 60.0 {
        format!("; runs going for {} of it", duration(t.busy_seconds))
    } else {
        String::new()
    };
    format!(
        "wall time {} (first run's start to last run's finish{busy}, {:.1} runs at a time on \
         average), compute time {} ({} runs' durations summed)",
        duration(t.wall_seconds),
        t.concurrency(),
        duration(t.compute_seconds),
        t.runs
    )
}

/// `2 h 55 min`, `12 min`, `40 s`: to the nearest minute from a minute on.
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    let minutes = (s + 30) / 60;
    match (s, minutes / 60, minutes % 60) {
        (s, _, _) if s < 60 => format!("{s} s"),
        (_, 0, m) => format!("{m} min"),
        (_, h, m) => format!("{h} h {m:02} min"),
    }
}

#[cfg(test)]
#[path = "findings_tests.rs"]
mod tests;
