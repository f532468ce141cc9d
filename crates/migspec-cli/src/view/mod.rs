//! Rendering: the only place that writes to the terminal.
//!
//! Standard output carries only what can be piped (JSON, annotations, schemas); messages for
//! people go to standard error. Colour follows the terminal and `NO_COLOR`.

pub(crate) mod diagnostics;
pub(crate) mod plan;
pub(crate) mod progress;
pub(crate) mod table;

use std::io::{IsTerminal, Write};

/// Whether to colour standard error.
pub(crate) fn stderr_color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
        && std::io::stderr().is_terminal()
}

/// Whether standard output is a terminal.
pub(crate) fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Whether standard error is a terminal.
pub(crate) fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// Writes to standard error without a newline (a prompt).
pub(crate) fn err_inline(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "{text}");
    let _ = stderr.flush();
}

/// Writes a line to standard output. A closed pipe (`migspec … | head`) is not an error.
pub(crate) fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}");
}

/// Writes a line to standard error.
pub(crate) fn err(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{text}");
}
