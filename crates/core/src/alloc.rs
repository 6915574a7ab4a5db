//! [`tune_allocator`]: keeps glibc's malloc from handing every freed tensor buffer back
//! to the kernel.

/// The environment variable that turns [`tune_allocator`] off (`0`), for before/after
/// measurements.
pub const TUNING_VAR: &str = "CNNVAR_MALLOC_TUNING";

/// Tells glibc's malloc to keep freed memory for reuse: buffers up to 32 MiB come from
/// the heap instead of fresh `mmap`s, and the heap is trimmed only when 256 MiB at its
/// top are free. By default glibc returns a training step's buffers to the kernel and
/// the next step faults them in again, zeroed: until the first evaluation has raised
/// glibc's adaptive thresholds, an epoch of the simple model on one thread runs at 0.6×
/// the speed of later ones (flex and LibTorch alike). Costs 10–60 MB of RSS.
///
/// Does nothing off glibc, or when `CNNVAR_MALLOC_TUNING=0`. Returns whether it tuned.
pub fn tune_allocator() -> bool {
    if std::env::var(TUNING_VAR).is_ok_and(|v| v.trim() == "0") {
        return false;
    }
    imp::tune()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod imp {
    /// Largest mmap threshold glibc accepts on 64-bit (half its 64 MiB heap size).
    const MMAP_THRESHOLD: libc::c_int = 32 << 20;
    /// Free bytes at the heap's top before it is trimmed.
    const TRIM_THRESHOLD: libc::c_int = 256 << 20;

    #[allow(unsafe_code)]
    pub fn tune() -> bool {
        // SAFETY: mallopt only sets malloc parameters; it takes the arena locks
        // itself, so it is safe to call at any time from any thread.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod imp {
    pub fn tune() -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn glibc_accepts_the_settings() {
        // The variable is not set in tests, so the settings are applied and accepted.
        if std::env::var(TUNING_VAR).is_err() {
            assert!(tune_allocator());
        }
    }
}
