//! The images of the test examples the seeds fight over: per level, the examples its
//! runs disagree on most ([`NoiseSummary::most_contested`]), found in the test set the
//! runs evaluated on, for the figure of [`super::thumbnails`].
//!
//! The rest of the report needs only the study directory; these images need the data.
//! They are read through `cnnvar-data` (where the records say the runs read it, else
//! where `cnnvar-data` looks: `$CNNVAR_DATA_DIR`, the user cache, the Debian package's
//! directory; never downloaded) and used only when the data set's checksum is the
//! records' `data_sha256`. The images drawn are kept in the study directory
//! ([`CACHE_FILE`]), so that a report regenerated without the data draws the same
//! figure. Where the images cannot be had, the level gets a note saying which data set
//! (name, sha256) they need and how to get it, and nothing is drawn.
//!
//! An example's index is its position in the evaluation order: the test set's (its
//! first `test_size` examples with `test_size`), or its twilight copy's with
//! `evaluate_on = "twilight"`. With `evaluate_on = "validation"` it is a position in
//! each run's own held-out fold, which is no one image, and the level is not drawn.

use std::collections::{BTreeMap, HashMap};

use cnnvar_core::{DatasetName, Error, EvalSet, ImageShape, Result, RunRecord, RunSpec};
use cnnvar_data::{DataSplit, Dataset};
use serde::{Deserialize, Serialize};

use cnnvar_analysis::noise::ContestedExample;
use cnnvar_analysis::{ExperimentStats, StudyStats};
use cnnvar_store::{Plan, StudyDir, StudyFile};

/// Examples drawn per level, at most.
pub const PER_LEVEL: usize = 8;

/// The images drawn, kept in the study directory for reports without the data.
const CACHE_FILE: &str = "contested-images.json";

/// One test image, CHW bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// Its shape.
    pub shape: ImageShape,
    /// Pixels, channel after channel.
    pub pixels: Vec<u8>,
}

/// A contested example with its image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContestedImage {
    /// How the runs voted on it.
    pub example: ContestedExample,
    /// The image the runs saw.
    pub image: Image,
}

/// One level's contested examples with their images.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LevelImages {
    /// The level's label.
    pub level: String,
    /// Runs whose predictions were pooled.
    pub runs: usize,
    /// The examples, most contested first.
    pub images: Vec<ContestedImage>,
}

/// An experiment's contested images: the levels drawn, and a note for each reason
/// some level is not.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExperimentImages {
    /// The levels with images, in level order.
    pub levels: Vec<LevelImages>,
    /// Why levels are not drawn, one line each, without repeats.
    pub notes: Vec<String>,
}

/// One image in [`CACHE_FILE`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct CachedImage {
    /// The checksum of the data set it is from.
    sha256: String,
    /// `test` or `twilight`.
    eval: String,
    /// Its index in that set.
    index: usize,
    /// Its label there.
    label: u8,
    /// Channels, height, width.
    shape: [usize; 3],
    /// CHW pixels in hexadecimal.
    pixels: String,
}

/// The contents of [`CACHE_FILE`].
#[derive(Debug, Default, Serialize, Deserialize)]
struct Cache {
    /// Sorted by data set, set and index.
    images: Vec<CachedImage>,
}

/// Where a cached image is: data set checksum, evaluation set, index.
type Key = (String, String, usize);

/// Finds the images of every experiment's contested examples in `stats` (see the
/// module's documentation) and keeps those drawn in `out`'s `contested-images.json`; in
/// experiment order. Only writing the cache can fail.
pub fn gather(
    plan: &Plan,
    study: &StudyDir,
    out: &StudyDir,
    stats: &StudyStats,
) -> Result<Vec<ExperimentImages>> {
    let records = study.results(&plan.runs);
    let cached =
        [out, study].into_iter().find_map(|d| d.read(StudyFile::ContestedImages).ok().flatten());
    let mut finder = Finder::new(read_cache(cached));
    let mut all = Vec::new();
    for exp in &stats.experiments {
        let Some(planned) = plan.study.experiments.iter().find(|e| e.name == exp.name) else {
            all.push(ExperimentImages::default());
            continue;
        };
        let levels = planned.levels.iter().enumerate().map(|(i, level)| {
            let mine: Vec<&RunRecord> = records
                .iter()
                .filter(|(r, _)| r.experiment == exp.name && r.level_index == i)
                .map(|(_, rec)| rec)
                .collect();
            // A run's own spec (`--quick` shrinks the level's), else the level's.
            let spec = mine.first().map_or(&level.spec, |r| &r.spec);
            (level.label.as_str(), spec, mine)
        });
        all.push(experiment_images(exp, levels, &mut finder));
    }
    write_cache(out, &finder.used)?;
    Ok(all)
}

/// The contested images of `exp`, from each level's label, spec and records.
fn experiment_images<'a>(
    exp: &ExperimentStats,
    levels: impl Iterator<Item = (&'a str, &'a RunSpec, Vec<&'a RunRecord>)>,
    finder: &mut Finder,
) -> ExperimentImages {
    let mut out = ExperimentImages::default();
    for (label, spec, records) in levels {
        let Some(stats) = exp.levels.iter().find(|l| l.label == label) else { continue };
        let Some(noise) = &stats.test_set_noise else { continue };
        let examples = disputed(&noise.most_contested);
        if examples.is_empty() {
            continue;
        }
        match finder.level(label, spec, &records, &examples) {
            Ok(images) => {
                out.levels.push(LevelImages { level: label.to_string(), runs: noise.runs, images })
            }
            Err(note) if out.notes.contains(&note) => {}
            Err(note) => out.notes.push(note),
        }
    }
    out
}

/// The examples of `contested` the runs did not all agree on, at most [`PER_LEVEL`].
fn disputed(contested: &[ContestedExample]) -> Vec<ContestedExample> {
    contested
        .iter()
        .filter(|e| e.majority_votes < e.votes.iter().sum::<usize>())
        .take(PER_LEVEL)
        .cloned()
        .collect()
}

/// Finds images: in the cache first, else in the data sets it loads (each once).
struct Finder {
    /// The cache as read.
    cache: BTreeMap<Key, CachedImage>,
    /// The data sets loaded, by name and checksum, or the note of why not.
    loaded: HashMap<(DatasetName, String), std::result::Result<DataSplit, String>>,
    /// The images drawn so far: the cache to write.
    used: BTreeMap<Key, CachedImage>,
}

impl Finder {
    fn new(cache: Cache) -> Self {
        let cache = cache
            .images
            .into_iter()
            .map(|c| ((c.sha256.clone(), c.eval.clone(), c.index), c))
            .collect();
        Finder { cache, loaded: HashMap::new(), used: BTreeMap::new() }
    }

    /// The images of one level's `examples`, or the note of why there are none.
    fn level(
        &mut self,
        label: &str,
        spec: &RunSpec,
        records: &[&RunRecord],
        examples: &[ContestedExample],
    ) -> std::result::Result<Vec<ContestedImage>, String> {
        let eval = match spec.resolved().evaluate_on {
            EvalSet::Validation => {
                return Err(format!(
                    "Level {label} is evaluated on a held-out fold of each run's training \
                     subset, so its contested examples are no single set of images: not drawn."
                ));
            }
            other => other,
        };
        let sha = data_checksum(spec, records)?;
        let mut images = Vec::with_capacity(examples.len());
        let mut keys = Vec::with_capacity(examples.len());
        for e in examples {
            let key = (sha.clone(), eval.as_str().to_string(), e.index);
            let cached = self.cache.get(&key).filter(|c| c.label == e.label).and_then(decode);
            let image = match cached {
                Some(image) => image,
                None => self.in_data(spec, &sha, records, eval, e)?,
            };
            keys.push(key);
            images.push(ContestedImage { example: e.clone(), image });
        }
        for (key, c) in keys.into_iter().zip(&images) {
            let entry = encode(&key, c.example.label, &c.image);
            self.used.insert(key, entry);
        }
        Ok(images)
    }

    /// The image of example `e` in the data set of checksum `sha`, loading it.
    fn in_data(
        &mut self,
        spec: &RunSpec,
        sha: &str,
        records: &[&RunRecord],
        eval: EvalSet,
        e: &ContestedExample,
    ) -> std::result::Result<Image, String> {
        let key = (spec.dataset, sha.to_string());
        if !self.loaded.contains_key(&key) {
            let sources = records.iter().map(|r| r.provenance.data_source.as_str());
            let split = load(spec, sha, sources);
            self.loaded.insert(key.clone(), split);
        }
        let split = match self.loaded.get(&key) {
            Some(Ok(split)) => split,
            Some(Err(note)) => return Err(note.clone()),
            None => return Err(format!("data set {} was not loaded", spec.dataset)),
        };
        image_of(&split.test, eval, e).ok_or_else(|| {
            format!(
                "The test images of data set `{}` (sha256 {sha}) do not carry the labels the \
                 runs were evaluated on (example {}): the contested images are not drawn.",
                spec.dataset, e.index
            )
        })
    }
}

/// The checksum of the data the level's runs were trained on, from their records, or
/// the note of why there is none to check the data against.
fn data_checksum(spec: &RunSpec, records: &[&RunRecord]) -> std::result::Result<String, String> {
    let mut sums: Vec<&str> = records
        .iter()
        .map(|r| r.provenance.data_sha256.as_str())
        .filter(|s| !s.is_empty())
        .collect();
    sums.sort_unstable();
    sums.dedup();
    match sums.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(format!(
            "The records of data set `{}` carry no data checksum to check its test images \
             against: the contested images are not drawn.",
            spec.dataset
        )),
        _ => Err(format!(
            "The records of data set `{}` name {} data checksums (see the warnings above): \
             the contested images are not drawn.",
            spec.dataset,
            sums.len()
        )),
    }
}

/// Example `e` of `test` (or of its twilight copy), when its label is the runs'.
fn image_of(test: &Dataset, eval: EvalSet, e: &ContestedExample) -> Option<Image> {
    if e.index >= test.len() || test.label(e.index) != e.label {
        return None;
    }
    let one = test.subset(&[e.index]);
    let one = if eval == EvalSet::Twilight { cnnvar_data::twilight(&one) } else { one };
    Some(Image { shape: one.shape(), pixels: one.image(0).to_vec() })
}

/// Loads the data set of `spec` whose checksum is `sha`: an image folder from the
/// spec's `data_dir`; a named data set from where the records say the runs read it
/// (`sources`), else from where `cnnvar-data` looks, never downloading. The note of
/// what is missing when it is not there.
fn load<'a>(
    spec: &RunSpec,
    sha: &str,
    sources: impl Iterator<Item = &'a str>,
) -> std::result::Result<DataSplit, String> {
    let quiet = &mut |_: &str| {};
    if spec.dataset == DatasetName::Folder {
        let dir = spec.data_dir.as_deref().map_or_else(String::new, |d| d.display().to_string());
        return match cnnvar_data::load_spec(spec, None, quiet) {
            Ok((split, _)) if split.sha256 == sha => Ok(split),
            Ok((split, _)) => Err(other_copy(spec, sha, &split.sha256)),
            Err(e) => Err(format!(
                "The contested images need the image folder {dir} (sha256 {sha}) the runs \
                 were trained on, which cannot be read: {e}"
            )),
        };
    }
    let mut dirs: Vec<std::path::PathBuf> =
        sources.filter(|s| !s.is_empty()).map(std::path::PathBuf::from).collect();
    dirs.sort();
    dirs.dedup();
    let mut found_other = None;
    let mut hint = None;
    let usual = || cnnvar_data::find(spec.dataset, None);
    for dir in dirs.into_iter().map(Ok).chain(std::iter::once_with(usual)) {
        let attempt = dir.and_then(|d| cnnvar_data::load_spec(spec, Some(&d), quiet));
        match attempt {
            Ok((split, _)) if split.sha256 == sha => return Ok(split),
            Ok((split, _)) => found_other = Some(split.sha256),
            Err(Error::DataNotFound { hint: h, .. }) => hint = Some(h),
            Err(e) => hint = Some(e.to_string()),
        }
    }
    match found_other {
        Some(other) => Err(other_copy(spec, sha, &other)),
        None => Err(format!(
            "The contested images need the test images of data set `{}` (sha256 {sha}), \
             which were not found: {}",
            spec.dataset,
            hint.unwrap_or_default()
        )),
    }
}

/// The note for a copy of the data set found with another checksum than the runs'.
fn other_copy(spec: &RunSpec, sha: &str, other: &str) -> String {
    format!(
        "The contested images need the test images of data set `{}` (sha256 {sha}); the copy \
         found has sha256 {other}, other data than the runs', so they are not drawn. Put the \
         runs' copy back where they read it (`cnnvar data info` shows what is found where).",
        spec.dataset
    )
}

/// The cache in `bytes`; empty when it is missing or unreadable (it is only a cache).
fn read_cache(bytes: Option<Vec<u8>>) -> Cache {
    bytes.and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default()
}

/// Writes the images drawn into `out`'s `contested-images.json`, unless it holds them
/// already; writes nothing when there are none and there was no cache.
fn write_cache(out: &StudyDir, used: &BTreeMap<Key, CachedImage>) -> Result<()> {
    if used.is_empty() && !out.file(StudyFile::ContestedImages).exists() {
        return Ok(());
    }
    let cache = Cache { images: used.values().cloned().collect() };
    let json = serde_json::to_vec_pretty(&cache).map_err(|e| Error::encode(CACHE_FILE, e))?;
    out.write_if_changed(StudyFile::ContestedImages, &json).map(|_| ())
}

/// `image` as a cache entry at `key`.
fn encode(key: &Key, label: u8, image: &Image) -> CachedImage {
    let ImageShape { channels, height, width } = image.shape;
    CachedImage {
        sha256: key.0.clone(),
        eval: key.1.clone(),
        index: key.2,
        label,
        shape: [channels, height, width],
        pixels: image.pixels.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// The image of a cache entry; `None` when its pixels do not fit its shape.
fn decode(c: &CachedImage) -> Option<Image> {
    let [channels, height, width] = c.shape;
    let shape = ImageShape { channels, height, width };
    let n = channels.checked_mul(height)?.checked_mul(width)?;
    if n == 0 || c.pixels.len() != 2 * n || !c.pixels.is_ascii() {
        return None;
    }
    let pixels = (0..n)
        .map(|i| u8::from_str_radix(&c.pixels[2 * i..2 * i + 2], 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    Some(Image { shape, pixels })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(index: usize, label: u8, votes: &[usize]) -> ContestedExample {
        let majority_votes = votes.iter().copied().max().unwrap_or(0);
        let majority = votes.iter().position(|&v| v == majority_votes).unwrap_or(0) as u8;
        ContestedExample {
            index,
            label,
            correct: votes.get(usize::from(label)).copied().unwrap_or(0),
            majority,
            majority_votes,
            votes: votes.to_vec(),
        }
    }

    /// Unanimous examples are not contested, and at most [`PER_LEVEL`] are drawn.
    #[test]
    fn only_disputed_examples_are_drawn() {
        let mut all: Vec<ContestedExample> = (0..12).map(|i| example(i, 0, &[2, 1])).collect();
        all.insert(1, example(99, 0, &[3, 0]));
        let d = disputed(&all);
        assert_eq!(d.len(), PER_LEVEL);
        assert!(d.iter().all(|e| e.index != 99));
    }

    /// A cache entry decodes to the image it encodes; a damaged one to nothing.
    #[test]
    fn cached_images_round_trip() {
        let image = Image {
            shape: ImageShape { channels: 1, height: 2, width: 3 },
            pixels: vec![0, 1, 127, 128, 254, 255],
        };
        let key = ("abc".to_string(), "test".to_string(), 4);
        let c = encode(&key, 7, &image);
        assert_eq!(c.pixels, "00017f80feff");
        assert_eq!(decode(&c), Some(image));
        assert_eq!(decode(&CachedImage { pixels: "0001".into(), ..c.clone() }), None);
        assert_eq!(decode(&CachedImage { pixels: "zz017f80feff".into(), ..c.clone() }), None);
        assert_eq!(decode(&CachedImage { shape: [0, 2, 3], ..c }), None);
    }

    /// Twilight levels are drawn from the darkened copy; a label that differs from the
    /// runs' means other data.
    #[test]
    fn images_come_from_the_evaluated_set() {
        let test = Dataset::new(
            vec![200; 8],
            vec![0, 1],
            ImageShape { channels: 1, height: 2, width: 2 },
            2,
        )
        .expect("data set");
        let plain = image_of(&test, EvalSet::Test, &example(1, 1, &[1, 1])).expect("found");
        assert_eq!(plain.pixels, [200; 4]);
        let dim = image_of(&test, EvalSet::Twilight, &example(1, 1, &[1, 1])).expect("found");
        assert_eq!(dim.pixels, [80; 4], "200 × 0.4");
        assert_eq!(image_of(&test, EvalSet::Test, &example(1, 0, &[1, 1])), None);
        assert_eq!(image_of(&test, EvalSet::Test, &example(2, 0, &[1, 1])), None);
    }

    /// A folder that is not there is a note naming its checksum, not an error; so are
    /// validation levels and records without a checksum.
    #[test]
    fn missing_data_is_a_note() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let spec = RunSpec {
            dataset: DatasetName::Folder,
            data_dir: Some(tmp.path().join("gone")),
            data_sha256: Some("f00d".into()),
            ..RunSpec::default()
        };
        let mut record = cnnvar_core::testing::record_of(&spec);
        record.provenance.data_sha256 = "f00d".into();
        let mut finder = Finder::new(Cache::default());
        let examples = [example(0, 0, &[1, 1])];
        let note = finder.level("a", &spec, &[&record], &examples).expect_err("a note");
        assert!(note.contains("image folder") && note.contains("sha256 f00d"), "{note}");
        assert!(note.contains(&tmp.path().join("gone").display().to_string()), "{note}");
        assert!(finder.used.is_empty());

        let validation = RunSpec { evaluate_on: Some(EvalSet::Validation), ..spec.clone() };
        let note = finder.level("b", &validation, &[&record], &examples).expect_err("a note");
        assert!(note.contains("held-out fold"), "{note}");
        let mut bare = record.clone();
        bare.provenance.data_sha256.clear();
        let note = finder.level("c", &spec, &[&bare], &examples).expect_err("a note");
        assert!(note.contains("no data checksum"), "{note}");

        // A named data set not where the runs read it: not found, or (if this machine
        // has MNIST in a usual place) not the runs' copy; a note either way.
        let mnist = RunSpec { dataset: DatasetName::Mnist, ..RunSpec::default() };
        let mut record = cnnvar_core::testing::record_of(&mnist);
        record.provenance.data_sha256 = "f00d".into();
        record.provenance.data_source = tmp.path().join("nowhere").display().to_string();
        let note = finder.level("d", &mnist, &[&record], &examples).expect_err("a note");
        assert!(note.contains("data set `mnist` (sha256 f00d)"), "{note}");
        assert!(finder.used.is_empty());
    }
}
