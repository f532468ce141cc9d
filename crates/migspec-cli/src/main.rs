//! The `migspec` command: argument parsing and rendering only; the work is in the library
//! crates.

mod args;
mod commands;
mod logging;
mod view;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::commands::ExitStatus;

fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            // CI reads 2 from `plan --detailed-exitcode` as "changes present": a usage error
            // there must not look like one.
            let detailed = std::env::args_os().any(|arg| arg == "--detailed-exitcode");
            return match error.exit_code() {
                0 => std::process::ExitCode::SUCCESS,
                _ if detailed => std::process::ExitCode::from(1),
                code => std::process::ExitCode::from(u8::try_from(code).unwrap_or(2)),
            };
        }
    };
    logging::init(cli.verbose);
    let status = match cli.command {
        Command::Validate(args) => commands::validate::run(&args),
        Command::Schema(args) => commands::schema::run(&args),
        Command::Plan(args) => commands::plan::run(&args),
        Command::Apply(args) => commands::apply::run(&args),
        Command::Show(args) => commands::plan::show(&args),
        Command::Status(args) => commands::state::status(&args),
        Command::Import(args) => commands::import(&args),
        Command::State(command) => commands::state::state(&command),
        Command::Destroy(args) => commands::destroy::run(&args),
        Command::Version(args) => commands::meta::version(&args),
        Command::Completions(args) => commands::meta::completions(&args),
        Command::Man(args) => commands::meta::man(&args),
        Command::Emulator(args) => match migspec_emulator::cli::run(args) {
            Ok(()) => ExitStatus::Success,
            Err(error) => {
                view::err(&format!("error: {error}"));
                ExitStatus::Failure
            }
        },
    };
    status.into()
}

// mimalloc instead of the system allocator: validation allocates millions of small strings
// across threads, where glibc's malloc measured noticeably slower (see `cargo xtask bench`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
