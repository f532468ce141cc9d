//! API 2018-03-30 (kind `TencentDtsMigrateJob`): wire types, spec → request,
//! response → view, status → phase (reference §1).

use migspec_provider::{DesiredSpec, Failure, Phase, Progress, ProviderError};
use migspec_spec::model::TencentDtsMigrateJob;
use migspec_spec::model::tencent2018::{DstInfo as SpecDstInfo, SrcInfo as SpecSrcInfo};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::canon;
use crate::client::ApiVersion;
use crate::job::{ObservedJob, Trade, address_of, secret_value, tags_with_address, view_tags};
use crate::wire::{TagFilter, TagItem, nullable};

// ---------------------------------------------------------------------------------------
// Requests

/// `MigrateOption`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MigrateOption {
    pub(crate) run_mode: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) expect_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) migrate_type: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) migrate_object: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) consistency_type: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) is_override_root: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) extern_params: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) consistency_params: Option<ConsistencyParams>,
}

/// `ConsistencyParams`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ConsistencyParams {
    pub(crate) select_rows_per_table: i64,
    pub(crate) tables_select_all: i64,
    pub(crate) tables_select_count: i64,
}

/// `SrcInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SrcInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) access_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) port: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) rds_instance_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cvm_instance_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) uniq_dcg_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) vpc_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) subnet_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) uniq_vpn_gw_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) instance_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) supplier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ccn_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) engine_version: Option<String>,
}

/// `DstInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DstInfo {
    pub(crate) region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) instance_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) port: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) read_only: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) password: Option<String>,
}

/// `CreateMigrateJob`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateMigrateJob {
    pub(crate) job_name: String,
    pub(crate) migrate_option: MigrateOption,
    pub(crate) src_database_type: String,
    pub(crate) src_access_type: String,
    pub(crate) src_info: SrcInfo,
    pub(crate) dst_database_type: String,
    pub(crate) dst_access_type: String,
    pub(crate) dst_info: DstInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) database_info: Option<String>,
    pub(crate) tags: Vec<TagItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) src_node_type: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) src_info_multi: Vec<SrcInfo>,
}

/// `ModifyMigrateJob`: everything but the database types (which cannot change) and the
/// tags (which this version cannot change).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ModifyMigrateJob {
    pub(crate) job_id: String,
    pub(crate) job_name: String,
    pub(crate) migrate_option: MigrateOption,
    pub(crate) src_access_type: String,
    pub(crate) src_info: SrcInfo,
    pub(crate) dst_access_type: String,
    pub(crate) dst_info: DstInfo,
    /// Always sent (`""` clears a selection).
    pub(crate) database_info: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) src_node_type: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) src_info_multi: Vec<SrcInfo>,
}

/// `DescribeMigrateJobs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeMigrateJobs {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) job_id: Option<String>,
    pub(crate) offset: i64,
    pub(crate) limit: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tag_filters: Vec<TagFilter>,
}

// ---------------------------------------------------------------------------------------
// Responses

/// `CreateMigrateJob` response.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct CreateMigrateJobResponse {
    #[serde(deserialize_with = "nullable")]
    pub(crate) job_id: String,
}

/// `DescribeMigrateJobs` response.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct DescribeMigrateJobsResponse {
    #[serde(deserialize_with = "nullable")]
    pub(crate) total_count: i64,
    #[serde(deserialize_with = "nullable")]
    pub(crate) job_list: Vec<MigrateJobInfo>,
}

/// `MigrateJobInfo`. Configuration objects stay JSON: the view is built from whatever the
/// service returns, so a key this client does not know is compared rather than lost.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct MigrateJobInfo {
    #[serde(deserialize_with = "nullable")]
    pub(crate) job_id: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) job_name: String,
    pub(crate) migrate_option: Value,
    #[serde(deserialize_with = "nullable")]
    pub(crate) src_database_type: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) src_access_type: String,
    pub(crate) src_info: Value,
    #[serde(deserialize_with = "nullable")]
    pub(crate) dst_database_type: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) dst_access_type: String,
    pub(crate) dst_info: Value,
    pub(crate) database_info: Value,
    #[serde(deserialize_with = "nullable")]
    pub(crate) create_time: String,
    pub(crate) status: Value,
    #[serde(deserialize_with = "nullable")]
    pub(crate) detail: MigrateDetailInfo,
    #[serde(deserialize_with = "nullable")]
    pub(crate) error_info: Vec<ErrorInfo>,
    #[serde(deserialize_with = "nullable")]
    pub(crate) tags: Vec<TagItemOut>,
    pub(crate) src_info_multi: Value,
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

/// `MigrateDetailInfo`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct MigrateDetailInfo {
    #[serde(deserialize_with = "nullable")]
    pub(crate) step_all: i64,
    #[serde(deserialize_with = "nullable")]
    pub(crate) step_now: i64,
    #[serde(deserialize_with = "nullable")]
    pub(crate) progress: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) current_step_progress: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) step_info: Vec<MigrateStepDetailInfo>,
}

/// `MigrateStepDetailInfo`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct MigrateStepDetailInfo {
    #[serde(deserialize_with = "nullable")]
    pub(crate) step_no: i64,
    #[serde(deserialize_with = "nullable")]
    pub(crate) step_name: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) step_id: String,
}

/// `ErrorInfo`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct ErrorInfo {
    #[serde(deserialize_with = "nullable")]
    pub(crate) error_log: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) help_doc: String,
}

/// `DescribeMigrateCheckJob` response.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct DescribeMigrateCheckJobResponse {
    #[serde(deserialize_with = "nullable")]
    pub(crate) status: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) error_code: i64,
    #[serde(deserialize_with = "nullable")]
    pub(crate) error_message: String,
    #[serde(deserialize_with = "nullable")]
    pub(crate) check_flag: i64,
}

// ---------------------------------------------------------------------------------------
// Spec → request

/// The typed document of a desired spec.
pub(crate) fn document(desired: &DesiredSpec) -> Result<TencentDtsMigrateJob, ProviderError> {
    serde_json::from_value(desired.document.clone()).map_err(|error| ProviderError::Contract {
        message: format!(
            "{}: the document is not a valid TencentDtsMigrateJob ({error}); validate the spec first",
            desired.address
        ),
    })
}

fn src_info(
    info: &SpecSrcInfo,
    desired: &DesiredSpec,
    base: &str,
) -> Result<SrcInfo, ProviderError> {
    Ok(SrcInfo {
        access_key: secret_value(
            desired,
            &format!("{base}/AccessKey"),
            info.access_key.as_ref(),
        )?,
        ip: info.ip.clone(),
        port: info.port.map(i64::from),
        user: info.user.clone(),
        password: secret_value(desired, &format!("{base}/Password"), info.password.as_ref())?,
        rds_instance_id: info.rds_instance_id.clone(),
        cvm_instance_id: info.cvm_instance_id.clone(),
        uniq_dcg_id: info.uniq_dcg_id.clone(),
        vpc_id: info.vpc_id.clone(),
        subnet_id: info.subnet_id.clone(),
        uniq_vpn_gw_id: info.uniq_vpn_gw_id.clone(),
        instance_id: info.instance_id.clone(),
        region: info.region.clone(),
        supplier: info.supplier.map(|supplier| supplier.as_str().to_owned()),
        ccn_id: info.ccn_id.clone(),
        engine_version: info
            .engine_version
            .map(|version| version.as_str().to_owned()),
    })
}

fn dst_info(info: &SpecDstInfo, desired: &DesiredSpec) -> Result<DstInfo, ProviderError> {
    Ok(DstInfo {
        region: info.region.clone(),
        instance_id: info.instance_id.clone(),
        ip: info.ip.clone(),
        port: info.port.map(i64::from),
        read_only: info.read_only.map(|read_only| read_only.as_i64()),
        user: info.user.clone(),
        password: secret_value(desired, "/spec/DstInfo/Password", info.password.as_ref())?,
    })
}

fn migrate_option(
    job: &TencentDtsMigrateJob,
    address: &str,
) -> Result<MigrateOption, ProviderError> {
    let option = &job.spec.migrate_option;
    let extern_params = match &option.extern_params {
        None => None,
        Some(params) => {
            let map = params.map().map_err(|error| ProviderError::Contract {
                message: format!(
                    "{address}: MigrateOption.ExternParams is not a JSON object ({error}); validate the spec first"
                ),
            })?;
            Some(if map.is_empty() {
                String::new()
            } else {
                serde_json::to_string(&map).unwrap_or_default()
            })
        }
    };
    Ok(MigrateOption {
        run_mode: option.run_mode.as_i64(),
        expect_time: option.expect_time.clone(),
        migrate_type: option.migrate_type.map(|value| value.as_i64()),
        migrate_object: option.migrate_object.map(|value| value.as_i64()),
        consistency_type: option.consistency_type.map(|value| value.as_i64()),
        is_override_root: option.is_override_root.map(|value| value.as_i64()),
        extern_params,
        consistency_params: option.consistency_params.map(|params| ConsistencyParams {
            select_rows_per_table: i64::from(params.select_rows_per_table),
            tables_select_all: i64::from(params.tables_select_all),
            tables_select_count: i64::from(params.tables_select_count),
        }),
    })
}

fn database_info(
    job: &TencentDtsMigrateJob,
    address: &str,
) -> Result<Option<String>, ProviderError> {
    let Some(info) = &job.spec.database_info else {
        return Ok(None);
    };
    let items = info.items().map_err(|error| ProviderError::Contract {
        message: format!(
            "{address}: DatabaseInfo is not the documented JSON array ({error}); validate the spec first"
        ),
    })?;
    // The API takes the list as a JSON string (reference §1.6).
    Ok(Some(if items.is_empty() {
        String::new()
    } else {
        serde_json::to_string(&items).unwrap_or_default()
    }))
}

/// The `CreateMigrateJob` request for a spec, tagged with its address.
pub(crate) fn create_request(
    job: &TencentDtsMigrateJob,
    desired: &DesiredSpec,
) -> Result<CreateMigrateJob, ProviderError> {
    let address = desired.address.0.as_str();
    Ok(CreateMigrateJob {
        job_name: job.spec.job_name.clone(),
        migrate_option: migrate_option(job, address)?,
        src_database_type: job.spec.src_database_type.as_str().to_owned(),
        src_access_type: job.spec.src_access_type.as_str().to_owned(),
        src_info: src_info(&job.spec.src_info, desired, "/spec/SrcInfo")?,
        dst_database_type: job.spec.dst_database_type.as_str().to_owned(),
        dst_access_type: job.spec.dst_access_type.as_str().to_owned(),
        dst_info: dst_info(&job.spec.dst_info, desired)?,
        database_info: database_info(job, address)?,
        tags: tags_with_address(&job.spec.tags, &desired.address)
            .into_iter()
            .map(|(tag_key, tag_value)| TagItem { tag_key, tag_value })
            .collect(),
        src_node_type: job.spec.src_node_type.map(|node| node.as_str().to_owned()),
        src_info_multi: job
            .spec
            .src_info_multi
            .iter()
            .enumerate()
            .map(|(index, info)| src_info(info, desired, &format!("/spec/SrcInfoMulti/{index}")))
            .collect::<Result<_, _>>()?,
    })
}

/// The `ModifyMigrateJob` request that makes job `job_id` match the spec.
pub(crate) fn modify_request(
    job_id: &str,
    job: &TencentDtsMigrateJob,
    desired: &DesiredSpec,
) -> Result<ModifyMigrateJob, ProviderError> {
    let create = create_request(job, desired)?;
    Ok(ModifyMigrateJob {
        job_id: job_id.to_owned(),
        job_name: create.job_name,
        migrate_option: create.migrate_option,
        src_access_type: create.src_access_type,
        src_info: create.src_info,
        dst_access_type: create.dst_access_type,
        dst_info: create.dst_info,
        database_info: create.database_info.unwrap_or_default(),
        src_node_type: create.src_node_type,
        src_info_multi: create.src_info_multi,
    })
}

// ---------------------------------------------------------------------------------------
// Response → view, phase

/// The phase of a 2018 status (§1.2). Status 10 is both "failed" and "stopped" (a revoked
/// migration ends up failed): it is [`Phase::Failed`] when the job reports errors.
pub(crate) fn phase(status: Option<i64>, has_errors: bool) -> Phase {
    match status {
        Some(1 | 2) => Phase::Configured,
        Some(3) => Phase::Checking,
        Some(4) => Phase::CheckPassed,
        Some(5) => Phase::CheckFailed,
        Some(6) => Phase::Scheduled,
        Some(7) => Phase::Running,
        Some(8) => Phase::ReadyToComplete,
        Some(9) => Phase::Completed,
        Some(10) if has_errors => Phase::Failed,
        Some(10) => Phase::Stopped,
        Some(11) => Phase::Stopping,
        Some(12) => Phase::Completing,
        _ => Phase::Unknown,
    }
}

/// A 2018 status with its documented name, for messages (`7 (running)`).
pub(crate) fn describe_status(status: &str) -> String {
    let name = match status {
        "1" => "creating",
        "2" => "created",
        "3" => "checking",
        "4" => "check passed",
        "5" => "check failed",
        "6" => "ready to run",
        "7" => "running",
        "8" => "ready to complete",
        "9" => "success",
        "10" => "failed or stopped",
        "11" => "stopping",
        "12" => "completing",
        "23" => "unknown",
        _ => return status.to_owned(),
    };
    format!("{status} ({name})")
}

/// Secret members, relative to the `spec` body.
const SRC_SECRETS: [&str; 2] = ["Password", "AccessKey"];

/// Removes every secret from a spec-shaped value.
fn remove_secrets(view: &mut Value) {
    for key in SRC_SECRETS {
        canon::remove_in_each(view, "/SrcInfo", key);
        canon::remove_in_each(view, "/SrcInfoMulti", key);
    }
    canon::remove_in_each(view, "/DstInfo", "Password");
}

/// The view of a described job: spec-shaped, blank values and secrets removed, JSON
/// strings parsed, the address tag removed.
pub(crate) fn view(info: &MigrateJobInfo, region: &str) -> Value {
    let tags: Vec<(String, String)> = info
        .tags
        .iter()
        .map(|tag| (tag.tag_key.clone(), tag.tag_value.clone()))
        .collect();
    let mut view = json!({
        "region": region,
        "JobName": info.job_name,
        "MigrateOption": info.migrate_option,
        "SrcDatabaseType": info.src_database_type,
        "SrcAccessType": info.src_access_type,
        "SrcInfo": info.src_info,
        "DstDatabaseType": info.dst_database_type,
        "DstAccessType": info.dst_access_type,
        "DstInfo": info.dst_info,
        "DatabaseInfo": info.database_info,
        "Tags": view_tags(&tags),
        "SrcInfoMulti": info.src_info_multi,
    });
    canon::parse_json_string(&mut view, "/DatabaseInfo");
    canon::parse_json_string(&mut view, "/MigrateOption/ExternParams");
    remove_secrets(&mut view);
    canon::strip_blanks(view)
}

/// The canonical form of a spec-shaped value (a view, or a spec's `spec` without secrets):
/// what the diff compares.
pub(crate) fn canonical(value: &Value) -> Value {
    let mut value = value.clone();
    canon::parse_json_string(&mut value, "/DatabaseInfo");
    canon::parse_json_string(&mut value, "/MigrateOption/ExternParams");
    remove_secrets(&mut value);
    // Defaults the service fills in (the emulator does; an unset value means the same).
    canon::remove_default(&mut value, "/MigrateOption/MigrateType", &json!(3));
    canon::remove_default(&mut value, "/MigrateOption/MigrateObject", &json!(1));
    canon::remove_default(&mut value, "/MigrateOption/ConsistencyType", &json!(1));
    // DescribeMigrateJobs returns no SrcNodeType, and ModifyMigrateJob cannot change tags:
    // neither can be compared.
    canon::remove_at(&mut value, "/SrcNodeType");
    canon::remove_at(&mut value, "/Tags");
    canon::strip_blanks(value)
}

/// The spec's `spec` body without secrets.
pub(crate) fn spec_body(job: &TencentDtsMigrateJob) -> Value {
    let mut body = serde_json::to_value(&job.spec).unwrap_or(Value::Null);
    remove_secrets(&mut body);
    body
}

/// Fields (relative to `spec`) that no modification can change.
pub(crate) const IMMUTABLE: &[&str] = &[
    "/region",
    "/SrcDatabaseType",
    "/DstDatabaseType",
    "/DstInfo/Region",
];

/// Whether the job replicates increments after its full phase (MigrateType 3, the
/// default).
pub(crate) fn incremental(job: &TencentDtsMigrateJob) -> bool {
    job.spec
        .migrate_option
        .migrate_type
        .is_none_or(|value| value.as_i64() == 3)
}

/// Whether the job starts at `ExpectTime`.
pub(crate) fn timed(job: &TencentDtsMigrateJob) -> bool {
    job.spec.migrate_option.run_mode.as_i64() == 2
}

/// Whether the job overwrites the target's root account.
pub(crate) fn overrides_root(job: &TencentDtsMigrateJob) -> bool {
    job.spec
        .migrate_option
        .is_override_root
        .is_some_and(|value| value.as_i64() == 1)
}

/// Maps a described job.
pub(crate) fn observed(info: &MigrateJobInfo, region: &str) -> ObservedJob {
    let status = info.status.as_i64();
    let has_errors = info
        .error_info
        .iter()
        .any(|error| !error.error_log.is_empty());
    let phase = phase(status, has_errors);
    let tags: Vec<(String, String)> = info
        .tags
        .iter()
        .map(|tag| (tag.tag_key.clone(), tag.tag_value.clone()))
        .collect();
    let failure = (matches!(phase, Phase::Failed | Phase::CheckFailed) && has_errors).then(|| {
        let logs: Vec<String> = info
            .error_info
            .iter()
            .filter(|error| !error.error_log.is_empty())
            .map(|error| {
                if error.help_doc.is_empty() {
                    error.error_log.clone()
                } else {
                    format!("{} (see {})", error.error_log, error.help_doc)
                }
            })
            .collect();
        Failure {
            code: None,
            message: info
                .error_info
                .iter()
                .map(|error| error.error_log.clone())
                .find(|log| !log.is_empty())
                .unwrap_or_default(),
            details: logs,
        }
    });
    let detail = &info.detail;
    let progress = (detail.step_all > 0).then(|| {
        let current = detail
            .step_info
            .iter()
            .find(|step| step.step_no == detail.step_now);
        Progress {
            percent: detail.progress.trim().parse::<f64>().ok(),
            step: current.map(|step| step.step_id.clone()),
            message: Some(format!(
                "step {}/{}{}: {}%",
                detail.step_now,
                detail.step_all,
                current
                    .map(|step| format!(" {}", step.step_name))
                    .unwrap_or_default(),
                if detail.current_step_progress.is_empty() {
                    "0"
                } else {
                    detail.current_step_progress.as_str()
                }
            )),
        }
    });
    ObservedJob {
        revision: None,
        version: ApiVersion::V2018,
        region: region.to_owned(),
        id: info.job_id.clone(),
        address_tag: address_of(&tags),
        raw_status: status.map_or_else(|| info.status.to_string(), |status| status.to_string()),
        phase,
        trade: Trade::Normal,
        create_time: info.create_time.clone(),
        view: view(info, region),
        progress,
        failure,
    }
}

/// The failure of a check that did not pass, from `DescribeMigrateCheckJob`.
pub(crate) fn check_failure(
    check: &DescribeMigrateCheckJobResponse,
    previous: Option<Failure>,
) -> Option<Failure> {
    if check.check_flag == 1 {
        return None;
    }
    let message = if check.error_message.is_empty() || check.error_message == "ok" {
        previous.as_ref().map(|failure| failure.message.clone())?
    } else {
        check.error_message.clone()
    };
    Some(Failure {
        code: Some(format!(
            "CheckFlag={} ErrorCode={}",
            check.check_flag, check.error_code
        )),
        message,
        details: previous.map(|failure| failure.details).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_phases() {
        let cases = [
            (1, false, Phase::Configured),
            (2, false, Phase::Configured),
            (3, false, Phase::Checking),
            (4, false, Phase::CheckPassed),
            (5, true, Phase::CheckFailed),
            (6, false, Phase::Scheduled),
            (7, false, Phase::Running),
            (8, false, Phase::ReadyToComplete),
            (9, false, Phase::Completed),
            (10, true, Phase::Failed),
            (10, false, Phase::Stopped),
            (11, false, Phase::Stopping),
            (12, false, Phase::Completing),
            (23, false, Phase::Unknown),
            (42, false, Phase::Unknown),
        ];
        for (status, errors, expected) in cases {
            assert_eq!(phase(Some(status), errors), expected, "{status}");
        }
        assert_eq!(phase(None, false), Phase::Unknown);
        assert_eq!(describe_status("7"), "7 (running)");
    }

    /// The official DescribeMigrateJobs example (§1.8).
    const OFFICIAL: &str = r#"{"JobId":"dts-1kl0iy0v","JobName":"userdts",
     "MigrateOption":{"RunMode":1,"ExpectTime":"0000-00-00 00:00:00","MigrateType":2,"MigrateObject":2,"ConsistencyType":5,
       "IsOverrideRoot":0,"ExternParams":"","ConsistencyParams":{"SelectRowsPerTable":0,"TablesSelectAll":0,"TablesSelectCount":0}},
     "SrcAccessType":"extranet","SrcDatabaseType":"mysql",
     "SrcInfo":{"AccessKey":"","Ip":"9.18.84.24","Port":10304,"User":"root","Password":"","RdsInstanceId":"","CvmInstanceId":"",
       "UniqDcgId":"","SubnetId":"","UniqVpnGwId":"","InstanceId":"","Region":"ap-guangzhou","VpcId":"","CcnId":"",
       "EngineVersion":"","Supplier":""},
     "DstAccessType":"cdb","DstDatabaseType":"mysql",
     "DstInfo":{"InstanceId":"cdb-l78e0nbv","Ip":"","Port":0,"Region":"ap-shanghai","ReadOnly":0,"User":"","Password":""},
     "Tags":[{"TagKey":"负责人","TagValue":"alice"}],
     "Detail":{"StepAll":0,"StepNow":0,"Progress":"0","CurrentStepProgress":"0","MasterSlaveDistance":0,"SecondsBehindMaster":0,"StepInfo":[]},
     "Status":1,"DatabaseInfo":"[{\"Database\":\"test\",\"Table\":[\"user\",\"log\"]}]","CreateTime":"2018-05-24 15:06:03","StartTime":"0000-00-00 00:00:00",
     "EndTime":"0000-00-00 00:00:00","ErrorInfo":[],"SrcInfoMulti":[]}"#;

    #[test]
    fn the_official_example_becomes_a_clean_view() {
        let info: MigrateJobInfo = serde_json::from_str(OFFICIAL).unwrap();
        let job = observed(&info, "ap-shanghai");
        assert_eq!(job.phase, Phase::Configured);
        assert_eq!(job.raw_status, "1");
        assert_eq!(
            job.view,
            json!({
                "region": "ap-shanghai",
                "JobName": "userdts",
                "MigrateOption": {"RunMode": 1, "MigrateType": 2, "MigrateObject": 2, "ConsistencyType": 5},
                "SrcDatabaseType": "mysql",
                "SrcAccessType": "extranet",
                "SrcInfo": {"Ip": "9.18.84.24", "Port": 10304, "User": "root", "Region": "ap-guangzhou"},
                "DstDatabaseType": "mysql",
                "DstAccessType": "cdb",
                "DstInfo": {"InstanceId": "cdb-l78e0nbv", "Region": "ap-shanghai"},
                "DatabaseInfo": [{"Database": "test", "Table": ["user", "log"]}],
                "Tags": [{"TagKey": "负责人", "TagValue": "alice"}],
            })
        );
        assert!(job.progress.is_none());
        assert!(job.failure.is_none());
    }

    #[test]
    fn access_keys_never_reach_the_view() {
        let mut info: MigrateJobInfo = serde_json::from_str(OFFICIAL).unwrap();
        info.src_info["AccessKey"] = json!("LTAIsecret");
        info.src_info["Password"] = json!("pw");
        let view = view(&info, "ap-shanghai");
        assert!(!view.to_string().contains("LTAIsecret"));
        assert!(!view.to_string().contains("\"pw\""));
    }
}
