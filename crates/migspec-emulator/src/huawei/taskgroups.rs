//! OMS v2 task groups: the model, the status machine of reference §4.9, and the eight
//! operations.
//!
//! Statuses: 0 waiting → 1 creating tasks → 2 migrating (monitoring) → 6 completed, with
//! 4 (task creation failed) and 5 (migration failed) as failures, 7 pausing → 3 paused
//! after a stop, and 8 → 9 → gone after a delete. Refusals: delete while 1/2/7
//! (`OMS.0063`, and while a paused group's tasks are still stopping, for as long again as
//! the pause took), stop when not running (`OMS.0066`), start when running (`OMS.0065`),
//! start/stop of a completed group (`OMS.0070`), unknown group (`OMS.1009`, 404).
//!
//! A migration failure stops the group's tasks: every object not yet transferred is a
//! failed object (`fail_num`), recorded in the failed-object list. `retry` with
//! `migrate_failed_object: true` transfers only those; without it the group is
//! re-listed and the objects already at the destination are skipped (`skip_num`).

use std::collections::BTreeMap;

use hyper::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{OmsError, Operation, Route};
use crate::faults::{FaultConfig, FaultRule, Service};
use crate::fragment::Fragment;
use crate::http::ApiRequest;
use crate::objects::{self, History};
use crate::schema::{Field, Ty, opt, req, validate};
use crate::tencent::engine::Timing;

/// What an operation sees besides the request.
pub(crate) struct Ctx<'a> {
    pub(crate) now: u64,
    pub(crate) timing: &'a Timing,
    pub(crate) faults: &'a FaultConfig,
    pub(crate) project_id: &'a str,
}

impl Ctx<'_> {
    fn rule(&self, description: &str) -> Option<&FaultRule> {
        self.faults.rule_for(Service::Huawei, description)
    }
}

// ---------------------------------------------------------------------------------------
// Request schemas (reference §3 and §4).

const LIST_FILE: &[Field] = &[
    req("list_file_key", Ty::Str),
    req("obs_bucket", Ty::Str),
    opt("list_file_num", Ty::Str),
];
const SRC_NODE: &[Field] = &[
    opt("ak", Ty::Str),
    opt("sk", Ty::Str),
    opt("connection_string", Ty::Str),
    opt("crypto_type", Ty::Str),
    opt("kms_key_id", Ty::Str),
    opt("json_auth_file", Ty::Str),
    opt("app_id", Ty::Str),
    opt("region", Ty::Str),
    opt("object_key", Ty::Arr(&Ty::Str)),
    opt("bucket", Ty::Str),
    opt("cloud_type", Ty::Str),
    opt("list_file", Ty::Obj(LIST_FILE)),
];
const DST_NODE: &[Field] = &[
    req("ak", Ty::Str),
    req("sk", Ty::Str),
    opt("crypto_type", Ty::Str),
    opt("kms_key_id", Ty::Str),
    req("region", Ty::Str),
    req("bucket", Ty::Str),
    opt("cloud_type", Ty::Str),
    opt("save_prefix", Ty::Str),
];
const BANDWIDTH_POLICY: &[Field] = &[
    req("start", Ty::Str),
    req("end", Ty::Str),
    req("max_bandwidth", Ty::Int),
];
const SMN_CONFIG: &[Field] = &[
    req("topic_urn", Ty::Str),
    req("trigger_conditions", Ty::Arr(&Ty::Str)),
    opt("language", Ty::Str),
    opt("message_template_name", Ty::Str),
];
const SOURCE_CDN: &[Field] = &[
    req("domain", Ty::Str),
    req("protocol", Ty::Str),
    req("authentication_type", Ty::Str),
    opt("authentication_key", Ty::Str),
    opt("crypto_type", Ty::Str),
    opt("kms_key_id", Ty::Str),
];
const CREATE: &[Field] = &[
    req("src_node", Ty::Obj(SRC_NODE)),
    req("dst_node", Ty::Obj(DST_NODE)),
    opt("description", Ty::Str),
    opt("task_type", Ty::Str),
    opt("enable_metadata_migration", Ty::Bool),
    opt("enable_failed_object_recording", Ty::Bool),
    opt("enable_restore", Ty::Bool),
    opt("enable_kms", Ty::Bool),
    opt("bandwidth_policy", Ty::Arr(&Ty::Obj(BANDWIDTH_POLICY))),
    opt("smn_config", Ty::Obj(SMN_CONFIG)),
    opt("source_cdn", Ty::Obj(SOURCE_CDN)),
    opt("migrate_since", Ty::Int),
    opt("object_overwrite_mode", Ty::Str),
    opt("dst_storage_policy", Ty::Str),
    opt("consistency_check", Ty::Str),
    opt("enable_requester_pays", Ty::Bool),
];
const START: &[Field] = &[
    opt("src_ak", Ty::Str),
    opt("src_sk", Ty::Str),
    opt("src_crypto_type", Ty::Str),
    opt("src_kms_key_id", Ty::Str),
    opt("connection_string", Ty::Str),
    opt("json_auth_file", Ty::Str),
    req("dst_ak", Ty::Str),
    req("dst_sk", Ty::Str),
    opt("dst_crypto_type", Ty::Str),
    opt("dst_kms_key_id", Ty::Str),
    opt("source_cdn_authentication_key", Ty::Str),
    opt("source_cdn_crypto_type", Ty::Str),
    opt("source_cdn_kms_key_id", Ty::Str),
];
const RETRY: &[Field] = &[
    opt("src_ak", Ty::Str),
    opt("src_sk", Ty::Str),
    opt("src_crypto_type", Ty::Str),
    opt("src_kms_key_id", Ty::Str),
    opt("connection_string", Ty::Str),
    opt("json_auth_file", Ty::Str),
    opt("dst_ak", Ty::Str),
    opt("dst_sk", Ty::Str),
    opt("dst_crypto_type", Ty::Str),
    opt("dst_kms_key_id", Ty::Str),
    opt("source_cdn_authentication_key", Ty::Str),
    opt("source_cdn_crypto_type", Ty::Str),
    opt("source_cdn_kms_key_id", Ty::Str),
    opt("migrate_failed_object", Ty::Bool),
];
const UPDATE: &[Field] = &[req("bandwidth_policy", Ty::Arr(&Ty::Obj(BANDWIDTH_POLICY)))];

const SRC_CLOUD_TYPES: &[&str] = &[
    "AWS",
    "Azure",
    "Aliyun",
    "Tencent",
    "HuaweiCloud",
    "QingCloud",
    "KingsoftCloud",
    "Baidu",
    "Qiniu",
    "URLSource",
    "Google",
    "UCloud",
    "HEC",
];
const DST_CLOUD_TYPES: &[&str] = &["HEC", "HuaweiCloud"];
const TASK_TYPES: &[&str] = &["PREFIX", "LIST", "URL_LIST"];
const OVERWRITE_MODES: &[&str] = &[
    "NO_OVERWRITE",
    "SIZE_LAST_MODIFIED_COMPARISON_OVERWRITE",
    "CRC64_COMPARISON_OVERWRITE",
    "FULL_OVERWRITE",
];
const STORAGE_POLICIES: &[&str] = &[
    "STANDARD",
    "IA",
    "ARCHIVE",
    "DEEP_ARCHIVE",
    "SRC_STORAGE_MAPPING",
];
const CONSISTENCY_CHECKS: &[&str] = &["size_last_modified", "crc64", "no_check"];
const CRYPTO_TYPES: &[&str] = &["DEFAULT", "KMS"];
const CDN_AUTHENTICATION_TYPES: &[&str] = &[
    "NONE",
    "QINIU_PRIVATE_AUTHENTICATION",
    "ALIYUN_OSS_A",
    "ALIYUN_OSS_B",
    "ALIYUN_OSS_C",
    "KSYUN_PRIVATE_AUTHENTICATION",
    "AZURE_SAS_TOKEN",
    "TENCENT_COS_A",
    "TENCENT_COS_B",
    "TENCENT_COS_C",
    "TENCENT_COS_D",
];
const MIN_BANDWIDTH: i64 = 1_048_576;
const MAX_BANDWIDTH: i64 = 209_715_200;

// ---------------------------------------------------------------------------------------
// Stored model. Credentials are never stored.

/// `ListFile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ListFile {
    list_file_key: String,
    obs_bucket: String,
    #[serde(default)]
    list_file_num: String,
}

/// `BandwidthPolicyDto`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BandwidthPolicy {
    end: String,
    max_bandwidth: i64,
    start: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct SmnSettings {
    topic_urn: String,
    trigger_conditions: Vec<String>,
    language: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CdnSettings {
    domain: String,
    protocol: String,
    authentication_type: String,
}

/// What a group was created with, minus credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct GroupConfig {
    description: String,
    task_type: String,
    src_cloud_type: String,
    src_region: String,
    src_bucket: String,
    src_app_id: String,
    object_key: Vec<String>,
    list_file: Option<ListFile>,
    dst_region: String,
    dst_bucket: String,
    save_prefix: String,
    enable_metadata_migration: bool,
    enable_failed_object_recording: bool,
    enable_restore: bool,
    enable_kms: bool,
    bandwidth_policy: Vec<BandwidthPolicy>,
    smn_config: Option<SmnSettings>,
    source_cdn: Option<CdnSettings>,
    migrate_since: i64,
    object_overwrite_mode: String,
    dst_storage_policy: String,
    consistency_check: String,
    enable_requester_pays: bool,
}

/// The status machine of one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct GroupTimeline {
    status: u8,
    since_ms: u64,
    /// Task-creation progress made before `since_ms` (ms of `oms_task_creation`).
    creation_ms: u64,
    tasks_created: bool,
    /// Migration work done before `since_ms` (ms of `oms_migration`).
    work_ms: u64,
    /// Objects skipped because they were already at the destination (full retry).
    skipped_objects: u64,
    fail_at_work_ms: Option<u64>,
    failures: u32,
    creation_failures: u32,
    /// `Some` when the current task creation fails (decided when it starts).
    creation_failure: Option<String>,
    failure_message: Option<String>,
    error: Option<(String, String)>,
    finished_ms: Option<u64>,
    /// The group disappears at this time (after statuses 8 and 9).
    gone: bool,
    /// After a pause, the group's tasks stop for as long again as the pause took: until
    /// then OMS still refuses a delete (`OMS.0063`, which Terraform retries after its wait
    /// for status 3, reference §8.7).
    #[serde(default)]
    tasks_stopping_until: Option<u64>,
}

/// One task group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TaskGroup {
    group_id: String,
    project_id: String,
    sequence: u64,
    created_ms: u64,
    config: GroupConfig,
    total_objects: u64,
    total_bytes: u64,
    total_tasks: u64,
    timeline: GroupTimeline,
    /// The serialised `TaskGroupResp` once the group is in a final status (4, 5, 6).
    #[serde(skip)]
    cached: Option<Fragment>,
}

/// Every task group, across projects.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct HuaweiState {
    groups: BTreeMap<String, TaskGroup>,
    sequence: u64,
    /// Creations and deletions of every group (`GET /_emulator/objects`).
    #[serde(default)]
    history: History,
}

impl TaskGroup {
    /// The group's `GET /_emulator/objects` entry without status and history.
    fn identity(&self) -> Value {
        serde_json::json!({
            "service": "huawei",
            "api": "v2",
            "id": self.group_id,
            "project_id": self.project_id,
            "region": self.config.dst_region,
            "description": self.config.description,
            "sequence": self.sequence,
            "created_ms": self.created_ms,
        })
    }
}

/// The `GET /_emulator/objects` entries of every task group, live or deleted, in creation
/// order, statuses replayed up to `now`; `status` is the API's integer status (`null` once
/// the group is gone). A group is live until its delete is accepted (status 8).
pub(crate) fn objects(
    state: &mut HuaweiState,
    now: u64,
    timing: &Timing,
    faults: &FaultConfig,
) -> Vec<Value> {
    let mut entries = Vec::new();
    for group in state.groups.values_mut() {
        let project_id = group.project_id.clone();
        let ctx = Ctx {
            now,
            timing,
            faults,
            project_id: &project_id,
        };
        group.advance(&ctx);
        let mut entry = group.identity();
        let gone = group.timeline.gone;
        entry["status"] = if gone {
            Value::Null
        } else {
            serde_json::json!(group.timeline.status)
        };
        let live = !gone && !matches!(group.timeline.status, 8 | 9);
        entries.push(objects::finish(
            entry,
            live,
            state.history.events(&group.group_id),
        ));
    }
    for (id, record) in state.history.records() {
        if !state.groups.contains_key(id) {
            let mut entry = record.identity.clone();
            entry["status"] = Value::Null;
            entries.push(objects::finish(entry, false, &record.events));
        }
    }
    entries.sort_by_key(|entry| entry["sequence"].as_u64().unwrap_or_default());
    entries
}

impl HuaweiState {
    /// Forgets every cached group answer (after any state change).
    pub(crate) fn clear_caches(&mut self) {
        self.groups
            .values_mut()
            .for_each(|group| group.cached = None);
    }
}

impl TaskGroup {
    fn advance(&mut self, ctx: &Ctx<'_>) {
        let timing = ctx.timing;
        let now = ctx.now;
        let t = &mut self.timeline;
        for _ in 0..32 {
            let since = t.since_ms;
            match t.status {
                0 if now >= since + timing.oms_waiting => {
                    t.status = 1;
                    t.since_ms = since + timing.oms_waiting;
                }
                1 => {
                    let reached = t.creation_ms + now.saturating_sub(since);
                    if reached < timing.oms_task_creation {
                        return;
                    }
                    let at = since
                        + (timing.oms_task_creation - t.creation_ms.min(timing.oms_task_creation));
                    t.creation_ms = timing.oms_task_creation;
                    t.since_ms = at;
                    if let Some(message) = t.creation_failure.take() {
                        t.creation_failures += 1;
                        t.status = 4;
                        t.error = Some(("TRF.0051".to_owned(), message));
                        t.finished_ms = Some(at);
                    } else {
                        t.tasks_created = true;
                        t.status = 2;
                    }
                }
                2 => {
                    let total = timing.oms_migration;
                    let reached = t.work_ms + now.saturating_sub(since);
                    if let Some(fail_at) = t.fail_at_work_ms.filter(|fail_at| reached >= *fail_at) {
                        t.since_ms = since + (fail_at - t.work_ms.min(fail_at));
                        t.work_ms = fail_at;
                        t.failures += 1;
                        t.fail_at_work_ms = None;
                        t.status = 5;
                        t.finished_ms = Some(t.since_ms);
                        let failed =
                            self.total_objects - processed(self.total_objects, fail_at, total);
                        let message = t.failure_message.clone().unwrap_or_else(|| {
                            format!("{failed} objects failed to be migrated: system error, restart the task (injected by the migspec emulator)")
                        });
                        t.error = Some(("TRF.0001".to_owned(), message));
                    } else if reached >= total {
                        t.since_ms = since + (total - t.work_ms.min(total));
                        t.work_ms = total;
                        t.status = 6;
                        t.finished_ms = Some(t.since_ms);
                    } else {
                        return;
                    }
                }
                7 if now >= since + timing.oms_pausing => {
                    t.status = 3;
                    t.since_ms = since + timing.oms_pausing;
                    t.tasks_stopping_until = Some(t.since_ms + timing.oms_pausing);
                }
                8 if now >= since + timing.oms_deleting => {
                    t.status = 9;
                    t.since_ms = since + timing.oms_deleting;
                }
                9 if now >= since + timing.oms_deleting => {
                    t.gone = true;
                    return;
                }
                _ => return,
            }
        }
    }

    fn work_at(&self, ctx: &Ctx<'_>) -> u64 {
        let t = &self.timeline;
        if t.status == 2 {
            (t.work_ms + ctx.now.saturating_sub(t.since_ms)).min(ctx.timing.oms_migration)
        } else {
            t.work_ms
        }
    }

    fn creation_at(&self, ctx: &Ctx<'_>) -> u64 {
        let t = &self.timeline;
        if t.tasks_created {
            ctx.timing.oms_task_creation
        } else if t.status == 1 {
            (t.creation_ms + ctx.now.saturating_sub(t.since_ms)).min(ctx.timing.oms_task_creation)
        } else {
            t.creation_ms
        }
    }

    /// Plans the failure of the next migration attempt from the group's fault rule.
    fn plan_failure(&mut self, ctx: &Ctx<'_>) {
        let t = &mut self.timeline;
        t.fail_at_work_ms = None;
        let Some(rule) = ctx.rule(&self.config.description) else {
            return;
        };
        let Some((percent, count)) = rule.migration_failures() else {
            return;
        };
        if t.failures >= count {
            return;
        }
        let percent = u64::from(percent);
        let point = percent + (100 - percent) * u64::from(t.failures) / u64::from(count);
        t.fail_at_work_ms = Some((ctx.timing.oms_migration * point / 100).max(t.work_ms));
        t.failure_message.clone_from(&rule.error_message);
    }

    /// Decides whether the task creation that starts now fails.
    fn plan_creation(&mut self, ctx: &Ctx<'_>) {
        let t = &mut self.timeline;
        t.creation_ms = 0;
        t.tasks_created = false;
        t.creation_failure = ctx
            .rule(&self.config.description)
            .and_then(|rule| rule.check_fail.as_ref())
            .filter(|fail| fail.times.is_none_or(|times| t.creation_failures < times))
            .map(|fail| {
                fail.message.clone().unwrap_or_else(|| {
                    "The AK/SK does not have permission to access the destination bucket (injected by the migspec emulator)".to_owned()
                })
            });
    }

    fn set_status(&mut self, status: u8, now: u64) {
        self.timeline.status = status;
        self.timeline.since_ms = now;
    }
}

fn processed(objects: u64, work: u64, total: u64) -> u64 {
    objects * work.min(total) / total.max(1)
}

/// FNV-1a, to derive stable object counts from the group's source.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

// ---------------------------------------------------------------------------------------
// Response shapes (reference §4.7).

#[derive(Serialize)]
struct ErrorReasonResp {
    error_code: String,
    error_msg: String,
}

#[derive(Serialize)]
struct SrcNodeResp {
    bucket: String,
    cloud_type: String,
    region: String,
    app_id: String,
    object_key: Vec<String>,
    list_file: Option<ListFile>,
}

#[derive(Serialize)]
struct DstNodeResp {
    bucket: String,
    region: String,
    save_prefix: String,
}

#[derive(Serialize)]
struct SmnInfo {
    notify_result: bool,
    notify_error_message: String,
    topic_name: String,
}

#[derive(Serialize)]
struct FailedObjectRecord {
    result: bool,
    list_file_key: String,
    error_code: String,
}

#[derive(Serialize)]
struct TaskGroupResp {
    group_id: String,
    status: u8,
    error_reason: ErrorReasonResp,
    src_node: SrcNodeResp,
    description: String,
    dst_node: DstNodeResp,
    enable_metadata_migration: bool,
    enable_failed_object_recording: bool,
    enable_restore: bool,
    enable_kms: bool,
    task_type: String,
    bandwidth_policy: Vec<BandwidthPolicy>,
    smn_config: Option<SmnInfo>,
    source_cdn: Option<CdnSettings>,
    migrate_since: i64,
    migrate_speed: u64,
    total_time: u64,
    start_time: u64,
    total_task_num: u64,
    create_task_num: u64,
    failed_task_num: u64,
    complete_task_num: u64,
    paused_task_num: u64,
    executing_task_num: u64,
    waiting_task_num: u64,
    total_num: u64,
    create_complete_num: u64,
    success_num: u64,
    fail_num: u64,
    skip_num: u64,
    total_size: u64,
    create_complete_size: u64,
    complete_size: u64,
    failed_object_record: FailedObjectRecord,
    object_overwrite_mode: String,
    dst_storage_policy: String,
    consistency_check: String,
    obs_system: &'static str,
    enable_requester_pays: bool,
}

#[derive(Serialize)]
struct ListResponse {
    taskgroups: Vec<Fragment>,
    count: usize,
}

#[derive(Serialize)]
struct CreateResponse {
    group_id: String,
}

fn view(group: &TaskGroup, ctx: &Ctx<'_>) -> TaskGroupResp {
    let t = &group.timeline;
    let config = &group.config;
    let (objects, bytes, tasks) = (group.total_objects, group.total_bytes, group.total_tasks);
    let creation_total = ctx.timing.oms_task_creation.max(1);
    let creation = group.creation_at(ctx);
    let created_tasks = if t.tasks_created {
        tasks
    } else {
        tasks * creation / creation_total
    };
    let work = group.work_at(ctx);
    let migration_total = ctx.timing.oms_migration;
    let done_objects = processed(objects, work, migration_total);
    let done_bytes = processed(bytes, work, migration_total);
    let complete_tasks = if t.status == 6 {
        tasks
    } else {
        processed(tasks, work, migration_total)
    };
    let failed = t.status == 5;
    let fail_num = if failed { objects - done_objects } else { 0 };
    let remaining_tasks = tasks - complete_tasks.min(tasks);
    let executing = if t.status == 2 {
        remaining_tasks.min(2)
    } else {
        0
    };
    let end = t
        .finished_ms
        .filter(|_| matches!(t.status, 4..=6))
        .unwrap_or(ctx.now);
    TaskGroupResp {
        group_id: group.group_id.clone(),
        status: t.status,
        error_reason: match (&t.error, t.status) {
            (Some((code, message)), 4 | 5) => ErrorReasonResp {
                error_code: code.clone(),
                error_msg: message.clone(),
            },
            _ => ErrorReasonResp {
                error_code: String::new(),
                error_msg: String::new(),
            },
        },
        src_node: SrcNodeResp {
            bucket: config.src_bucket.clone(),
            cloud_type: config.src_cloud_type.to_ascii_uppercase(),
            region: config.src_region.clone(),
            app_id: config.src_app_id.clone(),
            object_key: config.object_key.clone(),
            list_file: config.list_file.clone(),
        },
        description: config.description.clone(),
        dst_node: DstNodeResp {
            bucket: config.dst_bucket.clone(),
            region: config.dst_region.clone(),
            save_prefix: config.save_prefix.clone(),
        },
        enable_metadata_migration: config.enable_metadata_migration,
        enable_failed_object_recording: config.enable_failed_object_recording,
        enable_restore: config.enable_restore,
        enable_kms: config.enable_kms,
        task_type: config.task_type.clone(),
        bandwidth_policy: config.bandwidth_policy.clone(),
        smn_config: config.smn_config.as_ref().map(|smn| SmnInfo {
            notify_result: matches!(t.status, 5 | 6),
            notify_error_message: String::new(),
            topic_name: smn
                .topic_urn
                .rsplit(':')
                .next()
                .unwrap_or(&smn.topic_urn)
                .to_owned(),
        }),
        source_cdn: config.source_cdn.clone(),
        migrate_since: config.migrate_since,
        migrate_speed: if t.status == 2 {
            bytes * 1000 / migration_total.max(1)
        } else {
            0
        },
        total_time: end.saturating_sub(group.created_ms),
        start_time: group.created_ms,
        total_task_num: tasks,
        create_task_num: created_tasks,
        failed_task_num: if failed { remaining_tasks } else { 0 },
        complete_task_num: complete_tasks,
        paused_task_num: if matches!(t.status, 3 | 7) {
            remaining_tasks
        } else {
            0
        },
        executing_task_num: executing,
        waiting_task_num: if t.status == 2 {
            remaining_tasks - executing
        } else {
            0
        },
        total_num: objects,
        create_complete_num: if t.tasks_created {
            objects
        } else {
            objects * creation / creation_total
        },
        success_num: done_objects.saturating_sub(t.skipped_objects),
        fail_num,
        skip_num: t.skipped_objects,
        total_size: bytes,
        create_complete_size: if t.tasks_created {
            bytes
        } else {
            bytes * creation / creation_total
        },
        complete_size: done_bytes,
        failed_object_record: if failed && config.enable_failed_object_recording {
            FailedObjectRecord {
                result: true,
                list_file_key: format!(
                    "oms/failed_object_record/{}/failed_object_list.txt",
                    group.group_id
                ),
                error_code: String::new(),
            }
        } else {
            FailedObjectRecord {
                result: false,
                list_file_key: String::new(),
                error_code: String::new(),
            }
        },
        object_overwrite_mode: config.object_overwrite_mode.clone(),
        dst_storage_policy: config.dst_storage_policy.clone(),
        consistency_check: config.consistency_check.clone(),
        obs_system: "BUCKET",
        enable_requester_pays: config.enable_requester_pays,
    }
}

// ---------------------------------------------------------------------------------------
// Operations.

/// A successful answer, serialised only after the world lock is released.
pub(crate) type Payload = Box<dyn FnOnce() -> Vec<u8> + Send>;

fn reply<T: Serialize + Send + 'static>(payload: T) -> Payload {
    reply_sized(2048, payload)
}

fn reply_sized<T: Serialize + Send + 'static>(capacity: usize, payload: T) -> Payload {
    Box::new(move || {
        let mut out = Vec::with_capacity(capacity);
        if serde_json::to_writer(&mut out, &payload).is_err() {
            out.clear();
        }
        out
    })
}

/// Runs one operation; `Ok(None)` is an empty 200 answer.
pub(crate) fn dispatch(
    route: &Route,
    request: &ApiRequest,
    ctx: &Ctx<'_>,
    state: &mut HuaweiState,
) -> Result<Option<Payload>, OmsError> {
    match route.operation {
        Operation::Create => create(&body_object(request, CREATE)?, ctx, state).map(Some),
        Operation::List => list(&request.raw_query, ctx, state).map(Some),
        Operation::Show => {
            let group = find(state, ctx, route)?;
            Ok(Some(reply(view(group, ctx))))
        }
        Operation::Start => {
            let body = body_object(request, START)?;
            check_crypto(
                &body,
                &[
                    "src_crypto_type",
                    "dst_crypto_type",
                    "source_cdn_crypto_type",
                ],
            )?;
            check_lengths(&body, &["src_ak", "src_sk", "dst_ak", "dst_sk"], 100)?;
            let group = find(state, ctx, route)?;
            match group.timeline.status {
                3 => {
                    let status = if group.timeline.tasks_created { 2 } else { 1 };
                    group.set_status(status, ctx.now);
                    group.timeline.finished_ms = None;
                    Ok(None)
                }
                0..=2 => Err(OmsError::new(
                    StatusCode::BAD_REQUEST,
                    "OMS.0065",
                    "The task group has already been started.",
                )),
                6 => Err(OmsError::new(
                    StatusCode::BAD_REQUEST,
                    "OMS.0070",
                    "The migration is complete; the task group cannot be started or paused.",
                )),
                status => Err(OmsError::invalid(
                    "status",
                    &format!(
                        "only a paused task group (status 3) can be started; this one is in status {status}"
                    ),
                )),
            }
        }
        Operation::Stop => {
            let group = find(state, ctx, route)?;
            match group.timeline.status {
                1 | 2 => {
                    let creation = group.creation_at(ctx);
                    let work = group.work_at(ctx);
                    group.timeline.creation_ms = creation;
                    group.timeline.work_ms = work;
                    group.set_status(7, ctx.now);
                    Ok(None)
                }
                6 => Err(OmsError::new(
                    StatusCode::BAD_REQUEST,
                    "OMS.0070",
                    "The migration is complete; the task group cannot be started or paused.",
                )),
                _ => Err(OmsError::new(
                    StatusCode::BAD_REQUEST,
                    "OMS.0066",
                    "Failed to pause the task group: it is not in progress.",
                )),
            }
        }
        Operation::Retry => {
            let body = body_object(request, RETRY)?;
            check_crypto(
                &body,
                &[
                    "src_crypto_type",
                    "dst_crypto_type",
                    "source_cdn_crypto_type",
                ],
            )?;
            check_lengths(&body, &["src_ak", "src_sk", "dst_ak", "dst_sk"], 100)?;
            let failed_only = body
                .get("migrate_failed_object")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let group = find(state, ctx, route)?;
            match group.timeline.status {
                4 => {
                    group.plan_creation(ctx);
                    group.plan_failure(ctx);
                    group.timeline.error = None;
                    group.timeline.finished_ms = None;
                    group.set_status(1, ctx.now);
                    Ok(None)
                }
                5 => {
                    group.timeline.error = None;
                    group.timeline.finished_ms = None;
                    if failed_only {
                        // Only the failed objects are transferred again; the tasks exist.
                        group.plan_failure(ctx);
                        group.set_status(2, ctx.now);
                    } else {
                        // A full re-migration: list again, skip what is already there.
                        let total = ctx.timing.oms_migration;
                        group.timeline.skipped_objects =
                            processed(group.total_objects, group.timeline.work_ms, total);
                        group.plan_creation(ctx);
                        group.plan_failure(ctx);
                        group.set_status(1, ctx.now);
                    }
                    Ok(None)
                }
                status => Err(OmsError::invalid(
                    "status",
                    &format!(
                        "only a failed task group (status 4 or 5) can be retried; this one is in status {status}"
                    ),
                )),
            }
        }
        Operation::Update => {
            let body = body_object(request, UPDATE)?;
            let policy = bandwidth_policy(&body)?;
            let group = find(state, ctx, route)?;
            match group.timeline.status {
                6 => Err(OmsError::new(
                    StatusCode::BAD_REQUEST,
                    "OMS.0070",
                    "The migration is complete; the task group cannot be modified.",
                )),
                8 | 9 => Err(OmsError::invalid(
                    "status",
                    "the task group is being deleted",
                )),
                _ => {
                    group.config.bandwidth_policy = policy;
                    Ok(None)
                }
            }
        }
        Operation::Delete => {
            let group = find(state, ctx, route)?;
            match group.timeline.status {
                1 | 2 | 7 => Err(OmsError::new(
                    StatusCode::BAD_REQUEST,
                    "OMS.0063",
                    format!(
                        "The task group is in progress (status {}); pause it before deleting it.",
                        group.timeline.status
                    ),
                )),
                8 | 9 => Ok(None),
                3 if group
                    .timeline
                    .tasks_stopping_until
                    .is_some_and(|until| ctx.now < until) =>
                {
                    Err(OmsError::new(
                        StatusCode::BAD_REQUEST,
                        "OMS.0063",
                        "The task group is paused but its tasks are still stopping; delete it once they have stopped.",
                    ))
                }
                _ => {
                    group.set_status(8, ctx.now);
                    state.history.event(group_id_of(route), ctx.now, "deleted");
                    Ok(None)
                }
            }
        }
    }
}

fn body_object(request: &ApiRequest, schema: &[Field]) -> Result<Map<String, Value>, OmsError> {
    let object = if request.body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(&request.body) {
            Ok(Value::Object(object)) => object,
            Ok(_) => {
                return Err(OmsError::invalid(
                    "body",
                    "the request body must be a JSON object",
                ));
            }
            Err(error) => {
                return Err(OmsError::invalid(
                    "body",
                    &format!("the request body is not valid JSON: {error}"),
                ));
            }
        }
    };
    validate::<OmsError>(&object, schema)?;
    Ok(object)
}

/// The group id of a route (empty when it has none).
fn group_id_of(route: &Route) -> &str {
    route.group_id.as_deref().unwrap_or_default()
}

fn find<'a>(
    state: &'a mut HuaweiState,
    ctx: &Ctx<'_>,
    route: &Route,
) -> Result<&'a mut TaskGroup, OmsError> {
    let group_id = route.group_id.as_deref().unwrap_or_default();
    let gone = match state
        .groups
        .get_mut(group_id)
        .filter(|group| group.project_id == ctx.project_id)
    {
        None => return Err(OmsError::not_found(group_id)),
        Some(group) => {
            group.advance(ctx);
            group.timeline.gone
        }
    };
    if gone {
        state.groups.remove(group_id);
        return Err(OmsError::not_found(group_id));
    }
    state
        .groups
        .get_mut(group_id)
        .ok_or_else(|| OmsError::not_found(group_id))
}

fn text<'a>(object: &'a Map<String, Value>, name: &str) -> &'a str {
    object.get(name).and_then(Value::as_str).unwrap_or_default()
}

fn check_crypto(object: &Map<String, Value>, names: &[&str]) -> Result<(), OmsError> {
    for name in names {
        if let Some(value) = object
            .get(*name)
            .and_then(Value::as_str)
            .filter(|value| !CRYPTO_TYPES.contains(value))
        {
            return Err(OmsError::not_one_of(name, value, CRYPTO_TYPES));
        }
    }
    Ok(())
}

fn check_lengths(object: &Map<String, Value>, names: &[&str], max: usize) -> Result<(), OmsError> {
    for name in names {
        if object
            .get(*name)
            .and_then(Value::as_str)
            .is_some_and(|value| value.chars().count() > max)
        {
            return Err(OmsError::invalid(
                name,
                &format!("must be at most {max} characters"),
            ));
        }
    }
    Ok(())
}

fn minutes(text: &str) -> Option<u32> {
    let (hours, minutes) = text.split_once(':')?;
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    let (hours, minutes): (u32, u32) = (hours.parse().ok()?, minutes.parse().ok()?);
    (hours < 24 && minutes < 60).then_some(hours * 60 + minutes)
}

/// Validates `bandwidth_policy` (reference §4.4): at most 5 windows (`OMS.0083`),
/// 1 MB/s to 200 MB/s (`OMS.0084`), no overlaps (`OMS.0085`).
fn bandwidth_policy(object: &Map<String, Value>) -> Result<Vec<BandwidthPolicy>, OmsError> {
    let Some(items) = object.get("bandwidth_policy").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    if items.len() > 5 {
        return Err(OmsError::new(
            StatusCode::BAD_REQUEST,
            "OMS.0083",
            "Invalid request parameters. `bandwidth_policy`: at most 5 time windows are allowed",
        ));
    }
    let mut policies = Vec::new();
    let mut ranges: Vec<(u32, u32, usize)> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let path = format!("bandwidth_policy.{index}");
        let start = item
            .get("start")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let end = item.get("end").and_then(Value::as_str).unwrap_or_default();
        let max = item
            .get("max_bandwidth")
            .and_then(Value::as_i64)
            .unwrap_or_default();
        let from = minutes(start)
            .ok_or_else(|| OmsError::invalid(&format!("{path}.start"), "expected hh:mm"))?;
        let to = minutes(end)
            .ok_or_else(|| OmsError::invalid(&format!("{path}.end"), "expected hh:mm"))?;
        if !(MIN_BANDWIDTH..=MAX_BANDWIDTH).contains(&max) {
            return Err(OmsError::new(
                StatusCode::BAD_REQUEST,
                "OMS.0084",
                format!(
                    "Invalid request parameters. `{path}.max_bandwidth`: must be between {MIN_BANDWIDTH} and {MAX_BANDWIDTH} bytes/s"
                ),
            ));
        }
        // A window such as 22:00-06:00 wraps past midnight.
        if from < to {
            ranges.push((from, to, index));
        } else {
            ranges.push((from, 24 * 60, index));
            ranges.push((0, to, index));
        }
        policies.push(BandwidthPolicy {
            end: end.to_owned(),
            max_bandwidth: max,
            start: start.to_owned(),
        });
    }
    for (i, a) in ranges.iter().enumerate() {
        for b in &ranges[i + 1..] {
            if a.2 != b.2 && a.0 < b.1 && b.0 < a.1 {
                return Err(OmsError::new(
                    StatusCode::BAD_REQUEST,
                    "OMS.0085",
                    format!(
                        "Invalid request parameters. `bandwidth_policy`: windows {} and {} overlap",
                        a.2, b.2
                    ),
                ));
            }
        }
    }
    Ok(policies)
}

fn choice(
    object: &Map<String, Value>,
    name: &str,
    allowed: &[&str],
    default: &str,
) -> Result<String, OmsError> {
    match object.get(name).and_then(Value::as_str) {
        None => Ok(default.to_owned()),
        Some(value) if allowed.contains(&value) => Ok(value.to_owned()),
        Some(value) => Err(OmsError::not_one_of(name, value, allowed)),
    }
}

fn create(
    body: &Map<String, Value>,
    ctx: &Ctx<'_>,
    state: &mut HuaweiState,
) -> Result<Payload, OmsError> {
    let empty = Map::new();
    let src = body
        .get("src_node")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let dst = body
        .get("dst_node")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let flag =
        |name: &str, default: bool| body.get(name).and_then(Value::as_bool).unwrap_or(default);

    let description = text(body, "description");
    if description.chars().count() > 255 {
        return Err(OmsError::invalid(
            "description",
            "must be at most 255 characters",
        ));
    }
    if description.chars().any(|c| "^<>&\"'".contains(c)) {
        return Err(OmsError::new(
            StatusCode::BAD_REQUEST,
            "OMS.0078",
            "The description contains forbidden characters (^ < > & \" ').",
        ));
    }
    let task_type = choice(body, "task_type", TASK_TYPES, "PREFIX")?;
    let src_cloud_type = match src.get("cloud_type").and_then(Value::as_str) {
        None => "Aliyun".to_owned(),
        Some(value) => SRC_CLOUD_TYPES
            .iter()
            .find(|known| known.eq_ignore_ascii_case(value))
            .map(|known| (*known).to_owned())
            .ok_or_else(|| OmsError::not_one_of("src_node.cloud_type", value, SRC_CLOUD_TYPES))?,
    };
    if let Some(value) = dst
        .get("cloud_type")
        .and_then(Value::as_str)
        .filter(|value| {
            !DST_CLOUD_TYPES
                .iter()
                .any(|k| k.eq_ignore_ascii_case(value))
        })
    {
        return Err(OmsError::not_one_of(
            "dst_node.cloud_type",
            value,
            DST_CLOUD_TYPES,
        ));
    }
    check_crypto(src, &["crypto_type"]).map_err(|_| {
        OmsError::not_one_of(
            "src_node.crypto_type",
            text(src, "crypto_type"),
            CRYPTO_TYPES,
        )
    })?;
    check_crypto(dst, &["crypto_type"]).map_err(|_| {
        OmsError::not_one_of(
            "dst_node.crypto_type",
            text(dst, "crypto_type"),
            CRYPTO_TYPES,
        )
    })?;
    for (node, object) in [("src_node", src), ("dst_node", dst)] {
        for name in ["ak", "sk"] {
            if text(object, name).chars().count() > 100 {
                return Err(OmsError::invalid(
                    &format!("{node}.{name}"),
                    "must be at most 100 characters",
                ));
            }
        }
    }
    let url_list = task_type == "URL_LIST";
    if url_list && src_cloud_type != "URLSource" {
        return Err(OmsError::invalid(
            "src_node.cloud_type",
            "must be URLSource when task_type is URL_LIST",
        ));
    }
    if !url_list {
        for name in ["region", "ak", "sk", "bucket"] {
            if text(src, name).is_empty() {
                return Err(OmsError::invalid(
                    &format!("src_node.{name}"),
                    "this field is required",
                ));
            }
        }
    }
    if src_cloud_type == "Tencent" && text(src, "app_id").is_empty() {
        return Err(OmsError::invalid(
            "src_node.app_id",
            "is required for Tencent sources",
        ));
    }
    let list_file: Option<ListFile> = match src.get("list_file").filter(|v| !v.is_null()) {
        Some(value) => Some(
            serde_json::from_value(value.clone())
                .map_err(|error| OmsError::invalid("src_node.list_file", &error.to_string()))?,
        ),
        None => None,
    };
    if task_type != "PREFIX" && list_file.is_none() {
        return Err(OmsError::invalid(
            "src_node.list_file",
            &format!("is required when task_type is {task_type}"),
        ));
    }
    for name in ["ak", "sk", "region", "bucket"] {
        if text(dst, name).is_empty() {
            return Err(OmsError::invalid(
                &format!("dst_node.{name}"),
                "must not be empty",
            ));
        }
    }
    let object_key: Vec<String> = src
        .get("object_key")
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_else(|| {
            if task_type == "PREFIX" {
                vec![String::new()]
            } else {
                Vec::new()
            }
        });
    let bandwidth_policy = bandwidth_policy(body)?;
    let smn_config = match body.get("smn_config").and_then(Value::as_object) {
        Some(smn) => {
            let conditions: Vec<String> = smn
                .get("trigger_conditions")
                .and_then(Value::as_array)
                .map(|c| {
                    c.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            if let Some(bad) = conditions
                .iter()
                .find(|c| !["SUCCESS", "FAILURE"].contains(&c.as_str()))
            {
                return Err(OmsError::not_one_of(
                    "smn_config.trigger_conditions",
                    bad,
                    &["SUCCESS", "FAILURE"],
                ));
            }
            let language = choice(smn, "language", &["zh-cn", "en-us"], "zh-cn").map_err(|_| {
                OmsError::not_one_of(
                    "smn_config.language",
                    text(smn, "language"),
                    &["zh-cn", "en-us"],
                )
            })?;
            Some(SmnSettings {
                topic_urn: text(smn, "topic_urn").to_owned(),
                trigger_conditions: conditions,
                language,
            })
        }
        None => None,
    };
    let source_cdn = match body.get("source_cdn").and_then(Value::as_object) {
        Some(cdn) => {
            let protocol = text(cdn, "protocol");
            if !["http", "https"].contains(&protocol.to_ascii_lowercase().as_str()) {
                return Err(OmsError::not_one_of(
                    "source_cdn.protocol",
                    protocol,
                    &["http", "https"],
                ));
            }
            let authentication = text(cdn, "authentication_type");
            if !CDN_AUTHENTICATION_TYPES.contains(&authentication) {
                return Err(OmsError::not_one_of(
                    "source_cdn.authentication_type",
                    authentication,
                    CDN_AUTHENTICATION_TYPES,
                ));
            }
            if authentication != "NONE" && text(cdn, "authentication_key").is_empty() {
                return Err(OmsError::new(
                    StatusCode::BAD_REQUEST,
                    "OMS.1032",
                    "The CDN authentication key is required for this authentication type.",
                ));
            }
            Some(CdnSettings {
                domain: text(cdn, "domain").to_owned(),
                protocol: protocol.to_owned(),
                authentication_type: authentication.to_owned(),
            })
        }
        None => None,
    };
    let migrate_since = body
        .get("migrate_since")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if migrate_since < 0 {
        return Err(OmsError::invalid("migrate_since", "must not be negative"));
    }
    let object_overwrite_mode = choice(
        body,
        "object_overwrite_mode",
        OVERWRITE_MODES,
        "SIZE_LAST_MODIFIED_COMPARISON_OVERWRITE",
    )?;
    if object_overwrite_mode == "CRC64_COMPARISON_OVERWRITE"
        && !["HuaweiCloud", "Aliyun", "Tencent", "HEC"].contains(&src_cloud_type.as_str())
    {
        return Err(OmsError::invalid(
            "object_overwrite_mode",
            "CRC64_COMPARISON_OVERWRITE needs a Huawei, Aliyun or Tencent source",
        ));
    }
    let consistency_check = choice(
        body,
        "consistency_check",
        CONSISTENCY_CHECKS,
        "size_last_modified",
    )?;
    if consistency_check == "no_check" && !url_list {
        return Err(OmsError::invalid(
            "consistency_check",
            "no_check is only for HTTP/HTTPS (URL_LIST) sources",
        ));
    }
    let config = GroupConfig {
        description: description.to_owned(),
        task_type,
        src_cloud_type,
        src_region: text(src, "region").to_owned(),
        src_bucket: text(src, "bucket").to_owned(),
        src_app_id: text(src, "app_id").to_owned(),
        object_key,
        list_file,
        dst_region: text(dst, "region").to_owned(),
        dst_bucket: text(dst, "bucket").to_owned(),
        save_prefix: text(dst, "save_prefix").to_owned(),
        enable_metadata_migration: flag("enable_metadata_migration", false),
        enable_failed_object_recording: flag("enable_failed_object_recording", true),
        enable_restore: flag("enable_restore", false),
        enable_kms: flag("enable_kms", false),
        bandwidth_policy,
        smn_config,
        source_cdn,
        migrate_since,
        object_overwrite_mode,
        dst_storage_policy: choice(body, "dst_storage_policy", STORAGE_POLICIES, "STANDARD")?,
        consistency_check,
        enable_requester_pays: flag("enable_requester_pays", false),
    };
    let hash = fnv(&format!(
        "{}/{}/{}",
        config.src_bucket,
        config.object_key.join(","),
        config.description
    ));
    let total_objects = 2_000 + hash % 8_000;
    let average_size = 65_536 + (hash >> 20) % 4_194_304;
    state.sequence += 1;
    let group_id = uuid::Uuid::new_v4().to_string();
    let mut group = TaskGroup {
        group_id: group_id.clone(),
        project_id: ctx.project_id.to_owned(),
        sequence: state.sequence,
        created_ms: ctx.now,
        config,
        total_objects,
        total_bytes: total_objects * average_size,
        total_tasks: total_objects.div_ceil(1_000),
        timeline: GroupTimeline {
            status: 0,
            since_ms: ctx.now,
            creation_ms: 0,
            tasks_created: false,
            work_ms: 0,
            skipped_objects: 0,
            fail_at_work_ms: None,
            failures: 0,
            creation_failures: 0,
            creation_failure: None,
            failure_message: None,
            error: None,
            finished_ms: None,
            gone: false,
            tasks_stopping_until: None,
        },
        cached: None,
    };
    group.plan_creation(ctx);
    group.plan_failure(ctx);
    state.history.created(&group_id, ctx.now, group.identity());
    state.groups.insert(group_id.clone(), group);
    Ok(reply(CreateResponse { group_id }))
}

/// The group's `TaskGroupResp`, from the cache once it can no longer change by itself.
fn fragment(group: &mut TaskGroup, ctx: &Ctx<'_>) -> Fragment {
    if let Some(cached) = &group.cached {
        return cached.clone();
    }
    let fragment = Fragment::of(&view(group, ctx));
    if matches!(group.timeline.status, 4..=6) {
        group.cached = Some(fragment.clone());
    }
    fragment
}

fn list(raw_query: &str, ctx: &Ctx<'_>, state: &mut HuaweiState) -> Result<Payload, OmsError> {
    let pairs = crate::encoding::parse_query(raw_query);
    let param = |name: &str, min: i64, max: i64| -> Result<Option<i64>, OmsError> {
        match pairs.iter().rev().find(|(key, _)| key == name) {
            None => Ok(None),
            Some((_, value)) => value
                .parse::<i64>()
                .ok()
                .filter(|value| (min..=max).contains(value))
                .map(Some)
                .ok_or_else(|| {
                    OmsError::invalid(name, &format!("must be an integer between {min} and {max}"))
                }),
        }
    };
    let limit = usize::try_from(param("limit", 1, 100)?.unwrap_or(10)).unwrap_or(10);
    let offset = usize::try_from(param("offset", 0, 2_147_483_647)?.unwrap_or(0)).unwrap_or(0);
    let status = param("status", 0, 9)?;
    let mut gone = Vec::new();
    for group in state
        .groups
        .values_mut()
        .filter(|group| group.project_id == ctx.project_id)
    {
        group.advance(ctx);
        if group.timeline.gone {
            gone.push(group.group_id.clone());
        }
    }
    for group_id in gone {
        state.groups.remove(&group_id);
    }
    let mut matches: Vec<&mut TaskGroup> = state
        .groups
        .values_mut()
        .filter(|group| group.project_id == ctx.project_id)
        .filter(|group| status.is_none_or(|status| i64::from(group.timeline.status) == status))
        .collect();
    // Newest first, like the console.
    matches.sort_by(|a, b| {
        b.created_ms
            .cmp(&a.created_ms)
            .then(b.sequence.cmp(&a.sequence))
    });
    let count = matches.len();
    let taskgroups: Vec<Fragment> = matches
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|group| fragment(group, ctx))
        .collect();
    let capacity = crate::fragment::capacity(&taskgroups, 64);
    Ok(reply_sized(capacity, ListResponse { taskgroups, count }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(items: Value) -> Result<Vec<BandwidthPolicy>, OmsError> {
        let mut object = Map::new();
        object.insert("bandwidth_policy".to_owned(), items);
        bandwidth_policy(&object)
    }

    #[test]
    fn bandwidth_policies_are_checked() {
        let mb = 1_048_576;
        assert_eq!(
            policy(
                serde_json::json!([{"start": "00:00", "end": "06:00", "max_bandwidth": 100 * mb}])
            )
            .map(|p| p.len()),
            Ok(1)
        );
        let too_fast = policy(
            serde_json::json!([{"start": "00:00", "end": "06:00", "max_bandwidth": 300 * mb}]),
        )
        .expect_err("range");
        assert_eq!(too_fast.code, "OMS.0084");
        let overlap = policy(serde_json::json!([
            {"start": "22:00", "end": "06:00", "max_bandwidth": mb},
            {"start": "05:00", "end": "07:00", "max_bandwidth": mb}
        ]))
        .expect_err("overlap");
        assert_eq!(overlap.code, "OMS.0085");
        let many: Vec<Value> = (0..6).map(|h| serde_json::json!({"start": format!("0{h}:00"), "end": format!("0{h}:30"), "max_bandwidth": mb})).collect();
        assert_eq!(
            policy(Value::Array(many)).expect_err("count").code,
            "OMS.0083"
        );
        let bad_time =
            policy(serde_json::json!([{"start": "7:00", "end": "08:00", "max_bandwidth": mb}]))
                .expect_err("format");
        assert_eq!(bad_time.code, "OMS.0064");
        assert!(bad_time.message.contains("bandwidth_policy.0.start"));
    }
}
