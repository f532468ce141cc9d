//! The migspec provider contract.
//!
//! A [`Provider`] serves spec kinds: it observes remote jobs in batches, plans the ordered
//! [`Action`]s that bring a job from what it is to what its spec asks (pure, no I/O), applies
//! one [`Step`] at a time, polls in-flight jobs in batches, and imports existing jobs. The
//! runner owns waiting, deadlines, retries policy, state and rendering; providers never sleep
//! or print.
//!
//! Every type is serde data, so the same values cross the plugin ABI as JSON and land in
//! saved plan files.
//!
//! ```
//! use migspec_provider::{Action, ActionKind, Disruption};
//!
//! let action = Action::new(ActionKind::Resume, "the job failed at 40%; onFailure says resume")
//!     .disrupting(Disruption::OverwritesTarget);
//! assert_eq!(action.kind.symbol(), "↻");
//! assert_eq!(serde_json::to_value(&action).unwrap()["disruptions"][0], "overwrites_target");
//! ```

pub mod calls;
mod import;
pub mod plugin;
mod provider;
mod refusal;
pub mod rules;
#[cfg(feature = "testing")]
pub mod testing;
pub mod transport;
mod vocabulary;

pub use calls::{Admission, CallGate, CallKey, CallReport, CallResult, GateSlot, OpenGate, Ticket};
pub use import::ImportDocument;
pub use provider::{
    Description, ImportRequest, Imported, InFlightTarget, KindDescription, ListRequest, Listed,
    ObserveRequest, ObserveTarget, Orphans, PlanError, PlanRequest, Problem, ProblemSeverity,
    Provider, ProviderError, ProviderFuture, RateLimit,
};
pub use refusal::{Refusal, RequestIdIn, refused};
pub use vocabulary::{
    Action, ActionKind, Address, ChangeValue, DesiredSpec, Disruption, Failure, FieldChange,
    InFlight, MARKER_FIELD, MARKER_KEY, Observed, Phase, Progress, Recorded, RemoteId,
    RemoteObject, Step, StepOutcome, Wait, WaitVerdict,
};
