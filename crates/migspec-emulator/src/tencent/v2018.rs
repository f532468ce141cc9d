//! DTS API 2018-03-30: `CreateMigrateJob` creates and configures a job in one call;
//! statuses are integers (reference §1).
//!
//! State rules (§1.3): Modify in 1/4/5/10 (a modification invalidates a passed check:
//! the job goes back to 1); check in 1/4/5/10; Start only in 4; Stop only in 7/8;
//! Complete only in 8; Delete refused in 3/7/8/11/12. Violations answer
//! `FailedOperation.StatusInConflict`; unknown jobs `ResourceNotFound.JobNotExist`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::engine::{Api, Phase, STEPS, StepState, Timeline, Timing};
use super::params::{Field, JOB_ID_ONLY, TAG_FILTER, TAG_ITEM, Ty, get_str, opt, req, require_str};
use super::wire::{
    ConsistencyParams, DescribeMigrateCheckJobResponse, DescribeMigrateJobsResponse, DstInfo,
    Empty, ErrorInfo, JobIdResponse, MigrateDetailInfo2018, MigrateJobInfo, MigrateOption2018,
    MigrateStepDetailInfo, SrcInfo, TagItem,
};
use super::{
    ApiError, Ctx, DST_DATABASE_TYPES_2018, HELP_DOC, Payload, SRC_DATABASE_TYPES_2018,
    TencentState, paging, parse_tags, reply, reply_sized, tags_match,
};
use crate::clock::{ZERO_TIME, beijing_time, beijing_time_or_zero, parse_beijing_time};
use crate::fragment::Fragment;
use crate::objects;

/// The migration actions of 2018-03-30.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    CreateMigrateJob,
    ModifyMigrateJob,
    DescribeMigrateJobs,
    CreateMigrateCheckJob,
    DescribeMigrateCheckJob,
    StartMigrateJob,
    StopMigrateJob,
    CompleteMigrateJob,
    DeleteMigrateJob,
}

const ACTIONS: [(&str, Action); 9] = [
    ("CreateMigrateJob", Action::CreateMigrateJob),
    ("ModifyMigrateJob", Action::ModifyMigrateJob),
    ("DescribeMigrateJobs", Action::DescribeMigrateJobs),
    ("CreateMigrateCheckJob", Action::CreateMigrateCheckJob),
    ("DescribeMigrateCheckJob", Action::DescribeMigrateCheckJob),
    ("StartMigrateJob", Action::StartMigrateJob),
    ("StopMigrateJob", Action::StopMigrateJob),
    ("CompleteMigrateJob", Action::CompleteMigrateJob),
    ("DeleteMigrateJob", Action::DeleteMigrateJob),
];

const SRC_INFO: &[Field] = &[
    opt("AccessKey", Ty::Str),
    opt("Ip", Ty::Str),
    opt("Port", Ty::Int),
    opt("User", Ty::Str),
    opt("Password", Ty::Str),
    opt("RdsInstanceId", Ty::Str),
    opt("CvmInstanceId", Ty::Str),
    opt("UniqDcgId", Ty::Str),
    opt("VpcId", Ty::Str),
    opt("SubnetId", Ty::Str),
    opt("UniqVpnGwId", Ty::Str),
    opt("InstanceId", Ty::Str),
    opt("Region", Ty::Str),
    opt("Supplier", Ty::Str),
    opt("CcnId", Ty::Str),
    opt("EngineVersion", Ty::Str),
];
const DST_INFO: &[Field] = &[
    req("Region", Ty::Str),
    opt("InstanceId", Ty::Str),
    opt("Ip", Ty::Str),
    opt("Port", Ty::Int),
    opt("ReadOnly", Ty::Int),
    opt("User", Ty::Str),
    opt("Password", Ty::Str),
];
const CONSISTENCY_PARAMS: &[Field] = &[
    req("SelectRowsPerTable", Ty::Int),
    req("TablesSelectAll", Ty::Int),
    req("TablesSelectCount", Ty::Int),
];
const MIGRATE_OPTION: &[Field] = &[
    req("RunMode", Ty::Int),
    opt("ExpectTime", Ty::Str),
    opt("MigrateType", Ty::Int),
    opt("MigrateObject", Ty::Int),
    opt("ConsistencyType", Ty::Int),
    opt("IsOverrideRoot", Ty::Int),
    opt("ExternParams", Ty::Str),
    opt("ConsistencyParams", Ty::Obj(CONSISTENCY_PARAMS)),
];
const CREATE: &[Field] = &[
    req("JobName", Ty::Str),
    req("MigrateOption", Ty::Obj(MIGRATE_OPTION)),
    req("SrcDatabaseType", Ty::Str),
    req("SrcAccessType", Ty::Str),
    req("SrcInfo", Ty::Obj(SRC_INFO)),
    req("DstDatabaseType", Ty::Str),
    req("DstAccessType", Ty::Str),
    req("DstInfo", Ty::Obj(DST_INFO)),
    opt("DatabaseInfo", Ty::Str),
    opt("Tags", Ty::Arr(&Ty::Obj(TAG_ITEM))),
    opt("SrcNodeType", Ty::Str),
    opt("SrcInfoMulti", Ty::Arr(&Ty::Obj(SRC_INFO))),
];
const MODIFY: &[Field] = &[
    req("JobId", Ty::Str),
    opt("JobName", Ty::Str),
    opt("MigrateOption", Ty::Obj(MIGRATE_OPTION)),
    opt("SrcAccessType", Ty::Str),
    opt("SrcInfo", Ty::Obj(SRC_INFO)),
    opt("DstAccessType", Ty::Str),
    opt("DstInfo", Ty::Obj(DST_INFO)),
    opt("DatabaseInfo", Ty::Str),
    opt("SrcNodeType", Ty::Str),
    opt("SrcInfoMulti", Ty::Arr(&Ty::Obj(SRC_INFO))),
];
const DESCRIBE: &[Field] = &[
    opt("JobId", Ty::Str),
    opt("JobName", Ty::Str),
    opt("Order", Ty::Str),
    opt("OrderSeq", Ty::Str),
    opt("Offset", Ty::Int),
    opt("Limit", Ty::Int),
    opt("TagFilters", Ty::Arr(&Ty::Obj(TAG_FILTER))),
];
const COMPLETE: &[Field] = &[req("JobId", Ty::Str), opt("CompleteMode", Ty::Str)];

impl Action {
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        ACTIONS
            .iter()
            .find(|(candidate, _)| *candidate == name)
            .map(|(_, action)| *action)
    }

    pub(crate) fn name(self) -> &'static str {
        ACTIONS
            .iter()
            .find(|(_, action)| *action == self)
            .map_or("(unknown)", |(name, _)| name)
    }

    pub(crate) fn schema(self) -> &'static [Field] {
        match self {
            Self::CreateMigrateJob => CREATE,
            Self::ModifyMigrateJob => MODIFY,
            Self::DescribeMigrateJobs => DESCRIBE,
            Self::CompleteMigrateJob => COMPLETE,
            Self::CreateMigrateCheckJob
            | Self::DescribeMigrateCheckJob
            | Self::StartMigrateJob
            | Self::StopMigrateJob
            | Self::DeleteMigrateJob => JOB_ID_ONLY,
        }
    }

    /// Whether a successful call changes state (and must be persisted).
    pub(crate) fn mutates(self) -> bool {
        !matches!(
            self,
            Self::DescribeMigrateJobs | Self::DescribeMigrateCheckJob
        )
    }
}

/// A 2018 job as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Job {
    pub(crate) job_id: String,
    pub(crate) region: String,
    pub(crate) sequence: u64,
    pub(crate) created_ms: u64,
    pub(crate) job_name: String,
    pub(crate) migrate_option: MigrateOption2018,
    pub(crate) src_database_type: String,
    pub(crate) src_access_type: String,
    pub(crate) src_info: SrcInfo,
    pub(crate) dst_database_type: String,
    pub(crate) dst_access_type: String,
    pub(crate) dst_info: DstInfo,
    pub(crate) database_info: String,
    pub(crate) tags: Vec<TagItem>,
    pub(crate) src_node_type: String,
    pub(crate) src_info_multi: Vec<SrcInfo>,
    pub(crate) timeline: Timeline,
    /// The serialised `MigrateJobInfo` while the job is in a stable status.
    #[serde(skip)]
    pub(crate) cached: Option<Fragment>,
    /// The serialised configuration parts of its answer.
    #[serde(skip)]
    pub(crate) config: Option<ConfigFragments>,
}

pub(crate) fn dispatch(
    action: Action,
    params: &Map<String, Value>,
    ctx: &Ctx<'_>,
    state: &mut TencentState,
) -> Result<Payload, ApiError> {
    match action {
        Action::CreateMigrateJob => create(params, ctx, state),
        Action::ModifyMigrateJob => modify(params, ctx, state),
        Action::DescribeMigrateJobs => describe(params, ctx, state),
        Action::CreateMigrateCheckJob => check(params, ctx, state),
        Action::DescribeMigrateCheckJob => describe_check(params, ctx, state),
        Action::StartMigrateJob => start(params, ctx, state),
        Action::StopMigrateJob => stop(params, ctx, state),
        Action::CompleteMigrateJob => complete(params, ctx, state),
        Action::DeleteMigrateJob => delete(params, ctx, state),
    }
}

fn from_params<T: serde::de::DeserializeOwned>(
    params: &Map<String, Value>,
    name: &str,
) -> Result<Option<T>, ApiError> {
    match params.get(name).filter(|value| !value.is_null()) {
        None => Ok(None),
        Some(value) => serde_json::from_value(value.clone())
            .map(Some)
            .map_err(|error| ApiError::invalid_parameter(name, &error.to_string())),
    }
}

fn find<'a>(
    state: &'a mut TencentState,
    ctx: &Ctx<'_>,
    job_id: &str,
) -> Result<&'a mut Job, ApiError> {
    let job = state
        .jobs_2018
        .get_mut(job_id)
        .filter(|job| ctx.sees(&job.region))
        .ok_or_else(|| {
            ApiError::new(
                "ResourceNotFound.JobNotExist",
                format!("The migration job `{job_id}` does not exist."),
            )
        })?;
    job.timeline.advance(ctx.now, ctx.timing, Api::V2018);
    Ok(job)
}

fn conflict(job: &Job, action: &str, allowed: &str) -> ApiError {
    ApiError::new(
        "FailedOperation.StatusInConflict",
        format!(
            "The job `{}` is in status {}; {action} is only allowed in status {allowed}.",
            job.job_id,
            job.timeline.phase.status_2018()
        ),
    )
}

fn default_option(mut option: MigrateOption2018) -> MigrateOption2018 {
    if option.migrate_type == 0 {
        option.migrate_type = 3;
    }
    if option.migrate_object == 0 {
        option.migrate_object = 1;
    }
    if option.consistency_type == 0 {
        option.consistency_type = 1;
    }
    option
}

const SRC_ACCESS_TYPES: &[&str] = &["extranet", "cvm", "dcg", "vpncloud", "cdb", "ccn"];

/// The cross-field rules of the reference, checked on the job as it would be stored.
fn validate_job(job: &Job) -> Result<(), ApiError> {
    if job.job_name.trim().is_empty() {
        return Err(ApiError::invalid_value("JobName", "must not be empty"));
    }
    if job.job_name.chars().count() > 128 {
        return Err(ApiError::invalid_value(
            "JobName",
            "must be at most 128 characters",
        ));
    }
    if !SRC_DATABASE_TYPES_2018.contains(&job.src_database_type.as_str()) {
        return Err(ApiError::not_one_of(
            "SrcDatabaseType",
            &job.src_database_type,
            SRC_DATABASE_TYPES_2018,
        ));
    }
    if !DST_DATABASE_TYPES_2018.contains(&job.dst_database_type.as_str()) {
        return Err(ApiError::not_one_of(
            "DstDatabaseType",
            &job.dst_database_type,
            DST_DATABASE_TYPES_2018,
        ));
    }
    if !SRC_ACCESS_TYPES.contains(&job.src_access_type.as_str()) {
        return Err(ApiError::not_one_of(
            "SrcAccessType",
            &job.src_access_type,
            SRC_ACCESS_TYPES,
        ));
    }
    if job.dst_access_type != "cdb" {
        return Err(ApiError::not_one_of(
            "DstAccessType",
            &job.dst_access_type,
            &["cdb"],
        ));
    }
    if !["", "simple", "cluster"].contains(&job.src_node_type.as_str()) {
        return Err(ApiError::not_one_of(
            "SrcNodeType",
            &job.src_node_type,
            &["simple", "cluster"],
        ));
    }
    validate_option(
        &job.migrate_option,
        &job.src_database_type,
        &job.database_info,
    )?;
    if job.src_node_type == "cluster" {
        if job.src_info_multi.is_empty() {
            return Err(ApiError::missing_parameter("SrcInfoMulti"));
        }
    } else {
        let info = &job.src_info;
        let needed = match job.src_access_type.as_str() {
            "cvm" => Some(("SrcInfo.CvmInstanceId", &info.cvm_instance_id)),
            "cdb" => Some(("SrcInfo.InstanceId", &info.instance_id)),
            "extranet" => Some(("SrcInfo.Ip", &info.ip)),
            "dcg" => Some(("SrcInfo.UniqDcgId", &info.uniq_dcg_id)),
            "vpncloud" => Some(("SrcInfo.UniqVpnGwId", &info.uniq_vpn_gw_id)),
            "ccn" => Some(("SrcInfo.CcnId", &info.ccn_id)),
            _ => None,
        };
        if let Some((path, _)) = needed.filter(|(_, value)| value.is_empty()) {
            return Err(ApiError::missing_parameter(path));
        }
    }
    if !["", "aliyun", "others"].contains(&job.src_info.supplier.as_str()) {
        return Err(ApiError::not_one_of(
            "SrcInfo.Supplier",
            &job.src_info.supplier,
            &["aliyun", "others"],
        ));
    }
    if !["", "5.6", "5.7"].contains(&job.src_info.engine_version.as_str()) {
        return Err(ApiError::not_one_of(
            "SrcInfo.EngineVersion",
            &job.src_info.engine_version,
            &["5.6", "5.7"],
        ));
    }
    if job.dst_info.instance_id.is_empty() {
        return Err(ApiError::missing_parameter("DstInfo.InstanceId"));
    }
    if !(0..=1).contains(&job.dst_info.read_only) {
        return Err(ApiError::invalid_value(
            "DstInfo.ReadOnly",
            "must be 0 or 1",
        ));
    }
    Ok(())
}

fn validate_option(
    option: &MigrateOption2018,
    src_database_type: &str,
    database_info: &str,
) -> Result<(), ApiError> {
    match option.run_mode {
        1 => {}
        2 => {
            if option.expect_time.is_empty() {
                return Err(ApiError::missing_parameter("MigrateOption.ExpectTime"));
            }
        }
        other => {
            return Err(ApiError::invalid_value(
                "MigrateOption.RunMode",
                &format!("{other} is not 1 (immediate) or 2 (timed)"),
            ));
        }
    }
    if !option.expect_time.is_empty()
        && option.expect_time != ZERO_TIME
        && parse_beijing_time(&option.expect_time).is_none()
    {
        return Err(ApiError::invalid_value(
            "MigrateOption.ExpectTime",
            "expected `yyyy-mm-dd hh:mm:ss`",
        ));
    }
    if !(1..=3).contains(&option.migrate_type) {
        return Err(ApiError::invalid_value(
            "MigrateOption.MigrateType",
            "must be 1 (schema), 2 (full) or 3 (full + incremental)",
        ));
    }
    if !(1..=2).contains(&option.migrate_object) {
        return Err(ApiError::invalid_value(
            "MigrateOption.MigrateObject",
            "must be 1 (whole instance) or 2 (selected objects)",
        ));
    }
    if !(1..=5).contains(&option.consistency_type) {
        return Err(ApiError::invalid_value(
            "MigrateOption.ConsistencyType",
            "must be between 1 and 5",
        ));
    }
    if !(0..=1).contains(&option.is_override_root) {
        return Err(ApiError::invalid_value(
            "MigrateOption.IsOverrideRoot",
            "must be 0 or 1",
        ));
    }
    if option.is_override_root == 1 && (option.migrate_object == 2 || option.migrate_type == 1) {
        return Err(ApiError::invalid_value(
            "MigrateOption.IsOverrideRoot",
            "must be 0 for table-level or schema migrations",
        ));
    }
    if option.consistency_type == 3 {
        let params = &option.consistency_params;
        for (name, value) in [
            ("SelectRowsPerTable", params.select_rows_per_table),
            ("TablesSelectAll", params.tables_select_all),
            ("TablesSelectCount", params.tables_select_count),
        ] {
            if !(1..=100).contains(&value) {
                return Err(ApiError::invalid_value(
                    &format!("MigrateOption.ConsistencyParams.{name}"),
                    "must be between 1 and 100 when ConsistencyType is 3",
                ));
            }
        }
    }
    if !option.extern_params.is_empty()
        && !serde_json::from_str::<Value>(&option.extern_params)
            .is_ok_and(|value| value.is_object())
    {
        return Err(ApiError::invalid_value(
            "MigrateOption.ExternParams",
            "must be a JSON object serialised into a string",
        ));
    }
    let three_level = matches!(src_database_type, "postgresql" | "sqlserver");
    let objects = validate_database_info(database_info, three_level)?;
    if option.migrate_object == 2 && objects == 0 {
        return Err(ApiError::missing_parameter("DatabaseInfo"));
    }
    Ok(())
}

/// Checks the `DatabaseInfo` JSON text (§1.6); returns the number of entries.
fn validate_database_info(text: &str, three_level: bool) -> Result<usize, ApiError> {
    if text.trim().is_empty() {
        return Ok(0);
    }
    let invalid = |why: &str| ApiError::invalid_value("DatabaseInfo", why);
    let value: Value = serde_json::from_str(text)
        .map_err(|_| invalid("must be a JSON array serialised into a string"))?;
    let Value::Array(entries) = value else {
        return Err(invalid("must be a JSON array serialised into a string"));
    };
    for (index, entry) in entries.iter().enumerate() {
        let Value::Object(entry) = entry else {
            return Err(invalid(&format!("entry {index} must be an object")));
        };
        for (key, value) in entry {
            match (key.as_str(), value) {
                ("Database", Value::String(name)) if !name.is_empty() => {}
                ("Schema", Value::String(_)) if three_level => {}
                ("Table", Value::Array(tables))
                    if tables
                        .iter()
                        .all(|t| t.as_str().is_some_and(|t| !t.is_empty())) => {}
                ("Schema", _) if !three_level => {
                    return Err(invalid(&format!(
                        "entry {index}: `Schema` is only for PostgreSQL and SQL Server"
                    )));
                }
                _ => {
                    return Err(invalid(&format!(
                        "entry {index}: unexpected or malformed `{key}`"
                    )));
                }
            }
        }
        if !entry.contains_key("Database") {
            return Err(invalid(&format!("entry {index} needs `Database`")));
        }
    }
    Ok(entries.len())
}

fn create(
    params: &Map<String, Value>,
    ctx: &Ctx<'_>,
    state: &mut TencentState,
) -> Result<Payload, ApiError> {
    let option: MigrateOption2018 = from_params(params, "MigrateOption")?.unwrap_or_default();
    let mut job = Job {
        job_id: state.new_job_id(),
        region: ctx.region.unwrap_or_default().to_owned(),
        sequence: 0,
        created_ms: ctx.now,
        job_name: require_str(params, "JobName")?.to_owned(),
        migrate_option: default_option(option),
        src_database_type: require_str(params, "SrcDatabaseType")?.to_owned(),
        src_access_type: require_str(params, "SrcAccessType")?.to_owned(),
        src_info: from_params::<SrcInfo>(params, "SrcInfo")?
            .unwrap_or_default()
            .redacted(),
        dst_database_type: require_str(params, "DstDatabaseType")?.to_owned(),
        dst_access_type: require_str(params, "DstAccessType")?.to_owned(),
        dst_info: from_params::<DstInfo>(params, "DstInfo")?
            .unwrap_or_default()
            .redacted(),
        database_info: get_str(params, "DatabaseInfo")
            .unwrap_or_default()
            .to_owned(),
        tags: parse_tags(params)?,
        src_node_type: get_str(params, "SrcNodeType")
            .unwrap_or_default()
            .to_owned(),
        src_info_multi: from_params::<Vec<SrcInfo>>(params, "SrcInfoMulti")?
            .unwrap_or_default()
            .iter()
            .map(SrcInfo::redacted)
            .collect(),
        timeline: Timeline::new(Phase::Created, ctx.now),
        cached: None,
        config: None,
    };
    validate_job(&job)?;
    job.sequence = state.next_sequence();
    let job_id = job.job_id.clone();
    state.history.created(&job_id, ctx.now, identity(&job));
    state.jobs_2018.insert(job_id.clone(), job);
    Ok(reply(JobIdResponse { job_id }))
}

/// A job's `GET /_emulator/objects` entry without status and history.
fn identity(job: &Job) -> Value {
    serde_json::json!({
        "service": "tencent",
        "api": super::VERSION_2018,
        "id": job.job_id,
        "region": job.region,
        "name": job.job_name,
        "tags": job.tags,
        "sequence": job.sequence,
        "created_ms": job.created_ms,
    })
}

/// The `GET /_emulator/objects` entries of the 2018 jobs that exist, phases replayed up
/// to `now`; `status` is the API's integer status.
pub(crate) fn objects(state: &mut TencentState, now: u64, timing: &Timing) -> Vec<Value> {
    let mut entries = Vec::new();
    for job in state.jobs_2018.values_mut() {
        job.timeline.advance(now, timing, Api::V2018);
        let mut entry = identity(job);
        entry["status"] = serde_json::json!(job.timeline.phase.status_2018());
        entries.push(objects::finish(
            entry,
            true,
            state.history.events(&job.job_id),
        ));
    }
    entries
}

fn modify(
    params: &Map<String, Value>,
    ctx: &Ctx<'_>,
    state: &mut TencentState,
) -> Result<Payload, ApiError> {
    let job_id = require_str(params, "JobId")?;
    let job = find(state, ctx, job_id)?;
    if !matches!(job.timeline.phase.status_2018(), 1 | 4 | 5 | 10) {
        return Err(conflict(job, "ModifyMigrateJob", "1, 4, 5 or 10"));
    }
    let mut updated = job.clone();
    if let Some(name) = get_str(params, "JobName") {
        name.clone_into(&mut updated.job_name);
    }
    if let Some(option) = from_params::<MigrateOption2018>(params, "MigrateOption")? {
        updated.migrate_option = default_option(option);
    }
    if let Some(access) = get_str(params, "SrcAccessType") {
        access.clone_into(&mut updated.src_access_type);
    }
    if let Some(info) = from_params::<SrcInfo>(params, "SrcInfo")? {
        updated.src_info = info.redacted();
    }
    if let Some(access) = get_str(params, "DstAccessType") {
        access.clone_into(&mut updated.dst_access_type);
    }
    if let Some(info) = from_params::<DstInfo>(params, "DstInfo")? {
        if info.region != job.dst_info.region {
            return Err(ApiError::invalid_value(
                "DstInfo.Region",
                "the target region cannot be modified",
            ));
        }
        updated.dst_info = info.redacted();
    }
    if let Some(info) = get_str(params, "DatabaseInfo") {
        info.clone_into(&mut updated.database_info);
    }
    if let Some(node_type) = get_str(params, "SrcNodeType") {
        node_type.clone_into(&mut updated.src_node_type);
    }
    if let Some(multi) = from_params::<Vec<SrcInfo>>(params, "SrcInfoMulti")? {
        updated.src_info_multi = multi.iter().map(SrcInfo::redacted).collect();
    }
    validate_job(&updated)?;
    // Any modification invalidates a check: the job must be checked again before it starts.
    let mut timeline = Timeline::new(Phase::Created, ctx.now);
    timeline.failures = updated.timeline.failures;
    timeline.checks_failed = updated.timeline.checks_failed;
    updated.timeline = timeline;
    *job = updated;
    Ok(reply(Empty {}))
}

/// The serialised configuration parts of a job's answer; they change only through API
/// calls, which clear them.
#[derive(Debug, Clone)]
pub(crate) struct ConfigFragments {
    migrate_option: Fragment,
    src_info: Fragment,
    dst_info: Fragment,
    tags: Fragment,
    src_info_multi: Fragment,
}

fn config_fragments(job: &mut Job) -> ConfigFragments {
    if let Some(config) = &job.config {
        return config.clone();
    }
    let mut option = job.migrate_option.clone();
    if option.expect_time.is_empty() {
        ZERO_TIME.clone_into(&mut option.expect_time);
    }
    if option.consistency_type != 3 {
        option.consistency_params = ConsistencyParams::default();
    }
    let multi: Vec<SrcInfo> = job.src_info_multi.iter().map(SrcInfo::redacted).collect();
    let config = ConfigFragments {
        migrate_option: Fragment::of(&option),
        src_info: Fragment::of(&job.src_info.redacted()),
        dst_info: Fragment::of(&job.dst_info.redacted()),
        tags: Fragment::of(&job.tags),
        src_info_multi: Fragment::of(&multi),
    };
    job.config = Some(config.clone());
    config
}

fn view(job: &Job, config: ConfigFragments, ctx: &Ctx<'_>) -> MigrateJobInfo {
    let timeline = &job.timeline;
    let progress = timeline.progress(ctx.now, ctx.timing);
    let detail = if progress.started {
        let step_info = (0..progress.steps)
            .map(|index| MigrateStepDetailInfo {
                step_no: i64::try_from(index + 1).unwrap_or(0),
                step_name: STEPS[index].1,
                step_id: STEPS[index].0,
                status: match timeline.step_state(index, &progress) {
                    StepState::Done => 1,
                    StepState::Failed => 2,
                    StepState::Running => 3,
                    StepState::NotStarted => 4,
                },
                start_time: timeline.step_started_ms[index]
                    .map(beijing_time)
                    .unwrap_or_default(),
            })
            .collect();
        MigrateDetailInfo2018 {
            step_all: i64::try_from(progress.steps).unwrap_or(0),
            step_now: i64::try_from(progress.current + 1).unwrap_or(0),
            progress: progress.overall.to_string(),
            current_step_progress: progress.step_percent[progress.current].to_string(),
            master_slave_distance: 0,
            seconds_behind_master: 0,
            step_info,
        }
    } else {
        MigrateDetailInfo2018 {
            step_all: 0,
            step_now: 0,
            progress: "0".to_owned(),
            current_step_progress: "0".to_owned(),
            master_slave_distance: 0,
            seconds_behind_master: 0,
            step_info: Vec::new(),
        }
    };
    let mut error_info = Vec::new();
    if let (Phase::Failed, Some(error)) = (timeline.phase, &timeline.last_error) {
        error_info.push(ErrorInfo {
            error_log: format!("{} [ERROR] {}", beijing_time(error.at_ms), error.message),
            help_doc: HELP_DOC.to_owned(),
        });
    }
    if let (Phase::CheckNotPass, Some(failure)) = (timeline.phase, &timeline.check.failure) {
        let at = timeline.check.finished_ms.unwrap_or(ctx.now);
        error_info.push(ErrorInfo {
            error_log: format!(
                "{} [ERROR] [{}] {}",
                beijing_time(at),
                failure.step,
                failure.message
            ),
            help_doc: HELP_DOC.to_owned(),
        });
    }
    MigrateJobInfo {
        job_id: job.job_id.clone(),
        job_name: job.job_name.clone(),
        migrate_option: config.migrate_option,
        src_database_type: job.src_database_type.clone(),
        src_access_type: job.src_access_type.clone(),
        src_info: config.src_info,
        dst_database_type: job.dst_database_type.clone(),
        dst_access_type: job.dst_access_type.clone(),
        dst_info: config.dst_info,
        database_info: job.database_info.clone(),
        create_time: beijing_time(job.created_ms),
        start_time: beijing_time_or_zero(timeline.started_ms.filter(|_| progress.started)),
        end_time: beijing_time_or_zero(timeline.ended_ms),
        status: timeline.phase.status_2018(),
        detail,
        error_info,
        tags: config.tags,
        src_info_multi: config.src_info_multi,
    }
}

/// The job's `MigrateJobInfo`, from the cache when the job is in a stable status.
fn fragment(job: &mut Job, ctx: &Ctx<'_>) -> Fragment {
    if let Some(cached) = &job.cached {
        return cached.clone();
    }
    let config = config_fragments(job);
    let fragment = Fragment::of(&view(job, config, ctx));
    if job.timeline.phase.is_stable() {
        job.cached = Some(fragment.clone());
    }
    fragment
}

const ORDER_FIELDS: &[&str] = &[
    "JobId",
    "Status",
    "JobName",
    "MigrateType",
    "RunMode",
    "CreateTime",
];

fn describe(
    params: &Map<String, Value>,
    ctx: &Ctx<'_>,
    state: &mut TencentState,
) -> Result<Payload, ApiError> {
    let (offset, limit) = paging(params)?;
    let order = get_str(params, "Order").unwrap_or("CreateTime");
    if !ORDER_FIELDS.contains(&order) {
        return Err(ApiError::not_one_of("Order", order, ORDER_FIELDS));
    }
    let descending = match get_str(params, "OrderSeq").unwrap_or("DESC") {
        "DESC" => true,
        "ASC" => false,
        other => return Err(ApiError::not_one_of("OrderSeq", other, &["ASC", "DESC"])),
    };
    let job_id = get_str(params, "JobId");
    let job_name = get_str(params, "JobName");
    let tag_filters = params
        .get("TagFilters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut matches: Vec<&mut Job> = state
        .jobs_2018
        .values_mut()
        .filter(|job| ctx.sees(&job.region))
        .filter(|job| job_id.is_none_or(|id| id == job.job_id))
        .filter(|job| job_name.is_none_or(|name| name == job.job_name))
        .filter(|job| tags_match(&job.tags, &tag_filters))
        .collect();
    for job in &mut matches {
        job.timeline.advance(ctx.now, ctx.timing, Api::V2018);
    }
    matches.sort_by(|a, b| {
        let ordering = match order {
            "JobId" => a.job_id.cmp(&b.job_id),
            "Status" => a
                .timeline
                .phase
                .status_2018()
                .cmp(&b.timeline.phase.status_2018()),
            "JobName" => a.job_name.cmp(&b.job_name),
            "MigrateType" => a
                .migrate_option
                .migrate_type
                .cmp(&b.migrate_option.migrate_type),
            "RunMode" => a.migrate_option.run_mode.cmp(&b.migrate_option.run_mode),
            _ => a.created_ms.cmp(&b.created_ms),
        }
        .then(a.sequence.cmp(&b.sequence));
        if descending {
            ordering.reverse()
        } else {
            ordering
        }
    });
    let total_count = matches.len();
    let job_list: Vec<Fragment> = matches
        .iter_mut()
        .skip(offset)
        .take(limit)
        .map(|job| fragment(job, ctx))
        .collect();
    let capacity = crate::fragment::capacity(&job_list, 256);
    Ok(reply_sized(
        capacity,
        DescribeMigrateJobsResponse {
            total_count,
            job_list,
        },
    ))
}

fn check(
    params: &Map<String, Value>,
    ctx: &Ctx<'_>,
    state: &mut TencentState,
) -> Result<Payload, ApiError> {
    let job = find(state, ctx, require_str(params, "JobId")?)?;
    if !matches!(job.timeline.phase.status_2018(), 1 | 4 | 5 | 10) {
        return Err(conflict(job, "CreateMigrateCheckJob", "1, 4, 5 or 10"));
    }
    let rule = ctx.rule(&job.job_name);
    job.timeline.start_check(ctx.now, rule);
    Ok(reply(Empty {}))
}

fn describe_check(
    params: &Map<String, Value>,
    ctx: &Ctx<'_>,
    state: &mut TencentState,
) -> Result<Payload, ApiError> {
    let job = find(state, ctx, require_str(params, "JobId")?)?;
    let check = &job.timeline.check;
    let response = match (check.started_ms, check.result()) {
        (None, _) => DescribeMigrateCheckJobResponse {
            status: "unavailable",
            error_code: 0,
            error_message: String::new(),
            progress: "0".to_owned(),
            check_flag: 3,
        },
        (Some(started), None) => {
            let elapsed = ctx.now.saturating_sub(started);
            let duration = ctx.timing.checking.max(1);
            DescribeMigrateCheckJobResponse {
                status: if elapsed * 10 < duration {
                    "starting"
                } else {
                    "running"
                },
                error_code: 0,
                error_message: String::new(),
                progress: (elapsed * 100 / duration).min(99).to_string(),
                check_flag: 3,
            }
        }
        (Some(_), Some(true)) => DescribeMigrateCheckJobResponse {
            status: "finished",
            error_code: 0,
            error_message: "ok".to_owned(),
            progress: "100".to_owned(),
            check_flag: 1,
        },
        (Some(_), Some(false)) => DescribeMigrateCheckJobResponse {
            status: "finished",
            error_code: -1,
            error_message: check
                .failure
                .as_ref()
                .map(|failure| failure.message.clone())
                .unwrap_or_default(),
            progress: "100".to_owned(),
            check_flag: 0,
        },
    };
    Ok(reply(response))
}

fn start(
    params: &Map<String, Value>,
    ctx: &Ctx<'_>,
    state: &mut TencentState,
) -> Result<Payload, ApiError> {
    let job = find(state, ctx, require_str(params, "JobId")?)?;
    if job.timeline.phase != Phase::CheckPass {
        return Err(conflict(job, "StartMigrateJob", "4 (check passed)"));
    }
    let expect = if job.migrate_option.run_mode == 2 {
        parse_beijing_time(&job.migrate_option.expect_time)
    } else {
        None
    };
    let rule = ctx.rule(&job.job_name);
    job.timeline.start(
        ctx.now,
        job.migrate_option.migrate_type == 3,
        expect,
        rule,
        ctx.timing,
    );
    Ok(reply(Empty {}))
}

fn stop(
    params: &Map<String, Value>,
    ctx: &Ctx<'_>,
    state: &mut TencentState,
) -> Result<Payload, ApiError> {
    let job = find(state, ctx, require_str(params, "JobId")?)?;
    if !matches!(job.timeline.phase.status_2018(), 7 | 8) {
        return Err(conflict(job, "StopMigrateJob", "7 or 8"));
    }
    job.timeline.stop(ctx.now, ctx.timing);
    Ok(reply(Empty {}))
}

fn complete(
    params: &Map<String, Value>,
    ctx: &Ctx<'_>,
    state: &mut TencentState,
) -> Result<Payload, ApiError> {
    if let Some(mode) = get_str(params, "CompleteMode")
        && !["waitForSync", "immediately"].contains(&mode)
    {
        return Err(ApiError::not_one_of(
            "CompleteMode",
            mode,
            &["waitForSync", "immediately"],
        ));
    }
    let job = find(state, ctx, require_str(params, "JobId")?)?;
    if job.timeline.phase != Phase::ReadyComplete {
        return Err(conflict(job, "CompleteMigrateJob", "8 (ready to complete)"));
    }
    job.timeline.set(Phase::Completing, ctx.now);
    Ok(reply(Empty {}))
}

fn delete(
    params: &Map<String, Value>,
    ctx: &Ctx<'_>,
    state: &mut TencentState,
) -> Result<Payload, ApiError> {
    let job_id = require_str(params, "JobId")?;
    let job = find(state, ctx, job_id)?;
    if matches!(job.timeline.phase.status_2018(), 3 | 7 | 8 | 11 | 12) {
        return Err(ApiError::new(
            "FailedOperation.StatusInConflict",
            format!(
                "The job `{job_id}` is in status {}; DeleteMigrateJob is refused in status 3, 7, 8, 11 and 12.",
                job.timeline.phase.status_2018()
            ),
        ));
    }
    state.jobs_2018.remove(job_id);
    state.history.event(job_id, ctx.now, "deleted");
    Ok(reply(Empty {}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_info_formats() {
        assert_eq!(validate_database_info("", false), Ok(0));
        assert_eq!(validate_database_info("[]", false), Ok(0));
        assert_eq!(
            validate_database_info(
                r#"[{"Database":"db1","Table":["t1","t2"]},{"Database":"db2"}]"#,
                false
            ),
            Ok(2)
        );
        assert_eq!(
            validate_database_info(
                r#"[{"Database":"db1","Schema":"s1","Table":["t"]},{"Database":"db3"}]"#,
                true
            ),
            Ok(2)
        );
        assert!(validate_database_info(r#"[{"Database":"db1","Schema":"s1"}]"#, false).is_err());
        assert!(validate_database_info(r#"[{"Table":["t"]}]"#, false).is_err());
        assert!(validate_database_info("db1.t1", false).is_err());
        assert!(validate_database_info(r#"{"Database":"db1"}"#, false).is_err());
    }

    #[test]
    fn every_action_name_round_trips() {
        for (name, action) in ACTIONS {
            assert_eq!(Action::from_name(name), Some(action));
            assert_eq!(action.name(), name);
        }
        assert_eq!(Action::from_name("CreateMigrationService"), None);
    }
}
