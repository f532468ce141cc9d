//! Safety of spec discovery and of the state commands, end to end (issue 9): symlinked specs
//! are read and never pruned, dangling and looping links refuse the plan; `state unlock
//! --force` never removes a live lock; unknown state fields survive a write and bad format
//! versions are refused; `import` of an owned id is refused; `state mv` renames an address
//! without a re-create; `state reset-attempts` lets `onFailure` try again.

mod support;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::symlink;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use support::cloud::{Cloud, describe};

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn with_specs(config: Option<&str>, names: &[&str]) -> Cloud {
    let mut cloud = Cloud::start(config);
    for name in names {
        cloud.write(&format!("specs/{name}"), &Cloud::shipped(name));
    }
    cloud
}

fn deletes(cloud: &Cloud) -> u64 {
    cloud.accepted("tencent", "DeleteMigrateJob")
        + cloud.accepted("tencent", "DestroyMigrateJob")
        + cloud.accepted("huawei", "DeleteTaskGroup")
}

fn assert_exit(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "{}", describe(output));
}

#[test]
fn issue_9_4_symlinked_specs_are_read_and_links_that_lead_nowhere_refuse_the_plan() {
    let cloud = with_specs(
        None,
        &[
            "orders-mysql.yaml",
            "catalog-mongodb.yaml",
            "sessions-redis.yaml",
        ],
    );
    let dir = cloud.dir().to_path_buf();
    std::fs::create_dir_all(dir.join("specs/nested")).unwrap();
    std::fs::rename(
        dir.join("specs/catalog-mongodb.yaml"),
        dir.join("specs/nested/catalog-mongodb.yaml"),
    )
    .unwrap();
    let apply = cloud.run(&["apply", "specs/", "--auto-approve", "--wait", "none"]);
    assert_exit(&apply, 0);
    assert_eq!(cloud.creates(), 3);

    // The same specs, now through links: a file link, a directory link, and a second link
    // to a file already in the set.
    std::fs::create_dir_all(dir.join("shared")).unwrap();
    std::fs::rename(
        dir.join("specs/orders-mysql.yaml"),
        dir.join("shared/orders-mysql.yaml"),
    )
    .unwrap();
    symlink(
        "../shared/orders-mysql.yaml",
        dir.join("specs/orders-mysql.yaml"),
    )
    .unwrap();
    std::fs::rename(dir.join("specs/nested"), dir.join("linked")).unwrap();
    symlink("../linked", dir.join("specs/nested")).unwrap();
    symlink("orders-mysql.yaml", dir.join("specs/zz-again.yaml")).unwrap();

    let validate = cloud.run(&["validate", "specs/"]);
    assert_exit(&validate, 0);
    let text = stderr(&validate);
    assert!(
        text.contains("3 specs in 3 files valid (1 warning)"),
        "{text}"
    );
    assert!(
        text.contains("`specs/zz-again.yaml` is the same file as `specs/orders-mysql.yaml`"),
        "{text}"
    );

    let prune = cloud.run(&[
        "apply",
        "specs/",
        "--prune",
        "--auto-approve",
        "--wait",
        "none",
    ]);
    assert_exit(&prune, 0);
    assert_eq!(deletes(&cloud), 0, "{}", describe(&prune));
    assert_eq!(cloud.creates(), 3, "{}", describe(&prune));
    assert_eq!(cloud.state()["resources"].as_object().unwrap().len(), 3);

    // A dangling link, a link loop between two files and a directory link to its own
    // ancestor: each is an error naming the link, and plan/apply refuse to plan.
    symlink("../nowhere.yaml", dir.join("specs/gone.yaml")).unwrap();
    symlink("b-loop.yaml", dir.join("specs/a-loop.yaml")).unwrap();
    symlink("a-loop.yaml", dir.join("specs/b-loop.yaml")).unwrap();
    symlink(".", dir.join("specs/cycle")).unwrap();
    let validate = cloud.run(&["validate", "specs/"]);
    assert_exit(&validate, 1);
    let text = stderr(&validate);
    assert!(
        text.contains("`specs/gone.yaml` is a dangling symbolic link"),
        "{text}"
    );
    assert!(
        text.contains("`specs/a-loop.yaml` is a symbolic link loop"),
        "{text}"
    );
    assert!(
        text.contains("`specs/cycle` is a symbolic link loop"),
        "{text}"
    );
    let serial = cloud.state()["serial"].clone();
    let prune = cloud.run(&["apply", "specs/", "--prune", "--auto-approve"]);
    assert_exit(&prune, 1);
    assert!(
        stderr(&prune).contains("nothing was planned"),
        "{}",
        describe(&prune)
    );
    assert_eq!(deletes(&cloud), 0);
    assert_eq!(cloud.state()["serial"], serial, "nothing was written");
}

/// Spawns `migspec apply` with a slow check and waits until it holds the lock and created
/// its job.
fn slow_holder(cloud: &Cloud) -> std::process::Child {
    let mut child = cloud
        .migspec()
        .args(["apply", "specs/", "--auto-approve"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the holder starts");
    let stderr = child.stderr.take().expect("piped stderr");
    // Keep draining it so that the holder never blocks on a full pipe.
    std::thread::spawn(move || for _ in BufReader::new(stderr).lines() {});
    let deadline = Instant::now() + Duration::from_secs(30);
    while cloud.state()["resources"]["orders-to-cdb"]["remote_id"].is_null() {
        assert!(
            Instant::now() < deadline,
            "the first apply never created its job"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

#[test]
fn issue_9_9_unlock_force_refuses_a_live_lock_and_clears_a_dead_ones_record() {
    let cloud = with_specs(Some("durations: {checking: 60s}\n"), &["orders-mysql.yaml"]);
    let mut holder = slow_holder(&cloud);
    let pid = holder.id().to_string();
    let lock_file = cloud.dir().join(".migspec/state.lock");

    let unlock = cloud.run(&["state", "unlock", "--force"]);
    assert_exit(&unlock, 1);
    let text = stderr(&unlock);
    assert!(text.contains(&format!("locked by pid {pid}")), "{text}");
    assert!(text.contains("still running"), "{text}");
    assert!(text.contains("migspec apply specs/"), "{text}");
    assert!(
        std::fs::read_to_string(&lock_file)
            .unwrap()
            .contains(&format!("\"pid\":{pid}")),
        "the live holder's record stays"
    );

    let second = cloud.run(&["apply", "specs/", "--auto-approve"]);
    assert_exit(&second, 1);
    let text = stderr(&second);
    assert!(text.contains(&format!("locked by pid {pid}")), "{text}");
    assert!(text.contains("still running"), "{text}");
    assert!(
        !text.contains("unlock --force"),
        "a live holder is never to be unlocked: {text}"
    );
    assert_eq!(cloud.creates(), 1, "the second apply created nothing");

    // The holder dies without releasing anything: the OS lock goes with it, its record stays.
    holder.kill().unwrap();
    holder.wait().unwrap();
    let unlock = cloud.run(&["state", "unlock", "--force"]);
    assert_exit(&unlock, 0);
    let text = stderr(&unlock);
    assert!(text.contains(&format!("pid {pid}")), "{text}");
    assert!(text.contains("no longer running"), "{text}");
    assert_eq!(std::fs::read_to_string(&lock_file).unwrap(), "");

    let apply = cloud.run(&["apply", "specs/", "--auto-approve", "--wait", "none"]);
    assert_exit(&apply, 0);
    assert_eq!(cloud.creates(), 1, "the re-run continues, never re-creates");
}

#[test]
fn issue_9_10_unknown_state_fields_survive_a_write_and_bad_versions_are_refused() {
    let mut cloud = with_specs(None, &["orders-mysql.yaml"]);
    let apply = cloud.run(&["apply", "specs/", "--auto-approve"]);
    assert_exit(&apply, 0);

    // A newer migspec wrote fields this one does not know.
    let mut state = cloud.state();
    state["future_top"] = serde_json::json!({"kept": true});
    state["resources"]["orders-to-cdb"]["future_field"] = serde_json::json!("keep me");
    state["journal"][0]["future_entry"] = serde_json::json!([1, 2]);
    let first_entry_key = state["journal"][0]["key"].clone();
    let serial = state["serial"].as_u64().unwrap();
    std::fs::write(
        cloud.state_path(),
        serde_json::to_string_pretty(&state).unwrap(),
    )
    .unwrap();

    // An apply that writes the state: the migration is completed.
    let completed =
        Cloud::shipped("orders-mysql.yaml").replace("desired: running", "desired: completed");
    cloud.write("specs/orders-mysql.yaml", &completed);
    let apply = cloud.run(&["apply", "specs/", "--auto-approve"]);
    assert_exit(&apply, 0);
    let state = cloud.state();
    assert!(state["serial"].as_u64().unwrap() > serial, "{state}");
    assert_eq!(state["future_top"], serde_json::json!({"kept": true}));
    assert_eq!(
        state["resources"]["orders-to-cdb"]["future_field"],
        "keep me"
    );
    let entry = state["journal"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["key"] == first_entry_key)
        .expect("the first journal entry is kept");
    assert_eq!(entry["future_entry"], serde_json::json!([1, 2]));

    // Format version 0 and a missing one are refused, naming the file; nothing is written.
    for (edit, expected) in [
        (serde_json::json!(0), "format version 0"),
        (serde_json::Value::Null, "has no format_version"),
    ] {
        let mut bad = state.clone();
        if edit.is_null() {
            bad.as_object_mut().unwrap().remove("format_version");
        } else {
            bad["format_version"] = edit;
        }
        let text = serde_json::to_string_pretty(&bad).unwrap();
        std::fs::write(cloud.state_path(), &text).unwrap();
        for args in [
            &["plan", "specs/"][..],
            &["apply", "specs/", "--auto-approve"],
            &["state", "rm", "orders-to-cdb"],
        ] {
            let output = cloud.run(args);
            assert_exit(&output, 1);
            let message = stderr(&output);
            assert!(message.contains(expected), "{args:?}: {message}");
            assert!(
                message.contains(".migspec/state.json"),
                "{args:?}: {message}"
            );
            assert_eq!(
                std::fs::read_to_string(cloud.state_path()).unwrap(),
                text,
                "{args:?} wrote nothing"
            );
        }
    }

    // A newer format is never written over.
    let mut newer = state.clone();
    newer["format_version"] = serde_json::json!(2);
    let text = serde_json::to_string_pretty(&newer).unwrap();
    std::fs::write(cloud.state_path(), &text).unwrap();
    for args in [
        &["apply", "specs/", "--auto-approve"][..],
        &["state", "rm", "orders-to-cdb"],
        &["state", "mv", "orders-to-cdb", "orders-renamed"],
        &["state", "reset-attempts", "orders-to-cdb"],
    ] {
        let output = cloud.run(args);
        assert_exit(&output, 1);
        assert!(
            stderr(&output).contains("has format version 2"),
            "{args:?}: {}",
            describe(&output)
        );
        assert_eq!(std::fs::read_to_string(cloud.state_path()).unwrap(), text);
    }
}

#[test]
fn issue_9_2_import_of_an_id_another_address_manages_is_refused() {
    let cloud = with_specs(None, &["orders-mysql.yaml"]);
    let apply = cloud.run(&["apply", "specs/", "--auto-approve", "--wait", "none"]);
    assert_exit(&apply, 0);
    let before = cloud.state();
    let id = before["resources"]["orders-to-cdb"]["remote_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let import = cloud.run(&[
        "import",
        "TencentDtsMigrateJob",
        "orders-copy",
        &id,
        "--region",
        "ap-guangzhou",
    ]);
    assert_exit(&import, 1);
    let text = stderr(&import);
    assert!(
        text.contains(&format!("`{id}` is already managed by `orders-to-cdb`")),
        "{text}"
    );
    assert!(
        text.contains("migspec state mv orders-to-cdb orders-copy"),
        "{text}"
    );
    assert!(import.stdout.is_empty(), "no spec is printed");
    assert_eq!(cloud.state(), before, "the state is untouched");
}

#[test]
fn issue_9_7_state_mv_renames_an_address_and_the_next_plan_creates_nothing() {
    let mut cloud = with_specs(None, &["orders-mysql.yaml", "catalog-mongodb.yaml"]);
    let apply = cloud.run(&["apply", "specs/", "--auto-approve"]);
    assert_exit(&apply, 0);
    let before = cloud.state();
    let record = before["resources"]["orders-to-cdb"].clone();

    // Refusals name the addresses.
    let unknown = cloud.run(&["state", "mv", "nope", "orders-renamed"]);
    assert_exit(&unknown, 1);
    assert!(
        stderr(&unknown)
            .contains("`nope` is not in the state (recorded: catalog-mongodb, orders-to-cdb)"),
        "{}",
        describe(&unknown)
    );
    let taken = cloud.run(&["state", "mv", "orders-to-cdb", "catalog-mongodb"]);
    assert_exit(&taken, 1);
    assert!(
        stderr(&taken).contains("`catalog-mongodb` is already recorded"),
        "{}",
        describe(&taken)
    );
    assert_eq!(cloud.state(), before, "refusals write nothing");

    let mv = cloud.run(&["state", "mv", "orders-to-cdb", "orders-renamed"]);
    assert_exit(&mv, 0);
    let text = stderr(&mv);
    assert!(
        text.contains("Moved orders-to-cdb to orders-renamed"),
        "{text}"
    );
    assert!(
        text.contains("metadata.name: orders-renamed"),
        "the next step is said: {text}"
    );
    let state = cloud.state();
    assert!(state["resources"]["orders-to-cdb"].is_null(), "{state}");
    assert_eq!(state["resources"]["orders-renamed"], record);
    let last = state["journal"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["address"], "orders-renamed");
    assert_eq!(last["action"], "state mv");
    assert_eq!(last["remote_id"], record["remote_id"]);

    // The spec renamed the same way: the plan shows no create, and nothing is forgotten.
    let renamed = Cloud::shipped("orders-mysql.yaml").replace(
        "metadata:\n  name: orders-to-cdb",
        "metadata:\n  name: orders-renamed",
    );
    assert_ne!(renamed, Cloud::shipped("orders-mysql.yaml"));
    cloud.write("specs/orders-mysql.yaml", &renamed);
    let plan = cloud.run(&["plan", "specs/", "--format", "json"]);
    assert_exit(&plan, 0);
    let document: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(document["summary"]["create"], 0, "{document}");
    assert_eq!(document["summary"]["delete"], 0, "{document}");
    assert!(document["forget"].is_null(), "{document}");
    let apply = cloud.run(&["apply", "specs/", "--auto-approve"]);
    assert_exit(&apply, 0);
    assert_eq!(cloud.creates(), 2);
    assert_eq!(
        cloud.state()["resources"]["orders-renamed"]["remote_id"],
        record["remote_id"]
    );
}

#[test]
fn issue_9_12_reset_attempts_lets_on_failure_try_again() {
    // inventory-2021 allows 2 resumes; the migration needs four.
    let config = r#"
faults:
  rules:
    - match: "inventory-*"
      fail_at_percent: 30
      resumes_needed: 4
      failure: resumable
      error_message: "loader lost its connection"
"#;
    let cloud = with_specs(Some(config), &["inventory-2021.yaml"]);
    let apply = cloud.run(&["apply", "specs/", "--auto-approve"]);
    assert_exit(&apply, 1);
    assert_eq!(cloud.state()["resources"]["inventory-2021"]["attempts"], 2);
    let resumes = cloud.accepted("tencent", "ResumeMigrateJob");

    let unknown = cloud.run(&["state", "reset-attempts", "inventory"]);
    assert_exit(&unknown, 1);
    assert!(
        stderr(&unknown).contains("`inventory` is not in the state (recorded: inventory-2021)"),
        "{}",
        describe(&unknown)
    );

    let reset = cloud.run(&["state", "reset-attempts", "inventory-2021"]);
    assert_exit(&reset, 0);
    assert!(
        stderr(&reset).contains("inventory-2021: attempts 2 → 0"),
        "{}",
        describe(&reset)
    );
    assert_eq!(cloud.state()["resources"]["inventory-2021"]["attempts"], 0);

    // onFailure resumes again, up to maxAttempts once more: two more resumes (the planned
    // one counts as the first) are the four the migration needs.
    let apply = cloud.run(&["apply", "specs/", "--auto-approve"]);
    assert_exit(&apply, 0);
    let plan = String::from_utf8_lossy(&apply.stdout);
    assert!(plan.contains("(attempt 1 of 2"), "{}", describe(&apply));
    assert!(
        stderr(&apply).contains("recovering per onFailure, attempt 2"),
        "{}",
        describe(&apply)
    );
    assert_eq!(cloud.accepted("tencent", "ResumeMigrateJob"), resumes + 2);
    assert!(
        stderr(&apply).contains("inventory-2021: ✔ matches its spec"),
        "{}",
        describe(&apply)
    );
}
