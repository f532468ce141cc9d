//! The Huawei Cloud OMS v2 task-group API under `/v2/{project_id}/taskgroups`.
//!
//! Pipeline: route (unknown API → 404 `APIGW.0101`), authenticate (`X-Auth-Token` of a
//! configured token, or an SDK-HMAC-SHA256 signature; failures → 401 `APIGW.0301`),
//! throttle per (credential, operation) (429 `APIGW.0308`), injected faults (HTTP 500),
//! then the operation. Business errors are 4xx with `{"error_code","error_msg"}`.
//! Every response carries an `X-Request-Id` header.

pub(crate) mod sign;
pub(crate) mod taskgroups;

use hyper::{Method, StatusCode};
use serde::Serialize;

use crate::app::App;
use crate::encoding::percent_decode;
use crate::faults::Before;
use crate::http::{ApiRequest, Handled, Reply, empty_response, json_response};
use crate::schema::SchemaError;
use crate::stats::{Label, Outcome};
pub(crate) use taskgroups::{HuaweiState, objects};

/// The API version label used in statistics.
pub(crate) const VERSION: &str = "v2";

/// An OMS error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OmsError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl OmsError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 `OMS.0064`, naming the offending field.
    pub(crate) fn invalid(path: &str, why: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "OMS.0064",
            format!("Invalid request parameters. `{path}`: {why}"),
        )
    }

    /// A value that is not one of `allowed`.
    pub(crate) fn not_one_of(path: &str, value: &str, allowed: &[&str]) -> Self {
        Self::invalid(
            path,
            &format!("`{value}` is not one of {}", allowed.join(", ")),
        )
    }

    /// 404 `OMS.1009`.
    pub(crate) fn not_found(group_id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "OMS.1009",
            format!("No resources found: task group `{group_id}` does not exist."),
        )
    }
}

impl SchemaError for OmsError {
    fn unknown_parameter(path: &str) -> Self {
        Self::invalid(path, "unknown field")
    }

    fn missing_parameter(path: &str) -> Self {
        Self::invalid(path, "this field is required")
    }

    fn invalid_parameter(path: &str, why: &str) -> Self {
        Self::invalid(path, why)
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error_code: &'a str,
    error_msg: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

/// The task-group operations, named after the API reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    Create,
    List,
    Show,
    Start,
    Stop,
    Retry,
    Update,
    Delete,
}

impl Operation {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Create => "CreateTaskGroup",
            Self::List => "ListTaskGroup",
            Self::Show => "ShowTaskGroup",
            Self::Start => "StartTaskGroup",
            Self::Stop => "StopTaskGroup",
            Self::Retry => "RetryTaskGroup",
            Self::Update => "UpdateTaskGroup",
            Self::Delete => "DeleteTaskGroup",
        }
    }

    fn mutates(self) -> bool {
        !matches!(self, Self::List | Self::Show)
    }
}

/// A routed request: the operation, the project and the group it addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub(crate) operation: Operation,
    pub(crate) project_id: String,
    pub(crate) group_id: Option<String>,
}

fn decode(segment: &str) -> String {
    String::from_utf8_lossy(&percent_decode(segment, false)).into_owned()
}

/// Maps method and path onto an operation; `None` is an unknown API.
pub(crate) fn route(method: &Method, path: &str) -> Option<Route> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let route = |operation, project: &str, group: Option<&str>| Route {
        operation,
        project_id: decode(project),
        group_id: group.map(decode),
    };
    match (method, segments.as_slice()) {
        (&Method::POST, ["", "v2", project, "taskgroups"]) => {
            Some(route(Operation::Create, project, None))
        }
        (&Method::GET, ["", "v2", project, "taskgroups"]) => {
            Some(route(Operation::List, project, None))
        }
        (&Method::GET, ["", "v2", project, "taskgroups", group]) => {
            Some(route(Operation::Show, project, Some(group)))
        }
        (&Method::DELETE, ["", "v2", project, "taskgroups", group]) => {
            Some(route(Operation::Delete, project, Some(group)))
        }
        (&Method::PUT, ["", "v2", project, "taskgroups", group, action]) => {
            let operation = match *action {
                "start" => Operation::Start,
                "stop" => Operation::Stop,
                "retry" => Operation::Retry,
                "update" => Operation::Update,
                _ => return None,
            };
            Some(route(operation, project, Some(group)))
        }
        _ => None,
    }
    .filter(|route| {
        !route.project_id.is_empty()
            && route
                .group_id
                .as_deref()
                .is_none_or(|group| !group.is_empty())
    })
}

fn error_reply(error: &OmsError, request_id: &str, gateway: bool) -> Reply {
    let body = serde_json::to_vec(&ErrorBody {
        error_code: error.code,
        error_msg: &error.message,
        request_id: gateway.then_some(request_id),
    })
    .unwrap_or_default();
    let mut response = json_response(error.status, body);
    add_request_id(&mut response, request_id);
    Reply::Response(response)
}

fn add_request_id<B>(response: &mut hyper::Response<B>, request_id: &str) {
    if let Ok(value) = hyper::header::HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
}

/// Handles one request under `/v2/`.
pub(crate) fn handle<W: AsMut<HuaweiState> + Serialize>(
    app: &App<W>,
    request: &ApiRequest,
) -> Handled {
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let Some(route) = route(&request.method, &request.path) else {
        let error = OmsError::new(
            StatusCode::NOT_FOUND,
            "APIGW.0101",
            "The API does not exist or has not been published in the environment",
        );
        return Handled {
            reply: error_reply(&error, &request_id, true),
            label: ("huawei", VERSION, "(unknown)"),
            outcome: Outcome::BusinessError,
        };
    };
    let label: Label = ("huawei", VERSION, route.operation.name());
    let fail = |error: OmsError, outcome: Outcome, gateway: bool| Handled {
        reply: error_reply(&error, &request_id, gateway),
        label,
        outcome,
    };

    // Authentication: a configured token, or a valid AK/SK signature.
    let now_ms = app.clock.now_ms();
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).trim().to_owned())
    };
    let identity = if let Some(token) = header("x-auth-token") {
        if !app.huawei_tokens.contains(&token) {
            let error = OmsError::new(
                StatusCode::UNAUTHORIZED,
                "APIGW.0301",
                "Incorrect IAM authentication information: decrypt token fail",
            );
            return fail(error, Outcome::AuthError, true);
        }
        format!("token:{token}")
    } else if let Some(authorization) = header("authorization") {
        let signed = sign::SdkRequest {
            method: request.method.as_str(),
            raw_path: &request.path,
            raw_query: &request.raw_query,
            headers: &request.headers,
            body: &request.body,
        };
        let now_secs = i64::try_from(now_ms / 1000).unwrap_or(i64::MAX);
        match sign::verify(
            &signed,
            &authorization,
            |ak| app.huawei_keys.get(ak).cloned(),
            Some(now_secs),
        ) {
            Ok(access_key) => access_key,
            Err(error) => {
                return fail(
                    OmsError::new(StatusCode::UNAUTHORIZED, "APIGW.0301", error.message()),
                    Outcome::AuthError,
                    true,
                );
            }
        }
    } else {
        let error = OmsError::new(
            StatusCode::UNAUTHORIZED,
            "APIGW.0301",
            "Incorrect IAM authentication information: neither X-Auth-Token nor an AK/SK Authorization header was sent",
        );
        return fail(error, Outcome::AuthError, true);
    };

    if !app
        .limiter
        .check(&["huawei", &identity, route.operation.name()], now_ms)
    {
        let error = OmsError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "APIGW.0308",
            format!(
                "The throttling threshold has been reached: policy user over ratelimit, limit:{}, time:1 second",
                app.limiter.per_second()
            ),
        );
        return fail(error, Outcome::Throttled, true);
    }
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
        // An injected fault in the statistics, like Tencent's (see there).
        Before::Throttle => {
            let limit = match app.limiter.per_second() {
                0 => crate::config::DEFAULT_RATE_LIMIT_PER_SECOND,
                limit => limit,
            };
            let error = OmsError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "APIGW.0308",
                format!(
                    "The throttling threshold has been reached: policy user over ratelimit, limit:{limit}, time:1 second"
                ),
            );
            return fail(error, Outcome::InjectedFault, true);
        }
        Before::InternalError => {
            let error = OmsError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "OMS.0500",
                "Internal server error (injected by the migspec emulator)",
            );
            return fail(error, Outcome::InjectedFault, false);
        }
    }

    if route.operation == Operation::List {
        app.stats.query(label, &request.raw_query);
    }
    let ctx = taskgroups::Ctx {
        now: now_ms,
        timing: &app.timing,
        faults: &faults.config,
        project_id: &route.project_id,
    };
    let result = app.with_world(|world| {
        let state: &mut HuaweiState = world.as_mut();
        let result = taskgroups::dispatch(&route, request, &ctx, state);
        let changed = route.operation.mutates() && result.is_ok();
        if changed {
            state.clear_caches();
        }
        (result, changed)
    });
    match result {
        Ok(Some(payload)) => {
            let mut response = json_response(StatusCode::OK, payload());
            add_request_id(&mut response, &request_id);
            Handled {
                reply: Reply::Response(response),
                label,
                outcome: Outcome::Ok,
            }
        }
        Ok(None) => {
            let mut response = empty_response(StatusCode::OK);
            add_request_id(&mut response, &request_id);
            Handled {
                reply: Reply::Response(response),
                label,
                outcome: Outcome::Ok,
            }
        }
        Err(error) => fail(error, Outcome::BusinessError, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_the_eight_operations() {
        let group = "5c2f4a9e-7d1b-4f0e-9a3c-2b8d6e1f0a77";
        let cases = [
            (
                Method::POST,
                "/v2/p/taskgroups".to_owned(),
                Operation::Create,
            ),
            (Method::GET, "/v2/p/taskgroups".to_owned(), Operation::List),
            (
                Method::GET,
                format!("/v2/p/taskgroups/{group}"),
                Operation::Show,
            ),
            (
                Method::PUT,
                format!("/v2/p/taskgroups/{group}/start"),
                Operation::Start,
            ),
            (
                Method::PUT,
                format!("/v2/p/taskgroups/{group}/stop"),
                Operation::Stop,
            ),
            (
                Method::PUT,
                format!("/v2/p/taskgroups/{group}/retry"),
                Operation::Retry,
            ),
            (
                Method::PUT,
                format!("/v2/p/taskgroups/{group}/update"),
                Operation::Update,
            ),
            (
                Method::DELETE,
                format!("/v2/p/taskgroups/{group}"),
                Operation::Delete,
            ),
        ];
        for (method, path, operation) in cases {
            let route = route(&method, &path).expect("routed");
            assert_eq!(route.operation, operation, "{method} {path}");
            assert_eq!(route.project_id, "p");
        }
        assert_eq!(
            route(&Method::GET, "/v2/%7Bproject_id%7D/taskgroups").map(|r| r.project_id),
            Some("{project_id}".to_owned())
        );
        assert!(route(&Method::POST, &format!("/v2/p/taskgroups/{group}/start")).is_none());
        assert!(route(&Method::GET, "/v2/p/tasks").is_none());
        assert!(
            route(
                &Method::PUT,
                &format!("/v2/p/taskgroups/{group}/bandwidth-policy")
            )
            .is_none()
        );
    }
}
