//! The HTTP client: signed JSON POSTs, the response envelope, retries and rate limits.
//!
//! Every request carries the headers the official Python SDK sends (reference §5.4):
//! `Content-Type: application/json`, `Host`, `X-TC-Action`, `X-TC-Version`,
//! `X-TC-Timestamp`, `X-TC-Region`, `X-TC-Language`, `X-TC-RequestClient`, `X-TC-Token`
//! when the credentials carry one, and a TC3 `Authorization` signing `content-type;host`.
//!
//! Each request is sent once. Before it goes, the client waits for admission through the
//! runner's call gate ([`migspec_provider::CallGate`], keyed by action, region and credential
//! source) and afterwards reports the outcome (answered, throttled, no answer, request id):
//! the runner owns rate limiting, backoff and retries, so there is one layer of retries and
//! it sits where the step can be re-observed before a create is repeated.

use std::sync::Arc;

use migspec_provider::{CallGate, CallKey, CallResult, GateSlot};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::TencentConfig;
use crate::endpoint::host_header;
use crate::error::{ApiError, ClientError, ConfigError};
use crate::sign::{SigningRequest, sign};

/// The service name in the TC3 credential scope and the host prefix.
pub const SERVICE_NAME: &str = "dts";

/// The two DTS API versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ApiVersion {
    /// `2018-03-30` (kind `TencentDtsMigrateJob`).
    V2018,
    /// `2021-12-06` (kind `TencentDtsMigrationJob`).
    V2021,
}

impl ApiVersion {
    /// The `X-TC-Version` value.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::V2018 => "2018-03-30",
            Self::V2021 => "2021-12-06",
        }
    }

    /// Parses an `X-TC-Version` value.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "2018-03-30" => Some(Self::V2018),
            "2021-12-06" => Some(Self::V2021),
            _ => None,
        }
    }

    /// The spec kind managed through this version.
    #[must_use]
    pub const fn kind(self) -> &'static str {
        match self {
            Self::V2018 => "TencentDtsMigrateJob",
            Self::V2021 => "TencentDtsMigrationJob",
        }
    }

    /// The version serving a spec kind.
    #[must_use]
    pub fn for_kind(kind: &str) -> Option<Self> {
        match kind {
            "TencentDtsMigrateJob" => Some(Self::V2018),
            "TencentDtsMigrationJob" => Some(Self::V2021),
            _ => None,
        }
    }
}

impl std::fmt::Display for ApiVersion {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// How a request may be repeated, should it fail: the runner (not the client) decides, and
/// the call's log line says which it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Reads and state transitions: repeatable on throttling, internal and network errors.
    Safe,
    /// Creates: repeatable only after a throttle (certainly no effect); after an internal or
    /// network error the job may exist, and the runner looks for it by its tag first.
    Create,
}

/// A DTS API client for both versions. Cheap to clone.
#[derive(Clone)]
pub struct DtsClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    config: TencentConfig,
    /// The runner's call gate (an open gate until one is attached).
    gate: GateSlot,
    /// 2021 `MigrateOption` by job id, as last read with `DescribeMigrationDetail`, so that
    /// polled views (which skip that per-job call) stay complete.
    migrate_options: std::sync::Mutex<std::collections::HashMap<String, serde_json::Value>>,
}

impl std::fmt::Debug for DtsClient {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("DtsClient")
            .field("endpoint", &self.inner.config.endpoint)
            .finish_non_exhaustive()
    }
}

impl DtsClient {
    /// A client for `config`.
    ///
    /// # Errors
    ///
    /// When the endpoint is invalid or the HTTP client cannot be built.
    pub fn new(config: TencentConfig) -> Result<Self, ConfigError> {
        config.endpoint.validate()?;
        // The shared proxy policy: a loopback endpoint (a local emulator) is never reached
        // through a proxy.
        let custom = match &config.endpoint {
            crate::endpoint::Endpoint::Custom(_) => config.endpoint.url_for("").ok(),
            _ => None,
        };
        let http = migspec_provider::transport::client_builder(custom.as_ref())
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.request_timeout)
            .timeout(config.request_timeout)
            .user_agent(config.request_client.clone())
            .build()
            .map_err(|error| ConfigError::new(format!("cannot build the HTTP client: {error}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                config,
                gate: GateSlot::default(),
                migrate_options: std::sync::Mutex::default(),
            }),
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &TencentConfig {
        &self.inner.config
    }

    /// Admits every later request through `gate`.
    pub fn attach_gate(&self, gate: Arc<dyn CallGate>) {
        self.inner.gate.set(gate);
    }

    /// Remembers the `MigrateOption` of a 2021 job.
    pub(crate) fn remember_migrate_option(&self, job_id: &str, option: &serde_json::Value) {
        self.inner
            .migrate_options
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(job_id.to_owned(), option.clone());
    }

    /// The `MigrateOption` of a 2021 job as last read.
    pub(crate) fn remembered_migrate_option(&self, job_id: &str) -> Option<serde_json::Value> {
        self.inner
            .migrate_options
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(job_id)
            .cloned()
    }

    /// Calls `action` of `version` in `region` with `request` as the JSON body, and decodes
    /// the `Response` object (without `RequestId`) as `Resp`.
    ///
    /// `job_id` only labels errors.
    ///
    /// # Errors
    ///
    /// The API's error (sent once: the runner retries), a network or protocol failure,
    /// or missing credentials.
    pub async fn call<Req, Resp>(
        &self,
        version: ApiVersion,
        action: &str,
        region: &str,
        job_id: Option<&str>,
        request: &Req,
        retry: Retry,
    ) -> Result<Resp, ClientError>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        let body = serde_json::to_vec(request).map_err(|error| {
            ClientError::Config(ConfigError::new(format!(
                "cannot serialise the {action} request: {error}"
            )))
        })?;
        let config = &self.inner.config;
        let credential = config
            .credentials
            .as_ref()
            .map_or_else(|| "none".to_owned(), |c| c.source().to_string());
        let key = CallKey::new(crate::PROVIDER_NAME, action, region, credential);
        let admission = self.inner.gate.admit(key).await;
        let result = self.send_once(version, action, region, job_id, &body).await;
        let (outcome, request_id) = match &result {
            Ok((_, request_id)) => (
                CallResult::Answered { error_code: None },
                request_id.clone(),
            ),
            Err(ClientError::Api(api)) if api.class() == crate::error::ErrorClass::Throttled => (
                CallResult::Throttled {
                    code: api.code.clone(),
                    retry_after: None,
                },
                api.request_id.clone(),
            ),
            Err(ClientError::Api(api)) => (
                CallResult::Answered {
                    error_code: Some(api.code.clone()),
                },
                api.request_id.clone(),
            ),
            Err(error @ (ClientError::Network { .. } | ClientError::Protocol { .. })) => (
                CallResult::NoAnswer {
                    message: error.to_string(),
                },
                None,
            ),
            Err(error) => (
                CallResult::Answered {
                    error_code: Some(error.to_string()),
                },
                None,
            ),
        };
        if retry == Retry::Create && !matches!(outcome, CallResult::Answered { .. }) {
            tracing::debug!(
                action,
                region,
                "a create did not go through; the runner decides whether it is repeated"
            );
        }
        admission.finish(outcome, request_id);
        let (value, _) = result?;
        serde_json::from_value(value).map_err(|error| ClientError::Protocol {
            action: action.to_owned(),
            endpoint: config
                .endpoint
                .url_for(region)
                .map(|url| url.to_string())
                .unwrap_or_default(),
            status: 200,
            message: format!("the response does not have the documented shape: {error}"),
        })
    }

    async fn send_once(
        &self,
        version: ApiVersion,
        action: &str,
        region: &str,
        job_id: Option<&str>,
        body: &[u8],
    ) -> Result<(serde_json::Value, Option<String>), ClientError> {
        let config = &self.inner.config;
        let Some(credentials) = &config.credentials else {
            return Err(ClientError::Config(ConfigError::new(
                config.missing_credentials.clone().unwrap_or_else(|| {
                    crate::credentials::Credentials::missing_message(
                        &|_| None,
                        crate::credentials::Locations::new(None),
                    )
                }),
            )));
        };
        let url = config
            .endpoint
            .url_for(region)
            .map_err(ClientError::Config)?;
        let host = host_header(&url);
        let timestamp = config.clock.now();
        let signed = sign(
            &SigningRequest {
                method: "POST",
                host: &host,
                query: "",
                content_type: "application/json",
                payload: body,
                service: SERVICE_NAME,
                timestamp,
                signed_action: None,
            },
            credentials.secret_id().expose(),
            credentials.secret_key().expose(),
        );
        let mut headers = HeaderMap::new();
        let mut put = |name: &'static str, value: &str| -> Result<(), ClientError> {
            let value = HeaderValue::from_str(value).map_err(|_| {
                ClientError::Config(ConfigError::new(format!(
                    "the {name} header value is not valid in HTTP (non-ASCII characters in the region, language, key or token?)"
                )))
            })?;
            headers.insert(name, value);
            Ok(())
        };
        put("X-TC-Action", action)?;
        put("X-TC-Version", version.as_str())?;
        put("X-TC-Timestamp", &timestamp.to_string())?;
        if !region.is_empty() {
            put("X-TC-Region", region)?;
        }
        put("X-TC-Language", &config.language)?;
        put("X-TC-RequestClient", &config.request_client)?;
        if let Some(token) = credentials.token() {
            put("X-TC-Token", token.expose())?;
        }
        put("Authorization", &signed.authorization)?;
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let endpoint = url.to_string();
        let response = self
            .inner
            .http
            .post(url)
            .headers(headers)
            .body(body.to_vec())
            .send()
            .await
            .map_err(|error| network(action, &endpoint, &error))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|error| network(action, &endpoint, &error))?;
        decode(action, version, job_id, &endpoint, status, &bytes).map_err(|mut error| {
            // A refused key is traced to where it was read from.
            if let ClientError::Api(api) = &mut error
                && api.class() == crate::error::ErrorClass::Auth
            {
                api.credential_source = Some(credentials.source().to_string());
            }
            error
        })
    }
}

fn network(action: &str, endpoint: &str, error: &reqwest::Error) -> ClientError {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    ClientError::Network {
        action: action.to_owned(),
        endpoint: endpoint.to_owned(),
        message,
        // A refused or failed connection never reached the service; anything later may have.
        maybe_processed: !error.is_connect(),
    }
}

/// Decodes the envelope: `{"Response": {..., "RequestId"}}`, errors in `Response.Error`;
/// a success comes with its request id.
fn decode(
    action: &str,
    version: ApiVersion,
    job_id: Option<&str>,
    endpoint: &str,
    status: u16,
    bytes: &[u8],
) -> Result<(serde_json::Value, Option<String>), ClientError> {
    let protocol = |message: String| ClientError::Protocol {
        action: action.to_owned(),
        endpoint: endpoint.to_owned(),
        status,
        message,
    };
    let parsed: serde_json::Value = serde_json::from_slice(bytes).map_err(|_| {
        let text = String::from_utf8_lossy(bytes);
        let excerpt: String = text.chars().take(200).collect();
        protocol(format!("the body is not JSON: {excerpt}"))
    })?;
    let Some(serde_json::Value::Object(mut response)) = parsed.get("Response").cloned() else {
        return Err(protocol("the body has no `Response` object".to_owned()));
    };
    let request_id = response
        .remove("RequestId")
        .and_then(|id| id.as_str().map(str::to_owned));
    if let Some(error) = response.get("Error") {
        let text = |key: &str| {
            error
                .get(key)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        return Err(ClientError::Api(Box::new(ApiError {
            action: action.to_owned(),
            version: version.as_str().to_owned(),
            job_id: job_id.map(str::to_owned),
            code: text("Code"),
            message: text("Message"),
            request_id,
            credential_source: None,
        })));
    }
    if status != 200 {
        return Err(protocol("a response envelope without an error".to_owned()));
    }
    response.remove("DeprecatedWarning");
    Ok((serde_json::Value::Object(response), request_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_decode_to_results_and_errors() {
        let ok = decode(
            "CreateMigrateJob",
            ApiVersion::V2018,
            None,
            "e",
            200,
            br#"{"Response":{"JobId":"dts-1kl0iy0v","RequestId":"r1"}}"#,
        )
        .unwrap();
        assert_eq!(
            ok,
            (
                serde_json::json!({"JobId": "dts-1kl0iy0v"}),
                Some("r1".to_owned())
            )
        );
        let error = decode(
            "StartMigrateJob",
            ApiVersion::V2018,
            Some("dts-1"),
            "e",
            200,
            br#"{"Response":{"Error":{"Code":"FailedOperation.StatusInConflict","Message":"job status conflict"},"RequestId":"r2"}}"#,
        )
        .unwrap_err();
        let api = error.api().unwrap();
        assert_eq!(api.code, "FailedOperation.StatusInConflict");
        assert_eq!(api.message, "job status conflict");
        assert_eq!(api.request_id.as_deref(), Some("r2"));
        assert_eq!(api.job_id.as_deref(), Some("dts-1"));
        let error = decode(
            "X",
            ApiVersion::V2021,
            None,
            "e",
            502,
            b"<html>bad gateway</html>",
        )
        .unwrap_err();
        assert!(matches!(error, ClientError::Protocol { status: 502, .. }));
        assert!(error.is_transient());
    }
}
