//! `migspec plan` and `migspec show`, and the planning steps `apply` shares.

use std::path::{Path, PathBuf};

use migspec_runner::RunnerError;
use migspec_runner::plan::Plan;
use migspec_runner::planner::{self, Planned, Selection};
use migspec_runner::specs::{MissingSecrets, SpecSet};
use migspec_schema::Options;

use super::ExitStatus;
use super::workspace::{Workspace, in_workspace};
pub(crate) use super::{Stopped, fail, runtime};
use crate::args::{PlanArgs, PlanFormat, SelectionArgs, ShowArgs};
use crate::view::{self, diagnostics, plan as render};

/// Loads and validates the specs, resolves their secrets, reads the state and plans.
/// A spec set with errors is never planned.
pub(crate) async fn prepare(
    paths: &[PathBuf],
    workspace: &Workspace,
    selection: &SelectionArgs,
) -> Result<Planned, Stopped> {
    let report =
        migspec_schema::validate_paths_with(&workspace.validator, paths, Options::default());
    if report.has_errors() {
        view::err(diagnostics::human(&report.diagnostics, view::stderr_color()).trim_end());
        let errors = report.diagnostics.iter().filter(|d| d.is_error()).count();
        return Err(fail(&format!(
            "{errors} validation error(s): nothing was planned; fix the specs (`migspec validate` shows the same)"
        )));
    }
    if !report.diagnostics.is_empty() {
        // Warnings only (a file reached twice through a link, …): said, then planned.
        view::err(diagnostics::human(&report.diagnostics, view::stderr_color()).trim_end());
    }
    if report.files == 0 {
        return Err(fail(&format!(
            "no spec files (*.yaml, *.yml) under {}",
            paths
                .iter()
                .map(|path| path.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let missing = if workspace.emulated {
        MissingSecrets::Placeholder
    } else {
        MissingSecrets::Fail
    };
    let arguments = selection;
    let selection = Selection::new(&arguments.only, &arguments.exclude, arguments.prune)
        .map_err(|error| fail(&error.to_string()))?
        .with_labels(&arguments.labels)
        .map_err(|error| fail(&error.to_string()))?
        .with_paths(paths)
        .with_replace(&arguments.replace)
        .with_mode(arguments.mode);
    let state = workspace
        .backend
        .read()
        .await
        .map_err(|error| fail(&error.to_string()))?;
    // A selection that matches nothing is a mistake, not "no changes".
    let named: Vec<_> = report
        .documents
        .iter()
        .map(|valid| {
            let metadata = valid.document.metadata();
            (
                migspec_provider::Address(metadata.name.clone()),
                metadata.labels.clone(),
            )
        })
        .collect();
    let recorded: Vec<_> = state.resources.keys().cloned().collect();
    let unmatched = selection.unmatched(&named, &recorded);
    if !unmatched.is_empty() {
        return Err(fail(&format!(
            "{} match(es) no address: nothing was planned; the addresses are {}",
            unmatched.join(", "),
            named
                .iter()
                .map(|(address, _)| address.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    // Only the selected specs' secrets are read.
    let documents: Vec<_> = report
        .documents
        .iter()
        .zip(&named)
        .filter(|(_, (address, labels))| selection.selects_spec(address, labels))
        .map(|(valid, _)| valid.clone())
        .collect();
    let specs = match SpecSet::build(&documents, workspace.secrets().as_ref(), missing) {
        Ok(specs) => specs,
        Err(errors) => {
            for error in &errors {
                view::err(&format!("error: {error}\n  help: {}", error.help()));
            }
            return Err(fail(&format!(
                "{} secret(s) could not be read: nothing was planned",
                errors.len()
            )));
        }
    };
    if !specs.placeholders.is_empty() {
        view::err(render::placeholders(&specs.placeholders).trim_end());
    }
    let mut planned = planner::plan(&workspace.providers, state, specs, &selection)
        .await
        .map_err(|error| fail(&runner_message(&error)))?;
    planned.plan.binding.paths = paths
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    Ok(planned)
}

/// A runner error with what to do about it.
pub(crate) fn runner_message(error: &RunnerError) -> String {
    use migspec_provider::ProviderError;
    match error {
        RunnerError::Provider { source, .. } => {
            let help = match source.as_ref() {
                ProviderError::Auth { .. } => {
                    "\n  help: check the credentials (TENCENTCLOUD_SECRET_ID/KEY, HUAWEICLOUD_SDK_AK/SK, or --emulator)"
                }
                ProviderError::Network { .. } => {
                    "\n  help: check the endpoint (migspec.yaml, MIGSPEC_TENCENT_ENDPOINT, MIGSPEC_HUAWEI_OMS_ENDPOINT) and the network; nothing was changed"
                }
                _ => "",
            };
            format!("{error}{help}")
        }
        _ => error.to_string(),
    }
}

/// Renders a plan in a format.
pub(crate) fn render_plan(plan: &Plan, format: PlanFormat) -> String {
    match format {
        PlanFormat::Human => render::human(
            plan,
            &render::HumanStyle {
                color: view::stdout_color(),
            },
        ),
        PlanFormat::Json => render::json(plan),
        PlanFormat::Markdown => render::markdown(plan, render::COMMENT_LIMIT),
        PlanFormat::Github => render::github(plan),
    }
}

/// Writes a plan file.
fn save(plan: &Plan, path: &Path) -> Result<(), Stopped> {
    plan.save(path).map_err(|error| fail(&error.to_string()))
}

/// Reads a plan file.
pub(crate) fn load(path: &Path) -> Result<Plan, Stopped> {
    Plan::load(path).map_err(|error| fail(&error.to_string()))
}

pub(crate) fn run(args: &PlanArgs) -> ExitStatus {
    in_workspace(&args.workspace, async |workspace| {
        let planned = prepare(&args.paths, workspace, &args.selection).await?;
        view::out(render_plan(&planned.plan, args.format).trim_end());
        write_step_summary(&planned.plan)?;
        if let Some(out) = &args.out {
            save(&planned.plan, out)?;
            view::err(&format!(
                "Saved the plan to {}; apply exactly it with `migspec apply {}`.",
                out.display(),
                out.display()
            ));
        }
        Ok(plan_status(&planned.plan, args.detailed_exitcode))
    })
}

/// In GitHub Actions (`GITHUB_STEP_SUMMARY` set), the whole plan as markdown goes to the
/// job summary, which holds far more than a pull-request comment.
fn write_step_summary(plan: &Plan) -> Result<(), Stopped> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|path| !path.is_empty()) else {
        return Ok(());
    };
    use std::io::Write;
    let text = render::markdown(plan, usize::MAX);
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| writeln!(file, "{text}"))
        .map_err(|error| {
            fail(&format!(
                "cannot write the job summary {}: {error}",
                std::path::Path::new(&path).display()
            ))
        })
}

/// The exit status of `plan`: 1 when every address is blocked (nothing could be planned);
/// with `--detailed-exitcode`, 2 when there are changes or blocked addresses (something to
/// apply or to look at), 0 when there is neither.
fn plan_status(plan: &Plan, detailed: bool) -> ExitStatus {
    if !plan.blocked.is_empty() && plan.changes.is_empty() && plan.forget.is_empty() {
        view::err(&format!(
            "error: every address is blocked ({}): nothing could be planned",
            plan.blocked.len()
        ));
        return ExitStatus::Failure;
    }
    if detailed && (plan.has_changes() || !plan.blocked.is_empty()) {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    }
}

pub(crate) fn show(args: &ShowArgs) -> ExitStatus {
    match load(&args.plan) {
        Ok(plan) => {
            view::out(render_plan(&plan, args.format).trim_end());
            ExitStatus::Success
        }
        Err(Stopped) => ExitStatus::Failure,
    }
}
