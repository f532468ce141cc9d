//! The cross-field rules of the DTS API documentation that JSON Schema cannot express well,
//! for both kinds this provider serves (2018-03-30 `TencentDtsMigrateJob`, 2021-12-06
//! `TencentDtsMigrationJob`). Reached through `Provider::validate`: `migspec-schema` checks
//! the schema first and locates each problem's JSON pointer in the YAML.
//!
//! Each rule reports at the exact field it concerns (or, for a missing field, at the object
//! that should hold it), with a help line saying what to write.

use migspec_provider::Problem;
use migspec_provider::rules::{self, Problems};
use migspec_spec::model::common::{ResumeOption, TagItem, TencentFailureAction, TencentOnFailure};
use migspec_spec::model::tencent2018::{
    self as t18, AccessType, ConsistencyType, DatabaseInfo, IsOverrideRoot, MigrateObject,
    MigrateType, ReadOnly, RunMode, SrcDatabaseType, SrcInfo, SrcNodeType,
};
use migspec_spec::model::tencent2021::{self as t21, DBEndpointInfo, ObjectMode, SelectionMode};
use migspec_spec::model::{TencentDtsMigrateJob, TencentDtsMigrationJob};
use serde_json::Value;

use crate::job::ADDRESS_TAG as ADDRESS_TAG_KEY;

/// Runs every rule of `kind` over a document that passed the kind's schema.
#[must_use]
pub fn check(kind: &str, document: &Value) -> Vec<Problem> {
    let mut problems = Problems::default();
    match kind {
        "TencentDtsMigrateJob" => {
            match serde_json::from_value::<TencentDtsMigrateJob>(document.clone()) {
                Ok(job) => check_2018(&job, &mut problems),
                Err(error) => return vec![rules::model_mismatch(kind, &error)],
            }
        }
        "TencentDtsMigrationJob" => {
            match serde_json::from_value::<TencentDtsMigrationJob>(document.clone()) {
                Ok(job) => check_2021(&job, &mut problems),
                Err(error) => return vec![rules::model_mismatch(kind, &error)],
            }
        }
        other => {
            return vec![Problem::error(
                "tencent-dts::kind",
                "/kind",
                format!("tencent-dts does not serve kind `{other}`"),
                "use `TencentDtsMigrateJob` (API 2018-03-30) or `TencentDtsMigrationJob` (API 2021-12-06)",
            )];
        }
    }
    problems.into_vec()
}

fn check_tags(tags: &[TagItem], problems: &mut Problems) {
    for (index, tag) in tags.iter().enumerate() {
        if tag.tag_key == ADDRESS_TAG_KEY {
            problems.error_at(
                "migspec::rule::reserved_tag",
                &format!("/spec/Tags/{index}/TagKey"),
                format!("the tag key `{ADDRESS_TAG_KEY}` is reserved"),
                "migspec sets this tag itself from `metadata.name`; remove it",
            );
        }
    }
}

fn check_datetime(value: Option<&String>, pointer: &str, problems: &mut Problems) {
    let Some(value) = value else { return };
    let fields: Vec<u32> = value
        .split(['-', ' ', ':'])
        .filter_map(|part| part.parse().ok())
        .collect();
    let valid = matches!(fields.as_slice(), [_, month, day, hour, minute, second]
        if (1..=12).contains(month) && (1..=31).contains(day) && *hour < 24 && *minute < 60 && *second < 60);
    if !valid {
        problems.error_at(
            "migspec::rule::datetime",
            pointer,
            format!("`{value}` is not a valid date and time"),
            "write `yyyy-mm-dd hh:mm:ss` (Beijing time), e.g. `2026-12-01 02:00:00`",
        );
    }
}

fn check_resume(
    on_failure: Option<&TencentOnFailure>,
    is_redis: bool,
    engine: &str,
    problems: &mut Problems,
) {
    let Some(on_failure) = on_failure else { return };
    match (on_failure.action, on_failure.resume_option) {
        (TencentFailureAction::Resume, None) => problems.error_at(
            "migspec::rule::resume_option",
            "/lifecycle/onFailure/ResumeOption",
            "`onFailure.action: resume` needs a `ResumeOption`",
            if is_redis {
                "add `ResumeOption: overwrite` (or `clearData`, which empties the target first)"
            } else {
                "add `ResumeOption: normal`"
            },
        ),
        (_, Some(option @ (ResumeOption::ClearData | ResumeOption::Overwrite))) if !is_redis => {
            problems.error_at(
                "migspec::rule::resume_option",
                "/lifecycle/onFailure/ResumeOption",
                format!("`ResumeOption: {option}` is only valid for Redis, and this job migrates {engine}"),
                "use `ResumeOption: normal` for every engine but Redis",
            );
        }
        (_, Some(ResumeOption::Normal)) if is_redis => problems.error_at(
            "migspec::rule::resume_option",
            "/lifecycle/onFailure/ResumeOption",
            "`ResumeOption: normal` is not valid for Redis",
            "use `overwrite` (resume in overwrite mode) or `clearData` (clear the target first)",
        ),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// TencentDtsMigrateJob (2018-03-30)
// ---------------------------------------------------------------------------------------------

fn check_2018(job: &TencentDtsMigrateJob, problems: &mut Problems) {
    let spec = &job.spec;
    let option = &spec.migrate_option;

    if option.run_mode == RunMode::Timed && option.expect_time.is_none() {
        problems.error_at(
            "migspec::rule::expect_time",
            "/spec/MigrateOption/ExpectTime",
            "`RunMode: 2` (timed) needs `ExpectTime`",
            "add `ExpectTime: \"2026-12-01 02:00:00\"` (yyyy-mm-dd hh:mm:ss, Beijing time), or use `RunMode: 1`",
        );
    }
    if option.run_mode == RunMode::Immediate && option.expect_time.is_some() {
        problems.warning_at(
            "migspec::rule::expect_time_ignored",
            "/spec/MigrateOption/ExpectTime",
            "`ExpectTime` is ignored with `RunMode: 1` (run immediately)",
            "remove it, or set `RunMode: 2` to start at that time",
        );
    }
    check_datetime(
        option.expect_time.as_ref(),
        "/spec/MigrateOption/ExpectTime",
        problems,
    );

    let items = check_database_info_2018(spec, problems);
    let malformed = spec.database_info.is_some() && items.is_none();
    match (option.migrate_object, items.as_ref().map(Vec::len)) {
        _ if malformed => {}
        (Some(MigrateObject::Selected), None | Some(0)) => problems.error_at(
            "migspec::rule::database_info_required",
            "/spec/DatabaseInfo",
            "`MigrateObject: 2` (selected databases and tables) needs `DatabaseInfo`",
            "list what to migrate, e.g. `DatabaseInfo: [{Database: orders, Table: [orders]}]`, or use `MigrateObject: 1` for the whole instance",
        ),
        (Some(MigrateObject::WholeInstance) | None, Some(count)) if count > 0 => problems.error_at(
            "migspec::rule::database_info_forbidden",
            "/spec/DatabaseInfo",
            "`DatabaseInfo` is only allowed with `MigrateObject: 2`",
            "set `MigrateObject: 2` to migrate the listed databases, or remove `DatabaseInfo` to migrate the whole instance",
        ),
        _ => {}
    }

    if option.consistency_type == Some(ConsistencyType::Sampled)
        && option.consistency_params.is_none()
    {
        problems.error_at(
            "migspec::rule::consistency_params",
            "/spec/MigrateOption/ConsistencyParams",
            "`ConsistencyType: 3` (sampled check) needs `ConsistencyParams`",
            "add `ConsistencyParams: {SelectRowsPerTable: 10, TablesSelectAll: 10, TablesSelectCount: 10}` (percentages, 1-100)",
        );
    }
    if option.consistency_params.is_some()
        && option.consistency_type != Some(ConsistencyType::Sampled)
    {
        problems.warning_at(
            "migspec::rule::consistency_params_ignored",
            "/spec/MigrateOption/ConsistencyParams",
            "`ConsistencyParams` is only used with `ConsistencyType: 3` (sampled check)",
            "remove it, or set `ConsistencyType: 3`",
        );
    }

    if option.is_override_root == Some(IsOverrideRoot::Overwrite) {
        let reason = match (option.migrate_object, option.migrate_type) {
            (Some(MigrateObject::Selected), _) => Some("a table-level job (`MigrateObject: 2`)"),
            (_, Some(MigrateType::Structure)) => Some("a schema-only job (`MigrateType: 1`)"),
            _ => None,
        };
        if let Some(reason) = reason {
            problems.error_at(
                "migspec::rule::override_root",
                "/spec/MigrateOption/IsOverrideRoot",
                format!("`IsOverrideRoot: 1` is not allowed for {reason}"),
                "set `IsOverrideRoot: 0`; only whole-instance data migrations may overwrite the target's root account",
            );
        }
    }

    check_extern_params(spec, problems);
    check_src_info_2018(
        &spec.src_info,
        spec.src_access_type,
        "/spec/SrcInfo",
        problems,
    );
    let cluster = spec.src_node_type == Some(SrcNodeType::Cluster);
    if cluster && spec.src_info_multi.is_empty() {
        problems.error_at(
            "migspec::rule::src_info_multi",
            "/spec/SrcInfoMulti",
            "`SrcNodeType: cluster` needs the nodes in `SrcInfoMulti`",
            "list each node of the cluster under `SrcInfoMulti`",
        );
    }
    if !cluster && !spec.src_info_multi.is_empty() {
        problems.error_at(
            "migspec::rule::src_info_multi",
            "/spec/SrcInfoMulti",
            "`SrcInfoMulti` is only used with `SrcNodeType: cluster`",
            "set `SrcNodeType: cluster`, or remove `SrcInfoMulti`",
        );
    }
    for (index, node) in spec.src_info_multi.iter().enumerate() {
        check_src_info_2018(
            node,
            spec.src_access_type,
            &format!("/spec/SrcInfoMulti/{index}"),
            problems,
        );
    }
    if spec.dst_info.instance_id.is_none() {
        problems.error_at(
            "migspec::rule::access_type_field",
            "/spec/DstInfo/InstanceId",
            "`DstAccessType: cdb` needs `DstInfo.InstanceId`",
            "add the TencentDB instance ID, e.g. `InstanceId: cdb-9z8y7x6w`",
        );
    }
    if spec.dst_info.ip.is_some() || spec.dst_info.port.is_some() {
        problems.warning_at(
            "migspec::rule::deprecated",
            if spec.dst_info.ip.is_some() {
                "/spec/DstInfo/Ip"
            } else {
                "/spec/DstInfo/Port"
            },
            "`DstInfo.Ip` and `DstInfo.Port` are deprecated by the API",
            "remove them; the target is identified by `InstanceId`",
        );
    }
    if spec.dst_info.read_only == Some(ReadOnly::ReadOnly)
        && (spec.src_database_type != SrcDatabaseType::Mysql
            || option.migrate_object == Some(MigrateObject::Selected))
    {
        problems.error_at(
            "migspec::rule::read_only",
            "/spec/DstInfo/ReadOnly",
            "`DstInfo.ReadOnly: 1` is only for MySQL whole-instance migrations",
            "set `ReadOnly: 0` or remove it",
        );
    }
    check_tags(&spec.tags, problems);
    let is_redis = spec.src_database_type == SrcDatabaseType::Redis;
    check_resume(
        job.lifecycle.on_failure.as_ref(),
        is_redis,
        spec.src_database_type.as_str(),
        problems,
    );
    rules::check_timeouts(job.lifecycle.timeouts.as_ref(), problems);
}

/// Parses and checks `DatabaseInfo`; returns its items when it could be read.
fn check_database_info_2018(
    spec: &t18::MigrateJobSpec,
    problems: &mut Problems,
) -> Option<Vec<t18::DatabaseInfoItem>> {
    let info = spec.database_info.as_ref()?;
    let items = match info.items() {
        Ok(items) => items,
        Err(error) => {
            problems.error_labelled(
                "migspec::rule::database_info_json",
                "/spec/DatabaseInfo",
                format!("`DatabaseInfo` is not valid JSON of the documented shape: {error}"),
                "malformed DatabaseInfo",
                "write it as a YAML list instead (`- {Database: db1, Table: [t1, t2]}`), or as JSON like `[{\"Database\":\"db1\",\"Table\":[\"t1\"]}]`",
            );
            return None;
        }
    };
    let three_level = matches!(
        spec.src_database_type,
        SrcDatabaseType::Postgresql | SrcDatabaseType::Sqlserver
    );
    let in_list = matches!(info, DatabaseInfo::List(_));
    for (index, item) in items.iter().enumerate() {
        let item_pointer = if in_list {
            format!("/spec/DatabaseInfo/{index}")
        } else {
            "/spec/DatabaseInfo".to_owned()
        };
        if item.database.trim().is_empty() {
            problems.error_at(
                "migspec::rule::database_info_item",
                &format!("{item_pointer}/Database"),
                format!("`DatabaseInfo[{index}].Database` is empty"),
                "name the database to migrate",
            );
        }
        if item.schema.is_some() && !three_level {
            let pointer = if in_list {
                format!("{item_pointer}/Schema")
            } else {
                item_pointer.clone()
            };
            problems.error_at(
                "migspec::rule::database_info_schema",
                &pointer,
                format!(
                    "`Schema` in `DatabaseInfo[{index}]` is only for three-level engines (postgresql, sqlserver); this source is {}",
                    spec.src_database_type
                ),
                "remove `Schema`: MySQL-like and MongoDB sources use `{Database, Table}`",
            );
        }
        if let Some(tables) = &item.table
            && tables.is_empty()
        {
            let pointer = if in_list {
                format!("{item_pointer}/Table")
            } else {
                item_pointer.clone()
            };
            problems.error_at(
                "migspec::rule::database_info_item",
                &pointer,
                format!("`DatabaseInfo[{index}].Table` is an empty list"),
                "list the tables, or remove `Table` to migrate the whole database",
            );
        }
    }
    Some(items)
}

fn check_extern_params(spec: &t18::MigrateJobSpec, problems: &mut Problems) {
    let Some(params) = &spec.migrate_option.extern_params else {
        return;
    };
    let map = match params.map() {
        Ok(map) => map,
        Err(error) => {
            problems.error_labelled(
                "migspec::rule::extern_params_json",
                "/spec/MigrateOption/ExternParams",
                format!("`ExternParams` is not a JSON object: {error}"),
                "malformed ExternParams",
                "write it as a YAML mapping (`ExternParams: {ClientOutputBufferHardLimit: 512}`) or as a JSON object string",
            );
            return;
        }
    };
    let known: &[&str] = match spec.src_database_type {
        SrcDatabaseType::Redis => &[
            "ClientOutputBufferHardLimit",
            "ClientOutputBufferSoftLimit",
            "ClientOutputBufferPersistTime",
            "ReplBacklogSize",
            "ReplTimeout",
        ],
        SrcDatabaseType::Mongodb => &["SrcAuthDatabase", "SrcAuthFlag", "SrcAuthMechanism"],
        _ => &[],
    };
    for key in map.keys() {
        if !known.contains(&key.as_str()) {
            let pointer = match params {
                t18::ExternParams::Map(_) => format!("/spec/MigrateOption/ExternParams/{key}"),
                t18::ExternParams::Json(_) => "/spec/MigrateOption/ExternParams".to_owned(),
            };
            let help = if known.is_empty() {
                format!(
                    "{} sources take no documented ExternParams",
                    spec.src_database_type
                )
            } else {
                match migspec_schema::closest(key, known) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => format!(
                        "documented keys for {}: {}",
                        spec.src_database_type,
                        known.join(", ")
                    ),
                }
            };
            problems.warning_at(
                "migspec::rule::extern_params_key",
                &pointer,
                format!(
                    "`ExternParams.{key}` is not a documented parameter for {} sources",
                    spec.src_database_type
                ),
                help,
            );
        }
    }
}

fn check_src_info_2018(info: &SrcInfo, access: AccessType, pointer: &str, problems: &mut Problems) {
    let required: &[(&str, bool)] = match access {
        AccessType::Cvm => &[("CvmInstanceId", info.cvm_instance_id.is_some())],
        AccessType::Dcg => &[("UniqDcgId", info.uniq_dcg_id.is_some())],
        AccessType::Vpncloud => &[("UniqVpnGwId", info.uniq_vpn_gw_id.is_some())],
        AccessType::Cdb => &[("InstanceId", info.instance_id.is_some())],
        AccessType::Ccn => &[("CcnId", info.ccn_id.is_some())],
        AccessType::Extranet => &[("Ip", info.ip.is_some()), ("Port", info.port.is_some())],
    };
    for (field, present) in required {
        if !present {
            problems.error_at(
                "migspec::rule::access_type_field",
                &format!("{pointer}/{field}"),
                format!(
                    "`SrcAccessType: {access}` needs `{field}` in `{}`",
                    pointer.trim_start_matches("/spec/").replace('/', ".")
                ),
                format!("add `{field}`: {}", access_help(access)),
            );
        }
    }
}

fn access_help(access: impl std::fmt::Display) -> String {
    match access.to_string().as_str() {
        "cvm" => "the CVM instance ID, e.g. `ins-1a2b3c4d`".to_owned(),
        "dcg" => "the Direct Connect gateway ID, e.g. `dcg-0rxtqqxb`".to_owned(),
        "vpncloud" => "the VPN gateway ID, e.g. `vpngw-9ghexg7q`".to_owned(),
        "cdb" => "the TencentDB instance ID, e.g. `cdb-9z8y7x6w`".to_owned(),
        "ccn" => "the Cloud Connect Network ID, e.g. `ccn-afp6kltc`".to_owned(),
        other => format!("required for `{other}` access"),
    }
}

// ---------------------------------------------------------------------------------------------
// TencentDtsMigrationJob (2021-12-06)
// ---------------------------------------------------------------------------------------------

fn check_2021(job: &TencentDtsMigrationJob, problems: &mut Problems) {
    let spec = &job.spec;
    let option = &spec.migrate_option;
    if spec.run_mode == t21::RunMode::Timed && spec.expect_run_time.is_none() {
        problems.error_at(
            "migspec::rule::expect_time",
            "/spec/ExpectRunTime",
            "`RunMode: timed` needs `ExpectRunTime`",
            "add `ExpectRunTime: \"2026-12-01 02:00:00\"` (yyyy-mm-dd hh:mm:ss), or use `RunMode: immediate`",
        );
    }
    check_datetime(
        spec.expect_run_time.as_ref(),
        "/spec/ExpectRunTime",
        problems,
    );
    if spec.dst_region != spec.region {
        problems.error_at(
            "migspec::rule::region",
            "/spec/DstRegion",
            format!("`DstRegion: {}` must equal the job's `region: {}`", spec.dst_region, spec.region),
            "a 2021-12-06 job is created in its target's region: make `region` and `DstRegion` the same",
        );
    }
    for (side, endpoint, database_type, region) in [
        (
            "Src",
            &spec.src_info,
            spec.src_database_type,
            &spec.src_region,
        ),
        (
            "Dst",
            &spec.dst_info,
            spec.dst_database_type,
            &spec.dst_region,
        ),
    ] {
        let base = format!("/spec/{side}Info");
        if endpoint.database_type != database_type {
            problems.error_at(
                "migspec::rule::endpoint_mismatch",
                &format!("{base}/DatabaseType"),
                format!(
                    "`{side}Info.DatabaseType: {}` differs from `{side}DatabaseType: {database_type}`",
                    endpoint.database_type
                ),
                format!("the job was bought for {database_type}: make both the same"),
            );
        }
        if &endpoint.region != region {
            problems.error_at(
                "migspec::rule::endpoint_mismatch",
                &format!("{base}/Region"),
                format!(
                    "`{side}Info.Region: {}` differs from `{side}Region: {region}`",
                    endpoint.region
                ),
                "make both the same",
            );
        }
        check_endpoint_2021(endpoint, &base, problems);
    }
    if spec.src_database_type == t21::DatabaseType::Tdsqlmysql
        && spec.src_info.connect_type.is_none()
    {
        problems.error_at(
            "migspec::rule::access_type_field",
            "/spec/SrcInfo/ConnectType",
            "a `tdsqlmysql` source needs `SrcInfo.ConnectType`",
            "add `ConnectType: proxy` or `ConnectType: set`",
        );
    }

    let table = &option.database_table;
    match table.object_mode {
        ObjectMode::Partial if table.databases.is_empty() => problems.error_at(
            "migspec::rule::database_info_required",
            "/spec/MigrateOption/DatabaseTable/Databases",
            "`ObjectMode: partial` needs `Databases`",
            "list the databases, e.g. `Databases: [{DbName: orders, DBMode: all}]`, or use `ObjectMode: all`",
        ),
        ObjectMode::All if !table.databases.is_empty() => problems.error_at(
            "migspec::rule::database_info_forbidden",
            "/spec/MigrateOption/DatabaseTable/Databases",
            "`Databases` is only used with `ObjectMode: partial`",
            "set `ObjectMode: partial` to migrate the listed databases, or remove `Databases`",
        ),
        _ => {}
    }
    for (index, item) in table.databases.iter().enumerate() {
        check_db_item(
            item,
            &format!("/spec/MigrateOption/DatabaseTable/Databases/{index}"),
            problems,
        );
    }
    if option.is_override_root == Some(true) {
        let reason = if table.object_mode == ObjectMode::Partial {
            Some("a partial (table-level) job")
        } else if option.migrate_type == Some(t21::MigrateType::Structure) {
            Some("a structure-only job")
        } else {
            None
        };
        if let Some(reason) = reason {
            problems.error_at(
                "migspec::rule::override_root",
                "/spec/MigrateOption/IsOverrideRoot",
                format!("`IsOverrideRoot: true` is not allowed for {reason}"),
                "set `IsOverrideRoot: false`",
            );
        }
    }
    let is_redis = spec.src_database_type == t21::DatabaseType::Redis;
    if is_redis
        && option
            .migrate_type
            .is_some_and(|migrate_type| migrate_type != t21::MigrateType::FullAndIncrement)
    {
        problems.error_at(
            "migspec::rule::redis_migrate_type",
            "/spec/MigrateOption/MigrateType",
            "Redis jobs only support `MigrateType: fullAndIncrement`",
            "use `fullAndIncrement` or remove `MigrateType`",
        );
    }
    if option.is_dst_read_only == Some(true) && spec.dst_database_type != t21::DatabaseType::Mysql {
        problems.error_at(
            "migspec::rule::read_only",
            "/spec/MigrateOption/IsDstReadOnly",
            "`IsDstReadOnly` is only supported for MySQL targets",
            "remove it",
        );
    }
    if let Some(consistency) = &option.consistency
        && consistency.object_mode == Some(t21::ConsistencyObjectMode::Custom)
        && consistency.objects.is_none()
    {
        problems.error_at(
            "migspec::rule::consistency_objects",
            "/spec/MigrateOption/Consistency/Objects",
            "`Consistency.ObjectMode: custom` needs `Objects`",
            "list the objects to check, or use `ObjectMode: sameAsMigrate`",
        );
    }
    if let Some(minutes) = spec.auto_retry_time_range_minutes
        && minutes != 0
        && minutes < 5
    {
        problems.error_at(
            "migspec::rule::auto_retry",
            "/spec/AutoRetryTimeRangeMinutes",
            format!("`AutoRetryTimeRangeMinutes: {minutes}` is out of range"),
            "use 0 (no automatic retry) or 5 to 720 minutes",
        );
    }
    check_tags(&spec.tags, problems);
    check_resume(
        job.lifecycle.on_failure.as_ref(),
        is_redis,
        spec.src_database_type.as_str(),
        problems,
    );
    let mysql_family = matches!(
        spec.src_database_type,
        t21::DatabaseType::Mysql
            | t21::DatabaseType::Mariadb
            | t21::DatabaseType::Percona
            | t21::DatabaseType::Cynosdbmysql
            | t21::DatabaseType::Tdsqlmysql
    );
    if job.lifecycle.complete_mode == Some(t21::CompleteMode::Immediately) && !mysql_family {
        problems.error_at(
            "migspec::rule::complete_mode",
            "/lifecycle/CompleteMode",
            format!(
                "`CompleteMode: immediately` only applies to MySQL jobs, and this job migrates {}",
                spec.src_database_type
            ),
            "remove `CompleteMode` (the job then completes once the sync has caught up, `waitForSync`)",
        );
    }
    rules::check_timeouts(job.lifecycle.timeouts.as_ref(), problems);
}

fn check_endpoint_2021(endpoint: &DBEndpointInfo, base: &str, problems: &mut Problems) {
    use t21::AccessType as A;
    let access = endpoint.access_type;
    if access == A::Ccn && endpoint.database_net_env.is_none() {
        problems.error_at(
            "migspec::rule::access_type_field",
            &format!("{base}/DatabaseNetEnv"),
            "`AccessType: ccn` needs `DatabaseNetEnv`",
            "add `DatabaseNetEnv: UserIDC` (your data center) or `TencentVPC`",
        );
    }
    for (index, info) in endpoint.info.iter().enumerate() {
        let required: Vec<(&str, bool)> = match access {
            A::Cvm => vec![("CvmInstanceId", info.cvm_instance_id.is_some())],
            A::Cdb => vec![("InstanceId", info.instance_id.is_some())],
            A::Vpncloud => vec![
                ("UniqVpnGwId", info.uniq_vpn_gw_id.is_some()),
                ("VpcId", info.vpc_id.is_some()),
                ("SubnetId", info.subnet_id.is_some()),
                ("Host", info.host.is_some()),
                ("Port", info.port.is_some()),
            ],
            A::Dcg => vec![
                ("UniqDcgId", info.uniq_dcg_id.is_some()),
                ("VpcId", info.vpc_id.is_some()),
                ("SubnetId", info.subnet_id.is_some()),
                ("Host", info.host.is_some()),
                ("Port", info.port.is_some()),
            ],
            A::Ccn | A::Vpc => vec![
                ("VpcId", info.vpc_id.is_some()),
                ("SubnetId", info.subnet_id.is_some()),
                ("Host", info.host.is_some()),
                ("Port", info.port.is_some()),
            ],
            A::Extranet | A::Ipv6 | A::Intranet => {
                vec![("Host", info.host.is_some()), ("Port", info.port.is_some())]
            }
        };
        for (field, present) in required {
            if !present {
                let side = base.trim_start_matches("/spec/");
                problems.error_at(
                    "migspec::rule::access_type_field",
                    &format!("{base}/Info/{index}/{field}"),
                    format!("`AccessType: {access}` needs `{field}` in `{side}.Info[{index}]`"),
                    format!("add `{field}`: {}", access_help(access)),
                );
            }
        }
    }
}

fn check_db_item(item: &t21::DBItem, pointer: &str, problems: &mut Problems) {
    if item.db_name.is_none() {
        problems.error_at(
            "migspec::rule::db_item",
            &format!("{pointer}/DbName"),
            "every entry of a partial selection needs `DbName`",
            "name the database (names are case-sensitive)",
        );
    }
    match item.db_mode {
        None => problems.error_at(
            "migspec::rule::db_item",
            &format!("{pointer}/DBMode"),
            "every entry of a partial selection needs `DBMode`",
            "add `DBMode: all` (the whole database) or `DBMode: partial` (then `TableMode`)",
        ),
        Some(SelectionMode::Partial) if item.table_mode.is_none() => problems.error_at(
            "migspec::rule::db_item",
            &format!("{pointer}/TableMode"),
            "`DBMode: partial` needs `TableMode`",
            "add `TableMode: all` or `TableMode: partial` with `Tables`",
        ),
        _ => {}
    }
    if item.table_mode == Some(SelectionMode::Partial) && item.tables.is_empty() {
        problems.error_at(
            "migspec::rule::db_item",
            &format!("{pointer}/Tables"),
            "`TableMode: partial` needs `Tables`",
            "list the tables, e.g. `Tables: [{TableName: orders}]`",
        );
    }
    for (index, table) in item.tables.iter().enumerate() {
        let table_pointer = format!("{pointer}/Tables/{index}");
        if table.new_table_name.is_some() && !table.tmp_tables.is_empty() {
            problems.error_at(
                "migspec::rule::table_item",
                &format!("{table_pointer}/TmpTables"),
                "`NewTableName` and `TmpTables` cannot be used together",
                "rename the table (`TableEditMode: rename`) or list online-DDL temporary tables (`TableEditMode: pt`), not both",
            );
        }
        match table.table_edit_mode {
            Some(t21::TableEditMode::Rename) if table.new_table_name.is_none() => problems
                .error_at(
                    "migspec::rule::table_item",
                    &format!("{table_pointer}/NewTableName"),
                    "`TableEditMode: rename` needs `NewTableName`",
                    "add the table's new name",
                ),
            Some(t21::TableEditMode::Pt) if table.tmp_tables.is_empty() => problems.error_at(
                "migspec::rule::table_item",
                &format!("{table_pointer}/TmpTables"),
                "`TableEditMode: pt` needs `TmpTables`",
                "list the temporary tables, e.g. `[_t1_new, _t1_old]` for pt-osc",
            ),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// HuaweiOmsTaskGroup
// ---------------------------------------------------------------------------------------------
