//! `cargo xtask bench [--quick] [--only NAME[,NAME…]]`: the benchmark harness.
//!
//! Every scenario runs the release `migspec` binary against a fresh `migspec emulator`
//! process on 127.0.0.1 with the limits on ([`emulator_config`]: 20 requests/s per action,
//! signatures verified, checks and full migrations lasting 1.5 s), takes the request counts
//! from the emulator's `GET /_emulator/stats`, and adds rows to one table (figure, migspec,
//! baseline, floor, ratio) printed at the end and written to `TARGET/bench/report.json`.
//! Nothing here asserts a number: the machines are noisy; a scenario fails only when what it
//! drives fails (an apply that does not converge, a test that fails).
//!
//! `bench safety` (the randomized safety test at a larger size) and `bench state` (the
//! state benchmark with the whole-file baseline) are kept as they were.

mod process;
mod report;
mod scenarios;
mod terraform;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use self::report::Row;
use super::{root, run, say};

/// The emulator's throttling threshold in every scenario, per credential and action (the DTS
/// documented limit).
pub(crate) const RATE_LIMIT: u32 = 20;
/// How long a DTS check, a DTS full migration and an OMS migration last.
pub(crate) const PHASE: Duration = Duration::from_millis(1500);

/// The emulator configuration of every measured run.
pub(crate) fn emulator_config() -> String {
    let ms = PHASE.as_millis();
    format!(
        "rate_limit_per_second: {RATE_LIMIT}\ndurations: {{checking: {ms}ms, migrating: {ms}ms, oms_migration: {ms}ms}}\n"
    )
}

/// The scenarios, in the order they run, with what each measures.
pub(crate) const SCENARIOS: [(&str, &str); 7] = [
    (
        "validate",
        "validate generated specs of all kinds: wall (min/median/max of 5), peak RSS",
    ),
    (
        "apply-dts",
        "apply DTS 2018 jobs to running, migspec and the Terraform-style driver side by side",
    ),
    (
        "plan",
        "plan with DTS jobs (half 2018, half 2021) and OMS groups already applied",
    ),
    ("apply-oms", "apply OMS groups at three sizes"),
    (
        "state",
        "apply objects through the engine with a scripted provider: user CPU, state cost per step",
    ),
    (
        "loadgen",
        "emulator throughput (signed describe/list calls, no rate limit)",
    ),
    (
        "chaos",
        "tests/tests/chaos.rs at full size, when it exists (skipped by --quick)",
    ),
];

/// How big each scenario is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizes {
    pub(crate) validate_files: usize,
    pub(crate) validate_runs: usize,
    pub(crate) dts_jobs: usize,
    pub(crate) plan_dts: usize,
    pub(crate) plan_oms: usize,
    pub(crate) oms_groups: [usize; 3],
    pub(crate) state_objects: usize,
    pub(crate) loadgen_seconds: f64,
}

/// The sizes the issue names.
const FULL: Sizes = Sizes {
    validate_files: 10_000,
    validate_runs: 5,
    dts_jobs: 200,
    plan_dts: 1_000,
    plan_oms: 200,
    oms_groups: [100, 200, 400],
    state_objects: 1_200,
    loadgen_seconds: 5.0,
};

/// `--quick`: small enough for CI (well under a minute once built).
const QUICK: Sizes = Sizes {
    validate_files: 1_000,
    validate_runs: 5,
    dts_jobs: 20,
    plan_dts: 100,
    plan_oms: 20,
    oms_groups: [5, 10, 20],
    state_objects: 200,
    loadgen_seconds: 1.0,
};

/// What the command line asked for.
#[derive(Debug, Default, PartialEq, Eq)]
struct Options {
    quick: bool,
    only: Vec<String>,
}

fn parse(flags: &[&str]) -> Result<Options, String> {
    let mut options = Options::default();
    let mut flags = flags.iter();
    while let Some(flag) = flags.next() {
        let names = match *flag {
            "--quick" => {
                options.quick = true;
                continue;
            }
            "--only" => *flags
                .next()
                .ok_or("--only needs a scenario name (see `cargo xtask help`)")?,
            other => match other.strip_prefix("--only=") {
                Some(names) => names,
                None => {
                    return Err(format!(
                        "bench: unknown argument `{other}`; expected --quick, --only NAME, `safety` or `state`"
                    ));
                }
            },
        };
        for name in names.split(',').filter(|name| !name.is_empty()) {
            if !SCENARIOS.iter().any(|(known, _)| *known == name) {
                let known: Vec<&str> = SCENARIOS.iter().map(|(known, _)| *known).collect();
                return Err(format!(
                    "bench: no scenario `{name}`; the scenarios are {}",
                    known.join(", ")
                ));
            }
            options.only.push(name.to_owned());
        }
    }
    Ok(options)
}

/// `cargo xtask bench …`.
pub(crate) fn command(args: &[&str]) -> Result<(), String> {
    match args {
        ["safety"] => safety(),
        ["state"] => state(),
        flags => harness(&parse(flags)?),
    }
}

/// What every scenario shares.
pub(crate) struct Bench {
    pub(crate) root: PathBuf,
    pub(crate) target: PathBuf,
    pub(crate) migspec: PathBuf,
    /// `TARGET/bench`: workspaces, emulator logs, the report.
    pub(crate) work: PathBuf,
    pub(crate) sizes: Sizes,
    pub(crate) quick: bool,
    pub(crate) runtime: tokio::runtime::Runtime,
}

impl Bench {
    /// An empty directory `TARGET/bench/NAME` (emptied when it exists).
    pub(crate) fn fresh_dir(&self, name: &str) -> Result<PathBuf, String> {
        let dir = self.work.join(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(dir)
    }
}

/// The target directory cargo uses here: `cargo metadata` knows `CARGO_TARGET_DIR`,
/// `build.target-dir` in a config file and the default alike.
fn target_dir(root: &Path) -> Result<PathBuf, String> {
    let output = Command::new("cargo")
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root)
        .output()
        .map_err(|error| format!("cannot run cargo metadata: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|error| format!("cargo metadata printed no JSON: {error}"))?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| "cargo metadata names no target_directory".to_owned())
}

fn harness(options: &Options) -> Result<(), String> {
    let started = Instant::now();
    let root = root();
    let target = target_dir(&root)?;
    run("cargo", &["build", "--release", "-p", "migspec-cli"])?;
    let migspec = target.join("release/migspec");
    if !migspec.is_file() {
        return Err(format!(
            "{} is missing after `cargo build --release -p migspec-cli`",
            migspec.display()
        ));
    }
    let work = target.join("bench");
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start tokio: {error}"))?;
    let bench = Bench {
        root,
        target,
        migspec,
        work,
        sizes: if options.quick { QUICK } else { FULL },
        quick: options.quick,
        runtime,
    };
    let mut rows: Vec<Row> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    for (name, what) in SCENARIOS {
        if !options.only.is_empty() && !options.only.iter().any(|only| only == name) {
            continue;
        }
        say(&format!("\n== {name}: {what}"));
        let scenario_started = Instant::now();
        let result = match name {
            "validate" => scenarios::validate(&bench),
            "apply-dts" => scenarios::apply_dts(&bench),
            "plan" => scenarios::plan(&bench),
            "apply-oms" => scenarios::apply_oms(&bench),
            "state" => scenarios::state(&bench),
            "loadgen" => scenarios::loadgen(&bench),
            "chaos" => scenarios::chaos(&bench),
            _ => Err(format!("scenario `{name}` has no implementation")),
        };
        match result {
            Ok(mut new) => {
                for row in &new {
                    say(&format!("  {}", row.line()));
                }
                rows.append(&mut new);
            }
            Err(message) => {
                say(&format!("  {name} FAILED: {message}"));
                rows.push(Row::note(name, format!("FAILED: {message}")));
                failures.push(format!("{name}: {message}"));
            }
        }
        say(&format!(
            "  ({name} took {:.1} s)",
            scenario_started.elapsed().as_secs_f64()
        ));
    }
    let total = started.elapsed();
    let table = report::table(&rows);
    say(&format!(
        "\nmigspec bench{}: {:.0} s in all\n{table}",
        if bench.quick { " --quick" } else { "" },
        total.as_secs_f64()
    ));
    let path = bench.work.join("report.json");
    report::write_json(&path, &rows, bench.quick, total)?;
    say(&format!("written to {}", path.display()));
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} scenario(s) failed (their logs are under {}):\n  {}",
            failures.len(),
            bench.work.display(),
            failures.join("\n  ")
        ))
    }
}

/// Seeds `bench safety` runs (CI runs three fixed ones at a smaller size).
const SAFETY_SEEDS: &str = "1,2,3,4,5,6,7,8,9,10,20260901,777";
/// Steps per seed for `bench safety`.
const SAFETY_STEPS: &str = "60";

/// Runs `tests/tests/safety_property.rs` with more seeds and longer sequences, through
/// `cargo test` (no per-test timeout, unlike nextest's default profile).
fn safety() -> Result<(), String> {
    let seeds = std::env::var("MIGSPEC_SAFETY_SEED").unwrap_or_else(|_| SAFETY_SEEDS.to_owned());
    let steps = std::env::var("MIGSPEC_SAFETY_STEPS").unwrap_or_else(|_| SAFETY_STEPS.to_owned());
    say(&format!(
        "$ MIGSPEC_SAFETY_SEED={seeds} MIGSPEC_SAFETY_STEPS={steps} cargo test -p migspec-tests --test safety_property -- --nocapture"
    ));
    let started = Instant::now();
    let status = Command::new("cargo")
        .args([
            "test",
            "-p",
            "migspec-tests",
            "--test",
            "safety_property",
            "--",
            "--nocapture",
        ])
        .env("MIGSPEC_SAFETY_SEED", &seeds)
        .env("MIGSPEC_SAFETY_STEPS", &steps)
        .current_dir(root())
        .status()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    say(&format!(
        "bench safety: {:.1?} ({status})",
        started.elapsed()
    ));
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "the safety test failed ({status}); its output names the seed to re-run"
        ))
    }
}

/// Runs `crates/migspec-runner/examples/state_bench.rs` (release) with both backends: the
/// state's CPU time per step at the start and the end of a 1,200-object apply, incremental
/// against the whole-file baseline, as a table and as `TARGET/bench-state.json`.
fn state() -> Result<(), String> {
    let objects = std::env::var("MIGSPEC_BENCH_OBJECTS").unwrap_or_else(|_| "1200".to_owned());
    let json = target_dir(&root())?.join("bench-state.json");
    let json = json.to_str().ok_or("the target path is not UTF-8")?;
    run(
        "cargo",
        &[
            "run",
            "--release",
            "-p",
            "migspec-runner",
            "--example",
            "state_bench",
            "--",
            "--objects",
            &objects,
            "--json",
            json,
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_and_unknown_names_are_refused() {
        assert_eq!(
            parse(&["--quick", "--only", "plan,apply-oms", "--only=state"]).expect("valid"),
            Options {
                quick: true,
                only: vec!["plan".into(), "apply-oms".into(), "state".into()]
            }
        );
        assert_eq!(parse(&[]).expect("valid"), Options::default());
        let error = parse(&["--only", "plna"]).expect_err("unknown scenario");
        assert!(error.contains("no scenario `plna`"), "{error}");
        assert!(error.contains("apply-dts"), "{error}");
        assert!(parse(&["--only"]).is_err());
        assert!(
            parse(&["--fast"])
                .expect_err("unknown flag")
                .contains("--fast")
        );
    }

    #[test]
    fn the_emulator_config_sets_the_limit_and_the_phases() {
        let config = emulator_config();
        assert!(config.contains("rate_limit_per_second: 20"), "{config}");
        assert!(config.contains("checking: 1500ms"), "{config}");
        assert!(config.contains("oms_migration: 1500ms"), "{config}");
    }
}
