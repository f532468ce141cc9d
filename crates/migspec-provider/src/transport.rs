//! The transport policy every HTTP client of migspec shares.
//!
//! **Loopback never goes through a proxy.** Requests to a local emulator carry signed bodies
//! with access keys (an OMS `CreateTaskGroup` holds the source and destination `ak`/`sk`);
//! sent through `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY`, a proxy would see them in clear text
//! on plain `http://`. Every other endpoint follows the system proxy settings as usual
//! (including `NO_PROXY`).
//!
//! Loopback means a host of `localhost`, `127.0.0.0/8` or `::1` (with or without brackets);
//! the decision is made from the endpoint URL, before any DNS lookup, so that a name
//! resolving to loopback does not change it.

use std::net::IpAddr;

/// Whether `host` (a URL's host, an IPv6 address with or without brackets, no port) is
/// loopback: `localhost` (any case), `127.0.0.0/8` or `::1`.
#[must_use]
pub fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether the URL's host is loopback (see [`is_loopback_host`]).
#[cfg(feature = "http")]
#[must_use]
pub fn is_loopback_url(url: &reqwest::Url) -> bool {
    url.host_str().is_some_and(is_loopback_host)
}

/// A reqwest client builder with migspec's proxy policy for a client whose requests all go
/// to `endpoint` (`None`: the cloud's public endpoints). Build every HTTP client from this.
///
/// # Guarantees
///
/// - A loopback `endpoint` is reached directly: no proxy from the environment is used.
/// - Any other endpoint uses the system proxy settings (the environment, `NO_PROXY`).
#[cfg(feature = "http")]
pub fn client_builder(endpoint: Option<&reqwest::Url>) -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder();
    if endpoint.is_some_and(is_loopback_url) {
        builder.no_proxy()
    } else {
        builder
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "LocalHost",
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "[::1]",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "",
            "10.0.0.1",
            "localhost.evil.example",
            "127.evil.example",
            "[::2]",
            "0.0.0.0",
            "oms.cn-north-4.myhuaweicloud.com",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[cfg(feature = "http")]
    #[test]
    fn urls() {
        let url = |text: &str| reqwest::Url::parse(text).unwrap();
        assert!(is_loopback_url(&url("http://127.0.0.1:8080/")));
        assert!(is_loopback_url(&url("http://[::1]:8080/")));
        assert!(is_loopback_url(&url("http://localhost/")));
        assert!(!is_loopback_url(&url("https://dts.tencentcloudapi.com/")));
    }
}
