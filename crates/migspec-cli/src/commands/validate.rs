//! `migspec validate`: offline validation of spec files.

use migspec_schema::Options;

use super::ExitStatus;
use crate::args::{Format, ValidateArgs};
use crate::view::{self, diagnostics};

pub(crate) fn run(args: &ValidateArgs) -> ExitStatus {
    let options = Options {
        allow_literal_secrets: args.allow_literal_secrets,
    };
    // The providers own their kinds: the built-in ones and the plugins migspec.yaml pins
    // are loaded first, so that each kind is checked by its provider's schema and rules.
    let validator = match super::workspace::offline_validator(&args.config) {
        Ok(validator) => validator,
        Err(message) => {
            super::plan::fail(&message);
            return ExitStatus::Failure;
        }
    };
    let report = migspec_schema::validate_paths_with(&validator, &args.paths, options);
    let summary = diagnostics::Summary {
        files: report.files,
        specs: report.documents.len(),
    };
    match args.format {
        Format::Human => {
            if !report.diagnostics.is_empty() {
                view::err(diagnostics::human(&report.diagnostics, view::stderr_color()).trim_end());
            }
            let errors = report.diagnostics.iter().filter(|d| d.is_error()).count();
            let warnings = report.diagnostics.len() - errors;
            let line = if errors > 0 {
                format!(
                    "{errors} {} in {} {} ({} {})",
                    plural(errors, "error", "errors"),
                    report.files,
                    plural(report.files, "file", "files"),
                    warnings,
                    plural(warnings, "warning", "warnings"),
                )
            } else if report.files == 0 {
                "no spec files found".to_owned()
            } else {
                let mut line = format!(
                    "{} {} in {} {} valid",
                    summary.specs,
                    plural(summary.specs, "spec", "specs"),
                    report.files,
                    plural(report.files, "file", "files"),
                );
                if warnings > 0 {
                    line.push_str(&format!(
                        " ({warnings} {})",
                        plural(warnings, "warning", "warnings")
                    ));
                }
                line
            };
            view::err(&line);
        }
        Format::Json => view::out(&diagnostics::json(&report.diagnostics, &summary)),
        Format::Github => {
            let text = diagnostics::github(&report.diagnostics);
            if !text.is_empty() {
                view::out(text.trim_end());
            }
        }
    }
    if report.has_errors() || report.files == 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

fn plural<'a>(count: usize, one: &'a str, many: &'a str) -> &'a str {
    if count == 1 { one } else { many }
}
