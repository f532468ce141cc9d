//! What a request handler receives and answers: the collected request, the reply (or a
//! dropped connection), the outcome for the statistics, and the JSON and empty responses.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{HeaderMap, Method, Response, StatusCode};

use crate::faults::Draws;
use crate::stats::{Label, Outcome};

/// A received request, body collected.
#[derive(Debug)]
pub(crate) struct ApiRequest {
    pub(crate) method: Method,
    /// The path as received (percent-encoded).
    pub(crate) path: String,
    /// The query string as received, without `?` (empty when absent).
    pub(crate) raw_query: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// The random draws that decide this request's injected faults.
    pub(crate) draws: Draws,
}

/// What to send back.
#[derive(Debug)]
pub(crate) enum Reply {
    Response(Response<Full<Bytes>>),
    /// Close the connection without answering.
    Drop,
}

/// The outcome of an API request, for the statistics.
#[derive(Debug)]
pub(crate) struct Handled {
    pub(crate) reply: Reply,
    pub(crate) label: Label,
    pub(crate) outcome: Outcome,
}

/// A JSON response with `Content-Type: application/json` exactly.
pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// An empty response.
pub(crate) fn empty_response(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}
