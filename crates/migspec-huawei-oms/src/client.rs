//! The OMS v2 task-group client: signing and error mapping for the eight task-group
//! operations.
//!
//! # Guarantees
//!
//! - Every request is signed afresh (a new `X-Sdk-Date`), sent once, after admission through
//!   the runner's call gate under (operation, region, credential source), and reported to it
//!   (answered, throttled with the server's `Retry-After`, or no answer, with the request
//!   id). Rate limiting, backoff and retries are the runner's: one layer of retries.
//! - An ambiguous failure of `create` or `retry` (5xx, a lost answer) may have taken
//!   effect: the provider lists the groups and searches for its marker before anything
//!   repeats it.
//! - Request bodies (which carry keys) never appear in errors.

use std::sync::Arc;
use std::time::Duration;

use migspec_provider::{CallGate, CallKey, CallResult, GateSlot, ProviderError};
use reqwest::Method;
use serde_json::Value;

use crate::config::{
    Clock, ConfigError, Credentials, HuaweiConfig, check_endpoint, region_endpoint,
};
use crate::error::{ApiFailure, SERVICE};
use crate::sign::{self, SigningInput, encode_unreserved};
use crate::wire::{Created, TaskGroup, TaskGroupList};

/// The page size of list calls (the API's maximum).
pub const PAGE_SIZE: u64 = 100;

/// The most pages one listing reads (100,000 groups), so a misbehaving server cannot keep
/// a listing going forever.
const MAX_PAGES: u64 = 1_000;

/// The task-group operations, named as in the SDK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// `POST /taskgroups`.
    Create,
    /// `GET /taskgroups`.
    List,
    /// `GET /taskgroups/{id}`.
    Show,
    /// `PUT /taskgroups/{id}/start`.
    Start,
    /// `PUT /taskgroups/{id}/stop`.
    Stop,
    /// `PUT /taskgroups/{id}/retry`.
    Retry,
    /// `PUT /taskgroups/{id}/update`.
    Update,
    /// `DELETE /taskgroups/{id}`.
    Delete,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Self; 8] = [
        Self::Create,
        Self::List,
        Self::Show,
        Self::Start,
        Self::Stop,
        Self::Retry,
        Self::Update,
        Self::Delete,
    ];

    /// The SDK method name (`create_task_group`, …).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Create => "create_task_group",
            Self::List => "list_task_group",
            Self::Show => "show_task_group",
            Self::Start => "start_task_group",
            Self::Stop => "stop_task_group",
            Self::Retry => "retry_task_group",
            Self::Update => "update_task_group",
            Self::Delete => "delete_task_group",
        }
    }
}

/// Where a call goes: the region (endpoint) and the project (path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'a> {
    /// The region, e.g. `cn-north-4`.
    pub region: &'a str,
    /// The project id.
    pub project_id: &'a str,
}

/// A client for the OMS v2 task-group API. Cheap to share: one per provider.
#[derive(Debug)]
pub struct OmsClient {
    http: reqwest::Client,
    endpoint: Option<reqwest::Url>,
    credentials: Option<Credentials>,
    /// Where the credentials came from (for call keys and logs; never the credentials).
    credential_source: String,
    /// The runner's call gate (an open gate until one is attached).
    gate: GateSlot,
    clock: Clock,
    user_agent: String,
}

/// A successful answer.
struct Answer {
    body: Vec<u8>,
    request_id: Option<String>,
}

/// Why one attempt failed.
enum AttemptError {
    /// The server answered with an error.
    Api(ApiFailure),
    /// The connection could not be opened: the request was certainly not processed.
    NotSent(String),
    /// The request may or may not have reached the server (timeout, reset, unreadable
    /// answer).
    Ambiguous(String),
    /// The request cannot be built (a key that is not valid header text); never repeated.
    Invalid(String),
}

impl OmsClient {
    /// A client with `config`'s endpoint, credentials and timeouts.
    ///
    /// # Errors
    ///
    /// When the endpoint override is unusable or the HTTP client cannot be built.
    pub fn new(config: &HuaweiConfig) -> Result<Self, ConfigError> {
        let endpoint = config.endpoint.as_deref().map(check_endpoint).transpose()?;
        // HTTP/1.1 like the SDK: the signature covers the `Host` header exactly as sent.
        // The shared proxy policy: a loopback endpoint (a local emulator) is never reached
        // through a proxy, which would see the keys in `CreateTaskGroup` bodies.
        let http = migspec_provider::transport::client_builder(endpoint.as_ref())
            .http1_only()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .build()
            .map_err(|error| ConfigError::Client {
                message: error.to_string(),
            })?;
        Ok(Self {
            http,
            endpoint,
            credentials: config.credentials.clone(),
            credential_source: config.credential_source.clone(),
            gate: GateSlot::default(),
            clock: config.clock.clone(),
            user_agent: config.user_agent.clone(),
        })
    }

    /// Admits every later request through `gate`.
    pub fn attach_gate(&self, gate: Arc<dyn CallGate>) {
        self.gate.set(gate);
    }

    /// Creates a task group. `body` is a `CreateTaskGroupReq` (with keys).
    ///
    /// # Errors
    ///
    /// The mapped OMS error. A `Network`, `Internal` or timeout error is *ambiguous*: the
    /// group may exist; look for it before creating again.
    pub async fn create(&self, target: Target<'_>, body: &Value) -> Result<String, ProviderError> {
        let answer = self
            .call(Operation::Create, target, None, "", &[], Some(body))
            .await?;
        let created: Created = parse(Operation::Create, &answer.body)?;
        Ok(created.group_id)
    }

    /// One page of task groups.
    ///
    /// # Errors
    ///
    /// The mapped OMS error.
    pub async fn list_page(
        &self,
        target: Target<'_>,
        limit: u64,
        offset: u64,
    ) -> Result<TaskGroupList, ProviderError> {
        let query = vec![
            ("limit".to_owned(), limit.to_string()),
            ("offset".to_owned(), offset.to_string()),
        ];
        let answer = self
            .call(Operation::List, target, None, "", &query, None)
            .await?;
        parse(Operation::List, &answer.body)
    }

    /// Every task group of the project: pages of 100, `offset` advanced by each page's
    /// length, until a short page or `count` is reached.
    ///
    /// # Errors
    ///
    /// The mapped OMS error of any page.
    pub async fn list_all(&self, target: Target<'_>) -> Result<Vec<TaskGroup>, ProviderError> {
        let mut groups = Vec::new();
        let mut offset = 0;
        for _ in 0..MAX_PAGES {
            let page = self.list_page(target, PAGE_SIZE, offset).await?;
            let length = page.taskgroups.len() as u64;
            groups.extend(page.taskgroups);
            offset += length;
            let total_reached = page.count.is_some_and(|count| offset >= count);
            if length < PAGE_SIZE || total_reached {
                break;
            }
        }
        Ok(groups)
    }

    /// One task group.
    ///
    /// # Errors
    ///
    /// `NotFound` when it does not exist (404 / `OMS.1009`), or the mapped OMS error.
    pub async fn show(
        &self,
        target: Target<'_>,
        group_id: &str,
    ) -> Result<TaskGroup, ProviderError> {
        let answer = self
            .call(Operation::Show, target, Some(group_id), "", &[], None)
            .await?;
        parse(Operation::Show, &answer.body)
    }

    /// Starts a paused group. `body` is a `StartTaskGroupReq` (with keys).
    ///
    /// # Errors
    ///
    /// `StateConflict` `OMS.0065` when already started, `OMS.0070` when completed, or the
    /// mapped OMS error.
    pub async fn start(
        &self,
        target: Target<'_>,
        group_id: &str,
        body: &Value,
    ) -> Result<(), ProviderError> {
        self.call(
            Operation::Start,
            target,
            Some(group_id),
            "/start",
            &[],
            Some(body),
        )
        .await
        .map(drop)
    }

    /// Pauses a group that creates tasks or migrates.
    ///
    /// # Errors
    ///
    /// `StateConflict` `OMS.0066` when it is not running, or the mapped OMS error.
    pub async fn stop(&self, target: Target<'_>, group_id: &str) -> Result<(), ProviderError> {
        self.call(Operation::Stop, target, Some(group_id), "/stop", &[], None)
            .await
            .map(drop)
    }

    /// Retries a failed group. `body` is a `RetryTaskGroupReq` (with keys).
    ///
    /// # Errors
    ///
    /// The mapped OMS error (a group that is not failed is refused).
    pub async fn retry(
        &self,
        target: Target<'_>,
        group_id: &str,
        body: &Value,
    ) -> Result<(), ProviderError> {
        self.call(
            Operation::Retry,
            target,
            Some(group_id),
            "/retry",
            &[],
            Some(body),
        )
        .await
        .map(drop)
    }

    /// Replaces the bandwidth policy. `body` is `{"bandwidth_policy": [...]}` in bytes/s.
    ///
    /// # Errors
    ///
    /// The mapped OMS error.
    pub async fn update(
        &self,
        target: Target<'_>,
        group_id: &str,
        body: &Value,
    ) -> Result<(), ProviderError> {
        self.call(
            Operation::Update,
            target,
            Some(group_id),
            "/update",
            &[],
            Some(body),
        )
        .await
        .map(drop)
    }

    /// Deletes a group (which must not be creating tasks, migrating or pausing).
    ///
    /// # Errors
    ///
    /// `StateConflict` `OMS.0063` when it is still in progress,
    /// `NotFound` when it is gone, or the mapped OMS error.
    pub async fn delete(&self, target: Target<'_>, group_id: &str) -> Result<(), ProviderError> {
        self.call(Operation::Delete, target, Some(group_id), "", &[], None)
            .await
            .map(drop)
    }

    async fn call(
        &self,
        operation: Operation,
        target: Target<'_>,
        group_id: Option<&str>,
        suffix: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<Answer, ProviderError> {
        let base = match &self.endpoint {
            Some(endpoint) => endpoint.clone(),
            None => region_endpoint(target.region).map_err(|error| ProviderError::Config {
                message: error.to_string(),
            })?,
        };
        if target.project_id.is_empty() {
            return Err(ProviderError::Config {
                message: "no Huawei Cloud project id: set `project_id` in the spec, `huawei.projectId` in migspec.yaml, HUAWEICLOUD_SDK_PROJECT_ID, or project_id in ~/.huaweicloud/credentials".to_owned(),
            });
        }
        let mut path = format!(
            "/v2/{}/taskgroups",
            encode_unreserved(target.project_id.as_bytes())
        );
        if let Some(group_id) = group_id {
            path.push('/');
            path.push_str(&encode_unreserved(group_id.as_bytes()));
        }
        path.push_str(suffix);
        let body_bytes = match body {
            Some(body) => {
                Some(
                    serde_json::to_vec(body).map_err(|error| ProviderError::Contract {
                        message: format!("cannot encode the {} request: {error}", operation.name()),
                    })?,
                )
            }
            None => None,
        };
        let method = match operation {
            Operation::Create => Method::POST,
            Operation::List | Operation::Show => Method::GET,
            Operation::Delete => Method::DELETE,
            _ => Method::PUT,
        };
        let Some(credentials) = &self.credentials else {
            return Err(ProviderError::Config {
                message: "no Huawei Cloud credentials: set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK, write them to ~/.huaweicloud/credentials (section [basic], keys ak and sk), or configure them explicitly".to_owned(),
            });
        };
        let key = CallKey::new(
            crate::PROVIDER_NAME,
            operation.name(),
            target.region,
            self.credential_source.clone(),
        );
        let admission = self.gate.admit(key).await;
        let outcome = self
            .attempt(
                credentials,
                &method,
                &base,
                &path,
                query,
                target,
                body_bytes.as_deref(),
            )
            .await;
        let (result, request_id) = match &outcome {
            Ok(answer) => (
                CallResult::Answered { error_code: None },
                answer.request_id.clone(),
            ),
            Err(AttemptError::Api(failure)) if failure.status == 429 => (
                CallResult::Throttled {
                    code: failure.code.clone(),
                    retry_after: failure.retry_after,
                },
                failure.request_id.clone(),
            ),
            Err(AttemptError::Api(failure)) => (
                CallResult::Answered {
                    error_code: Some(failure.code.clone()),
                },
                failure.request_id.clone(),
            ),
            Err(AttemptError::NotSent(message) | AttemptError::Ambiguous(message)) => (
                CallResult::NoAnswer {
                    message: message.clone(),
                },
                None,
            ),
            Err(AttemptError::Invalid(message)) => (
                CallResult::Answered {
                    error_code: Some(message.clone()),
                },
                None,
            ),
        };
        admission.finish(result, request_id);
        outcome.map_err(|error| self.provider_error(operation, group_id, &base, error))
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one attempt of one prepared request"
    )]
    async fn attempt(
        &self,
        credentials: &Credentials,
        method: &Method,
        base: &reqwest::Url,
        path: &str,
        query: &[(String, String)],
        target: Target<'_>,
        body: Option<&[u8]>,
    ) -> Result<Answer, AttemptError> {
        let query_string = sign::canonical_query(query);
        let mut url = base.clone();
        url.set_path(path);
        url.set_query((!query_string.is_empty()).then_some(query_string.as_str()));
        let host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => String::new(),
        };
        let content_type = if body.is_some() {
            "application/json;charset=utf-8"
        } else {
            "application/json"
        };
        let mut headers: Vec<(String, String)> = vec![
            ("Content-Type".to_owned(), content_type.to_owned()),
            ("User-Agent".to_owned(), self.user_agent.clone()),
            ("X-Project-Id".to_owned(), target.project_id.to_owned()),
        ];
        let mut secret_headers: Vec<(&'static str, String)> = Vec::new();
        match credentials {
            Credentials::AccessKey {
                access_key,
                secret_key,
                security_token,
            } => {
                headers.push((
                    sign::SDK_DATE_HEADER.to_owned(),
                    sign::sdk_date(self.clock.now()),
                ));
                if let Some(token) = security_token {
                    headers.push(("X-Security-Token".to_owned(), token.expose().to_owned()));
                }
                // Host is signed but set by the HTTP client from the URL (same value).
                headers.push(("Host".to_owned(), host));
                let signature = sign::sign(
                    secret_key.expose(),
                    &SigningInput {
                        method: method.as_str(),
                        path,
                        query,
                        headers: &headers,
                        body: body.unwrap_or_default(),
                    },
                );
                headers.retain(|(name, _)| !name.eq_ignore_ascii_case("host"));
                secret_headers.push((
                    "Authorization",
                    signature.authorization(access_key.expose()),
                ));
            }
            Credentials::Token(token) => {
                secret_headers.push(("X-Auth-Token", token.expose().to_owned()));
            }
        }
        let mut request = self.http.request(method.clone(), url);
        for (name, value) in headers.iter().map(|(n, v)| (n.as_str(), v.as_str())) {
            request = request.header(name, value);
        }
        for (name, value) in &secret_headers {
            let mut value = reqwest::header::HeaderValue::from_str(value).map_err(|_| {
                AttemptError::Invalid(format!(
                    "the {name} header is not valid header text: check the credentials for stray characters"
                ))
            })?;
            value.set_sensitive(true);
            request = request.header(*name, value);
        }
        if method != Method::GET {
            // PUT and DELETE without a body still send `Content-Length: 0`, as the SDK does.
            request = request.body(body.map(<[u8]>::to_vec).unwrap_or_default());
        }
        let response = request.send().await.map_err(|error| {
            let text = describe_transport_error(&error);
            if error.is_connect() {
                AttemptError::NotSent(text)
            } else {
                AttemptError::Ambiguous(text)
            }
        })?;
        let status = response.status().as_u16();
        let request_id = response
            .headers()
            .get("x-request-id")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        // The server's pacing hint on a 429 (seconds, as API gateways send it).
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = response
            .bytes()
            .await
            .map_err(|error| AttemptError::Ambiguous(describe_transport_error(&error)))?;
        if (200..300).contains(&status) {
            Ok(Answer {
                body: bytes.to_vec(),
                request_id,
            })
        } else {
            let mut failure = ApiFailure::parse(status, request_id, &bytes);
            failure.retry_after = retry_after;
            Err(AttemptError::Api(failure))
        }
    }

    fn provider_error(
        &self,
        operation: Operation,
        group_id: Option<&str>,
        base: &reqwest::Url,
        error: AttemptError,
    ) -> ProviderError {
        match error {
            AttemptError::Api(failure) if failure.code == "APIGW.0101" => ProviderError::Config {
                message: format!(
                    "{} does not serve the OMS v2 API ({}: {}); check the endpoint ({} or the region)",
                    base.as_str().trim_end_matches('/'),
                    failure.code,
                    failure.message,
                    crate::config::ENDPOINT_ENV
                ),
            },
            AttemptError::Api(failure) => {
                match failure.into_provider_error(operation.name(), group_id) {
                    // A refused key is traced to where it was read from.
                    ProviderError::Auth {
                        service,
                        code,
                        message,
                        request_id,
                    } => ProviderError::Auth {
                        service,
                        code,
                        message: format!("{message} (credentials from {})", self.credential_source),
                        request_id,
                    },
                    other => other,
                }
            }
            AttemptError::Invalid(message) => ProviderError::Config { message },
            AttemptError::NotSent(message) | AttemptError::Ambiguous(message) => {
                ProviderError::Network {
                    service: SERVICE.to_owned(),
                    endpoint: base.as_str().trim_end_matches('/').to_owned(),
                    message: format!("{} failed: {message}", operation.name()),
                }
            }
        }
    }
}

fn describe_transport_error(error: &reqwest::Error) -> String {
    // The URL is ours and carries no secret, but the message is kept to the cause chain.
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "connection failed".to_owned()
    } else {
        "the connection broke".to_owned()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn parse<T: serde::de::DeserializeOwned>(
    operation: Operation,
    body: &[u8],
) -> Result<T, ProviderError> {
    serde_json::from_slice(body).map_err(|error| ProviderError::Contract {
        message: format!(
            "OMS answered {} with an unreadable body ({error}); expected the documented JSON",
            operation.name()
        ),
    })
}
