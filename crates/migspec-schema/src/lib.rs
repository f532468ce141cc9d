//! JSON Schema generation and validation of migspec specs.
//!
//! [`generate`] builds the schemas (checked in under `schemas/`) from the spec types;
//! [`validate_paths_with`] loads every spec file under some paths, checks each document's
//! envelope, validates it against the JSON Schema its provider describes and runs the
//! provider's own rules (`Provider::validate`, whose problems carry JSON pointers that are
//! located here in the YAML), and checks the set as a whole (unique `metadata.name`). The
//! set of kinds is open: a plugin's kind is validated exactly like a built-in one. Problems come back as located [`Diagnostic`]s; a spec
//! set with errors is never planned.
//!
//! ```
//! use migspec_schema::{Options, validate_source};
//!
//! let report = validate_source("inline.yaml", "apiVersion: migspec/v1\nkind: Nope\n", Options::default());
//! assert_eq!(report.diagnostics[0].code, "migspec::schema::unknown_kind");
//! assert!(report.documents.is_empty());
//! ```

pub mod generate;
mod validate;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use migspec_spec::load::{self, LoadedDocument};
use migspec_spec::{Diagnostic, SourceFile};
use rayon::prelude::*;

use validate::NameSite;
pub use validate::{Options, ValidDocument, Validator, ValidatorError, closest, display_path};

/// The outcome of validating a spec set.
#[derive(Debug, Default)]
pub struct Report {
    /// The spec files read.
    pub files: usize,
    /// Documents that passed, in file order (empty when any document failed).
    pub documents: Vec<ValidDocument>,
    /// Every problem found, in file and position order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    /// Whether any problem is an error.
    #[must_use]
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Number of documents read, valid or not.
    #[must_use]
    pub fn document_count(&self) -> usize {
        self.documents.len()
    }
}

/// Loads and validates every spec file under `paths` against the built-in kinds' schemas
/// (no provider rules: see [`validate_paths_with`]). Files are parsed and validated in
/// parallel; every problem in every file is reported.
#[must_use]
pub fn validate_paths(paths: &[PathBuf], options: Options) -> Report {
    validate_paths_with(Validator::global(), paths, options)
}

/// Loads and validates every spec file under `paths` with `validator` (for the CLI: one made
/// by [`Validator::for_providers`] from the built-in providers and the pinned plugins, so
/// each kind is checked by its provider's schema and rules).
#[must_use]
pub fn validate_paths_with(validator: &Validator, paths: &[PathBuf], options: Options) -> Report {
    let (files, mut diagnostics) = load::discover(paths);
    let per_file: Vec<(Vec<Checked>, Vec<Diagnostic>)> = files
        .par_iter()
        .map(|path| match load::load_file(path) {
            Ok(documents) => validate_loaded(validator, documents, options),
            Err(diagnostic) => (Vec::new(), vec![*diagnostic]),
        })
        .collect();
    let mut loaded = Vec::new();
    for (documents, problems) in per_file {
        loaded.extend(documents);
        diagnostics.extend(problems);
    }
    finish(files.len(), loaded, diagnostics)
}

/// Validates one file given as text (for tests and editors), built-in schemas only.
#[must_use]
pub fn validate_source(name: &str, text: &str, options: Options) -> Report {
    validate_source_with(Validator::global(), name, text, options)
}

/// Validates one file given as text with `validator`.
#[must_use]
pub fn validate_source_with(
    validator: &Validator,
    name: &str,
    text: &str,
    options: Options,
) -> Report {
    let file = Arc::new(SourceFile::new(name, text));
    match load::parse_file(&file) {
        Ok(documents) => {
            let (loaded, diagnostics) = validate_loaded(validator, documents, options);
            finish(1, loaded, diagnostics)
        }
        Err(diagnostic) => finish(1, Vec::new(), vec![*diagnostic]),
    }
}

/// One document after validation: the YAML tree is dropped, only what the set needs is kept.
struct Checked {
    name: Option<NameSite>,
    valid: Option<ValidDocument>,
}

fn validate_loaded(
    validator: &Validator,
    documents: Vec<LoadedDocument>,
    options: Options,
) -> (Vec<Checked>, Vec<Diagnostic>) {
    let mut out = Vec::with_capacity(documents.len());
    let mut diagnostics = Vec::new();
    for document in documents {
        let (valid, problems) = validator.validate_document(&document, options);
        diagnostics.extend(problems);
        out.push(Checked {
            name: NameSite::of(&document),
            valid,
        });
    }
    (out, diagnostics)
}

fn finish(files: usize, loaded: Vec<Checked>, mut diagnostics: Vec<Diagnostic>) -> Report {
    // Names must be unique across the whole set, valid documents or not, so that a typo in
    // one spec does not hide a clash with another.
    let mut seen: HashMap<&str, &NameSite> = HashMap::new();
    for site in loaded.iter().filter_map(|checked| checked.name.as_ref()) {
        match seen.get(site.name.as_str()) {
            Some(first) => diagnostics.push(validate::duplicate_name(first, site)),
            None => {
                seen.insert(&site.name, site);
            }
        }
    }
    diagnostics.sort_by(|a, b| (a.file_name(), a.position()).cmp(&(b.file_name(), b.position())));
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    let documents = if has_errors {
        Vec::new()
    } else {
        loaded
            .into_iter()
            .filter_map(|checked| checked.valid)
            .collect()
    };
    Report {
        files,
        documents,
        diagnostics,
    }
}
