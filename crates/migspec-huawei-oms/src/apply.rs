//! The steps: each decides from the observation the runner hands it and makes one API call
//! at most.

use migspec_provider::{
    ActionKind, Address, DesiredSpec, Failure, Observed, Phase, ProviderError, RemoteId,
    RemoteObject, RequestIdIn, Step, StepOutcome, Wait, WaitVerdict,
};
use migspec_spec::model::HuaweiOmsTaskGroup;
use migspec_spec::model::huawei::TaskGroupDesired;
use serde_json::{Value, json};

use crate::convert;
use crate::observe::find_by_marker;
use crate::provider::{HuaweiOmsProvider, Location, PROVIDER_NAME};
use crate::status::GroupStatus;
use crate::wire::TaskGroup;

impl HuaweiOmsProvider {
    fn wait(&self, until: Vec<Phase>, fail_on: Vec<Phase>) -> Wait {
        Wait {
            until,
            fail_on,
            until_missing: false,
            poll_after: self.poll_interval,
        }
    }

    /// The wait of steps that set a group migrating.
    fn migration_wait(&self, desired: TaskGroupDesired) -> Wait {
        let until = match desired {
            TaskGroupDesired::Completed => vec![Phase::Completed],
            TaskGroupDesired::Paused => vec![Phase::Running, Phase::Paused, Phase::Completed],
            TaskGroupDesired::Running => vec![Phase::Running, Phase::Completed],
        };
        self.wait(until, vec![Phase::Failed])
    }

    /// Where a step acts: a create goes where the spec says; every other step acts on the
    /// group where it was observed ([`Step::location`]), which differs from the spec while a
    /// region or project change re-creates it.
    pub(crate) fn step_location(
        &self,
        step: &Step,
        document: Option<&HuaweiOmsTaskGroup>,
    ) -> Result<Location, ProviderError> {
        if step.action.kind == ActionKind::Create {
            return match (document, &step.desired) {
                (Some(document), Some(desired)) => self.location_of(document, desired),
                _ => Err(ProviderError::Contract {
                    message: format!("{}: the create step needs the spec", step.address),
                }),
            };
        }
        if step.location.is_null() {
            return Err(ProviderError::Config {
                message: format!(
                    "{}: cannot {} without knowing where the task group lives: the step carries no location (the host must send where the group was observed, from state)",
                    step.address,
                    step.action.kind.verb()
                ),
            });
        }
        self.parse_location(&step.address, &step.location)
    }

    pub(crate) async fn apply_step(&self, step: Step) -> Result<StepOutcome, ProviderError> {
        let document = match &step.desired {
            Some(desired) => Some(
                convert::parse_document(&desired.document)
                    .map_err(|message| ProviderError::Contract { message })?,
            ),
            None => None,
        };
        let location = self.step_location(&step, document.as_ref())?;
        let needs_spec = || ProviderError::Contract {
            message: format!(
                "{}: the {} step needs the spec",
                step.address,
                step.action.kind.verb()
            ),
        };
        match step.action.kind {
            ActionKind::Create => {
                let document = document.as_ref().ok_or_else(needs_spec)?;
                let desired = step.desired.as_ref().ok_or_else(needs_spec)?;
                self.apply_create(&step, &location, document, desired).await
            }
            ActionKind::Modify => {
                let document = document.as_ref().ok_or_else(needs_spec)?;
                self.apply_modify(&step, &location, document).await
            }
            ActionKind::Start => {
                let document = document.as_ref().ok_or_else(needs_spec)?;
                let desired = step.desired.as_ref().ok_or_else(needs_spec)?;
                self.apply_start(&step, &location, document, desired).await
            }
            ActionKind::Retry => {
                let document = document.as_ref().ok_or_else(needs_spec)?;
                let desired = step.desired.as_ref().ok_or_else(needs_spec)?;
                self.apply_retry(&step, &location, document, desired).await
            }
            ActionKind::Pause => self.apply_pause(&step, &location).await,
            ActionKind::Delete => self.apply_delete(&step, &location).await,
            other => Err(ProviderError::Contract {
                message: format!(
                    "{}: {PROVIDER_NAME} never plans `{}`; OMS task groups know create, modify, start, pause, retry and delete",
                    step.address,
                    other.verb()
                ),
            }),
        }
    }

    /// The group a step acts on: as the step's observation shows it (no call), or read
    /// afresh when the host sent none (hosts and plugins built before `Step::observed`).
    async fn current_for(
        &self,
        step: &Step,
        location: &Location,
    ) -> Result<Option<Current>, ProviderError> {
        match &step.observed {
            Some(Observed::Missing { .. }) => Ok(None),
            Some(observed @ Observed::Present { object, .. }) => Ok(Some(Current {
                id: object.id.0.clone(),
                status: GroupStatus::parse(&object.raw_status),
                view: object.view.clone(),
                observed: observed.clone(),
            })),
            None => Ok(self
                .current(location, &step.address, step.remote_id.as_ref())
                .await?
                .map(|group| Current::of(&step.address, &group, location))),
        }
    }

    async fn apply_create(
        &self,
        step: &Step,
        location: &Location,
        document: &HuaweiOmsTaskGroup,
        desired: &DesiredSpec,
    ) -> Result<StepOutcome, ProviderError> {
        let wait = self.migration_wait(document.lifecycle.desired);
        // A repeated create adopts the group it made before (found by id or marker).
        if let Some(existing) = self.existing_for_create(step, location).await? {
            return Ok(settle(existing, wait));
        }
        let body = convert::create_body(document, desired)?;
        match self.client.create(location.target(), &body).await {
            // Not read back: the runner's poller observes the new group in its batch.
            Ok(group_id) => Ok(settle(
                Observed::Present {
                    address: step.address.clone(),
                    object: Box::new(RemoteObject {
                        id: RemoteId(group_id),
                        phase: Phase::Creating,
                        raw_status: GroupStatus::Waiting.code().to_string(),
                        location: location.to_value(),
                        view: Value::Null,
                        progress: None,
                        failure: None,
                        revision: None,
                        marker: Some(step.address.clone()),
                    }),
                },
                wait,
            )),
            // The group may exist although the answer was lost: the runner looks for it by
            // its marker (in a batch) and applies the step again.
            Err(error) if ambiguous(&error) => Ok(StepOutcome::Unknown { error }),
            Err(error) => {
                let missing = Self::observed(&step.address, None, location);
                refused(missing, error)
            }
        }
    }

    /// The group an earlier create made for this address, if any: the step's observation
    /// says (the plan's batched observation, or the runner's re-observation by marker after
    /// an ambiguous create), so no listing of the whole project is needed. Without one (an
    /// older host), the group is looked for by id, then by marker.
    async fn existing_for_create(
        &self,
        step: &Step,
        location: &Location,
    ) -> Result<Option<Observed>, ProviderError> {
        match &step.observed {
            Some(Observed::Missing { .. }) => return Ok(None),
            Some(observed @ Observed::Present { object, .. }) => {
                let deleting =
                    GroupStatus::parse(&object.raw_status).is_some_and(GroupStatus::is_deleting);
                return Ok((!deleting).then(|| observed.clone()));
            }
            None => {}
        }
        if let Some(id) = &step.remote_id {
            match self.client.show(location.target(), &id.0).await {
                Ok(group)
                    if !GroupStatus::of(group.status).is_some_and(GroupStatus::is_deleting) =>
                {
                    return Ok(Some(Self::observed(&step.address, Some(&group), location)));
                }
                Ok(_) | Err(ProviderError::NotFound { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        let groups = self.client.list_all(location.target()).await?;
        Ok(find_by_marker(&groups, &step.address)
            .map(|group| Self::observed(&step.address, Some(group), location)))
    }

    async fn apply_modify(
        &self,
        step: &Step,
        location: &Location,
        document: &HuaweiOmsTaskGroup,
    ) -> Result<StepOutcome, ProviderError> {
        let Some(group) = self.current_for(step, location).await? else {
            return Ok(gone(&step.address, location, "modify"));
        };
        let wanted = convert::desired_view(&document.spec);
        let same = wanted.get("bandwidth_policy") == group.view.get("bandwidth_policy");
        if same {
            return Ok(StepOutcome::Done {
                observed: group.observed,
            });
        }
        if let Some(outcome) = without_call(ActionKind::Modify, group.status, &group, None) {
            return Ok(outcome);
        }
        let body = json!({"bandwidth_policy": convert::bandwidth_body(&document.spec)});
        match self
            .client
            .update(location.target(), &group.id, &body)
            .await
        {
            // A modify finishes without a wait, and the runner records the observation it
            // returns as what was applied: it must show the new policy, which only a read
            // after the call does.
            Ok(()) => Ok(StepOutcome::Done {
                observed: self.show_now(location, &step.address, &group.id).await?,
            }),
            Err(error) => refused(group.observed, error),
        }
    }

    async fn apply_start(
        &self,
        step: &Step,
        location: &Location,
        document: &HuaweiOmsTaskGroup,
        desired: &DesiredSpec,
    ) -> Result<StepOutcome, ProviderError> {
        let wait = self.migration_wait(document.lifecycle.desired);
        let Some(group) = self.current_for(step, location).await? else {
            return Ok(gone(&step.address, location, "start"));
        };
        if let Some(outcome) =
            without_call(ActionKind::Start, group.status, &group, Some(wait.clone()))
        {
            return Ok(outcome);
        }
        let body = convert::credentials_body(document, desired, None)?;
        // OMS.0065/OMS.0070: started or finished meanwhile.
        let answer = self.client.start(location.target(), &group.id, &body).await;
        self.answered(
            answer,
            &["OMS.0065", "OMS.0070"],
            Phase::Resuming,
            step,
            location,
            group,
            wait,
        )
        .await
    }

    async fn apply_retry(
        &self,
        step: &Step,
        location: &Location,
        document: &HuaweiOmsTaskGroup,
        desired: &DesiredSpec,
    ) -> Result<StepOutcome, ProviderError> {
        let wait = self.migration_wait(document.lifecycle.desired);
        let Some(group) = self.current_for(step, location).await? else {
            return Ok(gone(&step.address, location, "retry"));
        };
        if let Some(outcome) =
            without_call(ActionKind::Retry, group.status, &group, Some(wait.clone()))
        {
            return Ok(outcome);
        }
        let failed_only = document
            .lifecycle
            .on_failure
            .as_ref()
            .and_then(|on_failure| on_failure.migrate_failed_object);
        let body = convert::credentials_body(document, desired, failed_only)?;
        if let Err(error) = self.client.retry(location.target(), &group.id, &body).await {
            if !ambiguous(&error) {
                return refused(group.observed, error);
            }
            // The retry may have been taken: only a group still failed has not. Nothing but a
            // read of this group can tell.
            let now = self.show_now(location, &step.address, &group.id).await?;
            if now
                .object()
                .is_some_and(|object| object.phase == Phase::Failed)
            {
                return Err(error);
            }
            return Ok(settle(now, wait));
        }
        // OMS took the retry; the poller sees the group leave its failed status.
        Ok(settle(moving(&group.observed, Phase::Resuming), wait))
    }

    async fn apply_pause(
        &self,
        step: &Step,
        location: &Location,
    ) -> Result<StepOutcome, ProviderError> {
        let wait = self.wait(vec![Phase::Paused, Phase::Completed], Vec::new());
        let Some(group) = self.current_for(step, location).await? else {
            return Ok(gone(&step.address, location, "pause"));
        };
        if let Some(outcome) =
            without_call(ActionKind::Pause, group.status, &group, Some(wait.clone()))
        {
            return Ok(outcome);
        }
        // OMS.0066/OMS.0070: paused or finished meanwhile.
        let answer = self.client.stop(location.target(), &group.id).await;
        self.answered(
            answer,
            &["OMS.0066", "OMS.0070"],
            Phase::Pausing,
            step,
            location,
            group,
            wait,
        )
        .await
    }

    /// OMS's answer to a start or a stop: accepted moves the group into `phase` (the poller
    /// reads where it really is); a conflict coded one of `moved` means the group moved
    /// meanwhile, so the observation was stale — the one case worth a read; anything else
    /// is refused with OMS's words.
    #[expect(
        clippy::too_many_arguments,
        reason = "one step's pieces, each used once"
    )]
    async fn answered(
        &self,
        answer: Result<(), ProviderError>,
        moved: &[&str],
        phase: Phase,
        step: &Step,
        location: &Location,
        group: Current,
        wait: Wait,
    ) -> Result<StepOutcome, ProviderError> {
        match answer {
            Ok(()) => Ok(settle(moving(&group.observed, phase), wait)),
            Err(ProviderError::StateConflict { ref code, .. })
                if moved.contains(&code.as_str()) =>
            {
                let observed = self.show_now(location, &step.address, &group.id).await?;
                Ok(settle(observed, wait))
            }
            Err(error) => refused(group.observed, error),
        }
    }

    async fn apply_delete(
        &self,
        step: &Step,
        location: &Location,
    ) -> Result<StepOutcome, ProviderError> {
        let wait = Wait {
            until: Vec::new(),
            fail_on: Vec::new(),
            until_missing: true,
            poll_after: self.poll_interval,
        };
        let Some(group) = self.current_for(step, location).await? else {
            return Ok(StepOutcome::Done {
                observed: Self::observed(&step.address, None, location),
            });
        };
        if decide(ActionKind::Delete, group.status) == Decision::PauseThenFail {
            // The plan pauses a running group before deleting it; this one started
            // again since. Pause it (the safe half) and say what happened.
            match self.client.stop(location.target(), &group.id).await {
                Ok(()) | Err(ProviderError::StateConflict { .. }) => {}
                Err(error) => return Err(error),
            }
            return Ok(StepOutcome::Failed {
                observed: moving(&group.observed, Phase::Pausing),
                failure: Failure {
                    code: Some("OMS.0063".to_owned()),
                    message: format!(
                        "task group {} was {} again, and OMS refuses to delete a running group; it is being paused now: plan and apply again to delete it",
                        group.id,
                        crate::status::text(group.status)
                    ),
                    details: Vec::new(),
                },
            });
        }
        if let Some(outcome) =
            without_call(ActionKind::Delete, group.status, &group, Some(wait.clone()))
        {
            return Ok(outcome);
        }
        match self.client.delete(location.target(), &group.id).await {
            Ok(()) => Ok(settle(moving(&group.observed, Phase::Deleting), wait)),
            // Gone already (a retried delete whose first attempt had succeeded).
            Err(ProviderError::NotFound { .. }) => Ok(StepOutcome::Done {
                observed: Self::observed(&step.address, None, location),
            }),
            // The observation shows a group OMS deletes (the table sent a running or
            // pausing one elsewhere), yet OMS says it is in progress: it was paused a moment
            // ago and its tasks are still stopping. The same delete goes through once they
            // have, so the runner repeats it with backoff within its budget.
            Err(ProviderError::StateConflict {
                service,
                code,
                message,
                request_id,
            }) if code == "OMS.0063" => Err(ProviderError::Busy {
                service,
                message: format!(
                    "{message}; task group {} is {}, so its tasks are still stopping: migspec repeats the delete until they have",
                    group.id,
                    crate::status::text(group.status)
                ),
                code,
                request_id,
            }),
            Err(error) => refused(group.observed, error),
        }
    }
}

/// What a step does, from its action and the group's status alone: the decision table every
/// step consults before it calls OMS (pure, so it is tested without I/O).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    /// Make the action's API call.
    Call,
    /// The effect is there or on its way: wait for it without a call.
    Wait,
    /// Nothing to do and nothing to wait for.
    Done,
    /// OMS refuses to delete a running group (`OMS.0063`): pause it, the safe half, and fail
    /// the step so that the next plan deletes it.
    PauseThenFail,
    /// The step cannot be done from this status; the text follows the status in the message.
    Refuse(&'static str),
}

/// The decision table: (action × status) → what to do. `None` is a status OMS did not send
/// or did not document.
fn decide(kind: ActionKind, status: Option<GroupStatus>) -> Decision {
    use Decision::{Call, Done, PauseThenFail, Refuse, Wait};
    use GroupStatus as S;
    match (kind, status) {
        // A finished group has nothing left to throttle (and OMS refuses: OMS.0070).
        (ActionKind::Modify, Some(S::Completed)) => Done,
        (ActionKind::Modify, _) => Call,

        (ActionKind::Start, Some(S::Paused)) => Call,
        (ActionKind::Start, Some(status)) if status.is_running() => Wait,
        (ActionKind::Start, Some(S::Waiting | S::Completed)) => Wait,
        (ActionKind::Start, Some(status)) if status.is_failed() => {
            Refuse("; a failed group is retried, not started")
        }
        (ActionKind::Start, Some(S::Pausing)) => {
            Refuse("; wait until it is paused, then apply again")
        }

        (ActionKind::Retry, Some(status)) if status.is_failed() => Call,
        // Retried already (a repeated step): wait for it like the first time.
        (ActionKind::Retry, Some(status))
            if status.is_running() || matches!(status, S::Waiting | S::Completed) =>
        {
            Wait
        }
        (ActionKind::Retry, _) => Refuse(", and only a failed group can be retried"),

        (ActionKind::Pause, Some(status)) if status.is_running() => Call,
        (ActionKind::Pause, Some(S::Paused | S::Pausing | S::Completed)) => Wait,
        // Nothing migrates, so nothing to pause.
        (ActionKind::Pause, Some(status)) if status.is_failed() => Done,
        (ActionKind::Pause, Some(S::Waiting)) => Refuse(
            "; OMS pauses a group only once it creates tasks or migrates: apply again in a moment",
        ),

        (ActionKind::Delete, Some(status)) if status.is_deleting() => Wait,
        (ActionKind::Delete, Some(status)) if status.is_running() => PauseThenFail,
        (ActionKind::Delete, Some(S::Pausing)) => Refuse(
            ", and OMS refuses to delete a group until it is paused: apply again in a moment",
        ),
        (ActionKind::Delete, _) => Call,

        _ => Refuse(""),
    }
}

/// The outcome of a step whose decision needs no call (`None`: make the call). `wait` is
/// what the step waits for; a step without one (modify) is done at once.
fn without_call(
    kind: ActionKind,
    status: Option<GroupStatus>,
    group: &Current,
    wait: Option<Wait>,
) -> Option<StepOutcome> {
    match decide(kind, status) {
        Decision::Call | Decision::PauseThenFail => None,
        Decision::Wait => Some(match wait {
            Some(wait) => settle(group.observed.clone(), wait),
            None => StepOutcome::Done {
                observed: group.observed.clone(),
            },
        }),
        Decision::Done => Some(StepOutcome::Done {
            observed: group.observed.clone(),
        }),
        Decision::Refuse(why) => Some(cannot(
            group.observed.clone(),
            format!(
                "cannot {} task group {}: it is {}{why}",
                kind.verb(),
                group.id,
                crate::status::text(status)
            ),
        )),
    }
}

/// The group a step acts on, as observed.
struct Current {
    id: String,
    status: Option<GroupStatus>,
    /// Shaped like the spec (`convert::observed_view`).
    view: Value,
    observed: Observed,
}

impl Current {
    fn of(address: &Address, group: &TaskGroup, location: &Location) -> Self {
        Self {
            id: group.group_id.clone(),
            status: GroupStatus::of(group.status),
            view: convert::observed_view(group, &location.region),
            observed: HuaweiOmsProvider::observed(address, Some(group), location),
        }
    }
}

/// The observation a step returns once OMS accepted its call, without reading the group
/// back: the phase the call moves it into (the poller reads where it really is). The
/// status before the call may be one the wait ends on (a retry from failed), so the
/// observation must not claim it.
fn moving(observed: &Observed, phase: Phase) -> Observed {
    let mut observed = observed.clone();
    if let Observed::Present { object, .. } = &mut observed {
        object.phase = phase;
    }
    observed
}

/// Whether a failed request may have taken effect.
fn ambiguous(error: &ProviderError) -> bool {
    matches!(
        error,
        ProviderError::Network { .. } | ProviderError::Internal { .. }
    )
}

/// The outcome of a step from a fresh observation and what the step waits for.
fn settle(observed: Observed, wait: Wait) -> StepOutcome {
    match wait.verdict(&observed) {
        WaitVerdict::Satisfied => StepOutcome::Done { observed },
        WaitVerdict::Vanished => {
            let failure = Failure {
                code: Some("OMS.1009".to_owned()),
                message: "the task group disappeared (deleted outside migspec?); plan again"
                    .to_owned(),
                details: Vec::new(),
            };
            StepOutcome::Failed { observed, failure }
        }
        WaitVerdict::Failed(object) => {
            let failure = object.failure.clone().unwrap_or_else(|| Failure {
                code: None,
                message: format!(
                    "task group {} failed (status {})",
                    object.id, object.raw_status
                ),
                details: Vec::new(),
            });
            StepOutcome::Failed { observed, failure }
        }
        WaitVerdict::Pending => StepOutcome::InFlight { observed, wait },
    }
}

/// A step that cannot be done in the group's state (no API call was made).
fn cannot(observed: Observed, message: String) -> StepOutcome {
    StepOutcome::Failed {
        observed,
        failure: Failure {
            code: None,
            message,
            details: Vec::new(),
        },
    }
}

fn gone(address: &Address, location: &Location, verb: &str) -> StepOutcome {
    StepOutcome::Failed {
        observed: HuaweiOmsProvider::observed(address, None, location),
        failure: Failure {
            code: Some("OMS.1009".to_owned()),
            message: format!(
                "cannot {verb}: the task group no longer exists (deleted outside migspec?); plan again to create it"
            ),
            details: Vec::new(),
        },
    }
}

/// A refusal by OMS (state or data) is a failed step with OMS's own words, its request id
/// as the `X-Request-Id` detail; transport, throttling and credential errors stay errors.
fn refused(observed: Observed, error: ProviderError) -> Result<StepOutcome, ProviderError> {
    migspec_provider::refused(observed, error, RequestIdIn::Detail("X-Request-Id"))
}

#[cfg(test)]
mod tests {
    use super::*;

    use Decision::{Call, Done, PauseThenFail, Wait};

    /// Every documented status in code order (0 … 9), then the undocumented `None`.
    const STATUSES: [Option<GroupStatus>; 11] = [
        Some(GroupStatus::Waiting),
        Some(GroupStatus::CreatingTasks),
        Some(GroupStatus::Migrating),
        Some(GroupStatus::Paused),
        Some(GroupStatus::TaskCreationFailed),
        Some(GroupStatus::MigrationFailed),
        Some(GroupStatus::Completed),
        Some(GroupStatus::Pausing),
        Some(GroupStatus::WaitingForDeletion),
        Some(GroupStatus::Deleting),
        None,
    ];

    /// The decisions of `kind` over [`STATUSES`], refusals shown as `"refuse"`.
    fn row(kind: ActionKind) -> Vec<&'static str> {
        STATUSES
            .iter()
            .map(|status| match decide(kind, *status) {
                Call => "call",
                Wait => "wait",
                Done => "done",
                PauseThenFail => "pause, fail",
                Decision::Refuse(_) => "refuse",
            })
            .collect()
    }

    #[test]
    fn the_decision_table_covers_every_action_and_status() {
        //            0        1        2        3        4          5          6        7          8        9        ?
        assert_eq!(
            row(ActionKind::Start),
            [
                "wait", "wait", "wait", "call", "refuse", "refuse", "wait", "refuse", "refuse",
                "refuse", "refuse"
            ]
        );
        assert_eq!(
            row(ActionKind::Retry),
            [
                "wait", "wait", "wait", "refuse", "call", "call", "wait", "refuse", "refuse",
                "refuse", "refuse"
            ]
        );
        assert_eq!(
            row(ActionKind::Pause),
            [
                "refuse", "call", "call", "wait", "done", "done", "wait", "wait", "refuse",
                "refuse", "refuse"
            ]
        );
        assert_eq!(
            row(ActionKind::Delete),
            [
                "call",
                "pause, fail",
                "pause, fail",
                "call",
                "call",
                "call",
                "call",
                "refuse",
                "wait",
                "wait",
                "call"
            ]
        );
        assert_eq!(
            row(ActionKind::Modify),
            [
                "call", "call", "call", "call", "call", "call", "done", "call", "call", "call",
                "call"
            ]
        );
        // OMS knows no `complete`: the table never calls for it.
        assert!(
            row(ActionKind::Complete)
                .iter()
                .all(|decision| *decision == "refuse")
        );
    }

    #[test]
    fn refusals_name_the_action_the_group_its_status_and_what_to_do() {
        let group = Current {
            id: "g-1".to_owned(),
            status: Some(GroupStatus::Pausing),
            view: Value::Null,
            observed: Observed::Missing {
                address: Address("media".to_owned()),
            },
        };
        let outcome = without_call(ActionKind::Start, group.status, &group, None)
            .expect("a pausing group is not started");
        let StepOutcome::Failed { failure, .. } = outcome else {
            panic!("a refusal fails the step: {outcome:?}");
        };
        assert!(
            failure
                .message
                .starts_with("cannot start task group g-1: it is "),
            "{}",
            failure.message
        );
        assert!(failure.message.contains("pausing"), "{}", failure.message);
        assert!(
            failure
                .message
                .ends_with("wait until it is paused, then apply again"),
            "{}",
            failure.message
        );
        assert_eq!(failure.code, None, "no API call was made");
        assert!(
            without_call(ActionKind::Delete, Some(GroupStatus::Paused), &group, None).is_none()
        );
    }
}
