//! Every client operation against the emulator, and every error path.

use std::sync::Arc;
use std::time::Duration;

use migspec_emulator::{
    DEFAULT_HUAWEI_TOKEN, EmulatorConfig, FaultConfig, FaultRule, ManualClock, SystemClock,
};
use migspec_huawei_oms::{Credentials, HuaweiConfig, HuaweiOmsProvider, OmsClient, Target};
use migspec_provider::{Provider as _, ProviderError};
use serde_json::{Value, json};

use crate::support::{Env, PROJECT, REGION, durations, emulator_config, provider_config};

fn target() -> Target<'static> {
    Target {
        region: REGION,
        project_id: PROJECT,
    }
}

fn create_body(description: &str) -> Value {
    json!({
        "src_node": {"cloud_type": "Aliyun", "region": "cn-hangzhou", "bucket": "src", "ak": "SRCAK", "sk": "SRCSK", "object_key": ["a/"]},
        "dst_node": {"region": REGION, "bucket": "dst", "ak": "DSTAK", "sk": "DSTSK"},
        "description": description,
        "bandwidth_policy": [{"start": "00:00", "end": "06:00", "max_bandwidth": 104_857_600}]
    })
}

fn keys() -> Value {
    json!({"src_ak": "SRCAK", "src_sk": "SRCSK", "dst_ak": "DSTAK", "dst_sk": "DSTSK"})
}

fn client(env: &Env) -> &OmsClient {
    env.provider.client()
}

async fn status(env: &Env, group_id: &str) -> u64 {
    client(env)
        .show(target(), group_id)
        .await
        .unwrap()
        .status
        .unwrap()
}

fn code(error: &ProviderError) -> &str {
    match error {
        ProviderError::StateConflict { code, .. }
        | ProviderError::Rejected { code, .. }
        | ProviderError::NotFound { code, .. }
        | ProviderError::Auth { code, .. }
        | ProviderError::Throttled { code, .. }
        | ProviderError::Internal { code, .. } => code,
        other => panic!("no code in {other:?}"),
    }
}

#[tokio::test]
async fn every_operation_succeeds_and_the_emulator_accepts_our_signatures() {
    let env = Env::start().await;
    let oms = client(&env);
    let group_id = oms.create(target(), &create_body("ops")).await.unwrap();
    let group = oms.show(target(), &group_id).await.unwrap();
    assert_eq!(group.group_id, group_id);
    assert_eq!(group.status, Some(0));
    assert_eq!(group.description.as_deref(), Some("ops"));
    assert_eq!(
        group.src_node.as_ref().unwrap().cloud_type.as_deref(),
        Some("ALIYUN")
    );

    env.clock.advance(Duration::from_millis(120));
    assert_eq!(status(&env, &group_id).await, 1, "creating tasks");
    oms.stop(target(), &group_id).await.unwrap();
    assert_eq!(status(&env, &group_id).await, 7, "pausing");
    env.clock.advance(Duration::from_millis(150));
    assert_eq!(status(&env, &group_id).await, 3, "paused");

    oms.update(
        target(),
        &group_id,
        &json!({"bandwidth_policy": [{"start": "01:00", "end": "02:00", "max_bandwidth": 1_048_576}]}),
    )
    .await
    .unwrap();
    let group = oms.show(target(), &group_id).await.unwrap();
    let policy = group.bandwidth_policy.unwrap();
    assert_eq!(policy.len(), 1);
    assert_eq!(policy[0].max_bandwidth, Some(1_048_576));
    assert_eq!(policy[0].start, "01:00");

    oms.start(target(), &group_id, &keys()).await.unwrap();
    assert!(matches!(status(&env, &group_id).await, 1 | 2));
    let listed = oms.list_all(target()).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].group_id, group_id);

    env.clock.advance(Duration::from_secs(2));
    assert_eq!(status(&env, &group_id).await, 6, "completed");
    oms.delete(target(), &group_id).await.unwrap();
    assert_eq!(status(&env, &group_id).await, 8);
    env.clock.advance(Duration::from_millis(250));
    let gone = oms.show(target(), &group_id).await.unwrap_err();
    assert!(
        matches!(gone, ProviderError::NotFound { ref code, .. } if code == "OMS.1009"),
        "{gone:?}"
    );
    let ok = env.stats("ShowTaskGroup").await;
    assert_eq!(ok["auth_error"], 0, "every signature verified: {ok}");
}

#[tokio::test]
async fn retry_sends_migrate_failed_object_and_only_failed_objects_move_again() {
    let clock = ManualClock::new();
    let config =
        emulator_config(&clock).with_fault_rule(FaultRule::matching("retry-*").fail_at(40));
    let env = Env::with(config, &clock).await;
    let oms = client(&env);
    let group_id = oms
        .create(target(), &create_body("retry-me"))
        .await
        .unwrap();
    env.clock.advance(Duration::from_millis(300));
    let failed = oms.show(target(), &group_id).await.unwrap();
    assert_eq!(failed.status, Some(5));
    let reason = failed.error_reason.unwrap();
    assert_eq!(reason.error_code, "TRF.0001");
    assert!(failed.fail_num.unwrap() > 0);

    let mut body = keys();
    body["migrate_failed_object"] = json!(true);
    oms.retry(target(), &group_id, &body).await.unwrap();
    assert_eq!(
        status(&env, &group_id).await,
        2,
        "straight back to migrating"
    );
    env.clock.advance(Duration::from_secs(1));
    let done = oms.show(target(), &group_id).await.unwrap();
    assert_eq!(done.status, Some(6));
    assert_eq!(
        done.skip_num,
        Some(0),
        "failed objects only: nothing re-listed"
    );
    assert_eq!(done.success_num, done.total_num);
}

#[tokio::test]
async fn list_pages_by_100_and_stops_at_count() {
    let env = Env::start().await;
    // Without the client-side limit: 205 creates would otherwise take ten seconds.
    let unlimited = HuaweiOmsProvider::new(
        provider_config(&env.emulator.url(), &env.clock).with_rate_limit_per_second(0),
    )
    .unwrap();
    let oms = unlimited.client();
    for index in 0..205 {
        oms.create(target(), &create_body(&format!("bulk {index}")))
            .await
            .unwrap();
    }
    let groups = oms.list_all(target()).await.unwrap();
    assert_eq!(groups.len(), 205);
    let mut ids: Vec<&str> = groups.iter().map(|group| group.group_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 205, "no group twice across pages");
    assert_eq!(
        env.stats("ListTaskGroup").await["ok"],
        3,
        "pages of 100, 100, 5"
    );
    let page = oms.list_page(target(), 100, 200).await.unwrap();
    assert_eq!(page.taskgroups.len(), 5);
    assert_eq!(page.count, Some(205), "count is the total, not the page");
}

#[tokio::test]
async fn refusals_by_state_are_state_conflicts() {
    let env = Env::start().await;
    let oms = client(&env);
    let group_id = oms.create(target(), &create_body("states")).await.unwrap();
    env.clock.advance(Duration::from_millis(200));
    assert_eq!(status(&env, &group_id).await, 2);

    // OMS.0065: start a running group.
    let error = oms.start(target(), &group_id, &keys()).await.unwrap_err();
    assert!(
        matches!(error, ProviderError::StateConflict { .. }),
        "{error:?}"
    );
    assert_eq!(code(&error), "OMS.0065");
    assert!(error.to_string().contains("already started"), "{error}");

    // OMS.0063: delete a running group (sent once, reported; the runner decides).
    let error = oms.delete(target(), &group_id).await.unwrap_err();
    assert_eq!(code(&error), "OMS.0063");
    assert!(error.to_string().contains("pause it"), "{error}");
    assert_eq!(
        env.stats("DeleteTaskGroup").await["business_error"],
        1,
        "the client repeats nothing"
    );

    // OMS.0066: stop a paused group.
    oms.stop(target(), &group_id).await.unwrap();
    env.clock.advance(Duration::from_millis(150));
    let error = oms.stop(target(), &group_id).await.unwrap_err();
    assert_eq!(code(&error), "OMS.0066");
    assert!(matches!(error, ProviderError::StateConflict { .. }));

    // OMS.0070: start a completed group.
    oms.start(target(), &group_id, &keys()).await.unwrap();
    env.clock.advance(Duration::from_secs(2));
    assert_eq!(status(&env, &group_id).await, 6);
    let error = oms.start(target(), &group_id, &keys()).await.unwrap_err();
    assert_eq!(code(&error), "OMS.0070");
    assert!(matches!(error, ProviderError::StateConflict { .. }));
}

#[tokio::test]
async fn invalid_parameters_are_rejected_with_the_field() {
    let env = Env::start().await;
    let mut body = create_body("bad");
    body["dst_node"].as_object_mut().unwrap().remove("ak");
    let error = client(&env).create(target(), &body).await.unwrap_err();
    let ProviderError::Rejected {
        code,
        message,
        request_id,
        ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(code, "OMS.0064");
    assert!(message.contains("`dst_node.ak`"), "{message}");
    assert!(request_id.is_some(), "X-Request-Id is kept");
    assert!(
        !error.to_string().contains("SRCSK"),
        "no keys in errors: {error}"
    );
}

#[tokio::test]
async fn unknown_groups_are_not_found() {
    let env = Env::start().await;
    let error = client(&env)
        .show(target(), "00000000-0000-0000-0000-000000000000")
        .await
        .unwrap_err();
    assert!(
        matches!(error, ProviderError::NotFound { ref code, ref id, .. } if code == "OMS.1009" && id.contains("00000000")),
        "{error:?}"
    );
    let error = client(&env).stop(target(), "nope").await.unwrap_err();
    assert!(matches!(error, ProviderError::NotFound { .. }), "{error:?}");
}

#[tokio::test]
async fn throttled_requests_are_sent_once_and_reported_to_the_gate() {
    // Real time here: the server allows 2 requests/s, the provider declares 20/s.
    let config = EmulatorConfig::default()
        .with_clock(Arc::new(SystemClock))
        .with_durations(durations())
        .with_rate_limit_per_second(2);
    let emulator = config.start().await.unwrap();
    let clock = ManualClock::new();
    let settings = provider_config(&emulator.url(), &clock)
        .with_clock(migspec_huawei_oms::Clock::system())
        .with_rate_limit_per_second(20);
    let provider = HuaweiOmsProvider::new(settings).unwrap();
    let gate = Arc::new(migspec_runner::limits::RunnerGate::new());
    let description = provider.describe();
    gate.declare(&description.name, &description.rate_limits);
    assert!(provider.attach_gate(gate.clone()));
    let mut errors = Vec::new();
    for _ in 0..6 {
        if let Err(error) = provider.client().list_all(target()).await {
            errors.push(error);
        }
    }
    let url = format!("{}/_emulator/stats", emulator.url());
    let stats: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    let list = &stats["services"]["huawei"]["versions"]["v2"]["ListTaskGroup"];
    // One request per call: the client repeats nothing.
    assert_eq!(list["requests"], 6, "{list}");
    assert_eq!(
        list["throttled"].as_u64().unwrap(),
        errors.len() as u64,
        "{list}"
    );
    assert!(!errors.is_empty(), "2/s against 20/s declared throttles");
    let error = &errors[0];
    assert!(
        matches!(error, ProviderError::Throttled { code, .. } if code == "APIGW.0308"),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert!(error.to_string().contains("rateLimitPerSecond"), "{error}");
    let counts = gate.counts();
    assert_eq!(counts.calls, 6);
    assert_eq!(counts.throttled, errors.len() as u64);
    let key = migspec_provider::CallKey::new(
        "huawei-oms",
        "list_task_group",
        REGION,
        "explicit configuration",
    );
    assert!(
        gate.rate(&key).is_some_and(|rate| rate < 20.0),
        "the gate slowed the key down: {:?}",
        gate.rate(&key)
    );
}

#[tokio::test]
async fn the_runners_gate_keeps_a_normal_run_under_the_server_limit() {
    let config = EmulatorConfig::default()
        .with_clock(Arc::new(SystemClock))
        .with_durations(durations())
        .with_rate_limit_per_second(20);
    let emulator = config.start().await.unwrap();
    let clock = ManualClock::new();
    let settings = provider_config(&emulator.url(), &clock)
        .with_clock(migspec_huawei_oms::Clock::system())
        .with_rate_limit_per_second(20);
    let provider = Arc::new(HuaweiOmsProvider::new(settings).unwrap());
    let gate = Arc::new(migspec_runner::limits::RunnerGate::new());
    let description = provider.describe();
    gate.declare(&description.name, &description.rate_limits);
    provider.attach_gate(gate.clone());
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..30 {
        let provider = Arc::clone(&provider);
        tasks.push(tokio::spawn(async move {
            provider.client().show(target(), "missing").await
        }));
    }
    for task in tasks {
        let error = task.await.unwrap().unwrap_err();
        assert!(matches!(error, ProviderError::NotFound { .. }), "{error:?}");
    }
    assert!(
        started.elapsed() >= Duration::from_millis(1400),
        "30 calls spaced 50 ms apart: {:?}",
        started.elapsed()
    );
    assert_eq!(gate.counts().throttled, 0);
    let url = format!("{}/_emulator/stats", emulator.url());
    let stats: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    let show = &stats["services"]["huawei"]["versions"]["v2"]["ShowTaskGroup"];
    assert_eq!(show["throttled"].as_u64().unwrap_or(0), 0, "{show}");
}

#[tokio::test]
async fn authentication_failures_are_auth_errors() {
    let env = Env::start().await;
    let clock = ManualClock::new();
    let wrong = provider_config(&env.emulator.url(), &clock).with_credentials(
        Credentials::access_key("MIGSPECEMULATORAK000", "not-the-secret-key"),
    );
    let provider = HuaweiOmsProvider::new(wrong).unwrap();
    let error = provider.client().list_all(target()).await.unwrap_err();
    let ProviderError::Auth { code, message, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(code, "APIGW.0301");
    assert!(message.contains("HUAWEICLOUD_SDK_AK"), "{message}");
    assert!(!error.to_string().contains("not-the-secret-key"));
    assert_eq!(
        env.stats("ListTaskGroup").await["auth_error"],
        1,
        "not retried"
    );

    let bad_token = provider_config(&env.emulator.url(), &clock)
        .with_credentials(Credentials::token("expired-token"));
    let error = HuaweiOmsProvider::new(bad_token)
        .unwrap()
        .client()
        .list_all(target())
        .await
        .unwrap_err();
    assert!(matches!(error, ProviderError::Auth { .. }), "{error:?}");
}

#[tokio::test]
async fn token_and_security_token_modes_are_accepted() {
    let env = Env::start().await;
    let clock = ManualClock::new();
    let token = provider_config(&env.emulator.url(), &clock)
        .with_credentials(Credentials::token(DEFAULT_HUAWEI_TOKEN));
    let provider = HuaweiOmsProvider::new(token).unwrap();
    provider.client().list_all(target()).await.unwrap();

    let sts = provider_config(&env.emulator.url(), &env.clock).with_credentials(
        Credentials::access_key(
            migspec_emulator::DEFAULT_HUAWEI_AK,
            migspec_emulator::DEFAULT_HUAWEI_SK,
        )
        .with_security_token("TEMPTOKEN123"),
    );
    let provider = HuaweiOmsProvider::new(sts).unwrap();
    provider.client().list_all(target()).await.unwrap();
}

#[tokio::test]
async fn internal_errors_are_sent_once_for_the_runner_to_retry() {
    let clock = ManualClock::new();
    // Seed 3 at rate 0.5: the first two requests fail with HTTP 500, the next ones pass
    // (the emulator draws per request: the same list request, its first three times).
    let faults = FaultConfig {
        seed: Some(3),
        internal_error_rate: 0.5,
        ..FaultConfig::default()
    };
    let env = Env::with(emulator_config(&clock).with_faults(faults), &clock).await;
    for _ in 0..2 {
        let error = client(&env).list_all(target()).await.unwrap_err();
        assert!(
            matches!(error, ProviderError::Internal { ref code, .. } if code == "OMS.0500"),
            "{error:?}"
        );
        assert!(error.is_retryable());
    }
    let groups = client(&env).list_all(target()).await.unwrap();
    assert!(groups.is_empty());
    let list = env.stats("ListTaskGroup").await;
    assert_eq!(list["injected_fault"], 2, "{list}");
    assert_eq!(list["requests"], 3, "{list}");
    assert_eq!(list["ok"], 1);
    // A create is sent once too: after a 500 it may have been taken.
    let faults = FaultConfig {
        seed: Some(1),
        internal_error_rate: 1.0,
        ..FaultConfig::default()
    };
    let env = Env::with(emulator_config(&clock).with_faults(faults), &clock).await;
    let error = client(&env)
        .create(target(), &create_body("x"))
        .await
        .unwrap_err();
    assert!(matches!(error, ProviderError::Internal { .. }));
    assert_eq!(env.stats("CreateTaskGroup").await["requests"], 1);
}

#[tokio::test]
async fn unreachable_endpoints_are_network_errors() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let clock = ManualClock::new();
    let provider =
        HuaweiOmsProvider::new(provider_config(&format!("http://127.0.0.1:{port}"), &clock))
            .unwrap();
    let error = provider.client().list_all(target()).await.unwrap_err();
    let ProviderError::Network {
        endpoint, message, ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(endpoint, &format!("http://127.0.0.1:{port}"));
    assert!(message.contains("list_task_group"), "{message}");
}

#[tokio::test]
async fn missing_credentials_and_project_are_config_errors() {
    let clock = ManualClock::new();
    let mut config = provider_config("http://127.0.0.1:9", &clock);
    config.credentials = None;
    let error = HuaweiOmsProvider::new(config)
        .unwrap()
        .client()
        .list_all(target())
        .await
        .unwrap_err();
    assert!(
        matches!(error, ProviderError::Config { ref message } if message.contains("HUAWEICLOUD_SDK_AK")),
        "{error:?}"
    );
    let provider = HuaweiOmsProvider::new(provider_config("http://127.0.0.1:9", &clock)).unwrap();
    let error = provider
        .client()
        .list_all(Target {
            region: REGION,
            project_id: "",
        })
        .await
        .unwrap_err();
    assert!(
        matches!(error, ProviderError::Config { ref message } if message.contains("HUAWEICLOUD_SDK_PROJECT_ID")),
        "{error:?}"
    );
    let insecure = HuaweiConfig::default().with_endpoint("http://oms.example.com");
    let error = HuaweiOmsProvider::new(insecure).unwrap_err();
    assert!(error.to_string().contains("only loopback"), "{error}");
}

#[tokio::test]
async fn a_poll_reads_two_pages_a_round_and_finds_a_group_gone_after_a_whole_sweep() {
    use migspec_provider::{Address, InFlight, InFlightTarget, RemoteId};

    let env = Env::start().await;
    let unlimited = HuaweiOmsProvider::new(
        provider_config(&env.emulator.url(), &env.clock).with_rate_limit_per_second(0),
    )
    .unwrap();
    let oms = unlimited.client();
    let mut ids = Vec::new();
    for index in 0..250 {
        ids.push(
            oms.create(target(), &create_body(&format!("bulk {index}")))
                .await
                .unwrap(),
        );
    }
    // The oldest group (listed last, at offset 249) is deleted and gone.
    oms.delete(target(), &ids[0]).await.unwrap();
    env.clock.advance(Duration::from_secs(1));
    let in_flight = |name: &str, id: &str| InFlightTarget {
        object: InFlight {
            address: Address(name.to_owned()),
            remote_id: RemoteId(id.to_owned()),
        },
        kind: "HuaweiOmsTaskGroup".to_owned(),
        location: env.location(),
    };
    // The newest (offset 0), one the second page reads (offset 149), the gone one.
    let targets = vec![
        in_flight("newest", &ids[249]),
        in_flight("middle", &ids[100]),
        in_flight("gone", &ids[0]),
    ];
    let lists = |stats: Value| stats["requests"].as_u64().unwrap_or(0);
    let before = lists(env.stats("ListTaskGroup").await);
    let mut rounds = Vec::new();
    for _ in 0..3 {
        let answer = unlimited.poll(targets.clone()).await.unwrap();
        let mut seen: Vec<(String, bool)> = answer
            .iter()
            .map(|observed| (observed.address().0.clone(), observed.object().is_some()))
            .collect();
        seen.sort();
        rounds.push(seen);
    }
    let present = |name: &str| (name.to_owned(), true);
    // Two rounds without news of the gone group (the listing cannot prove it absent: the
    // sweep reads offsets 100–199, then 200–248), then one read by id says it is gone.
    assert_eq!(
        rounds,
        [
            vec![present("middle"), present("newest")],
            vec![present("newest")],
            // The sweep starts again at offset 100.
            vec![
                ("gone".to_owned(), false),
                present("middle"),
                present("newest")
            ],
        ]
    );
    assert_eq!(
        lists(env.stats("ListTaskGroup").await) - before,
        6,
        "two list calls a round"
    );
    assert_eq!(env.stats("ShowTaskGroup").await["requests"], 1);
}
