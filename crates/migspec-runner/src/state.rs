//! State: what the cloud APIs cannot tell us.
//!
//! Per address: the remote id, kind and location, salted fingerprints of the secrets last
//! applied, a hash of the spec last applied, the deletion policy, resume/retry attempts; and a
//! journal of intents (written *before* a create, so a crash between the create and its
//! record is recovered by finding the tagged job) and completed steps.
//!
//! The embedded backend is `.migspec/state.json` next to the spec root: written by atomic
//! rename with mode 0600, with a `serial` that increases on every write and a `lineage` that
//! identifies the state across copies, and an OS file lock (`.migspec/state.lock`, holding
//! who took it) for the whole of an apply.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

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
    fn between(raw: &serde_json::Value, state: &State) -> Self {
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
    fn merge_into(&self, state: &State, value: &mut serde_json::Value) {
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

/// Where the state lives. The embedded default is [`LocalState`]; a team backend (a
/// database with an advisory lock) implements the same four operations.
pub trait StateBackend: Send + Sync + std::fmt::Debug {
    /// Where the state is, for messages (`.migspec/state.json`).
    fn describe(&self) -> String;

    /// Reads the state; a state never written is a new, empty one.
    ///
    /// # Errors
    ///
    /// When it exists but cannot be read, is corrupt, or is of a newer format.
    fn read(&self) -> Result<State, StateError>;

    /// Takes the exclusive lock for a whole run; writing needs it.
    ///
    /// # Errors
    ///
    /// [`StateError::Locked`] naming the holder, or an I/O failure.
    fn lock(&self, info: &LockInfo) -> Result<Box<dyn HeldState>, StateError>;

    /// Clears a lock left by a process that is gone, returning who held it; refuses while
    /// the holder is alive.
    ///
    /// # Errors
    ///
    /// [`StateError::Locked`] while a live process holds the lock, or when the lock cannot
    /// be cleared.
    fn force_unlock(&self) -> Result<Option<LockInfo>, StateError>;
}

/// The state under its lock: the only way to write it. The lock is released on drop.
pub trait HeldState: Send + Sync {
    /// Writes the state (bumping its serial), refusing when someone else wrote it since it
    /// was read.
    ///
    /// # Errors
    ///
    /// I/O failures, or [`StateError::Conflict`].
    fn write(&self, state: &mut State) -> Result<(), StateError>;
}

impl StateBackend for LocalState {
    fn describe(&self) -> String {
        self.path().display().to_string()
    }

    fn read(&self) -> Result<State, StateError> {
        Self::read(self)
    }

    fn lock(&self, info: &LockInfo) -> Result<Box<dyn HeldState>, StateError> {
        let lock = Self::lock(self, info)?;
        Ok(Box::new(LocalHeld {
            backend: self.clone(),
            lock,
        }))
    }

    fn force_unlock(&self) -> Result<Option<LockInfo>, StateError> {
        Self::force_unlock(self)
    }
}

/// A [`LocalState`] under its lock.
#[derive(Debug)]
struct LocalHeld {
    backend: LocalState,
    lock: StateLock,
}

impl HeldState for LocalHeld {
    fn write(&self, state: &mut State) -> Result<(), StateError> {
        self.backend.write(&self.lock, state)
    }
}

/// The embedded state backend: a JSON file in a directory (normally `.migspec/`).
#[derive(Debug, Clone)]
pub struct LocalState {
    dir: PathBuf,
}

/// An exclusive lock on a [`LocalState`], held until dropped.
#[derive(Debug)]
pub struct StateLock {
    file: File,
    path: PathBuf,
}

impl Drop for StateLock {
    fn drop(&mut self) {
        // Leave the lock file empty so a stale reader does not report an old holder.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

impl LocalState {
    /// The state kept in `dir` (created on first write).
    #[must_use]
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The state file's path.
    #[must_use]
    pub fn path(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// The lock file's path.
    #[must_use]
    pub fn lock_path(&self) -> PathBuf {
        self.dir.join("state.lock")
    }

    fn io(&self, action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StateError {
        let path = path.to_path_buf();
        move |source| StateError::Io {
            action,
            path,
            source,
        }
    }

    /// Reads the state; a missing file is a new, empty state.
    ///
    /// # Errors
    ///
    /// When the file exists but cannot be read, is corrupt, or is of a newer format.
    pub fn read(&self) -> Result<State, StateError> {
        let path = self.path();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(State::new()),
            Err(error) => return Err(self.io("read", &path)(error)),
        };
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|error| StateError::Corrupt {
                path: path.clone(),
                message: error.to_string(),
            })?;
        match value.get("format_version") {
            None => return Err(StateError::BadVersion { path, found: None }),
            Some(version) => match version.as_u64() {
                Some(found) if found > u64::from(STATE_FORMAT_VERSION) => {
                    return Err(StateError::TooNew { path, found });
                }
                Some(found) if found >= 1 => {}
                _ => {
                    return Err(StateError::BadVersion {
                        path,
                        found: Some(version.to_string()),
                    });
                }
            },
        }
        let mut state: State =
            serde_json::from_value(value.clone()).map_err(|error| StateError::Corrupt {
                path,
                message: error.to_string(),
            })?;
        state.unknown = UnknownFields::between(&value, &state);
        Ok(state)
    }

    /// Takes the exclusive lock for a whole run, recording who holds it.
    ///
    /// # Errors
    ///
    /// [`StateError::Locked`] (with the holder) when another process holds it.
    pub fn lock(&self, info: &LockInfo) -> Result<StateLock, StateError> {
        let path = self.lock_path();
        std::fs::create_dir_all(&self.dir).map_err(self.io("lock", &self.dir))?;
        let mut file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(self.io("lock", &path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StateError::Locked {
                    holder: read_holder(&mut file),
                    path,
                });
            }
            Err(std::fs::TryLockError::Error(error)) => return Err(self.io("lock", &path)(error)),
        }
        file.set_len(0).map_err(self.io("lock", &path))?;
        let text = serde_json::to_string(info).expect("lock info serializes");
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(self.io("lock", &path))?;
        Ok(StateLock { file, path })
    }

    /// Clears the record a process that died left in the lock file (`migspec state unlock
    /// --force`), returning who it names; `None` when there is none.
    ///
    /// The lock itself is the OS file lock, which the OS releases when its holder exits, so
    /// only a holder that is gone can be cleared: while the OS lock is held, its holder is
    /// alive and this refuses. The lock file is emptied under the OS lock, never removed
    /// (removing it would let the next two processes lock two different files).
    ///
    /// # Errors
    ///
    /// [`StateError::Locked`] (with the holder) while a live process holds the lock, or an
    /// I/O failure.
    pub fn force_unlock(&self) -> Result<Option<LockInfo>, StateError> {
        let path = self.lock_path();
        let mut file = match File::options().read(true).write(true).open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(self.io("unlock", &path)(error)),
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StateError::Locked {
                    holder: read_holder(&mut file),
                    path,
                });
            }
            Err(std::fs::TryLockError::Error(error)) => {
                return Err(self.io("unlock", &path)(error));
            }
        }
        let mut text = String::new();
        file.read_to_string(&mut text)
            .map_err(self.io("unlock", &path))?;
        file.set_len(0)
            .and_then(|()| file.sync_all())
            .map_err(self.io("unlock", &path))?;
        let _ = file.unlock();
        Ok(serde_json::from_str(&text).ok())
    }

    /// Writes the state atomically (temporary file, fsync, rename; mode 0600), bumping its
    /// serial. Refuses when the file on disk no longer has the serial `state` was read with.
    ///
    /// # Errors
    ///
    /// I/O failures, or [`StateError::Conflict`].
    pub fn write(&self, _lock: &StateLock, state: &mut State) -> Result<(), StateError> {
        let path = self.path();
        // This migspec writes only the format it knows; a newer state is not rewritten
        // (its fields would be written with an older meaning).
        if state.format_version > STATE_FORMAT_VERSION {
            return Err(StateError::TooNew {
                path,
                found: u64::from(state.format_version),
            });
        }
        if state.format_version == 0 {
            return Err(StateError::BadVersion {
                path,
                found: Some("0".to_owned()),
            });
        }
        let on_disk = self.read()?;
        if on_disk.serial != state.serial && on_disk.lineage == state.lineage {
            return Err(StateError::Conflict {
                path,
                expected: state.serial,
                found: on_disk.serial,
            });
        }
        state.serial += 1;
        std::fs::create_dir_all(&self.dir).map_err(self.io("write", &self.dir))?;
        let mut temporary =
            tempfile::NamedTempFile::new_in(&self.dir).map_err(self.io("write", &path))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            temporary
                .as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(self.io("write", &path))?;
        }
        let mut value = serde_json::to_value(&*state).expect("state serializes");
        state.unknown.merge_into(state, &mut value);
        let mut text = serde_json::to_string_pretty(&value).expect("state serializes");
        text.push('\n');
        temporary
            .write_all(text.as_bytes())
            .and_then(|()| temporary.as_file().sync_all())
            .map_err(self.io("write", &path))?;
        temporary
            .persist(&path)
            .map_err(|error| self.io("write", &path)(error.error))?;
        Ok(())
    }
}

/// Who the lock file names (a holder that has not written itself yet is "unknown").
fn read_holder(file: &mut File) -> LockInfo {
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    serde_json::from_str(&text).unwrap_or(LockInfo {
        pid: 0,
        host: "unknown".to_owned(),
        command: "unknown".to_owned(),
        since: "unknown".to_owned(),
    })
}

impl StateLock {
    /// The lock file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend() -> (tempfile::TempDir, LocalState) {
        let dir = tempfile::tempdir().unwrap();
        let state = LocalState::new(dir.path().join(".migspec"));
        (dir, state)
    }

    #[test]
    fn the_backend_trait_writes_only_under_its_lock() {
        let (_dir, local) = backend();
        let backend: Box<dyn StateBackend> = Box::new(local);
        let mut state = backend.read().unwrap();
        let held = backend.lock(&LockInfo::current("trait test")).unwrap();
        held.write(&mut state).unwrap();
        assert_eq!(backend.read().unwrap().serial, 1);
        assert!(matches!(
            backend.lock(&LockInfo::current("second")),
            Err(StateError::Locked { .. })
        ));
        drop(held);
        assert!(backend.lock(&LockInfo::current("third")).is_ok());
        assert!(backend.describe().ends_with("state.json"));
    }

    #[test]
    fn a_missing_file_is_an_empty_state_and_writes_bump_the_serial() {
        let (_dir, backend) = backend();
        let mut state = backend.read().unwrap();
        assert_eq!(state.serial, 0);
        let lock = backend.lock(&LockInfo::current("test")).unwrap();
        state.resources.insert(
            Address("orders".into()),
            Resource {
                kind: "TencentDtsMigrateJob".into(),
                remote_id: Some(RemoteId("dts-1".into())),
                location: serde_json::json!({"region": "ap-guangzhou"}),
                secret_fingerprints: BTreeMap::new(),
                applied_spec_hash: None,
                deletion_policy: None,
                file: None,
                config_hash: None,
                attempts: 0,
                applied_view: None,
            },
        );
        backend.write(&lock, &mut state).unwrap();
        let read = backend.read().unwrap();
        assert_eq!(read.serial, 1);
        assert_eq!(read, state);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(backend.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_second_lock_is_refused_with_the_holder() {
        let (_dir, backend) = backend();
        let _held = backend
            .lock(&LockInfo::current("migspec apply specs/"))
            .unwrap();
        let error = backend.lock(&LockInfo::current("other")).unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, StateError::Locked { .. }), "{message}");
        assert!(message.contains("migspec apply specs/"), "{message}");
        assert!(
            message.contains(&std::process::id().to_string()),
            "{message}"
        );
        assert!(message.contains("still running"), "{message}");
        assert!(
            !message.contains("unlock --force"),
            "a live holder is not to be unlocked: {message}"
        );
    }

    #[test]
    fn a_lock_is_released_when_dropped() {
        let (_dir, backend) = backend();
        drop(backend.lock(&LockInfo::current("one")).unwrap());
        assert!(backend.lock(&LockInfo::current("two")).is_ok());
    }

    #[test]
    fn a_concurrent_write_is_a_conflict() {
        let (_dir, backend) = backend();
        let lock = backend.lock(&LockInfo::current("test")).unwrap();
        let mut first = backend.read().unwrap();
        backend.write(&lock, &mut first).unwrap();
        let mut stale = first.clone();
        backend.write(&lock, &mut first).unwrap();
        stale.resources.clear();
        assert!(matches!(
            backend.write(&lock, &mut stale),
            Err(StateError::Conflict {
                expected: 1,
                found: 2,
                ..
            })
        ));
    }

    #[test]
    fn corrupt_and_future_files_are_refused_and_kept() {
        let (_dir, backend) = backend();
        std::fs::create_dir_all(backend.path().parent().unwrap()).unwrap();
        std::fs::write(backend.path(), "{not json").unwrap();
        let error = backend.read().unwrap_err();
        assert!(matches!(error, StateError::Corrupt { .. }), "{error}");
        assert!(error.to_string().contains("state.json"));
        assert_eq!(
            std::fs::read_to_string(backend.path()).unwrap(),
            "{not json"
        );
        std::fs::write(backend.path(), r#"{"format_version": 9}"#).unwrap();
        assert!(matches!(
            backend.read(),
            Err(StateError::TooNew { found: 9, .. })
        ));
    }

    #[test]
    fn force_unlock_refuses_a_held_lock_and_clears_a_dead_holders_record() {
        let (_dir, backend) = backend();
        assert!(backend.force_unlock().unwrap().is_none(), "never locked");
        let held = backend.lock(&LockInfo::current("migspec apply")).unwrap();
        let error = backend.force_unlock().unwrap_err();
        assert!(matches!(error, StateError::Locked { .. }), "{error}");
        assert!(error.to_string().contains("migspec apply"), "{error}");
        assert!(
            std::fs::read_to_string(backend.lock_path())
                .unwrap()
                .contains("migspec apply"),
            "a live holder's record stays"
        );
        drop(held);
        // A holder killed before it could release: its record is left, the OS lock is not.
        let dead = LockInfo {
            pid: 4_194_304,
            host: "elsewhere".to_owned(),
            command: "migspec apply specs/".to_owned(),
            since: "2026-01-01T00:00:00Z".to_owned(),
        };
        std::fs::write(backend.lock_path(), serde_json::to_string(&dead).unwrap()).unwrap();
        assert_eq!(backend.force_unlock().unwrap(), Some(dead));
        assert_eq!(std::fs::read_to_string(backend.lock_path()).unwrap(), "");
        assert!(backend.force_unlock().unwrap().is_none());
        assert!(backend.lock(&LockInfo::current("next")).is_ok());
    }

    #[test]
    fn unknown_fields_survive_a_write_at_every_level() {
        let (_dir, backend) = backend();
        std::fs::create_dir_all(backend.path().parent().unwrap()).unwrap();
        let text = serde_json::json!({
            "format_version": 1,
            "lineage": "l-1",
            "serial": 3,
            "salt": "s",
            "resources": {
                "orders": {"kind": "TencentDtsMigrateJob", "remote_id": "dts-1", "newer": {"a": 1}},
                "plain": {"kind": "TencentDtsMigrateJob"}
            },
            "journal": [
                {"at": "t0", "address": "orders", "action": "create", "key": "k0", "status": "intent", "why": "x"},
                {"at": "t1", "address": "orders", "action": "create", "key": "k0", "status": "done"}
            ],
            "newer_top": [1, 2]
        });
        std::fs::write(backend.path(), text.to_string()).unwrap();
        let mut state = backend.read().unwrap();
        assert_eq!(state.unknown.top.len(), 1);
        let lock = backend.lock(&LockInfo::current("test")).unwrap();
        state.journal.push(JournalEntry {
            at: "t2".into(),
            address: Address("plain".into()),
            action: "check".into(),
            key: "k1".into(),
            status: JournalStatus::Done,
            remote_id: None,
        });
        state
            .resources
            .get_mut(&Address("orders".into()))
            .unwrap()
            .attempts = 1;
        backend.write(&lock, &mut state).unwrap();
        let written: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(backend.path()).unwrap()).unwrap();
        assert_eq!(written["newer_top"], serde_json::json!([1, 2]));
        assert_eq!(
            written["resources"]["orders"]["newer"],
            serde_json::json!({"a": 1})
        );
        assert_eq!(written["resources"]["orders"]["attempts"], 1);
        assert!(written["resources"]["plain"].get("newer").is_none());
        assert_eq!(written["journal"][0]["why"], "x");
        assert!(written["journal"][1].get("why").is_none());
        assert!(written["journal"][2].get("why").is_none());
        assert_eq!(written["serial"], 4);

        // A record whose remote object was re-created (another id) drops what described the
        // old one.
        let mut recreated = state.clone();
        recreated
            .resources
            .get_mut(&Address("orders".into()))
            .unwrap()
            .remote_id = Some(RemoteId("dts-2".into()));
        let mut value = serde_json::to_value(&recreated).unwrap();
        recreated.unknown.merge_into(&recreated, &mut value);
        assert!(value["resources"]["orders"].get("newer").is_none());
        assert_eq!(value["newer_top"], serde_json::json!([1, 2]));

        // Renamed, the unknown fields go with the record; the journal says so.
        let mut state = backend.read().unwrap();
        let moved = state
            .rename(&Address("orders".into()), &Address("renamed".into()))
            .unwrap()
            .clone();
        assert_eq!(moved.remote_id, Some(RemoteId("dts-1".into())));
        assert!(
            state
                .rename(&Address("renamed".into()), &Address("plain".into()))
                .is_none(),
            "an existing record is never replaced"
        );
        assert!(
            state
                .rename(&Address("orders".into()), &Address("x".into()))
                .is_none()
        );
        backend.write(&lock, &mut state).unwrap();
        let written: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(backend.path()).unwrap()).unwrap();
        assert!(written["resources"]["orders"].is_null());
        assert_eq!(
            written["resources"]["renamed"]["newer"],
            serde_json::json!({"a": 1})
        );
        let last = &written["journal"][3];
        assert_eq!(last["address"], "renamed");
        assert_eq!(last["action"], "state mv");
        assert_eq!(last["remote_id"], "dts-1");
    }

    #[test]
    fn missing_zero_and_newer_format_versions_are_neither_read_nor_written() {
        let (_dir, backend) = backend();
        std::fs::create_dir_all(backend.path().parent().unwrap()).unwrap();
        let base = serde_json::json!({"lineage": "l", "serial": 1, "salt": "s"});
        for (version, expected) in [
            (None, "has no format_version"),
            (
                Some(serde_json::json!(0)),
                "has format version 0, which no migspec writes",
            ),
            (Some(serde_json::json!("1")), "has format version \"1\""),
            (Some(serde_json::json!(-1)), "has format version -1"),
        ] {
            let mut value = base.clone();
            if let Some(version) = version {
                value["format_version"] = version;
            }
            std::fs::write(backend.path(), value.to_string()).unwrap();
            let error = backend.read().unwrap_err();
            assert!(matches!(error, StateError::BadVersion { .. }), "{error}");
            let message = error.to_string();
            assert!(message.contains(expected), "{message}");
            assert!(message.contains("state.json"), "{message}");
            let lock = backend.lock(&LockInfo::current("test")).unwrap();
            assert!(backend.write(&lock, &mut State::new()).is_err());
            assert_eq!(
                std::fs::read_to_string(backend.path()).unwrap(),
                value.to_string(),
                "never rewritten"
            );
        }

        // A newer state in memory is not written, whatever is on disk.
        std::fs::remove_file(backend.path()).unwrap();
        let lock = backend.lock(&LockInfo::current("test")).unwrap();
        let mut newer = State::new();
        newer.format_version = STATE_FORMAT_VERSION + 1;
        let error = backend.write(&lock, &mut newer).unwrap_err();
        assert!(matches!(error, StateError::TooNew { .. }), "{error}");
        assert!(!backend.path().exists());
        let mut zero = State::new();
        zero.format_version = 0;
        assert!(matches!(
            backend.write(&lock, &mut zero),
            Err(StateError::BadVersion { .. })
        ));
        assert!(!backend.path().exists());
    }
}
