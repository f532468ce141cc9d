//! The engine between specs and providers: the spec set, planning, applying, state.
//!
//! - [`specs::SpecSet`] turns validated documents into what providers get (secrets resolved).
//! - [`planner::plan`] observes every address in batches and asks each provider for its
//!   actions, giving a [`plan::Plan`] bound to what it was made from.
//! - [`engine::apply`] runs a plan with bounded concurrency and one shared poller per
//!   provider, writing the state after every step.
//! - [`state::LocalState`] is the embedded state backend (`.migspec/state.json`).
//! - [`documents`] publishes the JSON Schemas of the plan and `status --json` documents.
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

pub mod backoff;
pub mod documents;
pub mod engine;
pub mod limits;
pub mod plan;
pub mod planner;
mod poller;
pub mod providers;
pub mod scope;
pub mod specs;
pub mod state;

use migspec_provider::{Address, ProviderError};

/// A run that could not go on. Step failures are not errors: they are
/// [`engine::Outcome`]s.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunnerError {
    /// No provider serves a kind.
    #[error(
        "{address}: no provider serves kind `{kind}` (known: {known}); add its plugin to migspec.yaml"
    )]
    UnknownKind {
        /// The address.
        address: Address,
        /// The kind.
        kind: String,
        /// The kinds served.
        known: String,
    },
    /// A provider call failed (auth, network, contract …).
    #[error("{}{source}", address.as_ref().map_or_else(String::new, |a| format!("{a}: ")))]
    Provider {
        /// The address concerned, when one is.
        address: Option<Address>,
        /// What the provider said.
        source: Box<ProviderError>,
    },
    /// The state could not be read, locked or written.
    #[error(transparent)]
    State(#[from] state::StateError),
    /// A bad argument.
    #[error("{message}")]
    Usage {
        /// What is wrong and what to do.
        message: String,
    },
    /// A bug in migspec.
    #[error("internal error: {message}")]
    Internal {
        /// What happened.
        message: String,
    },
}
