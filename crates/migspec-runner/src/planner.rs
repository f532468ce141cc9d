//! Planning: observe every address the specs and the state refer to (batched, one observe
//! call per provider), ask each address's provider for its actions, and bind the result to
//! what it was computed from.

use std::collections::BTreeMap;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde_json::Value;

use migspec_provider::{
    Address, ChangeValue, FieldChange, ObserveRequest, ObserveTarget, Observed, PlanError,
    PlanRequest, Recorded,
};

use crate::RunnerError;
use crate::plan::{Binding, Change, Drift, Plan, fingerprint};
use crate::providers::Providers;
use crate::specs::SpecSet;
use crate::state::{Resource, State};

/// Which addresses a run considers, and whether orphans are deleted.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    only: Option<GlobSet>,
    exclude: Option<GlobSet>,
    only_globs: Vec<String>,
    exclude_globs: Vec<String>,
    /// Delete remote objects whose spec left the set (`--prune`).
    pub prune: bool,
}

impl Selection {
    /// A selection from `--only` / `--exclude` globs (`orders-*`, `*-redis`).
    ///
    /// # Errors
    ///
    /// When a glob does not parse.
    pub fn new(only: &[String], exclude: &[String], prune: bool) -> Result<Self, RunnerError> {
        let build = |globs: &[String]| -> Result<Option<GlobSet>, RunnerError> {
            if globs.is_empty() {
                return Ok(None);
            }
            let mut builder = GlobSetBuilder::new();
            for glob in globs {
                builder.add(Glob::new(glob).map_err(|error| RunnerError::Usage {
                    message: format!("bad address glob `{glob}`: {error}"),
                })?);
            }
            builder
                .build()
                .map(Some)
                .map_err(|error| RunnerError::Usage {
                    message: format!("bad address globs: {error}"),
                })
        };
        Ok(Self {
            only: build(only)?,
            exclude: build(exclude)?,
            only_globs: only.to_vec(),
            exclude_globs: exclude.to_vec(),
            prune,
        })
    }

    /// Whether an address is in the run.
    #[must_use]
    pub fn selects(&self, address: &Address) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.is_match(&address.0))
            && !self
                .exclude
                .as_ref()
                .is_some_and(|exclude| exclude.is_match(&address.0))
    }
}

/// A plan with everything it was made from, as `apply` needs it.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The plan.
    pub plan: Plan,
    /// The selected specs.
    pub specs: SpecSet,
    /// The observation of every planned address.
    pub observed: BTreeMap<Address, Observed>,
    /// The state the plan was made from.
    pub state: State,
}

/// What one address is, for observation and planning.
struct Subject<'a> {
    address: Address,
    kind: String,
    provider: usize,
    target: ObserveTarget,
    recorded: Option<&'a Resource>,
}

/// Observes every selected address and plans it.
///
/// # Errors
///
/// A kind no provider serves, a provider error while observing (auth, network, …), or the
/// plan errors of every address that cannot be planned.
pub async fn plan(
    providers: &Providers,
    state: State,
    specs: SpecSet,
    selection: &Selection,
) -> Result<Planned, RunnerError> {
    let mut specs = specs;
    specs.specs.retain(|address, _| selection.selects(address));
    let subjects = subjects(providers, &state, &specs, selection)?;
    let observed = observe_all(providers, &subjects).await?;

    let mut changes = Vec::new();
    let mut drift = Vec::new();
    let mut forget = Vec::new();
    let mut errors = Vec::new();
    for subject in &subjects {
        let observation = observed[&subject.address].clone();
        let spec = specs.specs.get(&subject.address);
        let recorded = recorded(subject.recorded, spec, &state.salt, &observation);
        let delete_orphan = selection.prune
            || subject
                .recorded
                .and_then(|resource| resource.deletion_policy.as_deref())
                == Some("delete");
        let request = PlanRequest {
            address: subject.address.clone(),
            desired: spec.map(|spec| spec.desired.clone()),
            observed: observation.clone(),
            recorded,
            delete_orphan,
        };
        if let Some(found) = drift_of(subject.recorded, &observation) {
            drift.push(Drift {
                address: subject.address.clone(),
                changes: found,
            });
        }
        match providers.get(subject.provider).plan(&request) {
            Ok(actions) if spec.is_none() && actions.is_empty() => {
                // The spec left the set and nothing deletes the object: forget it.
                forget.push(subject.address.clone());
            }
            Ok(actions) => changes.push(Change {
                address: subject.address.clone(),
                kind: subject.kind.clone(),
                remote_id: observation.object().map(|object| object.id.clone()),
                phase: observation.object().map(|object| object.phase),
                actions,
            }),
            Err(error) => errors.push(error),
        }
    }
    if !errors.is_empty() {
        return Err(RunnerError::Plan { errors });
    }
    let observations: Vec<Observed> = observed.values().cloned().collect();
    let binding = Binding {
        // A state never written has no lineage yet (each read of a missing file makes one).
        lineage: if state.serial == 0 {
            String::new()
        } else {
            state.lineage.clone()
        },
        serial: state.serial,
        specs: specs.hash(),
        observed: observed_binding(&observations),
        paths: Vec::new(),
        only: selection.only_globs.clone(),
        exclude: selection.exclude_globs.clone(),
        prune: selection.prune,
    };
    let mut plan = Plan::new(binding, changes, drift);
    forget.sort();
    plan.forget = forget;
    Ok(Planned {
        plan,
        specs,
        observed,
        state,
    })
}

/// Observes every address recorded in the state (for `migspec status`), batched.
///
/// # Errors
///
/// A recorded kind no provider serves, or a provider error.
pub async fn observe_state(
    providers: &Providers,
    state: &State,
    selection: &Selection,
) -> Result<BTreeMap<Address, Observed>, RunnerError> {
    let subjects = subjects(providers, state, &SpecSet::default(), selection)?;
    observe_all(providers, &subjects).await
}

/// The spec addresses and the orphans recorded in state, with their observe targets.
fn subjects<'a>(
    providers: &Providers,
    state: &'a State,
    specs: &SpecSet,
    selection: &Selection,
) -> Result<Vec<Subject<'a>>, RunnerError> {
    let mut subjects = Vec::new();
    for (address, spec) in &specs.specs {
        let kind = &spec.desired.kind;
        let (provider, implementation) =
            providers
                .for_kind(kind)
                .ok_or_else(|| RunnerError::UnknownKind {
                    address: address.clone(),
                    kind: kind.clone(),
                    known: providers.kinds().join(", "),
                })?;
        let recorded = state
            .resources
            .get(address)
            .filter(|resource| &resource.kind == kind);
        let location =
            match recorded {
                Some(resource) if resource.remote_id.is_some() && !resource.location.is_null() => {
                    resource.location.clone()
                }
                _ => implementation.location(&spec.desired).map_err(|source| {
                    RunnerError::Provider {
                        address: Some(address.clone()),
                        source: Box::new(source),
                    }
                })?,
            };
        subjects.push(Subject {
            address: address.clone(),
            kind: kind.clone(),
            provider,
            target: ObserveTarget {
                address: address.clone(),
                kind: kind.clone(),
                remote_id: recorded.and_then(|resource| resource.remote_id.clone()),
                location,
            },
            recorded,
        });
    }
    for (address, resource) in &state.resources {
        if specs.specs.contains_key(address) || !selection.selects(address) {
            continue;
        }
        let (provider, _) =
            providers
                .for_kind(&resource.kind)
                .ok_or_else(|| RunnerError::UnknownKind {
                    address: address.clone(),
                    kind: resource.kind.clone(),
                    known: providers.kinds().join(", "),
                })?;
        subjects.push(Subject {
            address: address.clone(),
            kind: resource.kind.clone(),
            provider,
            target: ObserveTarget {
                address: address.clone(),
                kind: resource.kind.clone(),
                remote_id: resource.remote_id.clone(),
                location: resource.location.clone(),
            },
            recorded: Some(resource),
        });
    }
    Ok(subjects)
}

/// One batched observe call per provider, all providers at once.
async fn observe_all(
    providers: &Providers,
    subjects: &[Subject<'_>],
) -> Result<BTreeMap<Address, Observed>, RunnerError> {
    let mut batches: BTreeMap<usize, Vec<ObserveTarget>> = BTreeMap::new();
    for subject in subjects {
        batches
            .entry(subject.provider)
            .or_default()
            .push(subject.target.clone());
    }
    let calls = batches.into_iter().map(|(index, targets)| {
        let provider = providers.get(index).clone();
        let name = providers.description(index).name.clone();
        async move {
            let wanted: Vec<Address> = targets.iter().map(|t| t.address.clone()).collect();
            let answer = provider.observe(ObserveRequest { targets }).await;
            (name, wanted, answer)
        }
    });
    let mut observed = BTreeMap::new();
    for (name, wanted, answer) in futures_util::future::join_all(calls).await {
        let answer = answer.map_err(|source| RunnerError::Provider {
            address: None,
            source: Box::new(source),
        })?;
        for observation in answer {
            observed.insert(observation.address().clone(), observation);
        }
        if let Some(missing) = wanted
            .iter()
            .find(|address| !observed.contains_key(*address))
        {
            return Err(RunnerError::Provider {
                address: Some(missing.clone()),
                source: Box::new(migspec_provider::ProviderError::Contract {
                    message: format!("provider `{name}` returned no observation for {missing}"),
                }),
            });
        }
    }
    Ok(observed)
}

/// What the provider gets from the state: the remote id, which secrets changed, attempts.
fn recorded(
    resource: Option<&Resource>,
    spec: Option<&crate::specs::Spec>,
    salt: &str,
    observed: &Observed,
) -> Recorded {
    let Some(resource) = resource else {
        return Recorded::default();
    };
    let changed_secrets = spec.map_or_else(Vec::new, |spec| {
        spec.desired
            .secrets
            .iter()
            .filter(|(pointer, secret)| {
                resource
                    .secret_fingerprints
                    .get(*pointer)
                    .is_some_and(|recorded| *recorded != secret.fingerprint(salt))
            })
            .map(|(pointer, _)| pointer.clone())
            .collect()
    });
    // Attempts belong to the object that failed: a re-created object starts afresh.
    let same_object = observed.object().map(|object| &object.id) == resource.remote_id.as_ref();
    Recorded {
        remote_id: resource.remote_id.clone(),
        changed_secrets,
        attempts: if same_object { resource.attempts } else { 0 },
        location: resource.location.clone(),
    }
}

/// The fields whose observed value differs from the view recorded after the last apply:
/// changes made outside migspec.
fn drift_of(resource: Option<&Resource>, observed: &Observed) -> Option<Vec<FieldChange>> {
    let resource = resource?;
    let applied = resource.applied_view.as_ref()?;
    let object = observed.object()?;
    if resource.remote_id.as_ref() != Some(&object.id) {
        return None;
    }
    let mut before = BTreeMap::new();
    flatten(applied, "/spec".to_owned(), &mut before);
    let mut after = BTreeMap::new();
    flatten(&object.view, "/spec".to_owned(), &mut after);
    let mut fields: Vec<&String> = before.keys().chain(after.keys()).collect();
    fields.sort();
    fields.dedup();
    let changes: Vec<FieldChange> = fields
        .into_iter()
        .filter(|field| before.get(*field) != after.get(*field))
        .map(|field| FieldChange {
            field: field.clone(),
            before: before.get(field).map_or(ChangeValue::Absent, |value| {
                ChangeValue::Value((*value).clone())
            }),
            after: after.get(field).map_or(ChangeValue::Absent, |value| {
                ChangeValue::Value((*value).clone())
            }),
            in_place: true,
        })
        .collect();
    (!changes.is_empty()).then_some(changes)
}

/// Leaves of a JSON value by pointer (arrays are leaves: they change as a whole).
fn flatten<'a>(value: &'a Value, pointer: String, out: &mut BTreeMap<String, &'a Value>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                let escaped = key.replace('~', "~0").replace('/', "~1");
                flatten(child, format!("{pointer}/{escaped}"), out);
            }
        }
        _ => {
            out.insert(pointer, value);
        }
    }
}

/// The part of observations a plan depends on: ids, statuses and configuration; not the
/// progress counters, which move every second while a job runs.
#[must_use]
pub fn observed_binding(observed: &[Observed]) -> String {
    let mut parts: Vec<String> = observed
        .iter()
        .map(|observation| match observation.object() {
            None => fingerprint(&(observation.address(), "missing")),
            Some(object) => fingerprint(&(
                observation.address(),
                &object.id,
                &object.raw_status,
                &object.view,
            )),
        })
        .collect();
    parts.sort();
    fingerprint(&parts)
}

/// Plan errors, one per address, for display.
#[must_use]
pub fn describe_plan_errors(errors: &[PlanError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use migspec_provider::{Phase, RemoteId, RemoteObject};
    use serde_json::json;

    fn present(id: &str, view: Value) -> Observed {
        Observed::Present {
            address: Address("a".into()),
            object: Box::new(RemoteObject {
                id: RemoteId(id.into()),
                phase: Phase::Running,
                raw_status: "2".into(),
                location: Value::Null,
                view,
                progress: None,
                failure: None,
                marker: None,
            }),
        }
    }

    fn resource(view: Value) -> Resource {
        Resource {
            kind: "K".into(),
            remote_id: Some(RemoteId("x".into())),
            location: Value::Null,
            secret_fingerprints: BTreeMap::new(),
            applied_spec_hash: None,
            deletion_policy: None,
            attempts: 2,
            applied_view: Some(view),
        }
    }

    #[test]
    fn drift_lists_fields_changed_outside_migspec() {
        let recorded = resource(json!({"JobName": "a", "MigrateOption": {"RunMode": 1}}));
        let observed = present(
            "x",
            json!({"JobName": "b", "MigrateOption": {"RunMode": 1}, "Extra": [1]}),
        );
        let drift = drift_of(Some(&recorded), &observed).unwrap();
        let fields: Vec<&str> = drift.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["/spec/Extra", "/spec/JobName"]);
        assert_eq!(drift[0].before, ChangeValue::Absent);
        assert_eq!(drift[1].after, ChangeValue::Value(json!("b")));
        // Another object (re-created) is not drift; nor is an unchanged one.
        assert!(drift_of(Some(&recorded), &present("y", json!({}))).is_none());
        assert!(
            drift_of(
                Some(&recorded),
                &present(
                    "x",
                    json!({"JobName": "a", "MigrateOption": {"RunMode": 1}})
                )
            )
            .is_none()
        );
    }

    #[test]
    fn attempts_follow_the_failed_object_only() {
        let recorded_resource = resource(json!({}));
        assert_eq!(
            recorded(
                Some(&recorded_resource),
                None,
                "s",
                &present("x", json!({}))
            )
            .attempts,
            2
        );
        assert_eq!(
            recorded(
                Some(&recorded_resource),
                None,
                "s",
                &present("y", json!({}))
            )
            .attempts,
            0
        );
    }

    #[test]
    fn selections_combine_only_and_exclude() {
        let selection = Selection::new(&["orders-*".into()], &["*-old".into()], false).unwrap();
        assert!(selection.selects(&Address("orders-eu".into())));
        assert!(!selection.selects(&Address("orders-old".into())));
        assert!(!selection.selects(&Address("ledger".into())));
        assert!(Selection::new(&["[".into()], &[], false).is_err());
    }

    #[test]
    fn bindings_ignore_progress_but_not_status() {
        let mut moving = present("x", json!({}));
        let still = moving.clone();
        if let Observed::Present { object, .. } = &mut moving {
            object.progress = Some(migspec_provider::Progress {
                percent: Some(40.0),
                step: None,
                message: None,
            });
        }
        assert_eq!(
            observed_binding(std::slice::from_ref(&moving)),
            observed_binding(std::slice::from_ref(&still))
        );
        if let Observed::Present { object, .. } = &mut moving {
            object.raw_status = "3".into();
        }
        assert_ne!(
            observed_binding(std::slice::from_ref(&moving)),
            observed_binding(std::slice::from_ref(&still))
        );
    }
}
