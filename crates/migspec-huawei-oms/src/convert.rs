//! Between the spec and the wire: request bodies from a spec (with the keys the runner
//! resolved), the spec-shaped view of a response, statuses, progress and failures.

use std::collections::BTreeMap;

use migspec_provider::{DesiredSpec, Failure, Phase, Progress, ProviderError};
use migspec_spec::model::ApiEnum;
use migspec_spec::model::HuaweiOmsTaskGroup;
use migspec_spec::model::common::{SecretRef, ValueRef};
use migspec_spec::model::huawei::{
    CdnAuthenticationType, CdnProtocol, CloudType, ConsistencyCheck, DstStoragePolicy,
    ObjectOverwriteMode, TaskGroupSpec, TaskType,
};
use serde_json::{Map, Value, json};

use crate::marker;
use crate::status::GroupStatus;
use crate::wire::TaskGroup;

/// Bytes per MB: the spec's `max_bandwidth` is in MB/s, the API's in bytes/s.
pub(crate) const BYTES_PER_MB: u64 = 1_048_576;

/// The kind this provider serves.
pub(crate) const KIND: &str = "HuaweiOmsTaskGroup";

/// Secret fields of the spec, as JSON pointers into the document.
pub(crate) const SECRET_POINTERS: [&str; 7] = [
    "/spec/src_node/ak",
    "/spec/src_node/sk",
    "/spec/src_node/connection_string",
    "/spec/src_node/json_auth_file",
    "/spec/dst_node/ak",
    "/spec/dst_node/sk",
    "/spec/source_cdn/authentication_key",
];

/// Reads the typed document of a desired spec.
pub(crate) fn parse_document(document: &Value) -> Result<HuaweiOmsTaskGroup, String> {
    serde_json::from_value(document.clone()).map_err(|error| {
        format!("the document is not a valid {KIND} ({error}); run `migspec validate`")
    })
}

/// The phase of an OMS status (reference §4.8).
#[must_use]
pub(crate) fn phase(status: Option<u64>) -> Phase {
    crate::status::phase(GroupStatus::of(status))
}

/// What a status means, for messages.
pub(crate) fn status_text(status: Option<u64>) -> &'static str {
    crate::status::text(GroupStatus::of(status))
}

/// The value of one secret field: the runner's resolved value, or a literal written in the
/// spec (when literals are allowed). `None` when the spec does not set the field.
fn secret_value(
    desired: &DesiredSpec,
    pointer: &str,
    reference: Option<&SecretRef>,
) -> Result<Option<String>, ProviderError> {
    let Some(reference) = reference else {
        return Ok(None);
    };
    if let Some(secret) = desired.secrets.get(pointer) {
        return Ok(Some(secret.expose().to_owned()));
    }
    match reference {
        SecretRef::Literal(value) => Ok(Some(value.clone())),
        SecretRef::Env(env) => Err(ProviderError::Config {
            message: format!(
                "{}: the secret `{pointer}` was not resolved; set the environment variable `{}`",
                desired.address, env.from_env
            ),
        }),
        SecretRef::File(file) => Err(ProviderError::Config {
            message: format!(
                "{}: the secret `{pointer}` was not resolved; check that `{}` is readable",
                desired.address, file.from_file
            ),
        }),
    }
}

/// The spec's own project id: written in the document, or resolved by the runner under
/// `/spec/project_id` when it is a reference. `None` when the spec names none.
pub(crate) fn spec_project_id(
    spec: &TaskGroupSpec,
    desired: &DesiredSpec,
) -> Result<Option<String>, ProviderError> {
    match &spec.project_id {
        None => Ok(None),
        Some(ValueRef::Value(value)) => Ok(Some(value.clone())),
        Some(reference) => match desired.secrets.get("/spec/project_id") {
            Some(value) => Ok(Some(value.expose().to_owned())),
            None => {
                let source = match reference {
                    ValueRef::Env(env) => {
                        format!("set the environment variable `{}`", env.from_env)
                    }
                    ValueRef::File(file) => format!("check that `{}` is readable", file.from_file),
                    ValueRef::Value(_) => String::new(),
                };
                Err(ProviderError::Config {
                    message: format!(
                        "{}: `spec.project_id` was not resolved; {source}",
                        desired.address
                    ),
                })
            }
        },
    }
}

fn insert(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        map.insert(key.to_owned(), value);
    }
}

fn text(value: Option<&String>) -> Option<Value> {
    value.map(|value| Value::String(value.clone()))
}

fn enum_value<T: ApiEnum>(value: Option<T>) -> Option<Value> {
    value.map(ApiEnum::wire)
}

/// The `bandwidth_policy` of the API (bytes/s) from the spec's (MB/s).
pub(crate) fn bandwidth_body(spec: &TaskGroupSpec) -> Value {
    Value::Array(
        spec.bandwidth_policy
            .iter()
            .map(|window| {
                json!({
                    "start": window.start,
                    "end": window.end,
                    "max_bandwidth": u64::from(window.max_bandwidth) * BYTES_PER_MB,
                })
            })
            .collect(),
    )
}

/// `CreateTaskGroupReq` for a spec: the spec's fields (unset ones left to the server's
/// defaults), keys filled in, bandwidth in bytes/s, the address marker in the description.
pub(crate) fn create_body(
    document: &HuaweiOmsTaskGroup,
    desired: &DesiredSpec,
) -> Result<Value, ProviderError> {
    let spec = &document.spec;
    let src = &spec.src_node;
    let mut src_node = Map::new();
    insert(&mut src_node, "cloud_type", enum_value(src.cloud_type));
    insert(&mut src_node, "region", text(src.region.as_ref()));
    for (name, reference) in [
        ("ak", src.ak.as_ref()),
        ("sk", src.sk.as_ref()),
        ("connection_string", src.connection_string.as_ref()),
        ("json_auth_file", src.json_auth_file.as_ref()),
    ] {
        let pointer = format!("/spec/src_node/{name}");
        insert(
            &mut src_node,
            name,
            secret_value(desired, &pointer, reference)?.map(Value::String),
        );
    }
    insert(&mut src_node, "app_id", text(src.app_id.as_ref()));
    insert(&mut src_node, "crypto_type", enum_value(src.crypto_type));
    insert(&mut src_node, "kms_key_id", text(src.kms_key_id.as_ref()));
    insert(&mut src_node, "bucket", text(src.bucket.as_ref()));
    insert(
        &mut src_node,
        "object_key",
        src.object_key.as_ref().map(|keys| json!(keys)),
    );
    insert(
        &mut src_node,
        "list_file",
        src.list_file
            .as_ref()
            .map(|list| serde_json::to_value(list).unwrap_or(Value::Null)),
    );

    let dst = &spec.dst_node;
    let mut dst_node = Map::new();
    for (name, reference) in [("ak", &dst.ak), ("sk", &dst.sk)] {
        let pointer = format!("/spec/dst_node/{name}");
        insert(
            &mut dst_node,
            name,
            secret_value(desired, &pointer, Some(reference))?.map(Value::String),
        );
    }
    dst_node.insert("region".to_owned(), Value::String(dst.region.clone()));
    dst_node.insert("bucket".to_owned(), Value::String(dst.bucket.clone()));
    insert(&mut dst_node, "cloud_type", enum_value(dst.cloud_type));
    insert(&mut dst_node, "save_prefix", text(dst.save_prefix.as_ref()));
    insert(&mut dst_node, "crypto_type", enum_value(dst.crypto_type));
    insert(&mut dst_node, "kms_key_id", text(dst.kms_key_id.as_ref()));

    let mut body = Map::new();
    body.insert("src_node".to_owned(), Value::Object(src_node));
    body.insert("dst_node".to_owned(), Value::Object(dst_node));
    body.insert(
        "description".to_owned(),
        Value::String(marker::with_marker(
            spec.description.as_deref(),
            &document.metadata.name,
        )),
    );
    insert(&mut body, "task_type", enum_value(spec.task_type));
    for (name, value) in [
        ("enable_metadata_migration", spec.enable_metadata_migration),
        (
            "enable_failed_object_recording",
            spec.enable_failed_object_recording,
        ),
        ("enable_restore", spec.enable_restore),
        ("enable_kms", spec.enable_kms),
    ] {
        insert(&mut body, name, value.map(Value::Bool));
    }
    if !spec.bandwidth_policy.is_empty() {
        body.insert("bandwidth_policy".to_owned(), bandwidth_body(spec));
    }
    insert(
        &mut body,
        "smn_config",
        spec.smn_config
            .as_ref()
            .map(|smn| serde_json::to_value(smn).unwrap_or(Value::Null)),
    );
    if let Some(cdn) = &spec.source_cdn {
        let mut source_cdn = Map::new();
        source_cdn.insert("domain".to_owned(), Value::String(cdn.domain.clone()));
        source_cdn.insert("protocol".to_owned(), cdn.protocol.wire());
        source_cdn.insert(
            "authentication_type".to_owned(),
            cdn.authentication_type.wire(),
        );
        insert(
            &mut source_cdn,
            "authentication_key",
            secret_value(
                desired,
                "/spec/source_cdn/authentication_key",
                cdn.authentication_key.as_ref(),
            )?
            .map(Value::String),
        );
        insert(&mut source_cdn, "crypto_type", enum_value(cdn.crypto_type));
        insert(&mut source_cdn, "kms_key_id", text(cdn.kms_key_id.as_ref()));
        body.insert("source_cdn".to_owned(), Value::Object(source_cdn));
    }
    insert(
        &mut body,
        "migrate_since",
        spec.migrate_since.map(|since| json!(since)),
    );
    insert(
        &mut body,
        "object_overwrite_mode",
        enum_value(spec.object_overwrite_mode),
    );
    insert(
        &mut body,
        "dst_storage_policy",
        enum_value(spec.dst_storage_policy),
    );
    insert(
        &mut body,
        "consistency_check",
        enum_value(spec.consistency_check),
    );
    insert(
        &mut body,
        "enable_requester_pays",
        spec.enable_requester_pays.map(Value::Bool),
    );
    Ok(Value::Object(body))
}

/// The keys a start (`StartTaskGroupReq`) or retry (`RetryTaskGroupReq`) sends: OMS keeps
/// no keys once a group stops, so every start and retry carries them again.
pub(crate) fn credentials_body(
    document: &HuaweiOmsTaskGroup,
    desired: &DesiredSpec,
    migrate_failed_object: Option<bool>,
) -> Result<Value, ProviderError> {
    let spec = &document.spec;
    let src = &spec.src_node;
    let dst = &spec.dst_node;
    let mut body = Map::new();
    let pairs: [(&str, &str, Option<&SecretRef>); 7] = [
        ("src_ak", "/spec/src_node/ak", src.ak.as_ref()),
        ("src_sk", "/spec/src_node/sk", src.sk.as_ref()),
        (
            "connection_string",
            "/spec/src_node/connection_string",
            src.connection_string.as_ref(),
        ),
        (
            "json_auth_file",
            "/spec/src_node/json_auth_file",
            src.json_auth_file.as_ref(),
        ),
        ("dst_ak", "/spec/dst_node/ak", Some(&dst.ak)),
        ("dst_sk", "/spec/dst_node/sk", Some(&dst.sk)),
        (
            "source_cdn_authentication_key",
            "/spec/source_cdn/authentication_key",
            spec.source_cdn
                .as_ref()
                .and_then(|cdn| cdn.authentication_key.as_ref()),
        ),
    ];
    for (name, pointer, reference) in pairs {
        insert(
            &mut body,
            name,
            secret_value(desired, pointer, reference)?.map(Value::String),
        );
    }
    insert(&mut body, "src_crypto_type", enum_value(src.crypto_type));
    insert(&mut body, "src_kms_key_id", text(src.kms_key_id.as_ref()));
    insert(&mut body, "dst_crypto_type", enum_value(dst.crypto_type));
    insert(&mut body, "dst_kms_key_id", text(dst.kms_key_id.as_ref()));
    if let Some(cdn) = &spec.source_cdn {
        insert(
            &mut body,
            "source_cdn_crypto_type",
            enum_value(cdn.crypto_type),
        );
        insert(
            &mut body,
            "source_cdn_kms_key_id",
            text(cdn.kms_key_id.as_ref()),
        );
    }
    insert(
        &mut body,
        "migrate_failed_object",
        migrate_failed_object.map(Value::Bool),
    );
    Ok(Value::Object(body))
}

// ---------------------------------------------------------------------------------------
// Views: spec-shaped, comparable, server defaults removed.

/// Server defaults (reference §3.1, §4): a field equal to its default is left out of a
/// view, so "unset in the spec" and "the server's default" compare equal.
const DEFAULTS: &[(&str, &str)] = &[
    ("/task_type", r#""PREFIX""#),
    ("/enable_metadata_migration", "false"),
    ("/enable_failed_object_recording", "true"),
    ("/enable_restore", "false"),
    ("/enable_kms", "false"),
    ("/bandwidth_policy", "[]"),
    ("/migrate_since", "0"),
    (
        "/object_overwrite_mode",
        r#""SIZE_LAST_MODIFIED_COMPARISON_OVERWRITE""#,
    ),
    ("/dst_storage_policy", r#""STANDARD""#),
    ("/consistency_check", r#""size_last_modified""#),
    ("/enable_requester_pays", "false"),
    ("/description", r#""""#),
    ("/src_node/cloud_type", r#""Aliyun""#),
    ("/src_node/object_key", r#"[""]"#),
    ("/src_node/object_key", "[]"),
    ("/src_node/app_id", r#""""#),
    ("/src_node/region", r#""""#),
    ("/src_node/bucket", r#""""#),
    ("/dst_node/save_prefix", r#""""#),
];

/// Fields of the spec the API never returns: they cannot be compared, so a view has none.
const UNREADABLE: &[&str] = &[
    "/project_id",
    "/src_node/ak",
    "/src_node/sk",
    "/src_node/connection_string",
    "/src_node/json_auth_file",
    "/src_node/crypto_type",
    "/src_node/kms_key_id",
    "/src_node/list_file/list_file_num",
    "/dst_node/ak",
    "/dst_node/sk",
    "/dst_node/cloud_type",
    "/dst_node/crypto_type",
    "/dst_node/kms_key_id",
    "/smn_config",
    "/source_cdn/authentication_key",
    "/source_cdn/crypto_type",
    "/source_cdn/kms_key_id",
];

fn remove_pointer(value: &mut Value, pointer: &str) {
    let Some((parent, key)) = pointer.rsplit_once('/') else {
        return;
    };
    let target = if parent.is_empty() {
        Some(value)
    } else {
        value.pointer_mut(parent)
    };
    if let Some(Value::Object(object)) = target {
        object.remove(key);
    }
}

fn strip_defaults(value: &mut Value) {
    for (pointer, default) in DEFAULTS {
        let default: Value = serde_json::from_str(default).unwrap_or(Value::Null);
        if value.pointer(pointer) == Some(&default) {
            remove_pointer(value, pointer);
        }
    }
}

/// The spell of `value` among `T`'s values, compared case-insensitively (responses upper-case
/// some enumerations); unknown values are kept as they are.
fn canonical<T: ApiEnum + std::fmt::Display>(value: &str) -> String {
    T::ALL
        .iter()
        .map(ToString::to_string)
        .find(|known| known.eq_ignore_ascii_case(value))
        .unwrap_or_else(|| value.to_owned())
}

/// The comparable view of a spec: its `spec` without secrets, unreadable fields and
/// server defaults.
pub(crate) fn desired_view(spec: &TaskGroupSpec) -> Value {
    let mut value = serde_json::to_value(spec).unwrap_or(Value::Null);
    for pointer in UNREADABLE {
        remove_pointer(&mut value, pointer);
    }
    strip_defaults(&mut value);
    value
}

/// The view of a task group: the spec's shape, `cloud_type` and other enumerations in the
/// spec's spelling, bandwidth in MB/s, the description without its marker, no credentials,
/// server defaults removed. A field the response did not carry at all is `null`: unknown,
/// never compared.
pub(crate) fn observed_view(group: &TaskGroup, region: &str) -> Value {
    let mut view = Map::new();
    let unknown = |view: &mut Map<String, Value>, name: &str| {
        view.insert(name.to_owned(), Value::Null);
    };
    view.insert("region".to_owned(), Value::String(region.to_owned()));

    match &group.src_node {
        Some(src) => {
            let mut node = Map::new();
            insert(
                &mut node,
                "cloud_type",
                src.cloud_type
                    .as_deref()
                    .map(|cloud| Value::String(canonical::<CloudType>(cloud))),
            );
            insert(&mut node, "region", text(src.region.as_ref()));
            insert(&mut node, "app_id", text(src.app_id.as_ref()));
            insert(&mut node, "bucket", text(src.bucket.as_ref()));
            insert(
                &mut node,
                "object_key",
                src.object_key.as_ref().map(|keys| json!(keys)),
            );
            if let Some(list) = &src.list_file {
                let mut list_file = Map::new();
                insert(
                    &mut list_file,
                    "list_file_key",
                    text(list.list_file_key.as_ref()),
                );
                insert(&mut list_file, "obs_bucket", text(list.obs_bucket.as_ref()));
                if !list_file.is_empty() {
                    node.insert("list_file".to_owned(), Value::Object(list_file));
                }
            }
            view.insert("src_node".to_owned(), Value::Object(node));
        }
        None => unknown(&mut view, "src_node"),
    }
    match &group.dst_node {
        Some(dst) => {
            let mut node = Map::new();
            insert(&mut node, "region", text(dst.region.as_ref()));
            insert(&mut node, "bucket", text(dst.bucket.as_ref()));
            insert(&mut node, "save_prefix", text(dst.save_prefix.as_ref()));
            view.insert("dst_node".to_owned(), Value::Object(node));
        }
        None => unknown(&mut view, "dst_node"),
    }
    match &group.description {
        Some(description) => {
            view.insert(
                "description".to_owned(),
                Value::String(marker::strip(description).to_owned()),
            );
        }
        None => unknown(&mut view, "description"),
    }
    let enumeration = |view: &mut Map<String, Value>,
                       name: &str,
                       value: Option<&String>,
                       spell: fn(&str) -> String| {
        let value = value.map_or(Value::Null, |value| Value::String(spell(value)));
        view.insert(name.to_owned(), value);
    };
    enumeration(
        &mut view,
        "task_type",
        group.task_type.as_ref(),
        canonical::<TaskType>,
    );
    enumeration(
        &mut view,
        "object_overwrite_mode",
        group.object_overwrite_mode.as_ref(),
        canonical::<ObjectOverwriteMode>,
    );
    enumeration(
        &mut view,
        "dst_storage_policy",
        group.dst_storage_policy.as_ref(),
        canonical::<DstStoragePolicy>,
    );
    enumeration(
        &mut view,
        "consistency_check",
        group.consistency_check.as_ref(),
        canonical::<ConsistencyCheck>,
    );
    for (name, value) in [
        ("enable_metadata_migration", group.enable_metadata_migration),
        (
            "enable_failed_object_recording",
            group.enable_failed_object_recording,
        ),
        ("enable_restore", group.enable_restore),
        ("enable_kms", group.enable_kms),
        ("enable_requester_pays", group.enable_requester_pays),
    ] {
        view.insert(name.to_owned(), value.map_or(Value::Null, Value::Bool));
    }
    match &group.bandwidth_policy {
        Some(windows) => {
            let windows: Vec<Value> = windows
                .iter()
                .map(|window| {
                    let bytes = window.max_bandwidth.unwrap_or_default();
                    let megabytes = if bytes.is_multiple_of(BYTES_PER_MB) {
                        json!(bytes / BYTES_PER_MB)
                    } else {
                        #[expect(
                            clippy::cast_precision_loss,
                            reason = "a bandwidth far below 2^52 bytes/s"
                        )]
                        let fraction = bytes as f64 / BYTES_PER_MB as f64;
                        json!(fraction)
                    };
                    json!({"start": window.start, "end": window.end, "max_bandwidth": megabytes})
                })
                .collect();
            view.insert("bandwidth_policy".to_owned(), Value::Array(windows));
        }
        None => unknown(&mut view, "bandwidth_policy"),
    }
    match &group.source_cdn {
        Some(cdn)
            if cdn
                .domain
                .as_deref()
                .is_some_and(|domain| !domain.is_empty()) =>
        {
            let mut source_cdn = Map::new();
            insert(&mut source_cdn, "domain", text(cdn.domain.as_ref()));
            insert(
                &mut source_cdn,
                "protocol",
                cdn.protocol
                    .as_deref()
                    .map(|protocol| Value::String(canonical::<CdnProtocol>(protocol))),
            );
            insert(
                &mut source_cdn,
                "authentication_type",
                cdn.authentication_type
                    .as_deref()
                    .map(|kind| Value::String(canonical::<CdnAuthenticationType>(kind))),
            );
            view.insert("source_cdn".to_owned(), Value::Object(source_cdn));
        }
        _ => {}
    }
    match group.migrate_since {
        Some(since) => {
            view.insert("migrate_since".to_owned(), json!(since));
        }
        None => unknown(&mut view, "migrate_since"),
    }
    let mut value = Value::Object(view);
    strip_defaults(&mut value);
    value
}

// ---------------------------------------------------------------------------------------
// Progress and failures.

fn thousands(number: u64) -> String {
    let digits = number.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[expect(clippy::cast_precision_loss, reason = "a percentage of counters")]
fn percent(done: u64, total: u64) -> f64 {
    let ratio = done.min(total) as f64 / total as f64;
    (ratio * 1000.0).round() / 10.0
}

/// Progress from the group's counters: objects (transferred and skipped) of all objects,
/// or the created tasks while the group creates them.
pub(crate) fn progress(group: &TaskGroup) -> Option<Progress> {
    let status = GroupStatus::of(group.status)?;
    let step = match status {
        GroupStatus::CreatingTasks => "creating tasks",
        GroupStatus::Migrating => "migrating",
        GroupStatus::Paused => "paused",
        GroupStatus::MigrationFailed => "failed",
        GroupStatus::Completed => "completed",
        GroupStatus::Pausing => "pausing",
        _ => return None,
    };
    if status == GroupStatus::CreatingTasks {
        let total = group.total_task_num.unwrap_or_default();
        let created = group.create_task_num.unwrap_or_default();
        return Some(Progress {
            percent: None,
            step: Some(step.to_owned()),
            message: (total > 0).then(|| {
                format!(
                    "{} of {} tasks created",
                    thousands(created),
                    thousands(total)
                )
            }),
        });
    }
    let total = group.total_num.unwrap_or_default();
    let done = group.success_num.unwrap_or_default() + group.skip_num.unwrap_or_default();
    let failed = group.fail_num.unwrap_or_default();
    let (percent, mut message) = if total > 0 {
        (
            Some(percent(done, total)),
            format!("{} of {} objects", thousands(done), thousands(total)),
        )
    } else {
        match (group.complete_size, group.total_size) {
            (Some(complete), Some(size)) if size > 0 => (
                Some(percent(complete, size)),
                format!("{} of {} bytes", thousands(complete), thousands(size)),
            ),
            _ => (None, String::new()),
        }
    };
    if failed > 0 {
        if !message.is_empty() {
            message.push_str(", ");
        }
        message.push_str(&format!("{} failed", thousands(failed)));
    }
    Some(Progress {
        percent,
        step: Some(step.to_owned()),
        message: (!message.is_empty()).then_some(message),
    })
}

/// Why a failed group (status 4 or 5) failed, in OMS's words.
pub(crate) fn failure(group: &TaskGroup) -> Option<Failure> {
    let status = GroupStatus::of(group.status)?;
    if !status.is_failed() {
        return None;
    }
    let reason = group.error_reason.clone().unwrap_or_default();
    let mut details = Vec::new();
    if let Some(failed) = group.fail_num.filter(|failed| *failed > 0) {
        details.push(format!("{} objects failed", thousands(failed)));
    }
    if let Some(record) = &group.failed_object_record
        && let Some(key) = record
            .list_file_key
            .as_deref()
            .filter(|key| !key.is_empty())
    {
        details.push(format!("failed objects are listed in {key}"));
    }
    let message = if reason.error_msg.is_empty() {
        format!("task group {} {}", group.group_id, status.text())
    } else {
        reason.error_msg
    };
    Some(Failure {
        code: (!reason.error_code.is_empty()).then_some(reason.error_code),
        message,
        details,
    })
}

/// Secret pointers of a document that are set, with the environment placeholder an
/// imported spec uses for each.
pub(crate) fn import_placeholders(address: &str, view: &Value) -> BTreeMap<&'static str, String> {
    let prefix = migspec_provider::ImportDocument::variable_prefix(&migspec_provider::Address(
        address.to_owned(),
    ));
    let cloud = view
        .pointer("/src_node/cloud_type")
        .and_then(Value::as_str)
        .unwrap_or("Aliyun");
    let task_type = view
        .pointer("/task_type")
        .and_then(Value::as_str)
        .unwrap_or("PREFIX");
    let mut placeholders = BTreeMap::new();
    if task_type != "URL_LIST" {
        match cloud {
            "Azure" => {
                placeholders.insert(
                    "/spec/src_node/connection_string",
                    format!("{prefix}_SRC_CONNECTION_STRING"),
                );
            }
            "Google" => {
                placeholders.insert(
                    "/spec/src_node/json_auth_file",
                    format!("{prefix}_SRC_JSON_AUTH_FILE"),
                );
            }
            _ => {
                placeholders.insert("/spec/src_node/ak", format!("{prefix}_SRC_AK"));
                placeholders.insert("/spec/src_node/sk", format!("{prefix}_SRC_SK"));
            }
        }
    }
    placeholders.insert("/spec/dst_node/ak", format!("{prefix}_DST_AK"));
    placeholders.insert("/spec/dst_node/sk", format!("{prefix}_DST_SK"));
    if view
        .pointer("/source_cdn/authentication_type")
        .and_then(Value::as_str)
        .is_some_and(|kind| kind != "NONE")
    {
        placeholders.insert(
            "/spec/source_cdn/authentication_key",
            format!("{prefix}_CDN_KEY"),
        );
    }
    placeholders
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(12_345), "12,345");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn statuses_map_onto_phases() {
        let phases: Vec<Phase> = (0..=10).map(|status| phase(Some(status))).collect();
        assert_eq!(
            phases,
            vec![
                Phase::Creating,
                Phase::Running,
                Phase::Running,
                Phase::Paused,
                Phase::Failed,
                Phase::Failed,
                Phase::Completed,
                Phase::Pausing,
                Phase::Deleting,
                Phase::Deleting,
                Phase::Unknown
            ]
        );
    }

    fn group(value: Value) -> TaskGroup {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn views_use_the_spec_spelling_units_and_defaults() {
        let view = observed_view(
            &group(json!({
                "group_id": "g",
                "status": 2,
                "description": "invoices migspec:address=invoices",
                "task_type": "LIST",
                "src_node": {"cloud_type": "TENCENT", "region": "ap-guangzhou", "bucket": "b", "app_id": "125",
                             "object_key": [], "list_file": {"list_file_key": "l/", "obs_bucket": "o", "list_file_num": "3"}},
                "dst_node": {"region": "cn-north-4", "bucket": "d", "save_prefix": ""},
                "bandwidth_policy": [{"start": "00:00", "end": "01:00", "max_bandwidth": 1_572_864}],
                "source_cdn": {"domain": "cdn.example.com", "protocol": "HTTPS", "authentication_type": "tencent_cos_a"},
                "enable_metadata_migration": true,
                "enable_failed_object_recording": true,
                "enable_restore": false,
                "enable_requester_pays": false,
                "migrate_since": 0,
                "object_overwrite_mode": "NO_OVERWRITE",
                "dst_storage_policy": "IA",
                "consistency_check": "SIZE_LAST_MODIFIED"
            })),
            "cn-north-4",
        );
        assert_eq!(
            view,
            json!({
                "region": "cn-north-4",
                "src_node": {"cloud_type": "Tencent", "region": "ap-guangzhou", "app_id": "125", "bucket": "b",
                             "list_file": {"list_file_key": "l/", "obs_bucket": "o"}},
                "dst_node": {"region": "cn-north-4", "bucket": "d"},
                "description": "invoices",
                "task_type": "LIST",
                "object_overwrite_mode": "NO_OVERWRITE",
                "dst_storage_policy": "IA",
                "enable_metadata_migration": true,
                "enable_kms": null,
                "bandwidth_policy": [{"start": "00:00", "end": "01:00", "max_bandwidth": 1.5}],
                "source_cdn": {"domain": "cdn.example.com", "protocol": "https", "authentication_type": "TENCENT_COS_A"}
            })
        );
    }

    #[test]
    fn create_bodies_carry_resolved_keys_and_the_marker() {
        use migspec_provider::{Address, DesiredSpec};
        use migspec_spec::secret::Secret;
        let document = json!({
            "apiVersion": "migspec/v1",
            "kind": "HuaweiOmsTaskGroup",
            "metadata": {"name": "cdn-group"},
            "spec": {
                "region": "cn-north-4",
                "project_id": "literal-project",
                "src_node": {"region": "r", "bucket": "b", "ak": {"fromEnv": "A"}, "sk": "literal-sk"},
                "dst_node": {"region": "cn-north-4", "bucket": "d", "ak": {"fromEnv": "C"}, "sk": {"fromFile": "sk.txt"}},
                "source_cdn": {"domain": "x", "protocol": "http", "authentication_type": "ALIYUN_OSS_A",
                               "authentication_key": {"fromEnv": "CDN"}},
                "migrate_since": 1_700_000_000
            },
            "lifecycle": {"desired": "running"}
        });
        let mut desired = DesiredSpec {
            address: Address("cdn-group".into()),
            kind: KIND.into(),
            document: document.clone(),
            secrets: BTreeMap::new(),
        };
        let typed = parse_document(&document).unwrap();
        let error = create_body(&typed, &desired).unwrap_err();
        assert!(
            error.to_string().contains("`A`"),
            "names the variable: {error}"
        );
        for (pointer, value) in [
            ("/spec/src_node/ak", "AKV"),
            ("/spec/dst_node/ak", "DAKV"),
            ("/spec/dst_node/sk", "DSKV"),
            ("/spec/source_cdn/authentication_key", "CDNV"),
        ] {
            desired.secrets.insert(pointer.into(), Secret::new(value));
        }
        let body = create_body(&typed, &desired).unwrap();
        assert_eq!(body["src_node"]["ak"], "AKV");
        assert_eq!(body["src_node"]["sk"], "literal-sk");
        assert_eq!(body["dst_node"]["sk"], "DSKV");
        assert_eq!(body["source_cdn"]["authentication_key"], "CDNV");
        assert_eq!(body["description"], "migspec:address=cdn-group");
        assert_eq!(body["migrate_since"], 1_700_000_000);
        assert!(body.get("bandwidth_policy").is_none());
        assert_eq!(
            spec_project_id(&typed.spec, &desired).unwrap().as_deref(),
            Some("literal-project")
        );

        let keys = credentials_body(&typed, &desired, Some(true)).unwrap();
        assert_eq!(
            keys,
            json!({"src_ak": "AKV", "src_sk": "literal-sk", "dst_ak": "DAKV", "dst_sk": "DSKV",
                   "source_cdn_authentication_key": "CDNV", "migrate_failed_object": true})
        );
        let keys = credentials_body(&typed, &desired, None).unwrap();
        assert!(keys.get("migrate_failed_object").is_none());
    }

    #[test]
    fn progress_counts_objects() {
        let group = TaskGroup {
            status: Some(2),
            total_num: Some(50_000),
            success_num: Some(12_000),
            skip_num: Some(345),
            ..TaskGroup::default()
        };
        let progress = progress(&group).unwrap();
        assert_eq!(
            progress.message.as_deref(),
            Some("12,345 of 50,000 objects")
        );
        assert_eq!(progress.percent, Some(24.7));
        assert_eq!(progress.step.as_deref(), Some("migrating"));
    }
}
