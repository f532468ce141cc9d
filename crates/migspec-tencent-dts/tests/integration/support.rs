//! A provider wired to an in-process emulator with a manual clock, driven by the test kit's
//! `Driver` (the runner's apply loop, moving the emulator's clock instead of sleeping).

#![allow(
    clippy::unwrap_used,
    reason = "test helpers panic on failures, like the tests using them"
)]

use std::sync::Arc;
use std::time::Duration;

use migspec_emulator::{
    DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY, EmulatorConfig, ManualClock,
    RunningEmulator,
};
use migspec_provider::testing::{Driver, Tracked};
use migspec_provider::{
    Action, ActionKind, Address, DesiredSpec, ObserveRequest, ObserveTarget, Observed, PlanRequest,
    Provider, Recorded, RemoteId, StepOutcome,
};
use migspec_spec::secret::Secret;
use migspec_tencent_dts::{Clock, Credentials, Endpoint, TencentConfig, TencentDtsProvider};
use serde_json::{Value, json};

pub(crate) struct Harness {
    pub(crate) emulator: RunningEmulator,
    pub(crate) clock: ManualClock,
    pub(crate) provider: TencentDtsProvider,
}

/// Provider settings for tests: fast retries, short poll delays, the emulator's clock.
pub(crate) fn config(url: &str, clock: &ManualClock) -> TencentConfig {
    let signing = clock.clone();
    TencentConfig::default()
        .with_credentials(Credentials::new(
            DEFAULT_TENCENT_SECRET_ID,
            DEFAULT_TENCENT_SECRET_KEY,
        ))
        .with_endpoint(Endpoint::Custom(url.to_owned()))
        .with_clock(Clock::from_fn(move || {
            i64::try_from(signing.now_secs()).unwrap_or(i64::MAX)
        }))
        .with_poll_after(Duration::from_millis(10))
}

/// An emulator without throttling (the manual clock only moves when told to), and a
/// provider without its client-side limiter (which would pace these tests in real time).
pub(crate) async fn harness(emulator: EmulatorConfig) -> Harness {
    harness_with(emulator.with_rate_limit_per_second(0), |config| {
        config.with_rate_limit_per_second(0)
    })
    .await
}

pub(crate) async fn harness_with(
    emulator: EmulatorConfig,
    adjust: impl FnOnce(TencentConfig) -> TencentConfig,
) -> Harness {
    let clock = ManualClock::new();
    let emulator = emulator
        .with_clock(Arc::new(clock.clone()))
        .start()
        .await
        .unwrap();
    let provider = TencentDtsProvider::new(adjust(config(&emulator.url(), &clock))).unwrap();
    Harness {
        emulator,
        clock,
        provider,
    }
}

/// A 2018 spec document (MySQL on CVM to TencentDB, two tables, full + incremental).
pub(crate) fn doc_2018(name: &str, desired: &str) -> Value {
    json!({
        "apiVersion": "migspec/v1",
        "kind": "TencentDtsMigrateJob",
        "metadata": {"name": name},
        "spec": {
            "region": "ap-guangzhou",
            "JobName": name,
            "MigrateOption": {"RunMode": 1, "MigrateType": 3, "MigrateObject": 2, "ConsistencyType": 5},
            "SrcDatabaseType": "mysql",
            "SrcAccessType": "cvm",
            "SrcInfo": {"CvmInstanceId": "ins-1a2b3c4d", "Port": 3306, "User": "dts", "Password": {"fromEnv": "SRC_PW"}, "Region": "ap-guangzhou"},
            "DstDatabaseType": "mysql",
            "DstAccessType": "cdb",
            "DstInfo": {"InstanceId": "cdb-9z8y7x6w", "Region": "ap-guangzhou", "User": "root", "Password": {"fromEnv": "DST_PW"}},
            "DatabaseInfo": [{"Database": "orders", "Table": ["orders", "order_items"]}],
            "Tags": [{"TagKey": "owner", "TagValue": "payments"}]
        },
        "lifecycle": {"desired": desired}
    })
}

/// A 2021 spec document (MySQL on CVM to TencentDB, partial selection).
pub(crate) fn doc_2021(name: &str, desired: &str) -> Value {
    json!({
        "apiVersion": "migspec/v1",
        "kind": "TencentDtsMigrationJob",
        "metadata": {"name": name},
        "spec": {
            "region": "ap-guangzhou",
            "JobName": name,
            "SrcDatabaseType": "mysql",
            "DstDatabaseType": "mysql",
            "SrcRegion": "ap-guangzhou",
            "DstRegion": "ap-guangzhou",
            "InstanceClass": "small",
            "RunMode": "immediate",
            "MigrateOption": {
                "MigrateType": "fullAndIncrement",
                "DatabaseTable": {"ObjectMode": "partial", "Databases": [
                    {"DbName": "inventory", "DBMode": "partial", "TableMode": "partial",
                     "Tables": [{"TableName": "stock"}, {"TableName": "old", "NewTableName": "new", "TableEditMode": "rename"}]}
                ]},
                "Consistency": {"Mode": "full"}
            },
            "SrcInfo": {"Region": "ap-guangzhou", "AccessType": "cvm", "DatabaseType": "mysql", "NodeType": "simple",
                        "Info": [{"CvmInstanceId": "ins-6f5e4d3c", "Port": 3306, "User": "dts", "Password": {"fromEnv": "SRC_PW"}}]},
            "DstInfo": {"Region": "ap-guangzhou", "AccessType": "cdb", "DatabaseType": "mysql", "NodeType": "simple",
                        "Info": [{"InstanceId": "cdb-3c2b1a0z", "User": "root", "Password": {"fromEnv": "DST_PW"}}]},
            "AutoRetryTimeRangeMinutes": 30,
            "Tags": [{"TagKey": "team", "TagValue": "supply"}]
        },
        "lifecycle": {"desired": desired}
    })
}

/// The desired spec with every `{fromEnv: …}` resolved to a test value.
pub(crate) fn desired(document: &Value) -> DesiredSpec {
    let mut secrets = std::collections::BTreeMap::new();
    collect_secrets(&document["spec"], "/spec", &mut secrets);
    DesiredSpec {
        address: Address(document["metadata"]["name"].as_str().unwrap().to_owned()),
        kind: document["kind"].as_str().unwrap().to_owned(),
        document: document.clone(),
        secrets,
    }
}

fn collect_secrets(
    value: &Value,
    pointer: &str,
    out: &mut std::collections::BTreeMap<String, Secret>,
) {
    match value {
        Value::Object(map) if map.contains_key("fromEnv") || map.contains_key("fromFile") => {
            out.insert(
                pointer.to_owned(),
                Secret::new(format!("secret-for-{pointer}")),
            );
        }
        Value::Object(map) => {
            for (key, child) in map {
                collect_secrets(child, &format!("{pointer}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                collect_secrets(child, &format!("{pointer}/{index}"), out);
            }
        }
        _ => {}
    }
}

/// The spec body with secrets removed: what a view must equal.
pub(crate) fn body_without_secrets(document: &Value) -> Value {
    fn strip(value: &Value) -> Option<Value> {
        match value {
            Value::Object(map) if map.contains_key("fromEnv") || map.contains_key("fromFile") => {
                None
            }
            Value::Object(map) => Some(Value::Object(
                map.iter()
                    .filter_map(|(key, child)| strip(child).map(|child| (key.clone(), child)))
                    .collect(),
            )),
            Value::Array(items) => Some(Value::Array(items.iter().filter_map(strip).collect())),
            other => Some(other.clone()),
        }
    }
    strip(&document["spec"]).unwrap()
}

pub(crate) fn location(document: &Value) -> Value {
    let version = if document["kind"] == "TencentDtsMigrateJob" {
        "2018-03-30"
    } else {
        "2021-12-06"
    };
    json!({"region": document["spec"]["region"], "version": version})
}

impl Harness {
    pub(crate) async fn observe(&self, document: &Value, remote_id: Option<&RemoteId>) -> Observed {
        let mut observed = self
            .retrying(|| {
                self.provider.observe(ObserveRequest {
                    targets: vec![ObserveTarget {
                        address: Address(document["metadata"]["name"].as_str().unwrap().to_owned()),
                        kind: document["kind"].as_str().unwrap().to_owned(),
                        revision: None,
                        view: None,
                        remote_id: remote_id.cloned(),
                        location: location(document),
                    }],
                })
            })
            .await;
        observed.pop().unwrap()
    }

    pub(crate) async fn plan(
        &self,
        document: &Value,
        remote_id: Option<&RemoteId>,
        recorded: &Recorded,
    ) -> Vec<Action> {
        let observed = self.observe(document, remote_id).await;
        self.provider
            .plan(&PlanRequest {
                address: observed.address().clone(),
                desired: Some(desired(document)),
                observed,
                recorded: recorded.clone(),
                orphans: migspec_provider::Orphans::Keep,
            })
            .unwrap()
    }

    /// Repeats a provider call on retryable errors, as the runner does (the clients send
    /// each request once; retries are the runner's). A create is safe to repeat here because
    /// the provider looks for the job by its tag before creating.
    pub(crate) async fn retrying<'a, T>(
        &'a self,
        call: impl Fn() -> migspec_provider::ProviderFuture<'a, T>,
    ) -> T {
        let mut last = None;
        for _ in 0..40 {
            match call().await {
                Ok(value) => return value,
                Err(error) if error.is_retryable() => {
                    last = Some(error);
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                Err(error) => panic!("provider call failed: {error}"),
            }
        }
        panic!("provider call kept failing: {last:?}");
    }

    /// The test kit's driver for this provider, moving the emulator's clock at least 50 ms per
    /// poll (the emulator's default phases take seconds of its clock).
    pub(crate) fn driver(&self) -> Driver<'_> {
        let clock = self.clock.clone();
        // Retrying as the runner does: the clients send each request once.
        Driver::new(&self.provider, move |by| {
            clock.advance(by.max(Duration::from_millis(50)));
        })
        .with_retries(40)
    }

    /// Applies one step the way the runner does (from a fresh observation, polling until its
    /// wait is satisfied, applying again); returns the last outcome (`Done` or `Failed`) and
    /// the remote id it reports.
    pub(crate) async fn run_step(
        &self,
        document: Option<&Value>,
        address: &Address,
        kind: &str,
        location: &Value,
        action: &Action,
        remote_id: &mut Option<RemoteId>,
    ) -> StepOutcome {
        let mut tracked = Tracked {
            address: address.clone(),
            kind: kind.to_owned(),
            location: location.clone(),
            recorded: Recorded {
                remote_id: remote_id.clone(),
                ..Recorded::default()
            },
            observed: Observed::Missing {
                address: address.clone(),
            },
        };
        let driver = self.driver();
        driver.observe(&mut [&mut tracked]).await.unwrap();
        let desired = document.map(desired);
        let outcome = driver
            .step(desired.as_ref(), &mut tracked, action)
            .await
            .unwrap_or_else(|error| panic!("{address}: {error}"));
        remote_id.clone_from(&tracked.recorded.remote_id);
        outcome
    }

    /// Plans and applies until the plan is empty; returns every action applied.
    pub(crate) async fn converge(
        &self,
        document: &Value,
        remote_id: &mut Option<RemoteId>,
        recorded: &mut Recorded,
    ) -> Vec<ActionKind> {
        let desired = desired(document);
        let mut tracked = Tracked {
            address: desired.address.clone(),
            kind: desired.kind.clone(),
            location: location(document),
            recorded: Recorded {
                remote_id: remote_id.clone(),
                ..recorded.clone()
            },
            observed: Observed::Missing {
                address: desired.address.clone(),
            },
        };
        let applied = self
            .driver()
            .converge(&desired, &mut tracked)
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        remote_id.clone_from(&tracked.recorded.remote_id);
        *recorded = Recorded {
            remote_id: recorded.remote_id.clone(),
            ..tracked.recorded
        };
        applied
    }

    /// The emulator's request counters.
    pub(crate) async fn stats(&self) -> Value {
        reqwest::get(format!("{}/_emulator/stats", self.emulator.url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// Requests the emulator answered for one action.
pub(crate) fn count(stats: &Value, version: &str, action: &str, outcome: &str) -> u64 {
    stats["services"]["tencent"]["versions"][version][action][outcome]
        .as_u64()
        .unwrap_or(0)
}
