//! migspec spec documents: the typed model of every kind, strict YAML loading with byte
//! spans, secret references, and located diagnostics.
//!
//! Start with [`load::discover`] and [`load::load_file`] to read spec files into
//! [`load::LoadedDocument`]s (a YAML tree with spans per document), then let
//! `migspec-schema` validate them into typed [`model::SpecDocument`]s.
//!
//! ```
//! use migspec_spec::yaml::parse_documents;
//!
//! let source = "metadata:\n  name: orders\n";
//! let documents = parse_documents(source).unwrap();
//! let name = documents[0].locate("/metadata/name");
//! assert_eq!(&source[name.value.offset..][..name.value.len], "orders");
//! ```

pub mod diagnostic;
pub mod load;
pub mod model;
pub mod secret;
pub mod yaml;

pub use diagnostic::{Diagnostic, Severity, SourceFile};
pub use model::{Kind, SpecDocument};
