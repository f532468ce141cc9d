//! `migspec apply`: plan (or read a saved plan and check it still holds), confirm, apply with
//! progress, record the state.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::sync::Arc;

use migspec_runner::engine::{self, ApplyOptions, Outcome, Reporter, WaitLevel};
use migspec_runner::plan::PlanMode;
use migspec_runner::state::{AppliedPlan, LockInfo};
use tokio_util::sync::CancellationToken;

use super::ExitStatus;
use super::plan::{Stopped, fail, prepare, render_plan, runner_message};
use super::workspace::{Workspace, in_workspace};
use crate::args::{ApplyArgs, SelectionArgs, WaitArg};
use crate::view::{self, progress};

/// The saved plan file among the arguments, if that is what was given: one file whose
/// content is a plan document (any name: `plan.json`, `tfplan`, `migspec.plan`). A YAML
/// spec never starts with `{`, so the first non-blank byte decides before anything parses.
pub(crate) fn saved_plan(paths: &[PathBuf]) -> Option<&PathBuf> {
    use std::io::Read;
    let [path] = paths else {
        return None;
    };
    if !path.is_file() {
        return None;
    }
    let mut head = [0_u8; 512];
    let read = std::fs::File::open(path)
        .and_then(|mut file| file.read(&mut head))
        .ok()?;
    let text = String::from_utf8_lossy(&head[..read]);
    let trimmed = text.trim_start();
    (trimmed.starts_with('{') && trimmed.contains("\"format_version\"")).then_some(path)
}

pub(crate) fn run(args: &ApplyArgs) -> ExitStatus {
    in_workspace(&args.workspace, async |workspace| {
        apply(args, workspace).await
    })
}

async fn apply(args: &ApplyArgs, workspace: &Workspace) -> Result<ExitStatus, Stopped> {
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    // The lock is held from before planning until the state is written for the last time.
    let held = workspace
        .backend
        .lock(
            LockInfo::current(command.clone()),
            args.workspace.lock_timeout,
        )
        .await
        .map_err(|error| fail(&error.to_string()))?;

    let saved_path = saved_plan(&args.paths);
    let from_saved_plan = saved_path.is_some();
    let mut applied_plan = None;
    let planned = match saved_path {
        Some(path) => {
            let saved = super::plan::load(path)?;
            let paths: Vec<PathBuf> = saved.binding.paths.iter().map(PathBuf::from).collect();
            let selection = SelectionArgs {
                only: saved.binding.only.clone(),
                exclude: saved.binding.exclude.clone(),
                prune: saved.binding.prune,
                replace: saved.binding.replace.iter().map(|a| a.0.clone()).collect(),
                labels: saved.binding.labels.clone(),
                mode: saved.binding.mode,
            };
            let mut fresh = prepare(&paths, workspace, &selection).await?;
            if let Some(applied) = fresh
                .state
                .applied_plans
                .iter()
                .find(|applied| applied.id == saved.id)
            {
                return Err(fail(&format!(
                    "the saved plan {} was already applied at {} ({}); a plan is applied once: nothing was applied. Make a new plan with `migspec plan --out {}`",
                    path.display(),
                    applied.at,
                    applied.by,
                    path.display()
                )));
            }
            let reasons = saved
                .binding
                .stale_reasons(&fresh.plan.binding.lineage, &fresh.bindings);
            if !reasons.is_empty() {
                return Err(fail(&format!(
                    "the saved plan {} is stale; nothing was applied:\n  {}\n  help: make a new plan with `migspec plan --out {}` and review it",
                    path.display(),
                    reasons.join("\n  "),
                    path.display()
                )));
            }
            // A saved plan is an approval, not a program: what runs is the plan computed
            // afresh from the bound inputs, and only when its actions are the saved ones.
            let differences = saved.action_differences(&fresh.plan);
            if !differences.is_empty() {
                return Err(fail(&format!(
                    "the saved plan {} does not match what its inputs plan now, so it is not what was reviewed (edited by hand, or its jobs moved on); nothing was applied:\n  {}\n  help: make a new plan with `migspec plan --out {}` and review it",
                    path.display(),
                    differences.join("\n  "),
                    path.display()
                )));
            }
            // Other addresses moved on since (a job failed, a spec was added): that is for
            // the next plan, never applied unreviewed.
            let left_out = fresh.plan.restricted_to(&saved.binding.addresses);
            if !left_out.is_empty() {
                view::err(&format!(
                    "note: not in the saved plan, so left for the next plan: {}",
                    left_out
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            fresh.plan.id.clone_from(&saved.id);
            applied_plan = (!saved.binding.addresses.is_empty()).then(|| AppliedPlan {
                id: saved.id.clone(),
                at: migspec_runner::state::now_rfc3339(),
                by: command.clone(),
            });
            fresh
        }
        None => prepare(&args.paths, workspace, &args.selection).await?,
    };

    view::out(render_plan(&planned.plan, args.format).trim_end());
    let has_changes = planned.plan.has_changes();
    let blocked: Vec<String> = planned
        .plan
        .blocked
        .iter()
        .map(|entry| entry.address.to_string())
        .collect();
    // A saved plan was reviewed when it was made (and is applied only if it still holds):
    // applying it asks nothing more.
    if has_changes && !args.auto_approve && !from_saved_plan {
        confirm(planned.plan.binding.mode)?;
    }

    let working: Vec<_> = planned
        .plan
        .changes
        .iter()
        .filter(|change| !change.actions.is_empty())
        .map(|change| change.address.clone())
        .collect();
    let progress = Arc::new(progress::Progress::new(
        view::stderr_is_terminal() && !working.is_empty(),
        &working,
        view::stderr_color(),
    ));
    let cancel = CancellationToken::new();
    let watcher = tokio::spawn(interrupts(cancel.clone(), Arc::clone(&progress)));
    let reporter: Arc<dyn Reporter> = progress.clone();
    let options = ApplyOptions {
        concurrency: usize::from(args.concurrency),
        wait: match args.wait {
            WaitArg::None => WaitLevel::None,
            WaitArg::Checked => WaitLevel::Checked,
            WaitArg::Running => WaitLevel::Running,
            WaitArg::Completed => WaitLevel::Completed,
        },
        cancel: cancel.clone(),
        poll_interval: workspace.poll_interval,
        saved_plan: applied_plan,
        ..ApplyOptions::default()
    };
    let result = engine::apply(
        &workspace.providers,
        held,
        planned,
        Arc::clone(&reporter),
        options,
    )
    .await;
    drop(reporter);
    progress.stop();
    watcher.abort();
    let report = result.map_err(|error| fail(&runner_message(&error)))?;

    let count =
        |wanted: fn(&Outcome) -> bool| report.outcomes.values().filter(|o| wanted(o)).count();
    let converged = count(|o| matches!(o, Outcome::Converged));
    let in_flight = count(|o| matches!(o, Outcome::LeftInFlight { .. }));
    let failed = count(|o| matches!(o, Outcome::Failed { .. }));
    let interrupted = count(|o| matches!(o, Outcome::Interrupted));
    if !has_changes && blocked.is_empty() {
        return Ok(ExitStatus::Success);
    }
    view::err(&view::paint(
        view::stderr_color(),
        view::BOLD,
        &format!(
            "Apply {}: {converged} converged, {in_flight} left in flight, {failed} failed, {interrupted} interrupted.",
            if failed > 0 || interrupted > 0 {
                "stopped"
            } else {
                "complete"
            }
        ),
    ));
    // Repeated after the summary, in full: a bar has room for the first words only, and
    // in a log the failures are far above.
    let failures: Vec<String> = report
        .outcomes
        .iter()
        .filter_map(|(address, outcome)| match outcome {
            Outcome::Failed { action, failure } => Some(format!(
                "  {}",
                view::paint(
                    view::stderr_color(),
                    view::RED,
                    &format!("✘ {address}: {}", progress::failure_text(*action, failure))
                )
            )),
            _ => None,
        })
        .collect();
    if !failures.is_empty() {
        view::err(&format!("Failed:\n{}", failures.join("\n")));
    }
    if cancel.is_cancelled() || report.interrupted() {
        Ok(ExitStatus::Interrupted)
    } else if report.failed() || !blocked.is_empty() {
        if !blocked.is_empty() {
            view::err(&format!(
                "error: {} blocked address(es) were not applied: {}",
                blocked.len(),
                blocked.join(", ")
            ));
        }
        Ok(ExitStatus::Failure)
    } else {
        Ok(ExitStatus::Success)
    }
}

/// The first Ctrl-C (SIGINT) stops new steps and lets the calls in progress finish, so the
/// state records them; a second one exits at once, naming the steps that may be left in
/// flight. Every finished step is already in the state (each is written as it ends, like
/// after a `kill -9`), so a re-run observes the rest and continues.
async fn interrupts(cancel: CancellationToken, progress: Arc<progress::Progress>) {
    let mut signals = match Interrupts::new() {
        Ok(signals) => signals,
        Err(error) => {
            progress.notice(&format!(
                "warning: Ctrl-C cannot be caught ({error}): it stops migspec at once, as `kill -9` would (a re-run continues)"
            ));
            return;
        }
    };
    if signals.recv().await.is_none() {
        return;
    }
    progress.notice(
        "Interrupted: no new steps start; calls in progress finish and the state is written. A re-run continues from here. Press Ctrl-C again to exit at once.",
    );
    cancel.cancel();
    if signals.recv().await.is_none() {
        return;
    }
    let in_flight = progress.in_flight();
    let left = if in_flight.is_empty() {
        "no step was in progress".to_owned()
    } else {
        format!(
            "steps in progress, which may have reached the cloud: {}",
            in_flight
                .iter()
                .map(|(address, action)| format!(
                    "{address} ({} {})",
                    action.symbol(),
                    action.verb()
                ))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    progress.notice(&format!(
        "Interrupted again: exiting now; {left}. The state holds every step that finished; `migspec status` shows where the jobs are and `migspec apply` continues from there."
    ));
    progress.stop();
    std::process::exit(130);
}

/// Ctrl-C presses. On Unix one SIGINT stream for both presses: a second `ctrl_c()` future
/// would miss a press that came between the two.
#[cfg(unix)]
struct Interrupts(tokio::signal::unix::Signal);

#[cfg(unix)]
impl Interrupts {
    fn new() -> std::io::Result<Self> {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).map(Self)
    }

    async fn recv(&mut self) -> Option<()> {
        self.0.recv().await
    }
}

#[cfg(not(unix))]
struct Interrupts(tokio::signal::windows::CtrlC);

#[cfg(not(unix))]
impl Interrupts {
    fn new() -> std::io::Result<Self> {
        tokio::signal::windows::ctrl_c().map(Self)
    }

    async fn recv(&mut self) -> Option<()> {
        self.0.recv().await
    }
}

/// Asks for `yes` on a terminal; without one, `--auto-approve` is required.
fn confirm(mode: PlanMode) -> Result<(), Stopped> {
    let (verb, question) = match mode {
        PlanMode::Converge => ("apply", "Do you want to apply this plan?"),
        PlanMode::Destroy => (
            "destroy",
            "Do you really want to delete these jobs? Their migrations stop for good.",
        ),
    };
    if !std::io::stdin().is_terminal() {
        return Err(fail(&format!(
            "no terminal to confirm the {verb}: review the plan above and pass --auto-approve (CI), or run in a terminal"
        )));
    }
    view::err(&format!("{question} Only \"yes\" is accepted."));
    view::err_inline(&format!("Enter \"yes\" to {verb}: "));
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() || answer.trim() != "yes" {
        return Err(fail(&format!("{verb} cancelled; nothing was changed")));
    }
    Ok(())
}
