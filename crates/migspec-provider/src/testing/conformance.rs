//! The conformance suite every provider passes, built-in or plugin: the contract of
//! [`Provider`] checked against a live (emulated) cloud.
//!
//! A test implements [`Subject`] for its provider — specs to create, a way to move the
//! remote's clock, the cloud's request count and fault switches — and calls [`run`]:
//!
//! 1. **missing**: an address never created, and a remote id that does not exist, are
//!    [`Observed::Missing`], not errors;
//! 2. **converge**: plan → apply reaches every spec's desired phase, and the next plan is
//!    empty;
//! 3. **batching**: observing every spec of a kind in one request costs no more API calls
//!    than observing one of them;
//! 4. **idempotency**: every action applied, applied again with a fresh observation, is
//!    answered `Done` without an API call;
//! 5. **ambiguous create**: a create whose response is lost is not repeated: the object is
//!    found by its marker and adopted, one object in all;
//! 6. **error mapping**: throttled and internal answers are retryable [`ProviderError`]s of
//!    their kind, refused credentials are [`ProviderError::Auth`];
//! 7. **removal**: an orphan is deleted with `Orphans::Delete` and is then missing.

use std::collections::BTreeMap;
use std::time::Duration;

use super::driver::{Driver, Tracked};
use crate::{
    ActionKind, DesiredSpec, ObserveRequest, ObserveTarget, Observed, Provider, ProviderError,
    ProviderFuture, RemoteId, StepOutcome,
};

/// A fault the subject's cloud injects into the requests of one API action until cleared.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer as throttled.
    Throttle,
    /// Answer with an internal error.
    Internal,
    /// Perform the request, then close the connection without answering.
    LoseResponse,
}

/// What the suite needs from a provider under test.
pub trait Subject: Send + Sync {
    /// The provider under test.
    fn provider(&self) -> &dyn Provider;

    /// Specs to create, secrets resolved, each at its own address; at least two per kind
    /// (batching is checked per kind).
    fn specs(&self) -> Vec<DesiredSpec>;

    /// Moves the cloud's clock forward.
    fn advance(&self, by: Duration);

    /// API requests the cloud has answered so far, by action.
    fn calls(&self) -> ProviderFuture<'_, BTreeMap<String, u64>>;

    /// Injects `fault` into every request of `action` (the cloud's action name) until
    /// [`Subject::clear_faults`].
    fn inject(&self, action: &str, fault: Fault) -> ProviderFuture<'_, ()>;

    /// Removes every injected fault.
    fn clear_faults(&self) -> ProviderFuture<'_, ()>;

    /// The action name of a create of `kind` (e.g. `CreateMigrateJob`).
    fn create_action(&self, kind: &str) -> String;

    /// The action name of a batched read of `kind` (e.g. `DescribeMigrateJobs`).
    fn observe_action(&self, kind: &str) -> String;

    /// The same provider with credentials the cloud refuses.
    fn with_refused_credentials(&self) -> Box<dyn Provider>;

    /// Actions of `kind`'s API that exist only per object, with no batched form (e.g. Tencent
    /// 2021's `DescribeMigrationDetail`, the only read of a job's `MigrateOption`). The
    /// contract asks `observe` for "as few API calls as the API allows", which is one such
    /// call per object: the batching check leaves them out of its count. Every other action
    /// counts. None by default.
    fn per_object_actions(&self, kind: &str) -> Vec<String> {
        let _ = kind;
        Vec::new()
    }
}

/// One check that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The check (`missing`, `converge`, …).
    pub check: &'static str,
    /// What happened instead, naming the address.
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}", self.check, self.message)
    }
}

struct Suite<'a> {
    subject: &'a dyn Subject,
    driver: Driver<'a>,
    violations: Vec<Violation>,
}

impl Suite<'_> {
    fn fail(&mut self, check: &'static str, message: String) {
        self.violations.push(Violation { check, message });
    }

    async fn total_calls(&self) -> u64 {
        self.subject
            .calls()
            .await
            .map(|calls| calls.values().sum())
            .unwrap_or(0)
    }

    /// Calls so far, leaving out the per-object actions of `kind`.
    async fn batchable_calls(&self, kind: &str) -> u64 {
        let per_object = self.subject.per_object_actions(kind);
        self.subject
            .calls()
            .await
            .map(|calls| {
                calls
                    .iter()
                    .filter(|(action, _)| !per_object.contains(action))
                    .map(|(_, count)| count)
                    .sum()
            })
            .unwrap_or(0)
    }

    async fn missing(&mut self, specs: &[DesiredSpec]) {
        for desired in specs {
            let Ok(tracked) = Tracked::new(self.subject.provider(), desired) else {
                self.fail(
                    "missing",
                    format!("{}: the provider cannot locate its spec", desired.address),
                );
                continue;
            };
            let by_marker = tracked.target_for(None);
            let by_id = tracked.target_for(Some(RemoteId("conformance-no-such-id".to_owned())));
            for target in [by_marker, by_id] {
                let how = if target.remote_id.is_some() {
                    "a remote id that does not exist"
                } else {
                    "its marker"
                };
                match self
                    .subject
                    .provider()
                    .observe(ObserveRequest {
                        targets: vec![target],
                    })
                    .await
                {
                    Ok(observed) => match observed.as_slice() {
                        [Observed::Missing { address }] if address == &desired.address => {}
                        other => self.fail(
                            "missing",
                            format!(
                                "{}: observed by {how} before any create: {other:?}",
                                desired.address
                            ),
                        ),
                    },
                    Err(error) => self.fail(
                        "missing",
                        format!(
                            "{}: observing by {how} failed instead of answering missing: {error}",
                            desired.address
                        ),
                    ),
                }
            }
        }
    }

    async fn converge(
        &mut self,
        specs: &[DesiredSpec],
    ) -> Vec<(DesiredSpec, Tracked, Vec<ActionKind>)> {
        let mut converged = Vec::new();
        for desired in specs {
            let mut tracked = match Tracked::new(self.subject.provider(), desired) {
                Ok(tracked) => tracked,
                Err(error) => {
                    self.fail("converge", format!("{}: {error}", desired.address));
                    continue;
                }
            };
            match self.driver.converge(desired, &mut tracked).await {
                Ok(applied) if applied.is_empty() => self.fail(
                    "converge",
                    format!("{}: a new spec planned no action", desired.address),
                ),
                Ok(applied) => converged.push((desired.clone(), tracked, applied)),
                Err(error) => self.fail("converge", error.to_string()),
            }
        }
        converged
    }

    async fn batching(&mut self, converged: &mut [(DesiredSpec, Tracked, Vec<ActionKind>)]) {
        let mut kinds: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (index, (desired, ..)) in converged.iter().enumerate() {
            kinds.entry(desired.kind.clone()).or_default().push(index);
        }
        for (kind, indexes) in kinds {
            if indexes.len() < 2 {
                self.fail(
                    "batching",
                    format!("{kind}: the subject gave fewer than two converged specs"),
                );
                continue;
            }
            let before = self.batchable_calls(&kind).await;
            let first = indexes[0];
            let single = self.driver.observe(&mut [&mut converged[first].1]).await;
            let one = self.batchable_calls(&kind).await - before;
            let before = self.batchable_calls(&kind).await;
            let mut batch: Vec<&mut Tracked> = converged
                .iter_mut()
                .enumerate()
                .filter(|(index, _)| indexes.contains(index))
                .map(|(_, (_, tracked, _))| tracked)
                .collect();
            let all = self.driver.observe(&mut batch).await;
            let many = self.batchable_calls(&kind).await - before;
            if let Err(error) = single.and(all) {
                self.fail("batching", format!("{kind}: {error}"));
            } else if many > one {
                self.fail(
                    "batching",
                    format!(
                        "{kind}: observing {} objects took {many} API calls, one took {one}",
                        indexes.len()
                    ),
                );
            }
            for index in &indexes {
                if converged[*index].1.observed.object().is_none() {
                    let address = converged[*index].1.address.clone();
                    self.fail(
                        "batching",
                        format!("{address}: missing from a batched observation after converging"),
                    );
                }
            }
        }
    }

    async fn idempotency(&mut self, converged: &mut [(DesiredSpec, Tracked, Vec<ActionKind>)]) {
        for (desired, tracked, applied) in converged.iter_mut() {
            let actions = match self.driver.plan(Some(desired), tracked, false).await {
                Ok(actions) => actions,
                Err(error) => {
                    self.fail("converge", error.to_string());
                    continue;
                }
            };
            if !actions.is_empty() {
                let kinds: Vec<_> = actions.iter().map(|action| action.kind).collect();
                self.fail(
                    "converge",
                    format!(
                        "{}: planned again after converging: {kinds:?}",
                        desired.address
                    ),
                );
                continue;
            }
            for kind in applied.iter() {
                let action =
                    crate::Action::new(*kind, "conformance: repeated after it took effect");
                let before = self.total_calls().await;
                let outcome = self
                    .driver
                    .apply_once(Some(desired), tracked, &action)
                    .await;
                let spent = self.total_calls().await - before;
                match outcome {
                    Ok(StepOutcome::Done { .. }) if spent == 0 => {}
                    Ok(StepOutcome::Done { .. }) => self.fail(
                        "idempotency",
                        format!(
                            "{}: a repeated {} made {spent} API call(s)",
                            desired.address,
                            kind.verb()
                        ),
                    ),
                    Ok(other) => self.fail(
                        "idempotency",
                        format!(
                            "{}: a repeated {} answered {other:?}",
                            desired.address,
                            kind.verb()
                        ),
                    ),
                    Err(error) => {
                        self.fail("idempotency", format!("repeated {}: {error}", kind.verb()))
                    }
                }
            }
        }
    }

    async fn ambiguous_create(&mut self, desired: &DesiredSpec) {
        let create = self.subject.create_action(&desired.kind);
        let mut tracked = match Tracked::new(self.subject.provider(), desired) {
            Ok(tracked) => tracked,
            Err(error) => {
                self.fail("ambiguous create", format!("{}: {error}", desired.address));
                return;
            }
        };
        let actions = match self.driver.plan(Some(desired), &mut tracked, false).await {
            Ok(actions) => actions,
            Err(error) => {
                self.fail("ambiguous create", error.to_string());
                return;
            }
        };
        let Some(action) = actions
            .into_iter()
            .find(|action| action.kind == ActionKind::Create)
        else {
            self.fail(
                "ambiguous create",
                format!("{}: a new spec planned no create", desired.address),
            );
            return;
        };
        if let Err(error) = self.subject.inject(&create, Fault::LoseResponse).await {
            self.fail(
                "ambiguous create",
                format!("cannot inject a lost response: {error}"),
            );
            return;
        }
        let lost = self
            .driver
            .apply_once(Some(desired), &tracked, &action)
            .await;
        let _ = self.subject.clear_faults().await;
        match lost {
            Ok(StepOutcome::Unknown { .. }) => {}
            Err(super::driver::DriveError::Provider { ref error, .. }) if error.is_retryable() => {}
            other => {
                self.fail("ambiguous create", format!("{}: a create whose answer was lost returned {other:?}, not Unknown or a retryable error", desired.address));
            }
        }
        // What the runner does after an ambiguous create (the re-apply protocol on
        // `Provider`): re-observe the address by its marker, then apply the step again with
        // that observation. Applying it with the plan's stale `Missing` would invite a
        // provider that trusts `Step::observed` to create a second object.
        tracked.recorded.remote_id = None;
        if let Err(error) = self.driver.observe(&mut [&mut tracked]).await {
            self.fail(
                "ambiguous create",
                format!("re-observing by marker after the lost create: {error}"),
            );
            return;
        }
        let before = self.subject.calls().await.unwrap_or_default();
        match self.driver.step(Some(desired), &mut tracked, &action).await {
            Ok(StepOutcome::Done { .. }) => {}
            other => self.fail(
                "ambiguous create",
                format!(
                    "{}: the create applied again gave {other:?}",
                    desired.address
                ),
            ),
        }
        let after = self.subject.calls().await.unwrap_or_default();
        let creates =
            after.get(&create).copied().unwrap_or(0) - before.get(&create).copied().unwrap_or(0);
        if creates != 0 {
            self.fail("ambiguous create", format!("{}: the create was sent {creates} more time(s) after the lost answer: the object was not found by its marker", desired.address));
        }
        if tracked.remote_id().is_none() {
            self.fail(
                "ambiguous create",
                format!(
                    "{}: no remote id after adopting the lost create",
                    desired.address
                ),
            );
        }
    }

    async fn error_mapping(&mut self, desired: &DesiredSpec) {
        let observe = self.subject.observe_action(&desired.kind);
        let Ok(tracked) = Tracked::new(self.subject.provider(), desired) else {
            return;
        };
        for (fault, expect) in [
            (Fault::Throttle, "throttled"),
            (Fault::Internal, "internal"),
        ] {
            if let Err(error) = self.subject.inject(&observe, fault.clone()).await {
                self.fail("error mapping", format!("cannot inject {fault:?}: {error}"));
                continue;
            }
            let result = self
                .subject
                .provider()
                .observe(ObserveRequest {
                    targets: vec![tracked.target_for(tracked.remote_id().cloned())],
                })
                .await;
            let _ = self.subject.clear_faults().await;
            let fits = match (&fault, &result) {
                (Fault::Throttle, Err(error @ ProviderError::Throttled { .. }))
                | (Fault::Internal, Err(error @ ProviderError::Internal { .. })) => {
                    error.is_retryable()
                }
                _ => false,
            };
            if !fits {
                self.fail(
                    "error mapping",
                    format!("{observe} answered {expect}: the provider returned {result:?}"),
                );
            }
        }
        let refused = self.subject.with_refused_credentials();
        let result = refused
            .observe(ObserveRequest {
                targets: vec![tracked.target_for(None)],
            })
            .await;
        if !matches!(result, Err(ProviderError::Auth { .. })) {
            self.fail(
                "error mapping",
                format!("refused credentials: the provider returned {result:?}, not an auth error"),
            );
        }
    }

    async fn removal(&mut self, converged: &mut [(DesiredSpec, Tracked, Vec<ActionKind>)]) {
        for (desired, tracked, _) in converged.iter_mut() {
            match self.driver.remove(tracked).await {
                Ok(applied) if applied.contains(&ActionKind::Delete) => {}
                Ok(applied) => self.fail(
                    "removal",
                    format!(
                        "{}: removing the spec with Orphans::Delete applied {applied:?}, no delete",
                        desired.address
                    ),
                ),
                Err(error) => {
                    self.fail("removal", error.to_string());
                    continue;
                }
            }
            if let Err(error) = self.driver.observe(&mut [&mut *tracked]).await {
                self.fail("removal", error.to_string());
            } else if tracked.observed.object().is_some() {
                self.fail(
                    "removal",
                    format!("{}: still present after its delete", desired.address),
                );
            }
        }
    }
}

/// Runs every check; returns the violations (empty when the provider conforms).
pub async fn run(subject: &dyn Subject) -> Vec<Violation> {
    let mut suite = Suite {
        subject,
        driver: Driver::new(subject.provider(), |by| subject.advance(by)),
        violations: Vec::new(),
    };
    let mut specs = subject.specs();
    // The last spec is kept back for the ambiguous create, the rest converge normally.
    let Some(spare) = specs.pop() else {
        return vec![Violation {
            check: "subject",
            message: "the subject gave no specs".to_owned(),
        }];
    };
    suite.missing(&specs).await;
    let mut converged = suite.converge(&specs).await;
    suite.batching(&mut converged).await;
    suite.idempotency(&mut converged).await;
    suite.ambiguous_create(&spare).await;
    suite.error_mapping(&spare).await;
    suite.removal(&mut converged).await;
    suite.violations
}

/// Runs the suite and panics listing every violation (for a `#[tokio::test]`).
///
/// # Panics
///
/// When the provider does not conform.
pub async fn assert_conforms(subject: &dyn Subject) {
    let violations = run(subject).await;
    assert!(
        violations.is_empty(),
        "{} violates the provider contract:\n{}",
        subject.provider().describe().name,
        violations
            .iter()
            .map(|violation| format!("  - {violation}\n"))
            .collect::<String>()
    );
}

impl Tracked {
    fn target_for(&self, remote_id: Option<RemoteId>) -> ObserveTarget {
        ObserveTarget {
            address: self.address.clone(),
            kind: self.kind.clone(),
            revision: None,
            view: None,
            remote_id,
            location: self.location.clone(),
        }
    }
}

#[cfg(test)]
mod tests;
