//! The provider contract's conformance suite run on the OMS provider **through the plugin
//! ABI**: the cdylib `migspec-huawei-oms-plugin`, built by the test and loaded with the
//! host's pinned loader, against the in-process emulator. The same checks the built-in
//! providers pass (`migspec_provider::testing::conformance`), every request and answer
//! crossing the ABI as JSON.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use migspec_emulator::{
    DEFAULT_HUAWEI_AK, DEFAULT_HUAWEI_PROJECT_ID, DEFAULT_HUAWEI_SK, EmulatorConfig, ManualClock,
    PhaseDurations, RunningEmulator,
};
use migspec_provider::plugin::host::{PluginProvider, sha256_file};
use migspec_provider::testing::EmulatorAdmin;
use migspec_provider::testing::conformance::{Fault, Subject, assert_conforms};
use migspec_provider::{
    Address, DesiredSpec, ObserveRequest, ObserveTarget, Provider, ProviderError, ProviderFuture,
};
use serde_json::json;

/// A copy of the built plugin at a fresh path: each copy is a library of its own, with its
/// own provider instance configured from the environment of its first call.
fn plugin(dir: &tempfile::TempDir, name: &str) -> PluginProvider {
    support::ensure_built(&["migspec-huawei-oms-plugin"]);
    let built = support::built("libmigspec_huawei_oms_plugin.so");
    let copy: PathBuf = dir.path().join(format!("lib{name}.so"));
    std::fs::copy(&built, &copy).expect("the built plugin copies");
    let pin = sha256_file(&copy).expect("the copy reads");
    PluginProvider::load(&copy, &pin).expect("the plugin loads")
}

/// Sets the variables the plugin reads on its first call.
fn configure(endpoint: &str, secret_key: &str) {
    let values = [
        ("MIGSPEC_HUAWEI_OMS_ENDPOINT", endpoint),
        ("HUAWEICLOUD_SDK_AK", DEFAULT_HUAWEI_AK),
        ("HUAWEICLOUD_SDK_SK", secret_key),
        ("HUAWEICLOUD_SDK_PROJECT_ID", DEFAULT_HUAWEI_PROJECT_ID),
        ("HUAWEICLOUD_SDK_CREDENTIALS_FILE", "/nonexistent"),
    ];
    for (name, value) in values {
        // SAFETY: this file holds one test, which sets the environment before each plugin's
        // first call and while no other thread of this test reads or writes it (nextest runs
        // each test in its own process; `cargo test` runs this file's single test alone).
        #[expect(
            unsafe_code,
            reason = "the plugin reads its settings from the environment"
        )]
        unsafe {
            std::env::set_var(name, value);
        }
    }
}

/// Makes the plugin's first call, which fixes its configuration from the environment now.
async fn first_call(plugin: &PluginProvider) -> Result<(), ProviderError> {
    plugin
        .observe(ObserveRequest {
            targets: vec![ObserveTarget {
                address: Address("conform-first-call".into()),
                kind: "HuaweiOmsTaskGroup".into(),
                revision: None,
                view: None,
                remote_id: None,
                location: json!({"region": "cn-north-4", "project_id": DEFAULT_HUAWEI_PROJECT_ID}),
            }],
        })
        .await
        .map(drop)
}

fn spec(name: &str) -> DesiredSpec {
    support::oms::task_group(name, "conformance through the plugin ABI", "completed")
}

struct Plugin {
    emulator: RunningEmulator,
    clock: ManualClock,
    admin: EmulatorAdmin,
    plugin: PluginProvider,
    refused: Arc<PluginProvider>,
}

impl Subject for Plugin {
    fn provider(&self) -> &dyn Provider {
        &self.plugin
    }

    fn specs(&self) -> Vec<DesiredSpec> {
        ["plugin-a", "plugin-b", "plugin-spare"]
            .into_iter()
            .map(spec)
            .collect()
    }

    fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    fn calls(&self) -> ProviderFuture<'_, BTreeMap<String, u64>> {
        Box::pin(self.admin.calls())
    }

    fn inject(&self, action: &str, fault: Fault) -> ProviderFuture<'_, ()> {
        let action = action.to_owned();
        Box::pin(async move { self.admin.inject(&action, &fault).await })
    }

    fn clear_faults(&self) -> ProviderFuture<'_, ()> {
        Box::pin(self.admin.clear_faults())
    }

    fn create_action(&self, _kind: &str) -> String {
        "CreateTaskGroup".into()
    }

    fn observe_action(&self, _kind: &str) -> String {
        "ListTaskGroup".into()
    }

    fn with_refused_credentials(&self) -> Box<dyn Provider> {
        Box::new((*self.refused).clone())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_oms_plugin_conforms_to_the_provider_contract_through_the_abi() {
    // The emulator's clock is manual and starts at the real time, so the plugin's signatures
    // (made with the real clock) stay within the emulator's allowed skew while the suite
    // moves it forward by the few seconds its waits need.
    let clock = ManualClock::new();
    let emulator = EmulatorConfig::default()
        .with_clock(Arc::new(clock.clone()))
        .with_durations(PhaseDurations::uniform(Duration::from_millis(100)))
        .with_rate_limit_per_second(0)
        .start()
        .await
        .expect("the emulator starts");
    let dir = tempfile::tempdir().expect("a temporary directory");

    configure(&emulator.url(), "not-the-secret-key-000000000000000000000");
    let refused = plugin(&dir, "oms_refused");
    let error = first_call(&refused)
        .await
        .expect_err("the emulator refuses the key");
    assert!(matches!(error, ProviderError::Auth { .. }), "{error:?}");

    configure(&emulator.url(), DEFAULT_HUAWEI_SK);
    let accepted = plugin(&dir, "oms");
    first_call(&accepted).await.expect("the right key works");

    let subject = Plugin {
        admin: EmulatorAdmin::new(&emulator.url()),
        emulator,
        clock,
        plugin: accepted,
        refused: Arc::new(refused),
    };
    assert_conforms(&subject).await;
    subject.emulator.shutdown().await;
}
