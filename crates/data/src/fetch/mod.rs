//! Downloading data sets into the user cache: pinned sources, SHA-256 verified,
//! resumable and atomic.
//!
//! [`fetch`] downloads one data set's files ([`source`]) into
//! `<cache>/<name>/` (by default `~/.cache/cnnvar/<name>/`, where [`crate::find`]
//! looks). Each file goes to `<dir>/.<file>.part` first, hashed while it streams; an
//! existing `.part` is resumed with an HTTP `Range` request (a server that answers
//! with the whole file instead is read from the start). Only when the SHA-256 (and
//! size) match the pinned values is the file synced and renamed to its final name,
//! so a partial or corrupt download is never taken for the data set; a mismatch
//! deletes the `.part`. A connection cut mid-transfer is resumed up to three
//! times within one call, and the `.part` is kept for the next call after that.
//! CIFAR-10's archive is then extracted into `cifar-10-batches-bin/`, also
//! through a temporary directory renamed into place, and deleted.
//!
//! A file lock (`<dir>/.lock`) serialises concurrent fetches of one data set, so
//! that parallel workers that all find the data missing download it once.

use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use cnnvar_core::{DatasetName, Error, Result};
use flate2::bufread::GzDecoder;
use sha2::{Digest, Sha256};

use crate::cifar::{CIFAR10_DIR, CIFAR10_FILES, MAX_RECORDS, RECORD_BYTES};
use crate::hash;
use crate::locate::NAME_DATA_DIR;
use crate::shown;

/// Environment variable overriding every data set's base URL (see
/// [`FetchOptions::base_url`]).
pub const DATA_URL_ENV: &str = "CNNVAR_DATA_URL";
/// Environment variable that, set to anything but empty or `0`, forbids downloads.
pub const OFFLINE_ENV: &str = "CNNVAR_OFFLINE";
/// Environment variable that, set to `0`, stops [`crate::load`] from downloading a
/// data set it cannot find.
pub const AUTO_FETCH_ENV: &str = "CNNVAR_AUTO_FETCH";

/// Attempts per file when the connection is cut mid-transfer (each resumes).
const MAX_ATTEMPTS: usize = 3;
/// Bytes between two [`FetchProgress::Bytes`] reports.
const REPORT_EVERY: u64 = 1 << 20;

/// One file to download.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoteFile<'a> {
    /// Its path relative to the base URL.
    pub url_path: &'a str,
    /// The name it is stored under.
    pub name: &'a str,
    /// Its pinned SHA-256, lower-case hex.
    pub sha256: &'a str,
    /// Its size in bytes, if known.
    pub size: Option<u64>,
}

/// What to do with the downloaded files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unpack {
    /// Keep them as they are (IDX `.gz` files, which the IDX reader reads).
    Keep,
    /// Extract the `cifar-10-batches-bin/` files from the (single) `.tar.gz`
    /// archive into the data set's directory, then delete the archive.
    Cifar10TarGz,
}

/// Where a data set comes from.
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    /// The data set; it is stored in `<cache>/<name>/`.
    pub name: DatasetName,
    /// The canonical directory URL the files' paths are relative to.
    pub base_url: &'a str,
    /// The files.
    pub files: &'a [RemoteFile<'a>],
    /// What to do with them.
    pub unpack: Unpack,
}

/// The IDX files of MNIST and Fashion-MNIST, with their sizes and SHA-256 values.
const fn idx_files(sums: [(&'static str, u64, &'static str); 4]) -> [RemoteFile<'static>; 4] {
    let mut files = [RemoteFile { url_path: "", name: "", sha256: "", size: None }; 4];
    let mut i = 0;
    while i < 4 {
        let (name, size, sha256) = sums[i];
        files[i] = RemoteFile { url_path: name, name, sha256, size: Some(size) };
        i += 1;
    }
    files
}

/// MNIST, from PyTorch's mirror of LeCun's files (the original site no longer
/// serves them). Checksums as pinned by TensorFlow Datasets.
static MNIST_FILES: [RemoteFile<'static>; 4] = idx_files([
    (
        "train-images-idx3-ubyte.gz",
        9_912_422,
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    ),
    (
        "train-labels-idx1-ubyte.gz",
        28_881,
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    ),
    (
        "t10k-images-idx3-ubyte.gz",
        1_648_877,
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    ),
    (
        "t10k-labels-idx1-ubyte.gz",
        4_542,
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ),
]);

/// Fashion-MNIST, from Zalando Research's bucket. Checksums as pinned by
/// TensorFlow Datasets.
static FASHION_MNIST_FILES: [RemoteFile<'static>; 4] = idx_files([
    (
        "train-images-idx3-ubyte.gz",
        26_421_880,
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    ),
    (
        "train-labels-idx1-ubyte.gz",
        29_515,
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    ),
    (
        "t10k-images-idx3-ubyte.gz",
        4_422_102,
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    ),
    (
        "t10k-labels-idx1-ubyte.gz",
        5_148,
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    ),
]);

/// CIFAR-10's binary version, from Alex Krizhevsky's page. Checksum as pinned by
/// TensorFlow Datasets.
static CIFAR10_ARCHIVE: [RemoteFile<'static>; 1] = [RemoteFile {
    url_path: "cifar-10-binary.tar.gz",
    name: "cifar-10-binary.tar.gz",
    sha256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
    size: Some(170_052_171),
}];

/// Where data set `name` is downloaded from: canonical HTTPS hosts and pinned
/// SHA-256 values; `None` for an image folder, which is yours and is not downloaded.
pub fn source(name: DatasetName) -> Option<Source<'static>> {
    Some(match name {
        DatasetName::Folder => return None,
        DatasetName::Mnist => Source {
            name,
            base_url: "https://ossci-datasets.s3.amazonaws.com/mnist/",
            files: &MNIST_FILES,
            unpack: Unpack::Keep,
        },
        DatasetName::FashionMnist => Source {
            name,
            // The bucket's REST endpoint, which serves HTTPS (its website endpoint,
            // `fashion-mnist.s3-website.eu-central-1.amazonaws.com`, is HTTP only).
            base_url: "https://fashion-mnist.s3.eu-central-1.amazonaws.com/",
            files: &FASHION_MNIST_FILES,
            unpack: Unpack::Keep,
        },
        DatasetName::Cifar10 => Source {
            name,
            base_url: "https://www.cs.toronto.edu/~kriz/",
            files: &CIFAR10_ARCHIVE,
            unpack: Unpack::Cifar10TarGz,
        },
    })
}

/// How [`fetch`] works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchOptions {
    /// The cache directory; data set `name` goes to `<cache_dir>/<name>/`. Default
    /// ([`default_cache_dir`]): the user cache directory's `cnnvar`, e.g.
    /// `~/.cache/cnnvar`, where [`crate::find`] looks.
    pub cache_dir: PathBuf,
    /// Replaces the source's base URL (host and directory), for mirrors and tests.
    /// `{name}` in it stands for the data set's name, so one value can serve all
    /// data sets (`https://mirror.example/datasets/{name}/`).
    pub base_url: Option<String>,
    /// Forbid the network: only what is already cached is returned.
    pub offline: bool,
}

impl FetchOptions {
    /// Options with `cache_dir`, the canonical URLs, online.
    pub fn new(cache_dir: impl Into<PathBuf>) -> FetchOptions {
        FetchOptions { cache_dir: cache_dir.into(), base_url: None, offline: false }
    }

    /// The defaults: [`default_cache_dir`], the base URL from `$CNNVAR_DATA_URL`
    /// if set, offline if `$CNNVAR_OFFLINE` is set (to anything but empty or `0`).
    /// Errors if the system has no user cache directory.
    pub fn from_env() -> Result<FetchOptions> {
        let cache_dir = default_cache_dir().ok_or_else(|| {
            Error::environment(
                "HOME",
                "no user cache directory (neither $XDG_CACHE_HOME nor $HOME is set); name a \
                 cache directory (`cache_dir`)",
            )
        })?;
        Ok(FetchOptions { cache_dir, base_url: base_url_from_env(), offline: offline_from_env() })
    }
}

/// `$CNNVAR_DATA_URL`, if set and not empty.
pub fn base_url_from_env() -> Option<String> {
    std::env::var(DATA_URL_ENV).ok().filter(|u| !u.is_empty())
}

/// The user cache directory's `cnnvar` (`$XDG_CACHE_HOME/cnnvar` or
/// `~/.cache/cnnvar` on Linux), if the system has one.
pub fn default_cache_dir() -> Option<PathBuf> {
    dirs::cache_dir().map(|d| d.join("cnnvar"))
}

/// Whether `$CNNVAR_OFFLINE` forbids the network (set to anything but empty or `0`).
pub fn offline_from_env() -> bool {
    std::env::var_os(OFFLINE_ENV).is_some_and(|v| !v.is_empty() && v != "0")
}

/// What a fetch is doing, for a progress display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchProgress<'a> {
    /// A download starts, or resumes with `done` bytes already there.
    Started {
        /// The URL.
        url: &'a str,
        /// Bytes already downloaded.
        done: u64,
        /// The file's size, if known.
        total: Option<u64>,
    },
    /// More bytes arrived (reported about every MiB, and at the end).
    Bytes {
        /// The URL.
        url: &'a str,
        /// Bytes downloaded so far.
        done: u64,
        /// The file's size, if known.
        total: Option<u64>,
    },
    /// A file was verified and moved to its final place.
    Verified {
        /// The file.
        path: &'a Path,
    },
    /// An archive is being extracted.
    Extracting {
        /// The archive.
        archive: &'a Path,
    },
}

/// Downloads data set `name` into `<options.cache_dir>/<name>/` unless it is
/// already there, and returns the directory holding its files (for CIFAR-10 the
/// `cifar-10-batches-bin` inside it). See [`fetch_source`].
pub fn fetch(
    name: DatasetName,
    options: &FetchOptions,
    progress: &mut dyn FnMut(FetchProgress<'_>),
) -> Result<PathBuf> {
    let Some(source) = source(name) else {
        return Err(Error::download(
            name.as_str(),
            "an image folder is not downloaded: it is a folder of your own images, named by \
             `data_dir`",
        ));
    };
    fetch_source(&source, options, progress)
}

/// [`fetch`] for any source (tests use their own files and checksums).
///
/// Returns at once, without network, if the files are already cached. Offline,
/// errors saying what to do instead. Otherwise downloads the missing files
/// ([`fetch_files`]) and unpacks them as `source.unpack` says.
pub fn fetch_source(
    source: &Source<'_>,
    options: &FetchOptions,
    progress: &mut dyn FnMut(FetchProgress<'_>),
) -> Result<PathBuf> {
    let name = source.name;
    let dest = options.cache_dir.join(name.as_str());
    if let Some(dir) = cached(source, &dest) {
        return Ok(dir);
    }
    if options.offline {
        return Err(Error::download(
            name.as_str(),
            format!(
                "data set `{name}` is not in the cache ({}) and offline mode (`offline`, or \
             ${OFFLINE_ENV}) forbids downloading it; run `cnnvar data fetch {name}` on a machine \
             with internet access and copy the directory it prints to {} here, or \
             {NAME_DATA_DIR}",
                shown::display(&dest),
                shown::display(&dest)
            ),
        ));
    }
    fs::create_dir_all(&dest).map_err(|e| shown::io(&dest, e))?;
    let _lock = lock(&dest)?;
    // Another process may have fetched it while this one waited for the lock.
    if let Some(dir) = cached(source, &dest) {
        return Ok(dir);
    }
    let base = match &options.base_url {
        Some(url) => url.replace("{name}", name.as_str()),
        None => source.base_url.to_string(),
    };
    let paths = fetch_files(&dest, source.files, &base, progress)?;
    match source.unpack {
        Unpack::Keep => Ok(dest),
        Unpack::Cifar10TarGz => {
            let archive = paths.first().ok_or_else(|| {
                Error::download(name.as_str(), "its source lists no archive to download")
            })?;
            progress(FetchProgress::Extracting { archive });
            let dir = extract_cifar10(archive, &dest)?;
            // The extracted files are what the cache holds; the archive is not needed.
            let _ = fs::remove_file(archive);
            Ok(dir)
        }
    }
}

/// The directory holding `source`'s files in `dest` if they are all there.
///
/// Files reach their final names only once verified, and CIFAR-10's directory only
/// once completely extracted, so presence means verified.
fn cached(source: &Source<'_>, dest: &Path) -> Option<PathBuf> {
    match source.unpack {
        Unpack::Keep => {
            source.files.iter().all(|f| dest.join(f.name).is_file()).then(|| dest.into())
        }
        Unpack::Cifar10TarGz => {
            let dir = dest.join(CIFAR10_DIR);
            CIFAR10_FILES.iter().all(|f| dir.join(f).is_file()).then_some(dir)
        }
    }
}

/// Takes the exclusive lock of `dir` (released when the returned file is dropped).
fn lock(dir: &Path) -> Result<File> {
    let path = dir.join(".lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| shown::io(&path, e))?;
    file.lock().map_err(|e| shown::io(&path, e))?;
    Ok(file)
}

/// Downloads each of `files` from `base_url` into `dest_dir` (created if need be)
/// unless a file of its name is already there, verifying each against its SHA-256
/// and size; returns their paths, in order.
///
/// Each file is streamed to `dest_dir/.<name>.part`, resumed with a `Range` request
/// if that exists, and renamed to `dest_dir/<name>` only after verification. Errors
/// (one line each) name the URL: HTTP statuses other than 200 and 206, connection
/// failures, a checksum or size mismatch (the `.part` is deleted: nothing is
/// cached), or a transfer cut off three times (the `.part` is kept, and
/// the next call resumes it).
pub fn fetch_files(
    dest_dir: &Path,
    files: &[RemoteFile<'_>],
    base_url: &str,
    progress: &mut dyn FnMut(FetchProgress<'_>),
) -> Result<Vec<PathBuf>> {
    fs::create_dir_all(dest_dir).map_err(|e| shown::io(dest_dir, e))?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .timeout_per_read(Some(Duration::from_secs(60)))
        .user_agent(concat!("cnnvar/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut paths = Vec::with_capacity(files.len());
    for file in files {
        let path = dest_dir.join(file.name);
        if !path.is_file() {
            let url = format!("{}/{}", base_url.trim_end_matches('/'), file.url_path);
            fetch_one(&agent, &url, &path, file, progress)?;
            progress(FetchProgress::Verified { path: &path });
        }
        paths.push(path);
    }
    Ok(paths)
}

/// Why one download attempt failed.
enum Failure {
    /// The connection broke mid-transfer; what arrived is kept in the `.part`.
    Cut(String),
    /// Anything else: give up.
    Fatal(Error),
}

/// Downloads, verifies and moves into place one file.
fn fetch_one(
    agent: &ureq::Agent,
    url: &str,
    path: &Path,
    file: &RemoteFile<'_>,
    progress: &mut dyn FnMut(FetchProgress<'_>),
) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let part = dir.join(format!(".{}.part", file.name));
    let mut attempt = 0;
    let (sha, len) = loop {
        attempt += 1;
        match download(agent, url, &part, file, progress) {
            Ok(done) => break done,
            Err(Failure::Cut(_)) if attempt < MAX_ATTEMPTS => {}
            Err(Failure::Cut(why)) => {
                let have = fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
                return Err(Error::download(
                    url,
                    format!(
                        "transfer cut off {attempt} times (last: {why}); the {have} bytes \
                     received are kept in {} and the next fetch resumes from there",
                        shown::display(&part)
                    ),
                ));
            }
            Err(Failure::Fatal(e)) => return Err(e),
        }
    };
    let size_ok = file.size.is_none_or(|s| s == len);
    if sha != file.sha256 || !size_ok {
        let _ = fs::remove_file(&part);
        let size = file.size.map(|s| format!(", expected {s} bytes")).unwrap_or_default();
        return Err(Error::download(
            url,
            format!(
                "SHA-256 mismatch: expected {}, got {sha} ({len} bytes{size}); the download \
             was discarded and nothing was cached (a wrong `base_url` or ${DATA_URL_ENV} \
             mirror, or a changed file on the server)",
                file.sha256
            ),
        ));
    }
    fs::rename(&part, path).map_err(|e| shown::io(path, e))?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// One attempt at downloading `url` into `part`, resuming what is there. Returns
/// the SHA-256 of the whole file and its length; the data is synced to disk.
fn download(
    agent: &ureq::Agent,
    url: &str,
    part: &Path,
    file: &RemoteFile<'_>,
    progress: &mut dyn FnMut(FetchProgress<'_>),
) -> std::result::Result<(String, u64), Failure> {
    let mut hasher = Sha256::new();
    let offset = hash_existing(part, file, &mut hasher)?;
    if offset > 0 && file.size == Some(offset) {
        return Ok((hash::hex(&hasher.finalize()), offset));
    }
    let response = request(agent, url, offset)?;
    let sink = open_sink(&response, url, part, file, offset, &mut hasher)?;
    let mut body = response.into_body().into_reader();
    let done = stream(&mut body, sink, &mut hasher, url, part, file, progress)?;
    Ok((hash::hex(&hasher.finalize()), done))
}

/// Turns an I/O error on `part` into a fatal failure.
fn fatal_io(part: &Path) -> impl Fn(io::Error) -> Failure + '_ {
    move |e| Failure::Fatal(shown::io(part, e))
}

/// Feeds the bytes already in `part` into `hasher` and returns how many there are:
/// where the download resumes. A `.part` longer than the pinned size is deleted
/// (resuming at 0).
fn hash_existing(
    part: &Path,
    file: &RemoteFile<'_>,
    hasher: &mut Sha256,
) -> std::result::Result<u64, Failure> {
    let mut offset = fs::metadata(part).map(|m| m.len()).unwrap_or(0);
    if file.size.is_some_and(|s| offset > s) {
        fs::remove_file(part).map_err(fatal_io(part))?;
        offset = 0;
    }
    if offset > 0 {
        let mut existing = File::open(part).map_err(fatal_io(part))?;
        offset = io::copy(&mut existing, &mut HashWriter(hasher)).map_err(fatal_io(part))?;
    }
    Ok(offset)
}

/// Sends the GET, asking for the bytes from `offset` on when there are some already.
fn request(
    agent: &ureq::Agent,
    url: &str,
    offset: u64,
) -> std::result::Result<ureq::http::Response<ureq::Body>, Failure> {
    let mut request = agent.get(url);
    if offset > 0 {
        request = request.header("Range", format!("bytes={offset}-"));
    }
    request.call().map_err(|e| {
        Failure::Fatal(Error::download(
            url,
            format!(
                "GET failed: {e}; check the network connection (or work `offline`, with \
             `data_dir` naming files copied from elsewhere)"
            ),
        ))
    })
}

/// Where the body of a response goes: the `.part`, opened at `offset`, and the whole
/// file's expected length, when known.
struct Sink {
    out: File,
    offset: u64,
    total: Option<u64>,
}

/// Opens the `.part` for the response: appended to on a `206` that continues at
/// `offset`, truncated (and `hasher` reset) on a `200`, which carries the whole file.
/// A range other than the one asked for, or a `416`, deletes the `.part` and counts
/// as a cut, so that the next attempt starts from scratch; any other status is fatal.
fn open_sink(
    response: &ureq::http::Response<ureq::Body>,
    url: &str,
    part: &Path,
    file: &RemoteFile<'_>,
    offset: u64,
    hasher: &mut Sha256,
) -> std::result::Result<Sink, Failure> {
    let status = response.status();
    let header =
        |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let length = header("content-length").and_then(|v| v.trim().parse::<u64>().ok());
    match status.as_u16() {
        206 if offset > 0 => {
            let range = header("content-range").unwrap_or_default();
            match parse_content_range(&range) {
                Some((start, total)) if start == offset => {
                    let out = File::options().append(true).open(part).map_err(fatal_io(part))?;
                    let total = total.or(file.size).or(length.map(|l| l + offset));
                    Ok(Sink { out, offset, total })
                }
                _ => {
                    // Not the range asked for: start again from scratch.
                    fs::remove_file(part).map_err(fatal_io(part))?;
                    Err(Failure::Cut(format!(
                        "asked for bytes {offset}- but the server sent range `{range}`"
                    )))
                }
            }
        }
        200 => {
            // The whole file (a server that does not resume): start from scratch.
            *hasher = Sha256::new();
            let out = File::create(part).map_err(fatal_io(part))?;
            Ok(Sink { out, offset: 0, total: length.or(file.size) })
        }
        416 if offset > 0 => {
            fs::remove_file(part).map_err(fatal_io(part))?;
            Err(Failure::Cut(format!("server refused to resume at byte {offset} (416)")))
        }
        code => {
            let reason = status.canonical_reason().unwrap_or("");
            Err(Failure::Fatal(Error::download(
                url,
                format!(
                    "GET failed: HTTP {code} {reason}; expected 200 (check the URL, or try \
                 again later)"
                ),
            )))
        }
    }
}

/// Copies `body` into the sink, hashing and reporting progress as it goes, and
/// returns the file's length so far. A read error or a body shorter than the expected
/// length is a cut (the data is synced first, for the next attempt); more bytes than
/// expected is fatal and deletes the `.part`.
fn stream(
    body: &mut dyn Read,
    sink: Sink,
    hasher: &mut Sha256,
    url: &str,
    part: &Path,
    file: &RemoteFile<'_>,
    progress: &mut dyn FnMut(FetchProgress<'_>),
) -> std::result::Result<u64, Failure> {
    let Sink { mut out, offset, total } = sink;
    let mut done = offset;
    progress(FetchProgress::Started { url, done, total });
    let mut reported = done;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                out.sync_all().map_err(fatal_io(part))?;
                return Err(Failure::Cut(format!("{e} after {done} bytes")));
            }
        };
        out.write_all(&buf[..n]).map_err(fatal_io(part))?;
        hasher.update(&buf[..n]);
        done += n as u64;
        if let Some(limit) = file.size.or(total)
            && done > limit
        {
            drop(out);
            let _ = fs::remove_file(part);
            return Err(Failure::Fatal(Error::download(
                url,
                format!(
                    "the server sent more than the expected {limit} bytes; the download was \
                 discarded and nothing was cached"
                ),
            )));
        }
        if done - reported >= REPORT_EVERY {
            progress(FetchProgress::Bytes { url, done, total });
            reported = done;
        }
    }
    progress(FetchProgress::Bytes { url, done, total });
    out.sync_all().map_err(fatal_io(part))?;
    if let Some(total) = total
        && done < total
    {
        return Err(Failure::Cut(format!("connection closed after {done} of {total} bytes")));
    }
    Ok(done)
}

/// Parses `bytes START-END/TOTAL` (TOTAL may be `*`) into (START, TOTAL).
fn parse_content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (start, _end) = range.split_once('-')?;
    let start = start.trim().parse().ok()?;
    let total = total.trim().parse().ok();
    Some((start, total))
}

/// Feeds everything written to it into a hasher.
struct HashWriter<'a>(&'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Extracts the six batch files (and the metadata) from CIFAR-10's `archive` into
/// `dest/cifar-10-batches-bin`, through a temporary directory renamed into place.
fn extract_cifar10(archive: &Path, dest: &Path) -> Result<PathBuf> {
    let tmp = dest.join(format!(".{CIFAR10_DIR}.tmp"));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| shown::io(&tmp, e))?;
    }
    fs::create_dir(&tmp).map_err(|e| shown::io(&tmp, e))?;
    let corrupt =
        |e: io::Error| shown::data(archive, format!("truncated or corrupt tar.gz archive ({e})"));
    let file = File::open(archive).map_err(|e| shown::io(archive, e))?;
    let mut tar = tar::Archive::new(GzDecoder::new(BufReader::new(file)));
    let mut found = [false; CIFAR10_FILES.len()];
    let max_size = MAX_RECORDS * RECORD_BYTES as u64;
    for entry in tar.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path().map_err(corrupt)?.into_owned();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        let index = CIFAR10_FILES.iter().position(|f| *f == name);
        if index.is_none() && name != "batches.meta.txt" && name != "readme.html" {
            continue;
        }
        let size = entry.header().size().map_err(corrupt)?;
        if size > max_size {
            return Err(shown::data(
                archive,
                format!("{name} in the archive is {size} bytes; expected at most {max_size}"),
            ));
        }
        let out_path = tmp.join(name);
        let mut out = File::create(&out_path).map_err(|e| shown::io(&out_path, e))?;
        let copied = io::copy(&mut (&mut entry).take(size), &mut out).map_err(corrupt)?;
        if copied != size {
            return Err(shown::data(
                archive,
                format!("{name} ends after {copied} of {size} bytes; the archive is truncated"),
            ));
        }
        out.sync_all().map_err(|e| shown::io(&out_path, e))?;
        if let Some(i) = index {
            found[i] = true;
        }
    }
    let missing: Vec<&str> =
        CIFAR10_FILES.iter().zip(found).filter(|(_, f)| !f).map(|(n, _)| *n).collect();
    if !missing.is_empty() {
        let _ = fs::remove_dir_all(&tmp);
        return Err(shown::data(
            archive,
            format!(
                "the archive lacks {}; expected {CIFAR10_DIR}/ with {}",
                missing.join(", "),
                CIFAR10_FILES.join(", ")
            ),
        ));
    }
    let dir = dest.join(CIFAR10_DIR);
    if dir.exists() {
        fs::remove_dir_all(&dir).map_err(|e| shown::io(&dir, e))?;
    }
    fs::rename(&tmp, &dir).map_err(|e| shown::io(&dir, e))?;
    if let Ok(d) = File::open(dest) {
        let _ = d.sync_all();
    }
    Ok(dir)
}

#[cfg(test)]
mod tests;
