//! Commands about the tool itself: `version`, `completions`, and the hidden `man` that
//! `cargo xtask man` runs.

use clap::CommandFactory;

use super::ExitStatus;
use super::plan::fail;
use crate::args::{Cli, CompletionsArgs, DataFormat, ManArgs, VersionArgs};
use crate::view;

/// The commit the binary was built from (empty: unknown), from `build.rs`.
const COMMIT: &str = env!("MIGSPEC_BUILD_COMMIT");
/// That commit's date (`YYYY-MM-DD`; empty: unknown).
const COMMIT_DATE: &str = env!("MIGSPEC_BUILD_COMMIT_DATE");

pub(crate) fn version(args: &VersionArgs) -> ExitStatus {
    match args.format {
        DataFormat::Table => view::out(&format!("migspec {}", env!("MIGSPEC_VERSION_LINE"))),
        DataFormat::Json => view::out(
            &serde_json::to_string_pretty(&serde_json::json!({
                "name": "migspec",
                "version": env!("CARGO_PKG_VERSION"),
                "commit": (!COMMIT.is_empty()).then_some(COMMIT),
                "commit_date": (!COMMIT_DATE.is_empty()).then_some(COMMIT_DATE),
                "plan_format_version": migspec_runner::plan::PLAN_FORMAT_VERSION,
            }))
            .expect("the version serializes"),
        ),
    }
    ExitStatus::Success
}

pub(crate) fn completions(args: &CompletionsArgs) -> ExitStatus {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "migspec", &mut script);
    view::out(String::from_utf8_lossy(&script).trim_end());
    ExitStatus::Success
}

pub(crate) fn man(args: &ManArgs) -> ExitStatus {
    if let Err(error) = std::fs::create_dir_all(&args.out) {
        fail(&format!("cannot create {}: {error}", args.out.display()));
        return ExitStatus::Failure;
    }
    // One page for `migspec` and one per subcommand (`migspec-apply.1`, …), as git does.
    match clap_mangen::generate_to(Cli::command(), &args.out) {
        Ok(()) => {
            view::err(&format!(
                "Wrote the man pages to {}; read one with `man -l {}/migspec.1`.",
                args.out.display(),
                args.out.display()
            ));
            ExitStatus::Success
        }
        Err(error) => {
            fail(&format!(
                "cannot write the man pages into {}: {error}",
                args.out.display()
            ));
            ExitStatus::Failure
        }
    }
}
