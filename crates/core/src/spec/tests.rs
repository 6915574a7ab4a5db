//! Unit tests of the spec: names, validation, canonical JSON and run ids.

use super::*;
use crate::Error;

#[test]
fn every_data_set_names_its_ten_classes() {
    for &d in DatasetName::ALL.iter().filter(|&&d| d != DatasetName::Folder) {
        let names = d.class_names();
        assert_eq!(names.len(), 10, "{d}");
        let distinct: std::collections::BTreeSet<_> = names.iter().collect();
        assert_eq!(distinct.len(), 10, "{d}");
    }
    assert_eq!(DatasetName::FashionMnist.class_names()[0], "T-shirt/top");
    assert_eq!(DatasetName::FashionMnist.class_names()[9], "Ankle boot");
    assert_eq!(DatasetName::Cifar10.class_names()[0], "airplane");
    assert_eq!(DatasetName::Mnist.class_names()[7], "7");
    // An image folder's names are its class folders', known from the data.
    assert!(DatasetName::Folder.class_names().is_empty());
}

#[test]
fn defaults_validate_and_round_trip() {
    let spec = RunSpec::default();
    spec.validate().unwrap();
    let toml_text = toml::to_string(&spec).unwrap();
    assert_eq!(RunSpec::from_toml(&toml_text, "t").unwrap(), spec);
    let json = serde_json::to_string(&spec).unwrap();
    assert_eq!(RunSpec::from_json(&json, "t").unwrap(), spec);
}

#[test]
fn fields_lists_every_field() {
    let full = RunSpec {
        train_size: Some(1),
        test_size: Some(1),
        momentum: Some(0.5),
        model: ModelName::Cnn,
        depth: Some(2),
        width: Some(8),
        kernel: Some(3),
        downsample: Some(Downsample::Stride),
        dropout: Some(0.1),
        weight_decay: Some(1e-4),
        augment: Some(AugmentName::Both),
        imbalance: Some(0.05),
        minority: Some(vec![1]),
        rebalance: Some(Rebalance::Oversample),
        label_noise: Some(0.1),
        evaluate_on: Some(EvalSet::Validation),
        folds: Some(5),
        fold: Some(0),
        eval_subset: Some(500),
        rerun: 1,
        nudge_seed: Some(2),
        nudge_epoch: 1,
        dropout_seed: Some(3),
        augment_seed: Some(4),
        threads: Some(2),
        split_seed: Some(5),
        weights_backend: Some(crate::Backend::Ndarray),
        ..RunSpec::default()
    };
    let folder = RunSpec {
        dataset: DatasetName::Folder,
        data_dir: Some("images".into()),
        data_sha256: Some("0".repeat(64)),
        channels: Some(1),
        image_size: Some([8, 8]),
        test_fraction: Some(0.25),
        script: Some(crate::Script {
            command: vec!["python3".into()],
            params: Default::default(),
            files: vec![],
            code_sha256: None,
            dir: None,
            timeout_s: None,
        }),
        ..full.clone()
    };
    let v = serde_json::to_value(&folder).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut listed = RunSpec::fields().to_vec();
    listed.sort();
    let mut keys = keys;
    keys.sort();
    assert_eq!(keys, listed);
    // In declaration order too (results.csv's columns follow it).
    let json = serde_json::to_string(&folder).unwrap();
    let at: Vec<usize> = RunSpec::fields()
        .iter()
        .map(|f| json.find(&format!("\"{f}\":")).expect("field in the JSON"))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "fields() out of declaration order");
}

#[test]
fn run_id_depends_on_every_seed() {
    let a = RunSpec::default();
    let ids: Vec<String> = [
        a.clone(),
        RunSpec { init_seed: 1, ..a.clone() },
        RunSpec { order_seed: 1, ..a.clone() },
        RunSpec { subset_seed: 1, ..a.clone() },
    ]
    .iter()
    .map(RunSpec::run_id)
    .collect();
    for i in 0..ids.len() {
        for j in i + 1..ids.len() {
            assert_ne!(ids[i], ids[j]);
        }
    }
    assert_eq!(a.run_id().len(), 16);
}

/// Unset optional fields are left out of the canonical JSON, so adding one to the
/// spec does not change the id of any earlier run.
#[test]
fn unset_options_keep_old_run_ids() {
    let json = RunSpec::default().canonical_json();
    for field in ["depth", "dropout", "augment", "imbalance", "label_noise", "folds"] {
        assert!(!json.contains(field), "{json}");
    }
}

/// A spec.json written before `eval_subset` existed reads back to the same spec and
/// run id (this one is the committed record's, `fuzz/seeds/record/record.json`).
#[test]
fn an_old_spec_json_keeps_its_run_id() {
    let old = r#"{"dataset":"fashion-mnist","train_size":1000,"subset":"first","model":"simple","optimizer":"adam","lr":0.001,"preset":"keras","batch_size":32,"epochs":10,"init_seed":2412040665073568,"order_seed":4826499243410388,"subset_seed":8586762844841619,"backend":"flex"}"#;
    let spec = RunSpec::from_json(old, "spec.json").unwrap();
    assert_eq!(spec.eval_subset, None);
    assert_eq!(spec.canonical_json(), old);
    assert_eq!(spec.run_id(), "1f498587fa453c83");
}

/// A model name that is not a standard one is a custom (registered) model's,
/// written as it is; standard names read and write as before (same run ids).
#[test]
fn a_spec_may_name_a_registered_model() {
    let spec = RunSpec::from_toml("model = \"my-resnet\"\nwidth = 16\n", "x.toml").unwrap();
    assert_eq!(spec.model, ModelName::Custom("my-resnet".into()));
    assert!(!spec.model.is_standard());
    assert!(spec.canonical_json().contains("\"model\":\"my-resnet\""));
    assert_eq!(RunSpec::from_json(&spec.canonical_json(), "s.json").unwrap(), spec);
    for m in ModelName::ALL {
        assert_eq!(m.as_str().parse::<ModelName>().unwrap(), *m);
        assert!(m.is_standard());
    }
    assert_eq!("cnn".parse::<ModelName>().unwrap(), ModelName::Cnn);
    for bad in ["", "My", "9lives", "a b", "x/y", &"m".repeat(65)] {
        assert!(bad.parse::<ModelName>().is_err(), "{bad:?}");
    }
    // The write-up's fixed models still take no family options.
    let e = RunSpec::from_toml("model = \"simple\"\nwidth = 16\n", "x.toml").unwrap_err();
    assert!(e.to_string().contains("`width`"), "{e}");
}

/// An image folder enters the run id by its content, not its place: `data_dir` is
/// not in the canonical JSON, `data_sha256` is; a spec on a named data set is as
/// before.
#[test]
fn a_folder_enters_the_run_id_by_its_checksum_not_its_path() {
    let toml = "dataset = \"folder\"\ndata_dir = \"/data/digits\"\nchannels = 1\n\
                image_size = [8, 8]\ntest_fraction = 0.25\n";
    let here = RunSpec::from_toml(toml, "x.toml").unwrap();
    assert_eq!(here.image_size, Some([8, 8]));
    let elsewhere = RunSpec { data_dir: Some("/mnt/copy/digits".into()), ..here.clone() };
    assert_ne!(here, elsewhere);
    assert_eq!(here.run_id(), elsewhere.run_id());
    assert!(!here.canonical_json().contains("data_dir"), "{}", here.canonical_json());
    assert!(!here.canonical_json().contains("digits"));
    let sha = |c: char| Some(c.to_string().repeat(64));
    let a = RunSpec { data_sha256: sha('a'), ..here.clone() };
    let b = RunSpec { data_sha256: sha('b'), ..here.clone() };
    assert_ne!(a.run_id(), b.run_id());
    assert_ne!(a.run_id(), here.run_id());
    assert!(a.canonical_json().contains(&format!("\"data_sha256\":\"{}\"", "a".repeat(64))));
    // spec.json keeps the folder (a worker reads it from there) and reads back.
    let json = serde_json::to_string(&a).unwrap();
    assert!(json.contains("\"data_dir\":\"/data/digits\""), "{json}");
    assert_eq!(RunSpec::from_json(&json, "spec.json").unwrap(), a);
    assert_eq!(RunSpec::from_json(&json, "spec.json").unwrap().run_id(), a.run_id());
}

/// The folder fields are checked, named, and refused with a named data set.
#[test]
fn folder_fields_are_checked() {
    let bad = |toml: &str, field: &str, needle: &str| {
        let e = RunSpec::from_toml(toml, "x.toml").unwrap_err().to_string();
        assert!(e.contains(&format!("`{field}`")) && e.contains(needle), "{toml}: {e}");
    };
    let folder = "dataset = \"folder\"\ndata_dir = \"d\"\n";
    bad("dataset = \"folder\"\n", "data_dir", "the folder of images");
    bad(&format!("{folder}channels = 2\n"), "channels", "1 (grey) or 3");
    bad(&format!("{folder}image_size = [0, 8]\n"), "image_size", "[height, width]");
    bad(&format!("{folder}image_size = [8]\n"), "image_size", "");
    bad(&format!("{folder}test_fraction = 1.0\n"), "test_fraction", "between 0 and 1");
    bad(&format!("{folder}data_sha256 = \"ABC\"\n"), "data_sha256", "64 lower-case hex");
    bad("data_dir = \"d\"\n", "data_dir", "not part of a spec");
    bad("channels = 1\n", "channels", "dataset = \"folder\"");
    // No size limits before the folder is read.
    let ok = format!("{folder}train_size = 1000000\ntest_size = 50000\n");
    let spec = RunSpec::from_toml(&ok, "x.toml").unwrap();
    assert_eq!(spec.dataset.train_examples(), None);
}

/// `eval_subset` is a count or `"full"`, which is the field unset (same run id);
/// 0, negative counts and other words are refused, naming the field.
#[test]
fn eval_subset_is_a_count_or_full() {
    let toml = |t: &str| RunSpec::from_toml(t, "x.toml");
    assert_eq!(toml("eval_subset = 2000\n").unwrap().eval_subset, Some(2000));
    let full = toml("eval_subset = \"full\"\n").unwrap();
    assert_eq!(full, RunSpec::default());
    assert_eq!(full.run_id(), RunSpec::default().run_id());
    let json = RunSpec::from_json(r#"{"eval_subset":"full"}"#, "s.json").unwrap();
    assert_eq!(json, RunSpec::default());
    assert_eq!(RunSpec::from_json(r#"{"eval_subset":null}"#, "s.json").unwrap(), full);
    let some = RunSpec { eval_subset: Some(300), ..RunSpec::default() };
    assert!(some.canonical_json().ends_with(",\"eval_subset\":300}"), "{}", some.canonical_json());
    assert_eq!(RunSpec::from_json(&some.canonical_json(), "s.json").unwrap(), some);
    assert_ne!(some.run_id(), full.run_id());
    for bad in ["eval_subset = 0\n", "eval_subset = -5\n", "eval_subset = \"half\"\n"] {
        let e = toml(bad).unwrap_err().to_string();
        assert!(e.contains("`eval_subset`") && e.contains("full"), "{bad}: {e}");
    }
}

#[test]
fn option_fields_are_checked() {
    let bad = |toml: &str, field: &str| {
        let e = RunSpec::from_toml(toml, "x.toml").unwrap_err().to_string();
        assert!(e.contains(&format!("`{field}`")), "{toml}: {e}");
    };
    bad("depth = 2\n", "depth");
    bad("model = \"cnn\"\nkernel = 4\n", "kernel");
    bad("dropout = 1.0\n", "dropout");
    bad("weight_decay = -1e-4\n", "weight_decay");
    bad("imbalance = 0.0\n", "imbalance");
    bad("label_noise = 1.5\n", "label_noise");
    bad("evaluate_on = \"validation\"\n", "evaluate_on");
    bad("evaluate_on = \"validation\"\nfolds = 5\nfold = 5\n", "fold");
    bad("folds = 5\n", "folds");
    let ok = "model = \"cnn\"\ndepth = 3\nevaluate_on = \"validation\"\nfolds = 5\nfold = 4\n";
    RunSpec::from_toml(ok, "x.toml").unwrap();
}

#[test]
fn bad_fields_are_named() {
    let e = RunSpec::from_toml("lr = -1.0\n", "x.toml").unwrap_err().to_string();
    assert!(e.contains("x.toml") && e.contains("`lr`"), "{e}");
    let e = RunSpec::from_toml("epochs = 1\nlearning_rate = 0.1\n", "x.toml").unwrap_err();
    let e = e.to_string();
    assert!(e.contains("x.toml:2") && e.contains("learning_rate"), "{e}");
    let e = RunSpec::from_toml("model = \"Huge Net\"\n", "x.toml").unwrap_err().to_string();
    assert!(e.contains("x.toml:1") && e.contains("Huge Net") && e.contains("`model`"), "{e}");
    assert!(e.contains("simple, two-conv, complex, cnn"), "{e}");
}

/// A syntax error names its line and column and no made-up field.
#[test]
fn syntax_errors_name_line_and_column() {
    let e = RunSpec::from_toml("epochs = 1\n[base\n", "x.toml").unwrap_err();
    assert!(matches!(e, Error::Syntax { .. }), "{e:?}");
    let e = e.to_string();
    assert!(e.starts_with("x.toml:2:") && e.contains("invalid TOML") && !e.contains('?'), "{e}");
}

#[test]
fn sizes_that_need_too_much_memory_are_refused() {
    let e = RunSpec::from_toml("batch_size = 1000000000\n", "x.toml").unwrap_err().to_string();
    assert!(e.contains("x.toml") && e.contains("`batch_size`") && e.contains("65536"), "{e}");
    let e = RunSpec::from_toml("epochs = 1000000\n", "x.toml").unwrap_err().to_string();
    assert!(e.contains("`epochs`") && e.contains("100000"), "{e}");
    assert!(RunSpec::from_toml("batch_size = 65536\n", "x.toml").is_ok());
}

/// Sizes beyond a known data set's splits are refused when the spec is read, not
/// by every worker after it has loaded the data.
#[test]
fn sizes_beyond_the_data_set_are_refused() {
    let e = RunSpec::from_toml("train_size = 10000000\n", "x.toml").unwrap_err().to_string();
    assert!(e.contains("`train_size`") && e.contains("60000"), "{e}");
    let e = RunSpec::from_toml("test_size = 20000\n", "x.toml").unwrap_err().to_string();
    assert!(e.contains("`test_size`") && e.contains("10000"), "{e}");
    let cifar = "dataset = \"cifar10\"\ntrain_size = 60000\n";
    let e = RunSpec::from_toml(cifar, "x.toml").unwrap_err().to_string();
    assert!(e.contains("`train_size`") && e.contains("50000"), "{e}");
    assert!(RunSpec::from_toml("train_size = 60000\ntest_size = 10000\n", "x.toml").is_ok());
}

/// Every committed run keeps its id: each `results/<study>/<run-id>/spec.json` reads
/// back to a spec whose run id is its directory's name (so nothing that is hashed has
/// changed: field names, order, defaults left out, number formats).
#[test]
fn committed_specs_hash_to_their_directories() {
    let results = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results");
    let mut checked = 0;
    for study in std::fs::read_dir(&results).expect("results/").flatten() {
        for run in std::fs::read_dir(study.path()).into_iter().flatten().flatten() {
            let path = run.path().join("spec.json");
            let Ok(text) = std::fs::read_to_string(&path) else { continue };
            let spec = RunSpec::from_json(&text, &path.display().to_string()).expect("spec");
            let id = run.file_name().to_string_lossy().into_owned();
            assert_eq!(spec.run_id(), id, "{}", path.display());
            checked += 1;
        }
    }
    assert!(checked >= 600, "only {checked} committed specs found under {}", results.display());
}

/// A spec's errors name fields, never a front end's flags.
#[test]
fn errors_name_fields_not_flags() {
    for toml in ["dataset = \"folder\"\n", "data_dir = \"d\"\n", "epochs = 0\n", "lr = 0\n"] {
        let e = RunSpec::from_toml(toml, "x.toml").unwrap_err().to_string();
        assert!(!e.contains("--"), "{toml}: {e}");
    }
}

/// The fields of the `rerun` and `nudge` sources are left out of the canonical JSON
/// when unset, so every earlier spec keeps its run id: this one is replicate 0 of the
/// `init` arm of `results/full/plan.json`'s `noise` experiment, and every run of that
/// committed plan still hashes to the id the plan gives it.
#[test]
fn source_fields_keep_committed_run_ids() {
    let old = r#"{"dataset":"fashion-mnist","train_size":10000,"subset":"stratified","model":"simple","optimizer":"adam","lr":0.001,"preset":"keras","batch_size":32,"epochs":10,"init_seed":6554440943337361,"order_seed":3737423170990404,"subset_seed":5345950778054532,"backend":"tch","eval_subset":2000}"#;
    let spec = RunSpec::from_json(old, "plan.json").unwrap();
    assert_eq!((spec.rerun, spec.nudge_seed), (0, None));
    assert_eq!(spec.canonical_json(), old);
    assert_eq!(spec.run_id(), "93fe9863421c4f66");
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results/full/plan.json");
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("plan.json")).expect("json");
    let runs = plan["runs"].as_array().expect("runs");
    assert!(runs.len() >= 400, "{} runs", runs.len());
    assert!(runs.iter().any(|r| r["run_id"] == "93fe9863421c4f66"));
    for run in runs {
        let spec = RunSpec::from_json(&run["spec"].to_string(), "plan.json").expect("spec");
        assert_eq!(spec.run_id(), run["run_id"].as_str().expect("id"), "{}", run["spec"]);
        assert!(
            !spec.canonical_json().contains("rerun") && !spec.canonical_json().contains("nudge")
        );
    }
}

/// A rerun number and a nudge seed each give a run of its own (a new id); 0 and unset
/// are the spec without them, and both read back from the canonical JSON.
#[test]
fn rerun_and_nudge_change_the_run_id() {
    let base = RunSpec::default();
    let rerun = RunSpec { rerun: 1, ..base.clone() };
    let rerun2 = RunSpec { rerun: 2, ..base.clone() };
    let nudge = RunSpec { nudge_seed: Some(7), ..base.clone() };
    let nudge0 = RunSpec { nudge_seed: Some(0), ..base.clone() };
    let ids: std::collections::BTreeSet<String> =
        [&base, &rerun, &rerun2, &nudge, &nudge0].iter().map(|s| s.run_id()).collect();
    assert_eq!(ids.len(), 5);
    assert!(rerun.canonical_json().contains(",\"rerun\":1,"), "{}", rerun.canonical_json());
    assert!(nudge.canonical_json().contains(",\"nudge_seed\":7,"), "{}", nudge.canonical_json());
    for s in [rerun, nudge0] {
        assert_eq!(RunSpec::from_json(&s.canonical_json(), "s.json").unwrap(), s);
    }
    let zero = RunSpec::from_toml("rerun = 0\n", "x.toml").unwrap();
    assert_eq!(zero.run_id(), base.run_id());
}

/// A nudge after epoch E is a run of its own per E; 0 is the nudge before training (the
/// same id as a spec that never names the field); it needs a nudge seed and a later epoch.
#[test]
fn nudge_epoch_changes_the_run_id_and_is_checked() {
    let nudge = RunSpec { nudge_seed: Some(7), epochs: 10, ..RunSpec::default() };
    let at = |e: u32| RunSpec { nudge_epoch: e, ..nudge.clone() };
    assert_eq!(at(0).run_id(), nudge.run_id());
    assert!(!at(0).canonical_json().contains("nudge_epoch"));
    assert!(at(2).canonical_json().contains(",\"nudge_epoch\":2,"), "{}", at(2).canonical_json());
    assert_ne!(at(1).run_id(), at(2).run_id());
    assert_ne!(at(1).run_id(), nudge.run_id());
    assert_eq!(RunSpec::from_json(&at(9).canonical_json(), "s.json").unwrap(), at(9));
    let err = |s: RunSpec| s.validate().unwrap_err().to_string();
    assert!(err(at(10)).contains("nudge_epoch"), "{}", err(at(10)));
    assert!(err(at(10)).contains("below epochs = 10"), "{}", err(at(10)));
    let unseeded = RunSpec { nudge_seed: None, ..at(1) };
    assert!(err(unseeded).contains("only applies with a `nudge_seed`"));
}

/// The dropout and augmentation streams derive from the order seed unless their own seed
/// is set, and a spec without the new fields keeps its canonical JSON (so its run id).
#[test]
fn dropout_and_augment_streams_and_threads() {
    let base = RunSpec { order_seed: 12, dropout: Some(0.25), ..RunSpec::default() };
    assert_eq!(base.dropout_stream_seed(), 12 ^ 0x9e37_79b9_7f4a_7c15);
    assert_eq!(base.augment_stream_seed(), 12);
    let own = RunSpec { dropout_seed: Some(3), augment_seed: Some(4), ..base.clone() };
    assert_eq!((own.dropout_stream_seed(), own.augment_stream_seed()), (3, 4));
    let json = base.canonical_json();
    for field in ["dropout_seed", "augment_seed", "threads"] {
        assert!(!json.contains(field), "{json}");
    }
    let threaded = RunSpec { threads: Some(3), ..base.clone() };
    assert!(threaded.canonical_json().contains(",\"threads\":3,"), "{}", threaded.canonical_json());
    assert_ne!(threaded.run_id(), base.run_id());
    let err = |s: RunSpec| s.validate().unwrap_err().to_string();
    assert!(err(RunSpec { threads: Some(0), ..base.clone() }).contains("threads"));
    let no_dropout = RunSpec { dropout: None, dropout_seed: Some(1), ..base.clone() };
    assert!(err(no_dropout).contains("dropout_seed"));
    let no_augment = RunSpec { augment_seed: Some(1), ..base.clone() };
    assert!(err(no_augment.clone()).contains("augment_seed"));
    let augmented = RunSpec { augment: Some(AugmentName::Geometric), ..no_augment };
    augmented.validate().unwrap();
}
