//! The error type shared by all cnnvar crates.

use std::path::PathBuf;

/// Shorthand for results with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in cnnvar. Every variant names the file, field or
/// backend at fault and, where there is one, what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A data file exists but its content is not what it should be.
    #[error("{}: {message}", path.display())]
    Data {
        /// The offending file.
        path: PathBuf,
        /// What was wrong, and what was expected.
        message: String,
    },
    /// A data set could not be found anywhere cnnvar looks.
    #[error("data set `{name}` not found; looked in: {searched}. {hint}")]
    DataNotFound {
        /// Name of the data set.
        name: String,
        /// The places searched, in order.
        searched: String,
        /// How to install or fetch it.
        hint: String,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A spec, study or record field is invalid.
    #[error("{location}: field `{field}`: {message}")]
    Field {
        /// Where: a file (with line if known) or a command-line flag.
        location: String,
        /// The field.
        field: String,
        /// What was wrong, and what was expected.
        message: String,
    },
    /// A file is not well-formed (TOML syntax, text that is not UTF-8) at a position
    /// that belongs to no field.
    #[error("{location}: {message}")]
    Syntax {
        /// Where: `file:line:column`.
        location: String,
        /// What was wrong, and what was expected.
        message: String,
    },
    /// A command-line option's value is invalid.
    #[error("option `{flag}`: {message}")]
    Flag {
        /// The option, e.g. `--seeds`.
        flag: String,
        /// What was wrong, and what was expected.
        message: String,
    },
    /// A backend was asked for that this build does not contain.
    #[error(
        "backend `{backend}` is not compiled into this build of cnnvar; rebuild with `--features {feature}`"
    )]
    BackendNotCompiled {
        /// The backend asked for.
        backend: String,
        /// The Cargo feature that enables it.
        feature: String,
    },
    /// A backend is compiled in but could not start (no driver, no library).
    #[error("backend `{backend}` could not start: {message}")]
    BackendUnavailable {
        /// The backend.
        backend: String,
        /// Why.
        message: String,
    },
    /// Anything else, with a message that says what and where.
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// A [`Error::Data`] for `path`.
    pub fn data(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Data { path: path.into(), message: message.into() }
    }

    /// A [`Error::Field`] at `location` (a file, `file:line`, or a flag).
    pub fn field(
        location: impl Into<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::Field { location: location.into(), field: field.into(), message: message.into() }
    }

    /// An [`Error::Syntax`] at `location` (`file:line:column`).
    pub fn syntax(location: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Syntax { location: location.into(), message: message.into() }
    }

    /// An [`Error::Flag`] for the command-line option `flag`.
    pub fn flag(flag: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Flag { flag: flag.into(), message: message.into() }
    }

    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}
