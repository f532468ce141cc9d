//! Provider settings: credentials, default region, endpoint, timeouts, retries, rate limits.
//!
//! [`TencentConfig::from_env`] reads what the official tools read (reference §5); the
//! runner may then override fields from the project file (`migspec.yaml`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::credentials::{Credentials, Locations};
use crate::endpoint::Endpoint;
pub use crate::env::ENV_REGION;
use crate::env::{ENV_ENDPOINT, ENV_PROFILE};
pub use crate::error::ConfigError;

/// The documented limit of every DTS action, in requests per second.
pub const DOCUMENTED_RATE_LIMIT: u32 = 20;

/// The clock requests are signed with (seconds since the Unix epoch). Tests use a fixed
/// or manual clock; everything else uses [`Clock::system`].
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> i64 + Send + Sync>);

impl Clock {
    /// The system clock.
    #[must_use]
    pub fn system() -> Self {
        Self(Arc::new(|| {
            let since = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or(Duration::ZERO);
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        }))
    }

    /// A clock reading `now`.
    #[must_use]
    pub fn from_fn(now: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        Self(Arc::new(now))
    }

    /// Seconds since the Unix epoch.
    #[must_use]
    pub fn now(&self) -> i64 {
        (self.0)()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Clock")
    }
}

/// Everything the provider needs. Build it with [`TencentConfig::from_env`] (or
/// [`TencentConfig::default`]) and the `with_*` methods.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TencentConfig {
    /// The credentials; `None` makes every API call fail with a message that names
    /// the variables and files looked at (planning and validation still work).
    pub credentials: Option<Credentials>,
    /// Why no credentials were found, for that message.
    pub missing_credentials: Option<String>,
    /// Region used when a request names none (import without a location).
    pub default_region: Option<String>,
    /// Which host requests go to.
    pub endpoint: Endpoint,
    /// `X-TC-Language`: `en-US` (default here) or `zh-CN` (the SDKs' default).
    pub language: String,
    /// `X-TC-RequestClient`.
    pub request_client: String,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Timeout of one HTTP request (connect, send, wait, read).
    pub request_timeout: Duration,
    /// The request limit per API action declared in `describe().rate_limits`, which the
    /// runner's call gate paces requests by (0: no declared limit). Retries and backoff are
    /// the runner's, not the client's.
    pub rate_limit_per_second: u32,
    /// How long the runner should wait before polling an in-flight step: the phase's
    /// expected duration, short by default (the runner's later polls back off from it).
    pub poll_after: Duration,
    /// The signing clock.
    pub clock: Clock,
}

impl Default for TencentConfig {
    fn default() -> Self {
        Self {
            credentials: None,
            missing_credentials: None,
            default_region: None,
            endpoint: Endpoint::Default,
            language: "en-US".to_owned(),
            request_client: format!("migspec/{}", env!("CARGO_PKG_VERSION")),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            rate_limit_per_second: DOCUMENTED_RATE_LIMIT,
            poll_after: Duration::from_millis(500),
            clock: Clock::system(),
        }
    }
}

impl TencentConfig {
    /// Reads the process environment and the files the official tools read: credentials
    /// (`TENCENTCLOUD_SECRET_ID`/`_KEY`/`_TOKEN`, then the SDK's `~/.tencentcloud/credentials`
    /// or `/etc/tencentcloud/credentials`, then `~/.tccli/<TCCLI_PROFILE>.credential`), the
    /// region (`TENCENTCLOUD_REGION`, then `_sys_param.region` of tccli's
    /// `~/.tccli/<TCCLI_PROFILE>.configure`) and `MIGSPEC_TENCENT_ENDPOINT`.
    ///
    /// # Errors
    ///
    /// When a source is present but unusable (see [`Credentials::resolve`]) or the endpoint
    /// override is invalid. Finding no credentials at all is not an error here.
    pub fn from_env() -> Result<Self, ConfigError> {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        Self::from_environment(&|name| std::env::var(name).ok(), home.as_deref())
    }

    /// [`TencentConfig::from_env`] with the environment read through `lookup` and the home
    /// directory given (for tests and for runners that sandbox the environment).
    ///
    /// # Errors
    ///
    /// As [`TencentConfig::from_env`].
    pub fn from_environment(
        lookup: &dyn Fn(&str) -> Option<String>,
        home: Option<&Path>,
    ) -> Result<Self, ConfigError> {
        Self::from_locations(lookup, Locations::new(home))
    }

    /// [`TencentConfig::from_environment`] with every file location given (tests point the
    /// system-wide credentials file elsewhere).
    ///
    /// # Errors
    ///
    /// As [`TencentConfig::from_env`], and when the tccli `.configure` file is not JSON.
    pub fn from_locations(
        lookup: &dyn Fn(&str) -> Option<String>,
        locations: Locations<'_>,
    ) -> Result<Self, ConfigError> {
        let credentials = Credentials::resolve(None, lookup, locations)?;
        let default_region = match lookup(ENV_REGION).filter(|region| !region.trim().is_empty()) {
            Some(region) => Some(region),
            None => locations
                .home
                .map(|home| profile_region(lookup, home))
                .transpose()?
                .flatten(),
        };
        let mut config = Self {
            missing_credentials: credentials
                .is_none()
                .then(|| Credentials::missing_message(lookup, locations)),
            credentials,
            default_region,
            ..Self::default()
        };
        if let Some(endpoint) = lookup(ENV_ENDPOINT).filter(|value| !value.trim().is_empty()) {
            let endpoint = Endpoint::Custom(endpoint);
            endpoint
                .validate()
                .map_err(|error| ConfigError::new(format!("{ENV_ENDPOINT}: {}", error.message)))?;
            config.endpoint = endpoint;
        }
        Ok(config)
    }

    /// Sets explicit credentials (they take precedence over every other source).
    #[must_use]
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self.missing_credentials = None;
        self
    }

    /// Sets the endpoint.
    #[must_use]
    pub fn with_endpoint(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = endpoint;
        self
    }

    /// Sets the default region.
    #[must_use]
    pub fn with_default_region(mut self, region: impl Into<String>) -> Self {
        self.default_region = Some(region.into());
        self
    }

    /// Sets the declared rate limit per action (0: none declared).
    #[must_use]
    pub fn with_rate_limit_per_second(mut self, per_second: u32) -> Self {
        self.rate_limit_per_second = per_second;
        self
    }

    /// Sets the poll delay handed to the runner with every in-flight step.
    #[must_use]
    pub fn with_poll_after(mut self, poll_after: Duration) -> Self {
        self.poll_after = poll_after;
        self
    }

    /// Sets the signing clock.
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Sets the connect and request timeouts.
    #[must_use]
    pub fn with_timeouts(mut self, connect: Duration, request: Duration) -> Self {
        self.connect_timeout = connect;
        self.request_timeout = request;
        self
    }

    /// Sets `X-TC-Language`.
    #[must_use]
    pub fn with_language(mut self, language: impl Into<String>) -> Self {
        self.language = language.into();
        self
    }
}

/// `~/.tccli/<profile>.configure`, where tccli keeps the profile's region.
#[must_use]
pub fn profile_configure_path(home: &Path, profile: &str) -> PathBuf {
    home.join(".tccli").join(format!("{profile}.configure"))
}

/// The region of the tccli profile (`_sys_param.region`), `None` when the file or the key
/// is absent.
fn profile_region(
    lookup: &dyn Fn(&str) -> Option<String>,
    home: &Path,
) -> Result<Option<String>, ConfigError> {
    let profile = lookup(ENV_PROFILE)
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| "default".to_owned());
    let path = profile_configure_path(home, &profile);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(ConfigError::new(format!(
                "cannot read the tccli profile {}: {error}",
                path.display()
            )));
        }
    };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|error| {
        ConfigError::new(format!(
            "the tccli profile {} is not valid JSON ({error}); expected {{\"_sys_param\": {{\"region\": …}}}}",
            path.display()
        ))
    })?;
    Ok(value
        .pointer("/_sys_param/region")
        .and_then(serde_json::Value::as_str)
        .map(str::trim)
        .filter(|region| !region.is_empty())
        .map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{ENV_SECRET_ID, ENV_SECRET_KEY};

    #[test]
    fn environment_sets_region_endpoint_and_credentials() {
        let home = tempfile::tempdir().unwrap();
        let lookup = |name: &str| match name {
            ENV_SECRET_ID => Some("AKIDx".to_owned()),
            ENV_SECRET_KEY => Some("k".to_owned()),
            ENV_REGION => Some("ap-beijing".to_owned()),
            ENV_ENDPOINT => Some("http://127.0.0.1:9".to_owned()),
            _ => None,
        };
        let config = TencentConfig::from_environment(&lookup, Some(home.path())).unwrap();
        assert!(config.credentials.is_some());
        assert_eq!(config.default_region.as_deref(), Some("ap-beijing"));
        assert_eq!(
            config.endpoint,
            Endpoint::Custom("http://127.0.0.1:9".to_owned())
        );
        assert_eq!(config.request_client, "migspec/0.1.0");
    }

    #[test]
    fn missing_credentials_are_remembered_not_fatal_and_bad_endpoints_are() {
        let home = tempfile::tempdir().unwrap();
        let config = TencentConfig::from_environment(&|_| None, Some(home.path())).unwrap();
        assert!(config.credentials.is_none());
        assert!(
            config
                .missing_credentials
                .as_deref()
                .is_some_and(|m| m.contains(ENV_SECRET_ID))
        );
        let lookup = |name: &str| (name == ENV_ENDPOINT).then(|| "http://192.168.1.5".to_owned());
        let error = TencentConfig::from_environment(&lookup, None).unwrap_err();
        assert!(error.to_string().starts_with(ENV_ENDPOINT), "{error}");
    }

    /// Issue 13, item 14: tccli's profile region fills in when no region is set.
    #[test]
    fn region_comes_from_the_tccli_configure_file_when_the_environment_has_none() {
        let home = tempfile::tempdir().unwrap();
        let tccli = home.path().join(".tccli");
        std::fs::create_dir_all(&tccli).unwrap();
        std::fs::write(
            tccli.join("default.configure"),
            r#"{"_sys_param": {"region": "ap-shanghai", "output": "json"}, "dts": {"endpoint": "dts.tencentcloudapi.com", "version": "2021-12-06"}}"#,
        )
        .unwrap();
        std::fs::write(
            tccli.join("prod.configure"),
            r#"{"_sys_param": {"region": "ap-beijing"}}"#,
        )
        .unwrap();
        let locations = Locations {
            home: Some(home.path()),
            system_file: None,
        };
        let config = TencentConfig::from_locations(&|_| None, locations).unwrap();
        assert_eq!(config.default_region.as_deref(), Some("ap-shanghai"));
        let profile = |name: &str| (name == ENV_PROFILE).then(|| "prod".to_owned());
        let config = TencentConfig::from_locations(&profile, locations).unwrap();
        assert_eq!(config.default_region.as_deref(), Some("ap-beijing"));
        let region = |name: &str| (name == ENV_REGION).then(|| "ap-chengdu".to_owned());
        let config = TencentConfig::from_locations(&region, locations).unwrap();
        assert_eq!(config.default_region.as_deref(), Some("ap-chengdu"));
        std::fs::write(tccli.join("default.configure"), "{not json").unwrap();
        let error = TencentConfig::from_locations(&|_| None, locations).unwrap_err();
        assert!(error.to_string().contains("default.configure"), "{error}");
    }
}
