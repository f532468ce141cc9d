//! Issue 13 item 10: selections that select nothing are errors, label selectors (`-l`)
//! select specs by `metadata.labels`, and only the selected specs' secrets are read.

mod support;

use support::cloud::{Cloud, describe};

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn planned(output: &std::process::Output) -> Vec<String> {
    let document: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("plan JSON: {error}\n{}", describe(output)));
    document["changes"]
        .as_array()
        .expect("a plan lists its changes")
        .iter()
        .map(|change| {
            change["address"]
                .as_str()
                .expect("every change has an address")
                .to_owned()
        })
        .collect()
}

#[test]
fn label_selectors_select_specs_and_only_their_secrets_are_read() {
    let mut cloud = Cloud::start(None);
    cloud.copy_specs();

    let payments = cloud.run(&["plan", "specs/", "-l", "team=payments", "--format", "json"]);
    assert_eq!(payments.status.code(), Some(0), "{}", describe(&payments));
    assert_eq!(planned(&payments), ["orders-to-cdb"]);
    let not_payments = cloud.run(&[
        "plan",
        "specs/",
        "--selector",
        "team!=payments",
        "--format",
        "json",
    ]);
    assert_eq!(
        not_payments.status.code(),
        Some(0),
        "{}",
        describe(&not_payments)
    );
    assert!(!planned(&not_payments).contains(&"orders-to-cdb".to_owned()));
    assert!(planned(&not_payments).len() > 3);

    // Another spec's secret is unset: a run that does not select it does not need it.
    let unset = cloud
        .migspec()
        .args(["plan", "specs/", "--only", "orders-*", "--format", "json"])
        .env_remove("INVENTORY_SRC_PASSWORD")
        .output()
        .unwrap();
    assert_eq!(unset.status.code(), Some(0), "{}", describe(&unset));
    assert_eq!(planned(&unset), ["orders-to-cdb"]);
    let needed = cloud
        .migspec()
        .args(["plan", "specs/", "--only", "inventory-*"])
        .env_remove("INVENTORY_SRC_PASSWORD")
        .output()
        .unwrap();
    assert_eq!(needed.status.code(), Some(1), "{}", describe(&needed));
    assert!(
        stderr(&needed).contains("INVENTORY_SRC_PASSWORD"),
        "{}",
        describe(&needed)
    );
}

#[test]
fn a_selection_that_matches_nothing_is_an_error() {
    let mut cloud = Cloud::start(None);
    cloud.copy_specs();
    for args in [
        &["--only", "order-*"][..],
        &["--exclude", "nothing-like-this"][..],
        &["-l", "team=nobody"][..],
    ] {
        let mut all = vec!["plan", "specs/", "--detailed-exitcode"];
        all.extend_from_slice(args);
        let output = cloud.run(&all);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{args:?}: {}",
            describe(&output)
        );
        let text = stderr(&output);
        let shown = format!("{} {}", args[0], args[1]);
        assert!(
            text.contains(&format!(
                "{shown} match(es) no address: nothing was planned"
            )),
            "{text}"
        );
        assert!(
            text.contains("orders-to-cdb"),
            "the addresses are listed: {text}"
        );
    }
    let bad = cloud.run(&["plan", "specs/", "-l", "team = x"]);
    assert_eq!(bad.status.code(), Some(1), "{}", describe(&bad));
    assert!(
        stderr(&bad).contains("bad label selector"),
        "{}",
        describe(&bad)
    );
}
