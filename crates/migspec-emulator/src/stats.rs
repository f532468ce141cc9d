//! Request statistics served at `GET /_emulator/stats`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use serde::Serialize;

/// How one API request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The action succeeded.
    Ok,
    /// Refused by the rate limiter.
    Throttled,
    /// Refused by signature or token verification.
    AuthError,
    /// Refused by the API itself (validation, state machine, not found, unknown action).
    BusinessError,
    /// An injected fault: internal error, dropped connection.
    InjectedFault,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
struct Counts {
    requests: u64,
    ok: u64,
    throttled: u64,
    auth_error: u64,
    business_error: u64,
    injected_fault: u64,
}

impl Counts {
    fn add(&mut self, outcome: Outcome) {
        self.requests += 1;
        match outcome {
            Outcome::Ok => self.ok += 1,
            Outcome::Throttled => self.throttled += 1,
            Outcome::AuthError => self.auth_error += 1,
            Outcome::BusinessError => self.business_error += 1,
            Outcome::InjectedFault => self.injected_fault += 1,
        }
    }

    fn merge(&mut self, other: &Self) {
        self.requests += other.requests;
        self.ok += other.ok;
        self.throttled += other.throttled;
        self.auth_error += other.auth_error;
        self.business_error += other.business_error;
        self.injected_fault += other.injected_fault;
    }
}

/// A request label: service, API version, action (all static so recording never allocates).
pub(crate) type Label = (&'static str, &'static str, &'static str);

/// Counters per (service, version, action) and outcome.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    counts: Mutex<HashMap<Label, Counts>>,
    /// The query strings of the paged listings, in arrival order, so that a test can tell
    /// which pages a client read (OMS `ListTaskGroup`: which offsets, which status filter).
    queries: Mutex<BTreeMap<Label, Vec<String>>>,
}

/// The most query strings kept per action (a long benchmark keeps the first ones).
const MAX_QUERIES: usize = 100_000;

#[derive(Serialize)]
struct ServiceStats {
    total: Counts,
    versions: BTreeMap<&'static str, BTreeMap<&'static str, Counts>>,
}

#[derive(Serialize)]
struct Snapshot {
    total: Counts,
    services: BTreeMap<&'static str, ServiceStats>,
    /// Per service, per action: the query strings recorded with [`Stats::query`].
    queries: BTreeMap<&'static str, BTreeMap<&'static str, Vec<String>>>,
}

impl Stats {
    pub(crate) fn record(&self, label: Label, outcome: Outcome) {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        counts.entry(label).or_default().add(outcome);
    }

    /// Records the query string of a listing request (see [`Stats::queries`]).
    pub(crate) fn query(&self, label: Label, query: &str) {
        let mut queries = self
            .queries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let kept = queries.entry(label).or_default();
        if kept.len() < MAX_QUERIES {
            kept.push(query.to_owned());
        }
    }

    pub(crate) fn reset(&self) {
        self.counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        self.queries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    /// The JSON document served by `GET /_emulator/stats`.
    pub(crate) fn snapshot(&self) -> serde_json::Value {
        let counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let mut total = Counts::default();
        let mut services: BTreeMap<&'static str, ServiceStats> = BTreeMap::new();
        for ((service, version, action), count) in counts {
            total.merge(&count);
            let entry = services.entry(service).or_insert_with(|| ServiceStats {
                total: Counts::default(),
                versions: BTreeMap::new(),
            });
            entry.total.merge(&count);
            entry
                .versions
                .entry(version)
                .or_default()
                .entry(action)
                .or_default()
                .merge(&count);
        }
        let mut queries: BTreeMap<&'static str, BTreeMap<&'static str, Vec<String>>> =
            BTreeMap::new();
        for ((service, _, action), kept) in self
            .queries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            queries
                .entry(service)
                .or_default()
                .entry(action)
                .or_default()
                .extend(kept.iter().cloned());
        }
        serde_json::to_value(Snapshot {
            total,
            services,
            queries,
        })
        .unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_groups_by_service_version_action() {
        let stats = Stats::default();
        stats.record(
            ("tencent", "2018-03-30", "DescribeMigrateJobs"),
            Outcome::Ok,
        );
        stats.record(
            ("tencent", "2018-03-30", "DescribeMigrateJobs"),
            Outcome::Throttled,
        );
        stats.record(("huawei", "v2", "ListTaskGroup"), Outcome::AuthError);
        let snapshot = stats.snapshot();
        assert_eq!(snapshot["total"]["requests"], 3);
        let describe =
            &snapshot["services"]["tencent"]["versions"]["2018-03-30"]["DescribeMigrateJobs"];
        assert_eq!(describe["ok"], 1);
        assert_eq!(describe["throttled"], 1);
        assert_eq!(snapshot["services"]["huawei"]["total"]["auth_error"], 1);
        stats.reset();
        assert_eq!(stats.snapshot()["total"]["requests"], 0);
    }
}
