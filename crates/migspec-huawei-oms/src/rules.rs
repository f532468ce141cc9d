//! The cross-field rules of the OMS v2 API documentation that JSON Schema cannot express
//! well, for `HuaweiOmsTaskGroup`. Reached through `Provider::validate`: `migspec-schema`
//! checks the schema first and locates each problem's JSON pointer in the YAML.
//!
//! Each rule reports at the exact field it concerns (or, for a missing field, at the object
//! that should hold it), with a help line saying what to write.

use migspec_provider::Problem;
use migspec_provider::rules::{self, Problems};
use migspec_spec::model::HuaweiOmsTaskGroup;
use migspec_spec::model::common::HuaweiFailureAction;
use migspec_spec::model::huawei::{
    BandwidthPolicy, CdnAuthenticationType, CloudType, ConsistencyCheck, CryptoType,
    ObjectOverwriteMode, TaskGroupSpec, TaskType,
};

/// Runs every rule over a typed task group that passed the kind's schema.
#[must_use]
pub fn check(group: &HuaweiOmsTaskGroup) -> Vec<Problem> {
    let mut problems = Problems::default();
    check_oms(group, &mut problems);
    problems.into_vec()
}

fn check_oms(group: &HuaweiOmsTaskGroup, problems: &mut Problems) {
    let spec: &TaskGroupSpec = &group.spec;
    let src = &spec.src_node;
    let task_type = spec.task_type.unwrap_or(TaskType::Prefix);
    let cloud = src.cloud_type.unwrap_or(CloudType::Aliyun);

    if spec.dst_node.region != spec.region {
        problems.error_at(
            "migspec::rule::region",
            "/spec/dst_node/region",
            format!(
                "`dst_node.region: {}` must equal the OMS `region: {}`",
                spec.dst_node.region, spec.region
            ),
            "OMS migrates into buckets of its own region: make both the same",
        );
    }
    match task_type {
        TaskType::List | TaskType::UrlList if src.list_file.is_none() => problems.error_at(
            "migspec::rule::list_file",
            "/spec/src_node/list_file",
            format!("`task_type: {task_type}` needs `src_node.list_file`"),
            "add `list_file: {obs_bucket: <bucket in the destination region>, list_file_key: lists/}`",
        ),
        TaskType::Prefix if src.list_file.is_some() => problems.error_at(
            "migspec::rule::list_file",
            "/spec/src_node/list_file",
            "`list_file` is only used with `task_type: LIST` or `URL_LIST`",
            "set `task_type: LIST`, or remove `list_file` and list prefixes in `object_key`",
        ),
        _ => {}
    }
    if task_type != TaskType::Prefix && src.object_key.is_some() {
        problems.error_at(
            "migspec::rule::object_key",
            "/spec/src_node/object_key",
            format!("`object_key` is only used with `task_type: PREFIX`, not `{task_type}`"),
            "remove `object_key`: the list files say what to migrate",
        );
    }
    if let Some(keys) = &src.object_key
        && keys.is_empty()
    {
        problems.error_at(
            "migspec::rule::object_key",
            "/spec/src_node/object_key",
            "`object_key` is an empty list",
            "list the prefixes to migrate, or write `[\"\"]` for the whole bucket",
        );
    }
    if task_type == TaskType::UrlList && cloud != CloudType::UrlSource {
        problems.error_at(
            "migspec::rule::cloud_type",
            "/spec/src_node/cloud_type",
            "`task_type: URL_LIST` needs `src_node.cloud_type: URLSource`",
            "set `cloud_type: URLSource`",
        );
    }
    if cloud == CloudType::UrlSource && task_type != TaskType::UrlList {
        problems.error_at(
            "migspec::rule::cloud_type",
            "/spec/src_node/cloud_type",
            "`cloud_type: URLSource` is only for `task_type: URL_LIST`",
            "set `task_type: URL_LIST`, or choose the source's cloud",
        );
    }
    if task_type != TaskType::UrlList {
        if src.region.is_none() {
            missing_src(
                problems,
                "region",
                "the source bucket's region, e.g. `cn-hangzhou`",
            );
        }
        if src.bucket.is_none() {
            missing_src(problems, "bucket", "the source bucket");
        }
        match cloud {
            CloudType::Azure => {
                if src.connection_string.is_none() {
                    missing_src(
                        problems,
                        "connection_string",
                        "`{fromEnv: AZURE_CONNECTION_STRING}`",
                    );
                }
            }
            CloudType::Google => {
                if src.json_auth_file.is_none() {
                    missing_src(problems, "json_auth_file", "`{fromFile: gcs-key.json}`");
                }
            }
            _ => {
                if src.ak.is_none() {
                    missing_src(problems, "ak", "`{fromEnv: SRC_AK}`");
                }
                if src.sk.is_none() {
                    missing_src(problems, "sk", "`{fromEnv: SRC_SK}`");
                }
            }
        }
    }
    if cloud == CloudType::Tencent && src.app_id.is_none() {
        missing_src(
            problems,
            "app_id",
            "the Tencent Cloud APPID of the source bucket",
        );
    }
    if spec.object_overwrite_mode == Some(ObjectOverwriteMode::Crc64ComparisonOverwrite)
        && !matches!(
            cloud,
            CloudType::HuaweiCloud | CloudType::Aliyun | CloudType::Tencent
        )
    {
        problems.error_at(
            "migspec::rule::overwrite_mode",
            "/spec/object_overwrite_mode",
            format!("`CRC64_COMPARISON_OVERWRITE` needs a HuaweiCloud, Aliyun or Tencent source, not {cloud}"),
            "use `SIZE_LAST_MODIFIED_COMPARISON_OVERWRITE`",
        );
    }
    if spec.consistency_check == Some(ConsistencyCheck::NoCheck) && cloud != CloudType::UrlSource {
        problems.error_at(
            "migspec::rule::consistency_check",
            "/spec/consistency_check",
            "`consistency_check: no_check` is only allowed for HTTP/HTTPS (URLSource) sources",
            "use `size_last_modified` or `crc64`",
        );
    }
    if let Some(description) = &spec.description
        && let Some(bad) = description.chars().find(|c| "^<>&\"'".contains(*c))
    {
        problems.error_at(
            "migspec::rule::description",
            "/spec/description",
            format!("`description` contains `{bad}`, which OMS refuses"),
            "remove these characters: ^ < > & \" '",
        );
    }
    check_bandwidth(&spec.bandwidth_policy, problems);
    if let Some(cdn) = &spec.source_cdn
        && cdn.authentication_type != CdnAuthenticationType::None
        && cdn.authentication_key.is_none()
    {
        problems.error_at(
            "migspec::rule::cdn_key",
            "/spec/source_cdn/authentication_key",
            format!(
                "`authentication_type: {}` needs `authentication_key`",
                cdn.authentication_type
            ),
            "add `authentication_key: {fromEnv: CDN_KEY}`",
        );
    }
    for (pointer, crypto, key) in [
        ("/spec/src_node", src.crypto_type, src.kms_key_id.as_ref()),
        (
            "/spec/dst_node",
            spec.dst_node.crypto_type,
            spec.dst_node.kms_key_id.as_ref(),
        ),
        (
            "/spec/source_cdn",
            spec.source_cdn.as_ref().and_then(|cdn| cdn.crypto_type),
            spec.source_cdn
                .as_ref()
                .and_then(|cdn| cdn.kms_key_id.as_ref()),
        ),
    ] {
        if crypto == Some(CryptoType::Kms) && key.is_none() {
            problems.error_at(
                "migspec::rule::kms_key",
                &format!("{pointer}/kms_key_id"),
                "`crypto_type: KMS` needs `kms_key_id`",
                "add the 36-character KMS key ID",
            );
        }
    }
    if let Some(on_failure) = &group.lifecycle.on_failure
        && on_failure.action == HuaweiFailureAction::Fail
        && on_failure.migrate_failed_object.is_some()
    {
        problems.warning_at(
            "migspec::rule::on_failure",
            "/lifecycle/onFailure/migrate_failed_object",
            "`migrate_failed_object` is only used with `action: retry`",
            "remove it, or set `action: retry`",
        );
    }
    if group
        .lifecycle
        .timeouts
        .as_ref()
        .is_some_and(|t| t.check.is_some())
    {
        problems.warning_at(
            "migspec::rule::timeout_unused",
            "/lifecycle/timeouts/check",
            "OMS task groups have no check phase; `timeouts.check` is not used",
            "remove it",
        );
    }
    rules::check_timeouts(group.lifecycle.timeouts.as_ref(), problems);
}

fn missing_src(problems: &mut Problems, field: &str, example: &str) {
    problems.error_at(
        "migspec::rule::src_node_field",
        &format!("/spec/src_node/{field}"),
        format!("`src_node.{field}` is required for this source"),
        format!("add `{field}`: {example}"),
    );
}

fn minutes(text: &str) -> u32 {
    let (hours, minutes) = text.split_once(':').unwrap_or(("0", "0"));
    hours.parse::<u32>().unwrap_or(0) * 60 + minutes.parse::<u32>().unwrap_or(0)
}

/// Checks that bandwidth windows are proper and do not overlap (a window may wrap midnight).
fn check_bandwidth(policies: &[BandwidthPolicy], problems: &mut Problems) {
    let mut covered: Vec<(u32, u32, usize)> = Vec::new();
    for (index, policy) in policies.iter().enumerate() {
        let start = minutes(&policy.start);
        let end = minutes(&policy.end);
        if start == end {
            problems.error_at(
                "migspec::rule::bandwidth_window",
                &format!("/spec/bandwidth_policy/{index}/end"),
                format!(
                    "bandwidth window {index} starts and ends at {}",
                    policy.start
                ),
                "give the window a length, e.g. `start: \"00:00\"`, `end: \"06:00\"`",
            );
            continue;
        }
        let ranges = if start < end {
            vec![(start, end)]
        } else {
            vec![(start, 24 * 60), (0, end)]
        };
        for (from, to) in ranges {
            if let Some((_, _, other)) = covered.iter().find(|(a, b, _)| from < *b && *a < to) {
                problems.error_at(
                    "migspec::rule::bandwidth_overlap",
                    &format!("/spec/bandwidth_policy/{index}"),
                    format!(
                        "bandwidth window {index} ({}-{}) overlaps window {other}",
                        policy.start, policy.end
                    ),
                    "OMS refuses overlapping windows: make them disjoint",
                );
                break;
            }
            covered.push((from, to, index));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::minutes;

    #[test]
    fn minutes_of_day() {
        assert_eq!(minutes("00:00"), 0);
        assert_eq!(minutes("06:30"), 390);
        assert_eq!(minutes("23:59"), 1439);
    }
}
