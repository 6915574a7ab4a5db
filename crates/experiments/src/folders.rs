//! Image folders in studies: where a study's folder is, and what it holds, fixed when
//! the study is planned.
//!
//! A run on an image folder (`dataset = "folder"`) is identified by the folder's
//! content, not its place: the run id hashes the spec's `data_sha256` (the checksum of
//! the decoded images, labels, class names and split, `cnnvar_data::folder`) and not its
//! `data_dir`. So before a study on a folder is expanded into runs, [`resolve_folders`]
//! reads each folder once (with each level's `channels`, `image_size` and
//! `test_fraction`), writes its checksum into the levels' specs, and makes their
//! `data_dir` absolute (workers may start elsewhere). Every worker then checks that the
//! folder still holds those images ([`cnnvar_data::load_spec`]), and a study file that
//! gives a `data_sha256` itself pins its folder to that content.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use cnnvar_core::{DatasetName, Error, Result, RunSpec};

use cnnvar_core::study::Study;

/// What decides a folder's checksum: where it is and how it is read.
type FolderKey = (PathBuf, Option<usize>, Option<[usize; 2]>, Option<u64>);

/// Fills in, for every level of `study` on an image folder, the absolute `data_dir`
/// (by [`cnnvar_data::resolve_data_dir`]: `data_dir` when given names the folder,
/// wherever the study file says it is, else the level's own) and the folder's `data_sha256`, reading each distinct folder and reading of
/// it once. A level whose spec already has a `data_sha256` keeps it, and the folder
/// must match it. Levels on named data sets are untouched.
pub fn resolve_folders(study: &mut Study, data_dir: Option<&Path>) -> Result<()> {
    let mut checksums: HashMap<FolderKey, String> = HashMap::new();
    for exp in &mut study.experiments {
        for level in &mut exp.levels {
            if level.spec.dataset != DatasetName::Folder {
                continue;
            }
            resolve_folder(&mut level.spec, data_dir, &mut checksums).map_err(|e| {
                Error::field(
                    format!(
                        "{}: experiment `{}`, level `{}`",
                        study.source.display(),
                        exp.name,
                        level.label
                    ),
                    "data_dir",
                    e.to_string(),
                )
            })?;
        }
    }
    Ok(())
}

/// [`resolve_folders`] for one spec, with the checksums read so far.
fn resolve_folder(
    spec: &mut RunSpec,
    data_dir: Option<&Path>,
    checksums: &mut HashMap<FolderKey, String>,
) -> Result<()> {
    // The one data directory rule: the folder given beats the spec's; neither is an
    // error that names the setting.
    let found =
        cnnvar_data::resolve_data_dir(DatasetName::Folder, data_dir, spec.data_dir.as_deref())?;
    let Some(dir) = found else {
        return Err(Error::setting("data_dir", "no image folder was found for this level"));
    };
    let dir = std::path::absolute(&dir).map_err(|e| Error::io(&dir, e))?;
    spec.data_dir = Some(dir.clone());
    let key = (dir, spec.channels, spec.image_size, spec.test_fraction.map(f64::to_bits));
    let sha = match checksums.get(&key) {
        Some(sha) => sha.clone(),
        None => {
            let unpinned = RunSpec { data_sha256: None, ..spec.clone() };
            let (split, _) = cnnvar_data::load_spec(&unpinned, None, &mut |_| {})?;
            checksums.insert(key, split.sha256.clone());
            split.sha256
        }
    };
    match &spec.data_sha256 {
        Some(pinned) if *pinned != sha => Err(Error::data(
            spec.data_dir.as_deref().unwrap_or(Path::new("")),
            format!(
                "holds images whose checksum is {sha}, but the study pins data_sha256 = \
                 {pinned}; restore the folder, or remove data_sha256 from the study to \
                 plan it on the images as they are now"
            ),
        )),
        _ => {
            spec.data_sha256 = Some(sha);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two classes of three 2×2 grey PNGs in `root`, class `b` brighter by `shift`.
    fn folder(root: &Path, shift: u8) {
        for (class, base) in [("a", 0u8), ("b", 100 + shift)] {
            std::fs::create_dir_all(root.join(class)).expect("mkdir");
            for i in 0..3u8 {
                write_png(&root.join(class).join(format!("{i}.png")), base + i);
            }
        }
    }

    /// A 2×2 grey PNG of one value.
    fn write_png(path: &Path, value: u8) {
        image::GrayImage::from_pixel(2, 2, image::Luma([value])).save(path).expect("write png");
    }

    fn study(data_dir: &Path, extra: &str) -> Study {
        let text = format!(
            "seeds = 2\n[base]\ndataset = \"folder\"\ndata_dir = \"{}\"\ntest_fraction = 0.34\n\
             {extra}[[experiment]]\nname = \"a\"\nvary = {{ lr = [0.1, 0.01] }}\n",
            data_dir.display()
        );
        cnnvar_core::study::parse(&text, Path::new("s.toml")).expect("parses")
    }

    /// The folder's checksum enters every level's spec, hence the run ids; the same
    /// images elsewhere give the same runs, changed images other runs, and a pinned
    /// checksum refuses other images.
    #[test]
    fn a_study_on_a_folder_is_planned_on_its_content() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let (here, copy, changed) =
            (tmp.path().join("here"), tmp.path().join("copy"), tmp.path().join("changed"));
        folder(&here, 0);
        folder(&copy, 0);
        folder(&changed, 1);
        let mut s = study(&here, "");
        resolve_folders(&mut s, None).expect("resolves");
        let specs: Vec<&RunSpec> = s.experiments[0].levels.iter().map(|l| &l.spec).collect();
        let sha = specs[0].data_sha256.clone().expect("checksum filled in");
        assert!(specs.iter().all(|s| s.data_sha256.as_ref() == Some(&sha)));
        assert_eq!(specs[0].data_dir.as_deref(), Some(here.as_path()));
        let ids = |s: &Study| -> Vec<String> {
            cnnvar_core::study::expand(s, None).into_iter().map(|r| r.run_id).collect()
        };
        let mut moved = study(&here, "");
        resolve_folders(&mut moved, Some(&copy)).expect("resolves");
        assert_eq!(moved.experiments[0].levels[0].spec.data_dir.as_deref(), Some(copy.as_path()));
        assert_eq!(ids(&moved), ids(&s), "same images elsewhere: same runs");
        let mut other = study(&changed, "");
        resolve_folders(&mut other, None).expect("resolves");
        assert!(ids(&other).iter().all(|id| !ids(&s).contains(id)), "other images: new runs");

        let mut pinned = study(&changed, &format!("data_sha256 = \"{sha}\"\n"));
        let e = resolve_folders(&mut pinned, None).expect_err("other content").to_string();
        assert!(e.contains("s.toml") && e.contains(&sha) && e.contains("changed"), "{e}");
        let mut pinned = study(&copy, &format!("data_sha256 = \"{sha}\"\n"));
        resolve_folders(&mut pinned, None).expect("same content");

        let mut missing = study(&tmp.path().join("nowhere"), "");
        let e = resolve_folders(&mut missing, None).expect_err("no folder").to_string();
        assert!(e.contains("nowhere") && e.contains("level `0.1`"), "{e}");

        // No folder named at all: the data directory rule's own error, which names the
        // setting and no command-line flag.
        let mut unnamed = study(&here, "");
        unnamed.experiments[0].levels[0].spec.data_dir = None;
        let e = resolve_folders(&mut unnamed, None).expect_err("no folder").to_string();
        assert!(e.contains("`data_dir`") && e.contains("level `0.1`") && !e.contains("--"), "{e}");
        resolve_folders(&mut unnamed, Some(&copy)).expect("the folder given is used");
    }
}
