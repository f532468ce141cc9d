//! Planning: the ordered actions from what is observed to what a spec's lifecycle asks.
//!
//! Pure: no I/O, no clock. The rules follow the documented state machines (reference
//! §1.3 and §2.3):
//!
//! - a missing job is created, then taken through check, start and complete as far as
//!   `lifecycle.desired` says;
//! - a changed configuration is modified only in the statuses that allow it (2018: 1, 4, 5,
//!   10; 2021: created, checkPass, checkNotPass); a running 2018 job is stopped first
//!   (`□ stop` then `~ modify`, both marked [`Disruption::NeedsStop`]); anything that cannot
//!   change in place (database types, regions, the 2021 instance class, or any change to a
//!   2021 job that has started) deletes the job and creates it again
//!   ([`Disruption::ForcesRecreate`]);
//! - every modify is followed by a new check before a start, and a start comes only after a
//!   check;
//! - a failed job is resumed while `onFailure` allows it (2021 `ResumeMigrateJob`; 2018 has
//!   no resume, so the job is checked and started again), otherwise the plan fails with the
//!   job's own error;
//! - a job whose spec left the set is deleted only with `Orphans::Delete` (2018
//!   `DeleteMigrateJob`; 2021 isolate, then destroy).
//!
//! A job on its way to the desired state by itself (checking, running towards ready to
//! complete, completing, …) needs no action; a state already reached gives none.

use migspec_provider::{
    Action, ActionKind, Address, ChangeValue, Disruption, FieldChange, MARKER_FIELD, Orphans,
    Phase, PlanError, PlanRequest, Recorded, RemoteObject,
};
use migspec_spec::model::common::{ResumeOption, TencentFailureAction};
use migspec_spec::model::tencent2021::CompleteMode;
use serde_json::Value;

use crate::canon;
use crate::client::ApiVersion;
use crate::job::read_location;
use crate::{v2018, v2021};

/// The state a spec asks for (both kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DesiredState {
    Configured,
    Checked,
    Running,
    Completed,
    Paused,
    Stopped,
}

/// Everything planning and applying need from a spec.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Intent {
    pub(crate) version: ApiVersion,
    pub(crate) state: DesiredState,
    pub(crate) incremental: bool,
    pub(crate) timed: bool,
    pub(crate) overrides_root: bool,
    pub(crate) redis: bool,
    /// `Some((option, max_attempts))` when `onFailure.action` is `resume`.
    pub(crate) resume: Option<(Option<ResumeOption>, u32)>,
    /// `lifecycle.CompleteMode` (2021-12-06 only), sent with `CompleteMigrateJob`.
    pub(crate) complete_mode: Option<CompleteMode>,
    /// The spec body without secrets.
    pub(crate) body: Value,
}

impl Intent {
    /// Reads a desired spec of either kind.
    pub(crate) fn from_desired(
        desired: &migspec_provider::DesiredSpec,
    ) -> Result<Self, migspec_provider::ProviderError> {
        use migspec_spec::model::tencent2018::MigrateJobDesired as D2018;
        use migspec_spec::model::tencent2021::MigrationJobDesired as D2021;
        let resume = |on_failure: &Option<migspec_spec::model::common::TencentOnFailure>| {
            on_failure
                .as_ref()
                .filter(|on_failure| on_failure.action == TencentFailureAction::Resume)
                .map(|on_failure| {
                    (
                        on_failure.resume_option,
                        on_failure.max_attempts.unwrap_or(1),
                    )
                })
        };
        match ApiVersion::for_kind(&desired.kind) {
            Some(ApiVersion::V2018) => {
                let job = v2018::document(desired)?;
                Ok(Self {
                    version: ApiVersion::V2018,
                    state: match job.lifecycle.desired {
                        D2018::Configured => DesiredState::Configured,
                        D2018::Checked => DesiredState::Checked,
                        D2018::Running => DesiredState::Running,
                        D2018::Completed => DesiredState::Completed,
                        D2018::Stopped => DesiredState::Stopped,
                    },
                    incremental: v2018::incremental(&job),
                    timed: v2018::timed(&job),
                    overrides_root: v2018::overrides_root(&job),
                    redis: job.spec.src_database_type.as_str() == "redis",
                    resume: resume(&job.lifecycle.on_failure),
                    complete_mode: None,
                    body: v2018::spec_body(&job),
                })
            }
            Some(ApiVersion::V2021) => {
                let job = v2021::document(desired)?;
                Ok(Self {
                    version: ApiVersion::V2021,
                    state: match job.lifecycle.desired {
                        D2021::Configured => DesiredState::Configured,
                        D2021::Checked => DesiredState::Checked,
                        D2021::Running => DesiredState::Running,
                        D2021::Completed => DesiredState::Completed,
                        D2021::Paused => DesiredState::Paused,
                        D2021::Stopped => DesiredState::Stopped,
                    },
                    incremental: v2021::incremental(&job),
                    timed: v2021::timed(&job),
                    overrides_root: v2021::overrides_root(&job),
                    redis: job.spec.src_database_type.as_str() == "redis",
                    resume: resume(&job.lifecycle.on_failure),
                    complete_mode: job.lifecycle.complete_mode,
                    body: v2021::spec_body(&job),
                })
            }
            None => Err(migspec_provider::ProviderError::Contract {
                message: format!(
                    "{}: kind `{}` is not served by the tencent-dts provider",
                    desired.address, desired.kind
                ),
            }),
        }
    }

    /// The phases that end a start step: the job runs (or, for `completed` and for
    /// incremental jobs, reaches the end of its full phase).
    pub(crate) fn start_targets(&self) -> Vec<Phase> {
        let mut targets = match (self.state, self.incremental) {
            (DesiredState::Completed, false) => vec![Phase::Completed],
            (_, true) => vec![Phase::ReadyToComplete, Phase::Completed],
            (_, false) => vec![Phase::Running, Phase::ReadyToComplete, Phase::Completed],
        };
        if self.timed && self.state != DesiredState::Completed {
            // A timed job may wait days for its start time; being scheduled is the effect.
            targets.push(Phase::Scheduled);
        }
        targets
    }
}

/// The canonical form of a view or spec body of `version`.
pub(crate) fn canonical(version: ApiVersion, value: &Value) -> Value {
    match version {
        ApiVersion::V2018 => v2018::canonical(value),
        ApiVersion::V2021 => v2021::canonical(value),
    }
}

fn immutable(version: ApiVersion) -> &'static [&'static str] {
    match version {
        ApiVersion::V2018 => v2018::IMMUTABLE,
        ApiVersion::V2021 => v2021::IMMUTABLE,
    }
}

/// The field changes from `view` to the spec body, plus secrets the state says changed.
pub(crate) fn changes(intent: &Intent, view: &Value, recorded: &Recorded) -> Vec<FieldChange> {
    let before = canonical(intent.version, view);
    let after = canonical(intent.version, &intent.body);
    let fixed = immutable(intent.version);
    let mut changes: Vec<FieldChange> = canon::diff(&before, &after)
        .into_iter()
        .map(|difference| {
            let pointer = difference.pointer;
            let raw_before = difference
                .before
                .or_else(|| view.pointer(&pointer).cloned());
            let raw_after = difference
                .after
                .or_else(|| intent.body.pointer(&pointer).cloned());
            let in_place = !fixed.iter().any(|field| {
                pointer == *field
                    || pointer.starts_with(&format!("{field}/"))
                    || field.starts_with(&format!("{pointer}/"))
            });
            FieldChange {
                field: format!("/spec{pointer}"),
                before: raw_before.map_or(ChangeValue::Absent, ChangeValue::Value),
                after: raw_after.map_or(ChangeValue::Absent, ChangeValue::Value),
                in_place,
            }
        })
        .collect();
    for pointer in &recorded.changed_secrets {
        if changes.iter().any(|change| &change.field == pointer) {
            continue;
        }
        changes.push(FieldChange {
            field: pointer.clone(),
            before: ChangeValue::Sensitive,
            after: ChangeValue::Sensitive,
            in_place: true,
        });
    }
    changes
}

/// Plans one address.
pub(crate) fn plan(request: &PlanRequest) -> Result<Vec<Action>, PlanError> {
    let fail = |message: String| PlanError {
        address: request.address.clone(),
        message,
    };
    let intent = request
        .desired
        .as_ref()
        .map(Intent::from_desired)
        .transpose()
        .map_err(|error| fail(error.to_string()))?;
    let object = request.observed.object();
    // The recorded location speaks for the recorded job only: after a delete the state keeps
    // the old location without an id, and a re-created job is found by its tag elsewhere.
    if let Some(object) = object
        && request.recorded.remote_id.as_ref() == Some(&object.id)
        && let (Some(state), Some(observed)) = (
            read_location(&request.recorded.location).0,
            read_location(&object.location).0,
        )
        && state != observed
    {
        // Nothing is deleted or re-created from a state that disagrees with the cloud.
        return Err(fail(format!(
            "the state records job {} in region {state}, but it was observed in region {observed}; nothing is planned for it: if the state is wrong, run `migspec state rm {address}` and `migspec import {kind} {address} {id} --region {observed}`",
            object.id,
            address = request.address,
            kind = read_location(&object.location)
                .1
                .map_or("TencentDtsMigrateJob", ApiVersion::kind),
            id = object.id,
        )));
    }
    match (intent, object) {
        (None, None) => Ok(Vec::new()),
        (None, Some(object)) => {
            if request.orphans == Orphans::Keep {
                return Ok(Vec::new());
            }
            let version = read_location(&object.location).1.ok_or_else(|| {
                fail("the job's location has no API version; cannot plan its deletion".to_owned())
            })?;
            Ok(delete_path(
                version,
                object,
                &format!(
                    "the spec was removed and its job {} is to be deleted",
                    object.id
                ),
                None,
            ))
        }
        (Some(intent), None) => {
            let mut actions = vec![create_action(
                &intent,
                format!(
                    "no job carries the tag migspec:address={}; create it",
                    request.address
                ),
                Vec::new(),
            )];
            actions.extend(path_from_configured(&intent));
            Ok(actions)
        }
        (Some(intent), Some(object)) => {
            if let Some(version) = read_location(&object.location).1
                && version != intent.version
            {
                return Err(fail(format!(
                    "the spec's kind is {} (API {}) but its job {} was created with API {version}; remove the spec with `deletionPolicy: delete` first, or give the new spec another name",
                    intent.version.kind(),
                    intent.version,
                    object.id
                )));
            }
            plan_present(&request.address, &intent, object, &request.recorded).map_err(fail)
        }
    }
}

fn create_action(intent: &Intent, reason: String, changes: Vec<FieldChange>) -> Action {
    let mut action = Action::new(ActionKind::Create, reason).with_changes(changes);
    if intent.overrides_root {
        action = action.disrupting(Disruption::OverridesRoot);
    }
    action
}

fn status(intent_version: ApiVersion, object: &RemoteObject) -> String {
    match intent_version {
        ApiVersion::V2018 => v2018::describe_status(&object.raw_status),
        ApiVersion::V2021 => object.raw_status.clone(),
    }
}

/// Whether a modification is possible now or after waiting or stopping.
fn modifiable(version: ApiVersion, phase: Phase) -> bool {
    match version {
        ApiVersion::V2018 => matches!(
            phase,
            Phase::Configured
                | Phase::Creating
                | Phase::Checking
                | Phase::CheckPassed
                | Phase::CheckFailed
                | Phase::Failed
                | Phase::Stopped
                | Phase::Stopping
                | Phase::Running
                | Phase::ReadyToComplete
        ),
        ApiVersion::V2021 => matches!(
            phase,
            Phase::Creating
                | Phase::Configured
                | Phase::Checking
                | Phase::CheckPassed
                | Phase::CheckFailed
        ),
    }
}

/// The change that tags a 2021 job with its address, when the job carries another tag or
/// none (imported, or created outside migspec) and ModifyMigrationJob can still change it.
/// `ModifyMigrationJob` replaces the job's tags, so the modify sends the spec's tags plus the
/// address tag. API 2018-03-30 cannot change tags: nothing is planned, the runner warns.
fn marker_change(address: &Address, intent: &Intent, object: &RemoteObject) -> Option<FieldChange> {
    let untagged = object.marker.as_ref() != Some(address);
    let taggable = intent.version == ApiVersion::V2021
        && matches!(
            object.phase,
            Phase::Creating
                | Phase::Configured
                | Phase::Checking
                | Phase::CheckPassed
                | Phase::CheckFailed
        );
    (untagged && taggable).then(|| FieldChange {
        field: MARKER_FIELD.to_owned(),
        before: object
            .marker
            .as_ref()
            .map_or(ChangeValue::Absent, |marker| {
                ChangeValue::Value(Value::String(marker.0.clone()))
            }),
        after: ChangeValue::Value(Value::String(address.0.clone())),
        in_place: true,
    })
}

fn plan_present(
    address: &Address,
    intent: &Intent,
    object: &RemoteObject,
    recorded: &Recorded,
) -> Result<Vec<Action>, String> {
    let version = intent.version;
    let id = &object.id;
    let shown = status(version, object);
    if object.phase == Phase::Unknown {
        return Err(format!(
            "job {id} reports status {shown}, which migspec cannot plan from; wait and run `migspec plan` again, or look at the job in the console"
        ));
    }
    if matches!(
        object.phase,
        Phase::Isolating | Phase::Isolated | Phase::Deleting
    ) {
        // Isolated or destroyed outside migspec while its spec still wants it.
        let reason = format!(
            "job {id} is being deleted (billing status {shown:?} outside migspec) while its spec still exists"
        );
        let mut actions = if object.phase == Phase::Deleting {
            Vec::new()
        } else {
            delete_path(version, object, &reason, Some(Disruption::ForcesRecreate))
        };
        actions.push(
            create_action(
                intent,
                format!("{reason}; create a new job for the spec"),
                Vec::new(),
            )
            .disrupting(Disruption::ForcesRecreate),
        );
        actions.extend(path_from_configured(intent));
        return Ok(actions);
    }
    let changes = changes(intent, &object.view, recorded);
    if !changes.is_empty() {
        let fixed: Vec<&str> = changes
            .iter()
            .filter(|change| !change.in_place)
            .map(|change| change.field.as_str())
            .collect();
        if !fixed.is_empty() {
            return Ok(recreate(
                intent,
                object,
                changes.clone(),
                &format!("{} cannot change once job {id} exists", fixed.join(", ")),
            ));
        }
        if !modifiable(version, object.phase) {
            return Ok(recreate(
                intent,
                object,
                changes,
                &format!("job {id} is {shown}, a status in which API {version} cannot modify it"),
            ));
        }
        let mut actions = Vec::new();
        let mut modify = Action::new(
            ActionKind::Modify,
            format!(
                "{} field{} of job {id} differ{} from the spec",
                changes.len(),
                if changes.len() == 1 { "" } else { "s" },
                if changes.len() == 1 { "s" } else { "" },
            ),
        );
        if matches!(object.phase, Phase::Running | Phase::ReadyToComplete) {
            actions.push(
                Action::new(
                    ActionKind::Stop,
                    format!(
                        "job {id} is {shown}; API {version} modifies a job only once it is stopped, and the migration then starts over"
                    ),
                )
                .disrupting(Disruption::NeedsStop),
            );
            modify = modify.disrupting(Disruption::NeedsStop);
        }
        let root_on = changes.iter().any(|change| {
            change.field == "/spec/MigrateOption/IsOverrideRoot"
                && matches!(&change.after, ChangeValue::Value(value) if value == &Value::from(1) || value == &Value::Bool(true))
        });
        if root_on {
            modify = modify.disrupting(Disruption::OverridesRoot);
        }
        let mut changes = changes;
        changes.extend(marker_change(address, intent, object));
        actions.push(modify.with_changes(changes));
        actions.extend(path_from_configured(intent));
        return Ok(actions);
    }
    if let Some(marker) = marker_change(address, intent, object) {
        // Only the tag differs: write it, so that the job is found by its tag without the
        // state. The modify resets the job's check, so it is checked again before a start.
        let mut actions = vec![
            Action::new(
                ActionKind::Modify,
                format!(
                    "job {} does not carry the tag {}={address} (imported or created outside migspec): tag it (ModifyMigrationJob), so that it is found again without the state",
                    object.id,
                    crate::job::ADDRESS_TAG
                ),
            )
            .with_changes(vec![marker]),
        ];
        actions.extend(path_from_configured(intent));
        return Ok(actions);
    }
    path_from_phase(intent, object, recorded)
}

/// Delete the job (stopping a running 2018 job first), create it anew, and go on.
fn recreate(
    intent: &Intent,
    object: &RemoteObject,
    changes: Vec<FieldChange>,
    why: &str,
) -> Vec<Action> {
    let migrated = object.phase.has_migrated();
    let reason = if migrated {
        format!(
            "{why}: the job is deleted and created again, and the new job migrates everything again into the target, which already holds the old job's data"
        )
    } else {
        format!("{why}: the job is deleted and created again")
    };
    let mut actions = delete_path(
        intent.version,
        object,
        &reason,
        Some(Disruption::ForcesRecreate),
    );
    let mut create = create_action(intent, reason, changes).disrupting(Disruption::ForcesRecreate);
    if migrated {
        create = create.disrupting(Disruption::OverwritesTarget);
    }
    actions.push(create);
    actions.extend(path_from_configured(intent));
    actions
}

/// The actions that delete a job.
fn delete_path(
    version: ApiVersion,
    object: &RemoteObject,
    reason: &str,
    marker: Option<Disruption>,
) -> Vec<Action> {
    let mark = |action: Action| match marker {
        Some(marker) => action.disrupting(marker),
        None => action,
    };
    let active = matches!(
        object.phase,
        Phase::Scheduled
            | Phase::Running
            | Phase::ReadyToComplete
            | Phase::Resuming
            | Phase::Pausing
            | Phase::Paused
    );
    let id = &object.id;
    match version {
        ApiVersion::V2018 => {
            let mut actions = Vec::new();
            if matches!(object.phase, Phase::Running | Phase::ReadyToComplete) {
                actions.push(mark(
                    Action::new(
                        ActionKind::Stop,
                        format!("{reason}; API 2018-03-30 refuses to delete a running job, so it is stopped first"),
                    )
                    .disrupting(Disruption::NeedsStop),
                ));
            }
            actions.push(mark(Action::new(
                ActionKind::Delete,
                format!("{reason} (DeleteMigrateJob {id})"),
            )));
            actions
        }
        ApiVersion::V2021 => {
            let destroy = mark(Action::new(
                ActionKind::Delete,
                format!("{reason}: destroy the isolated job {id} (DestroyMigrateJob)"),
            ));
            match object.phase {
                Phase::Deleting => Vec::new(),
                Phase::Isolated => vec![destroy],
                _ => {
                    let mut isolate = mark(Action::new(
                        ActionKind::Delete,
                        format!(
                            "{reason}: isolate job {id} first (IsolateMigrateJob; billing stops{})",
                            if active {
                                " and the running migration ends"
                            } else {
                                ""
                            }
                        ),
                    ));
                    if active {
                        isolate = isolate.disrupting(Disruption::NeedsStop);
                    }
                    vec![isolate, destroy]
                }
            }
        }
    }
}

fn check(reason: impl Into<String>) -> Action {
    Action::new(ActionKind::Check, reason)
}

fn start(intent: &Intent) -> Action {
    Action::new(
        ActionKind::Start,
        if intent.timed {
            "start the job once its check passed; it waits for its start time".to_owned()
        } else {
            "start the migration once its check passed".to_owned()
        },
    )
}

/// What a `■ complete` reason adds for the spec's `CompleteMode`.
fn complete_how(intent: &Intent) -> &'static str {
    match intent.complete_mode {
        Some(CompleteMode::Immediately) => {
            " (CompleteMode immediately: without waiting for the sync to catch up)"
        }
        Some(CompleteMode::WaitForSync) | None => "",
    }
}

fn complete(intent: &Intent) -> Action {
    let how = complete_how(intent);
    Action::new(
        ActionKind::Complete,
        format!(
            "lifecycle.desired is completed: complete the incremental phase once the job is ready to complete{how}"
        ),
    )
}

fn pause() -> Action {
    Action::new(
        ActionKind::Pause,
        "lifecycle.desired is paused: pause the migration",
    )
}

/// From a freshly created or modified job to the desired state.
fn path_from_configured(intent: &Intent) -> Vec<Action> {
    let fresh_check =
        || check("a new or changed configuration is checked before the job can start");
    match intent.state {
        DesiredState::Configured | DesiredState::Stopped => Vec::new(),
        DesiredState::Checked => vec![fresh_check()],
        DesiredState::Running => vec![fresh_check(), start(intent)],
        DesiredState::Completed => {
            let mut actions = vec![fresh_check(), start(intent)];
            if intent.incremental {
                actions.push(complete(intent));
            }
            actions
        }
        DesiredState::Paused => vec![fresh_check(), start(intent), pause()],
    }
}

/// From a started (running or resumed) job to the desired state.
fn after_running(intent: &Intent) -> Vec<Action> {
    match intent.state {
        DesiredState::Completed if intent.incremental => vec![complete(intent)],
        DesiredState::Paused => vec![pause()],
        _ => Vec::new(),
    }
}

fn stop(reason: String) -> Action {
    Action::new(ActionKind::Stop, reason)
}

fn path_from_phase(
    intent: &Intent,
    object: &RemoteObject,
    recorded: &Recorded,
) -> Result<Vec<Action>, String> {
    use DesiredState as S;
    let id = &object.id;
    let version = intent.version;
    let shown = status(version, object);
    let state = intent.state;
    let stop_reason = || format!("lifecycle.desired is stopped and job {id} is {shown}");
    Ok(match object.phase {
        Phase::Creating | Phase::Configured => path_from_configured(intent),
        Phase::Checking | Phase::CheckPassed => match state {
            S::Configured | S::Checked | S::Stopped => Vec::new(),
            S::Running | S::Completed | S::Paused => {
                let mut actions = vec![start(intent)];
                actions.extend(after_running(intent));
                actions
            }
        },
        Phase::CheckFailed => match state {
            S::Configured | S::Stopped => Vec::new(),
            _ => {
                let last = object
                    .failure
                    .as_ref()
                    .map(|failure| format!(": {}", failure.message))
                    .unwrap_or_default();
                let mut actions = path_from_configured(intent);
                if let Some(first) = actions.first_mut() {
                    first.reason = format!("the last check of job {id} failed{last}; check again");
                }
                actions
            }
        },
        Phase::Scheduled | Phase::Running | Phase::Resuming => match state {
            S::Configured | S::Checked | S::Running => Vec::new(),
            S::Completed | S::Paused => after_running(intent),
            S::Stopped => vec![stop(stop_reason())],
        },
        Phase::ReadyToComplete => match state {
            S::Configured | S::Checked | S::Running => Vec::new(),
            S::Completed => vec![Action::new(
                ActionKind::Complete,
                format!(
                    "job {id} is ready to complete and lifecycle.desired is completed{}",
                    complete_how(intent)
                ),
            )],
            S::Paused => vec![pause()],
            S::Stopped => vec![stop(stop_reason())],
        },
        Phase::Completing | Phase::Completed => Vec::new(),
        Phase::Pausing | Phase::Paused => match state {
            S::Configured | S::Checked | S::Paused => Vec::new(),
            S::Running | S::Completed => {
                let mut actions = vec![Action::new(
                    ActionKind::Continue,
                    format!(
                        "job {id} is {shown} and lifecycle.desired is {}",
                        desired_name(state)
                    ),
                )];
                if state == S::Completed && intent.incremental {
                    actions.push(complete(intent));
                }
                actions
            }
            S::Stopped => vec![stop(stop_reason())],
        },
        Phase::Stopping | Phase::Stopped => match state {
            S::Configured | S::Checked | S::Stopped => Vec::new(),
            S::Running | S::Completed | S::Paused => match version {
                ApiVersion::V2018 => {
                    let mut actions = vec![check(format!(
                        "job {id} was stopped; to run again it is checked and started anew (the migration starts over)"
                    ))];
                    actions.push(start(intent));
                    actions.extend(after_running(intent));
                    actions
                }
                ApiVersion::V2021 => recreate(
                    intent,
                    object,
                    Vec::new(),
                    &format!(
                        "job {id} was stopped ({shown}) and API 2021-12-06 cannot start a stopped job again"
                    ),
                ),
            },
        },
        Phase::Failed => plan_failed(intent, object, recorded)?,
        Phase::Isolating | Phase::Isolated | Phase::Deleting | Phase::Unknown => Vec::new(),
    })
}

fn desired_name(state: DesiredState) -> &'static str {
    match state {
        DesiredState::Configured => "configured",
        DesiredState::Checked => "checked",
        DesiredState::Running => "running",
        DesiredState::Completed => "completed",
        DesiredState::Paused => "paused",
        DesiredState::Stopped => "stopped",
    }
}

fn plan_failed(
    intent: &Intent,
    object: &RemoteObject,
    recorded: &Recorded,
) -> Result<Vec<Action>, String> {
    let id = &object.id;
    let version = intent.version;
    let shown = status(version, object);
    let resumable_2021 = v2021::resumable(&object.raw_status, intent.redis);
    match intent.state {
        DesiredState::Configured | DesiredState::Checked => return Ok(Vec::new()),
        DesiredState::Stopped => {
            return Ok(if version == ApiVersion::V2021 && resumable_2021 {
                vec![stop(format!(
                    "lifecycle.desired is stopped and job {id} is {shown}, which holds it until it is resumed or stopped"
                ))]
            } else {
                Vec::new()
            });
        }
        DesiredState::Running | DesiredState::Completed | DesiredState::Paused => {}
    }
    let error = object.failure.as_ref().map_or_else(
        || "no error message".to_owned(),
        |failure| failure.message.clone(),
    );
    let Some((option, max_attempts)) = intent.resume else {
        return Err(format!(
            "job {id} failed ({shown}): {error}; lifecycle.onFailure does not say to resume it: fix the cause and set `onFailure: {{action: resume, …}}`, or remove the spec with `deletionPolicy: delete`"
        ));
    };
    if recorded.attempts >= max_attempts {
        return Err(format!(
            "job {id} failed ({shown}): {error}; it was resumed {} time{} already and onFailure.maxAttempts is {max_attempts}: fix the cause, then raise maxAttempts or reset the attempts",
            recorded.attempts,
            if recorded.attempts == 1 { "" } else { "s" }
        ));
    }
    let attempt = format!("attempt {} of {max_attempts}", recorded.attempts + 1);
    match version {
        ApiVersion::V2021 => {
            if !resumable_2021 {
                return Err(format!(
                    "job {id} failed ({shown}): {error}; ResumeMigrateJob accepts only resumableErr and error jobs (and failed Redis jobs): remove the spec with `deletionPolicy: delete` and apply it again under a new name"
                ));
            }
            let mut resume = Action::new(
                ActionKind::Resume,
                format!(
                    "job {id} failed ({shown}): {error}; onFailure says resume ({attempt}{})",
                    option
                        .map(|option| format!(", ResumeOption {option}"))
                        .unwrap_or_default()
                ),
            );
            match option {
                Some(ResumeOption::Overwrite) => {
                    resume = resume.disrupting(Disruption::OverwritesTarget);
                }
                Some(ResumeOption::ClearData) => {
                    resume = resume.disrupting(Disruption::ClearsTarget);
                }
                Some(ResumeOption::Normal) | None => {}
            }
            let mut actions = vec![resume];
            actions.extend(after_running(intent));
            Ok(actions)
        }
        ApiVersion::V2018 => {
            let mut actions = vec![
                Action::new(
                    ActionKind::Resume,
                    format!(
                        "job {id} failed ({shown}): {error}; onFailure says resume ({attempt}); API 2018-03-30 has no ResumeMigrateJob, so the job is checked again and then started (the migration starts over)"
                    ),
                ),
                start(intent),
            ];
            actions.extend(after_running(intent));
            Ok(actions)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use migspec_provider::{Address, DesiredSpec, Failure, Observed, RemoteId};
    use serde_json::json;

    use super::*;
    use crate::job::location;

    pub(crate) fn doc_2018(desired: &str, extra: Value) -> Value {
        let mut doc = json!({
            "apiVersion": "migspec/v1",
            "kind": "TencentDtsMigrateJob",
            "metadata": {"name": "orders"},
            "spec": {
                "region": "ap-guangzhou",
                "JobName": "orders",
                "MigrateOption": {"RunMode": 1, "MigrateType": 3, "MigrateObject": 2, "ConsistencyType": 5},
                "SrcDatabaseType": "mysql",
                "SrcAccessType": "cvm",
                "SrcInfo": {"CvmInstanceId": "ins-1a2b3c4d", "Port": 3306, "User": "dts", "Password": {"fromEnv": "PW"}, "Region": "ap-guangzhou"},
                "DstDatabaseType": "mysql",
                "DstAccessType": "cdb",
                "DstInfo": {"InstanceId": "cdb-9z8y7x6w", "Region": "ap-guangzhou", "User": "root", "Password": {"fromEnv": "PW2"}},
                "DatabaseInfo": [{"Database": "orders", "Table": ["orders"]}]
            },
            "lifecycle": {"desired": desired}
        });
        if let (Value::Object(target), Value::Object(extra)) = (&mut doc, extra) {
            for (key, value) in extra {
                target.insert(key, value);
            }
        }
        doc
    }

    fn desired(document: Value) -> DesiredSpec {
        DesiredSpec {
            address: Address("orders".into()),
            kind: document["kind"].as_str().unwrap().to_owned(),
            document,
            secrets: crate::job::secrets(&[
                ("/spec/SrcInfo/Password", "a"),
                ("/spec/DstInfo/Password", "b"),
            ]),
        }
    }

    /// The view a job applied from `document` shows.
    fn view_of(document: &Value) -> Value {
        let mut view = document["spec"].clone();
        view["SrcInfo"]
            .as_object_mut()
            .unwrap()
            .shift_remove("Password");
        view["DstInfo"]
            .as_object_mut()
            .unwrap()
            .shift_remove("Password");
        view
    }

    fn present(document: &Value, phase: Phase, raw: &str) -> Observed {
        Observed::Present {
            address: Address("orders".into()),
            object: Box::new(RemoteObject {
                id: RemoteId("dts-1kl0iy0v".into()),
                phase,
                raw_status: raw.into(),
                location: location("ap-guangzhou", ApiVersion::V2018),
                view: view_of(document),
                progress: None,
                failure: (phase == Phase::Failed || phase == Phase::CheckFailed).then(|| Failure {
                    code: None,
                    message: "Duplicate entry".into(),
                    details: Vec::new(),
                }),
                revision: None,
                marker: Some(Address("orders".into())),
            }),
        }
    }

    fn request(document: &Value, observed: Observed, recorded: Recorded) -> PlanRequest {
        PlanRequest {
            address: Address("orders".into()),
            desired: Some(desired(document.clone())),
            observed,
            recorded,
            orphans: Orphans::Keep,
        }
    }

    fn kinds(actions: &[Action]) -> Vec<ActionKind> {
        actions.iter().map(|action| action.kind).collect()
    }

    use ActionKind::{Check, Complete, Create, Delete, Modify, Resume, Start, Stop};

    #[test]
    fn missing_jobs_are_created_and_taken_to_the_desired_state() {
        let missing = || Observed::Missing {
            address: Address("orders".into()),
        };
        for (desired, expected) in [
            ("configured", vec![Create]),
            ("checked", vec![Create, Check]),
            ("running", vec![Create, Check, Start]),
            ("completed", vec![Create, Check, Start, Complete]),
            ("stopped", vec![Create]),
        ] {
            let doc = doc_2018(desired, json!({}));
            let actions = plan(&request(&doc, missing(), Recorded::default())).unwrap();
            assert_eq!(kinds(&actions), expected, "{desired}");
            assert!(actions.iter().all(|action| !action.reason.is_empty()));
        }
    }

    #[test]
    fn reached_states_give_no_actions() {
        for (desired, phase, raw) in [
            ("configured", Phase::Configured, "1"),
            ("checked", Phase::CheckPassed, "4"),
            ("running", Phase::ReadyToComplete, "8"),
            ("running", Phase::Running, "7"),
            ("completed", Phase::Completed, "9"),
            ("completed", Phase::Completing, "12"),
            ("stopped", Phase::Stopped, "10"),
            ("checked", Phase::Checking, "3"),
        ] {
            let doc = doc_2018(desired, json!({}));
            let actions = plan(&request(
                &doc,
                present(&doc, phase, raw),
                Recorded::default(),
            ))
            .unwrap();
            assert!(actions.is_empty(), "{desired} {raw}: {actions:?}");
        }
    }

    #[test]
    fn changes_are_modified_then_checked_again_and_running_jobs_stopped_first() {
        let doc = doc_2018("running", json!({}));
        let mut observed = present(&doc, Phase::CheckPassed, "4");
        if let Observed::Present { object, .. } = &mut observed {
            object.view["MigrateOption"]["ConsistencyType"] = json!(2);
        }
        let actions = plan(&request(&doc, observed.clone(), Recorded::default())).unwrap();
        assert_eq!(kinds(&actions), [Modify, Check, Start]);
        assert_eq!(actions[0].changes.len(), 1);
        assert_eq!(
            actions[0].changes[0].field,
            "/spec/MigrateOption/ConsistencyType"
        );
        assert_eq!(actions[0].changes[0].before, ChangeValue::Value(json!(2)));
        assert_eq!(actions[0].changes[0].after, ChangeValue::Value(json!(5)));

        if let Observed::Present { object, .. } = &mut observed {
            object.phase = Phase::Running;
            object.raw_status = "7".into();
        }
        let actions = plan(&request(&doc, observed, Recorded::default())).unwrap();
        assert_eq!(kinds(&actions), [Stop, Modify, Check, Start]);
        assert_eq!(actions[0].disruptions, [Disruption::NeedsStop]);
        assert_eq!(actions[1].disruptions, [Disruption::NeedsStop]);
    }

    #[test]
    fn changed_secrets_are_sensitive_modifications() {
        let doc = doc_2018("checked", json!({}));
        let recorded = Recorded {
            changed_secrets: vec!["/spec/SrcInfo/Password".into()],
            ..Recorded::default()
        };
        let actions = plan(&request(
            &doc,
            present(&doc, Phase::CheckPassed, "4"),
            recorded,
        ))
        .unwrap();
        assert_eq!(kinds(&actions), [Modify, Check]);
        assert_eq!(actions[0].changes[0].before, ChangeValue::Sensitive);
        assert_eq!(actions[0].changes[0].after, ChangeValue::Sensitive);
        assert!(!serde_json::to_string(&actions).unwrap().contains("\"a\""));
    }

    #[test]
    fn immutable_changes_recreate() {
        let doc = doc_2018("configured", json!({}));
        let mut observed = present(&doc, Phase::Configured, "1");
        if let Observed::Present { object, .. } = &mut observed {
            object.view["DstInfo"]["Region"] = json!("ap-shanghai");
        }
        let actions = plan(&request(&doc, observed, Recorded::default())).unwrap();
        assert_eq!(kinds(&actions), [Delete, Create]);
        assert!(actions[1].disruptions.contains(&Disruption::ForcesRecreate));
        assert!(!actions[1].changes[0].in_place);
    }

    /// Issue 9 item 15: a re-create of a job that has moved data into its target migrates
    /// everything again over it, and says so; one of a never-started job does not.
    #[test]
    fn re_creates_of_jobs_that_migrated_overwrite_the_target() {
        for desired in ["configured", "running", "completed"] {
            let doc = doc_2018(desired, json!({}));
            for (phase, raw, overwrites) in [
                (Phase::Configured, "1", false),
                (Phase::CheckPassed, "4", false),
                (Phase::CheckFailed, "5", false),
                (Phase::Scheduled, "6", false),
                (Phase::Running, "7", true),
                (Phase::ReadyToComplete, "7", true),
                (Phase::Completed, "9", true),
                (Phase::Failed, "10", true),
                (Phase::Stopped, "11", true),
            ] {
                // A region change re-creates the job in every status.
                let mut observed = present(&doc, phase, raw);
                if let Observed::Present { object, .. } = &mut observed {
                    object.view["DstInfo"]["Region"] = json!("ap-shanghai");
                }
                let actions = plan(&request(&doc, observed, Recorded::default())).unwrap();
                let create = actions
                    .iter()
                    .find(|action| action.kind == Create)
                    .unwrap_or_else(|| panic!("{desired} {raw}: {actions:?}"));
                assert!(
                    create.disruptions.contains(&Disruption::ForcesRecreate),
                    "{desired} {raw}: {create:?}"
                );
                assert_eq!(
                    create.disruptions.contains(&Disruption::OverwritesTarget),
                    overwrites,
                    "{desired} {raw}: {create:?}"
                );
                // Deleting overwrites nothing: only the create carries the marker.
                assert!(
                    actions
                        .iter()
                        .filter(|action| action.kind != Create)
                        .all(|action| !action.disruptions.contains(&Disruption::OverwritesTarget))
                );
            }
        }
        // A completed 2018 job edited in a field ModifyMigrateJob could change in place is
        // re-created (status 9 cannot be modified) over its own data.
        let doc = doc_2018("completed", json!({}));
        let mut observed = present(&doc, Phase::Completed, "9");
        if let Observed::Present { object, .. } = &mut observed {
            object.view["MigrateOption"]["ConsistencyType"] = json!(2);
        }
        let actions = plan(&request(&doc, observed, Recorded::default())).unwrap();
        assert_eq!(kinds(&actions), [Delete, Create, Check, Start, Complete]);
        assert!(actions[1].disruptions.contains(&Disruption::ForcesRecreate));
        assert!(
            actions[1]
                .disruptions
                .contains(&Disruption::OverwritesTarget)
        );
        assert!(
            actions[1].reason.contains("already holds"),
            "{}",
            actions[1].reason
        );
    }

    /// Issue 9 item 8, the DTS side: a job observed elsewhere than the state records is
    /// refused rather than planned from.
    #[test]
    fn a_state_region_that_disagrees_with_the_observation_is_a_plan_error() {
        let doc = doc_2018("completed", json!({}));
        let recorded = Recorded {
            remote_id: Some(RemoteId("dts-1kl0iy0v".into())),
            location: location("ap-shanghai", ApiVersion::V2018),
            ..Recorded::default()
        };
        let observed = present(&doc, Phase::Completed, "9");
        let error = plan(&request(&doc, observed.clone(), recorded)).unwrap_err();
        for part in [
            "ap-shanghai",
            "ap-guangzhou",
            "dts-1kl0iy0v",
            "migspec state rm orders",
        ] {
            assert!(error.message.contains(part), "{part}: {}", error.message);
        }
        let agreeing = Recorded {
            remote_id: Some(RemoteId("dts-1kl0iy0v".into())),
            location: location("ap-guangzhou", ApiVersion::V2018),
            ..Recorded::default()
        };
        assert_eq!(
            plan(&request(&doc, observed.clone(), agreeing)).unwrap(),
            []
        );
        // After a region change deleted the old job, the state keeps its location without an
        // id; the new job, found by its tag, plans normally (crash recovery).
        let deleted = Recorded {
            remote_id: None,
            location: location("ap-shanghai", ApiVersion::V2018),
            ..Recorded::default()
        };
        assert_eq!(plan(&request(&doc, observed, deleted)).unwrap(), []);
    }

    fn untagged(mut observed: Observed, marker: Option<&str>) -> Observed {
        if let Observed::Present { object, .. } = &mut observed {
            object.marker = marker.map(|marker| Address(marker.into()));
        }
        observed
    }

    /// Issue 9 item 14: an imported (untagged) 2021 job is tagged with a `~ modify` while
    /// ModifyMigrationJob can change it; a tag never re-creates, and 2018 plans nothing.
    #[test]
    fn untagged_2021_jobs_are_tagged_by_a_modify_and_never_re_created() {
        let doc = doc_2021("checked", None);
        let actions = plan(&request_2021(
            &doc,
            untagged(present_2021(&doc, Phase::CheckPassed, "checkPass"), None),
            Recorded::default(),
        ))
        .unwrap();
        assert_eq!(kinds(&actions), [Modify, Check]);
        assert_eq!(
            actions[0].changes,
            [FieldChange {
                field: MARKER_FIELD.into(),
                before: ChangeValue::Absent,
                after: ChangeValue::Value(json!("orders")),
                in_place: true,
            }]
        );
        assert!(actions[0].disruptions.is_empty());
        // Another address's tag is replaced, and shown.
        let actions = plan(&request_2021(
            &doc,
            untagged(
                present_2021(&doc, Phase::Configured, "created"),
                Some("other"),
            ),
            Recorded::default(),
        ))
        .unwrap();
        assert_eq!(
            actions[0].changes[0].before,
            ChangeValue::Value(json!("other"))
        );
        // With a configuration change the tag rides along on the same modify.
        let mut changed = untagged(present_2021(&doc, Phase::CheckPassed, "checkPass"), None);
        if let Observed::Present { object, .. } = &mut changed {
            object.view["JobName"] = json!("renamed");
        }
        let actions = plan(&request_2021(&doc, changed, Recorded::default())).unwrap();
        assert_eq!(kinds(&actions), [Modify, Check]);
        let fields: Vec<&str> = actions[0]
            .changes
            .iter()
            .map(|c| c.field.as_str())
            .collect();
        assert_eq!(fields, ["/spec/JobName", MARKER_FIELD]);
        // A started job cannot be modified: the missing tag plans nothing (the runner warns).
        let running = doc_2021("running", None);
        let actions = plan(&request_2021(
            &running,
            untagged(present_2021(&running, Phase::Running, "running"), None),
            Recorded::default(),
        ))
        .unwrap();
        assert_eq!(actions, []);
        // API 2018-03-30 cannot change tags: nothing is planned.
        let doc = doc_2018("configured", json!({}));
        let actions = plan(&request(
            &doc,
            untagged(present(&doc, Phase::Configured, "1"), None),
            Recorded::default(),
        ))
        .unwrap();
        assert_eq!(actions, []);
    }

    #[test]
    fn failed_jobs_resume_within_max_attempts() {
        let doc = doc_2018(
            "running",
            json!({"lifecycle": {"desired": "running", "onFailure": {"action": "resume", "ResumeOption": "normal", "maxAttempts": 2}}}),
        );
        let failed = present(&doc, Phase::Failed, "10");
        let actions = plan(&request(&doc, failed.clone(), Recorded::default())).unwrap();
        assert_eq!(kinds(&actions), [Resume, Start]);
        assert!(
            actions[0].reason.contains("Duplicate entry"),
            "{}",
            actions[0].reason
        );
        let spent = Recorded {
            attempts: 2,
            ..Recorded::default()
        };
        let error = plan(&request(&doc, failed.clone(), spent)).unwrap_err();
        assert!(
            error.message.contains("maxAttempts is 2"),
            "{}",
            error.message
        );
        let no_resume = doc_2018("running", json!({}));
        let error = plan(&request(&no_resume, failed, Recorded::default())).unwrap_err();
        assert!(
            error.message.contains("Duplicate entry"),
            "{}",
            error.message
        );
    }

    #[test]
    fn orphans_are_deleted_only_when_asked() {
        let doc = doc_2018("running", json!({}));
        let mut orphan = request(
            &doc,
            present(&doc, Phase::Running, "7"),
            Recorded::default(),
        );
        orphan.desired = None;
        assert!(plan(&orphan).unwrap().is_empty());
        orphan.orphans = Orphans::Delete;
        assert_eq!(kinds(&plan(&orphan).unwrap()), [Stop, Delete]);
        orphan.observed = Observed::Missing {
            address: Address("orders".into()),
        };
        assert!(plan(&orphan).unwrap().is_empty());
    }

    #[test]
    fn override_root_is_marked_on_create() {
        let doc = doc_2018("configured", json!({}));
        let mut doc = doc;
        doc["spec"]["MigrateOption"]["IsOverrideRoot"] = json!(1);
        let actions = plan(&request(
            &doc,
            Observed::Missing {
                address: Address("orders".into()),
            },
            Recorded::default(),
        ))
        .unwrap();
        assert_eq!(actions[0].disruptions, [Disruption::OverridesRoot]);
    }

    fn doc_2021(desired: &str, on_failure: Option<Value>) -> Value {
        let mut doc = json!({
            "apiVersion": "migspec/v1",
            "kind": "TencentDtsMigrationJob",
            "metadata": {"name": "orders"},
            "spec": {
                "region": "ap-guangzhou",
                "SrcDatabaseType": "redis",
                "DstDatabaseType": "redis",
                "SrcRegion": "ap-guangzhou",
                "DstRegion": "ap-guangzhou",
                "InstanceClass": "small",
                "RunMode": "immediate",
                "MigrateOption": {"DatabaseTable": {"ObjectMode": "all"}},
                "SrcInfo": {"Region": "ap-guangzhou", "AccessType": "cdb", "DatabaseType": "redis", "NodeType": "simple",
                            "Info": [{"InstanceId": "crs-1", "Password": {"fromEnv": "PW"}}]},
                "DstInfo": {"Region": "ap-guangzhou", "AccessType": "cdb", "DatabaseType": "redis", "NodeType": "simple",
                            "Info": [{"InstanceId": "crs-2"}]}
            },
            "lifecycle": {"desired": desired}
        });
        if let Some(on_failure) = on_failure {
            doc["lifecycle"]["onFailure"] = on_failure;
        }
        doc
    }

    fn present_2021(document: &Value, phase: Phase, raw: &str) -> Observed {
        let mut view = document["spec"].clone();
        view["SrcInfo"]["Info"][0]
            .as_object_mut()
            .unwrap()
            .shift_remove("Password");
        Observed::Present {
            address: Address("orders".into()),
            object: Box::new(RemoteObject {
                id: RemoteId("dts-amm1jw5q".into()),
                phase,
                raw_status: raw.into(),
                location: location("ap-guangzhou", ApiVersion::V2021),
                view,
                progress: None,
                failure: (phase == Phase::Failed).then(|| Failure {
                    code: None,
                    message: "sinker broke".into(),
                    details: Vec::new(),
                }),
                revision: None,
                marker: Some(Address("orders".into())),
            }),
        }
    }

    fn request_2021(document: &Value, observed: Observed, recorded: Recorded) -> PlanRequest {
        PlanRequest {
            address: Address("orders".into()),
            desired: Some(DesiredSpec {
                address: Address("orders".into()),
                kind: "TencentDtsMigrationJob".into(),
                document: document.clone(),
                secrets: crate::job::secrets(&[("/spec/SrcInfo/Info/0/Password", "p")]),
            }),
            observed,
            recorded,
            orphans: Orphans::Keep,
        }
    }

    use ActionKind::{Continue, Pause};

    #[test]
    fn paused_and_continued_2021_jobs() {
        let paused = doc_2021("paused", None);
        let actions = plan(&request_2021(
            &paused,
            present_2021(&paused, Phase::ReadyToComplete, "readyComplete"),
            Recorded::default(),
        ))
        .unwrap();
        assert_eq!(kinds(&actions), [Pause]);
        let completed = doc_2021("completed", None);
        let actions = plan(&request_2021(
            &completed,
            present_2021(&completed, Phase::Paused, "manualPaused"),
            Recorded::default(),
        ))
        .unwrap();
        assert_eq!(kinds(&actions), [Continue, Complete]);
        assert!(
            plan(&request_2021(
                &paused,
                present_2021(&paused, Phase::Paused, "manualPaused"),
                Recorded::default()
            ))
            .unwrap()
            .is_empty()
        );
        let stopped = doc_2021("stopped", None);
        let actions = plan(&request_2021(
            &stopped,
            present_2021(&stopped, Phase::Paused, "manualPaused"),
            Recorded::default(),
        ))
        .unwrap();
        assert_eq!(kinds(&actions), [Stop]);
    }

    #[test]
    fn resume_options_mark_their_disruptions() {
        for (option, disruption) in [
            ("overwrite", Some(Disruption::OverwritesTarget)),
            ("clearData", Some(Disruption::ClearsTarget)),
        ] {
            let doc = doc_2021(
                "running",
                Some(json!({"action": "resume", "ResumeOption": option, "maxAttempts": 3})),
            );
            let actions = plan(&request_2021(
                &doc,
                present_2021(&doc, Phase::Failed, "resumableErr"),
                Recorded::default(),
            ))
            .unwrap();
            assert_eq!(kinds(&actions), [Resume], "{option}");
            assert_eq!(
                actions[0].disruptions.first().copied(),
                disruption,
                "{option}"
            );
            assert!(actions[0].reason.contains("sinker broke"));
        }
        // A failed (not resumable) Redis job may be resumed too; another engine may not.
        let doc = doc_2021(
            "running",
            Some(json!({"action": "resume", "ResumeOption": "overwrite"})),
        );
        assert_eq!(
            kinds(
                &plan(&request_2021(
                    &doc,
                    present_2021(&doc, Phase::Failed, "failed"),
                    Recorded::default()
                ))
                .unwrap()
            ),
            [Resume]
        );
        let mut mysql = doc.clone();
        mysql["spec"]["SrcDatabaseType"] = json!("mysql");
        mysql["spec"]["DstDatabaseType"] = json!("mysql");
        mysql["spec"]["SrcInfo"]["DatabaseType"] = json!("mysql");
        mysql["spec"]["DstInfo"]["DatabaseType"] = json!("mysql");
        mysql["lifecycle"]["onFailure"]["ResumeOption"] = json!("normal");
        let error = plan(&request_2021(
            &mysql,
            present_2021(&mysql, Phase::Failed, "failed"),
            Recorded::default(),
        ))
        .unwrap_err();
        assert!(
            error.message.contains("cannot") || error.message.contains("accepts only"),
            "{}",
            error.message
        );
    }

    #[test]
    fn started_2021_jobs_cannot_be_modified_and_are_recreated() {
        let doc = doc_2021("running", None);
        let mut observed = present_2021(&doc, Phase::Running, "running");
        if let Observed::Present { object, .. } = &mut observed {
            object.view["RunMode"] = json!("timed");
        }
        let actions = plan(&request_2021(&doc, observed, Recorded::default())).unwrap();
        assert_eq!(kinds(&actions), [Delete, Delete, Create, Check, Start]);
        assert!(actions[0].disruptions.contains(&Disruption::ForcesRecreate));
        assert!(actions[0].disruptions.contains(&Disruption::NeedsStop));
        assert!(actions[2].changes.iter().all(|change| change.in_place));
        assert!(
            actions[2]
                .disruptions
                .contains(&Disruption::OverwritesTarget)
        );
        // Stopped (canceled) jobs cannot start again either.
        let actions = plan(&request_2021(
            &doc,
            present_2021(&doc, Phase::Stopped, "canceled"),
            Recorded::default(),
        ))
        .unwrap();
        assert_eq!(kinds(&actions), [Delete, Delete, Create, Check, Start]);
        assert!(
            actions[2]
                .disruptions
                .contains(&Disruption::OverwritesTarget)
        );
        // A region change of a 2021 job that never started overwrites nothing.
        let mut configured = present_2021(&doc, Phase::CheckPassed, "checkPass");
        if let Observed::Present { object, .. } = &mut configured {
            object.view["DstRegion"] = json!("ap-shanghai");
        }
        let actions = plan(&request_2021(&doc, configured, Recorded::default())).unwrap();
        assert_eq!(kinds(&actions), [Delete, Delete, Create, Check, Start]);
        assert!(actions[2].disruptions.contains(&Disruption::ForcesRecreate));
        assert!(
            !actions[2]
                .disruptions
                .contains(&Disruption::OverwritesTarget)
        );
        // Configured jobs are modified in place, and bought-but-unconfigured ones too.
        let mut bought = present_2021(&doc, Phase::Configured, "created");
        if let Observed::Present { object, .. } = &mut bought {
            object.view = json!({"region": "ap-guangzhou", "SrcDatabaseType": "redis", "DstDatabaseType": "redis",
                "SrcRegion": "ap-guangzhou", "DstRegion": "ap-guangzhou", "InstanceClass": "small",
                "SrcInfo": {"Region": "ap-guangzhou", "DatabaseType": "redis"},
                "DstInfo": {"Region": "ap-guangzhou", "DatabaseType": "redis"}});
        }
        let actions = plan(&request_2021(&doc, bought, Recorded::default())).unwrap();
        assert_eq!(kinds(&actions), [Modify, Check, Start]);
    }

    #[test]
    fn jobs_deleted_outside_migspec_are_replaced_and_unknown_statuses_refused() {
        let doc = doc_2021("running", None);
        let actions = plan(&request_2021(
            &doc,
            present_2021(&doc, Phase::Isolated, "canceled"),
            Recorded::default(),
        ))
        .unwrap();
        assert_eq!(kinds(&actions), [Delete, Create, Check, Start]);
        let actions = plan(&request_2021(
            &doc,
            present_2021(&doc, Phase::Deleting, "canceled"),
            Recorded::default(),
        ))
        .unwrap();
        assert_eq!(kinds(&actions), [Create, Check, Start]);
        let error = plan(&request_2021(
            &doc,
            present_2021(&doc, Phase::Unknown, "unknown"),
            Recorded::default(),
        ))
        .unwrap_err();
        assert!(error.message.contains("unknown"), "{}", error.message);
        // A spec whose kind changed from the job's API version is refused.
        let doc_2018 = doc_2018("running", json!({}));
        let mut observed = present_2021(&doc, Phase::Running, "running");
        if let Observed::Present { object, .. } = &mut observed {
            object.view = view_of(&doc_2018);
        }
        let error = plan(&request(&doc_2018, observed, Recorded::default())).unwrap_err();
        assert!(error.message.contains("2021-12-06"), "{}", error.message);
    }

    #[test]
    fn stopped_2018_jobs_restart_with_a_new_check_and_failed_checks_are_checked_again() {
        let doc = doc_2018("running", json!({}));
        let actions = plan(&request(
            &doc,
            present(&doc, Phase::Stopped, "10"),
            Recorded::default(),
        ))
        .unwrap();
        assert_eq!(kinds(&actions), [Check, Start]);
        assert!(actions[0].reason.contains("starts over"));
        let actions = plan(&request(
            &doc,
            present(&doc, Phase::CheckFailed, "5"),
            Recorded::default(),
        ))
        .unwrap();
        assert_eq!(kinds(&actions), [Check, Start]);
        assert!(actions[0].reason.contains("Duplicate entry"));
        let configured = doc_2018("configured", json!({}));
        assert!(
            plan(&request(
                &configured,
                present(&configured, Phase::CheckFailed, "5"),
                Recorded::default()
            ))
            .unwrap()
            .is_empty()
        );
    }

    #[test]
    fn the_official_example_shape_has_no_diff_with_its_spec() {
        // A spec written with explicit defaults and JSON strings, against the server's view.
        let mut doc = doc_2018("configured", json!({}));
        doc["spec"]["MigrateOption"]["IsOverrideRoot"] = json!(0);
        doc["spec"]["MigrateOption"]["ExternParams"] = json!("{\"ReplTimeout\":120}");
        doc["spec"]["DatabaseInfo"] = json!("[{\"Database\":\"orders\",\"Table\":[\"orders\"]}]");
        doc["spec"]["SrcNodeType"] = json!("simple");
        let mut observed = present(&doc_2018("configured", json!({})), Phase::Configured, "1");
        if let Observed::Present { object, .. } = &mut observed {
            object.view["MigrateOption"]["ExternParams"] = json!({"ReplTimeout": 120});
        }
        assert!(
            plan(&request(&doc, observed, Recorded::default()))
                .unwrap()
                .is_empty()
        );
    }
}
