//! End-to-end flows of `migspec plan` / `apply` against an emulator process: saved plans and
//! their staleness, fail-fast on a failed check, `onFailure` resume and retry, drift, import
//! and the state commands.

mod support;

use support::cloud::{Cloud, describe};

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn with_specs(config: Option<&str>, names: &[&str]) -> Cloud {
    let mut cloud = Cloud::start(config);
    for name in names {
        cloud.write(&format!("specs/{name}"), &Cloud::shipped(name));
    }
    cloud
}

#[test]
fn a_saved_plan_is_applied_exactly_once_and_then_refused_as_stale() {
    let mut cloud = with_specs(None, &["orders-mysql.yaml", "media-archive-oms.yaml"]);

    let plan = cloud.run(&["plan", "specs/", "--out", "plan.json"]);
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));
    let saved = std::fs::read_to_string(cloud.dir().join("plan.json")).unwrap();
    assert!(
        !saved.contains("secret-"),
        "a plan file holds no secret:\n{saved}"
    );
    assert!(saved.contains("\"format_version\": \"2\""));

    let show = cloud.run(&["show", "plan.json"]);
    assert_eq!(show.status.code(), Some(0), "{}", describe(&show));
    assert!(
        stdout(&show).contains("Plan: 2 to create"),
        "{}",
        describe(&show)
    );

    let apply = cloud.run(&["apply", "plan.json", "--auto-approve"]);
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));
    assert_eq!(cloud.creates(), 2);
    let serial = cloud.state()["serial"].as_u64().unwrap();

    let again = cloud.run(&["apply", "plan.json", "--auto-approve"]);
    assert_eq!(again.status.code(), Some(1), "{}", describe(&again));
    assert!(
        stderr(&again).contains("was already applied at"),
        "{}",
        describe(&again)
    );
    assert_eq!(
        cloud.creates(),
        2,
        "a plan applied once applies nothing more"
    );
    assert_eq!(cloud.state()["serial"].as_u64().unwrap(), serial);

    // A plan made, then the spec it acts on edited: refused, naming the address.
    std::fs::remove_file(cloud.dir().join("specs/media-archive-oms.yaml")).unwrap();
    let plan = cloud.run(&["plan", "specs/", "--out", "plan.json"]);
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));
    cloud.write(
        "specs/media-archive-oms.yaml",
        &Cloud::shipped("media-archive-oms.yaml").replace("media-dst", "media-other"),
    );
    let stale = cloud.run(&["apply", "plan.json", "--auto-approve"]);
    assert_eq!(stale.status.code(), Some(1), "{}", describe(&stale));
    assert!(
        stderr(&stale).contains("media-archive: a spec for it appeared"),
        "{}",
        describe(&stale)
    );
}

#[test]
fn a_failed_check_fails_fast_with_the_checks_message_and_the_others_converge() {
    let config = r#"
faults:
  rules:
    - match: "orders-*"
      service: tencent
      check_fail: {message: "source database unreachable", step: ConnectDBCheck}
"#;
    let cloud = with_specs(Some(config), &["orders-mysql.yaml", "catalog-mongodb.yaml"]);
    let started = std::time::Instant::now();
    let apply = cloud.run(&["apply", "specs/", "--auto-approve"]);
    assert_eq!(apply.status.code(), Some(1), "{}", describe(&apply));
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let text = stderr(&apply);
    assert!(text.contains("orders-to-cdb: ✘ check failed"), "{text}");
    assert!(text.contains("source database unreachable"), "{text}");
    assert!(
        text.contains("catalog-mongodb: ✔ matches its spec"),
        "{text}"
    );
    assert!(
        text.contains("1 converged, 0 left in flight, 1 failed"),
        "{text}"
    );
}

#[test]
fn failed_migrations_are_resumed_until_max_attempts() {
    // inventory-2021 allows 2 resumes; one failure is recovered.
    let config = r#"
faults:
  rules:
    - match: "inventory-*"
      fail_at_percent: 30
      resumes_needed: 1
      failure: resumable
      error_message: "loader lost its connection"
"#;
    let cloud = with_specs(Some(config), &["inventory-2021.yaml"]);
    let apply = cloud.run(&["apply", "specs/", "--auto-approve"]);
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));
    assert!(
        stderr(&apply).contains("recovering per onFailure, attempt 1"),
        "{}",
        describe(&apply)
    );
    assert!(cloud.accepted("tencent", "ResumeMigrateJob") >= 1);
    let plan = cloud.run(&["plan", "specs/", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));

    // Five failures exhaust maxAttempts: the apply fails with the cloud's message.
    let config = config.replace("resumes_needed: 1", "resumes_needed: 5");
    let cloud = with_specs(Some(&config), &["inventory-2021.yaml"]);
    let apply = cloud.run(&["apply", "specs/", "--auto-approve"]);
    assert_eq!(apply.status.code(), Some(1), "{}", describe(&apply));
    assert!(
        stderr(&apply).contains("loader lost its connection"),
        "{}",
        describe(&apply)
    );
    assert_eq!(cloud.state()["resources"]["inventory-2021"]["attempts"], 2);
}

#[test]
fn failed_task_groups_are_retried_with_failed_objects_only() {
    let config = r#"
faults:
  rules:
    - match: "media archive*"
      service: huawei
      fail_at_percent: 40
      resumes_needed: 1
"#;
    let cloud = with_specs(Some(config), &["media-archive-oms.yaml"]);
    let apply = cloud.run(&["apply", "specs/", "--auto-approve"]);
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));
    assert!(
        stderr(&apply).contains("recovering per onFailure, attempt 1"),
        "{}",
        describe(&apply)
    );
    assert_eq!(cloud.accepted("huawei", "RetryTaskGroup"), 1);
    let plan = cloud.run(&["plan", "specs/", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));
}

#[test]
fn drift_is_shown_apart_and_jobs_are_imported_and_forgotten() {
    // A long migration keeps the group running, so that OMS accepts an update.
    let config = "durations: {oms_migration: 60s}\n";
    let cloud = with_specs(Some(config), &["invoices-oms-list.yaml"]);
    let apply = cloud.run(&["apply", "specs/", "--auto-approve"]);
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));
    let state = cloud.state();
    let id = state["resources"]["invoices-list"]["remote_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let project = state["resources"]["invoices-list"]["location"]["project_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Someone changes the bandwidth in the console.
    let (status, body) = cloud.oms(
        "PUT",
        &format!("/v2/{project}/taskgroups/{id}/update"),
        r#"{"bandwidth_policy": [{"start": "00:00", "end": "23:59", "max_bandwidth": 1048576}]}"#,
    );
    assert_eq!(status, 200, "{body}");

    let plan = cloud.run(&["plan", "specs/", "--format", "json", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}", describe(&plan));
    let document: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let drift = document["drift"].as_array().expect("drift is listed");
    assert_eq!(drift[0]["address"], "invoices-list");
    assert!(
        drift[0]["changes"][0]["field"]
            .as_str()
            .unwrap()
            .starts_with("/spec/bandwidth_policy"),
        "{drift:?}"
    );
    let human = cloud.run(&["plan", "specs/"]);
    assert!(
        stdout(&human).contains("Drift (changed outside migspec"),
        "{}",
        describe(&human)
    );
    // Applying puts the spec's bandwidth back, in place.
    let apply = cloud.run(&["apply", "specs/", "--auto-approve"]);
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));
    let plan = cloud.run(&["plan", "specs/", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));

    // Another state adopts the same group.
    let import = cloud.run(&[
        "import",
        "HuaweiOmsTaskGroup",
        "adopted",
        &id,
        "--region",
        "cn-north-4",
        "--state-dir",
        "other",
    ]);
    assert_eq!(import.status.code(), Some(0), "{}", describe(&import));
    let yaml = stdout(&import);
    assert!(yaml.contains("kind: HuaweiOmsTaskGroup"), "{yaml}");
    assert!(yaml.contains("name: adopted"), "{yaml}");
    assert!(
        yaml.contains("# The API does not return these fields"),
        "{yaml}"
    );
    let list = cloud.run(&["state", "list", "--state-dir", "other"]);
    assert!(stdout(&list).contains("adopted"), "{}", describe(&list));
    assert!(stdout(&list).contains(&id), "{}", describe(&list));
    let rm = cloud.run(&["state", "rm", "adopted", "--state-dir", "other"]);
    assert_eq!(rm.status.code(), Some(0), "{}", describe(&rm));
    let list = cloud.run(&["state", "list", "--state-dir", "other"]);
    assert!(!stdout(&list).contains("adopted"), "{}", describe(&list));
}

#[test]
fn only_and_exclude_select_addresses_and_detailed_exit_codes_say_what_changed() {
    let mut cloud = Cloud::start(None);
    cloud.copy_specs();
    let plan = cloud.run(&[
        "plan",
        "specs/",
        "--format",
        "json",
        "--only",
        "media-*",
        "--only",
        "orders-*",
        "--exclude",
        "orders-*",
    ]);
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));
    let document: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let addresses: Vec<&str> = document["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| change["address"].as_str().unwrap())
        .collect();
    assert_eq!(addresses, ["media-archive"]);

    let apply = cloud.run(&["apply", "specs/", "--auto-approve", "--only", "media-*"]);
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));
    let media = cloud.run(&["plan", "specs/", "--detailed-exitcode", "--only", "media-*"]);
    assert_eq!(media.status.code(), Some(0), "{}", describe(&media));
    let rest = cloud.run(&["plan", "specs/", "--detailed-exitcode"]);
    assert_eq!(rest.status.code(), Some(2), "{}", describe(&rest));
}

#[test]
fn a_spec_that_leaves_the_set_is_forgotten_or_with_prune_deleted() {
    let cloud = with_specs(
        None,
        &[
            "orders-mysql.yaml",
            "media-archive-oms.yaml",
            "invoices-oms-list.yaml",
        ],
    );
    let apply = cloud.run(&["apply", "specs/", "--auto-approve"]);
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));
    std::fs::remove_file(cloud.dir().join("specs/media-archive-oms.yaml")).unwrap();
    std::fs::remove_file(cloud.dir().join("specs/invoices-oms-list.yaml")).unwrap();

    // With --prune, the plan deletes them.
    let prune = cloud.run(&["plan", "specs/", "--prune", "--format", "json"]);
    assert_eq!(prune.status.code(), Some(0), "{}", describe(&prune));
    let document: serde_json::Value = serde_json::from_slice(&prune.stdout).unwrap();
    assert_eq!(document["summary"]["delete"], 2, "{document}");

    // Without it, they are forgotten, visibly, and nothing is deleted.
    let plan = cloud.run(&["plan", "specs/", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}", describe(&plan));
    assert!(
        stdout(&plan).contains("? forget invoices-list"),
        "{}",
        describe(&plan)
    );
    assert!(
        stdout(&plan).contains("? forget media-archive"),
        "{}",
        describe(&plan)
    );
    let apply = cloud.run(&["apply", "specs/", "--auto-approve", "--only", "media-*"]);
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));
    let state = cloud.state();
    assert!(state["resources"]["media-archive"].is_null(), "{state}");
    assert!(state["resources"]["invoices-list"].is_object(), "{state}");
    assert_eq!(cloud.accepted("huawei", "DeleteTaskGroup"), 0);

    // The one left is deleted with --prune: pause first (OMS refuses to delete a running
    // group), then delete, waiting until it is gone.
    let apply = cloud.run(&["apply", "specs/", "--auto-approve", "--prune"]);
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));
    assert_eq!(cloud.accepted("huawei", "DeleteTaskGroup"), 1);
    assert!(cloud.state()["resources"]["invoices-list"].is_null());
    let plan = cloud.run(&["plan", "specs/", "--detailed-exitcode", "--prune"]);
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));
}
