//! A user's own training command as a run's trainer (any framework): the runner's side
//! of the contract the README's "Your own training script" documents.
//!
//! For one run, [`execute_script`] empties the run's output directory
//! (`<run>/script/`, also the command's working directory), writes `run.json` there
//! (the parameters, the three seeds, the thread budget, the output directory), starts
//! the command with the same as environment variables and template arguments
//! ([`cnnvar_core::Script`]), its stdout and stderr appended to `<run>/script.log`
//! (logged, never parsed), and waits for it, up to the script's `timeout_s`. Then it
//! reads what the script must leave, refusing anything missing, partial or
//! inconsistent with an error that names the file:
//!
//! - `predictions.csv`: a header `label,predicted`, then one row per test example in
//!   test-set order, the true class and the predicted class (integers 0 to 255);
//! - `result.json`, written last (after the predictions, by a rename): `test_accuracy`,
//!   which must be what the predictions give, `seeds` (`init`, `order`, `subset`: those
//!   the run was given), and optionally `curve` (per epoch: `epoch`, `train_loss`,
//!   and any of `train_accuracy`, `test_loss`, `test_accuracy`, `seconds`),
//!   `train_accuracy`, `train_loss`, `test_loss`, `train_examples` and `framework`.
//!
//! A run of a study must predict the study's one test set: the labels' checksum is
//! recorded in the study directory by the first run (`data-script-test-set.json`) and
//! every other run's must match it.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cnnvar_core::{EpochRecord, Error, Provenance, Result, RunRecord, RunSpec, Script, ScriptRun};
use cnnvar_store::{RunOutput, StudyData, StudyDir};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::sweep::worker::WorkerEvent;

/// The run's output directory inside its run directory (the command's working directory).
pub const OUTPUT_DIR: &str = "script";
/// The command's stdout and stderr, appended, in the run directory.
pub const LOG_FILE: &str = "script.log";
/// What the run receives, in its output directory.
pub const RUN_JSON: &str = "run.json";
/// The per-example predictions the script writes.
pub const PREDICTIONS_CSV: &str = "predictions.csv";
/// The result the script writes last.
pub const RESULT_JSON: &str = "result.json";
/// The header `predictions.csv` starts with.
pub const PREDICTIONS_HEADER: &str = "label,predicted";
/// The name a study's test set is recorded under in its directory (`data-<name>.json`).
pub const TEST_SET_NAME: &str = "script-test-set";

/// The command running now in this process, so that a worker told to exit (its sweep
/// went away) stops it first ([`stop_running_script`]).
static RUNNING: Mutex<Option<Child>> = Mutex::new(None);

/// Stops the script this process is running, if any (a worker exiting because its
/// parent went away calls it, so that no script trains on as an orphan).
pub fn stop_running_script() {
    if let Ok(mut running) = RUNNING.lock()
        && let Some(child) = running.as_mut()
    {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The seeds the script says it used.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultSeeds {
    init: u64,
    order: u64,
    subset: u64,
}

/// One epoch of a script's curve.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CurvePoint {
    epoch: usize,
    train_loss: f64,
    train_accuracy: Option<f64>,
    test_loss: Option<f64>,
    test_accuracy: Option<f64>,
    seconds: Option<f64>,
}

/// `result.json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptResult {
    test_accuracy: f64,
    seeds: ResultSeeds,
    #[serde(default)]
    curve: Vec<CurvePoint>,
    train_accuracy: Option<f64>,
    train_loss: Option<f64>,
    test_loss: Option<f64>,
    train_examples: Option<usize>,
    framework: Option<String>,
}

/// Trains the run `spec` (which has a [`Script`]) of the run directory `run_dir`, with
/// `threads` compute threads; `study_dir` is the study it belongs to, whose test set
/// its predictions must be. The record and predictions, or an error naming the file
/// at fault (or the exit status and the log).
pub fn execute_script(
    spec: &RunSpec,
    run_dir: &Path,
    study_dir: Option<&Path>,
    threads: usize,
    emit: &mut dyn FnMut(WorkerEvent),
) -> Result<RunOutput> {
    let started = Instant::now();
    let Some(script) = &spec.script else {
        return Err(Error::program("the script runner", "the spec names no command"));
    };
    let out = run_dir.join(OUTPUT_DIR);
    fresh_dir(&out)?;
    let run = ScriptRun {
        run_id: spec.run_id(),
        params: script.params.clone(),
        init_seed: script_seed(spec.init_seed),
        order_seed: script_seed(spec.order_seed),
        subset_seed: script_seed(spec.subset_seed),
        dropout_seed: spec.dropout_seed.map(script_seed),
        augment_seed: spec.augment_seed.map(script_seed),
        threads,
        output_dir: std::path::absolute(&out).unwrap_or(out.clone()),
    };
    let run_json = run.output_dir.join(RUN_JSON);
    cnnvar_core::write_json_atomic(&run_json, &run)?;
    let argv = in_script_dir(script.argv(&run, &run_json)?, script.dir.as_deref());
    let log = run_dir.join(LOG_FILE);
    emit(WorkerEvent::Note(format!("running {} (log: {})", shown(&argv), log.display())));
    run_command(script, &argv, &run, &run_json, &log)?;
    let result = read_result(&out.join(RESULT_JSON), &run)?;
    let (labels, predictions) = read_predictions(&out.join(PREDICTIONS_CSV))?;
    check_accuracy(&out, &result, &labels, &predictions)?;
    let labels_sha256 = sha256_hex(&labels);
    if let Some(study) = study_dir {
        check_test_set(study, &run.run_id, &labels, &labels_sha256)?;
    }
    let record = record(spec, &run, &argv, result, &labels, &predictions, labels_sha256, started);
    Ok(RunOutput { record, predictions, labels })
}

/// The seed a script is given for a run seed: its low 32 bits, the range every
/// framework's seeding takes (NumPy's legacy `np.random.seed` and so Keras's
/// `set_random_seed` refuse more). Two of a study's run seeds share them with
/// probability about 2⁻³² per pair.
pub fn script_seed(seed: u64) -> u64 {
    seed & 0xffff_ffff
}

/// Removes `dir` with whatever an earlier attempt left in it, and makes it again empty.
fn fresh_dir(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(dir, e)),
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
}

/// `argv` as one line for a person.
fn shown(argv: &[String]) -> String {
    argv.iter()
        .map(|a| if a.contains(' ') || a.is_empty() { format!("'{a}'") } else { a.clone() })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Starts `argv` in the run's output directory with the run's environment, its output
/// appended to `log`, and waits for it (up to the script's `timeout_s`): an error
/// names the exit status or the time-out, the log, and its last lines.
fn run_command(
    script: &Script,
    argv: &[String],
    run: &ScriptRun,
    run_json: &Path,
    log: &Path,
) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| Error::io(log, e))?;
    let _ = writeln!(file, "cnnvar: {}", shown(argv));
    let err = file.try_clone().map_err(|e| Error::io(log, e))?;
    let program = resolve_program(&argv[0], script.dir.as_deref());
    let mut command = Command::new(&program);
    command
        .args(&argv[1..])
        .current_dir(&run.output_dir)
        .envs(Script::environment(run, run_json))
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err);
    let child = command.spawn().map_err(|e| {
        Error::program(&argv[0], format!("cannot start {}: {e}", program.display()))
    })?;
    let status = wait(child, script.timeout_s.map(Duration::from_secs));
    let failed = |what: String| {
        Error::program(
            &argv[0],
            format!("{what}; its output is in {}{}", log.display(), log_tail(log)),
        )
    };
    match status.map_err(|e| Error::io(log, e))? {
        Waited::Exited(s) if s.success() => Ok(()),
        Waited::Exited(s) => Err(failed(format!("the script failed ({s})"))),
        Waited::TimedOut(limit) => Err(failed(format!(
            "the script ran past its time-out of {} s (timeout_s) and was stopped",
            limit.as_secs()
        ))),
    }
}

/// `argv` with every argument after the program that names a file of the script's
/// directory by a relative path made absolute (the command runs in the run's output
/// directory, not beside the study file).
fn in_script_dir(argv: Vec<String>, dir: Option<&Path>) -> Vec<String> {
    let Some(dir) = dir else { return argv };
    argv.into_iter()
        .enumerate()
        .map(|(i, a)| {
            let path = Path::new(&a);
            if i > 0 && !a.is_empty() && path.is_relative() && dir.join(path).is_file() {
                dir.join(path).display().to_string()
            } else {
                a
            }
        })
        .collect()
}

/// A program named by a relative path with a slash (`./train.sh`) is the study
/// directory's; a bare name is looked for on `PATH`.
fn resolve_program(program: &str, dir: Option<&Path>) -> PathBuf {
    match dir {
        Some(dir) if program.contains('/') && Path::new(program).is_relative() => dir.join(program),
        _ => PathBuf::from(program),
    }
}

/// How a command ended.
enum Waited {
    Exited(std::process::ExitStatus),
    TimedOut(Duration),
}

/// Waits for `child`, kept in [`RUNNING`] meanwhile; kills it after `limit`.
fn wait(child: Child, limit: Option<Duration>) -> std::io::Result<Waited> {
    let started = Instant::now();
    if let Ok(mut running) = RUNNING.lock() {
        *running = Some(child);
    }
    let outcome = loop {
        let mut running = RUNNING.lock().map_err(|_| std::io::Error::other("lock poisoned"))?;
        let Some(child) = running.as_mut() else {
            break Err(std::io::Error::other("the script was stopped"));
        };
        if let Some(status) = child.try_wait()? {
            break Ok(Waited::Exited(status));
        }
        if let Some(limit) = limit
            && started.elapsed() >= limit
        {
            let _ = child.kill();
            let _ = child.wait();
            break Ok(Waited::TimedOut(limit));
        }
        drop(running);
        std::thread::sleep(Duration::from_millis(50));
    };
    if let Ok(mut running) = RUNNING.lock() {
        *running = None;
    }
    outcome
}

/// The last lines of `log`, indented, for an error message (empty if none).
fn log_tail(log: &Path) -> String {
    let Ok(text) = std::fs::read(log) else { return String::new() };
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = &lines[lines.len().saturating_sub(6)..];
    if tail.is_empty() {
        return String::new();
    }
    format!("; its last lines:\n    {}", tail.join("\n    "))
}

/// Reads and checks `result.json`: present (the script exited without writing it
/// otherwise), valid, an accuracy in [0, 1], and the seeds the run was given.
fn read_result(path: &Path, run: &ScriptRun) -> Result<ScriptResult> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::data(
                path,
                "missing: the script exited successfully without writing it; write \
                 predictions.csv first, then result.json last (to a temporary name, then \
                 renamed), so that a run cut short is never taken as complete",
            ));
        }
        Err(e) => return Err(Error::io(path, e)),
    };
    let result: ScriptResult = serde_json::from_str(&text).map_err(|e| {
        Error::data(
            path,
            format!(
                "not a script result (line {}): {e}; expected {{\"test_accuracy\": 0.91, \
                 \"seeds\": {{\"init\": …, \"order\": …, \"subset\": …}}}} and optionally \
                 \"curve\", \"train_accuracy\", \"train_loss\", \"test_loss\", \
                 \"train_examples\", \"framework\"",
                e.line()
            ),
        )
    })?;
    if !(0.0..=1.0).contains(&result.test_accuracy) {
        return Err(Error::data(
            path,
            format!("test_accuracy {} is not a fraction from 0 to 1", result.test_accuracy),
        ));
    }
    let given = (run.init_seed, run.order_seed, run.subset_seed);
    let used = (result.seeds.init, result.seeds.order, result.seeds.subset);
    if given != used {
        return Err(Error::data(
            path,
            format!(
                "seeds (init, order, subset) are {used:?}, but the run gave {given:?}: the \
                 script must use the seeds it is given (run.json, $CNNVAR_INIT_SEED, …)"
            ),
        ));
    }
    Ok(result)
}

/// Reads `predictions.csv`: the header, then `label,predicted` rows of integers 0 to
/// 255; at least one row. Returns (labels, predictions) in file order.
fn read_predictions(path: &Path) -> Result<(Vec<u8>, Vec<u8>)> {
    let file = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::data(
            path,
            format!(
                "missing: the script must write one row per test example, `{PREDICTIONS_HEADER}` \
                 (true and predicted class), before result.json"
            ),
        ),
        _ => Error::io(path, e),
    })?;
    let mut lines = std::io::BufReader::new(file).lines();
    let header = lines.next().transpose().map_err(|e| Error::io(path, e))?.unwrap_or_default();
    if header.trim() != PREDICTIONS_HEADER {
        return Err(Error::data(
            path,
            format!("line 1 is `{}`; expected the header `{PREDICTIONS_HEADER}`", header.trim()),
        ));
    }
    let (mut labels, mut predictions) = (Vec::new(), Vec::new());
    for (i, line) in lines.enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        let at = i + 2;
        if line.trim().is_empty() {
            continue;
        }
        let class = |s: Option<&str>| s.and_then(|s| s.trim().parse::<u8>().ok());
        let mut cells = line.split(',');
        match (class(cells.next()), class(cells.next()), cells.next()) {
            (Some(l), Some(p), None) => {
                labels.push(l);
                predictions.push(p);
            }
            _ => {
                return Err(Error::data(
                    path,
                    format!(
                        "line {at} is `{line}`; expected two classes `label,predicted`, each an \
                         integer from 0 to 255"
                    ),
                ));
            }
        }
    }
    if labels.is_empty() {
        return Err(Error::data(path, "has a header but no predictions"));
    }
    Ok((labels, predictions))
}

/// The accuracy `result.json` states must be the predictions' (to within half an
/// example, for rounding).
fn check_accuracy(
    out: &Path,
    result: &ScriptResult,
    labels: &[u8],
    predictions: &[u8],
) -> Result<()> {
    let right = labels.iter().zip(predictions).filter(|(l, p)| l == p).count();
    let n = labels.len();
    let accuracy = right as f64 / n as f64;
    if (accuracy - result.test_accuracy).abs() > 0.5 / n as f64 + 1e-9 {
        return Err(Error::data(
            out.join(RESULT_JSON),
            format!(
                "test_accuracy is {}, but predictions.csv gives {accuracy:.6} ({right} of {n} \
                 right): the two must come from the same model and test set",
                result.test_accuracy
            ),
        ));
    }
    Ok(())
}

/// Records the study's test set (its labels' checksum) if this is the first run to
/// finish, else checks that this run predicted the same examples in the same order.
fn check_test_set(study: &Path, run_id: &str, labels: &[u8], sha256: &str) -> Result<()> {
    let data = StudyData {
        dataset: TEST_SET_NAME.into(),
        sha256: sha256.into(),
        source: format!("{} labels in the predictions.csv of run {run_id}", labels.len()),
    };
    StudyDir::open(study).check_study_data(&data).map_err(|e| match e {
        Error::Data { path, .. } => Error::data(
            Path::new(run_id).join(OUTPUT_DIR).join(PREDICTIONS_CSV),
            format!(
                "its {} labels (sha256 {sha256}) are not this study's test set, recorded in \
                 {}: every run of a study must predict the same test examples, in the same \
                 order, with their true labels",
                labels.len(),
                path.display()
            ),
        ),
        e => e,
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The run's record from what the script left.
#[allow(clippy::too_many_arguments)]
fn record(
    spec: &RunSpec,
    run: &ScriptRun,
    argv: &[String],
    result: ScriptResult,
    labels: &[u8],
    predictions: &[u8],
    labels_sha256: String,
    started: Instant,
) -> RunRecord {
    let classes = labels.iter().chain(predictions).copied().max().map_or(0, |m| m as usize + 1);
    let per_class_accuracy = (0..classes)
        .map(|c| {
            let of_c: Vec<bool> = labels
                .iter()
                .zip(predictions)
                .filter(|(l, _)| **l as usize == c)
                .map(|(l, p)| l == p)
                .collect();
            if of_c.is_empty() {
                0.0
            } else {
                of_c.iter().filter(|&&b| b).count() as f64 / of_c.len() as f64
            }
        })
        .collect();
    let right = labels.iter().zip(predictions).filter(|(l, p)| l == p).count();
    let nan = f64::NAN;
    let epochs = result
        .curve
        .iter()
        .map(|p| EpochRecord {
            epoch: p.epoch,
            train_loss: p.train_loss,
            train_accuracy: p.train_accuracy.unwrap_or(nan),
            test_loss: p.test_loss.unwrap_or(nan),
            test_accuracy: p.test_accuracy.unwrap_or(nan),
            seconds: p.seconds.unwrap_or(nan),
            train_samples_per_sec: nan,
            eval_samples_per_sec: nan,
        })
        .collect();
    let mut provenance = Provenance::of_this_process(spec.backend, "script", run.threads);
    provenance.backend = result.framework.clone().unwrap_or_else(|| "script".into());
    provenance.device = "script".into();
    provenance.data_source = "the script's predictions.csv".into();
    provenance.data_sha256 = labels_sha256;
    provenance.class_names = (0..classes).map(|c| c.to_string()).collect();
    provenance.command = argv.to_vec();
    RunRecord {
        run_id: run.run_id.clone(),
        test_accuracy: right as f64 / labels.len() as f64,
        test_loss: result.test_loss.unwrap_or(nan),
        train_accuracy: result.train_accuracy.unwrap_or(nan),
        train_loss: result.train_loss.unwrap_or(nan),
        per_class_accuracy,
        epochs,
        diverged: result.curve.iter().any(|p| !p.train_loss.is_finite()),
        error: None,
        train_examples: result.train_examples.unwrap_or(0),
        test_examples: labels.len(),
        params: 0,
        flops: 0,
        seconds: started.elapsed().as_secs_f64(),
        nudge: None,
        trained_with: None,
        spec: spec.clone(),
        provenance,
    }
}

/// Fills in, for every level of `study` that trains with a script, the absolute `dir`
/// of its script (the study file's directory) and its `code_sha256`: the SHA-256 of
/// every file the command names (an argument that is a file in that directory) and
/// every file of `files` (each must exist), by name and content. A changed script so
/// makes new runs; the report names the checksum.
pub fn resolve_scripts(study: &mut cnnvar_core::study::Study) -> Result<()> {
    let source = study.source.clone();
    for exp in &mut study.experiments {
        for level in &mut exp.levels {
            let Some(script) = &mut level.spec.script else { continue };
            let dir = script.dir.clone().unwrap_or_else(|| {
                source.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
            });
            let dir = std::path::absolute(&dir).map_err(|e| Error::io(&dir, e))?;
            script.code_sha256 = Some(code_sha256(script, &dir).map_err(|e| {
                Error::field(
                    format!(
                        "{}: experiment `{}`, level `{}`",
                        source.display(),
                        exp.name,
                        level.label
                    ),
                    "files",
                    e.to_string(),
                )
            })?);
            script.dir = Some(dir);
        }
    }
    Ok(())
}

/// The files a script's run id covers, relative to `dir`, sorted: the command's
/// arguments that name a file there, and `files`.
pub fn code_files(script: &Script, dir: &Path) -> Result<Vec<String>> {
    let mut names: Vec<String> = script
        .command
        .iter()
        .filter(|a| !a.contains("${") && !a.starts_with('-') && dir.join(a).is_file())
        .cloned()
        .collect();
    for f in &script.files {
        if !dir.join(f).is_file() {
            return Err(Error::data(
                dir.join(f),
                "listed in `files` but not a file (paths are relative to the study file's directory)",
            ));
        }
        names.push(f.clone());
    }
    names.sort();
    names.dedup();
    Ok(names)
}

/// [`code_files`]' SHA-256, by name and content.
fn code_sha256(script: &Script, dir: &Path) -> Result<String> {
    let mut hash = Sha256::new();
    for name in code_files(script, dir)? {
        let path = dir.join(&name);
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        hash.update(name.as_bytes());
        hash.update([0]);
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(&bytes);
    }
    Ok(hash.finalize().iter().map(|b| format!("{b:02x}")).collect())
}
