//! Admin endpoints, persistence across restarts, and the in-process API.

mod common;

use common::{Harness, V2018, V2021};
use hyper::Method;
use migspec_emulator::{Emulator, EmulatorConfig, EmulatorError, ManualClock};
use serde_json::json;

#[tokio::test]
async fn health_stats_and_reset() {
    let h = Harness::start().await;
    let (status, health) = h.admin(Method::GET, "/_emulator/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    let job_id = h.create_2018("counted").await;
    h.dts_expect(
        V2018,
        "StartMigrateJob",
        json!({"JobId": job_id}),
        "FailedOperation.StatusInConflict",
        "status 1",
    )
    .await;
    h.dts_ok(V2021, "DescribeMigrationJobs", json!({})).await;
    h.create_group("counted").await;
    let (_, stats) = h.admin(Method::GET, "/_emulator/stats").await;
    assert_eq!(stats["total"]["requests"], 4);
    assert_eq!(stats["total"]["ok"], 3);
    assert_eq!(stats["total"]["business_error"], 1);
    let tencent = &stats["services"]["tencent"]["versions"];
    assert_eq!(tencent["2018-03-30"]["CreateMigrateJob"]["ok"], 1);
    assert_eq!(
        tencent["2018-03-30"]["StartMigrateJob"]["business_error"],
        1
    );
    assert_eq!(tencent["2021-12-06"]["DescribeMigrationJobs"]["ok"], 1);
    assert_eq!(
        stats["services"]["huawei"]["versions"]["v2"]["CreateTaskGroup"]["ok"],
        1
    );
    for outcome in [
        "requests",
        "ok",
        "throttled",
        "auth_error",
        "business_error",
        "injected_fault",
    ] {
        assert!(
            stats["services"]["tencent"]["total"].get(outcome).is_some(),
            "{outcome}"
        );
    }

    let (status, reset) = h.admin(Method::POST, "/_emulator/reset").await;
    assert_eq!((status, reset["reset"].as_bool()), (200, Some(true)));
    assert_eq!(
        h.dts_ok(V2018, "DescribeMigrateJobs", json!({})).await["TotalCount"],
        0
    );
    let (_, list) = h.oms_json(Method::GET, "/taskgroups", &[], None).await;
    assert_eq!(list["count"], 0);
    let (_, stats) = h.admin(Method::GET, "/_emulator/stats").await;
    assert_eq!(
        stats["total"]["requests"], 2,
        "statistics restart from zero"
    );
    let (status, _) = h.admin(Method::GET, "/_emulator/nothing").await;
    assert_eq!(status, 404);
}

/// The entry of `id` in `GET /_emulator/objects`.
fn object<'a>(objects: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    objects["objects"]
        .as_array()
        .and_then(|list| list.iter().find(|entry| entry["id"] == id))
        .unwrap_or_else(|| panic!("{id} is not listed: {objects}"))
}

/// The event names of an object entry.
fn events(entry: &serde_json::Value) -> Vec<&str> {
    entry["events"]
        .as_array()
        .map(|list| list.iter().filter_map(|e| e["event"].as_str()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn objects_lists_live_and_deleted_objects_with_their_history() {
    let h = Harness::start().await;
    let (_, empty) = h.admin(Method::GET, "/_emulator/objects").await;
    assert_eq!(empty["objects"], json!([]));

    let kept = h.create_2018("kept").await;
    let deleted = h.create_2018("deleted").await;
    h.dts_ok(V2018, "DeleteMigrateJob", json!({"JobId": deleted}))
        .await;
    let isolated = h.configured_2021("isolated", "full").await;
    h.dts_ok(V2021, "IsolateMigrateJob", json!({"JobId": isolated}))
        .await;
    h.advance_secs(1);
    h.dts_ok(V2021, "DestroyMigrateJob", json!({"JobId": isolated}))
        .await;
    let group = h.create_group("media migspec:address=media").await;
    h.oms_json(Method::DELETE, &format!("/taskgroups/{group}"), &[], None)
        .await;
    h.advance_secs(5);

    let (status, objects) = h.admin(Method::GET, "/_emulator/objects").await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = objects["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|entry| entry["id"].as_str())
        .collect();
    assert_eq!(ids, [&kept, &deleted, &isolated, &group], "creation order");

    let entry = object(&objects, &kept);
    assert_eq!(entry["service"], "tencent");
    assert_eq!(entry["api"], V2018);
    assert_eq!(entry["region"], common::REGION);
    assert_eq!(entry["name"], "kept");
    assert_eq!(
        entry["tags"],
        json!([{"TagKey": "team", "TagValue": "payments"}])
    );
    assert_eq!(entry["status"], 1);
    assert_eq!(entry["live"], true);
    assert_eq!(entry["deleted_ms"], serde_json::Value::Null);
    assert_eq!(events(entry), ["created"]);
    assert!(entry["created_ms"].as_u64().is_some(), "{entry}");

    // A deleted 2018 job is gone from the API but still listed, from its record.
    let entry = object(&objects, &deleted);
    assert_eq!(
        (entry["live"].as_bool(), &entry["status"]),
        (Some(false), &serde_json::Value::Null)
    );
    assert_eq!(entry["name"], "deleted");
    assert_eq!(events(entry), ["created", "deleted"]);
    assert!(entry["deleted_ms"].as_u64().is_some(), "{entry}");

    let entry = object(&objects, &isolated);
    assert_eq!(entry["api"], V2021);
    assert_eq!(entry["trade_status"], "offlined");
    assert_eq!(entry["live"], false);
    assert_eq!(events(entry), ["created", "isolated", "destroyed"]);
    assert_eq!(
        entry["deleted_ms"], entry["events"][1]["at_ms"],
        "deleted from the isolation on"
    );

    // An OMS group is gone after statuses 8 and 9 and listed from its record.
    let entry = object(&objects, &group);
    assert_eq!(entry["service"], "huawei");
    assert_eq!(entry["project_id"], common::PROJECT);
    assert_eq!(entry["region"], "cn-north-4");
    assert_eq!(entry["description"], "media migspec:address=media");
    assert_eq!(
        (entry["live"].as_bool(), &entry["status"]),
        (Some(false), &serde_json::Value::Null)
    );
    assert_eq!(events(entry), ["created", "deleted"]);

    // Admin reads are not API requests, and reset forgets the history too.
    h.admin(Method::POST, "/_emulator/reset").await;
    let (_, objects) = h.admin(Method::GET, "/_emulator/objects").await;
    assert_eq!(objects["objects"], json!([]));
}

#[tokio::test]
async fn state_dir_keeps_jobs_and_groups_across_restarts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new();
    let config = || common::config(&clock).with_state_dir(dir.path());
    let h = Harness::with(&clock, config()).await;
    let old = h.create_2018("kept-2018").await;
    h.dts_ok(V2018, "CreateMigrateCheckJob", json!({"JobId": old}))
        .await;
    let new = h.configured_2021("kept-2021", "full").await;
    let group = h.create_group("kept-group").await;
    let before = h.job_2018(&old).await;
    h.emulator.shutdown().await;

    let state_file = dir.path().join("emulator-state.json");
    let text = std::fs::read_to_string(&state_file).expect("state file written");
    assert!(
        serde_json::from_str::<serde_json::Value>(&text).is_ok(),
        "the state file is JSON"
    );
    assert!(
        !text.contains("src-secret") && !text.contains("dst-secret") && !text.contains("SRCSK"),
        "no secrets are stored"
    );
    assert!(!std::fs::read_dir(dir.path()).expect("list").any(|entry| {
        entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .ends_with(".tmp")
    }));

    let h = Harness::with(&clock, config()).await;
    let after = h.job_2018(&old).await;
    assert_eq!(after["JobName"], before["JobName"]);
    assert_eq!(after["CreateTime"], before["CreateTime"]);
    h.advance_secs(1);
    assert_eq!(
        h.job_2018(&old).await["Status"],
        4,
        "the check continued across the restart"
    );
    assert_eq!(h.status_2021(&new).await, "created");
    assert_eq!(h.show(&group).await["description"], "kept-group");
    let another = h.create_2018("after-restart").await;
    assert_ne!(another, old);
    h.emulator.shutdown().await;

    // Without a state dir nothing survives.
    let h = Harness::with(&clock, common::config(&clock)).await;
    assert_eq!(
        h.dts_ok(V2018, "DescribeMigrateJobs", json!({})).await["TotalCount"],
        0
    );
}

#[tokio::test]
async fn corrupt_state_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("emulator-state.json"), "{not json").expect("write");
    let error = migspec_emulator::start(EmulatorConfig::default().with_state_dir(dir.path()))
        .await
        .expect_err("refused");
    assert!(
        matches!(error, EmulatorError::StateFormat { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn in_process_api_starts_on_port_0_and_refuses_remote_addresses() {
    let emulator = Emulator::builder()
        .with_rate_limit_per_second(100)
        .start()
        .await
        .expect("start");
    assert!(emulator.url().starts_with("http://127.0.0.1:"));
    assert_ne!(emulator.addr().port(), 0);
    let second = migspec_emulator::start(EmulatorConfig::default())
        .await
        .expect("a second emulator");
    assert_ne!(second.addr(), emulator.addr());
    second.shutdown().await;
    emulator.shutdown().await;

    let remote = EmulatorConfig::default().with_listen("0.0.0.0:0".parse().expect("addr"));
    let error = migspec_emulator::start(remote).await.expect_err("refused");
    assert!(matches!(error, EmulatorError::RemoteNotAllowed { .. }));
    assert!(error.to_string().contains("--allow-remote"));
    let error = migspec_emulator::start(EmulatorConfig::default().with_time_scale(0.0))
        .await
        .expect_err("refused");
    assert!(matches!(error, EmulatorError::InvalidConfig { .. }));
}

#[tokio::test]
async fn default_credentials_work_with_the_system_clock() {
    let emulator = migspec_emulator::start(EmulatorConfig::default())
        .await
        .expect("start");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs();
    let tc3 = common::Tc3 {
        secret_id: migspec_emulator::DEFAULT_TENCENT_SECRET_ID.to_owned(),
        secret_key: migspec_emulator::DEFAULT_TENCENT_SECRET_KEY.to_owned(),
        timestamp: now,
        method: Method::POST,
        query: String::new(),
        content_type: "application/json".to_owned(),
        host: emulator.addr().to_string(),
        service: "dts".to_owned(),
        sign_action: false,
    };
    let body = b"{}";
    let request = hyper::Request::builder()
        .method(Method::POST)
        .uri("/")
        .header("host", emulator.addr().to_string())
        .header("content-type", "application/json")
        .header("x-tc-action", "DescribeMigrationJobs")
        .header("x-tc-version", V2021)
        .header("x-tc-timestamp", now.to_string())
        .header(
            "authorization",
            common::tc3_authorization(&tc3, "DescribeMigrationJobs", body),
        )
        .body(http_body_util::Full::new(hyper::body::Bytes::from_static(
            body,
        )))
        .expect("request");
    let answer = common::send(emulator.addr(), request)
        .await
        .expect("answer");
    assert_eq!(
        answer.json()["Response"]["TotalCount"],
        0,
        "{:?}",
        answer.json()
    );
    let token = hyper::Request::builder()
        .method(Method::GET)
        .uri(format!(
            "/v2/{}/taskgroups",
            migspec_emulator::DEFAULT_HUAWEI_PROJECT_ID
        ))
        .header("host", emulator.addr().to_string())
        .header("x-auth-token", migspec_emulator::DEFAULT_HUAWEI_TOKEN)
        .body(http_body_util::Full::new(hyper::body::Bytes::new()))
        .expect("request");
    assert_eq!(
        common::send(emulator.addr(), token)
            .await
            .expect("answer")
            .status,
        200
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn config_file_drives_durations_and_faults() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("emulator.yaml");
    std::fs::write(
        &file,
        "durations:\n  checking: 5s\nrate_limit_per_second: 1000\nfaults:\n  rules:\n    - match: \"cfg-*\"\n      check_fail: {message: from the config file}\n",
    )
    .expect("write");
    let clock = ManualClock::new();
    let mut config = common::config(&clock);
    config.apply_file(migspec_emulator::ConfigFile::load(&file).expect("config"));
    let h = Harness::with(&clock, config).await;
    let job_id = h.create_2018("cfg-job").await;
    h.dts_ok(V2018, "CreateMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    h.advance_secs(4);
    assert_eq!(h.job_2018(&job_id).await["Status"], 3, "checking lasts 5 s");
    h.advance_secs(1);
    let check = h
        .dts_ok(V2018, "DescribeMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    assert_eq!(check["ErrorMessage"], "from the config file");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"faults": {"internal_error_rate": 2}}"#).expect("write");
    let mut config = EmulatorConfig::default();
    config.apply_file(migspec_emulator::ConfigFile::load(&bad).expect("parses"));
    assert!(matches!(
        migspec_emulator::start(config).await,
        Err(EmulatorError::InvalidConfig { .. })
    ));
}

#[tokio::test]
async fn time_scale_multiplies_durations() {
    let clock = ManualClock::new();
    let h = Harness::with(&clock, common::config(&clock).with_time_scale(3.0)).await;
    let job_id = h.create_2018("slow").await;
    h.dts_ok(V2018, "CreateMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    h.advance_secs(2);
    assert_eq!(h.job_2018(&job_id).await["Status"], 3);
    h.advance_secs(1);
    assert_eq!(h.job_2018(&job_id).await["Status"], 4);
}
