//! Walking the class tree: the entries of a folder, the class folders and their
//! image files, and the checks on them.

use std::fs::Metadata;
use std::io;
use std::path::{Path, PathBuf};

use cnnvar_core::{Error, Result};

use super::plan::{Class, names};
use crate::shown;

/// The file name extensions read as images (compared ignoring case).
pub const IMAGE_EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// The most classes a folder may have (labels are bytes).
pub const MAX_CLASSES: usize = 256;

/// A directory entry that is not hidden, links followed.
pub(super) struct Entry {
    pub(super) name: std::ffi::OsString,
    pub(super) path: PathBuf,
    /// A directory (or a link to one).
    pub(super) is_dir: bool,
    /// A regular file (or a link to one): not a directory, FIFO, socket or device.
    pub(super) is_file: bool,
}

/// The entries of `dir` whose names do not start with `.`, sorted by name. A link
/// is followed: a link to a folder is a folder, a link to a file a file; one that
/// cannot be followed (dangling, or a loop) is an error naming it ([`follow`]).
pub(super) fn entries(dir: &Path) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| shown::io(dir, e))? {
        let entry = entry.map_err(|e| shown::io(dir, e))?;
        let name = entry.file_name();
        if name.as_encoded_bytes().starts_with(b".") {
            continue;
        }
        let path = entry.path();
        let meta = follow(&path)?;
        out.push(Entry { is_dir: meta.is_dir(), is_file: meta.is_file(), name, path });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// What `path` is once links are followed. A link that cannot be followed is refused,
/// naming it and what is wrong: skipping it would drop what it stood for (a whole
/// class, if it was a class folder) without a word.
pub(super) fn follow(path: &Path) -> Result<Metadata> {
    std::fs::metadata(path).map_err(|e| unfollowable(path, e))
}

/// The error for `path`, which `metadata` failed on with `e`.
fn unfollowable(path: &Path, e: io::Error) -> Error {
    let Ok(target) = std::fs::read_link(path) else {
        return shown::io(path, e); // Not a link.
    };
    let target = path.parent().map_or_else(|| target.clone(), |dir| dir.join(&target));
    const EXPECTED: &str = "expected a link to a class folder or to an image";
    if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) {
        shown::data(
            path,
            format!(
                "is a dangling symbolic link: its target {} does not exist; {EXPECTED} \
                 (restore its target, or remove the link)",
                shown::display(&target)
            ),
        )
    } else {
        // A loop is "Too many levels of symbolic links".
        let why = e.to_string();
        shown::data(
            path,
            format!(
                "is a symbolic link to {} that cannot be followed: {why}; {EXPECTED} (a loop \
                 of links leads nowhere: fix or remove the link)",
                shown::display(&target)
            ),
        )
    }
}

/// Whether `path`'s name ends in one of [`IMAGE_EXTENSIONS`].
fn is_image_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// A file found where class folders are expected: an image is an error, anything
/// else is skipped.
pub(super) fn not_in_class(path: PathBuf, skipped: &mut Vec<PathBuf>) -> Result<()> {
    if is_image_name(&path) {
        return Err(shown::data(
            &path,
            "is an image outside any class folder; expected every image in a folder named \
             after its class (e.g. cat/0001.png)",
        ));
    }
    skipped.push(path);
    Ok(())
}

/// The class folders in `dir` and their image files, checked: at least 2 classes
/// with UTF-8 names, at most [`MAX_CLASSES`], each with at least one image and no
/// folder inside.
pub(super) fn classes_in(dir: &Path, skipped: &mut Vec<PathBuf>) -> Result<Vec<Class>> {
    let mut classes = Vec::new();
    for e in entries(dir)? {
        if !e.is_dir {
            not_in_class(e.path, skipped)?;
            continue;
        }
        let Some(name) = e.name.to_str().map(str::to_owned) else {
            return Err(shown::data(
                &e.path,
                "class folder name is not valid UTF-8; expected class names as text",
            ));
        };
        let mut files = Vec::new();
        let mut others = 0usize;
        for f in entries(&e.path)? {
            if f.is_dir {
                return Err(shown::data(
                    &f.path,
                    format!(
                        "is a folder inside the class folder `{}`; expected only image files \
                         there (a class folder holds no folders)",
                        shown::name(&name)
                    ),
                ));
            }
            if is_image_name(&f.path) {
                if !f.is_file {
                    return Err(shown::data(
                        &f.path,
                        "is not a regular file (a FIFO, socket or device) but is named like an \
                         image; expected a PNG or JPEG file (or move it out)",
                    ));
                }
                files.push(f.path);
            } else {
                others += 1;
                skipped.push(f.path);
            }
        }
        if files.is_empty() {
            let other = if others > 0 {
                format!(" (only {others} file(s) with other extensions)")
            } else {
                String::new()
            };
            return Err(shown::data(
                &e.path,
                format!(
                    "class folder `{}` holds no image{other}; expected at least one .png, \
                     .jpg or .jpeg file",
                    shown::name(&name)
                ),
            ));
        }
        classes.push(Class { name, dir: e.path, files });
    }
    match classes.len() {
        0 => Err(shown::data(
            dir,
            "holds no class folder; expected one folder of images per class (e.g. cat/, dog/), \
             at least two",
        )),
        1 => Err(shown::data(
            dir,
            format!(
                "holds only one class folder, `{}`; expected at least two classes",
                shown::name(&classes[0].name)
            ),
        )),
        n if n > MAX_CLASSES => Err(shown::data(
            dir,
            format!("holds {n} class folders; expected at most {MAX_CLASSES} (labels are bytes)"),
        )),
        _ => Ok(classes),
    }
}

/// Refuses a test set whose classes are not the training set's.
pub(super) fn same_classes(
    train_dir: &Path,
    train: &[Class],
    test_dir: &Path,
    test: &[Class],
) -> Result<()> {
    let (train_names, test_names) = (names(train), names(test));
    if train_names == test_names {
        return Ok(());
    }
    let shown = |n: &String| shown::name(n).into_owned();
    let missing: Vec<String> =
        train_names.iter().filter(|n| !test_names.contains(n)).map(shown).collect();
    let extra: Vec<String> =
        test_names.iter().filter(|n| !train_names.contains(n)).map(shown).collect();
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!("lacks class folder(s) {} that train/ has", missing.join(", ")));
    }
    if !extra.is_empty() {
        problems.push(format!("has class folder(s) {} that train/ lacks", extra.join(", ")));
    }
    Err(shown::data(
        test_dir,
        format!(
            "{}; expected the same classes as {} ({})",
            problems.join(" and "),
            shown::display(train_dir),
            train_names.iter().map(shown).collect::<Vec<_>>().join(", ")
        ),
    ))
}
