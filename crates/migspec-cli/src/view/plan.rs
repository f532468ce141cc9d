//! TEMPORARY placeholder while the plan renderers land (being written in parallel): every
//! format renders the JSON document.

use migspec_runner::plan::Plan;

pub(crate) struct HumanStyle {
    pub(crate) color: bool,
}

pub(crate) fn use_color(stream_is_tty: bool) -> bool {
    stream_is_tty
}

pub(crate) fn human(plan: &Plan, style: &HumanStyle) -> String {
    let _ = style.color;
    format!(
        "{}\n{}",
        json(plan),
        if plan.has_changes() {
            plan.summary_line()
        } else {
            "No changes.".to_owned()
        }
    )
}

pub(crate) fn json(plan: &Plan) -> String {
    serde_json::to_string_pretty(plan).expect("plans serialize")
}

pub(crate) fn markdown(plan: &Plan) -> String {
    json(plan)
}

pub(crate) fn github(plan: &Plan) -> String {
    json(plan)
}
