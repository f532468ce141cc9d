//! Test kit for providers and the runner (feature `testing`).
//!
//! - [`FakeProvider`]: records every request and answers from scripts, for runner tests.
//! - [`Driver`]: the runner's apply loop for one address at a time, following the re-apply
//!   protocol of [`crate::Provider`], with the remote's clock moved explicitly — the one
//!   loop every backend's tests use instead of a hand-made runner of their own.
//! - [`conformance`]: the checks every provider passes, built-in or plugin, and
//!   [`EmulatorAdmin`], the emulator's request counts and faults a subject reports from.
//!
//! ```
//! use migspec_provider::testing::FakeProvider;
//! use migspec_provider::{Address, ObserveRequest, ObserveTarget, Observed, Provider};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let fake = FakeProvider::new("fake", &["FakeKind"]);
//! let target = ObserveTarget {
//!     address: Address("a".into()),
//!     kind: "FakeKind".into(),
//!     revision: None,
//!     view: None,
//!     remote_id: None,
//!     location: serde_json::Value::Null,
//! };
//! let observed = fake.observe(ObserveRequest { targets: vec![target] }).await.unwrap();
//! assert_eq!(observed, vec![Observed::Missing { address: Address("a".into()) }]);
//! assert_eq!(fake.calls().len(), 1);
//! # });
//! ```

mod admin;
pub mod conformance;
mod driver;
mod fake;

pub use admin::EmulatorAdmin;
pub use driver::{DriveError, Driver, Tracked};
pub use fake::{Call, FakeProvider, Scripted};
