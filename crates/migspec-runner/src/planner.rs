//! Planning: observe every address the specs and the state refer to (batched, one observe
//! call per provider), ask each address's provider for its actions, and bind the result to
//! what it was computed from.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde_json::Value;

use migspec_provider::{
    Action, ActionKind, Address, ChangeValue, Disruption, FieldChange, MARKER_FIELD,
    ObserveRequest, ObserveTarget, Observed, Orphans, PlanError, PlanRequest, Recorded, RemoteId,
};
use migspec_spec::model::DeletionPolicy;

use crate::RunnerError;
pub use crate::plan::PlanMode;
use crate::plan::{
    AddressBinding, Binding, Blocked, Change, Drift, Forget, Plan, Source, Warning, fingerprint,
};
use crate::providers::Providers;
use crate::scope::Scope;
use crate::specs::SpecSet;
use crate::state::{Resource, State};

/// Which addresses a run considers, and what it may delete or re-create.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    only: Option<GlobSet>,
    exclude: Option<GlobSet>,
    only_globs: Vec<String>,
    exclude_globs: Vec<String>,
    /// Delete remote objects whose spec left the given paths (`--prune`), unless their spec
    /// said `deletionPolicy: orphan`.
    pub prune: bool,
    /// Addresses to delete safely and create again (`--replace`), and whose planned
    /// re-creates may overwrite target data.
    pub replace: BTreeSet<Address>,
    /// The spec paths of the run: recorded addresses whose spec file lies outside them are
    /// not considered at all.
    pub scope: Scope,
    /// `-l` label selectors: every one must hold for a spec's `metadata.labels`. A recorded
    /// address without a spec has no labels, so a run with selectors leaves it alone.
    labels: Vec<LabelSelector>,
    /// Converge to the specs, or destroy what they (and the state) name.
    pub mode: PlanMode,
}

/// One `-l` selector: `key=value`, `key!=value` or `key` (the label is set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelSelector {
    /// `key=value`
    Equals(String, String),
    /// `key!=value` (also when the label is absent)
    NotEquals(String, String),
    /// `key`
    Exists(String),
}

impl LabelSelector {
    /// Parses `key=value`, `key!=value` or `key`.
    ///
    /// # Errors
    ///
    /// An empty key, or a key or value with a space.
    pub fn parse(text: &str) -> Result<Self, RunnerError> {
        let bad = || RunnerError::Usage {
            message: format!(
                "bad label selector `{text}`: write `key=value`, `key!=value` or `key` (e.g. `-l team=payments`)"
            ),
        };
        let selector = if let Some((key, value)) = text.split_once("!=") {
            Self::NotEquals(key.to_owned(), value.to_owned())
        } else if let Some((key, value)) = text.split_once('=') {
            Self::Equals(key.to_owned(), value.to_owned())
        } else {
            Self::Exists(text.to_owned())
        };
        let (Self::Equals(key, value) | Self::NotEquals(key, value)) = &selector else {
            return if text.is_empty() || text.contains(char::is_whitespace) {
                Err(bad())
            } else {
                Ok(selector)
            };
        };
        if key.is_empty()
            || key.contains(char::is_whitespace)
            || value.contains(char::is_whitespace)
        {
            return Err(bad());
        }
        Ok(selector)
    }

    fn holds(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Self::Equals(key, value) => labels.get(key) == Some(value),
            Self::NotEquals(key, value) => labels.get(key) != Some(value),
            Self::Exists(key) => labels.contains_key(key),
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Equals(key, value) => format!("{key}={value}"),
            Self::NotEquals(key, value) => format!("{key}!={value}"),
            Self::Exists(key) => key.clone(),
        }
    }
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
            replace: BTreeSet::new(),
            scope: Scope::default(),
            labels: Vec::new(),
            mode: PlanMode::Converge,
        })
    }

    /// The same selection, in this mode (`migspec destroy`: [`PlanMode::Destroy`]).
    #[must_use]
    pub fn with_mode(mut self, mode: PlanMode) -> Self {
        self.mode = mode;
        self
    }

    /// The same selection, keeping only specs whose labels satisfy every selector.
    ///
    /// # Errors
    ///
    /// A selector that does not parse.
    pub fn with_labels(mut self, selectors: &[String]) -> Result<Self, RunnerError> {
        self.labels = selectors
            .iter()
            .map(|text| LabelSelector::parse(text))
            .collect::<Result<_, _>>()?;
        Ok(self)
    }

    /// Whether a spec (an address with its labels) is in the run.
    #[must_use]
    pub fn selects_spec(&self, address: &Address, labels: &BTreeMap<String, String>) -> bool {
        self.selects(address) && self.labels.iter().all(|selector| selector.holds(labels))
    }

    /// The `--only`/`--exclude` globs and `-l` selectors that match none of the given
    /// addresses (specs with their labels, and recorded addresses without), each described
    /// for an error: a selection that selects nothing by mistake must not look like "no
    /// changes".
    #[must_use]
    pub fn unmatched(
        &self,
        specs: &[(Address, BTreeMap<String, String>)],
        recorded: &[Address],
    ) -> Vec<String> {
        let names = || specs.iter().map(|(address, _)| address).chain(recorded);
        let mut unmatched = Vec::new();
        for (flag, globs) in [
            ("--only", &self.only_globs),
            ("--exclude", &self.exclude_globs),
        ] {
            for glob in globs {
                let Ok(matcher) = Glob::new(glob).map(|glob| glob.compile_matcher()) else {
                    continue;
                };
                if !names().any(|address| matcher.is_match(&address.0)) {
                    unmatched.push(format!("{flag} {glob}"));
                }
            }
        }
        for selector in &self.labels {
            if !specs.iter().any(|(_, labels)| selector.holds(labels)) {
                unmatched.push(format!("-l {}", selector.describe()));
            }
        }
        unmatched
    }

    /// The same selection, over these spec paths.
    #[must_use]
    pub fn with_paths(mut self, paths: &[PathBuf]) -> Self {
        self.scope = Scope::new(paths);
        self
    }

    /// The same selection, re-creating these addresses (`--replace`).
    #[must_use]
    pub fn with_replace(mut self, addresses: &[String]) -> Self {
        self.replace = addresses.iter().map(|a| Address(a.clone())).collect();
        self
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
    /// What every observed address was planned from (a saved plan binds those it acts on).
    pub bindings: BTreeMap<Address, AddressBinding>,
}

/// What one address is, for observation and planning.
struct Subject<'a> {
    address: Address,
    kind: String,
    provider: usize,
    target: ObserveTarget,
    recorded: Option<&'a Resource>,
}

/// What planning one address gave.
enum Planning {
    Change(Change),
    Forget(Forget),
    Blocked(Blocked),
}

/// Observes every selected address and plans it. An address that cannot be planned is
/// [`Blocked`] in the plan; the others are planned as usual.
///
/// # Errors
///
/// A kind no provider serves, a `--replace` address that is not in the set, or a provider
/// error while observing (auth, network, …).
pub async fn plan(
    providers: &Providers,
    state: State,
    specs: SpecSet,
    selection: &Selection,
) -> Result<Planned, RunnerError> {
    let mut specs = specs;
    specs.specs.retain(|address, _| selection.selects(address));
    if let Some(unknown) = selection
        .replace
        .iter()
        .find(|address| !specs.specs.contains_key(*address))
    {
        return Err(RunnerError::Usage {
            message: format!(
                "--replace {unknown}: no selected spec has that address (specs: {})",
                specs
                    .specs
                    .keys()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    let subjects = subjects(providers, &state, &specs, selection)?;
    let observed = observe_all(providers, &subjects).await?;
    let owners = shared_remote_ids(&state, &subjects, &observed);

    let mut changes = Vec::new();
    let mut drift = Vec::new();
    let mut forget = Vec::new();
    let mut blocked = Vec::new();
    for subject in &subjects {
        let observation = &observed[&subject.address];
        if let Some(found) = drift_of(subject.recorded, observation) {
            drift.push(Drift {
                address: subject.address.clone(),
                changes: found,
            });
        }
        let planning = match owners.get(&subject.address) {
            Some(message) => Planning::Blocked(Blocked {
                address: subject.address.clone(),
                kind: subject.kind.clone(),
                remote_id: observation.object().map(|object| object.id.clone()),
                reason: message.clone(),
                help: "one remote object belongs to at most one address: remove the wrong record with `migspec state rm ADDRESS` (the remote job is untouched), or rename with `migspec state mv OLD NEW`".to_owned(),
            }),
            None if selection.mode == PlanMode::Destroy => {
                destroy_subject(providers, &state, &specs, subject, observation)
            }
            None => plan_subject(providers, &state, &specs, selection, subject, observation),
        };
        match planning {
            Planning::Change(change) => changes.push(change),
            Planning::Forget(entry) => forget.push(entry),
            Planning::Blocked(entry) => blocked.push(entry),
        }
    }
    // A destroy creates nothing, so rename and marker hints (about creates) do not apply.
    let mut warnings = Vec::new();
    if selection.mode == PlanMode::Converge {
        warnings = rename_hints(&state, &specs, &changes, &forget);
        warnings.extend(unmarked(&specs, &changes, &observed));
    }
    let bindings: BTreeMap<Address, AddressBinding> = subjects
        .iter()
        .map(|subject| {
            (
                subject.address.clone(),
                address_binding(&specs, &state, &observed, &subject.address),
            )
        })
        .collect();
    let touched: BTreeSet<&Address> = changes
        .iter()
        .filter(|change| !change.actions.is_empty())
        .map(|change| &change.address)
        .chain(forget.iter().map(|entry| &entry.address))
        .collect();
    let binding = Binding {
        // A state never written has no lineage yet (each read of a missing file makes one).
        lineage: if state.serial == 0 {
            String::new()
        } else {
            state.lineage.clone()
        },
        serial: state.serial,
        addresses: bindings
            .iter()
            .filter(|(address, _)| touched.contains(address))
            .map(|(address, binding)| (address.clone(), binding.clone()))
            .collect(),
        paths: Vec::new(),
        only: selection.only_globs.clone(),
        exclude: selection.exclude_globs.clone(),
        prune: selection.prune,
        replace: selection.replace.iter().cloned().collect(),
        labels: selection
            .labels
            .iter()
            .map(LabelSelector::describe)
            .collect(),
        mode: selection.mode,
    };
    let plan = Plan::new(binding, changes, drift).with_outside(forget, blocked, warnings);
    if selection.mode == PlanMode::Destroy {
        // The engine acts on a destroyed address as on an orphan: with no spec, a step never
        // plans its way back towards one (no recovery, no adoption), and a deleted or
        // vanished object's record is dropped. The bindings above still hold the specs'
        // hashes, so a saved destroy plan goes stale when a spec changes.
        specs.specs.clear();
    }
    Ok(Planned {
        plan,
        specs,
        observed,
        state,
        bindings,
    })
}

/// What one address is planned from, as hashes: its spec, its state record, and its
/// remote object's id and configuration (not phase or progress).
fn address_binding(
    specs: &SpecSet,
    state: &State,
    observed: &BTreeMap<Address, Observed>,
    address: &Address,
) -> AddressBinding {
    AddressBinding {
        spec: specs.specs.get(address).map(|spec| spec.hash.clone()),
        record: state.resources.get(address).map(fingerprint),
        remote: observed
            .get(address)
            .and_then(Observed::object)
            .map(|object| fingerprint(&(&object.id, &object.view))),
    }
}

/// Plans one address: the provider's actions, or a forget, or why it is blocked.
fn plan_subject(
    providers: &Providers,
    state: &State,
    specs: &SpecSet,
    selection: &Selection,
    subject: &Subject<'_>,
    observation: &Observed,
) -> Planning {
    let provider = providers.get(subject.provider);
    let spec = specs.specs.get(&subject.address);
    let recorded = recorded(subject.recorded, spec, &state.salt, observation);
    let unknown_secrets = recorded.unknown_secrets.clone();
    let policy = subject
        .recorded
        .and_then(|resource| resource.deletion_policy);
    let orphans = match policy {
        Some(DeletionPolicy::Orphan) => Orphans::Keep,
        Some(DeletionPolicy::Delete) => Orphans::Delete,
        None => Orphans::from(selection.prune),
    };
    let remote_id = observation.object().map(|object| object.id.clone());
    let blocked = |reason: String, help: String| {
        Planning::Blocked(Blocked {
            address: subject.address.clone(),
            kind: subject.kind.clone(),
            remote_id: remote_id.clone(),
            reason,
            help,
        })
    };
    let replacing = selection.replace.contains(&subject.address);
    let request = PlanRequest {
        address: subject.address.clone(),
        desired: spec.map(|spec| spec.desired.clone()),
        observed: observation.clone(),
        recorded: recorded.request,
        orphans,
    };
    let planned = if replacing && observation.object().is_some() {
        replace_actions(provider.as_ref(), &request)
    } else {
        provider.plan(&request)
    };
    let mut actions = match planned {
        Ok(actions) => actions,
        Err(error) => {
            let mut ways = Vec::new();
            if spec.is_some() && observation.object().is_some() {
                ways.push(format!(
                    "`migspec apply --replace {}` deletes the job safely and creates it again",
                    subject.address
                ));
            }
            if subject
                .recorded
                .is_some_and(|resource| resource.attempts > 0)
            {
                ways.push(format!(
                    "`migspec state reset-attempts {}` lets onFailure try again once the cause is fixed",
                    subject.address
                ));
            }
            ways.push("fix what the reason says, then plan again".to_owned());
            return blocked(error.message, ways.join("; "));
        }
    };
    if spec.is_none() && actions.is_empty() {
        let resource = subject.recorded;
        let file = resource.and_then(|resource| resource.file.clone());
        let why = match (policy, selection.prune) {
            (Some(DeletionPolicy::Orphan), true) => {
                "its spec said `lifecycle.deletionPolicy: orphan`, which wins over --prune: the job stays in place"
            }
            (Some(DeletionPolicy::Orphan), false) => {
                "its spec said `lifecycle.deletionPolicy: orphan`: the job stays in place"
            }
            _ if observation.object().is_none() => "its remote job no longer exists",
            _ => {
                "the job stays in place (`--prune` or `lifecycle.deletionPolicy: delete` would delete it)"
            }
        };
        return Planning::Forget(Forget {
            address: subject.address.clone(),
            kind: subject.kind.clone(),
            remote_id,
            reason: format!(
                "{} left {}; {why}",
                file.as_deref()
                    .map_or_else(|| "its spec".to_owned(), |file| format!("its spec {file}")),
                selection.scope.describe()
            ),
            file,
        });
    }
    let overwrites = actions.iter().any(|action| {
        action
            .disruptions
            .iter()
            .any(|d| matches!(d, Disruption::OverwritesTarget | Disruption::ClearsTarget))
    });
    if recreates(&actions) && overwrites && !replacing {
        return blocked(
            format!(
                "the plan re-creates {} ({}), which migrates the data again into the live target and overwrites it",
                remote_id
                    .as_ref()
                    .map_or_else(|| "the job".to_owned(), |id| format!("job {id}")),
                actions
                    .iter()
                    .map(|action| action.kind.verb())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            format!(
                "`migspec plan --replace {0}` shows it, `migspec apply --replace {0}` does it; or revert the spec change",
                subject.address
            ),
        );
    }
    mark_unknown_secrets(&mut actions, &unknown_secrets);
    Planning::Change(Change {
        address: subject.address.clone(),
        kind: subject.kind.clone(),
        remote_id,
        phase: observation.object().map(|object| object.phase),
        actions,
        source: spec.map(|spec| Source {
            file: crate::scope::project_relative(&spec.file),
            line: spec.line,
        }),
    })
}

/// Plans one address for `migspec destroy`: the provider's safe delete (stop, pause or
/// isolate first, as for a pruned orphan), or a forget when `deletionPolicy: orphan` (the
/// spec's, else the recorded one) keeps the job.
fn destroy_subject(
    providers: &Providers,
    state: &State,
    specs: &SpecSet,
    subject: &Subject<'_>,
    observation: &Observed,
) -> Planning {
    let spec = specs.specs.get(&subject.address);
    let remote_id = observation.object().map(|object| object.id.clone());
    let policy = spec.and_then(|spec| spec.deletion_policy).or_else(|| {
        subject
            .recorded
            .and_then(|resource| resource.deletion_policy)
    });
    let change = |actions: Vec<Action>| {
        Planning::Change(Change {
            address: subject.address.clone(),
            kind: subject.kind.clone(),
            remote_id: remote_id.clone(),
            phase: observation.object().map(|object| object.phase),
            actions,
            source: spec.map(|spec| Source {
                file: crate::scope::project_relative(&spec.file),
                line: spec.line,
            }),
        })
    };
    if policy == Some(DeletionPolicy::Orphan) {
        if subject.recorded.is_none() && remote_id.is_none() {
            return change(Vec::new());
        }
        let file = subject.recorded.and_then(|resource| resource.file.clone());
        return Planning::Forget(Forget {
            address: subject.address.clone(),
            kind: subject.kind.clone(),
            remote_id,
            reason: "destroy: `lifecycle.deletionPolicy: orphan` wins: migspec forgets the address and the job stays in place (not deleted)".to_owned(),
            file,
        });
    }
    let provider = providers.get(subject.provider);
    let request = PlanRequest {
        address: subject.address.clone(),
        desired: None,
        observed: observation.clone(),
        recorded: recorded(subject.recorded, spec, &state.salt, observation).request,
        orphans: Orphans::Delete,
    };
    match provider.plan(&request) {
        Ok(mut actions) => {
            for action in &mut actions {
                action.reason = format!("destroy: {}", action.reason);
            }
            change(actions)
        }
        Err(error) => Planning::Blocked(Blocked {
            address: subject.address.clone(),
            kind: subject.kind.clone(),
            remote_id,
            reason: error.message,
            help: "fix what the reason says (or wait for the job to reach a state it can be deleted from), then run `migspec destroy` again".to_owned(),
        }),
    }
}

/// `--replace`: the provider's own re-create when its plan already is one (it carries the
/// provider's disruption markers); otherwise the provider's safe delete of the object (as
/// for a pruned spec), then its create from nothing, each asked of the provider's planner.
fn replace_actions(
    provider: &dyn migspec_provider::Provider,
    request: &PlanRequest,
) -> Result<Vec<Action>, PlanError> {
    if let Ok(actions) = provider.plan(request)
        && recreates(&actions)
    {
        return Ok(actions);
    }
    let mut deleting = request.clone();
    deleting.desired = None;
    deleting.orphans = Orphans::Delete;
    let mut actions = provider.plan(&deleting)?;
    for action in &mut actions {
        action.reason = format!("--replace: {}", action.reason);
    }
    let mut creating = request.clone();
    creating.observed = Observed::Missing {
        address: request.address.clone(),
    };
    creating.recorded = Recorded::default();
    let mut then = provider.plan(&creating)?;
    // A job that has migrated data is replaced by one that migrates it all again.
    let migrated = request
        .observed
        .object()
        .is_some_and(|object| object.phase.has_migrated());
    if let Some(create) = then.first_mut()
        && create.kind == ActionKind::Create
    {
        let mut marked = create.clone().disrupting(Disruption::ForcesRecreate);
        if migrated {
            marked = marked.disrupting(Disruption::OverwritesTarget);
        }
        marked.reason = format!("--replace: {}", marked.reason);
        *create = marked;
    }
    actions.extend(then);
    Ok(actions)
}

/// Whether actions delete the remote object and create it again.
fn recreates(actions: &[Action]) -> bool {
    actions
        .iter()
        .any(|action| action.kind == ActionKind::Delete)
        && actions
            .iter()
            .any(|action| action.kind == ActionKind::Create)
}

/// Secrets migspec never sent (an imported object): their field changes say so.
fn mark_unknown_secrets(actions: &mut [Action], unknown: &[String]) {
    for action in actions {
        for change in &mut action.changes {
            if unknown.contains(&change.field) {
                change.before = ChangeValue::Unknown;
            }
        }
    }
}

/// Addresses whose remote object another address holds too, with the message: a state in
/// which two addresses hold one id (or an object found by tag that another address
/// records) is refused for each of them.
fn shared_remote_ids(
    state: &State,
    subjects: &[Subject<'_>],
    observed: &BTreeMap<Address, Observed>,
) -> BTreeMap<Address, String> {
    let mut holders: BTreeMap<&RemoteId, BTreeSet<&Address>> = BTreeMap::new();
    for (address, resource) in &state.resources {
        if let Some(id) = &resource.remote_id {
            holders.entry(id).or_default().insert(address);
        }
    }
    for subject in subjects {
        if let Some(object) = observed[&subject.address].object() {
            holders
                .entry(&object.id)
                .or_default()
                .insert(&subject.address);
        }
    }
    let mut refused = BTreeMap::new();
    for (id, addresses) in holders {
        if addresses.len() < 2 {
            continue;
        }
        for address in &addresses {
            let others: Vec<String> = addresses
                .iter()
                .filter(|other| *other != address)
                .map(ToString::to_string)
                .collect();
            refused.insert(
                (*address).clone(),
                format!(
                    "remote object {id} is held by {address} and by {}: migspec will not act on it for either",
                    others.join(", ")
                ),
            );
        }
    }
    refused
}

/// A create next to a forget (or prune) of the same configuration looks like a renamed
/// `metadata.name`: say how to keep the job.
fn rename_hints(
    state: &State,
    specs: &SpecSet,
    changes: &[Change],
    forget: &[Forget],
) -> Vec<Warning> {
    let leaving: Vec<&Address> = forget
        .iter()
        .map(|entry| &entry.address)
        .chain(
            changes
                .iter()
                .filter(|change| !specs.specs.contains_key(&change.address))
                .map(|change| &change.address),
        )
        .collect();
    let mut warnings = Vec::new();
    for change in changes {
        if change.actions.first().map(|action| action.kind) != Some(ActionKind::Create)
            || change.remote_id.is_some()
        {
            continue;
        }
        let Some(spec) = specs.specs.get(&change.address) else {
            continue;
        };
        for old in &leaving {
            let same = state.resources.get(*old).is_some_and(|resource| {
                resource.kind == change.kind
                    && resource.config_hash.as_deref() == Some(spec.config_hash.as_str())
            });
            if same {
                warnings.push(Warning {
                    address: change.address.clone(),
                    message: format!(
                        "looks like a rename of {old} (same configuration): to keep its job instead of creating another, run `migspec state mv {old} {}` and plan again",
                        change.address
                    ),
                });
            }
        }
    }
    warnings
}

/// Objects whose own marker (DTS tag, OMS description) does not name their address and
/// that no planned action re-marks: a lost state could not find them again, and a create
/// would duplicate them.
fn unmarked(
    specs: &SpecSet,
    changes: &[Change],
    observed: &BTreeMap<Address, Observed>,
) -> Vec<Warning> {
    changes
        .iter()
        .filter(|change| specs.specs.contains_key(&change.address))
        .filter_map(|change| {
            let object = observed.get(&change.address)?.object()?;
            if object.marker.as_ref() == Some(&change.address) {
                return None;
            }
            let remarked = change
                .actions
                .iter()
                .flat_map(|action| &action.changes)
                .any(|field| field.field == MARKER_FIELD);
            if remarked {
                return None;
            }
            let names = object.marker.as_ref().map_or_else(
                || "carries no `migspec:address` marker".to_owned(),
                |other| format!("is marked `migspec:address={other}`"),
            );
            Some(Warning {
                address: change.address.clone(),
                message: format!(
                    "{} {names}, and its API cannot re-mark it now: it can only be found through the state; if the state is lost, a plan would create a second job (keep the state safe, e.g. a team backend)",
                    object.id
                ),
            })
        })
        .collect()
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
    let mut everything = selection.clone();
    everything.scope = Scope::everything();
    let subjects = subjects(providers, state, &SpecSet::default(), &everything)?;
    observe_all(providers, &subjects).await
}

/// The spec addresses and the orphans recorded in state, with their observe targets. A
/// recorded address without a spec is an orphan only when its recorded spec file lies
/// under the run's paths; others are outside the run and not even observed.
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
                revision: recorded.and_then(|resource| resource.applied_revision.clone()),
                view: recorded
                    .filter(|resource| resource.applied_revision.is_some())
                    .and_then(|resource| resource.applied_view.clone()),
            },
            recorded,
        });
    }
    for (address, resource) in &state.resources {
        if specs.specs.contains_key(address)
            || !selection.selects(address)
            || !selection.labels.is_empty()
            || !selection.scope.covers(resource.file.as_deref())
        {
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
                revision: resource.applied_revision.clone(),
                view: resource
                    .applied_revision
                    .as_ref()
                    .and(resource.applied_view.clone()),
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
            let provider = &provider;
            let answer = crate::backoff::retry_read(
                || {
                    provider.observe(ObserveRequest {
                        targets: targets.clone(),
                    })
                },
                crate::backoff::READ_RETRIES,
            )
            .await;
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

/// What the provider gets from the state, and which secrets migspec never sent.
struct RecordedSecrets {
    request: Recorded,
    /// Secret pointers of an existing object that migspec never sent (imported objects):
    /// planned as changed, shown as unknown.
    unknown_secrets: Vec<String>,
}

/// What the provider gets from the state: the remote id, which secrets changed (or were
/// never sent to this object), attempts.
fn recorded(
    resource: Option<&Resource>,
    spec: Option<&crate::specs::Spec>,
    salt: &str,
    observed: &Observed,
) -> RecordedSecrets {
    let Some(resource) = resource else {
        return RecordedSecrets {
            request: Recorded::default(),
            unknown_secrets: Vec::new(),
        };
    };
    // Attempts and secrets belong to the object the state knows: a re-created one starts
    // afresh.
    let same_object = observed
        .object()
        .is_some_and(|object| Some(&object.id) == resource.remote_id.as_ref());
    let mut changed_secrets = Vec::new();
    let mut unknown_secrets = Vec::new();
    for (pointer, secret) in spec.map(|spec| &spec.desired.secrets).into_iter().flatten() {
        match resource.secret_fingerprints.get(pointer) {
            Some(recorded) if *recorded != secret.fingerprint(salt) => {
                changed_secrets.push(pointer.clone());
            }
            Some(_) => {}
            // Adopted with `import --all --secrets-in-use`: the user vouched for the values.
            None if same_object && resource.secrets_in_use => {}
            None if same_object => {
                changed_secrets.push(pointer.clone());
                unknown_secrets.push(pointer.clone());
            }
            None => {}
        }
    }
    RecordedSecrets {
        request: Recorded {
            remote_id: resource.remote_id.clone(),
            changed_secrets,
            attempts: if same_object { resource.attempts } else { 0 },
            location: resource.location.clone(),
        },
        unknown_secrets,
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
                revision: None,
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
            file: None,
            config_hash: None,
            attempts: 2,
            applied_view: Some(view),
            secrets_in_use: false,
            applied_revision: None,
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
            .request
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
            .request
            .attempts,
            0
        );
    }

    #[test]
    fn label_selectors_parse_and_hold() {
        let labels: BTreeMap<String, String> = [("team".to_owned(), "payments".to_owned())].into();
        let holds = |text: &str| LabelSelector::parse(text).unwrap().holds(&labels);
        assert!(holds("team=payments"));
        assert!(!holds("team=web"));
        assert!(holds("team!=web"));
        assert!(!holds("team!=payments"));
        assert!(holds("team"));
        assert!(!holds("tier"));
        for bad in ["", "=x", "team = x", "a b"] {
            assert!(LabelSelector::parse(bad).is_err(), "{bad:?}");
        }
        let selection = Selection::new(&["orders-*".into()], &[], false)
            .unwrap()
            .with_labels(&["team=nobody".into()])
            .unwrap();
        assert_eq!(
            selection.unmatched(&[(Address("orders-eu".into()), labels.clone())], &[]),
            ["-l team=nobody"]
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
    fn address_bindings_ignore_phase_and_progress_but_not_configuration() {
        let address = Address("a".into());
        let binding_of = |observation: Observed| {
            let observed: BTreeMap<Address, Observed> = [(address.clone(), observation)].into();
            address_binding(&SpecSet::default(), &State::new(), &observed, &address)
        };
        let still = present("x", json!({"JobName": "a"}));
        let mut moving = still.clone();
        if let Observed::Present { object, .. } = &mut moving {
            object.phase = Phase::ReadyToComplete;
            object.raw_status = "8".into();
            object.progress = Some(migspec_provider::Progress {
                percent: Some(40.0),
                step: None,
                message: None,
            });
        }
        assert_eq!(binding_of(moving), binding_of(still.clone()));
        assert!(binding_of(still.clone()).remote.is_some());
        assert_ne!(
            binding_of(present("x", json!({"JobName": "b"}))),
            binding_of(still.clone())
        );
        assert_ne!(
            binding_of(present("y", json!({"JobName": "a"}))),
            binding_of(still)
        );
        assert_eq!(
            binding_of(Observed::Missing {
                address: address.clone()
            }),
            AddressBinding::default()
        );
    }
}
