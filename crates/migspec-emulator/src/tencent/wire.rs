//! Tencent DTS wire structures, written from the API reference (§1.5, §2.4).
//!
//! These are the emulator's own types: nothing is shared with migspec's clients. The
//! configuration structs are both stored and returned; they deserialize with
//! `deny_unknown_fields` and default every field, so a response always carries every
//! documented key (`""`/`0` when unset) exactly as the real service does.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fragment::Fragment;

// ---------------------------------------------------------------------------------------
// 2018-03-30

/// `SrcInfo` (2018).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default, deny_unknown_fields)]
pub(crate) struct SrcInfo {
    pub(crate) access_key: String,
    pub(crate) ip: String,
    pub(crate) port: i64,
    pub(crate) user: String,
    pub(crate) password: String,
    pub(crate) rds_instance_id: String,
    pub(crate) cvm_instance_id: String,
    pub(crate) uniq_dcg_id: String,
    pub(crate) vpc_id: String,
    pub(crate) subnet_id: String,
    pub(crate) uniq_vpn_gw_id: String,
    pub(crate) instance_id: String,
    pub(crate) region: String,
    pub(crate) supplier: String,
    pub(crate) ccn_id: String,
    pub(crate) engine_version: String,
}

impl SrcInfo {
    /// The value returned by the API: the password is never sent back.
    pub(crate) fn redacted(&self) -> Self {
        Self {
            password: String::new(),
            ..self.clone()
        }
    }
}

/// `DstInfo` (2018).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default, deny_unknown_fields)]
pub(crate) struct DstInfo {
    pub(crate) region: String,
    pub(crate) instance_id: String,
    pub(crate) ip: String,
    pub(crate) port: i64,
    pub(crate) read_only: i64,
    pub(crate) user: String,
    pub(crate) password: String,
}

impl DstInfo {
    /// The value returned by the API: the password is never sent back.
    pub(crate) fn redacted(&self) -> Self {
        Self {
            password: String::new(),
            ..self.clone()
        }
    }
}

/// `ConsistencyParams` (2018); all zeros when unused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default, deny_unknown_fields)]
pub(crate) struct ConsistencyParams {
    pub(crate) select_rows_per_table: i64,
    pub(crate) tables_select_all: i64,
    pub(crate) tables_select_count: i64,
}

/// `MigrateOption` (2018).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default, deny_unknown_fields)]
pub(crate) struct MigrateOption2018 {
    pub(crate) run_mode: i64,
    pub(crate) expect_time: String,
    pub(crate) migrate_type: i64,
    pub(crate) migrate_object: i64,
    pub(crate) consistency_type: i64,
    pub(crate) is_override_root: i64,
    pub(crate) extern_params: String,
    pub(crate) consistency_params: ConsistencyParams,
}

/// `TagItem` (both versions).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default, deny_unknown_fields)]
pub(crate) struct TagItem {
    pub(crate) tag_key: String,
    pub(crate) tag_value: String,
}

/// `MigrateStepDetailInfo` (2018).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MigrateStepDetailInfo {
    pub(crate) step_no: i64,
    pub(crate) step_name: &'static str,
    pub(crate) step_id: &'static str,
    pub(crate) status: i64,
    pub(crate) start_time: String,
}

/// `MigrateDetailInfo` (2018).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MigrateDetailInfo2018 {
    pub(crate) step_all: i64,
    pub(crate) step_now: i64,
    pub(crate) progress: String,
    pub(crate) current_step_progress: String,
    pub(crate) master_slave_distance: i64,
    pub(crate) seconds_behind_master: i64,
    pub(crate) step_info: Vec<MigrateStepDetailInfo>,
}

/// `ErrorInfo` (2018).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ErrorInfo {
    pub(crate) error_log: String,
    pub(crate) help_doc: String,
}

/// `MigrateJobInfo` (2018): every field is always returned.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MigrateJobInfo {
    pub(crate) job_id: String,
    pub(crate) job_name: String,
    pub(crate) migrate_option: Fragment,
    pub(crate) src_database_type: String,
    pub(crate) src_access_type: String,
    pub(crate) src_info: Fragment,
    pub(crate) dst_database_type: String,
    pub(crate) dst_access_type: String,
    pub(crate) dst_info: Fragment,
    pub(crate) database_info: String,
    pub(crate) create_time: String,
    pub(crate) start_time: String,
    pub(crate) end_time: String,
    pub(crate) status: i64,
    pub(crate) detail: MigrateDetailInfo2018,
    pub(crate) error_info: Vec<ErrorInfo>,
    pub(crate) tags: Fragment,
    pub(crate) src_info_multi: Fragment,
}

/// `DescribeMigrateJobs` response (2018).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeMigrateJobsResponse {
    pub(crate) total_count: usize,
    pub(crate) job_list: Vec<Fragment>,
}

/// `DescribeMigrateCheckJob` response (2018).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeMigrateCheckJobResponse {
    pub(crate) status: &'static str,
    pub(crate) error_code: i64,
    pub(crate) error_message: String,
    pub(crate) progress: String,
    pub(crate) check_flag: i64,
}

/// A response with a single `JobId`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct JobIdResponse {
    pub(crate) job_id: String,
}

/// A response with only `RequestId`.
#[derive(Debug, Serialize)]
pub(crate) struct Empty {}

// ---------------------------------------------------------------------------------------
// 2021-12-06

/// `KeyValuePairOption`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default, deny_unknown_fields)]
pub(crate) struct KeyValuePairOption {
    pub(crate) key: String,
    pub(crate) value: String,
}

/// `DBInfo` (2021): every key is returned, secrets blanked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default, deny_unknown_fields)]
pub(crate) struct DbInfo {
    pub(crate) role: String,
    pub(crate) db_kernel: String,
    pub(crate) host: String,
    pub(crate) port: i64,
    pub(crate) user: String,
    pub(crate) password: String,
    pub(crate) cvm_instance_id: String,
    pub(crate) uniq_vpn_gw_id: String,
    pub(crate) uniq_dcg_id: String,
    pub(crate) instance_id: String,
    pub(crate) ccn_gw_id: String,
    pub(crate) vpc_id: String,
    pub(crate) subnet_id: String,
    pub(crate) engine_version: String,
    pub(crate) account: String,
    pub(crate) account_role: String,
    pub(crate) account_mode: String,
    pub(crate) tmp_secret_id: String,
    pub(crate) tmp_secret_key: String,
    pub(crate) tmp_token: String,
    pub(crate) encrypt_conn: String,
    pub(crate) set_id: String,
}

/// `DBEndpointInfo` (2021).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default, deny_unknown_fields)]
pub(crate) struct DbEndpointInfo {
    pub(crate) region: String,
    pub(crate) access_type: String,
    pub(crate) database_type: String,
    pub(crate) node_type: String,
    pub(crate) info: Vec<DbInfo>,
    pub(crate) supplier: String,
    pub(crate) extra_attr: Vec<KeyValuePairOption>,
    pub(crate) database_net_env: String,
    pub(crate) connect_type: String,
    pub(crate) ccn_owner_uin: String,
}

impl DbEndpointInfo {
    /// The value returned by the API: passwords and temporary secrets blanked.
    pub(crate) fn redacted(&self) -> Self {
        let info = self
            .info
            .iter()
            .map(|db| DbInfo {
                password: String::new(),
                tmp_secret_key: String::new(),
                tmp_token: String::new(),
                ..db.clone()
            })
            .collect();
        Self {
            info,
            ..self.clone()
        }
    }
}

/// `MigrateOption` (2021). Nested structures are kept as validated JSON and echoed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct MigrateOption2021 {
    pub(crate) database_table: Value,
    #[serde(default)]
    pub(crate) migrate_type: String,
    #[serde(default)]
    pub(crate) consistency: Option<Value>,
    #[serde(default)]
    pub(crate) is_migrate_account: bool,
    #[serde(default)]
    pub(crate) is_override_root: bool,
    #[serde(default)]
    pub(crate) is_dst_read_only: bool,
    #[serde(default)]
    pub(crate) extra_attr: Vec<KeyValuePairOption>,
    #[serde(default)]
    pub(crate) migrate_way: String,
    #[serde(default)]
    pub(crate) rate_limit: Option<Value>,
    #[serde(default)]
    pub(crate) skip_ddl_on_error: Option<Value>,
}

/// `MigrateAction`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MigrateAction {
    pub(crate) all_action: Vec<&'static str>,
    pub(crate) allowed_action: Vec<&'static str>,
}

/// `ProcessStepTip`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ProcessStepTip {
    pub(crate) message: String,
    pub(crate) solution: String,
    pub(crate) help_doc: String,
}

/// `StepDetailInfo`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StepDetailInfo {
    pub(crate) step_no: i64,
    pub(crate) step_name: &'static str,
    pub(crate) step_id: &'static str,
    pub(crate) status: &'static str,
    pub(crate) start_time: String,
    pub(crate) finish_time: String,
    pub(crate) step_message: String,
    pub(crate) percent: i64,
    pub(crate) errors: Vec<ProcessStepTip>,
    pub(crate) warnings: Vec<ProcessStepTip>,
}

/// `MigrateDetailInfo` (2021).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MigrateDetailInfo2021 {
    pub(crate) step_all: i64,
    pub(crate) step_now: i64,
    pub(crate) master_slave_distance: i64,
    pub(crate) seconds_behind_master: i64,
    pub(crate) step_info: Vec<StepDetailInfo>,
}

/// `CompareTaskInfo`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CompareTaskInfo {
    pub(crate) compare_task_id: String,
    pub(crate) status: String,
}

/// `TradeInfo`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TradeInfo {
    pub(crate) deal_name: String,
    pub(crate) last_deal_name: String,
    pub(crate) instance_class: String,
    pub(crate) trade_status: &'static str,
    pub(crate) expire_time: String,
    pub(crate) offline_time: String,
    pub(crate) isolate_time: String,
    pub(crate) offline_reason: String,
    pub(crate) isolate_reason: String,
    pub(crate) pay_type: &'static str,
    pub(crate) billing_type: &'static str,
}

/// `JobItem` (element of `DescribeMigrationJobs.JobList`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct JobItem {
    pub(crate) job_id: String,
    pub(crate) job_name: String,
    pub(crate) create_time: String,
    pub(crate) update_time: String,
    pub(crate) start_time: String,
    pub(crate) end_time: String,
    pub(crate) brief_msg: String,
    pub(crate) status: &'static str,
    pub(crate) run_mode: String,
    pub(crate) expect_run_time: String,
    pub(crate) action: MigrateAction,
    pub(crate) step_info: MigrateDetailInfo2021,
    pub(crate) src_info: Fragment,
    pub(crate) dst_info: Fragment,
    pub(crate) compare_task: CompareTaskInfo,
    pub(crate) trade_info: TradeInfo,
    pub(crate) tags: Fragment,
    pub(crate) auto_retry_time_range_minutes: i64,
    pub(crate) dumper_resume_ctrl: &'static str,
}

/// `DescribeMigrationJobs` response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeMigrationJobsResponse {
    pub(crate) total_count: usize,
    pub(crate) job_list: Vec<Fragment>,
}

/// `ProcessProgress`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ProcessProgress {
    pub(crate) status: &'static str,
    pub(crate) percent: i64,
    pub(crate) step_all: i64,
    pub(crate) step_now: i64,
    pub(crate) message: String,
    pub(crate) steps: Vec<StepDetailInfo>,
}

/// `CheckStepInfo`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CheckStepInfo {
    pub(crate) start_at: String,
    pub(crate) end_at: String,
    pub(crate) progress: ProcessProgress,
}

/// `ErrorInfoItem`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ErrorInfoItem {
    pub(crate) code: String,
    pub(crate) solution: String,
    pub(crate) error_log: String,
    pub(crate) help_doc: String,
}

/// `RateLimitOption`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RateLimitOption {
    pub(crate) current_dump_thread: i64,
    pub(crate) default_dump_thread: i64,
    pub(crate) current_dump_rps: i64,
    pub(crate) default_dump_rps: i64,
    pub(crate) current_load_thread: i64,
    pub(crate) default_load_thread: i64,
    pub(crate) current_load_rps: i64,
    pub(crate) default_load_rps: i64,
    pub(crate) current_sinker_thread: i64,
    pub(crate) default_sinker_thread: i64,
    pub(crate) has_user_set_rate_limit: &'static str,
}

/// `DescribeMigrationDetail` response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeMigrationDetailResponse {
    pub(crate) job_id: String,
    pub(crate) job_name: String,
    pub(crate) create_time: String,
    pub(crate) update_time: String,
    pub(crate) start_time: String,
    pub(crate) end_time: String,
    pub(crate) brief_msg: String,
    pub(crate) status: &'static str,
    pub(crate) action: MigrateAction,
    pub(crate) step_info: MigrateDetailInfo2021,
    pub(crate) src_info: Fragment,
    pub(crate) dst_info: Fragment,
    pub(crate) compare_task: CompareTaskInfo,
    pub(crate) tags: Fragment,
    pub(crate) run_mode: String,
    pub(crate) expect_run_time: String,
    pub(crate) migrate_option: Option<MigrateOption2021>,
    pub(crate) check_step_info: CheckStepInfo,
    pub(crate) trade_info: TradeInfo,
    pub(crate) error_info: Vec<ErrorInfoItem>,
    pub(crate) dumper_resume_ctrl: &'static str,
    pub(crate) rate_limit_option: RateLimitOption,
}

/// `DetailCheckItem`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DetailCheckItem {
    pub(crate) check_item_name: String,
    pub(crate) description: String,
    pub(crate) check_result: &'static str,
    pub(crate) failure_reason: String,
    pub(crate) solution: String,
    pub(crate) error_log: Vec<String>,
    pub(crate) help_doc: Vec<String>,
    pub(crate) skip_info: String,
}

/// `CheckStep`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CheckStep {
    pub(crate) step_no: i64,
    pub(crate) step_id: &'static str,
    pub(crate) step_name: &'static str,
    pub(crate) step_status: &'static str,
    pub(crate) step_message: String,
    pub(crate) detail_check_items: Vec<DetailCheckItem>,
    pub(crate) has_skipped: bool,
}

/// `DescribeMigrationCheckJob` response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeMigrationCheckJobResponse {
    pub(crate) status: &'static str,
    pub(crate) brief_msg: String,
    pub(crate) step_info: Vec<CheckStep>,
    pub(crate) check_flag: &'static str,
}

/// `CreateMigrationService` response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct JobIdsResponse {
    pub(crate) job_ids: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_configuration_fields_serialize_as_empty_values() {
        let value = serde_json::to_value(SrcInfo {
            ip: "1.2.3.4".to_owned(),
            ..SrcInfo::default()
        })
        .expect("json");
        assert_eq!(value["Ip"], "1.2.3.4");
        assert_eq!(value["Port"], 0);
        assert_eq!(value["UniqVpnGwId"], "");
        assert_eq!(value.as_object().map(serde_json::Map::len), Some(16));
        let db = serde_json::to_value(DbInfo::default()).expect("json");
        assert_eq!(db.as_object().map(serde_json::Map::len), Some(22));
        assert!(
            db.get("CcnGwId").is_some()
                && db.get("DbKernel").is_some()
                && db.get("SetId").is_some()
        );
    }
}
