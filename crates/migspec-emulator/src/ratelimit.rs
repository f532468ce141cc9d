//! Token-bucket throttling per (service, credential, API version, action).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last_ms: u64,
}

/// Allows `per_second` requests per second per key, with a burst of one second's worth.
///
/// Time comes from the emulator clock, so with a manual clock the limiter is exact:
/// the first `per_second` requests pass and the next one is throttled.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    per_second: u32,
    buckets: Mutex<HashMap<u64, Bucket>>,
}

impl RateLimiter {
    pub(crate) fn new(per_second: u32) -> Self {
        Self {
            per_second,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The configured threshold (0 = unlimited).
    pub(crate) fn per_second(&self) -> u32 {
        self.per_second
    }

    /// Takes one token for `key` at `now_ms`; false means throttled.
    pub(crate) fn check(&self, key: &[&str], now_ms: u64) -> bool {
        if self.per_second == 0 {
            return true;
        }
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        let hash = hasher.finish();
        let capacity = f64::from(self.per_second);
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > 100_000 {
            // Forget idle keys rather than growing without bound.
            buckets.retain(|_, bucket| now_ms.saturating_sub(bucket.last_ms) < 10_000);
        }
        let bucket = buckets.entry(hash).or_insert(Bucket {
            tokens: capacity,
            last_ms: now_ms,
        });
        #[expect(
            clippy::cast_precision_loss,
            reason = "millisecond gaps are far below 2^52"
        )]
        let elapsed = now_ms.saturating_sub(bucket.last_ms) as f64;
        bucket.tokens = (bucket.tokens + elapsed * capacity / 1000.0).min(capacity);
        bucket.last_ms = bucket.last_ms.max(now_ms);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    pub(crate) fn reset(&self) {
        self.buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let limiter = RateLimiter::new(20);
        let key = ["tencent", "AKID", "2018-03-30", "DescribeMigrateJobs"];
        assert!((0..20).all(|_| limiter.check(&key, 1_000)));
        assert!(!limiter.check(&key, 1_000));
        // Another action has its own bucket.
        assert!(limiter.check(&["tencent", "AKID", "2018-03-30", "StartMigrateJob"], 1_000));
        // 50 ms later one token (20/s) is back.
        assert!(limiter.check(&key, 1_050));
        assert!(!limiter.check(&key, 1_050));
    }

    #[test]
    fn zero_means_unlimited() {
        let limiter = RateLimiter::new(0);
        assert!((0..1000).all(|_| limiter.check(&["k"], 0)));
    }
}
