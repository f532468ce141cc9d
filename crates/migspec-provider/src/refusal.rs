//! A step the cloud refused, as the failed step it is: one mapping for every provider, so
//! that a refusal reads the same whichever cloud made it — the cloud's code, its own words,
//! and its request id where the provider's users look for it.

use crate::provider::ProviderError;
use crate::vocabulary::{Failure, Observed, StepOutcome};

/// Where a refused step's failure carries the cloud's request id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestIdIn {
    /// Appended to the message, ` [request ID]` (Tencent Cloud's `RequestId`).
    Message,
    /// As a detail line `NAME: ID`, NAME being what the cloud calls it (`X-Request-Id`).
    Detail(&'static str),
}

/// A request the cloud refused for the object's state or data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The cloud's code.
    pub code: String,
    /// The cloud's message (with what to do, when the provider knows).
    pub message: String,
    /// The cloud's request id.
    pub request_id: Option<String>,
}

impl Refusal {
    /// The refusal an error is: a rejected request, a state conflict, or an object that does
    /// not exist. Every other error (throttling, a settling object, internal, network,
    /// credentials, configuration, contract) is handed back: the runner retries or reports
    /// it, a step never fails quietly on it.
    ///
    /// # Errors
    ///
    /// The error itself when it is not a refusal.
    pub fn of(error: ProviderError) -> Result<Self, ProviderError> {
        match error {
            ProviderError::Rejected {
                code,
                message,
                request_id,
                ..
            }
            | ProviderError::StateConflict {
                code,
                message,
                request_id,
                ..
            } => Ok(Self {
                code,
                message,
                request_id,
            }),
            ProviderError::NotFound { id, code, .. } => Ok(Self {
                code,
                message: format!("{id} does not exist; plan again"),
                request_id: None,
            }),
            other => Err(other),
        }
    }

    /// The failed step, showing `observed`.
    #[must_use]
    pub fn failed(self, observed: Observed, request_id: RequestIdIn) -> StepOutcome {
        let Self {
            code,
            mut message,
            request_id: id,
        } = self;
        let mut details = Vec::new();
        if let Some(id) = id {
            match request_id {
                RequestIdIn::Message => message.push_str(&format!(" [request {id}]")),
                RequestIdIn::Detail(name) => details.push(format!("{name}: {id}")),
            }
        }
        StepOutcome::Failed {
            observed,
            failure: Failure {
                code: Some(code),
                message,
                details,
            },
        }
    }
}

/// A refusal by the cloud is a failed step with the cloud's own words; every other error
/// stays an error ([`Refusal::of`]).
///
/// # Errors
///
/// The error itself when it is not a refusal.
pub fn refused(
    observed: Observed,
    error: ProviderError,
    request_id: RequestIdIn,
) -> Result<StepOutcome, ProviderError> {
    Ok(Refusal::of(error)?.failed(observed, request_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocabulary::Address;

    fn missing() -> Observed {
        Observed::Missing {
            address: Address("a".to_owned()),
        }
    }

    fn failure(outcome: StepOutcome) -> Failure {
        match outcome {
            StepOutcome::Failed { failure, .. } => failure,
            other => panic!("not failed: {other:?}"),
        }
    }

    fn conflict() -> ProviderError {
        ProviderError::StateConflict {
            service: "cloud".to_owned(),
            code: "Busy.Job".to_owned(),
            message: "the job is running".to_owned(),
            request_id: Some("r-1".to_owned()),
        }
    }

    #[test]
    fn a_refusal_keeps_the_clouds_code_and_words_and_puts_the_request_id_where_asked() {
        let in_message = failure(refused(missing(), conflict(), RequestIdIn::Message).unwrap());
        assert_eq!(in_message.code.as_deref(), Some("Busy.Job"));
        assert_eq!(in_message.message, "the job is running [request r-1]");
        assert!(in_message.details.is_empty());
        let in_detail =
            failure(refused(missing(), conflict(), RequestIdIn::Detail("X-Request-Id")).unwrap());
        assert_eq!(in_detail.message, "the job is running");
        assert_eq!(in_detail.details, ["X-Request-Id: r-1"]);
        let gone = failure(
            refused(
                missing(),
                ProviderError::NotFound {
                    service: "cloud".to_owned(),
                    id: "job j-1".to_owned(),
                    code: "NotFound".to_owned(),
                },
                RequestIdIn::Message,
            )
            .unwrap(),
        );
        assert_eq!(gone.message, "job j-1 does not exist; plan again");
    }

    #[test]
    fn errors_the_runner_retries_or_reports_stay_errors() {
        for error in [
            ProviderError::Throttled {
                service: "cloud".to_owned(),
                code: "Limit".to_owned(),
                message: "slow down".to_owned(),
                request_id: None,
            },
            ProviderError::Busy {
                service: "cloud".to_owned(),
                code: "OMS.0063".to_owned(),
                message: "settling".to_owned(),
                request_id: None,
            },
            ProviderError::Config {
                message: "no key".to_owned(),
            },
        ] {
            assert_eq!(
                refused(missing(), error.clone(), RequestIdIn::Message),
                Err(error)
            );
        }
    }
}
