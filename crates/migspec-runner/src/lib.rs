//! The engine between specs and providers: state (this module set grows into planning and
//! applying).
//!
//! Start with [`state::LocalState`], the embedded state backend (`.migspec/state.json`).
//!
//! ```
//! use migspec_runner::state::{LocalState, LockInfo};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let backend = LocalState::new(dir.path().join(".migspec"));
//! let mut state = backend.read().unwrap();
//! let lock = backend.lock(&LockInfo::current("doc test")).unwrap();
//! backend.write(&lock, &mut state).unwrap();
//! assert_eq!(backend.read().unwrap().serial, 1);
//! ```

pub mod plan;
pub mod state;
