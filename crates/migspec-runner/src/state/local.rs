//! The embedded state backend: `.migspec/state.json`, written by atomic rename with mode
//! 0600, under an OS file lock on `.migspec/state.lock`.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{
    HeldState, LockInfo, STATE_FORMAT_VERSION, State, StateBackend, StateChange, StateError,
    StateFuture, UnknownFields,
};

impl StateBackend for LocalState {
    fn describe(&self) -> String {
        self.path().display().to_string()
    }

    fn read(&self) -> StateFuture<'_, State> {
        Box::pin(async move { Self::read(self) })
    }

    fn lock(&self, info: LockInfo, wait: Duration) -> StateFuture<'_, Box<dyn HeldState>> {
        Box::pin(async move {
            let deadline = tokio::time::Instant::now() + wait;
            loop {
                match Self::lock(self, &info) {
                    Ok(lock) => {
                        let held: Box<dyn HeldState> = Box::new(LocalHeld {
                            backend: self.clone(),
                            lock,
                        });
                        return Ok(held);
                    }
                    Err(StateError::Locked { .. }) if tokio::time::Instant::now() < deadline => {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    Err(error) => return Err(error),
                }
            }
        })
    }

    fn force_unlock(&self) -> StateFuture<'_, Option<LockInfo>> {
        Box::pin(async move { Self::force_unlock(self) })
    }
}

/// A [`LocalState`] under its lock.
#[derive(Debug)]
struct LocalHeld {
    backend: LocalState,
    lock: StateLock,
}

impl HeldState for LocalHeld {
    fn write<'a>(&'a self, state: &'a mut State) -> StateFuture<'a, ()> {
        Box::pin(async move { self.backend.write(&self.lock, state) })
    }

    fn record<'a>(&'a self, state: &'a mut State, change: &'a StateChange) -> StateFuture<'a, ()> {
        Box::pin(async move {
            state.apply(change);
            self.backend.write(&self.lock, state)
        })
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
    use std::collections::BTreeMap;

    use super::super::{JournalEntry, JournalStatus, Resource};
    use super::*;
    use migspec_provider::{Address, RemoteId};

    fn backend() -> (tempfile::TempDir, LocalState) {
        let dir = tempfile::tempdir().unwrap();
        let state = LocalState::new(dir.path().join(".migspec"));
        (dir, state)
    }

    #[tokio::test]
    async fn the_backend_trait_writes_only_under_its_lock() {
        let (_dir, local) = backend();
        let backend: Box<dyn StateBackend> = Box::new(local);
        let mut state = backend.read().await.unwrap();
        let held = backend
            .lock(LockInfo::current("trait test"), Duration::ZERO)
            .await
            .unwrap();
        held.write(&mut state).await.unwrap();
        assert_eq!(backend.read().await.unwrap().serial, 1);
        assert!(matches!(
            backend
                .lock(LockInfo::current("second"), Duration::ZERO)
                .await,
            Err(StateError::Locked { .. })
        ));
        // A step is recorded: the change applied, the serial bumped, the journal bounded.
        let change = StateChange {
            address: Address("a".into()),
            resource: None,
            journal: vec![
                JournalEntry {
                    at: "t".into(),
                    address: Address("a".into()),
                    action: "create".into(),
                    key: "k".into(),
                    status: JournalStatus::Intent,
                    remote_id: None,
                };
                crate::state::JOURNAL_KEEP + 5
            ],
            plan: None,
        };
        held.record(&mut state, &change).await.unwrap();
        let read = backend.read().await.unwrap();
        assert_eq!(read.serial, 2);
        assert_eq!(read.journal.len(), crate::state::JOURNAL_KEEP);
        drop(held);
        assert!(
            backend
                .lock(LockInfo::current("third"), Duration::ZERO)
                .await
                .is_ok()
        );
        assert!(backend.describe().ends_with("state.json"));
    }

    #[tokio::test]
    async fn a_lock_is_waited_for_up_to_the_given_time() {
        let (_dir, local) = backend();
        let held = local.lock(&LockInfo::current("first")).unwrap();
        let started = std::time::Instant::now();
        let waiting = {
            let local = local.clone();
            tokio::spawn(async move {
                StateBackend::lock(&local, LockInfo::current("second"), Duration::from_secs(5))
                    .await
                    .map(|_| ())
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(held);
        waiting.await.unwrap().unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
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
