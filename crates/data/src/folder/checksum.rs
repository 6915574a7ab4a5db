//! The folder's content checksum ([`super::FolderData::sha256`]).

use cnnvar_core::ImageShape;
use sha2::{Digest, Sha256};

use crate::dataset::Dataset;
use crate::hash;

/// The content checksum (see the [module docs](self#checksum)).
pub(super) fn checksum(class_names: &[String], train: &Dataset, test: &Dataset) -> String {
    let sha = |bytes: &[u8]| hash::hex(&Sha256::digest(bytes));
    let mut names = Vec::new();
    for n in class_names {
        names.extend_from_slice(format!("{}:{n}\n", n.len()).as_bytes());
    }
    let ImageShape { channels, height, width } = train.shape();
    let lines = [
        ("format", "image-folder".to_owned()),
        ("classes", sha(&names)),
        ("shape", format!("{channels}x{height}x{width}")),
        ("train-images", sha(train.images())),
        ("train-labels", sha(train.labels())),
        ("test-images", sha(test.images())),
        ("test-labels", sha(test.labels())),
    ];
    hash::combine(lines.iter().map(|(n, v)| (*n, v.as_str())))
}
