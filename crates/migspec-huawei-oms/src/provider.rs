//! [`HuaweiOmsProvider`]: the `migspec_provider::Provider` for `HuaweiOmsTaskGroup`, a facade
//! over `observe.rs`, `plan.rs` and `apply.rs`.

use std::time::Duration;

use migspec_provider::{
    Action, Address, Description, DesiredSpec, ImportDocument, ImportRequest, Imported,
    InFlightTarget, KindDescription, ObserveRequest, Observed, Phase, PlanError, PlanRequest,
    Problem, Provider, ProviderError, ProviderFuture, RateLimit, Step, StepOutcome,
};
use migspec_spec::model::HuaweiOmsTaskGroup;
use serde_json::{Map, Value};

use crate::client::{OmsClient, Operation};
use crate::config::{ConfigError, HuaweiConfig};
use crate::convert::{self, KIND};
use crate::cursor::PollCursor;
pub(crate) use crate::location::Location;
use crate::marker;
use crate::wire::TaskGroup;

/// The provider's name.
pub const PROVIDER_NAME: &str = "huawei-oms";

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
    pub(crate) client: OmsClient,
    pub(crate) default_project: Option<String>,
    pub(crate) poll_interval: Duration,
    pub(crate) rate_limit_per_second: u32,
    /// Where the polls' sweep through a large project stands (see `observe::poll_batch`).
    pub(crate) poll_cursor: std::sync::Mutex<PollCursor>,
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
            poll_cursor: std::sync::Mutex::default(),
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

    pub(crate) fn location_of(
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

    pub(crate) fn parse_location(
        &self,
        address: &Address,
        value: &Value,
    ) -> Result<Location, ProviderError> {
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

    /// Imports several groups from one listing per location (`import --all`), instead of
    /// one `ShowTaskGroup` per group.
    async fn import_groups(
        &self,
        requests: Vec<ImportRequest>,
    ) -> Result<Vec<Imported>, ProviderError> {
        let mut located = Vec::with_capacity(requests.len());
        for request in requests {
            if request.kind != KIND {
                return Err(ProviderError::Config {
                    message: format!("{PROVIDER_NAME} imports only {KIND}, not {}", request.kind),
                });
            }
            let location = self.parse_location(&request.address, &request.location)?;
            located.push((request, location));
        }
        let mut listings: std::collections::HashMap<Location, Vec<TaskGroup>> =
            std::collections::HashMap::new();
        for (_, location) in &located {
            if !listings.contains_key(location) {
                let groups = self.client.list_all(location.target()).await?;
                listings.insert(location.clone(), groups);
            }
        }
        located
            .into_iter()
            .map(|(request, location)| {
                let group = listings
                    .get(&location)
                    .and_then(|groups| {
                        groups
                            .iter()
                            .find(|group| group.group_id == request.remote_id.0)
                    })
                    .ok_or_else(|| ProviderError::NotFound {
                        service: crate::error::SERVICE.to_owned(),
                        id: format!(
                            "task group {} (region {}, project {})",
                            request.remote_id, location.region, location.project_id
                        ),
                        code: "OMS.1009".to_owned(),
                    })?;
                import_document(&request.address, group, &location)
            })
            .collect()
    }
}

fn no_project(address: &Address) -> ProviderError {
    ProviderError::Config {
        message: format!(
            "{address}: no Huawei Cloud project id; set `project_id` in the spec, `huawei.projectId` in migspec.yaml, HUAWEICLOUD_SDK_PROJECT_ID, or project_id in ~/.huaweicloud/credentials"
        ),
    }
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
    let mut document = ImportDocument::new(KIND, address, view);
    for (pointer, variable) in placeholders {
        let relative = pointer.trim_start_matches("/spec");
        // A field whose parent the view lacks is listed all the same: the user writes it.
        if !document.placeholder(relative, variable) {
            document.unreadable(pointer);
        }
    }
    if group.smn_config.as_ref().is_some_and(|smn| !smn.is_null()) {
        document.unreadable("/spec/smn_config");
    }
    let desired = match convert::phase(group.status) {
        Phase::Paused | Phase::Pausing => "paused",
        Phase::Completed => "completed",
        _ => "running",
    };
    let Imported {
        document,
        unreadable,
    } = document.finish(desired);
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
            self.observe_batch(targets).await
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
                        target.object.remote_id,
                        target.location,
                    )
                })
                .collect();
            self.poll_batch(targets).await
        })
    }

    fn import(&self, request: ImportRequest) -> ProviderFuture<'_, Imported> {
        Box::pin(self.import_group(request))
    }

    fn import_many(&self, requests: Vec<ImportRequest>) -> ProviderFuture<'_, Vec<Imported>> {
        Box::pin(self.import_groups(requests))
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

    use migspec_provider::{ActionKind, RemoteId};
    use migspec_spec::secret::Secret;
    use serde_json::json;

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
