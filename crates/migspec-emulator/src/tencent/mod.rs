//! The Tencent Cloud DTS API (versions 2018-03-30 and 2021-12-06) on `POST /` and `GET /`.
//!
//! Every request goes through the same pipeline: signature verification (TC3), version
//! and action lookup (the same action name means different things in the two versions,
//! so dispatch is on the pair), throttling per (SecretId, version, action), injected
//! faults, parameter validation against the action's schema, then the action itself.
//! Every answer, errors included, is HTTP 200 with `Content-Type: application/json`
//! exactly (the Python SDK ignores error bodies under any other content type) and a
//! fresh RequestId.

pub(crate) mod engine;
pub(crate) mod params;
pub(crate) mod sign;
pub(crate) mod v2018;
pub(crate) mod v2021;
pub(crate) mod wire;

use std::collections::BTreeMap;

use hyper::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::app::App;
use crate::faults::{Before, FaultConfig, FaultRule, Service};
use crate::http::{ApiRequest, Handled, Reply, json_response};
use crate::objects::{self, History};
use crate::stats::{Label, Outcome};
use engine::Timing;
use sign::Tc3Error;

/// The `X-TC-Version` of the older API.
pub(crate) const VERSION_2018: &str = "2018-03-30";
/// The `X-TC-Version` of the newer API.
pub(crate) const VERSION_2021: &str = "2021-12-06";
/// The service name in the TC3 credential scope.
pub(crate) const SERVICE: &str = "dts";

/// A Tencent API error: `{"Error": {"Code", "Message"}}` inside the response envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn unknown_parameter(path: &str) -> Self {
        Self::new(
            "UnknownParameter",
            format!("The parameter `{path}` is not recognized."),
        )
    }

    pub(crate) fn missing_parameter(path: &str) -> Self {
        Self::new(
            "MissingParameter",
            format!("The request is missing a required parameter `{path}`."),
        )
    }

    pub(crate) fn invalid_parameter(path: &str, why: &str) -> Self {
        Self::new(
            "InvalidParameter",
            format!("Parameter `{path}` type error: {why}."),
        )
    }

    pub(crate) fn invalid_value(path: &str, why: &str) -> Self {
        Self::new(
            "InvalidParameterValue",
            format!("The value of parameter `{path}` is invalid: {why}."),
        )
    }

    /// A value that is not one of `allowed`.
    pub(crate) fn not_one_of(path: &str, value: &str, allowed: &[&str]) -> Self {
        Self::invalid_value(
            path,
            &format!("`{value}` is not one of {}", allowed.join(", ")),
        )
    }
}

/// Jobs of both versions. The two versions keep separate job sets: a job created with
/// one API version is not visible through the other.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct TencentState {
    pub(crate) jobs_2018: BTreeMap<String, v2018::Job>,
    pub(crate) jobs_2021: BTreeMap<String, v2021::Job>,
    /// Creation counter (orders jobs created in the same millisecond).
    pub(crate) sequence: u64,
    /// Creations and deletions of every job, both versions (`GET /_emulator/objects`).
    #[serde(default)]
    pub(crate) history: History,
}

/// The `GET /_emulator/objects` entries of every job, live or deleted, both versions, in
/// creation order.
pub(crate) fn objects(state: &mut TencentState, now: u64, timing: &Timing) -> Vec<Value> {
    let mut live = v2018::objects(state, now, timing);
    live.extend(v2021::objects(state, now, timing));
    // Jobs that are gone (2018 jobs deleted) are listed from their record.
    let mut gone: Vec<Value> = state
        .history
        .records()
        .filter(|(id, _)| !state.jobs_2018.contains_key(*id) && !state.jobs_2021.contains_key(*id))
        .map(|(_, record)| {
            let mut identity = record.identity.clone();
            identity["status"] = Value::Null;
            objects::finish(identity, false, &record.events)
        })
        .collect();
    live.append(&mut gone);
    live.sort_by_key(|entry| entry["sequence"].as_u64().unwrap_or_default());
    live
}

impl TencentState {
    /// A fresh `dts-` + 8 lowercase alphanumerics id not used by any job.
    pub(crate) fn new_job_id(&self) -> String {
        const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        loop {
            let bytes = *uuid::Uuid::new_v4().as_bytes();
            let id: String = bytes[..8]
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
                .collect();
            let id = format!("dts-{id}");
            if !self.jobs_2018.contains_key(&id) && !self.jobs_2021.contains_key(&id) {
                return id;
            }
        }
    }

    /// Forgets every cached job answer (after any state change).
    pub(crate) fn clear_caches(&mut self) {
        for job in self.jobs_2018.values_mut() {
            job.cached = None;
            job.config = None;
        }
        for job in self.jobs_2021.values_mut() {
            job.cached = None;
            job.config = None;
        }
    }

    pub(crate) fn next_sequence(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }
}

/// What an action sees besides its parameters.
pub(crate) struct Ctx<'a> {
    pub(crate) now: u64,
    pub(crate) region: Option<&'a str>,
    pub(crate) timing: &'a Timing,
    pub(crate) faults: &'a FaultConfig,
}

impl Ctx<'_> {
    /// The fault rule for a job named `name`.
    pub(crate) fn rule(&self, name: &str) -> Option<&FaultRule> {
        self.faults.rule_for(Service::Tencent, name)
    }

    /// Whether a job in `region` is visible to this request (no region = all regions).
    pub(crate) fn sees(&self, region: &str) -> bool {
        self.region.is_none_or(|wanted| wanted == region)
    }
}

#[derive(Serialize)]
struct WithRequestId<'a, T: Serialize> {
    #[serde(flatten)]
    payload: &'a T,
    #[serde(rename = "RequestId")]
    request_id: &'a str,
}

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    #[serde(rename = "Response")]
    response: WithRequestId<'a, T>,
}

/// Serialises a successful response.
pub(crate) fn ok_body<T: Serialize>(payload: &T, request_id: &str) -> Vec<u8> {
    ok_body_sized(payload, request_id, 1024)
}

/// Serialises a successful response into a buffer of `capacity` bytes (sized to avoid
/// regrowing the buffer of large describe answers).
fn ok_body_sized<T: Serialize>(payload: &T, request_id: &str, capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity);
    let envelope = Envelope {
        response: WithRequestId {
            payload,
            request_id,
        },
    };
    if serde_json::to_writer(&mut out, &envelope).is_err() {
        out.clear();
    }
    out
}

/// An action's successful answer, serialised (with the RequestId) only after the world
/// lock is released, so that large describe answers serialise in parallel.
pub(crate) type Payload = Box<dyn FnOnce(&str) -> Vec<u8> + Send>;

/// Defers the serialisation of `payload`.
pub(crate) fn reply<T: Serialize + Send + 'static>(payload: T) -> Payload {
    Box::new(move |request_id| ok_body(&payload, request_id))
}

/// Defers the serialisation of a large `payload` of about `capacity` bytes.
pub(crate) fn reply_sized<T: Serialize + Send + 'static>(capacity: usize, payload: T) -> Payload {
    Box::new(move |request_id| ok_body_sized(&payload, request_id, capacity))
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    #[serde(rename = "Code")]
    code: &'a str,
    #[serde(rename = "Message")]
    message: &'a str,
}

#[derive(Serialize)]
struct ErrorPayload<'a> {
    #[serde(rename = "Error")]
    error: ErrorBody<'a>,
}

/// Serialises an error response: `{"Response": {"Error": {...}, "RequestId": ...}}`.
pub(crate) fn error_body(error: &ApiError, request_id: &str) -> Vec<u8> {
    ok_body(
        &ErrorPayload {
            error: ErrorBody {
                code: error.code,
                message: &error.message,
            },
        },
        request_id,
    )
}

/// The two API versions and their actions.
#[derive(Debug, Clone, Copy)]
enum Versioned {
    V2018(v2018::Action),
    V2021(v2021::Action),
}

/// Common parameters that may appear in a query string next to the action's own.
const COMMON_PARAMS: &[&str] = &[
    "Action",
    "Version",
    "Region",
    "Timestamp",
    "Nonce",
    "SecretId",
    "Signature",
    "SignatureMethod",
    "Token",
    "Language",
    "RequestClient",
];

fn header<'a>(request: &'a ApiRequest, name: &str) -> Option<&'a str> {
    request
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
}

/// Handles one request to the Tencent endpoint.
pub(crate) fn handle<W: AsMut<TencentState> + Serialize>(
    app: &App<W>,
    request: &ApiRequest,
) -> Handled {
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut label: Label = ("tencent", "(unknown)", "(unknown)");
    let fail = |label: Label, outcome: Outcome, error: ApiError| Handled {
        reply: Reply::Response(json_response(
            hyper::StatusCode::OK,
            error_body(&error, &request_id),
        )),
        label,
        outcome,
    };

    let is_get = request.method == Method::GET;
    if !is_get && request.method != Method::POST {
        return fail(
            label,
            Outcome::BusinessError,
            ApiError::new(
                "UnsupportedProtocol",
                "Only GET and POST requests are supported.",
            ),
        );
    }
    let query = if is_get {
        crate::encoding::parse_query(&request.raw_query)
    } else {
        Vec::new()
    };
    let query_param = |name: &str| {
        query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let action_name = header(request, "x-tc-action").or_else(|| query_param("Action"));
    let version_name = header(request, "x-tc-version").or_else(|| query_param("Version"));
    let versioned = match version_name {
        Some(VERSION_2018) => {
            label.1 = VERSION_2018;
            action_name
                .and_then(v2018::Action::from_name)
                .map(Versioned::V2018)
        }
        Some(VERSION_2021) => {
            label.1 = VERSION_2021;
            action_name
                .and_then(v2021::Action::from_name)
                .map(Versioned::V2021)
        }
        _ => None,
    };
    match versioned {
        Some(Versioned::V2018(action)) => label.2 = action.name(),
        Some(Versioned::V2021(action)) => label.2 = action.name(),
        None => {}
    }

    // 1. Authentication.
    let content_type = header(request, "content-type").unwrap_or("");
    if !is_get
        && content_type
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    {
        return fail(
            label,
            Outcome::AuthError,
            ApiError::new(
                "AuthFailure.InvalidAuthorization",
                "Signature v1 (HmacSHA1/HmacSHA256 form requests) is not supported by the migspec emulator; sign with TC3-HMAC-SHA256.",
            ),
        );
    }
    let Some(authorization) = header(request, "authorization") else {
        return fail(
            label,
            Outcome::AuthError,
            ApiError::new(
                "AuthFailure.InvalidAuthorization",
                "The Authorization header is missing.",
            ),
        );
    };
    let tc3_request = sign::Tc3Request {
        method: request.method.as_str(),
        raw_query: &request.raw_query,
        headers: &request.headers,
        body: &request.body,
    };
    let now_ms = app.clock.now_ms();
    let now_secs = i64::try_from(now_ms / 1000).unwrap_or(i64::MAX);
    let secret_id = match sign::verify(
        &tc3_request,
        authorization,
        |id| app.tencent_keys.get(id).cloned(),
        Some(now_secs),
    ) {
        Ok(secret_id) => secret_id,
        Err(error) => {
            let error = match error {
                Tc3Error::InvalidAuthorization(why) => ApiError::new(
                    "AuthFailure.InvalidAuthorization",
                    format!("The Authorization header is malformed: {why}."),
                ),
                Tc3Error::SignatureExpire => ApiError::new(
                    "AuthFailure.SignatureExpire",
                    "The signature is expired, please request again.",
                ),
                Tc3Error::SecretIdNotFound => ApiError::new(
                    "AuthFailure.SecretIdNotFound",
                    "The SecretId is not found, please ensure that your SecretId is correct.",
                ),
                Tc3Error::SignatureFailure(_) => ApiError::new(
                    "AuthFailure.SignatureFailure",
                    "The provided credentials could not be validated. Please check your signature is correct.",
                ),
            };
            return fail(label, Outcome::AuthError, error);
        }
    };
    if sign::Tc3Authorization::parse(authorization).is_ok_and(|auth| auth.service != SERVICE) {
        return fail(
            label,
            Outcome::AuthError,
            ApiError::new(
                "AuthFailure.SignatureFailure",
                "The provided credentials could not be validated: the credential scope service must be `dts`.",
            ),
        );
    }

    // 2. Version and action.
    let Some(version_name) = version_name else {
        return fail(
            label,
            Outcome::BusinessError,
            ApiError::missing_parameter("X-TC-Version"),
        );
    };
    if label.1 == "(unknown)" {
        return fail(
            label,
            Outcome::BusinessError,
            ApiError::new(
                "NoSuchVersion",
                format!("The API version `{version_name}` does not exist."),
            ),
        );
    }
    let Some(action_name) = action_name else {
        return fail(
            label,
            Outcome::BusinessError,
            ApiError::missing_parameter("X-TC-Action"),
        );
    };
    let Some(versioned) = versioned else {
        return fail(
            label,
            Outcome::BusinessError,
            ApiError::new(
                "InvalidAction",
                format!(
                    "The request `Action` is invalid or not found: `{action_name}` is not an action of {version_name}."
                ),
            ),
        );
    };

    // 3. Throttling.
    if !app
        .limiter
        .check(&["tencent", &secret_id, label.1, label.2], now_ms)
    {
        let limit = app.limiter.per_second();
        return fail(
            label,
            Outcome::Throttled,
            ApiError::new(
                "RequestLimitExceeded",
                format!(
                    "Your request rate exceeds the frequency limit of {limit} requests per second for `{}`. Please reduce the frequency of calls.",
                    label.2
                ),
            ),
        );
    }

    // 4. Injected faults.
    let faults = app.faults();
    match faults
        .config
        .effective(label.1, label.2)
        .before(&request.draws)
    {
        Before::Proceed => {}
        Before::DropConnection => {
            return Handled {
                reply: Reply::Drop,
                label,
                outcome: Outcome::InjectedFault,
            };
        }
        // Counted as an injected fault, not as throttled: `throttled` counts what the
        // rate limit refused, which benchmarks compare with the client's own limiter.
        Before::Throttle => {
            // With the rate limit off, name the documented limit the answer pretends to.
            let limit = match app.limiter.per_second() {
                0 => crate::config::DEFAULT_RATE_LIMIT_PER_SECOND,
                limit => limit,
            };
            return fail(
                label,
                Outcome::InjectedFault,
                ApiError::new(
                    "RequestLimitExceeded",
                    format!(
                        "Your request rate exceeds the frequency limit of {limit} requests per second for `{}`. Please reduce the frequency of calls.",
                        label.2
                    ),
                ),
            );
        }
        Before::InternalError => {
            return fail(
                label,
                Outcome::InjectedFault,
                ApiError::new(
                    "InternalError",
                    "An internal error has occurred. Retry your request, but if the problem persists, contact us.",
                ),
            );
        }
    }

    // 5. Parameters.
    let schema = match versioned {
        Versioned::V2018(action) => action.schema(),
        Versioned::V2021(action) => action.schema(),
    };
    let params = if is_get {
        let own: Vec<(String, String)> = query
            .iter()
            .filter(|(key, _)| !COMMON_PARAMS.contains(&key.as_str()))
            .cloned()
            .collect();
        params::unflatten(&own, schema)
    } else if request.body.iter().all(u8::is_ascii_whitespace) {
        Ok(Map::new())
    } else {
        match serde_json::from_slice::<Value>(&request.body) {
            Ok(Value::Object(object)) => Ok(object),
            Ok(_) => Err(ApiError::new(
                "InvalidParameter",
                "The request body must be a JSON object.",
            )),
            Err(error) => Err(ApiError::new(
                "InvalidParameter",
                format!("The request body is not valid JSON: {error}."),
            )),
        }
    };
    let params = match params.and_then(|params| params::validate(&params, schema).map(|()| params))
    {
        Ok(params) => params,
        Err(error) => return fail(label, Outcome::BusinessError, error),
    };
    let region = header(request, "x-tc-region")
        .or_else(|| query_param("Region"))
        .filter(|region| !region.is_empty());
    if matches!(versioned, Versioned::V2018(_)) && region.is_none() {
        return fail(
            label,
            Outcome::BusinessError,
            ApiError::missing_parameter("Region"),
        );
    }

    // 6. The action.
    let ctx = Ctx {
        now: now_ms,
        region,
        timing: &app.timing,
        faults: &faults.config,
    };
    let result = app.with_world(|world| {
        let state: &mut TencentState = world.as_mut();
        let result = match versioned {
            Versioned::V2018(action) => v2018::dispatch(action, &params, &ctx, state),
            Versioned::V2021(action) => v2021::dispatch(action, &params, &ctx, state),
        };
        let mutates = match versioned {
            Versioned::V2018(action) => action.mutates(),
            Versioned::V2021(action) => action.mutates(),
        };
        let changed = mutates && result.is_ok();
        if changed {
            state.clear_caches();
        }
        (result, changed)
    });
    match result {
        Ok(payload) => Handled {
            reply: Reply::Response(json_response(hyper::StatusCode::OK, payload(&request_id))),
            label,
            outcome: Outcome::Ok,
        },
        Err(error) => fail(label, Outcome::BusinessError, error),
    }
}

// ---------------------------------------------------------------------------------------
// Helpers shared by the two versions.

/// Database types accepted as a source (2018 list).
pub(crate) const SRC_DATABASE_TYPES_2018: &[&str] = &[
    "mysql",
    "redis",
    "mongodb",
    "postgresql",
    "mariadb",
    "percona",
    "sqlserver",
];
/// Database types accepted as a target (2018 list).
pub(crate) const DST_DATABASE_TYPES_2018: &[&str] = &[
    "mysql",
    "redis",
    "mongodb",
    "postgresql",
    "mariadb",
    "percona",
    "sqlserver",
    "cynosdbmysql",
];

/// Whether a job carries every tag filter (key present; value in the list when one is given).
pub(crate) fn tags_match(tags: &[wire::TagItem], filters: &[Value]) -> bool {
    filters.iter().all(|filter| {
        let key = filter.get("TagKey").and_then(Value::as_str).unwrap_or("");
        let values: Vec<&str> = filter
            .get("TagValue")
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        tags.iter().any(|tag| {
            tag.tag_key == key && (values.is_empty() || values.contains(&tag.tag_value.as_str()))
        })
    })
}

/// Parses `Tags` into tag items (validated already).
pub(crate) fn parse_tags(params: &Map<String, Value>) -> Result<Vec<wire::TagItem>, ApiError> {
    let Some(tags) = params.get("Tags").filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let tags: Vec<wire::TagItem> = serde_json::from_value(tags.clone())
        .map_err(|error| ApiError::invalid_parameter("Tags", &error.to_string()))?;
    if let Some(index) = tags.iter().position(|tag| tag.tag_key.is_empty()) {
        return Err(ApiError::invalid_value(
            &format!("Tags.{index}.TagKey"),
            "must not be empty",
        ));
    }
    Ok(tags)
}

/// Reads `Offset` and `Limit` (default 20, valid 1..=100).
pub(crate) fn paging(params: &Map<String, Value>) -> Result<(usize, usize), ApiError> {
    let offset = params::get_int(params, "Offset").unwrap_or(0);
    let offset = usize::try_from(offset)
        .map_err(|_| ApiError::invalid_value("Offset", "must not be negative"))?;
    let limit = params::get_int(params, "Limit").unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid_value(
            "Limit",
            &format!("{limit} is outside 1..100"),
        ));
    }
    Ok((offset, usize::try_from(limit).unwrap_or(20)))
}

/// Documentation link used in error details.
pub(crate) const HELP_DOC: &str = "https://cloud.tencent.com/document/product/571/58685";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_have_the_documented_shape() {
        let body = ok_body(
            &wire::JobIdResponse {
                job_id: "dts-1".to_owned(),
            },
            "req-1",
        );
        assert_eq!(
            String::from_utf8(body).expect("utf8"),
            r#"{"Response":{"JobId":"dts-1","RequestId":"req-1"}}"#
        );
        let body = error_body(&ApiError::new("InvalidAction", "nope"), "req-2");
        assert_eq!(
            String::from_utf8(body).expect("utf8"),
            r#"{"Response":{"Error":{"Code":"InvalidAction","Message":"nope"},"RequestId":"req-2"}}"#
        );
    }

    #[test]
    fn job_ids_look_real() {
        let state = TencentState::default();
        let id = state.new_job_id();
        assert_eq!(id.len(), 12);
        assert!(id.starts_with("dts-"));
        assert!(
            id[4..]
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
    }
}
