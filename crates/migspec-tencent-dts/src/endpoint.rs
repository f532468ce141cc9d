//! Which host a request goes to (reference §1, §3.1, §5).
//!
//! By default every region uses `dts.tencentcloudapi.com`, except the finance zones
//! (`ap-shanghai-fsi`, `ap-shenzhen-fsi`), whose jobs are only reachable on their own hosts.
//! [`Endpoint::Regional`] uses `dts.<region>.tencentcloudapi.com` everywhere,
//! [`Endpoint::International`] the international site's host, and [`Endpoint::Custom`] any
//! URL — plain `http://` only for loopback addresses, so that the emulator works and a
//! typo can never send keys in clear text over a network.

use reqwest::Url;

pub use crate::env::ENV_ENDPOINT;
use crate::error::ConfigError;

/// The default host.
pub const DEFAULT_HOST: &str = "dts.tencentcloudapi.com";
/// The international site's host.
pub const INTERNATIONAL_HOST: &str = "dts.intl.tencentcloudapi.com";

/// How the endpoint is chosen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Endpoint {
    /// `dts.tencentcloudapi.com`, or the region's own host for finance regions (`*-fsi`).
    #[default]
    Default,
    /// `dts.<region>.tencentcloudapi.com` for every region.
    Regional,
    /// `dts.intl.tencentcloudapi.com`.
    International,
    /// A fixed URL (`https://dts.example.internal`, `http://127.0.0.1:18765`) or
    /// `host[:port]` (HTTPS). Plain HTTP only for loopback addresses.
    Custom(String),
}

impl Endpoint {
    /// Checks the endpoint without a region (only [`Endpoint::Custom`] can be wrong).
    ///
    /// # Errors
    ///
    /// When a custom endpoint is not a URL, uses a scheme other than HTTPS (HTTP for
    /// loopback), or carries a path, query or credentials.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self {
            Self::Custom(text) => parse_custom(text).map(drop),
            _ => Ok(()),
        }
    }

    /// The base URL for requests about `region`.
    ///
    /// # Errors
    ///
    /// As [`Endpoint::validate`], or when a region is not a valid host label.
    pub fn url_for(&self, region: &str) -> Result<Url, ConfigError> {
        let host = match self {
            Self::Custom(text) => return parse_custom(text),
            Self::International => INTERNATIONAL_HOST.to_owned(),
            Self::Default if !region.ends_with("-fsi") => DEFAULT_HOST.to_owned(),
            Self::Default | Self::Regional => {
                if region.is_empty()
                    || !region
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                {
                    return Err(ConfigError::new(format!(
                        "`{region}` is not a Tencent Cloud region name (e.g. ap-guangzhou)"
                    )));
                }
                format!("dts.{region}.tencentcloudapi.com")
            }
        };
        Url::parse(&format!("https://{host}/"))
            .map_err(|error| ConfigError::new(format!("bad endpoint host `{host}`: {error}")))
    }
}

/// The `Host` header value for a URL, as the HTTP client sends it: the host, plus the port
/// when it is not the scheme's default.
#[must_use]
pub fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

fn parse_custom(text: &str) -> Result<Url, ConfigError> {
    let text = text.trim();
    let with_scheme = if text.contains("://") {
        text.to_owned()
    } else {
        format!("https://{text}")
    };
    let url = Url::parse(&with_scheme).map_err(|error| {
        ConfigError::new(format!(
            "the Tencent DTS endpoint `{text}` is not a URL ({error}); write e.g. https://dts.tencentcloudapi.com or http://127.0.0.1:18765"
        ))
    })?;
    if url.host().is_none() {
        return Err(ConfigError::new(format!(
            "the Tencent DTS endpoint `{text}` has no host"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::new(format!(
            "the Tencent DTS endpoint `{text}` must not carry credentials; use TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY"
        )));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::new(format!(
            "the Tencent DTS endpoint `{text}` must not have a path or query: the API is served on `/`"
        )));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(ConfigError::new(format!(
            "the Tencent DTS endpoint `{text}` uses plain http to a non-loopback host, which would send signed requests in clear text; use https (plain http is accepted only for 127.0.0.0/8, ::1 and localhost)"
        ))),
        other => Err(ConfigError::new(format!(
            "the Tencent DTS endpoint `{text}` uses the scheme `{other}`; use https"
        ))),
    }
}

/// Whether the URL's host is a loopback address (127.0.0.0/8, ::1, localhost).
#[must_use]
pub fn is_loopback(url: &Url) -> bool {
    migspec_provider::transport::is_loopback_url(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_host_except_finance_regions() {
        let url = Endpoint::Default.url_for("ap-guangzhou").unwrap();
        assert_eq!(url.as_str(), "https://dts.tencentcloudapi.com/");
        for region in ["ap-shanghai-fsi", "ap-shenzhen-fsi"] {
            let url = Endpoint::Default.url_for(region).unwrap();
            assert_eq!(
                host_header(&url),
                format!("dts.{region}.tencentcloudapi.com")
            );
        }
        let url = Endpoint::Regional.url_for("ap-beijing").unwrap();
        assert_eq!(host_header(&url), "dts.ap-beijing.tencentcloudapi.com");
        let url = Endpoint::International.url_for("ap-singapore").unwrap();
        assert_eq!(host_header(&url), INTERNATIONAL_HOST);
        assert!(
            Endpoint::Regional
                .url_for("ap-guangzhou.evil.com/x")
                .is_err()
        );
    }

    #[test]
    fn plain_http_only_for_loopback() {
        for ok in [
            "http://127.0.0.1:18765",
            "http://127.9.9.9:1",
            "http://[::1]:8080",
            "http://localhost:8080",
            "https://dts.example.internal",
            "dts.example.internal:8443",
        ] {
            assert!(Endpoint::Custom(ok.to_owned()).validate().is_ok(), "{ok}");
        }
        let url = Endpoint::Custom("http://127.0.0.1:18765".into())
            .url_for("ap-guangzhou")
            .unwrap();
        assert_eq!(host_header(&url), "127.0.0.1:18765");
        let url = Endpoint::Custom("dts.example.internal".into())
            .url_for("x")
            .unwrap();
        assert_eq!(url.as_str(), "https://dts.example.internal/");
        for bad in [
            "http://10.0.0.1:8080",
            "http://dts.tencentcloudapi.com",
            "http://128.0.0.1",
            "ftp://127.0.0.1",
            "https://user:pw@dts.example",
            "https://dts.example/path",
            "http://",
        ] {
            let error = Endpoint::Custom(bad.to_owned()).validate().unwrap_err();
            assert!(!error.to_string().is_empty(), "{bad}");
        }
        let error = Endpoint::Custom("http://10.1.2.3".into())
            .validate()
            .unwrap_err();
        assert!(error.to_string().contains("loopback"), "{error}");
    }
}
