//! JSON Schemas of the documents migspec prints for programs: the plan (`plan --format json`,
//! the saved `plan --out` file) and `status --json`, checked in under `schemas/` as
//! `plan.schema.json` and `status.schema.json` (`cargo xtask schemas --write` regenerates
//! them; a test fails when they are stale; `migspec schema --plan|--status` prints them).
//!
//! Both describe what migspec writes (schemars' serialize view): fields left out when empty
//! are optional, and `format_version` says which revision of the document it is.
//!
//! ```
//! let schema = migspec_runner::documents::plan_schema();
//! assert_eq!(schema["title"], "Plan");
//! assert_eq!(schema["properties"]["format_version"]["const"], "2");
//! assert!(schema["required"].as_array().unwrap().contains(&"format_version".into()));
//! ```

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use migspec_provider::{Address, Observed};

use crate::plan::Plan;

/// The file name of the plan schema under `schemas/`.
pub const PLAN_SCHEMA_FILE_NAME: &str = "plan.schema.json";
/// The file name of the `status --json` schema under `schemas/`.
pub const STATUS_SCHEMA_FILE_NAME: &str = "status.schema.json";
/// The version of the `status --json` document.
pub const STATUS_FORMAT_VERSION: &str = "1";

/// What `migspec status --json` prints: every recorded address and what observing it shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StatusDocument {
    /// The version of this document ([`STATUS_FORMAT_VERSION`]).
    pub format_version: String,
    /// One entry per recorded address (those matching `--only`), in address order.
    pub addresses: Vec<StatusEntry>,
}

/// One address of [`StatusDocument`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StatusEntry {
    /// The address (`metadata.name`).
    pub address: Address,
    /// The kind the state records for it (`null` when the state has no record).
    pub kind: Option<String>,
    /// What the provider observed: `{"presence": "missing", …}` or
    /// `{"presence": "present", "object": {…}}`.
    pub observed: Observed,
}

fn schema_of<T: JsonSchema>(file_name: &str, format_version: &str) -> Value {
    let root = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<T>();
    let Value::Object(mut map) = root.to_value() else {
        unreachable!("a root schema is an object");
    };
    let mut ordered = Map::new();
    ordered.insert(
        "$schema".into(),
        map.remove("$schema").unwrap_or(Value::Null),
    );
    ordered.insert(
        "$id".into(),
        Value::String(format!(
            "{}{file_name}",
            migspec_schema::generate::SCHEMA_ID_BASE
        )),
    );
    ordered.append(&mut map);
    // A consumer checks the revision it reads: pin `format_version` to this one.
    if let Some(Value::Object(field)) = ordered
        .get_mut("properties")
        .and_then(|p| p.get_mut("format_version"))
    {
        field.insert("const".into(), Value::String(format_version.to_owned()));
    }
    Value::Object(ordered)
}

/// The schema of the plan document ([`Plan`]).
#[must_use]
pub fn plan_schema() -> Value {
    schema_of::<Plan>(PLAN_SCHEMA_FILE_NAME, crate::plan::PLAN_FORMAT_VERSION)
}

/// The schema of `status --json` ([`StatusDocument`]).
#[must_use]
pub fn status_schema() -> Value {
    schema_of::<StatusDocument>(STATUS_SCHEMA_FILE_NAME, STATUS_FORMAT_VERSION)
}

/// The schema files this crate owns under `schemas/`, with their pretty-printed text.
#[must_use]
pub fn schema_files() -> Vec<(String, String)> {
    [
        (PLAN_SCHEMA_FILE_NAME, plan_schema()),
        (STATUS_SCHEMA_FILE_NAME, status_schema()),
    ]
    .into_iter()
    .map(|(name, schema)| {
        let mut text =
            serde_json::to_string_pretty(&schema).expect("a JSON value always serializes");
        text.push('\n');
        (name.to_owned(), text)
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13, item 17: a plan as migspec writes it is valid against its published schema.
    #[test]
    fn a_plan_validates_against_the_plan_schema() {
        use migspec_provider::{Action, ActionKind, ChangeValue, Disruption, FieldChange};
        let action = Action::new(ActionKind::Modify, "the spec changed")
            .disrupting(Disruption::NeedsStop)
            .with_changes(vec![FieldChange {
                field: "/spec/SrcInfo/Password".into(),
                before: ChangeValue::Sensitive,
                after: ChangeValue::Value(serde_json::json!(3306)),
                in_place: true,
            }]);
        let plan = Plan::new(
            crate::plan::Binding::default(),
            vec![crate::plan::Change {
                address: Address("orders".into()),
                kind: "TencentDtsMigrateJob".into(),
                remote_id: None,
                phase: Some(migspec_provider::Phase::Running),
                actions: vec![action],
                source: None,
            }],
            Vec::new(),
        );
        let document = serde_json::to_value(&plan).unwrap();
        let validator = jsonschema::validator_for(&plan_schema()).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&document)
            .map(|error| error.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
        let mut broken = document.clone();
        broken["changes"][0]["actions"][0]["kind"] = "deploy".into();
        assert!(!validator.is_valid(&broken));
    }

    #[test]
    fn a_status_document_validates_against_the_status_schema() {
        let document = serde_json::to_value(StatusDocument {
            format_version: STATUS_FORMAT_VERSION.into(),
            addresses: vec![StatusEntry {
                address: Address("orders".into()),
                kind: Some("TencentDtsMigrateJob".into()),
                observed: Observed::Missing {
                    address: Address("orders".into()),
                },
            }],
        })
        .unwrap();
        let validator = jsonschema::validator_for(&status_schema()).unwrap();
        assert!(validator.is_valid(&document));
    }
}
