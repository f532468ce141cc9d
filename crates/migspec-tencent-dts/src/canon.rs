//! Canonical forms and field-level diffs of spec bodies.
//!
//! The API returns every configuration key, unset ones as `""`, `0`, `false`, `[]` or
//! `"0000-00-00 00:00:00"`, never returns secrets, returns JSON-in-a-string fields as the
//! string it was sent, and fills some defaults itself. A spec writes none of that. Both
//! sides are therefore brought to one canonical form before they are compared: blank values
//! are removed, string-encoded JSON is parsed, secrets are removed, and values equal to the
//! documented default are removed. Two configurations that the API treats the same way
//! have the same canonical form, so no spec shows a perpetual diff.

use serde_json::{Map, Value};

/// The unset time the API returns.
pub(crate) const ZERO_TIME: &str = "0000-00-00 00:00:00";

/// Whether a value is one of the API's "unset" markers.
#[must_use]
pub(crate) fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(flag) => !flag,
        Value::Number(number) => number.as_f64() == Some(0.0),
        Value::String(text) => text.is_empty() || text == ZERO_TIME,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
    }
}

/// Removes blank members from every object, recursively (array items are kept, their
/// own members cleaned).
#[must_use]
pub(crate) fn strip_blanks(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let cleaned: Map<String, Value> = map
                .into_iter()
                .map(|(key, value)| (key, strip_blanks(value)))
                .filter(|(_, value)| !is_blank(value))
                .collect();
            Value::Object(cleaned)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(strip_blanks).collect()),
        other => other,
    }
}

/// Removes the member at `pointer` (a JSON pointer) if present.
pub(crate) fn remove_at(value: &mut Value, pointer: &str) {
    let Some((parent, key)) = pointer.rsplit_once('/') else {
        return;
    };
    let parent = if parent.is_empty() {
        Some(value)
    } else {
        value.pointer_mut(parent)
    };
    if let Some(Value::Object(map)) = parent {
        map.shift_remove(key);
    }
}

/// Removes `key` from every object inside the array at `pointer` (`/SrcInfo/Info`), or from
/// the object itself when `pointer` names an object.
pub(crate) fn remove_in_each(value: &mut Value, pointer: &str, key: &str) {
    match value.pointer_mut(pointer) {
        Some(Value::Array(items)) => {
            for item in items {
                if let Value::Object(map) = item {
                    map.shift_remove(key);
                }
            }
        }
        Some(Value::Object(map)) => {
            map.shift_remove(key);
        }
        _ => {}
    }
}

/// Removes the member at `pointer` when it equals `default`.
pub(crate) fn remove_default(value: &mut Value, pointer: &str, default: &Value) {
    if value.pointer(pointer) == Some(default) {
        remove_at(value, pointer);
    }
}

/// Replaces a string at `pointer` holding JSON with the parsed value (left alone when it
/// does not parse: the diff then shows the text).
pub(crate) fn parse_json_string(value: &mut Value, pointer: &str) {
    if let Some(slot) = value.pointer_mut(pointer)
        && let Value::String(text) = slot
    {
        if text.trim().is_empty() {
            *slot = Value::Null;
        } else if let Ok(parsed) = serde_json::from_str::<Value>(text) {
            *slot = parsed;
        }
    }
}

/// One differing field, with the canonical values on each side (`None` = absent).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Difference {
    /// JSON pointer relative to the compared documents (`/MigrateOption/RunMode`).
    pub(crate) pointer: String,
    /// The observed value.
    pub(crate) before: Option<Value>,
    /// The desired value.
    pub(crate) after: Option<Value>,
}

/// The differences between two canonical documents: objects are compared member by member,
/// anything else (arrays included) as a whole. Members are visited in `after`'s order, then
/// those only in `before`.
#[must_use]
pub(crate) fn diff(before: &Value, after: &Value) -> Vec<Difference> {
    let mut out = Vec::new();
    diff_into(before, after, "", &mut out);
    out
}

fn diff_into(before: &Value, after: &Value, pointer: &str, out: &mut Vec<Difference>) {
    match (before, after) {
        (Value::Object(old), Value::Object(new)) => {
            for (key, new_value) in new {
                let path = format!("{pointer}/{}", escape(key));
                match old.get(key) {
                    Some(old_value) => diff_into(old_value, new_value, &path, out),
                    None => out.push(Difference {
                        pointer: path,
                        before: None,
                        after: Some(new_value.clone()),
                    }),
                }
            }
            for (key, old_value) in old {
                if !new.contains_key(key) {
                    out.push(Difference {
                        pointer: format!("{pointer}/{}", escape(key)),
                        before: Some(old_value.clone()),
                        after: None,
                    });
                }
            }
        }
        _ if before == after => {}
        _ => out.push(Difference {
            pointer: pointer.to_owned(),
            before: Some(before.clone()),
            after: Some(after.clone()),
        }),
    }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn blanks_are_removed_recursively_but_array_items_stay() {
        let cleaned = strip_blanks(json!({
            "Ip": "", "Port": 0, "User": "root", "ReadOnly": 0, "Flag": false,
            "ExpectTime": ZERO_TIME, "Params": {"A": 0, "B": 0}, "List": [],
            "Info": [{"Host": "", "Port": 3306}, {}], "Null": null, "Keep": true
        }));
        assert_eq!(
            cleaned,
            json!({"User": "root", "Info": [{"Port": 3306}, {}], "Keep": true})
        );
    }

    #[test]
    fn diff_reports_members_and_whole_arrays() {
        let before = json!({"A": 1, "B": {"C": "x", "D": [1, 2]}, "Gone": true});
        let after = json!({"A": 1, "B": {"C": "y", "D": [1, 3]}, "New": "n"});
        let changes = diff(&before, &after);
        let pointers: Vec<&str> = changes.iter().map(|c| c.pointer.as_str()).collect();
        assert_eq!(pointers, ["/B/C", "/B/D", "/New", "/Gone"]);
        assert_eq!(changes[3].after, None);
        assert_eq!(changes[2].before, None);
        assert!(diff(&before, &before).is_empty());
    }

    #[test]
    fn helpers_edit_in_place() {
        let mut value = json!({"MigrateOption": {"MigrateType": 3, "ExternParams": "{\"A\":1}"},
                               "SrcInfo": {"Info": [{"Password": "", "Host": "h"}]}});
        remove_default(&mut value, "/MigrateOption/MigrateType", &json!(3));
        parse_json_string(&mut value, "/MigrateOption/ExternParams");
        remove_in_each(&mut value, "/SrcInfo/Info", "Password");
        assert_eq!(
            value,
            json!({"MigrateOption": {"ExternParams": {"A": 1}}, "SrcInfo": {"Info": [{"Host": "h"}]}})
        );
    }
}
