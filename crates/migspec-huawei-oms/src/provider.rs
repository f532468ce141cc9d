//! [`HuaweiOmsProvider`]: the `migspec_provider::Provider` for `HuaweiOmsTaskGroup`.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use migspec_provider::{
    Action, ActionKind, Address, Description, DesiredSpec, Failure, ImportRequest, Imported,
    InFlightTarget, KindDescription, ObserveRequest, Observed, Phase, PlanError, PlanRequest,
    Problem, Provider, ProviderError, ProviderFuture, RateLimit, RemoteId, RemoteObject, Step,
    StepOutcome, Wait,
};
use migspec_spec::model::HuaweiOmsTaskGroup;
use migspec_spec::model::huawei::TaskGroupDesired;
use serde_json::{Map, Value, json};

use crate::client::{OmsClient, Operation, Target};
use crate::config::{ConfigError, HuaweiConfig};
use crate::convert::{self, KIND};
use crate::marker;
use crate::status::GroupStatus;
use crate::wire::TaskGroup;

/// The provider's name.
pub const PROVIDER_NAME: &str = "huawei-oms";

/// Where a task group lives: `{"region": …, "project_id": …}` in observations and state.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Location {
    region: String,
    project_id: String,
}

impl Location {
    fn to_value(&self) -> Value {
        json!({"region": self.region, "project_id": self.project_id})
    }

    fn target(&self) -> Target<'_> {
        Target {
            region: &self.region,
            project_id: &self.project_id,
        }
    }
}

/// The Huawei Cloud OMS v2 task-group provider.
///
/// Build it once with [`HuaweiOmsProvider::new`] (or [`HuaweiOmsProvider::from_env`]) and
/// share it: it holds one HTTP client and one set of rate limiters. It keeps no locations:
/// a create goes where its spec says, and every other step acts where
/// [`Step::location`](migspec_provider::Step::location) says the group was observed (so a
/// region or project change deletes the old group where it lives).
///
/// # Phases
///
/// OMS statuses map onto [`Phase`]s: 0 `Creating`, 1 and 2 `Running`, 3 `Paused`, 4 and 5
/// `Failed` (with `error_reason` as the failure), 6 `Completed`, 7 `Pausing`, 8 and 9
/// `Deleting`; a group that is gone (404 / `OMS.1009`) is [`Observed::Missing`].
///
/// # Planning
///
/// | observed | desired running | desired completed | desired paused |
/// |---|---|---|---|
/// | missing | `+ create` | `+ create` | `+ create`, `⏸ pause` |
/// | 0 waiting, 1/2 running | – | – (it completes by itself) | `⏸ pause` |
/// | 3 paused | `▶ start` | `▶ start` | – |
/// | 7 pausing | `⏸ pause` (wait), `▶ start` | same | – |
/// | 4/5 failed | `↻ retry` while `onFailure` allows, else a plan error | same | – |
/// | 6 completed | – | – | – |
/// | 8/9 deleting | `- delete` (wait until gone), `+ create` | same | same, `⏸ pause` |
///
/// Before these, a changed `bandwidth_policy` is a `~ modify` in place (the only change
/// OMS can make to a group; skipped once the group completed). Any other changed field
/// re-creates the group: `⏸ pause` when it runs (OMS refuses to delete a running group,
/// `OMS.0063`), `- delete`, `+ create`, marked [`Disruption::ForcesRecreate`], the field
/// changes on the create. Changed keys (`Recorded::changed_secrets`) re-create nothing:
/// OMS takes keys only at create, start and retry, so they ride along with a start or
/// retry, or show as a `~ modify` that explains this and sends nothing. `FULL_OVERWRITE`
/// marks creates (and full retries) [`Disruption::OverwritesTarget`].
///
/// A group without the address [`marker`] (imported, created outside migspec) is observed
/// with [`RemoteObject::marker`] `None` and planned as usual: OMS takes the description
/// only at creation (`update_task_group` changes `bandwidth_policy` alone), so the marker
/// cannot be written afterwards, and the runner warns instead.
///
/// A state whose location disagrees with the group found (its `dst_node.region`, which OMS
/// requires to be the region it lives in) is a plan error, never a region change.
///
/// A spec that left the set is deleted only with `Orphans::Delete`: `⏸ pause` first when the
/// group runs, then `- delete`, which waits until the group is gone.
///
/// # Apply
///
/// Every step decides from the observation the runner hands it
/// ([`Step::observed`](migspec_provider::Step::observed)), so a repeated step finds its
/// effect done and calls nothing, and a step makes one API call at most. Asynchronous
/// effects return [`StepOutcome::InFlight`] with the phases to wait for, without reading the
/// group back (the runner's poller lists it in a batch); refusals by OMS are
/// [`StepOutcome::Failed`] with OMS's own code and message. A create adopts the group the
/// observation found by its [`marker`] instead of listing the project, and an ambiguous
/// create failure is [`StepOutcome::Unknown`], after which the runner looks for the group by
/// its marker before the step is applied again, so it never makes a second group. Without an
/// observation (an older host) a step reads the group first, by id or by marker.
///
/// [`Disruption::ForcesRecreate`]: migspec_provider::Disruption::ForcesRecreate
/// [`Disruption::OverwritesTarget`]: migspec_provider::Disruption::OverwritesTarget
#[derive(Debug)]
pub struct HuaweiOmsProvider {
    client: OmsClient,
    default_project: Option<String>,
    poll_interval: Duration,
    rate_limit_per_second: u32,
}

impl HuaweiOmsProvider {
    /// A provider with `config` (see [`HuaweiConfig::from_env`]).
    ///
    /// # Errors
    ///
    /// When the endpoint override is unusable (for example plain `http://` to a host that is
    /// not loopback) or the HTTP client cannot be built. Missing credentials are reported by
    /// the first API call instead, so that `describe`, `validate` and `plan` work without.
    pub fn new(config: HuaweiConfig) -> Result<Self, ConfigError> {
        let client = OmsClient::new(&config)?;
        Ok(Self {
            client,
            default_project: config.project_id.clone(),
            poll_interval: config.poll_interval,
            rate_limit_per_second: config.rate_limit_per_second,
        })
    }

    /// A provider configured from the environment and the SDK credentials file
    /// ([`HuaweiConfig::from_env`]); what the plugin export and the runner's defaults use.
    ///
    /// # Errors
    ///
    /// As [`HuaweiConfig::from_env`] and [`HuaweiOmsProvider::new`].
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::new(HuaweiConfig::from_env()?)
    }

    /// The underlying API client.
    #[must_use]
    pub fn client(&self) -> &OmsClient {
        &self.client
    }

    /// The location of a spec, `{"region": …, "project_id": …}`, for
    /// [`migspec_provider::ObserveTarget::location`]: the spec's `region`, and its
    /// `project_id` (resolved by the runner when it is a reference) or the configured one.
    ///
    /// # Errors
    ///
    /// When the document is not a `HuaweiOmsTaskGroup` or no project id is known.
    pub fn location(&self, desired: &DesiredSpec) -> Result<Value, ProviderError> {
        let document = convert::parse_document(&desired.document)
            .map_err(|message| ProviderError::Config { message })?;
        Ok(self.location_of(&document, desired)?.to_value())
    }

    fn location_of(
        &self,
        document: &HuaweiOmsTaskGroup,
        desired: &DesiredSpec,
    ) -> Result<Location, ProviderError> {
        let project_id = convert::spec_project_id(&document.spec, desired)?
            .or_else(|| self.default_project.clone())
            .ok_or_else(|| no_project(&desired.address))?;
        Ok(Location {
            region: document.spec.region.clone(),
            project_id,
        })
    }

    fn parse_location(&self, address: &Address, value: &Value) -> Result<Location, ProviderError> {
        let text = |name: &str| {
            value
                .get(name)
                .and_then(Value::as_str)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
        };
        let region = text("region").ok_or_else(|| ProviderError::Config {
            message: format!(
                "{address}: the location {value} has no `region`; expected {{\"region\": \"cn-north-4\", \"project_id\": \"…\"}}"
            ),
        })?;
        let project_id = text("project_id")
            .or_else(|| self.default_project.clone())
            .ok_or_else(|| no_project(address))?;
        Ok(Location { region, project_id })
    }

    fn observed(address: &Address, group: Option<&TaskGroup>, location: &Location) -> Observed {
        match group {
            None => Observed::Missing {
                address: address.clone(),
            },
            Some(group) => Observed::Present {
                address: address.clone(),
                object: Box::new(RemoteObject {
                    id: RemoteId(group.group_id.clone()),
                    phase: convert::phase(group.status),
                    raw_status: group
                        .status
                        .map_or_else(|| "unknown".to_owned(), |status| status.to_string()),
                    location: location.to_value(),
                    view: convert::observed_view(group, &location.region),
                    progress: convert::progress(group),
                    failure: convert::failure(group),
                    revision: None,
                    marker: group
                        .description
                        .as_deref()
                        .and_then(marker::address_of)
                        .map(|address| Address(address.to_owned())),
                }),
            },
        }
    }

    /// One paged listing per location for the whole batch. `by_marker` lets a recorded id
    /// that is gone fall back to the address marker (observe); the poller tracks one
    /// object and never does (a delete waits for exactly that group to disappear).
    async fn observe_batch(
        &self,
        targets: Vec<(Address, Option<RemoteId>, Value)>,
        by_marker: Fallback,
    ) -> Result<Vec<Observed>, ProviderError> {
        let mut located = Vec::with_capacity(targets.len());
        for (address, remote_id, location) in targets {
            let location = self.parse_location(&address, &location)?;
            located.push((address, remote_id, location));
        }
        let mut listings: HashMap<Location, Vec<TaskGroup>> = HashMap::new();
        for (_, _, location) in &located {
            if !listings.contains_key(location) {
                let groups = match by_marker {
                    Fallback::Marker => self.client.list_all(location.target()).await?,
                    Fallback::None => {
                        let wanted: HashSet<&str> = located
                            .iter()
                            .filter(|(_, _, at)| at == location)
                            .filter_map(|(_, id, _)| id.as_ref().map(|id| id.0.as_str()))
                            .collect();
                        self.list_until_found(location, &wanted).await?
                    }
                };
                listings.insert(location.clone(), groups);
            }
        }
        Ok(located
            .into_iter()
            .map(|(address, remote_id, location)| {
                let groups = listings.get(&location).map_or(&[][..], Vec::as_slice);
                // By id; a recorded id that is gone falls back to the marker, which finds
                // the group a crashed re-create made before its new id was recorded.
                let group = match &remote_id {
                    None => find_by_marker(groups, &address),
                    Some(id) => groups
                        .iter()
                        .find(|group| group.group_id == id.0)
                        .or_else(|| match by_marker {
                            Fallback::Marker => find_by_marker(groups, &address),
                            Fallback::None => None,
                        }),
                };
                Self::observed(&address, group, &location)
            })
            .collect())
    }

    /// The groups of a location, paged only as far as the last of `wanted` (a poll's
    /// in-flight groups): OMS lists the newest first, and the groups an apply waits for are
    /// the ones it just created or acted on, so a poll does not page through a whole large
    /// project. A wanted id not found pages to the end (it is gone).
    async fn list_until_found(
        &self,
        location: &Location,
        wanted: &HashSet<&str>,
    ) -> Result<Vec<TaskGroup>, ProviderError> {
        let mut groups = Vec::new();
        let mut missing = wanted.len();
        let mut offset = 0;
        // Bounded like `OmsClient::list_all`, so a misbehaving server cannot page forever.
        for _ in 0..1_000 {
            let page = self
                .client
                .list_page(location.target(), crate::client::PAGE_SIZE, offset)
                .await?;
            let length = page.taskgroups.len() as u64;
            missing -= page
                .taskgroups
                .iter()
                .filter(|group| wanted.contains(group.group_id.as_str()))
                .count()
                .min(missing);
            groups.extend(page.taskgroups);
            offset += length;
            let total_reached = page.count.is_some_and(|count| offset >= count);
            if missing == 0 || length < crate::client::PAGE_SIZE || total_reached {
                break;
            }
        }
        Ok(groups)
    }

    /// The group a step acts on, read afresh: by id when known, else by marker.
    async fn current(
        &self,
        location: &Location,
        address: &Address,
        remote_id: Option<&RemoteId>,
    ) -> Result<Option<TaskGroup>, ProviderError> {
        match remote_id {
            Some(id) => match self.client.show(location.target(), &id.0).await {
                Ok(group) => Ok(Some(group)),
                Err(ProviderError::NotFound { .. }) => Ok(None),
                Err(error) => Err(error),
            },
            None => {
                let groups = self.client.list_all(location.target()).await?;
                Ok(find_by_marker(&groups, address).cloned())
            }
        }
    }

    async fn show_now(
        &self,
        location: &Location,
        address: &Address,
        group_id: &str,
    ) -> Result<Observed, ProviderError> {
        match self.client.show(location.target(), group_id).await {
            Ok(group) => Ok(Self::observed(address, Some(&group), location)),
            Err(ProviderError::NotFound { .. }) => Ok(Self::observed(address, None, location)),
            Err(error) => Err(error),
        }
    }

    fn wait(&self, until: Vec<Phase>, fail_on: Vec<Phase>) -> Wait {
        Wait {
            until,
            fail_on,
            until_missing: false,
            poll_after: self.poll_interval,
        }
    }

    /// The wait of steps that set a group migrating.
    fn migration_wait(&self, desired: TaskGroupDesired) -> Wait {
        let until = match desired {
            TaskGroupDesired::Completed => vec![Phase::Completed],
            TaskGroupDesired::Paused => vec![Phase::Running, Phase::Paused, Phase::Completed],
            TaskGroupDesired::Running => vec![Phase::Running, Phase::Completed],
        };
        self.wait(until, vec![Phase::Failed])
    }

    /// Where a step acts: a create goes where the spec says; every other step acts on the
    /// group where it was observed ([`Step::location`]), which differs from the spec while a
    /// region or project change re-creates it.
    fn step_location(
        &self,
        step: &Step,
        document: Option<&HuaweiOmsTaskGroup>,
    ) -> Result<Location, ProviderError> {
        if step.action.kind == ActionKind::Create {
            return match (document, &step.desired) {
                (Some(document), Some(desired)) => self.location_of(document, desired),
                _ => Err(ProviderError::Contract {
                    message: format!("{}: the create step needs the spec", step.address),
                }),
            };
        }
        if step.location.is_null() {
            return Err(ProviderError::Config {
                message: format!(
                    "{}: cannot {} without knowing where the task group lives: the step carries no location (the host must send where the group was observed, from state)",
                    step.address,
                    step.action.kind.verb()
                ),
            });
        }
        self.parse_location(&step.address, &step.location)
    }

    async fn apply_step(&self, step: Step) -> Result<StepOutcome, ProviderError> {
        let document = match &step.desired {
            Some(desired) => Some(
                convert::parse_document(&desired.document)
                    .map_err(|message| ProviderError::Contract { message })?,
            ),
            None => None,
        };
        let location = self.step_location(&step, document.as_ref())?;
        let needs_spec = || ProviderError::Contract {
            message: format!(
                "{}: the {} step needs the spec",
                step.address,
                step.action.kind.verb()
            ),
        };
        match step.action.kind {
            ActionKind::Create => {
                let document = document.as_ref().ok_or_else(needs_spec)?;
                let desired = step.desired.as_ref().ok_or_else(needs_spec)?;
                self.apply_create(&step, &location, document, desired).await
            }
            ActionKind::Modify => {
                let document = document.as_ref().ok_or_else(needs_spec)?;
                self.apply_modify(&step, &location, document).await
            }
            ActionKind::Start => {
                let document = document.as_ref().ok_or_else(needs_spec)?;
                let desired = step.desired.as_ref().ok_or_else(needs_spec)?;
                self.apply_start(&step, &location, document, desired).await
            }
            ActionKind::Retry => {
                let document = document.as_ref().ok_or_else(needs_spec)?;
                let desired = step.desired.as_ref().ok_or_else(needs_spec)?;
                self.apply_retry(&step, &location, document, desired).await
            }
            ActionKind::Pause => self.apply_pause(&step, &location).await,
            ActionKind::Delete => self.apply_delete(&step, &location).await,
            other => Err(ProviderError::Contract {
                message: format!(
                    "{}: {PROVIDER_NAME} never plans `{}`; OMS task groups know create, modify, start, pause, retry and delete",
                    step.address,
                    other.verb()
                ),
            }),
        }
    }

    /// The group a step acts on: as the step's observation shows it (no call), or read
    /// afresh when the host sent none (hosts and plugins built before `Step::observed`).
    async fn current_for(
        &self,
        step: &Step,
        location: &Location,
    ) -> Result<Option<Current>, ProviderError> {
        match &step.observed {
            Some(Observed::Missing { .. }) => Ok(None),
            Some(observed @ Observed::Present { object, .. }) => Ok(Some(Current {
                id: object.id.0.clone(),
                status: GroupStatus::parse(&object.raw_status),
                view: object.view.clone(),
                observed: observed.clone(),
            })),
            None => Ok(self
                .current(location, &step.address, step.remote_id.as_ref())
                .await?
                .map(|group| Current::of(&step.address, &group, location))),
        }
    }

    async fn apply_create(
        &self,
        step: &Step,
        location: &Location,
        document: &HuaweiOmsTaskGroup,
        desired: &DesiredSpec,
    ) -> Result<StepOutcome, ProviderError> {
        let wait = self.migration_wait(document.lifecycle.desired);
        // A repeated create adopts the group it made before (found by id or marker).
        if let Some(existing) = self.existing_for_create(step, location).await? {
            return Ok(settle(existing, wait));
        }
        let body = convert::create_body(document, desired)?;
        match self.client.create(location.target(), &body).await {
            // Not read back: the runner's poller observes the new group in its batch.
            Ok(group_id) => Ok(settle(
                Observed::Present {
                    address: step.address.clone(),
                    object: Box::new(RemoteObject {
                        id: RemoteId(group_id),
                        phase: Phase::Creating,
                        raw_status: GroupStatus::Waiting.code().to_string(),
                        location: location.to_value(),
                        view: Value::Null,
                        progress: None,
                        failure: None,
                        revision: None,
                        marker: Some(step.address.clone()),
                    }),
                },
                wait,
            )),
            // The group may exist although the answer was lost: the runner looks for it by
            // its marker (in a batch) and applies the step again.
            Err(error) if ambiguous(&error) => Ok(StepOutcome::Unknown { error }),
            Err(error) => {
                let missing = Self::observed(&step.address, None, location);
                refused(missing, error)
            }
        }
    }

    /// The group an earlier create made for this address, if any: the step's observation
    /// says (the plan's batched observation, or the runner's re-observation by marker after
    /// an ambiguous create), so no listing of the whole project is needed. Without one (an
    /// older host), the group is looked for by id, then by marker.
    async fn existing_for_create(
        &self,
        step: &Step,
        location: &Location,
    ) -> Result<Option<Observed>, ProviderError> {
        match &step.observed {
            Some(Observed::Missing { .. }) => return Ok(None),
            Some(observed @ Observed::Present { object, .. }) => {
                let deleting =
                    GroupStatus::parse(&object.raw_status).is_some_and(GroupStatus::is_deleting);
                return Ok((!deleting).then(|| observed.clone()));
            }
            None => {}
        }
        if let Some(id) = &step.remote_id {
            match self.client.show(location.target(), &id.0).await {
                Ok(group)
                    if !GroupStatus::of(group.status).is_some_and(GroupStatus::is_deleting) =>
                {
                    return Ok(Some(Self::observed(&step.address, Some(&group), location)));
                }
                Ok(_) | Err(ProviderError::NotFound { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        let groups = self.client.list_all(location.target()).await?;
        Ok(find_by_marker(&groups, &step.address)
            .map(|group| Self::observed(&step.address, Some(group), location)))
    }

    async fn apply_modify(
        &self,
        step: &Step,
        location: &Location,
        document: &HuaweiOmsTaskGroup,
    ) -> Result<StepOutcome, ProviderError> {
        let Some(group) = self.current_for(step, location).await? else {
            return Ok(gone(&step.address, location, "modify"));
        };
        let wanted = convert::desired_view(&document.spec);
        let same = wanted.get("bandwidth_policy") == group.view.get("bandwidth_policy");
        // A finished group has nothing left to throttle (and OMS refuses: OMS.0070).
        if same || group.status == Some(GroupStatus::Completed) {
            return Ok(StepOutcome::Done {
                observed: group.observed,
            });
        }
        let body = json!({"bandwidth_policy": convert::bandwidth_body(&document.spec)});
        match self
            .client
            .update(location.target(), &group.id, &body)
            .await
        {
            // A modify finishes without a wait, and the runner records the observation it
            // returns as what was applied: it must show the new policy, which only a read
            // after the call does.
            Ok(()) => Ok(StepOutcome::Done {
                observed: self.show_now(location, &step.address, &group.id).await?,
            }),
            Err(error) => refused(group.observed, error),
        }
    }

    async fn apply_start(
        &self,
        step: &Step,
        location: &Location,
        document: &HuaweiOmsTaskGroup,
        desired: &DesiredSpec,
    ) -> Result<StepOutcome, ProviderError> {
        let wait = self.migration_wait(document.lifecycle.desired);
        let Some(group) = self.current_for(step, location).await? else {
            return Ok(gone(&step.address, location, "start"));
        };
        match group.status {
            Some(GroupStatus::Paused) => {}
            Some(status) if status.is_running() => return Ok(settle(group.observed, wait)),
            Some(GroupStatus::Waiting | GroupStatus::Completed) => {
                return Ok(settle(group.observed, wait));
            }
            status => {
                return Ok(cannot(
                    group.observed,
                    format!(
                        "cannot start task group {}: it is {}{}",
                        group.id,
                        crate::status::text(status),
                        match status {
                            Some(status) if status.is_failed() =>
                                "; a failed group is retried, not started",
                            Some(GroupStatus::Pausing) =>
                                "; wait until it is paused, then apply again",
                            _ => "",
                        }
                    ),
                ));
            }
        }
        let body = convert::credentials_body(document, desired, None)?;
        match self.client.start(location.target(), &group.id, &body).await {
            Ok(()) => Ok(settle(moving(&group.observed, Phase::Resuming), wait)),
            // Started or finished meanwhile, so the observation was stale: this conflict is
            // what a read is for.
            Err(ProviderError::StateConflict { ref code, .. })
                if code == "OMS.0065" || code == "OMS.0070" =>
            {
                let observed = self.show_now(location, &step.address, &group.id).await?;
                Ok(settle(observed, wait))
            }
            Err(error) => refused(group.observed, error),
        }
    }

    async fn apply_retry(
        &self,
        step: &Step,
        location: &Location,
        document: &HuaweiOmsTaskGroup,
        desired: &DesiredSpec,
    ) -> Result<StepOutcome, ProviderError> {
        let wait = self.migration_wait(document.lifecycle.desired);
        let Some(group) = self.current_for(step, location).await? else {
            return Ok(gone(&step.address, location, "retry"));
        };
        match group.status {
            Some(status) if status.is_failed() => {}
            // Retried already (a repeated step): wait for it like the first time.
            Some(status)
                if status.is_running()
                    || matches!(status, GroupStatus::Waiting | GroupStatus::Completed) =>
            {
                return Ok(settle(group.observed, wait));
            }
            status => {
                return Ok(cannot(
                    group.observed,
                    format!(
                        "cannot retry task group {}: it is {}, and only a failed group can be retried",
                        group.id,
                        crate::status::text(status)
                    ),
                ));
            }
        }
        let failed_only = document
            .lifecycle
            .on_failure
            .as_ref()
            .and_then(|on_failure| on_failure.migrate_failed_object);
        let body = convert::credentials_body(document, desired, failed_only)?;
        if let Err(error) = self.client.retry(location.target(), &group.id, &body).await {
            if !ambiguous(&error) {
                return refused(group.observed, error);
            }
            // The retry may have been taken: only a group still failed has not. Nothing but a
            // read of this group can tell.
            let now = self.show_now(location, &step.address, &group.id).await?;
            if now
                .object()
                .is_some_and(|object| object.phase == Phase::Failed)
            {
                return Err(error);
            }
            return Ok(settle(now, wait));
        }
        // OMS took the retry; the poller sees the group leave its failed status.
        Ok(settle(moving(&group.observed, Phase::Resuming), wait))
    }

    async fn apply_pause(
        &self,
        step: &Step,
        location: &Location,
    ) -> Result<StepOutcome, ProviderError> {
        let wait = self.wait(vec![Phase::Paused, Phase::Completed], Vec::new());
        let Some(group) = self.current_for(step, location).await? else {
            return Ok(gone(&step.address, location, "pause"));
        };
        match group.status {
            Some(status) if status.is_running() => {}
            Some(GroupStatus::Paused | GroupStatus::Pausing | GroupStatus::Completed) => {
                return Ok(settle(group.observed, wait));
            }
            // Nothing migrates, so nothing to pause.
            Some(status) if status.is_failed() => {
                return Ok(StepOutcome::Done {
                    observed: group.observed,
                });
            }
            status => {
                return Ok(cannot(
                    group.observed,
                    format!(
                        "cannot pause task group {}: it is {}{}",
                        group.id,
                        crate::status::text(status),
                        if status == Some(GroupStatus::Waiting) {
                            "; OMS pauses a group only once it creates tasks or migrates: apply again in a moment"
                        } else {
                            ""
                        }
                    ),
                ));
            }
        }
        match self.client.stop(location.target(), &group.id).await {
            Ok(()) => Ok(settle(moving(&group.observed, Phase::Pausing), wait)),
            // Paused or finished meanwhile, so the observation was stale: this conflict is
            // what a read is for.
            Err(ProviderError::StateConflict { ref code, .. })
                if code == "OMS.0066" || code == "OMS.0070" =>
            {
                let observed = self.show_now(location, &step.address, &group.id).await?;
                Ok(settle(observed, wait))
            }
            Err(error) => refused(group.observed, error),
        }
    }

    async fn apply_delete(
        &self,
        step: &Step,
        location: &Location,
    ) -> Result<StepOutcome, ProviderError> {
        let wait = Wait {
            until: Vec::new(),
            fail_on: Vec::new(),
            until_missing: true,
            poll_after: self.poll_interval,
        };
        let Some(group) = self.current_for(step, location).await? else {
            return Ok(StepOutcome::Done {
                observed: Self::observed(&step.address, None, location),
            });
        };
        match group.status {
            Some(status) if status.is_deleting() => return Ok(settle(group.observed, wait)),
            Some(status) if status.is_running() => {
                // The plan pauses a running group before deleting it; this one started
                // again since. Pause it (the safe half) and say what happened.
                match self.client.stop(location.target(), &group.id).await {
                    Ok(()) | Err(ProviderError::StateConflict { .. }) => {}
                    Err(error) => return Err(error),
                }
                return Ok(StepOutcome::Failed {
                    observed: moving(&group.observed, Phase::Pausing),
                    failure: Failure {
                        code: Some("OMS.0063".to_owned()),
                        message: format!(
                            "task group {} was {} again, and OMS refuses to delete a running group; it is being paused now: plan and apply again to delete it",
                            group.id,
                            status.text()
                        ),
                        details: Vec::new(),
                    },
                });
            }
            Some(GroupStatus::Pausing) => {
                return Ok(cannot(
                    group.observed,
                    format!(
                        "task group {} is still pausing (status 7), and OMS refuses to delete it until it is paused: apply again in a moment",
                        group.id
                    ),
                ));
            }
            _ => {}
        }
        match self.client.delete(location.target(), &group.id).await {
            Ok(()) => Ok(settle(moving(&group.observed, Phase::Deleting), wait)),
            // Gone already (a retried delete whose first attempt had succeeded).
            Err(ProviderError::NotFound { .. }) => Ok(StepOutcome::Done {
                observed: Self::observed(&step.address, None, location),
            }),
            Err(error) => refused(group.observed, error),
        }
    }

    async fn import_group(&self, request: ImportRequest) -> Result<Imported, ProviderError> {
        if request.kind != KIND {
            return Err(ProviderError::Config {
                message: format!("{PROVIDER_NAME} imports only {KIND}, not {}", request.kind),
            });
        }
        let location = self.parse_location(&request.address, &request.location)?;
        let group = self
            .client
            .show(location.target(), &request.remote_id.0)
            .await?;
        import_document(&request.address, &group, &location)
    }
}

/// The group a step acts on, as observed.
struct Current {
    id: String,
    status: Option<GroupStatus>,
    /// Shaped like the spec (`convert::observed_view`).
    view: Value,
    observed: Observed,
}

impl Current {
    fn of(address: &Address, group: &TaskGroup, location: &Location) -> Self {
        Self {
            id: group.group_id.clone(),
            status: GroupStatus::of(group.status),
            view: convert::observed_view(group, &location.region),
            observed: HuaweiOmsProvider::observed(address, Some(group), location),
        }
    }
}

/// The observation a step returns once OMS accepted its call, without reading the group
/// back: the phase the call moves it into (the poller reads where it really is). The
/// status before the call may be one the wait ends on (a retry from failed), so the
/// observation must not claim it.
fn moving(observed: &Observed, phase: Phase) -> Observed {
    let mut observed = observed.clone();
    if let Observed::Present { object, .. } = &mut observed {
        object.phase = phase;
    }
    observed
}

/// What an observation by id does when the id is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fallback {
    /// Look for the address marker.
    Marker,
    /// Report the object missing.
    None,
}

fn no_project(address: &Address) -> ProviderError {
    ProviderError::Config {
        message: format!(
            "{address}: no Huawei Cloud project id; set `project_id` in the spec, `huawei.projectId` in migspec.yaml, HUAWEICLOUD_SDK_PROJECT_ID, or project_id in ~/.huaweicloud/credentials"
        ),
    }
}

/// The group a marker names: the first listed that is not being deleted.
fn find_by_marker<'a>(groups: &'a [TaskGroup], address: &Address) -> Option<&'a TaskGroup> {
    groups.iter().find(|group| {
        !GroupStatus::of(group.status).is_some_and(GroupStatus::is_deleting)
            && group.description.as_deref().and_then(marker::address_of) == Some(address.0.as_str())
    })
}

/// Whether a failed request may have taken effect.
fn ambiguous(error: &ProviderError) -> bool {
    matches!(
        error,
        ProviderError::Network { .. } | ProviderError::Internal { .. }
    )
}

/// The outcome of a step from a fresh observation and what the step waits for.
fn settle(observed: Observed, wait: Wait) -> StepOutcome {
    match observed.object() {
        None if wait.until_missing => StepOutcome::Done { observed },
        None => {
            let failure = Failure {
                code: Some("OMS.1009".to_owned()),
                message: "the task group disappeared (deleted outside migspec?); plan again"
                    .to_owned(),
                details: Vec::new(),
            };
            StepOutcome::Failed { observed, failure }
        }
        Some(object) if wait.until.contains(&object.phase) => StepOutcome::Done { observed },
        Some(object) if wait.fail_on.contains(&object.phase) => {
            let failure = object.failure.clone().unwrap_or_else(|| Failure {
                code: None,
                message: format!(
                    "task group {} failed (status {})",
                    object.id, object.raw_status
                ),
                details: Vec::new(),
            });
            StepOutcome::Failed { observed, failure }
        }
        Some(_) => StepOutcome::InFlight { observed, wait },
    }
}

/// A step that cannot be done in the group's state (no API call was made).
fn cannot(observed: Observed, message: String) -> StepOutcome {
    StepOutcome::Failed {
        observed,
        failure: Failure {
            code: None,
            message,
            details: Vec::new(),
        },
    }
}

fn gone(address: &Address, location: &Location, verb: &str) -> StepOutcome {
    StepOutcome::Failed {
        observed: HuaweiOmsProvider::observed(address, None, location),
        failure: Failure {
            code: Some("OMS.1009".to_owned()),
            message: format!(
                "cannot {verb}: the task group no longer exists (deleted outside migspec?); plan again to create it"
            ),
            details: Vec::new(),
        },
    }
}

/// A refusal by OMS (state or data) is a failed step with OMS's own words; transport,
/// throttling and credential errors stay errors.
fn refused(observed: Observed, error: ProviderError) -> Result<StepOutcome, ProviderError> {
    let (code, message, request_id) = match error {
        ProviderError::Rejected {
            code,
            message,
            request_id,
            ..
        }
        | ProviderError::StateConflict {
            code,
            message,
            request_id,
            ..
        } => (code, message, request_id),
        ProviderError::NotFound { id, code, .. } => {
            (code, format!("{id} does not exist; plan again"), None)
        }
        other => return Err(other),
    };
    Ok(StepOutcome::Failed {
        observed,
        failure: Failure {
            code: Some(code),
            message,
            details: request_id
                .map(|id| vec![format!("X-Request-Id: {id}")])
                .unwrap_or_default(),
        },
    })
}

/// The spec document that would manage `group`, with `{fromEnv: …}` placeholders for the
/// keys the API never returns.
fn import_document(
    address: &Address,
    group: &TaskGroup,
    location: &Location,
) -> Result<Imported, ProviderError> {
    let mut view = convert::observed_view(group, &location.region);
    if let Value::Object(object) = &mut view {
        object.retain(|_, value| !value.is_null());
        object.insert(
            "project_id".to_owned(),
            Value::String(location.project_id.clone()),
        );
        object
            .entry("dst_node")
            .or_insert_with(|| Value::Object(Map::new()));
    }
    let placeholders = convert::import_placeholders(&address.0, &view);
    for (pointer, variable) in &placeholders {
        let relative = pointer.trim_start_matches("/spec");
        let Some((parent, key)) = relative.rsplit_once('/') else {
            continue;
        };
        if let Some(Value::Object(node)) = view.pointer_mut(parent) {
            node.insert((*key).to_owned(), json!({"fromEnv": variable}));
        }
    }
    let mut unreadable: Vec<String> = placeholders.keys().map(|key| (*key).to_owned()).collect();
    if group.smn_config.as_ref().is_some_and(|smn| !smn.is_null()) {
        unreadable.push("/spec/smn_config".to_owned());
    }
    let desired = match convert::phase(group.status) {
        Phase::Paused | Phase::Pausing => "paused",
        Phase::Completed => "completed",
        _ => "running",
    };
    let document = json!({
        "apiVersion": "migspec/v1",
        "kind": KIND,
        "metadata": {"name": address.0},
        "spec": view,
        "lifecycle": {"desired": desired},
    });
    // Round-trip through the typed model: checks the result and orders the fields as the
    // spec types declare them.
    let document = match serde_json::from_value::<HuaweiOmsTaskGroup>(document.clone()) {
        Ok(typed) => serde_json::to_value(&typed).unwrap_or(document),
        Err(_) => document,
    };
    Ok(Imported {
        document,
        unreadable,
    })
}

impl Provider for HuaweiOmsProvider {
    fn describe(&self) -> Description {
        // The generated schema migspec-schema validates with (checked in under `schemas/`):
        // its annotations make the located messages.
        let schema = migspec_schema::generate::kind_schema(migspec_spec::Kind::HuaweiOmsTaskGroup);
        Description {
            name: PROVIDER_NAME.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            kinds: vec![KindDescription {
                kind: KIND.to_owned(),
                schema,
            }],
            rate_limits: Operation::ALL
                .iter()
                .map(|operation| RateLimit {
                    action: operation.name().to_owned(),
                    per_second: self.rate_limit_per_second,
                })
                .filter(|limit| limit.per_second > 0)
                .collect(),
        }
    }

    fn attach_gate(&self, gate: std::sync::Arc<dyn migspec_provider::CallGate>) -> bool {
        self.client.attach_gate(gate);
        true
    }

    fn validate(&self, kind: &str, document: &Value) -> Vec<Problem> {
        if kind != KIND {
            return vec![Problem::error(
                "huawei-oms::kind",
                "/kind",
                format!("{PROVIDER_NAME} serves {KIND}, not {kind}"),
                format!("set `kind: {KIND}`"),
            )];
        }
        let typed = match convert::parse_document(document) {
            Ok(typed) => typed,
            Err(message) => {
                return vec![Problem::error(
                    "huawei-oms::document",
                    "",
                    message,
                    "fix the document as `migspec validate` says",
                )];
            }
        };
        let mut problems = crate::rules::check(&typed);
        let description =
            marker::with_marker(typed.spec.description.as_deref(), &typed.metadata.name);
        if description.chars().count() > 255 {
            problems.push(Problem::error(
                "huawei-oms::description",
                "/spec/description",
                format!(
                    "with the address marker ` {}` the description has {} characters; OMS allows 255",
                    marker::marker(&typed.metadata.name),
                    description.chars().count()
                ),
                "shorten the description",
            ));
        }
        problems
    }

    fn location(&self, desired: &DesiredSpec) -> Result<Value, ProviderError> {
        Self::location(self, desired)
    }

    fn observe(&self, request: ObserveRequest) -> ProviderFuture<'_, Vec<Observed>> {
        Box::pin(async move {
            let targets = request
                .targets
                .into_iter()
                .map(|target| (target.address, target.remote_id, target.location))
                .collect();
            self.observe_batch(targets, Fallback::Marker).await
        })
    }

    fn plan(&self, request: &PlanRequest) -> Result<Vec<Action>, PlanError> {
        crate::plan::plan(request, self.default_project.as_deref())
    }

    fn apply(&self, step: Step) -> ProviderFuture<'_, StepOutcome> {
        Box::pin(self.apply_step(step))
    }

    fn poll(&self, in_flight: Vec<InFlightTarget>) -> ProviderFuture<'_, Vec<Observed>> {
        Box::pin(async move {
            let targets = in_flight
                .into_iter()
                .map(|target| {
                    (
                        target.object.address,
                        Some(target.object.remote_id),
                        target.location,
                    )
                })
                .collect();
            self.observe_batch(targets, Fallback::None).await
        })
    }

    fn import(&self, request: ImportRequest) -> ProviderFuture<'_, Imported> {
        Box::pin(self.import_group(request))
    }

    fn list(
        &self,
        request: migspec_provider::ListRequest,
    ) -> ProviderFuture<'_, Vec<migspec_provider::Listed>> {
        Box::pin(async move {
            let address = Address(format!("import --all {}", request.kind));
            let location = self.parse_location(&address, &request.location)?;
            crate::list::list(
                &self.client,
                &location.region,
                &location.project_id,
                &request.tags,
            )
            .await
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use migspec_spec::secret::Secret;

    use super::*;

    fn provider() -> HuaweiOmsProvider {
        HuaweiOmsProvider::new(HuaweiConfig::default().with_project_id("configured")).unwrap()
    }

    fn document() -> Value {
        json!({
            "apiVersion": "migspec/v1",
            "kind": KIND,
            "metadata": {"name": "media"},
            "spec": {
                "region": "cn-north-4",
                "project_id": {"fromEnv": "HUAWEICLOUD_SDK_PROJECT_ID"},
                "src_node": {"region": "r", "bucket": "b", "ak": {"fromEnv": "A"}, "sk": {"fromEnv": "B"}},
                "dst_node": {"region": "cn-north-4", "bucket": "d", "ak": {"fromEnv": "C"}, "sk": {"fromEnv": "D"}}
            },
            "lifecycle": {"desired": "running"}
        })
    }

    #[test]
    fn providers_are_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<HuaweiOmsProvider>();
    }

    #[test]
    fn describe_names_the_kind_its_schema_and_limits() {
        let description = provider().describe();
        assert_eq!(description.name, "huawei-oms");
        assert_eq!(description.kinds.len(), 1);
        assert_eq!(description.kinds[0].kind, "HuaweiOmsTaskGroup");
        let schema = &description.kinds[0].schema;
        assert!(schema["properties"]["spec"].is_object(), "{schema}");
        assert_eq!(description.rate_limits.len(), 8);
        assert!(
            description
                .rate_limits
                .iter()
                .all(|limit| limit.per_second == 20)
        );
        assert_eq!(description.rate_limits[0].action, "create_task_group");
    }

    #[test]
    fn validate_checks_the_kind_and_the_document() {
        let provider = provider();
        assert_eq!(provider.validate(KIND, &document()), []);
        let problems = provider.validate("TencentDtsMigrateJob", &document());
        assert_eq!(problems[0].code, "huawei-oms::kind");
        let mut broken = document();
        broken["spec"]["src_node"]["objectKey"] = json!(["a"]);
        let problems = provider.validate(KIND, &broken);
        assert_eq!(problems[0].code, "huawei-oms::document");
        assert!(
            problems[0].message.contains("objectKey"),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn locations_come_from_the_spec_then_the_configuration() {
        let provider = provider();
        let mut desired = DesiredSpec {
            address: Address("media".into()),
            kind: KIND.into(),
            document: document(),
            secrets: BTreeMap::new(),
        };
        let error = provider.location(&desired).unwrap_err();
        assert!(
            error.to_string().contains("HUAWEICLOUD_SDK_PROJECT_ID"),
            "an unresolved reference is an error, not a silent fallback: {error}"
        );
        desired
            .secrets
            .insert("/spec/project_id".into(), Secret::new("from-spec"));
        assert_eq!(
            provider.location(&desired).unwrap(),
            json!({"region": "cn-north-4", "project_id": "from-spec"})
        );
        desired.document["spec"]
            .as_object_mut()
            .unwrap()
            .remove("project_id");
        assert_eq!(
            provider.location(&desired).unwrap(),
            json!({"region": "cn-north-4", "project_id": "configured"})
        );
        let address = Address("x".into());
        assert_eq!(
            provider
                .parse_location(&address, &json!({"region": "cn-north-4"}))
                .unwrap()
                .project_id,
            "configured"
        );
        assert!(provider.parse_location(&address, &json!({})).is_err());
    }

    /// Issue 9 item 1: only a create goes where the spec says; a delete after a region or
    /// project change acts where the group was observed.
    #[test]
    fn steps_act_where_the_group_was_observed_and_creates_where_the_spec_says() {
        let provider = provider();
        let desired = DesiredSpec {
            address: Address("media".into()),
            kind: KIND.into(),
            document: document(),
            secrets: BTreeMap::from([("/spec/project_id".to_owned(), Secret::new("new"))]),
        };
        let typed = convert::parse_document(&desired.document).unwrap();
        let step = |kind| Step {
            address: Address("media".into()),
            action: Action::new(kind, "test"),
            remote_id: Some(RemoteId("g".into())),
            location: json!({"region": "cn-east-3", "project_id": "old"}),
            desired: Some(desired.clone()),
            idempotency_key: "k".into(),
            observed: None,
        };
        for kind in [ActionKind::Delete, ActionKind::Pause, ActionKind::Modify] {
            let location = provider.step_location(&step(kind), Some(&typed)).unwrap();
            assert_eq!(
                location.to_value(),
                json!({"region": "cn-east-3", "project_id": "old"}),
                "{kind:?}"
            );
        }
        let create = provider
            .step_location(&step(ActionKind::Create), Some(&typed))
            .unwrap();
        assert_eq!(
            create.to_value(),
            json!({"region": "cn-north-4", "project_id": "new"})
        );
    }

    /// Issue 9 item 14: an observation names the address its description marker names, and
    /// none for a group created outside migspec.
    #[test]
    fn observations_carry_the_address_of_the_description_marker() {
        let location = Location {
            region: "cn-north-4".into(),
            project_id: "p".into(),
        };
        let address = Address("media".into());
        let marker_of = |description: Option<&str>| {
            let group = TaskGroup {
                group_id: "g".into(),
                status: Some(6),
                description: description.map(str::to_owned),
                ..TaskGroup::default()
            };
            HuaweiOmsProvider::observed(&address, Some(&group), &location)
                .object()
                .unwrap()
                .marker
                .clone()
        };
        assert_eq!(
            marker_of(Some("archive migspec:address=media")),
            Some(Address("media".into()))
        );
        assert_eq!(
            marker_of(Some("migspec:address=other")),
            Some(Address("other".into()))
        );
        assert_eq!(marker_of(Some("made in the console")), None);
        assert_eq!(marker_of(None), None);
    }

    #[test]
    fn steps_without_a_location_are_config_errors() {
        let provider = provider();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let error = runtime
            .block_on(provider.apply(Step {
                address: Address("orphan".into()),
                action: Action::new(ActionKind::Delete, "gone from the specs"),
                remote_id: Some(RemoteId("g".into())),
                location: Value::Null,
                desired: None,
                idempotency_key: "k".into(),
                observed: None,
            }))
            .unwrap_err();
        assert!(matches!(error, ProviderError::Config { .. }), "{error:?}");
        let error = runtime
            .block_on(provider.apply(Step {
                address: Address("media".into()),
                action: Action::new(ActionKind::Complete, "no such thing"),
                remote_id: None,
                location: json!({"region": "cn-north-4", "project_id": "p"}),
                desired: Some(DesiredSpec {
                    address: Address("media".into()),
                    kind: KIND.into(),
                    document: document(),
                    secrets: BTreeMap::from([("/spec/project_id".to_owned(), Secret::new("p"))]),
                }),
                idempotency_key: "k".into(),
                observed: None,
            }))
            .unwrap_err();
        assert!(matches!(error, ProviderError::Contract { .. }), "{error:?}");
    }
}
