//! The guarantees of `apply`, end to end: kill -9 at many points converges without a
//! duplicate remote job; Ctrl-C stops cleanly with exit 130; and every kind in every
//! `desired` state re-plans empty after an apply (idempotency).

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use support::cloud::{Cloud, describe};

/// Slow enough phases, and latency on every answer, so that kills land inside each phase.
const SLOW: &str = r#"
durations:
  creating: 400ms
  checking: 800ms
  migrating: 3s
  completing: 300ms
  oms_waiting: 200ms
  oms_task_creation: 500ms
  oms_migration: 3s
faults:
  latency: 15ms
"#;

fn spawn_apply(cloud: &Cloud) -> Child {
    cloud
        .migspec()
        .args(["apply", "specs/", "--auto-approve", "--concurrency", "3"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("apply starts")
}

/// Asserts that the state is valid and every address has exactly one remote job.
fn assert_consistent(cloud: &Cloud, addresses: usize, context: &str) {
    let state = cloud.state();
    if !state.is_null() {
        assert!(state["serial"].as_u64().is_some(), "{context}: {state}");
        let resources = state["resources"].as_object().expect("resources");
        assert!(resources.len() <= addresses, "{context}: {state}");
    }
    // Every create the cloud accepted made one job; one per address means no duplicate.
    assert!(
        cloud.creates() <= addresses as u64,
        "{context}: {} creates for {addresses} addresses",
        cloud.creates()
    );
}

/// One scenario: a fresh emulator and workspace, applies killed after the given numbers of
/// progress lines (each run continues where the last stopped, so the points walk through
/// create, check, start, the full phase, OMS task creation and migration) and after the
/// given delays; then an apply to convergence. Returns how many kills hit a running apply.
fn kill_round(line_numbers: &[usize], delays: &[u64]) -> usize {
    let mut cloud = Cloud::start(Some(SLOW));
    cloud.copy_specs();
    let addresses = 7;
    let mut landed = 0;
    for &line_number in line_numbers {
        let mut child = spawn_apply(&cloud);
        let stderr = child.stderr.take().expect("piped stderr");
        let mut lines = BufReader::new(stderr).lines();
        let mut seen = 0;
        while seen < line_number {
            match lines.next() {
                Some(Ok(line)) if line.starts_with('[') => seen += 1,
                Some(Ok(_)) => {}
                _ => break,
            }
        }
        if child.try_wait().expect("status").is_none() {
            landed += 1;
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        assert_consistent(&cloud, addresses, &format!("after line {line_number}"));
    }
    for &delay in delays {
        let mut child = spawn_apply(&cloud);
        std::thread::sleep(Duration::from_millis(delay));
        if child.try_wait().expect("status").is_none() {
            landed += 1;
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        assert_consistent(&cloud, addresses, &format!("after {delay} ms"));
    }

    let apply = cloud.run(&["apply", "specs/", "--auto-approve"]);
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));
    let plan = cloud.run(&["plan", "specs/", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));
    assert_eq!(
        cloud.creates(),
        addresses as u64,
        "exactly one job per address"
    );
    let state = cloud.state();
    let resources = state["resources"].as_object().expect("resources");
    assert_eq!(resources.len(), addresses);
    assert!(resources.values().all(|r| r["remote_id"].is_string()));
    landed
}

#[test]
fn kill_9_at_twenty_and_more_points_converges_without_a_duplicate_job() {
    let early = kill_round(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], &[0, 30, 60]);
    let later = kill_round(&[3, 6, 9, 12, 15, 18, 21, 24], &[100, 150, 250]);
    assert!(
        early + later >= 20,
        "only {} of the kills hit a running apply",
        early + later
    );
}

#[test]
fn ctrl_c_stops_new_steps_records_the_state_and_exits_130() {
    let mut cloud = Cloud::start(Some("durations: {checking: 20s, oms_migration: 20s}\n"));
    cloud.write(
        "specs/orders-mysql.yaml",
        &Cloud::shipped("orders-mysql.yaml"),
    );
    cloud.write(
        "specs/invoices-oms-list.yaml",
        &Cloud::shipped("invoices-oms-list.yaml"),
    );
    let mut child = cloud
        .migspec()
        .args(["apply", "specs/", "--auto-approve"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    // Wait until the check is under way (the slow phase).
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains("orders-to-cdb") && line.contains("checking") {
            break;
        }
    }
    let interrupted = Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(130), "{rest:?}");
    assert!(
        interrupted.elapsed() < Duration::from_secs(10),
        "Ctrl-C does not wait for the 20 s check"
    );
    assert!(
        rest.iter().any(|line| line.starts_with("Interrupted")),
        "{rest:?}"
    );
    let state = cloud.state();
    assert!(
        state["resources"]["orders-to-cdb"]["remote_id"].is_string(),
        "{state}"
    );
    assert!(
        state["resources"]["invoices-list"]["remote_id"].is_string(),
        "{state}"
    );
    assert_eq!(cloud.creates(), 2);
    // A re-run continues (the check is still running) and never creates again.
    let apply = cloud.run(&["apply", "specs/", "--auto-approve", "--wait", "none"]);
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));
    assert_eq!(cloud.creates(), 2);
}

/// The values of `lifecycle.desired` each kind allows, with the shipped spec to vary.
const VARIANTS: &[(&str, &[&str])] = &[
    (
        "orders-mysql.yaml",
        &["configured", "checked", "running", "completed", "stopped"],
    ),
    (
        "catalog-mongodb.yaml",
        &["configured", "checked", "running", "completed", "stopped"],
    ),
    (
        "inventory-2021.yaml",
        &[
            "configured",
            "checked",
            "running",
            "completed",
            "paused",
            "stopped",
        ],
    ),
    (
        "invoices-oms-list.yaml",
        &["running", "completed", "paused"],
    ),
    (
        "media-archive-oms.yaml",
        &["running", "completed", "paused"],
    ),
];

/// A small deterministic generator (64-bit LCG), so every case is reproducible by seed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

/// A spec of `file` renamed to `name`, with `desired` and (for DTS 2018) a random RunMode
/// 1 and a random MigrateType.
fn variant(file: &str, name: &str, desired: &str, random: &mut Lcg) -> String {
    let text = Cloud::shipped(file);
    let old_name = text
        .lines()
        .find_map(|line| line.strip_prefix("  name: "))
        .expect("metadata.name")
        .to_owned();
    let mut text = text
        .replace(&format!("name: {old_name}"), &format!("name: {name}"))
        .replace(&format!("JobName: {old_name}"), &format!("JobName: {name}"));
    let desired_line = text
        .lines()
        .find(|line| line.trim_start().starts_with("desired:"))
        .expect("lifecycle.desired")
        .to_owned();
    text = text.replace(&desired_line, &format!("  desired: {desired}"));
    if text.contains("MigrateType: 3") && random.next().is_multiple_of(2) {
        // Full data only instead of full + incremental.
        text = text.replace("MigrateType: 3", "MigrateType: 2");
    }
    text
}

#[test]
fn every_kind_in_every_desired_state_re_plans_empty_after_an_apply() {
    for seed in [7_u64, 1_234_567] {
        let mut random = Lcg(seed);
        let mut cloud = Cloud::start(None);
        let mut count = 0;
        for (file, desired_states) in VARIANTS {
            for desired in *desired_states {
                // Each seed keeps a random two thirds of the cases, and always the first.
                if count > 0 && random.next().is_multiple_of(3) {
                    continue;
                }
                let name = format!("v{count}-{desired}");
                let text = variant(file, &name, desired, &mut random);
                cloud.write(&format!("specs/{name}.yaml"), &text);
                count += 1;
            }
        }
        let validate = cloud.run(&["validate", "specs/"]);
        assert_eq!(
            validate.status.code(),
            Some(0),
            "seed {seed}: {}",
            describe(&validate)
        );
        let apply = cloud.run(&["apply", "specs/", "--auto-approve"]);
        assert_eq!(
            apply.status.code(),
            Some(0),
            "seed {seed}: {}",
            describe(&apply)
        );
        let plan = cloud.run(&["plan", "specs/", "--detailed-exitcode"]);
        assert_eq!(
            plan.status.code(),
            Some(0),
            "seed {seed}: {}",
            describe(&plan)
        );
        assert_eq!(cloud.creates(), count, "seed {seed}");
    }
}
