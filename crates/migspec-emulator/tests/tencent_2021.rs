//! DTS 2021-12-06: every action's success path and documented refusals, and the
//! (version, action) routing.

mod common;

use common::{Harness, REGION, V2018, V2021, modify_2021};
use serde_json::{Value, json};

const CONFLICT: &str = "FailedOperation.StatusInConflict";
const DENIED: &str = "OperationDenied.OperationDeniedError";

fn service(count: i64) -> Value {
    json!({"SrcDatabaseType": "mysql", "DstDatabaseType": "mysql", "SrcRegion": REGION, "DstRegion": REGION, "InstanceClass": "small", "Count": count,
           "JobName": "bought", "Tags": [{"TagKey": "team", "TagValue": "payments"}]})
}

#[tokio::test]
async fn create_migration_service_buys_jobs_that_become_created() {
    let h = Harness::start().await;
    let response = h.dts_ok(V2021, "CreateMigrationService", service(2)).await;
    let ids: Vec<String> = response["JobIds"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|id| id.as_str().expect("id").to_owned())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(
        ids.iter()
            .all(|id| id.starts_with("dts-") && id.len() == 12)
    );
    let list = h.dts_ok(V2021, "DescribeMigrationJobs", json!({})).await;
    assert_eq!(list["TotalCount"], 2);
    let item = &list["JobList"][0];
    for key in [
        "JobId",
        "JobName",
        "CreateTime",
        "UpdateTime",
        "StartTime",
        "EndTime",
        "BriefMsg",
        "Status",
        "RunMode",
        "ExpectRunTime",
        "Action",
        "StepInfo",
        "SrcInfo",
        "DstInfo",
        "CompareTask",
        "TradeInfo",
        "Tags",
        "AutoRetryTimeRangeMinutes",
        "DumperResumeCtrl",
    ] {
        assert!(item.get(key).is_some(), "JobItem.{key} missing: {item}");
    }
    assert_eq!(item["Status"], "creating");
    assert_eq!(item["TradeInfo"]["TradeStatus"], "normal");
    assert_eq!(item["TradeInfo"]["InstanceClass"], "small");
    assert_eq!(item["TradeInfo"]["PayType"], "postpay");
    assert_eq!(
        item["TradeInfo"].as_object().map(serde_json::Map::len),
        Some(11)
    );
    assert_eq!(item["SrcInfo"]["DatabaseType"], "mysql");
    assert_eq!(item["SrcInfo"]["Region"], REGION);
    assert_eq!(
        item["Tags"],
        json!([{"TagKey": "team", "TagValue": "payments"}])
    );
    h.advance_secs(1);
    assert_eq!(h.status_2021(&ids[0]).await, "created");
}

#[tokio::test]
async fn create_migration_service_refusals() {
    let h = Harness::start().await;
    let mut other_region = service(1);
    other_region["DstRegion"] = json!("ap-shanghai");
    h.dts_expect(
        V2021,
        "CreateMigrationService",
        other_region,
        "InvalidParameterValue",
        "`DstRegion`",
    )
    .await;
    let mut class = service(1);
    class["InstanceClass"] = json!("huge");
    h.dts_expect(
        V2021,
        "CreateMigrationService",
        class,
        "InvalidParameterValue",
        "`InstanceClass`",
    )
    .await;
    h.dts_expect(
        V2021,
        "CreateMigrationService",
        service(16),
        "InvalidParameterValue",
        "`Count`",
    )
    .await;
    let mut missing = service(1);
    missing.as_object_mut().expect("object").remove("SrcRegion");
    h.dts_expect(
        V2021,
        "CreateMigrationService",
        missing,
        "MissingParameter",
        "`SrcRegion`",
    )
    .await;
    let mut unknown = service(1);
    unknown["Region"] = json!(REGION);
    h.dts_expect(
        V2021,
        "CreateMigrationService",
        unknown,
        "UnknownParameter",
        "`Region`",
    )
    .await;
    let mut database = service(1);
    database["SrcDatabaseType"] = json!("oracle");
    h.dts_expect(
        V2021,
        "CreateMigrationService",
        database,
        "InvalidParameterValue",
        "`SrcDatabaseType`",
    )
    .await;
}

#[tokio::test]
async fn modify_check_start_run_complete() {
    let h = Harness::start().await;
    let job_id = h.configured_2021("orders", "fullAndIncrement").await;
    let detail = h.detail_2021(&job_id).await;
    assert_eq!(detail["Status"], "created");
    assert_eq!(detail["RunMode"], "immediate");
    assert_eq!(detail["MigrateOption"]["MigrateType"], "fullAndIncrement");
    assert_eq!(
        detail["MigrateOption"]["DatabaseTable"]["Databases"][0]["DbName"],
        "orders"
    );
    assert_eq!(detail["SrcInfo"]["Info"][0]["Host"], "10.0.0.1");
    assert_eq!(
        detail["SrcInfo"]["Info"][0]["Password"], "",
        "passwords are never returned"
    );
    assert_eq!(
        detail["SrcInfo"]["Info"][0]
            .as_object()
            .map(serde_json::Map::len),
        Some(22),
        "every DBInfo key"
    );
    assert!(!detail.to_string().contains("secret"));
    for key in [
        "MigrateOption",
        "CheckStepInfo",
        "TradeInfo",
        "ErrorInfo",
        "DumperResumeCtrl",
        "RateLimitOption",
        "CompareTask",
        "Action",
    ] {
        assert!(
            detail.get(key).is_some(),
            "DescribeMigrationDetail.{key} missing"
        );
    }
    assert!(
        detail["Action"]["AllowedAction"]
            .as_array()
            .expect("list")
            .contains(&json!("check"))
    );

    let check = h
        .dts_ok(V2021, "DescribeMigrationCheckJob", json!({"JobId": job_id}))
        .await;
    assert_eq!(
        (check["Status"].as_str(), check["CheckFlag"].as_str()),
        (Some("notStarted"), Some(""))
    );
    h.dts_ok(V2021, "CreateMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    assert_eq!(h.status_2021(&job_id).await, "checking");
    h.advance(std::time::Duration::from_millis(500));
    let check = h
        .dts_ok(V2021, "DescribeMigrationCheckJob", json!({"JobId": job_id}))
        .await;
    assert_eq!(check["Status"], "running");
    h.advance(std::time::Duration::from_millis(500));
    let check = h
        .dts_ok(V2021, "DescribeMigrationCheckJob", json!({"JobId": job_id}))
        .await;
    assert_eq!(check["Status"], "success");
    assert_eq!(check["CheckFlag"], "checkPass");
    assert_eq!(check["BriefMsg"], "success");
    assert!(
        check["StepInfo"]
            .as_array()
            .expect("steps")
            .iter()
            .all(|step| step["StepStatus"] == "pass")
    );
    assert_eq!(check["StepInfo"][0]["StepId"], "ConnectDBCheck");
    let detail = h.detail_2021(&job_id).await;
    assert_eq!(detail["Status"], "checkPass");
    assert_eq!(detail["CheckStepInfo"]["Progress"]["Status"], "success");

    h.dts_ok(V2021, "StartMigrateJob", json!({"JobId": job_id}))
        .await;
    h.advance(std::time::Duration::from_millis(750));
    let detail = h.detail_2021(&job_id).await;
    assert_eq!(detail["Status"], "running");
    let steps = detail["StepInfo"]["StepInfo"].as_array().expect("steps");
    let view: Vec<(&str, &str, i64)> = steps
        .iter()
        .map(|s| {
            (
                s["StepId"].as_str().expect("id"),
                s["Status"].as_str().expect("status"),
                s["Percent"].as_i64().expect("percent"),
            )
        })
        .collect();
    assert_eq!(
        view,
        vec![
            ("dumper", "finished", 100),
            ("loader", "running", 50),
            ("sinker", "notStarted", 0)
        ]
    );
    assert_eq!(detail["StepInfo"]["StepAll"], 3);
    assert_eq!(detail["StepInfo"]["StepNow"], 2);
    h.advance_secs(1);
    assert_eq!(h.status_2021(&job_id).await, "readyComplete");
    h.dts_ok(V2021, "CompleteMigrateJob", json!({"JobId": job_id}))
        .await;
    assert_eq!(h.status_2021(&job_id).await, "completing");
    h.advance_secs(1);
    let detail = h.detail_2021(&job_id).await;
    assert_eq!(detail["Status"], "success");
    assert_ne!(detail["EndTime"], "0000-00-00 00:00:00");
}

#[tokio::test]
async fn modify_refusals_and_rules() {
    let h = Harness::start().await;
    let job_id = h.configured_2021("orders", "full").await;
    let mut changed_type = modify_2021(&job_id, "full");
    changed_type["SrcInfo"]["DatabaseType"] = json!("postgresql");
    h.dts_expect(
        V2021,
        "ModifyMigrationJob",
        changed_type,
        "InvalidParameterValue",
        "`SrcInfo.DatabaseType`",
    )
    .await;
    let mut changed_region = modify_2021(&job_id, "full");
    changed_region["DstInfo"]["Region"] = json!("ap-beijing");
    h.dts_expect(
        V2021,
        "ModifyMigrationJob",
        changed_region,
        "InvalidParameterValue",
        "`DstInfo.Region`",
    )
    .await;
    let mut run_mode = modify_2021(&job_id, "full");
    run_mode["RunMode"] = json!("later");
    h.dts_expect(
        V2021,
        "ModifyMigrationJob",
        run_mode,
        "InvalidParameterValue",
        "`RunMode`",
    )
    .await;
    let mut timed = modify_2021(&job_id, "full");
    timed["RunMode"] = json!("timed");
    h.dts_expect(
        V2021,
        "ModifyMigrationJob",
        timed,
        "MissingParameter",
        "`ExpectRunTime`",
    )
    .await;
    let mut partial = modify_2021(&job_id, "full");
    partial["MigrateOption"]["DatabaseTable"] = json!({"ObjectMode": "partial"});
    h.dts_expect(
        V2021,
        "ModifyMigrationJob",
        partial,
        "MissingParameter",
        "`MigrateOption.DatabaseTable.Databases`",
    )
    .await;
    let mut db_mode = modify_2021(&job_id, "full");
    db_mode["MigrateOption"]["DatabaseTable"]["Databases"][0] = json!({"DbName": "orders"});
    h.dts_expect(
        V2021,
        "ModifyMigrationJob",
        db_mode,
        "MissingParameter",
        "`MigrateOption.DatabaseTable.Databases.0.DBMode`",
    )
    .await;
    let mut info = modify_2021(&job_id, "full");
    info["DstInfo"]["Info"] = json!([{"Host": "10.0.0.2"}]);
    h.dts_expect(
        V2021,
        "ModifyMigrationJob",
        info,
        "MissingParameter",
        "`DstInfo.Info.0.InstanceId`",
    )
    .await;
    let mut unknown = modify_2021(&job_id, "full");
    unknown["MigrateOption"]["RateLimitOption"] = json!({});
    h.dts_expect(
        V2021,
        "ModifyMigrationJob",
        unknown,
        "UnknownParameter",
        "`MigrateOption.RateLimitOption`",
    )
    .await;
    let mut retry = modify_2021(&job_id, "full");
    retry["AutoRetryTimeRangeMinutes"] = json!(3);
    h.dts_expect(
        V2021,
        "ModifyMigrationJob",
        retry,
        "InvalidParameterValue",
        "`AutoRetryTimeRangeMinutes`",
    )
    .await;
    h.dts_expect(
        V2021,
        "ModifyMigrationJob",
        modify_2021("dts-nothere0", "full"),
        "ResourceNotFound.ResourceNotFoundError",
        "dts-nothere0",
    )
    .await;

    // A change after a passed check requires a new check.
    h.dts_ok(V2021, "CreateMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    h.dts_expect(
        V2021,
        "ModifyMigrationJob",
        modify_2021(&job_id, "full"),
        DENIED,
        "checking",
    )
    .await;
    h.advance_secs(1);
    assert_eq!(h.status_2021(&job_id).await, "checkPass");
    h.dts_ok(
        V2021,
        "ModifyMigrationJob",
        modify_2021(&job_id, "structure"),
    )
    .await;
    assert_eq!(h.status_2021(&job_id).await, "created");
    h.dts_expect(
        V2021,
        "StartMigrateJob",
        json!({"JobId": job_id}),
        CONFLICT,
        "checkPass",
    )
    .await;

    // Redis supports only full + incremental.
    let redis = h
        .dts_ok(V2021, "CreateMigrationService", json!({"SrcDatabaseType": "redis", "DstDatabaseType": "redis", "SrcRegion": REGION, "DstRegion": REGION, "InstanceClass": "medium"}))
        .await["JobIds"][0]
        .as_str()
        .expect("id")
        .to_owned();
    let mut redis_modify = modify_2021(&redis, "full");
    redis_modify["SrcInfo"]["DatabaseType"] = json!("redis");
    redis_modify["DstInfo"]["DatabaseType"] = json!("redis");
    h.dts_expect(
        V2021,
        "ModifyMigrationJob",
        redis_modify,
        "InvalidParameterValue",
        "`MigrateOption.MigrateType`",
    )
    .await;
}

#[tokio::test]
async fn check_and_start_refusals() {
    let h = Harness::start().await;
    let bought = h.dts_ok(V2021, "CreateMigrationService", service(1)).await["JobIds"][0]
        .as_str()
        .expect("id")
        .to_owned();
    h.advance_secs(1);
    h.dts_expect(
        V2021,
        "CreateMigrateCheckJob",
        json!({"JobId": bought}),
        CONFLICT,
        "configured",
    )
    .await;
    h.dts_expect(
        V2021,
        "StartMigrateJob",
        json!({"JobId": bought}),
        CONFLICT,
        "checkPass",
    )
    .await;
    h.dts_expect(
        V2021,
        "CreateMigrateCheckJob",
        json!({"JobId": "dts-nothere0"}),
        "ResourceNotFound.JobNotExist",
        "dts-nothere0",
    )
    .await;
    h.dts_expect(
        V2021,
        "StartMigrateJob",
        json!({"JobId": "dts-nothere0"}),
        "ResourceNotFound.JobNotExist",
        "dts-nothere0",
    )
    .await;
    h.dts_expect(
        V2021,
        "DescribeMigrationDetail",
        json!({"JobId": "dts-nothere0"}),
        "ResourceNotFound.ResourceNotFoundError",
        "dts-nothere0",
    )
    .await;
    h.dts_expect(
        V2021,
        "DescribeMigrationCheckJob",
        json!({"JobId": "dts-nothere0"}),
        "ResourceNotFound.ResourceNotFoundError",
        "dts-nothere0",
    )
    .await;
    h.dts_expect(
        V2021,
        "DescribeMigrationDetail",
        json!({}),
        "MissingParameter",
        "`JobId`",
    )
    .await;
}

#[tokio::test]
async fn pause_continue_stop() {
    let h = Harness::start().await;
    let job_id = h.configured_2021("orders", "fullAndIncrement").await;
    h.dts_expect(
        V2021,
        "PauseMigrateJob",
        json!({"JobId": job_id}),
        DENIED,
        "running",
    )
    .await;
    h.dts_expect(
        V2021,
        "ContinueMigrateJob",
        json!({"JobId": job_id}),
        DENIED,
        "manualPaused",
    )
    .await;
    h.dts_expect(
        V2021,
        "StopMigrateJob",
        json!({"JobId": job_id}),
        CONFLICT,
        "running",
    )
    .await;
    h.dts_ok(V2021, "CreateMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    h.advance_secs(1);
    h.dts_ok(V2021, "StartMigrateJob", json!({"JobId": job_id}))
        .await;
    h.advance(std::time::Duration::from_millis(300));
    h.dts_ok(V2021, "PauseMigrateJob", json!({"JobId": job_id}))
        .await;
    assert_eq!(h.status_2021(&job_id).await, "pausing");
    h.dts_expect(
        V2021,
        "ContinueMigrateJob",
        json!({"JobId": job_id}),
        DENIED,
        "pausing",
    )
    .await;
    h.advance_secs(5);
    let detail = h.detail_2021(&job_id).await;
    assert_eq!(detail["Status"], "manualPaused");
    assert_eq!(
        detail["StepInfo"]["StepInfo"][0]["Percent"], 60,
        "no progress while paused"
    );
    h.dts_ok(V2021, "ContinueMigrateJob", json!({"JobId": job_id}))
        .await;
    assert_eq!(h.status_2021(&job_id).await, "running");
    h.advance_secs(1);
    assert_eq!(h.status_2021(&job_id).await, "readyComplete");
    h.dts_ok(V2021, "StopMigrateJob", json!({"JobId": job_id}))
        .await;
    assert_eq!(h.status_2021(&job_id).await, "stopping");
    h.dts_expect(
        V2021,
        "CompleteMigrateJob",
        json!({"JobId": job_id}),
        CONFLICT,
        "readyComplete",
    )
    .await;
    h.advance_secs(1);
    let detail = h.detail_2021(&job_id).await;
    assert_eq!(detail["Status"], "canceled");
    assert_ne!(detail["EndTime"], "0000-00-00 00:00:00");
    for action in ["PauseMigrateJob", "ContinueMigrateJob"] {
        h.dts_expect(
            V2021,
            action,
            json!({"JobId": "dts-nothere0"}),
            "ResourceNotFound.ResourceNotFoundError",
            "dts-nothere0",
        )
        .await;
    }
}

#[tokio::test]
async fn resume_option_rules_and_refusals() {
    let h = Harness::start().await;
    let job_id = h.configured_2021("orders", "fullAndIncrement").await;
    h.dts_expect(
        V2021,
        "ResumeMigrateJob",
        json!({"JobId": job_id, "ResumeOption": "clearData"}),
        "InvalidParameterValue",
        "`ResumeOption`",
    )
    .await;
    h.dts_expect(
        V2021,
        "ResumeMigrateJob",
        json!({"JobId": job_id, "ResumeOption": "overwrite"}),
        "InvalidParameterValue",
        "redis",
    )
    .await;
    h.dts_expect(
        V2021,
        "ResumeMigrateJob",
        json!({"JobId": job_id, "ResumeOption": "sometimes"}),
        "InvalidParameterValue",
        "`ResumeOption`",
    )
    .await;
    h.dts_expect(
        V2021,
        "ResumeMigrateJob",
        json!({"JobId": job_id, "ResumeOption": "normal"}),
        CONFLICT,
        "resumableErr",
    )
    .await;
    h.dts_expect(
        V2021,
        "ResumeMigrateJob",
        json!({"JobId": "dts-nothere0"}),
        "ResourceNotFound.JobNotExist",
        "dts-nothere0",
    )
    .await;
    let redis = h
        .dts_ok(V2021, "CreateMigrationService", json!({"SrcDatabaseType": "redis", "DstDatabaseType": "redis", "SrcRegion": REGION, "DstRegion": REGION, "InstanceClass": "medium"}))
        .await["JobIds"][0]
        .as_str()
        .expect("id")
        .to_owned();
    h.dts_expect(
        V2021,
        "ResumeMigrateJob",
        json!({"JobId": redis, "ResumeOption": "normal"}),
        "InvalidParameterValue",
        "redis",
    )
    .await;
    h.dts_expect(
        V2021,
        "ResumeMigrateJob",
        json!({"JobId": redis, "ResumeOption": "clearData"}),
        CONFLICT,
        "resumableErr",
    )
    .await;
}

#[tokio::test]
async fn isolate_recover_destroy() {
    let h = Harness::start().await;
    let job_id = h.configured_2021("orders", "fullAndIncrement").await;
    h.dts_expect(
        V2021,
        "RecoverMigrateJob",
        json!({"JobId": job_id}),
        DENIED,
        "isolated",
    )
    .await;
    h.dts_expect(
        V2021,
        "DestroyMigrateJob",
        json!({"JobId": job_id}),
        DENIED,
        "isolated",
    )
    .await;
    h.dts_ok(V2021, "IsolateMigrateJob", json!({"JobId": job_id}))
        .await;
    assert_eq!(
        h.detail_2021(&job_id).await["TradeInfo"]["TradeStatus"],
        "isolating"
    );
    h.dts_expect(
        V2021,
        "IsolateMigrateJob",
        json!({"JobId": job_id}),
        DENIED,
        "isolating",
    )
    .await;
    h.advance_secs(1);
    let detail = h.detail_2021(&job_id).await;
    assert_eq!(detail["TradeInfo"]["TradeStatus"], "isolated");
    assert_eq!(detail["TradeInfo"]["IsolateReason"], "user_isolate");
    assert_ne!(detail["TradeInfo"]["IsolateTime"], "0000-00-00 00:00:00");
    assert_eq!(
        detail["Action"]["AllowedAction"],
        json!(["view", "recover", "offline"])
    );
    h.dts_expect(
        V2021,
        "CreateMigrateCheckJob",
        json!({"JobId": job_id}),
        CONFLICT,
        "isolated",
    )
    .await;
    h.dts_ok(V2021, "RecoverMigrateJob", json!({"JobId": job_id}))
        .await;
    assert_eq!(
        h.detail_2021(&job_id).await["TradeInfo"]["TradeStatus"],
        "normal"
    );

    // Isolating a running job ends its migration.
    h.dts_ok(V2021, "CreateMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    h.advance_secs(1);
    h.dts_ok(V2021, "StartMigrateJob", json!({"JobId": job_id}))
        .await;
    h.dts_ok(V2021, "IsolateMigrateJob", json!({"JobId": job_id}))
        .await;
    assert_eq!(h.status_2021(&job_id).await, "canceled");
    h.advance_secs(1);
    h.dts_ok(V2021, "DestroyMigrateJob", json!({"JobId": job_id}))
        .await;
    assert_eq!(
        h.detail_2021(&job_id).await["TradeInfo"]["TradeStatus"],
        "offlining"
    );
    h.dts_expect(
        V2021,
        "RecoverMigrateJob",
        json!({"JobId": job_id}),
        DENIED,
        "offlining",
    )
    .await;
    h.advance_secs(1);
    let detail = h.detail_2021(&job_id).await;
    assert_eq!(detail["TradeInfo"]["TradeStatus"], "offlined");
    assert_eq!(detail["TradeInfo"]["OfflineReason"], "user_offline");
    h.dts_expect(
        V2021,
        "DestroyMigrateJob",
        json!({"JobId": job_id}),
        DENIED,
        "offlined",
    )
    .await;
    for action in [
        "IsolateMigrateJob",
        "RecoverMigrateJob",
        "DestroyMigrateJob",
    ] {
        h.dts_expect(
            V2021,
            action,
            json!({"JobId": "dts-nothere0"}),
            "ResourceNotFound.ResourceNotFoundError",
            "dts-nothere0",
        )
        .await;
    }
    h.dts_expect(
        V2021,
        "DestroyMigrateJob",
        json!({}),
        "MissingParameter",
        "`JobId`",
    )
    .await;
}

#[tokio::test]
async fn describe_migration_jobs_filters_and_pages() {
    let h = Harness::start().await;
    let configured = h.configured_2021("alpha", "full").await;
    h.advance_secs(1);
    let redis = h
        .dts_ok(V2021, "CreateMigrationService", json!({"SrcDatabaseType": "redis", "DstDatabaseType": "redis", "SrcRegion": REGION, "DstRegion": REGION, "InstanceClass": "medium", "JobName": "bravo", "Tags": [{"TagKey": "team", "TagValue": "cache"}]}))
        .await["JobIds"][0]
        .as_str()
        .expect("id")
        .to_owned();
    let names = |response: &Value| -> Vec<String> {
        response["JobList"]
            .as_array()
            .expect("list")
            .iter()
            .map(|j| j["JobName"].as_str().expect("name").to_owned())
            .collect()
    };
    let all = h.dts_ok(V2021, "DescribeMigrationJobs", json!({})).await;
    assert_eq!(
        names(&all),
        vec!["bravo", "alpha"],
        "newest first by default"
    );
    let ascending = h
        .dts_ok(
            V2021,
            "DescribeMigrationJobs",
            json!({"OrderSeq": "asc", "Limit": 1}),
        )
        .await;
    assert_eq!(
        (ascending["TotalCount"].as_i64(), names(&ascending)),
        (Some(2), vec!["alpha".to_owned()])
    );
    let page = h
        .dts_ok(
            V2021,
            "DescribeMigrationJobs",
            json!({"OrderSeq": "asc", "Limit": 1, "Offset": 1}),
        )
        .await;
    assert_eq!(names(&page), vec!["bravo"]);
    let created = h
        .dts_ok(
            V2021,
            "DescribeMigrationJobs",
            json!({"Status": ["created"]}),
        )
        .await;
    assert_eq!(names(&created), vec!["alpha"]);
    let creating = h
        .dts_ok(
            V2021,
            "DescribeMigrationJobs",
            json!({"Status": ["creating", "checkPass"]}),
        )
        .await;
    assert_eq!(names(&creating), vec!["bravo"]);
    let by_type = h
        .dts_ok(
            V2021,
            "DescribeMigrationJobs",
            json!({"SrcDatabaseType": ["redis"]}),
        )
        .await;
    assert_eq!(by_type["JobList"][0]["JobId"], redis.as_str());
    let by_access = h
        .dts_ok(
            V2021,
            "DescribeMigrationJobs",
            json!({"DstAccessType": ["cdb"], "SrcAccessType": ["extranet"]}),
        )
        .await;
    assert_eq!(by_access["JobList"][0]["JobId"], configured.as_str());
    let by_instance = h
        .dts_ok(
            V2021,
            "DescribeMigrationJobs",
            json!({"DstInstanceId": "cdb-12345678"}),
        )
        .await;
    assert_eq!(names(&by_instance), vec!["alpha"]);
    let by_tag = h
        .dts_ok(
            V2021,
            "DescribeMigrationJobs",
            json!({"TagFilters": [{"TagKey": "team", "TagValue": ["cache"]}]}),
        )
        .await;
    assert_eq!(names(&by_tag), vec!["bravo"]);
    let by_id = h.dts_ok(V2021, "DescribeMigrationJobs", json!({"JobId": configured, "RunMode": "immediate", "SrcRegion": REGION, "DstRegion": REGION})).await;
    assert_eq!(names(&by_id), vec!["alpha"]);
    let by_name = h
        .dts_ok(V2021, "DescribeMigrationJobs", json!({"JobName": "bravo"}))
        .await;
    assert_eq!(by_name["TotalCount"], 1);
    let elsewhere = h
        .dts_in(
            Some("ap-shanghai"),
            V2021,
            "DescribeMigrationJobs",
            json!({}),
        )
        .await;
    assert_eq!(elsewhere["TotalCount"], 0);
    let no_region = h
        .dts_in(None, V2021, "DescribeMigrationJobs", json!({}))
        .await;
    assert_eq!(
        no_region["TotalCount"], 2,
        "2021 does not insist on a region"
    );
    h.dts_expect(
        V2021,
        "DescribeMigrationJobs",
        json!({"OrderSeq": "DESC"}),
        "InvalidParameterValue",
        "`OrderSeq`",
    )
    .await;
    h.dts_expect(
        V2021,
        "DescribeMigrationJobs",
        json!({"Limit": 101}),
        "InvalidParameterValue",
        "`Limit`",
    )
    .await;
    h.dts_expect(
        V2021,
        "DescribeMigrationJobs",
        json!({"Status": ["done"]}),
        "InvalidParameterValue",
        "`Status.0`",
    )
    .await;
    h.dts_expect(
        V2021,
        "DescribeMigrationJobs",
        json!({"Status": "created"}),
        "InvalidParameter",
        "`Status`",
    )
    .await;
}

#[tokio::test]
async fn actions_are_routed_on_version_and_action() {
    let h = Harness::start().await;
    h.dts_expect(
        V2021,
        "CreateMigrateJob",
        common::create_2018("x"),
        "InvalidAction",
        "CreateMigrateJob",
    )
    .await;
    h.dts_expect(
        V2018,
        "DescribeMigrationJobs",
        json!({}),
        "InvalidAction",
        "DescribeMigrationJobs",
    )
    .await;
    h.dts_expect(
        V2018,
        "ResumeMigrateJob",
        json!({"JobId": "x"}),
        "InvalidAction",
        "ResumeMigrateJob",
    )
    .await;
    h.dts_expect(
        "2017-03-12",
        "DescribeMigrateJobs",
        json!({}),
        "NoSuchVersion",
        "2017-03-12",
    )
    .await;
    // StartMigrateJob exists in both versions with different jobs and statuses.
    let old = h.create_2018("old").await;
    h.dts_ok(V2018, "CreateMigrateCheckJob", json!({"JobId": old}))
        .await;
    h.advance_secs(1);
    h.dts_expect(
        V2021,
        "StartMigrateJob",
        json!({"JobId": old}),
        "ResourceNotFound.JobNotExist",
        &old,
    )
    .await;
    h.dts_ok(V2018, "StartMigrateJob", json!({"JobId": old}))
        .await;
    assert_eq!(
        h.job_2018(&old).await["Status"],
        7,
        "integer statuses in 2018"
    );
    let new = h.configured_2021("new", "full").await;
    h.dts_expect(
        V2018,
        "CreateMigrateCheckJob",
        json!({"JobId": new}),
        "ResourceNotFound.JobNotExist",
        &new,
    )
    .await;
    assert_eq!(
        h.detail_2021(&new).await["Status"],
        "created",
        "string statuses in 2021"
    );
}

/// Issue 13, item 12: `CompleteMode` is honoured, not only accepted.
#[tokio::test]
async fn complete_mode_immediately_ends_at_once_and_wait_for_sync_waits_for_the_sync() {
    let h = Harness::start().await;
    let mut jobs = Vec::new();
    for name in ["cut-off", "drained", "default"] {
        let job_id = h.configured_2021(name, "fullAndIncrement").await;
        h.dts_ok(V2021, "CreateMigrateCheckJob", json!({"JobId": job_id}))
            .await;
        jobs.push(job_id);
    }
    h.advance_secs(1);
    for job_id in &jobs {
        h.dts_ok(V2021, "StartMigrateJob", json!({"JobId": job_id}))
            .await;
    }
    h.advance_secs(2);
    for job_id in &jobs {
        assert_eq!(h.status_2021(job_id).await, "readyComplete");
    }
    h.dts_expect(
        V2021,
        "CompleteMigrateJob",
        json!({"JobId": jobs[0], "CompleteMode": "later"}),
        "InvalidParameterValue",
        "`CompleteMode`",
    )
    .await;
    h.dts_ok(
        V2021,
        "CompleteMigrateJob",
        json!({"JobId": jobs[0], "CompleteMode": "immediately"}),
    )
    .await;
    h.dts_ok(
        V2021,
        "CompleteMigrateJob",
        json!({"JobId": jobs[1], "CompleteMode": "waitForSync"}),
    )
    .await;
    h.dts_ok(V2021, "CompleteMigrateJob", json!({"JobId": jobs[2]}))
        .await;
    let detail = h.detail_2021(&jobs[0]).await;
    assert_eq!(detail["Status"], "success", "immediately: no waiting");
    assert_ne!(detail["EndTime"], "0000-00-00 00:00:00");
    assert_eq!(h.status_2021(&jobs[1]).await, "completing");
    assert_eq!(
        h.status_2021(&jobs[2]).await,
        "completing",
        "waitForSync is the default"
    );
    h.advance_secs(1);
    assert_eq!(h.status_2021(&jobs[1]).await, "success");
    assert_eq!(h.status_2021(&jobs[2]).await, "success");
}
