//! Issue 13, item 11: `migspec destroy` plans safe deletes of the selected addresses,
//! confirms like `apply`, saves a plan that `apply FILE` applies exactly, and leaves a job
//! whose spec says `deletionPolicy: orphan` in place (forgotten, not deleted).

mod support;

use support::cloud::{Cloud, describe};

/// Remote ids keep their length in snapshots.
const ID_FILTERS: &[(&str, &str)] = &[
    (r"dts-[a-z0-9]{8}", "dts-XXXXXXXX"),
    (
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
    ),
];

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Three applied specs; `orders-to-cdb` says `deletionPolicy: orphan`.
fn applied() -> Cloud {
    let mut cloud = Cloud::start(None);
    let orders = Cloud::shipped("orders-mysql.yaml").replace(
        "  desired: running\n",
        "  desired: running\n  deletionPolicy: orphan\n",
    );
    assert!(orders.contains("deletionPolicy: orphan"), "{orders}");
    cloud.write("specs/orders-mysql.yaml", &orders);
    for name in ["media-archive-oms.yaml", "invoices-oms-list.yaml"] {
        cloud.write(&format!("specs/{name}"), &Cloud::shipped(name));
    }
    let apply = cloud.run(&["apply", "specs/", "--auto-approve"]);
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));
    cloud
}

#[test]
fn destroy_deletes_safely_through_a_saved_plan_and_orphan_wins() {
    let cloud = applied();
    let before = cloud.state();
    let orders_id = before["resources"]["orders-to-cdb"]["remote_id"]
        .as_str()
        .expect("orders is recorded")
        .to_owned();

    // Without a terminal and without --auto-approve, nothing is deleted.
    let refused = cloud.run(&["destroy", "specs/"]);
    assert_eq!(refused.status.code(), Some(1), "{}", describe(&refused));
    assert!(
        stderr(&refused).contains(
            "error: no terminal to confirm the destroy: review the plan above and pass --auto-approve (CI), or run in a terminal"
        ),
        "{}",
        describe(&refused)
    );
    assert_eq!(cloud.accepted("huawei", "DeleteTaskGroup"), 0);

    let saved = cloud.run(&["destroy", "specs/", "--out", "destroy.json"]);
    assert_eq!(saved.status.code(), Some(0), "{}", describe(&saved));
    insta::with_settings!({filters => ID_FILTERS.to_vec()}, {
        insta::assert_snapshot!(stdout(&saved));
    });
    let plan: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(cloud.dir().join("destroy.json")).expect("the saved plan"),
    )
    .expect("a plan document");
    assert_eq!(plan["binding"]["mode"], "destroy", "{plan}");
    assert_eq!(plan["summary"]["delete"], 2, "{plan}");
    assert_eq!(plan["summary"]["create"], 0, "{plan}");

    let apply = cloud.run(&["apply", "destroy.json"]);
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));
    assert_eq!(cloud.accepted("huawei", "DeleteTaskGroup"), 2);
    assert_eq!(cloud.accepted("tencent", "DeleteMigrateJob"), 0);
    let state = cloud.state();
    let recorded = state["resources"]
        .as_object()
        .map_or(0, serde_json::Map::len);
    assert_eq!(recorded, 0, "{state}");
    let objects = cloud.objects();
    let live: Vec<&str> = objects
        .values()
        .filter(|object| object.live)
        .map(|object| object.id.as_str())
        .collect();
    assert_eq!(
        live,
        [orders_id.as_str()],
        "orphan keeps only the orders job"
    );

    // Applied once: the same plan is refused afterwards.
    let again = cloud.run(&["apply", "destroy.json"]);
    assert_eq!(again.status.code(), Some(1), "{}", describe(&again));
}

#[test]
fn destroy_with_auto_approve_deletes_only_the_selection() {
    let cloud = applied();
    let destroy = cloud.run(&["destroy", "specs/", "--only", "media-*", "--auto-approve"]);
    assert_eq!(destroy.status.code(), Some(0), "{}", describe(&destroy));
    assert_eq!(cloud.accepted("huawei", "DeleteTaskGroup"), 1);
    let state = cloud.state();
    assert!(state["resources"]["media-archive"].is_null(), "{state}");
    assert!(state["resources"]["invoices-list"].is_object(), "{state}");
    assert!(state["resources"]["orders-to-cdb"].is_object(), "{state}");

    // A saved plan is applied by `apply`, never by `destroy`.
    let saved = cloud.run(&["plan", "specs/", "--out", "plan.json"]);
    assert_eq!(saved.status.code(), Some(0), "{}", describe(&saved));
    let wrong = cloud.run(&["destroy", "plan.json", "--auto-approve"]);
    assert_eq!(wrong.status.code(), Some(1), "{}", describe(&wrong));
    assert!(
        stderr(&wrong).contains("is a saved plan: apply it with `migspec apply plan.json`"),
        "{}",
        describe(&wrong)
    );
}

#[test]
fn a_running_task_group_is_paused_before_it_is_deleted() {
    // A long migration keeps the group running while it is destroyed.
    let mut cloud = Cloud::start(Some("durations: {oms_migration: 60s}\n"));
    cloud.write(
        "specs/media-archive-oms.yaml",
        &Cloud::shipped("media-archive-oms.yaml"),
    );
    let apply = cloud.run(&["apply", "specs/", "--auto-approve", "--wait", "none"]);
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));
    let plan = cloud.run(&[
        "destroy",
        "specs/",
        "--out",
        "destroy.json",
        "--format",
        "json",
    ]);
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));
    let document: serde_json::Value = serde_json::from_slice(&plan.stdout).expect("a plan");
    let verbs: Vec<&str> = document["changes"][0]["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|action| action["kind"].as_str().expect("a kind"))
        .collect();
    assert_eq!(verbs, ["pause", "delete"], "{document}");
    let destroy = cloud.run(&["apply", "destroy.json"]);
    assert_eq!(destroy.status.code(), Some(0), "{}", describe(&destroy));
    assert_eq!(cloud.accepted("huawei", "StopTaskGroup"), 1);
    assert_eq!(cloud.accepted("huawei", "DeleteTaskGroup"), 1);
    assert!(cloud.state()["resources"]["media-archive"].is_null());
}

#[test]
fn a_delete_right_after_a_pause_is_repeated_until_the_groups_tasks_have_stopped() {
    // OMS refuses to delete a group whose pause has not settled (`OMS.0063`); the emulator
    // keeps a paused group's tasks stopping for as long again as the pause took (1 s here,
    // longer than the pause's first polls), so the delete right after the pause is refused.
    let mut cloud = Cloud::start(Some("durations: {oms_migration: 60s, oms_pausing: 1s}\n"));
    cloud.write(
        "specs/media-archive-oms.yaml",
        &Cloud::shipped("media-archive-oms.yaml"),
    );
    let apply = cloud.run(&["apply", "specs/", "--auto-approve", "--wait", "none"]);
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));
    let destroy = cloud.run(&["destroy", "specs/", "--auto-approve"]);
    assert_eq!(destroy.status.code(), Some(0), "{}", describe(&destroy));
    let stats = cloud.stats();
    let deletes = &stats["services"]["huawei"]["versions"]["v2"]["DeleteTaskGroup"];
    assert_eq!(deletes["ok"], 1, "{stats}");
    assert!(
        deletes["business_error"].as_u64().unwrap_or(0) >= 1,
        "no delete was refused while the tasks stopped, so this test proves nothing: {stats}"
    );
    assert!(cloud.state()["resources"]["media-archive"].is_null());
}
