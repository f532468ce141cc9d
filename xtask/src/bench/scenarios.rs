//! The scenarios of `cargo xtask bench`, each returning its rows.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::process::{Emulator, Measured, Stats, measure};
use super::report::Row;
use super::terraform;
use super::{Bench, PHASE, RATE_LIMIT, emulator_config};
use crate::{run, say};

/// The emulator's documented default credentials (migspec and the driver use them).
const TENCENT_ID: &str = "AKIDMIGSPECEMULATOR0000000000000000";
const TENCENT_KEY: &str = "migspecEmulatorSecretKey00000000";
const HUAWEI_AK: &str = "MIGSPECEMULATORAK000";
const HUAWEI_SK: &str = "migspecEmulatorSecretKey0000000000000000";
const HUAWEI_PROJECT: &str = "0123456789abcdef0123456789abcdef";

/// The environment variable `tests/tests/chaos.rs` reads its size (the number of specs)
/// from, and the size the issue asks for. The hook for the chaos run: keep these in step
/// with that test.
pub(crate) const CHAOS_SIZE_ENV: &str = "MIGSPEC_CHAOS_SPECS";
pub(crate) const CHAOS_FULL_SIZE: &str = "300";

/// The spec kinds the generator writes, each from a template under `specs/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Dts2018,
    Postgres2018,
    Dts2021,
    Oms,
}

impl Kind {
    const ALL: [Self; 4] = [Self::Dts2018, Self::Postgres2018, Self::Dts2021, Self::Oms];

    fn template(self) -> &'static str {
        match self {
            Self::Dts2018 => include_str!("specs/tencent2018.yaml"),
            Self::Postgres2018 => include_str!("specs/postgres2018.yaml"),
            Self::Dts2021 => include_str!("specs/tencent2021.yaml"),
            Self::Oms => include_str!("specs/huawei.yaml"),
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Self::Dts2018 => "dts18",
            Self::Postgres2018 => "pg18",
            Self::Dts2021 => "dts21",
            Self::Oms => "oms",
        }
    }
}

/// The text of spec `index` of `kind`.
fn spec_text(kind: Kind, index: usize) -> String {
    kind.template()
        .replace("NAME", &format!("{}-{index:05}", kind.prefix()))
}

/// Writes `count` specs of each kind under `dir` (100 files per sub-directory); returns the
/// bytes and lines written.
fn write_specs(dir: &Path, set: &[(Kind, usize)]) -> Result<(usize, usize), String> {
    let (mut bytes, mut lines, mut written) = (0, 0, 0);
    for &(kind, count) in set {
        for index in 0..count {
            let text = spec_text(kind, index);
            bytes += text.len();
            lines += text.lines().count();
            let sub = dir.join(format!("group-{:03}", written / 100));
            written += 1;
            std::fs::create_dir_all(&sub).map_err(|e| format!("{}: {e}", sub.display()))?;
            let path = sub.join(format!("{}-{index:05}.yaml", kind.prefix()));
            std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok((bytes, lines))
}

/// The `fromEnv` variables the templates reference.
fn secret_variables() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for kind in Kind::ALL {
        for line in kind.template().lines() {
            for rest in line.split("fromEnv:").skip(1) {
                let name: String = rest
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    names.insert(name);
                }
            }
        }
    }
    names
}

/// `migspec ARGS` in workspace `dir`, pointed at the emulator at `url` through the
/// environment (as a user would), every secret variable set.
fn migspec(bench: &Bench, dir: &Path, url: &str) -> Command {
    let mut command = Command::new(&bench.migspec);
    command
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("HOME", dir)
        .env("MIGSPEC_TENCENT_ENDPOINT", url)
        .env("TENCENTCLOUD_SECRET_ID", TENCENT_ID)
        .env("TENCENTCLOUD_SECRET_KEY", TENCENT_KEY)
        .env_remove("TENCENTCLOUD_TOKEN")
        .env("MIGSPEC_HUAWEI_OMS_ENDPOINT", url)
        .env("HUAWEICLOUD_SDK_AK", HUAWEI_AK)
        .env("HUAWEICLOUD_SDK_SK", HUAWEI_SK)
        .env("HUAWEICLOUD_SDK_PROJECT_ID", HUAWEI_PROJECT);
    for name in secret_variables() {
        if !name.starts_with("HUAWEICLOUD_SDK_") {
            command.env(&name, "bench-secret");
        }
    }
    command
}

/// Lines of migspec's output that report a throttled answer: what the user sees of the
/// rate limit (the retried ones stay invisible).
fn throttle_lines(output: &str) -> u64 {
    output
        .lines()
        .filter(|line| {
            let line = line.to_ascii_lowercase();
            line.contains("requestlimitexceeded")
                || line.contains("throttled")
                || line.contains("apigw.0308")
        })
        .count() as u64
}

fn secs(duration: Duration) -> f64 {
    duration.as_secs_f64()
}

fn mb(measured: &Measured) -> Option<f64> {
    measured.peak_rss_mb()
}

/// Scenario 1: `migspec validate` on generated specs of all kinds.
pub(crate) fn validate(bench: &Bench) -> Result<Vec<Row>, String> {
    const NAME: &str = "validate";
    let files = bench.sizes.validate_files;
    let dir = bench.work.join(format!("validate-{files}"));
    let marker = dir.join(".complete");
    let per_kind = files / Kind::ALL.len();
    let set: Vec<(Kind, usize)> = Kind::ALL.iter().map(|&kind| (kind, per_kind)).collect();
    let files = per_kind * Kind::ALL.len();
    if !marker.exists() {
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let (bytes, lines) = write_specs(&dir, &set)?;
        say(&format!(
            "  {files} spec files, {:.1} MB, {:.0} lines each on average, in {}",
            bytes as f64 / 1e6,
            lines as f64 / files as f64,
            dir.display()
        ));
        std::fs::write(&marker, "").map_err(|e| format!("{}: {e}", marker.display()))?;
    }
    let log = bench.work.join("validate.log");
    let mut walls = Vec::new();
    let mut peak: Option<f64> = None;
    // The first run warms the page cache and is not counted.
    for round in 0..=bench.sizes.validate_runs {
        let mut command = Command::new(&bench.migspec);
        command
            .args(["validate", "--format", "json"])
            .arg(&dir)
            .env("NO_COLOR", "1");
        let measured = measure(&mut command, &log)?;
        measured.check("migspec validate")?;
        if round > 0 {
            walls.push(secs(measured.wall));
            peak = match (peak, mb(&measured)) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
    }
    walls.sort_by(f64::total_cmp);
    let figure = |what: &str| format!("{files} specs: wall {what} s");
    let mut rows = vec![
        Row::new(NAME, figure("min"), walls[0]),
        Row::new(NAME, figure("median"), walls[walls.len() / 2]),
        Row::new(NAME, figure("max"), walls[walls.len() - 1]),
    ];
    match peak {
        Some(peak) => rows.push(Row::new(NAME, format!("{files} specs: peak RSS MB"), peak)),
        None => rows.push(Row::note(NAME, "peak RSS not measured (no /proc?)")),
    }
    Ok(rows)
}

/// Scenarios 2 and 3: DTS 2018 jobs to running, migspec then the Terraform-style driver,
/// each against a fresh emulator with the same settings.
pub(crate) fn apply_dts(bench: &Bench) -> Result<Vec<Row>, String> {
    const NAME: &str = "apply-dts";
    let jobs = bench.sizes.dts_jobs;
    let dir = bench.fresh_dir(NAME)?;
    write_specs(&dir.join("specs"), &[(Kind::Dts2018, jobs)])?;

    let emulator = Emulator::start(
        &bench.migspec,
        &dir.join("emulator"),
        &emulator_config(),
        None,
    )?;
    say(&format!("  migspec apply: {jobs} DTS 2018 jobs → running"));
    let applied = measure(
        migspec(bench, &dir, &emulator.url).args(["apply", "--auto-approve", "specs"]),
        &dir.join("apply.log"),
    )?;
    applied.check("migspec apply")?;
    let ours = emulator.stats(&bench.runtime)?;
    emulator.stop()?;
    let started = ours.ok("StartMigrateJob");
    if started != jobs as u64 {
        return Err(format!(
            "migspec apply exited 0 but the emulator started {started} of {jobs} jobs; see {}",
            applied.log.display()
        ));
    }

    let emulator = Emulator::start(
        &bench.migspec,
        &dir.join("emulator-baseline"),
        &emulator_config(),
        None,
    )?;
    say(&format!(
        "  Terraform-style driver: {jobs} jobs, parallelism 10, 15 requests/s per action"
    ));
    let driven = bench.runtime.block_on(terraform::run(terraform::Settings {
        url: emulator.url.clone(),
        jobs,
        parallelism: 10,
        per_action_per_second: 15,
        secret_id: TENCENT_ID.to_owned(),
        secret_key: TENCENT_KEY.to_owned(),
        time_scale: 1.0,
    }))?;
    let theirs = emulator.stats(&bench.runtime)?;
    emulator.stop()?;
    // Nothing is dropped on loopback without faults: a difference means the counts are wrong.
    if driven.requests != theirs.requests() {
        return Err(format!(
            "the driver sent {} requests but the emulator counted {}",
            driven.requests,
            theirs.requests()
        ));
    }

    // A 2018 job is `running` as soon as it is started: the check is the one phase it waits.
    let phases = PHASE;
    let our_floor = secs(ours.call_floor(RATE_LIMIT) + phases);
    let their_floor = secs(theirs.call_floor(RATE_LIMIT) + phases);
    let per_job = |stats: &Stats| stats.requests() as f64 / jobs as f64;
    let prefix = format!("{jobs} DTS 2018 → running");
    let mut rows = vec![
        Row::new(NAME, format!("{prefix}: wall s"), secs(applied.wall))
            .baseline(secs(driven.wall))
            .floor(our_floor),
        Row::new(NAME, format!("{prefix}: floor s (own calls)"), our_floor).baseline(their_floor),
        Row::new(
            NAME,
            format!("{prefix}: wall ÷ floor"),
            secs(applied.wall) / our_floor,
        )
        .baseline(secs(driven.wall) / their_floor),
        Row::new(NAME, format!("{prefix}: calls"), ours.requests() as f64)
            .baseline(theirs.requests() as f64),
        Row::new(NAME, format!("{prefix}: calls per job"), per_job(&ours))
            .baseline(per_job(&theirs)),
    ];
    let actions: BTreeSet<&String> = ours.actions.keys().chain(theirs.actions.keys()).collect();
    for action in actions {
        let figure = format!("{prefix}: calls {action}");
        let theirs = theirs
            .actions
            .get(action)
            .map(|count| count.requests as f64);
        rows.push(match (ours.actions.get(action), theirs) {
            (Some(count), Some(theirs)) => {
                Row::new(NAME, figure, count.requests as f64).baseline(theirs)
            }
            (Some(count), None) => Row::new(NAME, figure, count.requests as f64),
            (None, theirs) => Row::baseline_only(NAME, figure, theirs.unwrap_or(0.0)),
        });
    }
    rows.push(
        Row::new(
            NAME,
            format!("{prefix}: throttled answers (emulator)"),
            ours.throttled() as f64,
        )
        .baseline(theirs.throttled() as f64),
    );
    rows.push(
        Row::new(
            NAME,
            format!("{prefix}: throttles shown by the client"),
            throttle_lines(&applied.output) as f64,
        )
        .baseline(driven.throttled as f64)
        .with_note(
            "migspec: lines of its output naming a throttled answer; baseline: throttled answers it retried",
        ),
    );
    if let Some(peak) = mb(&applied) {
        rows.push(Row::new(
            NAME,
            format!("{prefix}: migspec peak RSS MB"),
            peak,
        ));
    }
    Ok(rows)
}

/// Scenario 4: `migspec plan` over DTS jobs (half 2018, half 2021) and OMS groups that are
/// already applied. They are applied first against an emulator without limits (fast), which
/// keeps them in a state directory; the plan runs against a fresh emulator process with the
/// limits on, serving that same state.
pub(crate) fn plan(bench: &Bench) -> Result<Vec<Row>, String> {
    const NAME: &str = "plan";
    let (dts, oms) = (bench.sizes.plan_dts, bench.sizes.plan_oms);
    let dir = bench.fresh_dir(NAME)?;
    write_specs(
        &dir.join("specs"),
        &[
            (Kind::Dts2018, dts / 2),
            (Kind::Dts2021, dts - dts / 2),
            (Kind::Oms, oms),
        ],
    )?;
    let state_dir = dir.join("emulator-state");
    let settings = dir.join("migspec.yaml");
    std::fs::write(
        &settings,
        "pollInterval: 100ms\ntencent: {rateLimitPerSecond: 100000}\nhuawei: {rateLimitPerSecond: 100000}\n",
    )
    .map_err(|e| format!("{}: {e}", settings.display()))?;
    let setup = Emulator::start(
        &bench.migspec,
        &dir.join("emulator-setup"),
        "rate_limit_per_second: 0\n",
        Some(&state_dir),
    )?;
    say(&format!(
        "  setting up: applying {dts} DTS jobs and {oms} OMS groups without limits"
    ));
    let applied = measure(
        migspec(bench, &dir, &setup.url).args(["apply", "--auto-approve", "specs"]),
        &dir.join("setup-apply.log"),
    )?;
    applied.check("the set-up apply")?;
    setup.stop()?;
    std::fs::remove_file(&settings).map_err(|e| format!("{}: {e}", settings.display()))?;

    let emulator = Emulator::start(
        &bench.migspec,
        &dir.join("emulator"),
        &emulator_config(),
        Some(&state_dir),
    )?;
    say("  migspec plan");
    let planned = measure(
        migspec(bench, &dir, &emulator.url).args(["plan", "specs"]),
        &dir.join("plan.log"),
    )?;
    planned.check("migspec plan")?;
    let stats = emulator.stats(&bench.runtime)?;
    emulator.stop()?;
    let prefix = format!("{dts} DTS + {oms} OMS applied");
    let floor = secs(stats.call_floor(RATE_LIMIT));
    let mut rows = vec![
        Row::new(NAME, format!("{prefix}: wall s"), secs(planned.wall))
            .floor(floor)
            .with_note(format!("set-up apply took {:.0} s", secs(applied.wall))),
        Row::new(NAME, format!("{prefix}: calls"), stats.requests() as f64),
    ];
    for (action, count) in &stats.actions {
        rows.push(Row::new(
            NAME,
            format!("{prefix}: calls {action}"),
            count.requests as f64,
        ));
    }
    rows.push(Row::new(
        NAME,
        format!("{prefix}: throttled answers (emulator)"),
        stats.throttled() as f64,
    ));
    if let Some(peak) = mb(&planned) {
        rows.push(Row::new(NAME, format!("{prefix}: peak RSS MB"), peak));
    }
    Ok(rows)
}

/// Scenario 5: OMS groups to completed at three sizes, each against a fresh emulator.
pub(crate) fn apply_oms(bench: &Bench) -> Result<Vec<Row>, String> {
    const NAME: &str = "apply-oms";
    let mut rows = Vec::new();
    let mut per_group = Vec::new();
    for groups in bench.sizes.oms_groups {
        let dir = bench.fresh_dir(&format!("{NAME}-{groups}"))?;
        write_specs(&dir.join("specs"), &[(Kind::Oms, groups)])?;
        let emulator = Emulator::start(
            &bench.migspec,
            &dir.join("emulator"),
            &emulator_config(),
            None,
        )?;
        say(&format!("  migspec apply: {groups} OMS groups → completed"));
        let applied = measure(
            migspec(bench, &dir, &emulator.url).args(["apply", "--auto-approve", "specs"]),
            &dir.join("apply.log"),
        )?;
        applied.check("migspec apply")?;
        let stats = emulator.stats(&bench.runtime)?;
        emulator.stop()?;
        let created = stats.ok("CreateTaskGroup");
        if created != groups as u64 {
            return Err(format!(
                "migspec apply exited 0 but the emulator created {created} of {groups} groups; see {}",
                applied.log.display()
            ));
        }
        // A group waits 50 ms, creates its tasks for 150 ms (the emulator's defaults), then
        // migrates for PHASE.
        let phases = Duration::from_millis(200) + PHASE;
        let floor = secs(stats.call_floor(RATE_LIMIT) + phases);
        let prefix = format!("{groups} OMS → completed");
        let calls = stats.requests() as f64;
        per_group.push(calls / groups as f64);
        rows.push(Row::new(NAME, format!("{prefix}: wall s"), secs(applied.wall)).floor(floor));
        rows.push(Row::new(NAME, format!("{prefix}: calls"), calls));
        rows.push(Row::new(
            NAME,
            format!("{prefix}: calls per group"),
            calls / groups as f64,
        ));
        rows.push(Row::new(
            NAME,
            format!("{prefix}: wall ms per group"),
            secs(applied.wall) * 1e3 / groups as f64,
        ));
        rows.push(Row::new(
            NAME,
            format!("{prefix}: throttled answers (emulator)"),
            stats.throttled() as f64,
        ));
        let rounds = &stats.oms_list_rounds;
        if let Some(most) = rounds.iter().max() {
            rows.push(
                Row::new(
                    NAME,
                    format!("{prefix}: list calls per round (most)"),
                    *most as f64,
                )
                .with_note(format!(
                    "{} listing rounds (polls and the plan's listing), {:.2} list calls each on average",
                    rounds.len(),
                    rounds.iter().sum::<u64>() as f64 / rounds.len() as f64
                )),
            );
        }
    }
    if let (Some(first), Some(last)) = (per_group.first(), per_group.last()) {
        let sizes = bench.sizes.oms_groups;
        rows.push(Row::new(
            NAME,
            format!(
                "calls per group at {} ÷ at {} (1 = linear)",
                sizes[2], sizes[0]
            ),
            last / first,
        ));
    }
    Ok(rows)
}

/// Scenario 6: the state benchmark's incremental backend (`state_bench`, release): user CPU
/// of the whole apply and the state's CPU per step.
pub(crate) fn state(bench: &Bench) -> Result<Vec<Row>, String> {
    const NAME: &str = "state";
    run(
        "cargo",
        &[
            "build",
            "--release",
            "-p",
            "migspec-runner",
            "--example",
            "state_bench",
        ],
    )?;
    let objects = bench.sizes.state_objects;
    let dir = bench.fresh_dir(NAME)?;
    let json = dir.join("state.json");
    let binary = bench.target.join("release/examples/state_bench");
    let measured = measure(
        Command::new(&binary)
            .arg("--objects")
            .arg(objects.to_string())
            .arg("--json")
            .arg(&json)
            .arg("--dir")
            .arg(&dir)
            .args(["--modes", "incremental"]),
        &dir.join("state_bench.log"),
    )?;
    measured.check("state_bench")?;
    let text = std::fs::read_to_string(&json).map_err(|e| format!("{}: {e}", json.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", json.display()))?;
    let result = &value["results"][0];
    let number = |field: &str| {
        result[field]
            .as_f64()
            .ok_or_else(|| format!("{}: no number `{field}` in results[0]", json.display()))
    };
    let steps = number("steps")?;
    let window = number("window")?;
    let prefix = format!("{objects} objects, {steps:.0} steps");
    let mut rows = Vec::new();
    if let Some(cpu) = measured.user_cpu {
        rows.push(Row::new(NAME, format!("{prefix}: user CPU s"), secs(cpu)));
    }
    rows.extend([
        Row::new(
            NAME,
            format!("{prefix}: apply wall s"),
            number("apply_wall_s")?,
        ),
        Row::new(
            NAME,
            format!("{prefix}: state CPU s in all"),
            number("state_cpu_total_s")?,
        ),
        Row::new(
            NAME,
            format!("{prefix}: state CPU µs per step, first {window:.0}"),
            number("first_cpu_us")?,
        ),
        Row::new(
            NAME,
            format!("{prefix}: state CPU µs per step, last {window:.0}"),
            number("last_cpu_us")?,
        ),
        Row::new(
            NAME,
            format!("{prefix}: state wall µs per step, last {window:.0}"),
            number("last_wall_us")?,
        ),
    ]);
    Ok(rows)
}

/// Scenario 7: the emulator's throughput (`loadgen`, release), one row.
pub(crate) fn loadgen(bench: &Bench) -> Result<Vec<Row>, String> {
    const NAME: &str = "loadgen";
    run(
        "cargo",
        &[
            "build",
            "--release",
            "-p",
            "migspec-emulator",
            "--example",
            "loadgen",
        ],
    )?;
    let dir = bench.fresh_dir(NAME)?;
    let seconds = bench.sizes.loadgen_seconds;
    let measured = measure(
        Command::new(bench.target.join("release/examples/loadgen"))
            .arg("--emulator-bin")
            .arg(&bench.migspec)
            .args(["--connections", "32", "--warmup", "1", "--seconds"])
            .arg(seconds.to_string()),
        &dir.join("loadgen.log"),
    )?;
    measured.check("loadgen")?;
    let (rate, p50, p99) = parse_loadgen(&measured.output).ok_or_else(|| {
        format!(
            "loadgen printed no `= N req/s` and latency lines; see {}",
            measured.log.display()
        )
    })?;
    Ok(vec![
        Row::new(NAME, "emulator requests/s (32 connections, signed)", rate)
            .with_note(format!("latency p50 {p50} ms, p99 {p99} ms")),
    ])
}

/// `(requests/s, p50 ms, p99 ms)` from loadgen's output.
fn parse_loadgen(output: &str) -> Option<(f64, f64, f64)> {
    let rate = output.lines().find_map(|line| {
        let (_, after) = line.strip_prefix("requests: ")?.split_once(" = ")?;
        after
            .strip_suffix(")")
            .unwrap_or(after)
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    })?;
    let latency = output
        .lines()
        .find_map(|line| line.strip_prefix("latency ms:"))?;
    let words: Vec<&str> = latency.split_whitespace().collect();
    let value = |name: &str| -> Option<f64> {
        let at = words.iter().position(|word| *word == name)?;
        words.get(at + 1)?.parse().ok()
    };
    Some((rate, value("p50")?, value("p99")?))
}

/// The chaos test (`tests/tests/chaos.rs`, another part of the work) at full size, when the
/// file exists at run time; `--quick` leaves it to CI's test run, at its reduced size.
pub(crate) fn chaos(bench: &Bench) -> Result<Vec<Row>, String> {
    const NAME: &str = "chaos";
    let test: PathBuf = bench.root.join("tests/tests/chaos.rs");
    if !test.is_file() {
        return Ok(vec![Row::note(
            NAME,
            format!("skipped: {} does not exist yet", test.display()),
        )]);
    }
    if bench.quick {
        return Ok(vec![Row::note(
            NAME,
            "skipped by --quick (CI runs tests/tests/chaos.rs at its reduced size)",
        )]);
    }
    let dir = bench.fresh_dir(NAME)?;
    say(&format!(
        "  $ {CHAOS_SIZE_ENV}={CHAOS_FULL_SIZE} cargo test -p migspec-tests --test chaos -- --nocapture"
    ));
    let measured = measure(
        Command::new("cargo")
            .args([
                "test",
                "-p",
                "migspec-tests",
                "--test",
                "chaos",
                "--",
                "--nocapture",
            ])
            .env(CHAOS_SIZE_ENV, CHAOS_FULL_SIZE)
            .current_dir(&bench.root),
        &dir.join("chaos.log"),
    )?;
    measured.check("the chaos test")?;
    Ok(vec![
        Row::new(
            NAME,
            format!("{CHAOS_FULL_SIZE} specs, faults on: test wall s (build included)"),
            secs(measured.wall),
        )
        .with_note(format!("passed; output in {}", measured.log.display())),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_get_unique_names_and_every_secret_is_known() {
        let text = spec_text(Kind::Dts2021, 7);
        assert!(text.contains("name: dts21-00007"), "{text}");
        assert!(!text.contains("NAME"), "{text}");
        let names = secret_variables();
        for expected in ["ORDERS_SRC_PASSWORD", "INVENTORY_DST_PASSWORD", "ALI_AK"] {
            assert!(names.contains(expected), "{names:?}");
        }
    }

    #[test]
    fn loadgen_output_parses() {
        let output = "emulator process 1 on http://127.0.0.1:1\nrequests: 51234 in 5.00 s = 10247 req/s (errors: 0)\n  DescribeMigrateJobs 1 / DescribeMigrationJobs 2 / ListTaskGroup 3\nlatency ms: p50 2.10  p90 4.00  p99 7.25  p99.9 9.00  max 12.00\n";
        assert_eq!(parse_loadgen(output), Some((10247.0, 2.10, 7.25)));
        assert_eq!(parse_loadgen("nothing"), None);
    }

    #[test]
    fn throttle_lines_count_what_the_user_saw() {
        let output = "created a\nwarning: throttled by dts (RequestLimitExceeded): slow down\nok\nerror: APIGW.0308 too many\n";
        assert_eq!(throttle_lines(output), 2);
        assert_eq!(throttle_lines("all fine\n"), 0);
    }
}
