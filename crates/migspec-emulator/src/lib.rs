//! A local emulator of the Tencent Cloud DTS and Huawei Cloud OMS v2 APIs, so that
//! migspec (and the official SDKs) can be developed, tested, benchmarked and demonstrated
//! without a cloud account.
//!
//! It is an independent reading of the API references: it keeps its own wire types and
//! its own signature verifiers (TC3-HMAC-SHA256 and SDK-HMAC-SHA256) and shares nothing
//! with migspec's clients, so that a field-name bug in a client fails a test instead of
//! being mirrored here. It emulates:
//!
//! - **Tencent DTS** on `POST /` (and `GET /?…`), both API versions, dispatched on
//!   (`X-TC-Version`, `X-TC-Action`): the 2018-03-30 `*MigrateJob*` actions with integer
//!   statuses and the 2021-12-06 `*Migration*` actions with string statuses and
//!   `TradeInfo`, the documented state machines, errors as HTTP 200 with
//!   `Content-Type: application/json`;
//! - **Huawei OMS v2** task groups under `/v2/{project_id}/taskgroups`, statuses 0–9,
//!   errors as 4xx `{"error_code","error_msg"}`;
//! - throttling (20 requests/s per credential and action by default), fault injection
//!   (failing checks, migrations that fail at a given percentage, internal errors,
//!   throttled answers, random latency, dropped connections and dropped responses, per
//!   action and reproducible from a seed), statistics, and optional persistence.
//!
//! Jobs progress over time without a background task: every request replays the phase
//! changes that became due, so with a [`ManualClock`] tests are fully deterministic.
//!
//! Start with [`start`] (or [`EmulatorConfig::start`]) in a tokio runtime, or run
//! `migspec emulator` (see [`cli`]).
//!
//! ```
//! use std::io::{Read, Write};
//!
//! let runtime = tokio::runtime::Runtime::new().expect("runtime");
//! let emulator = runtime.block_on(migspec_emulator::start(migspec_emulator::EmulatorConfig::default())).expect("start");
//! assert!(emulator.url().starts_with("http://127.0.0.1:"));
//!
//! let mut stream = std::net::TcpStream::connect(emulator.addr()).expect("connect");
//! // The admin endpoints answer loopback `Host`s only (a web page cannot reach them).
//! stream.write_all(b"GET /_emulator/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").expect("send");
//! let mut answer = String::new();
//! stream.read_to_string(&mut answer).expect("read");
//! assert!(answer.starts_with("HTTP/1.1 200 OK"));
//! assert!(answer.contains(r#""status":"ok""#));
//!
//! runtime.block_on(emulator.shutdown());
//! ```

mod admin_guard;
mod app;
pub mod cli;
mod clock;
mod config;
mod encoding;
mod error;
mod faults;
mod fragment;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod http;
mod huawei;
mod objects;
mod persist;
mod ratelimit;
mod schema;
mod server;
mod stats;
mod tencent;
mod world;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{
    ConfigFile, DEFAULT_HUAWEI_AK, DEFAULT_HUAWEI_PROJECT_ID, DEFAULT_HUAWEI_SK,
    DEFAULT_HUAWEI_TOKEN, DEFAULT_RATE_LIMIT_PER_SECOND, DEFAULT_TENCENT_SECRET_ID,
    DEFAULT_TENCENT_SECRET_KEY, EmulatorConfig, HuaweiCredential, PhaseDurations,
    TencentCredential,
};
pub use error::EmulatorError;
pub use faults::{
    ActionFaults, CheckFailure, FailureKind, FaultConfig, FaultRule, Latency, Service,
};
pub use server::{RunningEmulator, start};

impl EmulatorConfig {
    /// Starts an emulator with this configuration (same as [`start`]).
    ///
    /// # Errors
    /// See [`start`].
    pub async fn start(self) -> Result<RunningEmulator, EmulatorError> {
        start(self).await
    }
}

/// Entry point for building an emulator: `Emulator::builder().with_…(…).start().await`.
#[derive(Debug, Clone, Copy)]
pub struct Emulator;

impl Emulator {
    /// The default configuration, to customise with the `with_*` methods of
    /// [`EmulatorConfig`] and then [`EmulatorConfig::start`].
    #[must_use]
    pub fn builder() -> EmulatorConfig {
        EmulatorConfig::default()
    }
}
