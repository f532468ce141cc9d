//! Issue 9 (safety), the planner's part, end to end against an emulator process: what a
//! reviewed plan shows is all that happens. Each test plays a path that deleted, orphaned
//! or duplicated a job nobody asked to touch, and checks the emulator's own counts.

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::cloud::{Cloud, describe};

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `plan PATHS… --format json` (plus extra arguments), parsed.
fn plan_json(cloud: &Cloud, args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["plan"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let output = cloud.run(&all);
    let document = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("plan JSON: {error}\n{}", describe(&output)));
    (output.status.code(), document)
}

fn apply(cloud: &Cloud, args: &[&str]) -> std::process::Output {
    let mut all = vec!["apply"];
    all.extend_from_slice(args);
    all.push("--auto-approve");
    cloud.run(&all)
}

/// Every delete-like call the emulator accepted (2018 delete, 2021 isolate/destroy, OMS).
fn deletes(cloud: &Cloud) -> u64 {
    cloud.accepted("tencent", "DeleteMigrateJob")
        + cloud.accepted("tencent", "IsolateMigrateJob")
        + cloud.accepted("tencent", "DestroyMigrateJob")
        + cloud.accepted("huawei", "DeleteTaskGroup")
}

fn verbs(change: &Value) -> Vec<String> {
    change["actions"]
        .as_array()
        .map(|actions| {
            actions
                .iter()
                .map(|action| action["kind"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn change<'a>(plan: &'a Value, address: &str) -> &'a Value {
    plan["changes"]
        .as_array()
        .and_then(|changes| changes.iter().find(|change| change["address"] == address))
        .unwrap_or_else(|| panic!("no change for {address} in {plan:#}"))
}

fn orders_spec() -> String {
    Cloud::shipped("orders-mysql.yaml")
}

/// Item 3: a saved plan is an approval, not a program. A hand-edited action list is
/// refused, naming the address, and nothing is deleted.
#[test]
fn issue_9_a_tampered_saved_plan_is_refused_naming_the_address() {
    let mut cloud = Cloud::start(None);
    cloud.write("specs/orders-mysql.yaml", &orders_spec());
    cloud.write(
        "specs/media-archive-oms.yaml",
        &Cloud::shipped("media-archive-oms.yaml"),
    );
    let first = apply(&cloud, &["specs/"]);
    assert_eq!(first.status.code(), Some(0), "{}", describe(&first));

    // No changes now; the reviewer approves an empty plan, someone edits it into a delete.
    let plan = cloud.run(&["plan", "specs/", "--out", "plan.json"]);
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));
    let path = cloud.dir().join("plan.json");
    let mut saved: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let target = saved["changes"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|change| change["address"] == "orders-to-cdb")
        .expect("orders-to-cdb is in the plan");
    target["actions"] = serde_json::json!([{"kind": "delete", "reason": "approved"}]);
    std::fs::write(&path, serde_json::to_string_pretty(&saved).unwrap()).unwrap();

    let tampered = apply(&cloud, &["plan.json"]);
    assert_eq!(tampered.status.code(), Some(1), "{}", describe(&tampered));
    let text = stderr(&tampered);
    assert!(
        text.contains("orders-to-cdb: the saved plan says delete, a fresh plan says nothing"),
        "{text}"
    );
    assert!(text.contains("nothing was applied"), "{text}");
    assert_eq!(deletes(&cloud), 0, "a tampered plan deleted a job");
    assert_eq!(cloud.creates(), 2);

    // The untouched file applies (it is what its inputs plan).
    let plan = cloud.run(&["plan", "specs/", "--out", "plan.json"]);
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));
    let honest = apply(&cloud, &["plan.json"]);
    assert_eq!(honest.status.code(), Some(0), "{}", describe(&honest));
}

/// Item 5: an explicit `deletionPolicy: orphan` wins over `--prune`, and the plan says why.
#[test]
fn issue_9_deletion_policy_orphan_wins_over_prune() {
    let mut cloud = Cloud::start(None);
    let kept = orders_spec().replace(
        "  timeouts: {check: 15m, start: 1h}",
        "  timeouts: {check: 15m, start: 1h}\n  deletionPolicy: orphan",
    );
    assert_ne!(kept, orders_spec());
    cloud.write("specs/orders-mysql.yaml", &kept);
    cloud.write(
        "specs/inventory-2021.yaml",
        &Cloud::shipped("inventory-2021.yaml"),
    );
    let first = apply(&cloud, &["specs/"]);
    assert_eq!(first.status.code(), Some(0), "{}", describe(&first));
    std::fs::remove_file(cloud.dir().join("specs/orders-mysql.yaml")).unwrap();

    let (code, plan) = plan_json(&cloud, &["specs/", "--prune"]);
    assert_eq!(code, Some(0), "{plan:#}");
    assert_eq!(plan["summary"]["delete"], 0, "{plan:#}");
    let forget = &plan["forget"][0];
    assert_eq!(forget["address"], "orders-to-cdb", "{plan:#}");
    assert!(
        forget["reason"]
            .as_str()
            .unwrap()
            .contains("`lifecycle.deletionPolicy: orphan`, which wins over --prune"),
        "{plan:#}"
    );
    let pruned = apply(&cloud, &["specs/", "--prune"]);
    assert_eq!(pruned.status.code(), Some(0), "{}", describe(&pruned));
    assert_eq!(deletes(&cloud), 0, "--prune deleted an orphan-policy job");
    assert!(cloud.state()["resources"]["orders-to-cdb"].is_null());
    assert!(cloud.state()["resources"]["inventory-2021"].is_object());
}

/// Item 6: applying a sub-directory leaves addresses recorded from outside it alone; a spec
/// removed from within it is forgotten, and the plan names the path.
#[test]
fn issue_9_applying_a_sub_directory_touches_only_what_it_holds() {
    let mut cloud = Cloud::start(None);
    cloud.write("specs/orders-mysql.yaml", &orders_spec());
    cloud.write(
        "specs/media-archive-oms.yaml",
        &Cloud::shipped("media-archive-oms.yaml"),
    );
    cloud.write(
        "specs/redis/sessions-redis.yaml",
        &Cloud::shipped("sessions-redis.yaml"),
    );
    cloud.write(
        "specs/redis/inventory-2021.yaml",
        &Cloud::shipped("inventory-2021.yaml"),
    );
    let first = apply(&cloud, &["specs/"]);
    assert_eq!(first.status.code(), Some(0), "{}", describe(&first));
    let recorded = |cloud: &Cloud| -> Vec<String> {
        cloud.state()["resources"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    assert_eq!(recorded(&cloud).len(), 4);

    // The sub-directory alone, even with --prune: nothing outside it is planned or touched.
    let (code, plan) = plan_json(&cloud, &["specs/redis", "--prune", "--detailed-exitcode"]);
    assert_eq!(code, Some(0), "{plan:#}");
    assert!(plan.get("forget").is_none(), "{plan:#}");
    let sub = apply(&cloud, &["specs/redis", "--prune"]);
    assert_eq!(sub.status.code(), Some(0), "{}", describe(&sub));
    assert_eq!(recorded(&cloud).len(), 4, "{}", describe(&sub));
    assert_eq!(deletes(&cloud), 0);

    // A spec removed from within the sub-directory is forgotten, saying where it was.
    std::fs::remove_file(cloud.dir().join("specs/redis/sessions-redis.yaml")).unwrap();
    let (code, plan) = plan_json(&cloud, &["specs/redis"]);
    assert_eq!(code, Some(0), "{plan:#}");
    let forgets: Vec<&str> = plan["forget"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["address"].as_str().unwrap())
        .collect();
    assert_eq!(forgets, ["sessions-redis"], "{plan:#}");
    assert_eq!(
        plan["forget"][0]["reason"]
            .as_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap(),
        "its spec specs/redis/sessions-redis.yaml left specs/redis",
        "{plan:#}"
    );
    let human = cloud.run(&["plan", "specs/redis"]);
    assert!(
        stdout(&human).contains("1 to forget."),
        "{}",
        describe(&human)
    );
    let forget = apply(&cloud, &["specs/redis"]);
    assert_eq!(forget.status.code(), Some(0), "{}", describe(&forget));
    let mut left = recorded(&cloud);
    left.sort();
    assert_eq!(left, ["inventory-2021", "media-archive", "orders-to-cdb"]);
    assert_eq!(deletes(&cloud), 0);
}

/// Item 7: a renamed `metadata.name` is flagged as a likely rename with the command that
/// keeps the job.
#[test]
fn issue_9_a_renamed_spec_is_flagged_with_state_mv() {
    let mut cloud = Cloud::start(None);
    cloud.write("specs/orders-mysql.yaml", &orders_spec());
    let first = apply(&cloud, &["specs/"]);
    assert_eq!(first.status.code(), Some(0), "{}", describe(&first));
    let renamed = orders_spec().replace("orders-to-cdb", "orders-v2");
    cloud.write("specs/orders-mysql.yaml", &renamed);

    let (code, plan) = plan_json(&cloud, &["specs/"]);
    assert_eq!(code, Some(0), "{plan:#}");
    assert_eq!(verbs(change(&plan, "orders-v2"))[0], "create");
    assert_eq!(plan["forget"][0]["address"], "orders-to-cdb", "{plan:#}");
    assert_eq!(plan["warnings"][0]["address"], "orders-v2", "{plan:#}");
    assert!(
        plan["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("looks like a rename of orders-to-cdb (same configuration): to keep its job instead of creating another, run `migspec state mv orders-to-cdb orders-v2`"),
        "{plan:#}"
    );
    // Another configuration is not a rename.
    let other = renamed.replace("refunds", "returns");
    cloud.write("specs/orders-mysql.yaml", &other);
    let (_, plan) = plan_json(&cloud, &["specs/"]);
    assert!(plan.get("warnings").is_none(), "{plan:#}");

    // The rename through the state keeps the job; its 2018 tag still names the old address
    // and cannot be rewritten, which the plan says.
    cloud.write("specs/orders-mysql.yaml", &renamed);
    let id = cloud.state()["resources"]["orders-to-cdb"]["remote_id"].clone();
    let mv = cloud.run(&["state", "mv", "orders-to-cdb", "orders-v2"]);
    assert_eq!(mv.status.code(), Some(0), "{}", describe(&mv));
    let (code, plan) = plan_json(&cloud, &["specs/"]);
    assert_eq!(code, Some(0), "{plan:#}");
    assert_eq!(plan["summary"]["create"], 0, "{plan:#}");
    assert!(plan.get("forget").is_none(), "{plan:#}");
    assert_eq!(change(&plan, "orders-v2")["remote_id"], id);
    assert_eq!(
        plan["warnings"][0]["message"],
        format!(
            "{} is marked `migspec:address=orders-to-cdb`, and its API cannot re-mark it now: it can only be found through the state; if the state is lost, a plan would create a second job (keep the state safe, e.g. a team backend)",
            id.as_str().unwrap()
        ),
        "{plan:#}"
    );
    let kept = apply(&cloud, &["specs/"]);
    assert_eq!(kept.status.code(), Some(0), "{}", describe(&kept));
    assert_eq!(cloud.creates(), 1, "the renamed spec kept its job");
}

/// Item 2 (the planner's part): a state in which two addresses hold one remote id is
/// refused for both; nothing is deleted, even with --prune.
#[test]
fn issue_9_two_addresses_holding_one_job_are_both_blocked() {
    let mut cloud = Cloud::start(None);
    cloud.write("specs/orders-mysql.yaml", &orders_spec());
    cloud.write(
        "specs/catalog-mongodb.yaml",
        &Cloud::shipped("catalog-mongodb.yaml"),
    );
    let first = apply(&cloud, &["specs/"]);
    assert_eq!(first.status.code(), Some(0), "{}", describe(&first));
    let mut state = cloud.state();
    let id = state["resources"]["orders-to-cdb"]["remote_id"].clone();
    let catalog = state["resources"]["catalog-mongodb"]["remote_id"].clone();
    assert_ne!(id, catalog);
    state["resources"]["catalog-mongodb"]["remote_id"] = id.clone();
    std::fs::write(
        cloud.state_path(),
        serde_json::to_string_pretty(&state).unwrap(),
    )
    .unwrap();

    let (code, plan) = plan_json(&cloud, &["specs/", "--prune"]);
    assert_eq!(code, Some(1), "every address is blocked: {plan:#}");
    let blocked: Vec<&str> = plan["blocked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["address"].as_str().unwrap())
        .collect();
    assert_eq!(blocked, ["catalog-mongodb", "orders-to-cdb"], "{plan:#}");
    let reason = plan["blocked"][0]["reason"].as_str().unwrap();
    assert_eq!(
        reason,
        format!(
            "remote object {} is held by catalog-mongodb and by orders-to-cdb: migspec will not act on it for either",
            id.as_str().unwrap()
        )
    );
    let pruned = apply(&cloud, &["specs/", "--prune"]);
    assert_eq!(pruned.status.code(), Some(1), "{}", describe(&pruned));
    assert_eq!(deletes(&cloud), 0);
    assert_eq!(cloud.creates(), 2);
}

/// Items 11 and 12: every resume counts, planned or in-run; once `maxAttempts` is spent,
/// the job is blocked while the others are planned and applied, and the ways out are
/// real verbs.
#[test]
fn issue_9_attempts_are_counted_and_one_failed_job_blocks_only_itself() {
    let config = r#"
durations: {migrating: 2s}
faults:
  rules:
    - match: "inventory-*"
      fail_at_percent: 30
      resumes_needed: 99
      failure: resumable
      error_message: "loader lost its connection"
"#;
    let mut cloud = Cloud::start(Some(config));
    cloud.write(
        "specs/inventory-2021.yaml",
        &Cloud::shipped("inventory-2021.yaml"),
    );
    // Leave the job as soon as it runs; it fails later, by itself.
    let first = apply(&cloud, &["specs/", "--wait", "running"]);
    assert_eq!(first.status.code(), Some(0), "{}", describe(&first));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, plan) = plan_json(&cloud, &["specs/"]);
        let planned = plan["changes"]
            .as_array()
            .and_then(|changes| changes.first())
            .map(verbs)
            .unwrap_or_default();
        if planned.first().map(String::as_str) == Some("resume") {
            let reason = change(&plan, "inventory-2021")["actions"][0]["reason"]
                .as_str()
                .unwrap()
                .to_owned();
            assert!(reason.contains("attempt 1 of 2"), "{reason}");
            break;
        }
        assert!(Instant::now() < deadline, "the job never failed: {plan:#}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The planned resume is attempt 1, the in-run one attempt 2: never a third.
    let second = apply(&cloud, &["specs/"]);
    assert_eq!(second.status.code(), Some(1), "{}", describe(&second));
    assert_eq!(cloud.accepted("tencent", "ResumeMigrateJob"), 2);
    assert_eq!(cloud.state()["resources"]["inventory-2021"]["attempts"], 2);

    // A new spec next to the exhausted job: planned and applied; the job is blocked.
    cloud.write("specs/orders-mysql.yaml", &orders_spec());
    let plan = cloud.run(&["plan", "specs/", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}", describe(&plan));
    let text = stdout(&plan);
    assert!(text.contains("✘ inventory-2021"), "{text}");
    assert!(
        text.contains(
            "`migspec apply --replace inventory-2021` deletes the job safely and creates it again"
        ),
        "{text}"
    );
    assert!(
        text.contains("`migspec state reset-attempts inventory-2021` lets onFailure try again"),
        "{text}"
    );
    assert!(
        text.contains("1 to create") && text.contains("1 blocked."),
        "{text}"
    );
    let third = apply(&cloud, &["specs/"]);
    assert_eq!(third.status.code(), Some(1), "{}", describe(&third));
    assert!(
        stderr(&third).contains("1 blocked address(es) were not applied: inventory-2021"),
        "{}",
        describe(&third)
    );
    assert_eq!(cloud.creates(), 2, "orders-to-cdb was created");
    assert_eq!(cloud.accepted("tencent", "ResumeMigrateJob"), 2);

    // The way out: --replace deletes the failed job safely and creates it again.
    let old = cloud.state()["resources"]["inventory-2021"]["remote_id"].clone();
    let (code, plan) = plan_json(&cloud, &["specs/", "--replace", "inventory-2021"]);
    assert_eq!(code, Some(0), "{plan:#}");
    let planned = verbs(change(&plan, "inventory-2021"));
    assert!(planned.contains(&"delete".to_owned()), "{planned:?}");
    let create = planned.iter().position(|verb| verb == "create").unwrap();
    assert!(
        planned[..create].contains(&"delete".to_owned()),
        "{planned:?}"
    );
    let replaced = apply(
        &cloud,
        &["specs/", "--replace", "inventory-2021", "--wait", "checked"],
    );
    assert_eq!(replaced.status.code(), Some(0), "{}", describe(&replaced));
    let new = cloud.state()["resources"]["inventory-2021"]["remote_id"].clone();
    assert!(new.is_string() && new != old, "{old} → {new}");
    assert_eq!(cloud.creates(), 3);
    assert!(deletes(&cloud) >= 1);
    // An unknown --replace address is a usage error, not a silent no-op.
    let unknown = cloud.run(&["plan", "specs/", "--replace", "nope"]);
    assert_eq!(unknown.status.code(), Some(1), "{}", describe(&unknown));
    assert!(
        stderr(&unknown).contains("--replace nope: no selected spec has that address"),
        "{}",
        describe(&unknown)
    );
}

/// Item 13: an imported object's secrets are unknown until migspec sends them; the plan
/// says so and the next apply sends them.
#[test]
fn issue_9_an_imported_jobs_secrets_are_unknown_until_sent() {
    let mut cloud = Cloud::start(None);
    let configured = orders_spec().replace("desired: running", "desired: configured");
    cloud.write("specs/orders-mysql.yaml", &configured);
    let first = apply(&cloud, &["specs/"]);
    assert_eq!(first.status.code(), Some(0), "{}", describe(&first));
    let id = cloud.state()["resources"]["orders-to-cdb"]["remote_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rm = cloud.run(&["state", "rm", "orders-to-cdb"]);
    assert_eq!(rm.status.code(), Some(0), "{}", describe(&rm));
    let import = cloud.run(&[
        "import",
        "TencentDtsMigrateJob",
        "orders-to-cdb",
        &id,
        "--region",
        "ap-guangzhou",
    ]);
    assert_eq!(import.status.code(), Some(0), "{}", describe(&import));
    let state = cloud.state();
    assert!(
        state["resources"]["orders-to-cdb"]
            .get("secret_fingerprints")
            .is_none(),
        "an import records no secret it never sent: {state:#}"
    );

    let plan = cloud.run(&["plan", "specs/", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}", describe(&plan));
    let text = stdout(&plan);
    assert!(
        text.contains("spec.SrcInfo.Password: (sensitive, unknown: will be sent)"),
        "{text}"
    );
    assert!(
        text.contains("spec.DstInfo.Password: (sensitive, unknown: will be sent)"),
        "{text}"
    );
    let modifies = cloud.accepted("tencent", "ModifyMigrateJob");
    let sent = apply(&cloud, &["specs/"]);
    assert_eq!(sent.status.code(), Some(0), "{}", describe(&sent));
    assert_eq!(cloud.accepted("tencent", "ModifyMigrateJob"), modifies + 1);
    let again = cloud.run(&["plan", "specs/", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", describe(&again));
    assert_eq!(cloud.creates(), 1);
}

/// Issue 10 item 6: with `--detailed-exitcode`, 2 means "changes" only: a usage error
/// exits 1 there (and 2 elsewhere, as clap does).
#[test]
fn issue_10_a_usage_error_with_detailed_exitcode_is_not_a_change() {
    let cloud = Cloud::start(None);
    let detailed = cloud.run(&["plan", "--detailed-exitcode", "--bogus"]);
    assert_eq!(detailed.status.code(), Some(1), "{}", describe(&detailed));
    assert!(
        stderr(&detailed).contains("unexpected argument '--bogus'"),
        "{}",
        describe(&detailed)
    );
    let plain = cloud.run(&["plan", "--bogus"]);
    assert_eq!(plain.status.code(), Some(2), "{}", describe(&plain));
    let help = cloud.run(&["plan", "--help", "--detailed-exitcode"]);
    assert_eq!(help.status.code(), Some(0), "{}", describe(&help));
}

/// Issue 10 item 5: a saved plan is recognised by its content, whatever its name, and
/// applying it asks for no `yes` (it was reviewed); applying paths still does.
#[test]
fn issue_10_saved_plans_are_recognised_by_content_and_need_no_confirmation() {
    let mut cloud = Cloud::start(None);
    cloud.write("specs/orders-mysql.yaml", &orders_spec());
    let plan = cloud.run(&["plan", "specs/", "--out", "migspec.plan"]);
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));
    // No terminal and no --auto-approve: paths are refused, the reviewed plan is applied.
    let paths = cloud
        .migspec()
        .args(["apply", "specs/"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(paths.status.code(), Some(1), "{}", describe(&paths));
    assert!(
        stderr(&paths).contains("pass --auto-approve"),
        "{}",
        describe(&paths)
    );
    assert_eq!(cloud.creates(), 0);
    let saved = cloud
        .migspec()
        .args(["apply", "migspec.plan"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(saved.status.code(), Some(0), "{}", describe(&saved));
    assert_eq!(cloud.creates(), 1);
}

/// Issue 10 item 4: a saved plan is bound to the addresses it acts on. Others moving on
/// (a job progressing, a spec added) do not make it stale and are not applied with it; a
/// change to one of its own addresses refuses it, naming the address; it applies once.
#[test]
fn issue_10_a_saved_plan_is_bound_to_the_addresses_it_acts_on() {
    let config = "durations: {migrating: 3s}\n";
    let mut cloud = Cloud::start(Some(config));
    cloud.write(
        "specs/inventory-2021.yaml",
        &Cloud::shipped("inventory-2021.yaml"),
    );
    // inventory-2021 is left migrating: it moves by itself from here on.
    let first = apply(&cloud, &["specs/", "--wait", "running"]);
    assert_eq!(first.status.code(), Some(0), "{}", describe(&first));

    // The reviewed plan creates orders-to-cdb only.
    cloud.write("specs/orders-mysql.yaml", &orders_spec());
    let plan = cloud.run(&["plan", "specs/", "--out", "plan.json"]);
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(cloud.dir().join("plan.json")).unwrap())
            .unwrap();
    let bound: Vec<&String> = saved["binding"]["addresses"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(bound, ["orders-to-cdb"], "{saved:#}");
    // Meanwhile: the running job progresses (its status moves), and a spec is added.
    let before = plan_json(&cloud, &["specs/"]).1;
    let phase = change(&before, "inventory-2021")["phase"].clone();
    let deadline = Instant::now() + Duration::from_secs(30);
    while change(&plan_json(&cloud, &["specs/"]).1, "inventory-2021")["phase"] == phase {
        assert!(Instant::now() < deadline, "inventory-2021 never moved on");
        std::thread::sleep(Duration::from_millis(200));
    }
    cloud.write(
        "specs/catalog-mongodb.yaml",
        &Cloud::shipped("catalog-mongodb.yaml"),
    );
    // And the running job's spec is removed: a forget the saved plan does not hold.
    std::fs::remove_file(cloud.dir().join("specs/inventory-2021.yaml")).unwrap();

    let applied = apply(&cloud, &["plan.json"]);
    assert_eq!(applied.status.code(), Some(0), "{}", describe(&applied));
    assert!(
        stderr(&applied)
            .contains("note: not in the saved plan, so left for the next plan: catalog-mongodb, inventory-2021"),
        "{}",
        describe(&applied)
    );
    assert_eq!(
        cloud.creates(),
        2,
        "orders-to-cdb created, catalog-mongodb not"
    );
    assert!(cloud.state()["resources"]["catalog-mongodb"].is_null());
    assert!(
        cloud.state()["resources"]["inventory-2021"].is_object(),
        "a forget the saved plan did not hold is not applied"
    );

    // Applied once: a second run of the same plan is refused.
    let again = apply(&cloud, &["plan.json"]);
    assert_eq!(again.status.code(), Some(1), "{}", describe(&again));
    assert!(
        stderr(&again).contains("was already applied at"),
        "{}",
        describe(&again)
    );

    // A plan whose own address changes after review is refused, naming it and what changed.
    let plan = cloud.run(&["plan", "specs/", "--out", "plan.json"]);
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));
    let edited =
        Cloud::shipped("catalog-mongodb.yaml").replace("desired: checked", "desired: configured");
    assert_ne!(edited, Cloud::shipped("catalog-mongodb.yaml"));
    cloud.write("specs/catalog-mongodb.yaml", &edited);
    let stale = apply(&cloud, &["plan.json"]);
    assert_eq!(stale.status.code(), Some(1), "{}", describe(&stale));
    assert!(
        stderr(&stale).contains("catalog-mongodb: its spec changed"),
        "{}",
        describe(&stale)
    );
    assert_eq!(cloud.creates(), 2);
}

/// Issue 10 item 7: a pull-request comment fits GitHub (changed addresses only, under
/// 60,000 characters with a pointer to the full plan), the whole plan goes to the job
/// summary, and annotations sit on the spec's own line.
#[test]
fn issue_10_pr_comments_fit_github_and_annotations_point_at_the_spec() {
    let mut cloud = Cloud::start(None);
    // 300 specs, ten documents a file (a file's node budget bounds alias expansion).
    let mut files = vec![String::new(); 30];
    for index in 0..300 {
        let file = &mut files[index / 10];
        if index % 10 > 0 {
            file.push_str("---\n");
        }
        file.push_str(
            &orders_spec()
                .replace("orders-to-cdb", &format!("orders-{index:03}"))
                .replace(
                    "# yaml-language-server: $schema=../schemas/migspec.schema.json\n",
                    "",
                ),
        );
    }
    for (number, text) in files.iter().enumerate() {
        cloud.write(&format!("specs/many-{number:02}.yaml"), text);
    }
    let many = &files[0];
    cloud.write(
        "specs/inventory-2021.yaml",
        &Cloud::shipped("inventory-2021.yaml"),
    );
    let first = apply(&cloud, &["specs/inventory-2021.yaml"]);
    assert_eq!(first.status.code(), Some(0), "{}", describe(&first));

    let summary = cloud.dir().join("summary.md");
    let output = cloud
        .migspec()
        .args(["plan", "specs/", "--format", "markdown"])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let comment = stdout(&output);
    assert!(comment.len() < 60_000, "{} characters", comment.len());
    assert!(
        comment.starts_with("### migspec plan: Plan: 300 to create"),
        "{}",
        &comment[..200]
    );
    assert!(
        comment.contains("1 address without changes."),
        "unchanged ones counted"
    );
    assert!(
        !comment.contains("`inventory-2021`"),
        "unchanged ones not listed"
    );
    assert!(
        comment.contains("The full plan is the workflow's `migspec-plan` artifact"),
        "{}",
        &comment[comment.len().saturating_sub(500)..]
    );
    let full = std::fs::read_to_string(&summary).unwrap();
    assert!(full.len() > 60_000, "the job summary holds the whole plan");
    assert!(full.contains("<code>orders-299</code>: 3 action(s)"));

    let github = cloud.run(&["plan", "specs/", "--format", "github"]);
    let annotations = stdout(&github);
    // orders-007 is the eighth document: its metadata.name line in specs/many-00.yaml.
    let line = many
        .lines()
        .position(|line| line == "  name: orders-007")
        .unwrap()
        + 1;
    assert!(
        annotations.contains(&format!(
            "::notice file=specs/many-00.yaml,line={line},title=orders-007::planned: create, check, start"
        )),
        "{}",
        annotations.lines().take(5).collect::<Vec<_>>().join("\n")
    );
}

/// Issue 12 item 3: `--concurrency` bounds calls, not waiting jobs. With one permit and
/// checks that take seconds, every job is created and checked before the first is started:
/// a job waiting for its check holds no permit.
#[test]
fn issue_12_a_job_waiting_on_its_check_holds_no_concurrency_permit() {
    let config = "durations: {checking: 4s}\n";
    let mut cloud = Cloud::start(Some(config));
    for name in [
        "orders-mysql.yaml",
        "catalog-mongodb.yaml",
        "ledger-postgres.yaml",
    ] {
        cloud.write(&format!("specs/{name}"), &Cloud::shipped(name));
    }
    let mut child = cloud
        .migspec()
        .args(["apply", "specs/", "--auto-approve", "--concurrency", "1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let checks_when_started = loop {
        let starts = cloud.accepted("tencent", "StartMigrateJob");
        let checks = cloud.accepted("tencent", "CreateMigrateCheckJob");
        if starts > 0 || child.try_wait().unwrap().is_some() {
            break checks;
        }
        assert!(Instant::now() < deadline, "no job was ever started");
        std::thread::sleep(Duration::from_millis(20));
    };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        checks_when_started, 3,
        "all three checks ran side by side before the first start"
    );
}

/// Issue 12 item 3, the other half: a call waiting for its action's rate-limit slot holds no
/// permit either. Eight creates paced at 3/s take well over two seconds; with the permits
/// taken around each step (as before), creates queued on their slot held the permits, and
/// the first job's check (and the step end after each wait, which makes no call) queued
/// behind every create — at 200 jobs, creates, then checks, then starts, one action after
/// the other (31.9 s for a floor of 11.5 s). With one permit that shows on eight jobs. Now
/// the first check goes while the last creates still wait for their slots.
#[test]
fn issue_12_calls_queued_on_one_action_do_not_hold_up_another() {
    let mut cloud = Cloud::start(Some("durations: {checking: 100ms}\n"));
    cloud.write(
        "migspec.yaml",
        "pollInterval: 50ms\ntencent: {rateLimitPerSecond: 3}\n",
    );
    let template = Cloud::shipped("orders-mysql.yaml");
    const JOBS: u64 = 8;
    for index in 0..JOBS {
        cloud.write(
            &format!("specs/orders-{index:02}.yaml"),
            &template.replace("orders-to-cdb", &format!("orders-{index:02}")),
        );
    }
    let mut child = cloud
        .migspec()
        .args(["apply", "specs/", "--auto-approve", "--concurrency", "1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    let checks_at_last_create = loop {
        let checks = cloud.accepted("tencent", "CreateMigrateCheckJob");
        if cloud.accepted("tencent", "CreateMigrateJob") == JOBS
            || child.try_wait().unwrap().is_some()
        {
            break checks;
        }
        assert!(Instant::now() < deadline, "the creates never finished");
        std::thread::sleep(Duration::from_millis(20));
    };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(cloud.accepted("tencent", "StartMigrateJob"), JOBS);
    assert!(
        checks_at_last_create >= 1,
        "no check ran while creates waited for their rate-limit slots: \
         {checks_at_last_create} checks when the last create was accepted"
    );
}
