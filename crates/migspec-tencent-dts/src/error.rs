//! Errors of the DTS client, and how each cloud error code becomes a [`ProviderError`].
//!
//! The API answers HTTP 200 with `{"Response": {"Error": {"Code", "Message"}, "RequestId"}}`
//! (reference §4). Every code of the DTS reference (§4.3–4.4) and of the API pages is
//! classified here, so that the runner knows whether to wait and retry (throttling,
//! internal errors), to stop (credentials, a refused parameter, a quota), or to look at the
//! job again (a status conflict). Messages keep the cloud's code, text and RequestId
//! verbatim and add what to do.

use migspec_provider::ProviderError;

use crate::env::{ENV_SECRET_ID, ENV_SECRET_KEY, ENV_TOKEN};

/// The name of the service in errors.
pub(crate) const SERVICE: &str = "Tencent Cloud DTS";

/// A setting that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    /// What is wrong and what to do.
    pub message: String,
}

impl ConfigError {
    /// An error with its message.
    #[must_use]
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl From<ConfigError> for migspec_provider::ProviderError {
    fn from(error: ConfigError) -> Self {
        Self::Config {
            message: error.message,
        }
    }
}

/// An error the API returned in its response envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The action called (`StartMigrateJob`).
    pub action: String,
    /// The API version (`2018-03-30`).
    pub version: String,
    /// The job the request was about, when there is one.
    pub job_id: Option<String>,
    /// The cloud's code, verbatim (`FailedOperation.StatusInConflict`).
    pub code: String,
    /// The cloud's message, verbatim.
    pub message: String,
    /// The cloud's RequestId.
    pub request_id: Option<String>,
    /// Where the refused credentials were read from (authentication errors only), e.g.
    /// `the SDK credentials file /home/me/.tencentcloud/credentials`.
    pub credential_source: Option<String>,
}

/// What kind of failure an error code is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorClass {
    /// Over the rate limit: wait and retry.
    Throttled,
    /// The service failed internally: the request may be retried.
    Internal,
    /// The credentials were refused.
    Auth,
    /// The job (or another resource) does not exist.
    NotFound,
    /// The job's status does not allow the operation.
    StateConflict,
    /// Refused for good: a parameter, a quota, a permission, an unsupported operation.
    Rejected,
}

impl ApiError {
    /// The class of this error's code.
    #[must_use]
    pub fn class(&self) -> ErrorClass {
        classify(&self.code)
    }

    /// What to do about this error, in one sentence.
    #[must_use]
    pub fn hint(&self) -> String {
        hint(&self.code, self.job_id.as_deref())
    }

    /// The message with the call it came from and what to do, e.g.
    /// `StartMigrateJob dts-1kl0iy0v: <cloud message>; <hint>`.
    #[must_use]
    pub fn explained(&self, current_status: Option<&str>) -> String {
        let subject = self.job_id.as_ref().map_or_else(
            || self.action.clone(),
            |job| format!("{} {job}", self.action),
        );
        let status = current_status
            .map(|status| format!(" (the job's current status is {status})"))
            .unwrap_or_default();
        let source = self
            .credential_source
            .as_ref()
            .map(|source| format!(" (the credentials came from {source})"))
            .unwrap_or_default();
        format!(
            "{subject}: {}{status}; {}{source}",
            self.message,
            self.hint()
        )
    }

    /// This error as the runner's [`ProviderError`], naming the job's current status when it
    /// is known (state conflicts).
    #[must_use]
    pub fn to_provider_error(&self, current_status: Option<&str>) -> ProviderError {
        let service = SERVICE.to_owned();
        let code = self.code.clone();
        let request_id = self.request_id.clone();
        let message = self.explained(current_status);
        match self.class() {
            ErrorClass::Throttled => ProviderError::Throttled {
                service,
                code,
                message,
                request_id,
            },
            ErrorClass::Internal => ProviderError::Internal {
                service,
                code,
                message,
                request_id,
            },
            ErrorClass::Auth => ProviderError::Auth {
                service,
                code,
                message,
                request_id,
            },
            ErrorClass::NotFound => ProviderError::NotFound {
                service,
                // The variant has no message or request id field: keep the RequestId with
                // the id so that it is not lost.
                id: format!(
                    "{}{}",
                    self.job_id.as_ref().map_or_else(
                        || format!("the object of {}", self.action),
                        |id| format!("job {id}")
                    ),
                    request_id
                        .map(|id| format!(" [request {id}]"))
                        .unwrap_or_default()
                ),
                code,
            },
            ErrorClass::StateConflict => ProviderError::StateConflict {
                service,
                code,
                message,
                request_id,
            },
            ErrorClass::Rejected => ProviderError::Rejected {
                service,
                code,
                message,
                request_id,
            },
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{} ({})", self.explained(None), self.code)?;
        if let Some(id) = &self.request_id {
            write!(formatter, " [request {id}]")?;
        }
        Ok(())
    }
}

/// A failed call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The API answered with an error.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// The request did not get an answer.
    #[error("cannot reach {endpoint} ({action}): {message}")]
    Network {
        /// The action.
        action: String,
        /// The endpoint.
        endpoint: String,
        /// What failed.
        message: String,
        /// Whether the request may have reached the service (a timeout or a connection
        /// lost after sending), which makes a create ambiguous.
        maybe_processed: bool,
    },
    /// The answer was not the documented envelope (a proxy page, a non-200 status).
    #[error("{action}: unexpected answer from {endpoint} (HTTP {status}): {message}")]
    Protocol {
        /// The action.
        action: String,
        /// The endpoint.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// What was wrong.
        message: String,
    },
    /// Settings or credentials are missing or wrong on our side.
    #[error("{0}")]
    Config(ConfigError),
}

impl ClientError {
    /// Whether repeating the request may succeed.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Api(error) => {
                matches!(error.class(), ErrorClass::Throttled | ErrorClass::Internal)
            }
            Self::Network { .. } => true,
            Self::Protocol { status, .. } => *status == 429 || *status >= 500,
            Self::Config(_) => false,
        }
    }

    /// Whether the request certainly had no effect (it was throttled, or never sent).
    #[must_use]
    pub fn certainly_not_processed(&self) -> bool {
        match self {
            Self::Api(error) => error.class() == ErrorClass::Throttled,
            Self::Network {
                maybe_processed, ..
            } => !maybe_processed,
            Self::Protocol { status, .. } => *status == 429,
            Self::Config(_) => true,
        }
    }

    /// The API error, if that is what this is.
    #[must_use]
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Self::Api(error) => Some(error.as_ref()),
            _ => None,
        }
    }

    /// This error as the runner's [`ProviderError`].
    #[must_use]
    pub fn to_provider_error(&self, current_status: Option<&str>) -> ProviderError {
        match self {
            Self::Api(error) => error.to_provider_error(current_status),
            Self::Network {
                action,
                endpoint,
                message,
                ..
            } => ProviderError::Network {
                service: SERVICE.to_owned(),
                endpoint: endpoint.clone(),
                message: format!("{action}: {message}"),
            },
            Self::Protocol {
                action,
                endpoint,
                status,
                message,
            } => {
                let message = format!(
                    "{action}: HTTP {status} from {endpoint}: {message}; check the endpoint (a proxy or a wrong host answers like this)"
                );
                if *status == 429 || *status >= 500 {
                    ProviderError::Internal {
                        service: SERVICE.to_owned(),
                        code: format!("HTTP{status}"),
                        message,
                        request_id: None,
                    }
                } else {
                    ProviderError::Contract { message }
                }
            }
            Self::Config(error) => ProviderError::Config {
                message: error.message.clone(),
            },
        }
    }
}

impl From<ClientError> for ProviderError {
    fn from(error: ClientError) -> Self {
        error.to_provider_error(None)
    }
}

/// The class of an error code. Unknown codes are [`ErrorClass::Rejected`] (never retried).
#[must_use]
pub fn classify(code: &str) -> ErrorClass {
    let (family, _) = code.split_once('.').unwrap_or((code, ""));
    match code {
        "InternalError.NotEnoughMoneyError" | "FailedOperation.StartJobFailed" => {
            return ErrorClass::Rejected;
        }
        "InternalError.DuplicateJob"
        | "InternalError.LockError"
        | "FailedOperation.StatusInConflict"
        | "FailedOperation.StatusInConflictError"
        | "FailedOperation.NotAllowOperation"
        | "OperationDenied.JobOperationDeniedError"
        | "OperationDenied.OperationDeniedError"
        | "OperationDenied.BizOperationDeniedError"
        | "UnsupportedOperation.UnsupportedOperationError" => {
            return if code.starts_with("InternalError") {
                // A concurrent operation on the job holds its lock: retrying helps.
                ErrorClass::Internal
            } else {
                ErrorClass::StateConflict
            };
        }
        "FailedOperation.ProxyError" | "ServiceUnavailable" => return ErrorClass::Internal,
        "ResourceInUse" | "ResourceInUse.ResourceInUseError" => return ErrorClass::StateConflict,
        _ => {}
    }
    match family {
        "RequestLimitExceeded" => ErrorClass::Throttled,
        "InternalError" => ErrorClass::Internal,
        "AuthFailure" => ErrorClass::Auth,
        "ResourceNotFound" => ErrorClass::NotFound,
        _ => ErrorClass::Rejected,
    }
}

/// What to do about an error code.
fn hint(code: &str, job: Option<&str>) -> String {
    let the_job = job.map_or_else(|| "the job".to_owned(), |id| format!("job {id}"));
    let text: &str = match code {
        "AuthFailure.SignatureExpire" => {
            "the request's timestamp is more than 5 minutes away from the server's clock: synchronise this machine's clock (NTP) and retry"
        }
        "AuthFailure.SecretIdNotFound" | "AuthFailure.InvalidSecretId" => {
            return format!(
                "the SecretId is unknown, disabled or not an API key: check it ({ENV_SECRET_ID}, the SDK credentials file or the tccli profile) against the CAM console"
            );
        }
        "AuthFailure.SignatureFailure" => {
            return format!(
                "the signature does not match: {ENV_SECRET_KEY} does not belong to {ENV_SECRET_ID}, or a proxy changed the request"
            );
        }
        "AuthFailure.TokenFailure" => {
            return format!(
                "the session token is invalid or expired: refresh the temporary credentials ({ENV_TOKEN})"
            );
        }
        "AuthFailure.InvalidAuthorization" => {
            "the Authorization header was not understood: check that nothing between migspec and the API rewrites headers"
        }
        "AuthFailure.MFAFailure" => {
            "the account requires MFA for this operation; use an API key without MFA protection for automation"
        }
        "AuthFailure.UnauthorizedOperation"
        | "AuthFailure.UnauthorizedOperationError"
        | "AuthFailure.AuthorizedOperationDenyError"
        | "AuthFailure.AuthFailureError"
        | "UnauthorizedOperation"
        | "UnauthorizedOperation.NotEnoughPrivileges"
        | "UnauthorizedOperation.UnauthorizedOperationError"
        | "UnauthorizedOperation.PermissionDenied" => {
            "the key's account lacks the permission: grant DTS access in CAM (e.g. the QcloudDTSFullAccess policy) to the user that owns the key"
        }
        "IpInBlacklist" | "IpNotInWhitelist" => {
            "this machine's IP address is not allowed by the account's API access rules: call from an allowed address or change the rules in CAM"
        }
        "LimitExceeded.MaxUnusedJobs" => {
            "the account has too many idle migration jobs: delete jobs you no longer need (specs removed with `deletionPolicy: delete`, or in the console) or ask Tencent Cloud for a higher quota"
        }
        "LimitExceeded" | "LimitExceeded.LimitExceededError" => {
            "a quota is exhausted: delete unused jobs or ask Tencent Cloud for a higher quota"
        }
        "OperationDenied.NotEnoughMoneyError" | "InternalError.NotEnoughMoneyError" => {
            "the account balance is insufficient: top up the account and apply again"
        }
        "FailedOperation.UserNotAuthed" => {
            "the account has not completed real-name verification, which DTS requires: complete it in the console"
        }
        "FailedOperation.StatusInConflict"
        | "FailedOperation.StatusInConflictError"
        | "FailedOperation.NotAllowOperation"
        | "OperationDenied.JobOperationDeniedError"
        | "OperationDenied.OperationDeniedError"
        | "OperationDenied.BizOperationDeniedError" => {
            return format!(
                "{the_job} is not in a status that allows this operation (it may have been changed outside migspec): run `migspec plan` again to plan from its current status"
            );
        }
        "FailedOperation.StartJobFailed" => {
            return format!(
                "DTS could not start {the_job}: read the job's error details in the console or with `migspec show`, fix the cause, check and start again"
            );
        }
        "InternalError.DuplicateJob" | "InternalError.LockError" => {
            return format!(
                "another operation on {the_job} is still in progress: retry once it has finished"
            );
        }
        "ResourceNotFound.JobNotExist"
        | "ResourceNotFound.ResourceNotFoundError"
        | "ResourceNotFound.BizResourceNotFoundError"
        | "ResourceNotFound" => {
            return format!(
                "{the_job} no longer exists (deleted outside migspec?): run `migspec plan` again; a spec whose job is gone is planned for creation"
            );
        }
        "InvalidParameter.InstanceNotFound" => {
            "an instance named in the spec does not exist in that region: check the instance IDs and regions of SrcInfo and DstInfo"
        }
        "InvalidParameter.InvalidIpAddress" => {
            "an IP address in the spec is invalid: fix SrcInfo.Ip (or Host)"
        }
        "MissingParameter" | "MissingParameter.MissingParameterError" => {
            "a field the API requires is missing: add the field named in the message to the spec"
        }
        "UnknownParameter" | "UnknownParameter.UnknownParameterError" => {
            "the API does not know a field migspec sent: the endpoint may serve another API version; report it with the RequestId"
        }
        "InvalidAction" | "NoSuchVersion" | "ActionOffline" | "NoSuchProduct" => {
            "the endpoint does not serve this DTS action and version: check the endpoint setting (MIGSPEC_TENCENT_ENDPOINT) and that the kind matches the API version"
        }
        "UnsupportedRegion" => "DTS does not serve this region: check spec.region",
        "UnsupportedProtocol"
        | "InvalidRequest"
        | "RequestSizeLimitExceeded"
        | "ResponseSizeLimitExceeded" => {
            "the request was malformed or too large: report it with the RequestId"
        }
        "UnsupportedOperation.IntraNetUserNotTaggedError"
        | "UnsupportedOperation.IntraNetUserNotTaggedForSyncJobError" => {
            "this (internal) account must tag its DTS jobs before using them: contact Tencent Cloud support"
        }
        "ResourceInsufficient"
        | "ResourceInsufficient.ResourceInsufficientError"
        | "ResourcesSoldOut.ResourcesSoldOutError"
        | "ResourceUnavailable"
        | "ResourceUnavailable.ResourceUnavailableError" => {
            "DTS has no capacity for this job right now: retry later, or choose another InstanceClass or region"
        }
        "OperationDenied.MigrateServiceSupportError" => {
            "DTS does not support this migration link: check the source and target types"
        }
        "DryRunOperation" | "DryRunOperation.DryRunOperationError" => {
            "the request was only a dry run: nothing was changed"
        }
        _ => match classify(code) {
            ErrorClass::Throttled => {
                "the account's request rate limit was exceeded even after retries: lower the number of parallel applies or the rate limit setting, and retry"
            }
            ErrorClass::Internal => {
                "DTS failed internally and retries did not help: retry later; quote the RequestId to Tencent Cloud support if it persists"
            }
            ErrorClass::Auth => {
                "the credentials were refused: check the API key and its permissions"
            }
            ErrorClass::NotFound => "the resource does not exist: run `migspec plan` again",
            ErrorClass::StateConflict => {
                "the job's status does not allow this operation: run `migspec plan` again"
            }
            ErrorClass::Rejected => {
                if code.starts_with("InvalidParameter") || code.starts_with("InvalidParameterValue")
                {
                    "a value in the spec was refused: fix the field named in the message"
                } else {
                    "DTS refused the request: read the message, fix the spec or the account, and apply again"
                }
            }
        },
    };
    text.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code of reference §4.3–4.4 and of the API pages in `seeds/`, with its class.
    const CODES: &[(&str, ErrorClass)] = &[
        // §4.3 common codes
        ("ActionOffline", ErrorClass::Rejected),
        ("AuthFailure.InvalidAuthorization", ErrorClass::Auth),
        ("AuthFailure.InvalidSecretId", ErrorClass::Auth),
        ("AuthFailure.MFAFailure", ErrorClass::Auth),
        ("AuthFailure.SecretIdNotFound", ErrorClass::Auth),
        ("AuthFailure.SignatureExpire", ErrorClass::Auth),
        ("AuthFailure.SignatureFailure", ErrorClass::Auth),
        ("AuthFailure.TokenFailure", ErrorClass::Auth),
        ("AuthFailure.UnauthorizedOperation", ErrorClass::Auth),
        ("DryRunOperation", ErrorClass::Rejected),
        ("FailedOperation", ErrorClass::Rejected),
        ("InternalError", ErrorClass::Internal),
        ("InvalidAction", ErrorClass::Rejected),
        ("InvalidParameter", ErrorClass::Rejected),
        ("InvalidParameterValue", ErrorClass::Rejected),
        ("InvalidRequest", ErrorClass::Rejected),
        ("IpInBlacklist", ErrorClass::Rejected),
        ("IpNotInWhitelist", ErrorClass::Rejected),
        ("LimitExceeded", ErrorClass::Rejected),
        ("MissingParameter", ErrorClass::Rejected),
        ("NoSuchProduct", ErrorClass::Rejected),
        ("NoSuchVersion", ErrorClass::Rejected),
        ("RequestLimitExceeded", ErrorClass::Throttled),
        (
            "RequestLimitExceeded.GlobalRegionUinLimitExceeded",
            ErrorClass::Throttled,
        ),
        (
            "RequestLimitExceeded.IPLimitExceeded",
            ErrorClass::Throttled,
        ),
        (
            "RequestLimitExceeded.UinLimitExceeded",
            ErrorClass::Throttled,
        ),
        ("RequestSizeLimitExceeded", ErrorClass::Rejected),
        ("ResponseSizeLimitExceeded", ErrorClass::Rejected),
        ("ResourceInUse", ErrorClass::StateConflict),
        ("ResourceInsufficient", ErrorClass::Rejected),
        ("ResourceNotFound", ErrorClass::NotFound),
        ("ResourceUnavailable", ErrorClass::Rejected),
        ("ServiceUnavailable", ErrorClass::Internal),
        ("UnauthorizedOperation", ErrorClass::Rejected),
        ("UnknownParameter", ErrorClass::Rejected),
        ("UnsupportedOperation", ErrorClass::Rejected),
        ("UnsupportedProtocol", ErrorClass::Rejected),
        ("UnsupportedRegion", ErrorClass::Rejected),
        // §4.4 DTS 2018-03-30
        ("AuthFailure.AuthFailureError", ErrorClass::Auth),
        ("AuthFailure.UnauthorizedOperationError", ErrorClass::Auth),
        ("FailedOperation.FailedOperationError", ErrorClass::Rejected),
        (
            "FailedOperation.NotAllowOperation",
            ErrorClass::StateConflict,
        ),
        ("FailedOperation.ProxyError", ErrorClass::Internal),
        ("FailedOperation.StartJobFailed", ErrorClass::Rejected),
        (
            "FailedOperation.StatusInConflict",
            ErrorClass::StateConflict,
        ),
        (
            "FailedOperation.StatusInConflictError",
            ErrorClass::StateConflict,
        ),
        ("InternalError.AddTaskError", ErrorClass::Internal),
        ("InternalError.CeleryError", ErrorClass::Internal),
        ("InternalError.CgwSystemError", ErrorClass::Internal),
        ("InternalError.DatabaseError", ErrorClass::Internal),
        ("InternalError.DuplicateJob", ErrorClass::Internal),
        ("InternalError.InternalErrorError", ErrorClass::Internal),
        (
            "InternalError.InternalHttpServerError",
            ErrorClass::Internal,
        ),
        (
            "InternalError.InternalInnerCommonError",
            ErrorClass::Internal,
        ),
        ("InternalError.InternalTradeError", ErrorClass::Internal),
        ("InternalError.LockError", ErrorClass::Internal),
        ("InternalError.ProtocolError", ErrorClass::Internal),
        ("InternalError.UndefinedError", ErrorClass::Internal),
        ("InternalError.UnknownError", ErrorClass::Internal),
        (
            "InvalidParameter.BizInvalidParameterValueError",
            ErrorClass::Rejected,
        ),
        ("InvalidParameter.InstanceNotFound", ErrorClass::Rejected),
        ("InvalidParameter.InvalidIpAddress", ErrorClass::Rejected),
        (
            "InvalidParameter.InvalidParameterError",
            ErrorClass::Rejected,
        ),
        (
            "InvalidParameterValue.BizInvalidParameterValueError",
            ErrorClass::Rejected,
        ),
        (
            "InvalidParameterValue.DataConvertError",
            ErrorClass::Rejected,
        ),
        (
            "InvalidParameterValue.InvalidParameterValue",
            ErrorClass::Rejected,
        ),
        (
            "InvalidParameterValue.InvalidParameterValueError",
            ErrorClass::Rejected,
        ),
        ("LimitExceeded.MaxUnusedJobs", ErrorClass::Rejected),
        ("OperationDenied", ErrorClass::Rejected),
        (
            "OperationDenied.BizOperationDeniedError",
            ErrorClass::StateConflict,
        ),
        (
            "OperationDenied.JobOperationDeniedError",
            ErrorClass::StateConflict,
        ),
        (
            "OperationDenied.MigrateServiceSupportError",
            ErrorClass::Rejected,
        ),
        ("OperationDenied.NotEnoughMoneyError", ErrorClass::Rejected),
        ("OperationDenied.OperationDenied", ErrorClass::Rejected),
        (
            "OperationDenied.OperationDeniedError",
            ErrorClass::StateConflict,
        ),
        (
            "RequestLimitExceeded.RequestLimitExceededError",
            ErrorClass::Throttled,
        ),
        (
            "ResourceNotFound.BizResourceNotFoundError",
            ErrorClass::NotFound,
        ),
        ("ResourceNotFound.JobNotExist", ErrorClass::NotFound),
        ("ResourceNotFound.ResourceNotFound", ErrorClass::NotFound),
        (
            "ResourceNotFound.ResourceNotFoundError",
            ErrorClass::NotFound,
        ),
        (
            "UnauthorizedOperation.NotEnoughPrivileges",
            ErrorClass::Rejected,
        ),
        (
            "UnauthorizedOperation.UnauthorizedOperationError",
            ErrorClass::Rejected,
        ),
        (
            "UnsupportedOperation.IntraNetUserNotTaggedError",
            ErrorClass::Rejected,
        ),
        // §4.4 DTS 2021-12-06 additions
        ("AuthFailure.AuthorizedOperationDenyError", ErrorClass::Auth),
        ("DryRunOperation.DryRunOperationError", ErrorClass::Rejected),
        ("FailedOperation.UserNotAuthed", ErrorClass::Rejected),
        ("InternalError.ExecHttpRequestError", ErrorClass::Internal),
        ("InternalError.NotEnoughMoneyError", ErrorClass::Rejected),
        ("InternalError.ParseBinlogError", ErrorClass::Internal),
        (
            "InvalidParameter.ControllerNotFoundError",
            ErrorClass::Rejected,
        ),
        ("LimitExceeded.LimitExceededError", ErrorClass::Rejected),
        (
            "MissingParameter.MissingParameterError",
            ErrorClass::Rejected,
        ),
        (
            "ResourceInUse.ResourceInUseError",
            ErrorClass::StateConflict,
        ),
        (
            "ResourceInsufficient.ResourceInsufficientError",
            ErrorClass::Rejected,
        ),
        (
            "ResourceUnavailable.ResourceUnavailableError",
            ErrorClass::Rejected,
        ),
        (
            "ResourcesSoldOut.ResourcesSoldOutError",
            ErrorClass::Rejected,
        ),
        (
            "UnauthorizedOperation.PermissionDenied",
            ErrorClass::Rejected,
        ),
        (
            "UnknownParameter.UnknownParameterError",
            ErrorClass::Rejected,
        ),
        (
            "UnsupportedOperation.IntraNetUserNotTaggedForSyncJobError",
            ErrorClass::Rejected,
        ),
        (
            "UnsupportedOperation.UnsupportedOperationError",
            ErrorClass::StateConflict,
        ),
    ];

    fn error(code: &str) -> ApiError {
        ApiError {
            action: "StartMigrateJob".into(),
            version: "2018-03-30".into(),
            job_id: Some("dts-1kl0iy0v".into()),
            code: code.into(),
            message: "the cloud's own words".into(),
            request_id: Some("2201c42a-714f-4faa-915b-a51cc09f5cec".into()),
            credential_source: None,
        }
    }

    #[test]
    fn every_documented_code_has_a_class_and_a_provider_error() {
        for (code, class) in CODES {
            assert_eq!(classify(code), *class, "{code}");
            let error = error(code);
            let provider = error.to_provider_error(Some("7 (running)"));
            let text = provider.to_string();
            if *class != ErrorClass::NotFound {
                assert!(text.contains("the cloud's own words"), "{code}: {text}");
            }
            assert!(!error.hint().is_empty(), "{code}");
            let variant_matches = match class {
                ErrorClass::Throttled => matches!(provider, ProviderError::Throttled { .. }),
                ErrorClass::Internal => matches!(provider, ProviderError::Internal { .. }),
                ErrorClass::Auth => matches!(provider, ProviderError::Auth { .. }),
                ErrorClass::NotFound => matches!(provider, ProviderError::NotFound { .. }),
                ErrorClass::StateConflict => {
                    matches!(provider, ProviderError::StateConflict { .. })
                }
                ErrorClass::Rejected => matches!(provider, ProviderError::Rejected { .. }),
            };
            assert!(variant_matches, "{code}: {provider:?}");
            if *class != ErrorClass::NotFound {
                assert!(text.contains(code), "{code}: {text}");
                assert!(
                    text.contains("2201c42a-714f-4faa-915b-a51cc09f5cec"),
                    "{code}: {text}"
                );
            }
        }
    }

    #[test]
    fn messages_say_what_to_do() {
        let text = error("LimitExceeded.MaxUnusedJobs")
            .to_provider_error(None)
            .to_string();
        assert!(
            text.contains("delete jobs") && text.contains("quota"),
            "{text}"
        );
        let text = error("FailedOperation.StatusInConflict")
            .to_provider_error(Some("7 (running)"))
            .to_string();
        assert!(text.contains("current status is 7 (running)"), "{text}");
        assert!(text.contains("StartMigrateJob dts-1kl0iy0v"), "{text}");
        let text = error("AuthFailure.SignatureExpire")
            .to_provider_error(None)
            .to_string();
        assert!(text.contains("clock"), "{text}");
        let text = error("AuthFailure.SecretIdNotFound")
            .to_provider_error(None)
            .to_string();
        assert!(text.contains(ENV_SECRET_ID), "{text}");
    }

    #[test]
    fn only_throttling_internal_and_network_errors_are_transient() {
        assert!(ClientError::Api(Box::new(error("RequestLimitExceeded"))).is_transient());
        assert!(ClientError::Api(Box::new(error("InternalError.DatabaseError"))).is_transient());
        assert!(!ClientError::Api(Box::new(error("InvalidParameter"))).is_transient());
        assert!(
            !ClientError::Api(Box::new(error("FailedOperation.StatusInConflict"))).is_transient()
        );
        let network = ClientError::Network {
            action: "CreateMigrateJob".into(),
            endpoint: "https://dts.tencentcloudapi.com/".into(),
            message: "timed out".into(),
            maybe_processed: true,
        };
        assert!(network.is_transient());
        assert!(!network.certainly_not_processed());
        assert!(
            ClientError::Api(Box::new(error("RequestLimitExceeded"))).certainly_not_processed()
        );
        assert!(!ClientError::Api(Box::new(error("InternalError"))).certainly_not_processed());
    }
}
