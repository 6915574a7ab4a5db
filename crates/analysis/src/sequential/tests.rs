use super::*;

fn design() -> SequentialDesign {
    SequentialDesign {
        min_seeds: 3,
        max_seeds: 20,
        step: 2,
        delta: 0.5,
        alpha: 0.05,
        spending: Spending::OBrienFleming,
    }
}

/// Upper 99% binomial bound on an observed rate whose truth is `alpha`.
fn bound(alpha: f64, n: usize) -> f64 {
    alpha + 2.33 * (alpha * (1.0 - alpha) / n as f64).sqrt()
}

#[test]
fn looks_and_run_counts() {
    let d = design();
    assert_eq!(d.looks(), [3, 5, 7, 9, 11, 13, 15, 17, 19, 20]);
    assert_eq!(SequentialDesign { max_seeds: 3, ..d }.looks(), [3]);
    assert_eq!(SequentialDesign { max_seeds: 9, ..d }.looks(), [3, 5, 7, 9]);
    assert_eq!(run_count_range(&d, 4), (12, 80));
    assert_eq!(run_count_range(&d, 1), (3, 3));
    assert_eq!(run_count_range(&d, 0), (0, 0));
    assert_eq!(d.validate(), Ok(()));
}

#[test]
fn bad_designs_are_reported_and_normalised() {
    let d = design();
    let bad = [
        SequentialDesign { min_seeds: 1, ..d },
        SequentialDesign { max_seeds: 2, ..d },
        SequentialDesign { step: 0, ..d },
        SequentialDesign { delta: f64::NAN, ..d },
        SequentialDesign { delta: -1.0, ..d },
        SequentialDesign { alpha: 0.0, ..d },
        SequentialDesign { alpha: f64::NAN, ..d },
        SequentialDesign { alpha: 0.7, ..d },
        SequentialDesign { max_seeds: 5000, ..d },
        SequentialDesign { max_seeds: 500, step: 1, ..d },
    ];
    for b in bad {
        let err = b.validate().expect_err("invalid");
        assert!(!err.to_string().is_empty());
        let n = b.normalized();
        assert!(n.min_seeds >= 2 && n.max_seeds >= n.min_seeds && n.step >= 1);
        assert!(n.delta >= 0.0 && (0.0..=0.5).contains(&n.alpha));
        assert!(n.max_seeds <= MAX_SEEDS && n.looks().len() <= MAX_LOOKS, "{n:?}");
        if n.max_seeds <= 20 {
            let out = decide(&b, &[vec![0.1, 0.2, 0.3], vec![0.2, 0.2, 0.2]]);
            assert_eq!(out.pairs.len(), 1);
        }
    }
    let zero = SequentialDesign { min_seeds: 0, max_seeds: 0, step: 0, ..d };
    assert_eq!(zero.looks(), [2]);
}

#[test]
fn boundaries_are_ordered() {
    for spending in [Spending::OBrienFleming, Spending::Pocock] {
        for levels in [2, 4] {
            let b = SequentialDesign { spending, ..design() }.boundaries(levels);
            assert_eq!(b.pairs, levels * (levels - 1) / 2);
            let m = b.pairs as f64;
            let total: f64 = b.looks.iter().map(|l| l.difference_level).sum();
            // Nominal levels add up to more than the level (looks overlap), but not
            // to more than a union bound over looks would spend.
            assert!(total > 0.05 / (2.0 * m) && total < 0.05 * 10.0 / (2.0 * m), "{total}");
            for l in &b.looks {
                assert!(l.difference_level <= l.equivalence_level);
                assert!(l.difference_t >= l.equivalence_t && l.equivalence_t > 0.0, "{l:?}");
            }
        }
    }
}

#[test]
fn clear_cases_are_decided() {
    let d = design();
    let base = [0.1, -0.2, 0.3, 0.0, -0.1, 0.2, 0.1, -0.3, 0.05, 0.0, 0.1];
    let a: Vec<f64> = base.iter().map(|x| 90.0 + x).collect();
    let better: Vec<f64> =
        base.iter().enumerate().map(|(i, x)| 93.0 + x * 0.5 + 0.01 * i as f64).collect();
    let same: Vec<f64> =
        a.iter().enumerate().map(|(i, x)| x + 0.01 * (i % 3) as f64 - 0.01).collect();
    let out = decide(&d, &[a.clone(), better.clone(), same.clone()]);
    let verdicts: Vec<Verdict> = out.pairs.iter().map(|p| p.verdict).collect();
    assert_eq!(verdicts, [Verdict::Smaller, Verdict::Equivalent, Verdict::Larger]);
    assert_eq!(out.pairs.iter().map(|p| (p.a, p.b)).collect::<Vec<_>>(), [(0, 1), (0, 2), (1, 2)]);
    assert!(out.pairs[0].mean_diff.is_some_and(|m| m < -2.5));
    assert!(out.pairs.iter().all(|p| p.look.is_some() && p.seeds <= 11));
    assert!(out.finished() && out.batch == 0);
}

#[test]
fn batches_follow_the_looks() {
    let d = design();
    let out = decide(&d, &[vec![], vec![]]);
    assert_eq!((out.looks_done, out.next_seeds, out.batch), (0, Some(3), 3));
    assert_eq!(out.pairs[0].verdict, Verdict::Continue);
    let noisy = |n: usize, shift: f64| -> Vec<f64> {
        (0..n)
            .map(|i| shift + [0.4, -0.5, 0.1, 0.3, -0.2][i % 5] * (1.0 + i as f64 / 7.0))
            .collect()
    };
    let out = decide(&d, &[noisy(3, 0.0), noisy(4, 0.3).into_iter().rev().collect()]);
    assert_eq!((out.looks_done, out.seeds_complete, out.next_seeds, out.batch), (1, 3, Some(5), 2));
    // Between looks (a batch half done): the next look's seeds.
    let out = decide(&d, &[noisy(6, 0.0), noisy(6, 0.1).into_iter().rev().collect()]);
    assert_eq!((out.looks_done, out.next_seeds, out.batch), (2, Some(7), 1));
    // The last look leaves an open pair undecided; extra seeds are ignored.
    let a = noisy(25, 0.0);
    let b: Vec<f64> = a.iter().rev().map(|x| x + 0.3).collect();
    let out = decide(&d, &[a, b]);
    assert_eq!(out.looks_done, 10);
    if !out.pairs[0].verdict.is_decided() {
        assert_eq!((out.pairs[0].verdict, out.pairs[0].seeds), (Verdict::Undecided, 20));
    }
    assert!(out.finished());
}

#[test]
fn odd_inputs_do_not_panic() {
    let d = design();
    assert!(decide(&d, &[]).finished() && decide(&d, &[]).pairs.is_empty());
    let one = decide(&d, &[vec![1.0]]);
    assert_eq!((one.pairs.len(), one.batch), (0, 2));
    assert!(decide(&d, &[vec![1.0, 2.0, 3.0]]).finished());
    let nan = vec![f64::NAN; 20];
    let out = decide(&d, &[nan.clone(), nan.clone()]);
    assert_eq!(out.pairs[0].verdict, Verdict::Undecided);
    assert_eq!((out.pairs[0].used, out.pairs[0].mean_diff), (0, None));
    let huge = vec![f64::MAX, -f64::MAX, f64::MAX, f64::INFINITY, 1.0];
    let out = decide(&d, &[huge.clone(), huge.iter().map(|x| -x).collect()]);
    assert_eq!(out.pairs.len(), 1);
    // Identical outcomes: equivalent; a constant gap: different.
    let x = vec![0.9, 0.91, 0.92];
    assert_eq!(decide(&d, &[x.clone(), x.clone()]).pairs[0].verdict, Verdict::Equivalent);
    let y: Vec<f64> = x.iter().map(|v| v + 2.0).collect();
    assert_eq!(decide(&d, &[y, x.clone()]).pairs[0].verdict, Verdict::Larger);
    let no_delta = SequentialDesign { delta: 0.0, ..d };
    assert_eq!(decide(&no_delta, &[x.clone(), x]).pairs[0].verdict, Verdict::Continue);
}

#[test]
fn non_finite_outcomes_leave_their_replicate_out() {
    let d = design();
    let a = vec![90.0, 90.3, f64::NAN, 89.8, 90.1, 90.2, 89.9];
    let b: Vec<f64> = a.iter().map(|x| x - 3.0 + 0.01 * x.fract()).collect();
    let out = decide(&d, &[a, b]);
    let p = &out.pairs[0];
    assert_eq!(p.verdict, Verdict::Larger);
    assert!(p.used < p.seeds, "{p:?}");
}

/// Outcomes of `levels` levels, `max` replicates, from the simulation's generator.
fn random_study(levels: usize, seed: u64, shift: f64) -> Vec<Vec<f64>> {
    let setting = Setting::shifted(levels, shift, 0.5, Noise::Normal);
    let mut rng = rng::Rng::new(seed);
    (0..levels)
        .map(|l| {
            (0..20)
                .map(|_| setting.means[l] + simulate::draw(&mut rng, setting.noise, setting.sd))
                .collect()
        })
        .collect()
}

/// Deciding on outcomes cut at an earlier point gives the decisions of the full run's
/// first looks: a decided pair keeps its look, and a later one is still open there.
#[test]
fn decisions_are_a_pure_function_of_the_outcomes() {
    let d = design();
    let bounds = d.boundaries(4);
    let mut seen_decided_later = false;
    for seed in 0..60 {
        let full = random_study(4, seed, 0.6);
        let all = decide_with(&bounds, &full);
        if seed < 3 {
            assert_eq!(all, decide(&d, &full));
        }
        for n in 0..=20 {
            let cut: Vec<Vec<f64>> = full.iter().map(|l| l[..n].to_vec()).collect();
            let part = decide_with(&bounds, &cut);
            for (p, q) in part.pairs.iter().zip(&all.pairs) {
                match q.look {
                    _ if part.looks_done == all.looks_done => assert_eq!(p, q),
                    Some(k) if k < part.looks_done => assert_eq!(p, q),
                    _ => {
                        assert_eq!(p.verdict, Verdict::Continue, "{seed} {n}: {p:?} {q:?}");
                        seen_decided_later |= q.look.is_some() && part.looks_done > 0;
                    }
                }
            }
        }
    }
    assert!(seen_decided_later);
}

/// Each decision agrees with its repeated confidence interval: Larger above 0, Smaller
/// below, open or undecided around 0; Equivalent with its equivalence interval within
/// ±delta; the interval is the mean difference ± the critical t × se.
#[test]
fn intervals_agree_with_decisions() {
    let d = design();
    let bounds = d.boundaries(3);
    let mut seen = [0usize; 4];
    for seed in 0..80 {
        let out = decide_with(&bounds, &random_study(3, 100 + seed, 0.7));
        for p in &out.pairs {
            let (lo, hi) = p.rci.expect("an interval at a look");
            let (m, se, c) = (p.mean_diff.unwrap(), p.se.unwrap(), p.critical_t.unwrap());
            assert!((lo - (m - c * se)).abs() < 1e-12 && (hi - (m + c * se)).abs() < 1e-12);
            let (elo, ehi) = p.equivalence_rci.expect("an equivalence interval");
            assert!(lo <= elo && ehi <= hi, "{p:?}");
            match p.verdict {
                Verdict::Larger => (assert!(lo >= 0.0, "{p:?}"), seen[0] += 1).1,
                Verdict::Smaller => (assert!(hi <= 0.0, "{p:?}"), seen[1] += 1).1,
                Verdict::Equivalent => {
                    (assert!(-d.delta <= elo && ehi <= d.delta, "{p:?}"), seen[2] += 1).1
                }
                Verdict::Undecided | Verdict::Continue => {
                    assert!(lo < 0.0 && 0.0 < hi, "{p:?}");
                    assert!(elo < -d.delta || d.delta < ehi, "{p:?}");
                    seen[3] += 1;
                }
            }
            let look = p.look.map_or(out.looks_done - 1, |k| k);
            assert_eq!(p.seeds, bounds.looks[look].seeds);
        }
    }
    assert!(seen.iter().all(|&n| n > 0), "every kind of decision seen: {seen:?}");
    assert!((bounds.rci_confidence() - (1.0 - 0.05 / 3.0)).abs() < 1e-15);
    assert!((bounds.equivalence_rci_confidence() - (1.0 - 0.1 / 3.0)).abs() < 1e-15);
    // Before the first look, and from differences too few and too alike, no interval.
    let open = decide(&d, &[vec![1.0, 2.0], vec![0.0, 1.0]]);
    assert_eq!((open.pairs[0].rci, open.pairs[0].critical_t), (None, None));
    let two = SequentialDesign { min_seeds: 2, ..d };
    let alike = decide(&two, &[vec![1.0, 2.0], vec![0.0, 1.0]]);
    assert_eq!((alike.pairs[0].verdict, alike.pairs[0].rci), (Verdict::Continue, None));
}

/// Coverage of the repeated confidence interval at the look where each pair stopped,
/// by simulation (normal outcomes, sd 0.5 points, 2 000 studies per setting, fixed
/// seeds): with 2 levels, at no effect, at an effect between delta and 2·delta and at
/// one decided early, the interval covers the true difference in at least its
/// confidence (95%) less 3 Monte Carlo standard errors; with 4 levels, the 6 pairs'
/// intervals cover together in at least 1 − alpha less the same. A fixed-sample 95% t
/// interval at the stopping look, or the equivalence boundary's, covers less (the
/// fixed-sample one 93.7–95.0% here).
#[test]
fn repeated_confidence_intervals_cover_after_stopping() {
    let d = design();
    let studies = 2000;
    let floor = |p: f64| p - 3.0 * (p * (1.0 - p) / studies as f64).sqrt();
    let covers = |p: &PairDecision, mu: f64| p.rci.is_some_and(|(lo, hi)| lo <= mu && mu <= hi);
    for (levels, shift, seed) in [(2, 0.0, 1u64), (2, 0.6, 2), (2, 1.5, 3), (4, 0.6, 4)] {
        let bounds = d.boundaries(levels);
        let setting = Setting::shifted(levels, shift, 0.5, Noise::Normal);
        let mut rng = rng::Rng::new(0xC0DE + seed);
        let (mut all_cover, mut narrow_cover, mut stopped_early) = (0usize, 0usize, 0usize);
        let mut naive_cover = 0usize;
        for _ in 0..studies {
            let outcomes: Vec<Vec<f64>> = (0..levels)
                .map(|l| {
                    (0..20)
                        .map(|_| setting.means[l] + simulate::draw(&mut rng, setting.noise, 0.5))
                        .collect()
                })
                .collect();
            let out = decide_with(&bounds, &outcomes);
            let mu = |p: &PairDecision| setting.means[p.a] - setting.means[p.b];
            all_cover += usize::from(out.pairs.iter().all(|p| covers(p, mu(p))));
            let p = &out.pairs[out.pairs.len() - 1];
            let narrow = p.equivalence_rci.is_some_and(|(lo, hi)| lo <= mu(p) && mu(p) <= hi);
            narrow_cover += usize::from(narrow);
            let t = boundary::t_isf(0.025, p.used as f64 - 1.0);
            let (m, se) = (p.mean_diff.unwrap(), p.se.unwrap());
            naive_cover += usize::from((m - t * se..=m + t * se).contains(&mu(p)));
            stopped_early += usize::from(p.seeds < 20);
        }
        let coverage = all_cover as f64 / studies as f64;
        let what = format!("{levels} levels, difference {shift}: coverage {coverage}");
        assert!(coverage >= floor(1.0 - d.alpha), "{what}");
        assert!(stopped_early > studies / 4, "{what}: {stopped_early} stopped early");
        if levels == 2 {
            // The equivalence boundary's interval (90% over the looks) and a fixed-sample
            // 95% t interval at the same look cover less.
            let narrow = narrow_cover as f64 / studies as f64;
            let naive = naive_cover as f64 / studies as f64;
            assert!(narrow < coverage && naive < coverage, "{what}: {narrow} {naive}");
        }
    }
}

#[test]
fn simulations_are_deterministic() {
    let s = Setting::shifted(2, 0.5, 0.5, Noise::Normal);
    assert_eq!(simulate(&design(), &s, 50, 7), simulate(&design(), &s, 50, 7));
    assert_eq!(simulate(&design(), &Setting::shifted(1, 0.0, 0.5, Noise::Normal), 5, 1).studies, 5);
    let rows = table(&design(), &[0.5], 20, 3);
    assert_eq!(rows.len(), 4);
    let md = markdown_table(&rows);
    assert_eq!(md.lines().count(), 6, "{md}");
}

/// Error control by simulation, over the standard table: 2 and 4 levels (1 and 6
/// pairs), normal and t (3 df) outcomes, seed sd 0.3 and 0.6, true differences 0, delta
/// and 2·delta, 2 000 studies each, both spending functions. The family-wise error (a
/// difference where there is none or the wrong direction, or Equivalent at least delta
/// apart) and the type I error of difference claims stay within the upper 99% binomial
/// bound of alpha; the power and the seeds used behave as they should.
#[test]
fn simulated_errors_stay_at_alpha() {
    let n = 2000;
    for spending in [Spending::OBrienFleming, Spending::Pocock] {
        let d = SequentialDesign { spending, ..design() };
        for r in table(&d, &[0.3, 0.6], n, 2024) {
            let what = format!("{spending:?}, {} levels, {:?}, sd {}", r.levels, r.noise, r.sd);
            assert!(r.null.false_difference <= bound(0.05, n), "{what}: {:?}", r.null);
            for s in [&r.null, &r.at_delta, &r.at_two_delta] {
                assert!(s.familywise_error <= bound(0.05, n), "{what}: {s:?}");
                assert!(s.mean_seeds >= 3.0 && s.mean_seeds <= 20.0, "{what}: {s:?}");
            }
            let (p1, p2) = (r.at_delta.power.unwrap_or(0.0), r.at_two_delta.power.unwrap_or(0.0));
            assert!(p2 > 0.85 && p2 > p1, "{what}: {p1} {p2}");
            assert!(r.at_two_delta.mean_seeds <= r.null.mean_seeds, "{what}");
            if r.sd < 0.5 {
                // A small seed spread settles most questions well before 20 seeds.
                assert!(p1 > 0.9 && r.null.equivalence.is_some_and(|e| e > 0.9), "{what}: {r:?}");
                assert!(r.null.mean_seeds < 18.5, "{what}: {:?}", r.null);
            }
        }
    }
}

/// Without equivalence claims (delta 0) nothing stops a null pair early, so the
/// difference test alone spends its whole level: near alpha, not above it (10 000
/// studies: the calibration is what is checked).
#[test]
fn difference_test_spends_its_level() {
    let d = SequentialDesign { delta: 0.0, ..design() };
    let n = 10_000;
    for (noise, seed) in [(Noise::Normal, 9), (Noise::StudentT(3), 10)] {
        let s = simulate(&d, &Setting::shifted(2, 0.0, 0.5, noise), n, seed);
        assert!(s.false_difference <= bound(0.05, n), "{noise:?}: {s:?}");
        assert!(s.false_difference >= 0.03, "{noise:?}: {s:?}");
        assert!(s.mean_seeds > 19.0 && s.equivalence == Some(0.0), "{noise:?}: {s:?}");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Any outcomes, NaN and infinities included, give well-formed decisions, and
    /// their first looks are those of any longer run.
    #[test]
    fn any_outcomes_give_consistent_decisions(
        which in 0usize..3,
        values in proptest::collection::vec(
            proptest::prop_oneof![
                8 => -5.0f64..5.0,
                1 => proptest::prelude::Just(f64::NAN),
                1 => proptest::prelude::Just(f64::INFINITY),
            ],
            0..80,
        ),
        levels in 0usize..5,
        cut in 0usize..25,
    ) {
        let d = [design(), SequentialDesign { min_seeds: 2, max_seeds: 6, step: 3, ..design() },
            SequentialDesign { spending: Spending::Pocock, delta: 0.0, ..design() }][which];
        let per = values.len().checked_div(levels).unwrap_or(0);
        let outcomes: Vec<Vec<f64>> = values.chunks(per.max(1)).take(levels).map(<[f64]>::to_vec).collect();
        let all = decide(&d, &outcomes);
        proptest::prop_assert_eq!(all.pairs.len(), outcomes.len() * outcomes.len().saturating_sub(1) / 2);
        proptest::prop_assert_eq!(all.finished(), all.batch == 0);
        proptest::prop_assert!(all.next_seeds.is_none_or(|n| n <= d.normalized().max_seeds));
        let cut_outcomes: Vec<Vec<f64>> = outcomes.iter().map(|l| l[..cut.min(l.len())].to_vec()).collect();
        let part = decide(&d, &cut_outcomes);
        for (p, q) in part.pairs.iter().zip(&all.pairs) {
            if p.verdict.is_decided() {
                proptest::prop_assert_eq!(p, q);
            }
        }
    }
}
