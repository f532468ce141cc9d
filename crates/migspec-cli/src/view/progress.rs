//! Apply progress: indicatif bars on a terminal (per job: phase and percent; overall
//! counts), plain timestamped lines otherwise (CI logs). Both go to standard error.

use std::collections::BTreeMap;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use migspec_provider::{Address, Observed};
use migspec_runner::engine::{Event, Outcome, Reporter};

/// Timestamped lines, one per step and per change of phase or whole percent.
#[derive(Default)]
pub(crate) struct Lines {
    last: Mutex<BTreeMap<Address, String>>,
}

fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .get(11..19)
        .unwrap_or_default()
        .to_owned()
}

/// `check_passed 45% (loader)`.
pub(crate) fn where_is(observed: &Observed) -> String {
    let Some(object) = observed.object() else {
        return "gone".to_owned();
    };
    let phase = serde_json::to_value(object.phase)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut text = phase;
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
        Event::Finished { address, outcome } => Some(match outcome {
            Outcome::Converged => format!("{address}: ✔ matches its spec"),
            Outcome::LeftInFlight { phase, .. } => format!(
                "{address}: left in flight ({}); `migspec status` follows it, `migspec apply` finishes it",
                serde_json::to_value(phase)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            ),
            Outcome::Failed { action, failure } => {
                let mut text =
                    format!("{address}: ✘ {} failed: {}", action.verb(), failure.message);
                if let Some(code) = &failure.code {
                    text.push_str(&format!(" [{code}]"));
                }
                for detail in &failure.details {
                    text.push_str(&format!("\n    {detail}"));
                }
                text
            }
            Outcome::Interrupted => format!("{address}: interrupted before its next step"),
        }),
    }
}

impl Reporter for Lines {
    fn report(&self, event: Event) {
        if let Some(text) = line(&event, &self.last) {
            super::err(&format!("[{}] {text}", now()));
        }
    }
}

/// Bars on a terminal: one per address with actions, and an overall one.
pub(crate) struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    bars: Mutex<BTreeMap<Address, ProgressBar>>,
    last: Mutex<BTreeMap<Address, String>>,
}

impl Bars {
    /// Bars for `total` addresses.
    pub(crate) fn new(total: usize) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = multi.add(ProgressBar::new(total as u64));
        overall.set_style(
            ProgressStyle::with_template("{spinner} {pos}/{len} jobs done  {elapsed}  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        overall.enable_steady_tick(std::time::Duration::from_millis(120));
        Self {
            multi,
            overall,
            bars: Mutex::new(BTreeMap::new()),
            last: Mutex::new(BTreeMap::new()),
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
                    ProgressStyle::with_template("  {prefix:24!} [{bar:20}] {pos:>3}%  {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                );
                bar.set_prefix(address.0.clone());
                bar
            })
            .clone()
    }
}

impl Reporter for Bars {
    fn report(&self, event: Event) {
        match &event {
            Event::Observed { address, observed } => {
                let bar = self.bar(address);
                if let Some(percent) = observed
                    .object()
                    .and_then(|object| object.progress.as_ref())
                    .and_then(|progress| progress.percent)
                {
                    bar.set_position(percent.clamp(0.0, 100.0) as u64);
                }
                bar.set_message(where_is(observed));
            }
            Event::StepStarted {
                address, action, ..
            } => {
                self.bar(address)
                    .set_message(format!("{} {}", action.symbol(), action.verb()));
            }
            Event::Finished { address, outcome } => {
                let bar = self.bar(address);
                if matches!(outcome, Outcome::Converged) {
                    bar.set_position(100);
                }
                bar.finish();
                self.overall.inc(1);
                // Failures and outcomes stay in the scrollback as lines.
                if let Some(text) = line(&event, &self.last) {
                    self.multi.suspend(|| super::err(&text));
                }
            }
            Event::Recovering { .. } | Event::StepDone { .. } => {
                if let Some(text) = line(&event, &self.last) {
                    self.multi.suspend(|| super::err(&text));
                }
            }
        }
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        self.overall.finish_and_clear();
    }
}
