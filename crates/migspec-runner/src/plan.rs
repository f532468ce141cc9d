//! The plan: a serializable document of what an apply will do, per address, bound to what
//! it was computed from.
//!
//! # JSON format (`format_version` 2, see `docs/plan-format.md`)
//!
//! ```json
//! {
//!   "format_version": "2",
//!   "id": "5b0c…",
//!   "binding": {"lineage": "…", "serial": 4, "addresses": {"orders-to-cdb": {"spec": "…"}}},
//!   "changes": [
//!     {"address": "orders-to-cdb", "kind": "TencentDtsMigrateJob", "remote_id": "dts-1kl0iy0v",
//!      "phase": "check_passed",
//!      "actions": [{"kind": "start", "reason": "…", "changes": [], "disruptions": []}]}
//!   ],
//!   "drift": [{"address": "…", "changes": [FieldChange…]}],
//!   "summary": {"create": 1, "modify": 0, "lifecycle": 3, "delete": 0, "unchanged": 2}
//! }
//! ```
//!
//! A plan file never holds a secret: field changes of secrets carry only
//! `{"kind": "sensitive"}`, and the binding holds hashes. `apply plan.json` refuses a plan
//! applied before, or whose own addresses' specs, state records or remote configuration
//! changed, or whose actions a fresh plan no longer gives ([`Binding::stale_reasons`],
//! [`Plan::action_differences`]); other addresses may move on ([`Plan::restricted_to`]).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use migspec_provider::{Action, ActionKind, Address, Disruption, FieldChange, Phase, RemoteId};

/// The version of the plan format.
pub const PLAN_FORMAT_VERSION: &str = "2";

/// What a plan was computed from. A saved plan is applied only while what it binds still
/// holds for the addresses it acts on (see [`Binding::stale_reasons`]); addresses it does
/// not touch may move on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Binding {
    /// The state's lineage ("" while no state was written); a plan of another lineage is
    /// refused.
    pub lineage: String,
    /// The state's serial when planned (for people; not a staleness condition: other
    /// addresses' steps move it).
    pub serial: u64,
    /// Per address the plan acts on (changes with actions, forgets): the spec, state
    /// record and remote configuration it was planned from.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub addresses: BTreeMap<Address, AddressBinding>,
    /// The spec paths given to `plan` (`apply plan.json` reads the specs from them again).
    #[serde(default)]
    pub paths: Vec<String>,
    /// `--only` globs of the plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub only: Vec<String>,
    /// `--exclude` globs of the plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    /// Whether the plan was made with `--prune`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub prune: bool,
    /// `--replace` addresses of the plan (re-created on purpose).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace: Vec<Address>,
    /// `-l` label selectors of the plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// What the plan converges to: the specs, or nothing (`migspec destroy`). `apply
    /// plan.json` plans again in the same mode.
    #[serde(default, skip_serializing_if = "PlanMode::is_converge")]
    pub mode: PlanMode,
}

/// What a plan moves its addresses towards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PlanMode {
    /// The specs (`plan`, `apply`).
    #[default]
    Converge,
    /// Nothing: every selected remote object is deleted safely, unless its
    /// `deletionPolicy: orphan` keeps it (`migspec destroy`).
    Destroy,
}

impl PlanMode {
    /// Whether this is the ordinary mode (left out of plan files).
    #[must_use]
    pub fn is_converge(&self) -> bool {
        *self == Self::Converge
    }
}

/// What one address was planned from, as hashes (`None`: there was none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AddressBinding {
    /// The spec document as written (secrets as references).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
    /// The state's record of the address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// The remote object's id and configuration (not its phase or progress, which move by
    /// themselves; a phase that changes the planned actions is caught by comparing them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
}

impl Binding {
    /// What differs between the binding of a saved plan and the bindings of a fresh one
    /// (every address it observed), one line per address and cause (empty: the plan still
    /// holds). Only the saved plan's own addresses count.
    #[must_use]
    pub fn stale_reasons(
        &self,
        fresh_lineage: &str,
        fresh: &BTreeMap<Address, AddressBinding>,
    ) -> Vec<String> {
        let mut reasons = Vec::new();
        if !self.lineage.is_empty() && !fresh_lineage.is_empty() && self.lineage != fresh_lineage {
            reasons.push(format!(
                "the plan was made from another state (lineage {} here, {} in the plan): plan against the state this apply uses (a shared state backend)",
                fresh_lineage, self.lineage
            ));
        }
        let absent = AddressBinding::default();
        for (address, saved) in &self.addresses {
            let now = fresh.get(address).unwrap_or(&absent);
            if saved.spec != now.spec {
                reasons.push(match now.spec {
                    None => format!("{address}: its spec is gone"),
                    Some(_) if saved.spec.is_none() => format!("{address}: a spec for it appeared"),
                    Some(_) => format!("{address}: its spec changed"),
                });
            }
            if saved.record != now.record {
                reasons.push(format!(
                    "{address}: its state record changed since the plan (another apply ran for it)"
                ));
            }
            if saved.remote != now.remote {
                reasons.push(match (&saved.remote, &now.remote) {
                    (Some(_), None) => format!("{address}: its remote object is gone"),
                    (None, Some(_)) => format!("{address}: a remote object for it appeared"),
                    _ => format!(
                        "{address}: its remote object changed (another object, or its configuration)"
                    ),
                });
            }
        }
        reasons
    }
}

/// The planned actions for one address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Change {
    /// The address.
    pub address: Address,
    /// The kind.
    pub kind: String,
    /// The remote object, when one exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<RemoteId>,
    /// The observed phase, when an object exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    /// The ordered actions (empty: no change).
    pub actions: Vec<Action>,
    /// Where the spec is (relative to the project root), for annotations on a diff;
    /// absent for an address whose spec left the set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
}

/// A place in a spec file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Source {
    /// The file, relative to the project root.
    pub file: String,
    /// The line (1-based) of the document's `metadata.name`.
    pub line: usize,
}

/// Changes made outside migspec: what the cloud has that the last apply did not set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Drift {
    /// The address.
    pub address: Address,
    /// The fields that drifted (before: what the spec says, after: what the cloud has).
    pub changes: Vec<FieldChange>,
}

/// An address whose spec left the set and whose remote object stays in place: apply removes
/// it from the state only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Forget {
    /// The address.
    pub address: Address,
    /// The recorded kind.
    pub kind: String,
    /// The remote object left in place, when one is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<RemoteId>,
    /// The spec file the address was last applied from (relative to the project root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Why it is forgotten and not deleted, and which given path it left. Display only.
    pub reason: String,
}

/// An address that cannot be planned: shown with why and the way out, never applied. The
/// other addresses are planned and applied as usual.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Blocked {
    /// The address.
    pub address: Address,
    /// The kind.
    pub kind: String,
    /// The remote object, when one exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<RemoteId>,
    /// Why it cannot be planned (the provider's or migspec's words).
    pub reason: String,
    /// What to do about it (commands to run).
    pub help: String,
}

/// Something a reviewer should know about an address that changes no action (a likely
/// rename, an object that can only be found through the state). Display only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Warning {
    /// The address.
    pub address: Address,
    /// What to know, and what to do.
    pub message: String,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    /// `+ create` actions.
    pub create: usize,
    /// `~ modify` actions.
    pub modify: usize,
    /// Lifecycle steps (check, start, resume, retry, complete, pause, continue, stop).
    pub lifecycle: usize,
    /// `- delete` actions.
    pub delete: usize,
    /// Addresses without actions.
    pub unchanged: usize,
    /// Addresses forgotten (removed from the state; their remote objects stay).
    #[serde(default)]
    pub forget: usize,
    /// Addresses that cannot be planned.
    #[serde(default)]
    pub blocked: usize,
}

/// A plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Plan {
    /// Format version of this document.
    pub format_version: String,
    /// Identifies this plan: a saved plan is applied at most once (the state remembers the
    /// ids it applied).
    #[serde(default)]
    pub id: String,
    /// What it was computed from.
    pub binding: Binding,
    /// Per address, in address order.
    pub changes: Vec<Change>,
    /// Drift, shown apart from the planned changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<Drift>,
    /// Addresses whose spec left the given paths and that are not deleted (no `--prune`, no
    /// `deletionPolicy: delete`, or an explicit `deletionPolicy: orphan`): apply forgets
    /// them; their remote jobs stay in place.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forget: Vec<Forget>,
    /// Addresses that cannot be planned, each with its reason and way out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked: Vec<Blocked>,
    /// Notes for the reviewer. Display only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
    /// Counts.
    pub summary: Summary,
}

/// Why a plan file could not be written or read. Each message names the file and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanFileError {
    /// The file could not be read or written.
    #[error("cannot {verb} plan {path}: {message}")]
    Io {
        /// `read` or `write`.
        verb: &'static str,
        /// The plan file.
        path: std::path::PathBuf,
        /// The operating system's error.
        message: String,
    },
    /// The file is not a plan this migspec reads.
    #[error(
        "{path} is not a migspec plan file: {message}; make one with `migspec plan --out FILE`"
    )]
    NotAPlan {
        /// The file.
        path: std::path::PathBuf,
        /// Where and why the JSON did not fit.
        message: String,
    },
    /// The plan was written by a migspec with another plan format.
    #[error(
        "{path} has plan format {found}; this migspec reads {PLAN_FORMAT_VERSION}: plan again with this version"
    )]
    Format {
        /// The file.
        path: std::path::PathBuf,
        /// Its `format_version`.
        found: String,
    },
}

impl Plan {
    /// Builds a plan from per-address changes (sorted by address) and computes the summary.
    #[must_use]
    pub fn new(binding: Binding, mut changes: Vec<Change>, mut drift: Vec<Drift>) -> Self {
        changes.sort_by(|a, b| a.address.cmp(&b.address));
        drift.sort_by(|a, b| a.address.cmp(&b.address));
        let summary = Self::count(&changes, 0, 0);
        Self {
            format_version: PLAN_FORMAT_VERSION.to_owned(),
            id: uuid::Uuid::new_v4().to_string(),
            binding,
            changes,
            drift,
            forget: Vec::new(),
            blocked: Vec::new(),
            warnings: Vec::new(),
            summary,
        }
    }

    /// The plan as the JSON document `--format json` prints and plan files hold.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a plan is plain data and serializes")
    }

    /// Reads a plan from the text of a plan file (`path` names it in errors).
    ///
    /// # Errors
    ///
    /// When the text is not a plan document, or one of another plan format.
    pub fn from_json(text: &str, path: &std::path::Path) -> Result<Self, PlanFileError> {
        let plan: Self = serde_json::from_str(text).map_err(|error| PlanFileError::NotAPlan {
            path: path.to_path_buf(),
            message: error.to_string(),
        })?;
        if plan.format_version != PLAN_FORMAT_VERSION {
            return Err(PlanFileError::Format {
                path: path.to_path_buf(),
                found: plan.format_version,
            });
        }
        Ok(plan)
    }

    /// Writes the plan file atomically (a plan holds no secret).
    ///
    /// # Errors
    ///
    /// When the file cannot be written.
    pub fn save(&self, path: &std::path::Path) -> Result<(), PlanFileError> {
        use std::io::Write as _;
        let dir = path
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .unwrap_or_else(|| std::path::Path::new("."));
        tempfile::NamedTempFile::new_in(dir)
            .and_then(|mut file| {
                file.write_all(self.to_json().as_bytes())?;
                file.write_all(b"\n")?;
                file.persist(path).map(|_| ()).map_err(|error| error.error)
            })
            .map_err(|error| PlanFileError::Io {
                verb: "write",
                path: path.to_path_buf(),
                message: error.to_string(),
            })
    }

    /// Reads a plan file.
    ///
    /// # Errors
    ///
    /// When the file cannot be read, is not a plan, or has another plan format.
    pub fn load(path: &std::path::Path) -> Result<Self, PlanFileError> {
        let text = std::fs::read_to_string(path).map_err(|error| PlanFileError::Io {
            verb: "read",
            path: path.to_path_buf(),
            message: error.to_string(),
        })?;
        Self::from_json(&text, path)
    }

    /// Sets the forgotten and blocked addresses and the warnings (each sorted by address).
    #[must_use]
    pub fn with_outside(
        mut self,
        mut forget: Vec<Forget>,
        mut blocked: Vec<Blocked>,
        mut warnings: Vec<Warning>,
    ) -> Self {
        forget.sort_by(|a, b| a.address.cmp(&b.address));
        blocked.sort_by(|a, b| a.address.cmp(&b.address));
        warnings.sort_by(|a, b| a.address.cmp(&b.address));
        self.summary = Self::count(&self.changes, forget.len(), blocked.len());
        self.forget = forget;
        self.blocked = blocked;
        self.warnings = warnings;
        self
    }

    fn count(changes: &[Change], forget: usize, blocked: usize) -> Summary {
        let mut summary = Summary {
            forget,
            blocked,
            ..Summary::default()
        };
        for change in changes {
            if change.actions.is_empty() {
                summary.unchanged += 1;
            }
            for action in &change.actions {
                match action.kind {
                    ActionKind::Create => summary.create += 1,
                    ActionKind::Modify => summary.modify += 1,
                    ActionKind::Delete => summary.delete += 1,
                    _ => summary.lifecycle += 1,
                }
            }
        }
        summary
    }

    /// Whether the plan does anything (forgetting an address changes the state).
    #[must_use]
    pub fn has_changes(&self) -> bool {
        !self.forget.is_empty() || self.changes.iter().any(|change| !change.actions.is_empty())
    }

    /// This plan with only the actions and forgets of `addresses` (the saved plan's): what
    /// a fresh plan finds elsewhere is left for the next plan, never applied unreviewed.
    /// Returns the addresses left out.
    pub fn restricted_to(&mut self, addresses: &BTreeMap<Address, AddressBinding>) -> Vec<Address> {
        let mut left_out = Vec::new();
        for change in &mut self.changes {
            if !change.actions.is_empty() && !addresses.contains_key(&change.address) {
                left_out.push(change.address.clone());
                change.actions.clear();
            }
        }
        self.forget.retain(|entry| {
            let keep = addresses.contains_key(&entry.address);
            if !keep {
                left_out.push(entry.address.clone());
            }
            keep
        });
        self.blocked
            .retain(|entry| addresses.contains_key(&entry.address));
        let (forget, blocked) = (self.forget.clone(), self.blocked.clone());
        self.summary = Self::count(&self.changes, forget.len(), blocked.len());
        left_out.sort();
        left_out
    }

    /// `Plan: 2 to create, 1 to modify, 3 lifecycle steps, 0 to delete.` (then `, 1 to
    /// forget` and `, 1 blocked` when there are any).
    #[must_use]
    pub fn summary_line(&self) -> String {
        let Summary {
            create,
            modify,
            lifecycle,
            delete,
            unchanged: _,
            forget,
            blocked,
        } = self.summary;
        let steps = if lifecycle == 1 { "step" } else { "steps" };
        let mut line = format!(
            "Plan: {create} to create, {modify} to modify, {lifecycle} lifecycle {steps}, {delete} to delete"
        );
        if forget > 0 {
            line.push_str(&format!(", {forget} to forget"));
        }
        if blocked > 0 {
            line.push_str(&format!(", {blocked} blocked"));
        }
        line.push('.');
        line
    }

    /// What differs between the actions of this (saved, reviewed) plan and a plan computed
    /// afresh from the same inputs, one line per address (empty: the same actions). Reasons
    /// are display only and not compared; verbs, field changes and disruptions are.
    #[must_use]
    pub fn action_differences(&self, fresh: &Self) -> Vec<String> {
        use std::collections::{BTreeMap, BTreeSet};
        /// What of an action must match: the verb, its field changes and disruptions.
        type Compared<'a> = Vec<(ActionKind, &'a [FieldChange], &'a [Disruption])>;
        fn actions(plan: &Plan) -> BTreeMap<&Address, Compared<'_>> {
            plan.changes
                .iter()
                .filter(|change| !change.actions.is_empty())
                .map(|change| {
                    let list = change
                        .actions
                        .iter()
                        .map(|action| {
                            (
                                action.kind,
                                action.changes.as_slice(),
                                action.disruptions.as_slice(),
                            )
                        })
                        .collect();
                    (&change.address, list)
                })
                .collect()
        }
        fn verbs(list: Option<&Compared<'_>>) -> String {
            match list {
                None => "nothing".to_owned(),
                Some(list) => list
                    .iter()
                    .map(|(kind, _, _)| kind.verb())
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        }
        let saved = actions(self);
        let now = actions(fresh);
        let mut lines = Vec::new();
        // The saved plan's own addresses; what a fresh plan adds elsewhere is not applied
        // (see `Plan::restricted_to`).
        let addresses: BTreeSet<&&Address> = saved
            .keys()
            .chain(
                now.keys()
                    .filter(|address| self.binding.addresses.contains_key(**address)),
            )
            .collect();
        for address in addresses {
            let (before, after) = (saved.get(*address), now.get(*address));
            if before != after {
                let (before_verbs, after_verbs) = (verbs(before), verbs(after));
                if before_verbs == after_verbs {
                    lines.push(format!(
                        "{address}: the saved plan's actions ({before_verbs}) carry other field changes or disruptions than a fresh plan's"
                    ));
                } else {
                    lines.push(format!(
                        "{address}: the saved plan says {before_verbs}, a fresh plan says {after_verbs}"
                    ));
                }
            }
        }
        // Forgets and blocks count for the saved plan's own addresses only, like actions.
        let forgotten = |plan: &Self| -> BTreeSet<Address> {
            plan.forget
                .iter()
                .map(|forget| forget.address.clone())
                .filter(|address| self.binding.addresses.contains_key(address))
                .collect()
        };
        let (saved_forget, fresh_forget) = (forgotten(self), forgotten(fresh));
        for entry in &fresh.blocked {
            if self.binding.addresses.contains_key(&entry.address) {
                lines.push(format!(
                    "{}: a fresh plan cannot plan it: {}",
                    entry.address, entry.reason
                ));
            }
        }
        for address in saved_forget.symmetric_difference(&fresh_forget) {
            if saved_forget.contains(address) {
                lines.push(format!(
                    "{address}: the saved plan forgets it, a fresh plan does not"
                ));
            } else {
                lines.push(format!(
                    "{address}: a fresh plan forgets it, the saved plan does not"
                ));
            }
        }
        lines
    }
}

/// A stable hash of JSON values (object keys are serialized in their stored order, which
/// `serde_json`'s `preserve_order` keeps as written).
#[must_use]
pub fn fingerprint<T: Serialize>(value: &T) -> String {
    let bytes = serde_json::to_vec(value).expect("plan inputs serialize");
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(spec: &str) -> AddressBinding {
        AddressBinding {
            spec: Some(spec.into()),
            record: Some("r".into()),
            remote: Some("o".into()),
        }
    }

    #[test]
    fn a_destroy_plan_says_so_in_its_binding_and_a_converge_plan_stays_as_it_was() {
        let converge = serde_json::to_value(binding()).unwrap();
        assert!(converge.get("mode").is_none(), "{converge}");
        let destroy = Binding {
            mode: PlanMode::Destroy,
            ..binding()
        };
        let text = serde_json::to_value(&destroy).unwrap();
        assert_eq!(text["mode"], "destroy");
        let back: Binding = serde_json::from_value(text).unwrap();
        assert_eq!(back.mode, PlanMode::Destroy);
        let old: Binding = serde_json::from_value(converge).unwrap();
        assert_eq!(old.mode, PlanMode::Converge);
    }

    fn binding() -> Binding {
        Binding {
            lineage: "l".into(),
            serial: 1,
            addresses: [
                (Address("a".into()), bound("s")),
                (Address("b".into()), bound("s")),
                (Address("c".into()), bound("s")),
            ]
            .into(),
            paths: vec!["specs".into()],
            only: vec![],
            exclude: vec![],
            prune: false,
            replace: vec![],
            labels: vec![],
            mode: PlanMode::Converge,
        }
    }

    #[test]
    fn summary_counts_actions_by_verb_and_orders_addresses() {
        let plan = Plan::new(
            binding(),
            vec![
                Change {
                    address: Address("b".into()),
                    kind: "K".into(),
                    remote_id: None,
                    phase: None,
                    actions: vec![
                        Action::new(ActionKind::Create, "missing"),
                        Action::new(ActionKind::Check, "then check"),
                        Action::new(ActionKind::Start, "then start"),
                    ],
                    source: None,
                },
                Change {
                    address: Address("a".into()),
                    kind: "K".into(),
                    remote_id: Some(RemoteId("x".into())),
                    phase: Some(Phase::Running),
                    actions: vec![],
                    source: None,
                },
            ],
            vec![],
        );
        assert_eq!(plan.changes[0].address, Address("a".into()));
        assert_eq!(
            plan.summary_line(),
            "Plan: 1 to create, 0 to modify, 2 lifecycle steps, 0 to delete."
        );
        assert_eq!(plan.summary.unchanged, 1);
        assert!(plan.has_changes());
    }

    #[test]
    fn action_differences_name_each_address_and_ignore_reasons() {
        let change = |address: &str, actions: Vec<Action>| Change {
            address: Address(address.into()),
            kind: "K".into(),
            remote_id: None,
            phase: None,
            actions,
            source: None,
        };
        let fresh = Plan::new(
            binding(),
            vec![
                change("a", vec![Action::new(ActionKind::Start, "now")]),
                change("b", vec![]),
            ],
            vec![],
        );
        let mut reworded = fresh.clone();
        reworded.changes[0].actions[0].reason = "other words".into();
        assert!(reworded.action_differences(&fresh).is_empty());
        let tampered = Plan::new(
            binding(),
            vec![
                change("a", vec![Action::new(ActionKind::Start, "now")]),
                change("b", vec![Action::new(ActionKind::Delete, "approved")]),
            ],
            vec![],
        );
        assert_eq!(
            tampered.action_differences(&fresh),
            ["b: the saved plan says delete, a fresh plan says nothing"]
        );
        let mut disrupted = fresh.clone();
        disrupted.changes[0].actions[0] =
            Action::new(ActionKind::Start, "now").disrupting(Disruption::OverwritesTarget);
        assert_eq!(
            disrupted.action_differences(&fresh),
            [
                "a: the saved plan's actions (start) carry other field changes or disruptions than a fresh plan's"
            ]
        );
        let forgetting = fresh.clone().with_outside(
            vec![Forget {
                address: Address("c".into()),
                kind: "K".into(),
                remote_id: None,
                file: None,
                reason: "gone".into(),
            }],
            vec![],
            vec![],
        );
        assert_eq!(
            forgetting.action_differences(&fresh),
            ["c: the saved plan forgets it, a fresh plan does not"]
        );
        assert_eq!(
            forgetting.summary_line(),
            "Plan: 0 to create, 0 to modify, 1 lifecycle step, 0 to delete, 1 to forget."
        );
        // What a fresh plan finds for an address the saved plan does not act on is not a
        // difference (it is left for the next plan); a bound address it cannot plan is.
        let elsewhere = fresh.clone().with_outside(
            vec![Forget {
                address: Address("z".into()),
                kind: "K".into(),
                remote_id: None,
                file: None,
                reason: "gone".into(),
            }],
            vec![Blocked {
                address: Address("b".into()),
                kind: "K".into(),
                remote_id: None,
                reason: "disk full".into(),
                help: "fix it".into(),
            }],
            vec![],
        );
        assert_eq!(
            fresh.action_differences(&elsewhere),
            ["b: a fresh plan cannot plan it: disk full"]
        );
    }

    #[test]
    fn stale_reasons_name_each_address_and_what_changed() {
        let saved = binding();
        let mut fresh = binding().addresses;
        // Another address moving on (not in the saved plan) does not matter.
        fresh.insert(Address("z".into()), AddressBinding::default());
        assert!(saved.stale_reasons("l", &fresh).is_empty());
        fresh.get_mut(&Address("a".into())).unwrap().spec = Some("t".into());
        fresh.get_mut(&Address("b".into())).unwrap().record = None;
        fresh.remove(&Address("c".into()));
        assert_eq!(
            saved.stale_reasons("l", &fresh),
            [
                "a: its spec changed",
                "b: its state record changed since the plan (another apply ran for it)",
                "c: its spec is gone",
                "c: its state record changed since the plan (another apply ran for it)",
                "c: its remote object is gone",
            ]
        );
        assert_eq!(saved.stale_reasons("other", &binding().addresses).len(), 1);
        assert!(saved.stale_reasons("", &binding().addresses).is_empty());
    }
}
