//! State: what the cloud APIs cannot tell us.
//!
//! Per address: the remote id, kind and location, salted fingerprints of the secrets last
//! applied, a hash of the spec last applied, the deletion policy, resume/retry attempts; and a
//! journal of intents (written *before* a create, so a crash between the create and its
//! record is recovered by finding the tagged job) and completed steps.
//!
//! Backends implement [`StateBackend`] (read, lock, force-unlock) and [`HeldState`] (write
//! under the lock; record one step). The embedded backend is [`LocalState`]
//! (`.migspec/state.json` next to the spec root: a `serial` that increases on every write, a
//! `lineage` that identifies the state across copies, and an OS file lock
//! (`.migspec/state.lock`, holding who took it) for the whole of an apply).

mod local;
mod postgres;

pub use local::{LocalState, Replay, StateLock};
pub use postgres::{DEFAULT_SCHEMA, MIGRATIONS, PostgresState, redact_url};

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use migspec_provider::{Address, RemoteId};
use migspec_spec::model::DeletionPolicy;

/// The version of the state file format.
pub const STATE_FORMAT_VERSION: u32 = 1;

/// The whole state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Format version of this file.
    pub format_version: u32,
    /// Identifies this state across copies; a plan made from another lineage is refused.
    pub lineage: String,
    /// Increases on every write; a plan made from an older serial is stale.
    pub serial: u64,
    /// Salt of the secret fingerprints (random per state, never shared).
    pub salt: String,
    /// What is known per address.
    #[serde(default)]
    pub resources: BTreeMap<Address, Resource>,
    /// Intents and completed steps, oldest first.
    #[serde(default)]
    pub journal: Vec<JournalEntry>,
    /// Saved plans applied with this state, oldest first (the last [`PLANS_KEEP`]): a saved
    /// plan is applied at most once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied_plans: Vec<AppliedPlan>,
    /// Fields this migspec does not know (a newer one wrote them), kept so that a write
    /// does not lose them. Filled by [`LocalState::read`], put back by its write.
    #[serde(skip)]
    pub unknown: UnknownFields,
}

/// Fields of a state file that this migspec does not know, by where they were found.
///
/// A newer migspec may add fields at the top level, per resource or per journal entry; an
/// older one keeps them as they were (it cannot know what they mean, so it never changes
/// them). A resource's fields go with its address (`state mv` moves them, a forgotten
/// address drops them) for as long as it records the same remote object: they describe
/// that object, so a record whose remote id changed (the object was re-created) drops them.
/// A journal entry's stay with that entry for as long as it is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnknownFields {
    /// Top-level fields.
    pub top: serde_json::Map<String, serde_json::Value>,
    /// Per resource, by address, with the remote id the record had when they were read.
    pub resources:
        BTreeMap<Address, (Option<RemoteId>, serde_json::Map<String, serde_json::Value>)>,
    /// Per journal entry, keyed by the entry's known fields as JSON (entries are only ever
    /// appended or dropped from the front, never edited).
    pub journal: Vec<(String, serde_json::Map<String, serde_json::Value>)>,
}

impl UnknownFields {
    /// The fields of `raw` (a state file's JSON) that `state` (read from it) does not hold.
    pub(crate) fn between(raw: &serde_json::Value, state: &State) -> Self {
        let known = serde_json::to_value(state).expect("state serializes");
        let mut unknown = Self {
            top: extra_fields(raw, &known),
            ..Self::default()
        };
        for (address, resource) in &state.resources {
            let known = serde_json::to_value(resource).expect("resource serializes");
            let extra = extra_fields(&raw["resources"][&address.0], &known);
            if !extra.is_empty() {
                unknown
                    .resources
                    .insert(address.clone(), (resource.remote_id.clone(), extra));
            }
        }
        for (index, entry) in state.journal.iter().enumerate() {
            let known = serde_json::to_value(entry).expect("journal entry serializes");
            let extra = extra_fields(&raw["journal"][index], &known);
            if !extra.is_empty() {
                unknown.journal.push((known.to_string(), extra));
            }
        }
        unknown
    }

    /// Puts the fields back into `value`, the JSON of `state`, without overriding any.
    pub(crate) fn merge_into(&self, state: &State, value: &mut serde_json::Value) {
        let add = |target: &mut serde_json::Value,
                   extra: &serde_json::Map<String, serde_json::Value>| {
            if let Some(object) = target.as_object_mut() {
                for (name, field) in extra {
                    object.entry(name.clone()).or_insert_with(|| field.clone());
                }
            }
        };
        add(value, &self.top);
        for (address, (remote_id, extra)) in &self.resources {
            let same_object = state.resources.get(address).is_some_and(|resource| {
                remote_id.is_none() || resource.remote_id.as_ref() == remote_id.as_ref()
            });
            if same_object
                && let Some(target) = value
                    .get_mut("resources")
                    .and_then(|resources| resources.get_mut(&address.0))
            {
                add(target, extra);
            }
        }
        if self.journal.is_empty() {
            return;
        }
        let mut pending: std::collections::HashMap<&str, std::collections::VecDeque<_>> =
            std::collections::HashMap::new();
        for (key, extra) in &self.journal {
            pending.entry(key.as_str()).or_default().push_back(extra);
        }
        for (index, entry) in state.journal.iter().enumerate() {
            let key = serde_json::to_value(entry)
                .expect("journal entry serializes")
                .to_string();
            if let Some(extra) = pending
                .get_mut(key.as_str())
                .and_then(std::collections::VecDeque::pop_front)
                && let Some(target) = value
                    .get_mut("journal")
                    .and_then(|journal| journal.get_mut(index))
            {
                add(target, extra);
            }
        }
    }
}

/// The fields of the object `raw` that `known` does not have.
fn extra_fields(
    raw: &serde_json::Value,
    known: &serde_json::Value,
) -> serde_json::Map<String, serde_json::Value> {
    let Some(raw) = raw.as_object() else {
        return serde_json::Map::new();
    };
    raw.iter()
        .filter(|(name, _)| known.get(name.as_str()).is_none())
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

impl State {
    /// A new, empty state with a fresh lineage and salt.
    #[must_use]
    pub fn new() -> Self {
        Self {
            format_version: STATE_FORMAT_VERSION,
            lineage: uuid::Uuid::new_v4().to_string(),
            serial: 0,
            salt: uuid::Uuid::new_v4().simple().to_string(),
            resources: BTreeMap::new(),
            journal: Vec::new(),
            applied_plans: Vec::new(),
            unknown: UnknownFields::default(),
        }
    }

    /// Moves the record of `from` to `to`, with the fields this migspec does not know, and
    /// journals the move (the entries written under `from` stay as they were: they are what
    /// happened under that name). Returns the record moved, or `None` when `from` is not
    /// recorded; an existing record of `to` is never replaced.
    pub fn rename(&mut self, from: &Address, to: &Address) -> Option<&Resource> {
        if self.resources.contains_key(to) {
            return None;
        }
        let resource = self.resources.remove(from)?;
        if let Some(extra) = self.unknown.resources.remove(from) {
            self.unknown.resources.insert(to.clone(), extra);
        }
        self.journal.push(JournalEntry {
            at: now_rfc3339(),
            address: to.clone(),
            action: "state mv".to_owned(),
            key: format!("{}:state-mv:{from}:{to}", self.lineage),
            status: JournalStatus::Done,
            remote_id: resource.remote_id.clone(),
        });
        self.resources.insert(to.clone(), resource);
        self.resources.get(to)
    }
}

impl Default for State {
    fn default() -> Self {
        Self::new()
    }
}

/// What the state remembers about one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// The kind of the spec.
    pub kind: String,
    /// The remote id, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<RemoteId>,
    /// Where the object lives (provider-specific).
    #[serde(default)]
    pub location: serde_json::Value,
    /// Salted SHA-256 of every secret last applied, by JSON pointer.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secret_fingerprints: BTreeMap<String, String>,
    /// SHA-256 of the spec document last applied (secrets are references, not values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_spec_hash: Option<String>,
    /// `lifecycle.deletionPolicy` of the spec last applied, when it said one: `delete`
    /// deletes the object once the spec leaves the set, `orphan` keeps it even with
    /// `--prune`; absent, `--prune` decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<DeletionPolicy>,
    /// The spec file last applied, relative to the project root (see `scope`): a run over
    /// other paths leaves this address alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The last applied spec's configuration hash with its name masked (a likely rename is
    /// a create of the same hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_hash: Option<String>,
    /// Resumes or retries spent on the current failure.
    #[serde(default)]
    pub attempts: u32,
    /// The configuration the cloud reported when the last apply finished (no secrets: views
    /// never carry them); a later difference is drift, a change made outside migspec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_view: Option<serde_json::Value>,
    /// Adopted with `import --all --secrets-in-use`: the user vouched that the values the
    /// spec's secret references resolve to are the ones the object uses, so secrets without
    /// a fingerprint plan as unchanged instead of unknown. Cleared once migspec sends them
    /// (their fingerprints are recorded then, and changes are detected from there on).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secrets_in_use: bool,
    /// The object's revision (`RemoteObject::revision`) when `applied_view` was recorded:
    /// a later observation showing the same revision may reuse what only a per-object read
    /// returns from that view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_revision: Option<String>,
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// RFC 3339 time.
    pub at: String,
    /// The address.
    pub address: Address,
    /// The action verb.
    pub action: String,
    /// The step's idempotency key.
    pub key: String,
    /// `intent` before the call, then `done` or `failed`.
    pub status: JournalStatus,
    /// The remote id, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<RemoteId>,
}

/// Where a journaled step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalStatus {
    /// About to call the cloud.
    Intent,
    /// The step finished.
    Done,
    /// The step failed.
    Failed,
}

/// Who holds the lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// Process id.
    pub pid: u32,
    /// Host name.
    pub host: String,
    /// The command line.
    pub command: String,
    /// When it was taken (RFC 3339).
    pub since: String,
}

impl LockInfo {
    /// Information about this process.
    #[must_use]
    pub fn current(command: impl Into<String>) -> Self {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|name| name.trim().to_owned())
            .or_else(|_| std::env::var("HOSTNAME"))
            .unwrap_or_else(|_| "unknown".to_owned());
        Self {
            pid: std::process::id(),
            host,
            command: command.into(),
            since: now_rfc3339(),
        }
    }
}

/// The current time as RFC 3339 (UTC, seconds).
#[must_use]
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// A state operation that failed. Every message names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The state file could not be read or written.
    #[error("cannot {action} state file {}: {source}", path.display())]
    Io {
        /// `read`, `write`, `lock`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The state file is not valid JSON of the state format.
    #[error(
        "state file {} is unreadable: {message}; restore it from version control or a backup (it is never rewritten while unreadable)",
        path.display()
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The state file is of a newer format: it is neither read nor written.
    #[error("state file {} has format version {found}; this migspec reads and writes up to {STATE_FORMAT_VERSION}: upgrade migspec (the file is left as it is)", path.display())]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u64,
    },
    /// The state file has no usable `format_version` (missing, 0, not a whole number).
    #[error(
        "state file {} {}; every migspec state has format version {STATE_FORMAT_VERSION} or later: restore it from version control or a backup (it is never rewritten while unreadable)",
        path.display(),
        match found {
            None => "has no format_version".to_owned(),
            Some(value) => format!("has format version {value}, which no migspec writes"),
        }
    )]
    BadVersion {
        /// The file.
        path: PathBuf,
        /// The value found (JSON), `None` when the field is missing.
        found: Option<String>,
    },
    /// A live process holds the lock: the OS lock is held, so its holder has not exited.
    #[error(
        "state {} is locked by pid {} on {} since {} (`{}`), which is still running (it holds the OS lock); wait for it to finish, or stop that process: the OS releases the lock of a process that is gone",
        path.display(), holder.pid, holder.host, holder.since, holder.command
    )]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// Who holds it.
        holder: LockInfo,
    },
    /// The state database refused a statement or could not be reached.
    #[error(
        "state database {url}: cannot {action}: {message}; check the state URL (MIGSPEC_STATE_URL or state.url in migspec.yaml), that the server is up and that its role may create and use the schema"
    )]
    Database {
        /// The database URL, its password removed.
        url: String,
        /// What failed: `read the state`, `take the lock`, `record a step`, …
        action: &'static str,
        /// The server's (or the client's) message.
        message: String,
    },
    /// The connection to the state database closed (server restart, network, a terminated
    /// session): nothing more can be recorded, and the advisory lock is gone with it.
    #[error(
        "lost the connection to state database {url} (could not {action}): {message}; no more steps were recorded, and the lock went with the session: re-run the command (every step recorded before is kept, and a re-run continues from there)"
    )]
    ConnectionLost {
        /// The database URL, its password removed.
        url: String,
        /// What failed: `record a step`, …
        action: &'static str,
        /// The client's message.
        message: String,
    },
    /// The database's state schema was migrated by a newer migspec.
    #[error(
        "state database {url} has schema `{schema}` at version {found}; this migspec knows up to version {known}: upgrade migspec (the database is left as it is)"
    )]
    SchemaTooNew {
        /// The database URL, its password removed.
        url: String,
        /// The schema.
        schema: String,
        /// The version found.
        found: i32,
        /// The newest version this migspec knows.
        known: i32,
    },
    /// Another session holds the database's advisory lock.
    #[error(
        "state database {url} (schema `{schema}`) is locked by pid {} on {} since {} (`{}`), whose session still holds the advisory lock; wait for it (`--lock-timeout 10m`), or stop that process: the server releases the lock when its session ends",
        holder.pid, holder.host, holder.since, holder.command
    )]
    DatabaseLocked {
        /// The database URL, its password removed.
        url: String,
        /// The schema.
        schema: String,
        /// Who holds it ("unknown" fields when the holder has not written itself yet);
        /// boxed to keep `StateError` small.
        holder: Box<LockInfo>,
    },
    /// The state settings are unusable (a bad URL, schema name or TLS setting).
    #[error("state backend {url}: {message}")]
    Settings {
        /// The database URL, its password removed.
        url: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// The state changed since it was read (someone else wrote it).
    #[error(
        "state file {} changed while this run held it (serial {expected} expected, {found} found); re-run the command",
        path.display()
    )]
    Conflict {
        /// The file.
        path: PathBuf,
        /// The serial we read.
        expected: u64,
        /// The serial now on disk.
        found: u64,
    },
}

impl StateError {
    /// A database error, classified: a closed connection is [`StateError::ConnectionLost`].
    pub(crate) fn database(url: &str, action: &'static str, error: &tokio_postgres::Error) -> Self {
        let message = match error.as_db_error() {
            Some(db) => format!("{} ({}): {}", db.severity(), db.code().code(), db.message()),
            None => {
                let mut text = error.to_string();
                let mut source = std::error::Error::source(error);
                while let Some(cause) = source {
                    text.push_str(&format!(": {cause}"));
                    source = cause.source();
                }
                text
            }
        };
        // A closed connection, or the server ending the session (class 57P: shutdown, a
        // terminated backend; class 08: connection exceptions).
        let ended = error.as_db_error().is_some_and(|db| {
            let code = db.code().code();
            code.starts_with("57P") || code.starts_with("08")
        });
        if error.is_closed() || ended {
            Self::ConnectionLost {
                url: url.to_owned(),
                action,
                message,
            }
        } else {
            Self::Database {
                url: url.to_owned(),
                action,
                message,
            }
        }
    }
}

/// The future every state backend call returns (boxed, so backends sit behind
/// `Box<dyn StateBackend>`; a database backend awaits its client inside).
pub type StateFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StateError>> + Send + 'a>>;

/// A saved plan that an apply started from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedPlan {
    /// The plan's id (`Plan::id`).
    pub id: String,
    /// When its apply started (RFC 3339).
    pub at: String,
    /// Who applied it (the lock holder's command, host and pid).
    pub by: String,
}

/// The applied plans a state keeps.
pub const PLANS_KEEP: usize = 200;

/// One step's outcome for the state: the record of one address after the step (`None`:
/// removed) and the journal entries it adds. Backends persist exactly this, so the cost
/// of a step does not depend on how many objects the state holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    /// The address the step concerned.
    pub address: Address,
    /// Its record after the step; `None` removes it.
    pub resource: Option<Resource>,
    /// Journal entries the step adds, oldest first.
    pub journal: Vec<JournalEntry>,
    /// The saved plan an apply starts from, recorded with its first change.
    pub plan: Option<AppliedPlan>,
}

/// The journal entries a state keeps (older ones are dropped as new ones come).
pub const JOURNAL_KEEP: usize = 1000;

impl State {
    /// Applies a step's change in memory (the record, the journal entries, the journal
    /// bound); the serial is the backend's to bump once the change is durable. Every backend's [`HeldState::record`] does this, then
    /// persists the change.
    pub fn apply(&mut self, change: &StateChange) {
        match &change.resource {
            Some(resource) => {
                self.resources
                    .insert(change.address.clone(), resource.clone());
            }
            None => {
                self.resources.remove(&change.address);
            }
        }
        self.journal.extend(change.journal.iter().cloned());
        let excess = self.journal.len().saturating_sub(JOURNAL_KEEP);
        self.journal.drain(..excess);
        if let Some(plan) = &change.plan {
            self.applied_plans.push(plan.clone());
            let excess = self.applied_plans.len().saturating_sub(PLANS_KEEP);
            self.applied_plans.drain(..excess);
        }
    }
}

/// Where the state lives: the embedded [`LocalState`] (`.migspec/`), or a team backend (a
/// database with a session advisory lock) implementing the same operations.
pub trait StateBackend: Send + Sync + std::fmt::Debug {
    /// Where the state is, for messages (`.migspec/state.json`, a redacted database URL).
    fn describe(&self) -> String;

    /// Reads the state; a state never written is a new, empty one.
    ///
    /// # Errors
    ///
    /// When it exists but cannot be read, is corrupt, or is of a newer format.
    fn read(&self) -> StateFuture<'_, State>;

    /// Takes the exclusive lock for a whole run, waiting up to `wait` for a holder to
    /// finish (zero: fail at once); writing needs it.
    ///
    /// # Errors
    ///
    /// [`StateError::Locked`] naming the holder once `wait` has passed, or an I/O or
    /// connection failure.
    fn lock(&self, info: LockInfo, wait: Duration) -> StateFuture<'_, Box<dyn HeldState>>;

    /// Clears a lock left by a process that is gone, returning who held it; refuses while
    /// the holder is alive.
    ///
    /// # Errors
    ///
    /// [`StateError::Locked`] while a live process holds the lock, or when the lock cannot
    /// be cleared.
    fn force_unlock(&self) -> StateFuture<'_, Option<LockInfo>>;
}

/// The state under its lock: the only way to write it. The lock is released on drop.
pub trait HeldState: Send + Sync {
    /// Writes the whole state (bumping its serial), refusing when someone else wrote it
    /// since it was read. For commands that rewrite the state (`state rm|mv`, `import`,
    /// `state migrate`); an apply records its steps with [`HeldState::record`].
    ///
    /// # Errors
    ///
    /// I/O or connection failures, or [`StateError::Conflict`].
    fn write<'a>(&'a self, state: &'a mut State) -> StateFuture<'a, ()>;

    /// Records one step: applies `change` to `state` ([`State::apply`], which bumps the
    /// serial) and persists only that change, durably, before returning.
    ///
    /// # Errors
    ///
    /// I/O or connection failures, or [`StateError::Conflict`].
    fn record<'a>(&'a self, state: &'a mut State, change: &'a StateChange) -> StateFuture<'a, ()>;
}
