//! DTS API 2021-12-06: buy empty jobs (`CreateMigrationService`), configure them
//! (`ModifyMigrationJob`), check, start, and later isolate/destroy; string statuses and
//! `TradeInfo` (reference §2).
//!
//! State rules (§2.3, with the inferred transitions written there): Modify while
//! creating/created/checkPass/checkNotPass (a change needs a new check); check once
//! configured; Start only after `checkPass`; Stop in running/readyRun/readyComplete/
//! resumableErr/manualPaused; Pause in running/readyComplete; Continue from
//! manualPaused; Resume from resumableErr (Redis also from failed); Complete only in
//! readyComplete; Isolate while billing is normal; Recover and Destroy only when isolated.
//! Errors follow each action's documented list: actions inherited from 2018 answer
//! `FailedOperation.StatusInConflict` and `ResourceNotFound.JobNotExist`, the 2021-only
//! ones `OperationDenied.OperationDeniedError` and `ResourceNotFound.ResourceNotFoundError`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::engine::{Api, Phase, STEPS, StepState, Timeline, Timing};
use super::params::{
    Field, JOB_ID_ONLY, TAG_FILTER, TAG_ITEM, Ty, get_int, get_str, get_str_array, opt, req,
    require_str,
};
use super::wire::{
    CheckStep, CheckStepInfo, CompareTaskInfo, DbEndpointInfo, DescribeMigrationCheckJobResponse,
    DescribeMigrationDetailResponse, DescribeMigrationJobsResponse, DetailCheckItem, Empty,
    ErrorInfoItem, JobIdsResponse, JobItem, MigrateAction, MigrateDetailInfo2021,
    MigrateOption2021, ProcessProgress, ProcessStepTip, RateLimitOption, StepDetailInfo, TagItem,
    TradeInfo,
};
use super::{
    ApiError, Ctx, HELP_DOC, Payload, TencentState, paging, parse_tags, reply, reply_sized,
    tags_match,
};
use crate::clock::{ZERO_TIME, beijing_time, beijing_time_or_zero, parse_beijing_time};
use crate::fragment::Fragment;
use crate::objects;

/// The migration actions of 2021-12-06 served by the emulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    CreateMigrationService,
    ModifyMigrationJob,
    DescribeMigrationJobs,
    DescribeMigrationDetail,
    CreateMigrateCheckJob,
    DescribeMigrationCheckJob,
    StartMigrateJob,
    StopMigrateJob,
    PauseMigrateJob,
    ContinueMigrateJob,
    ResumeMigrateJob,
    CompleteMigrateJob,
    IsolateMigrateJob,
    RecoverMigrateJob,
    DestroyMigrateJob,
}

const ACTIONS: [(&str, Action); 15] = [
    ("CreateMigrationService", Action::CreateMigrationService),
    ("ModifyMigrationJob", Action::ModifyMigrationJob),
    ("DescribeMigrationJobs", Action::DescribeMigrationJobs),
    ("DescribeMigrationDetail", Action::DescribeMigrationDetail),
    ("CreateMigrateCheckJob", Action::CreateMigrateCheckJob),
    (
        "DescribeMigrationCheckJob",
        Action::DescribeMigrationCheckJob,
    ),
    ("StartMigrateJob", Action::StartMigrateJob),
    ("StopMigrateJob", Action::StopMigrateJob),
    ("PauseMigrateJob", Action::PauseMigrateJob),
    ("ContinueMigrateJob", Action::ContinueMigrateJob),
    ("ResumeMigrateJob", Action::ResumeMigrateJob),
    ("CompleteMigrateJob", Action::CompleteMigrateJob),
    ("IsolateMigrateJob", Action::IsolateMigrateJob),
    ("RecoverMigrateJob", Action::RecoverMigrateJob),
    ("DestroyMigrateJob", Action::DestroyMigrateJob),
];

const DB_INFO: &[Field] = &[
    opt("Role", Ty::Str),
    opt("DbKernel", Ty::Str),
    opt("Host", Ty::Str),
    opt("Port", Ty::Int),
    opt("User", Ty::Str),
    opt("Password", Ty::Str),
    opt("CvmInstanceId", Ty::Str),
    opt("UniqVpnGwId", Ty::Str),
    opt("UniqDcgId", Ty::Str),
    opt("InstanceId", Ty::Str),
    opt("CcnGwId", Ty::Str),
    opt("VpcId", Ty::Str),
    opt("SubnetId", Ty::Str),
    opt("EngineVersion", Ty::Str),
    opt("Account", Ty::Str),
    opt("AccountRole", Ty::Str),
    opt("AccountMode", Ty::Str),
    opt("TmpSecretId", Ty::Str),
    opt("TmpSecretKey", Ty::Str),
    opt("TmpToken", Ty::Str),
    opt("EncryptConn", Ty::Str),
    opt("SetId", Ty::Str),
];
const KEY_VALUE: &[Field] = &[opt("Key", Ty::Str), opt("Value", Ty::Str)];
const ENDPOINT: &[Field] = &[
    req("Region", Ty::Str),
    req("AccessType", Ty::Str),
    req("DatabaseType", Ty::Str),
    req("NodeType", Ty::Str),
    req("Info", Ty::Arr(&Ty::Obj(DB_INFO))),
    opt("Supplier", Ty::Str),
    opt("ExtraAttr", Ty::Arr(&Ty::Obj(KEY_VALUE))),
    opt("DatabaseNetEnv", Ty::Str),
    opt("ConnectType", Ty::Str),
    opt("CcnOwnerUin", Ty::Str),
];
const TABLE_ITEM: &[Field] = &[
    opt("TableName", Ty::Str),
    opt("NewTableName", Ty::Str),
    opt("TmpTables", Ty::Arr(&Ty::Str)),
    opt("TableEditMode", Ty::Str),
];
const VIEW_ITEM: &[Field] = &[opt("ViewName", Ty::Str), opt("NewViewName", Ty::Str)];
const ROLE_ITEM: &[Field] = &[opt("RoleName", Ty::Str), opt("NewRoleName", Ty::Str)];
const DB_ITEM: &[Field] = &[
    opt("DbName", Ty::Str),
    opt("NewDbName", Ty::Str),
    opt("SchemaName", Ty::Str),
    opt("NewSchemaName", Ty::Str),
    opt("DBMode", Ty::Str),
    opt("SchemaMode", Ty::Str),
    opt("TableMode", Ty::Str),
    opt("Tables", Ty::Arr(&Ty::Obj(TABLE_ITEM))),
    opt("ViewMode", Ty::Str),
    opt("Views", Ty::Arr(&Ty::Obj(VIEW_ITEM))),
    opt("RoleMode", Ty::Str),
    opt("Roles", Ty::Arr(&Ty::Obj(ROLE_ITEM))),
    opt("FunctionMode", Ty::Str),
    opt("TriggerMode", Ty::Str),
    opt("EventMode", Ty::Str),
    opt("ProcedureMode", Ty::Str),
    opt("Functions", Ty::Arr(&Ty::Str)),
    opt("Procedures", Ty::Arr(&Ty::Str)),
    opt("Events", Ty::Arr(&Ty::Str)),
    opt("Triggers", Ty::Arr(&Ty::Str)),
];
const DATABASE_TABLE: &[Field] = &[
    req("ObjectMode", Ty::Str),
    opt("Databases", Ty::Arr(&Ty::Obj(DB_ITEM))),
    opt("AdvancedObjects", Ty::Arr(&Ty::Str)),
];
const COMPARE_OPTIONS: &[Field] = &[
    opt("Method", Ty::Str),
    opt("SampleRate", Ty::Int),
    opt("ThreadCount", Ty::Int),
    opt("Type", Ty::Str),
    opt("CompareMode", Ty::Arr(&Ty::Str)),
    opt("ReCheckTime", Ty::Int),
    opt("ReCheckInterval", Ty::Int),
];
const CONSISTENCY: &[Field] = &[
    opt("Mode", Ty::Str),
    opt("ObjectMode", Ty::Str),
    opt("Objects", Ty::Obj(DATABASE_TABLE)),
    opt("Options", Ty::Obj(COMPARE_OPTIONS)),
];
const RATE_LIMIT: &[Field] = &[
    opt("DumpThread", Ty::Int),
    opt("DumpRps", Ty::Int),
    opt("LoadThread", Ty::Int),
    opt("LoadRps", Ty::Int),
    opt("SinkerThread", Ty::Int),
];
const SKIP_DDL: &[Field] = &[
    opt("Tables", Ty::Arr(&Ty::Str)),
    opt("ErrorCodes", Ty::Arr(&Ty::Int)),
];
const MIGRATE_OPTION: &[Field] = &[
    req("DatabaseTable", Ty::Obj(DATABASE_TABLE)),
    opt("MigrateType", Ty::Str),
    opt("Consistency", Ty::Obj(CONSISTENCY)),
    opt("IsMigrateAccount", Ty::Bool),
    opt("IsOverrideRoot", Ty::Bool),
    opt("IsDstReadOnly", Ty::Bool),
    opt("ExtraAttr", Ty::Arr(&Ty::Obj(KEY_VALUE))),
    opt("MigrateWay", Ty::Str),
    opt("RateLimit", Ty::Obj(RATE_LIMIT)),
    opt("SkipDdlOnError", Ty::Obj(SKIP_DDL)),
];
const CREATE_SERVICE: &[Field] = &[
    req("SrcDatabaseType", Ty::Str),
    req("DstDatabaseType", Ty::Str),
    req("SrcRegion", Ty::Str),
    req("DstRegion", Ty::Str),
    req("InstanceClass", Ty::Str),
    opt("Count", Ty::Int),
    opt("JobName", Ty::Str),
    opt("Tags", Ty::Arr(&Ty::Obj(TAG_ITEM))),
];
const MODIFY: &[Field] = &[
    req("JobId", Ty::Str),
    req("RunMode", Ty::Str),
    req("MigrateOption", Ty::Obj(MIGRATE_OPTION)),
    req("SrcInfo", Ty::Obj(ENDPOINT)),
    req("DstInfo", Ty::Obj(ENDPOINT)),
    opt("JobName", Ty::Str),
    opt("ExpectRunTime", Ty::Str),
    opt("Tags", Ty::Arr(&Ty::Obj(TAG_ITEM))),
    opt("AutoRetryTimeRangeMinutes", Ty::Int),
];
const DESCRIBE: &[Field] = &[
    opt("JobId", Ty::Str),
    opt("JobName", Ty::Str),
    opt("Status", Ty::Arr(&Ty::Str)),
    opt("SrcInstanceId", Ty::Str),
    opt("SrcRegion", Ty::Str),
    opt("SrcDatabaseType", Ty::Arr(&Ty::Str)),
    opt("SrcAccessType", Ty::Arr(&Ty::Str)),
    opt("DstInstanceId", Ty::Str),
    opt("DstRegion", Ty::Str),
    opt("DstDatabaseType", Ty::Arr(&Ty::Str)),
    opt("DstAccessType", Ty::Arr(&Ty::Str)),
    opt("RunMode", Ty::Str),
    opt("OrderSeq", Ty::Str),
    opt("Limit", Ty::Int),
    opt("Offset", Ty::Int),
    opt("TagFilters", Ty::Arr(&Ty::Obj(TAG_FILTER))),
];
const RESUME: &[Field] = &[req("JobId", Ty::Str), opt("ResumeOption", Ty::Str)];
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
            Self::CreateMigrationService => CREATE_SERVICE,
            Self::ModifyMigrationJob => MODIFY,
            Self::DescribeMigrationJobs => DESCRIBE,
            Self::ResumeMigrateJob => RESUME,
            Self::CompleteMigrateJob => COMPLETE,
            _ => JOB_ID_ONLY,
        }
    }

    /// Whether a successful call changes state (and must be persisted).
    pub(crate) fn mutates(self) -> bool {
        !matches!(
            self,
            Self::DescribeMigrationJobs
                | Self::DescribeMigrationDetail
                | Self::DescribeMigrationCheckJob
        )
    }

    /// Actions inherited from 2018 use the 2018 error codes.
    fn inherited(self) -> bool {
        matches!(
            self,
            Self::CreateMigrateCheckJob
                | Self::StartMigrateJob
                | Self::StopMigrateJob
                | Self::ResumeMigrateJob
                | Self::CompleteMigrateJob
        )
    }

    fn not_found(self, job_id: &str) -> ApiError {
        let code = if self.inherited() {
            "ResourceNotFound.JobNotExist"
        } else {
            "ResourceNotFound.ResourceNotFoundError"
        };
        ApiError::new(
            code,
            format!("The migration job `{job_id}` does not exist."),
        )
    }

    fn conflict(self, job: &Job, allowed: &str) -> ApiError {
        let code = if self.inherited() {
            "FailedOperation.StatusInConflict"
        } else {
            "OperationDenied.OperationDeniedError"
        };
        let trade = job.trade.status.as_str();
        ApiError::new(
            code,
            format!(
                "The job `{}` is in status `{}` (trade status `{trade}`); {} is only allowed {allowed}.",
                job.job_id,
                job.timeline.phase.status_2021(),
                self.name()
            ),
        )
    }
}

/// Billing status of a 2021 job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum TradeStatus {
    Normal,
    Isolating,
    Isolated,
    Offlining,
    Offlined,
}

impl TradeStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Isolating => "isolating",
            Self::Isolated => "isolated",
            Self::Offlining => "offlining",
            Self::Offlined => "offlined",
        }
    }
}

/// Billing state of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Trade {
    pub(crate) status: TradeStatus,
    pub(crate) since_ms: u64,
    pub(crate) isolate_ms: Option<u64>,
    pub(crate) offline_ms: Option<u64>,
    pub(crate) deal_name: String,
    pub(crate) instance_class: String,
}

/// A 2021 job as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Job {
    pub(crate) job_id: String,
    pub(crate) region: String,
    pub(crate) sequence: u64,
    pub(crate) created_ms: u64,
    pub(crate) job_name: String,
    pub(crate) src_database_type: String,
    pub(crate) dst_database_type: String,
    pub(crate) src_region: String,
    pub(crate) dst_region: String,
    pub(crate) tags: Vec<TagItem>,
    pub(crate) configured: bool,
    pub(crate) run_mode: String,
    pub(crate) expect_run_time: String,
    pub(crate) migrate_option: Option<MigrateOption2021>,
    pub(crate) src_info: DbEndpointInfo,
    pub(crate) dst_info: DbEndpointInfo,
    pub(crate) auto_retry_time_range_minutes: i64,
    pub(crate) timeline: Timeline,
    pub(crate) trade: Trade,
    /// The serialised `JobItem` while the job is in a stable status.
    #[serde(skip)]
    pub(crate) cached: Option<Fragment>,
    /// The serialised configuration parts of its answer.
    #[serde(skip)]
    pub(crate) config: Option<ConfigFragments>,
}

impl Job {
    fn advance(&mut self, ctx: &Ctx<'_>) {
        self.advance_at(ctx.now, ctx.timing);
    }

    /// Replays every phase and trade change due by `now`.
    fn advance_at(&mut self, now: u64, timing: &Timing) {
        self.timeline.advance(now, timing, Api::V2021);
        for _ in 0..4 {
            let since = self.trade.since_ms;
            match self.trade.status {
                TradeStatus::Isolating if now >= since + timing.isolating => {
                    self.trade.status = TradeStatus::Isolated;
                    self.trade.since_ms = since + timing.isolating;
                }
                TradeStatus::Offlining if now >= since + timing.offlining => {
                    self.trade.status = TradeStatus::Offlined;
                    self.trade.since_ms = since + timing.offlining;
                    self.trade.offline_ms = Some(self.trade.since_ms);
                }
                _ => return,
            }
        }
    }

    fn is_redis(&self) -> bool {
        self.src_database_type == "redis"
    }

    /// MySQL and its compatible engines, the jobs `CompleteMode` applies to.
    fn is_mysql_family(&self) -> bool {
        matches!(
            self.src_database_type.as_str(),
            "mysql" | "mariadb" | "percona" | "cynosdbmysql" | "tdsqlmysql"
        )
    }

    fn incremental(&self) -> bool {
        self.migrate_option
            .as_ref()
            .is_none_or(|option| option.migrate_type == "fullAndIncrement")
    }
}

pub(crate) fn dispatch(
    action: Action,
    params: &Map<String, Value>,
    ctx: &Ctx<'_>,
    state: &mut TencentState,
) -> Result<Payload, ApiError> {
    match action {
        Action::CreateMigrationService => create_service(params, ctx, state),
        Action::ModifyMigrationJob => modify(params, ctx, state),
        Action::DescribeMigrationJobs => describe(params, ctx, state),
        Action::DescribeMigrationDetail => {
            let job = find(action, state, ctx, params)?;
            Ok(reply(detail(job, ctx)))
        }
        Action::DescribeMigrationCheckJob => {
            let job = find(action, state, ctx, params)?;
            Ok(reply(check_result(job, ctx)))
        }
        _ => transition(action, params, ctx, state),
    }
}

fn find<'a>(
    action: Action,
    state: &'a mut TencentState,
    ctx: &Ctx<'_>,
    params: &Map<String, Value>,
) -> Result<&'a mut Job, ApiError> {
    let job_id = require_str(params, "JobId")?;
    let job = state
        .jobs_2021
        .get_mut(job_id)
        .filter(|job| ctx.sees(&job.region))
        .ok_or_else(|| action.not_found(job_id))?;
    job.advance(ctx);
    Ok(job)
}

/// Database types of `DBEndpointInfo.DatabaseType` (and of `CreateMigrationService`).
const DATABASE_TYPES: &[&str] = &[
    "mysql",
    "redis",
    "percona",
    "mongodb",
    "postgresql",
    "sqlserver",
    "mariadb",
    "cynosdbmysql",
    "tdsqlmysql",
    "keewidb",
    "tdstore",
    "tendis",
];
const ACCESS_TYPES: &[&str] = &[
    "extranet", "ipv6", "cvm", "dcg", "vpncloud", "cdb", "ccn", "intranet", "vpc",
];
const NODE_TYPES: &[&str] = &[
    "simple",
    "cluster",
    "replicaset",
    "standalone",
    "cluster-cache",
    "cluster-proxy",
];
const INSTANCE_CLASSES: &[&str] = &["small", "medium", "large", "xlarge", "2xlarge"];
const STATUSES: &[&str] = &[
    "creating",
    "created",
    "checking",
    "checkPass",
    "checkNotPass",
    "readyRun",
    "running",
    "readyComplete",
    "success",
    "failed",
    "stopping",
    "completing",
    "pausing",
    "manualPaused",
    "resumableErr",
    "resuming",
    "unknown",
    "error",
    "canceled",
];
const MIGRATE_TYPES: &[&str] = &["full", "structure", "fullAndIncrement"];

fn create_service(
    params: &Map<String, Value>,
    ctx: &Ctx<'_>,
    state: &mut TencentState,
) -> Result<Payload, ApiError> {
    let src_type = require_str(params, "SrcDatabaseType")?;
    let dst_type = require_str(params, "DstDatabaseType")?;
    for (name, value) in [("SrcDatabaseType", src_type), ("DstDatabaseType", dst_type)] {
        if !DATABASE_TYPES.contains(&value) {
            return Err(ApiError::not_one_of(name, value, DATABASE_TYPES));
        }
    }
    let src_region = require_str(params, "SrcRegion")?;
    let dst_region = require_str(params, "DstRegion")?;
    if let Some(region) = ctx.region.filter(|region| *region != dst_region) {
        return Err(ApiError::invalid_value(
            "DstRegion",
            &format!("must equal the request region `{region}`"),
        ));
    }
    let instance_class = require_str(params, "InstanceClass")?;
    if !INSTANCE_CLASSES.contains(&instance_class) {
        return Err(ApiError::not_one_of(
            "InstanceClass",
            instance_class,
            INSTANCE_CLASSES,
        ));
    }
    let count = get_int(params, "Count").unwrap_or(1);
    if !(1..=15).contains(&count) {
        return Err(ApiError::invalid_value("Count", "must be between 1 and 15"));
    }
    let job_name = get_str(params, "JobName").unwrap_or_default();
    if job_name.chars().count() > 128 {
        return Err(ApiError::invalid_value(
            "JobName",
            "must be at most 128 characters",
        ));
    }
    let tags = parse_tags(params)?;
    let mut job_ids = Vec::new();
    for _ in 0..count {
        let job_id = state.new_job_id();
        let sequence = state.next_sequence();
        let endpoint = |region: &str, database_type: &str| DbEndpointInfo {
            region: region.to_owned(),
            database_type: database_type.to_owned(),
            ..DbEndpointInfo::default()
        };
        let deal_name = format!(
            "{}{:015}",
            beijing_time(ctx.now)
                .get(..10)
                .unwrap_or("")
                .replace('-', ""),
            (sequence * 7_919 + ctx.now % 9_973) % 1_000_000_000_000_000
        );
        let job = Job {
            job_id: job_id.clone(),
            region: dst_region.to_owned(),
            sequence,
            created_ms: ctx.now,
            job_name: job_name.to_owned(),
            src_database_type: src_type.to_owned(),
            dst_database_type: dst_type.to_owned(),
            src_region: src_region.to_owned(),
            dst_region: dst_region.to_owned(),
            tags: tags.clone(),
            configured: false,
            run_mode: String::new(),
            expect_run_time: String::new(),
            migrate_option: None,
            src_info: endpoint(src_region, src_type),
            dst_info: endpoint(dst_region, dst_type),
            auto_retry_time_range_minutes: 0,
            timeline: Timeline::new(Phase::Creating, ctx.now),
            trade: Trade {
                status: TradeStatus::Normal,
                since_ms: ctx.now,
                isolate_ms: None,
                offline_ms: None,
                deal_name,
                instance_class: instance_class.to_owned(),
            },
            cached: None,
            config: None,
        };
        state.history.created(&job_id, ctx.now, identity(&job));
        state.jobs_2021.insert(job_id.clone(), job);
        job_ids.push(job_id);
    }
    Ok(reply(JobIdsResponse { job_ids }))
}

/// A job's `GET /_emulator/objects` entry without status and history.
fn identity(job: &Job) -> Value {
    serde_json::json!({
        "service": "tencent",
        "api": super::VERSION_2021,
        "id": job.job_id,
        "region": job.region,
        "name": job.job_name,
        "tags": job.tags,
        "sequence": job.sequence,
        "created_ms": job.created_ms,
    })
}

/// The `GET /_emulator/objects` entries of the 2021 jobs that exist, phases replayed up
/// to `now`; `status` is the API's status string, `trade_status` the billing status. A
/// job is live until it is isolated (isolation ends its migration).
pub(crate) fn objects(state: &mut TencentState, now: u64, timing: &Timing) -> Vec<Value> {
    let mut entries = Vec::new();
    for job in state.jobs_2021.values_mut() {
        job.advance_at(now, timing);
        let mut entry = identity(job);
        entry["status"] = serde_json::json!(job.timeline.phase.status_2021());
        entry["trade_status"] = serde_json::json!(job.trade.status.as_str());
        let live = job.trade.status == TradeStatus::Normal;
        entries.push(objects::finish(
            entry,
            live,
            state.history.events(&job.job_id),
        ));
    }
    entries
}

fn endpoint_from(params: &Map<String, Value>, name: &str) -> Result<DbEndpointInfo, ApiError> {
    let value = params
        .get(name)
        .cloned()
        .ok_or_else(|| ApiError::missing_parameter(name))?;
    serde_json::from_value(value)
        .map_err(|error| ApiError::invalid_parameter(name, &error.to_string()))
}

fn validate_endpoint(
    endpoint: &DbEndpointInfo,
    name: &str,
    bought_type: &str,
    bought_region: &str,
) -> Result<(), ApiError> {
    if endpoint.database_type != bought_type {
        return Err(ApiError::invalid_value(
            &format!("{name}.DatabaseType"),
            &format!(
                "cannot change the database type bought with CreateMigrationService (`{bought_type}`)"
            ),
        ));
    }
    if endpoint.region != bought_region {
        return Err(ApiError::invalid_value(
            &format!("{name}.Region"),
            &format!(
                "cannot change the region bought with CreateMigrationService (`{bought_region}`)"
            ),
        ));
    }
    if !ACCESS_TYPES.contains(&endpoint.access_type.as_str()) {
        return Err(ApiError::not_one_of(
            &format!("{name}.AccessType"),
            &endpoint.access_type,
            ACCESS_TYPES,
        ));
    }
    if !NODE_TYPES.contains(&endpoint.node_type.as_str()) {
        return Err(ApiError::not_one_of(
            &format!("{name}.NodeType"),
            &endpoint.node_type,
            NODE_TYPES,
        ));
    }
    if endpoint.info.is_empty() {
        return Err(ApiError::invalid_value(
            &format!("{name}.Info"),
            "must contain at least one node",
        ));
    }
    if endpoint.access_type == "ccn" && endpoint.database_net_env.is_empty() {
        return Err(ApiError::missing_parameter(&format!(
            "{name}.DatabaseNetEnv"
        )));
    }
    for (index, info) in endpoint.info.iter().enumerate() {
        let needed = match endpoint.access_type.as_str() {
            "cdb" => ("InstanceId", &info.instance_id),
            "cvm" => ("CvmInstanceId", &info.cvm_instance_id),
            _ => ("Host", &info.host),
        };
        if needed.1.is_empty() {
            return Err(ApiError::missing_parameter(&format!(
                "{name}.Info.{index}.{}",
                needed.0
            )));
        }
    }
    Ok(())
}

fn validate_option(option: &MigrateOption2021, database_type: &str) -> Result<(), ApiError> {
    let table = &option.database_table;
    let mode = table
        .get("ObjectMode")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match mode {
        "all" => {}
        "partial" => {
            let databases = table
                .get("Databases")
                .and_then(Value::as_array)
                .filter(|d| !d.is_empty());
            let Some(databases) = databases else {
                return Err(ApiError::missing_parameter(
                    "MigrateOption.DatabaseTable.Databases",
                ));
            };
            for (index, db) in databases.iter().enumerate() {
                let path = format!("MigrateOption.DatabaseTable.Databases.{index}");
                if db
                    .get("DbName")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    return Err(ApiError::missing_parameter(&format!("{path}.DbName")));
                }
                match db.get("DBMode").and_then(Value::as_str) {
                    None => return Err(ApiError::missing_parameter(&format!("{path}.DBMode"))),
                    Some("all") => {}
                    Some("partial") => {
                        if db.get("TableMode").and_then(Value::as_str).is_none() {
                            return Err(ApiError::missing_parameter(&format!("{path}.TableMode")));
                        }
                    }
                    Some(other) => {
                        return Err(ApiError::not_one_of(
                            &format!("{path}.DBMode"),
                            other,
                            &["all", "partial"],
                        ));
                    }
                }
            }
        }
        other => {
            return Err(ApiError::not_one_of(
                "MigrateOption.DatabaseTable.ObjectMode",
                other,
                &["all", "partial"],
            ));
        }
    }
    if !MIGRATE_TYPES.contains(&option.migrate_type.as_str()) {
        return Err(ApiError::not_one_of(
            "MigrateOption.MigrateType",
            &option.migrate_type,
            MIGRATE_TYPES,
        ));
    }
    if matches!(database_type, "redis" | "keewidb") && option.migrate_type != "fullAndIncrement" {
        return Err(ApiError::invalid_value(
            "MigrateOption.MigrateType",
            "redis and keewidb jobs support only `fullAndIncrement`",
        ));
    }
    if let Some(consistency_mode) = option
        .consistency
        .as_ref()
        .and_then(|c| c.get("Mode"))
        .and_then(Value::as_str)
        && !["full", "noCheck", "notConfigured"].contains(&consistency_mode)
    {
        return Err(ApiError::not_one_of(
            "MigrateOption.Consistency.Mode",
            consistency_mode,
            &["full", "noCheck", "notConfigured"],
        ));
    }
    if !["", "logical", "physical"].contains(&option.migrate_way.as_str()) {
        return Err(ApiError::not_one_of(
            "MigrateOption.MigrateWay",
            &option.migrate_way,
            &["logical", "physical"],
        ));
    }
    Ok(())
}

fn modify(
    params: &Map<String, Value>,
    ctx: &Ctx<'_>,
    state: &mut TencentState,
) -> Result<Payload, ApiError> {
    let action = Action::ModifyMigrationJob;
    let job = find(action, state, ctx, params)?;
    let modifiable = matches!(
        job.timeline.phase,
        Phase::Creating | Phase::Created | Phase::CheckPass | Phase::CheckNotPass
    );
    if !modifiable || job.trade.status != TradeStatus::Normal {
        return Err(action.conflict(
            job,
            "while the job is creating, created, checkPass or checkNotPass",
        ));
    }
    let run_mode = require_str(params, "RunMode")?;
    let expect_run_time = get_str(params, "ExpectRunTime").unwrap_or_default();
    match run_mode {
        "immediate" => {}
        "timed" => {
            if expect_run_time.is_empty() {
                return Err(ApiError::missing_parameter("ExpectRunTime"));
            }
        }
        other => {
            return Err(ApiError::not_one_of(
                "RunMode",
                other,
                &["immediate", "timed"],
            ));
        }
    }
    if !expect_run_time.is_empty() && parse_beijing_time(expect_run_time).is_none() {
        return Err(ApiError::invalid_value(
            "ExpectRunTime",
            "expected `yyyy-mm-dd hh:mm:ss`",
        ));
    }
    let mut option_value = params
        .get("MigrateOption")
        .cloned()
        .ok_or_else(|| ApiError::missing_parameter("MigrateOption"))?;
    if let Value::Object(object) = &mut option_value {
        object
            .entry("MigrateType")
            .or_insert_with(|| Value::String("fullAndIncrement".to_owned()));
    }
    let option: MigrateOption2021 = serde_json::from_value(option_value)
        .map_err(|error| ApiError::invalid_parameter("MigrateOption", &error.to_string()))?;
    validate_option(&option, &job.src_database_type)?;
    let src_info = endpoint_from(params, "SrcInfo")?;
    validate_endpoint(
        &src_info,
        "SrcInfo",
        &job.src_database_type,
        &job.src_region,
    )?;
    let dst_info = endpoint_from(params, "DstInfo")?;
    validate_endpoint(
        &dst_info,
        "DstInfo",
        &job.dst_database_type,
        &job.dst_region,
    )?;
    let retry_minutes = get_int(params, "AutoRetryTimeRangeMinutes").unwrap_or(0);
    if retry_minutes != 0 && !(5..=720).contains(&retry_minutes) {
        return Err(ApiError::invalid_value(
            "AutoRetryTimeRangeMinutes",
            "must be 0 or between 5 and 720",
        ));
    }
    let job_name = get_str(params, "JobName");
    if job_name.is_some_and(|name| name.chars().count() > 128) {
        return Err(ApiError::invalid_value(
            "JobName",
            "must be at most 128 characters",
        ));
    }
    let tags = if params.get("Tags").is_some_and(|tags| !tags.is_null()) {
        Some(parse_tags(params)?)
    } else {
        None
    };
    // Everything is validated: nothing below can fail, so a refused call changes nothing.
    if let Some(name) = job_name {
        name.clone_into(&mut job.job_name);
    }
    if let Some(tags) = tags {
        job.tags = tags;
    }
    run_mode.clone_into(&mut job.run_mode);
    expect_run_time.clone_into(&mut job.expect_run_time);
    job.migrate_option = Some(option);
    // Secrets are never stored (nor returned).
    job.src_info = src_info.redacted();
    job.dst_info = dst_info.redacted();
    job.auto_retry_time_range_minutes = retry_minutes;
    job.configured = true;
    job.timeline.reset_check();
    if job.timeline.phase != Phase::Creating {
        job.timeline.set(Phase::Created, ctx.now);
    }
    job.timeline.updated_ms = ctx.now;
    Ok(reply(Empty {}))
}

fn describe(
    params: &Map<String, Value>,
    ctx: &Ctx<'_>,
    state: &mut TencentState,
) -> Result<Payload, ApiError> {
    let (offset, limit) = paging(params)?;
    let descending = match get_str(params, "OrderSeq").unwrap_or("desc") {
        "desc" => true,
        "asc" => false,
        other => return Err(ApiError::not_one_of("OrderSeq", other, &["asc", "desc"])),
    };
    let statuses = get_str_array(params, "Status").unwrap_or_default();
    if let Some((index, bad)) = statuses
        .iter()
        .enumerate()
        .find(|(_, status)| !STATUSES.contains(&status.as_str()))
    {
        return Err(ApiError::not_one_of(
            &format!("Status.{index}"),
            bad,
            STATUSES,
        ));
    }
    if let Some(run_mode) =
        get_str(params, "RunMode").filter(|mode| !["immediate", "timed"].contains(mode))
    {
        return Err(ApiError::not_one_of(
            "RunMode",
            run_mode,
            &["immediate", "timed"],
        ));
    }
    let tag_filters = params
        .get("TagFilters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let in_list = |name: &str, value: &str| {
        get_str_array(params, name)
            .is_none_or(|list| list.is_empty() || list.iter().any(|item| item == value))
    };
    let equals =
        |name: &str, value: &str| get_str(params, name).is_none_or(|wanted| wanted == value);
    let has_instance = |name: &str, endpoint: &DbEndpointInfo| {
        get_str(params, name)
            .is_none_or(|wanted| endpoint.info.iter().any(|info| info.instance_id == wanted))
    };
    let mut matches: Vec<&mut Job> = state
        .jobs_2021
        .values_mut()
        .filter(|job| ctx.sees(&job.region))
        .collect();
    for job in &mut matches {
        job.advance(ctx);
    }
    let mut matches: Vec<&mut Job> = matches
        .into_iter()
        .filter(|job| {
            equals("JobId", &job.job_id)
                && equals("JobName", &job.job_name)
                && (statuses.is_empty()
                    || statuses
                        .iter()
                        .any(|status| status == job.timeline.phase.status_2021()))
                && has_instance("SrcInstanceId", &job.src_info)
                && has_instance("DstInstanceId", &job.dst_info)
                && equals("SrcRegion", &job.src_region)
                && equals("DstRegion", &job.dst_region)
                && in_list("SrcDatabaseType", &job.src_database_type)
                && in_list("DstDatabaseType", &job.dst_database_type)
                && in_list("SrcAccessType", &job.src_info.access_type)
                && in_list("DstAccessType", &job.dst_info.access_type)
                && equals("RunMode", &job.run_mode)
                && tags_match(&job.tags, &tag_filters)
        })
        .collect();
    matches.sort_by(|a, b| {
        let ordering = a
            .created_ms
            .cmp(&b.created_ms)
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
        DescribeMigrationJobsResponse {
            total_count,
            job_list,
        },
    ))
}

/// The job's `JobItem`, from the cache when neither the job nor its billing can change
/// by themselves.
fn fragment(job: &mut Job, ctx: &Ctx<'_>) -> Fragment {
    if let Some(cached) = &job.cached {
        return cached.clone();
    }
    let config = config_fragments(job);
    let fragment = Fragment::of(&item(job, config, ctx));
    let trade_stable = matches!(
        job.trade.status,
        TradeStatus::Normal | TradeStatus::Isolated | TradeStatus::Offlined
    );
    if job.timeline.phase.is_stable() && trade_stable {
        job.cached = Some(fragment.clone());
    }
    fragment
}

const ALL_ACTIONS: &[&str] = &[
    "view",
    "modify",
    "check",
    "start",
    "configure",
    "stop",
    "complete",
    "resume",
    "createCmpTask",
    "isolate",
    "offline",
    "resize",
    "recover",
];

fn allowed_actions(job: &Job) -> Vec<&'static str> {
    match job.trade.status {
        TradeStatus::Isolated => return vec!["view", "recover", "offline"],
        TradeStatus::Isolating | TradeStatus::Offlining | TradeStatus::Offlined => {
            return vec!["view"];
        }
        TradeStatus::Normal => {}
    }
    match job.timeline.phase {
        Phase::Creating => vec!["view", "modify", "configure"],
        Phase::Created if job.configured => {
            vec!["view", "modify", "configure", "check", "isolate", "resize"]
        }
        Phase::Created => vec!["view", "modify", "configure", "isolate", "resize"],
        Phase::CheckPass => vec![
            "view",
            "modify",
            "configure",
            "check",
            "start",
            "isolate",
            "resize",
        ],
        Phase::CheckNotPass => vec!["view", "modify", "configure", "check", "isolate", "resize"],
        Phase::ReadyRun | Phase::ManualPaused => vec!["view", "stop", "isolate"],
        Phase::Running => vec!["view", "stop", "createCmpTask", "isolate", "resize"],
        Phase::ReadyComplete => vec![
            "view",
            "stop",
            "complete",
            "createCmpTask",
            "isolate",
            "resize",
        ],
        Phase::ResumableErr => vec!["view", "stop", "resume", "isolate"],
        Phase::Failed if job.is_redis() => vec!["view", "resume", "isolate"],
        Phase::Failed | Phase::Success | Phase::Canceled => vec!["view", "isolate"],
        Phase::Checking
        | Phase::Stopping
        | Phase::Completing
        | Phase::Pausing
        | Phase::Resuming => vec!["view"],
    }
}

fn step_status(state: StepState) -> &'static str {
    match state {
        StepState::NotStarted => "notStarted",
        StepState::Running => "running",
        StepState::Done => "finished",
        StepState::Failed => "failed",
    }
}

fn error_message(job: &Job) -> Option<String> {
    match job.timeline.phase {
        Phase::ResumableErr | Phase::Failed => job
            .timeline
            .last_error
            .as_ref()
            .map(|error| error.message.clone()),
        Phase::CheckNotPass => job
            .timeline
            .check
            .failure
            .as_ref()
            .map(|failure| failure.message.clone()),
        _ => None,
    }
}

fn step_info(job: &Job, ctx: &Ctx<'_>) -> MigrateDetailInfo2021 {
    let timeline = &job.timeline;
    let progress = timeline.progress(ctx.now, ctx.timing);
    if !progress.started {
        return MigrateDetailInfo2021 {
            step_all: 0,
            step_now: 0,
            master_slave_distance: 0,
            seconds_behind_master: 0,
            step_info: Vec::new(),
        };
    }
    let steps = (0..progress.steps)
        .map(|index| {
            let state = timeline.step_state(index, &progress);
            let finish = match state {
                StepState::Done => timeline
                    .step_started_ms
                    .get(index + 1)
                    .copied()
                    .flatten()
                    .or(timeline.ended_ms),
                StepState::Failed => timeline
                    .last_error
                    .as_ref()
                    .map(|error| error.at_ms)
                    .or(timeline.ended_ms),
                _ => None,
            };
            let errors = match (&timeline.last_error, state) {
                (Some(error), StepState::Failed) => vec![ProcessStepTip {
                    message: error.message.clone(),
                    solution: "Fix the cause, then call ResumeMigrateJob.".to_owned(),
                    help_doc: HELP_DOC.to_owned(),
                }],
                _ => Vec::new(),
            };
            let percent = match state {
                StepState::Done => 100,
                StepState::NotStarted => 0,
                _ => progress.step_percent[index],
            };
            StepDetailInfo {
                step_no: i64::try_from(index + 1).unwrap_or(0),
                step_name: STEPS[index].1,
                step_id: STEPS[index].0,
                status: step_status(state),
                start_time: timeline.step_started_ms[index]
                    .map(beijing_time)
                    .unwrap_or_default(),
                finish_time: finish.map(beijing_time).unwrap_or_default(),
                step_message: String::new(),
                percent: i64::try_from(percent).unwrap_or(0),
                errors,
                warnings: Vec::new(),
            }
        })
        .collect();
    MigrateDetailInfo2021 {
        step_all: i64::try_from(progress.steps).unwrap_or(0),
        step_now: i64::try_from(progress.current + 1).unwrap_or(0),
        master_slave_distance: 0,
        seconds_behind_master: 0,
        step_info: steps,
    }
}

fn trade_info(job: &Job) -> TradeInfo {
    let trade = &job.trade;
    let isolated = matches!(
        trade.status,
        TradeStatus::Isolating
            | TradeStatus::Isolated
            | TradeStatus::Offlining
            | TradeStatus::Offlined
    );
    let offline = matches!(trade.status, TradeStatus::Offlining | TradeStatus::Offlined);
    TradeInfo {
        deal_name: trade.deal_name.clone(),
        last_deal_name: String::new(),
        instance_class: trade.instance_class.clone(),
        trade_status: trade.status.as_str(),
        expire_time: ZERO_TIME.to_owned(),
        offline_time: beijing_time_or_zero(trade.offline_ms),
        isolate_time: beijing_time_or_zero(trade.isolate_ms),
        offline_reason: if offline {
            "user_offline".to_owned()
        } else {
            String::new()
        },
        isolate_reason: if isolated {
            "user_isolate".to_owned()
        } else {
            String::new()
        },
        pay_type: "postpay",
        billing_type: "billing",
    }
}

fn expect_run_time(job: &Job) -> String {
    if job.run_mode == "timed" {
        job.expect_run_time.clone()
    } else {
        String::new()
    }
}

/// The serialised configuration parts of a job's answer; they change only through API
/// calls, which clear them.
#[derive(Debug, Clone)]
pub(crate) struct ConfigFragments {
    src_info: Fragment,
    dst_info: Fragment,
    tags: Fragment,
}

fn config_fragments(job: &mut Job) -> ConfigFragments {
    if let Some(config) = &job.config {
        return config.clone();
    }
    let config = ConfigFragments {
        src_info: Fragment::of(&job.src_info.redacted()),
        dst_info: Fragment::of(&job.dst_info.redacted()),
        tags: Fragment::of(&job.tags),
    };
    job.config = Some(config.clone());
    config
}

fn item(job: &Job, config: ConfigFragments, ctx: &Ctx<'_>) -> JobItem {
    let timeline = &job.timeline;
    JobItem {
        job_id: job.job_id.clone(),
        job_name: job.job_name.clone(),
        create_time: beijing_time(job.created_ms),
        update_time: beijing_time(timeline.updated_ms.max(timeline.since_ms)),
        start_time: beijing_time_or_zero(timeline.started_ms),
        end_time: beijing_time_or_zero(timeline.ended_ms),
        brief_msg: error_message(job).unwrap_or_default(),
        status: timeline.phase.status_2021(),
        run_mode: job.run_mode.clone(),
        expect_run_time: expect_run_time(job),
        action: MigrateAction {
            all_action: ALL_ACTIONS.to_vec(),
            allowed_action: allowed_actions(job),
        },
        step_info: step_info(job, ctx),
        src_info: config.src_info,
        dst_info: config.dst_info,
        compare_task: CompareTaskInfo {
            compare_task_id: String::new(),
            status: String::new(),
        },
        trade_info: trade_info(job),
        tags: config.tags,
        auto_retry_time_range_minutes: job.auto_retry_time_range_minutes,
        dumper_resume_ctrl: "yes",
    }
}

/// Check steps of a MySQL-style pre-check: (StepId, display name).
const CHECK_STEPS: [(&str, &str); 7] = [
    ("ConnectDBCheck", "连接DB检查"),
    ("VersionCheck", "版本检查"),
    ("SrcPrivilegeCheck", "源库权限检查"),
    ("DstPrivilegeCheck", "目标库权限检查"),
    ("DstEmptyCheck", "目标库冲突检查"),
    ("BinlogParamCheck", "Binlog参数检查"),
    ("OptimizeCheck", "周边检查"),
];

/// Per check step: "pass", "failed" or "notStarted", and the failing step index.
fn check_step_states(job: &Job, ctx: &Ctx<'_>) -> (Vec<&'static str>, Option<usize>) {
    let check = &job.timeline.check;
    let failing = check.failure.as_ref().map(|failure| {
        CHECK_STEPS
            .iter()
            .position(|(id, _)| *id == failure.step)
            .unwrap_or(4)
    });
    let states = match (check.started_ms, check.result()) {
        (None, _) => Vec::new(),
        (Some(started), None) => {
            let done =
                usize::try_from(ctx.now.saturating_sub(started) * 7 / ctx.timing.checking.max(1))
                    .unwrap_or(0)
                    .min(6);
            (0..7)
                .map(|index| {
                    if index < done && Some(index) != failing {
                        "pass"
                    } else {
                        "notStarted"
                    }
                })
                .collect()
        }
        (Some(_), Some(_)) => (0..7)
            .map(|index| {
                if Some(index) == failing {
                    "failed"
                } else {
                    "pass"
                }
            })
            .collect(),
    };
    (states, failing)
}

fn check_result(job: &Job, ctx: &Ctx<'_>) -> DescribeMigrationCheckJobResponse {
    let check = &job.timeline.check;
    let (states, _) = check_step_states(job, ctx);
    let message = check
        .failure
        .as_ref()
        .map(|failure| failure.message.clone())
        .unwrap_or_default();
    let step_info = states
        .iter()
        .enumerate()
        .map(|(index, state)| {
            let failed = *state == "failed";
            CheckStep {
                step_no: i64::try_from(index).unwrap_or(0),
                step_id: CHECK_STEPS[index].0,
                step_name: CHECK_STEPS[index].1,
                step_status: state,
                step_message: if failed {
                    message.clone()
                } else {
                    String::new()
                },
                detail_check_items: if failed {
                    vec![DetailCheckItem {
                        check_item_name: CHECK_STEPS[index].1.to_owned(),
                        description: format!("{} ({})", CHECK_STEPS[index].1, CHECK_STEPS[index].0),
                        check_result: "failed",
                        failure_reason: message.clone(),
                        solution:
                            "Fix the reported problem, then call CreateMigrateCheckJob again."
                                .to_owned(),
                        error_log: vec![message.clone()],
                        help_doc: vec![HELP_DOC.to_owned()],
                        skip_info: String::new(),
                    }]
                } else {
                    Vec::new()
                },
                has_skipped: false,
            }
        })
        .collect();
    let (status, brief, flag) = match (check.started_ms, check.result()) {
        (None, _) => ("notStarted", String::new(), ""),
        (Some(_), None) => ("running", String::new(), ""),
        (Some(_), Some(true)) => ("success", "success".to_owned(), "checkPass"),
        (Some(_), Some(false)) => ("failed", message, "checkNotPass"),
    };
    DescribeMigrationCheckJobResponse {
        status,
        brief_msg: brief,
        step_info,
        check_flag: flag,
    }
}

fn check_step_info(job: &Job, ctx: &Ctx<'_>) -> CheckStepInfo {
    let check = &job.timeline.check;
    let (states, _) = check_step_states(job, ctx);
    let message = check
        .failure
        .as_ref()
        .map(|failure| failure.message.clone())
        .unwrap_or_default();
    let finished_at = check.finished_ms.map(beijing_time).unwrap_or_default();
    let steps: Vec<StepDetailInfo> = states
        .iter()
        .enumerate()
        .map(|(index, state)| {
            let (status, percent) = match *state {
                "pass" => ("success", 100),
                "failed" => ("failed", 100),
                _ => ("notStarted", 0),
            };
            StepDetailInfo {
                step_no: i64::try_from(index + 1).unwrap_or(0),
                step_name: CHECK_STEPS[index].1,
                step_id: CHECK_STEPS[index].0,
                status,
                start_time: if percent > 0 {
                    check.started_ms.map(beijing_time).unwrap_or_default()
                } else {
                    String::new()
                },
                finish_time: if percent > 0 {
                    finished_at.clone()
                } else {
                    String::new()
                },
                step_message: if status == "failed" {
                    message.clone()
                } else {
                    String::new()
                },
                percent,
                errors: if status == "failed" {
                    vec![ProcessStepTip {
                        message: message.clone(),
                        solution: String::new(),
                        help_doc: HELP_DOC.to_owned(),
                    }]
                } else {
                    Vec::new()
                },
                warnings: Vec::new(),
            }
        })
        .collect();
    let done = steps.iter().filter(|step| step.percent == 100).count();
    let (status, percent) = match (check.started_ms, check.result()) {
        (None, _) => ("notStarted", 0),
        (Some(_), None) => ("running", done * 100 / 7),
        (Some(_), Some(true)) => ("success", 100),
        (Some(_), Some(false)) => ("failed", 100),
    };
    CheckStepInfo {
        start_at: check.started_ms.map(beijing_time).unwrap_or_default(),
        end_at: finished_at,
        progress: ProcessProgress {
            status,
            percent: i64::try_from(percent).unwrap_or(0),
            step_all: i64::try_from(steps.len()).unwrap_or(0),
            step_now: i64::try_from(done.min(steps.len())).unwrap_or(0),
            message: if check.result() == Some(false) {
                message
            } else {
                String::new()
            },
            steps,
        },
    }
}

fn rate_limit_option(job: &Job) -> RateLimitOption {
    let user = job
        .migrate_option
        .as_ref()
        .and_then(|option| option.rate_limit.clone());
    let pick = |name: &str, default: i64| {
        user.as_ref()
            .and_then(|limits| limits.get(name))
            .and_then(Value::as_i64)
            .filter(|value| *value > 0)
            .unwrap_or(default)
    };
    RateLimitOption {
        current_dump_thread: pick("DumpThread", 8),
        default_dump_thread: 8,
        current_dump_rps: pick("DumpRps", 0),
        default_dump_rps: 0,
        current_load_thread: pick("LoadThread", 16),
        default_load_thread: 16,
        current_load_rps: pick("LoadRps", 0),
        default_load_rps: 0,
        current_sinker_thread: pick("SinkerThread", 16),
        default_sinker_thread: 16,
        has_user_set_rate_limit: if user.is_some() { "yes" } else { "no" },
    }
}

fn detail(job: &mut Job, ctx: &Ctx<'_>) -> DescribeMigrationDetailResponse {
    let config = config_fragments(job);
    let item = item(job, config, ctx);
    let error_info = match (job.timeline.phase, &job.timeline.last_error) {
        (Phase::ResumableErr | Phase::Failed, Some(error)) => vec![ErrorInfoItem {
            code: "InternalError.MigrateError".to_owned(),
            solution: "Fix the cause, then call ResumeMigrateJob.".to_owned(),
            error_log: format!("{} [ERROR] {}", beijing_time(error.at_ms), error.message),
            help_doc: HELP_DOC.to_owned(),
        }],
        _ => Vec::new(),
    };
    DescribeMigrationDetailResponse {
        job_id: item.job_id,
        job_name: item.job_name,
        create_time: item.create_time,
        update_time: item.update_time,
        start_time: item.start_time,
        end_time: item.end_time,
        brief_msg: item.brief_msg,
        status: item.status,
        action: item.action,
        step_info: item.step_info,
        src_info: item.src_info,
        dst_info: item.dst_info,
        compare_task: item.compare_task,
        tags: item.tags,
        run_mode: item.run_mode,
        expect_run_time: item.expect_run_time,
        migrate_option: job.migrate_option.clone(),
        check_step_info: check_step_info(job, ctx),
        trade_info: item.trade_info,
        error_info,
        dumper_resume_ctrl: item.dumper_resume_ctrl,
        rate_limit_option: rate_limit_option(job),
    }
}

const RESUME_OPTIONS: &[&str] = &["clearData", "overwrite", "normal"];

fn transition(
    action: Action,
    params: &Map<String, Value>,
    ctx: &Ctx<'_>,
    state: &mut TencentState,
) -> Result<Payload, ApiError> {
    if let Some(mode) = get_str(params, "CompleteMode")
        .filter(|mode| !["waitForSync", "immediately"].contains(mode))
    {
        return Err(ApiError::not_one_of(
            "CompleteMode",
            mode,
            &["waitForSync", "immediately"],
        ));
    }
    let resume_option = get_str(params, "ResumeOption");
    if let Some(option) = resume_option.filter(|option| !RESUME_OPTIONS.contains(option)) {
        return Err(ApiError::not_one_of("ResumeOption", option, RESUME_OPTIONS));
    }
    let job = find(action, state, ctx, params)?;
    let job_id = job.job_id.clone();
    let normal = job.trade.status == TradeStatus::Normal;
    let phase = job.timeline.phase;
    let rule = ctx.rule(&job.job_name);
    match action {
        Action::CreateMigrateCheckJob => {
            if !normal
                || !job.configured
                || !matches!(
                    phase,
                    Phase::Created | Phase::CheckPass | Phase::CheckNotPass
                )
            {
                return Err(action.conflict(
                    job,
                    "once the job is configured (created, checkPass or checkNotPass)",
                ));
            }
            job.timeline.start_check(ctx.now, rule);
        }
        Action::StartMigrateJob => {
            if !normal || phase != Phase::CheckPass {
                return Err(action.conflict(job, "after the check passed (checkPass)"));
            }
            let expect = if job.run_mode == "timed" {
                parse_beijing_time(&job.expect_run_time)
            } else {
                None
            };
            let incremental = job.incremental();
            job.timeline
                .start(ctx.now, incremental, expect, rule, ctx.timing);
        }
        Action::StopMigrateJob => {
            if !normal
                || !matches!(
                    phase,
                    Phase::Running
                        | Phase::ReadyRun
                        | Phase::ReadyComplete
                        | Phase::ResumableErr
                        | Phase::ManualPaused
                )
            {
                return Err(action.conflict(
                    job,
                    "in running, readyRun, readyComplete, resumableErr or manualPaused",
                ));
            }
            job.timeline.stop(ctx.now, ctx.timing);
        }
        Action::PauseMigrateJob => {
            if !normal || !matches!(phase, Phase::Running | Phase::ReadyComplete) {
                return Err(action.conflict(job, "in running or readyComplete"));
            }
            job.timeline.pause(ctx.now, ctx.timing);
        }
        Action::ContinueMigrateJob => {
            if !normal || phase != Phase::ManualPaused {
                return Err(action.conflict(job, "in manualPaused"));
            }
            job.timeline.continue_running(ctx.now);
        }
        Action::ResumeMigrateJob => {
            match (resume_option, job.is_redis()) {
                (Some(option @ ("clearData" | "overwrite")), false) => {
                    return Err(ApiError::invalid_value(
                        "ResumeOption",
                        &format!("`{option}` is only for redis jobs; use `normal`"),
                    ));
                }
                (Some("normal"), true) => {
                    return Err(ApiError::invalid_value(
                        "ResumeOption",
                        "`normal` is not for redis jobs; use `clearData` or `overwrite`",
                    ));
                }
                _ => {}
            }
            let resumable = phase == Phase::ResumableErr
                || (phase == Phase::Failed && job.is_redis() && job.timeline.last_error.is_some());
            if !normal || !resumable {
                return Err(action.conflict(job, "in resumableErr (redis jobs also in failed)"));
            }
            job.timeline.resume(ctx.now, rule, ctx.timing);
        }
        Action::CompleteMigrateJob => {
            if !normal || phase != Phase::ReadyComplete {
                return Err(action.conflict(job, "in readyComplete"));
            }
            // `waitForSync` (the default) keeps syncing until the replication lag is 0,
            // which the `completing` phase stands for; `immediately` cuts the sync off at
            // once. The doc says the mode only applies to (old-style) MySQL jobs, so other
            // engines always wait for the sync.
            let immediately = get_str(params, "CompleteMode") == Some("immediately");
            if immediately && job.is_mysql_family() {
                job.timeline.ended_ms = Some(ctx.now);
                job.timeline.set(Phase::Success, ctx.now);
            } else {
                job.timeline.set(Phase::Completing, ctx.now);
            }
        }
        Action::IsolateMigrateJob => {
            if !normal || phase.is_transitional() {
                return Err(action.conflict(
                    job,
                    "while billing is normal and the job is not in a transitional status",
                ));
            }
            if phase.is_active_migration() {
                // Isolation ends the migration.
                job.timeline.ended_ms = Some(ctx.now);
                job.timeline.set(Phase::Canceled, ctx.now);
            }
            job.trade.status = TradeStatus::Isolating;
            job.trade.since_ms = ctx.now;
            job.trade.isolate_ms = Some(ctx.now);
            job.timeline.updated_ms = ctx.now;
        }
        Action::RecoverMigrateJob => {
            if job.trade.status != TradeStatus::Isolated {
                return Err(action.conflict(job, "when the job is isolated"));
            }
            job.trade.status = TradeStatus::Normal;
            job.trade.since_ms = ctx.now;
            job.trade.isolate_ms = None;
            job.timeline.updated_ms = ctx.now;
        }
        Action::DestroyMigrateJob => {
            if job.trade.status != TradeStatus::Isolated {
                return Err(action.conflict(job, "when the job is isolated"));
            }
            job.trade.status = TradeStatus::Offlining;
            job.trade.since_ms = ctx.now;
            job.timeline.updated_ms = ctx.now;
        }
        Action::CreateMigrationService
        | Action::ModifyMigrationJob
        | Action::DescribeMigrationJobs
        | Action::DescribeMigrationDetail
        | Action::DescribeMigrationCheckJob => {
            return Err(ApiError::new(
                "InternalError",
                "action routed to the wrong handler",
            ));
        }
    }
    let event = match action {
        Action::IsolateMigrateJob => Some("isolated"),
        Action::RecoverMigrateJob => Some("recovered"),
        Action::DestroyMigrateJob => Some("destroyed"),
        _ => None,
    };
    if let Some(event) = event {
        state.history.event(&job_id, ctx.now, event);
    }
    Ok(reply(Empty {}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_name_round_trips() {
        for (name, action) in ACTIONS {
            assert_eq!(Action::from_name(name), Some(action));
            assert_eq!(action.name(), name);
        }
        assert_eq!(Action::from_name("CreateMigrateJob"), None);
        assert_eq!(Action::from_name("DeleteMigrateJob"), None);
    }
}
