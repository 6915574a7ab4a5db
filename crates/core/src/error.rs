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
        /// Where: a file (with line if known), or where else the value came from.
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
    /// A setting that a front end sets over a study or spec file (one of
    /// [`overridable_settings`](crate::overridable_settings)) has an invalid value. The
    /// setting is named as in files (`seeds`, `epochs`); a front end shows it in its own
    /// terms (a command line, as its flag).
    #[error("setting `{setting}`: {message}")]
    Setting {
        /// The setting, e.g. `seeds`.
        setting: String,
        /// What was wrong, and what was expected.
        message: String,
    },
    /// A backend was asked for that this build does not contain.
    #[error(
        "backend `{backend}` is not compiled into this build of cnnvar (rebuild with \
         `--features {feature}`); compiled in: {}",
        crate::backend::compiled_names()
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
    /// A data set in memory is inconsistent: its shape, its labels or its sizes.
    #[error("data set: {0}")]
    Dataset(String),
    /// A data transform or split (subset, k-fold, label noise, downsampling) was given
    /// a parameter outside its range.
    #[error("{transform}: {message}")]
    Transform {
        /// The transform, e.g. `k-fold`.
        transform: String,
        /// What was wrong, and what was expected.
        message: String,
    },
    /// An environment variable cnnvar needs is unset or holds an unusable value.
    #[error("${variable}: {message}")]
    Environment {
        /// The variable, e.g. `CNNVAR_MAX_DATA_BYTES`.
        variable: String,
        /// What was wrong, and what to do about it.
        message: String,
    },
    /// A download failed: the network, the server or the bytes that arrived.
    #[error("{url}: {message}")]
    Download {
        /// What was being downloaded.
        url: String,
        /// What went wrong, and what was kept.
        message: String,
    },
    /// An external program (a worker, `sbatch`, `squeue`) could not be run or failed.
    #[error("{program}: {message}")]
    Program {
        /// The program.
        program: String,
        /// What went wrong, with its output where that helps.
        message: String,
    },
    /// An output (a table, a figure, JSON) could not be encoded; file-system failures
    /// are [`Error::Io`].
    #[error("{output}: {message}")]
    Encode {
        /// The output, e.g. `summary.csv` or the figure's name.
        output: String,
        /// The encoder's message.
        message: String,
    },
    /// A backend returned something other than what the computation asked for.
    #[error("{operation}: {message}")]
    Compute {
        /// The computation, e.g. `evaluation`.
        operation: String,
        /// What came back, and what was expected.
        message: String,
    },
    /// A run's outputs (predictions, labels, curve) do not agree with its record.
    #[error("run {run}: {message}")]
    Outputs {
        /// The run's id.
        run: String,
        /// What disagrees, and what was expected.
        message: String,
    },
    /// A model could not be registered or built under its name.
    #[error("model `{model}`: {message}")]
    Model {
        /// The model's name.
        model: String,
        /// What went wrong.
        message: String,
    },
}

impl Error {
    /// A [`Error::Data`] for `path`.
    pub fn data(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Data { path: path.into(), message: message.into() }
    }

    /// A [`Error::Field`] at `location` (a file, `file:line`, or another source).
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

    /// An [`Error::Setting`] for the setting `setting` (named as in files).
    pub fn setting(setting: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Setting { setting: setting.into(), message: message.into() }
    }

    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    /// An [`Error::Transform`] for `transform`.
    pub fn transform(transform: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Transform { transform: transform.into(), message: message.into() }
    }

    /// An [`Error::Environment`] for `variable`.
    pub fn environment(variable: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Environment { variable: variable.into(), message: message.into() }
    }

    /// An [`Error::Download`] of `url`.
    pub fn download(url: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Download { url: url.into(), message: message.into() }
    }

    /// An [`Error::Program`] for `program`.
    pub fn program(program: impl Into<String>, message: impl ToString) -> Self {
        Error::Program { program: program.into(), message: message.to_string() }
    }

    /// An [`Error::Encode`] of `output`.
    pub fn encode(output: impl Into<String>, message: impl ToString) -> Self {
        Error::Encode { output: output.into(), message: message.to_string() }
    }

    /// An [`Error::Outputs`] for the run `run`.
    pub fn outputs(run: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Outputs { run: run.into(), message: message.into() }
    }

    /// An [`Error::Model`] for the model `model`.
    pub fn model(model: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Model { model: model.into(), message: message.into() }
    }

    /// An [`Error::Compute`] in `operation`.
    pub fn compute(operation: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Compute { operation: operation.into(), message: message.into() }
    }
}
