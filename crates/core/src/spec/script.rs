//! [`Script`]: a run trained by the user's own command (any framework) instead of a
//! built-in model, and how the command receives its run.
//!
//! A study names the command in its `[base]` (`command = ["python3", "train.py",
//! "${args}"]`); every other name a script study sets is one of the script's own
//! parameters ([`Script::params`]). The run's parameters, its three seeds, its thread
//! budget and its output directory reach the command three ways, all documented in the
//! README's "Your own training script": a JSON file (`run.json`, its path in
//! `$CNNVAR_RUN_JSON`), environment variables ([`Script::environment`]) and template
//! arguments ([`Script::argv`]: `${args}` is `--name=value` for every parameter, then
//! the seeds, threads and output directory; `${name}` inside an argument is one value).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Error, Result};

/// A user's training command and its parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// The command and its arguments, with templates (`${args}`, `${name}`).
    pub command: Vec<String>,
    /// The script's own parameters: any names (letters, digits and `_`, not starting
    /// with a digit) with a string, number or boolean each.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, Value>,
    /// Files, besides those the command names, whose content is part of the run id
    /// (a module the script imports, a config it reads), relative to [`Script::dir`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// SHA-256 of the content of every file the command names and `files` lists
    /// (filled in when a study is planned): a changed script makes new runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_sha256: Option<String>,
    /// Where relative paths of the command and `files` resolve: the study file's
    /// directory, made absolute when the study is planned. A location, not content:
    /// not part of the run id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    /// Seconds the command may run before it is stopped and the run fails (unset: no
    /// limit). Not part of the run id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_s: Option<u64>,
}

/// The names a script study sets for cnnvar itself; every other name is a parameter.
pub const SCRIPT_SETTINGS: [&str; 3] = ["command", "files", "timeout_s"];

/// The names cnnvar passes to every run of a script, which a parameter may not take.
pub const RUN_VALUES: [&str; 7] =
    ["init_seed", "order_seed", "subset_seed", "threads", "output_dir", "run_json", "run_id"];

/// The seeds cnnvar passes to a run of a script only when its variance-sources
/// experiment's `dropout` or `augment` source sets them (`--dropout_seed=`,
/// `CNNVAR_DROPOUT_SEED`, …): a parameter may not take these names either, and a
/// script that gets none draws its masks and augmentation from the order seed.
pub const OPTIONAL_RUN_VALUES: [&str; 2] = ["dropout_seed", "augment_seed"];

/// What one run of a script receives besides its parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScriptRun {
    /// The run id.
    pub run_id: String,
    /// The parameters.
    pub params: BTreeMap<String, Value>,
    /// The seed of the weight initialisation.
    pub init_seed: u64,
    /// The seed of the order of training examples (and of anything else random in
    /// training: dropout masks, augmentation).
    pub order_seed: u64,
    /// The seed of which training examples are used.
    pub subset_seed: u64,
    /// The seed of the dropout masks, when the run has its own
    /// ([`OPTIONAL_RUN_VALUES`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropout_seed: Option<u64>,
    /// The seed of the augmentation, when the run has its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub augment_seed: Option<u64>,
    /// Compute threads the script may use.
    pub threads: usize,
    /// The directory the script writes `predictions.csv` and `result.json` to (also its
    /// working directory).
    pub output_dir: PathBuf,
}

impl ScriptRun {
    /// Every value by its template name, as text: the parameters, then [`RUN_VALUES`].
    fn values(&self, run_json: &Path) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> =
            self.params.iter().map(|(k, v)| (k.clone(), value_text(v))).collect();
        out.extend([
            ("init_seed".into(), self.init_seed.to_string()),
            ("order_seed".into(), self.order_seed.to_string()),
            ("subset_seed".into(), self.subset_seed.to_string()),
        ]);
        let optional = [("dropout_seed", self.dropout_seed), ("augment_seed", self.augment_seed)];
        out.extend(optional.into_iter().filter_map(|(k, v)| Some((k.into(), v?.to_string()))));
        out.extend([
            ("threads".into(), self.threads.to_string()),
            ("output_dir".into(), self.output_dir.display().to_string()),
            ("run_json".into(), run_json.display().to_string()),
            ("run_id".into(), self.run_id.clone()),
        ]);
        out
    }
}

/// A parameter's value as a command-line word: a string as it is, anything else as JSON.
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Script {
    /// The command line of `run` (whose `run.json` is at `run_json`): an argument that
    /// is exactly `${args}` becomes `--name=value` for every parameter, then for the
    /// seeds, threads and output directory ([`RUN_VALUES`] but `run_json` and
    /// `run_id`); `${name}` inside an argument is that value.
    pub fn argv(&self, run: &ScriptRun, run_json: &Path) -> Result<Vec<String>> {
        let values = run.values(run_json);
        let mut argv = Vec::with_capacity(self.command.len());
        for arg in &self.command {
            if arg == "${args}" {
                let flags = values.iter().filter(|(k, _)| k != "run_json" && k != "run_id");
                argv.extend(flags.map(|(k, v)| format!("--{k}={v}")));
            } else {
                argv.push(substitute(arg, &values)?);
            }
        }
        Ok(argv)
    }

    /// The environment of `run`'s command: `CNNVAR_RUN_JSON`, `CNNVAR_RUN_ID`, the
    /// seeds (`CNNVAR_INIT_SEED`, …), `CNNVAR_THREADS`, `CNNVAR_OUTPUT_DIR` and each
    /// parameter as `CNNVAR_PARAM_<NAME>` (upper case); and the thread variables the
    /// usual libraries read (OpenMP, MKL, OpenBLAS, TensorFlow), set to the budget so
    /// that parallel runs do not oversubscribe the cores.
    pub fn environment(run: &ScriptRun, run_json: &Path) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = run
            .values(run_json)
            .into_iter()
            .map(|(k, v)| {
                let upper = k.to_uppercase();
                let known = (RUN_VALUES.contains(&k.as_str())
                    || OPTIONAL_RUN_VALUES.contains(&k.as_str()))
                    && !run.params.contains_key(&k);
                (if known { format!("CNNVAR_{upper}") } else { format!("CNNVAR_PARAM_{upper}") }, v)
            })
            .collect();
        let threads = run.threads.to_string();
        for var in [
            "OMP_NUM_THREADS",
            "MKL_NUM_THREADS",
            "OPENBLAS_NUM_THREADS",
            "NUMEXPR_NUM_THREADS",
            "VECLIB_MAXIMUM_THREADS",
            "TF_NUM_INTRAOP_THREADS",
        ] {
            env.push((var.into(), threads.clone()));
        }
        env.push(("TF_NUM_INTEROP_THREADS".into(), "1".into()));
        env
    }

    /// Checks the command, the parameters' names and values, and the templates;
    /// `Error::Field` names the first bad one.
    pub fn validate_at(&self, location: &str) -> Result<()> {
        let bad = |field: &str, msg: String| Err(Error::field(location, field, msg));
        if self.command.first().is_none_or(|p| p.trim().is_empty()) {
            return bad("command", "must name a program, e.g. [\"python3\", \"train.py\"]".into());
        }
        for (name, value) in &self.params {
            if !is_identifier(name) {
                return bad(
                    name,
                    "a script parameter's name must be letters, digits and `_`, not starting \
                     with a digit (it becomes a flag and an environment variable)"
                        .into(),
                );
            }
            if RUN_VALUES.contains(&name.as_str()) || OPTIONAL_RUN_VALUES.contains(&name.as_str()) {
                return bad(
                    name,
                    "is passed to every run by cnnvar; name the parameter otherwise".into(),
                );
            }
            if !matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_)) {
                return bad(name, format!("must be a string, number or boolean, got {value}"));
            }
        }
        if self.timeout_s == Some(0) {
            return bad("timeout_s", "must be at least 1 second (omit it for no limit)".into());
        }
        let mut names: Vec<String> = self.params.keys().cloned().collect();
        names.extend(RUN_VALUES.iter().map(|s| (*s).to_string()));
        for arg in &self.command {
            for name in template_names(arg) {
                if !names.contains(&name) {
                    return bad(
                        "command",
                        format!(
                            "`${{{name}}}` in `{arg}` is neither a parameter of this run nor one \
                             of {} (or `${{args}}` alone)",
                            RUN_VALUES.join(", ")
                        ),
                    );
                }
            }
        }
        Ok(())
    }

    /// The script without what is not part of the run id (`dir`, `timeout_s`).
    pub(crate) fn canonical(&self) -> Script {
        Script { dir: None, timeout_s: None, ..self.clone() }
    }
}

/// Letters, digits and `_`, not starting with a digit, not empty.
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The names of the `${name}` templates in `arg` (not `${args}` standing alone).
fn template_names(arg: &str) -> Vec<String> {
    if arg == "${args}" {
        return Vec::new();
    }
    let mut names = Vec::new();
    let mut rest = arg;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        names.push(after[..end].to_string());
        rest = &after[end + 1..];
    }
    names
}

/// `arg` with every `${name}` replaced by its value.
fn substitute(arg: &str, values: &[(String, String)]) -> Result<String> {
    let mut out = arg.to_string();
    for name in template_names(arg) {
        let Some((_, v)) = values.iter().find(|(k, _)| *k == name) else {
            return Err(Error::field("command", &name, format!("no value for `${{{name}}}`")));
        };
        out = out.replace(&format!("${{{name}}}"), v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run() -> ScriptRun {
        ScriptRun {
            run_id: "abc".into(),
            params: [("lr".to_string(), Value::from(0.01)), ("model".into(), Value::from("big"))]
                .into_iter()
                .collect(),
            init_seed: 1,
            order_seed: 2,
            subset_seed: 3,
            dropout_seed: None,
            augment_seed: None,
            threads: 4,
            output_dir: "/out".into(),
        }
    }

    fn script(command: &[&str]) -> Script {
        Script {
            command: command.iter().map(|s| s.to_string()).collect(),
            params: run().params,
            files: vec![],
            code_sha256: None,
            dir: None,
            timeout_s: None,
        }
    }

    #[test]
    fn args_expand_to_every_parameter_and_seed_and_templates_to_one_value() {
        let s = script(&["python3", "t.py", "${args}", "--seed=${init_seed}-${model}"]);
        s.validate_at("here").expect("valid");
        let argv = s.argv(&run(), Path::new("/out/run.json")).expect("expands");
        assert_eq!(
            argv,
            [
                "python3",
                "t.py",
                "--lr=0.01",
                "--model=big",
                "--init_seed=1",
                "--order_seed=2",
                "--subset_seed=3",
                "--threads=4",
                "--output_dir=/out",
                "--seed=1-big"
            ]
        );
    }

    #[test]
    fn the_environment_names_seeds_params_and_thread_budgets() {
        let env = Script::environment(&run(), Path::new("/out/run.json"));
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("CNNVAR_PARAM_LR"), Some("0.01"));
        assert_eq!(get("CNNVAR_PARAM_MODEL"), Some("big"));
        assert_eq!(get("CNNVAR_ORDER_SEED"), Some("2"));
        assert_eq!(get("CNNVAR_RUN_JSON"), Some("/out/run.json"));
        assert_eq!(get("OMP_NUM_THREADS"), Some("4"));
        assert_eq!(get("TF_NUM_INTRAOP_THREADS"), Some("4"));
    }

    /// A run of the `dropout` or `augment` source passes its seed as a flag after the
    /// three seeds, an environment variable and a `run.json` key; other runs pass none,
    /// and no parameter may take the names.
    #[test]
    fn dropout_and_augment_seeds_are_passed_only_when_set() {
        let s = script(&["python3", "t.py", "${args}"]);
        let plain = s.argv(&run(), Path::new("/r.json")).expect("expands");
        assert!(!plain.iter().any(|a| a.contains("dropout_seed") || a.contains("augment_seed")));
        let own = ScriptRun { dropout_seed: Some(5), augment_seed: Some(6), ..run() };
        let argv = s.argv(&own, Path::new("/r.json")).expect("expands");
        assert_eq!(
            argv[4..9],
            [
                "--init_seed=1",
                "--order_seed=2",
                "--subset_seed=3",
                "--dropout_seed=5",
                "--augment_seed=6"
            ]
        );
        let env = Script::environment(&own, Path::new("/r.json"));
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(
            (get("CNNVAR_DROPOUT_SEED"), get("CNNVAR_AUGMENT_SEED")),
            (Some("5"), Some("6"))
        );
        let json = serde_json::to_string(&own).expect("json");
        assert!(
            json.contains("\"dropout_seed\":5") && json.contains("\"augment_seed\":6"),
            "{json}"
        );
        assert!(!serde_json::to_string(&run()).expect("json").contains("dropout_seed"));
        let mut reserved = script(&["x"]);
        reserved.params.insert("augment_seed".into(), Value::from(1));
        assert!(
            reserved.validate_at("f").expect_err("reserved").to_string().contains("augment_seed")
        );
    }

    #[test]
    fn bad_names_values_and_templates_are_refused_by_name() {
        let mut s = script(&["python3", "${nope}"]);
        let e = s.validate_at("f:3").expect_err("unknown template");
        assert!(e.to_string().contains("`${nope}`"), "{e}");
        s.command = vec![" ".into()];
        assert!(s.validate_at("f").expect_err("no program").to_string().contains("command"));
        s = script(&["x"]);
        s.params.insert("9lives".into(), Value::from(1));
        assert!(s.validate_at("f").expect_err("name").to_string().contains("9lives"));
        s = script(&["x"]);
        s.params.insert("threads".into(), Value::from(1));
        assert!(s.validate_at("f").expect_err("reserved").to_string().contains("threads"));
        s = script(&["x"]);
        s.params.insert("list".into(), Value::from(vec![1, 2]));
        assert!(s.validate_at("f").expect_err("array").to_string().contains("string, number"));
    }
}
