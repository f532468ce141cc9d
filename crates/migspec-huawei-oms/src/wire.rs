//! The OMS v2 wire shapes this crate reads (reference §4.7): `TaskGroupResp` and the list
//! envelope. Requests are built as JSON from the spec (see `convert`), because their
//! fields are the spec's own.
//!
//! Every response field is optional and unknown fields are ignored, as in the SDK: an
//! absent field means "the API did not say", which the diff treats as unknown rather than
//! as a change.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// `{"taskgroups": [...], "count": N}`; `count` is the number of matching groups, not the
/// page size.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TaskGroupList {
    /// This page.
    #[serde(default)]
    pub taskgroups: Vec<TaskGroup>,
    /// Every group matching the query.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub count: Option<u64>,
}

/// `{"group_id": "…"}`, the answer to a create.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Created {
    pub(crate) group_id: String,
}

/// `TaskGroupResp`: one task group as list and show return it. No credentials are ever
/// returned.
#[derive(Debug, Clone, Default, Deserialize)]
#[allow(
    missing_docs,
    reason = "the fields are the API's, documented in reference §4.7"
)]
pub struct TaskGroup {
    #[serde(default)]
    pub group_id: String,
    /// 0–9 (reference §4.8).
    #[serde(default, deserialize_with = "lenient_u64")]
    pub status: Option<u64>,
    /// `{error_code, error_msg}`; documented as an empty string when there is no failure.
    #[serde(default, deserialize_with = "error_reason")]
    pub error_reason: Option<ErrorReason>,
    pub src_node: Option<SrcNode>,
    pub description: Option<String>,
    pub dst_node: Option<DstNode>,
    pub enable_metadata_migration: Option<bool>,
    pub enable_failed_object_recording: Option<bool>,
    pub enable_restore: Option<bool>,
    pub enable_kms: Option<bool>,
    pub task_type: Option<String>,
    pub bandwidth_policy: Option<Vec<BandwidthPolicy>>,
    pub smn_config: Option<Value>,
    pub source_cdn: Option<SourceCdn>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub migrate_since: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub migrate_speed: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub total_time: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub total_task_num: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub create_task_num: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub failed_task_num: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub complete_task_num: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub total_num: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub success_num: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub fail_num: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub skip_num: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub total_size: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub complete_size: Option<u64>,
    pub failed_object_record: Option<FailedObjectRecord>,
    pub object_overwrite_mode: Option<String>,
    pub dst_storage_policy: Option<String>,
    pub consistency_check: Option<String>,
    pub enable_requester_pays: Option<bool>,
}

/// `ErrorReasonResp`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[allow(missing_docs, reason = "the fields are the API's")]
pub struct ErrorReason {
    #[serde(default)]
    pub error_code: String,
    #[serde(default)]
    pub error_msg: String,
}

/// `FailedObjectRecordDto`: where the list of failed objects is.
#[derive(Debug, Clone, Default, Deserialize)]
#[allow(missing_docs, reason = "the fields are the API's")]
pub struct FailedObjectRecord {
    pub result: Option<bool>,
    pub list_file_key: Option<String>,
    pub error_code: Option<String>,
}

/// `TaskGroupSrcNodeResp`.
#[derive(Debug, Clone, Default, Deserialize)]
#[allow(missing_docs, reason = "the fields are the API's")]
pub struct SrcNode {
    pub bucket: Option<String>,
    /// Upper case in responses (`ALIYUN`), CamelCase in requests.
    pub cloud_type: Option<String>,
    pub region: Option<String>,
    pub app_id: Option<String>,
    pub object_key: Option<Vec<String>>,
    pub list_file: Option<ListFile>,
}

/// `TaskGroupDstNodeResp`.
#[derive(Debug, Clone, Default, Deserialize)]
#[allow(missing_docs, reason = "the fields are the API's")]
pub struct DstNode {
    pub bucket: Option<String>,
    pub region: Option<String>,
    pub save_prefix: Option<String>,
}

/// `ListFile`.
#[derive(Debug, Clone, Default, Deserialize)]
#[allow(missing_docs, reason = "the fields are the API's")]
pub struct ListFile {
    pub list_file_key: Option<String>,
    pub obs_bucket: Option<String>,
    pub list_file_num: Option<String>,
}

/// `BandwidthPolicyDto`, in bytes/s.
#[derive(Debug, Clone, Default, Deserialize)]
#[allow(missing_docs, reason = "the fields are the API's")]
pub struct BandwidthPolicy {
    #[serde(default)]
    pub start: String,
    #[serde(default)]
    pub end: String,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub max_bandwidth: Option<u64>,
}

/// `SourceCdnResp` (the key is never returned).
#[derive(Debug, Clone, Default, Deserialize)]
#[allow(missing_docs, reason = "the fields are the API's")]
pub struct SourceCdn {
    pub domain: Option<String>,
    pub protocol: Option<String>,
    pub authentication_type: Option<String>,
}

/// An integer sent as a number or as a numeric string; anything else is absent.
fn lenient_u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Number(number) => number.as_u64().or_else(|| {
            number
                .as_f64()
                .filter(|value| value.is_finite() && *value >= 0.0)
                .map(|value| {
                    #[expect(
                        clippy::cast_possible_truncation,
                        clippy::cast_sign_loss,
                        reason = "a non-negative finite float counter"
                    )]
                    let integer = value as u64;
                    integer
                })
        }),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    })
}

/// `error_reason` as an object, an empty string or null; an empty code and message is no
/// error at all.
fn error_reason<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<ErrorReason>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Object(object) => {
            let text = |name: &str| {
                object
                    .get(name)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let reason = ErrorReason {
                error_code: text("error_code"),
                error_msg: text("error_msg"),
            };
            (!reason.error_code.is_empty() || !reason.error_msg.is_empty()).then_some(reason)
        }
        Value::String(text) if !text.trim().is_empty() => Some(ErrorReason {
            error_code: String::new(),
            error_msg: text,
        }),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_are_read_leniently() {
        let group: TaskGroup = serde_json::from_value(serde_json::json!({
            "group_id": "g",
            "status": "5",
            "error_reason": {"error_code": "TRF.0001", "error_msg": "boom"},
            "total_num": 10.0,
            "some_future_field": {"x": 1}
        }))
        .unwrap();
        assert_eq!(group.status, Some(5));
        assert_eq!(group.total_num, Some(10));
        assert_eq!(
            group.error_reason,
            Some(ErrorReason {
                error_code: "TRF.0001".into(),
                error_msg: "boom".into()
            })
        );
        let quiet: TaskGroup = serde_json::from_value(serde_json::json!({
            "group_id": "g", "status": 2, "error_reason": ""
        }))
        .unwrap();
        assert_eq!(quiet.error_reason, None);
        let empty: TaskGroup = serde_json::from_value(serde_json::json!({
            "error_reason": {"error_code": "", "error_msg": ""}
        }))
        .unwrap();
        assert_eq!(empty.error_reason, None);
        assert_eq!(empty.enable_kms, None, "absent stays unknown");
    }
}
