//! The IDX reader on arbitrary bytes, as an images file and as a labels file (raw or
//! gzip: the reader decides by the magic bytes). It must never panic or allocate
//! beyond the data present; what it accepts must be consistent and survive a
//! write/read round trip.
#![no_main]

use std::io::Write;

use cnnvar_data::idx::{read_images, read_labels, write_images, write_labels};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("input-idx");
    std::fs::File::create(&path).and_then(|mut f| f.write_all(bytes)).expect("write input");

    if let Ok((pixels, shape, count)) = read_images(&path) {
        assert_eq!(pixels.len(), count * shape.height * shape.width, "pixels match the header");
        assert!(count > 0 && shape.height > 0 && shape.width > 0);
        let again = dir.path().join("again-idx");
        let gzip = bytes.first() == Some(&0x1f);
        write_images(&again, &pixels, count, shape.height, shape.width, gzip).expect("re-write accepted images");
        let (p2, s2, c2) = read_images(&again).expect("re-read written images");
        assert!(p2 == pixels && s2 == shape && c2 == count, "images round trip");
    }
    if let Ok(labels) = read_labels(&path) {
        assert!(!labels.is_empty());
        let again = dir.path().join("again-labels");
        write_labels(&again, &labels, bytes.first() == Some(&0x1f)).expect("re-write accepted labels");
        assert_eq!(read_labels(&again).expect("re-read written labels"), labels);
    }
});
