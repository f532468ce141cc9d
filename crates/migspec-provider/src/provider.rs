//! The `Provider` trait: what a backend (built in, or a plugin) offers the runner.

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use crate::calls::CallGate;
#[cfg(doc)]
use crate::vocabulary::Wait;
use crate::vocabulary::{
    Action, Address, DesiredSpec, InFlight, Observed, Recorded, RemoteId, Step, StepOutcome,
};

/// The future every async provider call returns (boxed, so the trait stays object-safe and a
/// plugin can sit behind `Box<dyn Provider>`).
pub type ProviderFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, ProviderError>> + Send + 'a>>;

/// What a provider serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Description {
    /// The provider's name (`tencent-dts`, `huawei-oms`, a plugin's name).
    pub name: String,
    /// Its version.
    pub version: String,
    /// The kinds it serves, each with the JSON Schema of the whole document.
    pub kinds: Vec<KindDescription>,
    /// The documented request limits per API action, which the runner's token buckets honour.
    pub rate_limits: Vec<RateLimit>,
}

/// One kind a provider serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindDescription {
    /// The kind name.
    pub kind: String,
    /// The JSON Schema (draft 2020-12) of a document of this kind.
    pub schema: serde_json::Value,
}

/// A documented request limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    /// The API action (`DescribeMigrateJobs`, `list_task_group`), or `*` for every action.
    pub action: String,
    /// Requests per second.
    pub per_second: u32,
}

/// A problem a provider finds in a spec beyond its JSON Schema.
///
/// `field` is a JSON pointer into the whole document (`/spec/MigrateOption/RunMode`);
/// `migspec-schema` maps it to the YAML span of that field (or, for a field that is not
/// written, of the nearest enclosing one), so a plugin's problems are located with
/// file:line:col exactly like the built-in rules'.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// A code such as `tencent::rule::region`.
    pub code: String,
    /// The field, as a JSON pointer into the document (empty: the whole document).
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub help: String,
    /// A short text shown on the field's span (`found 3306`); absent: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Error (the default; the spec set is not planned) or warning.
    #[serde(default, skip_serializing_if = "ProblemSeverity::is_error")]
    pub severity: ProblemSeverity,
}

/// How serious a [`Problem`] is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemSeverity {
    /// The spec cannot be used.
    #[default]
    Error,
    /// Worth a look; does not fail validation.
    Warning,
}

impl ProblemSeverity {
    /// Whether this is [`ProblemSeverity::Error`].
    #[must_use]
    pub const fn is_error(&self) -> bool {
        matches!(self, Self::Error)
    }
}

impl Problem {
    /// An error about the field at `field` (a JSON pointer).
    #[must_use]
    pub fn error(
        code: impl Into<String>,
        field: impl Into<String>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Self {
            code: code.into(),
            field: field.into(),
            message: message.into(),
            help: help.into(),
            label: None,
            severity: ProblemSeverity::Error,
        }
    }

    /// The same, with a label on the field's span.
    #[must_use]
    pub fn labelled(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// The same, as a warning.
    #[must_use]
    pub fn warning(mut self) -> Self {
        self.severity = ProblemSeverity::Warning;
        self
    }
}

/// One thing to observe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObserveTarget {
    /// The address.
    pub address: Address,
    /// The kind.
    pub kind: String,
    /// The remote id from state. `None` asks the provider to find the object by the address
    /// marker it writes at creation (a tag, a description marker): how a create that crashed
    /// before its id was recorded is found again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<RemoteId>,
    /// Where the object lives (provider-specific, e.g. `{"region": "ap-guangzhou"}`), from
    /// the spec or from state for specs that left the set.
    pub location: serde_json::Value,
    /// The object's [`RemoteObject::revision`](crate::RemoteObject::revision) the state recorded at the last apply, with
    /// the view recorded then ([`ObserveTarget::view`]): when the cloud's listing shows the
    /// same revision, what only a per-object read returns (DTS 2021 `MigrateOption`) can be
    /// taken from that view instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The view recorded with [`ObserveTarget::revision`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<serde_json::Value>,
}

/// A batch of things to observe: providers answer it with as few API calls as they can.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ObserveRequest {
    /// The targets.
    pub targets: Vec<ObserveTarget>,
}

/// What `plan` decides from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanRequest {
    /// The address.
    pub address: Address,
    /// The spec, or `None` when the spec left the set.
    pub desired: Option<DesiredSpec>,
    /// What the cloud shows.
    pub observed: Observed,
    /// What the state remembers.
    pub recorded: Recorded,
    /// What to do with a remote object without a spec: delete it (`--prune` or its recorded
    /// `deletionPolicy: delete`) or leave it alone.
    ///
    /// On the wire this stays the boolean `delete_orphan` that plugin protocol 1 has always
    /// carried, so plugins built before the type existed keep reading and writing it.
    #[serde(rename = "delete_orphan", with = "orphans_as_bool")]
    pub orphans: Orphans,
}

/// What `plan` does with a remote object whose spec left the set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Orphans {
    /// Leave it in the cloud (the default: nothing is deleted unless asked for).
    #[default]
    Keep,
    /// Delete it.
    Delete,
}

impl Orphans {
    /// Whether orphans are deleted.
    #[must_use]
    pub fn delete(self) -> bool {
        self == Self::Delete
    }
}

impl From<bool> for Orphans {
    /// `true` (the old `delete_orphan` flag) is [`Orphans::Delete`].
    fn from(delete: bool) -> Self {
        if delete { Self::Delete } else { Self::Keep }
    }
}

/// `PlanRequest::orphans` as the wire's `delete_orphan: bool`.
mod orphans_as_bool {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Orphans;

    pub(super) fn serialize<S: Serializer>(
        orphans: &Orphans,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_bool(orphans.delete())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Orphans, D::Error> {
        bool::deserialize(deserializer).map(Orphans::from)
    }
}

/// What `import` needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportRequest {
    /// The kind to import as.
    pub kind: String,
    /// The address to give the spec.
    pub address: Address,
    /// The remote object.
    pub remote_id: RemoteId,
    /// Where it lives.
    pub location: serde_json::Value,
}

/// What `list` needs (`migspec import --all`): every object of a kind in one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRequest {
    /// The kind to list.
    pub kind: String,
    /// Where to list (`{"region": …}`; `null`: the provider's default).
    pub location: serde_json::Value,
    /// Only objects carrying every one of these tags (`key` → `value`).
    pub tags: std::collections::BTreeMap<String, String>,
}

/// One existing object found by `list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listed {
    /// The cloud's id.
    pub remote_id: RemoteId,
    /// The cloud's own name of it (`JobName`, the task group's name), when it has one.
    pub name: Option<String>,
    /// The address its `migspec:address` marker names, when it carries one.
    pub marker: Option<Address>,
    /// Where it lives (for [`ImportRequest::location`]).
    pub location: serde_json::Value,
}

/// An imported spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Imported {
    /// The spec document, with placeholders (`{fromEnv: …}`) where the API returns no value.
    pub document: serde_json::Value,
    /// Fields the API cannot return (passwords, keys), for the user to fill in.
    pub unreadable: Vec<String>,
}

/// A failed provider call. Problems in the user's spec are [`Problem`]s, not errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProviderError {
    /// The cloud throttled the request; retry after a pause.
    #[error("throttled by {service} ({code}): {message}{}", request(request_id))]
    Throttled {
        /// Which API.
        service: String,
        /// The cloud's code.
        code: String,
        /// The cloud's message.
        message: String,
        /// The cloud's request id.
        request_id: Option<String>,
    },
    /// The cloud failed internally; the request may be retried.
    #[error("{service} internal error ({code}): {message}{}", request(request_id))]
    Internal {
        /// Which API.
        service: String,
        /// The cloud's code.
        code: String,
        /// The cloud's message.
        message: String,
        /// The cloud's request id.
        request_id: Option<String>,
    },
    /// The network failed (connect, timeout, reset); the request may be retried.
    #[error("cannot reach {service} at {endpoint}: {message}")]
    Network {
        /// Which API.
        service: String,
        /// The endpoint.
        endpoint: String,
        /// What failed.
        message: String,
    },
    /// The credentials were refused.
    #[error(
        "{service} refused the credentials ({code}): {message}{}",
        request(request_id)
    )]
    Auth {
        /// Which API.
        service: String,
        /// The cloud's code.
        code: String,
        /// The cloud's message.
        message: String,
        /// The cloud's request id.
        request_id: Option<String>,
    },
    /// The remote object does not exist.
    #[error("{service}: {id} does not exist ({code})")]
    NotFound {
        /// Which API.
        service: String,
        /// The object.
        id: String,
        /// The cloud's code.
        code: String,
    },
    /// The object's state does not allow the operation.
    #[error("{service}: {message} ({code}){}", request(request_id))]
    StateConflict {
        /// Which API.
        service: String,
        /// The cloud's code.
        code: String,
        /// The cloud's message, with the current status.
        message: String,
        /// The cloud's request id.
        request_id: Option<String>,
    },
    /// The object is still settling from an earlier change (an OMS group paused a moment ago
    /// whose tasks are still stopping): the cloud refused this request for now, and the same
    /// request succeeds once the object has settled, so it is retried with backoff like a
    /// throttle (the refused request had no effect).
    #[error("{service}: {message} ({code}){}", request(request_id))]
    Busy {
        /// Which API.
        service: String,
        /// The cloud's code.
        code: String,
        /// The cloud's message, with what it waits for.
        message: String,
        /// The cloud's request id.
        request_id: Option<String>,
    },
    /// The cloud refused the request for good (invalid parameter, quota, permission).
    #[error(
        "{service} refused the request ({code}): {message}{}",
        request(request_id)
    )]
    Rejected {
        /// Which API.
        service: String,
        /// The cloud's code.
        code: String,
        /// The cloud's message, with what to do.
        message: String,
        /// The cloud's request id.
        request_id: Option<String>,
    },
    /// Credentials, endpoint or settings are missing or wrong on our side.
    #[error("{message}")]
    Config {
        /// What is wrong and what to do.
        message: String,
    },
    /// A provider or plugin broke the contract (bad response, panic, wrong ABI).
    #[error("provider contract violated: {message}")]
    Contract {
        /// What happened.
        message: String,
    },
}

fn request(request_id: &Option<String>) -> String {
    request_id
        .as_ref()
        .map_or_else(String::new, |id| format!(" [request {id}]"))
}

impl ProviderError {
    /// Whether repeating the same request may succeed (throttling, a settling object,
    /// internal and network errors). Callers still decide whether the request is safe to
    /// repeat.
    #[must_use]
    pub const fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Throttled { .. }
                | Self::Busy { .. }
                | Self::Internal { .. }
                | Self::Network { .. }
        )
    }
}

/// Why a plan could not be made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("cannot plan {address}: {message}")]
pub struct PlanError {
    /// The address.
    pub address: Address,
    /// Why, and what to do.
    pub message: String,
}

/// A backend that turns specs into remote jobs. Built-in providers are linked statically;
/// plugins implement it through the ABI in [`crate::plugin`].
///
/// # Guarantees (every implementation)
///
/// - `observe` and `poll` answer a whole batch with as few API calls as the API allows, and a
///   missing remote object is [`Observed::Missing`], never an error.
/// - `plan` is pure: no I/O, no clock; the same request gives the same actions.
/// - `apply` performs one step and is idempotent given a fresh observation: a step whose
///   effect is already visible is reported done without calling the API again; a create
///   first looks for the object by its address marker. A step other than a create acts
///   where [`Step::location`] says, never where the step's spec would put the object, and
///   the provider keeps no location of its own between calls.
/// - `plan` never plans a delete or a create from a state that disagrees with what the
///   cloud says about the object it found ([`Recorded::location`]): it returns a
///   [`PlanError`] naming what disagrees and the way out.
/// - Secrets are sent only in request bodies, never logged, never returned.
/// - Every API request is admitted through the [`CallGate`] given to
///   [`Provider::attach_gate`] and reported to it, once per request; the provider keeps no
///   limiter, no backoff and no retry loop of its own (a provider that does not take a gate
///   is admitted as a whole, one admission per trait call, by the runner).
///
/// # Assumptions: the re-apply and retry protocol (what the runner does)
///
/// - The runner owns time. It waits between polls, backs off (one jittered `Backoff`) and
///   retries; a provider never sleeps.
/// - A step that returned a retryable [`ProviderError`] ([`ProviderError::is_retryable`]) is
///   applied again, with backoff, within a retry budget per step and per apply. A
///   [`ProviderError::Throttled`] or [`ProviderError::Busy`] call was refused and had no
///   effect, so the step is simply repeated. An [`ProviderError::Internal`] or
///   [`ProviderError::Network`] error on a create is ambiguous (the object may exist):
///   before repeating, the runner re-observes the
///   address by its marker (`observe` with no remote id) and, when the object is found,
///   repeats the step with the found object's id and location, so the create is never
///   made twice. Other steps are repeated as they are: they are idempotent given the
///   observation they carry.
/// - A step that returned [`StepOutcome::InFlight`] is waited on through the shared poller
///   (holding no concurrency permit), first after [`Wait::poll_after`] (the phase's
///   expected duration; a short default when it is zero), then at growing intervals up to
///   the run's poll interval, and applied again once the wait is satisfied.
/// - `observe` and `poll` are reads: their retryable errors are retried with backoff.
/// - Errors that are not retryable end the step with the error's text.
///
/// # Assumptions
///
/// The re-apply protocol. The runner hands every step the latest observation it has
/// ([`Step::observed`]: the plan's batched observation for the first step of an address, the
/// shared poller's last batch after a wait), and the provider decides from it with **one API
/// call at most** and no read of its own: after a create, check, start or any other call
/// whose effect is asynchronous it returns [`StepOutcome::InFlight`] with the wait, without
/// reading the object back; the runner's shared poller observes it in a batch, and the
/// engine applies the same step again with the poller's observation, which the provider
/// answers `Done` (no call) once the effect is visible. A single-object read is made only
/// when a conflict demands it — the cloud answers that the object's state forbids the call,
/// so the observation may be stale — and each such read says why at the call. An ambiguous
/// create is [`StepOutcome::Unknown`]: the runner re-observes the address by its marker (an
/// [`ObserveTarget`] without a remote id) and applies the step again with what it found. A
/// step without an observation (`None`, from older hosts) is answered by reading the object
/// first, as before.
///
/// # Errors
///
/// Transport, throttling, auth and contract failures are [`ProviderError`]s; a step the
/// cloud refuses for the job's state or data is a [`StepOutcome::Failed`] with the cloud's
/// own message.
pub trait Provider: Send + Sync {
    /// Kinds, schemas, rate limits, version.
    fn describe(&self) -> Description;

    /// Checks a document of one of this provider's kinds beyond its JSON Schema, offline: the
    /// kind's cross-field rules live here, in the provider, not in `migspec-schema`. Called
    /// only for a document that passed the schema of [`Description::kinds`], with the whole
    /// document as JSON (secret references unresolved). No I/O.
    fn validate(&self, kind: &str, document: &serde_json::Value) -> Vec<Problem>;

    /// Where the object of a spec lives (provider-specific, e.g. `{"region": "ap-guangzhou"}`),
    /// for [`ObserveTarget::location`] and for the [`Step::location`] of a step on an object
    /// that does not exist yet (a create). Pure: read from the spec and the provider's
    /// settings. The default is `null`, for providers with a single location.
    ///
    /// An existing object is never located from its spec: its steps carry where it was
    /// observed, so that a spec moved to another region deletes the old object where it is.
    ///
    /// # Errors
    ///
    /// When the spec names no location and the provider has no default (the message says
    /// which setting is missing).
    fn location(&self, desired: &DesiredSpec) -> Result<serde_json::Value, ProviderError> {
        let _ = desired;
        Ok(serde_json::Value::Null)
    }

    /// Hands the provider the runner's [`CallGate`], which every API request is admitted
    /// through from now on. Returns whether the provider admits its own requests; the default
    /// (`false`, e.g. a plugin of protocol 2 behind the ABI) has the runner admit each trait
    /// call as a whole under the provider's declared limits. A plugin of protocol 3 forwards
    /// the gate to its provider over the ABI's host channel ([`crate::plugin`]).
    fn attach_gate(&self, gate: std::sync::Arc<dyn CallGate>) -> bool {
        let _ = gate;
        false
    }

    /// Observes a batch of addresses.
    fn observe(&self, request: ObserveRequest) -> ProviderFuture<'_, Vec<Observed>>;

    /// Plans the ordered actions that bring one address from what is observed to what is
    /// desired.
    ///
    /// # Errors
    ///
    /// When no sequence of actions can get there (the message says what to change).
    fn plan(&self, request: &PlanRequest) -> Result<Vec<Action>, PlanError>;

    /// Performs one step.
    fn apply(&self, step: Step) -> ProviderFuture<'_, StepOutcome>;

    /// Observes every in-flight object in one batched read.
    fn poll(&self, in_flight: Vec<InFlightTarget>) -> ProviderFuture<'_, Vec<Observed>>;

    /// Reads a remote object and writes the spec that would manage it.
    fn import(&self, request: ImportRequest) -> ProviderFuture<'_, Imported>;

    /// Imports several objects (`migspec import --all`), answering in request order, in as
    /// few reads as the API allows (the built-ins read them from one batched listing or
    /// describe per location). The default imports them one at a time, so a plugin that
    /// does not implement it still imports every object.
    ///
    /// # Errors
    ///
    /// The first object that cannot be read or imported (the error names it).
    fn import_many(&self, requests: Vec<ImportRequest>) -> ProviderFuture<'_, Vec<Imported>> {
        Box::pin(async move {
            let mut imported = Vec::with_capacity(requests.len());
            for request in requests {
                imported.push(self.import(request).await?);
            }
            Ok(imported)
        })
    }

    /// Lists the live objects of a kind in a location (`migspec import --all`), in batched,
    /// paged calls. The default says the provider cannot: a plugin that does not implement
    /// it still imports one object at a time.
    fn list(&self, request: ListRequest) -> ProviderFuture<'_, Vec<Listed>> {
        let name = self.describe().name;
        Box::pin(async move {
            Err(ProviderError::Config {
                message: format!(
                    "provider {name} cannot list existing `{}` objects: import them one at a time with `migspec import {} NAME ID`",
                    request.kind, request.kind
                ),
            })
        })
    }
}

/// An in-flight object with the location the poller needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InFlightTarget {
    /// The object.
    pub object: InFlight,
    /// The kind.
    pub kind: String,
    /// Where it lives.
    pub location: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(orphans: Orphans) -> PlanRequest {
        let address = Address("copy".to_owned());
        PlanRequest {
            address: address.clone(),
            desired: None,
            observed: Observed::Missing { address },
            recorded: Recorded::default(),
            orphans,
        }
    }

    #[test]
    fn orphans_cross_the_wire_as_the_old_delete_orphan_bool() {
        for (orphans, flag) in [(Orphans::Keep, false), (Orphans::Delete, true)] {
            let wire = serde_json::to_value(request(orphans)).expect("serialize");
            assert_eq!(wire["delete_orphan"], serde_json::Value::Bool(flag));
            assert!(wire.get("orphans").is_none(), "{wire}");
            let back: PlanRequest = serde_json::from_value(wire).expect("deserialize");
            assert_eq!(back.orphans, orphans);
        }
    }

    #[test]
    fn a_plan_request_without_a_bool_is_refused() {
        let mut wire = serde_json::to_value(request(Orphans::Keep)).expect("serialize");
        wire["delete_orphan"] = serde_json::json!("yes");
        let error = serde_json::from_value::<PlanRequest>(wire).expect_err("a string is no bool");
        assert!(error.to_string().contains("boolean"), "{error}");
    }
}
