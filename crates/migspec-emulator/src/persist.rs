//! Optional persistence of the emulator's jobs and task groups (`--state-dir`).
//!
//! The whole state is one JSON file, rewritten after every change by writing a
//! temporary file in the same directory, syncing it and renaming it over the old one,
//! so a crash leaves either the old or the new state, never a torn file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::EmulatorError;

/// Name of the state file inside the state directory.
pub(crate) const STATE_FILE: &str = "emulator-state.json";

#[derive(Debug)]
pub(crate) struct Store {
    file: Option<PathBuf>,
    /// Serialises writers; holds the sequence number of the last snapshot written.
    written: Mutex<u64>,
    next: AtomicU64,
}

impl Store {
    /// A store under `dir` (created if needed), or an in-memory store for `None`.
    pub(crate) fn open(dir: Option<&Path>) -> Result<Self, EmulatorError> {
        let file = match dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|source| EmulatorError::State {
                    path: dir.to_owned(),
                    source,
                })?;
                Some(dir.join(STATE_FILE))
            }
            None => None,
        };
        Ok(Self {
            file,
            written: Mutex::new(0),
            next: AtomicU64::new(1),
        })
    }

    /// Reads the saved state, if any.
    pub(crate) fn load<T: DeserializeOwned>(&self) -> Result<Option<T>, EmulatorError> {
        let Some(file) = &self.file else {
            return Ok(None);
        };
        let bytes = match std::fs::read(file) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(EmulatorError::State {
                    path: file.clone(),
                    source,
                });
            }
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|error| EmulatorError::StateFormat {
                path: file.clone(),
                message: error.to_string(),
            })
    }

    /// Reserves a sequence number; call it while holding the lock that guards `state`,
    /// then [`Store::save`] the serialised bytes after releasing that lock.
    pub(crate) fn ticket(&self) -> u64 {
        self.next.fetch_add(1, Ordering::SeqCst)
    }

    /// Whether this store writes anything.
    pub(crate) fn is_persistent(&self) -> bool {
        self.file.is_some()
    }

    /// Serialises `state` for a later [`Store::save`].
    pub(crate) fn serialize<T: Serialize>(state: &T) -> Vec<u8> {
        serde_json::to_vec_pretty(state).unwrap_or_default()
    }

    /// Writes snapshot `ticket` atomically, unless a newer snapshot is already on disk.
    pub(crate) fn save(&self, ticket: u64, bytes: &[u8]) -> Result<(), EmulatorError> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let mut written = self
            .written
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *written > ticket {
            return Ok(());
        }
        let dir = file.parent().unwrap_or_else(|| Path::new("."));
        let tmp = dir.join(format!(".{STATE_FILE}.{}.tmp", std::process::id()));
        let wrap = |source| EmulatorError::State {
            path: tmp.clone(),
            source,
        };
        let mut out = std::fs::File::create(&tmp).map_err(wrap)?;
        out.write_all(bytes).map_err(wrap)?;
        out.sync_all().map_err(wrap)?;
        drop(out);
        std::fs::rename(&tmp, file).map_err(|source| EmulatorError::State {
            path: file.clone(),
            source,
        })?;
        *written = ticket;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_atomically_and_loads_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(Some(dir.path())).expect("open");
        assert_eq!(store.load::<Vec<u32>>().expect("load"), None);
        let first = store.ticket();
        let second = store.ticket();
        store
            .save(second, &Store::serialize(&vec![2u32]))
            .expect("save");
        // An older snapshot arriving late does not overwrite a newer one.
        store
            .save(first, &Store::serialize(&vec![1u32]))
            .expect("save");
        assert_eq!(store.load::<Vec<u32>>().expect("load"), Some(vec![2]));
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).expect("list").collect();
        assert_eq!(leftovers.len(), 1, "only the state file remains");
    }

    #[test]
    fn in_memory_store_writes_nothing() {
        let store = Store::open(None).expect("open");
        assert!(!store.is_persistent());
        store.save(store.ticket(), b"{}").expect("no-op");
        assert_eq!(store.load::<Vec<u32>>().expect("load"), None);
    }
}
