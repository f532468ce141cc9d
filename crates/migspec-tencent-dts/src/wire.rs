//! Wire pieces shared by both API versions.

use serde::{Deserialize, Deserializer, Serialize};

/// `TagItem` in a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TagItem {
    pub(crate) tag_key: String,
    pub(crate) tag_value: String,
}

/// `TagFilter`: jobs carrying `TagKey` with one of the values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TagFilter {
    pub(crate) tag_key: String,
    pub(crate) tag_value: Vec<String>,
}

/// `{"JobId": …}`: the body of most state transitions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct JobIdRequest {
    pub(crate) job_id: String,
}

/// Deserialises `null` as the type's default (the API returns `null` for some empty
/// members, e.g. `"JobList": null`).
pub(crate) fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
