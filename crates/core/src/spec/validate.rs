//! Validation of a [`RunSpec`]: every field's range, the image-folder fields, and the
//! options of the model family, the regularisers, the data transforms and the
//! evaluation protocol. The first bad field is named in an [`Error::Field`].

use super::{
    AugmentName, DEFAULT_TEST_FRACTION, DatasetName, EvalSet, ModelName, RunSpec, SubsetMethod,
};
use crate::{Error, Result};

/// The largest batch a spec may ask for: a batch is held as f32 activations, so a
/// larger one would need memory no worker has, and is refused before training.
pub const MAX_BATCH_SIZE: usize = 65_536;

/// The most epochs a spec may ask for.
pub const MAX_EPOCHS: usize = 100_000;

/// The largest `image_size` side a spec may ask for (an image is held as f32 in a
/// batch; 4096 × 4096 is already 64 MiB per grey image).
pub const MAX_IMAGE_SIDE: usize = 4096;

/// The most compute threads a spec may ask for (`threads`).
pub const MAX_THREADS: usize = 1024;

impl RunSpec {
    /// Checks every field's range; `Error::Field` names the first bad one.
    pub fn validate(&self) -> Result<()> {
        self.validate_at("spec")
    }

    /// Like [`RunSpec::validate`], naming `location` (a file, `file:line`, or where else
    /// the spec came from) in the error.
    pub fn validate_at(&self, location: &str) -> Result<()> {
        let bad = |field: &str, msg: String| Err(Error::field(location, field, msg));
        if let Some(t) = self.threads
            && !(1..=MAX_THREADS).contains(&t)
        {
            return bad("threads", format!("must be between 1 and {MAX_THREADS}, got {t}"));
        }
        if let Some(script) = &self.script {
            if self.split_seed.is_some() {
                return bad(
                    "split_seed",
                    "a script evaluates itself: cnnvar cannot resample its test set".into(),
                );
            }
            if self.nudge_seed.is_some() {
                return bad(
                    "nudge_seed",
                    "a script's weights are its own: cnnvar cannot nudge one".into(),
                );
            }
            if self.weights_backend.is_some() {
                return bad(
                    "weights_backend",
                    "a script's weights are its own: cnnvar cannot draw them on a backend".into(),
                );
            }
            return script.validate_at(location);
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr", format!("must be a positive finite number, got {}", self.lr));
        }
        if let Some(m) = self.momentum
            && !(m.is_finite() && (0.0..1.0).contains(&m))
        {
            return bad("momentum", format!("must be in [0, 1), got {m}"));
        }
        if !(1..=MAX_BATCH_SIZE).contains(&self.batch_size) {
            return bad(
                "batch_size",
                format!(
                    "must be 1 to {MAX_BATCH_SIZE} (one batch is held as f32 on the device), \
                     got {}",
                    self.batch_size
                ),
            );
        }
        if !(1..=MAX_EPOCHS).contains(&self.epochs) {
            return bad("epochs", format!("must be 1 to {MAX_EPOCHS}, got {}", self.epochs));
        }
        if self.train_size == Some(0) {
            return bad("train_size", "must be at least 1 (omit it for the whole set)".into());
        }
        if self.test_size == Some(0) {
            return bad("test_size", "must be at least 1 (omit it for the whole test set)".into());
        }
        if self.eval_subset == Some(0) {
            return bad(
                "eval_subset",
                "must be at least 1 (\"full\" evaluates every epoch on the whole set)".into(),
            );
        }
        if let (Some(n), Some(have)) = (self.train_size, self.dataset.train_examples())
            && n > have
        {
            return bad(
                "train_size",
                format!("{n} exceeds the {have} training examples of {}", self.dataset),
            );
        }
        if let (Some(n), Some(have)) = (self.test_size, self.dataset.test_examples())
            && n > have
        {
            return bad(
                "test_size",
                format!("{n} exceeds the {have} test examples of {}", self.dataset),
            );
        }
        if self.subset == SubsetMethod::Stratified && self.train_size.is_none() {
            return bad("subset", "`stratified` needs a `train_size`".into());
        }
        self.validate_folder(location)?;
        self.validate_options(location)
    }

    /// Checks the image-folder fields: `data_dir` with `dataset = "folder"`, the others
    /// in range, and none of them with another data set.
    fn validate_folder(&self, location: &str) -> Result<()> {
        let bad = |field: &str, msg: String| Err(Error::field(location, field, msg));
        if self.dataset != DatasetName::Folder {
            for (name, set) in [
                ("data_dir", self.data_dir.is_some()),
                ("data_sha256", self.data_sha256.is_some()),
                ("channels", self.channels.is_some()),
                ("image_size", self.image_size.is_some()),
                ("test_fraction", self.test_fraction.is_some()),
            ] {
                if set {
                    let hint = if name == "data_dir" {
                        " (where a named data set's files are is not part of a spec: it is \
                         an option of how runs execute, or $CNNVAR_DATA_DIR)"
                    } else {
                        ""
                    };
                    return bad(
                        name,
                        format!(
                            "only applies to dataset = \"folder\", not `{}`{hint}",
                            self.dataset
                        ),
                    );
                }
            }
            return Ok(());
        }
        match &self.data_dir {
            None => {
                return bad(
                    "data_dir",
                    "dataset = \"folder\" needs `data_dir`, the folder of images (one \
                     folder per class)"
                        .into(),
                );
            }
            Some(d) if d.as_os_str().is_empty() => {
                return bad("data_dir", "is empty; expected the image folder's path".into());
            }
            Some(_) => {}
        }
        if let Some(sha) = &self.data_sha256
            && !(sha.len() == 64
                && sha.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        {
            return bad(
                "data_sha256",
                format!("must be 64 lower-case hex digits (a SHA-256), got \"{sha}\""),
            );
        }
        if let Some(c) = self.channels
            && c != 1
            && c != 3
        {
            return bad("channels", format!("must be 1 (grey) or 3 (RGB), got {c}"));
        }
        if let Some([h, w]) = self.image_size
            && !((1..=MAX_IMAGE_SIDE).contains(&h) && (1..=MAX_IMAGE_SIDE).contains(&w))
        {
            return bad(
                "image_size",
                format!(
                    "must be [height, width], each 1 to {MAX_IMAGE_SIDE} pixels, got [{h}, {w}]"
                ),
            );
        }
        if let Some(f) = self.test_fraction
            && !(f > 0.0 && f < 1.0)
        {
            return bad(
                "test_fraction",
                format!(
                    "must be strictly between 0 and 1 (default {DEFAULT_TEST_FRACTION}), got {f}"
                ),
            );
        }
        Ok(())
    }

    /// Checks the optional fields (model family, regularisation, data transforms,
    /// evaluation protocol).
    fn validate_options(&self, location: &str) -> Result<()> {
        let bad = |field: &str, msg: String| Err(Error::field(location, field, msg));
        let fraction = |v: Option<f64>, lo_open: bool| match v {
            None => true,
            Some(x) => x.is_finite() && x <= 1.0 && if lo_open { x > 0.0 } else { x >= 0.0 },
        };
        // The family's options, which a registered model may read too.
        if !matches!(self.model, ModelName::Cnn | ModelName::Custom(_)) {
            for (name, set) in [
                ("depth", self.depth.is_some()),
                ("width", self.width.is_some()),
                ("kernel", self.kernel.is_some()),
                ("downsample", self.downsample.is_some()),
            ] {
                if set {
                    return bad(
                        name,
                        format!(
                            "only applies to model = \"cnn\" (or a registered model), not `{}`",
                            self.model
                        ),
                    );
                }
            }
        }
        if let Some(d) = self.depth
            && !(1..=6).contains(&d)
        {
            return bad("depth", format!("must be 1 to 6 conv blocks, got {d}"));
        }
        if let Some(w) = self.width
            && !(1..=1024).contains(&w)
        {
            return bad("width", format!("must be 1 to 1024 filters, got {w}"));
        }
        if let Some(k) = self.kernel
            && (k % 2 == 0 || !(1..=11).contains(&k))
        {
            return bad("kernel", format!("must be an odd size from 1 to 11, got {k}"));
        }
        if let Some(p) = self.dropout
            && !(p.is_finite() && (0.0..1.0).contains(&p))
        {
            return bad("dropout", format!("must be in [0, 1), got {p}"));
        }
        if let Some(w) = self.weight_decay
            && !(w.is_finite() && w >= 0.0)
        {
            return bad("weight_decay", format!("must be a finite number ≥ 0, got {w}"));
        }
        if !fraction(self.imbalance, true) {
            return bad("imbalance", format!("must be in (0, 1], got {:?}", self.imbalance));
        }
        if let Some(m) = &self.minority
            && m.is_empty()
        {
            return bad("minority", "must list at least one class".into());
        }
        if !fraction(self.label_noise, false) {
            return bad("label_noise", format!("must be in [0, 1], got {:?}", self.label_noise));
        }
        let resolved = self.resolved();
        if self.split_seed.is_some() && resolved.evaluate_on == EvalSet::Validation {
            return bad(
                "split_seed",
                "resamples the test set; a held-out fold (`evaluate_on = \"validation\"`) is \
                 drawn by the subset seed already"
                    .into(),
            );
        }
        if self.dropout_seed.is_some() && resolved.dropout == 0.0 {
            return bad(
                "dropout_seed",
                "only applies with `dropout` above 0 (there are no masks to draw)".into(),
            );
        }
        if self.augment_seed.is_some() && resolved.augment == AugmentName::None {
            return bad(
                "augment_seed",
                "only applies with an `augment` other than none (nothing random to draw)".into(),
            );
        }
        if self.nudge_epoch > 0 {
            if self.nudge_seed.is_none() {
                return bad(
                    "nudge_epoch",
                    "only applies with a `nudge_seed` (the weight to move)".into(),
                );
            }
            if self.nudge_epoch as usize >= self.epochs {
                return bad(
                    "nudge_epoch",
                    format!(
                        "must be below epochs = {} (a nudge after the last epoch changes \
                         nothing), got {}",
                        self.epochs, self.nudge_epoch
                    ),
                );
            }
        }
        let validation = self.evaluate_on == Some(EvalSet::Validation);
        match (validation, self.folds, self.fold) {
            (true, Some(k), Some(f)) if k >= 2 && f < k => Ok(()),
            (true, Some(k), _) if k < 2 => bad("folds", format!("must be at least 2, got {k}")),
            (true, Some(k), Some(f)) => {
                bad("fold", format!("must be below folds = {k} (0-based), got {f}"))
            }
            (true, _, _) => bad(
                "evaluate_on",
                "`validation` needs `folds` (at least 2) and `fold` (0-based)".into(),
            ),
            (false, None, None) => Ok(()),
            (false, _, _) => bad("folds", "only applies with evaluate_on = \"validation\"".into()),
        }
    }
}
