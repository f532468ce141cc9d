//! Applying one step: decide from the observation the runner hands the step, call the API
//! at most once, and report what the runner should wait for (its shared poller observes
//! the job in a batch; the job is not read back).
//!
//! # Guarantees
//!
//! - A step whose effect is already visible is `Done` (or `InFlight` towards its goal)
//!   without calling the API: applying a step twice is safe.
//! - When the job is still moving towards the status an action needs (`■ complete` while
//!   the full phase runs, `~ modify` while a check runs), the step is `InFlight` waiting for
//!   that status and makes no call; applying the same step again after the wait performs it.
//! - A status conflict answered by the API is checked against one fresh read before it is
//!   reported (the observation the step carried may be stale): if the effect is visible (a
//!   retried call had succeeded), the step goes on as if the call had just been made.
//! - A create is never retried blindly: an ambiguous failure (timeout, lost connection,
//!   internal error) is `Unknown`, and the runner looks for the job by its
//!   `migspec:address` tag before applying the step again.
//! - A step without an observation (hosts older than `Step::observed`) reads the job first.

use std::time::Duration;

use migspec_provider::{
    ActionKind, Failure, Observed, Phase, ProviderError, Refusal, RequestIdIn, Step, StepOutcome,
    Wait,
};

use crate::client::{ApiVersion, DtsClient, Retry};
use crate::error::{ClientError, ErrorClass};
use crate::job::ObservedJob;
use crate::observe::{self, Depth, Target};
use crate::plan::Intent;
use crate::wire::JobIdRequest;
use crate::{v2018, v2021};

/// An API call a step makes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Call {
    Modify,
    Check,
    Start,
    Stop,
    Complete(Option<String>),
    Pause,
    Continue,
    Resume(Option<String>),
    Delete,
    Isolate,
    Destroy,
}

impl Call {
    fn action(&self, version: ApiVersion) -> &'static str {
        match (self, version) {
            (Self::Modify, ApiVersion::V2018) => "ModifyMigrateJob",
            (Self::Modify, ApiVersion::V2021) => "ModifyMigrationJob",
            (Self::Check, _) => "CreateMigrateCheckJob",
            (Self::Start, _) => "StartMigrateJob",
            (Self::Stop, _) => "StopMigrateJob",
            (Self::Complete(_), _) => "CompleteMigrateJob",
            (Self::Pause, _) => "PauseMigrateJob",
            (Self::Continue, _) => "ContinueMigrateJob",
            (Self::Resume(_), _) => "ResumeMigrateJob",
            (Self::Delete, _) => "DeleteMigrateJob",
            (Self::Isolate, _) => "IsolateMigrateJob",
            (Self::Destroy, _) => "DestroyMigrateJob",
        }
    }
}

/// What to do for a step given the job's status.
#[derive(Debug, Clone, PartialEq)]
enum Decision {
    /// The effect is visible; nothing to do.
    Done,
    /// Wait (no call): for the effect of an earlier call, or for a status the call needs.
    Wait(Goal),
    /// The step cannot succeed from here.
    Fail(String),
    /// Call the API, then wait for `Goal` (or finish at once when `None`).
    Call(Call, Option<Goal>),
}

/// The phases a wait ends on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Goal {
    until: Vec<Phase>,
    fail_on: Vec<Phase>,
    until_missing: bool,
}

impl Goal {
    fn new(until: &[Phase], fail_on: &[Phase]) -> Self {
        Self {
            until: until.to_vec(),
            fail_on: fail_on.to_vec(),
            until_missing: false,
        }
    }

    fn missing() -> Self {
        Self {
            until: Vec::new(),
            fail_on: Vec::new(),
            until_missing: true,
        }
    }

    fn wait(self, poll_after: Duration) -> Wait {
        Wait {
            until: self.until,
            fail_on: self.fail_on,
            until_missing: self.until_missing,
            poll_after,
        }
    }
}

const RUN_FAILS: &[Phase] = &[Phase::Failed, Phase::Stopped];

fn status_text(job: &ObservedJob) -> String {
    match job.version {
        ApiVersion::V2018 => v2018::describe_status(&job.raw_status),
        ApiVersion::V2021 => job.raw_status.clone(),
    }
}

/// The decision for `kind` on `job` (`None` = missing), with the spec's intent when known.
fn decide(
    kind: ActionKind,
    job: Option<&ObservedJob>,
    intent: Option<&Intent>,
    version: ApiVersion,
) -> Decision {
    use Phase as P;
    let Some(job) = job else {
        return match kind {
            ActionKind::Delete => Decision::Done,
            _ => Decision::Fail(
                "the job no longer exists (deleted outside migspec?); run `migspec plan` again"
                    .to_owned(),
            ),
        };
    };
    let phase = job.phase;
    let shown = status_text(job);
    let cannot = |what: &str| {
        Decision::Fail(format!(
            "job {} is {shown}: it cannot {what} from this status; run `migspec plan` again",
            job.id
        ))
    };
    let start_targets = intent.map_or_else(
        || vec![P::Running, P::ReadyToComplete, P::Completed],
        Intent::start_targets,
    );
    let check_goal = Goal::new(&[P::CheckPassed], &[P::CheckFailed]);
    match kind {
        ActionKind::Create => Decision::Done,
        ActionKind::Modify => match (version, phase) {
            (
                ApiVersion::V2018,
                P::Configured | P::CheckPassed | P::CheckFailed | P::Failed | P::Stopped,
            )
            | (ApiVersion::V2021, P::Creating | P::Configured | P::CheckPassed | P::CheckFailed) => {
                Decision::Call(Call::Modify, None)
            }
            (_, P::Checking) => Decision::Wait(Goal::new(&[P::CheckPassed, P::CheckFailed], &[])),
            (ApiVersion::V2018, P::Stopping) => {
                Decision::Wait(Goal::new(&[P::Stopped, P::Failed], &[]))
            }
            _ => cannot("be modified"),
        },
        ActionKind::Check => match phase {
            P::Checking => Decision::Wait(check_goal),
            P::CheckPassed
            | P::Scheduled
            | P::Running
            | P::ReadyToComplete
            | P::Completing
            | P::Completed
            | P::Resuming
            | P::Pausing
            | P::Paused => Decision::Done,
            P::Creating => Decision::Wait(Goal::new(&[P::Configured], &[])),
            P::Configured if version == ApiVersion::V2021 && !v2021::configured(&job.view) => {
                Decision::Fail(format!(
                    "job {} has not been configured (ModifyMigrationJob) yet, so it cannot be checked; run `migspec plan` again",
                    job.id
                ))
            }
            P::Configured | P::CheckFailed => Decision::Call(Call::Check, Some(check_goal)),
            P::Failed | P::Stopped if version == ApiVersion::V2018 => {
                Decision::Call(Call::Check, Some(check_goal))
            }
            _ => cannot("be checked"),
        },
        ActionKind::Start => match phase {
            P::CheckPassed => {
                Decision::Call(Call::Start, Some(Goal::new(&start_targets, RUN_FAILS)))
            }
            P::Checking => Decision::Wait(check_goal),
            P::CheckFailed => Decision::Fail(job.failure.as_ref().map_or_else(
                || format!("the check of job {} failed", job.id),
                |failure| format!("the check of job {} failed: {}", job.id, failure.message),
            )),
            P::Scheduled
            | P::Running
            | P::Resuming
            | P::ReadyToComplete
            | P::Completing
            | P::Completed
                if start_targets.contains(&phase)
                    || matches!(phase, P::Completing | P::Completed) =>
            {
                Decision::Done
            }
            P::Scheduled | P::Running | P::Resuming | P::ReadyToComplete => {
                Decision::Wait(Goal::new(&start_targets, RUN_FAILS))
            }
            P::Configured | P::Creating => Decision::Fail(format!(
                "job {} has not passed a check, which StartMigrateJob requires; run `migspec plan` again",
                job.id
            )),
            _ => cannot("be started"),
        },
        ActionKind::Complete => match phase {
            P::ReadyToComplete => {
                let mode = intent
                    .and_then(|intent| intent.complete_mode)
                    .map(|mode| mode.as_str().to_owned());
                Decision::Call(
                    Call::Complete(mode),
                    Some(Goal::new(&[P::Completed], RUN_FAILS)),
                )
            }
            P::Completing => Decision::Wait(Goal::new(&[P::Completed], RUN_FAILS)),
            P::Completed => Decision::Done,
            P::Scheduled | P::Running | P::Resuming => {
                Decision::Wait(Goal::new(&[P::ReadyToComplete, P::Completed], RUN_FAILS))
            }
            _ => cannot("be completed"),
        },
        ActionKind::Pause => match phase {
            P::Running | P::ReadyToComplete => {
                Decision::Call(Call::Pause, Some(Goal::new(&[P::Paused], RUN_FAILS)))
            }
            P::Pausing => Decision::Wait(Goal::new(&[P::Paused], RUN_FAILS)),
            P::Paused => Decision::Done,
            P::Scheduled | P::Resuming => {
                Decision::Wait(Goal::new(&[P::Running, P::ReadyToComplete], RUN_FAILS))
            }
            _ => cannot("be paused"),
        },
        ActionKind::Continue => match phase {
            P::Paused => Decision::Call(
                Call::Continue,
                Some(Goal::new(
                    &[P::Running, P::ReadyToComplete, P::Completed],
                    RUN_FAILS,
                )),
            ),
            P::Pausing => Decision::Wait(Goal::new(&[P::Paused], RUN_FAILS)),
            P::Running | P::ReadyToComplete | P::Completing | P::Completed | P::Scheduled => {
                Decision::Done
            }
            _ => cannot("be continued"),
        },
        ActionKind::Stop => {
            let goal = Goal::new(&[P::Stopped, P::Failed], &[]);
            match (version, phase) {
                (ApiVersion::V2018, P::Running | P::ReadyToComplete)
                | (ApiVersion::V2021, P::Running | P::Scheduled | P::ReadyToComplete | P::Paused) => {
                    Decision::Call(Call::Stop, Some(goal))
                }
                (ApiVersion::V2021, P::Failed) if v2021::resumable(&job.raw_status, false) => {
                    Decision::Call(Call::Stop, Some(goal))
                }
                (_, P::Stopping) => Decision::Wait(goal),
                (ApiVersion::V2018, P::Scheduled) | (_, P::Resuming | P::Pausing) => {
                    Decision::Wait(Goal::new(&[P::Running, P::ReadyToComplete, P::Paused], &[]))
                }
                _ => Decision::Done,
            }
        }
        ActionKind::Resume => match version {
            ApiVersion::V2021 => match phase {
                P::Failed
                    if v2021::resumable(
                        &job.raw_status,
                        intent.is_some_and(|intent| intent.redis),
                    ) =>
                {
                    let option = intent
                        .and_then(|intent| intent.resume)
                        .and_then(|(option, _)| option)
                        .map(|option| option.as_str().to_owned());
                    Decision::Call(
                        Call::Resume(option),
                        Some(Goal::new(&start_targets, RUN_FAILS)),
                    )
                }
                P::Resuming | P::Running | P::ReadyToComplete
                    if !start_targets.contains(&phase) =>
                {
                    Decision::Wait(Goal::new(&start_targets, RUN_FAILS))
                }
                P::Running | P::ReadyToComplete | P::Completing | P::Completed => Decision::Done,
                _ => cannot("be resumed"),
            },
            // 2018 has no ResumeMigrateJob: resuming is a new check (the start follows).
            ApiVersion::V2018 => match phase {
                P::Failed | P::Stopped => Decision::Call(Call::Check, Some(check_goal)),
                P::Checking => Decision::Wait(check_goal),
                P::CheckPassed
                | P::Scheduled
                | P::Running
                | P::ReadyToComplete
                | P::Completing
                | P::Completed => Decision::Done,
                _ => cannot("be resumed"),
            },
        },
        ActionKind::Delete => match version {
            ApiVersion::V2018 => match phase {
                P::Checking | P::Stopping | P::Completing => Decision::Wait(Goal::new(
                    &[
                        P::CheckPassed,
                        P::CheckFailed,
                        P::Stopped,
                        P::Failed,
                        P::Completed,
                    ],
                    &[],
                )),
                P::Running | P::ReadyToComplete => Decision::Fail(format!(
                    "job {} is {shown}; API 2018-03-30 refuses to delete a running job: stop it first (run `migspec plan` again)",
                    job.id
                )),
                _ => Decision::Call(Call::Delete, None),
            },
            ApiVersion::V2021 => match phase {
                P::Isolated => Decision::Call(Call::Destroy, Some(Goal::missing())),
                P::Isolating => Decision::Wait(Goal::new(&[P::Isolated], &[])),
                P::Deleting => Decision::Wait(Goal::missing()),
                P::Checking
                | P::Stopping
                | P::Completing
                | P::Pausing
                | P::Resuming
                | P::Creating => Decision::Wait(Goal::new(
                    &[
                        P::Configured,
                        P::CheckPassed,
                        P::CheckFailed,
                        P::Stopped,
                        P::Failed,
                        P::Completed,
                        P::Paused,
                        P::Running,
                    ],
                    &[],
                )),
                _ => Decision::Call(Call::Isolate, Some(Goal::new(&[P::Isolated], &[]))),
            },
        },
        ActionKind::Retry => Decision::Fail(
            "`↻ retry` is an OMS action; Tencent DTS jobs are resumed (`↻ resume`)".to_owned(),
        ),
    }
}

/// Where a step's job lives and which intent it follows.
pub(crate) struct StepContext {
    pub(crate) target: Target,
    pub(crate) intent: Option<Intent>,
}

fn failed(observed: Observed, message: String, code: Option<String>) -> StepOutcome {
    StepOutcome::Failed {
        observed,
        failure: Failure {
            code,
            message,
            details: Vec::new(),
        },
    }
}

/// A refusal for good becomes a failed step; anything the runner may retry stays an error.
fn refused(
    error: &ClientError,
    observed: Observed,
    status: Option<&str>,
) -> Result<StepOutcome, ProviderError> {
    match error.api() {
        Some(api)
            if matches!(
                api.class(),
                ErrorClass::Rejected | ErrorClass::StateConflict | ErrorClass::NotFound
            ) =>
        {
            let refusal = Refusal {
                code: api.code.clone(),
                message: api.explained(status),
                request_id: api.request_id.clone(),
            };
            Ok(refusal.failed(observed, RequestIdIn::Message))
        }
        _ => Err(error.to_provider_error(status)),
    }
}

async fn observe_one(
    client: &DtsClient,
    target: &Target,
) -> Result<Option<ObservedJob>, ProviderError> {
    let mut found = observe::observe(client, std::slice::from_ref(target), Depth::Full).await?;
    Ok(found.pop().flatten())
}

/// The job the step's observation shows (`Ok(None)`: missing), or a read of it when the
/// host sent no observation (hosts and plugins built before `Step::observed`).
async fn given_or_read(
    client: &DtsClient,
    step: &Step,
    target: &Target,
) -> Result<Option<ObservedJob>, ProviderError> {
    match &step.observed {
        Some(Observed::Missing { .. }) => Ok(None),
        Some(Observed::Present { object, .. }) => match ObservedJob::from_remote(object) {
            Some(job) => Ok(Some(job)),
            // Not an observation this provider made (no API version in its location).
            None => observe_one(client, target).await,
        },
        None => observe_one(client, target).await,
    }
}

/// The phase a job enters once the cloud accepted `call`, for the observation an in-flight
/// step returns without reading the job back: the runner's poller reads it in a batch.
/// The job's status before the call may be one the wait ends on (a resume from `Failed`,
/// a check from `CheckFailed`), so the observation must not claim it.
fn entered(call: &Call) -> Option<Phase> {
    match call {
        Call::Check => Some(Phase::Checking),
        Call::Start => Some(Phase::Scheduled),
        Call::Complete(_) => Some(Phase::Completing),
        Call::Pause => Some(Phase::Pausing),
        Call::Continue | Call::Resume(_) => Some(Phase::Resuming),
        Call::Stop => Some(Phase::Stopping),
        Call::Isolate => Some(Phase::Isolating),
        Call::Destroy => Some(Phase::Deleting),
        Call::Modify | Call::Delete => None,
    }
}

/// Applies one step: decides from the step's observation, makes at most one call.
pub(crate) async fn apply(
    client: &DtsClient,
    step: &Step,
    context: StepContext,
) -> Result<StepOutcome, ProviderError> {
    let poll_after = client.config().poll_after;
    let StepContext { mut target, intent } = context;
    let version = target.version;
    if step.action.kind == ActionKind::Create {
        return create(client, step, &target).await;
    }
    let mut job = given_or_read(client, step, &target).await?;
    for round in 0..2 {
        let observed = observe::to_observed(&step.address, job.as_ref());
        let decision = decide(step.action.kind, job.as_ref(), intent.as_ref(), version);
        let (call, goal) = match decision {
            Decision::Done => return Ok(StepOutcome::Done { observed }),
            Decision::Wait(goal) => {
                return Ok(StepOutcome::InFlight {
                    observed,
                    wait: goal.wait(poll_after),
                });
            }
            Decision::Fail(message) => return Ok(failed(observed, message, None)),
            Decision::Call(call, goal) => (call, goal),
        };
        let Some(current) = job.clone() else {
            return Ok(failed(
                observed,
                "the job no longer exists".to_owned(),
                None,
            ));
        };
        let current = &current;
        if call == Call::Modify && already_modified(step, current, intent.as_ref()) {
            return Ok(StepOutcome::Done { observed });
        }
        let result = send(client, &call, current, step).await;
        match result {
            Ok(()) => {
                target.remote_id = Some(current.id.clone());
                return Ok(match (goal, entered(&call)) {
                    (Some(goal), Some(phase)) => {
                        let mut moving = current.clone();
                        moving.phase = phase;
                        StepOutcome::InFlight {
                            observed: moving.to_observed(&step.address),
                            wait: goal.wait(poll_after),
                        }
                    }
                    (goal, _) => {
                        // A modify or a 2018 delete finishes without a wait, and the runner
                        // records the observation it returns as what was applied: it must
                        // show the effect, which only a read after the call does.
                        let after = observe_one(client, &target).await?;
                        let observed = observe::to_observed(&step.address, after.as_ref());
                        match goal {
                            None => StepOutcome::Done { observed },
                            Some(goal) => StepOutcome::InFlight {
                                observed,
                                wait: goal.wait(poll_after),
                            },
                        }
                    }
                });
            }
            Err(error)
                if round == 0
                    && error
                        .api()
                        .is_some_and(|api| api.class() == ErrorClass::StateConflict) =>
            {
                // The conflict read: the cloud says the job's state forbids the call, so the
                // observation the step carried may be stale (or a retried call had
                // succeeded). Read the job once and decide again.
                job = observe_one(client, &target).await?;
                if job.as_ref().map(|job| (job.phase, job.raw_status.clone()))
                    == Some((current.phase, current.raw_status.clone()))
                {
                    let status = status_text(current);
                    return refused(&error, observed, Some(&status));
                }
            }
            Err(error)
                if matches!(call, Call::Delete | Call::Destroy)
                    && error
                        .api()
                        .is_some_and(|api| api.class() == ErrorClass::NotFound) =>
            {
                // A retried delete whose first attempt had succeeded: the job is gone.
                return Ok(StepOutcome::Done {
                    observed: observe::to_observed(&step.address, None),
                });
            }
            Err(error) => {
                let status = status_text(current);
                return refused(&error, observed, Some(&status));
            }
        }
    }
    let observed = observe::to_observed(&step.address, job.as_ref());
    Ok(failed(
        observed,
        "the job's status kept changing while the step was applied; run `migspec plan` again"
            .to_owned(),
        None,
    ))
}

/// A modify whose visible changes are already in place and that changes no secret is done.
fn already_modified(step: &Step, job: &ObservedJob, intent: Option<&Intent>) -> bool {
    let Some(intent) = intent else {
        return false;
    };
    let sensitive = step
        .action
        .changes
        .iter()
        .any(|change| change.after == migspec_provider::ChangeValue::Sensitive);
    if sensitive {
        return false;
    }
    if job.version == ApiVersion::V2021 && !v2021::configured(&job.view) {
        return false;
    }
    // A planned (re)write of the address tag is done once the job carries it.
    let retags = step
        .action
        .changes
        .iter()
        .any(|change| change.field == migspec_provider::MARKER_FIELD);
    if retags && job.address_tag.as_deref() != Some(step.address.0.as_str()) {
        return false;
    }
    crate::plan::changes(intent, &job.view, &migspec_provider::Recorded::default()).is_empty()
}

async fn send(
    client: &DtsClient,
    call: &Call,
    job: &ObservedJob,
    step: &Step,
) -> Result<(), ClientError> {
    let version = job.version;
    let action = call.action(version);
    let region = job.region.as_str();
    let id = Some(job.id.as_str());
    let by_id = JobIdRequest {
        job_id: job.id.clone(),
    };
    match call {
        Call::Modify => {
            let desired = step.desired.as_ref().ok_or_else(|| {
                ClientError::Config(crate::config::ConfigError::new(format!(
                    "{}: a modify step needs the spec",
                    step.address
                )))
            })?;
            let to_client = |error: ProviderError| {
                ClientError::Config(crate::config::ConfigError::new(error.to_string()))
            };
            match version {
                ApiVersion::V2018 => {
                    let document = v2018::document(desired).map_err(to_client)?;
                    let request =
                        v2018::modify_request(&job.id, &document, desired).map_err(to_client)?;
                    client
                        .call::<_, serde_json::Value>(
                            version,
                            action,
                            region,
                            id,
                            &request,
                            Retry::Safe,
                        )
                        .await?;
                }
                ApiVersion::V2021 => {
                    let document = v2021::document(desired).map_err(to_client)?;
                    let request =
                        v2021::modify_request(&job.id, &document, desired).map_err(to_client)?;
                    client
                        .call::<_, serde_json::Value>(
                            version,
                            action,
                            region,
                            id,
                            &request,
                            Retry::Safe,
                        )
                        .await?;
                }
            }
        }
        Call::Complete(mode) if version == ApiVersion::V2021 => {
            let request = v2021::CompleteMigrateJob {
                job_id: job.id.clone(),
                complete_mode: mode.clone(),
            };
            client
                .call::<_, serde_json::Value>(version, action, region, id, &request, Retry::Safe)
                .await?;
        }
        Call::Resume(option) => {
            let request = v2021::ResumeMigrateJob {
                job_id: job.id.clone(),
                resume_option: option.clone(),
            };
            client
                .call::<_, serde_json::Value>(version, action, region, id, &request, Retry::Safe)
                .await?;
        }
        _ => {
            client
                .call::<_, serde_json::Value>(version, action, region, id, &by_id, Retry::Safe)
                .await?;
        }
    }
    Ok(())
}

/// `+ create`: adopt the job the step's observation found by its tag (a crash between
/// create and record, or the re-apply after an ambiguous create); otherwise create it once
/// (2021: buy, then configure). An ambiguous failure is [`StepOutcome::Unknown`]: the
/// runner looks for the job by its tag and applies the step again.
async fn create(
    client: &DtsClient,
    step: &Step,
    target: &Target,
) -> Result<StepOutcome, ProviderError> {
    let poll_after = client.config().poll_after;
    let desired = step
        .desired
        .as_ref()
        .ok_or_else(|| ProviderError::Contract {
            message: format!("{}: a create step needs the spec", step.address),
        })?;
    let by_tag = Target {
        remote_id: None,
        ..target.clone()
    };
    let existing = match &step.observed {
        // A job on its way out is no job to adopt: the create buys a new one.
        Some(_) => given_or_read(client, step, &by_tag).await?.filter(|job| {
            !matches!(
                job.phase,
                Phase::Isolating | Phase::Isolated | Phase::Deleting
            )
        }),
        None => observe_one(client, &by_tag)
            .await?
            .filter(|job| job.trade == crate::job::Trade::Normal),
    };
    let creating = Goal::new(&[Phase::Configured], &[]).wait(poll_after);
    if let Some(job) = existing {
        // Created before (a crash between create and record, or a repeated step).
        if job.version == ApiVersion::V2021 && !v2021::configured(&job.view) {
            if let Err(error) = configure_2021(client, &job.id, &target.region, desired).await {
                return refused(
                    &error,
                    job.to_observed(&step.address),
                    Some(&job.raw_status),
                );
            }
            // Configured by this call, which the observation in hand cannot show: wait for
            // the poller to see it (a step applied again with the unconfigured view would
            // configure the job twice).
            let mut configuring = job;
            configuring.phase = Phase::Creating;
            return Ok(StepOutcome::InFlight {
                observed: configuring.to_observed(&step.address),
                wait: creating,
            });
        }
        let observed = job.to_observed(&step.address);
        return Ok(if job.phase == Phase::Creating {
            StepOutcome::InFlight {
                observed,
                wait: creating,
            }
        } else {
            StepOutcome::Done { observed }
        });
    }
    let id = match create_once(client, &by_tag, desired).await {
        Ok(id) => id,
        Err(outcome) => return outcome,
    };
    if target.version == ApiVersion::V2021
        && let Err(error) = configure_2021(client, &id, &target.region, desired).await
    {
        // The job is bought but not configured: the next plan modifies it.
        let observed = observe::just_created(&step.address, &id, &target.region, target.version);
        return refused(&error, observed, None);
    }
    // Not read back: the runner's poller observes the new job in a batch, and the step is
    // applied again (adopting it, above) once it is configured.
    Ok(StepOutcome::InFlight {
        observed: observe::just_created(&step.address, &id, &target.region, target.version),
        wait: creating,
    })
}

/// Calls the create action once. `Err` carries the step's final outcome: a throttled
/// create was refused (no job), so the runner repeats the step; `Unknown` when the failure
/// is ambiguous (the job may exist: the runner looks for it by its tag); a failed step when
/// the cloud refused.
async fn create_once(
    client: &DtsClient,
    by_tag: &Target,
    desired: &migspec_provider::DesiredSpec,
) -> Result<String, Result<StepOutcome, ProviderError>> {
    let result = match by_tag.version {
        ApiVersion::V2018 => {
            let document = v2018::document(desired).map_err(Err)?;
            let request = v2018::create_request(&document, desired).map_err(Err)?;
            client
                .call::<_, v2018::CreateMigrateJobResponse>(
                    ApiVersion::V2018,
                    "CreateMigrateJob",
                    &by_tag.region,
                    None,
                    &request,
                    Retry::Create,
                )
                .await
                .map(|response| response.job_id)
        }
        ApiVersion::V2021 => {
            let document = v2021::document(desired).map_err(Err)?;
            let request = v2021::create_request(&document, desired);
            client
                .call::<_, v2021::CreateMigrationServiceResponse>(
                    ApiVersion::V2021,
                    "CreateMigrationService",
                    &by_tag.region,
                    None,
                    &request,
                    Retry::Create,
                )
                .await
                .and_then(|response| {
                    response
                        .job_ids
                        .into_iter()
                        .next()
                        .ok_or_else(|| ClientError::Protocol {
                            action: "CreateMigrationService".to_owned(),
                            endpoint: String::new(),
                            status: 200,
                            message: "the response has no JobIds".to_owned(),
                        })
                })
        }
    };
    match result {
        Ok(id) if !id.is_empty() => Ok(id),
        Ok(_) => Err(Err(ProviderError::Contract {
            message: "the create response has an empty JobId".to_owned(),
        })),
        // Throttled: refused, certainly no job; the runner repeats the step.
        Err(error) if error.certainly_not_processed() => Err(Err(error.to_provider_error(None))),
        // Ambiguous: the job may exist. The runner looks for it by its tag.
        Err(error) if error.is_transient() => Err(Ok(StepOutcome::Unknown {
            error: error.to_provider_error(None),
        })),
        Err(error) => {
            let observed = observe::to_observed(&by_tag.address, None);
            Err(refused(&error, observed, None))
        }
    }
}

/// `ModifyMigrationJob` right after `CreateMigrationService`.
async fn configure_2021(
    client: &DtsClient,
    id: &str,
    region: &str,
    desired: &migspec_provider::DesiredSpec,
) -> Result<(), ClientError> {
    let to_client = |error: ProviderError| {
        ClientError::Config(crate::config::ConfigError::new(error.to_string()))
    };
    let document = v2021::document(desired).map_err(to_client)?;
    let request = v2021::modify_request(id, &document, desired).map_err(to_client)?;
    client
        .call::<_, serde_json::Value>(
            ApiVersion::V2021,
            "ModifyMigrationJob",
            region,
            Some(id),
            &request,
            Retry::Safe,
        )
        .await?;
    Ok(())
}
