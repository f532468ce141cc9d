//! The spec document an import writes, for every provider: the envelope (`apiVersion`,
//! `kind`, `metadata.name`, `lifecycle.desired`), the spec built from the observed view,
//! and `{fromEnv: …}` placeholders for the secrets the cloud never returns, each listed in
//! [`Imported::unreadable`] for the user to fill in.

use serde_json::{Value, json};

use crate::provider::Imported;
use crate::vocabulary::Address;

/// Builds an [`Imported`] document: start from the spec, put placeholders where the secrets
/// go, then [`ImportDocument::finish`] with the lifecycle the object is in.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportDocument {
    kind: String,
    name: String,
    spec: Value,
    unreadable: Vec<String>,
}

impl ImportDocument {
    /// A document of `kind` named after `address`, with `spec` (usually the observed view).
    #[must_use]
    pub fn new(kind: impl Into<String>, address: &Address, spec: Value) -> Self {
        Self {
            kind: kind.into(),
            name: address.0.clone(),
            spec,
            unreadable: Vec::new(),
        }
    }

    /// The prefix of the environment variables an address's placeholders name: the
    /// address upper-cased, every character other than a letter or digit an `_`
    /// (`orders-db` → `ORDERS_DB`).
    #[must_use]
    pub fn variable_prefix(address: &Address) -> String {
        address
            .0
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect()
    }

    /// The spec as built so far.
    #[must_use]
    pub fn spec(&self) -> &Value {
        &self.spec
    }

    /// The spec, to change what the view does not say the way the spec does.
    pub fn spec_mut(&mut self) -> &mut Value {
        &mut self.spec
    }

    /// Puts `{fromEnv: variable}` at `pointer` (a JSON pointer into the spec, `/SrcInfo/Password`)
    /// and lists `/spec{pointer}` as unreadable. Returns whether it could: the field's
    /// parent must be an object in the spec (nothing is put, and nothing listed, otherwise).
    pub fn placeholder(&mut self, pointer: &str, variable: impl Into<String>) -> bool {
        let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
        let Some(Value::Object(map)) = self.spec.pointer_mut(parent) else {
            return false;
        };
        map.insert(key.to_owned(), json!({"fromEnv": variable.into()}));
        self.unreadable.push(format!("/spec{pointer}"));
        true
    }

    /// Lists a field of the document (`/spec/smn_config`) that the cloud cannot return and
    /// no placeholder stands in for.
    pub fn unreadable(&mut self, pointer: impl Into<String>) {
        self.unreadable.push(pointer.into());
    }

    /// The document, with `lifecycle.desired` set to `desired`.
    #[must_use]
    pub fn finish(self, desired: &str) -> Imported {
        Imported {
            document: json!({
                "apiVersion": "migspec/v1",
                "kind": self.kind,
                "metadata": {"name": self.name},
                "spec": self.spec,
                "lifecycle": {"desired": desired},
            }),
            unreadable: self.unreadable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_replace_secrets_and_are_listed_in_order() {
        let address = Address("orders-db.2".to_owned());
        assert_eq!(ImportDocument::variable_prefix(&address), "ORDERS_DB_2");
        let mut document = ImportDocument::new(
            "Kind",
            &address,
            json!({"Src": {"User": "u"}, "Nodes": [{"Host": "h"}]}),
        );
        assert!(document.placeholder("/Src/Password", "ORDERS_SRC_PASSWORD"));
        assert!(document.placeholder("/Nodes/0/Password", "ORDERS_NODE_PASSWORD"));
        // No `Dst` object: nothing to put the placeholder in.
        assert!(!document.placeholder("/Dst/Password", "ORDERS_DST_PASSWORD"));
        document.unreadable("/spec/notifications");
        let imported = document.finish("running");
        assert_eq!(
            imported.document,
            json!({
                "apiVersion": "migspec/v1",
                "kind": "Kind",
                "metadata": {"name": "orders-db.2"},
                "spec": {
                    "Src": {"User": "u", "Password": {"fromEnv": "ORDERS_SRC_PASSWORD"}},
                    "Nodes": [{"Host": "h", "Password": {"fromEnv": "ORDERS_NODE_PASSWORD"}}]
                },
                "lifecycle": {"desired": "running"},
            })
        );
        assert_eq!(
            imported.unreadable,
            [
                "/spec/Src/Password",
                "/spec/Nodes/0/Password",
                "/spec/notifications"
            ]
        );
    }
}
