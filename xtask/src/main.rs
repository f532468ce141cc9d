//! Project chores: `cargo xtask ci` (the test command `.ci/run` and the README use) and
//! `cargo xtask schemas --check|--write`, and `cargo xtask bench [--quick] [--only NAME]`
//! (with `bench safety` and `bench state`).
//!
//! No clap here on purpose: three commands and a few flags do not need it.

mod bench;
mod circles;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod man;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["ci"] => ci(),
        ["circles"] => circles::check(&root()),
        ["circles", dir] => circles::check(Path::new(dir)),
        ["schemas", "--check"] | ["schemas"] => schemas(Mode::Check),
        ["schemas", "--write"] => schemas(Mode::Write),
        ["bench", rest @ ..] => bench::command(rest),
        ["man"] => man::write(None),
        ["man", dir] => man::write(Some(dir)),
        ["help" | "--help" | "-h"] | [] => {
            say(HELP);
            Ok(())
        }
        other => Err(format!("unknown command `{}`\n\n{HELP}", other.join(" "))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            say(&format!("xtask: {message}"));
            ExitCode::FAILURE
        }
    }
}

const HELP: &str = "cargo xtask <command>

  ci                 fmt check, clippy -D warnings, schemas --check, every test (nextest),
                     doctests, the plugin skeleton builds
  circles [DIR]      fail if the modules of a crate (of the workspace at DIR) import each
                     other in a circle
  schemas --check    fail if schemas/*.json differ from the spec and document types
  schemas --write    regenerate schemas/*.json
  bench [--quick] [--only NAME[,NAME…]]
                     the benchmark harness: the release `migspec` against a fresh emulator
                     per scenario (20 requests/s per action, signatures verified, checks and
                     full migrations of 1.5 s), side by side with a Terraform-style driver
                     and the floor the calls allow; prints one table and writes it to
                     TARGET/bench/report.json. --quick: reduced sizes (CI). Scenarios:
                     validate, apply-dts, plan, apply-oms, state, loadgen, chaos
  bench safety       the randomized safety test (tests/tests/safety_property.rs) at a larger
                     size: more seeds, longer sequences (MIGSPEC_SAFETY_SEED and
                     MIGSPEC_SAFETY_STEPS override them)
  bench state        apply 1,200 objects through the engine with a scripted provider, timing
                     the state's writes: the incremental log against the whole-file rewrite
                     (MIGSPEC_BENCH_OBJECTS overrides the count; JSON in
                     TARGET/bench-state.json; the whole-file half takes minutes)
  man [DIR]          write the man pages (migspec.1, migspec-apply.1, …) into DIR
                     (default target/man); read one with `man -l target/man/migspec.1`";

#[expect(clippy::print_stderr, reason = "xtask talks to the developer")]
fn say(text: &str) {
    eprintln!("{text}");
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Check,
    Write,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf()
}

fn run(program: &str, args: &[&str]) -> Result<(), String> {
    say(&format!("$ {program} {}", args.join(" ")));
    let status = Command::new(program)
        .args(args)
        .current_dir(root())
        .status()
        .map_err(|error| format!("cannot run {program}: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

fn ci() -> Result<(), String> {
    run("cargo", &["fmt", "--all", "--check"])?;
    run(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    schemas(Mode::Check)?;
    circles::check(&root())?;
    run(
        "cargo",
        &[
            "nextest",
            "run",
            "--workspace",
            "--profile",
            "ci",
            "--no-tests",
            "fail",
        ],
    )?;
    run("cargo", &["test", "--workspace", "--doc"])?;
    // The out-of-tree plugin example is its own workspace; it must keep building against
    // the provider crate (sharing the target directory keeps this cheap).
    run(
        "cargo",
        &[
            "build",
            "--manifest-path",
            "examples/plugin-skeleton/Cargo.toml",
            "--target-dir",
            "target",
        ],
    )?;
    // The fuzz targets (fuzz/, its own workspace) must keep compiling, and the kept corpus
    // and every past crash input must still pass through them (without AFL: `--lib` only,
    // as the AFL binaries link only under `cargo afl`).
    let fuzz = [
        "--manifest-path",
        "fuzz/Cargo.toml",
        "--target-dir",
        "target",
    ];
    run(
        "cargo",
        &[
            &["clippy"][..],
            &fuzz,
            &["--all-targets", "--", "-D", "warnings"],
        ]
        .concat(),
    )?;
    run("cargo", &[&["test", "--lib"][..], &fuzz].concat())?;
    Ok(())
}

fn schemas(mode: Mode) -> Result<(), String> {
    let dir = root().join("schemas");
    let mut stale = Vec::new();
    let files = migspec_schema::generate::schema_files()
        .into_iter()
        .chain(migspec_runner::documents::schema_files());
    for (name, text) in files {
        let path = dir.join(&name);
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == text {
            continue;
        }
        match mode {
            Mode::Check => stale.push(name),
            Mode::Write => {
                std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
                say(&format!("wrote {}", path.display()));
            }
        }
    }
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "stale schemas: {} (run `cargo xtask schemas --write`)",
            stale.join(", ")
        ))
    }
}
