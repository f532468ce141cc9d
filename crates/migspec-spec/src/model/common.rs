//! Pieces every kind shares: metadata, secret references, lifecycle parts.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::api_enum;

/// The envelope version every spec declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ApiVersion {
    /// The first (current) version of the spec format.
    #[serde(rename = "migspec/v1")]
    V1,
}

/// Name and labels of a spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// The address of this migration: unique in the spec set, lower-case letters, digits and
    /// `-`, at most 63 characters. It is how migspec finds the remote job again (tag
    /// `migspec:address=<name>`, or the marker in an OMS description).
    #[schemars(regex(pattern = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"))]
    pub name: String,
    /// Free-form labels for selecting and reporting; never sent to the cloud.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// Where a secret value comes from. Secrets never appear in a spec in clear text.
///
/// Written as `{fromEnv: VAR}` (an environment variable) or `{fromFile: path}` (a file, path
/// relative to the spec file; one trailing newline is dropped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SecretRef {
    /// `{fromEnv: VAR}`.
    Env(FromEnv),
    /// `{fromFile: path}`.
    File(FromFile),
    /// A value written in clear text: refused by validation unless literal secrets are
    /// explicitly allowed.
    Literal(String),
}

/// `{fromEnv: VAR}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FromEnv {
    /// The environment variable holding the value.
    #[serde(rename = "fromEnv")]
    pub from_env: String,
}

/// `{fromFile: path}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FromFile {
    /// The file holding the value, relative to the spec file.
    #[serde(rename = "fromFile")]
    pub from_file: String,
}

/// The schema keyword that marks a secret field (read by validation and redaction).
pub const SECRET_KEYWORD: &str = "x-migspec-secret";

/// The `{fromEnv}` and `{fromFile}` alternatives. They carry no `title` or `description`
/// of their own: yaml-language-server shows the innermost matching schema's text on hover,
/// which would hide the field's own description (`Password: Database password.`) behind
/// "Read the value from…"; that text sits on the `fromEnv`/`fromFile` keys instead.
fn secret_alternatives() -> serde_json::Value {
    serde_json::json!([
        {
            "type": "object",
            "properties": {"fromEnv": {
                "type": "string",
                "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
                "description": "Read the value from this environment variable."
            }},
            "required": ["fromEnv"],
            "additionalProperties": false
        },
        {
            "type": "object",
            "properties": {"fromFile": {
                "type": "string",
                "minLength": 1,
                "description": "Read the value from this file (relative to the spec file)."
            }},
            "required": ["fromFile"],
            "additionalProperties": false
        }
    ])
}

impl JsonSchema for SecretRef {
    fn schema_name() -> Cow<'static, str> {
        "SecretRef".into()
    }
    fn json_schema(_generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A secret: `{fromEnv: VAR}` or `{fromFile: path}`. Never write the value itself in a spec.",
            "anyOf": secret_alternatives(),
            "x-migspec-secret": true,
        })
    }
}

/// A value that is not secret but may come from the environment, such as a project id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ValueRef {
    /// The value itself.
    Value(String),
    /// `{fromEnv: VAR}`.
    Env(FromEnv),
    /// `{fromFile: path}`.
    File(FromFile),
}

impl JsonSchema for ValueRef {
    fn schema_name() -> Cow<'static, str> {
        "ValueRef".into()
    }
    fn json_schema(_generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut alternatives = secret_alternatives();
        if let Some(list) = alternatives.as_array_mut() {
            list.insert(0, serde_json::json!({"type": "string", "minLength": 1}));
        }
        schemars::json_schema!({
            "description": "A value, or `{fromEnv: VAR}` / `{fromFile: path}` to read it at run time.",
            "anyOf": alternatives,
        })
    }
}

/// A duration written the human way: `90s`, `15m`, `1h 30m`, `2d`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HumanDuration(pub String);

impl HumanDuration {
    /// Parses the text.
    ///
    /// # Errors
    ///
    /// When the text is not a duration humantime understands.
    pub fn parse(&self) -> Result<std::time::Duration, humantime::DurationError> {
        humantime::parse_duration(&self.0)
    }
}

impl JsonSchema for HumanDuration {
    fn schema_name() -> Cow<'static, str> {
        "HumanDuration".into()
    }
    fn json_schema(_generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A duration such as `90s`, `15m`, `1h 30m` or `2d`.",
            "pattern": r"^\s*[0-9]+\s*[a-zA-Zµ]+(\s*[0-9]+\s*[a-zA-Zµ]+)*\s*$",
        })
    }
}

/// Per-phase deadlines; a phase that takes longer fails the apply with what the job last showed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Timeouts {
    /// Creating the remote job or task group (default 10m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create: Option<HumanDuration>,
    /// The pre-migration check (default 15m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<HumanDuration>,
    /// From start until the job runs (or, for `desired: completed`, until the full phase ends; default 1h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<HumanDuration>,
    /// Completing or finishing the migration (default 24h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete: Option<HumanDuration>,
    /// Pausing or stopping (default 10m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<HumanDuration>,
    /// Deleting (default 30m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete: Option<HumanDuration>,
}

impl Timeouts {
    /// Every phase that is set, with its name.
    #[must_use]
    pub fn entries(&self) -> Vec<(&'static str, &HumanDuration)> {
        [
            ("create", &self.create),
            ("check", &self.check),
            ("start", &self.start),
            ("complete", &self.complete),
            ("stop", &self.stop),
            ("delete", &self.delete),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_ref().map(|value| (name, value)))
        .collect()
    }
}

api_enum! {
    /// What migspec does with the remote object when its spec leaves the spec set.
    pub enum DeletionPolicy: str {
        Orphan = "orphan" => "leave the remote job in place and forget it (default)",
        Delete = "delete" => "delete the remote job (planned as `- delete`)",
    }
}

api_enum! {
    /// How a failed Tencent DTS job is resumed (ResumeMigrateJob `ResumeOption`).
    pub enum ResumeOption: str {
        ClearData = "clearData" => "clear the target instance's data first (Redis only)",
        Overwrite = "overwrite" => "run the task in overwrite mode (Redis only)",
        Normal = "normal" => "resume normally, without extra operations (every engine but Redis)",
    }
}

/// Tencent: what to do when the migration fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TencentOnFailure {
    /// `resume` the job, or `fail` the apply.
    pub action: TencentFailureAction,
    /// How to resume (required with `action: resume`). For the 2018-03-30 API, which has no
    /// ResumeMigrateJob, a failed job is checked and started again; the option is still
    /// checked against the engine.
    #[serde(
        rename = "ResumeOption",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub resume_option: Option<ResumeOption>,
    /// How many times to resume before giving up (1–10, default 1).
    #[serde(
        rename = "maxAttempts",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(range(min = 1, max = 10))]
    pub max_attempts: Option<u32>,
}

api_enum! {
    /// What to do with a failed Tencent DTS job.
    pub enum TencentFailureAction: str {
        Resume = "resume" => "resume the job (ResumeMigrateJob) up to maxAttempts times",
        Fail = "fail" => "stop and report the failure",
    }
}

api_enum! {
    /// What to do with a failed OMS task group.
    pub enum HuaweiFailureAction: str {
        Retry = "retry" => "retry the task group (retry_task_group) up to maxAttempts times",
        Fail = "fail" => "stop and report the failure",
    }
}

/// Huawei OMS: what to do when the migration fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HuaweiOnFailure {
    /// `retry` the task group, or `fail` the apply.
    pub action: HuaweiFailureAction,
    /// `true` re-transfers only the failed objects; `false` re-runs the whole migration,
    /// skipping objects already at the destination (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrate_failed_object: Option<bool>,
    /// How many times to retry before giving up (1–10, default 1).
    #[serde(
        rename = "maxAttempts",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(range(min = 1, max = 10))]
    pub max_attempts: Option<u32>,
}

/// A tag on a Tencent DTS job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct TagItem {
    /// Tag key.
    #[schemars(length(min = 1, max = 127))]
    pub tag_key: String,
    /// Tag value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255))]
    pub tag_value: Option<String>,
}

/// A key-value pair (`KeyValuePairOption`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct KeyValue {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
}
