//! Helpers shared by the end-to-end tests.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `migspec` binary built for this test run.
pub fn migspec() -> Command {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("migspec"));
    command
        .current_dir(tests_dir())
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE");
    command
}

/// The `tests/` directory of the workspace.
pub fn tests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace root.
pub fn workspace_dir() -> PathBuf {
    tests_dir()
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// A path relative to `tests/`, as the binary will print it.
pub fn relative(path: &Path) -> String {
    path.strip_prefix(tests_dir())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Runs a command and renders its exit code and output for a snapshot.
pub fn render(output: &std::process::Output) -> String {
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        output
            .status
            .code()
            .map_or_else(|| "signal".to_owned(), |code| code.to_string()),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    )
}
