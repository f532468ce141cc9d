//! Request schemas: strict type checking with errors that name the field.
//!
//! Each action declares its request fields as a static tree of [`Field`]s, taken from
//! the API reference. Validation walks the received JSON and reports a field the action
//! does not define, an absent required field, or a value of the wrong JSON type, always
//! with the field's full path in the API's flattened notation (`MigrateOption.RunMode`,
//! `Tags.0.TagKey`, `src_node.object_key.0`). Each API maps these onto its own error
//! codes through [`SchemaError`]. The same schema turns a GET query string back into JSON.

use serde_json::{Map, Value};

/// How an API reports the three kinds of schema violations.
pub(crate) trait SchemaError {
    /// A field the action does not define.
    fn unknown_parameter(path: &str) -> Self;
    /// A required field that is absent or null.
    fn missing_parameter(path: &str) -> Self;
    /// A value of the wrong JSON type, or a malformed flattened name.
    fn invalid_parameter(path: &str, why: &str) -> Self;
}

/// The JSON type of a field.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ty {
    Str,
    Int,
    Bool,
    Obj(&'static [Field]),
    Arr(&'static Ty),
}

/// One request field.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) ty: Ty,
    pub(crate) required: bool,
}

/// A required field.
pub(crate) const fn req(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        required: true,
    }
}

/// An optional field.
pub(crate) const fn opt(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        required: false,
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

fn type_name(ty: &Ty) -> &'static str {
    match ty {
        Ty::Str => "String",
        Ty::Int => "Integer",
        Ty::Bool => "Boolean",
        Ty::Obj(_) => "Object",
        Ty::Arr(_) => "Array",
    }
}

/// Validates a request object against `fields`.
pub(crate) fn validate<E: SchemaError>(
    params: &Map<String, Value>,
    fields: &[Field],
) -> Result<(), E> {
    validate_object(params, fields, "")
}

fn validate_object<E: SchemaError>(
    object: &Map<String, Value>,
    fields: &[Field],
    prefix: &str,
) -> Result<(), E> {
    for (key, value) in object {
        let path = join(prefix, key);
        let field = fields
            .iter()
            .find(|field| field.name == key)
            .ok_or_else(|| E::unknown_parameter(&path))?;
        if !value.is_null() {
            validate_value::<E>(value, &field.ty, &path)?;
        }
    }
    for field in fields.iter().filter(|field| field.required) {
        if object.get(field.name).is_none_or(Value::is_null) {
            return Err(E::missing_parameter(&join(prefix, field.name)));
        }
    }
    Ok(())
}

fn validate_value<E: SchemaError>(value: &Value, ty: &Ty, path: &str) -> Result<(), E> {
    let ok = match (ty, value) {
        (Ty::Str, Value::String(_)) | (Ty::Bool, Value::Bool(_)) => true,
        (Ty::Int, Value::Number(number)) => number.is_i64() || number.is_u64(),
        (Ty::Obj(fields), Value::Object(object)) => {
            return validate_object::<E>(object, fields, path);
        }
        (Ty::Arr(item), Value::Array(items)) => {
            for (index, element) in items.iter().enumerate() {
                let item_path = format!("{path}.{index}");
                if element.is_null() {
                    return Err(E::invalid_parameter(
                        &item_path,
                        &format!("expected {}, got null", type_name(item)),
                    ));
                }
                validate_value::<E>(element, item, &item_path)?;
            }
            true
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(E::invalid_parameter(
            path,
            &format!("expected {}", type_name(ty)),
        ))
    }
}

/// The most array elements accepted from a flattened query (guards against `X.999999999`).
const MAX_FLAT_INDEX: usize = 1000;

/// Builds a JSON object from flattened `Key.Sub.0=value` pairs, typed by the schema.
pub(crate) fn unflatten<E: SchemaError>(
    pairs: &[(String, String)],
    fields: &[Field],
) -> Result<Map<String, Value>, E> {
    let mut root = Map::new();
    for (key, raw) in pairs {
        let segments: Vec<&str> = key.split('.').collect();
        insert_object(&mut root, fields, &segments, raw, key)?;
    }
    Ok(root)
}

fn scalar<E: SchemaError>(ty: &Ty, raw: &str, key: &str) -> Result<Value, E> {
    match ty {
        Ty::Str => Ok(Value::String(raw.to_owned())),
        Ty::Int => raw
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| E::invalid_parameter(key, "expected Integer")),
        Ty::Bool => match raw.to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(E::invalid_parameter(key, "expected Boolean")),
        },
        Ty::Obj(_) | Ty::Arr(_) => Err(E::invalid_parameter(
            key,
            &format!("expected {}", type_name(ty)),
        )),
    }
}

fn insert_object<E: SchemaError>(
    object: &mut Map<String, Value>,
    fields: &[Field],
    segments: &[&str],
    raw: &str,
    key: &str,
) -> Result<(), E> {
    let Some((name, rest)) = segments.split_first() else {
        return Err(E::invalid_parameter(key, "incomplete parameter name"));
    };
    let field = fields
        .iter()
        .find(|field| field.name == *name)
        .ok_or_else(|| E::unknown_parameter(key))?;
    insert_value(
        object.entry(field.name.to_owned()).or_insert(Value::Null),
        &field.ty,
        rest,
        raw,
        key,
    )
}

fn insert_value<E: SchemaError>(
    slot: &mut Value,
    ty: &Ty,
    rest: &[&str],
    raw: &str,
    key: &str,
) -> Result<(), E> {
    match ty {
        Ty::Str | Ty::Int | Ty::Bool => {
            if !rest.is_empty() {
                return Err(E::unknown_parameter(key));
            }
            *slot = scalar(ty, raw, key)?;
            Ok(())
        }
        Ty::Obj(fields) => {
            if slot.is_null() {
                *slot = Value::Object(Map::new());
            }
            let Value::Object(object) = slot else {
                return Err(E::invalid_parameter(key, "conflicting parameter names"));
            };
            insert_object(object, fields, rest, raw, key)
        }
        Ty::Arr(item) => {
            let Some((index, rest)) = rest.split_first() else {
                return Err(E::invalid_parameter(
                    key,
                    "array parameters need an index, e.g. `Name.0`",
                ));
            };
            let index: usize = index
                .parse()
                .ok()
                .filter(|index| *index < MAX_FLAT_INDEX)
                .ok_or_else(|| E::invalid_parameter(key, "invalid array index"))?;
            if slot.is_null() {
                *slot = Value::Array(Vec::new());
            }
            let Value::Array(items) = slot else {
                return Err(E::invalid_parameter(key, "conflicting parameter names"));
            };
            if items.len() <= index {
                items.resize(index + 1, Value::Null);
            }
            insert_value(&mut items[index], item, rest, raw, key)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(Debug, PartialEq, Eq)]
    struct Error {
        code: &'static str,
        message: String,
    }

    impl SchemaError for Error {
        fn unknown_parameter(path: &str) -> Self {
            Self {
                code: "UnknownParameter",
                message: format!("`{path}`"),
            }
        }
        fn missing_parameter(path: &str) -> Self {
            Self {
                code: "MissingParameter",
                message: format!("`{path}`"),
            }
        }
        fn invalid_parameter(path: &str, why: &str) -> Self {
            Self {
                code: "InvalidParameter",
                message: format!("`{path}`: {why}"),
            }
        }
    }

    const TAG_FILTER: &[Field] = &[req("TagKey", Ty::Str), opt("TagValue", Ty::Arr(&Ty::Str))];

    const INNER: &[Field] = &[req("RunMode", Ty::Int), opt("Note", Ty::Str)];
    const SCHEMA: &[Field] = &[
        req("JobId", Ty::Str),
        opt("Limit", Ty::Int),
        opt("Option", Ty::Obj(INNER)),
        opt("TagFilters", Ty::Arr(&Ty::Obj(TAG_FILTER))),
        opt("Flag", Ty::Bool),
    ];

    fn check(value: Value) -> Result<(), Error> {
        let Value::Object(object) = value else {
            panic!("object")
        };
        validate(&object, SCHEMA)
    }

    #[test]
    fn errors_name_the_field_with_its_full_path() {
        assert!(check(json!({"JobId": "dts-1", "Limit": 3, "Option": {"RunMode": 1}})).is_ok());
        let error = check(json!({"JobId": "dts-1", "Option": {"RunMode": 1, "Bogus": 1}}))
            .expect_err("unknown");
        assert_eq!(error.code, "UnknownParameter");
        assert!(
            error.message.contains("`Option.Bogus`"),
            "{}",
            error.message
        );
        let error = check(json!({"JobId": "dts-1", "Option": {}})).expect_err("missing");
        assert_eq!(error.code, "MissingParameter");
        assert!(
            error.message.contains("`Option.RunMode`"),
            "{}",
            error.message
        );
        let error = check(json!({"JobId": "dts-1", "Limit": "3"})).expect_err("type");
        assert_eq!(error.code, "InvalidParameter");
        assert!(error.message.contains("`Limit`"));
        let error =
            check(json!({"JobId": "dts-1", "TagFilters": [{"TagKey": "k", "TagValue": ["a", 1]}]}))
                .expect_err("type");
        assert!(
            error.message.contains("`TagFilters.0.TagValue.1`"),
            "{}",
            error.message
        );
        let error = check(json!({"Limit": 3})).expect_err("missing");
        assert!(error.message.contains("`JobId`"));
        assert!(check(json!({"JobId": "x", "Limit": 1.5})).is_err());
        assert!(check(json!({"JobId": "x", "Limit": null})).is_ok());
    }

    #[test]
    fn unflatten_builds_typed_json() {
        let pairs: Vec<(String, String)> = [
            ("JobId", "dts-1"),
            ("Limit", "10"),
            ("TagFilters.0.TagKey", "k"),
            ("TagFilters.0.TagValue.0", "v1"),
            ("TagFilters.0.TagValue.1", "v2"),
            ("Option.RunMode", "1"),
            ("Flag", "true"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let object = unflatten::<Error>(&pairs, SCHEMA).expect("unflatten");
        assert_eq!(
            Value::Object(object),
            json!({"JobId": "dts-1", "Limit": 10, "TagFilters": [{"TagKey": "k", "TagValue": ["v1", "v2"]}], "Option": {"RunMode": 1}, "Flag": true})
        );
        let bad = vec![("Limit".to_owned(), "ten".to_owned())];
        assert_eq!(
            unflatten::<Error>(&bad, SCHEMA).expect_err("type").code,
            "InvalidParameter"
        );
        let unknown = vec![("Nope".to_owned(), "1".to_owned())];
        assert_eq!(
            unflatten::<Error>(&unknown, SCHEMA)
                .expect_err("unknown")
                .code,
            "UnknownParameter"
        );
        let huge = vec![("TagFilters.99999999.TagKey".to_owned(), "k".to_owned())];
        assert_eq!(
            unflatten::<Error>(&huge, SCHEMA).expect_err("index").code,
            "InvalidParameter"
        );
    }
}
