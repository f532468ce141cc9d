//! Error paths against the emulator: refusal by status, not found, throttling then success,
//! internal errors then success, refused credentials, missing credentials, invalid specs.

use std::path::PathBuf;
use std::time::Duration;

use migspec_emulator::{
    ActionFaults, DEFAULT_TENCENT_SECRET_ID, EmulatorConfig, FaultConfig, PhaseDurations,
};
use migspec_provider::{
    Action, ActionKind, Address, ObserveRequest, ObserveTarget, Observed, Provider, ProviderError,
    Recorded, RemoteId, StepOutcome,
};
use migspec_tencent_dts::client::Retry;
use migspec_tencent_dts::credentials::Locations;
use migspec_tencent_dts::{ApiVersion, Credentials, TencentConfig, TencentDtsProvider};
use serde_json::{Value, json};

use crate::support::{doc_2018, doc_2021, harness, harness_with, location};

fn target(document: &Value, remote_id: Option<&str>) -> ObserveTarget {
    ObserveTarget {
        address: Address(document["metadata"]["name"].as_str().unwrap().to_owned()),
        kind: document["kind"].as_str().unwrap().to_owned(),
        remote_id: remote_id.map(|id| RemoteId(id.to_owned())),
        location: location(document),
    }
}

#[tokio::test]
async fn refused_credentials_are_auth_errors_with_the_cloud_code_and_what_to_do() {
    let h = harness_with(EmulatorConfig::default(), |config| {
        config.with_credentials(Credentials::new(DEFAULT_TENCENT_SECRET_ID, "not-the-key"))
    })
    .await;
    let document = doc_2018("auth", "running");
    let error = h
        .provider
        .observe(ObserveRequest {
            targets: vec![target(&document, None)],
        })
        .await
        .unwrap_err();
    let ProviderError::Auth {
        code,
        message,
        request_id,
        ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(code, "AuthFailure.SignatureFailure");
    assert!(message.contains("TENCENTCLOUD_SECRET_KEY"), "{message}");
    assert!(request_id.is_some());
    assert!(!error.to_string().contains("not-the-key"));

    let h = harness_with(EmulatorConfig::default(), |config| {
        config.with_credentials(Credentials::new("AKIDunknown", "k"))
    })
    .await;
    let error = h
        .provider
        .observe(ObserveRequest {
            targets: vec![target(&document, None)],
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ProviderError::Auth { code, .. } if code == "AuthFailure.SecretIdNotFound"),
        "{error:?}"
    );
}

/// Issue 13, item 14: a refused key read from the SDK's credentials file names that file.
#[tokio::test]
async fn refused_credentials_name_the_file_they_came_from() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join(".tencentcloud").join("credentials");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(
        &file,
        format!("[default]\nsecret_id = {DEFAULT_TENCENT_SECRET_ID}\nsecret_key = not-the-key\n"),
    )
    .unwrap();
    let locations = Locations {
        home: Some(home.path()),
        system_file: None,
    };
    let from_file = Credentials::resolve(None, &|_| None, locations)
        .unwrap()
        .unwrap();
    let h = harness_with(EmulatorConfig::default(), |config| {
        config.with_credentials(from_file)
    })
    .await;
    let document = doc_2021("auth", "running");
    let error = h
        .provider
        .observe(ObserveRequest {
            targets: vec![target(&document, None)],
        })
        .await
        .unwrap_err();
    let ProviderError::Auth { code, message, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(code, "AuthFailure.SignatureFailure");
    assert!(
        message.contains(&format!(
            "the credentials came from the SDK credentials file {}",
            file.display()
        )),
        "{message}"
    );
    assert!(!error.to_string().contains("not-the-key"));
}

#[tokio::test]
async fn missing_credentials_name_the_variables_and_planning_still_works() {
    let home = tempfile::tempdir().unwrap();
    let locations = Locations {
        home: Some(home.path()),
        system_file: None,
    };
    let mut config = TencentConfig::from_locations(&|_| None, locations).unwrap();
    config.endpoint = migspec_tencent_dts::Endpoint::Custom("http://127.0.0.1:9".into());
    let provider = TencentDtsProvider::new(config).unwrap();
    let document = doc_2018("nocreds", "running");
    let error = provider
        .observe(ObserveRequest {
            targets: vec![target(&document, None)],
        })
        .await
        .unwrap_err();
    let ProviderError::Config { message } = &error else {
        panic!("{error:?}");
    };
    assert!(message.contains("TENCENTCLOUD_SECRET_ID"), "{message}");
    assert!(message.contains(".tccli"), "{message}");
    assert!(message.contains(".tencentcloud/credentials"), "{message}");
    let description = provider.describe();
    assert_eq!(description.name, "tencent-dts");
    assert!(
        !provider
            .validate("TencentDtsMigrateJob", &document)
            .iter()
            .any(|_| true)
    );
}

#[tokio::test]
async fn refusal_by_status_names_the_current_status() {
    let h = harness(EmulatorConfig::default()).await;
    let document = doc_2018("conflict", "configured");
    let mut remote_id = None;
    h.converge(&document, &mut remote_id, &mut Recorded::default())
        .await;
    let id = remote_id.unwrap().0;
    // Directly: StartMigrateJob on a job that was never checked.
    let error = h
        .provider
        .client()
        .call::<_, Value>(
            ApiVersion::V2018,
            "StartMigrateJob",
            "ap-guangzhou",
            Some(&id),
            &json!({"JobId": id}),
            Retry::Safe,
        )
        .await
        .unwrap_err();
    let api = error.api().unwrap();
    assert_eq!(api.code, "FailedOperation.StatusInConflict");
    let provider_error = error.to_provider_error(Some("1 (creating)"));
    assert!(matches!(
        provider_error,
        ProviderError::StateConflict { .. }
    ));
    assert!(
        provider_error
            .to_string()
            .contains("current status is 1 (creating)")
    );

    // Through the provider: a complete step on a job that never ran fails without a call,
    // naming the status.
    let outcome = h
        .provider
        .apply(migspec_provider::Step {
            address: Address("conflict".into()),
            action: Action::new(ActionKind::Complete, "test"),
            remote_id: Some(RemoteId(id.clone())),
            location: location(&document),
            desired: Some(crate::support::desired(&document)),
            idempotency_key: "k".into(),
            observed: None,
        })
        .await
        .unwrap();
    let StepOutcome::Failed { failure, .. } = outcome else {
        panic!("{outcome:?}");
    };
    assert!(failure.message.contains("1 (creating)"), "{failure:?}");
    h.emulator.shutdown().await;
}

#[tokio::test]
async fn unknown_jobs_are_missing_and_steps_on_them_fail() {
    let h = harness(EmulatorConfig::default()).await;
    let document = doc_2021("ghost", "running");
    let observed = h
        .provider
        .observe(ObserveRequest {
            targets: vec![target(&document, Some("dts-nothere1"))],
        })
        .await
        .unwrap();
    assert!(matches!(observed[0], Observed::Missing { .. }));
    let outcome = h
        .provider
        .apply(migspec_provider::Step {
            address: Address("ghost".into()),
            action: Action::new(ActionKind::Start, "test"),
            remote_id: Some(RemoteId("dts-nothere1".into())),
            location: location(&document),
            desired: Some(crate::support::desired(&document)),
            idempotency_key: "k".into(),
            observed: None,
        })
        .await
        .unwrap();
    assert!(
        matches!(&outcome, StepOutcome::Failed { failure, .. } if failure.message.contains("no longer exists")),
        "{outcome:?}"
    );
    // The API's own answer for an unknown id is a NotFound error.
    let error = h
        .provider
        .client()
        .call::<_, Value>(
            ApiVersion::V2021,
            "StartMigrateJob",
            "ap-guangzhou",
            Some("dts-nothere1"),
            &json!({"JobId": "dts-nothere1"}),
            Retry::Safe,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            error.to_provider_error(None),
            ProviderError::NotFound { .. }
        ),
        "{error:?}"
    );
    h.emulator.shutdown().await;
}

#[tokio::test]
async fn invalid_values_are_a_failed_step_with_the_clouds_message() {
    let h = harness(EmulatorConfig::default()).await;
    let mut document = doc_2018("rejected", "configured");
    // Valid against the typed model, refused by the API: a cvm source without its instance id.
    document["spec"]["SrcInfo"]
        .as_object_mut()
        .unwrap()
        .remove("CvmInstanceId");
    let actions = h.plan(&document, None, &Recorded::default()).await;
    let mut remote_id = None;
    let outcome = h
        .run_step(
            Some(&document),
            &Address("rejected".into()),
            "TencentDtsMigrateJob",
            &location(&document),
            &actions[0],
            &mut remote_id,
        )
        .await;
    let StepOutcome::Failed { failure, observed } = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(failure.code.as_deref(), Some("MissingParameter"));
    assert!(
        failure.message.contains("SrcInfo.CvmInstanceId"),
        "{failure:?}"
    );
    assert!(failure.message.contains("request"), "{failure:?}");
    assert!(matches!(observed, Observed::Missing { .. }));
    h.emulator.shutdown().await;
}

#[tokio::test]
async fn internal_errors_are_retried_and_creates_never_duplicate() {
    let faults = FaultConfig {
        seed: Some(7),
        internal_error_rate: 0.3,
        ..FaultConfig::default()
    };
    let h = harness_with(
        EmulatorConfig::default()
            .with_faults(faults)
            .with_rate_limit_per_second(0),
        |config| {
            config
                .with_retries(12, Duration::from_millis(1), Duration::from_millis(5))
                .with_rate_limit_per_second(0)
        },
    )
    .await;
    for document in [
        doc_2018("flaky-2018", "running"),
        doc_2021("flaky-2021", "running"),
    ] {
        let mut remote_id = None;
        let mut recorded = Recorded::default();
        h.converge(&document, &mut remote_id, &mut recorded).await;
    }
    let stats = h.stats().await;
    assert!(
        stats["total"]["injected_fault"].as_u64().unwrap() > 0,
        "{stats}"
    );
    assert_eq!(
        crate::support::count(&stats, "2018-03-30", "CreateMigrateJob", "ok"),
        1,
        "{stats}"
    );
    assert_eq!(
        crate::support::count(&stats, "2021-12-06", "CreateMigrationService", "ok"),
        1,
        "{stats}"
    );
    h.emulator.shutdown().await;
}

#[tokio::test]
async fn lost_responses_never_duplicate_a_create_or_fail_a_step() {
    // The emulator processes some requests and then closes the connection without an
    // answer: the client cannot know whether they took effect.
    // Every create is processed and its answer lost (per-action rates, so this does not hang
    // on which draw of the seeded sequence a create gets), and a quarter of the other answers.
    let lost = ActionFaults {
        drop_response_rate: Some(1.0),
        ..ActionFaults::default()
    };
    let faults = FaultConfig {
        seed: Some(5),
        drop_response_rate: 0.25,
        actions: ["CreateMigrateJob", "CreateMigrationService"]
            .into_iter()
            .map(|action| (action.to_owned(), lost.clone()))
            .collect(),
        ..FaultConfig::default()
    };
    let h = harness_with(
        EmulatorConfig::default()
            .with_faults(faults)
            .with_rate_limit_per_second(0),
        |config| {
            config
                .with_retries(12, Duration::from_millis(1), Duration::from_millis(5))
                .with_rate_limit_per_second(0)
        },
    )
    .await;
    for document in [
        doc_2018("lost-2018", "completed"),
        doc_2021("lost-2021", "completed"),
    ] {
        let mut remote_id = None;
        let mut recorded = Recorded::default();
        h.converge(&document, &mut remote_id, &mut recorded).await;
        let observed = h.observe(&document, remote_id.as_ref()).await;
        assert_eq!(
            observed.object().unwrap().phase,
            migspec_provider::Phase::Completed
        );
    }
    let stats = h.stats().await;
    for (version, action) in [
        ("2018-03-30", "CreateMigrateJob"),
        ("2021-12-06", "CreateMigrationService"),
    ] {
        // Exactly one request, answered by a dropped connection: found by its tag after.
        assert_eq!(
            crate::support::count(&stats, version, action, "requests"),
            1,
            "{stats}"
        );
        assert_eq!(
            crate::support::count(&stats, version, action, "injected_fault"),
            1,
            "{stats}"
        );
    }
    assert!(
        stats["total"]["injected_fault"].as_u64().unwrap() > 0,
        "{stats}"
    );
    h.emulator.shutdown().await;
}

#[tokio::test]
async fn throttled_requests_are_retried_until_they_pass() {
    // The emulator's real clock refills its buckets; our own limiter is off.
    let emulator = EmulatorConfig::default()
        .with_rate_limit_per_second(10)
        .start()
        .await
        .unwrap();
    let config = crate::support::config(&emulator.url(), &migspec_emulator::ManualClock::new())
        .with_clock(migspec_tencent_dts::Clock::system())
        .with_rate_limit_per_second(0)
        .with_retries(8, Duration::from_millis(50), Duration::from_millis(400));
    let provider = TencentDtsProvider::new(config).unwrap();
    let calls = (0..16).map(|index| {
        let document = doc_2018(&format!("t-{index}"), "running");
        provider.observe(ObserveRequest {
            targets: vec![target(&document, None)],
        })
    });
    let results = futures_join(calls.collect()).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let stats: Value = reqwest::get(format!("{}/_emulator/stats", emulator.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(stats["total"]["throttled"].as_u64().unwrap() > 0, "{stats}");
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_client_side_limiter_keeps_a_normal_run_unthrottled() {
    let emulator = EmulatorConfig::default().start().await.unwrap();
    let config = crate::support::config(&emulator.url(), &migspec_emulator::ManualClock::new())
        .with_clock(migspec_tencent_dts::Clock::system())
        .with_retries(1, Duration::from_millis(1), Duration::from_millis(1));
    let provider = TencentDtsProvider::new(config).unwrap();
    let calls = (0..30).map(|index| {
        let document = doc_2018(&format!("l-{index}"), "running");
        provider.observe(ObserveRequest {
            targets: vec![target(&document, None)],
        })
    });
    let results = futures_join(calls.collect()).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let stats: Value = reqwest::get(format!("{}/_emulator/stats", emulator.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["total"]["throttled"], 0, "{stats}");
    assert_eq!(stats["total"]["requests"], 30, "{stats}");
    emulator.shutdown().await;
}

/// Runs futures concurrently on the current task.
async fn futures_join<T>(
    futures: Vec<migspec_provider::ProviderFuture<'_, T>>,
) -> Vec<Result<T, ProviderError>> {
    let mut set = Vec::new();
    for future in futures {
        set.push(future);
    }
    let mut results: Vec<Option<Result<T, ProviderError>>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|context| {
        let mut pending = false;
        for (index, future) in set.iter_mut().enumerate() {
            if results[index].is_none() {
                match future.as_mut().poll(context) {
                    std::task::Poll::Ready(result) => results[index] = Some(result),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    results.into_iter().map(Option::unwrap).collect()
}

#[tokio::test]
async fn the_sample_specs_observe_back_without_a_diff() {
    let h = harness(EmulatorConfig::default().with_durations(PhaseDurations::default())).await;
    let specs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../specs");
    let mut seen = 0;
    for entry in std::fs::read_dir(&specs).unwrap() {
        let path = entry.unwrap().path();
        for loaded in migspec_spec::load::load_file(&path).unwrap() {
            let mut document = loaded.root.to_json();
            if !document["kind"]
                .as_str()
                .unwrap_or_default()
                .starts_with("TencentDts")
            {
                continue;
            }
            seen += 1;
            document["lifecycle"] = json!({"desired": "configured"});
            let mut remote_id = None;
            let mut recorded = Recorded::default();
            let applied = h.converge(&document, &mut remote_id, &mut recorded).await;
            assert_eq!(applied, [ActionKind::Create], "{}", path.display());
            let observed = h.observe(&document, remote_id.as_ref()).await;
            let view = observed.object().unwrap().view.to_string();
            assert!(!view.contains("secret-for-"), "{}: {view}", path.display());
            assert!(
                h.plan(&document, remote_id.as_ref(), &recorded)
                    .await
                    .is_empty(),
                "{}",
                path.display()
            );
        }
    }
    assert!(seen >= 5, "{seen}");
    h.emulator.shutdown().await;
}

#[tokio::test]
async fn import_writes_a_spec_with_placeholders_for_secrets() {
    let h = harness(EmulatorConfig::default()).await;
    for document in [
        doc_2018("imp-2018", "running"),
        doc_2021("imp-2021", "running"),
    ] {
        let mut remote_id = None;
        h.converge(&document, &mut remote_id, &mut Recorded::default())
            .await;
        let imported = h
            .provider
            .import(migspec_provider::ImportRequest {
                kind: document["kind"].as_str().unwrap().to_owned(),
                address: Address("adopted".into()),
                remote_id: remote_id.clone().unwrap(),
                location: location(&document),
            })
            .await
            .unwrap();
        let spec = &imported.document;
        assert_eq!(spec["apiVersion"], "migspec/v1");
        assert_eq!(spec["kind"], document["kind"]);
        assert_eq!(spec["metadata"]["name"], "adopted");
        assert_eq!(spec["lifecycle"]["desired"], "running");
        if document["kind"] == "TencentDtsMigrateJob" {
            assert_eq!(
                spec["spec"]["SrcInfo"]["Password"],
                json!({"fromEnv": "ADOPTED_SRC_PASSWORD"})
            );
            assert_eq!(
                imported.unreadable,
                ["/spec/SrcInfo/Password", "/spec/DstInfo/Password"]
            );
            let typed: migspec_spec::model::TencentDtsMigrateJob =
                serde_json::from_value(spec.clone()).unwrap();
            assert_eq!(typed.spec.job_name, "imp-2018");
        } else {
            assert_eq!(
                spec["spec"]["SrcInfo"]["Info"][0]["Password"],
                json!({"fromEnv": "ADOPTED_SRC_PASSWORD"})
            );
            assert_eq!(
                imported.unreadable,
                [
                    "/spec/SrcInfo/Info/0/Password",
                    "/spec/DstInfo/Info/0/Password"
                ]
            );
            let typed: migspec_spec::model::TencentDtsMigrationJob =
                serde_json::from_value(spec.clone()).unwrap();
            assert_eq!(typed.spec.instance_class.as_str(), "small");
        }
    }
    h.emulator.shutdown().await;
}
