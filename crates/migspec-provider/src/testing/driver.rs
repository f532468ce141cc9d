//! A deterministic driver: the runner's apply loop reduced to one address at a time, with the
//! remote's clock moved explicitly instead of sleeping.
//!
//! It follows the re-apply protocol of [`Provider`] exactly: each step carries the latest
//! observation; an in-flight step is polled (one batched read per round) until its wait is
//! satisfied and then applied again with the poll's observation; an ambiguous create is
//! re-observed by its marker and applied again. It owns no retries unless asked
//! ([`Driver::with_retries`]): by default a provider error ends the drive, so a test sees
//! every error the provider returns.

use std::time::Duration;

use crate::{
    Action, ActionKind, Address, DesiredSpec, Failure, InFlight, InFlightTarget, ObserveRequest,
    ObserveTarget, Observed, PlanError, PlanRequest, Provider, ProviderError, Recorded, RemoteId,
    Step, StepOutcome, Wait,
};

/// Why a drive stopped before its address converged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriveError {
    /// The provider returned an error.
    #[error("{address}: {error}")]
    Provider {
        /// The address driven.
        address: Address,
        /// The provider's error.
        error: ProviderError,
    },
    /// The provider could not plan.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A step failed with the cloud's reason.
    #[error("{address}: {action} failed: {}", failure.message)]
    Failed {
        /// The address.
        address: Address,
        /// The verb of the step.
        action: &'static str,
        /// The cloud's reason.
        failure: Failure,
    },
    /// A wait was not satisfied within the driver's poll budget.
    #[error("{address}: {action} still waits for {wait:?} after {polls} polls; last seen {last:?}")]
    WaitTooLong {
        /// The address.
        address: Address,
        /// The verb of the step.
        action: &'static str,
        /// The wait.
        wait: Wait,
        /// Polls made.
        polls: usize,
        /// The last observation.
        last: Box<Observed>,
    },
    /// The provider answered a step in a way the protocol does not allow.
    #[error("{address}: {message}")]
    Protocol {
        /// The address.
        address: Address,
        /// What the provider did.
        message: String,
    },
    /// Planning and applying did not reach an empty plan.
    #[error("{address}: the plan is still not empty after {rounds} rounds: {remaining:?}")]
    NotConverged {
        /// The address.
        address: Address,
        /// Plan/apply rounds made.
        rounds: usize,
        /// The actions still planned.
        remaining: Vec<ActionKind>,
    },
}

/// One address as the driver tracks it: what the runner's state and last observation hold.
#[derive(Debug, Clone)]
pub struct Tracked {
    /// The address.
    pub address: Address,
    /// Its kind.
    pub kind: String,
    /// Where its object lives (from the spec for a create, then from observation).
    pub location: serde_json::Value,
    /// What a state would remember.
    pub recorded: Recorded,
    /// The latest observation.
    pub observed: Observed,
}

impl Tracked {
    /// An address not yet observed, located by its spec.
    ///
    /// # Errors
    ///
    /// When the provider cannot locate the spec.
    pub fn new(provider: &dyn Provider, desired: &DesiredSpec) -> Result<Self, ProviderError> {
        Ok(Self {
            address: desired.address.clone(),
            kind: desired.kind.clone(),
            location: provider.location(desired)?,
            recorded: Recorded::default(),
            observed: Observed::Missing {
                address: desired.address.clone(),
            },
        })
    }

    /// The remote id the state holds.
    #[must_use]
    pub fn remote_id(&self) -> Option<&RemoteId> {
        self.recorded.remote_id.as_ref()
    }

    /// Takes in an observation the way the runner's state does: the id and location of a
    /// present object are recorded.
    fn see(&mut self, observed: Observed) {
        if let Some(object) = observed.object() {
            // A different object starts its own count of recoveries, as in the state.
            if self.recorded.remote_id.as_ref() != Some(&object.id) {
                self.recorded.attempts = 0;
            }
            self.recorded.remote_id = Some(object.id.clone());
            self.location = object.location.clone();
            self.recorded.location = object.location.clone();
        }
        self.observed = observed;
    }

    fn target(&self) -> ObserveTarget {
        ObserveTarget {
            address: self.address.clone(),
            kind: self.kind.clone(),
            revision: None,
            view: None,
            remote_id: self.recorded.remote_id.clone(),
            location: self.location.clone(),
        }
    }
}

/// How far the remote's clock moves before a step that failed with a retryable error is
/// repeated: the runner's first backoff delay.
const RETRY_DELAY: Duration = Duration::from_millis(200);

/// Drives addresses through a provider. `advance` moves the remote's clock (an emulator's
/// manual clock); the driver calls it before every poll with the wait's `poll_after`.
pub struct Driver<'a> {
    provider: &'a dyn Provider,
    advance: Box<dyn Fn(Duration) + Send + Sync + 'a>,
    max_polls: usize,
    max_rounds: usize,
    retries: usize,
}

impl<'a> Driver<'a> {
    /// A driver for `provider`, moving time with `advance`.
    pub fn new(provider: &'a dyn Provider, advance: impl Fn(Duration) + Send + Sync + 'a) -> Self {
        Self {
            provider,
            advance: Box::new(advance),
            max_polls: 400,
            max_rounds: 6,
            retries: 0,
        }
    }

    /// Repeats a call that failed with a retryable error up to `retries` times, as the runner
    /// does within its budget (none by default: a test then sees every error the provider
    /// returns). A step that failed so is re-observed first and applied again with that
    /// observation — by its marker for a create, whose effect is unknown — never repeated
    /// blindly. No pause between attempts: the remote's clock is the test's.
    #[must_use]
    pub fn with_retries(mut self, retries: usize) -> Self {
        self.retries = retries;
        self
    }

    /// The provider driven.
    #[must_use]
    pub fn provider(&self) -> &'a dyn Provider {
        self.provider
    }

    /// Observes the addresses in one batch and records what was seen.
    ///
    /// # Errors
    ///
    /// The provider's error.
    pub async fn observe(&self, tracked: &mut [&mut Tracked]) -> Result<(), DriveError> {
        let targets: Vec<_> = tracked.iter().map(|one| one.target()).collect();
        let mut attempt = 0;
        let observed = loop {
            match self
                .provider
                .observe(ObserveRequest {
                    targets: targets.clone(),
                })
                .await
            {
                Ok(observed) => break observed,
                Err(error) if error.is_retryable() && attempt < self.retries => attempt += 1,
                Err(error) => {
                    return Err(DriveError::Provider {
                        address: tracked
                            .first()
                            .map_or_else(|| Address(String::new()), |one| one.address.clone()),
                        error,
                    });
                }
            }
        };
        for one in tracked.iter_mut() {
            let Some(seen) = observed.iter().find(|seen| seen.address() == &one.address) else {
                return Err(DriveError::Protocol {
                    address: one.address.clone(),
                    message: "observe answered without this address".to_owned(),
                });
            };
            one.see(seen.clone());
        }
        Ok(())
    }

    /// Plans one address from a fresh observation.
    ///
    /// # Errors
    ///
    /// The provider's error, or its plan error.
    pub async fn plan(
        &self,
        desired: Option<&DesiredSpec>,
        tracked: &mut Tracked,
        delete_orphan: bool,
    ) -> Result<Vec<Action>, DriveError> {
        self.observe(&mut [&mut *tracked]).await?;
        Ok(self.provider.plan(&PlanRequest {
            address: tracked.address.clone(),
            desired: desired.cloned(),
            observed: tracked.observed.clone(),
            recorded: tracked.recorded.clone(),
            orphans: delete_orphan.into(),
        })?)
    }

    /// Applies one action to its end: in-flight steps are polled and applied again, ambiguous
    /// creates re-observed by marker. Returns the final outcome (`Done` or `Failed`).
    ///
    /// # Errors
    ///
    /// The provider's error, a wait that takes too long, or a protocol violation.
    pub async fn step(
        &self,
        desired: Option<&DesiredSpec>,
        tracked: &mut Tracked,
        action: &Action,
    ) -> Result<StepOutcome, DriveError> {
        let verb = action.kind.verb();
        let mut retried = 0;
        for _attempt in 0..self.max_rounds * 4 + self.retries {
            let outcome = match self.apply_once(desired, tracked, action).await {
                Err(DriveError::Provider { error, .. })
                    if error.is_retryable() && retried < self.retries =>
                {
                    retried += 1;
                    // The runner waits before it repeats a step (its first backoff delay),
                    // and a refusal such as a settling object's needs that time to pass.
                    (self.advance)(RETRY_DELAY);
                    if action.kind == ActionKind::Create {
                        // A create whose answer failed may have taken effect: as ambiguous.
                        tracked.recorded.remote_id = None;
                    }
                    self.observe(&mut [&mut *tracked]).await?;
                    continue;
                }
                other => other?,
            };
            match outcome {
                StepOutcome::Done { observed } => {
                    tracked.see(observed.clone());
                    return Ok(StepOutcome::Done { observed });
                }
                StepOutcome::Failed { observed, failure } => {
                    tracked.see(observed.clone());
                    return Ok(StepOutcome::Failed { observed, failure });
                }
                StepOutcome::Unknown { .. } => {
                    // An ambiguous create: look for the object by its marker, as the runner
                    // does, and apply again with what was found.
                    tracked.recorded.remote_id = None;
                    self.observe(&mut [&mut *tracked]).await?;
                }
                StepOutcome::InFlight { observed, wait } => {
                    tracked.see(observed);
                    if let Some(failure) = self.wait(tracked, verb, &wait).await? {
                        return Ok(StepOutcome::Failed {
                            observed: tracked.observed.clone(),
                            failure,
                        });
                    }
                }
            }
        }
        Err(DriveError::Protocol {
            address: tracked.address.clone(),
            message: format!("{verb} was never answered done or failed"),
        })
    }

    /// One `apply` call with the latest observation.
    ///
    /// # Errors
    ///
    /// The provider's error.
    pub async fn apply_once(
        &self,
        desired: Option<&DesiredSpec>,
        tracked: &Tracked,
        action: &Action,
    ) -> Result<StepOutcome, DriveError> {
        let step = Step {
            address: tracked.address.clone(),
            action: action.clone(),
            remote_id: tracked.recorded.remote_id.clone(),
            location: tracked.location.clone(),
            desired: desired.cloned(),
            idempotency_key: format!("{}-{}", tracked.address, action.kind.verb()),
            observed: Some(tracked.observed.clone()),
        };
        self.provider
            .apply(step)
            .await
            .map_err(|error| DriveError::Provider {
                address: tracked.address.clone(),
                error,
            })
    }

    /// Polls until `wait` is satisfied (`None`) or fails (`Some(failure)`).
    async fn wait(
        &self,
        tracked: &mut Tracked,
        verb: &'static str,
        wait: &Wait,
    ) -> Result<Option<Failure>, DriveError> {
        for _poll in 0..self.max_polls {
            (self.advance)(wait.poll_after.max(Duration::from_millis(10)));
            let Some(remote_id) = tracked.recorded.remote_id.clone() else {
                // In flight without an id (a create that is still being found): observe.
                self.observe(&mut [&mut *tracked]).await?;
                continue;
            };
            let target = InFlightTarget {
                object: InFlight {
                    address: tracked.address.clone(),
                    remote_id,
                },
                kind: tracked.kind.clone(),
                location: tracked.location.clone(),
            };
            let mut attempt = 0;
            let polled = loop {
                match self.provider.poll(vec![target.clone()]).await {
                    Ok(polled) => break polled,
                    Err(error) if error.is_retryable() && attempt < self.retries => attempt += 1,
                    Err(error) => {
                        return Err(DriveError::Provider {
                            address: tracked.address.clone(),
                            error,
                        });
                    }
                }
            };
            let Some(seen) = polled
                .into_iter()
                .find(|seen| seen.address() == &tracked.address)
            else {
                return Err(DriveError::Protocol {
                    address: tracked.address.clone(),
                    message: "poll answered without this address".to_owned(),
                });
            };
            match seen.object() {
                None if wait.until_missing => {
                    tracked.observed = seen;
                    return Ok(None);
                }
                None => {
                    return Err(DriveError::Protocol {
                        address: tracked.address.clone(),
                        message: format!("the object disappeared while {verb} waited"),
                    });
                }
                Some(object) if wait.fail_on.contains(&object.phase) => {
                    let failure = object.failure.clone().unwrap_or_else(|| Failure {
                        code: None,
                        message: format!("reached {:?} ({})", object.phase, object.raw_status),
                        details: Vec::new(),
                    });
                    tracked.see(seen);
                    return Ok(Some(failure));
                }
                Some(object) if wait.until.contains(&object.phase) => {
                    tracked.see(seen);
                    return Ok(None);
                }
                Some(_) => tracked.see(seen),
            }
        }
        Err(DriveError::WaitTooLong {
            address: tracked.address.clone(),
            action: verb,
            wait: wait.clone(),
            polls: self.max_polls,
            last: Box::new(tracked.observed.clone()),
        })
    }

    /// Plans and applies until the plan is empty; returns every action applied, in order.
    ///
    /// # Errors
    ///
    /// As [`Self::step`]; a failed step; a plan that never empties.
    pub async fn converge(
        &self,
        desired: &DesiredSpec,
        tracked: &mut Tracked,
    ) -> Result<Vec<ActionKind>, DriveError> {
        self.drive(Some(desired), tracked, false).await
    }

    /// Drives an address whose spec left the set, deleting its object (`--prune`).
    ///
    /// # Errors
    ///
    /// As [`Self::converge`].
    pub async fn remove(&self, tracked: &mut Tracked) -> Result<Vec<ActionKind>, DriveError> {
        self.drive(None, tracked, true).await
    }

    async fn drive(
        &self,
        desired: Option<&DesiredSpec>,
        tracked: &mut Tracked,
        delete_orphan: bool,
    ) -> Result<Vec<ActionKind>, DriveError> {
        let mut applied = Vec::new();
        for _round in 0..self.max_rounds {
            let actions = self.plan(desired, tracked, delete_orphan).await?;
            if actions.is_empty() {
                return Ok(applied);
            }
            for action in &actions {
                let outcome = self.step(desired, tracked, action).await?;
                applied.push(action.kind);
                // The runner's bookkeeping after a step: a resume or retry spends one of the
                // failure's attempts.
                if matches!(action.kind, ActionKind::Resume | ActionKind::Retry) {
                    tracked.recorded.attempts += 1;
                }
                if let StepOutcome::Failed { failure, .. } = outcome {
                    return Err(DriveError::Failed {
                        address: tracked.address.clone(),
                        action: action.kind.verb(),
                        failure,
                    });
                }
            }
            // The applied spec's secrets are the state's fingerprints now: none changed.
            tracked.recorded.changed_secrets.clear();
        }
        let remaining = self
            .plan(desired, tracked, delete_orphan)
            .await?
            .iter()
            .map(|action| action.kind)
            .collect();
        Err(DriveError::NotConverged {
            address: tracked.address.clone(),
            rounds: self.max_rounds,
            remaining,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{DriveError, Driver, Tracked};
    use crate::testing::{Call, FakeProvider};
    use crate::{Action, ActionKind, Address, Observed, ProviderError, Recorded, RemoteId};
    use crate::{Step, StepOutcome};

    fn throttled() -> ProviderError {
        ProviderError::Throttled {
            service: "fake".into(),
            code: "RequestLimitExceeded".into(),
            message: "slow down".into(),
            request_id: None,
        }
    }

    fn tracked(remote_id: Option<&str>) -> Tracked {
        Tracked {
            address: Address("a".into()),
            kind: "FakeKind".into(),
            location: serde_json::Value::Null,
            recorded: Recorded {
                remote_id: remote_id.map(|id| RemoteId(id.into())),
                ..Recorded::default()
            },
            observed: Observed::Missing {
                address: Address("a".into()),
            },
        }
    }

    fn throttled_once(fake: &FakeProvider) {
        let mut spent = false;
        fake.on_observe(move |_| (!std::mem::replace(&mut spent, true)).then(|| Err(throttled())));
    }

    #[tokio::test]
    async fn without_retries_a_retryable_error_ends_the_drive() {
        let fake = FakeProvider::new("fake", &["FakeKind"]);
        throttled_once(&fake);
        let driver = Driver::new(&fake, |_| {});
        let result = driver.observe(&mut [&mut tracked(None)]).await;
        assert!(
            matches!(
                result,
                Err(DriveError::Provider {
                    error: ProviderError::Throttled { .. },
                    ..
                })
            ),
            "{result:?}"
        );
        assert_eq!(fake.calls().len(), 1);
    }

    #[tokio::test]
    async fn with_retries_a_retryable_observe_is_repeated() {
        let fake = FakeProvider::new("fake", &["FakeKind"]);
        throttled_once(&fake);
        let driver = Driver::new(&fake, |_| {}).with_retries(1);
        driver.observe(&mut [&mut tracked(None)]).await.unwrap();
        assert_eq!(fake.calls().len(), 2);
    }

    #[tokio::test]
    async fn a_create_that_failed_retryably_is_re_observed_by_marker_then_applied_again() {
        let fake = FakeProvider::new("fake", &["FakeKind"]);
        // Scripts answer once each, in order: a throttle, then done.
        fake.on_apply(|_: &Step| Some(Err(throttled())))
            .on_apply(|_: &Step| {
                Some(Ok(StepOutcome::Done {
                    observed: Observed::Missing {
                        address: Address("a".into()),
                    },
                }))
            });
        let driver = Driver::new(&fake, |_| {}).with_retries(1);
        let mut one = tracked(Some("stale-id"));
        let action = Action::new(ActionKind::Create, "test");
        let outcome = driver.step(None, &mut one, &action).await.unwrap();
        assert!(matches!(outcome, StepOutcome::Done { .. }), "{outcome:?}");
        let calls = fake.calls();
        assert_eq!(calls.len(), 3, "{calls:?}");
        let Call::Observe(request) = &calls[1] else {
            panic!("{calls:?}")
        };
        assert_eq!(request.targets[0].remote_id, None, "observed by its marker");
    }
}
