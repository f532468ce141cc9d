//! Provider settings: endpoint, credentials, project, timeouts and declared rate limits.
//!
//! Credentials are looked up in this order, the first complete source winning:
//!
//! 1. explicit configuration ([`HuaweiConfig::with_credentials`]);
//! 2. the environment: `HUAWEICLOUD_SDK_AK` and `HUAWEICLOUD_SDK_SK` (plus
//!    `HUAWEICLOUD_SDK_SECURITY_TOKEN` for temporary credentials);
//! 3. the SDK's credentials file, `HUAWEICLOUD_SDK_CREDENTIALS_FILE` or
//!    `~/.huaweicloud/credentials`: INI, section `[basic]`, keys `ak`, `sk`, `project_id`,
//!    `security_token`.
//!
//! The project id follows the same order (`HUAWEICLOUD_SDK_PROJECT_ID`, then the file's
//! `project_id`); a spec's own `project_id` overrides all of them.
//!
//! The endpoint is `https://oms.{region}.myhuaweicloud.com` unless overridden by
//! [`HuaweiConfig::with_endpoint`] or `MIGSPEC_HUAWEI_OMS_ENDPOINT` (one endpoint for every
//! region, e.g. the emulator). Plain `http://` is accepted only for loopback addresses.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use migspec_spec::secret::Secret;

/// The environment variable overriding the OMS endpoint for every region.
pub const ENDPOINT_ENV: &str = "MIGSPEC_HUAWEI_OMS_ENDPOINT";
/// The SDK's access key variable.
pub const AK_ENV: &str = "HUAWEICLOUD_SDK_AK";
/// The SDK's secret key variable.
pub const SK_ENV: &str = "HUAWEICLOUD_SDK_SK";
/// The SDK's project id variable.
pub const PROJECT_ID_ENV: &str = "HUAWEICLOUD_SDK_PROJECT_ID";
/// The SDK's security token variable (temporary credentials).
pub const SECURITY_TOKEN_ENV: &str = "HUAWEICLOUD_SDK_SECURITY_TOKEN";
/// The variables above that hold credentials: a spec's `fromEnv` may not name them (they
/// would send migspec's own cloud keys to a bucket). The project id is not a secret.
pub const CREDENTIAL_ENV: &[&str] = &[AK_ENV, SK_ENV, SECURITY_TOKEN_ENV];
/// The SDK's variable naming the credentials file.
pub const CREDENTIALS_FILE_ENV: &str = "HUAWEICLOUD_SDK_CREDENTIALS_FILE";

/// How requests authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// AK/SK signing (`SDK-HMAC-SHA256`), optionally with an STS security token.
    AccessKey {
        /// The access key id (AK). Not secret, but kept as a [`Secret`] all the same.
        access_key: Secret,
        /// The secret access key (SK).
        secret_key: Secret,
        /// The STS token of temporary credentials (`X-Security-Token`, signed).
        security_token: Option<Secret>,
    },
    /// An IAM token sent as `X-Auth-Token` (no signing).
    Token(Secret),
}

impl Credentials {
    /// AK/SK credentials.
    #[must_use]
    pub fn access_key(access_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self::AccessKey {
            access_key: Secret::new(access_key),
            secret_key: Secret::new(secret_key),
            security_token: None,
        }
    }

    /// Adds an STS security token to AK/SK credentials (ignored for a token).
    #[must_use]
    pub fn with_security_token(self, token: impl Into<String>) -> Self {
        match self {
            Self::AccessKey {
                access_key,
                secret_key,
                ..
            } => Self::AccessKey {
                access_key,
                secret_key,
                security_token: Some(Secret::new(token)),
            },
            other @ Self::Token(_) => other,
        }
    }

    /// IAM token credentials (`X-Auth-Token`).
    #[must_use]
    pub fn token(token: impl Into<String>) -> Self {
        Self::Token(Secret::new(token))
    }
}

/// The time source for `X-Sdk-Date` (the system clock unless a test sets another).
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> SystemTime + Send + Sync>);

impl Clock {
    /// The system clock.
    #[must_use]
    pub fn system() -> Self {
        Self(Arc::new(SystemTime::now))
    }

    /// A clock reading `now`.
    #[must_use]
    pub fn from_fn(now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        Self(Arc::new(now))
    }

    /// The current time.
    #[must_use]
    pub fn now(&self) -> SystemTime {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Clock")
    }
}

/// Everything [`crate::HuaweiOmsProvider::new`] needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HuaweiConfig {
    /// One endpoint for every region (`https://…`, or `http://` on loopback); `None` uses
    /// `https://oms.{region}.myhuaweicloud.com`.
    pub endpoint: Option<String>,
    /// How to authenticate; `None` fails the first API call with a message naming the
    /// variables to set.
    pub credentials: Option<Credentials>,
    /// Where the credentials came from (`HUAWEICLOUD_SDK_AK/HUAWEICLOUD_SDK_SK`, a file
    /// path, `explicit configuration`): logged and named in auth errors, never the keys.
    pub credential_source: String,
    /// The project id used when a spec names none.
    pub project_id: Option<String>,
    /// Connection timeout.
    pub connect_timeout: Duration,
    /// Whole-request timeout.
    pub request_timeout: Duration,
    /// The request limit per API operation declared in `describe().rate_limits`, which the
    /// runner's call gate paces requests by (0: none declared). Retries and backoff are the
    /// runner's.
    pub rate_limit_per_second: u32,
    /// How long the runner waits before the first poll of an asynchronous step (its later
    /// polls back off from this).
    pub poll_interval: Duration,
    /// The `User-Agent` sent (and signed).
    pub user_agent: String,
    /// The time source for `X-Sdk-Date`.
    pub clock: Clock,
}

impl Default for HuaweiConfig {
    fn default() -> Self {
        Self {
            endpoint: None,
            credentials: None,
            credential_source: "none".to_owned(),
            project_id: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            rate_limit_per_second: 20,
            poll_interval: Duration::from_millis(500),
            user_agent: format!("migspec-huawei-oms/{}", env!("CARGO_PKG_VERSION")),
            clock: Clock::system(),
        }
    }
}

impl HuaweiConfig {
    /// The defaults, completed from the process environment and the SDK credentials file.
    ///
    /// # Errors
    ///
    /// When the credentials file exists but cannot be read.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::default().fill_from_env()
    }

    /// Completes what is not set explicitly from the process environment and the SDK
    /// credentials file (see the module documentation for the order).
    ///
    /// # Errors
    ///
    /// When the credentials file exists but cannot be read.
    pub fn fill_from_env(self) -> Result<Self, ConfigError> {
        self.fill_from(&|name: &str| std::env::var(name).ok())
    }

    /// [`HuaweiConfig::fill_from_env`] with another variable source (for tests and
    /// settings files).
    ///
    /// # Errors
    ///
    /// When the credentials file exists but cannot be read.
    pub fn fill_from(
        mut self,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let var = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        if self.endpoint.is_none() {
            self.endpoint = var(ENDPOINT_ENV);
        }
        if self.credentials.is_none()
            && let (Some(access_key), Some(secret_key)) = (var(AK_ENV), var(SK_ENV))
        {
            let mut credentials = Credentials::access_key(access_key, secret_key);
            if let Some(token) = var(SECURITY_TOKEN_ENV) {
                credentials = credentials.with_security_token(token);
            }
            self.credentials = Some(credentials);
            self.credential_source = format!("{AK_ENV}/{SK_ENV}");
        }
        if self.project_id.is_none() {
            self.project_id = var(PROJECT_ID_ENV);
        }
        if self.credentials.is_none() || self.project_id.is_none() {
            let path = var(CREDENTIALS_FILE_ENV).map(PathBuf::from).or_else(|| {
                var("HOME")
                    .or_else(|| var("USERPROFILE"))
                    .map(|home| Path::new(&home).join(".huaweicloud").join("credentials"))
            });
            if let Some(path) = path
                && path.is_file()
            {
                let text = std::fs::read_to_string(&path).map_err(|error| {
                    ConfigError::CredentialsFile {
                        path: path.clone(),
                        message: error.to_string(),
                    }
                })?;
                let file = CredentialsFile::parse(&text);
                if self.credentials.is_none()
                    && let (Some(access_key), Some(secret_key)) = (file.ak, file.sk)
                {
                    let mut credentials = Credentials::access_key(access_key, secret_key);
                    if let Some(token) = file.security_token {
                        credentials = credentials.with_security_token(token);
                    }
                    self.credentials = Some(credentials);
                    self.credential_source = path.display().to_string();
                }
                if self.project_id.is_none() {
                    self.project_id = file.project_id;
                }
            }
        }
        Ok(self)
    }

    /// Sends every request to `endpoint` (checked by [`crate::HuaweiOmsProvider::new`]).
    #[must_use]
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Sets the credentials.
    #[must_use]
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self.credential_source = "explicit configuration".to_owned();
        self
    }

    /// Sets the default project id.
    #[must_use]
    pub fn with_project_id(mut self, project_id: impl Into<String>) -> Self {
        self.project_id = Some(project_id.into());
        self
    }

    /// Sets the connection and whole-request timeouts.
    #[must_use]
    pub fn with_timeouts(mut self, connect: Duration, request: Duration) -> Self {
        self.connect_timeout = connect;
        self.request_timeout = request;
        self
    }

    /// Sets the declared limit per operation (0: none declared).
    #[must_use]
    pub fn with_rate_limit_per_second(mut self, per_second: u32) -> Self {
        self.rate_limit_per_second = per_second;
        self
    }

    /// Sets how long the runner waits before polling an asynchronous step.
    #[must_use]
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Sets the time source for `X-Sdk-Date`.
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }
}

/// What the SDK credentials file holds (section `[basic]`).
#[derive(Debug, Default, PartialEq, Eq)]
struct CredentialsFile {
    ak: Option<String>,
    sk: Option<String>,
    project_id: Option<String>,
    security_token: Option<String>,
}

impl CredentialsFile {
    fn parse(text: &str) -> Self {
        let mut file = Self::default();
        let mut in_basic = false;
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                in_basic = section.trim().eq_ignore_ascii_case("basic");
                continue;
            }
            if !in_basic {
                continue;
            }
            let Some((key, value)) = line.split_once('=').or_else(|| line.split_once(':')) else {
                continue;
            };
            let value = Some(value.trim().to_owned()).filter(|value| !value.is_empty());
            match key.trim().to_ascii_lowercase().as_str() {
                "ak" => file.ak = value,
                "sk" => file.sk = value,
                "project_id" => file.project_id = value,
                "security_token" => file.security_token = value,
                _ => {}
            }
        }
        file
    }
}

/// A setting that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The endpoint is not a usable URL.
    #[error("invalid Huawei OMS endpoint `{endpoint}`: {reason}")]
    InvalidEndpoint {
        /// The endpoint as configured.
        endpoint: String,
        /// What is wrong with it, and what to do.
        reason: String,
    },
    /// Plain HTTP to a host that is not loopback: credentials-bearing requests would travel
    /// in clear text.
    #[error(
        "refusing plain http:// endpoint `{endpoint}`: only loopback addresses (127.0.0.1, ::1, localhost) may use http; use https://"
    )]
    InsecureEndpoint {
        /// The endpoint as configured.
        endpoint: String,
    },
    /// The region cannot form an endpoint host name.
    #[error(
        "invalid Huawei Cloud region `{region}`: expected lower-case letters, digits and `-` such as `cn-north-4`"
    )]
    InvalidRegion {
        /// The region.
        region: String,
    },
    /// The credentials file exists but cannot be read.
    #[error("cannot read Huawei Cloud credentials file `{}`: {message}", path.display())]
    CredentialsFile {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {message}")]
    Client {
        /// Why.
        message: String,
    },
    /// A numeric setting is out of range.
    #[error("{message}")]
    Setting {
        /// What is wrong and what to do.
        message: String,
    },
}

/// Checks an endpoint override and returns its normalised base URL (no trailing `/`).
pub(crate) fn check_endpoint(endpoint: &str) -> Result<reqwest::Url, ConfigError> {
    let trimmed = endpoint.trim();
    let text = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("https://{trimmed}")
    };
    let invalid = |reason: &str| ConfigError::InvalidEndpoint {
        endpoint: endpoint.to_owned(),
        reason: reason.to_owned(),
    };
    let url = reqwest::Url::parse(&text).map_err(|error| invalid(&error.to_string()))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("credentials do not belong in the endpoint URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("the endpoint must not have a query or fragment"));
    }
    if url.path() != "/" && !url.path().is_empty() {
        return Err(invalid(
            "the endpoint must not have a path; requests go to /v2/{project_id}/…",
        ));
    }
    match url.scheme() {
        "https" => {}
        "http" => {
            if !migspec_provider::transport::is_loopback_url(&url) {
                return Err(ConfigError::InsecureEndpoint {
                    endpoint: endpoint.to_owned(),
                });
            }
        }
        other => return Err(invalid(&format!("unsupported scheme `{other}`; use https"))),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("the endpoint has no host"));
    }
    Ok(url)
}

/// The default endpoint of a region.
pub(crate) fn region_endpoint(region: &str) -> Result<reqwest::Url, ConfigError> {
    let valid = !region.is_empty()
        && region.len() <= 64
        && region
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
    if !valid {
        return Err(ConfigError::InvalidRegion {
            region: region.to_owned(),
        });
    }
    reqwest::Url::parse(&format!("https://oms.{region}.myhuaweicloud.com")).map_err(|error| {
        ConfigError::InvalidRegion {
            region: format!("{region} ({error})"),
        }
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn environment_fills_what_is_not_explicit() {
        let config = HuaweiConfig::default()
            .fill_from(&lookup(&[
                (AK_ENV, "ENVAK"),
                (SK_ENV, "ENVSK"),
                (SECURITY_TOKEN_ENV, "STS"),
                (PROJECT_ID_ENV, "envproject"),
                (ENDPOINT_ENV, "http://127.0.0.1:9"),
                ("HOME", "/nonexistent-home"),
            ]))
            .unwrap();
        assert_eq!(
            config.credentials,
            Some(Credentials::access_key("ENVAK", "ENVSK").with_security_token("STS"))
        );
        assert_eq!(config.project_id.as_deref(), Some("envproject"));
        assert_eq!(config.endpoint.as_deref(), Some("http://127.0.0.1:9"));

        let explicit = HuaweiConfig::default()
            .with_credentials(Credentials::token("tok"))
            .with_project_id("mine")
            .fill_from(&lookup(&[
                (AK_ENV, "ENVAK"),
                (SK_ENV, "ENVSK"),
                (PROJECT_ID_ENV, "env"),
            ]))
            .unwrap();
        assert_eq!(explicit.credentials, Some(Credentials::token("tok")));
        assert_eq!(explicit.project_id.as_deref(), Some("mine"));
    }

    #[test]
    fn credentials_file_comes_after_the_environment() {
        let dir = std::env::temp_dir().join(format!("migspec-hw-creds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("credentials");
        std::fs::write(
            &path,
            "# comment\n[global]\nak = GLOBALAK\n[basic]\nak = FILEAK\nsk= FILESK \nproject_id = fileproject\nsecurity_token = FILETOKEN\n",
        )
        .unwrap();
        let file = path.to_string_lossy().into_owned();
        let config = HuaweiConfig::default()
            .fill_from(&lookup(&[(CREDENTIALS_FILE_ENV, &file)]))
            .unwrap();
        assert_eq!(
            config.credentials,
            Some(Credentials::access_key("FILEAK", "FILESK").with_security_token("FILETOKEN"))
        );
        assert_eq!(config.project_id.as_deref(), Some("fileproject"));

        let env_first = HuaweiConfig::default()
            .fill_from(&lookup(&[
                (CREDENTIALS_FILE_ENV, &file),
                (AK_ENV, "ENVAK"),
                (SK_ENV, "ENVSK"),
            ]))
            .unwrap();
        assert_eq!(
            env_first.credentials,
            Some(Credentials::access_key("ENVAK", "ENVSK"))
        );
        assert_eq!(env_first.project_id.as_deref(), Some("fileproject"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn debug_output_never_shows_keys() {
        let config =
            HuaweiConfig::default().with_credentials(Credentials::access_key("AKVALUE", "SKVALUE"));
        let text = format!("{config:?}");
        assert!(
            !text.contains("AKVALUE") && !text.contains("SKVALUE"),
            "{text}"
        );
    }

    #[test]
    fn endpoints_allow_http_only_on_loopback() {
        assert_eq!(
            check_endpoint("http://127.0.0.1:8080").unwrap().as_str(),
            "http://127.0.0.1:8080/"
        );
        assert!(check_endpoint("http://[::1]:80").is_ok());
        assert!(check_endpoint("http://localhost:1").is_ok());
        assert!(check_endpoint("https://oms.example.com").is_ok());
        assert_eq!(
            check_endpoint("oms.example.com").unwrap().scheme(),
            "https",
            "no scheme means https, like the SDK"
        );
        assert!(matches!(
            check_endpoint("http://10.0.0.1:80"),
            Err(ConfigError::InsecureEndpoint { .. })
        ));
        assert!(matches!(
            check_endpoint("http://oms.example.com"),
            Err(ConfigError::InsecureEndpoint { .. })
        ));
        assert!(matches!(
            check_endpoint("ftp://127.0.0.1"),
            Err(ConfigError::InvalidEndpoint { .. })
        ));
        assert!(matches!(
            check_endpoint("https://host/v2"),
            Err(ConfigError::InvalidEndpoint { .. })
        ));
        let message = check_endpoint("http://10.1.2.3").unwrap_err().to_string();
        assert!(message.contains("use https://"), "{message}");
    }

    #[test]
    fn region_endpoints_follow_the_sdk_pattern() {
        assert_eq!(
            region_endpoint("cn-north-4").unwrap().as_str(),
            "https://oms.cn-north-4.myhuaweicloud.com/"
        );
        assert!(region_endpoint("evil.com/x").is_err());
        assert!(region_endpoint("").is_err());
    }
}
