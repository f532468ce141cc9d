//! The four plan renderers: human (colour on a terminal), JSON (the versioned document,
//! `docs/plan-format.md`), markdown (a pull-request comment) and GitHub annotations.
//!
//! Secrets never reach a renderer: a secret's field change carries only
//! [`ChangeValue::Sensitive`], shown as `(sensitive, changed)`.

use std::fmt::Write as _;

use migspec_provider::{Action, ActionKind, ChangeValue, Disruption, FieldChange, Phase};
use migspec_runner::plan::{Change, Forget, Plan};
use migspec_runner::specs::Placeholder;
use migspec_spec::model::SecretRef;

/// How the human rendering looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HumanStyle {
    /// ANSI colours.
    pub(crate) color: bool,
}

const RESET: &str = "\u{1b}[0m";
const BOLD: &str = "\u{1b}[1m";
const DIM: &str = "\u{1b}[2m";
const RED: &str = "\u{1b}[31m";
const GREEN: &str = "\u{1b}[32m";
const YELLOW: &str = "\u{1b}[33m";
const CYAN: &str = "\u{1b}[36m";

struct Paint(bool);

impl Paint {
    fn with(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("{code}{text}{RESET}")
        } else {
            text.to_owned()
        }
    }
}

fn action_color(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Create => GREEN,
        ActionKind::Delete | ActionKind::Stop => RED,
        ActionKind::Modify => YELLOW,
        _ => CYAN,
    }
}

/// `check_passed`, as the JSON spells phases.
fn phase_name(phase: Phase) -> String {
    serde_json::to_value(phase)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn value_text(value: &ChangeValue) -> String {
    match value {
        ChangeValue::Absent => "(absent)".to_owned(),
        ChangeValue::Sensitive => "(sensitive)".to_owned(),
        ChangeValue::Unknown => "(unknown)".to_owned(),
        ChangeValue::Value(value) => value.to_string(),
    }
}

/// `before → after`, `(sensitive, changed)` for secrets, and `(sensitive, unknown: will be
/// sent)` for a secret migspec never sent to the object (an imported one).
fn change_text(change: &FieldChange) -> String {
    if matches!(change.before, ChangeValue::Unknown) {
        return "(sensitive, unknown: will be sent)".to_owned();
    }
    if matches!(change.after, ChangeValue::Sensitive)
        || matches!(change.before, ChangeValue::Sensitive)
    {
        return "(sensitive, changed)".to_owned();
    }
    format!(
        "{} → {}",
        value_text(&change.before),
        value_text(&change.after)
    )
}

/// `spec.MigrateOption.RunMode` from `/spec/MigrateOption/RunMode`.
fn field_path(pointer: &str) -> String {
    pointer
        .trim_start_matches('/')
        .split('/')
        .map(|segment| segment.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".")
}

fn header(change: &Change) -> String {
    let mut text = format!("{} ({}", change.address, change.kind);
    if let Some(id) = &change.remote_id {
        let _ = write!(text, ", {id}");
    }
    if let Some(phase) = change.phase {
        let _ = write!(text, ", {}", phase_name(phase));
    }
    text.push(')');
    text
}

const FORGET_TITLE: &str = "Forgotten (the spec left the given paths; removed from the state, the remote job stays in place):";

const BLOCKED_TITLE: &str = "Blocked (cannot be planned; not applied, the others are):";

const WARNINGS_TITLE: &str = "Warnings:";

fn forget_line(entry: &Forget) -> String {
    let mut text = format!("{} ({}", entry.address, entry.kind);
    if let Some(id) = &entry.remote_id {
        let _ = write!(text, ", {id}");
    }
    let _ = write!(text, "): {}", entry.reason);
    text
}

/// The plan for people.
pub(crate) fn human(plan: &Plan, style: &HumanStyle) -> String {
    let paint = Paint(style.color);
    let mut out = String::new();
    let unchanged: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|change| change.actions.is_empty())
        .collect();
    for change in plan
        .changes
        .iter()
        .filter(|change| !change.actions.is_empty())
    {
        let _ = writeln!(out, "{}", paint.with(BOLD, &header(change)));
        for action in &change.actions {
            human_action(&mut out, action, &paint);
        }
        out.push('\n');
    }
    if !unchanged.is_empty() {
        for change in &unchanged {
            let _ = writeln!(
                out,
                "{}",
                paint.with(DIM, &format!("= {} (no change)", header(change)))
            );
        }
        out.push('\n');
    }
    if !plan.forget.is_empty() {
        let _ = writeln!(out, "{}", paint.with(BOLD, FORGET_TITLE));
        for entry in &plan.forget {
            let _ = writeln!(
                out,
                "  {}",
                paint.with(YELLOW, &format!("? forget {}", forget_line(entry)))
            );
        }
        out.push('\n');
    }
    if !plan.blocked.is_empty() {
        let _ = writeln!(out, "{}", paint.with(BOLD, BLOCKED_TITLE));
        for entry in &plan.blocked {
            let mut head = format!("✘ {} ({}", entry.address, entry.kind);
            if let Some(id) = &entry.remote_id {
                let _ = write!(head, ", {id}");
            }
            head.push(')');
            let _ = writeln!(out, "  {}", paint.with(RED, &head));
            let _ = writeln!(out, "      {}", entry.reason);
            let _ = writeln!(out, "      hint: {}", entry.help);
        }
        out.push('\n');
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(out, "{}", paint.with(BOLD, WARNINGS_TITLE));
        for warning in &plan.warnings {
            let _ = writeln!(
                out,
                "  {}",
                paint.with(
                    YELLOW,
                    &format!("! {}: {}", warning.address, warning.message)
                )
            );
        }
        out.push('\n');
    }
    if !plan.drift.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            paint.with(
                BOLD,
                "Drift (changed outside migspec since the last apply):"
            )
        );
        for drift in &plan.drift {
            let _ = writeln!(out, "  {}", drift.address);
            for field in &drift.changes {
                let _ = writeln!(
                    out,
                    "      {}: {}",
                    field_path(&field.field),
                    change_text(field)
                );
            }
        }
        out.push('\n');
    }
    if plan.has_changes() || !plan.blocked.is_empty() {
        let _ = writeln!(out, "{}", paint.with(BOLD, &plan.summary_line()));
    } else {
        let _ = writeln!(out, "No changes. Remote jobs match the specs.");
    }
    out
}

fn human_action(out: &mut String, action: &Action, paint: &Paint) {
    // Padded before it is painted: a width counts the escape codes too, so padding a
    // painted verb would misalign the reasons on a terminal (and only there).
    let verb = format!(
        "{:<12}",
        format!("{} {}", action.kind.symbol(), action.kind.verb())
    );
    let _ = writeln!(
        out,
        "  {} {}",
        paint.with(action_color(action.kind), &verb),
        paint.with(DIM, &action.reason)
    );
    for change in &action.changes {
        let mut line = format!("{}: {}", field_path(&change.field), change_text(change));
        if !change.in_place {
            line.push_str("  (forces re-create)");
        }
        let _ = writeln!(out, "      {line}");
    }
    for disruption in &action.disruptions {
        let _ = writeln!(
            out,
            "      {}",
            paint.with(RED, &format!("! {}", disruption.describe()))
        );
    }
}

/// The `--emulator` note on unset secrets: one line per reference (address, field, and
/// the variable or file it names, with where it is written), so the count and the list
/// always agree.
pub(crate) fn placeholders(list: &[Placeholder]) -> String {
    let mut out = format!(
        "note: --emulator: {} unset secret reference(s) got placeholder values:\n",
        list.len()
    );
    for placeholder in list {
        let names = match &placeholder.reference {
            SecretRef::Env(env) => format!("fromEnv {}", env.from_env),
            SecretRef::File(file) => format!("fromFile {} (no such file)", file.from_file),
            SecretRef::Literal(_) => "a literal".to_owned(),
        };
        let _ = writeln!(
            out,
            "  {}: {}: {names}  ({}:{}:{})",
            placeholder.address,
            field_path(&placeholder.field),
            placeholder.file.display(),
            placeholder.line,
            placeholder.column
        );
    }
    out
}

/// The versioned JSON document.
pub(crate) fn json(plan: &Plan) -> String {
    plan.to_json()
}

/// Escapes a markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The most a pull-request comment may hold here: GitHub refuses comments over 65,536
/// characters; the rest is room for what a workflow adds around it.
pub(crate) const COMMENT_LIMIT: usize = 60_000;

/// A pull-request comment: the changed addresses (unchanged ones counted in one line),
/// what is blocked, forgotten or worth a warning, then per address the details, then
/// drift. Longer than `limit` characters, it ends where the next part would not fit, with
/// a line saying what was left out and where the full plan is.
pub(crate) fn markdown(plan: &Plan, limit: usize) -> String {
    let mut parts: Vec<String> = Vec::new();
    let title = if plan.has_changes() || !plan.blocked.is_empty() {
        plan.summary_line()
    } else {
        "No changes. Remote jobs match the specs.".to_owned()
    };
    parts.push(format!("### migspec plan: {title}\n\n"));
    let disruptive = plan
        .changes
        .iter()
        .flat_map(|change| &change.actions)
        .filter(|action| !action.disruptions.is_empty())
        .count();
    if disruptive > 0 {
        parts.push(format!(
            "> ⚠️ **{disruptive} disruptive action(s)**: read the details before merging.\n\n"
        ));
    }
    let changed: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|change| !change.actions.is_empty())
        .collect();
    if !changed.is_empty() {
        parts.push("| address | kind | remote | actions |\n|---|---|---|---|\n".to_owned());
        for change in &changed {
            parts.push(markdown_row(change));
        }
    }
    let unchanged = plan.changes.len() - changed.len();
    if unchanged > 0 {
        let noun = if unchanged == 1 {
            "address"
        } else {
            "addresses"
        };
        parts.push(format!("\n{unchanged} {noun} without changes.\n"));
    }
    if !plan.blocked.is_empty() {
        let mut text = format!("\n#### ✘ {}\n\n", BLOCKED_TITLE.trim_end_matches(':'));
        for entry in &plan.blocked {
            let _ = writeln!(
                text,
                "- `{}`: {} — {}",
                entry.address,
                cell(&entry.reason),
                cell(&entry.help)
            );
        }
        parts.push(text);
    }
    if !plan.forget.is_empty() {
        let mut text = format!("\n#### {}\n\n", FORGET_TITLE.trim_end_matches(':'));
        for entry in &plan.forget {
            let _ = writeln!(text, "- `{}`: {}", entry.address, cell(&forget_line(entry)));
        }
        parts.push(text);
    }
    if !plan.warnings.is_empty() {
        let mut text = format!("\n#### {}\n\n", WARNINGS_TITLE.trim_end_matches(':'));
        for warning in &plan.warnings {
            let _ = writeln!(text, "- `{}`: {}", warning.address, cell(&warning.message));
        }
        parts.push(text);
    }
    for change in &changed {
        parts.push(markdown_details(change));
    }
    if !plan.drift.is_empty() {
        let mut text = "\n#### Drift (changed outside migspec)\n\n".to_owned();
        for drift in &plan.drift {
            for field in &drift.changes {
                let _ = writeln!(
                    text,
                    "- `{}` `{}`: {}",
                    drift.address,
                    field_path(&field.field),
                    change_text(field)
                );
            }
        }
        parts.push(text);
    }
    // What is said when the rest does not fit; kept free below the limit.
    const ROOM: usize = 400;
    let mut out = String::new();
    for (index, part) in parts.iter().enumerate() {
        if out.len() + part.len() + ROOM > limit {
            let _ = write!(
                out,
                "\n\n> ✂️ **The plan is longer than a pull-request comment may be**: {} more part(s) \
                 (table rows, details, drift) are left out here. The full plan is the workflow's \
                 `migspec-plan` artifact (`migspec show plan.json`) and its job summary.\n",
                parts.len() - index
            );
            return out;
        }
        out.push_str(part);
    }
    out
}

fn markdown_row(change: &Change) -> String {
    let actions = change
        .actions
        .iter()
        .map(|action| {
            let mark = if action.disruptions.is_empty() {
                ""
            } else {
                " ⚠️"
            };
            format!("{} {}{mark}", action.kind.symbol(), action.kind.verb())
        })
        .collect::<Vec<_>>()
        .join(", ");
    let remote = match (&change.remote_id, change.phase) {
        (Some(id), Some(phase)) => format!("`{id}` ({})", phase_name(phase)),
        (Some(id), None) => format!("`{id}`"),
        _ => "–".to_owned(),
    };
    format!(
        "| `{}` | {} | {} | {} |\n",
        cell(&change.address.0),
        cell(&change.kind),
        cell(&remote),
        cell(&actions)
    )
}

fn markdown_details(change: &Change) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n<details><summary><code>{}</code>: {} action(s)</summary>\n",
        change.address,
        change.actions.len()
    );
    for action in &change.actions {
        let _ = writeln!(
            out,
            "- **{} {}**: {}",
            action.kind.symbol(),
            action.kind.verb(),
            action.reason
        );
        for field in &action.changes {
            let _ = writeln!(
                out,
                "  - `{}`: {}",
                field_path(&field.field),
                change_text(field)
            );
        }
        for disruption in &action.disruptions {
            let _ = writeln!(out, "  - ⚠️ {}", disruption.describe());
        }
    }
    let _ = writeln!(out, "\n</details>");
    out
}

/// Escapes a workflow command's message.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands: a notice with the summary, a warning per disruptive
/// action and per drifted address.
pub(crate) fn github(plan: &Plan) -> String {
    let mut out = String::new();
    let summary = if plan.has_changes() || !plan.blocked.is_empty() {
        plan.summary_line()
    } else {
        "No changes. Remote jobs match the specs.".to_owned()
    };
    let _ = writeln!(
        out,
        "::notice title={}::{}",
        escape_property("migspec plan"),
        escape_data(&summary)
    );
    for change in &plan.changes {
        // On the spec's own line, so that GitHub shows it on the diff.
        let at = change.source.as_ref().map_or_else(String::new, |source| {
            format!(
                "file={},line={},",
                escape_property(&source.file),
                source.line
            )
        });
        if !change.actions.is_empty() {
            let verbs: Vec<&str> = change.actions.iter().map(|a| a.kind.verb()).collect();
            let _ = writeln!(
                out,
                "::notice {at}title={}::{}",
                escape_property(&change.address.0),
                escape_data(&format!("planned: {}", verbs.join(", ")))
            );
        }
        for action in &change.actions {
            if action.disruptions.is_empty() {
                continue;
            }
            let what: Vec<&str> = action
                .disruptions
                .iter()
                .map(|disruption: &Disruption| disruption.describe())
                .collect();
            let _ = writeln!(
                out,
                "::warning {at}title={}::{} {}: {} ({})",
                escape_property(&change.address.0),
                action.kind.symbol(),
                action.kind.verb(),
                escape_data(&what.join("; ")),
                escape_data(&action.reason)
            );
        }
    }
    for entry in &plan.forget {
        let _ = writeln!(
            out,
            "::warning title={}::{}",
            escape_property(&entry.address.0),
            escape_data(&format!("forget: {}", entry.reason))
        );
    }
    for entry in &plan.blocked {
        let _ = writeln!(
            out,
            "::error title={}::{}",
            escape_property(&entry.address.0),
            escape_data(&format!("blocked: {} (hint: {})", entry.reason, entry.help))
        );
    }
    for warning in &plan.warnings {
        let _ = writeln!(
            out,
            "::warning title={}::{}",
            escape_property(&warning.address.0),
            escape_data(&warning.message)
        );
    }
    for drift in &plan.drift {
        let fields: Vec<String> = drift
            .changes
            .iter()
            .map(|field| field_path(&field.field))
            .collect();
        let _ = writeln!(
            out,
            "::warning title={}::changed outside migspec: {}",
            escape_property(&drift.address.0),
            escape_data(&fields.join(", "))
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use migspec_provider::{Address, RemoteId};
    use migspec_runner::plan::{Binding, Blocked, Drift, Warning};
    use serde_json::json;

    fn rich() -> Plan {
        let binding = Binding {
            lineage: "7d6c0b2e".into(),
            serial: 4,
            addresses: [(
                Address("orders-to-cdb".into()),
                migspec_runner::plan::AddressBinding {
                    spec: Some("spec-hash".into()),
                    record: Some("record-hash".into()),
                    remote: Some("remote-hash".into()),
                },
            )]
            .into(),
            paths: vec!["specs".into()],
            ..Binding::default()
        };
        let changes = vec![
            Change {
                address: Address("orders-to-cdb".into()),
                kind: "TencentDtsMigrateJob".into(),
                remote_id: Some(RemoteId("dts-1kl0iy0v".into())),
                phase: Some(Phase::ReadyToComplete),
                actions: vec![
                    Action::new(
                        ActionKind::Stop,
                        "API 2018-03-30 modifies a stopped job only",
                    )
                    .disrupting(Disruption::NeedsStop),
                    Action::new(ActionKind::Modify, "2 fields differ from the spec")
                        .with_changes(vec![
                            FieldChange {
                                field: "/spec/MigrateOption/RunMode".into(),
                                before: ChangeValue::Value(json!(1)),
                                after: ChangeValue::Value(json!(2)),
                                in_place: true,
                            },
                            FieldChange {
                                field: "/spec/SrcInfo/Password".into(),
                                before: ChangeValue::Sensitive,
                                after: ChangeValue::Sensitive,
                                in_place: true,
                            },
                        ])
                        .disrupting(Disruption::OverridesRoot),
                    Action::new(ActionKind::Check, "a changed configuration is checked"),
                    Action::new(ActionKind::Start, "start once the check passed"),
                    Action::new(ActionKind::Complete, "desired: completed"),
                ],
                source: Some(migspec_runner::plan::Source {
                    file: "specs/orders-mysql.yaml".into(),
                    line: 8,
                }),
            },
            Change {
                address: Address("media-archive".into()),
                kind: "HuaweiOmsTaskGroup".into(),
                remote_id: Some(RemoteId("6bf2f607".into())),
                phase: Some(Phase::Running),
                actions: vec![
                    Action::new(ActionKind::Pause, "OMS refuses to delete a running group")
                        .disrupting(Disruption::NeedsPause)
                        .disrupting(Disruption::ForcesRecreate),
                    Action::new(ActionKind::Delete, "task_type cannot change in place"),
                    Action::new(ActionKind::Create, "re-created | with the new type")
                        .with_changes(vec![FieldChange {
                            field: "/spec/src_node/object_key".into(),
                            before: ChangeValue::Absent,
                            after: ChangeValue::Value(json!(["2023/", "2024/"])),
                            in_place: false,
                        }])
                        .disrupting(Disruption::OverwritesTarget),
                ],
                source: None,
            },
            Change {
                address: Address("sessions-redis".into()),
                kind: "TencentDtsMigrationJob".into(),
                remote_id: Some(RemoteId("dts-2".into())),
                phase: Some(Phase::Failed),
                actions: vec![
                    Action::new(ActionKind::Resume, "onFailure: resume (attempt 1 of 2)")
                        .disrupting(Disruption::ClearsTarget),
                    Action::new(ActionKind::Retry, "retry, 100%, failed objects"),
                    Action::new(ActionKind::Continue, "desired: running"),
                ],
                source: None,
            },
            Change {
                address: Address("catalog".into()),
                kind: "TencentDtsMigrateJob".into(),
                remote_id: Some(RemoteId("dts-3".into())),
                phase: Some(Phase::Completed),
                actions: vec![],
                source: None,
            },
        ];
        let drift = vec![Drift {
            address: Address("catalog".into()),
            changes: vec![FieldChange {
                field: "/spec/JobName".into(),
                before: ChangeValue::Value(json!("catalog")),
                after: ChangeValue::Value(json!("renamed: by hand, 100%")),
                in_place: true,
            }],
        }];
        let mut plan = Plan::new(binding, changes, drift).with_outside(
            vec![Forget {
                address: Address("old-orders".into()),
                kind: "TencentDtsMigrateJob".into(),
                remote_id: Some(RemoteId("dts-9".into())),
                file: Some("specs/old-orders.yaml".into()),
                reason: "its spec specs/old-orders.yaml left specs; the job stays in place (`--prune` or `lifecycle.deletionPolicy: delete` would delete it)".into(),
            }],
            vec![Blocked {
                address: Address("fatal-r21".into()),
                kind: "TencentDtsMigrationJob".into(),
                remote_id: Some(RemoteId("dts-7".into())),
                reason: "job dts-7 failed (error): disk full; it was resumed 2 times already and onFailure.maxAttempts is 2".into(),
                help: "`migspec apply --replace fatal-r21` deletes the job safely and creates it again; `migspec state reset-attempts fatal-r21` lets onFailure try again once the cause is fixed".into(),
            }],
            vec![Warning {
                address: Address("orders-v2".into()),
                message: "looks like a rename of orders (same configuration): to keep its job instead of creating another, run `migspec state mv orders orders-v2` and plan again".into(),
            }],
        );
        plan.id = "7f3c2a10-plan".into();
        plan
    }

    fn empty() -> Plan {
        Plan::new(
            Binding::default(),
            vec![Change {
                address: Address("orders".into()),
                kind: "TencentDtsMigrateJob".into(),
                remote_id: Some(RemoteId("dts-1".into())),
                phase: Some(Phase::Running),
                actions: vec![],
                source: None,
            }],
            vec![],
        )
    }

    #[test]
    fn human_plans() {
        insta::assert_snapshot!("human_rich", human(&rich(), &HumanStyle { color: false }));
        insta::assert_snapshot!("human_empty", human(&empty(), &HumanStyle { color: false }));
        insta::assert_snapshot!(
            "human_rich_color",
            human(&rich(), &HumanStyle { color: true })
        );
    }

    #[test]
    fn json_plans() {
        insta::assert_snapshot!("json_rich", json(&rich()));
        let back: Plan = serde_json::from_str(&json(&rich())).unwrap();
        assert_eq!(back, rich());
    }

    #[test]
    fn markdown_plans() {
        insta::assert_snapshot!("markdown_rich", markdown(&rich(), COMMENT_LIMIT));
        insta::assert_snapshot!("markdown_empty", markdown(&empty(), COMMENT_LIMIT));
    }

    #[test]
    fn long_markdown_plans_stop_below_the_limit_and_say_where_the_rest_is() {
        let many: Vec<Change> = (0..300)
            .map(|index| Change {
                address: Address(format!("orders-{index:03}")),
                kind: "TencentDtsMigrateJob".into(),
                remote_id: None,
                phase: None,
                actions: vec![
                    Action::new(ActionKind::Create, "no job carries the tag; create it"),
                    Action::new(ActionKind::Check, "a new configuration is checked"),
                    Action::new(ActionKind::Start, "start once the check passed"),
                ],
                source: None,
            })
            .collect();
        let plan = Plan::new(Binding::default(), many, vec![]);
        let full = markdown(&plan, usize::MAX);
        assert!(
            full.len() > COMMENT_LIMIT,
            "the test plan is long: {}",
            full.len()
        );
        let comment = markdown(&plan, COMMENT_LIMIT);
        assert!(comment.len() <= COMMENT_LIMIT, "{}", comment.len());
        assert!(comment.starts_with("### migspec plan: Plan: 300 to create"));
        assert!(comment.contains("| `orders-299` |"), "every row fits");
        assert!(comment.contains("The full plan is the workflow's `migspec-plan` artifact"));
        assert!(!full.contains("longer than a pull-request comment"));
    }

    #[test]
    fn github_plans() {
        insta::assert_snapshot!("github_rich", github(&rich()));
        insta::assert_snapshot!("github_empty", github(&empty()));
    }

    #[test]
    fn every_action_kind_and_disruption_is_rendered() {
        let text = human(&rich(), &HumanStyle { color: false });
        for kind in [
            ActionKind::Create,
            ActionKind::Modify,
            ActionKind::Check,
            ActionKind::Start,
            ActionKind::Resume,
            ActionKind::Retry,
            ActionKind::Complete,
            ActionKind::Pause,
            ActionKind::Continue,
            ActionKind::Stop,
            ActionKind::Delete,
        ] {
            let line = format!("{} {}", kind.symbol(), kind.verb());
            assert!(text.contains(&line), "missing `{line}` in\n{text}");
        }
        for disruption in [
            Disruption::NeedsStop,
            Disruption::NeedsPause,
            Disruption::ForcesRecreate,
            Disruption::OverwritesTarget,
            Disruption::ClearsTarget,
            Disruption::OverridesRoot,
        ] {
            assert!(text.contains(disruption.describe()), "{disruption:?}");
        }
        assert!(text.contains("spec.SrcInfo.Password: (sensitive, changed)"));
    }

    #[test]
    fn github_escapes_messages_and_properties() {
        assert_eq!(escape_data("a%b\nc"), "a%25b%0Ac");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
        let text = github(&rich());
        assert!(
            text.lines().any(
                |line| line == "::warning title=catalog::changed outside migspec: spec.JobName"
            ),
            "{text}"
        );
        // Every annotation is one line, whatever the reasons hold.
        let mut plan = rich();
        let orders = plan
            .changes
            .iter_mut()
            .find(|change| change.address.0 == "orders-to-cdb")
            .expect("the rich plan has orders-to-cdb");
        orders.actions[0].reason = "two\nlines, 50%".into();
        let text = github(&plan);
        assert!(text.contains("(two%0Alines, 50%25)"), "{text}");
        assert!(text.lines().all(|line| line.starts_with("::")), "{text}");
    }

    #[test]
    fn coloured_plans_align_like_plain_ones() {
        let strip = |text: &str| {
            let mut plain = String::new();
            let mut chars = text.chars();
            while let Some(c) = chars.next() {
                if c == '\u{1b}' {
                    // `ESC [ … m`
                    for c in chars.by_ref() {
                        if c == 'm' {
                            break;
                        }
                    }
                } else {
                    plain.push(c);
                }
            }
            plain
        };
        let coloured = human(&rich(), &HumanStyle { color: true });
        assert_ne!(coloured, human(&rich(), &HumanStyle { color: false }));
        assert_eq!(
            strip(&coloured),
            human(&rich(), &HumanStyle { color: false })
        );
    }
}
