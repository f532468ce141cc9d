//! End-to-end: the published schemas of the documents migspec prints for programs
//! (`schemas/plan.schema.json`, `schemas/status.schema.json`) are what `migspec schema`
//! prints, and what `plan --format json`, `plan --out` and `status --json` print validates
//! against them (issue 13, item 17).

mod support;

use serde_json::Value;
use support::cloud::{Cloud, describe};

fn checked_in(name: &str) -> Value {
    let path = support::workspace_dir().join("schemas").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("a checked-in schema"))
        .expect("JSON")
}

fn assert_valid(schema: &Value, document: &Value, what: &str) {
    let validator = jsonschema::draft202012::new(schema).expect("a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}\n{document:#}");
}

#[test]
fn issue_13_plan_and_status_documents_match_their_published_schemas() {
    let mut cloud = Cloud::start(None);
    for name in ["inventory-2021.yaml", "media-archive-oms.yaml"] {
        cloud.write(&format!("specs/{name}"), &Cloud::shipped(name));
    }
    let plan_schema = checked_in("plan.schema.json");
    let status_schema = checked_in("status.schema.json");
    for (flag, schema) in [("--plan", &plan_schema), ("--status", &status_schema)] {
        let printed = cloud.run(&["schema", flag]);
        assert_eq!(printed.status.code(), Some(0), "{}", describe(&printed));
        let printed: Value = serde_json::from_slice(&printed.stdout).expect("JSON");
        assert_eq!(&printed, schema, "migspec schema {flag}");
    }

    let plan = cloud.run(&["plan", "specs/", "--format", "json", "--out", "plan.json"]);
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));
    let printed: Value = serde_json::from_slice(&plan.stdout).expect("JSON plan");
    assert_valid(&plan_schema, &printed, "plan --format json");
    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(cloud.dir().join("plan.json")).expect("the saved plan"),
    )
    .expect("JSON");
    assert_valid(&plan_schema, &saved, "plan --out");

    let apply = cloud.run(&["apply", "plan.json", "--auto-approve"]);
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));
    let status = cloud.run(&["status", "--json"]);
    assert_eq!(status.status.code(), Some(0), "{}", describe(&status));
    let document: Value = serde_json::from_slice(&status.stdout).expect("JSON status");
    assert_eq!(document["addresses"].as_array().map(Vec::len), Some(2));
    assert_valid(&status_schema, &document, "status --json");
    // A plan after the apply (lifecycle steps, no creates) still validates.
    let again = cloud.run(&["plan", "specs/", "--format", "json"]);
    let again: Value = serde_json::from_slice(&again.stdout).expect("JSON plan");
    assert_valid(&plan_schema, &again, "plan after apply");
}
