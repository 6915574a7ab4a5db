//! The CIFAR-10 batch reader on arbitrary bytes. It must never panic; what it accepts
//! is whole records with labels 0–9, and survives a write/read round trip.
#![no_main]

use std::io::Write;

use cnnvar_data::cifar::{RECORD_BYTES, read_batch, write_batch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("data_batch_1.bin");
    std::fs::File::create(&path).and_then(|mut f| f.write_all(bytes)).expect("write input");

    if let Ok((images, labels, _sha)) = read_batch(&path) {
        assert_eq!(images.len(), labels.len() * (RECORD_BYTES - 1), "whole records");
        assert!(labels.iter().all(|&l| l < 10), "labels 0-9");
        let again = dir.path().join("test_batch.bin");
        write_batch(&again, &images, &labels).expect("re-write accepted batch");
        let (i2, l2, _) = read_batch(&again).expect("re-read written batch");
        assert!(i2 == images && l2 == labels, "batch round trip");
    }
});
