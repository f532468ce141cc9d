//! Emulator configuration: credentials, phase durations, rate limits, faults, state.
//!
//! [`EmulatorConfig`] is what [`crate::start`] takes. A config *file* (YAML, or JSON when
//! the name ends in `.json`) can set everything except credentials; see [`ConfigFile`]
//! and the crate README for its format.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock::{Clock, SystemClock};
use crate::error::EmulatorError;
use crate::faults::{FaultConfig, FaultRule};

/// SecretId of the Tencent credential accepted when none is configured.
pub const DEFAULT_TENCENT_SECRET_ID: &str = "AKIDMIGSPECEMULATOR0000000000000000";
/// SecretKey of the Tencent credential accepted when none is configured.
pub const DEFAULT_TENCENT_SECRET_KEY: &str = "migspecEmulatorSecretKey00000000";
/// Access key (AK) of the Huawei credential accepted when none is configured.
pub const DEFAULT_HUAWEI_AK: &str = "MIGSPECEMULATORAK000";
/// Secret key (SK) of the Huawei credential accepted when none is configured.
pub const DEFAULT_HUAWEI_SK: &str = "migspecEmulatorSecretKey0000000000000000";
/// `X-Auth-Token` accepted when no Huawei credential or token is configured.
pub const DEFAULT_HUAWEI_TOKEN: &str = "migspec-emulator-token";
/// The project id to use with the emulator. Any project id is accepted; task groups
/// are kept per project.
pub const DEFAULT_HUAWEI_PROJECT_ID: &str = "0123456789abcdef0123456789abcdef";
/// The default throttling threshold, per credential and action (the DTS documented limit).
pub const DEFAULT_RATE_LIMIT_PER_SECOND: u32 = 20;

/// A Tencent Cloud API key pair (`ID:KEY` on the command line).
#[derive(Clone, PartialEq, Eq)]
pub struct TencentCredential {
    /// The SecretId (`AKID…`).
    pub secret_id: String,
    /// The SecretKey.
    pub secret_key: String,
}

impl TencentCredential {
    /// A credential from its two halves.
    #[must_use]
    pub fn new(secret_id: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self {
            secret_id: secret_id.into(),
            secret_key: secret_key.into(),
        }
    }
}

impl std::fmt::Debug for TencentCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TencentCredential")
            .field("secret_id", &self.secret_id)
            .finish_non_exhaustive()
    }
}

impl FromStr for TencentCredential {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        split_pair(text)
            .map(|(id, key)| Self::new(id, key))
            .ok_or_else(|| "expected ID:KEY with both parts non-empty".to_owned())
    }
}

/// A Huawei Cloud AK/SK pair (`AK:SK` on the command line).
#[derive(Clone, PartialEq, Eq)]
pub struct HuaweiCredential {
    /// The access key id (AK).
    pub access_key: String,
    /// The secret access key (SK).
    pub secret_key: String,
}

impl HuaweiCredential {
    /// A credential from its two halves.
    #[must_use]
    pub fn new(access_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
        }
    }
}

impl std::fmt::Debug for HuaweiCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HuaweiCredential")
            .field("access_key", &self.access_key)
            .finish_non_exhaustive()
    }
}

impl FromStr for HuaweiCredential {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        split_pair(text)
            .map(|(ak, sk)| Self::new(ak, sk))
            .ok_or_else(|| "expected AK:SK with both parts non-empty".to_owned())
    }
}

fn split_pair(text: &str) -> Option<(&str, &str)> {
    let (left, right) = text.split_once(':')?;
    (!left.is_empty() && !right.is_empty()).then_some((left, right))
}

/// How long each simulated phase lasts before [`EmulatorConfig::time_scale`] is applied.
///
/// The defaults are short (well under a second) so that tests finish quickly; use a
/// time scale above 1 for demos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PhaseDurations {
    /// DTS 2021 `creating` → `created` after `CreateMigrationService`.
    #[serde(with = "duration_serde")]
    pub creating: Duration,
    /// A DTS check (`CreateMigrateCheckJob` until pass or fail).
    #[serde(with = "duration_serde")]
    pub checking: Duration,
    /// The full (non-incremental) DTS migration, dumper plus loader.
    #[serde(with = "duration_serde")]
    pub migrating: Duration,
    /// DTS `completing` → `success` after `CompleteMigrateJob`.
    #[serde(with = "duration_serde")]
    pub completing: Duration,
    /// DTS `stopping` → failed/canceled after `StopMigrateJob`.
    #[serde(with = "duration_serde")]
    pub stopping: Duration,
    /// DTS 2021 `pausing` → `manualPaused`.
    #[serde(with = "duration_serde")]
    pub pausing: Duration,
    /// DTS 2021 `resuming` → `running` after `ResumeMigrateJob`.
    #[serde(with = "duration_serde")]
    pub resuming: Duration,
    /// DTS 2021 trade status `isolating` → `isolated`.
    #[serde(with = "duration_serde")]
    pub isolating: Duration,
    /// DTS 2021 trade status `offlining` → `offlined` after `DestroyMigrateJob`.
    #[serde(with = "duration_serde")]
    pub offlining: Duration,
    /// OMS status 0 (waiting) before task creation starts.
    #[serde(with = "duration_serde")]
    pub oms_waiting: Duration,
    /// OMS status 1: the group creating its migration tasks.
    #[serde(with = "duration_serde")]
    pub oms_task_creation: Duration,
    /// OMS status 2: migrating every object of the group.
    #[serde(with = "duration_serde")]
    pub oms_migration: Duration,
    /// OMS status 7 (pausing) → 3 after a stop.
    #[serde(with = "duration_serde")]
    pub oms_pausing: Duration,
    /// OMS statuses 8 and 9 each last this long after a delete, then the group is gone.
    #[serde(with = "duration_serde")]
    pub oms_deleting: Duration,
}

impl Default for PhaseDurations {
    fn default() -> Self {
        let ms = Duration::from_millis;
        Self {
            creating: ms(100),
            checking: ms(200),
            migrating: ms(600),
            completing: ms(100),
            stopping: ms(100),
            pausing: ms(100),
            resuming: ms(100),
            isolating: ms(100),
            offlining: ms(100),
            oms_waiting: ms(50),
            oms_task_creation: ms(150),
            oms_migration: ms(600),
            oms_pausing: ms(100),
            oms_deleting: ms(100),
        }
    }
}

impl PhaseDurations {
    /// Every phase set to `duration` (handy in tests).
    #[must_use]
    pub fn uniform(duration: Duration) -> Self {
        Self {
            creating: duration,
            checking: duration,
            migrating: duration,
            completing: duration,
            stopping: duration,
            pausing: duration,
            resuming: duration,
            isolating: duration,
            offlining: duration,
            oms_waiting: duration,
            oms_task_creation: duration,
            oms_migration: duration,
            oms_pausing: duration,
            oms_deleting: duration,
        }
    }
}

/// Everything [`crate::start`] needs. Build it with [`EmulatorConfig::default`] and the
/// `with_*` methods, or set the public fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EmulatorConfig {
    /// Address to listen on; port 0 picks a free port. Defaults to `127.0.0.1:0`.
    pub listen: SocketAddr,
    /// Allow a non-loopback listen address.
    pub allow_remote: bool,
    /// Accepted Tencent credentials. Defaults to the documented default pair.
    pub tencent_credentials: Vec<TencentCredential>,
    /// Accepted Huawei AK/SK pairs. Defaults to the documented default pair.
    pub huawei_credentials: Vec<HuaweiCredential>,
    /// Accepted Huawei `X-Auth-Token` values. Defaults to [`DEFAULT_HUAWEI_TOKEN`].
    pub huawei_tokens: Vec<String>,
    /// Phase durations before scaling.
    pub durations: PhaseDurations,
    /// Multiplies every phase duration (2.0 = twice as slow).
    pub time_scale: f64,
    /// Fault injection.
    pub faults: FaultConfig,
    /// Throttling threshold, in requests per second per credential and action; 0 disables it.
    pub rate_limit_per_second: u32,
    /// Directory that keeps jobs and task groups across restarts; `None` keeps state in memory.
    pub state_dir: Option<PathBuf>,
    /// The clock behind every timed behaviour.
    pub clock: Arc<dyn Clock>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            allow_remote: false,
            tencent_credentials: vec![TencentCredential::new(
                DEFAULT_TENCENT_SECRET_ID,
                DEFAULT_TENCENT_SECRET_KEY,
            )],
            huawei_credentials: vec![HuaweiCredential::new(DEFAULT_HUAWEI_AK, DEFAULT_HUAWEI_SK)],
            huawei_tokens: vec![DEFAULT_HUAWEI_TOKEN.to_owned()],
            durations: PhaseDurations::default(),
            time_scale: 1.0,
            faults: FaultConfig::default(),
            rate_limit_per_second: DEFAULT_RATE_LIMIT_PER_SECOND,
            state_dir: None,
            clock: Arc::new(SystemClock),
        }
    }
}

impl EmulatorConfig {
    /// Sets the listen address.
    #[must_use]
    pub fn with_listen(mut self, listen: SocketAddr) -> Self {
        self.listen = listen;
        self
    }

    /// Replaces the accepted Tencent credentials.
    #[must_use]
    pub fn with_tencent_credentials(mut self, credentials: Vec<TencentCredential>) -> Self {
        self.tencent_credentials = credentials;
        self
    }

    /// Replaces the accepted Huawei AK/SK pairs.
    #[must_use]
    pub fn with_huawei_credentials(mut self, credentials: Vec<HuaweiCredential>) -> Self {
        self.huawei_credentials = credentials;
        self
    }

    /// Replaces the accepted Huawei tokens.
    #[must_use]
    pub fn with_huawei_tokens(mut self, tokens: Vec<String>) -> Self {
        self.huawei_tokens = tokens;
        self
    }

    /// Sets the phase durations.
    #[must_use]
    pub fn with_durations(mut self, durations: PhaseDurations) -> Self {
        self.durations = durations;
        self
    }

    /// Sets the time scale.
    #[must_use]
    pub fn with_time_scale(mut self, scale: f64) -> Self {
        self.time_scale = scale;
        self
    }

    /// Sets the fault configuration.
    #[must_use]
    pub fn with_faults(mut self, faults: FaultConfig) -> Self {
        self.faults = faults;
        self
    }

    /// Appends one fault rule.
    #[must_use]
    pub fn with_fault_rule(mut self, rule: FaultRule) -> Self {
        self.faults.rules.push(rule);
        self
    }

    /// Sets the throttling threshold (0 disables throttling).
    #[must_use]
    pub fn with_rate_limit_per_second(mut self, limit: u32) -> Self {
        self.rate_limit_per_second = limit;
        self
    }

    /// Keeps state under `dir`.
    #[must_use]
    pub fn with_state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }

    /// Uses `clock` for every timed behaviour (for example a [`crate::ManualClock`]).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Applies the settings of a config file on top of this configuration.
    pub fn apply_file(&mut self, file: ConfigFile) {
        let ConfigFile {
            durations,
            time_scale,
            rate_limit_per_second,
            faults,
        } = file;
        if let Some(durations) = durations {
            self.durations = durations;
        }
        if let Some(scale) = time_scale {
            self.time_scale = scale;
        }
        if let Some(limit) = rate_limit_per_second {
            self.rate_limit_per_second = limit;
        }
        if let Some(faults) = faults {
            self.faults = faults;
        }
    }

    /// Checks the values that cannot be expressed in the types.
    pub(crate) fn validate(&self) -> Result<(), EmulatorError> {
        if !self.allow_remote && !self.listen.ip().is_loopback() {
            return Err(EmulatorError::RemoteNotAllowed { addr: self.listen });
        }
        if !(self.time_scale.is_finite() && self.time_scale > 0.0) {
            return Err(EmulatorError::InvalidConfig {
                message: format!(
                    "time scale must be a positive number, got {}",
                    self.time_scale
                ),
            });
        }
        self.faults
            .validate()
            .map_err(|message| EmulatorError::InvalidConfig { message })
    }
}

/// The config file: every field is optional and overrides the default.
///
/// ```yaml
/// durations: {checking: 2s, migrating: 30s}
/// time_scale: 1.0
/// rate_limit_per_second: 20
/// faults:
///   seed: 7
///   internal_error_rate: 0.01
///   throttle_rate: 0.05
///   latency: 0ms..200ms
///   actions:
///     CreateMigrateJob: {drop_response_rate: 0.1}
///   rules:
///     - {match: "orders-*", check_fail: {message: "source unreachable", times: 1}}
///     - {match: "media-*", fail_at_percent: 40, resumes_needed: 2}
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Phase durations (humantime strings such as `250ms`, `2s`, `1m`, or milliseconds).
    #[serde(default)]
    pub durations: Option<PhaseDurations>,
    /// Multiplies every phase duration.
    #[serde(default)]
    pub time_scale: Option<f64>,
    /// Throttling threshold per credential and action; 0 disables throttling.
    #[serde(default)]
    pub rate_limit_per_second: Option<u32>,
    /// Fault injection.
    #[serde(default)]
    pub faults: Option<FaultConfig>,
}

impl ConfigFile {
    /// Reads a config file: JSON when the name ends in `.json`, YAML otherwise.
    ///
    /// # Errors
    /// [`EmulatorError::ConfigRead`] when the file cannot be read and
    /// [`EmulatorError::ConfigParse`] when its content is not a valid config.
    pub fn load(path: &Path) -> Result<Self, EmulatorError> {
        let text = std::fs::read_to_string(path).map_err(|source| EmulatorError::ConfigRead {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(
            &text,
            path.extension()
                .is_some_and(|ext| ext.eq_ignore_ascii_case("json")),
        )
        .map_err(|message| EmulatorError::ConfigParse {
            path: path.to_owned(),
            message,
        })
    }

    /// Parses config text (JSON when `json`, YAML otherwise).
    ///
    /// # Errors
    /// The parser's message when the text is not a valid config.
    pub fn parse(text: &str, json: bool) -> Result<Self, String> {
        if json {
            serde_json::from_str(text).map_err(|error| error.to_string())
        } else if text.trim().is_empty() {
            Ok(Self::default())
        } else {
            serde_saphyr::from_str(text).map_err(|error| error.to_string())
        }
    }
}

/// Serde helpers for durations written as humantime strings (`250ms`) or milliseconds.
pub(crate) mod duration_serde {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        duration: &Duration,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&humantime::format_duration(*duration).to_string())
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Millis(u64),
        Text(String),
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Duration, D::Error> {
        match Raw::deserialize(deserializer)? {
            Raw::Millis(ms) => Ok(Duration::from_millis(ms)),
            Raw::Text(text) => {
                humantime::parse_duration(text.trim()).map_err(serde::de::Error::custom)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_config_file_parses_durations_and_rules() {
        let text = "durations: {checking: 2s, migrating: 1500}\nrate_limit_per_second: 1000\nfaults:\n  latency: 5ms\n  rules:\n    - {match: \"orders-*\", fail_at_percent: 40, resumes_needed: 2}\n";
        let file = ConfigFile::parse(text, false).expect("valid config");
        let durations = file.durations.expect("durations set");
        assert_eq!(durations.checking, Duration::from_secs(2));
        assert_eq!(durations.migrating, Duration::from_millis(1500));
        assert_eq!(durations.creating, PhaseDurations::default().creating);
        let faults = file.faults.expect("faults set");
        assert_eq!(
            faults.latency,
            crate::Latency::Fixed(Duration::from_millis(5))
        );
        assert_eq!(faults.rules[0].migration_failures(), Some((40, 2)));
        let mut config = EmulatorConfig::default();
        config.apply_file(ConfigFile {
            rate_limit_per_second: Some(1000),
            ..ConfigFile::default()
        });
        assert_eq!(config.rate_limit_per_second, 1000);
    }

    #[test]
    fn json_config_file_parses_and_rejects_unknown_keys() {
        let file =
            ConfigFile::parse(r#"{"time_scale": 60, "faults": {"seed": 1}}"#, true).expect("valid");
        assert_eq!(file.time_scale, Some(60.0));
        let error = ConfigFile::parse(r#"{"timescale": 60}"#, true).expect_err("unknown key");
        assert!(error.contains("timescale"), "{error}");
    }

    #[test]
    fn credentials_parse_from_pairs() {
        let credential: TencentCredential = "AKIDx:secret:with:colons".parse().expect("valid");
        assert_eq!(credential.secret_key, "secret:with:colons");
        assert!("nocolon".parse::<HuaweiCredential>().is_err());
        assert!(":sk".parse::<HuaweiCredential>().is_err());
        assert!(!format!("{credential:?}").contains("with:colons"));
    }

    #[test]
    fn remote_listen_address_needs_allow_remote() {
        let config = EmulatorConfig::default().with_listen("0.0.0.0:0".parse().expect("addr"));
        assert!(matches!(
            config.validate(),
            Err(EmulatorError::RemoteNotAllowed { .. })
        ));
        let mut config = config;
        config.allow_remote = true;
        assert!(config.validate().is_ok());
    }
}
