//! API 2021-12-06 (kind `TencentDtsMigrationJob`): wire types, spec → requests,
//! responses → view, status and billing status → phase (reference §2).
//!
//! A 2021 job is bought empty (`CreateMigrationService`) and configured with
//! `ModifyMigrationJob`. `DescribeMigrationJobs` returns the endpoints, run mode and tags of
//! up to 100 jobs per call but not `MigrateOption`, which only `DescribeMigrationDetail`
//! returns, one job per call.

use migspec_provider::{DesiredSpec, Failure, Phase, Progress, ProviderError};
use migspec_spec::model::TencentDtsMigrationJob;
use migspec_spec::model::tencent2021::DBEndpointInfo;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::canon;
use crate::client::ApiVersion;
use crate::job::{ObservedJob, Trade, address_of, secret_value, tags_with_address, view_tags};
use crate::wire::{TagFilter, TagItem, nullable};

// ---------------------------------------------------------------------------------------
// Requests

/// `CreateMigrationService`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateMigrationService {
    pub(crate) src_database_type: String,
    pub(crate) dst_database_type: String,
    pub(crate) src_region: String,
    pub(crate) dst_region: String,
    pub(crate) instance_class: String,
    pub(crate) count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) job_name: Option<String>,
    pub(crate) tags: Vec<TagItem>,
}

/// `KeyValuePairOption`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyValuePairOption {
    pub(crate) key: String,
    pub(crate) value: String,
}

/// `DBInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DbInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) db_kernel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) port: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cvm_instance_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) uniq_vpn_gw_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) uniq_dcg_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) instance_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ccn_gw_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) vpc_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) subnet_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) engine_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) account_role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) account_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tmp_secret_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tmp_secret_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tmp_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) encrypt_conn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) set_id: Option<String>,
}

/// `DBEndpointInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DbEndpointInfo {
    pub(crate) region: String,
    pub(crate) access_type: String,
    pub(crate) database_type: String,
    pub(crate) node_type: String,
    pub(crate) info: Vec<DbInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) supplier: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) extra_attr: Vec<KeyValuePairOption>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) database_net_env: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) connect_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ccn_owner_uin: Option<String>,
}

/// `ModifyMigrationJob`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ModifyMigrationJob {
    pub(crate) job_id: String,
    pub(crate) run_mode: String,
    /// The spec's `MigrateOption` as is: the spec model uses the API's own names and shape
    /// for every member, and it holds no secrets.
    pub(crate) migrate_option: Value,
    pub(crate) src_info: DbEndpointInfo,
    pub(crate) dst_info: DbEndpointInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) job_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) expect_run_time: Option<String>,
    /// Sent every time: the tags replace the job's, and must keep the address tag.
    pub(crate) tags: Vec<TagItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) auto_retry_time_range_minutes: Option<i64>,
}

/// `DescribeMigrationJobs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeMigrationJobs {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) job_id: Option<String>,
    pub(crate) offset: i64,
    pub(crate) limit: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tag_filters: Vec<TagFilter>,
}

/// `CompleteMigrateJob` (2021-12-06).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CompleteMigrateJob {
    pub(crate) job_id: String,
    /// `waitForSync` or `immediately`; absent means the API's default (`waitForSync`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) complete_mode: Option<String>,
}

/// `ResumeMigrateJob`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ResumeMigrateJob {
    pub(crate) job_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) resume_option: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Responses

/// `CreateMigrationService` response.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct CreateMigrationServiceResponse {
    #[serde(deserialize_with = "nullable")]
    pub(crate) job_ids: Vec<String>,
}

/// `DescribeMigrationJobs` response.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct DescribeMigrationJobsResponse {
    #[serde(deserialize_with = "nullable")]
    pub(crate) total_count: i64,
    #[serde(deserialize_with = "nullable")]
    pub(crate) job_list: Vec<JobItem>,
}

/// `JobItem`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct JobItem {
    #[serde(deserialize_with = "nullable")]
    pub(crate) job_id: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) job_name: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) create_time: String,
    /// Changes with every change of the job (status, configuration).
    #[serde(deserialize_with = "nullable")]
    pub(crate) update_time: String,
    /// When the migration started (`0000-00-00 00:00:00` before): see [`revision`].
    #[serde(deserialize_with = "nullable")]
    pub(crate) start_time: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) brief_msg: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) status: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) run_mode: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) expect_run_time: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) step_info: MigrateDetailInfo,
    pub(crate) src_info: Value,
    pub(crate) dst_info: Value,
    #[serde(deserialize_with = "nullable")]
    pub(crate) trade_info: TradeInfo,
    #[serde(deserialize_with = "nullable")]
    pub(crate) tags: Vec<TagItemOut>,
    #[serde(deserialize_with = "nullable")]
    pub(crate) auto_retry_time_range_minutes: i64,
}

/// `TagItem` in a response.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct TagItemOut {
    #[serde(deserialize_with = "nullable")]
    pub(crate) tag_key: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) tag_value: String,
}

/// `TradeInfo` (the members migspec reads).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct TradeInfo {
    #[serde(deserialize_with = "nullable")]
    pub(crate) trade_status: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) instance_class: String,
}

/// `MigrateDetailInfo` (2021).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct MigrateDetailInfo {
    #[serde(deserialize_with = "nullable")]
    pub(crate) step_all: i64,
    #[serde(deserialize_with = "nullable")]
    pub(crate) step_now: i64,
    #[serde(deserialize_with = "nullable")]
    pub(crate) step_info: Vec<StepDetailInfo>,
}

/// `StepDetailInfo`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct StepDetailInfo {
    #[serde(deserialize_with = "nullable")]
    pub(crate) step_no: i64,
    #[serde(deserialize_with = "nullable")]
    pub(crate) step_name: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) step_id: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) status: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) step_message: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) percent: i64,
    #[serde(deserialize_with = "nullable")]
    pub(crate) errors: Vec<ProcessStepTip>,
}

/// `ProcessStepTip`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct ProcessStepTip {
    #[serde(deserialize_with = "nullable")]
    pub(crate) message: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) solution: String,
}

/// `DescribeMigrationDetail` response (the members migspec reads).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct DescribeMigrationDetailResponse {
    pub(crate) migrate_option: Value,
    #[serde(deserialize_with = "nullable")]
    pub(crate) error_info: Vec<ErrorInfoItem>,
}

/// `ErrorInfoItem`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct ErrorInfoItem {
    #[serde(deserialize_with = "nullable")]
    pub(crate) code: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) solution: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) error_log: String,
}

/// `DescribeMigrationCheckJob` response.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct DescribeMigrationCheckJobResponse {
    #[serde(deserialize_with = "nullable")]
    pub(crate) status: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) brief_msg: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) step_info: Vec<CheckStep>,
    #[serde(deserialize_with = "nullable")]
    pub(crate) check_flag: String,
}

/// `CheckStep`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct CheckStep {
    #[serde(deserialize_with = "nullable")]
    pub(crate) step_id: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) step_name: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) step_status: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) step_message: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) detail_check_items: Vec<DetailCheckItem>,
}

/// `DetailCheckItem`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct DetailCheckItem {
    #[serde(deserialize_with = "nullable")]
    pub(crate) check_item_name: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) check_result: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) failure_reason: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) solution: String,
}

// ---------------------------------------------------------------------------------------
// Spec → requests

/// The typed document of a desired spec.
pub(crate) fn document(desired: &DesiredSpec) -> Result<TencentDtsMigrationJob, ProviderError> {
    serde_json::from_value(desired.document.clone()).map_err(|error| ProviderError::Contract {
        message: format!(
            "{}: the document is not a valid TencentDtsMigrationJob ({error}); validate the spec first",
            desired.address
        ),
    })
}

fn tags(job: &TencentDtsMigrationJob, desired: &DesiredSpec) -> Vec<TagItem> {
    tags_with_address(&job.spec.tags, &desired.address)
        .into_iter()
        .map(|(tag_key, tag_value)| TagItem { tag_key, tag_value })
        .collect()
}

/// The `CreateMigrationService` request for a spec, tagged with its address.
pub(crate) fn create_request(
    job: &TencentDtsMigrationJob,
    desired: &DesiredSpec,
) -> CreateMigrationService {
    CreateMigrationService {
        src_database_type: job.spec.src_database_type.as_str().to_owned(),
        dst_database_type: job.spec.dst_database_type.as_str().to_owned(),
        src_region: job.spec.src_region.clone(),
        dst_region: job.spec.dst_region.clone(),
        instance_class: job.spec.instance_class.as_str().to_owned(),
        count: 1,
        job_name: job.spec.job_name.clone(),
        tags: tags(job, desired),
    }
}

fn endpoint(
    info: &DBEndpointInfo,
    desired: &DesiredSpec,
    base: &str,
) -> Result<DbEndpointInfo, ProviderError> {
    let nodes = info
        .info
        .iter()
        .enumerate()
        .map(|(index, node)| {
            let pointer = |field: &str| format!("{base}/Info/{index}/{field}");
            Ok(DbInfo {
                role: node.role.clone(),
                db_kernel: node.db_kernel.clone(),
                host: node.host.clone(),
                port: node.port.map(i64::from),
                user: node.user.clone(),
                password: secret_value(desired, &pointer("Password"), node.password.as_ref())?,
                cvm_instance_id: node.cvm_instance_id.clone(),
                uniq_vpn_gw_id: node.uniq_vpn_gw_id.clone(),
                uniq_dcg_id: node.uniq_dcg_id.clone(),
                instance_id: node.instance_id.clone(),
                ccn_gw_id: node.ccn_gw_id.clone(),
                vpc_id: node.vpc_id.clone(),
                subnet_id: node.subnet_id.clone(),
                engine_version: node.engine_version.clone(),
                account: node.account.clone(),
                account_role: node.account_role.clone(),
                account_mode: node.account_mode.map(|mode| mode.as_str().to_owned()),
                tmp_secret_id: secret_value(
                    desired,
                    &pointer("TmpSecretId"),
                    node.tmp_secret_id.as_ref(),
                )?,
                tmp_secret_key: secret_value(
                    desired,
                    &pointer("TmpSecretKey"),
                    node.tmp_secret_key.as_ref(),
                )?,
                tmp_token: secret_value(desired, &pointer("TmpToken"), node.tmp_token.as_ref())?,
                encrypt_conn: node.encrypt_conn.map(|mode| mode.as_str().to_owned()),
                set_id: node.set_id.clone(),
            })
        })
        .collect::<Result<Vec<_>, ProviderError>>()?;
    Ok(DbEndpointInfo {
        region: info.region.clone(),
        access_type: info.access_type.as_str().to_owned(),
        database_type: info.database_type.as_str().to_owned(),
        node_type: info.node_type.as_str().to_owned(),
        info: nodes,
        supplier: info.supplier.clone(),
        extra_attr: info
            .extra_attr
            .iter()
            .map(|pair| KeyValuePairOption {
                key: pair.key.clone(),
                value: pair.value.clone(),
            })
            .collect(),
        database_net_env: info.database_net_env.map(|env| env.as_str().to_owned()),
        connect_type: info.connect_type.map(|kind| kind.as_str().to_owned()),
        ccn_owner_uin: info.ccn_owner_uin.clone(),
    })
}

/// The `ModifyMigrationJob` request that configures job `job_id` as the spec says.
pub(crate) fn modify_request(
    job_id: &str,
    job: &TencentDtsMigrationJob,
    desired: &DesiredSpec,
) -> Result<ModifyMigrationJob, ProviderError> {
    Ok(ModifyMigrationJob {
        job_id: job_id.to_owned(),
        run_mode: job.spec.run_mode.as_str().to_owned(),
        migrate_option: serde_json::to_value(&job.spec.migrate_option).unwrap_or(Value::Null),
        src_info: endpoint(&job.spec.src_info, desired, "/spec/SrcInfo")?,
        dst_info: endpoint(&job.spec.dst_info, desired, "/spec/DstInfo")?,
        job_name: job.spec.job_name.clone(),
        expect_run_time: job.spec.expect_run_time.clone(),
        tags: tags(job, desired),
        auto_retry_time_range_minutes: job.spec.auto_retry_time_range_minutes.map(i64::from),
    })
}

// ---------------------------------------------------------------------------------------
// Responses → view, phase

/// The phase of a 2021 status and billing status (§2.2, §2.3).
pub(crate) fn phase(status: &str, trade: Trade) -> Phase {
    match trade {
        Trade::Isolating => return Phase::Isolating,
        Trade::Isolated => return Phase::Isolated,
        Trade::Offlining | Trade::Offlined => return Phase::Deleting,
        Trade::Normal => {}
    }
    match status {
        "creating" => Phase::Creating,
        "created" => Phase::Configured,
        "checking" => Phase::Checking,
        "checkPass" => Phase::CheckPassed,
        "checkNotPass" => Phase::CheckFailed,
        "readyRun" => Phase::Scheduled,
        "running" => Phase::Running,
        "readyComplete" => Phase::ReadyToComplete,
        "success" => Phase::Completed,
        "failed" | "resumableErr" | "error" => Phase::Failed,
        "stopping" => Phase::Stopping,
        "completing" => Phase::Completing,
        "pausing" => Phase::Pausing,
        "manualPaused" => Phase::Paused,
        "resuming" => Phase::Resuming,
        "canceled" => Phase::Stopped,
        _ => Phase::Unknown,
    }
}

/// Whether `ResumeMigrateJob` accepts a job in `status` (Redis jobs also when `failed`).
pub(crate) fn resumable(status: &str, redis: bool) -> bool {
    matches!(status, "resumableErr" | "error") || (redis && status == "failed")
}

/// Secret members of every `DBInfo`.
const INFO_SECRETS: [&str; 4] = ["Password", "TmpSecretId", "TmpSecretKey", "TmpToken"];

fn remove_secrets(view: &mut Value) {
    for side in ["/SrcInfo/Info", "/DstInfo/Info"] {
        for key in INFO_SECRETS {
            canon::remove_in_each(view, side, key);
        }
    }
}

/// The revision of a listed job: what says whether its `MigrateOption` (which only the
/// per-job DescribeMigrationDetail returns) may have changed since a view recorded with an
/// equal revision.
///
/// Only a started job has one. `ModifyMigrationJob`, the one call that sets the options, is
/// accepted only before the start (created, checkPass, checkNotPass: tencent-dts-api.md
/// §2.3), and no status after the start leads back there, so the options of a job that has
/// started stay what they were when it started: `started <StartTime>`. Not `UpdateTime`,
/// which moves with every status change — every plan after an apply that left jobs
/// migrating read every one of them again (53 DescribeMigrationDetail of 65 calls for 500
/// jobs) — and has one-second resolution, so a configuration changed within the second of
/// the recorded value was taken for unchanged. A job that has not started (or is waiting for
/// its timed start, `StartTime` still zero) has no revision: its options are read each time,
/// and those jobs are the few being worked on.
///
/// Assumed: the options of a started job are not changed behind migspec's back through
/// `ModifyMigrateRateLimit` or `ModifyMigrateRuntimeAttribute` (migspec calls neither; a
/// change made that way shows once the job is read in full again, e.g. by `import`).
pub(crate) fn revision(item: &JobItem) -> Option<String> {
    let started = !item.start_time.is_empty() && !item.start_time.starts_with("0000-00-00");
    started.then(|| format!("started {}", item.start_time))
}

/// The view of a described job (and its `MigrateOption`, when the detail was read).
pub(crate) fn view(item: &JobItem, region: &str, migrate_option: Option<&Value>) -> Value {
    let tags: Vec<(String, String)> = item
        .tags
        .iter()
        .map(|tag| (tag.tag_key.clone(), tag.tag_value.clone()))
        .collect();
    let side = |endpoint: &Value, key: &str| endpoint.get(key).cloned().unwrap_or(Value::Null);
    let mut view = json!({
        "region": region,
        "JobName": item.job_name,
        "SrcDatabaseType": side(&item.src_info, "DatabaseType"),
        "DstDatabaseType": side(&item.dst_info, "DatabaseType"),
        "SrcRegion": side(&item.src_info, "Region"),
        "DstRegion": side(&item.dst_info, "Region"),
        "InstanceClass": item.trade_info.instance_class,
        "Tags": view_tags(&tags),
        "RunMode": item.run_mode,
        "ExpectRunTime": item.expect_run_time,
        "MigrateOption": migrate_option.cloned().unwrap_or(Value::Null),
        "SrcInfo": item.src_info,
        "DstInfo": item.dst_info,
        "AutoRetryTimeRangeMinutes": item.auto_retry_time_range_minutes,
    });
    remove_secrets(&mut view);
    canon::strip_blanks(view)
}

/// The canonical form of a spec-shaped value: what the diff compares.
pub(crate) fn canonical(value: &Value) -> Value {
    let mut value = value.clone();
    remove_secrets(&mut value);
    canon::remove_default(
        &mut value,
        "/MigrateOption/MigrateType",
        &json!("fullAndIncrement"),
    );
    for side in ["/SrcInfo/Info", "/DstInfo/Info"] {
        if let Some(Value::Array(nodes)) = value.pointer_mut(side) {
            for node in nodes {
                canon::remove_default(node, "/EncryptConn", &json!("UnEncrypted"));
                canon::remove_default(node, "/AccountMode", &json!("self"));
            }
        }
    }
    canon::strip_blanks(value)
}

/// The spec's `spec` body without secrets.
pub(crate) fn spec_body(job: &TencentDtsMigrationJob) -> Value {
    let mut body = serde_json::to_value(&job.spec).unwrap_or(Value::Null);
    remove_secrets(&mut body);
    body
}

/// Fields (relative to `spec`) fixed when the job is bought.
pub(crate) const IMMUTABLE: &[&str] = &[
    "/region",
    "/SrcDatabaseType",
    "/DstDatabaseType",
    "/SrcRegion",
    "/DstRegion",
    "/InstanceClass",
    "/SrcInfo/DatabaseType",
    "/SrcInfo/Region",
    "/DstInfo/DatabaseType",
    "/DstInfo/Region",
];

/// Whether the job replicates increments after its full phase.
pub(crate) fn incremental(job: &TencentDtsMigrationJob) -> bool {
    job.spec
        .migrate_option
        .migrate_type
        .is_none_or(|kind| kind.as_str() == "fullAndIncrement")
}

/// Whether the job starts at `ExpectRunTime`.
pub(crate) fn timed(job: &TencentDtsMigrationJob) -> bool {
    job.spec.run_mode.as_str() == "timed"
}

/// Whether the job overwrites the target's root account.
pub(crate) fn overrides_root(job: &TencentDtsMigrationJob) -> bool {
    job.spec.migrate_option.is_override_root == Some(true)
}

/// Whether the view describes a configured job (bought jobs have no run mode yet).
pub(crate) fn configured(view: &Value) -> bool {
    view.get("RunMode").is_some()
}

/// Maps a described job; `detail` adds `MigrateOption` and error codes.
pub(crate) fn observed(
    item: &JobItem,
    region: &str,
    detail: Option<&DescribeMigrationDetailResponse>,
) -> ObservedJob {
    let trade = Trade::parse(&item.trade_info.trade_status);
    let phase = phase(&item.status, trade);
    let tags: Vec<(String, String)> = item
        .tags
        .iter()
        .map(|tag| (tag.tag_key.clone(), tag.tag_value.clone()))
        .collect();
    let steps = &item.step_info;
    let failure = (phase == Phase::Failed).then(|| {
        let mut details: Vec<String> = steps
            .step_info
            .iter()
            .flat_map(|step| {
                step.errors.iter().map(move |tip| {
                    if tip.solution.is_empty() {
                        format!("{}: {}", step.step_id, tip.message)
                    } else {
                        format!("{}: {} ({})", step.step_id, tip.message, tip.solution)
                    }
                })
            })
            .collect();
        let errors = detail
            .map(|detail| detail.error_info.as_slice())
            .unwrap_or_default();
        details.extend(errors.iter().map(|error| {
            if error.solution.is_empty() {
                error.error_log.clone()
            } else {
                format!("{} ({})", error.error_log, error.solution)
            }
        }));
        let message = if item.brief_msg.is_empty() {
            details
                .first()
                .cloned()
                .unwrap_or_else(|| format!("the job is {}", item.status))
        } else {
            item.brief_msg.clone()
        };
        Failure {
            code: errors
                .iter()
                .map(|error| error.code.clone())
                .find(|code| !code.is_empty()),
            message,
            details,
        }
    });
    let progress = (steps.step_all > 0).then(|| {
        let current = steps
            .step_info
            .iter()
            .find(|step| step.step_no == steps.step_now);
        Progress {
            #[expect(clippy::cast_precision_loss, reason = "a percentage")]
            percent: current.map(|step| step.percent as f64),
            step: current.map(|step| step.step_id.clone()),
            message: Some(format!(
                "step {}/{}{}",
                steps.step_now,
                steps.step_all,
                current
                    .map(|step| format!(" {}: {}%", step.step_name, step.percent))
                    .unwrap_or_default()
            )),
        }
    });
    ObservedJob {
        revision: revision(item),
        version: ApiVersion::V2021,
        region: region.to_owned(),
        id: item.job_id.clone(),
        address_tag: address_of(&tags),
        raw_status: item.status.clone(),
        phase,
        trade,
        create_time: item.create_time.clone(),
        view: view(item, region, detail.map(|detail| &detail.migrate_option)),
        progress,
        failure,
    }
}

/// The failure of a check that did not pass, from `DescribeMigrationCheckJob`: its brief
/// message, then one line per failed step and failed check item.
pub(crate) fn check_failure(check: &DescribeMigrationCheckJobResponse) -> Option<Failure> {
    if check.check_flag == "checkPass" {
        return None;
    }
    let mut details = Vec::new();
    for step in check
        .step_info
        .iter()
        .filter(|step| step.step_status == "failed")
    {
        details.push(if step.step_message.is_empty() {
            format!("{} ({}) failed", step.step_id, step.step_name)
        } else {
            format!(
                "{} ({}): {}",
                step.step_id, step.step_name, step.step_message
            )
        });
        for item in step
            .detail_check_items
            .iter()
            .filter(|item| item.check_result == "failed")
        {
            let mut line = format!("  {}: {}", item.check_item_name, item.failure_reason);
            if !item.solution.is_empty() {
                line.push_str(&format!(" — {}", item.solution));
            }
            details.push(line);
        }
    }
    let message = if check.brief_msg.is_empty() {
        details.first().cloned()?
    } else {
        check.brief_msg.clone()
    };
    Some(Failure {
        code: Some(format!("CheckFlag={}", check.check_flag)),
        message,
        details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_billing_map_to_phases() {
        let cases = [
            ("creating", Phase::Creating),
            ("created", Phase::Configured),
            ("checking", Phase::Checking),
            ("checkPass", Phase::CheckPassed),
            ("checkNotPass", Phase::CheckFailed),
            ("readyRun", Phase::Scheduled),
            ("running", Phase::Running),
            ("readyComplete", Phase::ReadyToComplete),
            ("success", Phase::Completed),
            ("failed", Phase::Failed),
            ("stopping", Phase::Stopping),
            ("completing", Phase::Completing),
            ("pausing", Phase::Pausing),
            ("manualPaused", Phase::Paused),
            ("resumableErr", Phase::Failed),
            ("resuming", Phase::Resuming),
            ("unknown", Phase::Unknown),
            ("error", Phase::Failed),
            ("canceled", Phase::Stopped),
            ("somethingNew", Phase::Unknown),
        ];
        for (status, expected) in cases {
            assert_eq!(phase(status, Trade::Normal), expected, "{status}");
        }
        assert_eq!(phase("running", Trade::Isolating), Phase::Isolating);
        assert_eq!(phase("canceled", Trade::Isolated), Phase::Isolated);
        assert_eq!(phase("canceled", Trade::Offlining), Phase::Deleting);
        assert!(resumable("resumableErr", false));
        assert!(resumable("error", false));
        assert!(!resumable("failed", false));
        assert!(resumable("failed", true));
    }

    /// The official readyComplete example (§2.6), abridged to what matters.
    const OFFICIAL: &str = r#"{"JobId":"dts-amm1jw5q","JobName":"test_config_api",
      "Status":"readyComplete","RunMode":"immediate","ExpectRunTime":"","CreateTime":"2022-07-11 16:20:49",
      "StartTime":"2022-07-11 17:20:56","EndTime":"0000-00-00 00:00:00","BriefMsg":"","AutoRetryTimeRangeMinutes":5,
      "StepInfo":{"StepAll":3,"StepNow":3,"MasterSlaveDistance":0,"SecondsBehindMaster":0,"StepInfo":[
        {"StepNo":1,"StepId":"dumper","StepName":"源库导出","Status":"finished","Percent":100,"StartTime":"","StepMessage":"","Errors":[],"Warnings":[]},
        {"StepNo":3,"StepId":"sinker","StepName":"同步增量","Status":"running","Percent":0,"StartTime":"","StepMessage":"","Errors":[],"Warnings":[]}]},
      "SrcInfo":{"AccessType":"intranet","DatabaseType":"mysql","NodeType":"simple","Region":"ap-guangzhou","Supplier":"","ExtraAttr":[],
        "Info":[{"Host":"9.123.210.37","Port":31035,"User":"root","Password":"xxxxxxxx","EngineVersion":"5.7","Role":"","DbKernel":"",
                 "CvmInstanceId":"","TmpSecretKey":"","TmpToken":"","TmpSecretId":"AKIDtmp"}]},
      "DstInfo":{"AccessType":"cdb","DatabaseType":"mysql","NodeType":"simple","Region":"ap-guangzhou","Info":[{"InstanceId":"cdb-o7uph0cj","EncryptConn":"UnEncrypted"}]},
      "Tags":[],
      "TradeInfo":{"BillingType":"billing","InstanceClass":"xlarge","PayType":"postpay","TradeStatus":"normal"}}"#;

    #[test]
    fn the_official_example_becomes_a_clean_view() {
        let item: JobItem = serde_json::from_str(OFFICIAL).unwrap();
        let job = observed(&item, "ap-guangzhou", None);
        assert_eq!(job.phase, Phase::ReadyToComplete);
        assert_eq!(
            job.view["SrcInfo"]["Info"][0],
            json!({"Host": "9.123.210.37", "Port": 31035, "User": "root", "EngineVersion": "5.7"})
        );
        assert_eq!(job.view["InstanceClass"], "xlarge");
        assert_eq!(job.view["SrcRegion"], "ap-guangzhou");
        assert_eq!(job.view["AutoRetryTimeRangeMinutes"], 5);
        assert!(job.view.get("ExpectRunTime").is_none());
        assert!(job.view.get("Tags").is_none());
        assert!(!job.view.to_string().contains("xxxxxxxx"));
        assert!(!job.view.to_string().contains("AKIDtmp"));
        let progress = job.progress.unwrap();
        assert_eq!(progress.step.as_deref(), Some("sinker"));
        assert_eq!(
            canonical(&job.view)["DstInfo"]["Info"][0],
            json!({"InstanceId": "cdb-o7uph0cj"})
        );
    }

    #[test]
    fn failed_checks_list_failed_steps_and_items() {
        let check: DescribeMigrationCheckJobResponse = serde_json::from_value(json!({
            "Status": "failed", "BriefMsg": "target not empty", "CheckFlag": "checkNotPass",
            "StepInfo": [
                {"StepId": "ConnectDBCheck", "StepName": "连接DB检查", "StepStatus": "pass", "DetailCheckItems": []},
                {"StepId": "DstEmptyCheck", "StepName": "目标库冲突检查", "StepStatus": "failed", "StepMessage": "orders exists",
                 "DetailCheckItems": [{"CheckItemName": "conflict", "CheckResult": "failed", "FailureReason": "orders exists", "Solution": "drop it"}]}
            ]
        }))
        .unwrap();
        let failure = check_failure(&check).unwrap();
        assert_eq!(failure.message, "target not empty");
        assert_eq!(failure.details.len(), 2);
        assert!(failure.details[0].starts_with("DstEmptyCheck"));
        assert!(failure.details[1].contains("drop it"));
    }
}
