//! Fault injection: per-job rules matched by name, and request faults.
//!
//! Per-job rules are looked up with the job's *current* name (Tencent `JobName`, Huawei
//! `description`) each time the emulator has to decide an outcome: when a check starts,
//! when a migration (re)starts, when task creation begins.
//!
//! Request faults (dropped connections, injected throttling, internal errors, dropped
//! responses, latency) have global rates that [`FaultConfig::actions`] can override per
//! action. Each request gets its own stream of random draws ([`Draws`]), derived from the
//! seed, the request's content and how many identical requests came before it: with a
//! fixed `seed`, a request meets the same faults however it interleaves with concurrent
//! requests of other jobs, so a concurrent client run is reproducible request by request.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use sha2::{Digest, Sha256};

use serde::{Deserialize, Serialize};

/// Which cloud API a fault rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    /// Tencent Cloud DTS (both API versions).
    Tencent,
    /// Huawei Cloud OMS v2.
    Huawei,
}

/// How a 2021-12-06 DTS job reports an injected migration failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureKind {
    /// `resumableErr`: `ResumeMigrateJob` continues the job.
    #[default]
    Resumable,
    /// `failed`: only a Redis job can be resumed.
    Fatal,
}

/// A failing pre-check (Tencent) or failing task creation (Huawei, status 4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckFailure {
    /// The error text reported; a realistic default is used when absent.
    #[serde(default)]
    pub message: Option<String>,
    /// How many checks fail before one passes; absent means every check fails.
    #[serde(default)]
    pub times: Option<u32>,
    /// The Tencent 2021 check step that fails (`StepId`), default `DstEmptyCheck`.
    #[serde(default)]
    pub step: Option<String>,
}

/// A fault rule applied to the jobs and task groups whose name matches a glob.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// Glob (`*` any run of characters, `?` one character) matched against the Tencent
    /// `JobName` or the Huawei task-group `description`.
    #[serde(rename = "match")]
    pub pattern: String,
    /// Restricts the rule to one cloud; absent means both.
    #[serde(default)]
    pub service: Option<Service>,
    /// Makes checks (Tencent) or task creation (Huawei) fail.
    #[serde(default)]
    pub check_fail: Option<CheckFailure>,
    /// The migration fails when its progress reaches this percentage (0..=100).
    #[serde(default)]
    pub fail_at_percent: Option<u8>,
    /// How many failures happen (each cured by one resume / retry / restart) before the
    /// migration succeeds. Defaults to 1 when `fail_at_percent` is set, and a failure at
    /// 50 % is implied when only this is set.
    #[serde(default)]
    pub resumes_needed: Option<u32>,
    /// How a 2021 DTS job reports the failure.
    #[serde(default)]
    pub failure: FailureKind,
    /// The error text of an injected migration failure; a realistic default is used when absent.
    #[serde(default)]
    pub error_message: Option<String>,
}

impl FaultRule {
    /// A rule matching names against `pattern`, with no fault yet.
    #[must_use]
    pub fn matching(pattern: impl Into<String>) -> Self {
        Self {
            pattern: pattern.into(),
            ..Self::default()
        }
    }

    /// Adds a check failure (every check fails).
    #[must_use]
    pub fn check_fails(mut self, message: Option<&str>) -> Self {
        self.check_fail = Some(CheckFailure {
            message: message.map(str::to_owned),
            ..CheckFailure::default()
        });
        self
    }

    /// Adds a migration failure at `percent`.
    #[must_use]
    pub fn fail_at(mut self, percent: u8) -> Self {
        self.fail_at_percent = Some(percent);
        self
    }

    /// Sets how many resumes the job needs before it succeeds.
    #[must_use]
    pub fn resumes_needed(mut self, count: u32) -> Self {
        self.resumes_needed = Some(count);
        self
    }

    /// Sets how a 2021 DTS job reports the failure.
    #[must_use]
    pub fn failure(mut self, kind: FailureKind) -> Self {
        self.failure = kind;
        self
    }

    /// Restricts the rule to one service.
    #[must_use]
    pub fn for_service(mut self, service: Service) -> Self {
        self.service = Some(service);
        self
    }

    /// The migration failure plan: (first failure percent, number of failures).
    pub(crate) fn migration_failures(&self) -> Option<(u8, u32)> {
        match (self.fail_at_percent, self.resumes_needed) {
            (None, None) => None,
            (Some(p), None) => Some((p.min(100), 1)),
            (p, Some(n)) if n > 0 => Some((p.unwrap_or(50).min(100), n)),
            _ => None,
        }
    }

    fn applies(&self, service: Service, name: &str) -> bool {
        self.service.is_none_or(|s| s == service) && glob_match(&self.pattern, name)
    }
}

/// Fault injection settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultConfig {
    /// Seed of the generator behind the random faults; absent means a random seed.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Probability (0..=1) that an API request fails with `InternalError` (Tencent) or
    /// HTTP 500 (Huawei) before it is processed.
    #[serde(default)]
    pub internal_error_rate: f64,
    /// Probability (0..=1) that an API request is answered as throttled
    /// (`RequestLimitExceeded` / 429 `APIGW.0308`) before it is processed, whatever the
    /// rate limit says: servers throttle for reasons a client cannot see.
    #[serde(default)]
    pub throttle_rate: f64,
    /// Probability (0..=1) that the connection is closed without a response, before the
    /// request is processed.
    #[serde(default)]
    pub drop_connection_rate: f64,
    /// Probability (0..=1) that the request is processed but the connection is closed
    /// instead of sending the response (the client cannot know whether it took effect).
    #[serde(default)]
    pub drop_response_rate: f64,
    /// Extra delay added to every API response: fixed, uniform in a range, or exponential.
    #[serde(default)]
    pub latency: Latency,
    /// Overrides of the rates and latency above for one action, keyed by the action name
    /// (`StartMigrateJob`, `CreateTaskGroup`, …) or `VERSION/ACTION`
    /// (`2018-03-30/CreateMigrateCheckJob`, `v2/ListTaskGroup`), which wins.
    #[serde(default)]
    pub actions: BTreeMap<String, ActionFaults>,
    /// Per-job rules; the first matching rule applies.
    #[serde(default)]
    pub rules: Vec<FaultRule>,
}

/// Fault settings of one action; each absent field keeps the global value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionFaults {
    /// See [`FaultConfig::internal_error_rate`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_error_rate: Option<f64>,
    /// See [`FaultConfig::throttle_rate`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle_rate: Option<f64>,
    /// See [`FaultConfig::drop_connection_rate`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_connection_rate: Option<f64>,
    /// See [`FaultConfig::drop_response_rate`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_response_rate: Option<f64>,
    /// See [`FaultConfig::latency`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<Latency>,
}

/// How long an injected delay lasts, drawn per request.
///
/// Written as `20ms` (fixed; integer milliseconds too), `0ms..200ms` (uniform in the
/// range, both ends included) or `exp:40ms` (exponential with that mean, capped at ten
/// times the mean so one unlucky draw cannot stall a run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Latency {
    /// No added delay.
    #[default]
    None,
    /// Always this delay.
    Fixed(Duration),
    /// Uniform between the two (inclusive).
    Uniform {
        /// The shortest delay.
        min: Duration,
        /// The longest delay.
        max: Duration,
    },
    /// Exponentially distributed with this mean (a long tail, as real networks have),
    /// capped at ten times the mean.
    Exponential {
        /// The mean delay.
        mean: Duration,
    },
}

impl Latency {
    /// The delay for a uniform draw in `0..1`.
    #[must_use]
    pub fn sample(self, draw: f64) -> Duration {
        match self {
            Self::None => Duration::ZERO,
            Self::Fixed(delay) => delay,
            Self::Uniform { min, max } => {
                min + (max.saturating_sub(min)).mul_f64(draw.clamp(0.0, 1.0))
            }
            Self::Exponential { mean } => {
                // Inverse transform sampling: -ln(1 - u) is Exp(1).
                let factor = -(1.0 - draw.clamp(0.0, 1.0 - f64::EPSILON)).ln();
                mean.mul_f64(factor.min(10.0))
            }
        }
    }

    fn is_none(self) -> bool {
        matches!(self, Self::None) || self == Self::Fixed(Duration::ZERO)
    }
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |d: Duration| humantime::format_duration(d).to_string();
        match *self {
            Self::None => f.write_str("0s"),
            Self::Fixed(delay) => f.write_str(&show(delay)),
            Self::Uniform { min, max } => write!(f, "{}..{}", show(min), show(max)),
            Self::Exponential { mean } => write!(f, "exp:{}", show(mean)),
        }
    }
}

impl FromStr for Latency {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let duration = |part: &str| {
            let part = part.trim();
            if let Ok(ms) = part.parse::<u64>() {
                return Ok(Duration::from_millis(ms));
            }
            humantime::parse_duration(part)
                .map_err(|error| format!("invalid duration `{part}` in latency `{text}`: {error}"))
        };
        let text_trimmed = text.trim();
        if let Some(mean) = text_trimmed.strip_prefix("exp:") {
            let mean = duration(mean)?;
            return Ok(if mean.is_zero() {
                Self::None
            } else {
                Self::Exponential { mean }
            });
        }
        if let Some((min, max)) = text_trimmed.split_once("..") {
            let (min, max) = (duration(min)?, duration(max)?);
            if min > max {
                return Err(format!(
                    "latency range `{text}` has its minimum above its maximum; write MIN..MAX"
                ));
            }
            return Ok(Self::Uniform { min, max });
        }
        let delay = duration(text_trimmed).map_err(|error| {
            format!("{error} (expected e.g. `20ms`, `0ms..200ms` or `exp:40ms`)")
        })?;
        Ok(if delay.is_zero() {
            Self::None
        } else {
            Self::Fixed(delay)
        })
    }
}

impl Serialize for Latency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Latency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Millis(u64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Millis(0) => Ok(Self::None),
            Raw::Millis(ms) => Ok(Self::Fixed(Duration::from_millis(ms))),
            Raw::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// The request faults in force for one action.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Effective {
    pub(crate) internal_error_rate: f64,
    pub(crate) throttle_rate: f64,
    pub(crate) drop_connection_rate: f64,
    pub(crate) drop_response_rate: f64,
    pub(crate) latency: Latency,
}

/// What fault injection does to a request before it is processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Before {
    /// Process it.
    Proceed,
    /// Close the connection without answering.
    DropConnection,
    /// Answer as throttled.
    Throttle,
    /// Answer with an internal error.
    InternalError,
}

impl Effective {
    /// The fault (if any) injected before processing, from the request's draws.
    pub(crate) fn before(&self, draws: &Draws) -> Before {
        if draws.drop_connection < self.drop_connection_rate {
            Before::DropConnection
        } else if draws.throttle < self.throttle_rate {
            Before::Throttle
        } else if draws.internal_error < self.internal_error_rate {
            Before::InternalError
        } else {
            Before::Proceed
        }
    }

    /// Whether the answer of a processed request is dropped.
    pub(crate) fn drops_response(&self, draws: &Draws) -> bool {
        draws.drop_response < self.drop_response_rate
    }

    /// The delay added to the answer.
    pub(crate) fn latency(&self, draws: &Draws) -> Duration {
        self.latency.sample(draws.latency)
    }
}

impl FaultConfig {
    /// The first rule that applies to `name` on `service`.
    pub(crate) fn rule_for(&self, service: Service, name: &str) -> Option<&FaultRule> {
        self.rules.iter().find(|rule| rule.applies(service, name))
    }

    /// The request faults of `action` (of API `version`): its override, else the globals.
    pub(crate) fn effective(&self, version: &str, action: &str) -> Effective {
        // No key is built without overrides: this runs for every request.
        let own = if self.actions.is_empty() {
            None
        } else {
            self.actions
                .get(&format!("{version}/{action}"))
                .or_else(|| self.actions.get(action))
        };
        let pick = |value: Option<f64>, global: f64| value.unwrap_or(global);
        Effective {
            internal_error_rate: pick(
                own.and_then(|o| o.internal_error_rate),
                self.internal_error_rate,
            ),
            throttle_rate: pick(own.and_then(|o| o.throttle_rate), self.throttle_rate),
            drop_connection_rate: pick(
                own.and_then(|o| o.drop_connection_rate),
                self.drop_connection_rate,
            ),
            drop_response_rate: pick(
                own.and_then(|o| o.drop_response_rate),
                self.drop_response_rate,
            ),
            latency: own.and_then(|o| o.latency).unwrap_or(self.latency),
        }
    }

    /// Whether any request fault or latency can happen (so that draws are worth taking).
    pub(crate) fn any_request_fault(&self) -> bool {
        let rates = |e: &Effective| {
            e.internal_error_rate > 0.0
                || e.throttle_rate > 0.0
                || e.drop_connection_rate > 0.0
                || e.drop_response_rate > 0.0
                || !e.latency.is_none()
        };
        rates(&self.effective("", "")) || !self.actions.is_empty()
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        let mut rates = vec![
            ("internal_error_rate".to_owned(), self.internal_error_rate),
            ("throttle_rate".to_owned(), self.throttle_rate),
            ("drop_connection_rate".to_owned(), self.drop_connection_rate),
            ("drop_response_rate".to_owned(), self.drop_response_rate),
        ];
        for (action, own) in &self.actions {
            for (name, rate) in [
                ("internal_error_rate", own.internal_error_rate),
                ("throttle_rate", own.throttle_rate),
                ("drop_connection_rate", own.drop_connection_rate),
                ("drop_response_rate", own.drop_response_rate),
            ] {
                if let Some(rate) = rate {
                    rates.push((format!("actions.{action}.{name}"), rate));
                }
            }
        }
        for (name, rate) in rates {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("faults.{name} must be between 0 and 1, got {rate}"));
            }
        }
        if let Some(action) = self.actions.keys().find(|key| key.is_empty()) {
            return Err(format!(
                "faults.actions has an empty action name `{action}`; use names such as StartMigrateJob or 2018-03-30/StartMigrateJob"
            ));
        }
        for (index, rule) in self.rules.iter().enumerate() {
            if rule.pattern.is_empty() {
                return Err(format!("faults.rules[{index}].match must not be empty"));
            }
            if rule.fail_at_percent.is_some_and(|p| p > 100) {
                return Err(format!(
                    "faults.rules[{index}].fail_at_percent must be at most 100"
                ));
            }
        }
        Ok(())
    }
}

/// Matches `text` against a glob where `*` is any run of characters and `?` one character.
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// One SplitMix64 step: a fast, well-mixed 64-bit generator (Vigna), a few lines, so the
/// emulator needs no random-number crate and its streams never change with a dependency.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A draw in `0..1` from 53 random bits.
fn unit(state: &mut u64) -> f64 {
    #[expect(
        clippy::cast_precision_loss,
        reason = "53 bits of a random draw are plenty"
    )]
    let draw = (splitmix(state) >> 11) as f64 / (1u64 << 53) as f64;
    draw
}

/// The random draws of one request, each in `0..1`, one per kind of fault, so that
/// changing one rate never changes which requests meet another fault.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Draws {
    pub(crate) drop_connection: f64,
    pub(crate) throttle: f64,
    pub(crate) internal_error: f64,
    pub(crate) drop_response: f64,
    pub(crate) latency: f64,
}

impl Draws {
    /// Draws that trigger no fault (1.0 is above every rate).
    pub(crate) const NONE: Self = Self {
        drop_connection: 1.0,
        throttle: 1.0,
        internal_error: 1.0,
        drop_response: 1.0,
        latency: 0.0,
    };
}

/// Hands out each request's [`Draws`]: a stream seeded by (seed, digest of the request,
/// how many identical requests were seen before).
#[derive(Debug)]
pub(crate) struct FaultRng {
    seed: u64,
    seen: Mutex<HashMap<[u8; 16], u64>>,
}

/// Past this many distinct requests the occurrence counts start again (a bound on memory;
/// reproducibility only matters for runs far shorter than that).
const MAX_DISTINCT_REQUESTS: usize = 200_000;

impl FaultRng {
    pub(crate) fn new(seed: Option<u64>) -> Self {
        let seed = seed.unwrap_or_else(|| {
            let bytes = *uuid::Uuid::new_v4().as_bytes();
            u64::from_le_bytes([
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            ])
        });
        Self {
            seed,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// The draws of a request made of `parts` (method, path, query, the headers that
    /// choose the action, body). Signatures and timestamps must not be among the parts,
    /// or no two runs would ever agree.
    pub(crate) fn draws(&self, parts: &[&[u8]]) -> Draws {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        let digest = hasher.finalize();
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest[..16]);
        let occurrence = {
            let mut seen = self
                .seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if seen.len() >= MAX_DISTINCT_REQUESTS {
                seen.clear();
            }
            let count = seen.entry(key).or_insert(0);
            *count += 1;
            *count
        };
        let mut state = self.seed
            ^ u64::from_le_bytes([
                key[0], key[1], key[2], key[3], key[4], key[5], key[6], key[7],
            ])
            ^ occurrence.wrapping_mul(0xD6E8_FEB8_6659_FD93);
        Draws {
            drop_connection: unit(&mut state),
            throttle: unit(&mut state),
            internal_error: unit(&mut state),
            drop_response: unit(&mut state),
            latency: unit(&mut state),
        }
    }

    /// Forgets the occurrence counts (on reset), so a reset emulator replays its faults.
    pub(crate) fn reset(&self) {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_shell_patterns() {
        assert!(glob_match("orders-*", "orders-to-cdb"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "ac"));
        assert!(glob_match("*-fail-*", "job-fail-once"));
        assert!(!glob_match("orders", "orders-2"));
        assert!(glob_match("*a*b", "xxaxxb"));
        assert!(!glob_match("*a*b", "xxaxxbc"));
    }

    #[test]
    fn the_first_matching_rule_wins_and_service_restricts() {
        let config = FaultConfig {
            rules: vec![
                FaultRule::matching("media-*")
                    .for_service(Service::Huawei)
                    .fail_at(30),
                FaultRule::matching("*").check_fails(None),
            ],
            ..FaultConfig::default()
        };
        let tencent = config
            .rule_for(Service::Tencent, "media-archive")
            .expect("catch-all applies");
        assert!(tencent.check_fail.is_some());
        let huawei = config
            .rule_for(Service::Huawei, "media-archive")
            .expect("huawei rule applies");
        assert_eq!(huawei.migration_failures(), Some((30, 1)));
    }

    #[test]
    fn resumes_needed_alone_implies_a_failure_at_half_way() {
        assert_eq!(
            FaultRule::matching("x")
                .resumes_needed(3)
                .migration_failures(),
            Some((50, 3))
        );
        assert_eq!(FaultRule::matching("x").migration_failures(), None);
    }

    #[test]
    fn draws_depend_on_seed_request_and_occurrence_only() {
        let a = FaultRng::new(Some(7));
        let b = FaultRng::new(Some(7));
        // Interleaving other requests does not change a request's draws.
        let first_a = a.draws(&[b"POST", b"/", b"{\"JobId\":\"dts-1\"}"]);
        b.draws(&[b"POST", b"/", b"{}"]);
        let first_b = b.draws(&[b"POST", b"/", b"{\"JobId\":\"dts-1\"}"]);
        assert_eq!(first_a, first_b);
        // The same request again gets new draws; another seed gets others.
        let second_a = a.draws(&[b"POST", b"/", b"{\"JobId\":\"dts-1\"}"]);
        assert_ne!(first_a, second_a);
        let other = FaultRng::new(Some(8)).draws(&[b"POST", b"/", b"{\"JobId\":\"dts-1\"}"]);
        assert_ne!(first_a, other);
        // After a reset the stream starts again.
        a.reset();
        assert_eq!(a.draws(&[b"POST", b"/", b"{\"JobId\":\"dts-1\"}"]), first_a);
    }

    #[test]
    fn rates_are_met_over_many_requests() {
        let rng = FaultRng::new(Some(1));
        let effective = FaultConfig {
            internal_error_rate: 0.1,
            throttle_rate: 0.2,
            drop_connection_rate: 0.01,
            ..FaultConfig::default()
        }
        .effective("2018-03-30", "DescribeMigrateJobs");
        let mut counts = HashMap::new();
        for n in 0..20_000u32 {
            let body = n.to_string();
            let before = effective.before(&rng.draws(&[body.as_bytes()]));
            *counts.entry(format!("{before:?}")).or_insert(0u32) += 1;
        }
        // Each fault's share is its rate, after the faults drawn before it.
        let share = |name: &str| f64::from(counts.get(name).copied().unwrap_or(0)) / 20_000.0;
        assert!((share("DropConnection") - 0.01).abs() < 0.005, "{counts:?}");
        assert!((share("Throttle") - 0.99 * 0.2).abs() < 0.015, "{counts:?}");
        assert!(
            (share("InternalError") - 0.99 * 0.8 * 0.1).abs() < 0.01,
            "{counts:?}"
        );
    }

    #[test]
    fn latency_parses_and_samples_within_its_bounds() {
        let ms = Duration::from_millis;
        assert_eq!("20ms".parse::<Latency>(), Ok(Latency::Fixed(ms(20))));
        assert_eq!("150".parse::<Latency>(), Ok(Latency::Fixed(ms(150))));
        assert_eq!("0s".parse::<Latency>(), Ok(Latency::None));
        let uniform: Latency = "0ms..200ms".parse().expect("a range");
        assert_eq!(
            uniform,
            Latency::Uniform {
                min: ms(0),
                max: ms(200)
            }
        );
        assert_eq!(uniform.sample(0.0), ms(0));
        assert_eq!(uniform.sample(0.5), ms(100));
        assert_eq!(uniform.sample(1.0), ms(200));
        let exponential: Latency = "exp:40ms".parse().expect("a mean");
        assert_eq!(exponential.sample(0.0), ms(0));
        assert!(exponential.sample(0.5) > ms(27) && exponential.sample(0.5) < ms(28));
        assert_eq!(
            exponential.sample(1.0),
            ms(400),
            "capped at ten times the mean"
        );
        let error = "200ms..10ms".parse::<Latency>().expect_err("min above max");
        assert!(error.contains("MIN..MAX"), "{error}");
        let error = "fast".parse::<Latency>().expect_err("not a duration");
        assert!(error.contains("0ms..200ms"), "{error}");
        // The text form round-trips through serde.
        for text in ["20ms", "10ms..1s", "exp:40ms"] {
            let latency: Latency = text.parse().expect("valid");
            let json = serde_json::to_string(&latency).expect("serialize");
            let back: Latency = serde_json::from_str(&json).expect("deserialize");
            assert_eq!(back, latency, "{text} as {json}");
        }
    }

    #[test]
    fn action_overrides_win_over_globals_and_qualified_names_over_bare_ones() {
        let config = FaultConfig {
            internal_error_rate: 0.1,
            latency: Latency::Fixed(Duration::from_millis(5)),
            actions: BTreeMap::from([
                (
                    "StartMigrateJob".to_owned(),
                    ActionFaults {
                        internal_error_rate: Some(0.5),
                        ..ActionFaults::default()
                    },
                ),
                (
                    "2021-12-06/StartMigrateJob".to_owned(),
                    ActionFaults {
                        internal_error_rate: Some(0.9),
                        drop_response_rate: Some(1.0),
                        ..ActionFaults::default()
                    },
                ),
            ]),
            ..FaultConfig::default()
        };
        let v2018 = config.effective("2018-03-30", "StartMigrateJob");
        assert!((v2018.internal_error_rate - 0.5).abs() < f64::EPSILON);
        assert_eq!(v2018.latency, Latency::Fixed(Duration::from_millis(5)));
        let v2021 = config.effective("2021-12-06", "StartMigrateJob");
        assert!((v2021.internal_error_rate - 0.9).abs() < f64::EPSILON);
        assert!((v2021.drop_response_rate - 1.0).abs() < f64::EPSILON);
        let other = config.effective("2018-03-30", "DescribeMigrateJobs");
        assert!((other.internal_error_rate - 0.1).abs() < f64::EPSILON);
        let mut bad = config.clone();
        bad.actions
            .get_mut("StartMigrateJob")
            .expect("present")
            .throttle_rate = Some(1.5);
        let error = bad.validate().expect_err("rate above 1");
        assert!(
            error.contains("faults.actions.StartMigrateJob.throttle_rate"),
            "{error}"
        );
    }
}
