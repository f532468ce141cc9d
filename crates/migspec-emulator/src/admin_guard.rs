//! Who may call the admin endpoints (`/_emulator/…`): tools and pages on this machine.
//!
//! A web page in a browser on the developer's machine can send `POST /_emulator/reset` to
//! `127.0.0.1` (a cross-origin request without custom headers needs no preflight), and
//! through DNS rebinding it can even read the answers, with its own name as `Host`. So the
//! admin endpoints answer only when:
//!
//! - `Host` is loopback: `localhost`, `127.0.0.0/8` or `[::1]`, with or without a port (with
//!   `allow_remote`, any IP address too: an address cannot be rebound, a name can);
//! - `Origin`, when sent, is a loopback `http(s)://` origin (`null` is not).
//!
//! Anything else gets a 403 with a JSON error. The cloud APIs are not guarded here: they
//! need a signature, and SDKs may send the cloud's own host name.

use std::net::IpAddr;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HOST, ORIGIN};
use hyper::{HeaderMap, Response, StatusCode};

use crate::http::json_response;

/// The 403 for an admin request from a foreign origin or host; `None` when it may proceed.
pub(crate) fn refusal(headers: &HeaderMap, allow_remote: bool) -> Option<Response<Full<Bytes>>> {
    let message = reason(headers, allow_remote)?;
    let body = serde_json::to_vec(&serde_json::json!({ "error": message })).unwrap_or_default();
    Some(json_response(StatusCode::FORBIDDEN, body))
}

fn reason(headers: &HeaderMap, allow_remote: bool) -> Option<String> {
    let mut hosts = headers.get_all(HOST).iter().peekable();
    if hosts.peek().is_none() {
        return Some(
            "emulator admin request refused: no Host header; send Host: 127.0.0.1:PORT (any HTTP/1.1 client does)"
                .to_owned(),
        );
    }
    for host in hosts {
        let text = String::from_utf8_lossy(host.as_bytes());
        if !authority_allowed(&text, allow_remote) {
            return Some(format!(
                "emulator admin request refused: host `{text}` is not loopback; use http://127.0.0.1:PORT, http://localhost:PORT or http://[::1]:PORT"
            ));
        }
    }
    for origin in headers.get_all(ORIGIN) {
        let text = String::from_utf8_lossy(origin.as_bytes());
        let authority = text
            .strip_prefix("http://")
            .or_else(|| text.strip_prefix("https://"));
        if !authority.is_some_and(|authority| authority_allowed(authority, false)) {
            return Some(format!(
                "emulator admin request refused: origin `{text}` is not loopback; admin endpoints answer only pages and tools on this machine"
            ));
        }
    }
    None
}

/// Whether `host[:port]` (the form of `Host` and of an origin after its scheme) names
/// loopback (or, with `any_address`, any IP address).
fn authority_allowed(authority: &str, any_address: bool) -> bool {
    let Some(host) = host_of(authority) else {
        return false;
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<IpAddr>()
        .is_ok_and(|address| address.is_loopback() || any_address)
}

/// The host of `host[:port]` / `[v6][:port]` (brackets removed); `None` when malformed.
fn host_of(authority: &str) -> Option<&str> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        if !after.is_empty() && !after.starts_with(':') {
            return None;
        }
        (inside, after.strip_prefix(':'))
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if port.is_some_and(|port| port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn loopback_hosts_and_origins_pass() {
        for host in [
            "127.0.0.1:8080",
            "127.0.0.1",
            "127.9.9.9:1",
            "localhost",
            "LOCALHOST:80",
            "[::1]",
            "[::1]:8080",
        ] {
            assert_eq!(reason(&headers(&[("host", host)]), false), None, "{host}");
        }
        for origin in [
            "http://127.0.0.1:8080",
            "https://localhost",
            "http://[::1]:3000",
        ] {
            assert_eq!(
                reason(
                    &headers(&[("host", "127.0.0.1"), ("origin", origin)]),
                    false
                ),
                None,
                "{origin}"
            );
        }
    }

    #[test]
    fn foreign_hosts_and_origins_are_refused() {
        for host in [
            "evil.example",
            "evil.example:8080",
            "127.evil.example",
            "localhost.evil.example",
            "10.0.0.1:8080",
            "[::2]:80",
            "::1",
            "127.0.0.1:",
            "127.0.0.1:80x",
            "[::1]x",
            "",
        ] {
            let text = reason(&headers(&[("host", host)]), false).unwrap_or_default();
            assert!(
                text.starts_with(&format!(
                    "emulator admin request refused: host `{host}` is not loopback"
                )),
                "{host}: {text}"
            );
        }
        for origin in [
            "http://evil.example",
            "http://localhost.evil.example",
            "null",
            "file://",
            "ftp://127.0.0.1",
            "http://10.0.0.1",
        ] {
            let text = reason(&headers(&[("host", "127.0.0.1"), ("origin", origin)]), true)
                .unwrap_or_default();
            assert!(
                text.starts_with(&format!(
                    "emulator admin request refused: origin `{origin}` is not loopback"
                )),
                "{origin}: {text}"
            );
        }
        assert!(
            reason(&headers(&[]), false)
                .unwrap_or_default()
                .contains("no Host header")
        );
        // Every Host header counts, not only the first.
        assert!(
            reason(
                &headers(&[("host", "127.0.0.1"), ("host", "evil.example")]),
                false
            )
            .is_some()
        );
    }

    #[test]
    fn allow_remote_accepts_addresses_never_names() {
        assert_eq!(reason(&headers(&[("host", "10.0.0.1:8080")]), true), None);
        assert_eq!(reason(&headers(&[("host", "[fd00::1]:8080")]), true), None);
        assert!(reason(&headers(&[("host", "evil.example:8080")]), true).is_some());
    }
}
