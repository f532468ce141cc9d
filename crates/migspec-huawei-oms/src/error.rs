//! OMS error answers (reference §5) and how they map onto [`ProviderError`].
//!
//! | answer | error |
//! |---|---|
//! | 404, or `OMS.1009` | `NotFound` |
//! | `OMS.0063` (running, pause first), `OMS.0065` (already started), `OMS.0066` (not running), `OMS.0070` (completed) | `StateConflict` |
//! | 401, `APIGW.0301` | `Auth` |
//! | 429 | `Throttled` |
//! | 5xx | `Internal` |
//! | any other 4xx (`OMS.0064` invalid parameter, quotas, 403 permissions, 418 blacklisted IP) | `Rejected` |
//!
//! Messages keep the cloud's code, text and `X-Request-Id` verbatim and add what to do.

use migspec_provider::ProviderError;
use serde_json::Value;

/// The service name in every error.
pub(crate) const SERVICE: &str = "huawei-oms";

/// An error answer as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiFailure {
    /// The HTTP status.
    pub(crate) status: u16,
    /// `error_code` (or the status as text when the body has none).
    pub(crate) code: String,
    /// `error_msg` (or the raw body, shortened).
    pub(crate) message: String,
    /// `X-Request-Id` (or the body's `request_id`).
    pub(crate) request_id: Option<String>,
    /// `Retry-After` on a 429, when the server sent one.
    pub(crate) retry_after: Option<std::time::Duration>,
}

/// The longest raw body quoted in a message.
const MAX_QUOTED: usize = 300;

impl ApiFailure {
    /// Reads an error answer the way the SDK does: `error_code`/`error_msg`, then
    /// `errorCode`/`errorMsg`, then `code`/`message`, searched recursively.
    pub(crate) fn parse(status: u16, request_id: Option<String>, body: &[u8]) -> Self {
        let json = serde_json::from_slice::<Value>(body).ok();
        let pair = json.as_ref().and_then(find_pair);
        let body_request_id = json
            .as_ref()
            .and_then(|json| json.get("request_id"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let (code, message) = pair.unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            let quoted: String = text.chars().take(MAX_QUOTED).collect();
            let message = if quoted.is_empty() {
                "(empty answer)".to_owned()
            } else if text.chars().count() > MAX_QUOTED {
                format!("{quoted}…")
            } else {
                quoted
            };
            (status.to_string(), message)
        });
        Self {
            status,
            code,
            message,
            request_id: request_id.or(body_request_id),
            retry_after: None,
        }
    }

    /// Whether OMS refused because of the group's state.
    pub(crate) fn is_state_conflict(&self) -> bool {
        matches!(
            self.code.as_str(),
            "OMS.0063" | "OMS.0065" | "OMS.0066" | "OMS.0070"
        )
    }

    /// The provider error, for an operation on `group_id` (when there is one).
    pub(crate) fn into_provider_error(
        self,
        operation: &str,
        group_id: Option<&str>,
    ) -> ProviderError {
        let Self {
            status,
            code,
            message,
            request_id,
            retry_after: _,
        } = self;
        let service = SERVICE.to_owned();
        if status == 404 || code == "OMS.1009" {
            return ProviderError::NotFound {
                service,
                id: group_id.map_or_else(
                    || format!("the API called by {operation} ({message})"),
                    |id| format!("task group {id}"),
                ),
                code,
            };
        }
        if status == 401 || code.starts_with("APIGW.0301") {
            return ProviderError::Auth {
                service,
                code,
                message: format!(
                    "{message}; check the AK/SK (explicit settings, HUAWEICLOUD_SDK_AK/HUAWEICLOUD_SDK_SK or ~/.huaweicloud/credentials), that the token has not expired, and that this machine's clock is within 15 minutes of UTC"
                ),
                request_id,
            };
        }
        if status == 429 {
            return ProviderError::Throttled {
                service,
                code,
                message: format!(
                    "{message}; {operation} was throttled (migspec retries it with backoff within its budget): if it keeps happening, lower `huawei.rateLimitPerSecond` in migspec.yaml or run apply again later"
                ),
                request_id,
            };
        }
        if status >= 500 {
            return ProviderError::Internal {
                service,
                code,
                message: format!("{message}; {operation} failed inside OMS: run apply again"),
                request_id,
            };
        }
        let conflict = Self {
            status,
            code: code.clone(),
            message: String::new(),
            request_id: None,
            retry_after: None,
        }
        .is_state_conflict();
        if conflict {
            let hint = match code.as_str() {
                "OMS.0063" => {
                    "OMS deletes a group only once it is paused and its tasks have stopped: pause it and wait until it is paused before deleting it"
                }
                "OMS.0065" => "the group is already started",
                "OMS.0066" => {
                    "the group is not creating tasks or migrating, so there is nothing to pause"
                }
                _ => {
                    "the migration is complete: a finished group cannot be started, paused or changed"
                }
            };
            return ProviderError::StateConflict {
                service,
                code,
                message: format!("{operation}: {message} ({hint})"),
                request_id,
            };
        }
        let hint = match (status, code.as_str()) {
            (403, _) => "the IAM user needs the oms:taskgroup:* permissions for this project",
            (418, _) => "OMS blacklisted the caller's IP address; ask Huawei Cloud support",
            (_, "OMS.0075" | "OMS.0076" | "OMS.0077") => {
                "an OMS quota is exhausted: delete finished groups or wait"
            }
            (_, "OMS.0078") => "remove ^ < > & \" ' from the spec's description",
            _ => "fix the field the message names in the spec, then plan again",
        };
        ProviderError::Rejected {
            service,
            code,
            message: format!("{operation}: {message} ({hint})"),
            request_id,
        }
    }
}

fn find_pair(value: &Value) -> Option<(String, String)> {
    match value {
        Value::Object(object) => {
            for (code_key, message_key) in [
                ("error_code", "error_msg"),
                ("errorCode", "errorMsg"),
                ("code", "message"),
            ] {
                if let (Some(code), Some(message)) = (object.get(code_key), object.get(message_key))
                {
                    let text = |value: &Value| match value {
                        Value::String(text) => text.clone(),
                        other => other.to_string(),
                    };
                    return Some((text(code), text(message)));
                }
            }
            object.values().find_map(find_pair)
        }
        Value::Array(items) => items.iter().find_map(find_pair),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(status: u16, body: &str) -> ProviderError {
        ApiFailure::parse(status, Some("req-1".into()), body.as_bytes())
            .into_provider_error("show_task_group", Some("g-1"))
    }

    #[test]
    fn codes_map_onto_provider_errors() {
        assert!(matches!(
            error(404, r#"{"error_code":"OMS.1009","error_msg":"No resources found."}"#),
            ProviderError::NotFound { ref code, .. } if code == "OMS.1009"
        ));
        assert!(matches!(
            error(
                400,
                r#"{"error_code":"OMS.1009","error_msg":"No resources found."}"#
            ),
            ProviderError::NotFound { .. }
        ));
        for code in ["OMS.0063", "OMS.0065", "OMS.0066", "OMS.0070"] {
            let body = format!(r#"{{"error_code":"{code}","error_msg":"no"}}"#);
            assert!(
                matches!(error(400, &body), ProviderError::StateConflict { .. }),
                "{code}"
            );
        }
        let rejected = error(
            400,
            r#"{"error_code":"OMS.0064","error_msg":"Invalid request parameters. `dst_node.ak`: this field is required"}"#,
        );
        let ProviderError::Rejected {
            code,
            message,
            request_id,
            ..
        } = rejected
        else {
            panic!("rejected")
        };
        assert_eq!(code, "OMS.0064");
        assert!(message.contains("`dst_node.ak`"), "{message}");
        assert_eq!(request_id.as_deref(), Some("req-1"));
        assert!(matches!(
            error(
                401,
                r#"{"error_code":"APIGW.0301","error_msg":"verify aksk signature fail","request_id":"x"}"#
            ),
            ProviderError::Auth { .. }
        ));
        assert!(matches!(
            error(
                429,
                r#"{"error_code":"APIGW.0308","error_msg":"throttled"}"#
            ),
            ProviderError::Throttled { .. }
        ));
        assert!(matches!(
            error(503, "Service Unavailable"),
            ProviderError::Internal { ref code, .. } if code == "503"
        ));
    }

    #[test]
    fn the_sdk_fallbacks_are_searched() {
        let failure = ApiFailure::parse(
            400,
            None,
            br#"{"error":{"errorCode":"X.1","errorMsg":"nested"},"request_id":"body-id"}"#,
        );
        assert_eq!(failure.code, "X.1");
        assert_eq!(failure.message, "nested");
        assert_eq!(failure.request_id.as_deref(), Some("body-id"));
        let raw = ApiFailure::parse(502, None, b"<html>bad gateway</html>");
        assert_eq!(raw.code, "502");
        assert_eq!(raw.message, "<html>bad gateway</html>");
    }
}
