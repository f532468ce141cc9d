//! The suite against a toy cloud: a provider that keeps the contract passes every check, and
//! providers broken on purpose fail the check that guards what they break — a check that
//! cannot fail would prove nothing about the real providers.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::{Fault, Subject, Violation, run};
use crate::{
    Action, ActionKind, Address, Description, DesiredSpec, ImportRequest, Imported, InFlightTarget,
    KindDescription, ObserveRequest, ObserveTarget, Observed, Phase, PlanError, PlanRequest,
    Problem, Provider, ProviderError, ProviderFuture, RemoteId, RemoteObject, Step, StepOutcome,
    Wait,
};

const KIND: &str = "ToyJob";
/// Cloud time a created job takes to run.
const STARTUP: Duration = Duration::from_millis(100);

/// One job of the toy cloud.
#[derive(Debug, Clone)]
struct Job {
    marker: Address,
    created_ms: u64,
}

/// An in-memory cloud with four actions (`ListJobs` batched, `GetJob` single, `CreateJob`,
/// `DeleteJob`), request counts and per-action faults, like the emulator's admin API.
#[derive(Debug, Default)]
struct Cloud {
    jobs: Mutex<BTreeMap<String, Job>>,
    calls: Mutex<BTreeMap<String, u64>>,
    faults: Mutex<BTreeMap<String, Fault>>,
    now_ms: AtomicU64,
    next_id: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn cloud_error(code: &str) -> ProviderError {
    match code {
        "Throttled" => ProviderError::Throttled {
            service: "toy".into(),
            code: code.into(),
            message: "slow down".into(),
            request_id: None,
        },
        "Auth" => ProviderError::Auth {
            service: "toy".into(),
            code: code.into(),
            message: "unknown key".into(),
            request_id: None,
        },
        _ => ProviderError::Internal {
            service: "toy".into(),
            code: code.into(),
            message: "try again".into(),
            request_id: None,
        },
    }
}

impl Cloud {
    /// Counts a request of `action`, then fails it as its fault says, or performs `effect`.
    /// A lost response performs the effect and then fails as the network would.
    fn call<T>(
        &self,
        action: &str,
        authorised: bool,
        effect: impl FnOnce(&Self) -> T,
    ) -> Result<T, ProviderError> {
        *lock(&self.calls).entry(action.to_owned()).or_default() += 1;
        if !authorised {
            return Err(cloud_error("Auth"));
        }
        match lock(&self.faults).get(action).cloned() {
            Some(Fault::Throttle) => Err(cloud_error("Throttled")),
            Some(Fault::Internal) => Err(cloud_error("InternalError")),
            Some(Fault::LoseResponse) => {
                effect(self);
                Err(ProviderError::Network {
                    service: "toy".into(),
                    endpoint: "memory".into(),
                    message: "connection closed before the response".into(),
                })
            }
            None => Ok(effect(self)),
        }
    }

    fn object(&self, id: &str, job: &Job) -> RemoteObject {
        let running = self.now_ms.load(Ordering::SeqCst) >= job.created_ms + millis(STARTUP);
        let (phase, raw) = if running {
            (Phase::Running, "running")
        } else {
            (Phase::Creating, "creating")
        };
        RemoteObject {
            id: RemoteId(id.to_owned()),
            phase,
            raw_status: raw.to_owned(),
            location: serde_json::Value::Null,
            view: serde_json::json!({}),
            progress: None,
            failure: None,
            revision: None,
            marker: Some(job.marker.clone()),
        }
    }

    fn find(&self, jobs: &BTreeMap<String, Job>, target: &ObserveTarget) -> Observed {
        let found = match &target.remote_id {
            Some(id) => jobs.get_key_value(&id.0),
            None => jobs.iter().find(|(_, job)| job.marker == target.address),
        };
        match found {
            Some((id, job)) => Observed::Present {
                address: target.address.clone(),
                object: Box::new(self.object(id, job)),
            },
            None => Observed::Missing {
                address: target.address.clone(),
            },
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// What a broken toy gets wrong.
#[derive(Debug, Clone, Copy, Default)]
struct Flaws {
    /// Observes with one `GetJob` per target instead of one `ListJobs` per batch.
    reads_per_object: bool,
    /// Answers a create applied again after it took effect (its job running) by sending
    /// `CreateJob` again and reporting done, instead of done without a call.
    repeats_create: bool,
    /// Maps a throttled answer to an internal error.
    throttle_as_internal: bool,
    /// Answers a remote id the cloud does not know with an error instead of `Missing`.
    unknown_id_is_an_error: bool,
}

#[derive(Debug, Clone)]
struct Toy {
    cloud: Arc<Cloud>,
    flaws: Flaws,
    authorised: bool,
}

impl Toy {
    fn read(&self, targets: &[ObserveTarget]) -> Result<Vec<Observed>, ProviderError> {
        if self.flaws.unknown_id_is_an_error {
            let jobs = lock(&self.cloud.jobs);
            if let Some(id) = targets
                .iter()
                .filter_map(|target| target.remote_id.as_ref())
                .find(|id| !jobs.contains_key(&id.0))
            {
                return Err(ProviderError::NotFound {
                    service: "toy".into(),
                    id: id.0.clone(),
                    code: "JobNotFound".into(),
                });
            }
        }
        let answer = |result: Result<Vec<Observed>, ProviderError>| match result {
            Err(ProviderError::Throttled {
                service,
                code,
                message,
                request_id,
            }) if self.flaws.throttle_as_internal => Err(ProviderError::Internal {
                service,
                code,
                message,
                request_id,
            }),
            other => other,
        };
        if self.flaws.reads_per_object {
            let mut observed = Vec::new();
            for target in targets {
                let one = self.cloud.call("GetJob", self.authorised, |cloud| {
                    cloud.find(&lock(&cloud.jobs), target)
                });
                observed.push(answer(one.map(|one| vec![one]))?.remove(0));
            }
            return Ok(observed);
        }
        answer(self.cloud.call("ListJobs", self.authorised, |cloud| {
            let jobs = lock(&cloud.jobs);
            targets
                .iter()
                .map(|target| cloud.find(&jobs, target))
                .collect()
        }))
    }

    fn create(&self, step: &Step) -> Result<StepOutcome, ProviderError> {
        let running = Wait {
            until: vec![Phase::Running],
            fail_on: vec![Phase::Failed],
            until_missing: false,
            poll_after: Duration::from_millis(20),
        };
        let mut done = false;
        if let Some(observed @ Observed::Present { object, .. }) = &step.observed {
            if object.phase != Phase::Running {
                return Ok(StepOutcome::InFlight {
                    observed: observed.clone(),
                    wait: running,
                });
            }
            if !self.flaws.repeats_create {
                return Ok(StepOutcome::Done {
                    observed: observed.clone(),
                });
            }
            done = true;
        }
        let created = self.cloud.call("CreateJob", self.authorised, |cloud| {
            let id = format!("job-{}", cloud.next_id.fetch_add(1, Ordering::SeqCst));
            let job = Job {
                marker: step.address.clone(),
                created_ms: cloud.now_ms.load(Ordering::SeqCst),
            };
            let object = cloud.object(&id, &job);
            lock(&cloud.jobs).insert(id, job);
            object
        });
        match created {
            Ok(object) if done => Ok(StepOutcome::Done {
                observed: Observed::Present {
                    address: step.address.clone(),
                    object: Box::new(object),
                },
            }),
            Ok(object) => Ok(StepOutcome::InFlight {
                observed: Observed::Present {
                    address: step.address.clone(),
                    object: Box::new(object),
                },
                wait: running,
            }),
            Err(error @ ProviderError::Network { .. }) => Ok(StepOutcome::Unknown { error }),
            Err(error) => Err(error),
        }
    }

    fn delete(&self, step: &Step) -> Result<StepOutcome, ProviderError> {
        let Some(Observed::Present { object, .. }) = &step.observed else {
            return Ok(StepOutcome::Done {
                observed: Observed::Missing {
                    address: step.address.clone(),
                },
            });
        };
        let id = object.id.0.clone();
        self.cloud.call("DeleteJob", self.authorised, |cloud| {
            lock(&cloud.jobs).remove(&id);
        })?;
        Ok(StepOutcome::InFlight {
            observed: Observed::Present {
                address: step.address.clone(),
                object: object.clone(),
            },
            wait: Wait {
                until: Vec::new(),
                fail_on: Vec::new(),
                until_missing: true,
                poll_after: Duration::from_millis(20),
            },
        })
    }
}

impl Provider for Toy {
    fn describe(&self) -> Description {
        Description {
            name: "toy".into(),
            version: "0.0.0".into(),
            kinds: vec![KindDescription {
                kind: KIND.into(),
                schema: serde_json::json!({"type": "object"}),
            }],
            rate_limits: Vec::new(),
        }
    }

    fn validate(&self, _kind: &str, _document: &serde_json::Value) -> Vec<Problem> {
        Vec::new()
    }

    fn observe(&self, request: ObserveRequest) -> ProviderFuture<'_, Vec<Observed>> {
        let out = self.read(&request.targets);
        Box::pin(async move { out })
    }

    fn plan(&self, request: &PlanRequest) -> Result<Vec<Action>, PlanError> {
        let present = request.observed.object().is_some();
        Ok(match (&request.desired, present) {
            (Some(_), false) => vec![Action::new(ActionKind::Create, "no job yet")],
            (None, true) if request.orphans == crate::Orphans::Delete => {
                vec![Action::new(ActionKind::Delete, "the spec is gone")]
            }
            _ => Vec::new(),
        })
    }

    fn apply(&self, step: Step) -> ProviderFuture<'_, StepOutcome> {
        let out = match step.action.kind {
            ActionKind::Create => self.create(&step),
            ActionKind::Delete => self.delete(&step),
            other => Err(ProviderError::Contract {
                message: format!("the toy cannot {}", other.verb()),
            }),
        };
        Box::pin(async move { out })
    }

    fn poll(&self, in_flight: Vec<InFlightTarget>) -> ProviderFuture<'_, Vec<Observed>> {
        let targets: Vec<_> = in_flight
            .into_iter()
            .map(|target| ObserveTarget {
                address: target.object.address,
                kind: target.kind,
                revision: None,
                view: None,
                remote_id: Some(target.object.remote_id),
                location: target.location,
            })
            .collect();
        let out = self.read(&targets);
        Box::pin(async move { out })
    }

    fn import(&self, request: ImportRequest) -> ProviderFuture<'_, Imported> {
        let message = format!("the toy does not import {}", request.remote_id.0);
        Box::pin(async move { Err(ProviderError::Contract { message }) })
    }
}

struct ToySubject {
    toy: Toy,
}

impl ToySubject {
    fn new(flaws: Flaws) -> Self {
        Self {
            toy: Toy {
                cloud: Arc::default(),
                flaws,
                authorised: true,
            },
        }
    }
}

impl Subject for ToySubject {
    fn provider(&self) -> &dyn Provider {
        &self.toy
    }

    fn specs(&self) -> Vec<DesiredSpec> {
        ["toy-a", "toy-b", "toy-spare"]
            .into_iter()
            .map(|name| DesiredSpec {
                address: Address(name.into()),
                kind: KIND.into(),
                document: serde_json::json!({"kind": KIND, "metadata": {"name": name}}),
                secrets: BTreeMap::new(),
            })
            .collect()
    }

    fn advance(&self, by: Duration) {
        self.toy
            .cloud
            .now_ms
            .fetch_add(millis(by), Ordering::SeqCst);
    }

    fn calls(&self) -> ProviderFuture<'_, BTreeMap<String, u64>> {
        let calls = lock(&self.toy.cloud.calls).clone();
        Box::pin(async move { Ok(calls) })
    }

    fn inject(&self, action: &str, fault: Fault) -> ProviderFuture<'_, ()> {
        lock(&self.toy.cloud.faults).insert(action.to_owned(), fault);
        Box::pin(async { Ok(()) })
    }

    fn clear_faults(&self) -> ProviderFuture<'_, ()> {
        lock(&self.toy.cloud.faults).clear();
        Box::pin(async { Ok(()) })
    }

    fn create_action(&self, _kind: &str) -> String {
        "CreateJob".into()
    }

    fn observe_action(&self, _kind: &str) -> String {
        if self.toy.flaws.reads_per_object {
            "GetJob".into()
        } else {
            "ListJobs".into()
        }
    }

    fn with_refused_credentials(&self) -> Box<dyn Provider> {
        Box::new(Toy {
            authorised: false,
            ..self.toy.clone()
        })
    }
}

fn checks(violations: &[Violation]) -> Vec<&'static str> {
    let mut checks: Vec<_> = violations.iter().map(|violation| violation.check).collect();
    checks.dedup();
    checks
}

#[tokio::test]
async fn a_provider_that_keeps_the_contract_passes_every_check() {
    let subject = ToySubject::new(Flaws::default());
    let violations = run(&subject).await;
    assert_eq!(violations, []);
    // The suite drove the toy for real: two jobs created and deleted, one lost create
    // adopted, so one job is left.
    assert_eq!(lock(&subject.toy.cloud.jobs).len(), 1);
    assert_eq!(lock(&subject.toy.cloud.calls)["CreateJob"], 3);
    assert_eq!(lock(&subject.toy.cloud.calls)["DeleteJob"], 2);
}

#[tokio::test]
async fn observing_one_object_per_call_fails_the_batching_check() {
    let subject = ToySubject::new(Flaws {
        reads_per_object: true,
        ..Flaws::default()
    });
    let violations = run(&subject).await;
    assert_eq!(checks(&violations), ["batching"], "{violations:?}");
    assert!(
        violations[0]
            .message
            .contains("observing 2 objects took 2 API calls, one took 1"),
        "{violations:?}"
    );
}

#[tokio::test]
async fn repeating_a_create_fails_the_idempotency_and_ambiguous_create_checks() {
    let subject = ToySubject::new(Flaws {
        repeats_create: true,
        ..Flaws::default()
    });
    let violations = run(&subject).await;
    assert_eq!(
        checks(&violations),
        ["idempotency", "ambiguous create"],
        "{violations:?}"
    );
    assert!(
        violations[0]
            .message
            .contains("toy-a: a repeated create made 1 API call(s)"),
        "{violations:?}"
    );
    assert!(
        violations
            .iter()
            .any(|violation| violation.message.contains("toy-spare: the create was sent")),
        "{violations:?}"
    );
}

#[tokio::test]
async fn a_throttle_mapped_to_an_internal_error_fails_the_error_mapping_check() {
    let subject = ToySubject::new(Flaws {
        throttle_as_internal: true,
        ..Flaws::default()
    });
    let violations = run(&subject).await;
    assert_eq!(checks(&violations), ["error mapping"], "{violations:?}");
    assert!(
        violations[0]
            .message
            .contains("ListJobs answered throttled: the provider returned Err(Internal"),
        "{violations:?}"
    );
}

#[tokio::test]
async fn an_unknown_id_answered_with_an_error_fails_the_missing_and_removal_checks() {
    let subject = ToySubject::new(Flaws {
        unknown_id_is_an_error: true,
        ..Flaws::default()
    });
    let violations = run(&subject).await;
    assert_eq!(
        checks(&violations),
        ["missing", "removal"],
        "{violations:?}"
    );
    assert!(
        violations[0].message.contains(
            "observing by a remote id that does not exist failed instead of answering missing"
        ),
        "{violations:?}"
    );
}
