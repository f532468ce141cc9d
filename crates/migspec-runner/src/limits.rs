//! The runner's call gate: rate limits for every provider, from `describe().rate_limits`,
//! keyed by (provider, action, region, credential), adapting when the server throttles
//! anyway, and the log line of every API call.
//!
//! # Pacing
//!
//! Each key gets its own schedule: calls are spaced `1 / rate` apart, starting at the
//! declared rate (`*` covers every action without its own limit; no declaration means no
//! spacing). The quota is the server's and shared with other clients, so the declared rate
//! is only where pacing starts:
//!
//! - a throttled call halves the key's rate (at most once per second: calls in flight when
//!   the first throttle came back, and calls that find the server's bucket still empty, say
//!   nothing new), and pauses the key for the server's retry hint, or for one interval at
//!   the new rate;
//! - every answered call adds a fortieth of the declared rate back while the key is below
//!   the rate it was last throttled at, and a four-hundredth above that, up to the declared
//!   rate (additive increase: quick back to what worked, slow probing beyond it, so a quota
//!   shared with other clients is found again without a storm of throttles).
//!
//! Hand-written rather than `governor`'s keyed limiter: governor's quota is fixed when the
//! limiter is built (no multiplicative decrease, no pause for a retry hint) and it reads its
//! own clock, which paused tokio time in tests cannot drive.
//!
//! # Guarantees
//!
//! - `admit` never fails and never lets a call out before its slot; keys are independent.
//! - The gate repeats nothing: the engine retries steps, within its budgets.
//! - Log lines carry the provider, action, region, credential *source*, request id,
//!   duration and outcome of each call, never a request body, header or key.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;

use migspec_provider::{
    CallGate, CallKey, CallReport, CallResult, Description, ImportRequest, Imported,
    InFlightTarget, ObserveRequest, Observed, PlanError, PlanRequest, Problem, Provider,
    ProviderError, ProviderFuture, RateLimit, Step, StepOutcome, Ticket,
};

/// The slowest a throttled key gets: one call every five seconds.
const MIN_RATE: f64 = 0.2;

/// Where an undeclared key starts slowing from when the server throttles it.
const UNDECLARED_FALLBACK_RATE: f64 = 10.0;

/// The fraction of the declared rate one answered call gives back after throttling.
const RECOVERY_FRACTION: f64 = 1.0 / 40.0;

/// Throttles within this long of the last decrease do not decrease again.
const DECREASE_WINDOW: Duration = Duration::from_secs(1);

/// The fraction above the last throttled rate (probing for a freed quota).
const PROBE_FRACTION: f64 = 1.0 / 400.0;

#[derive(Debug)]
struct Pace {
    /// The declared rate (infinite: no declared limit).
    declared: f64,
    /// The current rate (infinite: no spacing).
    rate: f64,
    /// When the next call may go.
    next_slot: Instant,
    /// When the rate was last decreased.
    decreased_at: Option<Instant>,
    /// The rate the server last throttled at.
    ceiling: Option<f64>,
}

impl Pace {
    fn new(declared: Option<u32>) -> Self {
        let declared = match declared {
            Some(per_second) if per_second > 0 => f64::from(per_second),
            _ => f64::INFINITY,
        };
        Self {
            declared,
            rate: declared,
            next_slot: Instant::now(),
            decreased_at: None,
            ceiling: None,
        }
    }

    fn interval(&self) -> Duration {
        if self.rate.is_finite() {
            Duration::from_secs_f64(1.0 / self.rate)
        } else {
            Duration::ZERO
        }
    }
}

/// Counts of what went through the gate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallCounts {
    /// Calls reported.
    pub calls: u64,
    /// Of which throttled by the server.
    pub throttled: u64,
    /// Of which got no answer.
    pub unanswered: u64,
}

/// The runner's [`CallGate`]. One per run, shared by every provider (through
/// [`crate::providers::Providers`]).
#[derive(Debug, Default)]
pub struct RunnerGate {
    declared: Mutex<HashMap<String, Vec<RateLimit>>>,
    paces: Mutex<HashMap<CallKey, Pace>>,
    counts: Mutex<CallCounts>,
    /// Permits for calls in flight (`--concurrency`), taken once a call's slot has come
    /// and held until its answer: a call waiting for its key's slot holds none, so calls
    /// under one key never keep those under another (or a step that needs no call) waiting.
    in_flight: std::sync::RwLock<Option<Arc<Semaphore>>>,
}

impl RunnerGate {
    /// A gate with no declared limits.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a provider's declared limits (its `describe().rate_limits`, with the
    /// settings' overrides already applied by the provider).
    pub fn declare(&self, provider: &str, limits: &[RateLimit]) {
        self.declared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(provider.to_owned(), limits.to_vec());
    }

    /// Bounds the calls in flight through this gate to `calls` (at least one). Set before
    /// the calls it bounds start: calls admitted earlier keep the permits they hold.
    pub fn set_concurrency(&self, calls: usize) {
        *self
            .in_flight
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(Semaphore::new(calls.max(1))));
    }

    /// What went through the gate so far.
    #[must_use]
    pub fn counts(&self) -> CallCounts {
        *self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The current rate of a key (`None`: unlimited), for tests and logs.
    #[must_use]
    pub fn rate(&self, key: &CallKey) -> Option<f64> {
        self.paces
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .map(|pace| pace.rate)
            .filter(|rate| rate.is_finite())
    }

    fn declared_rate(&self, key: &CallKey) -> Option<u32> {
        let declared = self.declared.lock().unwrap_or_else(PoisonError::into_inner);
        let limits = declared.get(&key.provider)?;
        limits
            .iter()
            .find(|limit| limit.action == key.action)
            .or_else(|| limits.iter().find(|limit| limit.action == "*"))
            .map(|limit| limit.per_second)
    }

    /// Reserves the next slot of `key` and returns when it is.
    fn reserve(&self, key: &CallKey) -> Instant {
        let declared = self.declared_rate(key);
        let mut paces = self.paces.lock().unwrap_or_else(PoisonError::into_inner);
        let pace = paces
            .entry(key.clone())
            .or_insert_with(|| Pace::new(declared));
        let now = Instant::now();
        let slot = pace.next_slot.max(now);
        pace.next_slot = slot + pace.interval();
        slot
    }

    fn learn(&self, key: &CallKey, report: &CallReport) {
        let mut paces = self.paces.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(pace) = paces.get_mut(key) else {
            return;
        };
        let now = Instant::now();
        match &report.result {
            CallResult::Throttled { retry_after, .. } => {
                let recent = pace
                    .decreased_at
                    .is_some_and(|at| now.duration_since(at) < DECREASE_WINDOW);
                if !recent {
                    let from = if pace.rate.is_finite() {
                        pace.rate
                    } else {
                        UNDECLARED_FALLBACK_RATE
                    };
                    pace.ceiling = Some(from);
                    pace.rate = (from / 2.0).max(MIN_RATE);
                    pace.decreased_at = Some(now);
                }
                let pause = retry_after.unwrap_or_else(|| pace.interval());
                pace.next_slot = pace.next_slot.max(now + pause);
                tracing::info!(
                    target: "migspec::calls",
                    provider = %key.provider,
                    action = %key.action,
                    region = %key.region,
                    rate_per_second = pace.rate,
                    pause_ms = pause.as_millis(),
                    "throttled by the server; slowing down"
                );
            }
            CallResult::Answered { .. } | CallResult::NoAnswer { .. } => {
                if pace.rate < pace.declared {
                    let base = if pace.declared.is_finite() {
                        pace.declared
                    } else {
                        UNDECLARED_FALLBACK_RATE
                    };
                    let probing = pace.ceiling.is_some_and(|ceiling| pace.rate >= ceiling);
                    let step = base
                        * if probing {
                            PROBE_FRACTION
                        } else {
                            RECOVERY_FRACTION
                        };
                    pace.rate = (pace.rate + step).min(pace.declared);
                    if !pace.declared.is_finite() && pace.rate >= UNDECLARED_FALLBACK_RATE {
                        // Back to where an undeclared key started: no spacing again.
                        pace.rate = f64::INFINITY;
                    }
                }
            }
        }
    }
}

impl CallGate for RunnerGate {
    fn admit<'a>(&'a self, key: &'a CallKey) -> Pin<Box<dyn Future<Output = Ticket> + Send + 'a>> {
        let slot = self.reserve(key);
        let in_flight = self
            .in_flight
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        Box::pin(async move {
            let waited = slot.saturating_duration_since(Instant::now());
            if !waited.is_zero() {
                tokio::time::sleep_until(slot).await;
            }
            // The slot first, then the permit: a permit is held only by a call about to
            // be sent. (The other way round, calls queued on one busy key held every
            // permit while they waited for their slots.) A closed semaphore never happens;
            // the call then goes unbounded rather than never.
            let ticket = match in_flight {
                Some(permits) => permits
                    .acquire_owned()
                    .await
                    .map(Ticket::holding)
                    .unwrap_or_default(),
                None => Ticket::none(),
            };
            tracing::trace!(
                target: "migspec::calls",
                provider = %key.provider,
                action = %key.action,
                region = %key.region,
                waited_ms = waited.as_millis(),
                "call admitted"
            );
            ticket
        })
    }

    fn report(&self, key: &CallKey, report: &CallReport) {
        {
            let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
            counts.calls += 1;
            match report.result {
                CallResult::Throttled { .. } => counts.throttled += 1,
                CallResult::NoAnswer { .. } => counts.unanswered += 1,
                CallResult::Answered { .. } => {}
            }
        }
        let request_id = report.request_id.as_deref().unwrap_or("-");
        let duration_ms = report.duration.as_millis();
        match &report.result {
            CallResult::Answered { error_code: None } => tracing::debug!(
                target: "migspec::calls",
                provider = %key.provider,
                action = %key.action,
                region = %key.region,
                credential = %key.credential,
                request_id,
                duration_ms,
                "call ok"
            ),
            CallResult::Answered {
                error_code: Some(code),
            } => tracing::debug!(
                target: "migspec::calls",
                provider = %key.provider,
                action = %key.action,
                region = %key.region,
                credential = %key.credential,
                request_id,
                duration_ms,
                code = %code,
                "call refused"
            ),
            CallResult::Throttled { code, retry_after } => tracing::debug!(
                target: "migspec::calls",
                provider = %key.provider,
                action = %key.action,
                region = %key.region,
                credential = %key.credential,
                request_id,
                duration_ms,
                code = %code,
                retry_after_ms = retry_after.map(|after| after.as_millis()),
                "call throttled"
            ),
            CallResult::NoAnswer { message } => tracing::debug!(
                target: "migspec::calls",
                provider = %key.provider,
                action = %key.action,
                region = %key.region,
                credential = %key.credential,
                duration_ms,
                error = %message,
                "call got no answer"
            ),
        }
        self.learn(key, report);
    }
}

/// A provider that does not admit its own requests (a plugin of protocol 2, or one whose
/// provider takes no gate: its HTTP calls the host cannot see; a protocol 3 plugin admits
/// each request through the host channel instead): each trait call that may reach the cloud
/// is admitted as one call under the plugin's declared `*` limit (or its lowest declared
/// limit), keyed by the trait operation and the object's region.
pub(crate) struct GatedProvider {
    inner: Arc<dyn Provider>,
    gate: Arc<RunnerGate>,
    name: String,
}

impl GatedProvider {
    pub(crate) fn new(
        inner: Arc<dyn Provider>,
        gate: Arc<RunnerGate>,
        description: &Description,
    ) -> Self {
        let name = format!("{} (plugin)", description.name);
        let limit = description
            .rate_limits
            .iter()
            .find(|limit| limit.action == "*")
            .or_else(|| {
                description
                    .rate_limits
                    .iter()
                    .min_by_key(|limit| limit.per_second)
            });
        gate.declare(
            &name,
            &limit
                .map(|limit| RateLimit {
                    action: "*".to_owned(),
                    per_second: limit.per_second,
                })
                .into_iter()
                .collect::<Vec<_>>(),
        );
        Self { inner, gate, name }
    }

    fn key(&self, operation: &str, location: Option<&serde_json::Value>) -> CallKey {
        let region = location
            .and_then(|location| location.get("region"))
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        CallKey::new(self.name.clone(), operation, region, "plugin configuration")
    }

    fn gated<'a, T: Send + 'a>(
        &'a self,
        key: CallKey,
        call: ProviderFuture<'a, T>,
    ) -> ProviderFuture<'a, T> {
        Box::pin(async move {
            let gate: Arc<dyn CallGate> = self.gate.clone();
            let admission = migspec_provider::Admission::wait(gate, key).await;
            let result = call.await;
            let outcome = match &result {
                Ok(_) => CallResult::Answered { error_code: None },
                Err(ProviderError::Throttled { code, .. }) => CallResult::Throttled {
                    code: code.clone(),
                    retry_after: None,
                },
                Err(ProviderError::Network { message, .. }) => CallResult::NoAnswer {
                    message: message.clone(),
                },
                Err(error) => CallResult::Answered {
                    error_code: Some(error.to_string()),
                },
            };
            admission.finish(outcome, None);
            result
        })
    }
}

impl Provider for GatedProvider {
    fn describe(&self) -> Description {
        self.inner.describe()
    }

    fn validate(&self, kind: &str, document: &serde_json::Value) -> Vec<Problem> {
        self.inner.validate(kind, document)
    }

    fn location(
        &self,
        desired: &migspec_provider::DesiredSpec,
    ) -> Result<serde_json::Value, ProviderError> {
        self.inner.location(desired)
    }

    fn observe(&self, request: ObserveRequest) -> ProviderFuture<'_, Vec<Observed>> {
        let key = self.key(
            "observe",
            request.targets.first().map(|target| &target.location),
        );
        self.gated(key, self.inner.observe(request))
    }

    fn plan(&self, request: &PlanRequest) -> Result<Vec<migspec_provider::Action>, PlanError> {
        self.inner.plan(request)
    }

    fn apply(&self, step: Step) -> ProviderFuture<'_, StepOutcome> {
        let key = self.key(
            &format!("apply {}", step.action.kind.verb()),
            Some(&step.location),
        );
        self.gated(key, self.inner.apply(step))
    }

    fn poll(&self, in_flight: Vec<InFlightTarget>) -> ProviderFuture<'_, Vec<Observed>> {
        let key = self.key("poll", in_flight.first().map(|target| &target.location));
        self.gated(key, self.inner.poll(in_flight))
    }

    fn import(&self, request: ImportRequest) -> ProviderFuture<'_, Imported> {
        let key = self.key("import", Some(&request.location));
        self.gated(key, self.inner.import(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(action: &str) -> CallKey {
        CallKey::new("tencent-dts", action, "ap-guangzhou", "environment")
    }

    fn gate(per_second: u32) -> RunnerGate {
        let gate = RunnerGate::new();
        gate.declare(
            "tencent-dts",
            &[RateLimit {
                action: "*".to_owned(),
                per_second,
            }],
        );
        gate
    }

    fn answered() -> CallReport {
        CallReport {
            result: CallResult::Answered { error_code: None },
            request_id: Some("r".to_owned()),
            duration: Duration::from_millis(5),
        }
    }

    fn throttled(retry_after: Option<Duration>) -> CallReport {
        CallReport {
            result: CallResult::Throttled {
                code: "RequestLimitExceeded".to_owned(),
                retry_after,
            },
            request_id: None,
            duration: Duration::from_millis(5),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn calls_are_spaced_at_the_declared_rate_per_key() {
        let gate = gate(20);
        let started = Instant::now();
        for _ in 0..21 {
            gate.admit(&key("StartMigrateJob")).await;
        }
        // 21 calls at 20/s: the last one a second after the first.
        assert_eq!(started.elapsed(), Duration::from_secs(1));
        // Another action (its own key) is not held up.
        let other = Instant::now();
        gate.admit(&key("StopMigrateJob")).await;
        assert_eq!(other.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_halves_the_rate_once_per_window_honours_the_hint_and_recovers() {
        let gate = gate(20);
        let k = key("DescribeMigrateJobs");
        gate.admit(&k).await;
        gate.report(&k, &throttled(Some(Duration::from_secs(2))));
        gate.report(&k, &throttled(None));
        // Two throttles of calls sent at the same rate: one decrease.
        assert_eq!(gate.rate(&k), Some(10.0));
        let before = Instant::now();
        gate.admit(&k).await;
        assert!(
            before.elapsed() >= Duration::from_secs(2),
            "the retry hint was not honoured: {:?}",
            before.elapsed()
        );
        tokio::time::advance(DECREASE_WINDOW).await;
        gate.report(&k, &throttled(None));
        assert_eq!(gate.rate(&k), Some(5.0));
        // Gradual recovery: one fortieth of 20/s per answered call …
        gate.report(&k, &answered());
        assert_eq!(gate.rate(&k), Some(5.5));
        for _ in 0..4 {
            gate.report(&k, &answered());
        }
        assert_eq!(gate.rate(&k), Some(7.5));
        // … then, from the rate last throttled (10/s), a four-hundredth.
        for _ in 0..5 {
            gate.report(&k, &answered());
        }
        assert_eq!(gate.rate(&k), Some(10.0));
        gate.report(&k, &answered());
        assert!(
            gate.rate(&k)
                .is_some_and(|rate| (rate - 10.05).abs() < 1e-9)
        );
        for _ in 0..400 {
            gate.report(&k, &answered());
        }
        assert_eq!(
            gate.rate(&k),
            Some(20.0),
            "recovery stops at the declared rate"
        );
        assert_eq!(
            gate.counts(),
            CallCounts {
                calls: 414,
                throttled: 3,
                unanswered: 0
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn undeclared_keys_are_unlimited_until_throttled() {
        let gate = RunnerGate::new();
        let k = key("Anything");
        let started = Instant::now();
        for _ in 0..100 {
            gate.admit(&k).await;
        }
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert_eq!(gate.rate(&k), None);
        gate.report(&k, &throttled(None));
        assert_eq!(gate.rate(&k), Some(UNDECLARED_FALLBACK_RATE / 2.0));
        for _ in 0..400 {
            gate.report(&k, &answered());
        }
        assert_eq!(gate.rate(&k), None, "recovered to unlimited");
    }

    #[tokio::test(start_paused = true)]
    async fn paced_calls_meet_a_server_quota_lower_than_declared() {
        // A server that allows 5 calls per second per key (a token bucket with a burst of
        // 5), and a provider that declares 20/s: after a few throttles the gate settles
        // near 5/s and most calls pass.
        let gate = gate(20);
        let k = key("CreateMigrateJob");
        let mut tokens = 5.0_f64;
        let mut last = Instant::now();
        let mut throttles = 0;
        let started = Instant::now();
        let mut passed = 0;
        while passed < 60 {
            gate.admit(&k).await;
            let now = Instant::now();
            tokens = (tokens + now.duration_since(last).as_secs_f64() * 5.0).min(5.0);
            last = now;
            if tokens >= 1.0 {
                tokens -= 1.0;
                passed += 1;
                gate.report(&k, &answered());
            } else {
                throttles += 1;
                gate.report(&k, &throttled(None));
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        // Measured: 15 throttles (one halving per second, then recovery probing past 5/s);
        // each was refused by the server, so the runner repeats the step at no cost.
        assert!(throttles <= 16, "{throttles} throttles for 60 calls");
        // At most 5/s is possible; the adaptive pace stays within a factor of two of it.
        assert!(elapsed < 60.0 / 5.0 * 2.0, "60 calls took {elapsed:.1}s");
    }

    #[tokio::test(start_paused = true)]
    async fn calls_waiting_for_their_slot_hold_no_permit_and_admitted_ones_hold_one_each() {
        let gate = Arc::new(gate(1));
        gate.set_concurrency(1);
        let slow = key("CreateMigrateJob");
        // One create goes at once; three more wait for their slots, one second apart.
        let first = gate.admit(&slow).await;
        assert!(first.holds(), "an admitted call holds the permit");
        drop(first);
        let queued: Vec<_> = (0..3)
            .map(|_| {
                let gate = Arc::clone(&gate);
                tokio::spawn(async move { drop(gate.admit(&key("CreateMigrateJob")).await) })
            })
            .collect();
        tokio::task::yield_now().await;
        // A call under another key is admitted now: the queued creates hold no permit.
        let other = Instant::now();
        let check = gate.admit(&key("CreateMigrateCheckJob")).await;
        assert_eq!(other.elapsed(), Duration::ZERO);
        // While it is in flight, the one permit is taken: a further call waits for it.
        let blocked =
            tokio::time::timeout(Duration::from_secs(5), gate.admit(&key("StartMigrateJob"))).await;
        assert!(blocked.is_err(), "two calls in flight with one permit");
        drop(check);
        // The creates whose slots came meanwhile queued for the permit first; each ends at
        // once, and then the start gets it.
        let start = tokio::time::timeout(
            Duration::from_millis(1),
            gate.admit(&key("StartMigrateJob")),
        )
        .await
        .expect("the permit came back when the call ended");
        drop(start);
        for task in queued {
            task.await.expect("queued create");
        }
    }
}
