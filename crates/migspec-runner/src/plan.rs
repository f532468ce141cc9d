//! The plan: a serializable document of what an apply will do, per address, bound to what
//! it was computed from.
//!
//! # JSON format (`format_version` 1)
//!
//! ```json
//! {
//!   "format_version": "1",
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

use migspec_provider::{Action, ActionKind, Address, FieldChange, Observed, Phase, RemoteId};

/// The version of the plan format.
pub const PLAN_FORMAT_VERSION: &str = "1";

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
    /// Addresses whose spec left the set and that are not deleted (no `--prune`, no
    /// `deletionPolicy: delete`): apply forgets them; their remote jobs stay in place.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forget: Vec<Address>,
    /// Counts.
    pub summary: Summary,
}

impl Plan {
    /// Builds a plan from per-address changes (sorted by address) and computes the summary.
    #[must_use]
    pub fn new(binding: Binding, mut changes: Vec<Change>, mut drift: Vec<Drift>) -> Self {
        changes.sort_by(|a, b| a.address.cmp(&b.address));
        drift.sort_by(|a, b| a.address.cmp(&b.address));
        let mut summary = Summary::default();
        for change in &changes {
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
        Self {
            format_version: PLAN_FORMAT_VERSION.to_owned(),
            binding,
            changes,
            drift,
            forget: Vec::new(),
            summary,
        }
    }

    /// Whether the plan does anything (forgetting an address changes the state).
    #[must_use]
    pub fn has_changes(&self) -> bool {
        !self.forget.is_empty() || self.changes.iter().any(|change| !change.actions.is_empty())
    }

    /// `Plan: 2 to create, 1 to modify, 3 lifecycle steps, 0 to delete.`
    #[must_use]
    pub fn summary_line(&self) -> String {
        let Summary {
            create,
            modify,
            lifecycle,
            delete,
            unchanged: _,
        } = self.summary;
        let steps = if lifecycle == 1 { "step" } else { "steps" };
        format!(
            "Plan: {create} to create, {modify} to modify, {lifecycle} lifecycle {steps}, {delete} to delete."
        )
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
