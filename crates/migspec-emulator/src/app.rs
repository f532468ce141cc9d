//! The state of a running emulator that every request handler shares: clock, timing,
//! credentials, fault configuration, rate limiter, statistics, and the world of jobs and
//! task groups with its store.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;

use crate::clock::Clock;
use crate::config::EmulatorConfig;
use crate::error::EmulatorError;
use crate::faults::{Draws, FaultConfig, FaultRng};
use crate::http::ApiRequest;
use crate::persist::Store;
use crate::ratelimit::RateLimiter;
use crate::stats::Stats;
use crate::tencent::engine::Timing;

/// Shared state of a running emulator. Generic over its world so that this module does not
/// name the handlers' state types (the handlers import it): `W` is `crate::world::World`,
/// whose `AsMut` impls give each handler its own part.
#[derive(Debug)]
pub(crate) struct App<W> {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) timing: Timing,
    /// Replaced as a whole by `PUT /_emulator/faults`; a request works with the snapshot
    /// it took when it arrived.
    faults: RwLock<Arc<ActiveFaults>>,
    pub(crate) tencent_keys: HashMap<String, String>,
    pub(crate) huawei_keys: HashMap<String, String>,
    pub(crate) huawei_tokens: HashSet<String>,
    pub(crate) limiter: RateLimiter,
    pub(crate) stats: Stats,
    /// Whether the emulator may be reached from other machines (admin requests may then
    /// name it by IP address).
    pub(crate) allow_remote: bool,
    world: Mutex<W>,
    store: Store,
}

impl<W: Serialize> App<W> {
    /// The emulator of `config` with the world loaded from its `store`.
    pub(crate) fn with_state(config: &EmulatorConfig, store: Store, world: W) -> Self {
        Self {
            clock: Arc::clone(&config.clock),
            timing: Timing::new(&config.durations, config.time_scale),
            faults: RwLock::new(Arc::new(ActiveFaults::new(config.faults.clone()))),
            tencent_keys: config
                .tencent_credentials
                .iter()
                .map(|c| (c.secret_id.clone(), c.secret_key.clone()))
                .collect(),
            huawei_keys: config
                .huawei_credentials
                .iter()
                .map(|c| (c.access_key.clone(), c.secret_key.clone()))
                .collect(),
            huawei_tokens: config.huawei_tokens.iter().cloned().collect(),
            limiter: RateLimiter::new(config.rate_limit_per_second),
            stats: Stats::default(),
            allow_remote: config.allow_remote,
            world: Mutex::new(world),
            store,
        }
    }

    /// Runs `f` on the world; when it reports a change, the new state is persisted.
    pub(crate) fn with_world<R>(&self, f: impl FnOnce(&mut W) -> (R, bool)) -> R {
        let mut world = self
            .world
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (result, changed) = f(&mut world);
        if changed && self.store.is_persistent() {
            let ticket = self.store.ticket();
            let bytes = Store::serialize(&*world);
            drop(world);
            if let Err(error) = self.store.save(ticket, &bytes) {
                report_persist_error(&error);
            }
        }
        result
    }

    /// The fault configuration in force, with its generator.
    pub(crate) fn faults(&self) -> Arc<ActiveFaults> {
        Arc::clone(
            &self
                .faults
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Replaces the fault configuration (and restarts its generator from its seed).
    pub(crate) fn set_faults(&self, config: FaultConfig) {
        *self
            .faults
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Arc::new(ActiveFaults::new(config));
    }

    /// Forgets every job, task group, statistic and rate-limit bucket, and restarts the
    /// fault generator, so that a reset emulator meets the same faults again.
    pub(crate) fn reset(&self)
    where
        W: Default,
    {
        self.with_world(|world| {
            *world = W::default();
            ((), true)
        });
        self.stats.reset();
        self.limiter.reset();
        self.faults().rng.reset();
    }
}

/// A fault configuration and the generator its random faults are drawn from.
#[derive(Debug)]
pub(crate) struct ActiveFaults {
    pub(crate) config: FaultConfig,
    pub(crate) rng: FaultRng,
}

impl ActiveFaults {
    fn new(config: FaultConfig) -> Self {
        let rng = FaultRng::new(config.seed);
        Self { config, rng }
    }

    /// The draws of one API request: from its method, path, query, the headers that name
    /// the action and region, and its body (not its signature or timestamp, which differ
    /// between two runs of the same client).
    pub(crate) fn draws(&self, request: &ApiRequest) -> Draws {
        if !self.config.any_request_fault() {
            return Draws::NONE;
        }
        let header = |name: &str| {
            request
                .headers
                .get(name)
                .map_or(&b""[..], hyper::header::HeaderValue::as_bytes)
        };
        self.rng.draws(&[
            request.method.as_str().as_bytes(),
            request.path.as_bytes(),
            request.raw_query.as_bytes(),
            header("x-tc-action"),
            header("x-tc-version"),
            header("x-tc-region"),
            &request.body,
        ])
    }
}

#[expect(
    clippy::print_stderr,
    reason = "a failed state write must be visible to whoever runs the emulator"
)]
fn report_persist_error(error: &EmulatorError) {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    eprintln!("migspec emulator: {text}");
}
