//! An in-process entry point into the emulator's request handling, for the fuzz targets in
//! `fuzz/` (built only with the `fuzzing` feature; not a stable API).
//!
//! The fuzz targets feed raw bytes; going through a socket would cost a thousand times the
//! executions, and what is being tested is what the emulator does with a request hyper has
//! already framed: header decoding, signature checks, query and JSON body parsing, routing,
//! action dispatch and the state machines. So [`Emulator::handle`] runs the same routing as
//! the server (admin, Huawei under `/v2/`, Tencent otherwise) on a request already split into
//! method, target, headers and body.
//!
//! A fuzzer cannot forge an HMAC, so with `sign` set the harness authenticates the request
//! itself with the default credentials (Tencent: a TC3 signature over exactly the headers
//! sent; Huawei: the default `X-Auth-Token`), letting the fuzzer reach the body parsers.

use std::sync::Arc;

use hyper::body::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{HeaderMap, Method};

use crate::app::App;
use crate::clock::{ManualClock, utc_date};
use crate::config::{
    DEFAULT_HUAWEI_TOKEN, DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY, EmulatorConfig,
};
use crate::http::{ApiRequest, Reply};
use crate::world::World;

/// A fixed time (2026-01-01T00:00:00Z) so that every run sees the same clock.
const START_MS: u64 = 1_767_225_600_000;

/// One emulator, in memory, with a manual clock and no rate limit.
#[derive(Debug)]
pub struct Emulator {
    app: App<World>,
    clock: ManualClock,
}

/// What the emulator answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A response: its status code and body.
    Response(u16, Vec<u8>),
    /// The connection would be closed without an answer (fault injection).
    Dropped,
}

impl Emulator {
    /// A fresh emulator: default credentials, no faults, no throttling, clock fixed.
    ///
    /// # Panics
    ///
    /// If the in-memory emulator cannot be built (it touches no file, so it always can).
    #[must_use]
    pub fn new() -> Self {
        let clock = ManualClock::at_ms(START_MS);
        let mut config = EmulatorConfig::default().with_clock(Arc::new(clock.clone()));
        // A fuzzer sends thousands of requests a second; throttling would hide every parser
        // behind `RequestLimitExceeded`.
        config.rate_limit_per_second = 0;
        let app = App::new(&config).expect("an in-memory emulator needs no file");
        Self { app, clock }
    }

    /// Moves the emulator's clock on, so that jobs change phase.
    pub fn advance_ms(&self, ms: u64) {
        self.clock.advance(std::time::Duration::from_millis(ms));
    }

    /// Handles one request as the server would once hyper has framed it. `target` is the
    /// request target (`/path?query`). With `sign`, the request is first authenticated with
    /// the default credentials (see the module documentation).
    pub fn handle(
        &self,
        method: Method,
        target: &str,
        mut headers: HeaderMap,
        body: Bytes,
        sign: bool,
    ) -> Answer {
        let (path, raw_query) = target.split_once('?').unwrap_or((target, ""));
        let path = if path.is_empty() { "/" } else { path };
        if sign {
            if path.starts_with("/v2/") {
                headers.insert(
                    HeaderName::from_static("x-auth-token"),
                    HeaderValue::from_static(DEFAULT_HUAWEI_TOKEN),
                );
            } else {
                self.sign_tencent(&method, raw_query, &mut headers, &body);
            }
        }
        let request = ApiRequest {
            method,
            path: path.to_owned(),
            raw_query: raw_query.to_owned(),
            headers,
            body,
            // No injected faults: the fuzzer explores the parsers and state machines.
            draws: crate::faults::Draws::NONE,
        };
        let reply = if request.path.starts_with("/_emulator/") {
            match crate::admin_guard::refusal(&request.headers, self.app.allow_remote) {
                Some(refusal) => Reply::Response(refusal),
                None => Reply::Response(crate::server::admin(&self.app, &request)),
            }
        } else if request.path.starts_with("/v2/") {
            crate::huawei::handle(&self.app, &request).reply
        } else {
            crate::tencent::handle(&self.app, &request).reply
        };
        match reply {
            Reply::Drop => Answer::Dropped,
            Reply::Response(response) => {
                let status = response.status().as_u16();
                let body = response.into_body();
                // `Full` yields its one chunk at once; polling it needs no runtime.
                let bytes = futures_body(body);
                Answer::Response(status, bytes)
            }
        }
    }

    /// Adds `X-TC-Timestamp` (when absent) and a TC3 `Authorization` over every header sent.
    fn sign_tencent(&self, method: &Method, raw_query: &str, headers: &mut HeaderMap, body: &[u8]) {
        use crate::tencent::sign;
        use hmac::{Hmac, KeyInit, Mac};
        headers.remove(hyper::header::AUTHORIZATION);
        let timestamp = headers
            .get("x-tc-timestamp")
            .and_then(|value| value.to_str().ok())
            .map(|text| text.trim().to_owned())
            .filter(|text| text.parse::<i64>().is_ok())
            .unwrap_or_else(|| (self.clock.now_secs()).to_string());
        if let Ok(value) = HeaderValue::from_str(&timestamp) {
            headers.insert(HeaderName::from_static("x-tc-timestamp"), value);
        }
        let Ok(seconds) = timestamp.parse::<i64>() else {
            return;
        };
        let mut names: Vec<String> = headers
            .keys()
            .map(|name| name.as_str().to_owned())
            .collect();
        names.sort();
        names.dedup();
        let signed_headers = names.join(";");
        let request = sign::Tc3Request {
            method: method.as_str(),
            raw_query,
            headers,
            body,
        };
        let Ok(canonical) = sign::canonical_request(&request, &signed_headers) else {
            return;
        };
        let date = utc_date(seconds);
        let to_sign = sign::string_to_sign(&timestamp, &date, "dts", &canonical);
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(&sign::signing_key(
            DEFAULT_TENCENT_SECRET_KEY,
            &date,
            "dts",
        )) else {
            return;
        };
        mac.update(to_sign.as_bytes());
        let signature = hex::encode(mac.finalize().into_bytes());
        let authorization = format!(
            "{} Credential={DEFAULT_TENCENT_SECRET_ID}/{date}/dts/tc3_request, SignedHeaders={signed_headers}, Signature={signature}",
            sign::ALGORITHM
        );
        if let Ok(value) = HeaderValue::from_str(&authorization) {
            headers.insert(hyper::header::AUTHORIZATION, value);
        }
    }
}

impl Default for Emulator {
    fn default() -> Self {
        Self::new()
    }
}

/// The bytes of a `Full` body, polled once without a runtime (it is always ready).
fn futures_body(body: http_body_util::Full<Bytes>) -> Vec<u8> {
    use hyper::body::Body;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};
    let mut body = pin!(body);
    let mut context = Context::from_waker(Waker::noop());
    let mut out = Vec::new();
    while let Poll::Ready(Some(Ok(frame))) = body.as_mut().poll_frame(&mut context) {
        if let Ok(data) = frame.into_data() {
            out.extend_from_slice(&data);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                HeaderName::from_static(name),
                HeaderValue::from_str(value).expect("header value"),
            );
        }
        map
    }

    #[test]
    fn signed_tencent_requests_reach_the_action() {
        let emulator = Emulator::new();
        let answer = emulator.handle(
            Method::POST,
            "/",
            headers(&[
                ("content-type", "application/json"),
                ("host", "dts.tencentcloudapi.com"),
                ("x-tc-action", "DescribeMigrateJobs"),
                ("x-tc-version", "2018-03-30"),
                ("x-tc-region", "ap-guangzhou"),
            ]),
            Bytes::from_static(b"{}"),
            true,
        );
        let Answer::Response(200, body) = answer else {
            panic!("unexpected answer {answer:?}");
        };
        let text = String::from_utf8(body).expect("utf-8");
        assert!(text.contains("\"TotalCount\":0"), "{text}");
    }

    #[test]
    fn unsigned_tencent_requests_are_refused() {
        let emulator = Emulator::new();
        let answer = emulator.handle(Method::POST, "/", HeaderMap::new(), Bytes::new(), false);
        let Answer::Response(200, body) = answer else {
            panic!("unexpected answer {answer:?}");
        };
        assert!(String::from_utf8_lossy(&body).contains("AuthFailure"));
    }

    #[test]
    fn huawei_requests_with_the_token_reach_the_route() {
        let emulator = Emulator::new();
        let answer = emulator.handle(
            Method::GET,
            &format!(
                "/v2/{}/taskgroups",
                crate::config::DEFAULT_HUAWEI_PROJECT_ID
            ),
            HeaderMap::new(),
            Bytes::new(),
            true,
        );
        let Answer::Response(200, body) = answer else {
            panic!("unexpected answer {answer:?}");
        };
        assert!(String::from_utf8_lossy(&body).contains("taskgroups"));
    }
}
