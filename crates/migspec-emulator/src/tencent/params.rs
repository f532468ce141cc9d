//! Tencent request parameters: the shared sub-schemas, accessors for validated
//! parameters, and the mapping of schema violations onto the common API 3.0 codes
//! (`UnknownParameter`, `MissingParameter`, `InvalidParameter`).

use serde_json::{Map, Value};

use crate::schema::SchemaError;
pub(crate) use crate::schema::{Field, Ty, opt, req};

use super::ApiError;

impl SchemaError for ApiError {
    fn unknown_parameter(path: &str) -> Self {
        Self::unknown_parameter(path)
    }

    fn missing_parameter(path: &str) -> Self {
        Self::missing_parameter(path)
    }

    fn invalid_parameter(path: &str, why: &str) -> Self {
        Self::invalid_parameter(path, why)
    }
}

/// Validates a request against an action schema.
pub(crate) fn validate(params: &Map<String, Value>, fields: &[Field]) -> Result<(), ApiError> {
    crate::schema::validate::<ApiError>(params, fields)
}

/// Builds the request object of a GET query.
pub(crate) fn unflatten(
    pairs: &[(String, String)],
    fields: &[Field],
) -> Result<Map<String, Value>, ApiError> {
    crate::schema::unflatten::<ApiError>(pairs, fields)
}

/// A string field, or `None` when absent/null.
pub(crate) fn get_str<'a>(params: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    params.get(name).and_then(Value::as_str)
}

/// An integer field, or `None` when absent/null.
pub(crate) fn get_int(params: &Map<String, Value>, name: &str) -> Option<i64> {
    params.get(name).and_then(Value::as_i64)
}

/// An array of strings, or `None` when absent/null.
pub(crate) fn get_str_array(params: &Map<String, Value>, name: &str) -> Option<Vec<String>> {
    params.get(name).and_then(Value::as_array).map(|items| {
        items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    })
}

/// A required string (the schema guarantees presence; this only guards against misuse).
pub(crate) fn require_str<'a>(
    params: &'a Map<String, Value>,
    name: &str,
) -> Result<&'a str, ApiError> {
    get_str(params, name).ok_or_else(|| ApiError::missing_parameter(name))
}

// Shared sub-schemas.

/// `TagItem` (2018 and 2021).
pub(crate) const TAG_ITEM: &[Field] = &[req("TagKey", Ty::Str), opt("TagValue", Ty::Str)];
/// `TagFilter` (2018 and 2021).
pub(crate) const TAG_FILTER: &[Field] =
    &[req("TagKey", Ty::Str), opt("TagValue", Ty::Arr(&Ty::Str))];
/// The request of every action that takes only `JobId`.
pub(crate) const JOB_ID_ONLY: &[Field] = &[req("JobId", Ty::Str)];
