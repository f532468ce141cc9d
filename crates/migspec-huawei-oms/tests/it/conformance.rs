//! The provider contract's conformance suite for the built-in OMS provider against the
//! in-process emulator (`migspec_provider::testing`).

use std::collections::BTreeMap;
use std::time::Duration;

use migspec_emulator::DEFAULT_HUAWEI_AK;
use migspec_huawei_oms::{Credentials, HuaweiOmsProvider};
use migspec_provider::testing::EmulatorAdmin;
use migspec_provider::testing::conformance::{Fault, Subject, assert_conforms};
use migspec_provider::{DesiredSpec, Provider, ProviderFuture};

use crate::support::{Env, desired, document, provider_config};

struct Oms {
    env: Env,
    admin: EmulatorAdmin,
}

impl Subject for Oms {
    fn provider(&self) -> &dyn Provider {
        &self.env.provider
    }

    fn specs(&self) -> Vec<DesiredSpec> {
        // Two converge (batching needs two of the kind); the last is the spare the suite
        // creates with a lost response.
        ["conform-oms-a", "conform-oms-b", "conform-oms-spare"]
            .into_iter()
            .map(|name| {
                let mut document = document(name, "completed");
                // Each group its own prefix, so no two groups are the same migration.
                document["spec"]["dst_node"]["save_prefix"] = serde_json::json!(format!("{name}/"));
                desired(document)
            })
            .collect()
    }

    fn advance(&self, by: Duration) {
        self.env.clock.advance(by);
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
        "CreateTaskGroup".to_owned()
    }

    fn observe_action(&self, _kind: &str) -> String {
        "ListTaskGroup".to_owned()
    }

    fn with_refused_credentials(&self) -> Box<dyn Provider> {
        let refused = provider_config(&self.env.emulator.url(), &self.env.clock).with_credentials(
            Credentials::access_key(DEFAULT_HUAWEI_AK, "not-the-emulators-secret-key-0000000000"),
        );
        Box::new(HuaweiOmsProvider::new(refused).expect("a provider with other credentials"))
    }
}

#[tokio::test]
async fn huawei_oms_conforms_to_the_provider_contract() {
    let env = Env::start().await;
    let admin = EmulatorAdmin::new(&env.emulator.url());
    let subject = Oms { env, admin };
    assert_conforms(&subject).await;
    subject.env.emulator.shutdown().await;
}
