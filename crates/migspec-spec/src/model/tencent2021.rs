//! `TencentDtsMigrationJob`: a Tencent Cloud DTS migration job, API version 2021-12-06
//! (CreateMigrationService buys the job, ModifyMigrationJob configures it). Field names are
//! the API's own.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{DeletionPolicy, KeyValue, SecretRef, TagItem, TencentOnFailure, Timeouts};
use crate::api_enum;

/// The `spec` of a `TencentDtsMigrationJob`: the CreateMigrationService fields plus the
/// ModifyMigrationJob body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct MigrationJobSpec {
    /// The region of the request; must equal `DstRegion`.
    #[serde(rename = "region")]
    #[schemars(regex(pattern = r"^[a-z]{2,4}-[a-z]+(-[a-z0-9]+)*$"))]
    pub region: String,
    /// Job name (at most 128 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub job_name: Option<String>,
    /// Source database type (CreateMigrationService; fixed after creation).
    pub src_database_type: DatabaseType,
    /// Target database type (CreateMigrationService; fixed after creation).
    pub dst_database_type: DatabaseType,
    /// Source region (CreateMigrationService; fixed after creation).
    // Format of every Tencent region name (tencent-dts-api.md §1.5: e.g. `ap-guangzhou`).
    #[schemars(regex(pattern = r"^[a-z]{2,4}-[a-z]+(-[a-z0-9]+)*$"))]
    pub src_region: String,
    /// Target region (CreateMigrationService; fixed after creation; equals `region`).
    // Format of every Tencent region name (tencent-dts-api.md §1.5: e.g. `ap-guangzhou`).
    #[schemars(regex(pattern = r"^[a-z]{2,4}-[a-z]+(-[a-z0-9]+)*$"))]
    pub dst_region: String,
    /// Job specification (billing class).
    pub instance_class: InstanceClass,
    /// Tags of the job. migspec adds `migspec:address=<metadata.name>` itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TagItem>,
    /// Run mode.
    pub run_mode: RunMode,
    /// Start time of a `timed` job, `yyyy-mm-dd hh:mm:ss`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"))]
    pub expect_run_time: Option<String>,
    /// Migration options.
    pub migrate_option: MigrateOption,
    /// Source endpoint.
    pub src_info: DBEndpointInfo,
    /// Target endpoint.
    pub dst_info: DBEndpointInfo,
    /// Minutes during which DTS retries automatically after a transient failure (5–720; 0 turns it off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 720))]
    pub auto_retry_time_range_minutes: Option<u32>,
}

/// `MigrateOption` (2021-12-06).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct MigrateOption {
    /// What to migrate.
    pub database_table: DatabaseTableObject,
    /// Migration type (default `fullAndIncrement`; Redis supports only that).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrate_type: Option<MigrateType>,
    /// Consistency check settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency: Option<ConsistencyOption>,
    /// Whether to migrate accounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_migrate_account: Option<bool>,
    /// Overwrite the target's root account (old-style jobs; false for partial or structure jobs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_override_root: Option<bool>,
    /// Make the target read-only during the migration (MySQL only; default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_dst_read_only: Option<bool>,
    /// Extra attributes, e.g. Redis `DstWriteMode` (`clearData`, `overwrite`, `normal`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_attr: Vec<KeyValue>,
    /// PostgreSQL migration method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrate_way: Option<MigrateWay>,
    /// Rate limits for the configuration stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// DDL errors to skip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_ddl_on_error: Option<SkipDdlOnError>,
}

/// `DatabaseTableObject`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct DatabaseTableObject {
    /// `all` objects or a `partial` selection (then `Databases` is required).
    pub object_mode: ObjectMode,
    /// The selected databases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub databases: Vec<DBItem>,
    /// Advanced objects to migrate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advanced_objects: Vec<AdvancedObject>,
}

/// `DBItem`: one database of a partial selection. Names are case-sensitive.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct DBItem {
    /// Database name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // The reference gives no length; engines cap identifiers at 64 (MySQL, MongoDB), 63
    // (PostgreSQL) or 128 (SQL Server) characters.
    #[schemars(length(min = 1, max = 128))]
    pub db_name: Option<String>,
    /// New name on the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // The reference gives no length; engines cap identifiers at 64 (MySQL, MongoDB), 63
    // (PostgreSQL) or 128 (SQL Server) characters.
    #[schemars(length(min = 1, max = 128))]
    pub new_db_name: Option<String>,
    /// Schema name (PostgreSQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // The reference gives no length; engines cap identifiers at 64 (MySQL, MongoDB), 63
    // (PostgreSQL) or 128 (SQL Server) characters.
    #[schemars(length(min = 1, max = 128))]
    pub schema_name: Option<String>,
    /// New schema name on the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // The reference gives no length; engines cap identifiers at 64 (MySQL, MongoDB), 63
    // (PostgreSQL) or 128 (SQL Server) characters.
    #[schemars(length(min = 1, max = 128))]
    pub new_schema_name: Option<String>,
    /// Whether the whole database is selected.
    #[serde(rename = "DBMode", default, skip_serializing_if = "Option::is_none")]
    pub db_mode: Option<SelectionMode>,
    /// Whether the whole schema is selected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_mode: Option<SelectionMode>,
    /// Whether all tables are selected (required when `DBMode` is `partial`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_mode: Option<SelectionMode>,
    /// The selected tables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<TableItem>,
    /// Whether all views are selected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view_mode: Option<SelectionMode>,
    /// The selected views.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub views: Vec<ViewItem>,
    /// Whether all roles are selected (PostgreSQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_mode: Option<SelectionMode>,
    /// The selected roles (PostgreSQL).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<RoleItem>,
    /// Whether all functions are selected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_mode: Option<SelectionMode>,
    /// Whether all triggers are selected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_mode: Option<SelectionMode>,
    /// Whether all events are selected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_mode: Option<SelectionMode>,
    /// Whether all procedures are selected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedure_mode: Option<SelectionMode>,
    /// The selected functions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<String>,
    /// The selected procedures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub procedures: Vec<String>,
    /// The selected events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    /// The selected triggers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<String>,
}

/// `TableItem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct TableItem {
    /// Table name.
    #[schemars(length(min = 1))]
    pub table_name: String,
    /// New name on the target (`TableEditMode: rename`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // The reference gives no length; engines cap identifiers at 64 (MySQL, MongoDB), 63
    // (PostgreSQL) or 128 (SQL Server) characters.
    #[schemars(length(min = 1, max = 128))]
    pub new_table_name: Option<String>,
    /// Temporary tables of online schema-change tools (`TableEditMode: pt`), e.g.
    /// `[_t1_new, _t1_old]` (pt-osc) or `[_t1_ghc, _t1_gho, _t1_del]` (gh-ost).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tmp_tables: Vec<String>,
    /// How the table is edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_edit_mode: Option<TableEditMode>,
}

/// `ViewItem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct ViewItem {
    /// View name.
    pub view_name: String,
    /// New name on the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_view_name: Option<String>,
}

/// `RoleItem` (PostgreSQL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RoleItem {
    /// Role name.
    pub role_name: String,
    /// New name on the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_role_name: Option<String>,
}

/// `ConsistencyOption`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct ConsistencyOption {
    /// Check mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<ConsistencyMode>,
    /// Which objects to check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_mode: Option<ConsistencyObjectMode>,
    /// The objects to check (`ObjectMode: custom`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objects: Option<DatabaseTableObject>,
    /// Comparison options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<CompareOptions>,
}

/// `CompareOptions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct CompareOptions {
    /// Comparison method (default `dataCheck`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<CompareMethod>,
    /// Sampling rate in % (0–100, default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 100))]
    pub sample_rate: Option<u8>,
    /// Comparison threads (1–8, default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 8))]
    pub thread_count: Option<u8>,
    /// Comparison engine (default `builtin`).
    #[serde(rename = "Type", default, skip_serializing_if = "Option::is_none")]
    pub compare_type: Option<CompareType>,
    /// What to compare.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compare_mode: Vec<CompareMode>,
    /// How many times to re-check inconsistent rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub re_check_time: Option<u32>,
    /// Minutes between re-checks (1–60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 60))]
    pub re_check_interval: Option<u32>,
}

/// `RateLimit`: configuration-stage rate limits (0 or unset keeps the current value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RateLimit {
    /// Export threads (at most 16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 16))]
    pub dump_thread: Option<u32>,
    /// Export rows per second (at most 50,000,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 50_000_000))]
    pub dump_rps: Option<u64>,
    /// Import threads (at most 16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 16))]
    pub load_thread: Option<u32>,
    /// Import rows per second (at most 50,000,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 50_000_000))]
    pub load_rps: Option<u64>,
    /// Incremental-sync threads (at most 128).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 128))]
    pub sinker_thread: Option<u32>,
}

/// `SkipDdlOnError`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct SkipDdlOnError {
    /// Tables: `db.tbl`, `db.*`, `*.tbl` or `*`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<String>,
    /// MySQL error codes (1–65535).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error_codes: Vec<u16>,
}

/// `DBEndpointInfo`: a source or target endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct DBEndpointInfo {
    /// Region of the instance.
    // Format of every Tencent region name (tencent-dts-api.md §1.5: e.g. `ap-guangzhou`).
    #[schemars(regex(pattern = r"^[a-z]{2,4}-[a-z]+(-[a-z0-9]+)*$"))]
    pub region: String,
    /// How DTS reaches the instance.
    pub access_type: AccessType,
    /// Database type (must equal `SrcDatabaseType`/`DstDatabaseType`).
    pub database_type: DatabaseType,
    /// Node type.
    pub node_type: NodeType,
    /// One entry per node or shard.
    #[schemars(length(min = 1))]
    pub info: Vec<DBInfo>,
    /// Provider of the instance: `others`, `aliyun`, `aws`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier: Option<String>,
    /// Extra attributes, e.g. MongoDB `AuthDatabase`, `AuthFlag`, `AuthMechanism`, `fetchMethod`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_attr: Vec<KeyValue>,
    /// Network of the instance (required for `ccn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_net_env: Option<DatabaseNetEnv>,
    /// TDSQL for MySQL connection type (required for `tdsqlmysql` sources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_type: Option<ConnectType>,
    /// Account that owns the CCN, when it is another account's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ccn_owner_uin: Option<String>,
}

/// `DBInfo`: one node of an endpoint. Which fields are needed depends on `AccessType`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct DBInfo {
    /// Node role, e.g. `mongos`; TDSQL MySQL: `proxy` (first) or `set`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Database kernel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_kernel: Option<String>,
    /// Host (required for extranet, ipv6, dcg, vpncloud, ccn, intranet, vpc).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // Bounded by DNS (RFC 1035: a name is at most 253 characters; an IP address is shorter);
    // the reference (tencent-dts-api.md §2.4) gives no length, only "instance IP"/"host".
    #[schemars(length(min = 1, max = 253), regex(pattern = r"^[0-9A-Za-z._:-]+$"))]
    pub host: Option<String>,
    /// Port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub port: Option<u16>,
    /// User.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // The reference gives no length; every engine DTS migrates caps user names far below
    // this (MySQL 32, PostgreSQL 63, SQL Server 128), so 256 refuses only what none takes.
    #[schemars(length(min = 1, max = 256))]
    pub user: Option<String>,
    /// Password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretRef>,
    /// CVM instance ID (required for `cvm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvm_instance_id: Option<String>,
    /// VPN gateway ID (required for `vpncloud`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // Format from tencent-dts-api.md §2.4: `vpngw-xxxxxxxx`.
    #[schemars(regex(pattern = r"^vpngw-[a-z0-9]{8}$"))]
    pub uniq_vpn_gw_id: Option<String>,
    /// Direct Connect gateway ID (required for `dcg`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // Format from tencent-dts-api.md §2.4: `dcg-xxxxxxxx`.
    #[schemars(regex(pattern = r"^dcg-[a-z0-9]{8}$"))]
    pub uniq_dcg_id: Option<String>,
    /// TencentDB instance ID (required for `cdb`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // Format from tencent-dts-api.md §1.5 (`cdb-xxxxxxxx`; other engines `crs-`, `cmgo-`,
    // `postgres-`, `cynosdbmysql-ins-`, …), at most 64 characters.
    #[schemars(length(max = 64), regex(pattern = r"^[a-z][a-z0-9]*(-[a-z0-9]+)+$"))]
    pub instance_id: Option<String>,
    /// CCN gateway ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ccn_gw_id: Option<String>,
    /// VPC ID (vpc, vpncloud, ccn, dcg).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // Format from tencent-dts-api.md §2.4: `vpc-xxxxxxxx`.
    #[schemars(regex(pattern = r"^vpc-[a-z0-9]{8}$"))]
    pub vpc_id: Option<String>,
    /// Subnet ID (vpc, vpncloud, ccn, dcg).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // Format from tencent-dts-api.md §2.4: `subnet-xxxxxxxx`.
    #[schemars(regex(pattern = r"^subnet-[a-z0-9]{8}$"))]
    pub subnet_id: Option<String>,
    /// Engine version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_version: Option<String>,
    /// Account (cross-account migrations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // The reference gives no length; every engine DTS migrates caps user names far below
    // this (MySQL 32, PostgreSQL 63, SQL Server 128), so 256 refuses only what none takes.
    #[schemars(length(min = 1, max = 256))]
    pub account: Option<String>,
    /// Role of the other account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-zA-Z0-9_-]+$"))]
    pub account_role: Option<String>,
    /// Whose account the instance belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_mode: Option<AccountMode>,
    /// Temporary SecretId of the other account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmp_secret_id: Option<SecretRef>,
    /// Temporary SecretKey of the other account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmp_secret_key: Option<SecretRef>,
    /// Temporary token of the other account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmp_token: Option<SecretRef>,
    /// Whether the connection is encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypt_conn: Option<EncryptConn>,
    /// TDSQL set ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_id: Option<String>,
}

api_enum! {
    /// `RunMode` (2021-12-06).
    pub enum RunMode: str {
        Immediate = "immediate" => "run immediately",
        Timed = "timed" => "timed: start at ExpectRunTime",
    }
}

api_enum! {
    /// `MigrateOption.MigrateType` (2021-12-06).
    pub enum MigrateType: str {
        Full = "full" => "full data",
        Structure = "structure" => "schema (structure) only",
        FullAndIncrement = "fullAndIncrement" => "full data plus incremental replication (default; the only one for Redis)",
    }
}

api_enum! {
    /// `DatabaseTableObject.ObjectMode`.
    pub enum ObjectMode: str {
        All = "all" => "the whole instance",
        Partial = "partial" => "the databases listed in Databases",
    }
}

api_enum! {
    /// `DBItem.DBMode`, `TableMode`, `ViewMode`, …
    pub enum SelectionMode: str {
        All = "all" => "everything",
        Partial = "partial" => "only what is listed",
        None = "none" => "nothing",
    }
}

api_enum! {
    /// `TableItem.TableEditMode`.
    pub enum TableEditMode: str {
        Rename = "rename" => "rename the table (NewTableName)",
        Pt = "pt" => "online schema change temporary tables (TmpTables)",
    }
}

api_enum! {
    /// `DatabaseTableObject.AdvancedObjects` items.
    pub enum AdvancedObject: str {
        Trigger = "trigger" => "triggers",
        Function = "function" => "functions",
        Procedure = "procedure" => "stored procedures",
        Event = "event" => "events",
    }
}

api_enum! {
    /// `ConsistencyOption.Mode`.
    pub enum ConsistencyMode: str {
        Full = "full" => "full consistency check",
        NoCheck = "noCheck" => "no check",
        NotConfigured = "notConfigured" => "not configured",
    }
}

api_enum! {
    /// `ConsistencyOption.ObjectMode`.
    pub enum ConsistencyObjectMode: str {
        SameAsMigrate = "sameAsMigrate" => "check what is migrated",
        Custom = "custom" => "check the objects listed in Objects",
    }
}

api_enum! {
    /// `CompareOptions.Method`.
    pub enum CompareMethod: str {
        DataCheck = "dataCheck" => "compare the data (default)",
        SampleDataCheck = "sampleDataCheck" => "compare a sample of the data",
        RowsCount = "rowsCount" => "compare row counts",
    }
}

api_enum! {
    /// `CompareOptions.Type`.
    pub enum CompareType: str {
        Builtin = "builtin" => "built-in comparison (default)",
        Independent = "independent" => "independent comparison",
    }
}

api_enum! {
    /// `CompareOptions.CompareMode` items.
    pub enum CompareMode: str {
        StructureCheck = "structureCheck" => "compare structures",
        Full = "full" => "compare the full data",
        Increment = "increment" => "compare increments",
        AdvanceObject = "advanceObject" => "compare advanced objects",
    }
}

api_enum! {
    /// `MigrateOption.MigrateWay` (PostgreSQL).
    pub enum MigrateWay: str {
        Logical = "logical" => "logical migration",
        Physical = "physical" => "physical migration",
    }
}

api_enum! {
    /// `DBEndpointInfo.AccessType`.
    pub enum AccessType: str {
        Extranet = "extranet" => "public network (Host and Port required)",
        Ipv6 = "ipv6" => "IPv6 (Host and Port required)",
        Cvm = "cvm" => "self-built on CVM (CvmInstanceId required)",
        Dcg = "dcg" => "Direct Connect (UniqDcgId, VpcId, SubnetId required)",
        Vpncloud = "vpncloud" => "VPN (UniqVpnGwId, VpcId, SubnetId required)",
        Cdb = "cdb" => "TencentDB instance (InstanceId required)",
        Ccn = "ccn" => "Cloud Connect Network (VpcId, SubnetId, DatabaseNetEnv required)",
        Intranet = "intranet" => "intranet (Host and Port required)",
        Vpc = "vpc" => "VPC (Host, Port, VpcId, SubnetId required)",
    }
}

api_enum! {
    /// Database types of API 2021-12-06.
    pub enum DatabaseType: str {
        Mysql = "mysql" => "MySQL",
        Redis = "redis" => "Redis",
        Percona = "percona" => "Percona",
        Mongodb = "mongodb" => "MongoDB",
        Postgresql = "postgresql" => "PostgreSQL",
        Sqlserver = "sqlserver" => "SQL Server",
        Mariadb = "mariadb" => "MariaDB",
        Cynosdbmysql = "cynosdbmysql" => "TDSQL-C for MySQL",
        Tdsqlmysql = "tdsqlmysql" => "TDSQL for MySQL",
        Keewidb = "keewidb" => "KeeWiDB",
        Tdstore = "tdstore" => "TDStore",
        Tendis = "tendis" => "Tendis (targets only)",
    }
}

api_enum! {
    /// `DBEndpointInfo.NodeType`.
    pub enum NodeType: str {
        Simple = "simple" => "single node or primary/replica",
        Cluster = "cluster" => "cluster",
        Replicaset = "replicaset" => "MongoDB replica set",
        Standalone = "standalone" => "MongoDB standalone",
        ClusterCache = "cluster-cache" => "Redis cluster (cache)",
        ClusterProxy = "cluster-proxy" => "Redis cluster behind a proxy",
    }
}

api_enum! {
    /// `DBEndpointInfo.DatabaseNetEnv`.
    pub enum DatabaseNetEnv: str {
        UserIdc = "UserIDC" => "the user's own data center",
        TencentVpc = "TencentVPC" => "a Tencent Cloud VPC",
    }
}

api_enum! {
    /// `DBEndpointInfo.ConnectType` (TDSQL for MySQL).
    pub enum ConnectType: str {
        Proxy = "proxy" => "through the proxy",
        Set = "set" => "directly to the sets",
    }
}

api_enum! {
    /// `DBInfo.AccountMode`.
    pub enum AccountMode: str {
        Own = "self" => "the instance belongs to this account",
        Other = "other" => "the instance belongs to another account",
    }
}

api_enum! {
    /// `DBInfo.EncryptConn`.
    pub enum EncryptConn: str {
        UnEncrypted = "UnEncrypted" => "plain connection (default)",
        Encrypted = "Encrypted" => "encrypted connection",
    }
}

api_enum! {
    /// `InstanceClass`: the job specification.
    pub enum InstanceClass: str {
        Micro = "micro" => "micro",
        Small = "small" => "small",
        Medium = "medium" => "medium (the only class for jobs that are not billed)",
        Large = "large" => "large",
        Xlarge = "xlarge" => "xlarge",
        Xlarge2 = "2xlarge" => "2xlarge",
    }
}

api_enum! {
    /// The state the job should reach.
    pub enum MigrationJobDesired: str {
        Configured = "configured" => "create and configure the job, nothing more",
        Checked = "checked" => "configure and run the pre-migration check until it passes",
        Running = "running" => "start the job and wait until it runs (full+incremental jobs: until ready to complete)",
        Completed = "completed" => "run the migration to the end (completing full+incremental jobs)",
        Paused = "paused" => "pause a running job (PauseMigrateJob)",
        Stopped = "stopped" => "stop (terminate) the job",
    }
}

api_enum! {
    /// `CompleteMigrateJob.CompleteMode`: how a full+incremental job is completed.
    pub enum CompleteMode: str {
        WaitForSync = "waitForSync" => "wait until the replication lag is 0, then complete (default)",
        Immediately = "immediately" => "complete at once without waiting for the sync to catch up (MySQL jobs only)",
    }
}

/// The `lifecycle` of a `TencentDtsMigrationJob`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrationJobLifecycle {
    /// The state to reach.
    pub desired: MigrationJobDesired,
    /// How `■ complete` completes the job (`CompleteMigrateJob` `CompleteMode`); the API's
    /// default is `waitForSync`. Only used when the job is completed (`desired: completed`).
    #[serde(
        rename = "CompleteMode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub complete_mode: Option<CompleteMode>,
    /// What to do when the migration fails.
    #[serde(rename = "onFailure", default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<TencentOnFailure>,
    /// Per-phase deadlines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeouts: Option<Timeouts>,
    /// What to do with the job when this spec is removed.
    #[serde(
        rename = "deletionPolicy",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub deletion_policy: Option<DeletionPolicy>,
}
