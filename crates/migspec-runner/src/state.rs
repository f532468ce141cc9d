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
        }
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
    /// The state file is of a newer format.
    #[error("state file {} has format version {found}; this migspec reads up to {STATE_FORMAT_VERSION}: upgrade migspec", path.display())]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u32,
    },
    /// Another process holds the lock.
    #[error(
        "state {} is locked by pid {} on {} since {} (`{}`); wait for it to finish, or if it died, run `migspec state unlock --force`",
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

    /// Releases a lock left by a process that died, returning who held it.
    ///
    /// # Errors
    ///
    /// When the lock cannot be released.
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
        let found = value
            .get("format_version")
            .and_then(serde_json::Value::as_u64)
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(0);
        if found > STATE_FORMAT_VERSION {
            return Err(StateError::TooNew { path, found });
        }
        serde_json::from_value(value).map_err(|error| StateError::Corrupt {
            path,
            message: error.to_string(),
        })
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
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let holder = serde_json::from_str(&text).unwrap_or(LockInfo {
                    pid: 0,
                    host: "unknown".to_owned(),
                    command: "unknown".to_owned(),
                    since: "unknown".to_owned(),
                });
                return Err(StateError::Locked { path, holder });
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

    /// Removes a lock left by a process that died (`migspec state unlock --force`).
    ///
    /// # Errors
    ///
    /// When the lock file cannot be removed.
    pub fn force_unlock(&self) -> Result<Option<LockInfo>, StateError> {
        let path = self.lock_path();
        let holder = std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok());
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(holder),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(self.io("unlock", &path)(error)),
        }
    }

    /// Writes the state atomically (temporary file, fsync, rename; mode 0600), bumping its
    /// serial. Refuses when the file on disk no longer has the serial `state` was read with.
    ///
    /// # Errors
    ///
    /// I/O failures, or [`StateError::Conflict`].
    pub fn write(&self, _lock: &StateLock, state: &mut State) -> Result<(), StateError> {
        let path = self.path();
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
        let mut text = serde_json::to_string_pretty(state).expect("state serializes");
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
        assert!(
            message.contains("migspec state unlock --force"),
            "{message}"
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
    fn force_unlock_reports_the_holder() {
        let (_dir, backend) = backend();
        let info = LockInfo::current("migspec apply");
        let lock = backend.lock(&info).unwrap();
        std::mem::forget(lock);
        let holder = backend.force_unlock().unwrap().unwrap();
        assert_eq!(holder.command, "migspec apply");
        assert!(backend.force_unlock().unwrap().is_none());
    }
}
