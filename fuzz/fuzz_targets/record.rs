//! The run-record reader on arbitrary text. It must never panic; a record it accepts
//! has a run id matching its spec and reads back identically after writing.
#![no_main]

use std::path::Path;

use cnnvar_core::RunRecord;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    let Ok(record) = RunRecord::from_json(text, Path::new("record.json")) else { return };
    assert_eq!(record.run_id, record.spec.run_id());
    let written = record.to_json();
    let again = RunRecord::from_json(&written, Path::new("again.json")).expect("re-read");
    assert_eq!(again.to_json(), written, "record round trip");
});
