//! Fault injection: failing checks, failing migrations, resumes, and global faults.

mod common;

use std::time::{Duration, Instant};

use common::{Harness, V2018, V2021};
use hyper::Method;
use migspec_emulator::{
    ActionFaults, CheckFailure, FailureKind, FaultConfig, FaultRule, ManualClock, Service,
};
use serde_json::json;

async fn with_rules(rules: Vec<FaultRule>) -> Harness {
    let clock = ManualClock::new();
    let config = common::config(&clock).with_faults(FaultConfig {
        rules,
        ..FaultConfig::default()
    });
    Harness::with(&clock, config).await
}

#[tokio::test]
async fn check_failure_2018_reports_the_error_and_status_5() {
    let h = with_rules(vec![
        FaultRule::matching("bad-*")
            .check_fails(Some("source database unreachable: connect timeout")),
    ])
    .await;
    let job_id = h.create_2018("bad-source").await;
    h.dts_ok(V2018, "CreateMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    h.advance_secs(1);
    let check = h
        .dts_ok(V2018, "DescribeMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    assert_eq!(check["Status"], "finished");
    assert_eq!(check["CheckFlag"], 0);
    assert_eq!(check["ErrorCode"], -1);
    assert_eq!(
        check["ErrorMessage"],
        "source database unreachable: connect timeout"
    );
    let job = h.job_2018(&job_id).await;
    assert_eq!(job["Status"], 5);
    assert!(
        job["ErrorInfo"][0]["ErrorLog"]
            .as_str()
            .expect("log")
            .contains("connect timeout")
    );
    h.dts_expect(
        V2018,
        "StartMigrateJob",
        json!({"JobId": job_id}),
        "FailedOperation.StatusInConflict",
        "status 5",
    )
    .await;
    // Other names are not affected.
    let good = h.create_2018("good").await;
    h.dts_ok(V2018, "CreateMigrateCheckJob", json!({"JobId": good}))
        .await;
    h.advance_secs(1);
    assert_eq!(h.job_2018(&good).await["Status"], 4);
}

#[tokio::test]
async fn check_failure_2021_has_a_failed_check_step_and_can_pass_later() {
    let rule = FaultRule {
        check_fail: Some(CheckFailure {
            message: Some("binlog_format must be ROW".to_owned()),
            times: Some(1),
            step: Some("BinlogParamCheck".to_owned()),
        }),
        ..FaultRule::matching("orders")
    };
    let h = with_rules(vec![rule]).await;
    let job_id = h.configured_2021("orders", "full").await;
    h.dts_ok(V2021, "CreateMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    h.advance_secs(1);
    let check = h
        .dts_ok(V2021, "DescribeMigrationCheckJob", json!({"JobId": job_id}))
        .await;
    assert_eq!(check["CheckFlag"], "checkNotPass");
    assert_eq!(check["Status"], "failed");
    assert_eq!(check["BriefMsg"], "binlog_format must be ROW");
    let failed: Vec<&serde_json::Value> = check["StepInfo"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["StepStatus"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["StepId"], "BinlogParamCheck");
    assert_eq!(failed[0]["DetailCheckItems"][0]["CheckResult"], "failed");
    assert_eq!(
        failed[0]["DetailCheckItems"][0]["FailureReason"],
        "binlog_format must be ROW"
    );
    let detail = h.detail_2021(&job_id).await;
    assert_eq!(detail["Status"], "checkNotPass");
    assert_eq!(detail["BriefMsg"], "binlog_format must be ROW");
    assert_eq!(detail["CheckStepInfo"]["Progress"]["Status"], "failed");
    // `times: 1`: the second check passes.
    h.dts_ok(V2021, "CreateMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    h.advance_secs(1);
    assert_eq!(
        h.dts_ok(V2021, "DescribeMigrationCheckJob", json!({"JobId": job_id}))
            .await["CheckFlag"],
        "checkPass"
    );
}

#[tokio::test]
async fn migration_failure_2018_is_status_10_and_a_restart_succeeds() {
    let h = with_rules(vec![
        FaultRule::matching("flaky")
            .fail_at(40)
            .for_service(Service::Tencent),
    ])
    .await;
    let job_id = h.create_2018("flaky").await;
    h.dts_ok(V2018, "CreateMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    h.advance_secs(1);
    h.dts_ok(V2018, "StartMigrateJob", json!({"JobId": job_id}))
        .await;
    h.advance(Duration::from_millis(300));
    assert_eq!(h.job_2018(&job_id).await["Status"], 7);
    h.advance_secs(1);
    let job = h.job_2018(&job_id).await;
    assert_eq!(job["Status"], 10);
    assert_eq!(job["Detail"]["Progress"], "40");
    assert_eq!(
        job["Detail"]["StepInfo"][0]["Status"], 2,
        "the dumper step failed"
    );
    assert!(
        job["ErrorInfo"][0]["ErrorLog"]
            .as_str()
            .expect("log")
            .contains("Duplicate entry")
    );
    assert_ne!(job["EndTime"], "0000-00-00 00:00:00");
    // 2018 has no resume: check and start again (the rule needed one failure).
    h.dts_ok(V2018, "CreateMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    h.advance_secs(1);
    h.dts_ok(V2018, "StartMigrateJob", json!({"JobId": job_id}))
        .await;
    h.advance_secs(2);
    assert_eq!(h.job_2018(&job_id).await["Status"], 8);
}

#[tokio::test]
async fn migration_failure_2021_needs_resumes() {
    let rule = FaultRule {
        error_message: Some("loader lost its connection".to_owned()),
        ..FaultRule::matching("orders").fail_at(30).resumes_needed(2)
    };
    let h = with_rules(vec![rule]).await;
    let job_id = h.configured_2021("orders", "full").await;
    h.dts_ok(V2021, "CreateMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    h.advance_secs(1);
    h.dts_ok(V2021, "StartMigrateJob", json!({"JobId": job_id}))
        .await;
    h.advance_secs(1);
    let detail = h.detail_2021(&job_id).await;
    assert_eq!(detail["Status"], "resumableErr");
    assert_eq!(detail["BriefMsg"], "loader lost its connection");
    assert_eq!(
        detail["ErrorInfo"][0]["ErrorLog"]
            .as_str()
            .map(|l| l.contains("loader lost its connection")),
        Some(true)
    );
    let failed_step = &detail["StepInfo"]["StepInfo"][0];
    assert_eq!(
        (
            failed_step["Status"].as_str(),
            failed_step["Percent"].as_i64()
        ),
        (Some("failed"), Some(60))
    );
    assert_eq!(
        failed_step["Errors"][0]["Message"],
        "loader lost its connection"
    );
    assert!(
        detail["Action"]["AllowedAction"]
            .as_array()
            .expect("actions")
            .contains(&json!("resume"))
    );
    h.dts_ok(
        V2021,
        "ResumeMigrateJob",
        json!({"JobId": job_id, "ResumeOption": "normal"}),
    )
    .await;
    assert_eq!(h.status_2021(&job_id).await, "resuming");
    h.advance_secs(3);
    assert_eq!(
        h.status_2021(&job_id).await,
        "resumableErr",
        "the second attempt fails too"
    );
    h.dts_ok(V2021, "ResumeMigrateJob", json!({"JobId": job_id}))
        .await;
    h.advance_secs(3);
    let detail = h.detail_2021(&job_id).await;
    assert_eq!(detail["Status"], "success", "{detail}");
    assert_eq!(detail["ErrorInfo"], json!([]));
}

#[tokio::test]
async fn fatal_failure_2021_is_failed_and_only_redis_can_resume() {
    let h = with_rules(vec![
        FaultRule::matching("fatal")
            .fail_at(50)
            .failure(FailureKind::Fatal),
    ])
    .await;
    let job_id = h.configured_2021("fatal", "full").await;
    h.dts_ok(V2021, "CreateMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    h.advance_secs(1);
    h.dts_ok(V2021, "StartMigrateJob", json!({"JobId": job_id}))
        .await;
    h.advance_secs(1);
    assert_eq!(h.status_2021(&job_id).await, "failed");
    h.dts_expect(
        V2021,
        "ResumeMigrateJob",
        json!({"JobId": job_id, "ResumeOption": "normal"}),
        "FailedOperation.StatusInConflict",
        "redis",
    )
    .await;
}

#[tokio::test]
async fn oms_migration_failure_and_retry_of_failed_objects_only() {
    let h = with_rules(vec![FaultRule::matching("media-*").fail_at(40)]).await;
    let group_id = h.create_group("media-archive").await;
    h.advance_secs(3);
    let group = h.show(&group_id).await;
    assert_eq!(group["status"], 5);
    let total = group["total_num"].as_u64().expect("total");
    let succeeded = group["success_num"].as_u64().expect("success");
    let failed = group["fail_num"].as_u64().expect("fail");
    assert_eq!(succeeded, total * 4 / 10);
    assert!(failed > 0);
    assert_eq!(succeeded + failed, total);
    assert_eq!(group["error_reason"]["error_code"], "TRF.0001");
    assert!(
        group["error_reason"]["error_msg"]
            .as_str()
            .expect("msg")
            .contains(&failed.to_string())
    );
    assert_eq!(group["failed_object_record"]["result"], true);
    assert!(group["failed_task_num"].as_u64().expect("failed tasks") > 0);
    let path = format!("/taskgroups/{group_id}/retry");
    let (status, _) = h
        .oms_json(Method::PUT, &path, &[], Some(json!({"src_ak": "SRCAK", "src_sk": "SRCSK", "dst_ak": "DSTAK", "dst_sk": "DSTSK", "migrate_failed_object": true})))
        .await;
    assert_eq!(status, 200);
    let group = h.show(&group_id).await;
    assert_eq!(
        group["status"], 2,
        "failed objects only: the tasks exist, no re-listing"
    );
    assert_eq!(group["fail_num"], 0);
    assert_eq!(
        group["success_num"].as_u64(),
        Some(succeeded),
        "what succeeded is not redone"
    );
    h.advance_secs(1);
    let group = h.show(&group_id).await;
    assert_eq!(group["status"], 6);
    assert_eq!(group["success_num"].as_u64(), Some(total));
    assert_eq!(group["skip_num"], 0);
    assert_eq!(group["error_reason"]["error_code"], "");
}

#[tokio::test]
async fn oms_full_retry_skips_objects_already_migrated() {
    let h = with_rules(vec![FaultRule::matching("media-*").fail_at(40)]).await;
    let group_id = h.create_group("media-archive").await;
    h.advance_secs(3);
    let before = h.show(&group_id).await;
    let succeeded = before["success_num"].as_u64().expect("success");
    let (status, _) = h
        .oms_json(
            Method::PUT,
            &format!("/taskgroups/{group_id}/retry"),
            &[],
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        h.show(&group_id).await["status"],
        1,
        "a full retry lists the objects again"
    );
    h.advance_secs(3);
    let group = h.show(&group_id).await;
    assert_eq!(group["status"], 6);
    assert_eq!(group["skip_num"].as_u64(), Some(succeeded));
    assert_eq!(
        group["success_num"].as_u64().expect("success") + succeeded,
        group["total_num"].as_u64().expect("total")
    );
}

#[tokio::test]
async fn oms_task_creation_failure_is_status_4_and_retry_recovers() {
    let rule = FaultRule {
        check_fail: Some(CheckFailure {
            times: Some(1),
            ..CheckFailure::default()
        }),
        ..FaultRule::matching("nope")
    };
    let h = with_rules(vec![rule]).await;
    let group_id = h.create_group("nope").await;
    h.advance_secs(2);
    let group = h.show(&group_id).await;
    assert_eq!(group["status"], 4);
    assert_eq!(group["error_reason"]["error_code"], "TRF.0051");
    let (status, _) = h
        .oms_json(
            Method::PUT,
            &format!("/taskgroups/{group_id}/retry"),
            &[],
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200);
    h.advance_secs(2);
    assert_eq!(h.show(&group_id).await["status"], 6);
}

async fn with_global(faults: FaultConfig) -> Harness {
    let clock = ManualClock::new();
    Harness::with(&clock, common::config(&clock).with_faults(faults)).await
}

#[tokio::test]
async fn internal_errors_are_injected_before_any_change() {
    let h = with_global(FaultConfig {
        internal_error_rate: 1.0,
        seed: Some(1),
        ..FaultConfig::default()
    })
    .await;
    h.dts_expect(
        V2018,
        "CreateMigrateJob",
        common::create_2018("x"),
        "InternalError",
        "internal error",
    )
    .await;
    let (status, json) = h
        .oms_json(
            Method::POST,
            "/taskgroups",
            &[],
            Some(common::create_group("x")),
        )
        .await;
    assert_eq!(status, 500);
    assert!(json["error_code"].is_string() && json["error_msg"].is_string());
    let (_, stats) = h.admin(Method::GET, "/_emulator/stats").await;
    assert_eq!(stats["total"]["injected_fault"], 2);
    // Authentication still comes first.
    let mut tc3 = h.tc3();
    tc3.secret_key = "wrong".to_owned();
    let answer = h
        .dts_signed(
            &tc3,
            V2018,
            "DescribeMigrateJobs",
            Some(common::REGION),
            b"{}",
        )
        .await;
    assert_eq!(
        answer.json()["Response"]["Error"]["Code"],
        "AuthFailure.SignatureFailure"
    );
}

#[tokio::test]
async fn dropped_connections_get_no_answer() {
    let h = with_global(FaultConfig {
        drop_connection_rate: 1.0,
        ..FaultConfig::default()
    })
    .await;
    let body = serde_json::to_vec(&json!({})).expect("json");
    let tc3 = h.tc3();
    let authorization = common::tc3_authorization(&tc3, "DescribeMigrateJobs", &body);
    let request = hyper::Request::builder()
        .method(Method::POST)
        .uri("/")
        .header("host", h.host())
        .header("content-type", "application/json")
        .header("x-tc-action", "DescribeMigrateJobs")
        .header("x-tc-version", V2018)
        .header("x-tc-region", common::REGION)
        .header("x-tc-timestamp", tc3.timestamp.to_string())
        .header("authorization", authorization)
        .body(http_body_util::Full::new(hyper::body::Bytes::from(body)))
        .expect("request");
    assert!(
        common::send(h.addr(), request).await.is_err(),
        "the connection is closed without a response"
    );
    let (status, health) = h.admin(Method::GET, "/_emulator/health").await;
    assert_eq!(
        (status, health["status"].as_str()),
        (200, Some("ok")),
        "admin endpoints are never faulted"
    );
}

#[tokio::test]
async fn dropped_responses_still_take_effect() {
    let h = with_global(FaultConfig {
        drop_response_rate: 1.0,
        ..FaultConfig::default()
    })
    .await;
    let body = serde_json::to_vec(&common::create_group("created-anyway")).expect("json");
    let path = format!("/v2/{}/taskgroups", common::PROJECT);
    let (_, headers) = common::sdk_sign(
        common::AK,
        common::SK,
        &Method::POST,
        &path,
        &[],
        &h.host(),
        &common::sdk_date(h.clock.now_secs()),
        &body,
    );
    let mut builder = hyper::Request::builder().method(Method::POST).uri(&path);
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let request = builder
        .body(http_body_util::Full::new(hyper::body::Bytes::from(body)))
        .expect("request");
    assert!(common::send(h.addr(), request).await.is_err());
    let (_, stats) = h.admin(Method::GET, "/_emulator/stats").await;
    assert_eq!(
        stats["services"]["huawei"]["versions"]["v2"]["CreateTaskGroup"]["injected_fault"],
        1
    );
}

#[tokio::test]
async fn latency_is_added_to_api_answers() {
    let h = with_global(FaultConfig {
        latency: migspec_emulator::Latency::Fixed(Duration::from_millis(150)),
        ..FaultConfig::default()
    })
    .await;
    let started = Instant::now();
    h.dts_ok(V2018, "DescribeMigrateJobs", json!({})).await;
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn seeded_random_faults_are_reproducible() {
    let mut outcomes = Vec::new();
    for _ in 0..2 {
        let h = with_global(FaultConfig {
            internal_error_rate: 0.5,
            seed: Some(42),
            ..FaultConfig::default()
        })
        .await;
        let mut run = Vec::new();
        for _ in 0..12 {
            run.push(
                h.dts(V2021, "DescribeMigrationJobs", json!({}))
                    .await
                    .get("Error")
                    .is_some(),
            );
        }
        outcomes.push(run);
    }
    assert_eq!(outcomes[0], outcomes[1]);
    assert!(
        outcomes[0].iter().any(|e| *e) && outcomes[0].iter().any(|e| !*e),
        "{:?}",
        outcomes[0]
    );
}

#[tokio::test]
async fn injected_throttling_happens_whatever_the_rate_limit() {
    let h = with_global(FaultConfig {
        throttle_rate: 1.0,
        ..FaultConfig::default()
    })
    .await;
    let (code, message) = h.dts_err(V2018, "DescribeMigrateJobs", json!({})).await;
    assert_eq!(code, "RequestLimitExceeded", "{message}");
    h.oms_expect(
        Method::GET,
        "/taskgroups",
        None,
        429,
        "APIGW.0308",
        "throttling threshold",
    )
    .await;
    let (_, stats) = h.admin(Method::GET, "/_emulator/stats").await;
    assert_eq!(
        (
            stats["total"]["injected_fault"].as_u64(),
            stats["total"]["throttled"].as_u64()
        ),
        (Some(2), Some(0)),
        "injected throttles are counted as injected faults, not as rate-limit refusals: {stats}"
    );
}

#[tokio::test]
async fn faults_can_be_set_per_action_and_per_api_version() {
    let h = with_global(FaultConfig {
        actions: std::collections::BTreeMap::from([
            (
                "DescribeMigrateJobs".to_owned(),
                ActionFaults {
                    internal_error_rate: Some(1.0),
                    ..ActionFaults::default()
                },
            ),
            (
                "2021-12-06/DescribeMigrationJobs".to_owned(),
                ActionFaults {
                    throttle_rate: Some(1.0),
                    ..ActionFaults::default()
                },
            ),
            (
                "ListTaskGroup".to_owned(),
                ActionFaults {
                    internal_error_rate: Some(1.0),
                    ..ActionFaults::default()
                },
            ),
        ]),
        ..FaultConfig::default()
    })
    .await;
    let (code, _) = h.dts_err(V2018, "DescribeMigrateJobs", json!({})).await;
    assert_eq!(code, "InternalError");
    let (code, _) = h.dts_err(V2021, "DescribeMigrationJobs", json!({})).await;
    assert_eq!(code, "RequestLimitExceeded");
    // Other actions are untouched.
    h.create_2018("untouched").await;
    let (status, _) = h.oms_json(Method::GET, "/taskgroups", &[], None).await;
    assert_eq!(status, 500);
    let (status, body) = h
        .oms_json(
            Method::POST,
            "/taskgroups",
            &[],
            Some(common::create_group("fine")),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn latency_is_drawn_from_its_range() {
    let h = with_global(FaultConfig {
        seed: Some(3),
        latency: "60ms..120ms".parse().expect("a range"),
        ..FaultConfig::default()
    })
    .await;
    for n in 0..4 {
        let started = Instant::now();
        h.dts_ok(V2018, "DescribeMigrateJobs", json!({"Limit": 10 + n}))
            .await;
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(60) && elapsed < Duration::from_secs(2),
            "request {n} took {elapsed:?}, outside 60ms..120ms plus scheduling"
        );
    }
}

/// Sends `DescribeMigrateJobs` with `Offset` = each of `offsets`, returning the error
/// code of each that failed.
async fn failures_by_offset(
    h: &Harness,
    offsets: &[u64],
) -> std::collections::BTreeMap<u64, Option<String>> {
    let mut failed = std::collections::BTreeMap::new();
    for &offset in offsets {
        let response = h
            .dts(V2018, "DescribeMigrateJobs", json!({"Offset": offset}))
            .await;
        let code = response["Error"]["Code"].as_str().map(str::to_owned);
        failed.insert(offset, code);
    }
    failed
}

#[tokio::test]
async fn seeded_faults_follow_the_request_not_its_place_in_the_run() {
    let faults = FaultConfig {
        seed: Some(42),
        internal_error_rate: 0.5,
        ..FaultConfig::default()
    };
    let forward: Vec<u64> = (0..16).collect();
    // No rate limit: the manual clock stands still, and only injected faults are compared.
    let unlimited = || {
        let clock = ManualClock::new();
        let config = common::config(&clock)
            .with_faults(faults.clone())
            .with_rate_limit_per_second(0);
        (clock, config)
    };
    let (clock, config) = unlimited();
    let a = Harness::with(&clock, config).await;
    let in_order = failures_by_offset(&a, &forward).await;
    // Another emulator with the same seed, the requests in another order and other
    // requests (another job's calls, a concurrent client) in between.
    let (clock, config) = unlimited();
    let b = Harness::with(&clock, config).await;
    let mut shuffled = Vec::new();
    for &offset in forward.iter().rev() {
        b.dts(V2018, "DescribeMigrateJobs", json!({"Limit": offset + 1}))
            .await;
        shuffled.push(offset);
    }
    let reordered = failures_by_offset(&b, &shuffled).await;
    assert_eq!(in_order, reordered);
    assert!(
        in_order.values().any(Option::is_some) && in_order.values().any(Option::is_none),
        "a rate of 0.5 fails some and passes some: {in_order:?}"
    );
    assert!(
        in_order
            .values()
            .flatten()
            .all(|code| code == "InternalError"),
        "{in_order:?}"
    );
    // A reset emulator replays the same faults.
    a.admin(Method::POST, "/_emulator/reset").await;
    assert_eq!(failures_by_offset(&a, &forward).await, in_order);
}

#[tokio::test]
async fn faults_are_read_and_replaced_through_the_admin_api() {
    let h = Harness::start().await;
    let (status, faults) = h.admin(Method::GET, "/_emulator/faults").await;
    assert_eq!(status, 200);
    assert_eq!(faults["internal_error_rate"], 0.0);
    assert_eq!(faults["latency"], "0s");
    h.dts_ok(V2018, "DescribeMigrateJobs", json!({})).await;

    let (status, body) = h
        .admin_with(
            Method::PUT,
            "/_emulator/faults",
            &json!({"seed": 1, "internal_error_rate": 1.0, "latency": "0ms..5ms",
                    "actions": {"CreateMigrateJob": {"internal_error_rate": 0.0}}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["latency"], "0s..5ms");
    let (code, _) = h.dts_err(V2018, "DescribeMigrateJobs", json!({})).await;
    assert_eq!(code, "InternalError");
    h.create_2018("exempt").await;
    let (_, now) = h.admin(Method::GET, "/_emulator/faults").await;
    assert_eq!(
        now["actions"]["CreateMigrateJob"]["internal_error_rate"],
        0.0
    );

    // A bad configuration is refused with what was wrong, and the old one stays.
    let (status, body) = h
        .admin_with(
            Method::PUT,
            "/_emulator/faults",
            &json!({"throttle_rate": 3}),
        )
        .await;
    assert_eq!(status, 400);
    let message = body["error"].as_str().expect("an error message");
    assert!(
        message.contains("faults.throttle_rate must be between 0 and 1"),
        "{message}"
    );
    let (status, body) = h
        .admin_with(Method::PUT, "/_emulator/faults", &json!({"latncy": "5ms"}))
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().is_some_and(|m| m.contains("latncy")),
        "{body}"
    );
    let (code, _) = h.dts_err(V2018, "DescribeMigrateJobs", json!({})).await;
    assert_eq!(
        code, "InternalError",
        "the refused configuration did not apply"
    );

    let (status, _) = h
        .admin_with(Method::PUT, "/_emulator/faults", &json!({}))
        .await;
    assert_eq!(status, 200);
    h.dts_ok(V2018, "DescribeMigrateJobs", json!({})).await;
}
