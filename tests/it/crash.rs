//! Crash consistency of the run store: SIGKILLs of whole sweeps (workers included) at
//! random moments, two sweeps on one study directory at once, and a nearly full disk.
//! Afterwards every run has exactly one complete, parseable record; none is lost,
//! duplicated or rewritten; and no run is trained by two processes at once.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::support::*;
use crate::sweep::{plan_run_ids, records, sweep_cmd, time_one_sweep, toy_setup};

/// A tmpfs of `size` mounted on `dir`, unmounted on drop (also when a test panics).
struct Tmpfs {
    dir: PathBuf,
    /// This user's id, "0" for root.
    uid: String,
}

impl Tmpfs {
    /// Mounts it (as root, or else through `sudo -n`), owned by this user, or says why
    /// not.
    fn mount(dir: &Path, size: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let id = |flag: &str| {
            Command::new("id").arg(flag).output().map_or_else(
                |_| "0".to_string(),
                |o| String::from_utf8_lossy(&o.stdout).trim().to_string(),
            )
        };
        let (uid, gid) = (id("-u"), id("-g"));
        let options = format!("size={size},uid={uid},gid={gid}");
        let o = privileged(&uid, "mount")
            .args(["-t", "tmpfs", "-o", &options, "cnnvar-test"])
            .arg(dir)
            .output()
            .map_err(|e| format!("running mount: {e}"))?;
        if !o.status.success() {
            return Err(String::from_utf8_lossy(&o.stderr).trim().to_string());
        }
        Ok(Tmpfs { dir: dir.to_path_buf(), uid })
    }
}

/// `program` as root: directly when this user is root, else through `sudo -n`.
fn privileged(uid: &str, program: &str) -> Command {
    if uid == "0" {
        Command::new(program)
    } else {
        let mut c = Command::new("sudo");
        c.args(["-n", program]);
        c
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = privileged(&self.uid, "umount").arg("-l").arg(&self.dir).status();
    }
}

/// Bytes free on the file system holding `dir`.
fn free_bytes(dir: &Path) -> u64 {
    let o = output(Command::new("df").args(["--output=avail", "-B1"]).arg(dir));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .expect("df prints the free bytes")
}

/// (Re)fills `dir`'s file system until `leave` bytes are free (or as few as the store
/// already leaves); returns the filler file.
fn fill_disk(dir: &Path, leave: u64) -> PathBuf {
    let filler = dir.join("filler");
    let _ = std::fs::remove_file(&filler);
    let free = free_bytes(dir);
    std::fs::write(&filler, vec![0u8; free.saturating_sub(leave) as usize]).expect("filler");
    filler
}

/// Bytes left free on the small disk before each round of the storm: from none (the
/// sweep fails at its first write) to room for a few runs (it fails part-way, in a
/// worker's record, a curve or the results table, wherever the kill finds it).
const FREE_PER_ROUND: [u64; 8] =
    [96 << 10, 8 << 10, 48 << 10, 0, 128 << 10, 16 << 10, 64 << 10, 32 << 10];

/// Starts a sweep in its own process group, so that one SIGKILL takes its workers too;
/// its stderr goes to `log`.
fn start_sweep(study: &Path, out: &Path, data: &Path, log: &Path) -> Child {
    let log = std::fs::File::create(log).expect("sweep log");
    sweep_cmd(study, out, data).process_group(0).stderr(log).spawn().expect("start sweep")
}

/// SIGKILLs the sweep's whole process group (the sweep and its workers, wherever each
/// is: training, writing a curve, renaming a record).
fn kill_group(child: &mut Child) {
    let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", child.id())]).status();
    let _ = child.wait();
}

/// A seeded LCG for the kill schedule.
struct Lcg(u64);

impl Lcg {
    fn next_ms(&mut self, lo: u64, hi: u64) -> Duration {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        Duration::from_millis(lo + (self.0 >> 33) % (hi - lo))
    }

    /// A moment between `lo` and `hi` times `unit`.
    fn next_within(&mut self, unit: Duration, lo: f64, hi: f64) -> Duration {
        let per_mille = self.next_ms(0, 1000).as_millis() as f64 / 1000.0;
        unit.mul_f64(lo + (hi - lo) * per_mille)
    }
}

/// Every record and spec file present parses and belongs to its directory; no
/// complete record changes once seen.
fn check_store(dir: &Path, seen: &mut BTreeMap<String, Vec<u8>>) {
    for (id, bytes) in records(dir) {
        let rec: serde_json::Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("run {id}: record.json is not complete JSON: {e}"));
        assert_eq!(rec["run_id"].as_str(), Some(id.as_str()), "record in the wrong directory");
        match seen.get(&id) {
            Some(old) => assert_eq!(old, &bytes, "run {id}: a complete record was rewritten"),
            None => {
                seen.insert(id, bytes);
            }
        }
    }
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if let Ok(text) = std::fs::read(e.path().join("spec.json")) {
            let _: serde_json::Value = serde_json::from_slice(&text).unwrap_or_else(|err| {
                panic!("{}: spec.json is partial: {err}", e.path().display())
            });
        }
    }
}

/// After the storm: one complete record per planned run, no other run directory,
/// and each record's run trained by exactly as many attempts as its log shows.
fn check_complete(dir: &Path, seen: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let planned = plan_run_ids(dir);
    let final_records = records(dir);
    for (id, bytes) in seen {
        assert_eq!(final_records.get(id), Some(bytes), "run {id}: a complete record was rewritten");
    }
    for id in &planned {
        let bytes = final_records.get(id).unwrap_or_else(|| panic!("run {id} was lost"));
        let rec: serde_json::Value = serde_json::from_slice(bytes).expect("record parses");
        assert_eq!(rec["run_id"].as_str(), Some(id.as_str()));
    }
    let run_dirs: Vec<String> = std::fs::read_dir(dir)
        .expect("study dir")
        .flatten()
        .filter(|e| e.path().join("spec.json").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let mut expected = planned.clone();
    expected.sort();
    let mut got = run_dirs;
    got.sort();
    assert_eq!(got, expected, "run directories are exactly the planned runs");
    planned
}

/// Training attempts logged for run `id`.
fn attempts(dir: &Path, id: &str) -> usize {
    std::fs::read_to_string(dir.join(id).join("attempts.log")).map_or(0, |t| t.lines().count())
}

/// Two sweeps of one study started together, both to the end: every run is trained
/// exactly once (the per-run lock), and both end with the same complete results.
#[test]
fn concurrent_sweeps_train_each_run_once() {
    let (tmp, data, study) = toy_setup();
    let out = tmp.path().join("runs");
    let a = sweep_cmd(&study, &out, &data).spawn().expect("sweep a");
    let b = sweep_cmd(&study, &out, &data).spawn().expect("sweep b");
    let (oa, ob) = (a.wait_with_output().expect("a"), b.wait_with_output().expect("b"));
    for (name, o) in [("a", &oa), ("b", &ob)] {
        assert!(!stderr(o).contains("panicked"), "sweep {name}: {}", stderr(o));
    }
    let dir = out.join("toy");
    // Whatever one sweep left to the other, a third finds nothing to do.
    let o = output(&mut sweep_cmd(&study, &out, &data));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("(0 trained by this sweep"), "{}", stderr(&o));
    let planned = check_complete(&dir, &BTreeMap::new());
    for id in &planned {
        assert_eq!(attempts(&dir, id), 1, "run {id} was trained {} times", attempts(&dir, id));
    }
}

/// Must-show: eight rounds of two concurrent sweeps on a nearly full disk, each killed
/// (with its workers) at a random moment; then one sweep on a disk with no room left,
/// which must stop with a clear error; then the disk is freed and one sweep finishes.
/// No record is ever partial or rewritten, none is lost or duplicated.
///
/// The free space is set before every round ([`FREE_PER_ROUND`]), not left to however
/// far the sweeps got, and the kill moments scale with how long a sweep takes here
/// ([`time_one_sweep`]), so the test means the same on a fast idle machine and on a
/// slow busy one.
#[test]
fn sigkill_storm_on_a_nearly_full_disk_loses_nothing() {
    let (tmp, data, study) = toy_setup();
    let mount_at = tmp.path().join("small-disk");
    let disk = match Tmpfs::mount(&mount_at, "4m") {
        Ok(t) => Some(t),
        Err(why) => {
            assert!(
                std::env::var_os("CNNVAR_REQUIRE_TMPFS").is_none(),
                "CNNVAR_REQUIRE_TMPFS is set but a tmpfs could not be mounted: {why}"
            );
            skip(&format!(
                "no tmpfs ({why}): the full-disk part runs on the ordinary disk, which is not full"
            ));
            None
        }
    };
    let out = mount_at.join("runs");
    std::fs::create_dir_all(&out).expect("runs dir");
    let sweep_time = time_one_sweep(&study, &data, &tmp.path().join("timing"));
    let mut filler = None;
    let logs = tmp.path().join("sweep-logs");
    std::fs::create_dir_all(&logs).expect("logs dir");
    let dir = out.join("toy");
    let mut seen = BTreeMap::new();
    let mut lcg = Lcg(0xc0ffee);
    for (round, leave) in FREE_PER_ROUND.into_iter().enumerate() {
        if disk.is_some() {
            filler = Some(fill_disk(&mount_at, leave));
        }
        let mut a = start_sweep(&study, &out, &data, &logs.join(format!("{round}-a.err")));
        let mut b = start_sweep(&study, &out, &data, &logs.join(format!("{round}-b.err")));
        let (ka, kb) =
            (lcg.next_within(sweep_time, 0.1, 1.2), lcg.next_within(sweep_time, 0.1, 1.2));
        let started = Instant::now();
        let (mut a_done, mut b_done) = (false, false);
        while !(a_done && b_done) {
            let t = started.elapsed();
            if !a_done && (t >= ka || matches!(a.try_wait(), Ok(Some(_)))) {
                kill_group(&mut a);
                a_done = true;
            }
            if !b_done && (t >= kb || matches!(b.try_wait(), Ok(Some(_)))) {
                kill_group(&mut b);
                b_done = true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = (a.wait(), b.wait());
        check_store(&dir, &mut seen);
        let mut full = false;
        for side in ["a", "b"] {
            let err = std::fs::read_to_string(logs.join(format!("{round}-{side}.err")))
                .unwrap_or_default();
            assert!(!err.contains("panicked"), "round {round} sweep {side}: {err}");
            full |= err.contains("No space left on device");
        }
        eprintln!(
            "round {round}: {leave} bytes free, killed after {ka:?} / {kb:?} (a sweep: {sweep_time:?}); {} records{}",
            seen.len(),
            if full { ", a write failed: disk full" } else { "" }
        );
    }
    if disk.is_some() {
        // No room at all and nobody to kill it: the sweep gets as far as its first
        // write that needs a new page, then stops with an error naming the file.
        filler = Some(fill_disk(&mount_at, 0));
        let o = output(&mut sweep_cmd(&study, &out, &data));
        let err = stderr(&o);
        assert!(!o.status.success(), "a sweep on a full disk reported success: {err}");
        assert!(!err.contains("panicked"), "a sweep on a full disk panicked: {err}");
        assert!(
            err.contains("No space left on device") && err.contains(&*mount_at.to_string_lossy()),
            "a sweep on a full disk must say which file could not be written: {err}"
        );
        check_store(&dir, &mut seen);
        eprintln!("full disk: {}", err.trim());
    }
    if let Some(f) = &filler {
        std::fs::remove_file(f).expect("free the disk");
    }
    let o = output(&mut sweep_cmd(&study, &out, &data));
    assert!(o.status.success(), "final sweep failed: {}", stderr(&o));
    check_store(&dir, &mut seen);
    let planned = check_complete(&dir, &seen);
    assert_eq!(planned.len(), 12);
    let csv = std::fs::read_to_string(dir.join("results.csv")).expect("results.csv");
    assert_eq!(csv.lines().count(), 1 + planned.len(), "one results row per run");
    drop(disk);
}
