//! `cargo xtask man [DIR]`: the man pages (`migspec.1` and one per subcommand), rendered by
//! clap_mangen from the binary's own argument definitions, so that they never drift from
//! `--help`. The binary writes them (its hidden `man` command): the argument types live in
//! the CLI crate, which xtask does not build against, to stay fast.

use std::path::PathBuf;
use std::process::Command;

use crate::root;

/// Builds `migspec` and has it write its pages into `dir` (default `target/man`).
pub(crate) fn write(dir: Option<&str>) -> Result<(), String> {
    let dir = dir.map_or_else(|| root().join("target").join("man"), PathBuf::from);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .current_dir(root())
        .args(["run", "--quiet", "-p", "migspec-cli", "--", "man", "--out"])
        .arg(&dir)
        .status()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`migspec man --out {}` failed ({status})",
            dir.display()
        ))
    }
}
