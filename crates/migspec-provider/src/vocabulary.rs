//! The plan vocabulary providers and the runner speak: addresses, lifecycle phases, actions
//! with their reasons and disruptions, observations, steps and their outcomes.
//!
//! Every type here is plain serde data, so that the same values cross the plugin ABI as JSON
//! and end up in saved plan files.

use std::collections::BTreeMap;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use migspec_spec::secret::Secret;

/// The address of a migration: its `metadata.name`, unique in the spec set.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct Address(pub String);

// `pad`, not `write_str`: tables and plans align addresses with `{:<width}`.
impl std::fmt::Display for Address {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.pad(&self.0)
    }
}

/// The cloud's identifier of a job or task group (`dts-1kl0iy0v`, an OMS group UUID).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct RemoteId(pub String);

impl std::fmt::Display for RemoteId {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.pad(&self.0)
    }
}

/// Where a remote job is in its lifecycle, in terms common to every provider. Providers map
/// their own statuses onto these (and keep the raw status in [`RemoteObject::raw_status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Being created (DTS 2018 status 1 while the job is new; 2021 `creating`; OMS 0).
    Creating,
    /// Created or configured, not checked (DTS 2018 status 1, 2021 `created`).
    Configured,
    /// The pre-migration check runs.
    Checking,
    /// The check passed: the job may start.
    CheckPassed,
    /// The check failed.
    CheckFailed,
    /// Started, waiting for its start time (timed jobs).
    Scheduled,
    /// Migrating (DTS full phase; OMS 1 and 2).
    Running,
    /// Full data done, replicating increments until completed (DTS only).
    ReadyToComplete,
    /// Being completed.
    Completing,
    /// Finished successfully (terminal).
    Completed,
    /// Being paused.
    Pausing,
    /// Paused (DTS 2021 `manualPaused`, OMS 3).
    Paused,
    /// Being stopped.
    Stopping,
    /// Stopped or canceled by a user (terminal for DTS).
    Stopped,
    /// Failed in a way that can be resumed or retried.
    Failed,
    /// Being resumed or retried.
    Resuming,
    /// Being isolated (DTS 2021 billing state).
    Isolating,
    /// Isolated: billing stopped, may be destroyed or recovered.
    Isolated,
    /// Being deleted.
    Deleting,
    /// A status the provider does not know.
    Unknown,
}

impl Phase {
    /// Whether an object in this phase has moved data into its target already (it started
    /// a migration: running, done, paused, stopped or failed while migrating), so that an
    /// object created in its place migrates again over that data
    /// ([`Disruption::OverwritesTarget`]). One never started (configured, checked,
    /// scheduled, an OMS group still waiting) has not.
    #[must_use]
    pub const fn has_migrated(self) -> bool {
        matches!(
            self,
            Self::Running
                | Self::ReadyToComplete
                | Self::Completing
                | Self::Completed
                | Self::Pausing
                | Self::Paused
                | Self::Stopping
                | Self::Stopped
                | Self::Failed
                | Self::Resuming
        )
    }

    /// Whether the job is still moving by itself (a poll will see a change).
    #[must_use]
    pub const fn is_transitional(self) -> bool {
        matches!(
            self,
            Self::Creating
                | Self::Checking
                | Self::Scheduled
                | Self::Running
                | Self::Completing
                | Self::Pausing
                | Self::Stopping
                | Self::Resuming
                | Self::Isolating
                | Self::Deleting
        )
    }
}

/// The verbs of a plan. Each has one symbol in the human rendering.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// `+ create`: create (and configure) the remote job.
    Create,
    /// `~ modify`: change the job's configuration in place.
    Modify,
    /// `✓ check`: run the pre-migration check.
    Check,
    /// `▶ start`: start the migration.
    Start,
    /// `↻ resume`: resume a failed job (DTS).
    Resume,
    /// `↻ retry`: retry a failed task group (OMS).
    Retry,
    /// `■ complete`: complete a job that replicates increments.
    Complete,
    /// `⏸ pause`: pause a running job.
    Pause,
    /// `▷ continue`: continue a paused job.
    Continue,
    /// `□ stop`: stop (terminate) a job.
    Stop,
    /// `- delete`: delete the remote job.
    Delete,
}

impl ActionKind {
    /// The symbol and verb the human plan shows.
    #[must_use]
    pub const fn symbol(self) -> &'static str {
        match self {
            Self::Create => "+",
            Self::Modify => "~",
            Self::Check => "✓",
            Self::Start => "▶",
            Self::Resume | Self::Retry => "↻",
            Self::Complete => "■",
            Self::Pause => "⏸",
            Self::Continue => "▷",
            Self::Stop => "□",
            Self::Delete => "-",
        }
    }

    /// The verb, as written in plans (`create`, `resume`, …).
    #[must_use]
    pub const fn verb(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Modify => "modify",
            Self::Check => "check",
            Self::Start => "start",
            Self::Resume => "resume",
            Self::Retry => "retry",
            Self::Complete => "complete",
            Self::Pause => "pause",
            Self::Continue => "continue",
            Self::Stop => "stop",
            Self::Delete => "delete",
        }
    }
}

/// Something an action does that a reviewer must see before approving it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Disruption {
    /// The running job must be stopped first (and its migration starts over).
    NeedsStop,
    /// The running job must be paused first.
    NeedsPause,
    /// The API cannot change this in place: the remote object is deleted and created anew.
    ForcesRecreate,
    /// Data at the target is overwritten (ResumeOption overwrite, FULL_OVERWRITE).
    OverwritesTarget,
    /// The target's data is cleared first (ResumeOption clearData).
    ClearsTarget,
    /// The target's root account is overwritten with the source's (IsOverrideRoot).
    OverridesRoot,
}

impl Disruption {
    /// A short text for the plan.
    #[must_use]
    pub const fn describe(self) -> &'static str {
        match self {
            Self::NeedsStop => "needs stop: the running migration is stopped and starts over",
            Self::NeedsPause => "needs pause",
            Self::ForcesRecreate => {
                "forces re-create: the remote object is deleted and created again"
            }
            Self::OverwritesTarget => "overwrites target data",
            Self::ClearsTarget => "clears the target's data first",
            Self::OverridesRoot => "overwrites the target's root account",
        }
    }
}

/// A value in a field-level change. Secrets are never carried, only whether they changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum ChangeValue {
    /// The field is absent.
    Absent,
    /// A plain value.
    Value(serde_json::Value),
    /// A secret; its value is never shown.
    Sensitive,
    /// A secret migspec never sent to this object (it was imported, and the API never
    /// returns secrets): its value there is unknown, and the apply sends it.
    Unknown,
}

/// One field that differs between what the spec asks and what the cloud has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FieldChange {
    /// The field, as a JSON pointer into the spec document (`/spec/MigrateOption/RunMode`).
    pub field: String,
    /// What the cloud (or, for secrets, the last apply) has.
    pub before: ChangeValue,
    /// What the spec asks.
    pub after: ChangeValue,
    /// Whether the API can change it in place (else the plan carries `ForcesRecreate`).
    pub in_place: bool,
}

/// One action of a plan, with why it is there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Action {
    /// The verb.
    pub kind: ActionKind,
    /// Why this action is planned, for people. Display only: the runner never reads it.
    pub reason: String,
    /// For `modify` (and `create` after a forced re-create): the fields that change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    /// What the action disrupts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disruptions: Vec<Disruption>,
}

impl Action {
    /// An action with a reason and nothing else.
    #[must_use]
    pub fn new(kind: ActionKind, reason: impl Into<String>) -> Self {
        Self {
            kind,
            reason: reason.into(),
            changes: Vec::new(),
            disruptions: Vec::new(),
        }
    }

    /// Adds a disruption marker.
    #[must_use]
    pub fn disrupting(mut self, disruption: Disruption) -> Self {
        if !self.disruptions.contains(&disruption) {
            self.disruptions.push(disruption);
        }
        self
    }

    /// Adds field changes.
    #[must_use]
    pub fn with_changes(mut self, changes: Vec<FieldChange>) -> Self {
        self.changes = changes;
        self
    }
}

/// A spec as the runner hands it to a provider: the validated document as JSON, plus the
/// values of its secrets (resolved by the runner; never persisted, never rendered).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DesiredSpec {
    /// The address.
    pub address: Address,
    /// The kind (`TencentDtsMigrateJob`, …, or a plugin's kind).
    pub kind: String,
    /// The whole document (`apiVersion`, `kind`, `metadata`, `spec`, `lifecycle`) as JSON.
    pub document: serde_json::Value,
    /// Secret values by JSON pointer into `document` (e.g. `/spec/SrcInfo/Password`).
    #[serde(default, with = "secret_map")]
    pub secrets: BTreeMap<String, Secret>,
}

/// What the runner's state remembers about an address (the APIs cannot tell these).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    /// The remote id last applied.
    pub remote_id: Option<RemoteId>,
    /// Secret pointers whose value changed since the last apply (from salted fingerprints).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed_secrets: Vec<String>,
    /// Resumes or retries already spent on the current failure.
    #[serde(default)]
    pub attempts: u32,
    /// Where the state says the object lives (`location` of its state record; `null` when
    /// the state has none). A provider compares it with what the cloud reports about the
    /// object and refuses to plan (a [`crate::PlanError`]) when they disagree, rather than
    /// planning a delete or a create from a wrong state.
    #[serde(default)]
    pub location: serde_json::Value,
}

/// A remote object as observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RemoteObject {
    /// The cloud's id.
    pub id: RemoteId,
    /// The lifecycle phase.
    pub phase: Phase,
    /// The cloud's own status, verbatim (`7`, `readyComplete`, `2`).
    pub raw_status: String,
    /// Where the object lives (provider-specific, e.g. `{"region": "ap-guangzhou"}`); the
    /// runner records it in state and hands it back for later observations.
    pub location: serde_json::Value,
    /// The configuration the cloud reports, normalised and shaped like the spec's `spec`
    /// (server defaults removed, secrets absent), so that it diffs against the spec.
    pub view: serde_json::Value,
    /// Progress, when the job moves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<Progress>,
    /// Why the job failed (or its check did), in the provider's own words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// The address the object's own marker names (a DTS `migspec:address` tag, an OMS
    /// description marker); `None` when the object carries none (created outside migspec,
    /// imported). A provider that can rewrite the marker plans a `~ modify` with a
    /// [`MARKER_FIELD`] change when it is not the address; the runner warns otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<Address>,
    /// What says whether the part of the view only a per-object read returns may have
    /// changed (DTS 2021: `started <StartTime>`, as a started job's `MigrateOption` can no
    /// longer change; `None` for a job not yet started, read every time), when the provider
    /// has such a mark: the runner records it with the view after an apply and hands it
    /// back ([`crate::ObserveTarget::revision`]), so a provider can skip reading what has
    /// not changed since. Equal revisions must mean an equal view of that part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
}

/// The key of the address marker every provider puts on what it creates: a DTS tag key, the
/// `<key>=<address>` suffix of an OMS description. One key, so that `import --all`, the
/// runner's warnings and every provider agree on what marks an object as migspec's.
pub const MARKER_KEY: &str = "migspec:address";

/// The [`FieldChange::field`] of a planned `~ modify` that (re)writes the object's address
/// marker (a tag, a description marker) rather than a field of the spec. Its `before` is the
/// address the object's marker names now ([`ChangeValue::Absent`] when it has none), its
/// `after` the address.
pub const MARKER_FIELD: &str = "/metadata/migspec:address";

/// What is known about one address after an observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "presence", rename_all = "snake_case")]
pub enum Observed {
    /// No remote object: never created, or deleted outside migspec. A normal answer.
    Missing {
        /// The address.
        address: Address,
    },
    /// The remote object.
    Present {
        /// The address.
        address: Address,
        /// What the cloud reports.
        object: Box<RemoteObject>,
    },
}

impl Observed {
    /// The address observed.
    #[must_use]
    pub fn address(&self) -> &Address {
        match self {
            Self::Missing { address } | Self::Present { address, .. } => address,
        }
    }

    /// The remote object, if there is one.
    #[must_use]
    pub fn object(&self) -> Option<&RemoteObject> {
        match self {
            Self::Missing { .. } => None,
            Self::Present { object, .. } => Some(object),
        }
    }
}

/// Progress of a moving job.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Progress {
    /// Overall percentage, when the API gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<f64>,
    /// The current step (`dumper`, `loader`, `sinker`, `ConnectDBCheck`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// A short human message (e.g. `12,345 of 50,000 objects`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A failure reported by the cloud, verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Failure {
    /// The cloud's code, if any (`OMS.0063`, `TRF.0001`, a DTS error code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The cloud's message.
    pub message: String,
    /// Details such as failed check steps, one per line.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

/// One step of an apply: an action for one address.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    /// The address.
    pub address: Address,
    /// What to do.
    pub action: Action,
    /// The remote object, when it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<RemoteId>,
    /// Where the step acts (provider-specific, e.g. `{"region": "ap-guangzhou"}`): for an
    /// existing object, where it was observed (from state and the observation), never from
    /// the new spec, so that a delete after a region change acts on the old region; for a
    /// create, where the spec puts it. `null` from hosts older than this field.
    #[serde(default)]
    pub location: serde_json::Value,
    /// The spec, for actions that send configuration (create, modify, resume, retry, start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired: Option<DesiredSpec>,
    /// A key unique to this step of this plan; a repeated key must not repeat the effect.
    pub idempotency_key: String,
    /// The latest observation the runner has of the address: from the plan's batched
    /// observation, the shared poller's last batch, or the re-observation after an
    /// [`StepOutcome::Unknown`]. A provider decides from it instead of reading the object
    /// again (see the re-apply protocol on [`crate::Provider`]). `None` from hosts older than
    /// this field: the provider then reads the object itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<Observed>,
}

/// What a step did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum StepOutcome {
    /// The step is complete; the observation after it.
    Done {
        /// What the cloud shows now.
        observed: Observed,
    },
    /// The cloud accepted the step and works on it; poll until one of `awaiting`.
    InFlight {
        /// What the cloud shows now.
        observed: Observed,
        /// The wait.
        wait: Wait,
    },
    /// The step cannot succeed: the cloud's reason.
    Failed {
        /// What the cloud showed last.
        observed: Observed,
        /// Why.
        failure: Failure,
    },
    /// A create whose request may or may not have taken effect (a timeout, a lost
    /// connection, an internal error): the runner re-observes the address by its marker in a
    /// batch and applies the step again with that observation, so the object is adopted if
    /// it exists and created if it does not, never twice.
    Unknown {
        /// The error that made the outcome ambiguous, for the report when the runner gives up.
        error: crate::ProviderError,
    },
}

/// What an in-flight step waits for, as data (so plugins need no callback).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wait {
    /// Phases that finish the step.
    pub until: Vec<Phase>,
    /// Phases that fail it (fail fast, with the object's `failure`).
    pub fail_on: Vec<Phase>,
    /// Whether the object disappearing finishes the step (deletes).
    #[serde(default)]
    pub until_missing: bool,
    /// How long to wait before the first poll.
    #[serde(with = "millis")]
    pub poll_after: Duration,
}

/// Where an observation stands against a [`Wait`]: the one reading of a wait that providers
/// (answering a step from what they know) and the runner (judging each poll) share.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WaitVerdict<'a> {
    /// The wait is over: a phase in `until`, or the object gone when `until_missing`.
    Satisfied,
    /// The object reached a phase in `fail_on` (its failure, if the cloud gave one, is on it).
    Failed(&'a RemoteObject),
    /// The object disappeared while the wait wanted it to stay.
    Vanished,
    /// Not yet: keep waiting.
    Pending,
}

impl Wait {
    /// Where `observed` stands against this wait. `until` is read before `fail_on`, so a
    /// phase in both ends the wait.
    #[must_use]
    pub fn verdict<'a>(&self, observed: &'a Observed) -> WaitVerdict<'a> {
        match observed.object() {
            None if self.until_missing => WaitVerdict::Satisfied,
            None => WaitVerdict::Vanished,
            Some(object) if self.until.contains(&object.phase) => WaitVerdict::Satisfied,
            Some(object) if self.fail_on.contains(&object.phase) => WaitVerdict::Failed(object),
            Some(_) => WaitVerdict::Pending,
        }
    }
}

/// An in-flight step, as the shared poller tracks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InFlight {
    /// The address.
    pub address: Address,
    /// The remote object.
    pub remote_id: RemoteId,
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        value: &Duration,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(u64::try_from(value.as_millis()).unwrap_or(u64::MAX))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(deserializer)?))
    }
}

mod secret_map {
    //! Secrets cross the plugin ABI in memory only; this is the one place they serialize.
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use migspec_spec::secret::Secret;

    pub(super) fn serialize<S: Serializer>(
        value: &BTreeMap<String, Secret>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let plain: BTreeMap<&str, &str> = value
            .iter()
            .map(|(pointer, secret)| (pointer.as_str(), secret.expose()))
            .collect();
        plain.serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<String, Secret>, D::Error> {
        let plain = BTreeMap::<String, String>::deserialize(deserializer)?;
        Ok(plain
            .into_iter()
            .map(|(pointer, value)| (pointer, Secret::new(value)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(phase: Option<Phase>) -> Observed {
        let address = Address("copy".to_owned());
        match phase {
            None => Observed::Missing { address },
            Some(phase) => Observed::Present {
                address,
                object: Box::new(RemoteObject {
                    id: RemoteId("job-1".to_owned()),
                    phase,
                    raw_status: format!("{phase:?}"),
                    location: serde_json::Value::Null,
                    view: serde_json::Value::Null,
                    progress: None,
                    failure: None,
                    revision: None,
                    marker: None,
                }),
            },
        }
    }

    #[test]
    fn a_wait_reads_an_observation_as_satisfied_failed_vanished_or_pending() {
        let running = Wait {
            until: vec![Phase::Running, Phase::Completed],
            fail_on: vec![Phase::Failed, Phase::Completed],
            until_missing: false,
            poll_after: Duration::from_secs(1),
        };
        assert_eq!(
            running.verdict(&at(Some(Phase::Running))),
            WaitVerdict::Satisfied
        );
        assert_eq!(
            running.verdict(&at(Some(Phase::Completed))),
            WaitVerdict::Satisfied,
            "until wins over fail_on"
        );
        let failed = at(Some(Phase::Failed));
        assert!(
            matches!(running.verdict(&failed), WaitVerdict::Failed(object) if object.id.0 == "job-1"),
            "{:?}",
            running.verdict(&failed)
        );
        assert_eq!(
            running.verdict(&at(Some(Phase::Creating))),
            WaitVerdict::Pending
        );
        assert_eq!(running.verdict(&at(None)), WaitVerdict::Vanished);
        let gone = Wait {
            until: Vec::new(),
            fail_on: Vec::new(),
            until_missing: true,
            ..running
        };
        assert_eq!(gone.verdict(&at(None)), WaitVerdict::Satisfied);
        assert_eq!(
            gone.verdict(&at(Some(Phase::Deleting))),
            WaitVerdict::Pending
        );
    }

    #[test]
    fn addresses_and_ids_honour_width_and_alignment() {
        assert_eq!(format!("[{:<6}]", Address("ab".into())), "[ab    ]");
        assert_eq!(format!("[{:>5}]", RemoteId("x".into())), "[    x]");
        assert_eq!(format!("[{:<1}]", Address("long".into())), "[long]");
    }

    #[test]
    fn outcomes_round_trip_as_json() {
        let outcome = StepOutcome::InFlight {
            observed: Observed::Missing {
                address: Address("a".into()),
            },
            wait: Wait {
                until: vec![Phase::CheckPassed],
                fail_on: vec![Phase::CheckFailed],
                until_missing: false,
                poll_after: Duration::from_millis(250),
            },
        };
        let json = serde_json::to_value(&outcome).unwrap();
        assert_eq!(json["outcome"], "in_flight");
        assert_eq!(json["wait"]["poll_after"], 250);
        assert_eq!(
            serde_json::from_value::<StepOutcome>(json).unwrap(),
            outcome
        );
    }

    /// Messages from hosts and plugins built before `Step::location`, `Recorded::location`
    /// and `RemoteObject::marker` still read, and an absent marker is not written.
    #[test]
    fn the_location_and_marker_fields_are_optional_on_the_wire() {
        let step: Step = serde_json::from_value(serde_json::json!({
            "address": "a",
            "action": {"kind": "delete", "reason": "r"},
            "remote_id": "id",
            "idempotency_key": "k"
        }))
        .unwrap();
        assert_eq!(step.location, serde_json::Value::Null);
        let recorded: Recorded =
            serde_json::from_value(serde_json::json!({"remote_id": "id"})).unwrap();
        assert_eq!(recorded.location, serde_json::Value::Null);
        let object: RemoteObject = serde_json::from_value(serde_json::json!({
            "id": "id", "phase": "running", "raw_status": "7",
            "location": {"region": "r"}, "view": {}
        }))
        .unwrap();
        assert_eq!(object.marker, None);
        assert!(
            serde_json::to_value(&object)
                .unwrap()
                .get("marker")
                .is_none()
        );
        let tagged = RemoteObject {
            marker: Some(Address("a".into())),
            ..object
        };
        assert_eq!(serde_json::to_value(&tagged).unwrap()["marker"], "a");
        assert!(MARKER_FIELD.starts_with("/metadata/"));
    }

    #[test]
    fn desired_specs_carry_secrets_only_in_their_serialized_form() {
        let mut secrets = BTreeMap::new();
        secrets.insert("/spec/SrcInfo/Password".to_owned(), Secret::new("pw"));
        let desired = DesiredSpec {
            address: Address("a".into()),
            kind: "TencentDtsMigrateJob".into(),
            document: serde_json::json!({}),
            secrets,
        };
        assert!(!format!("{desired:?}").contains("pw"));
        let json = serde_json::to_value(&desired).unwrap();
        let back: DesiredSpec = serde_json::from_value(json).unwrap();
        assert_eq!(back.secrets["/spec/SrcInfo/Password"].expose(), "pw");
    }
}
