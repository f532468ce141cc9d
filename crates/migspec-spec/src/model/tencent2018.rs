//! `TencentDtsMigrateJob`: a Tencent Cloud DTS migration job, API version 2018-03-30
//! (CreateMigrateJob / ModifyMigrateJob). Field names are the API's own.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{DeletionPolicy, SecretRef, TagItem, TencentOnFailure, Timeouts};
use crate::api_enum;

/// The `spec` of a `TencentDtsMigrateJob`: every request field of CreateMigrateJob.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct MigrateJobSpec {
    /// The region the job lives in (the API's `Region` common parameter), e.g. `ap-guangzhou`.
    #[serde(rename = "region")]
    #[schemars(regex(pattern = r"^[a-z]{2,4}-[a-z]+(-[a-z0-9]+)*$"))]
    pub region: String,
    /// Data migration task name.
    #[schemars(length(min = 1, max = 128))]
    pub job_name: String,
    /// Migration task configuration options.
    pub migrate_option: MigrateOption,
    /// Source database type.
    pub src_database_type: SrcDatabaseType,
    /// Source instance access type.
    pub src_access_type: AccessType,
    /// Source instance information; which fields matter depends on `SrcAccessType`.
    pub src_info: SrcInfo,
    /// Target database type.
    pub dst_database_type: DstDatabaseType,
    /// Target instance access type (only `cdb` is supported by this API version).
    pub dst_access_type: DstAccessType,
    /// Target instance information.
    pub dst_info: DstInfo,
    /// The databases and tables to migrate, required when `MigrateObject` is 2. Written as a
    /// list (`- {Database: db1, Table: [t1, t2]}`) or as the JSON string the API takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_info: Option<DatabaseInfo>,
    /// Tags of the job. migspec adds `migspec:address=<metadata.name>` itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TagItem>,
    /// Source node type: `""`/`simple` for primary/replica, `cluster` for cluster nodes
    /// (then `SrcInfoMulti` lists the nodes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_node_type: Option<SrcNodeType>,
    /// The nodes of a cluster source that is not `cdb`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub src_info_multi: Vec<SrcInfo>,
}

/// `MigrateOption` (2018-03-30).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct MigrateOption {
    /// Run mode.
    pub run_mode: RunMode,
    /// Start time of a timed job (`RunMode: 2`), `yyyy-mm-dd hh:mm:ss` in Beijing time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"))]
    pub expect_time: Option<String>,
    /// Migration type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrate_type: Option<MigrateType>,
    /// What to migrate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrate_object: Option<MigrateObject>,
    /// Data consistency check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency_type: Option<ConsistencyType>,
    /// Whether to overwrite the target's root account with the source's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_override_root: Option<IsOverrideRoot>,
    /// Engine-specific extra parameters: a map (Redis `ClientOutputBufferHardLimit`, MongoDB
    /// `SrcAuthDatabase`, …) or the JSON string the API takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extern_params: Option<ExternParams>,
    /// Sampling parameters, required when `ConsistencyType` is 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency_params: Option<ConsistencyParams>,
}

/// `ConsistencyParams`: sampling rates of a sampled consistency check, each 1–100 (%).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct ConsistencyParams {
    /// Percentage of rows compared per table.
    #[schemars(range(min = 1, max = 100))]
    pub select_rows_per_table: u8,
    /// Percentage of tables whose content is compared.
    #[schemars(range(min = 1, max = 100))]
    pub tables_select_all: u8,
    /// Percentage of tables whose row counts are compared.
    #[schemars(range(min = 1, max = 100))]
    pub tables_select_count: u8,
}

/// `SrcInfo`: the source instance. All fields are optional; which ones are needed depends on
/// `SrcAccessType`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct SrcInfo {
    /// Alibaba Cloud AccessKey (Alibaba RDS 5.6 sources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key: Option<SecretRef>,
    /// Instance IP address (required for `extranet`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // Bounded by DNS (RFC 1035: a name is at most 253 characters; an IP address is shorter);
    // the reference (tencent-dts-api.md §1.5) gives no length, only "instance IP"/"host".
    #[schemars(length(min = 1, max = 253), regex(pattern = r"^[0-9A-Za-z._:-]+$"))]
    pub ip: Option<String>,
    /// Instance port (required for `extranet`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub port: Option<u16>,
    /// Database user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // The reference gives no length; every engine DTS migrates caps user names far below
    // this (MySQL 32, PostgreSQL 63, SQL Server 128), so 256 refuses only what none takes.
    #[schemars(length(min = 1, max = 256))]
    pub user: Option<String>,
    /// Database password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretRef>,
    /// Alibaba RDS instance ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // Alibaba RDS IDs (`rm-xxxxxxxx`); the reference gives no length.
    #[schemars(length(min = 1, max = 64))]
    pub rds_instance_id: Option<String>,
    /// CVM instance short ID `ins-xxxxxxxx` (required for `cvm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^ins-[a-z0-9]{8}$"))]
    pub cvm_instance_id: Option<String>,
    /// Direct Connect gateway ID `dcg-xxxxxxxx` (required for `dcg`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // Format from tencent-dts-api.md §1.5: `dcg-xxxxxxxx`.
    #[schemars(regex(pattern = r"^dcg-[a-z0-9]{8}$"))]
    pub uniq_dcg_id: Option<String>,
    /// VPC ID `vpc-xxxxxxxx`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // Format from tencent-dts-api.md §1.5: `vpc-xxxxxxxx`.
    #[schemars(regex(pattern = r"^vpc-[a-z0-9]{8}$"))]
    pub vpc_id: Option<String>,
    /// Subnet ID `subnet-xxxxxxxx`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // Format from tencent-dts-api.md §1.5: `subnet-xxxxxxxx`.
    #[schemars(regex(pattern = r"^subnet-[a-z0-9]{8}$"))]
    pub subnet_id: Option<String>,
    /// VPN gateway ID `vpngw-xxxxxxxx` (required for `vpncloud`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // Format from tencent-dts-api.md §1.5: `vpngw-xxxxxxxx`.
    #[schemars(regex(pattern = r"^vpngw-[a-z0-9]{8}$"))]
    pub uniq_vpn_gw_id: Option<String>,
    /// TencentDB instance ID, e.g. `cdb-xxxxxxxx` (required for `cdb`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // Format from tencent-dts-api.md §1.5 (`cdb-xxxxxxxx`; other engines `crs-`, `cmgo-`,
    // `postgres-`, `cynosdbmysql-ins-`, …), at most 64 characters.
    #[schemars(length(max = 64), regex(pattern = r"^[a-z][a-z0-9]*(-[a-z0-9]+)+$"))]
    pub instance_id: Option<String>,
    /// Region of the instance, e.g. `ap-guangzhou`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // Format of every Tencent region name (tencent-dts-api.md §1.5: e.g. `ap-guangzhou`).
    #[schemars(regex(pattern = r"^[a-z]{2,4}-[a-z]+(-[a-z0-9]+)*$"))]
    pub region: Option<String>,
    /// Provider of the source: `aliyun` for Alibaba RDS, `others` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier: Option<Supplier>,
    /// Cloud Connect Network ID `ccn-xxxxxxxx` (required for `ccn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // Format from tencent-dts-api.md §1.5: `ccn-xxxxxxxx`.
    #[schemars(regex(pattern = r"^ccn-[a-z0-9]{8}$"))]
    pub ccn_id: Option<String>,
    /// Alibaba RDS engine version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_version: Option<EngineVersion>,
}

/// `DstInfo`: the target instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct DstInfo {
    /// Target region; cannot be changed after creation.
    // Format of every Tencent region name (tencent-dts-api.md §1.5: e.g. `ap-guangzhou`).
    #[schemars(regex(pattern = r"^[a-z]{2,4}-[a-z]+(-[a-z0-9]+)*$"))]
    pub region: String,
    /// Target instance ID, e.g. `cdb-xxxxxxxx`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // Format from tencent-dts-api.md §1.5 (`cdb-xxxxxxxx`; other engines `crs-`, `cmgo-`,
    // `postgres-`, `cynosdbmysql-ins-`, …), at most 64 characters.
    #[schemars(length(max = 64), regex(pattern = r"^[a-z][a-z0-9]*(-[a-z0-9]+)+$"))]
    pub instance_id: Option<String>,
    /// Deprecated by the API: do not send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // Bounded by DNS (RFC 1035: a name is at most 253 characters; an IP address is shorter);
    // the reference (tencent-dts-api.md §1.5) gives no length, only "instance IP"/"host".
    #[schemars(length(min = 1, max = 253), regex(pattern = r"^[0-9A-Za-z._:-]+$"))]
    pub ip: Option<String>,
    /// Deprecated by the API: do not send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// MySQL whole-instance migrations only: make the target read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<ReadOnly>,
    /// Target account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // The reference gives no length; every engine DTS migrates caps user names far below
    // this (MySQL 32, PostgreSQL 63, SQL Server 128), so 256 refuses only what none takes.
    #[schemars(length(min = 1, max = 256))]
    pub user: Option<String>,
    /// Target password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretRef>,
}

/// `DatabaseInfo`: what to migrate, as a list or as the API's JSON string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DatabaseInfo {
    /// The structured form.
    List(Vec<DatabaseInfoItem>),
    /// The JSON string the API takes, e.g. `[{"Database":"db1","Table":["t1"]}]`.
    Json(String),
}

impl DatabaseInfo {
    /// The items, parsing the JSON form.
    ///
    /// # Errors
    ///
    /// When the JSON string is malformed or does not have the documented shape.
    pub fn items(&self) -> Result<Vec<DatabaseInfoItem>, serde_json::Error> {
        match self {
            Self::List(items) => Ok(items.clone()),
            Self::Json(text) if text.trim().is_empty() => Ok(Vec::new()),
            Self::Json(text) => serde_json::from_str(text),
        }
    }
}

impl JsonSchema for DatabaseInfo {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DatabaseInfo".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let item = generator.subschema_for::<DatabaseInfoItem>();
        schemars::json_schema!({
            "description": "The databases and tables to migrate: a list of `{Database, Schema?, Table?}` (Schema only for PostgreSQL and SQL Server), or the same as the JSON string the API takes.",
            "anyOf": [
                {"type": "array", "items": item, "minItems": 1},
                {"type": "string", "description": "The API's JSON form, e.g. `[{\"Database\":\"db1\",\"Table\":[\"t1\"]}]`."}
            ]
        })
    }
}

/// One entry of `DatabaseInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct DatabaseInfoItem {
    /// Database name.
    #[schemars(length(min = 1))]
    pub database: String,
    /// Schema name (three-level engines only: PostgreSQL, SQL Server); absent means the whole database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub schema: Option<String>,
    /// Tables; absent means the whole database (or schema).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<Vec<String>>,
}

/// `ExternParams`: engine-specific parameters, as a map or as the API's JSON string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ExternParams {
    /// The structured form.
    Map(BTreeMap<String, serde_json::Value>),
    /// The JSON string the API takes, e.g. `{"ClientOutputBufferHardLimit":512}`.
    Json(String),
}

impl ExternParams {
    /// The parameters, parsing the JSON form (an empty string means none).
    ///
    /// # Errors
    ///
    /// When the JSON string is malformed or not an object.
    pub fn map(&self) -> Result<BTreeMap<String, serde_json::Value>, serde_json::Error> {
        match self {
            Self::Map(map) => Ok(map.clone()),
            Self::Json(text) if text.trim().is_empty() => Ok(BTreeMap::new()),
            Self::Json(text) => serde_json::from_str(text),
        }
    }
}

impl JsonSchema for ExternParams {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ExternParams".into()
    }
    fn json_schema(_generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Engine-specific parameters. Redis: ClientOutputBufferHardLimit, ClientOutputBufferSoftLimit (MB), ClientOutputBufferPersistTime (s), ReplBacklogSize (MB), ReplTimeout (s). MongoDB: SrcAuthDatabase, SrcAuthFlag, SrcAuthMechanism. A map, or the JSON string the API takes.",
            "anyOf": [
                {"type": "object"},
                {"type": "string"}
            ]
        })
    }
}

api_enum! {
    /// `MigrateOption.RunMode`.
    pub enum RunMode: int {
        Immediate = 1 => "run immediately",
        Timed = 2 => "timed: start at ExpectTime",
    }
}

api_enum! {
    /// `MigrateOption.MigrateType`.
    pub enum MigrateType: int {
        Structure = 1 => "schema (structure) only",
        Full = 2 => "full data",
        FullAndIncrement = 3 => "full data plus incremental replication",
    }
}

api_enum! {
    /// `MigrateOption.MigrateObject`.
    pub enum MigrateObject: int {
        WholeInstance = 1 => "the whole instance",
        Selected = 2 => "selected databases and tables (DatabaseInfo required)",
    }
}

api_enum! {
    /// `MigrateOption.ConsistencyType`.
    pub enum ConsistencyType: int {
        NotConfigured = 1 => "not configured",
        Full = 2 => "full consistency check",
        Sampled = 3 => "sampled check (ConsistencyParams required)",
        InconsistentOnly = 4 => "check only the inconsistent tables",
        None = 5 => "no check",
    }
}

api_enum! {
    /// `MigrateOption.IsOverrideRoot`.
    pub enum IsOverrideRoot: int {
        Keep = 0 => "keep the target's root account",
        Overwrite = 1 => "overwrite the target's root account with the source's (whole-instance, data jobs only)",
    }
}

api_enum! {
    /// `DstInfo.ReadOnly`.
    pub enum ReadOnly: int {
        ReadWrite = 0 => "target stays read-write",
        ReadOnly = 1 => "target is set read-only (MySQL whole-instance only)",
    }
}

api_enum! {
    /// Source access type (`SrcAccessType`).
    pub enum AccessType: str {
        Extranet = "extranet" => "public network (Ip and Port required)",
        Cvm = "cvm" => "self-built on a CVM instance (CvmInstanceId required)",
        Dcg = "dcg" => "Direct Connect (UniqDcgId required)",
        Vpncloud = "vpncloud" => "Tencent Cloud VPN (UniqVpnGwId required)",
        Cdb = "cdb" => "TencentDB instance (InstanceId required)",
        Ccn = "ccn" => "Cloud Connect Network (CcnId required)",
    }
}

api_enum! {
    /// Target access type (`DstAccessType`): API 2018-03-30 supports only TencentDB targets.
    pub enum DstAccessType: str {
        Cdb = "cdb" => "TencentDB instance (the only target this API version supports)",
    }
}

api_enum! {
    /// `SrcDatabaseType`.
    pub enum SrcDatabaseType: str {
        Mysql = "mysql" => "MySQL",
        Redis = "redis" => "Redis",
        Mongodb = "mongodb" => "MongoDB",
        Postgresql = "postgresql" => "PostgreSQL (three-level: database, schema, table)",
        Mariadb = "mariadb" => "MariaDB",
        Percona = "percona" => "Percona",
        Sqlserver = "sqlserver" => "SQL Server (three-level: database, schema, table)",
    }
}

api_enum! {
    /// `DstDatabaseType`.
    pub enum DstDatabaseType: str {
        Mysql = "mysql" => "MySQL",
        Redis = "redis" => "Redis",
        Mongodb = "mongodb" => "MongoDB",
        Postgresql = "postgresql" => "PostgreSQL",
        Mariadb = "mariadb" => "MariaDB",
        Percona = "percona" => "Percona",
        Sqlserver = "sqlserver" => "SQL Server",
        Cynosdbmysql = "cynosdbmysql" => "TDSQL-C for MySQL (CynosDB)",
    }
}

api_enum! {
    /// `SrcNodeType`.
    pub enum SrcNodeType: str {
        Default = "" => "primary/replica (same as simple)",
        Simple = "simple" => "primary/replica",
        Cluster = "cluster" => "cluster nodes (SrcInfoMulti lists them)",
    }
}

api_enum! {
    /// `SrcInfo.Supplier`.
    pub enum Supplier: str {
        Aliyun = "aliyun" => "Alibaba Cloud RDS source",
        Others = "others" => "any other source",
    }
}

api_enum! {
    /// `SrcInfo.EngineVersion` (Alibaba RDS sources).
    pub enum EngineVersion: str {
        V56 = "5.6" => "MySQL 5.6 (default)",
        V57 = "5.7" => "MySQL 5.7",
    }
}

api_enum! {
    /// The state the job should reach (API 2018-03-30 has no pause).
    pub enum MigrateJobDesired: str {
        Configured = "configured" => "create or update the job, nothing more",
        Checked = "checked" => "configure and run the pre-migration check until it passes",
        Running = "running" => "start the job and wait until it runs (full+incremental jobs: until ready to complete)",
        Completed = "completed" => "run the migration to the end (completing full+incremental jobs)",
        Stopped = "stopped" => "stop (revoke) a running job",
    }
}

/// The `lifecycle` of a `TencentDtsMigrateJob`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrateJobLifecycle {
    /// The state to reach.
    pub desired: MigrateJobDesired,
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
