//! The spec set as the runner uses it: validated documents turned into [`DesiredSpec`]s, with
//! their secret references resolved, their hashes and their lifecycle settings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use migspec_provider::{Address, DesiredSpec};
use migspec_schema::ValidDocument;
use migspec_spec::model::{DeletionPolicy, SecretRef};
use migspec_spec::secret::{Secret, SecretError, SecretSource};

use crate::plan::fingerprint;

/// One spec of the set, ready for a provider.
#[derive(Debug, Clone)]
pub struct Spec {
    /// What the provider gets (document and secret values).
    pub desired: DesiredSpec,
    /// The file it came from.
    pub file: PathBuf,
    /// The line (1-based) of its `metadata.name` in that file, for annotations on a diff.
    pub line: usize,
    /// SHA-256 of the document as written (secrets as references).
    pub hash: String,
    /// Per-phase deadlines from `lifecycle.timeouts`.
    pub timeouts: Deadlines,
    /// `lifecycle.deletionPolicy` as written (`None`: not said, so `--prune` decides).
    pub deletion_policy: Option<DeletionPolicy>,
    /// SHA-256 of the `spec` body with every string equal to the address masked: equal for a
    /// spec renamed (`metadata.name`, and a `JobName` that follows it) and nothing else, so
    /// a create next to a forget of the same configuration can be flagged as a likely rename.
    pub config_hash: String,
}

impl Spec {
    /// The address.
    #[must_use]
    pub fn address(&self) -> &Address {
        &self.desired.address
    }
}

/// Deadlines per phase, with the documented defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// Creating (default 10m).
    pub create: Duration,
    /// Checking (default 15m).
    pub check: Duration,
    /// Starting until running (default 1h).
    pub start: Duration,
    /// Completing (default 24h).
    pub complete: Duration,
    /// Pausing or stopping (default 10m).
    pub stop: Duration,
    /// Deleting (default 30m).
    pub delete: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            create: Duration::from_secs(10 * 60),
            check: Duration::from_secs(15 * 60),
            start: Duration::from_secs(60 * 60),
            complete: Duration::from_secs(24 * 60 * 60),
            stop: Duration::from_secs(10 * 60),
            delete: Duration::from_secs(30 * 60),
        }
    }
}

impl Deadlines {
    /// Reads `lifecycle.timeouts` of a document (already validated, so every value parses;
    /// one that does not keeps its default).
    #[must_use]
    pub fn from_document(document: &Value) -> Self {
        let mut deadlines = Self::default();
        let Some(timeouts) = document.pointer("/lifecycle/timeouts") else {
            return deadlines;
        };
        let read = |name: &str, slot: &mut Duration| {
            if let Some(parsed) = timeouts
                .get(name)
                .and_then(Value::as_str)
                .and_then(|text| humantime::parse_duration(text).ok())
            {
                *slot = parsed;
            }
        };
        read("create", &mut deadlines.create);
        read("check", &mut deadlines.check);
        read("start", &mut deadlines.start);
        read("complete", &mut deadlines.complete);
        read("stop", &mut deadlines.stop);
        read("delete", &mut deadlines.delete);
        deadlines
    }
}

/// How unset secrets are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingSecrets {
    /// An unset secret is an error naming the variable and the spec.
    Fail,
    /// An unset secret gets a placeholder value (`--emulator` only).
    Placeholder,
}

/// A secret reference that could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {address}: {field}: {source}", file.display())]
pub struct UnresolvedSecret {
    /// The spec.
    pub address: Address,
    /// Its file.
    pub file: PathBuf,
    /// The line of the reference (1-based).
    pub line: usize,
    /// The column of the reference (1-based).
    pub column: usize,
    /// The field, as a JSON pointer.
    pub field: String,
    /// Why.
    pub source: SecretError,
}

impl UnresolvedSecret {
    /// What to do about it.
    #[must_use]
    pub fn help(&self) -> String {
        match &self.source {
            SecretError::MissingVariable { variable } => format!(
                "export {variable} before running migspec (or point the field at a file with `fromFile`)"
            ),
            SecretError::Unreadable { path, .. } => format!(
                "create {} or fix the `fromFile` path (relative to the spec's directory)",
                path.display()
            ),
            SecretError::OutsideRoot { root, .. } => format!(
                "move the file under {} or list its directory in `secrets: {{fileDirs: [...]}}` of migspec.yaml",
                root.display()
            ),
            SecretError::NotRegularFile { .. } => {
                "point `fromFile` at a regular file that holds only the secret".to_owned()
            }
            SecretError::TooLarge { .. } => {
                "a secret file holds one value; point `fromFile` at a file of at most 64 KiB"
                    .to_owned()
            }
            SecretError::CredentialVariable { variable } => format!(
                "give this field its own variable; to send this credential on purpose, list `{variable}` by name in `secrets: {{allowEnv: [...]}}` of migspec.yaml"
            ),
            SecretError::DeniedVariable { .. } => {
                "use a variable that `secrets.denyEnv` does not match".to_owned()
            }
            SecretError::UnlistedVariable { .. } => {
                "use a variable that `secrets.allowEnv` matches, or add a pattern for this one"
                    .to_owned()
            }
            _ => "write `{fromEnv: VAR}` or `{fromFile: path}` instead of the value".to_owned(),
        }
    }
}

/// What building the spec set found.
#[derive(Debug, Clone, Default)]
pub struct SpecSet {
    /// The specs by address.
    pub specs: BTreeMap<Address, Spec>,
    /// Every secret reference that got a placeholder value (`--emulator` only), one per
    /// field, in document order.
    pub placeholders: Vec<Placeholder>,
}

/// One unset secret reference that got a placeholder value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// The spec holding it.
    pub address: Address,
    /// The field, as a JSON pointer into the document (`/spec/DstInfo/Password`).
    pub field: String,
    /// The spec file.
    pub file: PathBuf,
    /// The field's line in `file` (1-based).
    pub line: usize,
    /// The field's column in `file` (1-based).
    pub column: usize,
    /// What it names: the variable or the file that is not there.
    pub reference: SecretRef,
}

impl SpecSet {
    /// Builds the set from validated documents, resolving every `{fromEnv}` / `{fromFile}`
    /// object in each document.
    ///
    /// # Errors
    ///
    /// Every secret that could not be resolved (with [`MissingSecrets::Fail`]), and every
    /// reference the secret source refuses (whatever `missing` says).
    pub fn build(
        documents: &[ValidDocument],
        secrets: &dyn SecretSource,
        missing: MissingSecrets,
    ) -> Result<Self, Vec<UnresolvedSecret>> {
        let mut set = Self::default();
        let mut errors = Vec::new();
        for valid in documents {
            let document = serde_json::to_value(&valid.document).expect("spec documents serialize");
            let address = Address(valid.document.metadata().name.clone());
            let file = valid.file.path().to_path_buf();
            let spec_dir = file.parent().map_or_else(PathBuf::new, Path::to_path_buf);
            let mut references = Vec::new();
            collect_references(&document, String::new(), &mut references);
            let mut values = BTreeMap::new();
            for (pointer, reference) in references {
                match secrets.value(&reference, &spec_dir) {
                    Ok(secret) => {
                        values.insert(pointer, secret);
                    }
                    // Only an absent secret gets a placeholder: a refused reference
                    // (outside the root, a credential variable, …) is an error even with
                    // `--emulator`.
                    Err(source) if missing == MissingSecrets::Placeholder && source.is_absent() => {
                        let name = match &source {
                            SecretError::MissingVariable { variable } => variable.clone(),
                            _ => pointer.clone(),
                        };
                        let (line, column) = position(valid, &pointer);
                        set.placeholders.push(Placeholder {
                            address: address.clone(),
                            field: pointer.clone(),
                            file: file.clone(),
                            line,
                            column,
                            reference: reference.clone(),
                        });
                        values.insert(pointer, Secret::new(format!("migspec-placeholder-{name}")));
                    }
                    Err(source) => {
                        let (line, column) = position(valid, &pointer);
                        errors.push(UnresolvedSecret {
                            address: address.clone(),
                            file: file.clone(),
                            line,
                            column,
                            field: pointer,
                            source,
                        });
                    }
                }
            }
            let spec = Spec {
                line: valid.name_line,
                hash: fingerprint(&document),
                config_hash: config_hash(&document, &address),
                timeouts: Deadlines::from_document(&document),
                deletion_policy: document
                    .pointer("/lifecycle/deletionPolicy")
                    .cloned()
                    .and_then(|value| serde_json::from_value(value).ok()),
                desired: DesiredSpec {
                    address: address.clone(),
                    kind: valid.document.kind_name().to_owned(),
                    document,
                    secrets: values,
                },
                file,
            };
            set.specs.insert(address, spec);
        }
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(errors)
        }
    }
}

/// The hash of a document's `spec` body with strings equal to its address masked (see
/// [`Spec::config_hash`]).
#[must_use]
pub fn config_hash(document: &Value, address: &Address) -> String {
    fn mask(value: &Value, name: &str) -> Value {
        match value {
            Value::String(text) if text == name => Value::String("\u{0}address".to_owned()),
            Value::Array(items) => {
                Value::Array(items.iter().map(|item| mask(item, name)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(key, child)| (key.clone(), mask(child, name)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    let body = document.get("spec").cloned().unwrap_or(Value::Null);
    fingerprint(&(document.get("kind"), mask(&body, &address.0)))
}

/// Where a field of a document is in its file (line and column, 1-based). The node trees
/// are not kept after validation, so the file is parsed again: this runs only to report an
/// error.
fn position(valid: &ValidDocument, pointer: &str) -> (usize, usize) {
    let text = valid.file.text();
    migspec_spec::yaml::parse_documents(text)
        .ok()
        .and_then(|documents| documents.into_iter().nth(valid.index))
        .map_or((1, 1), |node| {
            let located = node.locate(pointer);
            valid
                .file
                .line_column(located.key.unwrap_or(located.value).offset)
        })
}

/// Every `{fromEnv: …}` / `{fromFile: …}` object in a document, by JSON pointer.
fn collect_references(value: &Value, pointer: String, out: &mut Vec<(String, SecretRef)>) {
    match value {
        Value::Object(map) if map.len() == 1 && map.contains_key("fromEnv") => {
            if let Ok(reference) = serde_json::from_value(value.clone()) {
                out.push((pointer, reference));
            }
        }
        Value::Object(map) if map.len() == 1 && map.contains_key("fromFile") => {
            if let Ok(reference) = serde_json::from_value(value.clone()) {
                out.push((pointer, reference));
            }
        }
        Value::Object(map) => {
            for (key, child) in map {
                let escaped = key.replace('~', "~0").replace('/', "~1");
                collect_references(child, format!("{pointer}/{escaped}"), out);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                collect_references(child, format!("{pointer}/{index}"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use migspec_schema::Options;

    const SPEC: &str = r#"apiVersion: migspec/v1
kind: HuaweiOmsTaskGroup
metadata:
  name: logs-archive
spec:
  region: cn-north-4
  project_id: {fromEnv: MIGSPEC_TEST_UNSET_PROJECT}
  task_type: PREFIX
  src_node:
    cloud_type: Aliyun
    region: cn-hangzhou
    bucket: media-src
    object_key: [2023/]
    ak: {fromEnv: MIGSPEC_TEST_UNSET_AK}
    sk: {fromFile: sk.txt}
  dst_node:
    region: cn-north-4
    bucket: media-dst
    ak: {fromEnv: MIGSPEC_TEST_UNSET_AK}
    sk: {fromEnv: MIGSPEC_TEST_UNSET_SK}
lifecycle:
  desired: running
  timeouts: {check: 90s}
"#;

    struct Fake;
    impl SecretSource for Fake {
        fn value(&self, reference: &SecretRef, spec_dir: &Path) -> Result<Secret, SecretError> {
            match reference {
                SecretRef::File(file) => Ok(Secret::new(format!(
                    "{}:{}",
                    spec_dir.display(),
                    file.from_file
                ))),
                SecretRef::Env(env) if env.from_env == "MIGSPEC_TEST_CREDENTIAL" => {
                    Err(SecretError::CredentialVariable {
                        variable: env.from_env.clone(),
                    })
                }
                SecretRef::Env(env) => Err(SecretError::MissingVariable {
                    variable: env.from_env.clone(),
                }),
                SecretRef::Literal(_) => Err(SecretError::Literal),
            }
        }
    }

    fn documents() -> Vec<ValidDocument> {
        let report = migspec_schema::validate_source("dir/spec.yaml", SPEC, Options::default());
        assert!(!report.has_errors(), "{:?}", report.diagnostics);
        report.documents
    }

    #[test]
    fn unset_secrets_are_errors_naming_field_and_variable() {
        let errors = SpecSet::build(&documents(), &Fake, MissingSecrets::Fail).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "/spec/project_id",
                "/spec/src_node/ak",
                "/spec/dst_node/ak",
                "/spec/dst_node/sk"
            ]
        );
        assert!(errors[1].to_string().contains("MIGSPEC_TEST_UNSET_AK"));
        // `ak` of `src_node` is on line 14, column 5 of the source.
        assert_eq!((errors[1].line, errors[1].column), (14, 5), "{}", errors[1]);
        assert!(
            errors[1]
                .to_string()
                .starts_with("dir/spec.yaml:14:5: logs-archive: ")
        );
        assert!(errors[1].help().contains("export MIGSPEC_TEST_UNSET_AK"));
    }

    #[test]
    fn placeholders_fill_unset_secrets_and_files_resolve_against_the_spec_dir() {
        let set = SpecSet::build(&documents(), &Fake, MissingSecrets::Placeholder).unwrap();
        let spec = &set.specs[&Address("logs-archive".into())];
        assert_eq!(
            spec.desired.secrets["/spec/src_node/sk"].expose(),
            "dir:sk.txt"
        );
        assert_eq!(
            spec.desired.secrets["/spec/dst_node/sk"].expose(),
            "migspec-placeholder-MIGSPEC_TEST_UNSET_SK"
        );
        let fields: Vec<(&str, &str)> = set
            .placeholders
            .iter()
            .map(|placeholder| {
                (
                    placeholder.field.as_str(),
                    match &placeholder.reference {
                        SecretRef::Env(env) => env.from_env.as_str(),
                        SecretRef::File(file) => file.from_file.as_str(),
                        SecretRef::Literal(_) => "literal",
                    },
                )
            })
            .collect();
        assert_eq!(
            fields,
            [
                ("/spec/project_id", "MIGSPEC_TEST_UNSET_PROJECT"),
                ("/spec/src_node/ak", "MIGSPEC_TEST_UNSET_AK"),
                ("/spec/dst_node/ak", "MIGSPEC_TEST_UNSET_AK"),
                ("/spec/dst_node/sk", "MIGSPEC_TEST_UNSET_SK")
            ]
        );
        assert_eq!(
            (set.placeholders[1].line, set.placeholders[1].column),
            (14, 5)
        );
        assert_eq!(spec.timeouts.check, Duration::from_secs(90));
        assert_eq!(spec.timeouts.create, Deadlines::default().create);
        // The document keeps the references: hashes never depend on secret values.
        assert_eq!(
            spec.desired.document.pointer("/spec/dst_node/sk/fromEnv"),
            Some(&Value::from("MIGSPEC_TEST_UNSET_SK"))
        );
        assert_eq!(
            spec.hash,
            SpecSet::build(&documents(), &Fake, MissingSecrets::Placeholder)
                .unwrap()
                .specs[&Address("logs-archive".into())]
                .hash
        );
    }

    #[test]
    fn refused_references_never_get_placeholders() {
        let text = SPEC.replace("MIGSPEC_TEST_UNSET_SK", "MIGSPEC_TEST_CREDENTIAL");
        let report = migspec_schema::validate_source("dir/spec.yaml", &text, Options::default());
        assert!(!report.has_errors(), "{:?}", report.diagnostics);
        let errors =
            SpecSet::build(&report.documents, &Fake, MissingSecrets::Placeholder).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(
            errors[0].to_string(),
            "dir/spec.yaml:20:5: logs-archive: /spec/dst_node/sk: environment variable \
             `MIGSPEC_TEST_CREDENTIAL` holds migspec's own cloud credentials and cannot be a spec's secret"
        );
        assert!(
            errors[0]
                .help()
                .contains("list `MIGSPEC_TEST_CREDENTIAL` by name in `secrets: {allowEnv: [...]}`")
        );
    }
}
