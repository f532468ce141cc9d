//! Validation of one spec document: envelope, the JSON Schema its provider describes, the
//! typed model (built-in kinds), and the provider's own rules (`Provider::validate`).
//!
//! Schema errors from `jsonschema` are turned into diagnostics that name the field, point at
//! its YAML span and say what to write instead (valid values with their meanings, "did you
//! mean" for misspelt keys, how to reference a secret).

use std::sync::{Arc, LazyLock};

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{JsonType, ValidationError};
use migspec_spec::load::LoadedDocument;
use migspec_spec::model::common::SECRET_KEYWORD;
use migspec_spec::model::{ApiEnum, Kind};
use migspec_spec::yaml::{Node, NodeValue, Span, escape_pointer_segment};
use migspec_spec::{Diagnostic, SourceFile, SpecDocument};
use serde_json::Value;

use migspec_provider::{Problem, ProblemSeverity, Provider};

use crate::generate::kind_schema;

/// How strictly to validate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Accept secrets written in clear text (for throwaway local experiments only).
    pub allow_literal_secrets: bool,
}

/// A document that passed validation, with what is needed to point back at its source.
#[derive(Debug, Clone)]
pub struct ValidDocument {
    /// The typed document.
    pub document: SpecDocument,
    /// The file it came from.
    pub file: Arc<SourceFile>,
    /// Its position in the file (0-based).
    pub index: usize,
    /// The line (1-based) of its `metadata.name`, for pointing at the document (plan
    /// annotations on a diff).
    pub name_line: usize,
}

/// Where a document declares its `metadata.name`, for the set-wide uniqueness check.
#[derive(Debug, Clone)]
pub(crate) struct NameSite {
    pub(crate) name: String,
    pub(crate) file: Arc<SourceFile>,
    pub(crate) span: Span,
}

impl NameSite {
    pub(crate) fn of(document: &LoadedDocument) -> Option<Self> {
        let node = document.root.pointer("/metadata/name")?;
        match &node.value {
            NodeValue::String(name) => Some(Self {
                name: name.clone(),
                file: Arc::clone(&document.file),
                span: node.span,
            }),
            _ => None,
        }
    }
}

/// The compiled schema of one kind, and the provider whose rules check it.
struct KindValidator {
    kind: String,
    /// The typed model, for a built-in kind.
    builtin: Option<Kind>,
    /// What the kind is, for the list of kinds in help texts.
    description: String,
    schema: Value,
    validator: jsonschema::Validator,
    provider: Option<Arc<dyn Provider>>,
}

/// A provider's kind that cannot be validated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ValidatorError {
    /// The schema a provider describes for a kind does not compile.
    #[error(
        "provider `{provider}` describes kind `{kind}` with a JSON Schema that does not compile: {message}; fix the provider's `describe()`"
    )]
    Schema {
        /// The provider's name.
        provider: String,
        /// The kind.
        kind: String,
        /// What the schema compiler said.
        message: String,
    },
    /// Two providers serve the same kind.
    #[error(
        "kind `{kind}` is served by both `{first}` and `{second}`; remove one of them from migspec.yaml"
    )]
    Clash {
        /// The kind.
        kind: String,
        /// The provider registered first.
        first: String,
        /// The other one.
        second: String,
    },
}

/// Validators for every kind, compiled once.
///
/// [`Validator::new`] knows the built-in kinds' schemas only (offline library use, no
/// provider rules); [`Validator::for_providers`] takes every kind from the providers'
/// descriptions, built-in or plugin, and runs each provider's `validate` after its schema.
pub struct Validator {
    kinds: Vec<KindValidator>,
    /// The envelope schema every kind shares (`apiVersion`, `kind`, `metadata`), checked
    /// first for a plugin's kind, whose own schema may leave the envelope out.
    envelope: (Value, jsonschema::Validator),
    /// Provider names, for [`ValidatorError::Clash`].
    owners: Vec<String>,
}

static GLOBAL: LazyLock<Validator> = LazyLock::new(Validator::new);

fn envelope_schema() -> Value {
    let mut metadata = schemars::schema_for!(migspec_spec::model::Metadata).to_value();
    if let Value::Object(map) = &mut metadata {
        map.remove("$schema");
        map.remove("title");
    }
    serde_json::json!({
        "type": "object",
        "required": ["apiVersion", "kind", "metadata"],
        "properties": {
            "apiVersion": {"description": "The spec format version: `migspec/v1`.", "const": "migspec/v1"},
            "kind": {"type": "string"},
            "metadata": metadata,
        }
    })
}

fn compile(schema: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::draft202012::new(schema).map_err(|error| error.to_string())
}

impl Validator {
    /// Compiles the schema of every built-in kind (no provider rules run).
    ///
    /// # Panics
    ///
    /// When a generated schema does not compile, which the schema tests rule out.
    #[must_use]
    pub fn new() -> Self {
        let mut validator = Self::empty();
        for &kind in Kind::ALL {
            let schema = kind_schema(kind);
            let compiled =
                compile(&schema).expect("generated schemas compile (checked by the schema tests)");
            validator.kinds.push(KindValidator {
                kind: kind.as_str().to_owned(),
                builtin: Some(kind),
                description: kind.description().to_owned(),
                schema,
                validator: compiled,
                provider: None,
            });
            validator.owners.push("migspec".to_owned());
        }
        validator
    }

    fn empty() -> Self {
        let envelope = envelope_schema();
        let compiled = compile(&envelope).expect("the envelope schema compiles");
        Self {
            kinds: Vec::new(),
            envelope: (envelope, compiled),
            owners: Vec::new(),
        }
    }

    /// Validators for every kind the providers describe: each document is checked against
    /// the schema its provider describes (`describe().kinds[].schema`), then by the
    /// provider's `validate`, whose problems are located in the YAML by their JSON pointers.
    /// A built-in kind is read into its typed model; any other kind is an
    /// [`OtherDocument`](migspec_spec::model::OtherDocument).
    ///
    /// # Errors
    ///
    /// When a described schema does not compile, or two providers serve one kind.
    pub fn for_providers(
        providers: impl IntoIterator<Item = Arc<dyn Provider>>,
    ) -> Result<Self, ValidatorError> {
        let mut validator = Self::empty();
        for provider in providers {
            let description = provider.describe();
            for kind in description.kinds {
                if let Some(at) = validator.kinds.iter().position(|k| k.kind == kind.kind) {
                    return Err(ValidatorError::Clash {
                        kind: kind.kind,
                        first: validator.owners[at].clone(),
                        second: description.name,
                    });
                }
                let compiled = compile(&kind.schema).map_err(|message| ValidatorError::Schema {
                    provider: description.name.clone(),
                    kind: kind.kind.clone(),
                    message,
                })?;
                let builtin = Kind::from_name(&kind.kind);
                validator.kinds.push(KindValidator {
                    description: builtin.map_or_else(
                        || format!("served by `{}`", description.name),
                        |builtin| builtin.description().to_owned(),
                    ),
                    kind: kind.kind,
                    builtin,
                    schema: kind.schema,
                    validator: compiled,
                    provider: Some(Arc::clone(&provider)),
                });
                validator.owners.push(description.name.clone());
            }
        }
        Ok(validator)
    }

    /// The validators shared by the whole process (built-in kinds, no provider rules).
    #[must_use]
    pub fn global() -> &'static Self {
        &GLOBAL
    }

    /// The kind names this validator knows.
    #[must_use]
    pub fn kinds(&self) -> Vec<&str> {
        self.kinds.iter().map(|kind| kind.kind.as_str()).collect()
    }

    /// Validates one document, returning it typed when it has no errors.
    #[must_use]
    pub fn validate_document(
        &self,
        document: &LoadedDocument,
        options: Options,
    ) -> (Option<ValidDocument>, Vec<Diagnostic>) {
        let mut context = Context::new(document);
        let Some(kind_validator) = self.envelope(&mut context) else {
            return (None, context.diagnostics);
        };
        let instance = document.root.to_json();
        let mut schema_ok = true;
        if kind_validator.builtin.is_none() {
            let (schema, validator) = &self.envelope;
            for error in validator.iter_errors(&instance) {
                schema_ok &= !map_error(&mut context, schema, &error, options);
            }
        }
        for error in kind_validator.validator.iter_errors(&instance) {
            if map_error(&mut context, &kind_validator.schema, &error, options) {
                schema_ok = false;
            }
        }
        if !schema_ok {
            // A value of the wrong type also fails its `enum`: report only the type.
            let typed_fields: Vec<Option<String>> = context
                .diagnostics
                .iter()
                .filter(|d| d.code == "migspec::schema::type")
                .map(|d| d.field.clone())
                .collect();
            context
                .diagnostics
                .retain(|d| d.code != "migspec::schema::enum" || !typed_fields.contains(&d.field));
            return (None, context.diagnostics);
        }
        let kind = &kind_validator.kind;
        let typed = match kind_validator.builtin {
            Some(builtin) => SpecDocument::from_json(builtin, instance.clone()),
            None => SpecDocument::other_from_json(instance.clone()),
        };
        let typed = match typed {
            Ok(typed) => typed,
            Err(error) => {
                context.error_at(
                    "migspec::schema::invalid",
                    "",
                    format!("the document does not match the {kind} model: {error}"),
                    "this is a bug in migspec's schema; please report it with this file",
                );
                return (None, context.diagnostics);
            }
        };
        if let Some(provider) = &kind_validator.provider {
            for problem in provider.validate(kind, &instance) {
                context.problem(problem);
            }
        }
        let valid = !context.diagnostics.iter().any(Diagnostic::is_error);
        let outcome = valid.then(|| ValidDocument {
            name_line: document
                .root
                .pointer("/metadata/name")
                .map_or(1, |node| document.file.line_column(node.span.offset).0),
            document: typed,
            file: Arc::clone(&document.file),
            index: document.index,
        });
        (outcome, context.diagnostics)
    }

    /// Checks `apiVersion` and `kind` enough to pick the kind's schema.
    fn envelope(&self, context: &mut Context<'_>) -> Option<&KindValidator> {
        let root = &context.document.root;
        if !matches!(root.value, NodeValue::Map(_)) {
            context.error_at(
                "migspec::schema::not_a_mapping",
                "",
                "a spec document must be a mapping",
                "start with `apiVersion: migspec/v1`, then `kind`, `metadata`, `spec` and `lifecycle`",
            );
            return None;
        }
        let kinds = self
            .kinds
            .iter()
            .map(|kind| format!("`{}` ({})", kind.kind, kind.description))
            .collect::<Vec<_>>()
            .join(", ");
        match root.get("kind").map(|(_, node)| &node.value) {
            None => {
                context.error_at(
                    "migspec::schema::missing_field",
                    "/kind",
                    "missing required field `kind`",
                    format!("add `kind:` with one of: {kinds}"),
                );
                None
            }
            Some(NodeValue::String(name)) => {
                match self.kinds.iter().find(|kind| &kind.kind == name) {
                    Some(kind) => Some(kind),
                    None => {
                        let names = self.kinds();
                        let help = match closest(name, &names) {
                            Some(best) => format!("did you mean `{best}`?"),
                            None => format!(
                                "expected one of: {kinds}; a plugin's kind needs the plugin pinned under `plugins:` in migspec.yaml"
                            ),
                        };
                        context.error_at(
                            "migspec::schema::unknown_kind",
                            "/kind",
                            format!("unknown kind `{name}`"),
                            help,
                        );
                        None
                    }
                }
            }
            Some(_) => {
                context.error_at(
                    "migspec::schema::type",
                    "/kind",
                    "`kind` must be a string",
                    format!("expected one of: {kinds}"),
                );
                None
            }
        }
    }
}

impl Default for Validator {
    fn default() -> Self {
        Self::new()
    }
}

/// Collects diagnostics for one document and locates pointers in it.
pub(crate) struct Context<'a> {
    pub(crate) document: &'a LoadedDocument,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl<'a> Context<'a> {
    fn new(document: &'a LoadedDocument) -> Self {
        Self {
            document,
            diagnostics: Vec::new(),
        }
    }

    /// An error about the field at `pointer`, labelled on its value (or, when the field is
    /// missing, on the nearest enclosing field).
    pub(crate) fn error_at(
        &mut self,
        code: &'static str,
        pointer: &str,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let diagnostic = self.located(Diagnostic::error(code, message), pointer, None);
        self.diagnostics.push(diagnostic.with_help(help));
    }

    /// Like [`Self::error_at`], with a label text on the value.
    pub(crate) fn error_labelled(
        &mut self,
        code: &'static str,
        pointer: &str,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) {
        let diagnostic = self.located(
            Diagnostic::error(code, message),
            pointer,
            Some(label.into()),
        );
        self.diagnostics.push(diagnostic.with_help(help));
    }

    /// A provider's problem, located by its JSON pointer.
    pub(crate) fn problem(&mut self, problem: Problem) {
        let mut diagnostic = Diagnostic::error(problem.code, problem.message);
        if problem.severity == ProblemSeverity::Warning {
            diagnostic = diagnostic.warning();
        }
        let diagnostic = self.located(diagnostic, &problem.field, problem.label);
        self.diagnostics.push(diagnostic.with_help(problem.help));
    }

    fn located(&self, diagnostic: Diagnostic, pointer: &str, label: Option<String>) -> Diagnostic {
        let located = self.document.root.locate(pointer);
        let mut diagnostic = diagnostic
            .in_file(&self.document.file)
            .with_field(pointer.to_owned());
        if located.exact {
            diagnostic = diagnostic.with_label(located.value, label, true);
            if let Some(key) = located.key {
                diagnostic = diagnostic.with_label(key, Some("in this field".to_owned()), false);
            }
        } else {
            let span = located.key.unwrap_or(located.value);
            diagnostic = diagnostic.with_label(span, label.or(Some("in here".to_owned())), true);
        }
        diagnostic
    }
}

/// A readable path for messages: `/spec/DatabaseInfo/0/Table` → `spec.DatabaseInfo[0].Table`.
#[must_use]
pub fn display_path(pointer: &str) -> String {
    let mut out = String::new();
    for raw in pointer.split('/').skip(1) {
        let segment = migspec_spec::yaml::unescape_pointer_segment(raw);
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push('[');
            out.push_str(&segment);
            out.push(']');
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    if out.is_empty() {
        "the document".to_owned()
    } else {
        out
    }
}

fn join_pointer(parent: &str, key: &str) -> String {
    format!("{parent}/{}", escape_pointer_segment(key))
}

/// Follows a schema pointer that may pass through `$ref`s.
fn resolve_schema<'s>(root: &'s Value, pointer: &str) -> Option<&'s Value> {
    let mut node = root;
    for raw in pointer.split('/').skip(1) {
        let segment = migspec_spec::yaml::unescape_pointer_segment(raw);
        if segment == "$ref" {
            let target = node.get("$ref")?.as_str()?;
            node = root.pointer(target.strip_prefix('#')?)?;
            continue;
        }
        node = match node {
            Value::Object(map) => map.get(&segment)?,
            Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

/// Follows `$ref`s at a schema node until a node without one.
fn deref<'s>(root: &'s Value, mut node: &'s Value) -> &'s Value {
    for _ in 0..16 {
        match node
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|target| target.strip_prefix('#'))
            .and_then(|pointer| root.pointer(pointer))
        {
            Some(next) => node = next,
            None => break,
        }
    }
    node
}

/// The schema node a keyword error belongs to (the parent of the keyword).
fn keyword_parent<'s>(root: &'s Value, error: &ValidationError<'_>) -> Option<&'s Value> {
    let path = error.schema_path().as_str();
    let parent = path.rsplit_once('/').map_or("", |(parent, _)| parent);
    resolve_schema(root, parent)
}

fn enum_help(schema: &Value) -> Option<String> {
    let values = schema.get("enum")?.as_array()?;
    let descriptions = schema.get("enumDescriptions").and_then(Value::as_array);
    let items: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(index, value)| {
            let text = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            match descriptions
                .and_then(|d| d.get(index))
                .and_then(Value::as_str)
            {
                Some(description) => format!("`{text}` ({description})"),
                None => format!("`{text}`"),
            }
        })
        .collect();
    Some(format!("expected one of: {}", items.join(", ")))
}

fn describe_value(value: &Value) -> String {
    match value {
        Value::Null => "an empty value".to_owned(),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Number(n) => format!("number `{n}`"),
        Value::String(s) => {
            let shown: String = s.chars().take(40).collect();
            let ellipsis = if s.chars().count() > 40 { "…" } else { "" };
            format!("string `{shown}{ellipsis}`")
        }
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "a mapping".to_owned(),
    }
}

fn json_type_name(kind: &TypeKind) -> String {
    let name = |t: JsonType| match t {
        JsonType::Array => "a list",
        JsonType::Boolean => "a boolean (`true` or `false`)",
        JsonType::Integer => "an integer",
        JsonType::Null => "empty",
        JsonType::Number => "a number",
        JsonType::Object => "a mapping",
        JsonType::String => "a string",
    };
    match kind {
        TypeKind::Single(t) => name(*t).to_owned(),
        TypeKind::Multiple(set) => set.iter().map(name).collect::<Vec<_>>().join(" or "),
    }
}

fn is_yaml11_word(value: &Value) -> bool {
    matches!(value, Value::String(s) if matches!(
        s.as_str(),
        "yes" | "Yes" | "YES" | "no" | "No" | "NO" | "on" | "On" | "ON" | "off" | "Off" | "OFF" | "y" | "Y" | "n" | "N"
    ))
}

/// The closest candidate to a misspelt name, if one is close enough (for "did you mean"
/// help texts; providers' rules use it too).
#[must_use]
pub fn closest<'c>(name: &str, candidates: &[&'c str]) -> Option<&'c str> {
    candidates
        .iter()
        .map(|candidate| {
            let score =
                strsim::jaro_winkler(&name.to_ascii_lowercase(), &candidate.to_ascii_lowercase());
            (score, *candidate)
        })
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

fn property_description(object_schema: &Value, root: &Value, property: &str) -> Option<String> {
    let property_schema = object_schema.get("properties")?.get(property)?;
    property_schema
        .get("description")
        .or_else(|| deref(root, property_schema).get("description"))
        .and_then(Value::as_str)
        .map(|text| text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Turns one schema error into diagnostics. Returns whether it is an error (literal secrets
/// may be allowed, in which case nothing is reported).
fn map_error(
    context: &mut Context<'_>,
    root: &Value,
    error: &ValidationError<'_>,
    options: Options,
) -> bool {
    let pointer = error.instance_path().as_str().to_owned();
    let field = display_path(&pointer);
    let instance = error.instance();
    let parent_schema = keyword_parent(root, error);
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let known: Vec<&str> = parent_schema
                .and_then(|schema| schema.get("properties"))
                .and_then(Value::as_object)
                .map(|properties| properties.keys().map(String::as_str).collect())
                .unwrap_or_default();
            for key in unexpected {
                let help = match closest(key, &known) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None if known.is_empty() => "remove it".to_owned(),
                    None => format!("valid fields here: {}", known.join(", ")),
                };
                let key_pointer = join_pointer(&pointer, key);
                let located = context.document.root.locate(&key_pointer);
                let span = located.key.unwrap_or(located.value);
                let diagnostic = Diagnostic::error(
                    "migspec::schema::unknown_field",
                    format!("unknown field `{key}` in `{field}`"),
                )
                .in_file(&context.document.file)
                .with_field(key_pointer)
                .with_label(span, Some("unknown field".to_owned()), true)
                .with_help(help);
                context.diagnostics.push(diagnostic);
            }
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let description = parent_schema
                .and_then(|schema| property_description(schema, root, name))
                .map_or_else(String::new, |text| format!(": {text}"));
            let parent = if pointer.is_empty() {
                "the document".to_owned()
            } else {
                format!("`{field}`")
            };
            context.error_labelled(
                "migspec::schema::missing_field",
                &pointer,
                format!("missing required field `{name}` in {parent}"),
                format!("`{name}` is required here"),
                format!("add `{name}`{description}"),
            );
        }
        ValidationErrorKind::Enum { .. } | ValidationErrorKind::Constant { .. } => {
            let help = parent_schema
                .and_then(enum_help)
                .or_else(|| {
                    parent_schema
                        .and_then(|schema| schema.get("const"))
                        .map(|value| {
                            format!(
                                "write `{}`",
                                value
                                    .as_str()
                                    .map_or_else(|| value.to_string(), str::to_owned)
                            )
                        })
                })
                .unwrap_or_else(|| error.to_string());
            context.error_labelled(
                "migspec::schema::enum",
                &pointer,
                format!("invalid value for `{field}`"),
                format!("{} is not allowed here", describe_value(instance)),
                help,
            );
        }
        ValidationErrorKind::Type { kind } => {
            let expected = json_type_name(kind);
            let mut help = parent_schema
                .and_then(enum_help)
                .unwrap_or_else(|| format!("write {expected}"));
            if is_yaml11_word(instance) {
                help = format!(
                    "{help}; `{}` is a string in YAML 1.2, which migspec reads: booleans are `true`/`false`",
                    instance.as_str().unwrap_or_default()
                );
            }
            context.error_labelled(
                "migspec::schema::type",
                &pointer,
                format!("`{field}` must be {expected}"),
                format!("found {}", describe_value(instance)),
                help,
            );
        }
        ValidationErrorKind::AnyOf { context: branches }
        | ValidationErrorKind::OneOfNotValid { context: branches } => {
            let node_schema = parent_schema;
            let is_secret = node_schema
                .is_some_and(|schema| schema.get(SECRET_KEYWORD) == Some(&Value::Bool(true)));
            if is_secret && instance.is_string() {
                if options.allow_literal_secrets {
                    return false;
                }
                let variable = suggest_variable(&context.document.root, &pointer);
                context.error_labelled(
                    "migspec::spec::literal_secret",
                    &pointer,
                    format!("`{field}` holds a secret in clear text"),
                    "secret value written in the spec",
                    format!(
                        "secrets do not belong in git: put the value in an environment variable and write `{{fromEnv: {variable}}}`, or in a file and write `{{fromFile: path}}`"
                    ),
                );
                return true;
            }
            // Report the errors of the alternative whose type matches the value, if any.
            let matching = branches.iter().enumerate().find(|(index, _)| {
                node_schema
                    .and_then(|schema| schema.get("anyOf").or_else(|| schema.get("oneOf")))
                    .and_then(|alternatives| alternatives.get(*index))
                    .map(|alternative| deref(root, alternative))
                    .and_then(|alternative| alternative.get("type"))
                    .and_then(Value::as_str)
                    .is_some_and(|expected| type_matches(expected, instance))
            });
            if let Some((_, errors)) = matching {
                let mut any = false;
                for inner in errors {
                    any |= map_error(context, root, inner, options);
                }
                return any;
            }
            let help = if is_secret {
                "write `{fromEnv: VAR}` or `{fromFile: path}`".to_owned()
            } else {
                node_schema
                    .and_then(|schema| schema.get("description"))
                    .and_then(Value::as_str)
                    .map_or_else(|| error.to_string(), str::to_owned)
            };
            context.error_labelled(
                "migspec::schema::type",
                &pointer,
                format!("`{field}` has the wrong shape"),
                format!("found {}", describe_value(instance)),
                help,
            );
        }
        _ => {
            let keyword = error.kind().keyword();
            let code: &'static str = match keyword {
                "minimum" | "exclusiveMinimum" => "migspec::schema::minimum",
                "maximum" | "exclusiveMaximum" => "migspec::schema::maximum",
                "minLength" => "migspec::schema::min_length",
                "maxLength" => "migspec::schema::max_length",
                "minItems" => "migspec::schema::min_items",
                "maxItems" => "migspec::schema::max_items",
                "pattern" => "migspec::schema::pattern",
                "format" => "migspec::schema::format",
                _ => "migspec::schema::invalid",
            };
            let described = parent_schema
                .and_then(|schema| schema.get("description"))
                .and_then(Value::as_str)
                .map(|text| text.split_whitespace().collect::<Vec<_>>().join(" "));
            let help = match (keyword, described) {
                ("pattern", Some(text)) => {
                    format!("{text} (pattern `{}`)", pattern_of(parent_schema))
                }
                ("pattern", None) => {
                    format!("write a value matching `{}`", pattern_of(parent_schema))
                }
                (_, Some(text)) => text,
                (_, None) => "see `migspec schema` for the allowed values".to_owned(),
            };
            let label = match keyword {
                "pattern" | "format" => "does not have the expected form",
                "minLength" | "maxLength" => "has the wrong length",
                "minItems" | "maxItems" => "has the wrong number of entries",
                _ => "is out of range",
            };
            context.error_labelled(
                code,
                &pointer,
                format!(
                    "invalid `{field}`: {}",
                    keyword_message(keyword, parent_schema, instance, error)
                ),
                format!("{} {label}", describe_value(instance)),
                help,
            );
        }
    }
    true
}

/// What a keyword error says. Lengths are said as numbers, and a long string is never
/// quoted whole: jsonschema's own message repeats the value, and a 70,000-character value
/// would fill the terminal.
fn keyword_message(
    keyword: &str,
    schema: Option<&Value>,
    instance: &Value,
    error: &ValidationError<'_>,
) -> String {
    let limit = |name: &str| {
        schema
            .and_then(|schema| schema.get(name))
            .and_then(Value::as_u64)
    };
    let length = instance.as_str().map(|text| text.chars().count());
    match (keyword, length) {
        ("maxLength", Some(length)) => match limit("maxLength") {
            Some(max) => format!("{length} characters, at most {max} characters allowed"),
            None => format!("{length} characters is too long"),
        },
        ("minLength", Some(length)) => match limit("minLength") {
            Some(min) => format!("{length} characters, at least {min} required"),
            None => format!("{length} characters is too short"),
        },
        (_, Some(length)) if length > 40 => {
            let quoted = serde_json::to_string(instance).unwrap_or_default();
            error
                .to_string()
                .replacen(&quoted, &format!("the {length}-character value"), 1)
        }
        _ => error.to_string(),
    }
}

fn pattern_of(schema: Option<&Value>) -> String {
    schema
        .and_then(|schema| schema.get("pattern"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn type_matches(expected: &str, instance: &Value) -> bool {
    match expected {
        "array" => instance.is_array(),
        "object" => instance.is_object(),
        "string" => instance.is_string(),
        "integer" => instance.is_i64() || instance.is_u64(),
        "number" => instance.is_number(),
        "boolean" => instance.is_boolean(),
        _ => false,
    }
}

/// A plausible environment variable name for a secret field: `ORDERS_TO_CDB_SRC_PASSWORD`.
fn suggest_variable(root: &Node, pointer: &str) -> String {
    let name = root
        .pointer("/metadata/name")
        .and_then(|node| match &node.value {
            NodeValue::String(name) => Some(name.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let mut parts: Vec<String> = vec![name];
    for segment in pointer.split('/').skip(2) {
        if segment.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let cleaned = segment
            .trim_end_matches("Info")
            .trim_end_matches("_node")
            .to_owned();
        parts.push(cleaned);
    }
    let mut variable = String::new();
    for part in parts.iter().filter(|part| !part.is_empty()) {
        if !variable.is_empty() {
            variable.push('_');
        }
        let mut previous_lower = false;
        for character in part.chars() {
            if character.is_ascii_uppercase() && previous_lower {
                variable.push('_');
            }
            previous_lower = character.is_ascii_lowercase() || character.is_ascii_digit();
            variable.push(if character.is_ascii_alphanumeric() {
                character.to_ascii_uppercase()
            } else {
                '_'
            });
        }
    }
    variable
}

/// A diagnostic about two documents that declare the same address.
pub(crate) fn duplicate_name(first: &NameSite, second: &NameSite) -> Diagnostic {
    let name = &second.name;
    let first_position = first.file.line_column(first.span.offset);
    let related = Diagnostic::error(
        "migspec::spec::duplicate_name",
        format!("`{name}` is first defined here"),
    )
    .in_file(&first.file)
    .with_label(first.span, Some("first definition".to_owned()), true)
    .with_field("/metadata/name");
    Diagnostic::error(
        "migspec::spec::duplicate_name",
        format!(
            "`metadata.name: {name}` is already used by {}:{}:{}",
            first.file.name(),
            first_position.0,
            first_position.1
        ),
    )
    .in_file(&second.file)
    .with_label(second.span, Some("duplicate name".to_owned()), true)
    .with_field("/metadata/name")
    .with_help(
        "every spec needs its own `metadata.name`: it is the address migspec tracks the job by",
    )
    .with_related(related)
}
