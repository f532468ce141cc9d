//! The subcommands; each returns the process exit status.

pub(crate) mod schema;
pub(crate) mod validate;

/// Exit statuses, as CI expects them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExitStatus {
    /// Everything is fine.
    Success,
    /// The specs (or the run) failed. Usage errors exit with 2, from clap.
    Failure,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => Self::SUCCESS,
            ExitStatus::Failure => Self::from(1),
        }
    }
}
