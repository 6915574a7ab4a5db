//! Finding a data set on disk, and loading it from there.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use cnnvar_core::{DatasetName, Error, ImageShape, Result, RunSpec};
use serde::Serialize;

use crate::cifar::{CIFAR10_DIR, CIFAR10_FILES, load_cifar10_dir};
use crate::dataset::DataSplit;
#[cfg(feature = "fetch")]
use crate::fetch::{AUTO_FETCH_ENV, FetchOptions, fetch, offline_from_env};
use crate::load::{idx_paths, load_idx_dir};
use crate::shown;

/// The environment variable naming a directory of data sets (or of one data set).
pub const DATA_DIR_ENV: &str = "CNNVAR_DATA_DIR";

/// How to name the directory of a named data set's files, for messages: the setting
/// and the environment variable (a front end shows the setting in its own terms).
pub(crate) const NAME_DATA_DIR: &str =
    "put its files in a directory and set `data_dir` (or $CNNVAR_DATA_DIR) to that directory";

/// The data directory rule: which directory, if any, data set `name` is read from.
///
/// This is the one place the rule is decided: [`find`], [`load`], [`load_noting`],
/// [`load_spec`] and [`info`] follow it, and a front end or planner that needs to know
/// the directory should call it. Highest first:
///
/// 1. `given`: a directory the caller names for this read (a front end's own
///    `data_dir` setting, such as a command-line option). It wins over everything, so
///    that data moved elsewhere can be named without editing any file.
/// 2. For an image folder ([`DatasetName::Folder`]): `spec_dir`, the spec's (or
///    study's) `data_dir`. For a named data set: `$CNNVAR_DATA_DIR` ([`DATA_DIR_ENV`])
///    unless unset or empty. An image folder never reads `$CNNVAR_DATA_DIR`, which
///    names a directory of data sets; a named data set has no `data_dir` in its spec
///    (validation refuses one), so `spec_dir` is not used for it.
/// 3. Neither: `Ok(None)` for a named data set, which is then looked for in its usual
///    places ([`find`]) and may be downloaded ([`load`]). An image folder has no usual
///    place: the error is [`Error::Setting`] for `data_dir`, saying that the image
///    folder must be named, the same error wherever a folder is read without one.
///
/// A directory chosen by 1 or 2 is the only place looked in: one that does not hold the
/// data set is an error, never a fallback to the usual places or a download.
pub fn resolve_data_dir(
    name: DatasetName,
    given: Option<&Path>,
    spec_dir: Option<&Path>,
) -> Result<Option<PathBuf>> {
    resolve_data_dir_with(name, given, spec_dir, std::env::var_os(DATA_DIR_ENV))
}

/// [`resolve_data_dir`] with `env` as `$CNNVAR_DATA_DIR`'s value.
fn resolve_data_dir_with(
    name: DatasetName,
    given: Option<&Path>,
    spec_dir: Option<&Path>,
    env: Option<OsString>,
) -> Result<Option<PathBuf>> {
    if let Some(dir) = given {
        return Ok(Some(dir.to_path_buf()));
    }
    if name == DatasetName::Folder {
        return match spec_dir {
            Some(dir) => Ok(Some(dir.to_path_buf())),
            None => Err(no_image_folder()),
        };
    }
    Ok(env.filter(|e| !e.is_empty()).map(PathBuf::from))
}

/// The error for an image folder read without a folder named.
fn no_image_folder() -> Error {
    Error::setting(
        "data_dir",
        "dataset = \"folder\" needs the image folder, a folder holding one folder of images \
         per class, and none was given: set `data_dir` to it ($CNNVAR_DATA_DIR names a \
         directory of named data sets and is not used for image folders)",
    )
}

/// Finds the directory holding data set `name`.
///
/// Where it looks follows the data directory rule ([`resolve_data_dir`], with
/// `data_dir` as the given directory). An image folder is only ever that directory
/// itself (what it holds is checked as it is read); without one it is the rule's
/// error. For a named data set, with a directory (`data_dir`, or else a non-empty
/// `$CNNVAR_DATA_DIR`), looks only there: in that directory itself, then in its
/// `<name>` (an empty or missing directory is the same error either way, never a
/// fallback elsewhere). Without either, looks in order in the user cache directory's
/// `cnnvar/<name>` (e.g. `~/.cache/cnnvar/fashion-mnist`) and the Debian package's
/// directory (`/usr/share/datasets/fashion-mnist` or `/usr/share/datasets/mnist`).
///
/// A directory counts when it holds the four IDX files (see
/// [`crate::IDX_FILES`]), or for CIFAR-10 the six binary batch files, in it
/// or in its `cifar-10-batches-bin`. Returns [`Error::DataNotFound`], listing every
/// place searched and how to get the data, when none does.
pub fn find(name: DatasetName, data_dir: Option<&Path>) -> Result<PathBuf> {
    let explicit = resolve_data_dir(name, data_dir, None)?;
    let candidates = candidates(name, explicit, dirs::cache_dir());
    let mut searched = Vec::with_capacity(candidates.len());
    for dir in candidates {
        match check(name, &dir) {
            Ok(found) => return Ok(found),
            Err(why) => searched.push(format!("{} ({why})", shown::display(&dir))),
        }
    }
    Err(Error::DataNotFound {
        name: name.to_string(),
        searched: searched.join(", "),
        hint: hint(name),
    })
}

/// Finds data set `name` (see [`find`]) and reads it.
///
/// Without `data_dir`, and with the `fetch` feature, a data set found nowhere is first
/// downloaded into the user cache (`fetch()`), unless `$CNNVAR_AUTO_FETCH` is `0` or `$CNNVAR_OFFLINE` is set;
/// if that fails, the [`Error::DataNotFound`] says why. [`load_noting`] also says when
/// it downloads.
pub fn load(name: DatasetName, data_dir: Option<&Path>) -> Result<DataSplit> {
    load_noting(name, data_dir, &mut |_| {})
}

/// [`load`], telling `note` in one line what it does beyond reading (a download on
/// first use), for the caller to show: a library does not print.
#[cfg(feature = "fetch")]
pub fn load_noting(
    name: DatasetName,
    data_dir: Option<&Path>,
    note: &mut dyn FnMut(&str),
) -> Result<DataSplit> {
    let explicit = resolve_data_dir(name, data_dir, None)?;
    let auto = explicit.is_none()
        && std::env::var_os(AUTO_FETCH_ENV).is_none_or(|v| v != "0")
        && !offline_from_env();
    let options = if auto { Some(FetchOptions::from_env()) } else { None };
    load_or_fetch(name, explicit.as_deref(), options, note)
}

/// [`load`] without the `fetch` feature: a data set not on disk is
/// [`Error::DataNotFound`], and there is nothing to note.
#[cfg(not(feature = "fetch"))]
pub fn load_noting(
    name: DatasetName,
    data_dir: Option<&Path>,
    _note: &mut dyn FnMut(&str),
) -> Result<DataSplit> {
    find(name, data_dir).and_then(|dir| load_from(name, &dir))
}

/// [`load`], downloading with `fetch_options` (if any) what is not found.
#[cfg(feature = "fetch")]
fn load_or_fetch(
    name: DatasetName,
    data_dir: Option<&Path>,
    fetch_options: Option<Result<FetchOptions>>,
    note: &mut dyn FnMut(&str),
) -> Result<DataSplit> {
    match (find(name, data_dir), fetch_options) {
        (Ok(dir), _) => load_from(name, &dir),
        (Err(Error::DataNotFound { name: n, searched, hint }), Some(options)) => {
            let fetched = options.and_then(|options| {
                note(&format!(
                    "data set `{name}` not found; downloading it into {} (set \
                     {AUTO_FETCH_ENV}=0 to forbid)",
                    shown::display(&options.cache_dir.join(name.as_str()))
                ));
                fetch(name, &options, &mut |_| {})
            });
            match fetched {
                Ok(dir) => load_from(name, &dir),
                Err(e) => Err(Error::DataNotFound {
                    name: n,
                    searched,
                    hint: format!("{hint} (Downloading it automatically failed: {e})"),
                }),
            }
        }
        (Err(e), _) => Err(e),
    }
}

/// Reads data set `name` from `dir`, a directory [`find`] returned, and checks that
/// its images have the data set's shape ([`expected_shape`]). An image folder is read
/// with the default [`crate::FolderOptions`].
fn load_from(name: DatasetName, dir: &Path) -> Result<DataSplit> {
    let split = match name {
        DatasetName::FashionMnist | DatasetName::Mnist => load_idx_dir(dir, name)?,
        DatasetName::Cifar10 => load_cifar10_dir(dir)?,
        DatasetName::Folder => load_image_folder(dir, &RunSpec::default())?.0,
    };
    check_shape(&split)?;
    Ok(split)
}

/// Reads the data of `spec`, with the data memory limit
/// ([`crate::limits::max_data_bytes`]): the training and test sets, and the name of
/// each class, indexed by label.
///
/// - A named data set is found and loaded as [`load_noting`] does (`data_dir` is where
///   its files are, if given); its class names are [`DatasetName::class_names`].
/// - An image folder (`dataset = "folder"`) is read from `data_dir` if given, else from
///   the spec's `data_dir` ([`resolve_data_dir`]; neither is its error), with the spec's
///   `channels`, `image_size` and `test_fraction` ([`folder_options`]); its class names
///   are its class folders'. When the spec has a `data_sha256`, a folder whose content
///   has another checksum is refused, naming the folder and both checksums.
pub fn load_spec(
    spec: &RunSpec,
    data_dir: Option<&Path>,
    note: &mut dyn FnMut(&str),
) -> Result<(DataSplit, Vec<String>)> {
    if spec.dataset != DatasetName::Folder {
        let split = load_noting(spec.dataset, data_dir, note)?;
        let names = spec.dataset.class_names().iter().map(|n| n.to_string()).collect();
        return Ok((split, names));
    }
    let Some(dir) = resolve_data_dir(spec.dataset, data_dir, spec.data_dir.as_deref())? else {
        return Err(no_image_folder());
    };
    let (split, names) = load_image_folder(&dir, spec)?;
    if let Some(expected) = &spec.data_sha256
        && *expected != split.sha256
    {
        return Err(shown::data(
            &dir,
            format!(
                "holds other images than this run was planned on: its content (read with the \
                 spec's channels, image_size and test_fraction) has sha256 {}, the spec's \
                 data_sha256 is {expected}; put the images back as they were (or set \
                 `data_dir` to where they are now), or start a study in another output \
                 directory on the new images",
                split.sha256
            ),
        ));
    }
    Ok((split, names))
}

/// How [`load_spec`] reads the image folder of `spec`: its `channels`, `image_size`
/// and `test_fraction` (default [`cnnvar_core::DEFAULT_TEST_FRACTION`]), and a split
/// seed of 0 whatever the run's seeds, so that every run on a folder tests on the same
/// images.
#[cfg(feature = "folder")]
pub fn folder_options(spec: &RunSpec) -> crate::FolderOptions {
    crate::FolderOptions {
        channels: spec.channels,
        image_size: spec.image_size.map(|[h, w]| (h, w)),
        test_fraction: spec.test_fraction.unwrap_or(cnnvar_core::DEFAULT_TEST_FRACTION),
        seed: 0,
    }
}

/// Reads the image folder `dir` as `spec` says ([`folder_options`]).
#[cfg(feature = "folder")]
fn load_image_folder(dir: &Path, spec: &RunSpec) -> Result<(DataSplit, Vec<String>)> {
    Ok(crate::load_folder(dir, &folder_options(spec))?.into_split(DatasetName::Folder))
}

/// Without the `folder` feature an image folder cannot be read.
#[cfg(not(feature = "folder"))]
fn load_image_folder(dir: &Path, _spec: &RunSpec) -> Result<(DataSplit, Vec<String>)> {
    Err(shown::data(
        dir,
        "is an image folder, but this build of cnnvar-data has no image reader (its `folder` \
         feature is off)",
    ))
}

/// The shape of every image of data set `name`: 28×28 grey for Fashion-MNIST and
/// MNIST, 32×32 colour for CIFAR-10; `None` for an image folder, whose images are as
/// its files (or its spec's `channels` and `image_size`) say.
pub fn expected_shape(name: DatasetName) -> Option<ImageShape> {
    match name {
        DatasetName::FashionMnist | DatasetName::Mnist => Some(ImageShape::MNIST),
        DatasetName::Cifar10 => Some(ImageShape::CIFAR10),
        DatasetName::Folder => None,
    }
}

/// Refuses a data set whose images are not its name's shape (a 32×32 set named
/// `mnist` is not MNIST), naming the training images' file.
fn check_shape(split: &DataSplit) -> Result<()> {
    let Some(expected) = expected_shape(split.name) else { return Ok(()) };
    let found = split.train.shape();
    if found == expected {
        return Ok(());
    }
    Err(shown::data(
        train_images_file(split),
        format!(
            "images are {found} (H×W×C); a data set named {} must hold {expected} images",
            split.name
        ),
    ))
}

/// The file the training images of `split` came from, for error messages.
pub fn train_images_file(split: &DataSplit) -> PathBuf {
    match split.name {
        DatasetName::Cifar10 => return split.source.join(CIFAR10_FILES[0]),
        DatasetName::Folder => return split.source.clone(),
        DatasetName::FashionMnist | DatasetName::Mnist => {}
    }
    match idx_paths(&split.source) {
        Ok([images, ..]) => images,
        Err(_) => split.source.join(crate::IDX_FILES[0]),
    }
}

/// The places [`find`] looks, in order: in the `explicit` directory the data
/// directory rule chose ([`resolve_data_dir`]), else in the usual places.
fn candidates(
    name: DatasetName,
    explicit: Option<PathBuf>,
    cache: Option<PathBuf>,
) -> Vec<PathBuf> {
    if let Some(dir) = explicit {
        if name == DatasetName::Folder {
            return vec![dir];
        }
        return vec![dir.clone(), dir.join(name.as_str())];
    }
    let mut dirs = Vec::new();
    if let Some(cache) = cache {
        dirs.push(cache.join("cnnvar").join(name.as_str()));
    }
    match name {
        DatasetName::FashionMnist => dirs.push("/usr/share/datasets/fashion-mnist".into()),
        DatasetName::Mnist => dirs.push("/usr/share/datasets/mnist".into()),
        DatasetName::Cifar10 | DatasetName::Folder => {}
    }
    dirs
}

/// The directory in `dir` that holds `name`'s files, or why there is none.
fn check(name: DatasetName, dir: &Path) -> std::result::Result<PathBuf, String> {
    if !dir.is_dir() {
        return Err("no such directory".into());
    }
    match name {
        DatasetName::FashionMnist | DatasetName::Mnist => match idx_paths(dir) {
            Ok(_) => Ok(dir.to_path_buf()),
            Err(missing) => Err(format!("missing {}", missing.join(", "))),
        },
        DatasetName::Cifar10 => {
            let has_all = |d: &Path| CIFAR10_FILES.iter().all(|f| d.join(f).is_file());
            let nested = dir.join(CIFAR10_DIR);
            if has_all(&nested) {
                Ok(nested)
            } else if has_all(dir) {
                Ok(dir.to_path_buf())
            } else {
                let archive = if dir.join("cifar-10-binary.tar.gz").is_file() {
                    "; it holds cifar-10-binary.tar.gz, which must be extracted"
                } else {
                    ""
                };
                Err(format!("no {} (in it or in {CIFAR10_DIR}){archive}", CIFAR10_FILES.join(", ")))
            }
        }
        // What the folder holds is checked as it is read.
        DatasetName::Folder => Ok(dir.to_path_buf()),
    }
}

/// How to get data set `name`.
fn hint(name: DatasetName) -> String {
    match name {
        DatasetName::FashionMnist => format!(
            "Install Debian's package with `sudo apt-get install dataset-fashion-mnist`, or \
             run `cnnvar data fetch fashion-mnist`, or {NAME_DATA_DIR} (the four IDX files \
             train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and \
             t10k-labels-idx1-ubyte, each optionally .gz)."
        ),
        DatasetName::Folder => "An image folder is only read from the directory `data_dir` \
             names, a folder holding one folder of images per class."
            .into(),
        _ => format!("Run `cnnvar data fetch {name}`, or {NAME_DATA_DIR}."),
    }
}

/// What `cnnvar data info` reports about one data set.
#[derive(Clone, Debug, Serialize)]
pub struct DataInfo {
    /// The data set.
    pub name: DatasetName,
    /// Where it was found, if anywhere.
    pub path: Option<PathBuf>,
    /// Training examples, if it loaded.
    pub train: Option<usize>,
    /// Test examples, if it loaded.
    pub test: Option<usize>,
    /// Shape of one image, if it loaded.
    pub shape: Option<ImageShape>,
    /// The data set's hash ([`DataSplit::sha256`]), if it loaded.
    pub sha256: Option<String>,
    /// Why it could not be found or loaded.
    pub error: Option<String>,
}

impl std::fmt::Display for DataInfo {
    /// One line: `name: path, N train + M test, shape, sha256 …` or the error.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.path, &self.error) {
            (Some(path), None) => write!(
                f,
                "{}: {}, {} train + {} test, {}, sha256 {}",
                self.name,
                shown::display(path),
                self.train.unwrap_or(0),
                self.test.unwrap_or(0),
                self.shape.map(|s| s.to_string()).unwrap_or_default(),
                self.sha256.as_deref().unwrap_or("")
            ),
            (_, Some(error)) => write!(f, "{}: not available: {error}", self.name),
            (None, None) => write!(f, "{}: not found", self.name),
        }
    }
}

/// Finds and loads every known data set (see [`find`] for where `data_dir` points),
/// reporting for each where it is, its sizes and hash, or what went wrong. (Image
/// folders are not among them: they have no usual place.)
pub fn info(data_dir: Option<&Path>) -> Vec<DataInfo> {
    DatasetName::ALL
        .iter()
        .filter(|&&name| name != DatasetName::Folder)
        .map(|&name| {
            let mut info = DataInfo {
                name,
                path: None,
                train: None,
                test: None,
                shape: None,
                sha256: None,
                error: None,
            };
            match find(name, data_dir) {
                Err(e) => info.error = Some(e.to_string()),
                Ok(dir) => {
                    let loaded = load_from(name, &dir);
                    info.path = Some(dir);
                    match loaded {
                        Ok(split) => {
                            info.train = Some(split.train.len());
                            info.test = Some(split.test.len());
                            info.shape = Some(split.train.shape());
                            info.sha256 = Some(split.sha256);
                        }
                        Err(e) => info.error = Some(e.to_string()),
                    }
                }
            }
            info
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where [`find`] looks, given `data_dir`, `$CNNVAR_DATA_DIR` and the cache.
    fn searched(
        name: DatasetName,
        data_dir: Option<&Path>,
        env: Option<OsString>,
        cache: Option<PathBuf>,
    ) -> Vec<PathBuf> {
        let explicit = resolve_data_dir_with(name, data_dir, None, env).expect("rule");
        candidates(name, explicit, cache)
    }

    #[test]
    fn explicit_dir_is_the_only_place() {
        let dirs = searched(
            DatasetName::FashionMnist,
            Some(Path::new("/x")),
            Some("/env".into()),
            Some("/cache".into()),
        );
        assert_eq!(dirs, [PathBuf::from("/x"), PathBuf::from("/x/fashion-mnist")]);
    }

    /// `$CNNVAR_DATA_DIR` is an explicit directory like a given `data_dir`: only it is
    /// searched, so an empty or missing one is an error, not the system's data set.
    #[test]
    fn env_dir_is_the_only_place_like_data_dir() {
        let dirs = searched(DatasetName::Mnist, None, Some("/env".into()), Some("/c".into()));
        assert_eq!(dirs, [PathBuf::from("/env"), PathBuf::from("/env/mnist")]);
        let dirs = searched(DatasetName::Mnist, None, Some("".into()), Some("/c".into()));
        assert_eq!(dirs[0], PathBuf::from("/c/cnnvar/mnist"));
    }

    /// The data directory rule: a given directory beats the spec's `data_dir` (image
    /// folders) or `$CNNVAR_DATA_DIR` (named data sets, when not empty), and without
    /// either a named data set is looked for in its usual places while an image folder
    /// is an error naming the setting.
    #[test]
    fn the_data_dir_rule() {
        use DatasetName::{Folder, Mnist};
        let (x, spec) = (Some(Path::new("/x")), Some(Path::new("/spec")));
        let env = || Some(OsString::from("/env"));
        let rule = |name, given, spec_dir, env| {
            resolve_data_dir_with(name, given, spec_dir, env).expect("a named set or a folder")
        };
        assert_eq!(rule(Mnist, x, None, env()), Some(PathBuf::from("/x")));
        assert_eq!(rule(Mnist, None, None, env()), Some(PathBuf::from("/env")));
        assert_eq!(rule(Mnist, None, None, Some(OsString::new())), None);
        assert_eq!(rule(Mnist, None, None, None), None);
        assert_eq!(rule(Folder, x, spec, env()), Some(PathBuf::from("/x")));
        assert_eq!(rule(Folder, None, spec, env()), Some(PathBuf::from("/spec")));
        let err = resolve_data_dir_with(Folder, None, None, env()).expect_err("no folder");
        assert!(matches!(&err, Error::Setting { setting, .. } if setting == "data_dir"), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("image folder") && msg.contains("$CNNVAR_DATA_DIR"), "{msg}");
        assert!(!msg.contains("--"), "names no command-line flag: {msg}");
    }

    #[test]
    fn search_order_without_explicit_dir() {
        let dirs = searched(DatasetName::Mnist, None, None, Some("/c".into()));
        let expected: Vec<PathBuf> =
            ["/c/cnnvar/mnist", "/usr/share/datasets/mnist"].iter().map(PathBuf::from).collect();
        assert_eq!(dirs, expected);
        let dirs = searched(DatasetName::Cifar10, None, None, None);
        assert!(dirs.is_empty());
    }

    #[test]
    fn not_found_names_the_dir_and_the_setting() {
        let tmp = tempfile::tempdir().expect("temp dir");
        for name in DatasetName::ALL.iter().filter(|&&n| n != DatasetName::Folder) {
            let err = find(*name, Some(tmp.path())).expect_err("empty dir must not be found");
            assert!(matches!(err, Error::DataNotFound { .. }), "{err:?}");
            let msg = err.to_string();
            assert!(msg.contains(&tmp.path().display().to_string()), "{msg}");
            assert!(msg.contains("`data_dir`") && msg.contains("$CNNVAR_DATA_DIR"), "{msg}");
            assert!(!msg.contains("--"), "names no command-line flag: {msg}");
            assert!(msg.contains(name.as_str()), "{msg}");
        }
        let msg = find(DatasetName::FashionMnist, Some(tmp.path())).expect_err("empty").to_string();
        assert!(msg.contains("apt-get install dataset-fashion-mnist"), "{msg}");
        assert!(msg.contains("missing train-images-idx3-ubyte"), "{msg}");
        let missing = tmp.path().join("nope");
        let msg = load(DatasetName::Mnist, Some(&missing)).expect_err("missing").to_string();
        assert!(msg.contains("no such directory") && msg.contains("nope"), "{msg}");
    }

    #[test]
    fn cifar10_is_found_nested_and_read() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let nested = tmp.path().join(CIFAR10_DIR);
        std::fs::create_dir(&nested).expect("mkdir");
        for f in CIFAR10_FILES {
            crate::cifar::write_batch(&nested.join(f), &[7; 2 * 3072], &[1, 2]).expect("write");
        }
        assert_eq!(find(DatasetName::Cifar10, Some(tmp.path())).expect("found"), nested);
        let split = load(DatasetName::Cifar10, Some(tmp.path())).expect("load");
        assert_eq!((split.train.len(), split.test.len()), (10, 2));
        assert_eq!(split.source, nested);
        let infos = info(Some(tmp.path()));
        let cifar = infos.iter().find(|i| i.name == DatasetName::Cifar10).expect("cifar info");
        assert_eq!((cifar.train, cifar.test), (Some(10), Some(2)));
    }

    #[cfg(feature = "fetch")]
    #[test]
    fn failed_auto_fetch_is_appended_to_not_found() {
        if find(DatasetName::Cifar10, None).is_ok() {
            return; // This machine has CIFAR-10: nothing would be fetched.
        }
        // A port nobody listens on: the connection is refused at once.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("bind")
            .port();
        let tmp = tempfile::tempdir().expect("temp dir");
        let options = FetchOptions {
            base_url: Some(format!("http://127.0.0.1:{port}/{{name}}/")),
            ..FetchOptions::new(tmp.path())
        };
        let mut notes = Vec::new();
        let err = load_or_fetch(DatasetName::Cifar10, None, Some(Ok(options)), &mut |n| {
            notes.push(n.to_string())
        })
        .expect_err("nothing to fetch from");
        // The download is announced to the caller, not printed.
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("downloading it into"), "{notes:?}");
        assert!(matches!(err, Error::DataNotFound { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("Downloading it automatically failed"), "{msg}");
        assert!(msg.contains(&format!("http://127.0.0.1:{port}/cifar10/cifar-10-binary")), "{msg}");
        // Without fetch options (an explicit directory, or auto-fetch off), no attempt.
        let err = load_or_fetch(DatasetName::Cifar10, None, None, &mut |n| panic!("noted {n}"))
            .expect_err("not found");
        assert!(!err.to_string().contains("Downloading"), "{err}");
    }

    /// A data set whose images are not its name's shape is refused, naming the file
    /// and the shape expected: 32×32 "MNIST", 12×12 "Fashion-MNIST".
    #[test]
    fn a_data_set_of_the_wrong_shape_is_refused() {
        use crate::idx::{write_images, write_labels};
        for (name, side) in [(DatasetName::Mnist, 32), (DatasetName::FashionMnist, 12)] {
            let tmp = tempfile::tempdir().expect("temp dir");
            for (images, labels) in [
                (crate::IDX_FILES[0], crate::IDX_FILES[1]),
                (crate::IDX_FILES[2], crate::IDX_FILES[3]),
            ] {
                write_images(
                    &tmp.path().join(images),
                    &vec![0; 4 * side * side],
                    4,
                    side,
                    side,
                    false,
                )
                .expect("write");
                write_labels(&tmp.path().join(labels), &[1, 2, 3, 4], false).expect("write");
            }
            let msg = load(name, Some(tmp.path())).expect_err("wrong shape").to_string();
            assert!(msg.contains("train-images-idx3-ubyte"), "{msg}");
            assert!(msg.contains(&format!("{side}×{side}×1")) && msg.contains("28×28×1"), "{msg}");
            let infos = info(Some(tmp.path()));
            let i = infos.iter().find(|i| i.name == name).expect("info");
            assert!(i.error.as_deref().is_some_and(|e| e.contains("28×28×1")), "{i:?}");
        }
    }

    /// An image folder is looked for only where it is named, and read as the spec
    /// says, with its class names; other content than the spec's checksum is refused.
    #[cfg(feature = "folder")]
    #[test]
    fn a_spec_names_its_image_folder_and_its_content() {
        let dir = Some(Path::new("/imgs"));
        let dirs = searched(DatasetName::Folder, dir, Some("/env".into()), Some("/c".into()));
        assert_eq!(dirs, [PathBuf::from("/imgs")]);
        let err = find(DatasetName::Folder, None).expect_err("nowhere");
        assert!(matches!(&err, Error::Setting { setting, .. } if setting == "data_dir"), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("folder") && !msg.contains("--"), "{msg}");

        let tmp = tempfile::tempdir().expect("temp dir");
        for (class, value) in [("cat", 10u8), ("dog", 200)] {
            std::fs::create_dir(tmp.path().join(class)).expect("mkdir");
            for i in 0..5u8 {
                image::GrayImage::from_pixel(4, 3, image::Luma([value + i]))
                    .save(tmp.path().join(class).join(format!("{i}.png")))
                    .expect("save");
            }
        }
        let spec = RunSpec {
            dataset: DatasetName::Folder,
            data_dir: Some(tmp.path().to_path_buf()),
            test_fraction: Some(0.4),
            ..RunSpec::default()
        };
        let (split, names) = load_spec(&spec, None, &mut |n| panic!("noted {n}")).expect("load");
        assert_eq!(names, ["cat", "dog"]);
        assert_eq!((split.train.len(), split.test.len()), (6, 4));
        assert_eq!(split.name, DatasetName::Folder);
        assert_eq!(split.train.shape(), ImageShape { channels: 1, height: 3, width: 4 });
        assert_eq!(train_images_file(&split), tmp.path());
        // The options change the content, hence the checksum.
        let resized = RunSpec { image_size: Some([8, 8]), channels: Some(3), ..spec.clone() };
        let (big, _) = load_spec(&resized, None, &mut |_| {}).expect("load");
        assert_eq!(big.train.shape(), ImageShape { channels: 3, height: 8, width: 8 });
        assert_ne!(big.sha256, split.sha256);
        // `data_dir` given to the loader wins over the spec's (the folder moved).
        let moved = RunSpec { data_dir: Some(tmp.path().join("gone")), ..spec.clone() };
        assert!(load_spec(&moved, None, &mut |_| {}).is_err());
        let (again, _) = load_spec(&moved, Some(tmp.path()), &mut |_| {}).expect("load");
        assert_eq!(again.sha256, split.sha256);
        // The spec's checksum holds the folder to its content.
        let pinned = RunSpec { data_sha256: Some(split.sha256.clone()), ..spec.clone() };
        load_spec(&pinned, None, &mut |_| {}).expect("same content");
        let other = RunSpec { data_sha256: Some("0".repeat(64)), ..spec.clone() };
        let msg = load_spec(&other, None, &mut |_| {}).expect_err("other content").to_string();
        assert!(msg.starts_with(&tmp.path().display().to_string()), "{msg}");
        assert!(msg.contains(&split.sha256) && msg.contains(&"0".repeat(64)), "{msg}");
        assert!(msg.contains("`data_dir`") && !msg.contains("--"), "{msg}");
        // Without a folder anywhere: the data directory rule's one error.
        let nowhere = RunSpec { data_dir: None, ..spec.clone() };
        let err = load_spec(&nowhere, None, &mut |_| {}).expect_err("no folder");
        assert_eq!(err.to_string(), find(DatasetName::Folder, None).expect_err("none").to_string());
        // Plain `load` reads a folder with the default options.
        let plain = load(DatasetName::Folder, Some(tmp.path())).expect("load");
        assert_eq!(plain.test.len(), 2, "a fifth of each class");
    }

    #[test]
    fn info_reports_every_data_set() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let infos = info(Some(tmp.path()));
        assert_eq!(infos.len(), DatasetName::ALL.len() - 1, "every data set but folder");
        assert!(infos.iter().all(|i| i.path.is_none() && i.error.is_some()));
        serde_json::to_string(&infos).expect("serialises");
    }
}
