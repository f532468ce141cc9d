//! The plan: a serializable document of what an apply will do, per address, bound to what
//! it was computed from.
//!
//! # JSON format (`format_version` 2, see `docs/plan-format.md`)
//!
//! ```json
//! {
//!   "format_version": "2",
//!   "binding": {"lineage": "…", "serial": 4, "specs": "sha256…", "observed": "sha256…"},
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
//! whose binding no longer matches the specs, the state serial or the observed remote state.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use migspec_provider::{
    Action, ActionKind, Address, Disruption, FieldChange, Observed, Phase, RemoteId,
};

/// The version of the plan format.
pub const PLAN_FORMAT_VERSION: &str = "2";

/// What a plan was computed from; all must still hold when it is applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// The state's lineage.
    pub lineage: String,
    /// The state's serial.
    pub serial: u64,
    /// Hash of the spec documents (as written, secrets as references).
    pub specs: String,
    /// Hash of the observations the plan was made from.
    pub observed: String,
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
}

impl Binding {
    /// What differs between the binding of a saved plan and a fresh one (empty: the plan
    /// still holds).
    #[must_use]
    pub fn stale_reasons(&self, fresh: &Self) -> Vec<&'static str> {
        let mut reasons = Vec::new();
        if self.lineage != fresh.lineage {
            reasons.push("the plan was made from another state (lineage differs)");
        }
        if self.serial != fresh.serial {
            reasons.push("the state was written since the plan was made (another apply ran)");
        }
        if self.specs != fresh.specs {
            reasons.push("the spec files changed");
        }
        if self.observed != fresh.observed {
            reasons.push("the remote jobs changed (status or configuration)");
        }
        reasons
    }
}

/// The planned actions for one address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

/// Changes made outside migspec: what the cloud has that the last apply did not set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    /// The address.
    pub address: Address,
    /// The fields that drifted (before: what the spec says, after: what the cloud has).
    pub changes: Vec<FieldChange>,
}

/// An address whose spec left the set and whose remote object stays in place: apply removes
/// it from the state only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// The address.
    pub address: Address,
    /// What to know, and what to do.
    pub message: String,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Format version of this document.
    pub format_version: String,
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

impl Plan {
    /// Builds a plan from per-address changes (sorted by address) and computes the summary.
    #[must_use]
    pub fn new(binding: Binding, mut changes: Vec<Change>, mut drift: Vec<Drift>) -> Self {
        changes.sort_by(|a, b| a.address.cmp(&b.address));
        drift.sort_by(|a, b| a.address.cmp(&b.address));
        let summary = Self::count(&changes, 0, 0);
        Self {
            format_version: PLAN_FORMAT_VERSION.to_owned(),
            binding,
            changes,
            drift,
            forget: Vec::new(),
            blocked: Vec::new(),
            warnings: Vec::new(),
            summary,
        }
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
        let addresses: BTreeSet<&&Address> = saved.keys().chain(now.keys()).collect();
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
        let forgotten = |plan: &Self| -> BTreeSet<Address> {
            plan.forget
                .iter()
                .map(|forget| forget.address.clone())
                .collect()
        };
        let (saved_forget, fresh_forget) = (forgotten(self), forgotten(fresh));
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

/// The fingerprint of a set of observations, independent of their order.
#[must_use]
pub fn observed_fingerprint(observed: &[Observed]) -> String {
    let mut parts: Vec<String> = observed.iter().map(fingerprint).collect();
    parts.sort();
    fingerprint(&parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding() -> Binding {
        Binding {
            lineage: "l".into(),
            serial: 1,
            specs: "s".into(),
            observed: "o".into(),
            paths: vec!["specs".into()],
            only: vec![],
            exclude: vec![],
            prune: false,
            replace: vec![],
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
                },
                Change {
                    address: Address("a".into()),
                    kind: "K".into(),
                    remote_id: Some(RemoteId("x".into())),
                    phase: Some(Phase::Running),
                    actions: vec![],
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
    }

    #[test]
    fn stale_reasons_name_what_changed() {
        let saved = binding();
        assert!(saved.stale_reasons(&binding()).is_empty());
        let mut fresh = binding();
        fresh.serial = 2;
        fresh.specs = "t".into();
        assert_eq!(
            saved.stale_reasons(&fresh),
            [
                "the state was written since the plan was made (another apply ran)",
                "the spec files changed"
            ]
        );
    }

    #[test]
    fn observation_fingerprints_ignore_order_but_not_content() {
        let a = Observed::Missing {
            address: Address("a".into()),
        };
        let b = Observed::Missing {
            address: Address("b".into()),
        };
        assert_eq!(
            observed_fingerprint(&[a.clone(), b.clone()]),
            observed_fingerprint(&[b.clone(), a.clone()])
        );
        assert_ne!(
            observed_fingerprint(std::slice::from_ref(&a)),
            observed_fingerprint(&[b])
        );
    }
}
