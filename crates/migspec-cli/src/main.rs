//! The `migspec` command.
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "migspec", version, about = "Turn YAML migration specs into cloud data-migration jobs")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve a local emulator of the Tencent DTS and Huawei OMS APIs
    Emulator(migspec_emulator::cli::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Emulator(args) => match migspec_emulator::cli::run(args) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(error) => {
                anstream::eprintln!("error: {error}");
                std::process::ExitCode::FAILURE
            }
        },
    }
}
