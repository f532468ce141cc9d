//! Project chores: `cargo xtask ci` (the test command `.ci/run` and the README use) and
//! `cargo xtask schemas --check|--write`, and `cargo xtask bench [safety|state]`.
//!
//! No clap here on purpose: two commands and a flag do not need it, and xtask must build fast.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["ci"] => ci(),
        ["schemas", "--check"] | ["schemas"] => schemas(Mode::Check),
        ["schemas", "--write"] => schemas(Mode::Write),
        ["bench"] => bench::validate(),
        ["bench", "safety"] => bench::safety(),
        ["bench", "state"] => bench::state(),
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
  schemas --check    fail if schemas/*.json differ from the spec and document types
  schemas --write    regenerate schemas/*.json
  bench              time `migspec validate` on 10,000 generated specs (release build)
  bench safety       the randomized safety test (tests/tests/safety_property.rs) at a larger
                     size: more seeds, longer sequences (MIGSPEC_SAFETY_SEED and
                     MIGSPEC_SAFETY_STEPS override them)
  bench state        apply 1,200 objects through the engine with a scripted provider, timing
                     the state's writes: the incremental log against the whole-file rewrite
                     (MIGSPEC_BENCH_OBJECTS overrides the count; JSON in
                     target/bench-state.json)";

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

mod bench {
    //! `cargo xtask bench`: time `migspec validate` on 10,000 generated spec files;
    //! `cargo xtask bench safety`: the randomized safety test at a larger size;
    //! `cargo xtask bench state`: the state's write cost over a 1,200-object apply.

    use std::path::Path;
    use std::process::Command;
    use std::time::{Duration, Instant};

    use super::{root, run, say};

    /// Seeds `bench safety` runs (CI runs three fixed ones at a smaller size).
    const SAFETY_SEEDS: &str = "1,2,3,4,5,6,7,8,9,10,20260901,777";
    /// Steps per seed for `bench safety`.
    const SAFETY_STEPS: &str = "60";

    /// Runs `tests/tests/safety_property.rs` with more seeds and longer sequences, through
    /// `cargo test` (no per-test timeout, unlike nextest's default profile).
    pub(crate) fn safety() -> Result<(), String> {
        let seeds =
            std::env::var("MIGSPEC_SAFETY_SEED").unwrap_or_else(|_| SAFETY_SEEDS.to_owned());
        let steps =
            std::env::var("MIGSPEC_SAFETY_STEPS").unwrap_or_else(|_| SAFETY_STEPS.to_owned());
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

    /// Runs `crates/migspec-runner/examples/state_bench.rs` (release): the state's CPU time
    /// per step at the start and the end of a 1,200-object apply, incremental against the
    /// whole-file baseline, as a table and as `target/bench-state.json`.
    pub(crate) fn state() -> Result<(), String> {
        let objects = std::env::var("MIGSPEC_BENCH_OBJECTS").unwrap_or_else(|_| "1200".to_owned());
        let json = root().join("target/bench-state.json");
        let json = json.to_str().ok_or("the workspace path is not UTF-8")?;
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

    const TEMPLATES: [&str; 4] = [
        include_str!("bench_specs/tencent2018.yaml"),
        include_str!("bench_specs/postgres2018.yaml"),
        include_str!("bench_specs/tencent2021.yaml"),
        include_str!("bench_specs/huawei.yaml"),
    ];

    /// Files to validate.
    pub(crate) const FILES: usize = 10_000;

    fn generate(dir: &Path) -> Result<(usize, usize), String> {
        let marker = dir.join(".complete");
        let mut bytes = 0;
        let mut lines = 0;
        for index in 0..FILES {
            let template = TEMPLATES[index % TEMPLATES.len()];
            let text = template.replace("NAME", &format!("spec-{index:05}"));
            bytes += text.len();
            lines += text.lines().count();
            if marker.exists() {
                continue;
            }
            let sub = dir.join(format!("group-{:03}", index / 100));
            std::fs::create_dir_all(&sub).map_err(|e| format!("{}: {e}", sub.display()))?;
            let path = sub.join(format!("spec-{index:05}.yaml"));
            std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        std::fs::write(&marker, "").map_err(|e| e.to_string())?;
        Ok((bytes, lines))
    }

    fn max_rss_kib(binary: &Path, dir: &Path) -> Option<u64> {
        let output = Command::new("/usr/bin/time")
            .args(["-f", "%M"])
            .arg(binary)
            .args(["validate", "--format", "json"])
            .arg(dir)
            .output()
            .ok()?;
        String::from_utf8_lossy(&output.stderr)
            .lines()
            .last()?
            .trim()
            .parse()
            .ok()
    }

    pub(crate) fn validate() -> Result<(), String> {
        run("cargo", &["build", "--release", "-p", "migspec-cli"])?;
        let root = root();
        let binary = root.join("target/release/migspec");
        let dir = root.join("target/bench-specs");
        let (bytes, lines) = generate(&dir)?;
        say(&format!(
            "{FILES} spec files, {:.1} MB, {:.0} lines each on average, in {}",
            bytes as f64 / 1e6,
            lines as f64 / FILES as f64,
            dir.display()
        ));
        let mut times: Vec<Duration> = Vec::new();
        for round in 0..6 {
            let started = Instant::now();
            let output = Command::new(&binary)
                .args(["validate", "--format", "json"])
                .arg(&dir)
                .output()
                .map_err(|e| e.to_string())?;
            let elapsed = started.elapsed();
            if !output.status.success() {
                return Err(format!(
                    "validate failed: {}",
                    String::from_utf8_lossy(&output.stdout)
                ));
            }
            // The first run warms the page cache and is not counted.
            if round > 0 {
                times.push(elapsed);
            }
        }
        times.sort();
        let median = times[times.len() / 2];
        say(&format!(
            "wall: median {:.3} s, min {:.3} s, max {:.3} s over {} runs (budget 1.0 s)",
            median.as_secs_f64(),
            times[0].as_secs_f64(),
            times[times.len() - 1].as_secs_f64(),
            times.len()
        ));
        match max_rss_kib(&binary, &dir) {
            Some(kib) => say(&format!(
                "peak RSS: {:.1} MB (budget 300 MB)",
                kib as f64 / 1024.0
            )),
            None => say("peak RSS: not measured (/usr/bin/time is missing: apt-get install time)"),
        }
        if median > Duration::from_secs(1) {
            return Err("validate is over its 1.0 s budget".to_owned());
        }
        Ok(())
    }
}
