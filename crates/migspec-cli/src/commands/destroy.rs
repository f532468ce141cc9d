//! `migspec destroy`: the plan/apply flow in destroy mode. Every selected address gets its
//! provider's safe delete (stop, pause or isolate first, as `--prune` gives an orphan), or
//! a forget where `lifecycle.deletionPolicy: orphan` keeps the job; the same confirmation
//! as `apply`, and `--out` saves the plan for `migspec apply FILE`.

use migspec_runner::plan::PlanMode;

use super::ExitStatus;
use super::apply::saved_plan;
use crate::args::{ApplyArgs, DestroyArgs, PlanArgs, SelectionArgs, WaitArg};
use crate::view;

pub(crate) fn run(args: &DestroyArgs) -> ExitStatus {
    if let Some(path) = saved_plan(&args.paths) {
        // A saved plan carries its own mode: applying a converge plan from here would create
        // jobs under a command that promised deletes.
        view::err(&format!(
            "error: {0} is a saved plan: apply it with `migspec apply {0}` (a destroy plan made with `destroy --out` deletes what it showed); `destroy` takes spec paths",
            path.display()
        ));
        return ExitStatus::Failure;
    }
    let selection = SelectionArgs {
        only: args.only.clone(),
        exclude: args.exclude.clone(),
        labels: args.labels.clone(),
        prune: false,
        replace: Vec::new(),
        mode: PlanMode::Destroy,
    };
    if args.out.is_some() {
        return super::plan::run(&PlanArgs {
            paths: args.paths.clone(),
            workspace: args.workspace.clone(),
            selection,
            format: args.format,
            out: args.out.clone(),
            detailed_exitcode: false,
        });
    }
    super::apply::run(&ApplyArgs {
        paths: args.paths.clone(),
        workspace: args.workspace.clone(),
        selection,
        auto_approve: args.auto_approve,
        // A delete is followed until the job is gone: a half-deleted job is not destroyed.
        wait: WaitArg::Completed,
        concurrency: args.concurrency,
        format: args.format,
    })
}
