//! Helpers shared by the end-to-end tests.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub mod cloud;
pub mod objects;
pub mod oms;
pub mod postgres;

/// The target directory and profile these tests were built in (`target/debug/deps/<test>`).
fn build_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    exe.parent()
        .and_then(Path::parent)
        .expect("test binaries live in <target>/<profile>/deps")
        .to_path_buf()
}

/// Builds workspace artifacts the tests run (the `migspec` binary, plugin cdylibs) with the
/// same profile and target directory as the tests, once per test process.
///
/// Cargo builds a package's binaries only for that package's own tests, so the end-to-end
/// tests ask for them explicitly; on an up-to-date tree this is a no-op check.
pub fn ensure_built(packages: &[&str]) {
    static DONE: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut done = DONE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let key = packages.join(",");
    if done.contains(&key) {
        return;
    }
    let dir = build_dir();
    let profile = match dir.file_name().and_then(|name| name.to_str()) {
        Some("debug") => "dev",
        Some(other) => other,
        None => "dev",
    };
    let target_dir = dir.parent().expect("<target>/<profile>");
    let mut command = Command::new(env!("CARGO"));
    command
        .current_dir(workspace_dir())
        .args(["build", "--quiet", "--profile", profile, "--target-dir"])
        .arg(target_dir);
    for package in packages {
        command.args(["--package", package]);
    }
    let status = command.status().expect("cargo runs");
    assert!(status.success(), "cargo build of {key} failed");
    done.push(key);
}

/// The path of a built artifact in the tests' profile directory.
pub fn built(file: &str) -> PathBuf {
    build_dir().join(file)
}

/// The `migspec` binary, freshly built for this test run.
pub fn migspec() -> Command {
    ensure_built(&["migspec-cli"]);
    let mut command = Command::new(built("migspec"));
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
