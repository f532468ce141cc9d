//! Signature verification against the running server, and throttling.

mod common;

use std::time::Duration;

use common::{Harness, REGION, V2018, V2021};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, Request};
use serde_json::json;

fn error_code(answer: &common::Answer) -> String {
    assert_eq!(answer.status, 200, "Tencent errors are HTTP 200");
    assert_eq!(answer.content_type(), Some("application/json"));
    answer.json()["Response"]["Error"]["Code"]
        .as_str()
        .unwrap_or("(none)")
        .to_owned()
}

const BODY: &[u8] = br#"{"Limit": 10}"#;

#[tokio::test]
async fn tencent_accepts_any_host_charset_and_signed_action() {
    let h = Harness::start().await;
    let mut tc3 = h.tc3();
    tc3.host = format!("http://{}", h.host());
    assert_eq!(
        error_code(
            &h.dts_signed(&tc3, V2018, "DescribeMigrateJobs", Some(REGION), BODY)
                .await
        ),
        "(none)",
        "tccli's http:// host"
    );
    let mut tc3 = h.tc3();
    tc3.content_type = "application/json; charset=utf-8".to_owned();
    tc3.sign_action = true;
    assert_eq!(
        error_code(
            &h.dts_signed(&tc3, V2021, "DescribeMigrationJobs", Some(REGION), BODY)
                .await
        ),
        "(none)"
    );
    let mut tc3 = h.tc3();
    tc3.host = "dts.tencentcloudapi.com".to_owned();
    assert_eq!(
        error_code(
            &h.dts_signed(&tc3, V2021, "DescribeMigrationJobs", None, BODY)
                .await
        ),
        "(none)"
    );
}

#[tokio::test]
async fn tencent_auth_failures_have_the_documented_codes() {
    let h = Harness::start().await;
    let mut wrong_key = h.tc3();
    wrong_key.secret_key = "not-the-key".to_owned();
    assert_eq!(
        error_code(
            &h.dts_signed(&wrong_key, V2018, "DescribeMigrateJobs", Some(REGION), BODY)
                .await
        ),
        "AuthFailure.SignatureFailure"
    );
    let mut unknown = h.tc3();
    unknown.secret_id = "AKIDunknown".to_owned();
    assert_eq!(
        error_code(
            &h.dts_signed(&unknown, V2018, "DescribeMigrateJobs", Some(REGION), BODY)
                .await
        ),
        "AuthFailure.SecretIdNotFound"
    );
    let mut old = h.tc3();
    old.timestamp -= 301;
    assert_eq!(
        error_code(
            &h.dts_signed(&old, V2018, "DescribeMigrateJobs", Some(REGION), BODY)
                .await
        ),
        "AuthFailure.SignatureExpire"
    );
    let mut future = h.tc3();
    future.timestamp += 301;
    assert_eq!(
        error_code(
            &h.dts_signed(&future, V2018, "DescribeMigrateJobs", Some(REGION), BODY)
                .await
        ),
        "AuthFailure.SignatureExpire"
    );
    let mut edge = h.tc3();
    edge.timestamp -= 300;
    assert_eq!(
        error_code(
            &h.dts_signed(&edge, V2018, "DescribeMigrateJobs", Some(REGION), BODY)
                .await
        ),
        "(none)",
        "300 s is still fine"
    );
    let mut service = h.tc3();
    service.service = "cvm".to_owned();
    assert_eq!(
        error_code(
            &h.dts_signed(&service, V2018, "DescribeMigrateJobs", Some(REGION), BODY)
                .await
        ),
        "AuthFailure.SignatureFailure"
    );

    // The signature covers the exact body bytes: re-serialising would break it.
    let tc3 = h.tc3();
    let signature = common::tc3_authorization(&tc3, "DescribeMigrateJobs", BODY);
    let tampered = Request::builder()
        .method(Method::POST)
        .uri("/")
        .header("host", h.host())
        .header("content-type", "application/json")
        .header("x-tc-action", "DescribeMigrateJobs")
        .header("x-tc-version", V2018)
        .header("x-tc-region", REGION)
        .header("x-tc-timestamp", tc3.timestamp.to_string())
        .header("authorization", signature)
        .body(Full::new(Bytes::from_static(br#"{"Limit":10}"#)))
        .expect("request");
    assert_eq!(
        error_code(&common::send(h.addr(), tampered).await.expect("answer")),
        "AuthFailure.SignatureFailure"
    );

    for authorization in [
        None,
        Some("Bearer token"),
        Some("TC3-HMAC-SHA256 Credential=x, SignedHeaders=host"),
    ] {
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri("/")
            .header("host", h.host())
            .header("content-type", "application/json")
            .header("x-tc-action", "DescribeMigrateJobs")
            .header("x-tc-version", V2018)
            .header("x-tc-timestamp", h.clock.now_secs().to_string());
        if let Some(value) = authorization {
            builder = builder.header("authorization", value);
        }
        let answer = common::send(
            h.addr(),
            builder
                .body(Full::new(Bytes::from_static(BODY)))
                .expect("request"),
        )
        .await
        .expect("answer");
        assert_eq!(
            error_code(&answer),
            "AuthFailure.InvalidAuthorization",
            "{authorization:?}"
        );
    }

    // Each answer has its own RequestId, and nothing was recorded as a success.
    let first = h
        .dts_signed(&wrong_key, V2018, "DescribeMigrateJobs", Some(REGION), BODY)
        .await
        .json();
    let second = h
        .dts_signed(&wrong_key, V2018, "DescribeMigrateJobs", Some(REGION), BODY)
        .await
        .json();
    assert_ne!(
        first["Response"]["RequestId"],
        second["Response"]["RequestId"]
    );
    let (_, stats) = h.admin(Method::GET, "/_emulator/stats").await;
    assert_eq!(stats["total"]["ok"], 1);
    assert_eq!(
        stats["services"]["tencent"]["versions"]["2018-03-30"]["DescribeMigrateJobs"]["auth_error"],
        11
    );
}

#[tokio::test]
async fn tencent_unknown_action_version_and_method() {
    let h = Harness::start().await;
    h.dts_expect(
        V2018,
        "DescribeInstances",
        json!({}),
        "InvalidAction",
        "DescribeInstances",
    )
    .await;
    h.dts_expect(
        "2099-01-01",
        "DescribeMigrateJobs",
        json!({}),
        "NoSuchVersion",
        "2099-01-01",
    )
    .await;
    let answer = common::send(
        h.addr(),
        Request::builder()
            .method(Method::PUT)
            .uri("/")
            .header("host", h.host())
            .body(Full::new(Bytes::new()))
            .expect("r"),
    )
    .await
    .expect("answer");
    assert_eq!(error_code(&answer), "UnsupportedProtocol");
    let form = Request::builder()
        .method(Method::POST)
        .uri("/")
        .header("host", h.host())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from_static(
            b"Action=DescribeMigrateJobs&Version=2018-03-30&Signature=x",
        )))
        .expect("r");
    assert_eq!(
        error_code(&common::send(h.addr(), form).await.expect("answer")),
        "AuthFailure.InvalidAuthorization",
        "signature v1 is not supported"
    );
    let response = h
        .dts_signed(
            &h.tc3(),
            V2018,
            "DescribeMigrateJobs",
            Some(REGION),
            b"not json",
        )
        .await
        .json();
    assert_eq!(response["Response"]["Error"]["Code"], "InvalidParameter");
}

async fn oms_with(
    h: &Harness,
    ak: &str,
    sk: &str,
    date: &str,
    tamper_body: bool,
) -> common::Answer {
    let path = format!("/v2/{}/taskgroups", common::PROJECT);
    let body = serde_json::to_vec(&common::create_group("auth")).expect("json");
    let (_, headers) = common::sdk_sign(ak, sk, &Method::POST, &path, &[], &h.host(), date, &body);
    let mut builder = Request::builder().method(Method::POST).uri(&path);
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let mut sent = body.clone();
    if tamper_body {
        sent[5] ^= 1;
    }
    common::send(
        h.addr(),
        builder.body(Full::new(Bytes::from(sent))).expect("request"),
    )
    .await
    .expect("answer")
}

#[tokio::test]
async fn huawei_auth_failures_are_401_apigw_0301() {
    let h = Harness::start().await;
    let now = common::sdk_date(h.clock.now_secs());
    assert_eq!(
        oms_with(&h, common::AK, common::SK, &now, false)
            .await
            .status,
        200
    );
    for (ak, sk, date, tamper, needle) in [
        (
            common::AK,
            "wrong-secret",
            now.clone(),
            false,
            "verify aksk signature fail",
        ),
        (
            common::AK,
            common::SK,
            now.clone(),
            true,
            "verify aksk signature fail",
        ),
        ("UNKNOWNAK", common::SK, now.clone(), false, "ak not exist"),
        (
            common::AK,
            common::SK,
            common::sdk_date(h.clock.now_secs() - 16 * 60),
            false,
            "15 minutes",
        ),
    ] {
        let answer = oms_with(&h, ak, sk, &date, tamper).await;
        assert_eq!(answer.status, 401);
        let json = answer.json();
        assert_eq!(json["error_code"], "APIGW.0301");
        assert!(
            json["error_msg"].as_str().expect("msg").contains(needle),
            "{json}"
        );
        assert!(
            json["request_id"].is_string(),
            "gateway errors carry request_id"
        );
    }
    let unsigned = Request::builder()
        .method(Method::GET)
        .uri(format!("/v2/{}/taskgroups", common::PROJECT))
        .header("host", h.host())
        .body(Full::new(Bytes::new()))
        .expect("request");
    assert_eq!(
        common::send(h.addr(), unsigned)
            .await
            .expect("answer")
            .status,
        401
    );
    let (_, list) = h
        .oms_json(Method::GET, "/taskgroups", &[("limit", "100")], None)
        .await;
    assert_eq!(
        list["count"], 1,
        "only the correctly signed create went through"
    );
}

#[tokio::test]
async fn tencent_throttles_per_secret_id_and_action() {
    let h = Harness::start().await;
    for _ in 0..20 {
        h.dts_ok(V2018, "DescribeMigrateJobs", json!({})).await;
    }
    h.dts_expect(
        V2018,
        "DescribeMigrateJobs",
        json!({}),
        "RequestLimitExceeded",
        "20",
    )
    .await;
    // Another action, and the same name in the other version, have their own budgets.
    h.dts_ok(V2021, "DescribeMigrationJobs", json!({})).await;
    h.dts_expect(
        V2018,
        "StartMigrateJob",
        json!({"JobId": "dts-zzzzzzzz"}),
        "ResourceNotFound.JobNotExist",
        "dts-zzzzzzzz",
    )
    .await;
    h.advance(Duration::from_millis(50));
    h.dts_ok(V2018, "DescribeMigrateJobs", json!({})).await;
    h.dts_expect(
        V2018,
        "DescribeMigrateJobs",
        json!({}),
        "RequestLimitExceeded",
        "DescribeMigrateJobs",
    )
    .await;
    h.advance_secs(1);
    for _ in 0..20 {
        h.dts_ok(V2018, "DescribeMigrateJobs", json!({})).await;
    }
    let (_, stats) = h.admin(Method::GET, "/_emulator/stats").await;
    assert_eq!(
        stats["services"]["tencent"]["versions"]["2018-03-30"]["DescribeMigrateJobs"]["throttled"],
        2
    );
}

#[tokio::test]
async fn huawei_throttles_with_429() {
    let h = Harness::start().await;
    for _ in 0..20 {
        assert_eq!(
            h.oms_json(Method::GET, "/taskgroups", &[], None).await.0,
            200
        );
    }
    let (status, json) = h.oms_json(Method::GET, "/taskgroups", &[], None).await;
    assert_eq!(status, 429);
    assert_eq!(json["error_code"], "APIGW.0308");
    let (status, _) = h
        .oms_json(
            Method::POST,
            "/taskgroups",
            &[],
            Some(common::create_group("other-op")),
        )
        .await;
    assert_eq!(status, 200, "each operation has its own budget");
}

#[tokio::test]
async fn rate_limit_is_configurable_and_can_be_disabled() {
    let clock = migspec_emulator::ManualClock::new();
    let h = Harness::with(&clock, common::config(&clock).with_rate_limit_per_second(0)).await;
    for _ in 0..50 {
        h.dts_ok(V2018, "DescribeMigrateJobs", json!({})).await;
    }
    let clock = migspec_emulator::ManualClock::new();
    let h = Harness::with(&clock, common::config(&clock).with_rate_limit_per_second(2)).await;
    h.dts_ok(V2018, "DescribeMigrateJobs", json!({})).await;
    h.dts_ok(V2018, "DescribeMigrateJobs", json!({})).await;
    let (code, _): (String, String) = h.dts_err(V2018, "DescribeMigrateJobs", json!({})).await;
    assert_eq!(code, "RequestLimitExceeded");
}
