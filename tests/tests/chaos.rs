//! Issue 11 (part 2): chaos. One `migspec apply` of a spec set of every kind (DTS 2018,
//! DTS 2021, OMS) against an emulator that answers 10 % of requests with internal errors,
//! 20 % as throttled, delays every answer by 0–200 ms, drops 1 % of connections before
//! processing and 1 % of responses after processing (the ambiguous case), must:
//!
//! - **converge**: exit 0 with no failure shown, and a fresh plan (faults off) is empty;
//! - **reach the desired phase**: every object's status, as the emulator reports it, is
//!   the desired one (DTS `running`: 2018 status 7 or 8, 2021 `running` or `readyComplete`;
//!   OMS `completed`: status 6);
//! - **create no duplicate**: exactly one object carries each address's marker, and no
//!   object carries a marker of an address outside the set;
//! - **keep the state equal to the remote**: every address is recorded with the id of its
//!   object, of the right kind;
//! - **leak no secret**: a canary secret value (every password and secret key of the set)
//!   appears in no output of any command, no saved plan and no file under `.migspec/`.
//!
//! `MIGSPEC_CHAOS_SPECS` sets the size (default [`DEFAULT_SPECS`], which keeps the test
//! within two minutes on a 2-core machine; the issue's full size is 300) and
//! `MIGSPEC_CHAOS_SEED` the emulator's fault seed (default [`DEFAULT_SEED`]). The faults
//! are seeded per request (see the emulator README, "Request faults"), so a run meets the
//! same faults for the same requests; the timing of concurrent jobs still varies, so two
//! runs may differ in which polls they make. A failure names the invariant and the
//! address, and prints the apply's output.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;
use std::time::Instant;

use support::cloud::Cloud;
use support::objects::Remote;

/// The default number of specs (a third of each kind).
const DEFAULT_SPECS: usize = 30;
/// The default fault seed.
const DEFAULT_SEED: u64 = 20_261_111;

/// The value of every secret in the set; it must never be shown or stored.
const CANARY: &str = "canary-Qm7v2Xk9-never-print-me";
/// The variable the specs read the canary from.
const CANARY_VARIABLE: &str = "CHAOS_CANARY_SECRET";

/// How many applies the test makes, when the first does not converge, to measure how many
/// it takes (shown in the failure message).
const MAX_APPLIES: usize = 4;

/// The issue's faults, as the emulator's `faults:` (JSON, which is also YAML).
fn chaos_faults(seed: u64) -> String {
    format!(
        r#"{{"seed": {seed}, "internal_error_rate": 0.10, "throttle_rate": 0.20, "latency": "0ms..200ms", "drop_connection_rate": 0.01, "drop_response_rate": 0.01}}"#
    )
}

/// Short phases (an apply of the default size takes seconds, not minutes), the default
/// rate limit (20 requests/s per action, as DTS documents), and the issue's faults.
fn emulator_config(seed: u64) -> String {
    format!(
        "durations: {{creating: 50ms, checking: 100ms, migrating: 300ms, completing: 50ms, oms_waiting: 30ms, oms_task_creation: 60ms, oms_migration: 300ms}}\nfaults: {}\n",
        chaos_faults(seed)
    )
}

/// The three kinds, in the order specs are dealt out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dts2018,
    Dts2021,
    Oms,
}

impl Kind {
    fn of(index: usize) -> Self {
        match index % 3 {
            0 => Self::Dts2018,
            1 => Self::Dts2021,
            _ => Self::Oms,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Dts2018 => "TencentDtsMigrateJob",
            Self::Dts2021 => "TencentDtsMigrationJob",
            Self::Oms => "HuaweiOmsTaskGroup",
        }
    }

    /// Whether the emulator's status value is the spec's desired phase (DTS `running`,
    /// OMS `completed`), read from the API references rather than from migspec's mapping.
    fn at_desired_phase(self, status: &serde_json::Value) -> bool {
        match self {
            // 7 running, 8 ready to complete (the incremental phase of a running job).
            Self::Dts2018 => matches!(status.as_i64(), Some(7 | 8)),
            Self::Dts2021 => matches!(status.as_str(), Some("running" | "readyComplete")),
            // 6 completed.
            Self::Oms => status.as_i64() == Some(6),
        }
    }

    fn spec(self, address: &str, index: usize) -> String {
        let secret = format!("{{fromEnv: {CANARY_VARIABLE}}}");
        match self {
            Self::Dts2018 => format!(
                r"apiVersion: migspec/v1
kind: TencentDtsMigrateJob
metadata:
  name: {address}
spec:
  region: ap-guangzhou
  JobName: {address}
  MigrateOption: {{RunMode: 1, MigrateType: 3, MigrateObject: 2, ConsistencyType: 5, IsOverrideRoot: 0}}
  SrcDatabaseType: mysql
  SrcAccessType: cvm
  SrcInfo: {{CvmInstanceId: ins-{index:08x}, Port: 3306, User: dts, Password: {secret}, Region: ap-guangzhou}}
  DstDatabaseType: mysql
  DstAccessType: cdb
  DstInfo: {{InstanceId: cdb-{index:08x}, Region: ap-guangzhou, User: root, Password: {secret}}}
  DatabaseInfo:
    - {{Database: db{index}, Table: [orders, order_items]}}
lifecycle:
  desired: running
"
            ),
            Self::Dts2021 => format!(
                r"apiVersion: migspec/v1
kind: TencentDtsMigrationJob
metadata:
  name: {address}
spec:
  region: ap-guangzhou
  JobName: {address}
  SrcDatabaseType: mysql
  DstDatabaseType: mysql
  SrcRegion: ap-guangzhou
  DstRegion: ap-guangzhou
  InstanceClass: small
  RunMode: immediate
  MigrateOption:
    MigrateType: fullAndIncrement
    DatabaseTable:
      ObjectMode: partial
      Databases:
        - {{DbName: db{index}, DBMode: partial, TableMode: partial, Tables: [{{TableName: stock}}]}}
  SrcInfo:
    Region: ap-guangzhou
    AccessType: cvm
    DatabaseType: mysql
    NodeType: simple
    Info:
      - {{CvmInstanceId: ins-{index:08x}, Port: 3306, User: dts, Password: {secret}}}
  DstInfo:
    Region: ap-guangzhou
    AccessType: cdb
    DatabaseType: mysql
    NodeType: simple
    Info:
      - {{InstanceId: cdb-{index:08x}, User: root, Password: {secret}}}
lifecycle:
  desired: running
"
            ),
            Self::Oms => format!(
                r"apiVersion: migspec/v1
kind: HuaweiOmsTaskGroup
metadata:
  name: {address}
spec:
  region: cn-north-4
  description: chaos group {index}
  task_type: PREFIX
  src_node:
    cloud_type: Aliyun
    region: cn-hangzhou
    bucket: chaos-src-{index}
    object_key: [data/]
    ak: {{fromEnv: CHAOS_SOURCE_AK}}
    sk: {secret}
  dst_node:
    region: cn-north-4
    bucket: chaos-dst-{index}
    ak: {{fromEnv: CHAOS_DESTINATION_AK}}
    sk: {secret}
  object_overwrite_mode: SIZE_LAST_MODIFIED_COMPARISON_OVERWRITE
lifecycle:
  desired: completed
"
            ),
        }
    }
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(text) if !text.trim().is_empty() => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text} is not a number")),
        _ => default,
    }
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The last `count` lines of `output` that are not an unchanged address of a plan (with
/// hundreds of specs, those would bury what matters).
fn changes_only(output: &str, count: usize) -> String {
    let lines: Vec<&str> = output
        .lines()
        .filter(|line| !line.ends_with("(no change)") && !line.trim().is_empty())
        .collect();
    let skip = lines.len().saturating_sub(count);
    lines[skip..]
        .iter()
        .map(|line| format!("{line}\n"))
        .collect()
}

/// Runs `migspec ARGS…` with the canary as the value of every secret.
fn run(cloud: &Cloud, args: &[&str]) -> Output {
    cloud
        .migspec()
        .env(CANARY_VARIABLE, CANARY)
        .args(args)
        .output()
        .expect("migspec runs")
}

/// The verbosity flag to add, when this build has one (logging lands separately; a log
/// must not leak the canary either).
fn verbose_flag(cloud: &Cloud) -> Option<&'static str> {
    let help = run(cloud, &["apply", "--help"]);
    text(&help).contains("--verbose").then_some("-vv")
}

/// Replaces the emulator's fault configuration (`PUT /_emulator/faults`).
fn set_faults(cloud: &Cloud, json: &str) {
    let address = cloud.url.trim_start_matches("http://").to_owned();
    let (status, body) = cloud.request(&format!(
        "PUT /_emulator/faults HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
        json.len()
    ));
    assert_eq!(status, 200, "PUT /_emulator/faults {json}: {body}");
}

/// Every file under `dir`, recursively, with its bytes.
fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            found.push((path.display().to_string(), bytes));
        }
    }
    found
}

/// How many failures the apply showed: every line reporting one (`ADDRESS: ✘ VERB failed: …`,
/// `ADDRESS: failed (…); recovering per onFailure`), or the `N failed` of its summary
/// line when that is more.
fn failures_shown(output: &str) -> usize {
    let lines = output
        .lines()
        .filter(|line| line.contains('✘') || line.contains(": failed ("))
        .count();
    let summary = output
        .lines()
        .filter(|line| line.starts_with("Apply ") && line.contains(" converged, "))
        .filter_map(|line| {
            line.split(',')
                .find(|part| part.trim_end().ends_with("failed"))
                .and_then(|part| part.split_whitespace().next())
                .and_then(|count| count.parse::<usize>().ok())
        })
        .max()
        .unwrap_or(0);
    lines.max(summary)
}

#[test]
fn issue_11_one_apply_converges_under_chaos() {
    let specs = env_number("MIGSPEC_CHAOS_SPECS", DEFAULT_SPECS);
    let seed = env_number("MIGSPEC_CHAOS_SEED", DEFAULT_SEED);
    assert!(
        specs >= 3,
        "MIGSPEC_CHAOS_SPECS must be at least 3 (one of each kind)"
    );
    let mut cloud = Cloud::start(Some(&emulator_config(seed)));
    let mut kinds = BTreeMap::new();
    for index in 0..specs {
        let kind = Kind::of(index);
        let address = format!("chaos-{index:03}");
        cloud.write(
            &format!("specs/{address}.yaml"),
            &kind.spec(&address, index),
        );
        kinds.insert(address, kind);
    }
    let verbose = verbose_flag(&cloud);
    let mut args = vec!["apply", "specs/", "--auto-approve"];
    args.extend(verbose);

    let started = Instant::now();
    let apply = run(&cloud, &args);
    let wall = started.elapsed();
    let shown = text(&apply);
    let stats = cloud.stats();
    eprintln!(
        "chaos: {specs} specs, seed {seed}: apply exit {:?} in {wall:.1?}, {} failures shown; emulator: {} requests, {} injected faults, {} throttled by the rate limit",
        apply.status.code(),
        failures_shown(&shown),
        stats["total"]["requests"],
        stats["total"]["injected_fault"],
        stats["total"]["throttled"],
    );

    // The checks below read the emulator and plan without faults: they judge the apply.
    set_faults(&cloud, "{}");
    let mut outputs = vec![("apply".to_owned(), shown.clone())];
    let mut violations = Vec::new();

    // Converged: exit 0, no failure shown, and nothing left to do.
    if apply.status.code() != Some(0) || failures_shown(&shown) > 0 {
        violations.push(format!(
            "converge: the apply exited {:?} and showed {} failures (the goal is exit 0 and none)",
            apply.status.code(),
            failures_shown(&shown)
        ));
    }
    let plan = run(
        &cloud,
        &[
            "plan",
            "specs/",
            "--detailed-exitcode",
            "--out",
            "plan.json",
        ],
    );
    outputs.push(("plan".to_owned(), text(&plan)));
    if plan.status.code() != Some(0) {
        violations.push(format!(
            "converge: a plan after the apply (faults off) exited {:?}, not 0 (no changes):\n{}{}",
            plan.status.code(),
            changes_only(&String::from_utf8_lossy(&plan.stdout), usize::MAX),
            changes_only(&String::from_utf8_lossy(&plan.stderr), usize::MAX)
        ));
    }

    // No duplicates, every object at its desired phase, state equal to the remote.
    let objects = cloud.objects();
    let records = cloud.records();
    let state = cloud.state();
    let mut by_marker: BTreeMap<String, Vec<&Remote>> = BTreeMap::new();
    for remote in objects.values() {
        match &remote.marker {
            Some(marker) => by_marker.entry(marker.clone()).or_default().push(remote),
            None => violations.push(format!(
                "no duplicates: object {} carries no address marker",
                remote.describe()
            )),
        }
    }
    for (marker, remotes) in &by_marker {
        if !kinds.contains_key(marker) {
            violations.push(format!(
                "no duplicates: object(s) {} carry the marker of `{marker}`, which is not an address of the set",
                remotes.iter().map(|r| r.describe()).collect::<Vec<_>>().join("; ")
            ));
        }
    }
    for (address, kind) in &kinds {
        let remotes = by_marker
            .get(address)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let remote = match remotes {
            [] => {
                violations.push(format!("converge: `{address}` has no remote object"));
                None
            }
            [one] => Some(*one),
            many => {
                violations.push(format!(
                    "no duplicates: `{address}` has {} objects: {}",
                    many.len(),
                    many.iter()
                        .map(|r| r.describe())
                        .collect::<Vec<_>>()
                        .join("; ")
                ));
                many.iter().find(|r| r.live).copied()
            }
        };
        let mut at_desired = false;
        if let Some(remote) = remote {
            if remote.kind() != kind.name() || !remote.live {
                violations.push(format!(
                    "desired phase: `{address}` ({}) has {}",
                    kind.name(),
                    remote.describe()
                ));
            } else if kind.at_desired_phase(&remote.status) {
                at_desired = true;
            } else {
                violations.push(format!(
                    "desired phase: `{address}` is not at its desired phase: {}",
                    remote.describe()
                ));
            }
        }
        // Secrets resolved and remembered only as fingerprints (once applied): without
        // them, the canary was never sent and looking for it below would prove nothing.
        if at_desired
            && records.contains_key(address)
            && state["resources"][address]["secret_fingerprints"]
                .as_object()
                .is_none_or(serde_json::Map::is_empty)
        {
            violations.push(format!(
                "no secret: `{address}` has no secret fingerprints in the state, so the canary may never have been sent"
            ));
        }
        match records.get(address) {
            None => violations.push(format!(
                "state equals remote: `{address}` is not in the state{}",
                remote.map_or_else(String::new, |r| format!(" although {} exists", r.id))
            )),
            Some(record) => {
                if record.kind != kind.name() {
                    violations.push(format!(
                        "state equals remote: `{address}` is recorded as {}, not {}",
                        record.kind,
                        kind.name()
                    ));
                }
                if let Some(remote) = remote
                    && record.remote_id.as_deref() != Some(remote.id.as_str())
                {
                    violations.push(format!(
                        "state equals remote: `{address}` is recorded with id {:?}, but its object is {}",
                        record.remote_id,
                        remote.describe()
                    ));
                }
            }
        }
    }
    for address in records.keys() {
        if !kinds.contains_key(address) {
            violations.push(format!(
                "state equals remote: the state records `{address}`, which is not an address of the set"
            ));
        }
    }

    // No canary anywhere: outputs, the saved plan, every file under .migspec/.
    for (name, output) in &outputs {
        if output.contains(CANARY) {
            violations.push(format!(
                "no secret: the output of `migspec {name}` shows the canary"
            ));
        }
    }
    let mut stored = files_under(&cloud.dir().join(".migspec"));
    if let Ok(plan_file) = std::fs::read(cloud.dir().join("plan.json")) {
        stored.push(("plan.json".to_owned(), plan_file));
    }
    let canary = CANARY.as_bytes();
    for (path, bytes) in &stored {
        if bytes.windows(canary.len()).any(|window| window == canary) {
            violations.push(format!("no secret: {path} holds the canary"));
        }
    }

    // For the report: how many applies (faults on again) it takes to converge after all.
    let mut history = vec![format!(
        "apply 1: exit {:?}, {} failures shown, then plan exit {:?}",
        apply.status.code(),
        failures_shown(&shown),
        plan.status.code()
    )];
    if !violations.is_empty() {
        for attempt in 2..=MAX_APPLIES {
            set_faults(&cloud, &chaos_faults(seed));
            let again = run(&cloud, &args);
            set_faults(&cloud, "{}");
            let plan = run(&cloud, &["plan", "specs/", "--detailed-exitcode"]);
            history.push(format!(
                "apply {attempt}: exit {:?}, {} failures shown, then plan exit {:?}; it ended with:\n{}",
                again.status.code(),
                failures_shown(&text(&again)),
                plan.status.code(),
                changes_only(&String::from_utf8_lossy(&again.stderr), 8)
            ));
            if again.status.code() == Some(0) && plan.status.code() == Some(0) {
                break;
            }
        }
    }

    assert!(
        violations.is_empty(),
        "{} invariant(s) broken after one apply of {specs} specs under chaos (seed {seed}; re-run with MIGSPEC_CHAOS_SEED={seed} MIGSPEC_CHAOS_SPECS={specs}):\n- {}\n\nto converge:\n{}\n\nthe end of the first apply's output:\n{}",
        violations.len(),
        violations.join("\n- "),
        history.join("\n"),
        changes_only(&text(&apply), 60)
    );
}
