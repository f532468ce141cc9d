//! Rendering: the only place that writes to the terminal.
//!
//! Standard output carries only what can be piped (JSON, annotations, schemas); messages for
//! people go to standard error.
//!
//! # Colour
//!
//! One policy for every output, anstream's (the one clap and cargo follow): `NO_COLOR`
//! (non-empty) turns colour off, `CLICOLOR_FORCE` (non-empty) turns it on, `CLICOLOR=0` turns
//! it off, and otherwise a stream is coloured only when it is a terminal (and `TERM` is not
//! `dumb`). [`stdout_color`] and [`stderr_color`] decide before painting, and [`out`]/[`err`]
//! write through anstream, which strips whatever colour a stream must not carry.

pub(crate) mod diagnostics;
pub(crate) mod plan;
pub(crate) mod progress;
pub(crate) mod table;

use std::io::{IsTerminal, Write};

use anstream::{AutoStream, ColorChoice};

/// Whether to colour standard error (see the module's "Colour").
pub(crate) fn stderr_color() -> bool {
    AutoStream::choice(&std::io::stderr()) != ColorChoice::Never
}

/// Whether to colour standard output (see the module's "Colour").
pub(crate) fn stdout_color() -> bool {
    AutoStream::choice(&std::io::stdout()) != ColorChoice::Never
}

/// Whether standard error is a terminal.
pub(crate) fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// `text` in `style` when `color`, else as it is.
pub(crate) fn paint(color: bool, style: anstyle::Style, text: &str) -> String {
    if color {
        format!("{style}{text}{style:#}")
    } else {
        text.to_owned()
    }
}

/// Red, for failures.
pub(crate) const RED: anstyle::Style =
    anstyle::Style::new().fg_color(Some(anstyle::Color::Ansi(anstyle::AnsiColor::Red)));
/// Green, for what converged.
pub(crate) const GREEN: anstyle::Style =
    anstyle::Style::new().fg_color(Some(anstyle::Color::Ansi(anstyle::AnsiColor::Green)));
/// Yellow, for what needs attention.
pub(crate) const YELLOW: anstyle::Style =
    anstyle::Style::new().fg_color(Some(anstyle::Color::Ansi(anstyle::AnsiColor::Yellow)));
/// Bold, for headings and summaries.
pub(crate) const BOLD: anstyle::Style = anstyle::Style::new().bold();

/// Writes to standard error without a newline (a prompt).
pub(crate) fn err_inline(text: &str) {
    let mut stderr = anstream::stderr().lock();
    let _ = write!(stderr, "{text}");
    let _ = stderr.flush();
}

/// Writes a line to standard output. A closed pipe (`migspec … | head`) is not an error.
pub(crate) fn out(text: &str) {
    let mut stdout = anstream::stdout().lock();
    let _ = writeln!(stdout, "{text}");
}

/// Writes a line to standard error.
pub(crate) fn err(text: &str) {
    let mut stderr = anstream::stderr().lock();
    let _ = writeln!(stderr, "{text}");
}
