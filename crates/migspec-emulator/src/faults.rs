//! Fault injection: per-job rules matched by name, and global request faults.
//!
//! Per-job rules are looked up with the job's *current* name (Tencent `JobName`, Huawei
//! `description`) each time the emulator has to decide an outcome: when a check starts,
//! when a migration (re)starts, when task creation begins. Global faults are drawn per
//! request from a seedable generator, so a run with a fixed `seed` is reproducible.

use std::sync::Mutex;
use std::time::Duration;

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
    /// Probability (0..=1) that the connection is closed without a response, before the
    /// request is processed.
    #[serde(default)]
    pub drop_connection_rate: f64,
    /// Probability (0..=1) that the request is processed but the connection is closed
    /// instead of sending the response (the client cannot know whether it took effect).
    #[serde(default)]
    pub drop_response_rate: f64,
    /// Extra delay added to every API response.
    #[serde(default, with = "crate::config::duration_serde")]
    pub latency: Duration,
    /// Per-job rules; the first matching rule applies.
    #[serde(default)]
    pub rules: Vec<FaultRule>,
}

impl FaultConfig {
    /// The first rule that applies to `name` on `service`.
    pub(crate) fn rule_for(&self, service: Service, name: &str) -> Option<&FaultRule> {
        self.rules.iter().find(|rule| rule.applies(service, name))
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("internal_error_rate", self.internal_error_rate),
            ("drop_connection_rate", self.drop_connection_rate),
            ("drop_response_rate", self.drop_response_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("faults.{name} must be between 0 and 1, got {rate}"));
            }
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

/// A small seedable generator (SplitMix64) for the random global faults.
#[derive(Debug)]
pub(crate) struct FaultRng {
    state: Mutex<u64>,
}

impl FaultRng {
    pub(crate) fn new(seed: Option<u64>) -> Self {
        let seed = seed.unwrap_or_else(|| {
            let bytes = *uuid::Uuid::new_v4().as_bytes();
            u64::from_le_bytes([
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            ])
        });
        Self {
            state: Mutex::new(seed),
        }
    }

    fn next_u64(&self) -> u64 {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// True with probability `rate`; never draws when `rate` is 0.
    pub(crate) fn chance(&self, rate: f64) -> bool {
        if rate <= 0.0 {
            return false;
        }
        #[expect(
            clippy::cast_precision_loss,
            reason = "53 bits of a random draw are plenty"
        )]
        let draw = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        draw < rate
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
    fn seeded_generator_is_reproducible() {
        let a = FaultRng::new(Some(7));
        let b = FaultRng::new(Some(7));
        let draws_a: Vec<bool> = (0..64).map(|_| a.chance(0.5)).collect();
        let draws_b: Vec<bool> = (0..64).map(|_| b.chance(0.5)).collect();
        assert_eq!(draws_a, draws_b);
        assert!(draws_a.iter().any(|&d| d) && draws_a.iter().any(|&d| !d));
        assert!(!a.chance(0.0));
    }
}
