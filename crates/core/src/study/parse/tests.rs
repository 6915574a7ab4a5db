//! Unit tests of study parsing.

use super::*;
use crate::study::{AlphaSpending, DEFAULT_ALPHA, DEFAULT_SD_INTERVAL_RATIO, Resolve};

fn err(text: &str) -> String {
    parse(text, Path::new("s.toml")).unwrap_err().to_string()
}

const OK: &str =
    "seeds = 2\n[base]\nepochs = 1\n[[experiment]]\nname = \"a\"\nvary = { lr = [0.1, 0.01] }\n";

#[test]
fn parses_a_small_study() {
    let s = parse(OK, Path::new("dir/s.toml")).unwrap();
    assert_eq!(s.name, "s");
    assert_eq!(s.seeds, 2);
    assert_eq!(s.experiments[0].levels.len(), 2);
    assert_eq!(s.experiments[0].levels[1].label, "0.01");
    assert_eq!(s.experiments[0].levels[1].spec.lr, 0.01);
    assert_eq!(s.experiments[0].levels[1].spec.epochs, 1);
}

/// A study name names a directory under `--out`: `..`, `.`, slashes and an empty
/// name would write elsewhere, so they are refused with the file and line.
#[test]
fn study_name_must_be_one_plain_path_component() {
    for bad in ["..", ".", "", "a/b", "../x", "a\\\\b"] {
        let e = err(&format!("seeds = 2\nname = \"{bad}\"\n{}", &OK[10..]));
        assert!(e.contains("s.toml:2") && e.contains("`name`"), "{bad}: {e}");
        assert!(e.contains("one plain path component"), "{bad}: {e}");
    }
    // From the file name: `..toml`'s stem is `.`.
    let e = parse(OK, Path::new("dir/..toml")).unwrap_err().to_string();
    assert!(e.contains("..toml") && e.contains("plain path component"), "{e}");
    assert_eq!(parse(&format!("name = \"x..y\"\n{OK}"), Path::new("s.toml")).unwrap().name, "x..y");
}

#[test]
fn unknown_factor_names_line_and_field() {
    let e = err("[[experiment]]\nname = \"a\"\nvary = { learning_rate = [0.1] }\n");
    assert!(
        e.contains("s.toml:3") && e.contains("learning_rate") && e.contains("unknown factor"),
        "{e}"
    );
}

#[test]
fn wrong_type_names_line_and_field() {
    let e = err("[[experiment]]\nname = \"a\"\nvary = { lr = [0.1,\n \"fast\"] }\n");
    assert!(e.contains("s.toml:4") && e.contains("`lr`"), "{e}");
}

#[test]
fn non_positive_lr_is_rejected() {
    for bad in ["0.0", "-0.1"] {
        let e = err(&format!("[[experiment]]\nname = \"a\"\nvary = {{ lr = [{bad}] }}\n"));
        assert!(e.contains("s.toml:3") && e.contains("`lr`") && e.contains("positive"), "{e}");
    }
}

#[test]
fn empty_level_list_is_rejected() {
    let e = err("[[experiment]]\nname = \"a\"\nvary = { lr = [] }\n");
    assert!(e.contains("s.toml:3") && e.contains("empty level list"), "{e}");
}

#[test]
fn duplicate_experiment_is_rejected() {
    let e = err(
        "[[experiment]]\nname = \"a\"\nvary = { lr = [0.1] }\n[[experiment]]\nname = \"a\"\nvary = { lr = [0.2] }\n",
    );
    assert!(e.contains("s.toml:5") && e.contains("duplicate") && e.contains("s.toml:2"), "{e}");
}

#[test]
fn unknown_top_level_key_is_rejected() {
    let e = err("seedz = 3\n[[experiment]]\nname = \"a\"\nvary = { lr = [0.1] }\n");
    assert!(e.contains("s.toml:1") && e.contains("seedz"), "{e}");
}

#[test]
fn a_grid_too_large_is_refused_before_it_is_built() {
    let list: Vec<String> = (1..=100).map(|i| format!("{}", i as f64 * 1e-4)).collect();
    let list = list.join(", ");
    let text = format!(
        "[[experiment]]\nname = \"big\"\nvary = {{ lr = [{list}], batch_size = [{b}], epochs = [{b}] }}\n",
        b = (1..=100).map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
    );
    let e = parse(&text, Path::new("big.toml")).unwrap_err().to_string();
    assert!(e.contains("big.toml:3") && e.contains("`vary`") && e.contains("100000"), "{e}");
    let e = err("seeds = 1000000000\n[[experiment]]\nname = \"a\"\nvary = { lr = [0.1] }\n");
    assert!(e.contains("`seeds`"), "{e}");
}

/// A TOML syntax error names line and column, not a field `?`.
#[test]
fn syntax_error_names_line_and_column() {
    let e = err("seeds = 2\n[[experiment]\nname = \"a\"\n");
    assert!(e.starts_with("s.toml:2:") && e.contains("invalid TOML") && !e.contains('?'), "{e}");
}

/// `nan` is refused as what it is, where it is.
#[test]
fn nan_is_refused_by_name() {
    for bad in ["nan", "inf", "-inf"] {
        let e = err(&format!("[[experiment]]\nname = \"a\"\nvary = {{ lr = [0.1,\n {bad}] }}\n"));
        assert!(e.contains("s.toml:4") && e.contains("`lr`") && e.contains("finite"), "{e}");
        assert!(!e.contains("null"), "{e}");
    }
}

/// Bytes that are not UTF-8 are refused with their position.
#[test]
fn non_utf8_names_line_and_column() {
    let e =
        parse_bytes(b"seeds = 2\nname = \"a\xff\"\n", Path::new("s.toml")).unwrap_err().to_string();
    assert!(e.starts_with("s.toml:2:10") && e.contains("UTF-8"), "{e}");
}

/// Sizes beyond the data set and backends this build lacks are refused at the
/// field, before anything runs.
#[test]
fn what_every_worker_would_refuse_is_refused_here() {
    let e = err(
        "[base]\ntrain_size = 10_000_000\n[[experiment]]\nname = \"a\"\nvary = { lr = [0.1] }\n",
    );
    assert!(e.contains("s.toml:2") && e.contains("`train_size`") && e.contains("60000"), "{e}");
    let e = err("[[experiment]]\nname = \"a\"\nvary = { test_size = [100,\n 20000] }\n");
    assert!(e.contains("s.toml:4") && e.contains("`test_size`") && e.contains("10000"), "{e}");
    // Without burn no backend is compiled, and parsing leaves backends to the workers.
    let uncompiled = crate::Backend::ALL.iter().find(|b| !b.is_compiled());
    if let Some(b) = uncompiled.filter(|_| cfg!(feature = "burn")) {
        let e = err(&format!("[[experiment]]\nname = \"a\"\n\nvary = {{ backend = [\"{b}\"] }}\n"));
        assert!(e.contains("s.toml:4") && e.contains("`backend`") && e.contains("compiled"), "{e}");
    }
}

#[test]
fn grid_and_levels() {
    let s = parse(
        "[[experiment]]\nname = \"g\"\nvary = { lr = [0.1, 0.2], batch_size = [8, 16, 32] }\n\
         [[experiment]]\nname = \"z\"\nlevels = [{ batch_size = 8, lr = 0.1 }, { batch_size = 16, lr = 0.2 }]\n",
        Path::new("s.toml"),
    )
    .unwrap();
    assert_eq!(s.experiments[0].levels.len(), 6);
    assert_eq!(s.experiments[1].levels.len(), 2);
    assert_eq!(s.experiments[1].levels[1].label, "batch_size=16, lr=0.2");
}

const ADAPTIVE: &str = "seeds = { min = 3, max = 20, step = 2 }\nresolve = { delta = 0.5 }\n\
    [[experiment]]\nname = \"a\"\nvary = { lr = [0.1, 0.01] }\n\
    [[experiment]]\nname = \"b\"\nresolve = { delta = 1, alpha = 0.01, spending = \"pocock\", \
    sd_interval_ratio = 1.5 }\nvary = { lr = [0.1, 0.01, 0.001] }\n";

/// `seeds = N` is a fixed design; `seeds = { min, max, step }` with `resolve` an
/// adaptive one, whose experiments take the study's `resolve` unless they give
/// their own, and whose `seeds` is `min`.
#[test]
fn seeds_are_a_count_or_an_adaptive_range() {
    let fixed = parse(OK, Path::new("s.toml")).unwrap();
    assert_eq!((fixed.seeds, &fixed.adaptive), (2, &None));
    let s = parse(ADAPTIVE, Path::new("s.toml")).unwrap();
    assert_eq!(s.seeds, 3);
    let a = s.adaptive.as_ref().expect("adaptive");
    assert_eq!((a.min, a.max, a.step), (3, 20, 2));
    assert_eq!(a.looks(), [3, 5, 7, 9, 11, 13, 15, 17, 19, 20]);
    let study = Resolve {
        delta: 0.5,
        alpha: DEFAULT_ALPHA,
        spending: AlphaSpending::OBrienFleming,
        sd_interval_ratio: DEFAULT_SD_INTERVAL_RATIO,
    };
    assert_eq!(a.resolve["a"], study);
    let own = Resolve {
        delta: 1.0,
        alpha: 0.01,
        spending: AlphaSpending::Pocock,
        sd_interval_ratio: 1.5,
    };
    assert_eq!(a.resolve["b"], own);
    // A table form, and a fixed study serialises as it did (no `adaptive` key).
    let table = "[seeds]\nmin = 2\nmax = 2\nstep = 1\n[resolve]\ndelta = 0\n\
                 [[experiment]]\nname = \"a\"\nvary = { lr = [0.1] }\n";
    let t = parse(table, Path::new("s.toml")).unwrap();
    assert_eq!(t.adaptive.as_ref().map(|a| a.looks()), Some(vec![2]));
    assert!(!serde_json::to_string(&fixed).unwrap().contains("adaptive"));
    let back: Study = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(back, s);
}

/// Every mistake in `seeds` or `resolve` names the file, the line and the field.
#[test]
fn adaptive_mistakes_name_line_and_field() {
    let exp = "[[experiment]]\nname = \"a\"\nvary = { lr = [0.1, 0.01] }\n";
    let cases: &[(&str, &str, &str)] = &[
        (
            "seeds = { min = 1, max = 5, step = 1 }\nresolve = { delta = 0.5 }\n",
            "s.toml:1",
            "`seeds.min`",
        ),
        (
            "seeds = { min = 5, max = 3, step = 1 }\nresolve = { delta = 0.5 }\n",
            "s.toml:1",
            "`seeds.max`",
        ),
        (
            "seeds = { min = 3, max = 5, step = 0 }\nresolve = { delta = 0.5 }\n",
            "s.toml:1",
            "`seeds.step`",
        ),
        (
            "seeds = { min = 3, max = 200, step = 1 }\nresolve = { delta = 0.5 }\n",
            "s.toml:1",
            "looks",
        ),
        (
            "seeds = { min = 3, max = 5000, step = 500 }\nresolve = { delta = 0.5 }\n",
            "s.toml:1",
            "`seeds.max`",
        ),
        ("seeds = { min = 3, max = 5 }\nresolve = { delta = 0.5 }\n", "s.toml:1", "`seeds.step`"),
        ("seeds = { min = 3, max = 5, step = 1, most = 9 }\n", "s.toml:1", "`seeds.most`"),
        ("seeds = { min = 3.5, max = 5, step = 1 }\n", "s.toml:1", "`seeds.min`"),
        ("seeds = \"many\"\n", "s.toml:1", "`seeds`"),
        ("seeds = { min = 3, max = 5, step = 1 }\n", "s.toml:3", "`resolve`"),
        (
            "seeds = { min = 3, max = 5, step = 1 }\nresolve = { alpha = 0.1 }\n",
            "s.toml:2",
            "`resolve.delta`",
        ),
        (
            "seeds = { min = 3, max = 5, step = 1 }\nresolve = { delta = -1 }\n",
            "s.toml:2",
            "`resolve.delta`",
        ),
        (
            "seeds = { min = 3, max = 5, step = 1 }\nresolve = { delta = nan }\n",
            "s.toml:2",
            "finite",
        ),
        (
            "seeds = { min = 3, max = 5, step = 1 }\nresolve = { delta = 1, alpha = 0.9 }\n",
            "s.toml:2",
            "`resolve.alpha`",
        ),
        (
            "seeds = { min = 3, max = 5, step = 1 }\nresolve = { delta = 1, spending = \"x\" }\n",
            "s.toml:2",
            "`resolve.spending`",
        ),
        (
            "seeds = { min = 3, max = 5, step = 1 }\nresolve = { delta = 1, beta = 2 }\n",
            "s.toml:2",
            "`resolve.beta`",
        ),
        (
            "seeds = { min = 3, max = 5, step = 1 }\nresolve = { delta = 1, sd_interval_ratio = 1 }\n",
            "s.toml:2",
            "`resolve.sd_interval_ratio`",
        ),
        ("seeds = { min = 3, max = 5, step = 1 }\nresolve = 0.5\n", "s.toml:2", "`resolve`"),
        ("seeds = 4\nresolve = { delta = 0.5 }\n", "s.toml:2", "adaptive seeding only"),
    ];
    for (head, at, field) in cases {
        let e = err(&format!("{head}{exp}"));
        assert!(e.contains(at) && e.contains(field), "{head}: {e}");
    }
    // A multi-line table points at the key's own line.
    let e = err(&format!("[seeds]\nmin = 3\nmax = 1\nstep = 1\n{exp}"));
    assert!(e.contains("s.toml:3") && e.contains("`seeds.max`"), "{e}");
    // `resolve` in an experiment of a fixed study, at its line.
    let e = err(
        "seeds = 3\n[[experiment]]\nname = \"a\"\nresolve = { delta = 1 }\nvary = { lr = [0.1] }\n",
    );
    assert!(e.contains("s.toml:4") && e.contains("`resolve`"), "{e}");
    // An experiment's own `resolve` is checked as the study's is.
    let e = err(&ADAPTIVE.replace("delta = 1,", "delta = -2,"));
    assert!(e.contains("s.toml:8") && e.contains("`resolve.delta`"), "{e}");
    // The run limit counts `max` seeds.
    let big = format!(
        "seeds = {{ min = 2, max = 1000, step = 26 }}\nresolve = {{ delta = 1 }}\n\
        [[experiment]]\nname = \"a\"\nvary = {{ lr = [{}] }}\n",
        (1..=101).map(|i| format!("{}", i as f64 * 1e-4)).collect::<Vec<_>>().join(", ")
    );
    let e = err(&big);
    assert!(e.contains("`vary`") && e.contains("100000"), "{e}");
}

#[test]
fn variance_sources_need_a_random_subset() {
    let e = err("[[experiment]]\nname = \"v\"\nkind = \"variance-sources\"\n");
    assert!(e.contains("stratified"), "{e}");
    let s = parse(
        "[[experiment]]\nname = \"v\"\nkind = \"variance-sources\"\nbase = { train_size = 100, subset = \"stratified\" }\n",
        Path::new("s.toml"),
    )
    .unwrap();
    assert_eq!(s.experiments[0].levels.len(), 4);
}

/// A variance-sources experiment's `sources`: the old four by default, else the
/// sources listed in file order; an unknown source is refused naming the allowed ones,
/// as are a repeated source, an empty list and `sources` on a factor experiment.
#[test]
fn variance_sources_list_their_sources() {
    let head = "[[experiment]]\nname = \"v\"\nkind = \"variance-sources\"\n\
                base = { train_size = 100, subset = \"stratified\" }\n";
    let labels = |text: &str| -> Vec<String> {
        let s = parse(text, Path::new("s.toml")).unwrap();
        s.experiments[0].levels.iter().map(|l| l.label.clone()).collect()
    };
    assert_eq!(labels(head), crate::study::VARIANCE_SOURCES);
    let regularised = head.replace("}\n", ", dropout = 0.25, augment = \"geometric\" }\n");
    let all = format!(
        "{regularised}sources = [\"init\", \"order\", \"subset\", \"all\", \"rerun\", \"nudge\", \
         \"dropout\", \"augment\", \"threads\", \"split\"]\n"
    );
    // (`backend`, the last, needs every CPU backend compiled in: its own test.)
    assert_eq!(labels(&all), crate::study::ALL_VARIANCE_SOURCES[..10]);
    // `dropout` without dropout and `augment` without augmentation would draw nothing.
    for (source, field) in [("dropout", "`dropout` above 0"), ("augment", "set `augment`")] {
        let e = err(&format!("{head}sources = [\"all\", \"{source}\"]\n"));
        assert!(e.contains("`sources`") && e.contains(field), "{source}: {e}");
    }
    assert_eq!(labels(&format!("{head}sources = [\"nudge\", \"all\"]\n")), ["nudge", "all"]);
    let e = err(&format!("{head}sources = [\"init\",\n \"chaos\"]\n"));
    assert!(e.contains("s.toml:6") && e.contains("`sources`") && e.contains("`chaos`"), "{e}");
    assert!(
        e.contains(
            "allowed: init, order, subset, all, rerun, nudge, dropout, augment, threads, split, \
             backend"
        ),
        "{e}"
    );
    let e = err(&format!("{head}sources = [\"rerun\", \"rerun\"]\n"));
    assert!(e.contains("`sources`") && e.contains("`rerun` is listed twice"), "{e}");
    let e = err(&format!("{head}sources = []\n"));
    assert!(e.contains("`sources`") && e.contains("lists no source"), "{e}");
    let e = err("[[experiment]]\nname = \"a\"\nvary = { lr = [0.1] }\nsources = [\"init\"]\n");
    assert!(
        e.contains("s.toml:4") && e.contains("`sources`") && e.contains("variance-sources"),
        "{e}"
    );
    // The fields the new sources set are the study's to derive, not the file's.
    for field in ["rerun = 1", "nudge_seed = 3"] {
        let e = err(&format!("[base]\n{field}\n{head}"));
        assert!(e.contains("s.toml:2") && e.contains("`sources`"), "{field}: {e}");
    }
}

/// Claims as parts: each shape with its levels checked, at its line; `margin` in points.
#[test]
fn claim_checks_are_parsed_and_checked() {
    use crate::study::{ClaimOutcome, ClaimShape};
    let study = |checks: &str| {
        format!(
            "margin = 0.8\n[[experiment]]\nname = \"w\"\nvary = {{ train_size = [8, 16, 32] }}\n\
             checks = [{checks}]\n[[experiment]]\nname = \"b\"\nvary = {{ batch_size = [8, 16] }}\n"
        )
    };
    let ok = study(
        "{ says = \"too big overfits\", shape = \"peak\" }, \
         { shape = \"beats\", level = \"32\", over = \"8\", outcome = \"gap\" }, \
         { shape = \"trend\", direction = \"increasing\" }, { shape = \"less-than\", experiment = \"b\" }",
    );
    let s = parse(&ok, Path::new("s.toml")).expect("parses");
    assert_eq!(s.margin, 0.8);
    let checks = &s.experiments[0].checks;
    assert_eq!(checks.len(), 4);
    assert_eq!(checks[0].says.as_deref(), Some("too big overfits"));
    assert_eq!(checks[0].shape, ClaimShape::Peak);
    assert_eq!(checks[1].outcome, ClaimOutcome::Gap);
    assert_eq!(checks[3].shape, ClaimShape::LessThan { experiment: "b".into() });
    // Without checks, the default parts: the levels differ.
    assert_eq!(s.experiments[1].claim_checks()[0].shape, ClaimShape::Differs);
    for (bad, says) in [
        (
            "{ shape = \"best\", level = \"4\" }",
            "`level = \"4\"` is not a level; levels: 8, 16, 32",
        ),
        ("{ shape = \"peek\" }", "unknown shape `peek`"),
        ("{ shape = \"trend\" }", "`direction = \"increasing\"`"),
        ("{ shape = \"less-than\", experiment = \"w\" }", "not another experiment"),
        ("{ shape = \"peak\", outcome = \"divergence\" }", "divergence rate can be tested with"),
        ("{ shape = \"differs\", size = 3 }", "unknown key `size`"),
    ] {
        let e = err(&study(bad));
        assert!(e.contains("s.toml:5") && e.contains("`checks`") && e.contains(says), "{e}");
    }
    let e = err("margin = 101\n[[experiment]]\nname = \"a\"\nvary = { lr = [0.1] }\n");
    assert!(e.contains("s.toml:1") && e.contains("`margin`") && e.contains("at most 100"), "{e}");
    // A trend needs ordered numeric levels.
    let e = err(
        "[[experiment]]\nname = \"o\"\nvary = { optimizer = [\"sgd\", \"adam\"] }\nchecks = [{ shape = \"trend\", direction = \"increasing\" }]\n",
    );
    assert!(e.contains("ordered numbers"), "{e}");
}
