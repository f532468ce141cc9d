//! Bad input to `migspec plan` / `apply`: each gives one clear message, exit 1, and nothing
//! is applied (no create reaches the emulator, the state is untouched).

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use support::cloud::{Cloud, describe};

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn orders() -> Cloud {
    let mut cloud = Cloud::start(None);
    cloud.write(
        "specs/orders-mysql.yaml",
        &Cloud::shipped("orders-mysql.yaml"),
    );
    cloud
}

/// Runs an apply that must fail with exit 1 and `expected` on stderr, creating nothing.
fn refused(cloud: &Cloud, output: &std::process::Output, expected: &str) {
    assert_eq!(output.status.code(), Some(1), "{}", describe(output));
    let text = stderr(output);
    assert!(
        text.contains(expected),
        "expected `{expected}` in\n{}",
        describe(output)
    );
    assert_eq!(
        text.lines()
            .filter(|line| line.starts_with("error:"))
            .count(),
        1,
        "one message:\n{}",
        describe(output)
    );
    assert_eq!(cloud.creates(), 0, "nothing applied:\n{}", describe(output));
}

#[test]
fn invalid_specs_are_never_planned() {
    let mut cloud = orders();
    let broken = Cloud::shipped("orders-mysql.yaml").replace("MigrateType: 3", "MigratType: 3");
    cloud.write("specs/orders-mysql.yaml", &broken);
    let output = cloud.run(&["apply", "specs/", "--auto-approve"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let text = stderr(&output);
    assert!(text.contains("unknown field `MigratType`"), "{text}");
    assert!(text.contains("specs/orders-mysql.yaml:15:5"), "{text}");
    assert!(text.contains("nothing was planned"), "{text}");
    assert_eq!(cloud.creates(), 0);
    assert!(!cloud.state_path().exists());
}

#[test]
fn an_unreadable_state_file_is_named_and_never_rewritten() {
    let cloud = orders();
    std::fs::create_dir_all(cloud.state_path().parent().unwrap()).unwrap();
    std::fs::write(cloud.state_path(), "{ not json").unwrap();
    let output = cloud.run(&["apply", "specs/", "--auto-approve"]);
    refused(&cloud, &output, ".migspec/state.json is unreadable");
    assert_eq!(
        std::fs::read_to_string(cloud.state_path()).unwrap(),
        "{ not json"
    );
}

#[test]
fn a_held_lock_names_its_holder() {
    // A slow check keeps the first apply (and its lock) busy.
    let mut cloud = Cloud::start(Some("durations: {checking: 30s}\n"));
    cloud.write(
        "specs/orders-mysql.yaml",
        &Cloud::shipped("orders-mysql.yaml"),
    );
    let mut first = cloud
        .migspec()
        .args(["apply", "specs/", "--auto-approve"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while cloud.state()["resources"]["orders-to-cdb"]["remote_id"].is_null() {
        assert!(
            Instant::now() < deadline,
            "the first apply never created its job"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Freeze the holder, so that whatever the state says next was written by the second apply.
    let stop = std::process::Command::new("kill")
        .args(["-STOP", &first.id().to_string()])
        .status()
        .unwrap();
    assert!(stop.success());
    let serial = cloud.state()["serial"].clone();
    let output = cloud.run(&["apply", "specs/", "--auto-approve"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let text = stderr(&output);
    assert!(text.contains("is locked by pid"), "{text}");
    assert!(
        text.contains(&format!("is locked by pid {}", first.id())),
        "{text}"
    );
    assert!(text.contains("which is still running"), "{text}");
    assert!(
        !text.contains("unlock --force"),
        "a live holder is not to be unlocked: {text}"
    );
    assert_eq!(cloud.creates(), 1, "the second apply created nothing");
    assert_eq!(cloud.state()["serial"], serial);
    first.kill().unwrap();
    first.wait().unwrap();
}

#[test]
fn a_wrong_credential_is_refused_before_anything_changes() {
    let cloud = orders();
    let output = cloud
        .migspec()
        .env("TENCENTCLOUD_SECRET_KEY", "not-the-key")
        .args(["apply", "specs/", "--auto-approve"])
        .output()
        .unwrap();
    refused(&cloud, &output, "refused the credentials");
    assert!(stderr(&output).contains("help: check the credentials"));
    assert!(
        !stderr(&output).contains("not-the-key"),
        "secrets are never printed"
    );
}

#[test]
fn an_unreachable_endpoint_is_named() {
    let cloud = orders();
    let output = cloud
        .migspec()
        .env("MIGSPEC_TENCENT_ENDPOINT", "http://127.0.0.1:9")
        .args(["apply", "specs/", "--auto-approve"])
        .output()
        .unwrap();
    refused(
        &cloud,
        &output,
        "cannot reach Tencent Cloud DTS at http://127.0.0.1:9",
    );
}

#[test]
fn an_unset_secret_names_the_variable_and_where_it_is_used() {
    let cloud = orders();
    let output = cloud
        .migspec()
        .env_remove("ORDERS_SRC_PASSWORD")
        .args(["apply", "specs/", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let text = stderr(&output);
    assert!(
        text.contains("specs/orders-mysql.yaml:26:5: orders-to-cdb: /spec/SrcInfo/Password: environment variable `ORDERS_SRC_PASSWORD` is not set"),
        "{text}"
    );
    assert!(text.contains("help: export ORDERS_SRC_PASSWORD"), "{text}");
    assert_eq!(cloud.creates(), 0);
}

#[test]
fn applying_without_a_terminal_needs_auto_approve() {
    let cloud = orders();
    let output = cloud
        .migspec()
        .args(["apply", "specs/"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    refused(&cloud, &output, "pass --auto-approve");
}

#[test]
fn a_file_that_is_not_a_plan_is_refused() {
    let mut cloud = orders();
    cloud.write("plan.json", "{\"format_version\": \"1\"}");
    let output = cloud.run(&["apply", "plan.json", "--auto-approve"]);
    refused(&cloud, &output, "plan.json is not a migspec plan file");
}
