//! Exact wire cases against wiremock: headers, signatures, HTTP-200 errors, retries
//! re-signed, ambiguous creates, batching.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use migspec_provider::{
    Action, ActionKind, Address, ObserveRequest, ObserveTarget, Provider, ProviderError, RemoteId,
    Step, StepOutcome,
};
use migspec_tencent_dts::sign::{SigningRequest, sign};
use migspec_tencent_dts::{Clock, Credentials, Endpoint, TencentConfig, TencentDtsProvider};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::{desired, doc_2018};

const ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";

/// A provider against `server` whose clock starts at 1700000000 and ticks one second per
/// signature.
fn provider_for(server: &MockServer, token: Option<&str>) -> (TencentDtsProvider, Arc<AtomicI64>) {
    let now = Arc::new(AtomicI64::new(1_700_000_000));
    let ticking = Arc::clone(&now);
    let mut credentials = Credentials::new(ID, KEY);
    if let Some(token) = token {
        credentials = credentials.with_token(token);
    }
    let config = TencentConfig::default()
        .with_credentials(credentials)
        .with_endpoint(Endpoint::Custom(server.uri()))
        .with_clock(Clock::from_fn(move || {
            ticking.fetch_add(1, Ordering::SeqCst)
        }))
        .with_poll_after(Duration::from_millis(10));
    (TencentDtsProvider::new(config).unwrap(), now)
}

fn ok(body: Value) -> ResponseTemplate {
    let mut response = body;
    response["RequestId"] = json!("6e6f6a3b-0000-4000-8000-000000000001");
    ResponseTemplate::new(200)
        .insert_header("content-type", "application/json")
        .set_body_json(json!({"Response": response}))
}

fn error(code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "application/json")
        .set_body_json(json!({"Response": {
            "Error": {"Code": code, "Message": message},
            "RequestId": "2201c42a-714f-4faa-915b-a51cc09f5cec"
        }}))
}

fn action(name: &str) -> wiremock::matchers::HeaderExactMatcher {
    header("X-TC-Action", name)
}

/// A 2018 job as DescribeMigrateJobs lists it, every key present.
fn job(id: &str, address: &str, status: i64) -> Value {
    json!({
        "JobId": id, "JobName": address,
        "MigrateOption": {"RunMode": 1, "ExpectTime": "0000-00-00 00:00:00", "MigrateType": 3, "MigrateObject": 2,
            "ConsistencyType": 5, "IsOverrideRoot": 0, "ExternParams": "",
            "ConsistencyParams": {"SelectRowsPerTable": 0, "TablesSelectAll": 0, "TablesSelectCount": 0}},
        "SrcDatabaseType": "mysql", "SrcAccessType": "cvm",
        "SrcInfo": {"AccessKey": "", "Ip": "", "Port": 3306, "User": "dts", "Password": "", "RdsInstanceId": "",
            "CvmInstanceId": "ins-1a2b3c4d", "UniqDcgId": "", "VpcId": "", "SubnetId": "", "UniqVpnGwId": "",
            "InstanceId": "", "Region": "ap-guangzhou", "Supplier": "", "CcnId": "", "EngineVersion": ""},
        "DstDatabaseType": "mysql", "DstAccessType": "cdb",
        "DstInfo": {"Region": "ap-guangzhou", "InstanceId": "cdb-9z8y7x6w", "Ip": "", "Port": 0, "ReadOnly": 0, "User": "root", "Password": ""},
        "DatabaseInfo": "[{\"Database\":\"orders\",\"Table\":[\"orders\",\"order_items\"]}]",
        "CreateTime": "2026-11-23 10:00:00", "StartTime": "0000-00-00 00:00:00", "EndTime": "0000-00-00 00:00:00",
        "Status": status,
        "Detail": {"StepAll": 0, "StepNow": 0, "Progress": "0", "CurrentStepProgress": "0", "MasterSlaveDistance": 0, "SecondsBehindMaster": 0, "StepInfo": []},
        "ErrorInfo": [],
        "Tags": [{"TagKey": "owner", "TagValue": "payments"}, {"TagKey": "migspec:address", "TagValue": address}],
        "SrcInfoMulti": []
    })
}

fn target(name: &str) -> ObserveTarget {
    ObserveTarget {
        address: Address(name.to_owned()),
        kind: "TencentDtsMigrateJob".into(),
        revision: None,
        view: None,
        remote_id: None,
        location: json!({"region": "ap-guangzhou", "version": "2018-03-30"}),
    }
}

fn header_value<'a>(request: &'a Request, name: &str) -> &'a str {
    request
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_else(|| panic!("missing header {name}"))
}

#[tokio::test]
async fn requests_carry_the_sdk_headers_and_a_verifiable_signature() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/"))
        .and(action("DescribeMigrateJobs"))
        .respond_with(ok(json!({"TotalCount": 0, "JobList": []})))
        .expect(1)
        .mount(&server)
        .await;
    let (provider, _) = provider_for(&server, Some("session-token"));
    let observed = provider
        .observe(ObserveRequest {
            targets: vec![target("orders")],
        })
        .await
        .unwrap();
    assert!(observed[0].object().is_none());
    let requests = server.received_requests().await.unwrap();
    let request = &requests[0];
    for (name, value) in [
        ("content-type", "application/json"),
        ("x-tc-action", "DescribeMigrateJobs"),
        ("x-tc-version", "2018-03-30"),
        ("x-tc-timestamp", "1700000000"),
        ("x-tc-region", "ap-guangzhou"),
        ("x-tc-language", "en-US"),
        ("x-tc-requestclient", "migspec/0.1.0"),
        ("x-tc-token", "session-token"),
    ] {
        assert_eq!(header_value(request, name), value, "{name}");
    }
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(
        body,
        json!({"Offset": 0, "Limit": 100, "TagFilters": [{"TagKey": "migspec:address", "TagValue": ["orders"]}]})
    );
    // The signature verifies against what was received, the way the service checks it.
    let host = header_value(request, "host");
    assert_eq!(host, server.address().to_string());
    let expected = sign(
        &SigningRequest {
            method: "POST",
            host,
            query: "",
            content_type: "application/json",
            payload: &request.body,
            service: "dts",
            timestamp: 1_700_000_000,
            signed_action: None,
        },
        ID,
        KEY,
    );
    assert_eq!(
        header_value(request, "authorization"),
        expected.authorization
    );
    assert!(
        expected
            .authorization
            .contains("2023-11-14/dts/tc3_request, SignedHeaders=content-type;host, Signature=")
    );
}

#[tokio::test]
async fn errors_sent_with_http_200_are_errors_with_the_clouds_code_and_request_id() {
    let server = MockServer::start().await;
    Mock::given(action("DescribeMigrateJobs"))
        .respond_with(ok(json!({"TotalCount": 0, "JobList": null})))
        .mount(&server)
        .await;
    Mock::given(action("CreateMigrateJob"))
        .respond_with(error(
            "LimitExceeded.MaxUnusedJobs",
            "The number of idle migration tasks exceeds the limit.",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let (provider, _) = provider_for(&server, None);
    let document = doc_2018("orders", "configured");
    let outcome = provider
        .apply(Step {
            address: Address("orders".into()),
            action: Action::new(ActionKind::Create, "test"),
            remote_id: None,
            location: crate::support::location(&document),
            desired: Some(desired(&document)),
            idempotency_key: "k".into(),
            observed: None,
        })
        .await
        .unwrap();
    let StepOutcome::Failed { failure, .. } = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(failure.code.as_deref(), Some("LimitExceeded.MaxUnusedJobs"));
    assert!(
        failure
            .message
            .contains("The number of idle migration tasks exceeds the limit.")
    );
    assert!(
        failure.message.contains("delete jobs you no longer need"),
        "{}",
        failure.message
    );
    assert!(
        failure
            .message
            .contains("2201c42a-714f-4faa-915b-a51cc09f5cec")
    );
}

#[tokio::test]
async fn throttled_requests_are_sent_once_and_a_repeat_is_signed_again() {
    let server = MockServer::start().await;
    Mock::given(action("DescribeMigrateJobs"))
        .respond_with(error(
            "RequestLimitExceeded",
            "Your request rate exceeds the frequency limit.",
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(action("DescribeMigrateJobs"))
        .respond_with(ok(
            json!({"TotalCount": 1, "JobList": [job("dts-1kl0iy0v", "orders", 1)]}),
        ))
        .mount(&server)
        .await;
    let (provider, _) = provider_for(&server, None);
    let request = ObserveRequest {
        targets: vec![target("orders")],
    };
    // The throttle comes back to the caller (the runner retries), after one request.
    let error = provider.observe(request.clone()).await.unwrap_err();
    assert!(
        matches!(&error, ProviderError::Throttled { code, .. } if code == "RequestLimitExceeded"),
        "{error:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    let observed = provider.observe(request).await.unwrap();
    assert_eq!(
        observed[0].object().unwrap().id,
        RemoteId("dts-1kl0iy0v".into())
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(header_value(&requests[0], "x-tc-timestamp"), "1700000000");
    assert_eq!(header_value(&requests[1], "x-tc-timestamp"), "1700000001");
    assert_ne!(
        header_value(&requests[0], "authorization"),
        header_value(&requests[1], "authorization")
    );
}

#[tokio::test]
async fn internal_errors_are_sent_once_as_retryable_internal_errors() {
    let server = MockServer::start().await;
    Mock::given(action("DescribeMigrateJobs"))
        .respond_with(error("InternalError", "always"))
        .expect(1)
        .mount(&server)
        .await;
    let (provider, _) = provider_for(&server, None);
    let error = provider
        .observe(ObserveRequest {
            targets: vec![target("orders")],
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ProviderError::Internal { code, .. } if code == "InternalError"),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn an_ambiguous_create_is_unknown_and_the_next_application_finds_the_job_by_tag() {
    let server = MockServer::start().await;
    // The pre-create search finds nothing; the search after the ambiguous failure finds the job.
    Mock::given(action("DescribeMigrateJobs"))
        .respond_with(ok(json!({"TotalCount": 0, "JobList": []})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(action("DescribeMigrateJobs"))
        .respond_with(ok(
            json!({"TotalCount": 1, "JobList": [job("dts-created1", "orders", 1)]}),
        ))
        .mount(&server)
        .await;
    Mock::given(action("CreateMigrateJob"))
        .respond_with(error("InternalError.UnknownError", "the gateway timed out"))
        .expect(1)
        .mount(&server)
        .await;
    let (provider, _) = provider_for(&server, None);
    let document = doc_2018("orders", "configured");
    let step = Step {
        address: Address("orders".into()),
        action: Action::new(ActionKind::Create, "test"),
        remote_id: None,
        location: crate::support::location(&document),
        desired: Some(desired(&document)),
        idempotency_key: "k".into(),
        observed: None,
    };
    // The ambiguous failure is reported as such, not retried by the provider.
    let outcome = provider.apply(step.clone()).await.unwrap();
    assert!(
        matches!(&outcome, StepOutcome::Unknown { error } if error.is_retryable()),
        "{outcome:?}"
    );
    // Applied again (as the runner does after its re-observation), the job is found by tag.
    let outcome = provider.apply(step).await.unwrap();
    let StepOutcome::Done { observed } = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(
        observed.object().unwrap().id,
        RemoteId("dts-created1".into())
    );
    let creates: Vec<Request> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|request| header_value(request, "x-tc-action") == "CreateMigrateJob")
        .collect();
    assert_eq!(creates.len(), 1);
    let body: Value = serde_json::from_slice(&creates[0].body).unwrap();
    assert_eq!(
        body["Tags"][1],
        json!({"TagKey": "migspec:address", "TagValue": "orders"})
    );
    assert_eq!(
        body["DatabaseInfo"],
        "[{\"Database\":\"orders\",\"Table\":[\"orders\",\"order_items\"]}]"
    );
    assert_eq!(
        body["SrcInfo"]["Password"],
        "secret-for-/spec/SrcInfo/Password"
    );
}

#[tokio::test]
async fn observe_batches_up_to_100_addresses_per_call_per_region() {
    let server = MockServer::start().await;
    Mock::given(action("DescribeMigrateJobs"))
        .respond_with(ok(
            json!({"TotalCount": 1, "JobList": [job("dts-00000007", "job-7", 7)]}),
        ))
        .mount(&server)
        .await;
    let (provider, _) = provider_for(&server, None);
    let mut targets: Vec<ObserveTarget> = (0..150)
        .map(|index| target(&format!("job-{index}")))
        .collect();
    let mut other = target("elsewhere");
    other.location = json!({"region": "ap-beijing", "version": "2018-03-30"});
    targets.push(other);
    let observed = provider.observe(ObserveRequest { targets }).await.unwrap();
    assert_eq!(observed.len(), 151);
    assert_eq!(observed.iter().filter(|o| o.object().is_some()).count(), 1);
    assert_eq!(observed[7].object().unwrap().raw_status, "7");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 3, "one call per region per 100 addresses");
    let sizes: Vec<(String, usize)> = requests
        .iter()
        .map(|request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            (
                header_value(request, "x-tc-region").to_owned(),
                body["TagFilters"][0]["TagValue"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert!(
        sizes.contains(&("ap-guangzhou".to_owned(), 100)),
        "{sizes:?}"
    );
    assert!(
        sizes.contains(&("ap-guangzhou".to_owned(), 50)),
        "{sizes:?}"
    );
    assert!(sizes.contains(&("ap-beijing".to_owned(), 1)), "{sizes:?}");
}

#[tokio::test]
async fn a_status_conflict_is_checked_against_a_fresh_observation() {
    // The job moved on between the observation and the call: the step goes on waiting.
    let server = MockServer::start().await;
    Mock::given(action("DescribeMigrateJobs"))
        .respond_with(ok(
            json!({"TotalCount": 1, "JobList": [job("dts-1kl0iy0v", "orders", 4)]}),
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(action("DescribeMigrateJobs"))
        .respond_with(ok(
            json!({"TotalCount": 1, "JobList": [job("dts-1kl0iy0v", "orders", 7)]}),
        ))
        .mount(&server)
        .await;
    Mock::given(action("StartMigrateJob"))
        .respond_with(error(
            "FailedOperation.StatusInConflict",
            "job status conflict",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let (provider, _) = provider_for(&server, None);
    let document = doc_2018("orders", "running");
    let step = Step {
        address: Address("orders".into()),
        action: Action::new(ActionKind::Start, "test"),
        remote_id: Some(RemoteId("dts-1kl0iy0v".into())),
        location: crate::support::location(&document),
        desired: Some(desired(&document)),
        idempotency_key: "k".into(),
        observed: None,
    };
    let outcome = provider.apply(step.clone()).await.unwrap();
    assert!(
        matches!(outcome, StepOutcome::InFlight { .. }),
        "{outcome:?}"
    );

    // The job did not move: the refusal is reported with its current status.
    let server = MockServer::start().await;
    Mock::given(action("DescribeMigrateJobs"))
        .respond_with(ok(
            json!({"TotalCount": 1, "JobList": [job("dts-1kl0iy0v", "orders", 4)]}),
        ))
        .mount(&server)
        .await;
    Mock::given(action("StartMigrateJob"))
        .respond_with(error(
            "FailedOperation.StatusInConflict",
            "job status conflict",
        ))
        .mount(&server)
        .await;
    let (provider, _) = provider_for(&server, None);
    let outcome = provider.apply(step).await.unwrap();
    let StepOutcome::Failed { failure, .. } = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(
        failure.code.as_deref(),
        Some("FailedOperation.StatusInConflict")
    );
    assert!(
        failure.message.contains("4 (check passed)"),
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn answers_that_are_not_the_envelope_are_protocol_errors() {
    let server = MockServer::start().await;
    Mock::given(action("DescribeMigrateJobs"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"))
        .expect(1)
        .mount(&server)
        .await;
    let (provider, _) = provider_for(&server, None);
    let error = provider
        .observe(ObserveRequest {
            targets: vec![target("orders")],
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ProviderError::Internal { code, .. } if code == "HTTP502"),
        "{error:?}"
    );
    assert!(error.to_string().contains("bad gateway"), "{error}");
}
