//! Records the commit the binary is built from, for `migspec --version` and `migspec
//! version --format json`.
//!
//! `MIGSPEC_COMMIT` (and `MIGSPEC_COMMIT_DATE`) in the environment win, so that CI or a
//! packager building from a tarball without `.git` can say it; otherwise `git` is asked. With
//! neither, the commit is reported as unknown: a build never fails for want of git.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn main() {
    println!("cargo:rerun-if-env-changed=MIGSPEC_COMMIT");
    println!("cargo:rerun-if-env-changed=MIGSPEC_COMMIT_DATE");
    // Build again when HEAD moves: HEAD itself (a checkout) and the branch it names (a commit).
    for path in ["HEAD", "packed-refs"] {
        if let Some(file) = git(&["rev-parse", "--git-path", path]) {
            println!("cargo:rerun-if-changed={file}");
        }
    }
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"])
        && let Some(file) = git(&["rev-parse", "--git-path", &branch])
    {
        println!("cargo:rerun-if-changed={file}");
    }
    let commit = std::env::var("MIGSPEC_COMMIT")
        .ok()
        .filter(|commit| !commit.is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]));
    let date = std::env::var("MIGSPEC_COMMIT_DATE")
        .ok()
        .filter(|date| !date.is_empty())
        .or_else(|| {
            commit
                .as_ref()
                .and(git(&["log", "-1", "--format=%cs", "HEAD"]))
        });
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let line = match (&commit, &date) {
        (Some(commit), Some(date)) => format!("{version} (commit {commit}, {date})"),
        (Some(commit), None) => format!("{version} (commit {commit})"),
        _ => format!("{version} (commit unknown: built without git)"),
    };
    println!(
        "cargo:rustc-env=MIGSPEC_BUILD_COMMIT={}",
        commit.unwrap_or_default()
    );
    println!(
        "cargo:rustc-env=MIGSPEC_BUILD_COMMIT_DATE={}",
        date.unwrap_or_default()
    );
    println!("cargo:rustc-env=MIGSPEC_VERSION_LINE={line}");
}
