//! A job as observed, in terms shared by both API versions.

use migspec_provider::{
    Address, DesiredSpec, Failure, Observed, Phase, Progress, ProviderError, RemoteId, RemoteObject,
};
use migspec_spec::model::SecretRef;
use migspec_spec::secret::Secret;
use serde_json::{Value, json};

use crate::client::ApiVersion;

/// The tag every job created by migspec carries, with the address as its value.
pub const ADDRESS_TAG: &str = migspec_provider::MARKER_KEY;

/// Billing status of a 2021-12-06 job (`TradeInfo.TradeStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trade {
    /// Billing normally (also `resizing`, `reversing`, `notBilled`).
    Normal,
    Isolating,
    Isolated,
    Offlining,
    /// Destroyed: the job is gone for every purpose.
    Offlined,
}

impl Trade {
    pub(crate) fn parse(status: &str) -> Self {
        match status {
            "isolating" => Self::Isolating,
            "isolated" => Self::Isolated,
            "offlining" => Self::Offlining,
            "offlined" => Self::Offlined,
            _ => Self::Normal,
        }
    }
}

/// One job as a describe call returned it, mapped.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ObservedJob {
    pub(crate) version: ApiVersion,
    pub(crate) region: String,
    pub(crate) id: String,
    /// The `migspec:address` tag value, if the job has one.
    pub(crate) address_tag: Option<String>,
    /// The status verbatim (`7`, `readyComplete`).
    pub(crate) raw_status: String,
    pub(crate) phase: Phase,
    pub(crate) trade: Trade,
    /// `CreateTime`, to prefer the newest of several jobs with the same tag.
    pub(crate) create_time: String,
    /// The configuration, shaped like a spec's `spec` (blank values and secrets removed).
    pub(crate) view: Value,
    pub(crate) progress: Option<Progress>,
    pub(crate) failure: Option<Failure>,
    /// 2021 `UpdateTime` (2018 lists none).
    pub(crate) revision: Option<String>,
}

impl ObservedJob {
    /// The location recorded in state: `{"region", "version"}`.
    pub(crate) fn location(&self) -> Value {
        location(&self.region, self.version)
    }

    /// Whether the job is gone or going: destroyed or being destroyed.
    pub(crate) fn is_gone(&self) -> bool {
        self.trade == Trade::Offlined
    }

    /// The job an observation the runner handed back shows (`None` when it carries no API
    /// version in its location, which every observation this provider made does).
    pub(crate) fn from_remote(object: &RemoteObject) -> Option<Self> {
        let (region, version) = read_location(&object.location);
        Some(Self {
            version: version?,
            region: region?,
            id: object.id.0.clone(),
            address_tag: object.marker.as_ref().map(|address| address.0.clone()),
            raw_status: object.raw_status.clone(),
            phase: object.phase,
            // A present observation is of a job that is not destroyed.
            trade: Trade::Normal,
            create_time: String::new(),
            view: object.view.clone(),
            progress: object.progress.clone(),
            failure: object.failure.clone(),
            revision: object.revision.clone(),
        })
    }

    pub(crate) fn to_observed(&self, address: &Address) -> Observed {
        if self.is_gone() {
            return Observed::Missing {
                address: address.clone(),
            };
        }
        Observed::Present {
            address: address.clone(),
            object: Box::new(RemoteObject {
                id: RemoteId(self.id.clone()),
                phase: self.phase,
                raw_status: self.raw_status.clone(),
                location: self.location(),
                view: self.view.clone(),
                progress: self.progress.clone(),
                failure: self.failure.clone(),
                revision: self.revision.clone(),
                marker: self.address_tag.clone().map(Address),
            }),
        }
    }
}

/// `{"region": …, "version": …}`.
pub(crate) fn location(region: &str, version: ApiVersion) -> Value {
    json!({"region": region, "version": version.as_str()})
}

/// Reads a location: the region (required) and the version (optional).
pub(crate) fn read_location(location: &Value) -> (Option<String>, Option<ApiVersion>) {
    let region = location
        .get("region")
        .and_then(Value::as_str)
        .filter(|region| !region.is_empty())
        .map(str::to_owned);
    let version = location
        .get("version")
        .and_then(Value::as_str)
        .and_then(ApiVersion::from_name);
    (region, version)
}

/// Looks up the value of a secret field of a spec: the runner's resolved value at
/// `pointer`, else a literal written in the spec (only when the runner allowed it).
pub(crate) fn secret_value(
    desired: &DesiredSpec,
    pointer: &str,
    reference: Option<&SecretRef>,
) -> Result<Option<String>, ProviderError> {
    let Some(reference) = reference else {
        return Ok(None);
    };
    if let Some(secret) = desired.secrets.get(pointer) {
        return Ok(Some(Secret::expose(secret).to_owned()));
    }
    match reference {
        SecretRef::Literal(value) => Ok(Some(value.clone())),
        SecretRef::Env(_) | SecretRef::File(_) => Err(ProviderError::Contract {
            message: format!(
                "{}: the secret at {pointer} was not resolved by the runner",
                desired.address
            ),
        }),
    }
}

/// Tags to send: the spec's, then the address tag (replacing any the spec wrote).
pub(crate) fn tags_with_address(
    tags: &[migspec_spec::model::common::TagItem],
    address: &Address,
) -> Vec<(String, String)> {
    tags.iter()
        .filter(|tag| tag.tag_key != ADDRESS_TAG)
        .map(|tag| {
            (
                tag.tag_key.clone(),
                tag.tag_value.clone().unwrap_or_default(),
            )
        })
        .chain(std::iter::once((ADDRESS_TAG.to_owned(), address.0.clone())))
        .collect()
}

/// The tags of a job as a spec writes them: without the address tag, blank values absent.
pub(crate) fn view_tags(tags: &[(String, String)]) -> Option<Value> {
    let list: Vec<Value> = tags
        .iter()
        .filter(|(key, _)| key != ADDRESS_TAG)
        .map(|(key, value)| {
            if value.is_empty() {
                json!({"TagKey": key})
            } else {
                json!({"TagKey": key, "TagValue": value})
            }
        })
        .collect();
    (!list.is_empty()).then_some(Value::Array(list))
}

/// The address tag among a job's tags.
pub(crate) fn address_of(tags: &[(String, String)]) -> Option<String> {
    tags.iter()
        .find(|(key, _)| key == ADDRESS_TAG)
        .map(|(_, value)| value.clone())
}

/// Secrets of a document by pointer, for [`DesiredSpec`]s built in tests.
#[cfg(test)]
pub(crate) fn secrets(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, Secret> {
    pairs
        .iter()
        .map(|(pointer, value)| ((*pointer).to_owned(), Secret::new(*value)))
        .collect()
}
