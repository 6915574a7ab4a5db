//! Downloads against a loopback HTTP/1.1 server: good fetches of IDX files and of a
//! CIFAR-10 archive, checksum mismatches, transfers cut off and resumed, offline
//! mode and server errors. All archives are small ones made here.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use cnnvar_core::DatasetName;
use cnnvar_data::fetch::{
    FetchOptions, FetchProgress, RemoteFile, Source, Unpack, fetch_files, fetch_source,
};
use cnnvar_data::{IDX_FILES, cifar, idx, load_cifar10_dir, load_idx_dir};
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------------------------
// The server.

/// How the server answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Files as asked, honouring `Range: bytes=N-`.
    Normal,
    /// Every request gets this status.
    Status(u16),
    /// The first request's body is cut off after this many bytes, the connection
    /// closed; later requests are served normally.
    CutFirstAfter(usize),
    /// Every body is cut off after this many bytes.
    CutAlwaysAfter(usize),
    /// Ranges are ignored: always the whole file with 200.
    IgnoreRange,
}

/// One request the server saw.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    path: String,
    range: Option<String>,
}

struct State {
    files: HashMap<String, Vec<u8>>,
    mode: Mode,
    log: Vec<Seen>,
}

/// A loopback HTTP/1.1 server in a thread, one request per connection.
struct Server {
    port: u16,
    state: Arc<Mutex<State>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `files` (URL path without the leading `/` → bytes).
    fn start(files: HashMap<String, Vec<u8>>, mode: Mode) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(Mutex::new(State { files, mode, log: Vec::new() }));
        let shared = Arc::clone(&state);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                if !handle(stream, &shared) {
                    break;
                }
            }
        });
        Server { port, state, thread: Some(thread) }
    }

    fn url(&self, dir: &str) -> String {
        format!("http://127.0.0.1:{}/{dir}", self.port)
    }

    fn log(&self) -> Vec<Seen> {
        self.state.lock().expect("lock").log.clone()
    }

    fn set_mode(&self, mode: Mode) {
        self.state.lock().expect("lock").mode = mode;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A request for /quit ends the accept loop.
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = s.write_all(b"GET /quit HTTP/1.1\r\n\r\n");
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Answers one connection; false when told to quit.
fn handle(mut stream: TcpStream, state: &Mutex<State>) -> bool {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return true;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").trim_start_matches('/').to_string();
    if path == "quit" {
        return false;
    }
    let mut range = None;
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header.trim().is_empty() => break,
            Ok(_) => {
                if let Some((k, v)) = header.split_once(':')
                    && k.trim().eq_ignore_ascii_case("range")
                {
                    range = Some(v.trim().to_string());
                }
            }
        }
    }
    let (mode, file, first) = {
        let mut st = state.lock().expect("lock");
        let first = st.log.is_empty();
        st.log.push(Seen { path: path.clone(), range: range.clone() });
        (st.mode, st.files.get(&path).cloned(), first)
    };
    let respond = |stream: &mut TcpStream, status: &str, headers: &str, body: &[u8], cut| {
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n",
            body.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = match cut {
            Some(n) => stream.write_all(&body[..n]),
            None => stream.write_all(body),
        };
        let _ = stream.flush();
        let _ = stream.shutdown(Shutdown::Both);
    };
    if let Mode::Status(code) = mode {
        respond(&mut stream, &format!("{code} Oops"), "", b"server error\n", None);
        return true;
    }
    let Some(file) = file else {
        respond(&mut stream, "404 Not Found", "", b"not found\n", None);
        return true;
    };
    let start = range
        .as_deref()
        .filter(|_| mode != Mode::IgnoreRange)
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok());
    let cut = |len: usize| match mode {
        Mode::CutFirstAfter(n) if first => Some(n.min(len)),
        Mode::CutAlwaysAfter(n) => Some(n.min(len)),
        _ => None,
    };
    match start {
        Some(s) if s >= file.len() => {
            let h = format!("Content-Range: bytes */{}\r\n", file.len());
            respond(&mut stream, "416 Range Not Satisfiable", &h, b"", None);
        }
        Some(s) => {
            let body = &file[s..];
            let h = format!("Content-Range: bytes {s}-{}/{}\r\n", file.len() - 1, file.len());
            respond(&mut stream, "206 Partial Content", &h, body, cut(body.len()));
        }
        None => respond(&mut stream, "200 OK", "", &file, cut(file.len())),
    }
    true
}

// ---------------------------------------------------------------------------------
// Test data.

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A file the tests serve, with its checksum.
struct Served {
    name: String,
    bytes: Vec<u8>,
    sha: String,
}

impl Served {
    fn new(name: &str, bytes: Vec<u8>) -> Served {
        Served { name: name.into(), sha: sha256(&bytes), bytes }
    }

    fn remote(&self) -> RemoteFile<'_> {
        RemoteFile {
            url_path: &self.name,
            name: &self.name,
            sha256: &self.sha,
            size: Some(self.bytes.len() as u64),
        }
    }
}

/// The four gzip IDX files of a small MNIST-style set.
fn idx_set() -> Vec<Served> {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut out = Vec::new();
    for (count, images, labels) in
        [(30, IDX_FILES[0], IDX_FILES[1]), (10, IDX_FILES[2], IDX_FILES[3])]
    {
        let pixels: Vec<u8> = (0..count * 28 * 28).map(|i| (i * 31 % 251) as u8).collect();
        let lab: Vec<u8> = (0..count).map(|i| (i % 10) as u8).collect();
        let ipath = tmp.path().join(format!("{images}.gz"));
        let lpath = tmp.path().join(format!("{labels}.gz"));
        idx::write_images(&ipath, &pixels, count, 28, 28, true).expect("write images");
        idx::write_labels(&lpath, &lab, true).expect("write labels");
        for p in [ipath, lpath] {
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            out.push(Served::new(&name, std::fs::read(&p).expect("read")));
        }
    }
    out
}

/// A small `cifar-10-binary.tar.gz`: `per_file` records in each of the six files,
/// under `cifar-10-batches-bin/`, leaving out `skip` if given.
fn cifar_archive(per_file: usize, skip: Option<&str>) -> Vec<u8> {
    let tmp = tempfile::tempdir().expect("temp dir");
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (f, name) in cifar::CIFAR10_FILES.iter().enumerate() {
        if Some(*name) == skip {
            continue;
        }
        let labels: Vec<u8> = (0..per_file).map(|i| ((i + f) % 10) as u8).collect();
        let images: Vec<u8> = (0..per_file * 3072).map(|i| (i % 256) as u8).collect();
        let path = tmp.path().join(name);
        cifar::write_batch(&path, &images, &labels).expect("write batch");
        tar.append_path_with_name(&path, format!("cifar-10-batches-bin/{name}")).expect("append");
    }
    let meta = tmp.path().join("batches.meta.txt");
    std::fs::write(&meta, "airplane\nautomobile\n").expect("meta");
    tar.append_path_with_name(&meta, "cifar-10-batches-bin/batches.meta.txt").expect("append");
    tar.into_inner().expect("tar").finish().expect("gzip")
}

/// A file large enough to take several reads (and a cut half way).
fn big_file() -> Served {
    Served::new(
        "big.bin",
        (0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect(),
    )
}

fn serve(files: &[&Served], dir: &str, mode: Mode) -> Server {
    Server::start(
        files.iter().map(|f| (format!("{dir}{}", f.name), f.bytes.clone())).collect(),
        mode,
    )
}

/// Names of the entries of `dir` (empty if it does not exist).
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into()).collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn options(cache: &Path, server: &Server, dir: &str) -> FetchOptions {
    FetchOptions { base_url: Some(server.url(dir)), ..FetchOptions::new(cache) }
}

// ---------------------------------------------------------------------------------
// The tests.

#[test]
fn good_fetch_of_idx_files_then_cached() {
    let set = idx_set();
    let server = serve(&set.iter().collect::<Vec<_>>(), "mnist/", Mode::Normal);
    let remote: Vec<RemoteFile<'_>> = set.iter().map(Served::remote).collect();
    let source = Source {
        name: DatasetName::Mnist,
        base_url: "https://unused.invalid/",
        files: &remote,
        unpack: Unpack::Keep,
    };
    let cache = tempfile::tempdir().expect("temp dir");
    let mut events = Vec::new();
    let dir = fetch_source(&source, &options(cache.path(), &server, "{name}/"), &mut |p| {
        events.push(match p {
            FetchProgress::Started { .. } => "started",
            FetchProgress::Bytes { .. } => "bytes",
            FetchProgress::Verified { .. } => "verified",
            FetchProgress::Extracting { .. } => "extracting",
        })
    })
    .expect("fetch");
    assert_eq!(dir, cache.path().join("mnist"));
    assert_eq!(server.log().len(), 4);
    assert!(server.log().iter().all(|s| s.path.starts_with("mnist/") && s.range.is_none()));
    assert_eq!(events.iter().filter(|e| **e == "verified").count(), 4);
    assert_eq!(events.iter().filter(|e| **e == "started").count(), 4);
    for f in &set {
        assert_eq!(std::fs::read(dir.join(&f.name)).expect("cached"), f.bytes);
    }
    let mut expected: Vec<String> = set.iter().map(|f| f.name.clone()).collect();
    expected.push(".lock".into());
    expected.sort();
    assert_eq!(entries(&dir), expected, "no .part left behind");
    let split = load_idx_dir(&dir, DatasetName::Mnist).expect("load fetched");
    assert_eq!((split.train.len(), split.test.len()), (30, 10));
    // Found where `load` looks when the cache is the data directory.
    cnnvar_data::load(DatasetName::Mnist, Some(cache.path())).expect("load via find");

    // Second fetch: no network at all, even offline.
    let again = fetch_source(&source, &options(cache.path(), &server, "{name}/"), &mut |_| {})
        .expect("cached");
    assert_eq!(again, dir);
    let offline = FetchOptions { offline: true, ..FetchOptions::new(cache.path()) };
    assert_eq!(fetch_source(&source, &offline, &mut |_| {}).expect("cached offline"), dir);
    assert_eq!(server.log().len(), 4);
}

#[test]
fn good_fetch_of_cifar_archive_loads() {
    let archive = Served::new("cifar-10-binary.tar.gz", cifar_archive(3, None));
    let server = serve(&[&archive], "c/", Mode::Normal);
    let remote = [archive.remote()];
    let source = Source {
        name: DatasetName::Cifar10,
        base_url: "https://unused.invalid/",
        files: &remote,
        unpack: Unpack::Cifar10TarGz,
    };
    let cache = tempfile::tempdir().expect("temp dir");
    let mut extracted = false;
    let dir = fetch_source(&source, &options(cache.path(), &server, "c/"), &mut |p| {
        extracted |= matches!(p, FetchProgress::Extracting { .. });
    })
    .expect("fetch");
    assert!(extracted);
    assert_eq!(dir, cache.path().join("cifar10").join("cifar-10-batches-bin"));
    let split = load_cifar10_dir(&dir).expect("load fetched archive");
    assert_eq!((split.train.len(), split.test.len()), (15, 3));
    assert_eq!(split.test.labels(), [5, 6, 7]);
    // The archive is gone, the extraction is in place, nothing temporary is left.
    assert_eq!(entries(&cache.path().join("cifar10")), [".lock", "cifar-10-batches-bin"]);
    assert!(dir.join("batches.meta.txt").is_file());
    cnnvar_data::load(DatasetName::Cifar10, Some(cache.path())).expect("load via find");
    fetch_source(&source, &options(cache.path(), &server, "c/"), &mut |_| {}).expect("cached");
    assert_eq!(server.log().len(), 1);
}

#[test]
fn archive_lacking_a_batch_is_refused() {
    let archive = Served::new("cifar-10-binary.tar.gz", cifar_archive(2, Some("data_batch_4.bin")));
    let server = serve(&[&archive], "", Mode::Normal);
    let remote = [archive.remote()];
    let source = Source {
        name: DatasetName::Cifar10,
        base_url: "",
        files: &remote,
        unpack: Unpack::Cifar10TarGz,
    };
    let cache = tempfile::tempdir().expect("temp dir");
    let msg = fetch_source(&source, &options(cache.path(), &server, ""), &mut |_| {})
        .expect_err("incomplete archive")
        .to_string();
    assert!(
        msg.contains("cifar-10-binary.tar.gz") && msg.contains("lacks data_batch_4.bin"),
        "{msg}"
    );
    assert!(!cache.path().join("cifar10/cifar-10-batches-bin").exists());
}

#[test]
fn checksum_mismatch_caches_nothing() {
    let good = big_file();
    let server = serve(&[&good], "d/", Mode::Normal);
    let wrong = "0".repeat(64);
    let remote = [RemoteFile { sha256: &wrong, ..good.remote() }];
    let dest = tempfile::tempdir().expect("temp dir");
    let err = fetch_files(dest.path(), &remote, &server.url("d/"), &mut |_| {})
        .expect_err("mismatch")
        .to_string();
    assert!(!err.contains('\n'), "{err}");
    let url = server.url("d/big.bin");
    for needle in [url.as_str(), &wrong, &good.sha, "SHA-256 mismatch", "nothing was cached"] {
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    assert!(entries(dest.path()).is_empty(), "{:?}", entries(dest.path()));

    // A wrong size is refused too, even with the right hash.
    let remote = [RemoteFile { size: Some(1), ..good.remote() }];
    let err = fetch_files(dest.path(), &remote, &server.url("d/"), &mut |_| {})
        .expect_err("too long")
        .to_string();
    assert!(err.contains("more than the expected 1 bytes"), "{err}");
    assert!(entries(dest.path()).is_empty(), "{:?}", entries(dest.path()));
}

#[test]
fn transfer_cut_half_way_is_resumed() {
    let file = big_file();
    let half = file.bytes.len() / 2;
    let server = serve(&[&file], "", Mode::CutFirstAfter(half));
    let dest = tempfile::tempdir().expect("temp dir");
    let mut starts = Vec::new();
    let paths = fetch_files(dest.path(), &[file.remote()], &server.url(""), &mut |p| {
        if let FetchProgress::Started { done, .. } = p {
            starts.push(done);
        }
    })
    .expect("resumed");
    let log = server.log();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0].range, None);
    let resumed_at: usize = log[1]
        .range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse().ok())
        .expect("second request sends Range: bytes=N-");
    assert!(resumed_at > 0 && resumed_at <= half, "resumed at {resumed_at}");
    assert_eq!(starts, [0, resumed_at as u64]);
    assert_eq!(std::fs::read(&paths[0]).expect("read"), file.bytes);
    assert_eq!(sha256(&std::fs::read(&paths[0]).expect("read")), file.sha);
    assert_eq!(entries(dest.path()), ["big.bin"]);
}

#[test]
fn part_file_from_an_earlier_run_is_resumed() {
    let file = big_file();
    let server = serve(&[&file], "", Mode::Normal);
    let dest = tempfile::tempdir().expect("temp dir");
    std::fs::write(dest.path().join(".big.bin.part"), &file.bytes[..1000]).expect("part");
    fetch_files(dest.path(), &[file.remote()], &server.url(""), &mut |_| {}).expect("resume");
    assert_eq!(server.log()[0].range.as_deref(), Some("bytes=1000-"));
    assert_eq!(std::fs::read(dest.path().join("big.bin")).expect("read"), file.bytes);

    // A server that ignores Range sends the whole file: the download restarts cleanly.
    let server = serve(&[&file], "", Mode::IgnoreRange);
    let dest = tempfile::tempdir().expect("temp dir");
    std::fs::write(dest.path().join(".big.bin.part"), &file.bytes[..1000]).expect("part");
    fetch_files(dest.path(), &[file.remote()], &server.url(""), &mut |_| {}).expect("restart");
    assert_eq!(std::fs::read(dest.path().join("big.bin")).expect("read"), file.bytes);

    // A corrupt .part (wrong bytes) fails verification and is deleted; the next fetch
    // starts from scratch and succeeds.
    let server = serve(&[&file], "", Mode::Normal);
    let dest = tempfile::tempdir().expect("temp dir");
    std::fs::write(dest.path().join(".big.bin.part"), vec![0xAB; 1000]).expect("part");
    let err = fetch_files(dest.path(), &[file.remote()], &server.url(""), &mut |_| {})
        .expect_err("corrupt part");
    assert!(err.to_string().contains("SHA-256 mismatch"), "{err}");
    assert!(entries(dest.path()).is_empty());
    fetch_files(dest.path(), &[file.remote()], &server.url(""), &mut |_| {}).expect("fresh");
    assert_eq!(std::fs::read(dest.path().join("big.bin")).expect("read"), file.bytes);
}

#[test]
fn transfer_cut_every_time_keeps_the_part_for_later() {
    let file = big_file();
    let server = serve(&[&file], "", Mode::CutAlwaysAfter(50_000));
    let dest = tempfile::tempdir().expect("temp dir");
    let err = fetch_files(dest.path(), &[file.remote()], &server.url(""), &mut |_| {})
        .expect_err("always cut")
        .to_string();
    assert!(err.contains("cut off 3 times") && err.contains("resumes"), "{err}");
    assert!(err.contains(&server.url("big.bin")), "{err}");
    assert!(!dest.path().join("big.bin").exists());
    let part = std::fs::metadata(dest.path().join(".big.bin.part")).expect("part kept").len();
    assert!(part > 0 && part <= 150_000, "{part}");
    // The network recovers: the next call resumes and completes.
    server.set_mode(Mode::Normal);
    fetch_files(dest.path(), &[file.remote()], &server.url(""), &mut |_| {}).expect("resume");
    assert_eq!(server.log().last().and_then(|s| s.range.clone()), Some(format!("bytes={part}-")));
    assert_eq!(std::fs::read(dest.path().join("big.bin")).expect("read"), file.bytes);
}

#[test]
fn offline_mode_touches_no_network() {
    let set = idx_set();
    let server = serve(&set.iter().collect::<Vec<_>>(), "", Mode::Normal);
    let remote: Vec<RemoteFile<'_>> = set.iter().map(Served::remote).collect();
    let source = Source {
        name: DatasetName::FashionMnist,
        base_url: "",
        files: &remote,
        unpack: Unpack::Keep,
    };
    let cache = tempfile::tempdir().expect("temp dir");
    let offline = FetchOptions { offline: true, ..options(cache.path(), &server, "") };
    let msg = fetch_source(&source, &offline, &mut |_| {}).expect_err("offline").to_string();
    assert!(!msg.contains('\n'), "{msg}");
    for needle in ["not in the cache", "cnnvar data fetch fashion-mnist", "`data_dir`", "copy"] {
        assert!(msg.contains(needle), "{needle:?} not in {msg}");
    }
    assert!(!msg.contains("--"), "names no command-line flag: {msg}");
    assert!(server.log().is_empty());
    assert!(!cache.path().join("fashion-mnist").exists());
}

#[test]
fn server_errors_are_one_line_naming_url_and_status() {
    let file = big_file();
    let server = serve(&[&file], "", Mode::Status(500));
    let dest = tempfile::tempdir().expect("temp dir");
    let msg = fetch_files(dest.path(), &[file.remote()], &server.url(""), &mut |_| {})
        .expect_err("500")
        .to_string();
    assert!(!msg.contains('\n'), "{msg}");
    assert!(msg.contains(&server.url("big.bin")) && msg.contains("HTTP 500"), "{msg}");
    assert_eq!(server.log().len(), 1, "a server error is not retried");
    assert!(entries(dest.path()).is_empty());

    // 404: a wrong mirror.
    server.set_mode(Mode::Normal);
    let missing = RemoteFile { url_path: "nope.bin", ..file.remote() };
    let msg = fetch_files(dest.path(), &[missing], &server.url(""), &mut |_| {})
        .expect_err("404")
        .to_string();
    assert!(msg.contains(&server.url("nope.bin")) && msg.contains("HTTP 404 Not Found"), "{msg}");

    // Nobody listening: the connection is refused.
    let port = server.port;
    drop(server);
    let url = format!("http://127.0.0.1:{port}/");
    let msg = fetch_files(dest.path(), &[file.remote()], &url, &mut |_| {})
        .expect_err("refused")
        .to_string();
    assert!(!msg.contains('\n') && msg.contains(&format!("{url}big.bin")), "{msg}");
    assert!(entries(dest.path()).is_empty());
}

#[test]
fn fetched_paths_are_returned_in_order() {
    let set = idx_set();
    let server = serve(&set.iter().collect::<Vec<_>>(), "x/", Mode::Normal);
    let remote: Vec<RemoteFile<'_>> = set.iter().map(Served::remote).collect();
    let dest = tempfile::tempdir().expect("temp dir");
    let paths = fetch_files(&dest.path().join("new"), &remote, &server.url("x"), &mut |_| {})
        .expect("fetch");
    let expected: Vec<PathBuf> =
        set.iter().map(|f| dest.path().join("new").join(&f.name)).collect();
    assert_eq!(paths, expected);
}
