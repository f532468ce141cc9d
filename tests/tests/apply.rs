//! End-to-end: `migspec plan` / `apply` of the shipped spec set against an emulator process.

mod support;

use support::cloud::{Cloud, describe};

#[test]
fn the_shipped_specs_converge_and_a_second_plan_is_empty() {
    let mut cloud = Cloud::start(None);
    cloud.copy_specs();

    let plan = cloud.run(&["plan", "specs/", "--detailed-exitcode", "--format", "json"]);
    assert_eq!(plan.status.code(), Some(2), "{}", describe(&plan));
    let document: serde_json::Value = serde_json::from_slice(&plan.stdout).expect("JSON plan");
    assert_eq!(document["summary"]["create"], 7, "{}", describe(&plan));

    let apply = cloud.run(&["apply", "specs/", "--auto-approve", "--format", "json"]);
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));
    let stderr = String::from_utf8_lossy(&apply.stderr);
    assert!(
        stderr.contains("Apply complete: 7 converged, 0 left in flight, 0 failed"),
        "{}",
        describe(&apply)
    );
    let state = cloud.state();
    let resources = state["resources"].as_object().expect("resources");
    assert_eq!(resources.len(), 7);
    assert!(
        resources
            .values()
            .all(|r| r["remote_id"].is_string() && r["applied_view"].is_object())
    );

    let again = cloud.run(&["plan", "specs/", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", describe(&again));
}
