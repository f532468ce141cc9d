//! Exact wire cases with wiremock: what goes out, and creates after ambiguous failures.

use migspec_emulator::ManualClock;
use migspec_huawei_oms::HuaweiOmsProvider;
use migspec_provider::{Action, ActionKind, Address, Provider, ProviderError, Step, StepOutcome};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{PROJECT, desired, document, provider_config};

const GROUP: &str = "5c2f4a9e-7d1b-4f0e-9a3c-2b8d6e1f0a77";

fn list_path() -> String {
    format!("/v2/{PROJECT}/taskgroups")
}

fn group(description: &str, status: u64) -> Value {
    json!({
        "group_id": GROUP,
        "status": status,
        "error_reason": "",
        "description": description,
        "src_node": {"bucket": "media-src", "cloud_type": "ALIYUN", "region": "cn-hangzhou", "object_key": ["2023/", "2024/"]},
        "dst_node": {"bucket": "media-dst", "region": "cn-north-4", "save_prefix": "archive/"},
        "bandwidth_policy": [{"start": "00:00", "end": "06:00", "max_bandwidth": 104_857_600}],
        "total_num": 100,
        "success_num": 0
    })
}

fn create_step(name: &str) -> Step {
    Step {
        address: Address(name.into()),
        action: Action::new(ActionKind::Create, "test"),
        remote_id: None,
        location: serde_json::json!({"region": "cn-north-4", "project_id": PROJECT}),
        desired: Some(desired(document(name, "running"))),
        idempotency_key: "create".into(),
    }
}

async fn provider(server: &MockServer) -> HuaweiOmsProvider {
    HuaweiOmsProvider::new(provider_config(&server.uri(), &ManualClock::new())).unwrap()
}

async fn requests(server: &MockServer, verb: &str) -> Vec<wiremock::Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|request| request.method.as_str() == verb)
        .collect()
}

#[tokio::test]
async fn requests_carry_the_documented_headers_and_body() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(list_path()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"taskgroups": [], "count": 0})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(list_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"group_id": GROUP})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{}/{GROUP}", list_path())))
        .respond_with(ResponseTemplate::new(200).set_body_json(group("x", 0)))
        .mount(&server)
        .await;
    let provider = provider(&server).await;
    let outcome = provider.apply(create_step("media-archive")).await.unwrap();
    assert!(
        matches!(outcome, StepOutcome::InFlight { .. }),
        "{outcome:?}"
    );

    let list = &requests(&server, "GET").await[0];
    assert_eq!(list.url.query(), Some("limit=100&offset=0"));
    let authorization = list.headers.get("authorization").unwrap().to_str().unwrap();
    assert!(
        authorization.starts_with("SDK-HMAC-SHA256 Access=MIGSPECEMULATORAK000, SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date, Signature="),
        "{authorization}"
    );
    assert_eq!(list.headers.get("x-project-id").unwrap(), PROJECT);
    let date = list.headers.get("x-sdk-date").unwrap().to_str().unwrap();
    assert_eq!(date.len(), 16);
    assert!(date.ends_with('Z') && date.as_bytes()[8] == b'T', "{date}");

    let create = &requests(&server, "POST").await[0];
    assert_eq!(
        create.headers.get("content-type").unwrap(),
        "application/json;charset=utf-8"
    );
    let body: Value = serde_json::from_slice(&create.body).unwrap();
    assert_eq!(
        body["description"],
        "media archive 2023-2024 migspec:address=media-archive"
    );
    assert_eq!(body["src_node"]["ak"], "SRCAK-VALUE");
    assert_eq!(body["dst_node"]["sk"], "DSTSK-VALUE");
    assert_eq!(body["src_node"]["cloud_type"], "Aliyun");
    assert_eq!(body["bandwidth_policy"][0]["max_bandwidth"], 104_857_600);
    assert!(body.get("region").is_none() && body.get("project_id").is_none());
    assert_eq!(body["enable_failed_object_recording"], true);
}

#[tokio::test]
async fn an_ambiguous_create_looks_for_its_marker_before_creating_again() {
    let server = MockServer::start().await;
    // The create fails with a 500, but the group was made: the listing shows it.
    Mock::given(method("POST"))
        .and(path(list_path()))
        .respond_with(
            ResponseTemplate::new(500)
                .insert_header("x-request-id", "req-42")
                .set_body_json(json!({"error_code": "OMS.0500", "error_msg": "Internal error"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(list_path()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"taskgroups": [], "count": 0})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(list_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "taskgroups": [group("media archive 2023-2024 migspec:address=media-archive", 1)],
            "count": 1
        })))
        .mount(&server)
        .await;
    let provider = provider(&server).await;
    let outcome = provider.apply(create_step("media-archive")).await.unwrap();
    // Status 1 is already running, which is what the create waits for.
    let StepOutcome::Done { observed } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(observed.object().unwrap().id.0, GROUP);
    assert_eq!(
        requests(&server, "POST").await.len(),
        1,
        "never created twice"
    );
}

#[tokio::test]
async fn an_ambiguous_create_that_did_not_happen_is_made_again() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(list_path()))
        .respond_with(ResponseTemplate::new(503).set_body_string("Service Unavailable"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(list_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"group_id": GROUP})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(list_path()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"taskgroups": [], "count": 0})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{}/{GROUP}", list_path())))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(group("x migspec:address=media-archive", 0)),
        )
        .mount(&server)
        .await;
    let provider = provider(&server).await;
    // The 503 is returned for the runner to retry (the provider never sleeps), after a
    // look for the group by its marker.
    let error = provider
        .apply(create_step("media-archive"))
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error:?}");
    assert_eq!(requests(&server, "POST").await.len(), 1);
    // The runner's repeat: the group is not there, so it is made.
    let outcome = provider.apply(create_step("media-archive")).await.unwrap();
    assert!(
        matches!(outcome, StepOutcome::InFlight { .. }),
        "{outcome:?}"
    );
    assert_eq!(requests(&server, "POST").await.len(), 2);
    let lists = requests(&server, "GET")
        .await
        .into_iter()
        .filter(|request| request.url.path() == list_path())
        .count();
    assert_eq!(lists, 3, "a look before each create, and one after the 503");
}

#[tokio::test]
async fn a_refused_create_is_a_failed_step_with_the_cloud_words() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(list_path()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"taskgroups": [], "count": 0})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(list_path()))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("x-request-id", "req-7")
                .set_body_json(json!({"error_code": "OMS.0077", "error_msg": "The number of tasks exceeds the limit."})),
        )
        .mount(&server)
        .await;
    let provider = provider(&server).await;
    let outcome = provider.apply(create_step("quota")).await.unwrap();
    let StepOutcome::Failed { failure, observed } = outcome else {
        panic!("{outcome:?}")
    };
    assert!(observed.object().is_none());
    assert_eq!(failure.code.as_deref(), Some("OMS.0077"));
    assert!(
        failure.message.contains("exceeds the limit"),
        "{}",
        failure.message
    );
    assert!(failure.message.contains("quota"), "{}", failure.message);
    assert_eq!(failure.details, ["X-Request-Id: req-7"]);
}

#[tokio::test]
async fn unreadable_answers_are_contract_errors_and_raw_errors_are_kept() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(list_path()))
        .respond_with(ResponseTemplate::new(200).set_body_string("not json"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{}/{GROUP}", list_path())))
        .respond_with(ResponseTemplate::new(418).set_body_string("blacklisted"))
        .mount(&server)
        .await;
    let provider = provider(&server).await;
    let target = migspec_huawei_oms::Target {
        region: "cn-north-4",
        project_id: PROJECT,
    };
    let error = provider.client().list_all(target).await.unwrap_err();
    assert!(matches!(error, ProviderError::Contract { .. }), "{error:?}");
    let error = provider.client().show(target, GROUP).await.unwrap_err();
    let ProviderError::Rejected { code, message, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(code, "418");
    assert!(
        message.contains("blacklisted") && message.contains("IP"),
        "{message}"
    );
}

#[tokio::test]
async fn a_wrong_endpoint_is_a_config_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "error_code": "APIGW.0101",
            "error_msg": "The API does not exist or has not been published in the environment",
            "request_id": "r"
        })))
        .mount(&server)
        .await;
    let provider = provider(&server).await;
    let error = provider
        .client()
        .list_all(migspec_huawei_oms::Target {
            region: "cn-north-4",
            project_id: PROJECT,
        })
        .await
        .unwrap_err();
    let ProviderError::Config { message } = &error else {
        panic!("{error:?}")
    };
    assert!(message.contains("MIGSPEC_HUAWEI_OMS_ENDPOINT"), "{message}");
    assert_eq!(requests(&server, "GET").await.len(), 1, "not retried");
}

#[tokio::test]
async fn keys_that_are_not_header_text_fail_at_once() {
    let server = MockServer::start().await;
    let config = provider_config(&server.uri(), &ManualClock::new())
        .with_credentials(migspec_huawei_oms::Credentials::token("bad\ntoken"));
    let provider = HuaweiOmsProvider::new(config).unwrap();
    let error = provider
        .client()
        .list_all(migspec_huawei_oms::Target {
            region: "cn-north-4",
            project_id: PROJECT,
        })
        .await
        .unwrap_err();
    assert!(matches!(error, ProviderError::Config { .. }), "{error:?}");
    assert!(!error.to_string().contains("bad\ntoken"));
    assert!(server.received_requests().await.unwrap().is_empty());
}
