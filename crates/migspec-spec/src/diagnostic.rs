//! Located problems in spec files, rendered by miette at the edge.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{MietteSpanContents, SourceCode, SpanContents};

use crate::yaml::Span;

/// A spec file's text, kept for diagnostics.
#[derive(Debug)]
pub struct SourceFile {
    path: PathBuf,
    name: String,
    text: Arc<str>,
}

impl SourceFile {
    /// A file read from `path`, shown as `path` in messages.
    #[must_use]
    pub fn new(path: impl Into<PathBuf>, text: impl Into<Arc<str>>) -> Self {
        let path = path.into();
        let name = path.display().to_string();
        Self {
            path,
            name,
            text: text.into(),
        }
    }

    /// The path the file was read from.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The name shown in messages.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The text.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The 1-based line and column (in characters) of a byte offset.
    #[must_use]
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        line_column(&self.text, offset)
    }
}

/// The 1-based line and column (in characters) of a byte offset in `text`.
#[must_use]
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.bytes().filter(|&byte| byte == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

impl SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, miette::MietteError> {
        let contents = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(
            MietteSpanContents::new_named(
                self.name.clone(),
                contents.data(),
                *contents.span(),
                contents.line(),
                contents.column(),
                contents.line_count(),
            )
            .with_language("yaml"),
        ))
    }
}

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The spec set cannot be used.
    Error,
    /// Worth a look; does not fail validation.
    Warning,
}

/// A labelled place in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What is there.
    pub text: Option<String>,
    /// Whether this is the main place of the problem.
    pub primary: bool,
}

/// Where a problem is, for files that could not be read as text.
#[derive(Debug, Clone)]
pub enum Origin {
    /// A file whose text we have.
    Source(Arc<SourceFile>),
    /// A path whose text we do not have (unreadable, binary, not UTF-8, too large).
    Path {
        /// The path as shown.
        name: String,
        /// 1-based line and column, when known.
        position: Option<(usize, usize)>,
    },
    /// Not about a file (e.g. a bad argument).
    None,
}

/// One problem found in the spec set.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// A stable code such as `migspec::schema::enum`.
    pub code: Cow<'static, str>,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// Where.
    pub origin: Origin,
    /// The labelled places, primary first.
    pub labels: Vec<Label>,
    /// What to do about it.
    pub help: Option<String>,
    /// The field, as a JSON pointer into the document (e.g. `/spec/MigrateOption/RunMode`).
    pub field: Option<String>,
    /// Other places that belong to the problem, possibly in other files.
    pub related: Vec<Diagnostic>,
}

impl Diagnostic {
    /// An error with a code and a message, not yet located.
    #[must_use]
    pub fn error(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            severity: Severity::Error,
            message: message.into(),
            origin: Origin::None,
            labels: Vec::new(),
            help: None,
            field: None,
            related: Vec::new(),
        }
    }

    /// The same, as a warning.
    #[must_use]
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    /// Places the problem in a file.
    #[must_use]
    pub fn in_file(mut self, file: &Arc<SourceFile>) -> Self {
        self.origin = Origin::Source(Arc::clone(file));
        self
    }

    /// Places the problem at a path whose text is not available.
    #[must_use]
    pub fn at_path(mut self, path: &Path, position: Option<(usize, usize)>) -> Self {
        self.origin = Origin::Path {
            name: path.display().to_string(),
            position,
        };
        self
    }

    /// Adds a label.
    #[must_use]
    pub fn with_label(mut self, span: Span, text: Option<String>, primary: bool) -> Self {
        self.labels.push(Label {
            span,
            text,
            primary,
        });
        self
    }

    /// Adds the help line.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Names the field.
    #[must_use]
    pub fn with_field(mut self, pointer: impl Into<String>) -> Self {
        self.field = Some(pointer.into());
        self
    }

    /// Adds a related diagnostic.
    #[must_use]
    pub fn with_related(mut self, related: Diagnostic) -> Self {
        self.related.push(related);
        self
    }

    /// The file name, when the problem is in a file.
    #[must_use]
    pub fn file_name(&self) -> Option<&str> {
        match &self.origin {
            Origin::Source(file) => Some(file.name()),
            Origin::Path { name, .. } => Some(name),
            Origin::None => None,
        }
    }

    /// The 1-based line and column of the primary label.
    #[must_use]
    pub fn position(&self) -> Option<(usize, usize)> {
        match &self.origin {
            Origin::Source(file) => {
                let label = self
                    .labels
                    .iter()
                    .find(|label| label.primary)
                    .or(self.labels.first())?;
                Some(file.line_column(label.span.offset))
            }
            Origin::Path { position, .. } => *position,
            Origin::None => None,
        }
    }

    /// Whether this is an error (as opposed to a warning).
    #[must_use]
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        match &self.origin {
            Origin::Source(file) => Some(file.as_ref()),
            _ => None,
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        if !matches!(self.origin, Origin::Source(_)) || self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().map(|label| {
            if label.primary {
                miette::LabeledSpan::new_primary_with_span(label.text.clone(), label.span)
            } else {
                miette::LabeledSpan::new_with_span(label.text.clone(), label.span)
            }
        })))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related
                .iter()
                .map(|related| related as &dyn miette::Diagnostic),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let text = "a: 1\nnamé: x\n";
        let offset = text.find('x').unwrap();
        assert_eq!(line_column(text, offset), (2, 7));
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 10_000), (3, 1));
    }

    #[test]
    fn position_comes_from_the_primary_label() {
        let file = Arc::new(SourceFile::new("x.yaml", "a: 1\nb: 2\n"));
        let diagnostic = Diagnostic::error("migspec::test", "bad")
            .in_file(&file)
            .with_label(Span::new(0, 1), None, false)
            .with_label(Span::new(5, 1), Some("here".into()), true);
        assert_eq!(diagnostic.position(), Some((2, 1)));
        assert_eq!(diagnostic.file_name(), Some("x.yaml"));
    }
}
