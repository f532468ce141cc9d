//! The subcommands; each returns the process exit status.

pub(crate) mod apply;
pub(crate) mod destroy;
pub(crate) mod import_all;
pub(crate) mod meta;
pub(crate) mod plan;
pub(crate) mod schema;
pub(crate) mod state;
pub(crate) mod validate;
pub(crate) mod workspace;

/// Exit statuses, as CI expects them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExitStatus {
    /// Everything is fine.
    Success,
    /// The specs (or the run) failed. Usage errors exit with 2, from clap.
    Failure,
    /// `plan --detailed-exitcode` found changes.
    Changes,
    /// Ctrl-C stopped the apply (130, as shells report SIGINT).
    Interrupted,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => Self::SUCCESS,
            ExitStatus::Failure => Self::from(1),
            ExitStatus::Changes => Self::from(2),
            ExitStatus::Interrupted => Self::from(130),
        }
    }
}

/// A command that stopped: the message is already printed.
#[derive(Debug)]
pub(crate) struct Stopped;

/// Prints an error the way every command does: what, then what to do.
pub(crate) fn fail(message: &str) -> Stopped {
    crate::view::err(&format!("error: {message}"));
    Stopped
}

/// A runtime for one command.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
}

/// `migspec import`: one object by id (`state`), or every unmanaged one (`import_all`).
pub(crate) fn import(args: &crate::args::ImportArgs) -> ExitStatus {
    workspace::in_workspace(&args.workspace, async |workspace| {
        if args.all {
            return import_all::run(args, workspace).await;
        }
        state::import_one(args, workspace)
            .await
            .map(|()| ExitStatus::Success)
    })
}
