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

// ---------------------------------------------------------------------------------------
// Issue 11 §3: validation gaps found by a mutation run, each through `migspec validate`.

/// Writes `text` as `name` in a fresh directory and runs `migspec validate --format json` on
/// it; returns the exit code, the error diagnostics and the human stderr of a second run.
fn validate_text(name: &str, text: &str) -> (Option<i32>, Vec<serde_json::Value>, String) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write the spec");
    let json = support::migspec()
        .args(["validate", "--format", "json"])
        .arg(&path)
        .output()
        .expect("migspec runs");
    let report: serde_json::Value = serde_json::from_slice(&json.stdout)
        .unwrap_or_else(|error| panic!("{error}: {}", describe(&json)));
    let errors = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["severity"] == "error")
        .cloned()
        .collect();
    let human = support::migspec()
        .arg("validate")
        .arg(&path)
        .output()
        .expect("migspec runs");
    (json.status.code(), errors, stderr(&human))
}

/// The shipped spec `file` with `from` replaced by `to` (which must occur).
fn shipped_with(file: &str, from: &str, to: &str) -> String {
    let text = Cloud::shipped(file);
    assert!(text.contains(from), "`{from}` is not in {file}");
    text.replacen(from, to, 1)
}

/// Asserts one error, with `code`, on `field`, at `line` of the file, and that its message
/// stays short (a 70,000-character value is not echoed back in it).
fn refused_at(
    result: &(Option<i32>, Vec<serde_json::Value>, String),
    code: &str,
    field: &str,
    line: u64,
) {
    let (status, errors, human) = result;
    assert_eq!(*status, Some(1), "{errors:?}\n{human}");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let error = &errors[0];
    assert_eq!(error["code"], code, "{error}");
    assert_eq!(error["field"], field, "{error}");
    assert_eq!(error["line"], line, "{error}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.len() < 300,
        "the message echoes the value: {message:.300}"
    );
    assert!(human.contains(code), "{}", &human[..human.len().min(2_000)]);
}

#[test]
fn issue_11_an_overlong_tencent_user_is_refused() {
    let text = shipped_with(
        "orders-mysql.yaml",
        "User: dts",
        &format!("User: {}", "u".repeat(70_000)),
    );
    let result = validate_text("orders.yaml", &text);
    refused_at(
        &result,
        "migspec::schema::max_length",
        "/spec/SrcInfo/User",
        25,
    );
    assert!(
        result
            .2
            .contains("70000 characters, at most 256 characters allowed"),
        "{}",
        result.2
    );
}

#[test]
fn issue_11_an_overlong_oms_bucket_is_refused() {
    let text = Cloud::shipped("media-archive-oms.yaml");
    let bucket = text
        .lines()
        .find(|line| line.trim_start().starts_with("bucket:"))
        .expect("a bucket line")
        .to_owned();
    let line = text.lines().position(|l| l == bucket).expect("line") as u64 + 1;
    let indent = &bucket[..bucket.len() - bucket.trim_start().len()];
    let text = text.replacen(
        &bucket,
        &format!("{indent}bucket: {}", "b".repeat(70_000)),
        1,
    );
    let result = validate_text("media.yaml", &text);
    let (_, errors, _) = &result;
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0]["field"]
            .as_str()
            .is_some_and(|field| field.ends_with("/bucket")),
        "{errors:#?}"
    );
    refused_at(
        &result,
        "migspec::schema::max_length",
        errors[0]["field"].as_str().unwrap_or_default(),
        line,
    );
}

#[test]
fn issue_11_an_overlong_source_ip_is_refused() {
    let text = shipped_with(
        "orders-mysql.yaml",
        "CvmInstanceId: ins-1a2b3c4d",
        "CvmInstanceId: ins-1a2b3c4d\n    Ip: ",
    );
    let text = text.replacen("    Ip: \n", &format!("    Ip: {}\n", "1".repeat(5_000)), 1);
    let result = validate_text("orders.yaml", &text);
    refused_at(
        &result,
        "migspec::schema::max_length",
        "/spec/SrcInfo/Ip",
        24,
    );
}

#[test]
fn issue_11_a_malformed_vpc_id_is_refused() {
    let text = shipped_with(
        "orders-mysql.yaml",
        "CvmInstanceId: ins-1a2b3c4d",
        "CvmInstanceId: ins-1a2b3c4d\n    VpcId: my-vpc",
    );
    let result = validate_text("orders.yaml", &text);
    refused_at(
        &result,
        "migspec::schema::pattern",
        "/spec/SrcInfo/VpcId",
        24,
    );
}

#[test]
fn issue_11_a_yaml_1_1_directive_is_refused_at_the_directive() {
    let text = format!("%YAML 1.1\n---\n{}", Cloud::shipped("orders-mysql.yaml"));
    let (status, errors, human) = validate_text("orders.yaml", &text);
    assert_eq!(status, Some(1), "{human}");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["code"], "migspec::yaml::version", "{}", errors[0]);
    assert_eq!(errors[0]["line"], 1, "{}", errors[0]);
    assert_eq!(errors[0]["column"], 1, "{}", errors[0]);
    assert!(human.contains("YAML 1.2"), "{human}");
    assert!(human.contains("remove the `%YAML` line"), "{human}");

    // 1.2, the version migspec reads, stays accepted.
    let text = format!("%YAML 1.2\n---\n{}", Cloud::shipped("orders-mysql.yaml"));
    let (status, errors, human) = validate_text("orders.yaml", &text);
    assert_eq!(status, Some(0), "{errors:#?}\n{human}");
}

/// `count` copies of the shipped orders spec as one multi-document file, each with its own name.
fn many_orders(count: usize) -> String {
    let spec = Cloud::shipped("orders-mysql.yaml");
    (0..count)
        .map(|index| spec.replace("name: orders-to-cdb", &format!("name: orders-{index}")))
        .collect::<Vec<_>>()
        .join("---\n")
}

#[test]
fn issue_11_a_large_file_of_ordinary_specs_is_accepted() {
    // Grown to just under the 1 MiB file limit: far more nodes than one document may have.
    // Each copy adds its `---` line and a longer name.
    let one = many_orders(1).len() + 10;
    let count = 1024 * 1024 / one;
    let text = many_orders(count);
    assert!(
        text.len() < 1024 * 1024 && count > 500,
        "{} bytes, {count} specs",
        text.len()
    );
    let (status, errors, human) = validate_text("many.yaml", &text);
    assert_eq!(
        status,
        Some(0),
        "{errors:#?}\n{}",
        &human[..human.len().min(2000)]
    );
    assert!(
        human.contains(&format!("{count} specs in 1 file valid")),
        "{human}"
    );
}

#[test]
fn issue_11_an_alias_bomb_in_one_document_of_many_is_still_refused() {
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for level in 1..7 {
        let prev = level - 1;
        bomb.push_str(&format!(
            "a{level}: &a{level} [{}]\n",
            vec![format!("*a{prev}"); 9].join(", ")
        ));
    }
    let text = format!("{}---\n{bomb}", many_orders(3));
    // The document reaches 20,000 nodes at the second copy of `a3` (7,381 nodes each).
    let line = text[..text.find("a4: &a4").expect("the fifth level")]
        .lines()
        .count() as u64
        + 1;
    let (status, errors, human) = validate_text("bomb.yaml", &text);
    assert_eq!(status, Some(1), "{human}");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["code"], "migspec::yaml::budget", "{}", errors[0]);
    assert_eq!(errors[0]["line"], line, "{}", errors[0]);
    assert!(human.contains("alias bomb"), "{human}");
}
