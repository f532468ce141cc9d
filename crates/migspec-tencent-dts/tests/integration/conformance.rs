//! The provider contract's conformance suite against the in-process emulator, for both API
//! versions: the same checks every provider passes (`migspec_provider::testing`).

use std::collections::BTreeMap;
use std::time::Duration;

use migspec_emulator::{DEFAULT_TENCENT_SECRET_ID, EmulatorConfig};
use migspec_provider::testing::EmulatorAdmin;
use migspec_provider::testing::conformance::{Fault, Subject, assert_conforms};
use migspec_provider::{DesiredSpec, Provider, ProviderFuture};
use migspec_tencent_dts::{Credentials, TencentDtsProvider};

use crate::support::{Harness, config, desired, doc_2018, doc_2021, harness};

struct Tencent {
    harness: Harness,
    admin: EmulatorAdmin,
}

impl Subject for Tencent {
    fn provider(&self) -> &dyn Provider {
        &self.harness.provider
    }

    fn specs(&self) -> Vec<DesiredSpec> {
        // Two of each kind converge (batching is checked per kind); the last is the spare the
        // suite creates with a lost response.
        [
            doc_2018("conform-2018-a", "running"),
            doc_2018("conform-2018-b", "running"),
            doc_2021("conform-2021-a", "running"),
            doc_2021("conform-2021-b", "running"),
            doc_2018("conform-2018-spare", "configured"),
        ]
        .iter()
        .map(desired)
        .collect()
    }

    fn advance(&self, by: Duration) {
        self.harness.clock.advance(by);
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

    fn create_action(&self, kind: &str) -> String {
        if kind == "TencentDtsMigrateJob" {
            "CreateMigrateJob"
        } else {
            "CreateMigrationService"
        }
        .to_owned()
    }

    fn observe_action(&self, kind: &str) -> String {
        if kind == "TencentDtsMigrateJob" {
            "DescribeMigrateJobs"
        } else {
            "DescribeMigrationJobs"
        }
        .to_owned()
    }

    fn per_object_actions(&self, kind: &str) -> Vec<String> {
        // The 2021 listing carries no `MigrateOption`; only the per-job detail does.
        if kind == "TencentDtsMigrationJob" {
            vec!["DescribeMigrationDetail".to_owned()]
        } else {
            Vec::new()
        }
    }

    fn with_refused_credentials(&self) -> Box<dyn Provider> {
        let refused = config(&self.harness.emulator.url(), &self.harness.clock)
            .with_rate_limit_per_second(0)
            .with_credentials(Credentials::new(
                DEFAULT_TENCENT_SECRET_ID,
                "not-the-emulators-secret-key",
            ));
        Box::new(TencentDtsProvider::new(refused).expect("a provider with other credentials"))
    }
}

#[tokio::test]
async fn tencent_dts_conforms_to_the_provider_contract() {
    let harness = harness(EmulatorConfig::default()).await;
    let admin = EmulatorAdmin::new(&harness.emulator.url());
    let subject = Tencent { harness, admin };
    assert_conforms(&subject).await;
    subject.harness.emulator.shutdown().await;
}
