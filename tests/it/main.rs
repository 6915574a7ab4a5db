//! End-to-end tests: each drives the `cnnvar` binary as a user would. This is the
//! `it` test of the `cnnvar-cli` package (`cargo test -p cnnvar-cli --test it`).
//!
//! A test whose resource is missing skips, saying so in one line on stderr,
//! `cnnvar-test-skip: <test>: <why>` (`support::skip`), which is also appended to the
//! file `$CNNVAR_SKIP_LOG` when that is set: `cargo xtask ci` sets it and fails when any
//! test skipped. Environment that makes skips into failures (`cargo xtask ci` sets all
//! six):
//! - `CNNVAR_REQUIRE_BACKENDS=flex,ndarray,...`: those backends must be compiled in and work.
//! - `CNNVAR_REQUIRE_DATA=fashion-mnist`: the real data set must be installed.
//! - `CNNVAR_REQUIRE_BROWSER=chromium`: the report tests must find a headless browser.
//! - `CNNVAR_REQUIRE_SLURM=1`: the Slurm test must be able to start a single-node Slurm.
//! - `CNNVAR_REQUIRE_TMPFS=1`: the crash test must be able to mount a small tmpfs (root).
//! - `CNNVAR_REQUIRE_DIGITS=1`: the image-folder tests must find the digits export in
//!   `CNNVAR_DIGITS_DIR` (`scripts/digits_to_png.py`).

mod adaptive;
mod backends;
mod broken_data;
mod crash;
mod folder;
mod full;
mod integrity;
mod report;
mod run_store;
mod script;
mod slurm;
mod support;
mod sweep;
mod train;
