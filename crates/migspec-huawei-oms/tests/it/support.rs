//! An emulator with a manual clock, a provider pointed at it, specs, and the test kit's
//! `Driver`, which applies steps and polls their waits the way the real runner does.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use migspec_emulator::{
    Clock as _, DEFAULT_HUAWEI_AK, DEFAULT_HUAWEI_PROJECT_ID, DEFAULT_HUAWEI_SK, EmulatorConfig,
    ManualClock, PhaseDurations, RunningEmulator,
};
use migspec_huawei_oms::{Clock, Credentials, HuaweiConfig, HuaweiOmsProvider};
use migspec_provider::testing::{Driver, Tracked};
use migspec_provider::{
    Action, Address, DesiredSpec, ObserveRequest, ObserveTarget, Observed, PlanRequest, Provider,
    Recorded, RemoteId, StepOutcome,
};
use migspec_spec::secret::Secret;
use serde_json::{Value, json};

pub const PROJECT: &str = DEFAULT_HUAWEI_PROJECT_ID;
pub const REGION: &str = "cn-north-4";

pub struct Env {
    pub emulator: RunningEmulator,
    pub clock: ManualClock,
    pub provider: HuaweiOmsProvider,
}

/// Short phases: 100 ms each, so a migration takes a few clock advances.
pub fn durations() -> PhaseDurations {
    PhaseDurations::uniform(Duration::from_millis(100))
}

/// The emulator configuration every test starts from: manual clock, short phases, no
/// server-side throttling (tests of throttling set it).
pub fn emulator_config(clock: &ManualClock) -> EmulatorConfig {
    EmulatorConfig::default()
        .with_clock(Arc::new(clock.clone()))
        .with_durations(durations())
        .with_rate_limit_per_second(0)
}

pub fn provider_config(url: &str, clock: &ManualClock) -> HuaweiConfig {
    let clock = clock.clone();
    HuaweiConfig::default()
        .with_endpoint(url)
        .with_credentials(Credentials::access_key(
            DEFAULT_HUAWEI_AK,
            DEFAULT_HUAWEI_SK,
        ))
        .with_project_id(PROJECT)
        .with_poll_interval(Duration::from_millis(10))
        .with_clock(Clock::from_fn(move || {
            UNIX_EPOCH + Duration::from_millis(clock.now_ms())
        }))
}

impl Env {
    pub async fn start() -> Self {
        let clock = ManualClock::new();
        Self::with(emulator_config(&clock), &clock).await
    }

    pub async fn with(config: EmulatorConfig, clock: &ManualClock) -> Self {
        let emulator = config.start().await.unwrap();
        let provider = HuaweiOmsProvider::new(provider_config(&emulator.url(), clock)).unwrap();
        Self {
            emulator,
            clock: clock.clone(),
            provider,
        }
    }

    pub fn location(&self) -> Value {
        json!({"region": REGION, "project_id": PROJECT})
    }

    /// The emulator's request counters for one OMS action (`ListTaskGroup`, …).
    pub async fn stats(&self, action: &str) -> Value {
        let url = format!("{}/_emulator/stats", self.emulator.url());
        let stats: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
        stats["services"]["huawei"]["versions"]["v2"][action].clone()
    }

    pub async fn observe(&self, address: &str, remote_id: Option<&str>) -> Observed {
        let mut observed = self
            .provider
            .observe(ObserveRequest {
                targets: vec![ObserveTarget {
                    address: Address(address.to_owned()),
                    kind: "HuaweiOmsTaskGroup".to_owned(),
                    revision: None,
                    view: None,
                    remote_id: remote_id.map(|id| RemoteId(id.to_owned())),
                    location: self.location(),
                }],
            })
            .await
            .unwrap();
        assert_eq!(observed.len(), 1);
        observed.remove(0)
    }

    pub fn plan(
        &self,
        desired: Option<&DesiredSpec>,
        address: &str,
        observed: &Observed,
        recorded: Recorded,
    ) -> Vec<Action> {
        self.provider
            .plan(&PlanRequest {
                address: Address(address.to_owned()),
                desired: desired.cloned(),
                observed: observed.clone(),
                recorded,
                orphans: desired.is_none().into(),
            })
            .unwrap()
    }

    /// The test kit's driver for this provider, moving the emulator's clock at least 25 ms per
    /// poll.
    pub fn driver(&self) -> Driver<'_> {
        let clock = self.clock.clone();
        // Retrying as the runner does: the clients send each request once.
        Driver::new(&self.provider, move |by| {
            clock.advance(by.max(Duration::from_millis(25)));
        })
        .with_retries(40)
    }

    /// Applies one action the way the runner does — from a fresh batched observation, polling
    /// (with the emulator's clock advanced, no real sleeps) until its wait is satisfied, then
    /// applying again — and returns what was observed last, or the cloud's failure.
    pub async fn run(
        &self,
        address: &str,
        action: Action,
        remote_id: Option<&str>,
        desired: Option<&DesiredSpec>,
    ) -> Result<Observed, migspec_provider::Failure> {
        let address = Address(address.to_owned());
        let mut tracked = Tracked {
            address: address.clone(),
            kind: "HuaweiOmsTaskGroup".to_owned(),
            location: self.location(),
            recorded: Recorded {
                remote_id: remote_id.map(|id| RemoteId(id.to_owned())),
                ..Recorded::default()
            },
            observed: Observed::Missing {
                address: address.clone(),
            },
        };
        let driver = self.driver();
        driver.observe(&mut [&mut tracked]).await.unwrap();
        match driver.step(desired, &mut tracked, &action).await {
            Ok(StepOutcome::Done { observed }) => Ok(observed),
            Ok(StepOutcome::Failed { failure, .. }) => Err(failure),
            Ok(other) => panic!("{address}: the driver ended a step with {other:?}"),
            Err(error) => panic!("{error}"),
        }
    }
}

/// The id of an observed object.
pub fn id_of(observed: &Observed) -> String {
    observed.object().expect("present").id.0.clone()
}

/// A `HuaweiOmsTaskGroup` document like `specs/media-archive-oms.yaml`.
pub fn document(name: &str, desired: &str) -> Value {
    json!({
        "apiVersion": "migspec/v1",
        "kind": "HuaweiOmsTaskGroup",
        "metadata": {"name": name, "labels": {"team": "media"}},
        "spec": {
            "region": REGION,
            "project_id": {"fromEnv": "HUAWEICLOUD_SDK_PROJECT_ID"},
            "description": "media archive 2023-2024",
            "task_type": "PREFIX",
            "src_node": {
                "cloud_type": "Aliyun",
                "region": "cn-hangzhou",
                "bucket": "media-src",
                "object_key": ["2023/", "2024/"],
                "ak": {"fromEnv": "ALI_AK"},
                "sk": {"fromEnv": "ALI_SK"}
            },
            "dst_node": {
                "region": REGION,
                "bucket": "media-dst",
                "save_prefix": "archive/",
                "ak": {"fromEnv": "HW_AK"},
                "sk": {"fromEnv": "HW_SK"}
            },
            "object_overwrite_mode": "SIZE_LAST_MODIFIED_COMPARISON_OVERWRITE",
            "consistency_check": "crc64",
            "enable_failed_object_recording": true,
            "bandwidth_policy": [{"max_bandwidth": 100, "start": "00:00", "end": "06:00"}]
        },
        "lifecycle": {
            "desired": desired,
            "onFailure": {"action": "retry", "migrate_failed_object": true, "maxAttempts": 3}
        }
    })
}

/// A desired spec with its secrets resolved as the runner would.
pub fn desired(document: Value) -> DesiredSpec {
    let name = document["metadata"]["name"].as_str().unwrap().to_owned();
    let mut secrets = BTreeMap::new();
    for (pointer, value) in [
        ("/spec/project_id", PROJECT),
        ("/spec/src_node/ak", "SRCAK-VALUE"),
        ("/spec/src_node/sk", "SRCSK-VALUE"),
        ("/spec/dst_node/ak", "DSTAK-VALUE"),
        ("/spec/dst_node/sk", "DSTSK-VALUE"),
    ] {
        if document.pointer(pointer).is_some() {
            secrets.insert(pointer.to_owned(), Secret::new(value));
        }
    }
    DesiredSpec {
        address: Address(name),
        kind: "HuaweiOmsTaskGroup".to_owned(),
        document,
        secrets,
    }
}

/// The kinds of a plan, for compact assertions.
pub fn kinds(actions: &[Action]) -> Vec<&'static str> {
    actions.iter().map(|action| action.kind.verb()).collect()
}
