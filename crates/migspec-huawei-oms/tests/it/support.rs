//! An emulator with a manual clock, a provider pointed at it, specs, and a small runner
//! that applies steps and polls their waits the way the real runner does.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use migspec_emulator::{
    Clock as _, DEFAULT_HUAWEI_AK, DEFAULT_HUAWEI_PROJECT_ID, DEFAULT_HUAWEI_SK, EmulatorConfig,
    ManualClock, PhaseDurations, RunningEmulator,
};
use migspec_huawei_oms::{Clock, Credentials, HuaweiConfig, HuaweiOmsProvider};
use migspec_provider::{
    Action, Address, DesiredSpec, InFlight, InFlightTarget, ObserveRequest, ObserveTarget,
    Observed, PlanRequest, Provider, Recorded, RemoteId, Step, StepOutcome,
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

    /// Applies one action and, when it is in flight, advances the emulator clock and polls
    /// until its wait is satisfied: what the runner does, without real sleeps.
    pub async fn run(
        &self,
        address: &str,
        action: Action,
        remote_id: Option<&str>,
        desired: Option<&DesiredSpec>,
    ) -> Result<Observed, migspec_provider::Failure> {
        let step = Step {
            address: Address(address.to_owned()),
            action,
            remote_id: remote_id.map(|id| RemoteId(id.to_owned())),
            location: self.location(),
            desired: desired.cloned(),
            idempotency_key: format!("{address}-{}", uuid_like()),
            observed: None,
        };
        let mut outcome = self.provider.apply(step.clone()).await.unwrap();
        for _ in 0..5 {
            let StepOutcome::Unknown { .. } = outcome else {
                break;
            };
            // Ambiguous: apply again, as the runner does after looking by marker; without an
            // observation the provider looks for the group itself.
            outcome = self.provider.apply(step.clone()).await.unwrap();
        }
        let (mut observed, wait) = match outcome {
            StepOutcome::Done { observed } => return Ok(observed),
            StepOutcome::Failed { failure, .. } => return Err(failure),
            StepOutcome::InFlight { observed, wait } => (observed, wait),
            StepOutcome::Unknown { error } => panic!("{address}: ambiguous five times: {error}"),
        };
        let id = observed
            .object()
            .map(|object| object.id.clone())
            .expect("an in-flight step has an object");
        for _ in 0..400 {
            self.clock.advance(Duration::from_millis(25));
            let mut polled = self
                .provider
                .poll(vec![InFlightTarget {
                    object: InFlight {
                        address: Address(address.to_owned()),
                        remote_id: id.clone(),
                    },
                    kind: "HuaweiOmsTaskGroup".to_owned(),
                    location: self.location(),
                }])
                .await
                .unwrap();
            observed = polled.remove(0);
            match observed.object() {
                None if wait.until_missing => return Ok(observed),
                None => panic!("{address} disappeared while waiting for {wait:?}"),
                Some(object) if wait.until.contains(&object.phase) => return Ok(observed),
                Some(object) if wait.fail_on.contains(&object.phase) => {
                    return Err(object.failure.clone().expect("a failed group says why"));
                }
                Some(_) => {}
            }
        }
        panic!("{address}: the wait {wait:?} was never satisfied; last {observed:?}");
    }
}

fn uuid_like() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
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
