//! The plugin ABI proven on a real provider: the Huawei OMS provider built as a cdylib
//! (`migspec-huawei-oms-plugin`), loaded through the pinned loader, driven by the runner's
//! own planner and apply engine against the emulator: observe → plan → apply → poll until
//! the task group completes, then an empty plan. An error path crosses the ABI too.

#![allow(clippy::unwrap_used, reason = "test helpers fail loudly by design")]

mod support;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use migspec_emulator::{
    DEFAULT_HUAWEI_AK, DEFAULT_HUAWEI_PROJECT_ID, DEFAULT_HUAWEI_SK, EmulatorConfig, PhaseDurations,
};
use migspec_provider::plugin::host::{PluginProvider, sha256_file};
use migspec_provider::{
    ActionKind, Address, ObserveRequest, ObserveTarget, Provider, ProviderError, RemoteId,
};
use migspec_runner::engine::{self, ApplyOptions, Event, Outcome, Reporter};
use migspec_runner::planner::{self, Selection};
use migspec_runner::providers::Providers;
use migspec_runner::specs::{MissingSecrets, SpecSet};
use migspec_runner::state::{LocalState, LockInfo, StateBackend};
use migspec_spec::secret::{EnvironmentSecrets, SecretPolicy};

const SPEC: &str = r#"apiVersion: migspec/v1
kind: HuaweiOmsTaskGroup
metadata:
  name: media-archive
spec:
  region: cn-north-4
  description: media archive through the plugin ABI
  task_type: PREFIX
  src_node:
    cloud_type: Aliyun
    region: cn-hangzhou
    bucket: media-src
    object_key: [2023/, 2024/]
    ak: {fromEnv: PLUGIN_TEST_SRC_AK}
    sk: {fromEnv: PLUGIN_TEST_SRC_SK}
  dst_node:
    region: cn-north-4
    bucket: media-dst
    ak: {fromEnv: PLUGIN_TEST_DST_AK}
    sk: {fromEnv: PLUGIN_TEST_DST_SK}
  bandwidth_policy:
    - {start: "09:00", end: "18:00", max_bandwidth: 50}
lifecycle:
  desired: completed
"#;

/// A copy of the built plugin at a fresh path: each copy is a library of its own, with its
/// own provider instance configured from the environment of its first call.
fn plugin_copy(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    support::ensure_built(&["migspec-huawei-oms-plugin"]);
    let built = support::built("libmigspec_huawei_oms_plugin.so");
    let copy = dir.path().join(format!("lib{name}.so"));
    std::fs::copy(&built, &copy).unwrap();
    copy
}

/// Sets the variables the plugin (and the spec's secret references) read.
fn configure(endpoint: &str, secret_key: &str) {
    let values = [
        ("MIGSPEC_HUAWEI_OMS_ENDPOINT", endpoint),
        ("HUAWEICLOUD_SDK_AK", DEFAULT_HUAWEI_AK),
        ("HUAWEICLOUD_SDK_SK", secret_key),
        ("HUAWEICLOUD_SDK_PROJECT_ID", DEFAULT_HUAWEI_PROJECT_ID),
        ("HUAWEICLOUD_SDK_CREDENTIALS_FILE", "/nonexistent"),
        ("PLUGIN_TEST_SRC_AK", "src-ak"),
        ("PLUGIN_TEST_SRC_SK", "src-sk"),
        ("PLUGIN_TEST_DST_AK", "dst-ak"),
        ("PLUGIN_TEST_DST_SK", "dst-sk"),
    ];
    for (name, value) in values {
        // SAFETY: this file holds one test, which sets the environment before any plugin
        // call and while no other thread of this test reads or writes it (nextest runs each
        // test in its own process; `cargo test` runs this file's single test alone).
        #[expect(
            unsafe_code,
            reason = "the plugin reads its settings from the environment"
        )]
        unsafe {
            std::env::set_var(name, value);
        }
    }
}

struct Events(std::sync::Mutex<Vec<Event>>);

impl Reporter for Events {
    fn report(&self, event: Event) {
        self.0.lock().unwrap().push(event);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_huawei_provider_as_a_plugin_applies_a_task_group_through_the_abi() {
    let emulator = EmulatorConfig::default()
        .with_durations(PhaseDurations::uniform(Duration::from_millis(50)))
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();

    // A wrong key crosses the ABI as a typed auth error naming OMS's code.
    configure(&emulator.url(), "not-the-secret-key-000000000000000000000");
    let wrong = plugin_copy(&dir, "oms_wrong_key");
    let refused = PluginProvider::load(&wrong, &sha256_file(&wrong).unwrap()).unwrap();
    let error = refused
        .observe(ObserveRequest {
            targets: vec![ObserveTarget {
                address: Address("media-archive".into()),
                kind: "HuaweiOmsTaskGroup".into(),
                revision: None,
                view: None,
                remote_id: Some(RemoteId("4f0c7e9a-0000-0000-0000-000000000000".into())),
                location: serde_json::json!({"region": "cn-north-4", "project_id": DEFAULT_HUAWEI_PROJECT_ID}),
            }],
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ProviderError::Auth { code, .. } if code == "APIGW.0301"),
        "{error:?}"
    );

    // The right key: the whole lifecycle through the runner.
    configure(&emulator.url(), DEFAULT_HUAWEI_SK);
    let path = plugin_copy(&dir, "oms");
    let plugin = PluginProvider::load(&path, &sha256_file(&path).unwrap()).unwrap();
    let description = plugin.describe();
    assert_eq!(description.name, "huawei-oms");
    assert_eq!(description.kinds[0].kind, "HuaweiOmsTaskGroup");
    assert!(description.kinds[0].schema["properties"]["spec"].is_object());

    let mut providers = Providers::new();
    providers.register(Arc::new(plugin)).unwrap();
    let report = migspec_schema::validate_source("media.yaml", SPEC, Default::default());
    assert!(!report.has_errors(), "{:?}", report.diagnostics);
    let specs = SpecSet::build(
        &report.documents,
        &EnvironmentSecrets::new(SecretPolicy::new(dir.path()).unwrap()),
        MissingSecrets::Fail,
    )
    .unwrap();
    let backend = LocalState::new(dir.path().join(".migspec"));

    let planned = planner::plan(
        &providers,
        StateBackend::read(&backend).await.unwrap(),
        specs.clone(),
        &Selection::default(),
    )
    .await
    .unwrap();
    let kinds: Vec<ActionKind> = planned.plan.changes[0]
        .actions
        .iter()
        .map(|a| a.kind)
        .collect();
    assert_eq!(kinds, [ActionKind::Create], "{:?}", planned.plan);

    let events = Arc::new(Events(std::sync::Mutex::new(Vec::new())));
    let held = StateBackend::lock(
        &backend,
        LockInfo::current("plugin test"),
        std::time::Duration::ZERO,
    )
    .await
    .unwrap();
    let options = ApplyOptions {
        poll_interval: Duration::from_millis(20),
        ..ApplyOptions::default()
    };
    let applied = engine::apply(&providers, held, planned, events.clone(), options)
        .await
        .unwrap();
    let address = Address("media-archive".into());
    assert_eq!(
        applied.outcomes[&address],
        Outcome::Converged,
        "{applied:?}"
    );
    // The engine polled through the ABI and saw the group complete.
    let polled_to_completion = events.0.lock().unwrap().iter().any(|event| {
        matches!(event, Event::Observed { observed, .. }
            if observed.object().is_some_and(|o| o.phase == migspec_provider::Phase::Completed))
    });
    assert!(polled_to_completion);
    let state = StateBackend::read(&backend).await.unwrap();
    let resource = &state.resources[&address];
    assert!(resource.remote_id.is_some());
    assert_eq!(resource.location["project_id"], DEFAULT_HUAWEI_PROJECT_ID);

    // Idempotent: a fresh plan through the plugin finds nothing to do.
    let again = planner::plan(&providers, state, specs, &Selection::default())
        .await
        .unwrap();
    assert!(!again.plan.has_changes(), "{:?}", again.plan);
    emulator.shutdown().await;
}
