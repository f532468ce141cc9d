//! [`TencentDtsProvider`]: the [`Provider`] for both DTS kinds.

use migspec_provider::{
    Action, ActionKind, Address, Description, DesiredSpec, ImportDocument, ImportRequest, Imported,
    InFlightTarget, KindDescription, ObserveRequest, Observed, Phase, PlanError, PlanRequest,
    Problem, Provider, ProviderError, ProviderFuture, RateLimit, Step, StepOutcome,
};
use serde_json::{Value, json};

use crate::apply::{self, StepContext};
use crate::client::{ApiVersion, DtsClient};
use crate::config::TencentConfig;
use crate::error::ConfigError;
use crate::job::{ObservedJob, read_location};
use crate::observe::{self, Depth, Target};
use crate::plan::{self, Intent};

/// The provider's name in `describe()`.
pub const PROVIDER_NAME: &str = "tencent-dts";

/// Every DTS action this provider calls, each limited to 20 requests/s by the API.
const ACTIONS: &[&str] = &[
    "CreateMigrateJob",
    "ModifyMigrateJob",
    "DescribeMigrateJobs",
    "CreateMigrateCheckJob",
    "DescribeMigrateCheckJob",
    "StartMigrateJob",
    "StopMigrateJob",
    "CompleteMigrateJob",
    "DeleteMigrateJob",
    "CreateMigrationService",
    "ModifyMigrationJob",
    "DescribeMigrationJobs",
    "DescribeMigrationDetail",
    "DescribeMigrationCheckJob",
    "PauseMigrateJob",
    "ContinueMigrateJob",
    "ResumeMigrateJob",
    "IsolateMigrateJob",
    "DestroyMigrateJob",
];

/// Tencent Cloud DTS migration jobs: `TencentDtsMigrateJob` (API 2018-03-30) and
/// `TencentDtsMigrationJob` (API 2021-12-06).
///
/// # Guarantees
///
/// - `observe` and `poll` make one `DescribeMigrateJobs`/`DescribeMigrationJobs` call per
///   (region, version) per 100 addresses, filtering on the `migspec:address` tag; a full
///   `observe` of a 2021 job adds one `DescribeMigrationDetail` (the only call returning
///   `MigrateOption`), and a job whose check failed one check-result call.
/// - `plan` is pure; see the `plan` module for the rules.
/// - `apply` observes first and is idempotent: see the `apply` module.
///
/// # Assumptions
///
/// - After the wait of an `InFlight` outcome is satisfied, the runner applies the same step
///   again until it returns `Done` (or `Failed`). Most steps are then `Done` at once; a
///   step that had to wait for the status its call needs (`■ complete` while the full
///   phase runs, the second half of a 2021 delete) makes its call on that second
///   application. Applying a step again is always safe.
/// - A create goes where its spec says (`spec.region`, else `TENCENTCLOUD_REGION`); every
///   other step acts where [`Step::location`] says the job was observed, never where the
///   new spec puts it, so that a region change deletes the old job in its old region. The
///   provider keeps no location of its own.
pub struct TencentDtsProvider {
    client: DtsClient,
}

impl std::fmt::Debug for TencentDtsProvider {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TencentDtsProvider")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl TencentDtsProvider {
    /// A provider with `config`. Missing credentials are not an error here: planning works
    /// without them, and every API call then fails with a message naming the variables and
    /// files that were looked at.
    ///
    /// # Errors
    ///
    /// When the endpoint is invalid or the HTTP client cannot be built.
    pub fn new(config: TencentConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            client: DtsClient::new(config)?,
        })
    }

    /// A provider configured from the environment ([`TencentConfig::from_env`]).
    ///
    /// # Errors
    ///
    /// As [`TencentConfig::from_env`] and [`TencentDtsProvider::new`].
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::new(TencentConfig::from_env()?)
    }

    /// The API client.
    #[must_use]
    pub fn client(&self) -> &DtsClient {
        &self.client
    }

    fn region_or_default(
        &self,
        region: Option<String>,
        address: &Address,
    ) -> Result<String, ProviderError> {
        region
            .or_else(|| self.client.config().default_region.clone())
            .ok_or_else(|| ProviderError::Config {
                message: format!(
                    "{address}: no region: the location names none and TENCENTCLOUD_REGION is not set"
                ),
            })
    }

    fn target(
        &self,
        address: &Address,
        kind: &str,
        location: &Value,
        remote_id: Option<String>,
    ) -> Result<Target, ProviderError> {
        let (region, located_version) = read_location(location);
        let version = ApiVersion::for_kind(kind)
            .or(located_version)
            .ok_or_else(|| ProviderError::Contract {
                message: format!("{address}: kind `{kind}` is not served by {PROVIDER_NAME}"),
            })?;
        Ok(Target {
            address: address.clone(),
            version,
            region: self.region_or_default(region, address)?,
            remote_id,
            recorded: None,
        })
    }

    async fn observe_targets(
        &self,
        targets: Vec<Target>,
        depth: Depth,
    ) -> Result<Vec<Observed>, ProviderError> {
        let found = observe::observe(&self.client, &targets, depth).await?;
        Ok(targets
            .iter()
            .zip(found)
            .map(|(target, job)| observe::to_observed(&target.address, job.as_ref()))
            .collect())
    }

    fn step_context(&self, step: &Step) -> Result<StepContext, ProviderError> {
        let intent = step
            .desired
            .as_ref()
            .map(Intent::from_desired)
            .transpose()?;
        let (version, region) = if step.action.kind == ActionKind::Create {
            // A create goes where the spec says.
            let intent = intent.as_ref().ok_or_else(|| ProviderError::Contract {
                message: format!("{}: a create step needs the spec", step.address),
            })?;
            let region = intent
                .body
                .get("region")
                .and_then(Value::as_str)
                .filter(|region| !region.is_empty())
                .map(str::to_owned);
            (
                intent.version,
                self.region_or_default(region, &step.address)?,
            )
        } else {
            // Every other step acts on the job where it was observed.
            let (region, located_version) = read_location(&step.location);
            let version = located_version
                .or(intent.as_ref().map(|intent| intent.version))
                .ok_or_else(|| ProviderError::Contract {
                    message: format!(
                        "{}: the `{}` step carries no location with an API version ({}); the host must send where the job was observed",
                        step.address,
                        step.action.kind.verb(),
                        step.location
                    ),
                })?;
            let region = region.ok_or_else(|| ProviderError::Contract {
                message: format!(
                    "{}: the `{}` step carries no location with a region ({}); the host must send where the job was observed, never the spec's region",
                    step.address,
                    step.action.kind.verb(),
                    step.location
                ),
            })?;
            (version, region)
        };
        Ok(StepContext {
            target: Target {
                address: step.address.clone(),
                version,
                region,
                remote_id: step.remote_id.as_ref().map(|id| id.0.clone()),
                recorded: None,
            },
            intent,
        })
    }

    async fn import_job(&self, request: ImportRequest) -> Result<Imported, ProviderError> {
        let target = self.target(
            &request.address,
            &request.kind,
            &request.location,
            Some(request.remote_id.0.clone()),
        )?;
        let found =
            observe::observe(&self.client, std::slice::from_ref(&target), Depth::Full).await?;
        let Some(job) = found
            .into_iter()
            .next()
            .flatten()
            .filter(|job| !job.is_gone())
        else {
            return Err(ProviderError::NotFound {
                service: crate::error::SERVICE.to_owned(),
                id: format!(
                    "job {} (API {}, region {})",
                    request.remote_id, target.version, target.region
                ),
                code: "ResourceNotFound.JobNotExist".to_owned(),
            });
        };
        Ok(import_document(&request.address, &job))
    }

    /// Imports several jobs from one paged listing per (region, API version) — `import
    /// --all`, whose objects carry no address tag to filter on — instead of one describe per
    /// job. A 2021 job's `MigrateOption` is still one `DescribeMigrationDetail` each: the
    /// listing does not carry it.
    async fn import_jobs(
        &self,
        requests: Vec<ImportRequest>,
    ) -> Result<Vec<Imported>, ProviderError> {
        let mut targets = Vec::with_capacity(requests.len());
        for request in &requests {
            targets.push(self.target(
                &request.address,
                &request.kind,
                &request.location,
                Some(request.remote_id.0.clone()),
            )?);
        }
        // Each listed job by its id (the id is read through the job's mapping, once).
        let mut listings: std::collections::BTreeMap<
            (String, ApiVersion),
            std::collections::HashMap<String, observe::Raw>,
        > = std::collections::BTreeMap::new();
        for target in &targets {
            if let std::collections::btree_map::Entry::Vacant(entry) =
                listings.entry((target.region.clone(), target.version))
            {
                let jobs = observe::list_pages(&self.client, target.version, &target.region, &[])
                    .await
                    .map_err(|error| error.to_provider_error(None))?
                    .into_iter()
                    .map(|raw| (raw.map(&target.region).id, raw))
                    .collect();
                entry.insert(jobs);
            }
        }
        let mut imported = Vec::with_capacity(targets.len());
        for (request, target) in requests.iter().zip(&targets) {
            let raw = listings
                .get(&(target.region.clone(), target.version))
                .and_then(|jobs| jobs.get(&request.remote_id.0));
            let job = match raw {
                Some(raw) => Some(observe::enrich(&self.client, raw, target, Depth::Full).await?),
                None => None,
            };
            let Some(job) = job.filter(|job| !job.is_gone()) else {
                return Err(ProviderError::NotFound {
                    service: crate::error::SERVICE.to_owned(),
                    id: format!(
                        "job {} (API {}, region {})",
                        request.remote_id, target.version, target.region
                    ),
                    code: "ResourceNotFound.JobNotExist".to_owned(),
                });
            };
            imported.push(import_document(&request.address, &job));
        }
        Ok(imported)
    }
}

/// The spec document that would manage `job`, with `{fromEnv: …}` placeholders for its
/// secrets (which the API never returns).
fn import_document(address: &Address, job: &ObservedJob) -> Imported {
    let prefix = ImportDocument::variable_prefix(address);
    let mut document = ImportDocument::new(job.version.kind(), address, job.view.clone());
    match job.version {
        ApiVersion::V2018 => {
            document.placeholder("/SrcInfo/Password", format!("{prefix}_SRC_PASSWORD"));
            if document.spec().pointer("/SrcInfo/RdsInstanceId").is_some() {
                document.placeholder("/SrcInfo/AccessKey", format!("{prefix}_SRC_ACCESS_KEY"));
            }
            document.placeholder("/DstInfo/Password", format!("{prefix}_DST_PASSWORD"));
            let nodes = document
                .spec()
                .pointer("/SrcInfoMulti")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            for index in 0..nodes {
                document.placeholder(
                    &format!("/SrcInfoMulti/{index}/Password"),
                    format!("{prefix}_SRC_{index}_PASSWORD"),
                );
            }
            if nodes > 0
                && let Value::Object(map) = document.spec_mut()
            {
                // DescribeMigrateJobs does not return SrcNodeType; nodes mean a cluster.
                map.insert("SrcNodeType".to_owned(), json!("cluster"));
            }
        }
        ApiVersion::V2021 => {
            for (side, label) in [("SrcInfo", "SRC"), ("DstInfo", "DST")] {
                let nodes: Vec<Value> = document
                    .spec()
                    .pointer(&format!("/{side}/Info"))
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for (index, node) in nodes.iter().enumerate() {
                    let name = if nodes.len() == 1 {
                        format!("{prefix}_{label}")
                    } else {
                        format!("{prefix}_{label}_{index}")
                    };
                    let base = format!("/{side}/Info/{index}");
                    document.placeholder(&format!("{base}/Password"), format!("{name}_PASSWORD"));
                    if node.get("AccountMode").and_then(Value::as_str) == Some("other") {
                        for (key, suffix) in [
                            ("TmpSecretId", "TMP_SECRET_ID"),
                            ("TmpSecretKey", "TMP_SECRET_KEY"),
                            ("TmpToken", "TMP_TOKEN"),
                        ] {
                            document
                                .placeholder(&format!("{base}/{key}"), format!("{name}_{suffix}"));
                        }
                    }
                }
            }
        }
    }
    let desired = match job.phase {
        Phase::Creating | Phase::Configured => "configured",
        Phase::Checking | Phase::CheckPassed | Phase::CheckFailed => "checked",
        Phase::Completing | Phase::Completed => "completed",
        Phase::Pausing | Phase::Paused => "paused",
        Phase::Stopping | Phase::Stopped | Phase::Isolating | Phase::Isolated | Phase::Deleting => {
            "stopped"
        }
        Phase::Scheduled
        | Phase::Running
        | Phase::ReadyToComplete
        | Phase::Failed
        | Phase::Resuming
        | Phase::Unknown => "running",
    };
    document.finish(desired)
}

impl Provider for TencentDtsProvider {
    fn describe(&self) -> Description {
        Description {
            name: PROVIDER_NAME.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            kinds: vec![
                // The generated schemas migspec-schema validates with (checked in under
                // `schemas/`): their annotations make the located messages.
                KindDescription {
                    kind: ApiVersion::V2018.kind().to_owned(),
                    schema: migspec_schema::generate::kind_schema(
                        migspec_spec::Kind::TencentDtsMigrateJob,
                    ),
                },
                KindDescription {
                    kind: ApiVersion::V2021.kind().to_owned(),
                    schema: migspec_schema::generate::kind_schema(
                        migspec_spec::Kind::TencentDtsMigrationJob,
                    ),
                },
            ],
            // The documented limit, or the migspec.yaml override: what the runner paces by.
            rate_limits: ACTIONS
                .iter()
                .map(|action| RateLimit {
                    action: (*action).to_owned(),
                    per_second: self.client.config().rate_limit_per_second,
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
        crate::rules::check(kind, document)
    }

    fn location(&self, desired: &DesiredSpec) -> Result<Value, ProviderError> {
        let version =
            ApiVersion::for_kind(&desired.kind).ok_or_else(|| ProviderError::Contract {
                message: format!(
                    "{}: kind `{}` is not served by {PROVIDER_NAME}",
                    desired.address, desired.kind
                ),
            })?;
        let region = desired
            .document
            .pointer("/spec/region")
            .and_then(Value::as_str)
            .filter(|region| !region.is_empty())
            .map(str::to_owned);
        let region = self.region_or_default(region, &desired.address)?;
        Ok(crate::job::location(&region, version))
    }

    fn observe(&self, request: ObserveRequest) -> ProviderFuture<'_, Vec<Observed>> {
        Box::pin(async move {
            let targets = request
                .targets
                .iter()
                .map(|target| {
                    let mut found = self.target(
                        &target.address,
                        &target.kind,
                        &target.location,
                        target.remote_id.as_ref().map(|id| id.0.clone()),
                    )?;
                    found.recorded = target.revision.clone().zip(target.view.clone());
                    Ok(found)
                })
                .collect::<Result<Vec<_>, ProviderError>>()?;
            self.observe_targets(targets, Depth::Full).await
        })
    }

    fn plan(&self, request: &PlanRequest) -> Result<Vec<Action>, PlanError> {
        plan::plan(request)
    }

    fn apply(&self, step: Step) -> ProviderFuture<'_, StepOutcome> {
        Box::pin(async move {
            let context = self.step_context(&step)?;
            apply::apply(&self.client, &step, context).await
        })
    }

    fn poll(&self, in_flight: Vec<InFlightTarget>) -> ProviderFuture<'_, Vec<Observed>> {
        Box::pin(async move {
            let targets = in_flight
                .iter()
                .map(|target| {
                    self.target(
                        &target.object.address,
                        &target.kind,
                        &target.location,
                        Some(target.object.remote_id.0.clone()),
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            self.observe_targets(targets, Depth::Status).await
        })
    }

    fn import(&self, request: ImportRequest) -> ProviderFuture<'_, Imported> {
        Box::pin(self.import_job(request))
    }

    fn import_many(&self, requests: Vec<ImportRequest>) -> ProviderFuture<'_, Vec<Imported>> {
        Box::pin(self.import_jobs(requests))
    }

    fn list(
        &self,
        request: migspec_provider::ListRequest,
    ) -> ProviderFuture<'_, Vec<migspec_provider::Listed>> {
        Box::pin(async move {
            let address = Address(format!("import --all {}", request.kind));
            let target = self.target(&address, &request.kind, &request.location, None)?;
            crate::list::list(&self.client, target.version, &target.region, &request.tags)
                .await
                .map_err(ProviderError::from)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::Credentials;

    fn desired(kind: &str, region: Option<&str>) -> DesiredSpec {
        let mut spec = json!({});
        if let Some(region) = region {
            spec["region"] = json!(region);
        }
        DesiredSpec {
            address: Address("orders".into()),
            kind: kind.to_owned(),
            document: json!({"kind": kind, "spec": spec}),
            secrets: BTreeMap::new(),
        }
    }

    fn provider(default_region: Option<&str>) -> TencentDtsProvider {
        let mut config = TencentConfig::default().with_credentials(Credentials::new("id", "key"));
        if let Some(region) = default_region {
            config = config.with_default_region(region);
        }
        TencentDtsProvider::new(config).unwrap()
    }

    #[test]
    fn locations_come_from_the_spec_region_and_the_kind_version() {
        let provider = provider(Some("ap-beijing"));
        assert_eq!(
            provider
                .location(&desired("TencentDtsMigrateJob", Some("ap-guangzhou")))
                .unwrap(),
            json!({"region": "ap-guangzhou", "version": "2018-03-30"})
        );
        assert_eq!(
            provider
                .location(&desired("TencentDtsMigrationJob", None))
                .unwrap(),
            json!({"region": "ap-beijing", "version": "2021-12-06"})
        );
    }

    /// Issue 9 item 1: only a create goes where the spec says; every other step acts where
    /// the job was observed, and a step without a location is refused, not guessed.
    #[test]
    fn steps_act_where_the_job_was_observed_and_creates_where_the_spec_says() {
        let provider = provider(Some("ap-beijing"));
        let mut spec = desired("TencentDtsMigrateJob", Some("ap-shanghai"));
        spec.document = crate::plan::tests::doc_2018("configured", json!({}));
        spec.document["spec"]["region"] = json!("ap-shanghai");
        spec.secrets = crate::job::secrets(&[
            ("/spec/SrcInfo/Password", "a"),
            ("/spec/DstInfo/Password", "b"),
        ]);
        let step = |kind, location: Value| Step {
            address: Address("orders".into()),
            action: Action::new(kind, "test"),
            remote_id: Some(migspec_provider::RemoteId("dts-1".into())),
            location,
            desired: Some(spec.clone()),
            idempotency_key: "k".into(),
            observed: None,
        };
        let observed = json!({"region": "ap-guangzhou", "version": "2018-03-30"});
        for kind in [ActionKind::Delete, ActionKind::Stop, ActionKind::Modify] {
            let context = provider
                .step_context(&step(kind, observed.clone()))
                .unwrap();
            assert_eq!(context.target.region, "ap-guangzhou", "{kind:?}");
            assert_eq!(context.target.version, ApiVersion::V2018);
        }
        let context = provider
            .step_context(&step(ActionKind::Create, observed))
            .unwrap();
        assert_eq!(context.target.region, "ap-shanghai");
        let error = provider
            .step_context(&step(ActionKind::Delete, Value::Null))
            .err()
            .unwrap();
        assert!(matches!(error, ProviderError::Contract { .. }), "{error}");
    }

    #[test]
    fn a_location_without_any_region_or_with_a_foreign_kind_is_an_error() {
        let error = provider(None)
            .location(&desired("TencentDtsMigrateJob", None))
            .unwrap_err();
        assert!(error.to_string().contains("TENCENTCLOUD_REGION"), "{error}");
        let error = provider(None)
            .location(&desired("HuaweiOmsTaskGroup", Some("x")))
            .unwrap_err();
        assert!(matches!(error, ProviderError::Contract { .. }), "{error}");
    }
}
