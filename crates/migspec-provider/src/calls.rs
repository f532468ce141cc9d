//! The call gate: the runner's admission of every API call a provider makes.
//!
//! "The runner owns time": a provider's client never sleeps for a token, never backs off and
//! never retries. Before each HTTP request it asks the [`CallGate`] it was given
//! ([`crate::Provider::attach_gate`]) for admission under a [`CallKey`], sends the request
//! once, and reports how it went ([`Admission::finish`]). The runner's gate spaces calls per
//! key from the provider's declared [`crate::RateLimit`]s, slows down when the server
//! throttles anyway, and logs every call.
//!
//! # Assumptions (what the gate relies on)
//!
//! - Every request the provider sends is admitted first, once per attempt, and finished
//!   exactly once (dropping an [`Admission`] unfinished reports nothing; the gate then
//!   learns nothing from that call).
//! - [`CallKey::credential`] names the credential *source* (an environment variable name,
//!   a file path), never a key or a secret: it appears in logs.
//! - A throttled call had no effect on the server (DTS `RequestLimitExceeded*`, HTTP 429),
//!   so the runner may repeat the step that made it.
//!
//! # Guarantees (what the gate gives)
//!
//! - `admit` resolves once the call fits the key's current rate; it never fails and never
//!   resolves early. Calls under different keys never wait for each other.
//! - The gate never repeats a call: the runner repeats *steps* (see the re-apply protocol on
//!   [`crate::Provider`]), so there is exactly one layer of retries.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one API call is counted against: the documented limits are per action, and the
/// servers count them per region and credential.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallKey {
    /// The provider's name (`tencent-dts`, `huawei-oms`, a plugin's name).
    pub provider: String,
    /// The API action (`DescribeMigrateJobs`, `list_task_group`).
    pub action: String,
    /// The region the call goes to (empty when the API has none).
    pub region: String,
    /// Where the credential came from (never the credential itself).
    pub credential: String,
}

impl CallKey {
    /// A key.
    #[must_use]
    pub fn new(
        provider: impl Into<String>,
        action: impl Into<String>,
        region: impl Into<String>,
        credential: impl Into<String>,
    ) -> Self {
        Self {
            provider: provider.into(),
            action: action.into(),
            region: region.into(),
            credential: credential.into(),
        }
    }
}

impl std::fmt::Display for CallKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{} {}", self.provider, self.action)?;
        if !self.region.is_empty() {
            write!(formatter, " in {}", self.region)?;
        }
        Ok(())
    }
}

/// How a call ended, as far as pacing cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallResult {
    /// The server answered (success, or an error that is not about the rate).
    Answered {
        /// The server's error code when it refused the request.
        error_code: Option<String>,
    },
    /// The server throttled the call; it had no effect.
    Throttled {
        /// The server's code (`RequestLimitExceeded`, `APIGW.0308`).
        code: String,
        /// How long the server asked to wait (`Retry-After`), when it said.
        retry_after: Option<Duration>,
    },
    /// No answer: the network failed or the answer was unreadable.
    NoAnswer {
        /// What failed.
        message: String,
    },
}

/// The report of one finished call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallReport {
    /// How it ended.
    pub result: CallResult,
    /// The server's request id, when it gave one.
    pub request_id: Option<String>,
    /// From admission to answer.
    pub duration: Duration,
}

/// What an admitted call holds until it ends: the runner's concurrency permit. It is
/// released when the [`Admission`] is finished or dropped, so a call abandoned halfway (a
/// cancelled future, a panic) gives its permit back too.
#[derive(Default)]
pub struct Ticket(Option<Box<dyn std::any::Any + Send + Sync>>);

impl Ticket {
    /// A ticket that holds nothing (a gate without a concurrency bound).
    #[must_use]
    pub fn none() -> Self {
        Self(None)
    }

    /// A ticket that holds `guard` until the call ends.
    #[must_use]
    pub fn holding(guard: impl std::any::Any + Send + Sync) -> Self {
        Self(Some(Box::new(guard)))
    }

    /// Whether it holds something.
    #[must_use]
    pub fn holds(&self) -> bool {
        self.0.is_some()
    }
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_tuple("Ticket")
            .field(&if self.holds() { "held" } else { "none" })
            .finish()
    }
}

/// Admits API calls. The runner's implementation is `migspec_runner::limits::RunnerGate`.
pub trait CallGate: Send + Sync + std::fmt::Debug {
    /// Resolves when a call under `key` may be sent, with what the call holds until it
    /// ends (kept by the [`Admission`]).
    fn admit<'a>(&'a self, key: &'a CallKey) -> Pin<Box<dyn Future<Output = Ticket> + Send + 'a>>;

    /// Learns how an admitted call ended.
    fn report(&self, key: &CallKey, report: &CallReport);
}

/// A gate that admits every call at once and records nothing: for providers used as a
/// library without a runner (tests, one-off tools).
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenGate;

impl CallGate for OpenGate {
    fn admit<'a>(&'a self, _key: &'a CallKey) -> Pin<Box<dyn Future<Output = Ticket> + Send + 'a>> {
        Box::pin(std::future::ready(Ticket::none()))
    }

    fn report(&self, _key: &CallKey, _report: &CallReport) {}
}

/// An admitted call: finish it with its result once the answer (or the failure) is in.
#[derive(Debug)]
#[must_use = "an admission that is never finished teaches the gate nothing"]
pub struct Admission {
    gate: Arc<dyn CallGate>,
    key: CallKey,
    started: Instant,
    /// Released with the admission (after the report, when finished).
    _ticket: Ticket,
}

impl Admission {
    /// Waits for admission of a call under `key`.
    pub async fn wait(gate: Arc<dyn CallGate>, key: CallKey) -> Self {
        let ticket = gate.admit(&key).await;
        Self {
            gate,
            key,
            started: Instant::now(),
            _ticket: ticket,
        }
    }

    /// The key the call was admitted under.
    #[must_use]
    pub fn key(&self) -> &CallKey {
        &self.key
    }

    /// Reports how the call ended.
    pub fn finish(self, result: CallResult, request_id: Option<String>) {
        let report = CallReport {
            result,
            request_id,
            duration: self.started.elapsed(),
        };
        self.gate.report(&self.key, &report);
    }
}

/// A provider's slot for the gate it is given: starts [`OpenGate`], replaced by
/// [`crate::Provider::attach_gate`]. Cheap to read on every call.
#[derive(Debug)]
pub struct GateSlot {
    gate: std::sync::RwLock<Arc<dyn CallGate>>,
}

impl Default for GateSlot {
    fn default() -> Self {
        Self {
            gate: std::sync::RwLock::new(Arc::new(OpenGate)),
        }
    }
}

impl GateSlot {
    /// Replaces the gate.
    pub fn set(&self, gate: Arc<dyn CallGate>) {
        *self
            .gate
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = gate;
    }

    /// The current gate.
    #[must_use]
    pub fn get(&self) -> Arc<dyn CallGate> {
        Arc::clone(
            &self
                .gate
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Waits for admission of a call under `key` through the current gate.
    pub async fn admit(&self, key: CallKey) -> Admission {
        Admission::wait(self.get(), key).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Debug, Default)]
    struct Recording {
        admitted: Mutex<Vec<CallKey>>,
        reports: Mutex<Vec<(CallKey, CallReport)>>,
    }

    impl CallGate for Recording {
        fn admit<'a>(
            &'a self,
            key: &'a CallKey,
        ) -> Pin<Box<dyn Future<Output = Ticket> + Send + 'a>> {
            self.admitted.lock().unwrap().push(key.clone());
            Box::pin(std::future::ready(Ticket::none()))
        }

        fn report(&self, key: &CallKey, report: &CallReport) {
            self.reports
                .lock()
                .unwrap()
                .push((key.clone(), report.clone()));
        }
    }

    #[tokio::test]
    async fn a_slot_admits_through_the_attached_gate_and_reports_once() {
        let slot = GateSlot::default();
        let key = CallKey::new("tencent-dts", "StartMigrateJob", "ap-guangzhou", "env");
        // Before a gate is attached, calls pass the open gate.
        slot.admit(key.clone())
            .await
            .finish(CallResult::Answered { error_code: None }, None);
        let recording = Arc::new(Recording::default());
        slot.set(recording.clone());
        let admission = slot.admit(key.clone()).await;
        assert_eq!(admission.key(), &key);
        admission.finish(
            CallResult::Throttled {
                code: "RequestLimitExceeded".to_owned(),
                retry_after: None,
            },
            Some("r-1".to_owned()),
        );
        assert_eq!(*recording.admitted.lock().unwrap(), vec![key.clone()]);
        let reports = recording.reports.lock().unwrap();
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].1.request_id.as_deref(), Some("r-1"));
        assert!(matches!(reports[0].1.result, CallResult::Throttled { .. }));
        assert_eq!(
            key.to_string(),
            "tencent-dts StartMigrateJob in ap-guangzhou"
        );
    }
}
