//! JSON Schema generation from the spec types (schemars, draft 2020-12).
//!
//! One schema per kind (what the validator compiles) plus the umbrella
//! `migspec.schema.json` that dispatches on `kind` for editors. All are checked in under
//! `schemas/`; a test fails when they are stale (`cargo xtask schemas --write` updates them).

use migspec_spec::model::{
    ApiEnum, HuaweiOmsTaskGroup, Kind, TencentDtsMigrateJob, TencentDtsMigrationJob,
};
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

/// The base of every schema `$id`.
pub const SCHEMA_ID_BASE: &str = "https://migspec.dev/schemas/v1/";

/// The file name of a kind's schema under `schemas/`.
#[must_use]
pub fn kind_file_name(kind: Kind) -> String {
    format!("{}.schema.json", kind.as_str())
}

/// The file name of the umbrella schema under `schemas/`.
pub const UMBRELLA_FILE_NAME: &str = "migspec.schema.json";

fn settings() -> SchemaSettings {
    SchemaSettings::draft2020_12().for_deserialize()
}

fn root_for<T: JsonSchema>() -> Value {
    let schema = settings().into_generator().into_root_schema_for::<T>();
    let mut value = schema.to_value();
    strip_null(&mut value);
    value
}

/// Titles of the definitions that are migspec's own types rather than API structures (whose
/// names, `MigrateOption`, `DBInfo`, are the API's and are their own best title).
/// yaml-language-server names a definition by its `title` in messages (`Incorrect type.
/// Expected "DstInfo"`) and hover headings; without one it falls back to the `$ref` name,
/// which in the umbrella schema is the internal `TencentDtsMigrateJob.DstInfo`.
const TITLES: &[(&str, &str)] = &[
    ("ApiVersion", "apiVersion"),
    ("Metadata", "metadata"),
    ("MigrateJobSpec", "TencentDtsMigrateJob spec"),
    ("MigrationJobSpec", "TencentDtsMigrationJob spec"),
    ("TaskGroupSpec", "HuaweiOmsTaskGroup spec"),
    ("MigrateJobLifecycle", "TencentDtsMigrateJob lifecycle"),
    ("MigrationJobLifecycle", "TencentDtsMigrationJob lifecycle"),
    ("TaskGroupLifecycle", "HuaweiOmsTaskGroup lifecycle"),
    ("MigrateJobDesired", "lifecycle.desired"),
    ("MigrationJobDesired", "lifecycle.desired"),
    ("TaskGroupDesired", "lifecycle.desired"),
    ("TencentOnFailure", "lifecycle.onFailure"),
    ("HuaweiOnFailure", "lifecycle.onFailure"),
    ("TencentFailureAction", "onFailure.action"),
    ("HuaweiFailureAction", "onFailure.action"),
    ("Timeouts", "lifecycle.timeouts"),
    ("HumanDuration", "duration"),
    ("DeletionPolicy", "lifecycle.deletionPolicy"),
    ("SecretRef", "secret reference"),
    ("ValueRef", "value or reference"),
    ("DatabaseInfoItem", "DatabaseInfo entry"),
    ("SrcNode", "TaskGroupSrcNode"),
    ("DstNode", "TaskGroupDstNode"),
    ("SourceCdn", "SourceCdnReq"),
];

/// Gives every definition a `title` (see [`TITLES`]); kinds' `…Kind` definitions are `kind`.
fn add_titles(schema: &mut Value) {
    let Some(Value::Object(defs)) = schema.get_mut("$defs") else {
        return;
    };
    for (name, def) in defs.iter_mut() {
        let Value::Object(map) = def else { continue };
        if map.contains_key("title") {
            continue;
        }
        let title = TITLES
            .iter()
            .find(|(def_name, _)| def_name == name)
            .map(|(_, title)| (*title).to_owned())
            .unwrap_or_else(|| {
                if name.ends_with("Kind")
                    && Kind::ALL.iter().any(|kind| name.starts_with(kind.as_str()))
                {
                    "kind".to_owned()
                } else {
                    name.clone()
                }
            });
        // Keep `title` first, where a reader of the file looks for it.
        let rest = std::mem::take(map);
        map.insert("title".to_owned(), Value::String(title));
        map.extend(rest);
    }
}

/// A field whose value is a secret or value reference keeps its own description for
/// hover, followed by how to write the reference (`markdownDescription`, which
/// yaml-language-server prefers).
fn describe_reference_fields(schema: &mut Value) {
    let reference_text: Vec<(String, String)> = ["SecretRef", "ValueRef"]
        .iter()
        .filter_map(|name| {
            let text = schema
                .pointer(&format!("/$defs/{name}/description"))?
                .as_str()?;
            Some((format!("#/$defs/{name}"), text.to_owned()))
        })
        .collect();
    fn walk(value: &mut Value, references: &[(String, String)]) {
        match value {
            Value::Object(map) => {
                let target = map.get("$ref").and_then(Value::as_str).map(str::to_owned);
                let how = target.and_then(|target| {
                    references
                        .iter()
                        .find(|(reference, _)| *reference == target)
                        .map(|(_, text)| text.clone())
                });
                if let (Some(how), Some(Value::String(own))) = (how, map.get("description")) {
                    let text = format!("{own}\n\n{how}");
                    map.insert("markdownDescription".to_owned(), Value::String(text));
                }
                map.values_mut().for_each(|child| walk(child, references));
            }
            Value::Array(items) => items.iter_mut().for_each(|item| walk(item, references)),
            _ => {}
        }
    }
    walk(schema, &reference_text);
}

/// The schema of one kind, as checked in under `schemas/`.
#[must_use]
pub fn kind_schema(kind: Kind) -> Value {
    let mut schema = match kind {
        Kind::TencentDtsMigrateJob => root_for::<TencentDtsMigrateJob>(),
        Kind::TencentDtsMigrationJob => root_for::<TencentDtsMigrationJob>(),
        Kind::HuaweiOmsTaskGroup => root_for::<HuaweiOmsTaskGroup>(),
    };
    add_titles(&mut schema);
    describe_reference_fields(&mut schema);
    if let Value::Object(map) = &mut schema {
        let mut ordered = Map::new();
        ordered.insert(
            "$schema".into(),
            map.remove("$schema").unwrap_or(Value::Null),
        );
        ordered.insert(
            "$id".into(),
            Value::String(format!("{SCHEMA_ID_BASE}{}", kind_file_name(kind))),
        );
        ordered.append(map);
        *map = ordered;
    }
    schema
}

/// The umbrella schema: any migspec spec, dispatching on `kind`.
#[must_use]
pub fn umbrella_schema() -> Value {
    let mut defs = Map::new();
    let mut branches = Vec::new();
    for &kind in Kind::ALL {
        let mut schema = kind_schema(kind);
        let own_defs = schema
            .as_object_mut()
            .and_then(|map| map.remove("$defs"))
            .unwrap_or_else(|| json!({}));
        let prefix = kind.as_str();
        // Each kind's definitions live under its own prefix so that same-named API types of
        // different kinds (2018 and 2021 both have a `MigrateOption`) do not collide.
        let mut body = schema;
        if let Value::Object(map) = &mut body {
            map.remove("$schema");
            map.remove("$id");
        }
        rewrite_refs(&mut body, prefix);
        if let Value::Object(own) = own_defs {
            for (name, mut def) in own {
                rewrite_refs(&mut def, prefix);
                defs.insert(format!("{prefix}.{name}"), def);
            }
        }
        defs.insert(prefix.to_owned(), body);
        branches.push(json!({
            "if": {"properties": {"kind": {"const": prefix}}, "required": ["kind"]},
            "then": {"$ref": format!("#/$defs/{prefix}")}
        }));
    }
    let kinds: Vec<Value> = Kind::ALL.iter().map(|kind| kind.wire()).collect();
    let kind_descriptions: Vec<&str> = Kind::ALL.iter().map(|kind| kind.description()).collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("{SCHEMA_ID_BASE}{UMBRELLA_FILE_NAME}"),
        "title": "migspec spec",
        "description": "A migspec migration spec (one YAML document). See `migspec schema --kind KIND` for one kind.",
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec", "lifecycle"],
        "properties": {
            "apiVersion": {"const": "migspec/v1", "description": "The spec format version."},
            "kind": {
                "type": "string",
                "enum": kinds,
                "enumDescriptions": kind_descriptions,
                "description": "The kind of migration."
            }
        },
        "allOf": branches,
        "$defs": defs,
    })
}

fn rewrite_refs(value: &mut Value, prefix: &str) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "$ref"
                    && let Value::String(target) = child
                    && let Some(name) = target.strip_prefix("#/$defs/")
                {
                    *target = format!("#/$defs/{prefix}.{name}");
                } else {
                    rewrite_refs(child, prefix);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| rewrite_refs(item, prefix)),
        _ => {}
    }
}

/// Optional fields are omitted, never `null`: drop the `null` alternative schemars adds to
/// `Option<T>`, so that `Port: null` (or an empty `Port:`) is reported instead of ignored.
fn strip_null(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            for key in ["anyOf", "oneOf"] {
                if let Some(Value::Array(options)) = map.get_mut(key) {
                    options.retain(|option| option != &json!({"type": "null"}));
                    if options.len() == 1 {
                        let only = options.remove(0);
                        map.remove(key);
                        if let Value::Object(inner) = only {
                            for (inner_key, inner_value) in inner {
                                map.entry(inner_key).or_insert(inner_value);
                            }
                        }
                    }
                }
            }
            if let Some(Value::Array(values)) = map.get_mut("enum") {
                values.retain(|v| !v.is_null());
            }
            map.values_mut().for_each(strip_null);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_null),
        _ => {}
    }
}

/// Every schema file under `schemas/`, with its name and pretty-printed text.
#[must_use]
pub fn schema_files() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = Kind::ALL
        .iter()
        .map(|&kind| (kind_file_name(kind), pretty(&kind_schema(kind))))
        .collect();
    files.push((UMBRELLA_FILE_NAME.to_owned(), pretty(&umbrella_schema())));
    files
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("a JSON value always serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_is_a_valid_2020_12_schema() {
        for (name, text) in schema_files() {
            let value: Value = serde_json::from_str(&text).unwrap();
            assert!(
                jsonschema::meta::is_valid(&value),
                "{name} is not a valid JSON Schema"
            );
        }
    }

    #[test]
    fn optional_fields_do_not_accept_null() {
        let text = serde_json::to_string(&kind_schema(Kind::TencentDtsMigrateJob)).unwrap();
        assert!(!text.contains("\"null\""), "a schema still allows null");
    }

    /// Issue 13, item 16: editors name definitions by their title, never by the umbrella's
    /// internal `Kind.Name` keys.
    #[test]
    fn every_definition_has_a_title_that_is_not_an_internal_name() {
        let umbrella = umbrella_schema();
        for (name, def) in umbrella["$defs"].as_object().unwrap() {
            let title = def["title"]
                .as_str()
                .unwrap_or_else(|| panic!("{name} has no title"));
            assert!(
                !Kind::ALL
                    .iter()
                    .any(|kind| title.starts_with(&format!("{}.", kind.as_str()))),
                "{name}: title {title}"
            );
        }
        let defs = &umbrella["$defs"];
        assert_eq!(defs["TencentDtsMigrateJob.DstInfo"]["title"], "DstInfo");
        assert_eq!(
            defs["TencentDtsMigrateJob.TencentDtsMigrateJobKind"]["title"],
            "kind"
        );
    }

    /// Issue 13, item 16: a secret field's own description survives next to the reference.
    #[test]
    fn secret_fields_keep_their_description_and_say_how_to_write_the_reference() {
        let schema = kind_schema(Kind::TencentDtsMigrateJob);
        let password = &schema["$defs"]["SrcInfo"]["properties"]["Password"];
        assert_eq!(password["description"], "Database password.");
        let markdown = password["markdownDescription"].as_str().unwrap();
        assert!(markdown.starts_with("Database password.\n\n"), "{markdown}");
        assert!(markdown.contains("{fromEnv: VAR}"), "{markdown}");
        // The alternatives carry no text that would be shown instead of the field's.
        for alternative in schema["$defs"]["SecretRef"]["anyOf"].as_array().unwrap() {
            assert!(alternative.get("title").is_none() && alternative.get("description").is_none());
        }
    }

    #[test]
    fn umbrella_refs_all_resolve() {
        let umbrella = umbrella_schema();
        let text = umbrella.to_string();
        for part in text.split("\"$ref\":\"#/$defs/").skip(1) {
            let name = &part[..part.find('"').unwrap()];
            assert!(
                umbrella["$defs"].get(name).is_some(),
                "dangling $ref to {name}"
            );
        }
    }
}
