//! The embedded state backend: `.migspec/state.json` (a snapshot, written by atomic rename
//! with mode 0600) and `.migspec/state.log` (the steps recorded since, one JSON line each,
//! mode 0600), under an OS file lock on `.migspec/state.lock`.
//!
//! # The log
//!
//! [`HeldState::record`] appends one line per step and `fdatasync`s it: the line carries
//! the format version, the lineage, the new serial and the [`StateChange`] (the address,
//! its record after the step or `null` when removed, the journal entries, the applied
//! plan). A step costs one `write` and one `fdatasync` of that line, whatever the number
//! of objects; nothing else is read or written.
//!
//! Reading is the snapshot, then every log line of the snapshot's lineage with a serial
//! above the snapshot's, in order (each must be the next serial). A last line cut short by
//! a crash (no newline, or not valid JSON) is dropped; [`LocalState::read_replayed`] says
//! so. Any other bad line makes the state unreadable.
//!
//! # Compaction
//!
//! The log is folded into a fresh snapshot (temporary file, fsync, rename, directory fsync;
//! then the log is removed) when the lock is released, when the log grows past the size
//! of the snapshot (and 1 MiB), and by every whole-state write. So after every
//! command, `state.json` alone is the whole state; the log outlives a command only when it
//! was killed. Every point is crash-safe: the snapshot is renamed before the log is
//! removed, and a line whose serial the snapshot already has is skipped.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use migspec_provider::Address;

use super::{
    AppliedPlan, HeldState, JournalEntry, LockInfo, Resource, STATE_FORMAT_VERSION, State,
    StateBackend, StateChange, StateError, StateFuture, UnknownFields, extra_fields,
};

/// The log is compacted once it holds more bytes than the snapshot and than this, so a
/// small state is not rewritten every few steps and replaying never reads much more than
/// the snapshot itself.
const COMPACT_FLOOR: u64 = 1 << 20;

/// How often a read starts again when a concurrent compaction replaced the files between
/// its reading the snapshot and the log.
const READ_ATTEMPTS: usize = 3;

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
                            log: Mutex::new(LogCursor::default()),
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

/// A [`LocalState`] under its lock. Dropping it compacts the log, then releases the lock.
#[derive(Debug)]
struct LocalHeld {
    backend: LocalState,
    lock: StateLock,
    log: Mutex<LogCursor>,
}

/// What a [`LocalHeld`] knows of the files it wrote, so that a step needs no read.
#[derive(Debug, Default)]
struct LogCursor {
    /// The lineage and serial on disk, as this lock last wrote or read them; `None` until
    /// the first write, and after a failed one (the next write checks the files again).
    at: Option<(String, u64)>,
    /// The log, open for appending, once this lock has appended to it.
    file: Option<File>,
    /// The bytes of whole lines in the log.
    len: u64,
    /// The bytes of the snapshot.
    snapshot_len: u64,
}

impl LogCursor {
    /// Whether the files are as this lock left them with `state` (the same lineage and
    /// serial, and a log of the length it wrote: one `fstat`).
    fn matches(&self, state: &State) -> bool {
        let Some((lineage, serial)) = &self.at else {
            return false;
        };
        if *lineage != state.lineage || *serial != state.serial {
            return false;
        }
        match &self.file {
            Some(file) => file
                .metadata()
                .is_ok_and(|metadata| metadata.len() == self.len),
            None => self.len == 0,
        }
    }

    /// After a snapshot of `state` with no log.
    fn compacted(&mut self, state: &State, snapshot_len: u64) {
        self.at = Some((state.lineage.clone(), state.serial));
        self.file = None;
        self.len = 0;
        self.snapshot_len = snapshot_len;
    }
}

impl HeldState for LocalHeld {
    fn write<'a>(&'a self, state: &'a mut State) -> StateFuture<'a, ()> {
        Box::pin(async move {
            let mut cursor = self.log.lock().expect("the log cursor is never poisoned");
            cursor.at = None;
            let snapshot_len = self.backend.write_len(&self.lock, state)?;
            cursor.compacted(state, snapshot_len);
            Ok(())
        })
    }

    fn record<'a>(&'a self, state: &'a mut State, change: &'a StateChange) -> StateFuture<'a, ()> {
        Box::pin(async move {
            let mut cursor = self.log.lock().expect("the log cursor is never poisoned");
            self.record_locked(&mut cursor, state, change)
        })
    }
}

impl LocalHeld {
    fn record_locked(
        &self,
        cursor: &mut LogCursor,
        state: &mut State,
        change: &StateChange,
    ) -> Result<(), StateError> {
        if !cursor.matches(state) && !self.settle(cursor, state)? {
            // No snapshot of this lineage to append to: the whole state is the snapshot.
            state.apply(change);
            cursor.at = None;
            let snapshot_len = self.backend.write_len(&self.lock, state)?;
            cursor.compacted(state, snapshot_len);
            return Ok(());
        }
        let log_path = self.backend.log_path();
        let serial = state.serial + 1;
        let mut line = serde_json::to_string(&LogLineRef {
            format_version: STATE_FORMAT_VERSION,
            lineage: &state.lineage,
            serial,
            address: &change.address,
            resource: change.resource.as_ref(),
            journal: &change.journal,
            plan: change.plan.as_ref(),
        })
        .expect("a log line serializes");
        line.push('\n');
        if cursor.file.is_none() {
            let file = self.backend.open_log()?;
            cursor.len = file
                .metadata()
                .map_err(self.backend.io("write", &log_path))?
                .len();
            cursor.file = Some(file);
        }
        let file = cursor.file.as_mut().expect("opened above");
        let appended = file
            .write_all(line.as_bytes())
            .and_then(|()| file.sync_data());
        if let Err(error) = appended {
            // Cut what may have been written, so the next line does not follow a torn one;
            // the next step checks the files again.
            let _ = file.set_len(cursor.len);
            cursor.at = None;
            return Err(self.backend.io("write", &log_path)(error));
        }
        state.apply(change);
        state.serial = serial;
        cursor.len += line.len() as u64;
        cursor.at = Some((state.lineage.clone(), serial));
        if cursor.len > cursor.snapshot_len.max(COMPACT_FLOOR) {
            match self.backend.snapshot(state) {
                Ok(snapshot_len) => cursor.compacted(state, snapshot_len),
                // The step is recorded (its line is synced) and the log still reads right
                // whether or not the new snapshot got in; try again once the log doubles.
                Err(_) => cursor.snapshot_len = cursor.len,
            }
        }
        Ok(())
    }

    /// Checks the files against `state` (the first step under this lock, or one after a
    /// failure): refuses a state someone else wrote since `state` was read, folds a log
    /// left by a killed run into the snapshot, and returns whether there is a snapshot of
    /// `state`'s lineage to append to.
    fn settle(&self, cursor: &mut LogCursor, state: &State) -> Result<bool, StateError> {
        let (on_disk, _, found) = self.backend.read_files()?;
        if on_disk.lineage == state.lineage && on_disk.serial != state.serial {
            return Err(StateError::Conflict {
                path: self.backend.path(),
                expected: state.serial,
                found: on_disk.serial,
            });
        }
        if !found.snapshot || on_disk.lineage != state.lineage {
            return Ok(false);
        }
        let snapshot_len = if found.log {
            self.backend.snapshot(&on_disk)?
        } else {
            std::fs::metadata(self.backend.path())
                .map_err(self.backend.io("read", &self.backend.path()))?
                .len()
        };
        cursor.compacted(&on_disk, snapshot_len);
        Ok(true)
    }
}

impl Drop for LocalHeld {
    fn drop(&mut self) {
        // Fold the log into the snapshot before the lock goes, so that `state.json` alone
        // is the state between runs. A failure leaves the log, which the next read replays.
        if self.backend.log_path().exists()
            && let Ok((state, _, found)) = self.backend.read_files()
            && found.snapshot
        {
            let _ = self.backend.snapshot(&state);
        }
    }
}

/// One log line, as written (borrowing the change).
#[derive(Serialize)]
struct LogLineRef<'a> {
    format_version: u32,
    lineage: &'a str,
    serial: u64,
    address: &'a Address,
    resource: Option<&'a Resource>,
    #[serde(skip_serializing_if = "<[JournalEntry]>::is_empty")]
    journal: &'a [JournalEntry],
    #[serde(skip_serializing_if = "Option::is_none")]
    plan: Option<&'a AppliedPlan>,
}

/// One log line, as read.
#[derive(Deserialize)]
struct LogLine {
    lineage: String,
    serial: u64,
    address: Address,
    #[serde(default)]
    resource: Option<Resource>,
    #[serde(default)]
    journal: Vec<JournalEntry>,
    #[serde(default)]
    plan: Option<AppliedPlan>,
}

/// What reading found besides the state: how much of the log was replayed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Replay {
    /// Log lines applied over the snapshot.
    pub applied: usize,
    /// Log lines skipped: the snapshot already has them (a crash between writing it and
    /// removing the log), or they are of another lineage (the snapshot was replaced).
    pub skipped: usize,
    /// The bytes of a last line cut short by a crash, dropped: that step was never
    /// reported recorded (a step is recorded once its line is synced).
    pub torn: Option<usize>,
}

/// Which files a read found.
#[derive(Debug, Clone, Copy)]
struct Found {
    snapshot: bool,
    log: bool,
}

/// A read that saw the log of a newer snapshot than the one it read.
struct Gap {
    line: usize,
    serial: u64,
    state_serial: u64,
}

/// The embedded state backend: a JSON snapshot and a log of the steps since, in a
/// directory (normally `.migspec/`).
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

    /// The state file's (the snapshot's) path.
    #[must_use]
    pub fn path(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// The log's path: the steps recorded since the snapshot, present only while a run
    /// holds the lock or after one was killed.
    #[must_use]
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("state.log")
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

    /// Reads the state (the snapshot, then the log's steps); no files is a new, empty state.
    ///
    /// # Errors
    ///
    /// When a file exists but cannot be read, is corrupt, or is of a newer format.
    pub fn read(&self) -> Result<State, StateError> {
        self.read_replayed().map(|(state, _)| state)
    }

    /// Reads the state like [`LocalState::read`], and says how much of the log it replayed
    /// (a caller may warn about a torn last line).
    ///
    /// # Errors
    ///
    /// When a file exists but cannot be read, is corrupt, or is of a newer format; when
    /// `state.log` exists without `state.json`.
    pub fn read_replayed(&self) -> Result<(State, Replay), StateError> {
        self.read_files().map(|(state, replay, _)| (state, replay))
    }

    /// [`LocalState::read_replayed`], saying which files were there. Starts again when a
    /// compaction replaced the files between its reading the snapshot and the log.
    fn read_files(&self) -> Result<(State, Replay, Found), StateError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (mut state, snapshot) = self.read_snapshot()?;
            match self.replay(&mut state, snapshot)? {
                Ok((replay, log)) => return Ok((state, replay, Found { snapshot, log })),
                Err(_) if attempt < READ_ATTEMPTS => {}
                Err(gap) => {
                    return Err(StateError::Corrupt {
                        path: self.log_path(),
                        message: format!(
                            "line {} has serial {} but the state before it is at serial {}: steps are missing",
                            gap.line, gap.serial, gap.state_serial
                        ),
                    });
                }
            }
        }
    }

    /// The snapshot, and whether there is one (none: a new, empty state).
    fn read_snapshot(&self) -> Result<(State, bool), StateError> {
        let path = self.path();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok((State::new(), false));
            }
            Err(error) => return Err(self.io("read", &path)(error)),
        };
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|error| StateError::Corrupt {
                path: path.clone(),
                message: error.to_string(),
            })?;
        check_version(&path, value.get("format_version"))?;
        let mut state: State =
            serde_json::from_value(value.clone()).map_err(|error| StateError::Corrupt {
                path,
                message: error.to_string(),
            })?;
        state.unknown = UnknownFields::between(&value, &state);
        Ok((state, true))
    }

    /// Applies the log's steps after `state` (the snapshot; `snapshot`: whether there was
    /// one). The outer error is a bad log; the inner one a log newer than the snapshot read.
    fn replay(
        &self,
        state: &mut State,
        snapshot: bool,
    ) -> Result<Result<(Replay, bool), Gap>, StateError> {
        let path = self.log_path();
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Ok((Replay::default(), false)));
            }
            Err(error) => return Err(self.io("read", &path)(error)),
        };
        let mut replay = Replay::default();
        // A line is whole once its newline is written; what follows the last one is torn.
        let whole = bytes
            .iter()
            .rposition(|&byte| byte == b'\n')
            .map_or(0, |end| end + 1);
        if whole < bytes.len() {
            replay.torn = Some(bytes.len() - whole);
        }
        let lines: Vec<&[u8]> = bytes[..whole]
            .split(|&byte| byte == b'\n')
            .filter(|line| !line.is_empty())
            .collect();
        if !lines.is_empty() && !snapshot {
            return Err(StateError::Corrupt {
                path: self.path(),
                message: format!(
                    "it is missing, but {} holds {} steps recorded on top of it",
                    path.display(),
                    lines.len()
                ),
            });
        }
        for (index, line) in lines.iter().enumerate() {
            let number = index + 1;
            let parsed = parse_line(&path, number, line);
            let (value, entry) = match parsed {
                Ok(parsed) => parsed,
                // Synced lines are whole; only the last can be a write cut by a crash (on
                // a file system that grew the file before writing its data).
                Err(StateError::Corrupt { .. })
                    if number == lines.len() && replay.torn.is_none() =>
                {
                    replay.torn = Some(line.len() + 1);
                    break;
                }
                Err(error) => return Err(error),
            };
            if entry.lineage != state.lineage || entry.serial <= state.serial {
                replay.skipped += 1;
                continue;
            }
            if entry.serial != state.serial + 1 {
                return Ok(Err(Gap {
                    line: number,
                    serial: entry.serial,
                    state_serial: state.serial,
                }));
            }
            apply_line(state, &value, entry);
            replay.applied += 1;
        }
        Ok(Ok((replay, true)))
    }

    /// Opens the log for appending (mode 0600), creating it durably.
    fn open_log(&self) -> Result<File, StateError> {
        let path = self.log_path();
        let existed = path.exists();
        let mut options = File::options();
        options.append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&path).map_err(self.io("write", &path))?;
        if !existed {
            self.sync_dir()?;
        }
        Ok(file)
    }

    /// Makes renames and new files in the directory durable.
    fn sync_dir(&self) -> Result<(), StateError> {
        #[cfg(unix)]
        File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(self.io("write", &self.dir))?;
        Ok(())
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

    /// Writes the whole state atomically as the snapshot (temporary file, fsync, rename;
    /// mode 0600), bumping its serial, and removes the log (the snapshot holds its steps).
    /// Refuses when the files no longer have the serial `state` was read with.
    ///
    /// # Errors
    ///
    /// I/O failures, or [`StateError::Conflict`].
    pub fn write(&self, lock: &StateLock, state: &mut State) -> Result<(), StateError> {
        self.write_len(lock, state).map(|_| ())
    }

    /// [`LocalState::write`], returning the snapshot's size.
    fn write_len(&self, _lock: &StateLock, state: &mut State) -> Result<u64, StateError> {
        self.check_writable(state)?;
        let on_disk = self.read()?;
        if on_disk.serial != state.serial && on_disk.lineage == state.lineage {
            return Err(StateError::Conflict {
                path: self.path(),
                expected: state.serial,
                found: on_disk.serial,
            });
        }
        state.serial += 1;
        self.snapshot(state)
    }

    /// This migspec writes only the format it knows; a newer state is not rewritten (its
    /// fields would be written with an older meaning).
    fn check_writable(&self, state: &State) -> Result<(), StateError> {
        if state.format_version > STATE_FORMAT_VERSION {
            return Err(StateError::TooNew {
                path: self.path(),
                found: u64::from(state.format_version),
            });
        }
        if state.format_version == 0 {
            return Err(StateError::BadVersion {
                path: self.path(),
                found: Some("0".to_owned()),
            });
        }
        Ok(())
    }

    /// Writes `state` as it is (its serial unchanged) as the snapshot, then removes the log:
    /// the compaction. Only under the lock. Returns the snapshot's size.
    fn snapshot(&self, state: &State) -> Result<u64, StateError> {
        let path = self.path();
        self.check_writable(state)?;
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
        let mut value = serde_json::to_value(state).expect("state serializes");
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
        // The rename must be durable before the log goes, or a power loss could leave the
        // old snapshot without the log.
        self.sync_dir()?;
        let log = self.log_path();
        match std::fs::remove_file(&log) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(self.io("write", &log)(error)),
        }
        Ok(text.len() as u64)
    }
}

/// Refuses a missing, unusable or newer `format_version` of the file at `path`.
fn check_version(path: &Path, version: Option<&serde_json::Value>) -> Result<(), StateError> {
    let path = path.to_path_buf();
    match version {
        None => Err(StateError::BadVersion { path, found: None }),
        Some(version) => match version.as_u64() {
            Some(found) if found > u64::from(STATE_FORMAT_VERSION) => {
                Err(StateError::TooNew { path, found })
            }
            Some(found) if found >= 1 => Ok(()),
            _ => Err(StateError::BadVersion {
                path,
                found: Some(version.to_string()),
            }),
        },
    }
}

/// Line `number` of the log at `path`: its JSON (for the fields this migspec does not
/// know) and its known fields.
fn parse_line(
    path: &Path,
    number: usize,
    line: &[u8],
) -> Result<(serde_json::Value, LogLine), StateError> {
    let corrupt = |message: String| StateError::Corrupt {
        path: path.to_path_buf(),
        message: format!("line {number}: {message}"),
    };
    let value: serde_json::Value =
        serde_json::from_slice(line).map_err(|error| corrupt(error.to_string()))?;
    check_version(path, value.get("format_version"))?;
    let entry = LogLine::deserialize(&value).map_err(|error| corrupt(error.to_string()))?;
    Ok((value, entry))
}

/// Applies one log line to `state`, keeping the fields of its record and journal entries
/// that this migspec does not know (a newer one wrote the line).
fn apply_line(state: &mut State, value: &serde_json::Value, line: LogLine) {
    match &line.resource {
        Some(resource) => {
            let known = serde_json::to_value(resource).expect("resource serializes");
            let extra = extra_fields(&value["resource"], &known);
            if !extra.is_empty() {
                state
                    .unknown
                    .resources
                    .insert(line.address.clone(), (resource.remote_id.clone(), extra));
            }
        }
        None => {
            state.unknown.resources.remove(&line.address);
        }
    }
    for (index, entry) in line.journal.iter().enumerate() {
        let known = serde_json::to_value(entry).expect("journal entry serializes");
        let extra = extra_fields(&value["journal"][index], &known);
        if !extra.is_empty() {
            state.unknown.journal.push((known.to_string(), extra));
        }
    }
    let serial = line.serial;
    state.apply(&StateChange {
        address: line.address,
        resource: line.resource,
        journal: line.journal,
        plan: line.plan,
    });
    state.serial = serial;
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

    use super::super::JournalStatus;
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
                secrets_in_use: false,
                applied_revision: None,
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

    fn resource(remote_id: &str) -> Resource {
        Resource {
            kind: "TencentDtsMigrateJob".into(),
            remote_id: Some(RemoteId(remote_id.into())),
            location: serde_json::json!({"region": "ap-guangzhou"}),
            secret_fingerprints: BTreeMap::new(),
            applied_spec_hash: Some("h".into()),
            deletion_policy: None,
            file: None,
            config_hash: None,
            attempts: 0,
            applied_view: None,
            secrets_in_use: false,
            applied_revision: None,
        }
    }

    fn entry(address: &str, key: &str) -> JournalEntry {
        JournalEntry {
            at: "t".into(),
            address: Address(address.into()),
            action: "create".into(),
            key: key.into(),
            status: JournalStatus::Done,
            remote_id: None,
        }
    }

    fn change(address: &str, remote_id: Option<&str>, key: &str) -> StateChange {
        StateChange {
            address: Address(address.into()),
            resource: remote_id.map(resource),
            journal: vec![entry(address, key)],
            plan: None,
        }
    }

    async fn held(local: &LocalState) -> Box<dyn HeldState> {
        StateBackend::lock(local, LockInfo::current("test"), Duration::ZERO)
            .await
            .unwrap()
    }

    /// The files as a crash would leave them now: a copy of the directory, read back.
    fn crashed_copy(local: &LocalState) -> (tempfile::TempDir, LocalState) {
        let (dir, copy) = backend();
        std::fs::create_dir_all(&copy.dir).unwrap();
        for name in ["state.json", "state.log"] {
            let from = local.dir.join(name);
            if from.exists() {
                std::fs::copy(&from, copy.dir.join(name)).unwrap();
            }
        }
        (dir, copy)
    }

    fn log_lines(local: &LocalState) -> Vec<serde_json::Value> {
        std::fs::read_to_string(local.log_path())
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    fn snapshot_serial(local: &LocalState) -> u64 {
        let text = std::fs::read_to_string(local.path()).unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap()["serial"]
            .as_u64()
            .unwrap()
    }

    #[tokio::test]
    async fn records_are_appended_to_the_log_read_back_and_compacted_on_release() {
        let (_dir, local) = backend();
        let mut state = local.read().unwrap();
        let held = held(&local).await;
        // The first step of a state never written writes the snapshot.
        held.record(&mut state, &change("a", Some("dts-a"), "k1"))
            .await
            .unwrap();
        assert!(!local.log_path().exists());
        assert_eq!(snapshot_serial(&local), 1);
        let plan = AppliedPlan {
            id: "plan-1".into(),
            at: "t".into(),
            by: "test".into(),
        };
        let mut with_plan = change("b", Some("dts-b"), "k2");
        with_plan.plan = Some(plan.clone());
        held.record(&mut state, &with_plan).await.unwrap();
        held.record(&mut state, &change("a", None, "k3"))
            .await
            .unwrap();
        assert_eq!(state.serial, 3);
        // The snapshot is untouched; the log has one line per step.
        assert_eq!(snapshot_serial(&local), 1);
        let lines = log_lines(&local);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["serial"], 2);
        assert_eq!(lines[0]["plan"]["id"], "plan-1");
        assert_eq!(lines[1]["address"], "a");
        assert!(lines[1]["resource"].is_null());
        assert_eq!(lines[1]["lineage"], state.lineage.as_str());

        let (read, replay) = local.read_replayed().unwrap();
        assert_eq!(read, state);
        assert_eq!(replay.applied, 2);
        assert_eq!(replay.torn, None);
        assert!(!read.resources.contains_key(&Address("a".into())));
        assert_eq!(read.applied_plans, [plan]);
        assert_eq!(read.journal.len(), 3);

        drop(held);
        assert!(!local.log_path().exists(), "released, the log is compacted");
        assert_eq!(snapshot_serial(&local), 3);
        assert_eq!(local.read().unwrap(), state);
    }

    #[tokio::test]
    async fn a_killed_runs_log_is_replayed_and_a_torn_last_line_dropped() {
        let (_dir, local) = backend();
        let mut state = local.read().unwrap();
        let held = held(&local).await;
        held.write(&mut state).await.unwrap();
        for index in 0..5 {
            held.record(
                &mut state,
                &change(&format!("r{index}"), Some("dts"), &format!("k{index}")),
            )
            .await
            .unwrap();
        }
        let (_copy_dir, copy) = crashed_copy(&local);
        drop(held);
        let (read, replay) = copy.read_replayed().unwrap();
        assert_eq!(replay.applied, 5);
        assert_eq!(read, state);

        // A line cut short by the crash is dropped, and said.
        let mut log = File::options().append(true).open(copy.log_path()).unwrap();
        let partial = br#"{"format_version":1,"lineage":"#;
        log.write_all(partial).unwrap();
        let (read, replay) = copy.read_replayed().unwrap();
        assert_eq!(read, state);
        assert_eq!(replay.torn, Some(partial.len()));

        // So is a last line that has its newline but not its data.
        log.write_all(b"\0\0\n").unwrap();
        let (read, replay) = copy.read_replayed().unwrap();
        assert_eq!(read, state);
        assert!(replay.torn.is_some());

        // Only the last: a bad line followed by another makes the log unreadable.
        log.write_all(b"{}\n").unwrap();
        let error = copy.read().unwrap_err();
        assert!(matches!(error, StateError::Corrupt { .. }), "{error}");
        let message = error.to_string();
        assert!(message.contains("state.log"), "{message}");
        assert!(message.contains("line 6"), "{message}");

        // The next run reads the killed run's log and goes on after it.
        let (_again_dir, again) = {
            let held = self::held(&local).await;
            let mut resumed = local.read().unwrap();
            held.record(&mut resumed, &change("r0", Some("dts"), "k"))
                .await
                .unwrap();
            let copy = crashed_copy(&local);
            drop(held);
            copy
        };
        let mut resumed = again.read().unwrap();
        assert_eq!(resumed.serial, state.serial + 1);
        let held = self::held(&again).await;
        held.record(&mut resumed, &change("after", Some("dts"), "k9"))
            .await
            .unwrap();
        assert_eq!(again.read().unwrap(), resumed);
        assert_eq!(resumed.serial, state.serial + 2);
        drop(held);
        assert!(!again.log_path().exists());
        assert_eq!(again.read().unwrap(), resumed);
    }

    #[tokio::test]
    async fn a_crash_between_the_snapshot_and_the_log_removal_applies_nothing_twice() {
        let (_dir, local) = backend();
        let mut state = local.read().unwrap();
        let held = held(&local).await;
        held.write(&mut state).await.unwrap();
        for index in 0..3 {
            held.record(&mut state, &change("a", Some("dts"), &format!("k{index}")))
                .await
                .unwrap();
        }
        let log = std::fs::read(local.log_path()).unwrap();
        drop(held);
        // The snapshot was renamed; the log is still there (the removal never happened).
        std::fs::write(local.log_path(), &log).unwrap();
        let (read, replay) = local.read_replayed().unwrap();
        assert_eq!(replay.applied, 0);
        assert_eq!(replay.skipped, 3);
        assert_eq!(read, state);
        assert_eq!(read.journal.len(), 3, "no entry twice");

        // The next run folds it away first, then appends after the snapshot's serial.
        let mut state = read;
        let held = self::held(&local).await;
        held.record(&mut state, &change("b", Some("dts-b"), "k3"))
            .await
            .unwrap();
        let lines = log_lines(&local);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["serial"], 5);
        assert_eq!(local.read().unwrap(), state);
        drop(held);
        assert_eq!(local.read().unwrap().journal.len(), 4);

        // A log of another lineage (the snapshot was replaced) is skipped.
        std::fs::write(local.log_path(), &log).unwrap();
        let mut other = State::new();
        let lock = local.lock(&LockInfo::current("test")).unwrap();
        local.write(&lock, &mut other).unwrap();
        assert!(!local.log_path().exists(), "a whole write compacts");
        std::fs::write(local.log_path(), &log).unwrap();
        let (read, replay) = local.read_replayed().unwrap();
        assert_eq!(read, other);
        assert_eq!(replay.skipped, 3);
    }

    #[tokio::test]
    async fn unknown_fields_survive_replay_and_compaction() {
        let (_dir, local) = backend();
        std::fs::create_dir_all(&local.dir).unwrap();
        let text = serde_json::json!({
            "format_version": 1,
            "lineage": "l-1",
            "serial": 3,
            "salt": "s",
            "resources": {
                "orders": {"kind": "TencentDtsMigrateJob", "remote_id": "dts-orders", "newer": {"a": 1}},
                "gone": {"kind": "TencentDtsMigrateJob", "remote_id": "dts-gone", "newer": 2}
            },
            "journal": [
                {"at": "t0", "address": "orders", "action": "create", "key": "k0", "status": "intent", "why": "x"}
            ],
            "newer_top": [1, 2]
        });
        std::fs::write(local.path(), text.to_string()).unwrap();
        let mut state = local.read().unwrap();
        let held = held(&local).await;
        let mut orders = resource("dts-orders");
        orders.attempts = 2;
        held.record(
            &mut state,
            &StateChange {
                address: Address("orders".into()),
                resource: Some(orders),
                journal: vec![entry("orders", "k1")],
                plan: None,
            },
        )
        .await
        .unwrap();
        held.record(&mut state, &change("gone", None, "k2"))
            .await
            .unwrap();
        // A line a newer migspec wrote, with fields this one does not know.
        let newer_line = serde_json::json!({
            "format_version": 1, "lineage": "l-1", "serial": 6, "address": "fresh",
            "resource": {"kind": "TencentDtsMigrateJob", "remote_id": "dts-fresh", "newer_record": true},
            "journal": [{"at": "t", "address": "fresh", "action": "create", "key": "k3", "status": "done", "newer_entry": 7}],
            "newer_line": 1
        });
        let mut log = File::options().append(true).open(local.log_path()).unwrap();
        log.write_all(format!("{newer_line}\n").as_bytes()).unwrap();

        let replayed = local.read().unwrap();
        assert_eq!(replayed.serial, 6);
        assert_eq!(replayed.unknown.top["newer_top"], serde_json::json!([1, 2]));
        assert!(
            replayed
                .unknown
                .resources
                .contains_key(&Address("orders".into()))
        );
        assert!(
            !replayed
                .unknown
                .resources
                .contains_key(&Address("gone".into()))
        );
        assert!(
            replayed
                .unknown
                .resources
                .contains_key(&Address("fresh".into()))
        );

        // The next release compacts: every field is back in the snapshot.
        drop(log);
        drop(held);
        assert!(!local.log_path().exists());
        let written: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(local.path()).unwrap()).unwrap();
        assert_eq!(written["serial"], 6);
        assert_eq!(written["newer_top"], serde_json::json!([1, 2]));
        assert_eq!(
            written["resources"]["orders"]["newer"],
            serde_json::json!({"a": 1})
        );
        assert_eq!(written["resources"]["orders"]["attempts"], 2);
        assert!(written["resources"]["gone"].is_null());
        assert_eq!(written["resources"]["fresh"]["newer_record"], true);
        assert_eq!(written["journal"][0]["why"], "x");
        assert!(written["journal"][1].get("why").is_none());
        assert_eq!(written["journal"][3]["newer_entry"], 7);
    }

    #[tokio::test]
    async fn serials_only_increase_and_a_gap_is_refused() {
        let (_dir, local) = backend();
        let mut state = local.read().unwrap();
        let held = held(&local).await;
        held.write(&mut state).await.unwrap();
        for index in 0..4 {
            held.record(&mut state, &change("a", Some("dts"), &format!("k{index}")))
                .await
                .unwrap();
        }
        let serials: Vec<u64> = log_lines(&local)
            .iter()
            .map(|line| line["serial"].as_u64().unwrap())
            .collect();
        assert_eq!(serials, [2, 3, 4, 5]);
        held.write(&mut state).await.unwrap();
        assert_eq!(state.serial, 6);
        held.record(&mut state, &change("a", Some("dts"), "k5"))
            .await
            .unwrap();
        assert_eq!(log_lines(&local)[0]["serial"], 7);

        // A state read before another write is refused, like a whole write.
        let mut stale = state.clone();
        stale.serial -= 1;
        let error = held
            .record(&mut stale, &change("a", None, "k6"))
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                StateError::Conflict {
                    expected: 6,
                    found: 7,
                    ..
                }
            ),
            "{error}"
        );
        assert_eq!(stale.serial, 6, "a refused step changes nothing");

        // A log with a step missing is unreadable (its line says which).
        let (_copy_dir, copy) = crashed_copy(&local);
        let mut line = log_lines(&copy)[0].clone();
        line["serial"] = 9.into();
        let mut log = File::options().append(true).open(copy.log_path()).unwrap();
        log.write_all(format!("{line}\n").as_bytes()).unwrap();
        let message = copy.read().unwrap_err().to_string();
        assert!(message.contains("state.log"), "{message}");
        assert!(message.contains("line 2 has serial 9"), "{message}");

        // A line of a newer format is refused, naming the log.
        line["serial"] = 8.into();
        line["format_version"] = 9.into();
        std::fs::write(copy.log_path(), format!("{line}\n")).unwrap();
        let message = copy.read().unwrap_err().to_string();
        assert!(
            message.contains("state.log has format version 9"),
            "{message}"
        );

        // A log without its snapshot is not an empty state.
        std::fs::remove_file(copy.path()).unwrap();
        let message = copy.read().unwrap_err().to_string();
        assert!(
            message.contains("state.json is unreadable: it is missing"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn a_log_larger_than_the_snapshot_is_compacted_during_the_run() {
        let (_dir, local) = backend();
        let mut state = local.read().unwrap();
        let held = held(&local).await;
        held.write(&mut state).await.unwrap();
        let mut big = resource("dts");
        big.applied_view = Some(serde_json::json!({"blob": "x".repeat(64 * 1024)}));
        let mut compactions = 0;
        let mut previous = 0;
        for index in 0..40 {
            held.record(
                &mut state,
                &StateChange {
                    address: Address("big".into()),
                    resource: Some(big.clone()),
                    journal: vec![entry("big", &format!("k{index}"))],
                    plan: None,
                },
            )
            .await
            .unwrap();
            let len = std::fs::metadata(local.log_path()).map_or(0, |m| m.len());
            if len < previous {
                compactions += 1;
            }
            previous = len;
            assert!(len <= COMPACT_FLOOR + 70 * 1024, "{len}");
        }
        assert!(compactions >= 1);
        assert_eq!(local.read().unwrap(), state);
        assert_eq!(state.serial, 41);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_snapshot_and_the_log_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, local) = backend();
        let mut state = local.read().unwrap();
        let held = held(&local).await;
        held.write(&mut state).await.unwrap();
        held.record(&mut state, &change("a", Some("dts"), "k"))
            .await
            .unwrap();
        for path in [local.path(), local.log_path()] {
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", path.display());
        }
        drop(held);
        let mode = std::fs::metadata(local.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
