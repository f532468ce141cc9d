//! Apply progress: indicatif bars on a terminal (per job: phase and percent; overall
//! counts), plain timestamped lines otherwise (CI logs). Both go to standard error.
//!
//! A bar shows where its job really is: the last percent the cloud reported, never a
//! filled bar for a job that failed or was interrupted (indicatif's `finish()` fills it, so
//! bars end with `abandon`). Anything printed while bars draw goes through
//! [`Progress::notice`], above the bars, because a plain write is erased by the next redraw.

use std::collections::BTreeMap;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use migspec_provider::{ActionKind, Address, Failure, Observed, Phase};
use migspec_runner::engine::{Event, Outcome, Reporter};

use super::{GREEN, RED, YELLOW, paint};

/// The time of day in UTC, with its zone (`14:03:07Z`): CI logs are read from other zones.
fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .get(11..20)
        .unwrap_or_default()
        .to_owned()
}

/// `check_passed`, as the JSON spells phases.
fn phase_name(phase: Phase) -> String {
    serde_json::to_value(phase)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// `check_passed 45% (loader)`.
pub(crate) fn where_is(observed: &Observed) -> String {
    let Some(object) = observed.object() else {
        return "gone".to_owned();
    };
    let mut text = phase_name(object.phase);
    if let Some(progress) = &object.progress {
        if let Some(percent) = progress.percent {
            text.push_str(&format!(" {percent:.0}%"));
        }
        if let Some(step) = &progress.step {
            text.push_str(&format!(" ({step})"));
        }
        if let Some(message) = &progress.message {
            text.push_str(&format!(" {message}"));
        }
    }
    text
}

/// `check failed: source unreachable [FailedOperation]`, then one indented line per detail.
pub(crate) fn failure_text(action: ActionKind, failure: &Failure) -> String {
    let mut text = format!("{} failed: {}", action.verb(), failure.message);
    if let Some(code) = &failure.code {
        text.push_str(&format!(" [{code}]"));
    }
    for detail in &failure.details {
        text.push_str(&format!("\n    {detail}"));
    }
    text
}

/// One line for an outcome (without the address).
fn outcome_text(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Converged => "✔ matches its spec".to_owned(),
        Outcome::LeftInFlight { phase, .. } => format!(
            "left in flight ({}); `migspec status` follows it, `migspec apply` finishes it",
            phase_name(*phase)
        ),
        Outcome::Failed { action, failure } => format!("✘ {}", failure_text(*action, failure)),
        Outcome::Interrupted => "interrupted before its next step".to_owned(),
    }
}

/// One line for an event, or `None` when it repeats what was said.
fn line(event: &Event, last: &Mutex<BTreeMap<Address, String>>) -> Option<String> {
    match event {
        Event::StepStarted {
            address,
            action,
            position: (index, total),
        } => Some(format!(
            "{address}: {} {} ({index}/{total})",
            action.symbol(),
            action.verb()
        )),
        Event::Observed { address, observed } => {
            let text = where_is(observed);
            let mut last = last
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if last.get(address) == Some(&text) {
                return None;
            }
            let id = observed
                .object()
                .map_or_else(String::new, |object| format!(" [{}]", object.id));
            last.insert(address.clone(), text.clone());
            Some(format!("{address}{id}: {text}"))
        }
        Event::StepDone { address, action } => Some(format!("{address}: {} done", action.verb())),
        Event::Recovering {
            address,
            attempt,
            failure,
        } => Some(format!(
            "{address}: failed ({}); recovering per onFailure, attempt {attempt}",
            failure.message
        )),
        Event::Finished { address, outcome } => {
            Some(format!("{address}: {}", outcome_text(outcome)))
        }
    }
}

/// `text` with every line broken at spaces to at most `width` columns (a word longer than
/// that stays whole: the terminal wraps it). Eleven lines do not warrant a dependency
/// (textwrap) on their own.
fn wrap(text: &str, width: usize) -> String {
    let width = width.max(20);
    let mut out = String::new();
    for line in text.lines() {
        let mut column = 0;
        for word in line.split(' ') {
            let length = console::measure_text_width(word);
            if column > 0 && column + 1 + length > width {
                out.push('\n');
                column = 0;
            } else if column > 0 {
                out.push(' ');
                column += 1;
            }
            out.push_str(word);
            column += length;
        }
        out.push('\n');
    }
    out.pop();
    out
}

/// Elsewhere the console keeps its modes.
#[cfg(not(unix))]
struct QuietKeys;

#[cfg(not(unix))]
impl QuietKeys {
    fn new() -> Self {
        Self
    }

    fn restore(&self) {}
}

/// The per-job bars.
struct Bars {
    /// The address column: as wide as the longest address, at most [`PREFIX_WIDTH`], so
    /// that a narrow terminal keeps its room for the message.
    prefix_width: usize,
    multi: MultiProgress,
    overall: ProgressBar,
    bars: Mutex<BTreeMap<Address, ProgressBar>>,
    echo: QuietKeys,
}

/// While bars draw, the terminal does not echo what is typed: the `^C` of a Ctrl-C (or any
/// key) would be written where the cursor is, at the end of the last bar, and push every
/// later redraw one line down, leaving a stale copy of the bars on the screen. The saved
/// modes are put back when the bars stop (a forced exit too).
#[cfg(unix)]
struct QuietKeys(Mutex<Option<rustix::termios::Termios>>);

#[cfg(unix)]
impl QuietKeys {
    fn new() -> Self {
        let stderr = std::io::stderr();
        let saved = rustix::termios::tcgetattr(&stderr).ok().filter(|saved| {
            let mut quiet = saved.clone();
            quiet
                .local_modes
                .remove(rustix::termios::LocalModes::ECHO | rustix::termios::LocalModes::ECHOCTL);
            rustix::termios::tcsetattr(&stderr, rustix::termios::OptionalActions::Now, &quiet)
                .is_ok()
        });
        Self(Mutex::new(saved))
    }

    fn restore(&self) {
        let saved = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(saved) = saved {
            let _ = rustix::termios::tcsetattr(
                std::io::stderr(),
                rustix::termios::OptionalActions::Now,
                &saved,
            );
        }
    }
}

/// The widest address column of a bar (a longer address is cut).
const PREFIX_WIDTH: usize = 24;

impl Bars {
    fn new(total: usize, prefix_width: usize) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = multi.add(ProgressBar::new(total as u64));
        // `wide_msg` takes what the line has left and cuts the rest: a `msg` longer than
        // the terminal would wrap, and every redraw would then leave a stale line behind.
        overall.set_style(
            ProgressStyle::with_template("{spinner} {pos}/{len} jobs done  {elapsed}  {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        overall.enable_steady_tick(std::time::Duration::from_millis(120));
        Self {
            prefix_width,
            multi,
            overall,
            bars: Mutex::new(BTreeMap::new()),
            echo: QuietKeys::new(),
        }
    }

    fn bar(&self, address: &Address) -> ProgressBar {
        let mut bars = self
            .bars
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        bars.entry(address.clone())
            .or_insert_with(|| {
                let bar = self
                    .multi
                    .insert_before(&self.overall, ProgressBar::new(100));
                bar.set_style(
                    ProgressStyle::with_template(&format!(
                        "  {{prefix:{}!}} [{{bar:20}}] {{pos:>3}}%  {{wide_msg}}",
                        self.prefix_width
                    ))
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar.set_prefix(address.0.clone());
                bar
            })
            .clone()
    }
}

/// What is shown while an apply runs, on a terminal or in a log.
pub(crate) struct Progress {
    bars: Option<Bars>,
    color: bool,
    /// The last line said per address (lines repeat nothing).
    last: Mutex<BTreeMap<Address, String>>,
    /// Steps started and not finished: what a forced exit may leave in flight.
    running: Mutex<BTreeMap<Address, ActionKind>>,
    /// Whether [`Progress::stop`] ran.
    stopped: std::sync::atomic::AtomicBool,
}

impl Progress {
    /// A bar per address (in this order, each waiting for its first step) when `terminal`,
    /// timestamped lines otherwise; coloured when `color`.
    pub(crate) fn new(terminal: bool, addresses: &[Address], color: bool) -> Self {
        Self {
            bars: terminal.then(|| {
                let longest = addresses
                    .iter()
                    .map(|address| address.0.chars().count())
                    .max()
                    .unwrap_or(0);
                let bars = Bars::new(addresses.len(), longest.clamp(8, PREFIX_WIDTH));
                for address in addresses {
                    bars.bar(address).set_message("waiting");
                }
                bars
            }),
            color,
            last: Mutex::new(BTreeMap::new()),
            running: Mutex::new(BTreeMap::new()),
            stopped: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Says something while the apply runs: above the bars (so that no redraw erases it and
    /// it stays in the scrollback), or as a line.
    pub(crate) fn notice(&self, text: &str) {
        match &self.bars {
            Some(bars) => {
                // indicatif counts the lines it printed above the bars by `\n`, not by what
                // the terminal wrapped: a longer line would leave a stale copy of every bar
                // behind, so lines are wrapped here to the width first.
                let width = console::Term::stderr()
                    .size_checked()
                    .map_or(80, |(_, columns)| usize::from(columns));
                if bars
                    .multi
                    .println(wrap(text, width.saturating_sub(1)))
                    .is_err()
                {
                    super::err(text);
                }
            }
            None => super::err(text),
        }
    }

    /// The steps that started and did not finish, in address order.
    pub(crate) fn in_flight(&self) -> Vec<(Address, ActionKind)> {
        self.running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(address, action)| (address.clone(), *action))
            .collect()
    }

    /// Leaves every bar where it is and removes the overall one (before the summary, or
    /// before a forced exit).
    pub(crate) fn stop(&self) {
        // Once: touching a bar again would draw them all again, below what follows.
        if self.stopped.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        if let Some(bars) = &self.bars {
            for bar in bars
                .bars
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .values()
            {
                if !bar.is_finished() {
                    bar.abandon();
                }
            }
            bars.overall.finish_and_clear();
            bars.echo.restore();
        }
    }

    fn track(&self, event: &Event) {
        let mut running = self
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match event {
            Event::StepStarted {
                address, action, ..
            } => {
                running.insert(address.clone(), *action);
            }
            Event::StepDone { address, .. } | Event::Finished { address, .. } => {
                running.remove(address);
            }
            Event::Observed { .. } | Event::Recovering { .. } => {}
        }
    }

    fn report_bars(&self, bars: &Bars, event: &Event) {
        match event {
            Event::Observed { address, observed } => {
                let bar = bars.bar(address);
                if let Some(percent) = observed
                    .object()
                    .and_then(|object| object.progress.as_ref())
                    .and_then(|progress| progress.percent)
                {
                    bar.set_position(percent.clamp(0.0, 100.0) as u64);
                }
                if observed
                    .object()
                    .is_some_and(|object| object.phase == Phase::Completed)
                {
                    bar.set_position(100);
                }
                bar.set_message(where_is(observed));
            }
            Event::StepStarted {
                address,
                action,
                position: (index, total),
            } => {
                bars.bar(address).set_message(format!(
                    "{} {} ({index}/{total})",
                    action.symbol(),
                    action.verb()
                ));
            }
            Event::Finished { address, outcome } => {
                let bar = bars.bar(address);
                // The bar keeps the last position the cloud reported; only the text says
                // how it ended (a converged `running` job is not at 100%).
                let state = bar.message();
                let (message, prefix) = match outcome {
                    Outcome::Converged => (
                        paint(self.color, GREEN, &format!("✔ {state}")),
                        address.0.clone(),
                    ),
                    Outcome::LeftInFlight { .. } => (
                        paint(self.color, YELLOW, &format!("… {state} (left in flight)")),
                        address.0.clone(),
                    ),
                    Outcome::Failed { action, failure } => {
                        let first = failure_text(*action, failure);
                        let first = first.lines().next().unwrap_or_default().to_owned();
                        (
                            paint(self.color, RED, &format!("✘ {first}")),
                            // Painted only when it fits: cutting it would cut the codes.
                            if address.0.chars().count() <= bars.prefix_width {
                                paint(self.color, RED, &address.0)
                            } else {
                                address.0.clone()
                            },
                        )
                    }
                    Outcome::Interrupted => (
                        paint(self.color, YELLOW, &format!("■ interrupted: {state}")),
                        address.0.clone(),
                    ),
                };
                bar.set_prefix(prefix);
                bar.abandon_with_message(message);
                bars.overall.inc(1);
            }
            Event::Recovering { .. } | Event::StepDone { .. } => {
                // What happened stays in the scrollback, above the bars.
                if let Some(text) = line(event, &self.last) {
                    self.notice(&text);
                }
            }
        }
    }
}

impl Reporter for Progress {
    fn report(&self, event: Event) {
        self.track(&event);
        match &self.bars {
            Some(bars) => self.report_bars(bars, &event),
            None => {
                if let Some(text) = line(&event, &self.last) {
                    super::err(&format!("[{}] {text}", now()));
                }
            }
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_carry_their_zone() {
        let text = now();
        assert_eq!(text.len(), 9, "{text}");
        assert!(text.ends_with('Z'), "{text}");
        assert_eq!(text.as_bytes()[2], b':', "{text}");
    }

    #[test]
    fn failures_name_the_action_reason_code_and_details() {
        let failure = Failure {
            code: Some("FailedOperation".into()),
            message: "source unreachable".into(),
            details: vec!["step ConnDBCheck".into()],
        };
        assert_eq!(
            failure_text(ActionKind::Check, &failure),
            "check failed: source unreachable [FailedOperation]\n    step ConnDBCheck"
        );
    }

    #[test]
    fn notices_wrap_at_spaces_to_the_width() {
        assert_eq!(
            wrap("Interrupted: no new steps start; calls finish", 24),
            "Interrupted: no new\nsteps start; calls\nfinish"
        );
        assert_eq!(wrap("short\nlines stay", 24), "short\nlines stay");
        let long = "x".repeat(30);
        assert_eq!(wrap(&format!("a {long} b"), 24), format!("a\n{long}\nb"));
    }

    #[test]
    fn steps_in_progress_are_tracked_until_done_or_finished() {
        let progress = Progress::new(false, &[], false);
        let orders = Address("orders".into());
        let media = Address("media".into());
        for address in [&orders, &media] {
            progress.track(&Event::StepStarted {
                address: address.clone(),
                action: ActionKind::Check,
                position: (1, 2),
            });
        }
        progress.track(&Event::StepDone {
            address: orders.clone(),
            action: ActionKind::Check,
        });
        assert_eq!(progress.in_flight(), [(media.clone(), ActionKind::Check)]);
        progress.track(&Event::Finished {
            address: media,
            outcome: Outcome::Interrupted,
        });
        assert!(progress.in_flight().is_empty());
    }
}
