//! Applying a plan: every address's actions in order, addresses side by side (bounded), each
//! step re-checked by the provider against a fresh observation, in-flight work watched by
//! one shared poller per provider, the state written after every step.
//!
//! # Crash safety
//!
//! Before a create, an intent is journaled and the state written; the provider tags the
//! object with its address, so a crash between the create and the record of its id is
//! recovered by the next plan, which finds the object by its tag. After every step the
//! remote id and location are written. A re-run therefore continues where a run stopped.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use migspec_provider::{
    Action, ActionKind, Address, Failure, InFlight, InFlightTarget, ObserveRequest, ObserveTarget,
    Observed, Phase, PlanRequest, Provider, ProviderError, Step, StepOutcome, Wait, WaitVerdict,
};

use crate::RunnerError;
use crate::backoff::{Backoff, RetryBudget};
use crate::planner::Planned;
use crate::poller::Poller;
use crate::providers::Providers;
use crate::specs::{Deadlines, Spec};
use crate::state::{
    AppliedPlan, HeldState, JournalEntry, JournalStatus, Resource, State, StateChange, now_rfc3339,
};

/// How far `apply` follows each address before returning (`--wait`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum WaitLevel {
    /// Return as soon as the cloud accepted each address's next step.
    None,
    /// Return once each check passed.
    Checked,
    /// Return once each migration runs.
    Running,
    /// Follow every planned action to its end (the default).
    #[default]
    Completed,
}

impl WaitLevel {
    /// Whether an address in `phase` has gone far enough.
    fn reached(self, phase: Phase) -> bool {
        match self {
            Self::None => true,
            Self::Checked => matches!(
                phase,
                Phase::CheckPassed
                    | Phase::Scheduled
                    | Phase::Running
                    | Phase::ReadyToComplete
                    | Phase::Completing
                    | Phase::Completed
            ),
            Self::Running => matches!(
                phase,
                Phase::Running | Phase::ReadyToComplete | Phase::Completing | Phase::Completed
            ),
            Self::Completed => false,
        }
    }
}

/// The first poll of a wait whose provider gives no expected duration (`poll_after` zero).
pub const DEFAULT_FIRST_POLL: Duration = Duration::from_millis(500);

/// Settings of an apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// API calls in flight at once, through the call gate. A job waiting for the shared
    /// poller, and a call waiting for its action's rate-limit slot, hold none, so a slow
    /// check or a busy action does not keep other addresses from moving.
    pub concurrency: usize,
    /// How far to follow.
    pub wait: WaitLevel,
    /// Cancelled on Ctrl-C: no new steps start; calls in progress finish.
    pub cancel: CancellationToken,
    /// The longest interval between polls of a waiting step: polls start after the wait's
    /// `poll_after` (the phase's expected duration, or [`DEFAULT_FIRST_POLL`]) and back off
    /// up to this.
    pub poll_interval: Duration,
    /// Retries of a failed call (throttled, internal, network) per step.
    pub retries_per_step: u32,
    /// Retries of failed calls for the whole apply (so a flapping cloud cannot keep a large
    /// apply retrying for hours): this many, or [`RETRIES_PER_PLANNED_STEP`] for each step
    /// the plan has when that is more.
    pub retries_per_apply: u32,
    /// The saved plan this apply runs, recorded in the state before its first step (a
    /// saved plan is applied once).
    pub saved_plan: Option<AppliedPlan>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            concurrency: 8,
            wait: WaitLevel::Completed,
            cancel: CancellationToken::new(),
            poll_interval: Duration::from_secs(2),
            retries_per_step: 8,
            retries_per_apply: 200,
            saved_plan: None,
        }
    }
}

/// Something that happened during an apply, for the progress display.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A step starts.
    StepStarted {
        /// The address.
        address: Address,
        /// The action.
        action: ActionKind,
        /// Its position (1-based) and the number of actions of the address.
        position: (usize, usize),
    },
    /// A poll (or a step) showed where an address is.
    Observed {
        /// The address.
        address: Address,
        /// What the cloud shows.
        observed: Observed,
    },
    /// A step finished.
    StepDone {
        /// The address.
        address: Address,
        /// The action.
        action: ActionKind,
    },
    /// A failed migration is resumed or retried per `onFailure`.
    Recovering {
        /// The address.
        address: Address,
        /// The attempt about to be made (1-based).
        attempt: u32,
        /// The failure being recovered from.
        failure: Failure,
    },
    /// An address is finished with (for this run).
    Finished {
        /// The address.
        address: Address,
        /// How.
        outcome: Outcome,
    },
}

/// How an address ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Every action is done.
    Converged,
    /// Left moving at the requested `--wait` level; `migspec status` follows it.
    LeftInFlight {
        /// The phase it was in.
        phase: Phase,
        /// The actions not performed yet.
        remaining: Vec<ActionKind>,
    },
    /// A step failed.
    Failed {
        /// The action that failed.
        action: ActionKind,
        /// The cloud's (or migspec's) reason.
        failure: Failure,
    },
    /// Stopped by Ctrl-C before its next step.
    Interrupted,
}

/// Receives apply events (the CLI's progress display).
pub trait Reporter: Send + Sync {
    /// One event.
    fn report(&self, event: Event);
}

/// The result of an apply.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApplyReport {
    /// How each address with actions ended.
    pub outcomes: BTreeMap<Address, Outcome>,
}

impl ApplyReport {
    /// Whether any address failed.
    #[must_use]
    pub fn failed(&self) -> bool {
        self.outcomes
            .values()
            .any(|outcome| matches!(outcome, Outcome::Failed { .. }))
    }

    /// Whether the run was interrupted.
    #[must_use]
    pub fn interrupted(&self) -> bool {
        self.outcomes
            .values()
            .any(|outcome| matches!(outcome, Outcome::Interrupted))
    }
}

/// The retries an apply may spend, on average, for each step its plan has. A fixed budget
/// does not fit every size: 200 for the whole apply ran out under the chaos test's faults
/// (a third of all calls failing) at 300 specs, and every retryable error after that failed
/// its address (206 of 300). Two per step bounds a cloud that fails everything to about two
/// retries a step (the per-step budget alone would allow eight), and leaves a large apply
/// what a normal error rate needs.
pub const RETRIES_PER_PLANNED_STEP: u32 = 2;

/// The retry budget of an apply of `plan`: `at_least`, or two per planned step.
fn apply_budget(plan: &crate::plan::Plan, at_least: u32) -> u32 {
    let steps: usize = plan.changes.iter().map(|change| change.actions.len()).sum();
    let scaled = u32::try_from(steps)
        .unwrap_or(u32::MAX)
        .saturating_mul(RETRIES_PER_PLANNED_STEP);
    at_least.max(scaled)
}

/// The shared parts of an apply.
struct Run {
    /// Retries left for the whole apply.
    retries: RetryBudget,
    providers: Providers,
    pollers: Vec<Poller>,
    held: Box<dyn HeldState>,
    state: Mutex<State>,
    reporter: Arc<dyn Reporter>,
    options: ApplyOptions,
    lineage_serial: String,
}

/// Applies a plan (the actions of `planned.plan`, with the specs and observations it was
/// made from), writing the state through `held`, whose lock is kept for the whole call.
///
/// # Errors
///
/// Only when the state cannot be written; every failure of a step is an [`Outcome`].
pub async fn apply(
    providers: &Providers,
    held: Box<dyn HeldState>,
    planned: Planned,
    reporter: Arc<dyn Reporter>,
    options: ApplyOptions,
) -> Result<ApplyReport, RunnerError> {
    let pollers = (0..providers.len())
        .map(|index| Poller::spawn(providers.get(index).clone()))
        .collect();
    // `--concurrency` bounds the API calls in flight, taken by the gate per call (never
    // while a job waits, nor while a call waits for its key's slot).
    providers.gate().set_concurrency(options.concurrency);
    let run = Arc::new(Run {
        retries: RetryBudget::new(apply_budget(&planned.plan, options.retries_per_apply)),
        providers: providers.clone(),
        pollers,
        held,
        lineage_serial: format!("{}:{}", planned.state.lineage, planned.state.serial),
        state: Mutex::new(planned.state.clone()),
        reporter,
        options,
    });
    if let Some(applied) = run.options.saved_plan.clone() {
        // Recorded with the first address the plan acts on, before anything else happens.
        let first = planned
            .plan
            .changes
            .iter()
            .find(|change| !change.actions.is_empty())
            .map(|change| &change.address)
            .or_else(|| planned.plan.forget.first().map(|entry| &entry.address));
        if let Some(address) = first {
            run.record_plan(address, applied).await?;
        }
    }
    let mut tasks = tokio::task::JoinSet::new();
    let mut report = ApplyReport::default();
    for change in &planned.plan.changes {
        let address = change.address.clone();
        let spec = planned.specs.specs.get(&address).cloned();
        let observed = planned
            .observed
            .get(&address)
            .cloned()
            .unwrap_or(Observed::Missing {
                address: address.clone(),
            });
        if change.actions.is_empty() {
            if spec.is_none() && observed.object().is_none() {
                // The object and its spec are both gone: nothing left to remember.
                run.forget(&address).await?;
            } else if spec.is_some() && observed.object().is_some() {
                // Nothing to do, but the state may not know the object yet: a run that was
                // killed between a create and its record, found again by its tag.
                if let Some((provider, _)) = run.providers.for_kind(&change.kind) {
                    let mut worker = Worker {
                        run: &run,
                        provider,
                        address: address.clone(),
                        kind: change.kind.clone(),
                        spec,
                        observed: observed.clone(),
                    };
                    worker.adopt(observed).await?;
                }
            }
            continue;
        }
        let Some((provider, _)) = run.providers.for_kind(&change.kind) else {
            return Err(RunnerError::UnknownKind {
                address,
                kind: change.kind.clone(),
                known: run.providers.kinds().join(", "),
            });
        };
        let run = Arc::clone(&run);
        let actions = change.actions.clone();
        let kind = change.kind.clone();
        tasks.spawn(async move {
            let outcome = if run.options.cancel.is_cancelled() {
                Ok(Outcome::Interrupted)
            } else {
                let mut worker = Worker {
                    run: &run,
                    provider,
                    address: address.clone(),
                    kind,
                    spec,
                    observed,
                };
                worker.run(actions).await
            };
            (address, outcome)
        });
    }
    for entry in &planned.plan.forget {
        run.forget(&entry.address).await?;
    }
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        let (address, outcome) = joined.map_err(|error| RunnerError::Internal {
            message: format!("an apply task failed: {error}"),
        })?;
        match outcome {
            Ok(outcome) => {
                run.reporter.report(Event::Finished {
                    address: address.clone(),
                    outcome: outcome.clone(),
                });
                report.outcomes.insert(address, outcome);
            }
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    match first_error {
        Some(error) => Err(error),
        None => Ok(report),
    }
}

impl Run {
    /// Changes one address's record (the closure gets it and the state's salt) and adds
    /// journal entries, and has the backend record exactly that before returning.
    async fn change(
        &self,
        address: &Address,
        edit: impl FnOnce(&mut Option<Resource>, &str),
        journal: Vec<JournalEntry>,
    ) -> Result<(), RunnerError> {
        self.record(address, edit, journal, None).await
    }

    /// Records the saved plan being applied (with `address`'s record unchanged).
    async fn record_plan(&self, address: &Address, plan: AppliedPlan) -> Result<(), RunnerError> {
        self.record(address, |_, _| {}, Vec::new(), Some(plan))
            .await
    }

    /// The one way a run writes its state: one address's record, journal entries and the
    /// saved plan, as one [`StateChange`].
    async fn record(
        &self,
        address: &Address,
        edit: impl FnOnce(&mut Option<Resource>, &str),
        journal: Vec<JournalEntry>,
        plan: Option<AppliedPlan>,
    ) -> Result<(), RunnerError> {
        let mut state = self.state.lock().await;
        let mut slot = state.resources.get(address).cloned();
        let salt = state.salt.clone();
        edit(&mut slot, &salt);
        let change = StateChange {
            address: address.clone(),
            resource: slot,
            journal,
            plan,
        };
        self.held
            .record(&mut state, &change)
            .await
            .map_err(RunnerError::State)
    }

    async fn forget(&self, address: &Address) -> Result<(), RunnerError> {
        let known = self.state.lock().await.resources.contains_key(address);
        if known {
            self.change(address, |slot, _| *slot = None, Vec::new())
                .await?;
        }
        Ok(())
    }
}

/// One address being applied.
struct Worker<'a> {
    run: &'a Run,
    provider: usize,
    address: Address,
    kind: String,
    spec: Option<Spec>,
    observed: Observed,
}

/// The most times a step is applied again after its wait (a provider that never reports
/// `Done` is a contract violation, not a reason to loop forever).
const MAX_REAPPLY: usize = 20;

/// How many ambiguous creates ([`StepOutcome::Unknown`]) a step survives before it fails
/// with the last error.
const MAX_AMBIGUOUS: u32 = 4;

impl Worker<'_> {
    fn implementation(&self) -> &Arc<dyn Provider> {
        self.run.providers.get(self.provider)
    }

    fn deadlines(&self) -> Deadlines {
        self.spec
            .as_ref()
            .map_or_else(Deadlines::default, |spec| spec.timeouts)
    }

    async fn run(&mut self, planned: Vec<Action>) -> Result<Outcome, RunnerError> {
        let mut actions = planned;
        let mut index = 0;
        while index < actions.len() {
            if self.run.options.cancel.is_cancelled() {
                return Ok(Outcome::Interrupted);
            }
            // Far enough for `--wait`: the remaining actions are left for a later apply.
            if let Some(phase) = self.observed.object().map(|object| object.phase)
                && index > 0
                && self.run.options.wait.reached(phase)
            {
                self.record_applied().await?;
                return Ok(Outcome::LeftInFlight {
                    phase,
                    remaining: actions[index..].iter().map(|a| a.kind).collect(),
                });
            }
            let action = actions[index].clone();
            self.run.reporter.report(Event::StepStarted {
                address: self.address.clone(),
                action: action.kind,
                position: (index + 1, actions.len()),
            });
            match self.step(&action, index).await? {
                StepEnd::Done => {
                    self.run.reporter.report(Event::StepDone {
                        address: self.address.clone(),
                        action: action.kind,
                    });
                    index += 1;
                }
                StepEnd::LeftInFlight(phase) => {
                    self.record_applied().await?;
                    return Ok(Outcome::LeftInFlight {
                        phase,
                        remaining: actions[index..].iter().map(|a| a.kind).collect(),
                    });
                }
                StepEnd::Interrupted => return Ok(Outcome::Interrupted),
                StepEnd::Failed(failure) => {
                    match self.recovery(&failure).await? {
                        Some(recovery) => {
                            // Resume or retry per `onFailure`, then whatever follows.
                            actions = recovery;
                            index = 0;
                        }
                        None => {
                            self.journal(&action, index, JournalStatus::Failed).await?;
                            return Ok(Outcome::Failed {
                                action: action.kind,
                                failure,
                            });
                        }
                    }
                }
            }
        }
        self.record_applied().await?;
        Ok(Outcome::Converged)
    }

    /// Records an object that needs no action as applied, when the state does not say so
    /// already (its id, location, spec hash, view and secret fingerprints).
    async fn adopt(&mut self, observed: Observed) -> Result<(), RunnerError> {
        let current = {
            let state = self.run.state.lock().await;
            state.resources.get(&self.address).is_some_and(|resource| {
                resource.remote_id.as_ref() == observed.object().map(|object| &object.id)
                    && resource.applied_spec_hash.as_deref()
                        == self.spec.as_ref().map(|spec| spec.hash.as_str())
            })
        };
        if current {
            return Ok(());
        }
        self.see(observed).await?;
        self.record_applied().await
    }

    /// Applies one action until the provider reports it done (or failed).
    async fn step(&mut self, action: &Action, index: usize) -> Result<StepEnd, RunnerError> {
        let mut step = Step {
            address: self.address.clone(),
            action: action.clone(),
            remote_id: self.observed.object().map(|object| object.id.clone()),
            // An existing object is acted on where it was observed, never where the new
            // spec puts it (a region change deletes in the old region).
            location: match (self.observed.object(), &self.spec) {
                (Some(object), _) => object.location.clone(),
                (None, Some(spec)) => match self.implementation().location(&spec.desired) {
                    Ok(location) => location,
                    Err(error) => return Ok(StepEnd::Failed(failure_of(&error))),
                },
                (None, None) => serde_json::Value::Null,
            },
            desired: self.spec.as_ref().map(|spec| spec.desired.clone()),
            idempotency_key: format!(
                "{}:{}:{index}:{}",
                self.run.lineage_serial,
                self.address,
                action.kind.verb()
            ),
            observed: None,
        };
        self.journal(action, index, JournalStatus::Intent).await?;
        if matches!(action.kind, ActionKind::Resume | ActionKind::Retry) {
            // Every attempt counts, planned or in-run, before it is made: a crash after the
            // call never gives a free attempt.
            self.count_attempt().await?;
        }
        let deadline = Instant::now() + self.deadline_of(action.kind);
        let mut ambiguous = 0_u32;
        let step_retries = RetryBudget::new(self.run.options.retries_per_step);
        let mut backoff = Backoff::for_retries();
        let mut applications = 0;
        while applications < MAX_REAPPLY {
            // The provider decides from this observation instead of reading the object again:
            // the plan's for the first application, the poller's (or the re-observation's)
            // for every later one.
            step.observed = Some(self.observed.clone());
            step.remote_id = self
                .observed
                .object()
                .map(|object| object.id.clone())
                .or(step.remote_id);
            // No permit here: the call gate takes one for each API call once its slot has
            // come (`RunnerGate::set_concurrency`), so an application that needs no call
            // (the object is already where the step leads) never queues behind calls.
            let call = self.implementation().apply(step.clone()).await;
            let outcome = match call {
                Ok(outcome) => {
                    backoff.reset();
                    applications += 1;
                    outcome
                }
                Err(error)
                    if error.is_retryable() && step_retries.take() && self.run.retries.take() =>
                {
                    let delay = backoff.next().unwrap_or(DEFAULT_FIRST_POLL);
                    tracing::info!(
                        address = %self.address,
                        action = action.kind.verb(),
                        retries_left = step_retries.left(),
                        delay_ms = delay.as_millis(),
                        error = %error,
                        "retrying the step"
                    );
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = self.run.options.cancel.cancelled() => return Ok(StepEnd::Interrupted),
                    }
                    if action.kind == ActionKind::Create {
                        // The create may have been made although its answer was lost, and a
                        // throttle is no proof of the opposite: a create can take several
                        // calls (DTS 2021 buys, then configures), and a later one may be the
                        // throttled one. Look for it by its marker before repeating.
                        match self.find_by_marker(&step).await {
                            Ok(Some(found)) => {
                                if let Some(object) = found.object() {
                                    step.location = object.location.clone();
                                }
                                self.see(found).await?;
                            }
                            Ok(None) => {}
                            Err(error) => return Ok(StepEnd::Failed(failure_of(&error))),
                        }
                    }
                    continue;
                }
                Err(error) => {
                    if action.kind == ActionKind::Create && self.observed.object().is_none() {
                        self.find_created(&step).await?;
                    }
                    return Ok(StepEnd::Failed(failure_of(&error)));
                }
            };
            // A create or modify that the cloud accepted carried the spec's secrets.
            let sent_secrets = matches!(action.kind, ActionKind::Create | ActionKind::Modify)
                && !matches!(outcome, StepOutcome::Failed { .. });
            match outcome {
                StepOutcome::Done { observed } => {
                    self.see(observed).await?;
                    if sent_secrets {
                        self.record_secrets_sent().await?;
                    }
                    self.journal(action, index, JournalStatus::Done).await?;
                    return Ok(StepEnd::Done);
                }
                StepOutcome::Failed { observed, failure } => {
                    self.see(observed).await?;
                    return Ok(StepEnd::Failed(failure));
                }
                StepOutcome::Unknown { error } => {
                    ambiguous += 1;
                    if ambiguous > MAX_AMBIGUOUS {
                        return Ok(StepEnd::Failed(failure_of(&error)));
                    }
                    // Whether the create took effect is unknown: look for the object by its
                    // marker (never by a remote id, which an ambiguous create never returned)
                    // and apply the step again with what was found, so that a job the cloud
                    // did create is adopted instead of bought twice.
                    let pause = backoff.next().unwrap_or(DEFAULT_FIRST_POLL);
                    tokio::select! {
                        () = tokio::time::sleep(pause) => {}
                        () = self.run.options.cancel.cancelled() => return Ok(StepEnd::Interrupted),
                    }
                    // A failed look-up must not lead to applying the create again blind (a
                    // second job): the step fails with the reason and the next run looks again.
                    match self.find_by_marker(&step).await {
                        Ok(Some(found)) => self.see(found).await?,
                        Ok(None) => {}
                        Err(error) => return Ok(StepEnd::Failed(failure_of(&error))),
                    }
                }
                StepOutcome::InFlight { observed, wait } => {
                    self.see(observed).await?;
                    if sent_secrets {
                        self.record_secrets_sent().await?;
                    }
                    // Far enough for `--wait`: stop following, unless the step is already
                    // finished (then it is applied again below and reported done).
                    if !matches!(self.judge(&wait), Some(WaitEnd::Satisfied))
                        && let Some(phase) = self.observed.object().map(|object| object.phase)
                        && self.run.options.wait.reached(phase)
                    {
                        return Ok(StepEnd::LeftInFlight(phase));
                    }
                    match self.wait(&wait, deadline, action.kind).await? {
                        WaitEnd::Satisfied => {}
                        WaitEnd::Failed(failure) => return Ok(StepEnd::Failed(failure)),
                        WaitEnd::Interrupted => return Ok(StepEnd::Interrupted),
                        WaitEnd::FarEnough(phase) => return Ok(StepEnd::LeftInFlight(phase)),
                    }
                }
            }
        }
        Ok(StepEnd::Failed(Failure {
            code: None,
            message: format!(
                "the provider kept the `{}` step in flight after {MAX_REAPPLY} applications; this is a provider bug",
                action.kind.verb()
            ),
            details: Vec::new(),
        }))
    }

    /// Looks for the object of a create by its address marker (one batched observation of
    /// one target, with no remote id), retrying the read on retryable errors.
    async fn find_by_marker(&self, step: &Step) -> Result<Option<Observed>, ProviderError> {
        let request = ObserveRequest {
            targets: vec![ObserveTarget {
                address: self.address.clone(),
                kind: self.kind.clone(),
                revision: None,
                view: None,
                remote_id: None,
                location: step.location.clone(),
            }],
        };
        let mut backoff = Backoff::for_retries();
        loop {
            let answer = self.implementation().observe(request.clone()).await;
            match answer {
                Ok(observed) => {
                    return Ok(observed
                        .into_iter()
                        .find(|observed| observed.address() == &self.address)
                        .filter(|observed| observed.object().is_some()));
                }
                Err(error) if error.is_retryable() && self.run.retries.take() => {
                    let delay = backoff.next().unwrap_or(DEFAULT_FIRST_POLL);
                    tokio::time::sleep(delay).await;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// After a create that failed with an error: the object may exist all the same (the
    /// answer was lost after the cloud acted, or a later call of a multi-call create such
    /// as DTS 2021's buy-then-configure failed). It is looked for by its marker and, when
    /// found, recorded now: otherwise the state would lack it until an apply whose plan
    /// finds it by its tag, and under a flaky cloud that can take several runs. A failed
    /// look-up changes nothing (the next plan looks again).
    async fn find_created(&mut self, step: &Step) -> Result<(), RunnerError> {
        if let Ok(Some(observed)) = self.find_by_marker(step).await {
            self.see(observed).await?;
        }
        Ok(())
    }

    fn deadline_of(&self, kind: ActionKind) -> Duration {
        let deadlines = self.deadlines();
        match kind {
            ActionKind::Create | ActionKind::Modify => deadlines.create,
            ActionKind::Check => deadlines.check,
            ActionKind::Start | ActionKind::Resume | ActionKind::Retry | ActionKind::Continue => {
                deadlines.start
            }
            ActionKind::Complete => deadlines.complete,
            ActionKind::Pause | ActionKind::Stop => deadlines.stop,
            ActionKind::Delete => deadlines.delete,
        }
    }

    /// Waits through the shared poller until the wait is satisfied, fails, times out or the
    /// run is cancelled.
    async fn wait(
        &mut self,
        wait: &Wait,
        deadline: Instant,
        action: ActionKind,
    ) -> Result<WaitEnd, RunnerError> {
        if let Some(end) = self.judge(wait) {
            return Ok(end);
        }
        let Some(object) = self.observed.object() else {
            return Ok(WaitEnd::Failed(Failure {
                code: None,
                message: "the provider reported a step in flight on an object that does not exist"
                    .to_owned(),
                details: Vec::new(),
            }));
        };
        let target = InFlightTarget {
            object: InFlight {
                address: self.address.clone(),
                remote_id: object.id.clone(),
            },
            kind: self.kind.clone(),
            location: object.location.clone(),
        };
        // The first poll when the phase is expected to be done (a short default when the
        // provider cannot say), later ones backing off up to the run's poll interval.
        let first = if wait.poll_after.is_zero() {
            DEFAULT_FIRST_POLL
        } else {
            wait.poll_after
        };
        let mut updates = self.run.pollers[self.provider].watch(
            target,
            first,
            self.run.options.poll_interval.max(first),
        );
        loop {
            let update = tokio::select! {
                update = updates.recv() => update,
                () = tokio::time::sleep_until(deadline) => {
                    return Ok(WaitEnd::Failed(self.timed_out(action, deadline)));
                }
                () = self.run.options.cancel.cancelled() => return Ok(WaitEnd::Interrupted),
            };
            match update {
                Some(Ok(observed)) => {
                    self.see(observed).await?;
                    if let Some(end) = self.judge(wait) {
                        return Ok(end);
                    }
                    // A step returns in flight with the phase its call moves into, so the
                    // phase `--wait` asks for is often first seen here, by the poller.
                    if let Some(phase) = self.observed.object().map(|object| object.phase)
                        && self.run.options.wait.reached(phase)
                    {
                        return Ok(WaitEnd::FarEnough(phase));
                    }
                }
                // A read: the poller polls again (backing off, its gate slowing down when the
                // server throttles), nothing to repeat here. The phase's deadline bounds how
                // long a flaky read may keep the wait open: one poll shared by many jobs
                // fails for all of them at once, so counting failures per job would fail
                // every waiting job on a short run of bad answers.
                Some(Err(error)) if error.is_retryable() => {
                    tracing::info!(
                        address = %self.address,
                        error = %error,
                        "a poll failed; polling again"
                    );
                }
                Some(Err(error)) => return Ok(WaitEnd::Failed(failure_of(&error))),
                None => {
                    return Err(RunnerError::Internal {
                        message: "the shared poller stopped".to_owned(),
                    });
                }
            }
        }
    }

    /// Whether the last observation ends a wait.
    fn judge(&self, wait: &Wait) -> Option<WaitEnd> {
        match wait.verdict(&self.observed) {
            WaitVerdict::Satisfied => Some(WaitEnd::Satisfied),
            WaitVerdict::Vanished => Some(WaitEnd::Failed(Failure {
                code: None,
                message: format!(
                    "{} disappeared while migspec waited for it (deleted outside migspec?)",
                    self.address
                ),
                details: Vec::new(),
            })),
            WaitVerdict::Failed(object) => Some(WaitEnd::Failed(
                object.failure.clone().unwrap_or_else(|| Failure {
                    code: None,
                    message: format!(
                        "the job went to `{}` ({:?}) without a reason from the cloud",
                        object.raw_status, object.phase
                    ),
                    details: Vec::new(),
                }),
            )),
            WaitVerdict::Pending => None,
        }
    }

    fn timed_out(&self, action: ActionKind, deadline: Instant) -> Failure {
        let waited = self.deadline_of(action);
        let _ = deadline;
        let (status, progress) = self.observed.object().map_or_else(
            || ("missing".to_owned(), String::new()),
            |object| {
                (
                    object.raw_status.clone(),
                    object
                        .progress
                        .as_ref()
                        .and_then(|progress| progress.percent)
                        .map_or_else(String::new, |percent| format!(", {percent:.0}%")),
                )
            },
        );
        Failure {
            code: Some("migspec::timeout".to_owned()),
            message: format!(
                "`{}` did not finish within {} (last status `{status}`{progress}); raise `lifecycle.timeouts` or look at the job in the console; a re-run continues from here",
                action.verb(),
                humantime::format_duration(waited)
            ),
            details: Vec::new(),
        }
    }

    /// On a failed migration, the actions `onFailure` allows (asked of the provider's own
    /// planner, with the attempts spent; the attempt is counted when its step runs).
    async fn recovery(&mut self, failure: &Failure) -> Result<Option<Vec<Action>>, RunnerError> {
        let Some(object) = self.observed.object() else {
            return Ok(None);
        };
        if object.phase != Phase::Failed || self.spec.is_none() {
            return Ok(None);
        }
        let attempts = self
            .run
            .state
            .lock()
            .await
            .resources
            .get(&self.address)
            .filter(|resource| resource.remote_id.as_ref() == Some(&object.id))
            .map_or(0, |resource| resource.attempts);
        let request = PlanRequest {
            address: self.address.clone(),
            desired: self.spec.as_ref().map(|spec| spec.desired.clone()),
            observed: self.observed.clone(),
            recorded: migspec_provider::Recorded {
                remote_id: Some(object.id.clone()),
                changed_secrets: Vec::new(),
                attempts,
                location: object.location.clone(),
            },
            orphans: migspec_provider::Orphans::Keep,
        };
        let Ok(actions) = self.implementation().plan(&request) else {
            return Ok(None);
        };
        if !actions
            .first()
            .is_some_and(|action| matches!(action.kind, ActionKind::Resume | ActionKind::Retry))
        {
            return Ok(None);
        }
        self.run.reporter.report(Event::Recovering {
            address: self.address.clone(),
            attempt: attempts + 1,
            failure: failure.clone(),
        });
        Ok(Some(actions))
    }

    /// Adds one resume/retry attempt to the state's count for the current object.
    async fn count_attempt(&self) -> Result<(), RunnerError> {
        let address = self.address.clone();
        let id = self.observed.object().map(|object| object.id.clone());
        self.run
            .change(
                &address,
                |slot, _| {
                    if let Some(resource) = slot.as_mut()
                        && resource.remote_id == id
                    {
                        resource.attempts += 1;
                    }
                },
                Vec::new(),
            )
            .await
    }

    /// Records the fingerprints of the secrets a create or modify call sent, on the record
    /// of the object it was sent to (after [`Self::see`] recorded its id).
    async fn record_secrets_sent(&self) -> Result<(), RunnerError> {
        let Some(spec) = &self.spec else {
            return Ok(());
        };
        let Some(id) = self.observed.object().map(|object| object.id.clone()) else {
            return Ok(());
        };
        let address = self.address.clone();
        let secrets = spec.desired.secrets.clone();
        self.run
            .change(
                &address,
                |slot, salt| {
                    if let Some(resource) = slot.as_mut()
                        && resource.remote_id.as_ref() == Some(&id)
                    {
                        for (pointer, secret) in &secrets {
                            resource
                                .secret_fingerprints
                                .insert(pointer.clone(), secret.fingerprint(salt));
                        }
                        // From now on changes are detected from the fingerprints.
                        resource.secrets_in_use = false;
                    }
                },
                Vec::new(),
            )
            .await
    }

    /// Takes in an observation: remembers it and records the remote id and location.
    async fn see(&mut self, observed: Observed) -> Result<(), RunnerError> {
        self.run.reporter.report(Event::Observed {
            address: self.address.clone(),
            observed: observed.clone(),
        });
        let address = self.address.clone();
        let kind = self.kind.clone();
        let deletion_policy = self.spec.as_ref().and_then(|spec| spec.deletion_policy);
        let file = self
            .spec
            .as_ref()
            .map(|spec| crate::scope::project_relative(&spec.file));
        let previous = self.observed.object().map(|object| object.id.clone());
        self.observed = observed;
        match self.observed.object() {
            Some(object) => {
                let (id, location) = (object.id.clone(), object.location.clone());
                let needs_write = {
                    let state = self.run.state.lock().await;
                    state.resources.get(&address).is_none_or(|resource| {
                        resource.remote_id.as_ref() != Some(&id) || resource.location != location
                    })
                };
                if needs_write {
                    self.run
                        .change(
                            &address,
                            |slot, _| {
                                let resource = slot.get_or_insert(Resource {
                                    kind: kind.clone(),
                                    remote_id: None,
                                    location: serde_json::Value::Null,
                                    secret_fingerprints: BTreeMap::new(),
                                    applied_spec_hash: None,
                                    deletion_policy,
                                    file,
                                    config_hash: None,
                                    attempts: 0,
                                    applied_view: None,
                                    secrets_in_use: false,
                                    applied_revision: None,
                                });
                                if resource.remote_id.as_ref() != Some(&id) {
                                    resource.attempts = 0;
                                    resource.applied_view = None;
                                    resource.applied_revision = None;
                                    resource.secret_fingerprints.clear();
                                }
                                resource.kind = kind;
                                resource.remote_id = Some(id);
                                resource.location = location;
                            },
                            Vec::new(),
                        )
                        .await?;
                }
            }
            None if previous.is_some() => {
                // Deleted: keep the address only while its spec exists (to re-create it).
                let keep = self.spec.is_some();
                self.run
                    .change(
                        &address,
                        |slot, _| {
                            if keep {
                                if let Some(resource) = slot.as_mut() {
                                    resource.remote_id = None;
                                    resource.applied_view = None;
                                    resource.applied_revision = None;
                                    resource.attempts = 0;
                                    resource.secret_fingerprints.clear();
                                }
                            } else {
                                *slot = None;
                            }
                        },
                        Vec::new(),
                    )
                    .await?;
            }
            None => {}
        }
        Ok(())
    }

    /// After the last step: what was applied (spec hash, secret fingerprints, the view).
    async fn record_applied(&self) -> Result<(), RunnerError> {
        let Some(spec) = &self.spec else {
            return Ok(());
        };
        let Some(object) = self.observed.object() else {
            return Ok(());
        };
        let address = self.address.clone();
        let view = object.view.clone();
        let revision = object.revision.clone();
        let id = object.id.clone();
        let hash = spec.hash.clone();
        let secrets = spec.desired.secrets.clone();
        let policy = spec.deletion_policy;
        let file = crate::scope::project_relative(&spec.file);
        let config_hash = spec.config_hash.clone();
        self.run
            .change(
                &address,
                |slot, salt| {
                    if let Some(resource) = slot.as_mut()
                        && resource.remote_id.as_ref() == Some(&id)
                    {
                        resource.applied_spec_hash = Some(hash);
                        resource.applied_view = Some(view);
                        resource.applied_revision = revision;
                        resource.deletion_policy = policy;
                        resource.file = Some(file);
                        resource.config_hash = Some(config_hash);
                        resource.secret_fingerprints = secrets
                            .iter()
                            .map(|(pointer, secret)| (pointer.clone(), secret.fingerprint(salt)))
                            .collect();
                    }
                },
                Vec::new(),
            )
            .await
    }

    async fn journal(
        &self,
        action: &Action,
        index: usize,
        status: JournalStatus,
    ) -> Result<(), RunnerError> {
        // Intents are written for creates only: they are what a crash could duplicate.
        if status == JournalStatus::Intent && action.kind != ActionKind::Create {
            return Ok(());
        }
        let entry = JournalEntry {
            at: now_rfc3339(),
            address: self.address.clone(),
            action: action.kind.verb().to_owned(),
            key: format!(
                "{}:{}:{index}:{}",
                self.run.lineage_serial,
                self.address,
                action.kind.verb()
            ),
            status,
            remote_id: self.observed.object().map(|object| object.id.clone()),
        };
        self.run.change(&self.address, |_, _| {}, vec![entry]).await
    }
}

enum StepEnd {
    Done,
    LeftInFlight(Phase),
    Failed(Failure),
    Interrupted,
}

enum WaitEnd {
    Satisfied,
    Failed(Failure),
    Interrupted,
    /// Not satisfied, but as far as `--wait` asked (the phase reached).
    FarEnough(Phase),
}

/// A provider error as the failure of a step.
fn failure_of(error: &ProviderError) -> Failure {
    let code = match error {
        ProviderError::Throttled { code, .. }
        | ProviderError::Internal { code, .. }
        | ProviderError::Auth { code, .. }
        | ProviderError::NotFound { code, .. }
        | ProviderError::StateConflict { code, .. }
        | ProviderError::Rejected { code, .. } => Some(code.clone()),
        _ => None,
    };
    Failure {
        code,
        message: error.to_string(),
        details: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Mutex as StdMutex;

    use migspec_provider::testing::FakeProvider;
    use migspec_provider::{DesiredSpec, PlanError, RemoteId, RemoteObject};

    use crate::plan::{Binding, Change, Plan};
    use crate::specs::SpecSet;
    use crate::state::{LocalState, LockInfo, StateBackend};

    /// A one-job cloud: `create` → creating → configured; `start` → starting → running, or
    /// failed the first `failures` times; `resume` → starting again. [`fake`] serves it
    /// through a [`FakeProvider`], which records the requests; errors are queued on the fake
    /// with `on_apply` and answer the next applies before the cloud does.
    struct Cloud {
        job: StdMutex<Option<(Phase, u32)>>,
        failures: u32,
    }

    impl Cloud {
        fn new(failures: u32) -> Arc<Self> {
            Self::with_job(None, failures)
        }

        fn with_job(job: Option<(Phase, u32)>, failures: u32) -> Arc<Self> {
            Arc::new(Self {
                job: StdMutex::new(job),
                failures,
            })
        }

        fn observed(&self) -> Observed {
            let address = Address("job".into());
            match *self.job.lock().unwrap() {
                None => Observed::Missing { address },
                Some((phase, _)) => Observed::Present {
                    address,
                    object: Box::new(RemoteObject {
                        id: RemoteId("job-1".into()),
                        phase,
                        raw_status: format!("{phase:?}"),
                        location: serde_json::Value::Null,
                        view: serde_json::json!({"n": 1}),
                        progress: None,
                        failure: (phase == Phase::Failed).then(|| Failure {
                            code: Some("E1".into()),
                            message: "the loader died".into(),
                            details: vec!["step loader: 40%".into()],
                        }),
                        revision: None,
                        marker: None,
                    }),
                },
            }
        }

        fn wait(until: Phase) -> Wait {
            Wait {
                until: vec![until],
                fail_on: vec![Phase::Failed],
                until_missing: false,
                poll_after: Duration::from_millis(1),
            }
        }

        /// What the cloud does with `step` (a call that answers).
        fn apply(&self, step: &Step) -> StepOutcome {
            let mut job = self.job.lock().unwrap();
            let wait = match (step.action.kind, *job) {
                (ActionKind::Create, None) => {
                    *job = Some((Phase::Creating, 0));
                    Some(Self::wait(Phase::Configured))
                }
                (
                    ActionKind::Start | ActionKind::Resume,
                    Some((Phase::Configured | Phase::Failed, n)),
                ) => {
                    *job = Some((Phase::Resuming, n));
                    Some(Self::wait(Phase::Running))
                }
                _ => None,
            };
            drop(job);
            let observed = self.observed();
            match wait {
                Some(wait) => StepOutcome::InFlight { observed, wait },
                None => StepOutcome::Done { observed },
            }
        }

        /// One poll: every phase in flight moves on.
        fn poll(&self) -> Observed {
            {
                let mut job = self.job.lock().unwrap();
                *job = match *job {
                    Some((Phase::Creating, n)) => Some((Phase::Configured, n)),
                    Some((Phase::Resuming, n)) if n < self.failures => Some((Phase::Failed, n + 1)),
                    Some((Phase::Resuming, n)) => Some((Phase::Running, n)),
                    other => other,
                };
            }
            self.observed()
        }

        /// A create that took effect although its answer was lost.
        fn made_anyway(&self, step: &Step) {
            if step.action.kind == ActionKind::Create {
                *self.job.lock().unwrap() = Some((Phase::Configured, 0));
            }
        }
    }

    /// The provider's plan for the job.
    fn plan_for(request: &PlanRequest) -> Result<Vec<Action>, PlanError> {
        let action = |kind| Action::new(kind, "test");
        Ok(match request.observed.object().map(|o| o.phase) {
            None => vec![action(ActionKind::Create), action(ActionKind::Start)],
            Some(Phase::Configured) => vec![action(ActionKind::Start)],
            Some(Phase::Failed) if request.recorded.attempts < 2 => {
                vec![action(ActionKind::Resume)]
            }
            Some(Phase::Failed) => {
                return Err(PlanError {
                    address: request.address.clone(),
                    message: "attempts exhausted".into(),
                });
            }
            _ => vec![],
        })
    }

    /// A provider `fake` serving `cloud`.
    fn fake(cloud: &Arc<Cloud>) -> FakeProvider {
        let provider = FakeProvider::new("fake", &["Fake"]);
        let observing = Arc::clone(cloud);
        let applying = Arc::clone(cloud);
        let polling = Arc::clone(cloud);
        provider
            .serve_observe(move |_| Ok(vec![observing.observed()]))
            .serve_plan(plan_for)
            .serve_apply(move |step| Ok(applying.apply(step)))
            .serve_poll(move |_| Ok(vec![polling.poll()]));
        provider
    }

    /// The actions applied, in order.
    fn applied(fake: &FakeProvider) -> Vec<ActionKind> {
        fake.steps().iter().map(|step| step.action.kind).collect()
    }

    /// The remote ids observe was asked for, in order.
    fn observed_ids(fake: &FakeProvider) -> Vec<Option<RemoteId>> {
        fake.observe_requests()
            .into_iter()
            .flat_map(|request| request.targets)
            .map(|target| target.remote_id)
            .collect()
    }

    /// A spec set of one `Fake` spec with hash `h`.
    fn fake_specs(address: &Address) -> SpecSet {
        let mut specs = SpecSet::default();
        specs.specs.insert(
            address.clone(),
            Spec {
                desired: DesiredSpec {
                    address: address.clone(),
                    kind: "Fake".into(),
                    document: serde_json::json!({}),
                    secrets: BTreeMap::new(),
                },
                file: "job.yaml".into(),
                line: 4,
                hash: "h".into(),
                config_hash: "c".into(),
                timeouts: Deadlines::default(),
                deletion_policy: None,
            },
        );
        specs
    }

    struct Quiet;
    impl Reporter for Quiet {
        fn report(&self, _: Event) {}
    }

    async fn run_fake(failures: u32, wait: WaitLevel) -> (ApplyReport, Vec<ActionKind>, State) {
        run_with(&fake(&Cloud::new(failures)), wait).await
    }

    async fn run_with(
        fake: &FakeProvider,
        wait: WaitLevel,
    ) -> (ApplyReport, Vec<ActionKind>, State) {
        let options = ApplyOptions {
            wait,
            poll_interval: Duration::from_millis(1),
            ..ApplyOptions::default()
        };
        run_with_options(fake, options).await
    }

    async fn run_with_options(
        fake: &FakeProvider,
        options: ApplyOptions,
    ) -> (ApplyReport, Vec<ActionKind>, State) {
        let mut providers = Providers::new();
        providers.register(Arc::new(fake.clone())).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let backend = LocalState::new(dir.path());
        let state = StateBackend::read(&backend).await.unwrap();
        let address = Address("job".into());
        let specs = fake_specs(&address);
        let planned = Planned {
            bindings: BTreeMap::new(),
            plan: Plan::new(
                Binding::default(),
                vec![Change {
                    address: address.clone(),
                    kind: "Fake".into(),
                    remote_id: None,
                    phase: None,
                    actions: vec![
                        Action::new(ActionKind::Create, "missing"),
                        Action::new(ActionKind::Start, "then start"),
                    ],
                    source: None,
                }],
                vec![],
            ),
            specs,
            observed: BTreeMap::from([(address.clone(), Observed::Missing { address })]),
            state,
        };
        let held = StateBackend::lock(&backend, LockInfo::current("test"), Duration::ZERO)
            .await
            .unwrap();
        let report = apply(&providers, held, planned, Arc::new(Quiet), options)
            .await
            .unwrap();
        (
            report,
            applied(fake),
            StateBackend::read(&backend).await.unwrap(),
        )
    }

    fn internal() -> ProviderError {
        ProviderError::Internal {
            service: "fake".into(),
            code: "InternalError".into(),
            message: "try again".into(),
            request_id: None,
        }
    }

    fn throttled() -> ProviderError {
        ProviderError::Throttled {
            service: "fake".into(),
            code: "RequestLimitExceeded".into(),
            message: "slow down".into(),
            request_id: None,
        }
    }

    #[tokio::test]
    async fn throttled_steps_are_repeated_with_backoff_and_converge() {
        let fake = fake(&Cloud::new(0));
        for _ in 0..2 {
            fake.on_apply(|_| Some(Err(throttled())));
        }
        let (report, calls, _) = run_with(&fake, WaitLevel::Completed).await;
        assert_eq!(report.outcomes[&Address("job".into())], Outcome::Converged);
        // Two refused creates, then the create that went through: one job.
        assert_eq!(calls[..3], [ActionKind::Create; 3]);
        // A throttle is no proof that a create made nothing (a multi-call create may have
        // made its job before a later call was throttled: the chaos test's duplicates), so
        // each repeat is preceded by a look by marker, which found nothing here.
        assert_eq!(observed_ids(&fake), vec![None, None]);
    }

    #[tokio::test]
    async fn an_ambiguous_create_is_re_observed_by_marker_before_it_is_repeated() {
        let cloud = Cloud::new(0);
        let fake = fake(&cloud);
        // The cloud made the job, but the answer was an internal error.
        fake.on_apply(move |step| {
            cloud.made_anyway(step);
            Some(Err(internal()))
        });
        let (report, calls, state) = run_with(&fake, WaitLevel::Completed).await;
        assert_eq!(report.outcomes[&Address("job".into())], Outcome::Converged);
        // Looked for by marker (no remote id) …
        assert_eq!(observed_ids(&fake), vec![None]);
        // … found, so the repeated create carried its id and made nothing new; the start
        // followed.
        assert_eq!(
            calls,
            [
                ActionKind::Create,
                ActionKind::Create,
                ActionKind::Start,
                ActionKind::Start
            ]
        );
        assert_eq!(
            state.resources[&Address("job".into())].remote_id,
            Some(RemoteId("job-1".into()))
        );
    }

    #[tokio::test]
    async fn retries_stop_at_the_step_budget_with_the_clouds_error() {
        let fake = fake(&Cloud::new(0));
        for _ in 0..3 {
            fake.on_apply(|_| Some(Err(throttled())));
        }
        let (report, calls, _) = run_with_options(
            &fake,
            ApplyOptions {
                retries_per_step: 2,
                poll_interval: Duration::from_millis(1),
                ..ApplyOptions::default()
            },
        )
        .await;
        let Outcome::Failed { action, failure } = &report.outcomes[&Address("job".into())] else {
            panic!("{report:?}");
        };
        assert_eq!(*action, ActionKind::Create);
        assert_eq!(failure.code.as_deref(), Some("RequestLimitExceeded"));
        // The first call and two retries.
        assert_eq!(calls, [ActionKind::Create; 3]);
    }

    #[tokio::test]
    async fn the_apply_budget_grows_with_the_planned_steps() {
        // Three throttles against an apply budget of one: a fixed budget failed the job
        // on the second; its two planned steps give it four.
        let fake = fake(&Cloud::new(0));
        for _ in 0..3 {
            fake.on_apply(|_| Some(Err(throttled())));
        }
        let (report, calls, _) = run_with_options(
            &fake,
            ApplyOptions {
                retries_per_apply: 1,
                poll_interval: Duration::from_millis(1),
                ..ApplyOptions::default()
            },
        )
        .await;
        assert_eq!(
            report.outcomes[&Address("job".into())],
            Outcome::Converged,
            "{report:?}"
        );
        assert_eq!(calls[..4], [ActionKind::Create; 4]);
    }

    #[tokio::test]
    async fn an_apply_converges_and_records_what_it_applied() {
        let (report, calls, state) = run_fake(0, WaitLevel::Completed).await;
        assert_eq!(report.outcomes[&Address("job".into())], Outcome::Converged);
        // Each step is applied again once its wait is satisfied, to be reported done.
        assert_eq!(
            calls,
            [
                ActionKind::Create,
                ActionKind::Create,
                ActionKind::Start,
                ActionKind::Start
            ]
        );
        let resource = &state.resources[&Address("job".into())];
        assert_eq!(resource.remote_id, Some(RemoteId("job-1".into())));
        assert_eq!(resource.applied_spec_hash.as_deref(), Some("h"));
        assert_eq!(resource.applied_view, Some(serde_json::json!({"n": 1})));
        assert!(
            state
                .journal
                .iter()
                .any(|entry| entry.action == "create" && entry.status == JournalStatus::Intent)
        );
    }

    #[tokio::test]
    async fn failed_migrations_are_resumed_per_the_providers_plan_then_fail_with_its_message() {
        let (report, calls, state) = run_fake(1, WaitLevel::Completed).await;
        assert_eq!(report.outcomes[&Address("job".into())], Outcome::Converged);
        assert!(calls.contains(&ActionKind::Resume), "{calls:?}");
        assert_eq!(state.resources[&Address("job".into())].attempts, 1);

        let (report, _, state) = run_fake(5, WaitLevel::Completed).await;
        match &report.outcomes[&Address("job".into())] {
            Outcome::Failed { failure, .. } => {
                assert_eq!(failure.message, "the loader died");
                assert_eq!(failure.details, ["step loader: 40%"]);
            }
            other => panic!("expected a failure, got {other:?}"),
        }
        assert_eq!(state.resources[&Address("job".into())].attempts, 2);
    }

    /// Issue 11: under chaos, a create whose answer was lost (or whose second call failed)
    /// left the object it made out of the state until an apply whose plan found it by tag
    /// got through, which took three runs.
    #[tokio::test]
    async fn issue_11_an_object_made_by_a_failed_create_is_recorded_by_that_apply() {
        // No retries left: the create's error is final, and the object it made anyway must
        // still be in the state after this apply.
        let cloud = Cloud::new(0);
        let fake = fake(&cloud);
        // The cloud makes the job, then the connection closes before its answer.
        fake.on_apply(move |step| {
            (step.action.kind == ActionKind::Create).then(|| {
                cloud.apply(step);
                Err(ProviderError::Network {
                    service: "fake".into(),
                    endpoint: "http://127.0.0.1:1".into(),
                    message: "connection closed before message completed".into(),
                })
            })
        });
        let options = ApplyOptions {
            poll_interval: Duration::from_millis(1),
            retries_per_step: 0,
            ..ApplyOptions::default()
        };
        let (report, calls, state) = run_with_options(&fake, options).await;
        match &report.outcomes[&Address("job".into())] {
            Outcome::Failed { action, failure } => {
                assert_eq!(*action, ActionKind::Create);
                assert!(failure.message.contains("connection closed"), "{failure:?}");
            }
            other => panic!("expected the create to fail, got {other:?}"),
        }
        assert_eq!(calls, [ActionKind::Create], "one create, never repeated");
        let resource = &state.resources[&Address("job".into())];
        assert_eq!(
            resource.remote_id,
            Some(RemoteId("job-1".into())),
            "the object found by its marker is recorded: {resource:?}"
        );
        assert_eq!(
            resource.applied_spec_hash, None,
            "recorded as existing, not as applied"
        );
    }

    #[tokio::test]
    async fn an_object_found_by_its_tag_is_recorded_even_without_actions() {
        let dir = tempfile::tempdir().unwrap();
        let backend = LocalState::new(dir.path());
        let address = Address("job".into());
        let cloud = Cloud::with_job(Some((Phase::Running, 0)), 0);
        let fake = fake(&cloud);
        let mut providers = Providers::new();
        providers.register(Arc::new(fake.clone())).unwrap();
        let specs = fake_specs(&address);
        let planned = Planned {
            bindings: BTreeMap::new(),
            plan: Plan::new(
                Binding::default(),
                vec![Change {
                    address: address.clone(),
                    kind: "Fake".into(),
                    remote_id: Some(RemoteId("job-1".into())),
                    phase: Some(Phase::Running),
                    actions: vec![],
                    source: None,
                }],
                vec![],
            ),
            specs,
            observed: BTreeMap::from([(address.clone(), cloud.observed())]),
            state: StateBackend::read(&backend).await.unwrap(),
        };
        let held = StateBackend::lock(&backend, LockInfo::current("test"), Duration::ZERO)
            .await
            .unwrap();
        let report = apply(
            &providers,
            held,
            planned,
            Arc::new(Quiet),
            ApplyOptions::default(),
        )
        .await
        .unwrap();
        assert!(report.outcomes.is_empty());
        assert!(fake.steps().is_empty(), "nothing is applied");
        let state = StateBackend::read(&backend).await.unwrap();
        let resource = &state.resources[&address];
        assert_eq!(resource.remote_id, Some(RemoteId("job-1".into())));
        assert_eq!(resource.applied_spec_hash.as_deref(), Some("h"));
    }

    #[tokio::test]
    async fn wait_levels_leave_jobs_in_flight_without_their_remaining_actions() {
        let (report, calls, _) = run_fake(0, WaitLevel::None).await;
        assert_eq!(calls, [ActionKind::Create]);
        assert_eq!(
            report.outcomes[&Address("job".into())],
            Outcome::LeftInFlight {
                phase: Phase::Creating,
                remaining: vec![ActionKind::Create, ActionKind::Start],
            }
        );
    }

    #[test]
    fn wait_levels_stop_at_their_phase() {
        assert!(WaitLevel::None.reached(Phase::Checking));
        assert!(!WaitLevel::Checked.reached(Phase::Checking));
        assert!(WaitLevel::Checked.reached(Phase::CheckPassed));
        assert!(!WaitLevel::Running.reached(Phase::CheckPassed));
        assert!(WaitLevel::Running.reached(Phase::ReadyToComplete));
        assert!(!WaitLevel::Completed.reached(Phase::Completed));
    }

    #[test]
    fn provider_errors_keep_their_code_in_failures() {
        let failure = failure_of(&ProviderError::StateConflict {
            service: "dts".into(),
            code: "FailedOperation.StatusInConflict".into(),
            message: "job is running".into(),
            request_id: None,
        });
        assert_eq!(
            failure.code.as_deref(),
            Some("FailedOperation.StatusInConflict")
        );
        assert!(failure.message.contains("job is running"));
    }
}
