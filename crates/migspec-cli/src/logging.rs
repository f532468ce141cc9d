//! Diagnostic logs: `tracing` events from the runner and the providers, written to stderr.
//!
//! Off by default (stderr carries the progress display and errors). `-v` shows what the run
//! decides (retries, throttling, credential sources), `-vv` every API call (provider,
//! action, region, request id, duration, outcome), `-vvv` everything. `MIGSPEC_LOG` takes
//! an env-filter directive (`migspec=debug`, `migspec::calls=trace`) and wins over `-v`.
//!
//! Secrets never reach a log: the events carry credential *sources*, never keys, and no
//! request body or signed header is ever an event field.

use tracing_subscriber::EnvFilter;

/// The environment variable with an env-filter directive.
pub(crate) const LOG_ENV: &str = "MIGSPEC_LOG";

/// The filter for `-v` repeated `verbosity` times.
fn directive(verbosity: u8) -> &'static str {
    match verbosity {
        0 => "off",
        1 => "info",
        2 => "debug",
        _ => "trace",
    }
}

/// Installs the stderr logger. A `MIGSPEC_LOG` that does not parse is reported once and
/// ignored (the run goes on with `-v`'s level).
pub(crate) fn init(verbosity: u8) {
    let (filter, bad) = match std::env::var(LOG_ENV) {
        Ok(text) if !text.trim().is_empty() => match EnvFilter::try_new(&text) {
            Ok(filter) => (filter, None),
            Err(error) => (EnvFilter::new(directive(verbosity)), Some((text, error))),
        },
        _ => (EnvFilter::new(directive(verbosity)), None),
    };
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(true)
        .try_init()
        .is_ok();
    if installed && let Some((text, error)) = bad {
        crate::view::err(&format!(
            "warning: {LOG_ENV}=`{text}` is not a log filter ({error}); use e.g. `migspec=debug` or `migspec::calls=debug`"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_v_raises_the_level_and_every_directive_parses() {
        assert_eq!(directive(0), "off");
        assert_eq!(directive(1), "info");
        assert_eq!(directive(2), "debug");
        assert_eq!(directive(9), "trace");
        for verbosity in 0..4 {
            assert!(EnvFilter::try_new(directive(verbosity)).is_ok());
        }
    }
}
