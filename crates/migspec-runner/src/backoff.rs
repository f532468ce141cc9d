//! The one backoff of the runner: jittered exponential delays between retries of a step, a
//! read, or a poll.
//!
//! Hand-written rather than `backon`'s: the runner needs a plain `Iterator<Item = Duration>`
//! with [`Backoff::reset`] (a success starts the next failure from the first delay again)
//! and a seedable jitter so tests on paused tokio time see fixed delays; backon's builders
//! give neither a reset nor a seed.

use std::time::Duration;

use migspec_provider::{ProviderError, ProviderFuture};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

/// Exponential delays, doubling from `first` up to `cap`, each drawn uniformly from its
/// upper half ("equal jitter": never less than half the nominal delay, so a burst of
/// failures spreads out without ever retrying at once). Never ends: budgets bound retries.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    cap: Duration,
    next: Duration,
    rng: StdRng,
}

impl Backoff {
    /// Delays from `first`, doubling, capped at `cap`, with a random jitter.
    #[must_use]
    pub fn new(first: Duration, cap: Duration) -> Self {
        Self::seeded(first, cap, rand::random())
    }

    /// The same with a fixed jitter seed (deterministic, for tests).
    #[must_use]
    pub fn seeded(first: Duration, cap: Duration, seed: u64) -> Self {
        let first = first.max(Duration::from_millis(1));
        Self {
            first,
            cap: cap.max(first),
            next: first,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// The runner's delays between retries of a failed call: 200 ms, doubling, up to 10 s.
    #[must_use]
    pub fn for_retries() -> Self {
        Self::new(Duration::from_millis(200), Duration::from_secs(10))
    }

    /// Starts again from the first delay.
    pub fn reset(&mut self) {
        self.next = self.first;
    }
}

impl Iterator for Backoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let nominal = self.next;
        self.next = (self.next * 2).min(self.cap);
        // Whole milliseconds: tokio's timer has millisecond resolution.
        let nominal_ms = u64::try_from(nominal.as_millis()).unwrap_or(u64::MAX);
        let half = nominal_ms / 2;
        let jitter = self.rng.random_range(0..=nominal_ms - half);
        Some(Duration::from_millis(half + jitter))
    }
}

/// Retries left: per step and for the whole apply, so a flapping cloud cannot keep one
/// step, or a large apply, retrying without end.
#[derive(Debug)]
pub struct RetryBudget {
    left: std::sync::atomic::AtomicU32,
}

impl RetryBudget {
    /// A budget of `retries`.
    #[must_use]
    pub const fn new(retries: u32) -> Self {
        Self {
            left: std::sync::atomic::AtomicU32::new(retries),
        }
    }

    /// Takes one retry; `false` when none is left.
    pub fn take(&self) -> bool {
        self.left
            .fetch_update(
                std::sync::atomic::Ordering::SeqCst,
                std::sync::atomic::Ordering::SeqCst,
                |left| left.checked_sub(1),
            )
            .is_ok()
    }

    /// How many are left.
    #[must_use]
    pub fn left(&self) -> u32 {
        self.left.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The retries of one read (`observe`, `import`) outside an apply's budget.
pub const READ_RETRIES: u32 = 5;

/// Runs a read (a provider call without effects), repeating it with [`Backoff`] while it fails
/// with a retryable error, up to `retries` times.
///
/// # Errors
///
/// The last error, when it is not retryable or the retries ran out.
pub async fn retry_read<'a, T, F>(mut call: F, retries: u32) -> Result<T, ProviderError>
where
    F: FnMut() -> ProviderFuture<'a, T>,
{
    let mut backoff = Backoff::for_retries();
    let mut left = retries;
    loop {
        match call().await {
            Err(error) if error.is_retryable() && left > 0 => {
                left -= 1;
                let delay = backoff.next().unwrap_or(Duration::from_secs(1));
                tracing::info!(
                    error = %error,
                    retries_left = left,
                    delay_ms = delay.as_millis(),
                    "retrying a read"
                );
                tokio::time::sleep(delay).await;
            }
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_within_their_jitter_up_to_the_cap_and_reset() {
        let mut backoff =
            Backoff::seeded(Duration::from_millis(100), Duration::from_millis(800), 7);
        let delays: Vec<Duration> = backoff.by_ref().take(6).collect();
        let nominal = [100, 200, 400, 800, 800, 800];
        for (delay, nominal) in delays.iter().zip(nominal) {
            let nominal = Duration::from_millis(nominal);
            assert!(
                *delay >= nominal / 2 && *delay <= nominal,
                "{delay:?} is outside [{:?}, {nominal:?}]",
                nominal / 2
            );
        }
        // Jitter: not every delay sits on the same fraction of its nominal value.
        let fractions: std::collections::BTreeSet<u128> = delays
            .iter()
            .zip(nominal)
            .map(|(delay, nominal)| delay.as_millis() * 100 / u128::from(nominal))
            .collect();
        assert!(fractions.len() > 1, "no jitter in {delays:?}");
        backoff.reset();
        let first = backoff.next().expect("never ends");
        assert!(first <= Duration::from_millis(100), "{first:?} after reset");
        // The same seed gives the same delays.
        let again: Vec<Duration> =
            Backoff::seeded(Duration::from_millis(100), Duration::from_millis(800), 7)
                .take(6)
                .collect();
        assert_eq!(again, delays);
    }

    #[tokio::test(start_paused = true)]
    async fn sleeping_the_delays_on_paused_time_takes_their_sum() {
        let started = tokio::time::Instant::now();
        let backoff = Backoff::seeded(Duration::from_millis(200), Duration::from_secs(10), 1);
        let delays: Vec<Duration> = backoff.take(4).collect();
        for delay in &delays {
            tokio::time::sleep(*delay).await;
        }
        let total: Duration = delays.iter().sum();
        assert_eq!(started.elapsed(), total);
        // 100..200 + 200..400 + 400..800 + 800..1600 ms.
        assert!(total >= Duration::from_millis(1500) && total <= Duration::from_millis(3000));
    }

    #[tokio::test(start_paused = true)]
    async fn reads_are_retried_on_retryable_errors_only() {
        let calls = std::sync::atomic::AtomicU32::new(0);
        let flaky = || -> ProviderFuture<'_, u32> {
            let call = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Box::pin(async move {
                if call < 2 {
                    Err(ProviderError::Throttled {
                        service: "s".to_owned(),
                        code: "RequestLimitExceeded".to_owned(),
                        message: "slow down".to_owned(),
                        request_id: None,
                    })
                } else {
                    Ok(call)
                }
            })
        };
        assert_eq!(retry_read(flaky, 5).await, Ok(2));
        let refused = || -> ProviderFuture<'_, u32> {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Box::pin(async {
                Err(ProviderError::Rejected {
                    service: "s".to_owned(),
                    code: "InvalidParameter".to_owned(),
                    message: "no".to_owned(),
                    request_id: None,
                })
            })
        };
        let before = calls.load(std::sync::atomic::Ordering::SeqCst);
        assert!(retry_read(refused, 5).await.is_err());
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), before + 1);
    }

    #[test]
    fn budgets_run_out() {
        let budget = RetryBudget::new(2);
        assert!(budget.take());
        assert!(budget.take());
        assert!(!budget.take());
        assert_eq!(budget.left(), 0);
    }
}
