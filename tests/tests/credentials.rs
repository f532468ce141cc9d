//! End-to-end: provider settings read from the files the official SDKs read, not only from
//! the environment (issue 13).

mod support;

use support::cloud::{Cloud, describe};

/// The project of the credentials file (the environment names none).
const FILE_PROJECT: &str = "fedcba9876543210fedcba9876543210";

/// Issue 13, item 15: the shipped OMS spec names no `project_id`; with the project id only
/// in `~/.huaweicloud/credentials` it plans and applies, the task group is created in that
/// project, and the state records it.
#[test]
fn issue_13_a_project_id_only_in_the_huawei_credentials_file_is_used() {
    let mut cloud = Cloud::start(None);
    cloud.write(
        "specs/media-archive-oms.yaml",
        &Cloud::shipped("media-archive-oms.yaml"),
    );
    cloud.write(
        ".huaweicloud/credentials",
        &format!("[basic]\nproject_id = {FILE_PROJECT}\n"),
    );
    let run = |args: &[&str]| {
        cloud
            .migspec()
            .env_remove("HUAWEICLOUD_SDK_PROJECT_ID")
            .env_remove("HUAWEICLOUD_SDK_CREDENTIALS_FILE")
            .args(args)
            .output()
            .expect("migspec runs")
    };
    let plan = run(&["plan", "specs/", "--detailed-exitcode", "--format", "json"]);
    assert_eq!(plan.status.code(), Some(2), "{}", describe(&plan));
    let document: serde_json::Value = serde_json::from_slice(&plan.stdout).expect("JSON plan");
    assert_eq!(document["summary"]["create"], 1, "{}", describe(&plan));

    let apply = run(&["apply", "specs/", "--auto-approve"]);
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));

    let (status, body) = cloud.oms("GET", &format!("/v2/{FILE_PROJECT}/taskgroups"), "");
    assert_eq!(status, 200, "{body}");
    let groups: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(groups["count"], 1, "{body}");

    let state = cloud.state().to_string();
    assert!(
        state.contains(&format!(r#""project_id":"{FILE_PROJECT}""#)),
        "the state records the project used: {state}"
    );
    let again = run(&["plan", "specs/", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", describe(&again));
}

/// Issue 13, item 14: Tencent keys only in the official SDK's `~/.tencentcloud/credentials`
/// are used; a refused key's error names that file.
#[test]
fn issue_13_tencent_keys_in_the_sdk_credentials_file_are_used_and_named_when_refused() {
    let mut cloud = Cloud::start(None);
    cloud.write(
        "specs/inventory-2021.yaml",
        &Cloud::shipped("inventory-2021.yaml"),
    );
    let run = |args: &[&str]| {
        cloud
            .migspec()
            .env_remove("TENCENTCLOUD_SECRET_ID")
            .env_remove("TENCENTCLOUD_SECRET_KEY")
            .env_remove("TCCLI_PROFILE")
            .args(args)
            .output()
            .expect("migspec runs")
    };
    let file = cloud.dir().join(".tencentcloud/credentials");
    std::fs::create_dir_all(file.parent().expect("a parent")).expect("create .tencentcloud");
    std::fs::write(
        &file,
        format!(
            "[default]\nsecret_id = {}\nsecret_key = not-the-key\n",
            support::cloud::TENCENT_ID
        ),
    )
    .expect("write the credentials file");
    let refused = run(&["plan", "specs/"]);
    assert_eq!(refused.status.code(), Some(1), "{}", describe(&refused));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(&format!(
            "the credentials came from the SDK credentials file {}",
            file.display()
        )),
        "{}",
        describe(&refused)
    );
    assert!(!stderr.contains("not-the-key"), "{}", describe(&refused));

    std::fs::write(
        &file,
        format!(
            "[default]\nsecret_id = {}\nsecret_key = {}\n",
            support::cloud::TENCENT_ID,
            support::cloud::TENCENT_KEY
        ),
    )
    .expect("write the credentials file");
    let plan = run(&["plan", "specs/", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}", describe(&plan));
}
