//! What a provider's cross-field rules write to: a collector of [`Problem`]s by JSON pointer,
//! and the rules every kind shares (lifecycle timeouts).
//!
//! A provider's [`Provider::validate`](crate::Provider::validate) runs its kind's rules over
//! the typed document and returns the collected problems; `migspec-schema` locates each
//! pointer in the YAML and renders it with the same code, message, label and help.
//!
//! ```
//! use migspec_provider::rules::Problems;
//!
//! let mut problems = Problems::default();
//! problems.error_at("x::rule", "/spec/port", "`port` must be above 1024", "write 1025 or more");
//! assert_eq!(problems.into_vec()[0].field, "/spec/port");
//! ```

use migspec_spec::model::Timeouts;

use crate::{Problem, ProblemSeverity};

/// The problems found in one document, in the order the rules found them.
#[derive(Debug, Default)]
pub struct Problems {
    problems: Vec<Problem>,
}

impl Problems {
    /// An error about the field at `pointer`.
    pub fn error_at(
        &mut self,
        code: &str,
        pointer: &str,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.problems
            .push(Problem::error(code, pointer, message, help));
    }

    /// An error about the field at `pointer`, with a label on its value.
    pub fn error_labelled(
        &mut self,
        code: &str,
        pointer: &str,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.problems
            .push(Problem::error(code, pointer, message, help).labelled(label));
    }

    /// A warning about the field at `pointer`.
    pub fn warning_at(
        &mut self,
        code: &str,
        pointer: &str,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.problems
            .push(Problem::error(code, pointer, message, help).warning());
    }

    /// Whether an error (not a warning) was found.
    #[must_use]
    pub fn has_errors(&self) -> bool {
        self.problems
            .iter()
            .any(|problem| problem.severity == ProblemSeverity::Error)
    }

    /// The problems.
    #[must_use]
    pub fn into_vec(self) -> Vec<Problem> {
        self.problems
    }
}

/// Every `lifecycle.timeouts` entry must parse as a duration (all kinds share the field).
pub fn check_timeouts(timeouts: Option<&Timeouts>, problems: &mut Problems) {
    for (phase, duration) in timeouts.map(Timeouts::entries).unwrap_or_default() {
        if let Err(error) = duration.parse() {
            problems.error_at(
                "migspec::rule::timeout",
                &format!("/lifecycle/timeouts/{phase}"),
                format!("`lifecycle.timeouts.{phase}` is not a duration: {error}"),
                "write a duration such as `90s`, `15m`, `1h 30m` or `2d`",
            );
        }
    }
}

/// A problem reporting a document that does not match its kind's typed model although it
/// passed the kind's schema: a bug in the provider's schema.
#[must_use]
pub fn model_mismatch(kind: &str, error: &impl std::fmt::Display) -> Problem {
    Problem::error(
        "migspec::schema::invalid",
        "",
        format!("the document does not match the {kind} model: {error}"),
        "this is a bug in migspec's schema; please report it with this file",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_errors_labels_and_warnings_in_order() {
        let mut problems = Problems::default();
        problems.warning_at("c::w", "/a", "warned", "look");
        assert!(!problems.has_errors());
        problems.error_labelled("c::e", "/b", "wrong", "found 3", "write 4");
        assert!(problems.has_errors());
        let list = problems.into_vec();
        assert_eq!(list[0].severity, ProblemSeverity::Warning);
        assert_eq!(list[1].label.as_deref(), Some("found 3"));
        assert_eq!(list[1].field, "/b");
    }

    #[test]
    fn a_bad_timeout_is_reported_at_its_field() {
        let timeouts: Timeouts =
            serde_json::from_value(serde_json::json!({"check": "soon"})).expect("a timeouts map");
        let mut problems = Problems::default();
        check_timeouts(Some(&timeouts), &mut problems);
        let list = problems.into_vec();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].field, "/lifecycle/timeouts/check");
        assert!(list[0].message.contains("not a duration"), "{list:?}");
    }
}
