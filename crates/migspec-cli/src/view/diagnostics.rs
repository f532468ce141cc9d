//! Diagnostics in the three formats of `migspec validate`.
//!
//! # JSON format (`--format json`, version 1)
//!
//! ```json
//! {
//!   "format_version": "1",
//!   "valid": false,
//!   "files": 2,
//!   "specs": 3,
//!   "errors": 1,
//!   "warnings": 0,
//!   "diagnostics": [
//!     {"severity": "error", "code": "migspec::schema::enum", "message": "…",
//!      "file": "specs/orders.yaml", "line": 12, "column": 14, "field": "/spec/MigrateOption/RunMode",
//!      "help": "…", "related": []}
//!   ]
//! }
//! ```
//!
//! `line` and `column` are 1-based (columns count characters); `file`, `line`, `column`,
//! `field` and `help` are `null` when not applicable. Minor versions only add fields.

use migspec_spec::Diagnostic;
use serde_json::{Value, json};

/// The version of the JSON format.
pub(crate) const FORMAT_VERSION: &str = "1";

/// Renders diagnostics for people (miette, with source snippets).
pub(crate) fn human(diagnostics: &[Diagnostic], color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false)
        .with_context_lines(1);
    let mut out = String::new();
    for diagnostic in diagnostics {
        if handler.render_report(&mut out, diagnostic).is_err() {
            out.push_str(&one_line(diagnostic));
        }
        if let migspec_spec::diagnostic::Origin::Path { name, position } = &diagnostic.origin {
            let at =
                position.map_or_else(String::new, |(line, column)| format!(":{line}:{column}"));
            out.push_str(&format!("  at {name}{at}\n"));
        }
        out.push('\n');
    }
    out
}

/// `file:line:col: code: message`, for places where a snippet cannot be drawn.
pub(crate) fn one_line(diagnostic: &Diagnostic) -> String {
    let place = match (diagnostic.file_name(), diagnostic.position()) {
        (Some(file), Some((line, column))) => format!("{file}:{line}:{column}: "),
        (Some(file), None) => format!("{file}: "),
        _ => String::new(),
    };
    format!("{place}{}: {}\n", diagnostic.code, diagnostic.message)
}

fn diagnostic_json(diagnostic: &Diagnostic) -> Value {
    let (line, column) = diagnostic
        .position()
        .map_or((Value::Null, Value::Null), |(line, column)| {
            (json!(line), json!(column))
        });
    json!({
        "severity": diagnostic.severity,
        "code": diagnostic.code,
        "message": diagnostic.message,
        "file": diagnostic.file_name(),
        "line": line,
        "column": column,
        "field": diagnostic.field,
        "help": diagnostic.help,
        "related": diagnostic.related.iter().map(diagnostic_json).collect::<Vec<_>>(),
    })
}

/// Counts for the summary.
pub(crate) struct Summary {
    /// Spec files read.
    pub(crate) files: usize,
    /// Valid spec documents.
    pub(crate) specs: usize,
}

/// The versioned JSON document.
pub(crate) fn json(diagnostics: &[Diagnostic], summary: &Summary) -> String {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let document = json!({
        "format_version": FORMAT_VERSION,
        "valid": errors == 0,
        "files": summary.files,
        "specs": summary.specs,
        "errors": errors,
        "warnings": diagnostics.len() - errors,
        "diagnostics": diagnostics.iter().map(diagnostic_json).collect::<Vec<_>>(),
    });
    serde_json::to_string_pretty(&document).expect("a JSON value always serializes")
}

/// Escapes a workflow-command property or message (`%`, CR, LF; and `:`/`,` in properties).
fn escape(text: &str, property: bool) -> String {
    let mut out = text
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        out = out.replace(':', "%3A").replace(',', "%2C");
    }
    out
}

/// GitHub Actions annotations, one per line.
pub(crate) fn github(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let level = if diagnostic.is_error() {
            "error"
        } else {
            "warning"
        };
        let mut properties = Vec::new();
        if let Some(file) = diagnostic.file_name() {
            properties.push(format!("file={}", escape(file, true)));
        }
        if let Some((line, column)) = diagnostic.position() {
            properties.push(format!("line={line}"));
            properties.push(format!("col={column}"));
        }
        properties.push(format!("title={}", escape(&diagnostic.code, true)));
        let mut message = diagnostic.message.clone();
        if let Some(help) = &diagnostic.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{level} {}::{}\n",
            properties.join(","),
            escape(&message, false)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_escape_their_properties_and_message() {
        let diagnostic = Diagnostic::error("migspec::x", "50% done\nnext").with_help("a, b");
        let text = github(&[diagnostic]);
        assert_eq!(
            text,
            "::error title=migspec%3A%3Ax::50%25 done%0Anext%0Ahelp: a, b\n"
        );
    }
}
