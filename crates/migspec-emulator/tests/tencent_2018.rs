//! DTS 2018-03-30: every action's success path and documented refusals.

mod common;

use common::{Harness, REGION, V2018, create_2018};
use serde_json::json;

const NOT_FOUND: &str = "ResourceNotFound.JobNotExist";
const CONFLICT: &str = "FailedOperation.StatusInConflict";

#[tokio::test]
async fn create_then_describe_returns_every_documented_field() {
    let h = Harness::start().await;
    let job_id = h.create_2018("orders-to-cdb").await;
    assert!(
        job_id.starts_with("dts-")
            && job_id.len() == 12
            && job_id[4..]
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    );
    let job = h.job_2018(&job_id).await;
    for key in [
        "JobId",
        "JobName",
        "MigrateOption",
        "SrcDatabaseType",
        "SrcAccessType",
        "SrcInfo",
        "DstDatabaseType",
        "DstAccessType",
        "DstInfo",
        "DatabaseInfo",
        "CreateTime",
        "StartTime",
        "EndTime",
        "Status",
        "Detail",
        "ErrorInfo",
        "Tags",
        "SrcInfoMulti",
    ] {
        assert!(
            job.get(key).is_some(),
            "MigrateJobInfo.{key} missing: {job}"
        );
    }
    assert_eq!(job["Status"], 1);
    assert_eq!(job["StartTime"], "0000-00-00 00:00:00");
    assert_eq!(job["EndTime"], "0000-00-00 00:00:00");
    assert_eq!(
        job["SrcInfo"].as_object().map(serde_json::Map::len),
        Some(16),
        "every SrcInfo key: {}",
        job["SrcInfo"]
    );
    assert_eq!(job["SrcInfo"]["Password"], "");
    assert_eq!(job["SrcInfo"]["CvmInstanceId"], "ins-1a2b3c4d");
    assert_eq!(job["SrcInfo"]["Ip"], "");
    assert_eq!(job["SrcInfo"]["VpcId"], "");
    assert_eq!(
        job["DstInfo"].as_object().map(serde_json::Map::len),
        Some(7)
    );
    assert_eq!(job["DstInfo"]["Password"], "");
    assert_eq!(job["DstInfo"]["Port"], 0);
    assert_eq!(job["MigrateOption"]["ExpectTime"], "0000-00-00 00:00:00");
    assert_eq!(
        job["MigrateOption"]["ConsistencyParams"],
        json!({"SelectRowsPerTable": 0, "TablesSelectAll": 0, "TablesSelectCount": 0})
    );
    assert_eq!(job["MigrateOption"]["ExternParams"], "");
    assert_eq!(
        job["Detail"],
        json!({"StepAll": 0, "StepNow": 0, "Progress": "0", "CurrentStepProgress": "0", "MasterSlaveDistance": 0, "SecondsBehindMaster": 0, "StepInfo": []})
    );
    assert_eq!(job["ErrorInfo"], json!([]));
    assert_eq!(job["SrcInfoMulti"], json!([]));
    assert_eq!(
        job["Tags"],
        json!([{"TagKey": "team", "TagValue": "payments"}])
    );
    assert!(
        !job.to_string().contains("secret"),
        "passwords are never returned: {job}"
    );
    let create_time = job["CreateTime"].as_str().expect("string");
    assert_eq!(create_time.len(), 19);
}

#[tokio::test]
async fn create_rejects_bad_parameters_naming_the_field() {
    let h = Harness::start().await;
    let mut missing = create_2018("x");
    missing.as_object_mut().expect("object").remove("JobName");
    h.dts_expect(
        V2018,
        "CreateMigrateJob",
        missing,
        "MissingParameter",
        "`JobName`",
    )
    .await;
    let mut nested_missing = create_2018("x");
    nested_missing["MigrateOption"]
        .as_object_mut()
        .expect("object")
        .remove("RunMode");
    h.dts_expect(
        V2018,
        "CreateMigrateJob",
        nested_missing,
        "MissingParameter",
        "`MigrateOption.RunMode`",
    )
    .await;
    let mut unknown = create_2018("x");
    unknown["MigrateOption"]["RunModes"] = json!(1);
    h.dts_expect(
        V2018,
        "CreateMigrateJob",
        unknown,
        "UnknownParameter",
        "`MigrateOption.RunModes`",
    )
    .await;
    let mut wrong_type = create_2018("x");
    wrong_type["SrcInfo"]["Port"] = json!("3306");
    h.dts_expect(
        V2018,
        "CreateMigrateJob",
        wrong_type,
        "InvalidParameter",
        "`SrcInfo.Port`",
    )
    .await;
    let mut bad_enum = create_2018("x");
    bad_enum["SrcAccessType"] = json!("vpnselfbuild");
    h.dts_expect(
        V2018,
        "CreateMigrateJob",
        bad_enum,
        "InvalidParameterValue",
        "`SrcAccessType`",
    )
    .await;
    let mut dst_access = create_2018("x");
    dst_access["DstAccessType"] = json!("cvm");
    h.dts_expect(
        V2018,
        "CreateMigrateJob",
        dst_access,
        "InvalidParameterValue",
        "`DstAccessType`",
    )
    .await;
    let mut timed = create_2018("x");
    timed["MigrateOption"]["RunMode"] = json!(2);
    h.dts_expect(
        V2018,
        "CreateMigrateJob",
        timed,
        "MissingParameter",
        "`MigrateOption.ExpectTime`",
    )
    .await;
    let mut no_objects = create_2018("x");
    no_objects
        .as_object_mut()
        .expect("object")
        .remove("DatabaseInfo");
    h.dts_expect(
        V2018,
        "CreateMigrateJob",
        no_objects,
        "MissingParameter",
        "`DatabaseInfo`",
    )
    .await;
    let mut bad_objects = create_2018("x");
    bad_objects["DatabaseInfo"] = json!("orders.*");
    h.dts_expect(
        V2018,
        "CreateMigrateJob",
        bad_objects,
        "InvalidParameterValue",
        "`DatabaseInfo`",
    )
    .await;
    let mut override_root = create_2018("x");
    override_root["MigrateOption"]["IsOverrideRoot"] = json!(1);
    h.dts_expect(
        V2018,
        "CreateMigrateJob",
        override_root,
        "InvalidParameterValue",
        "`MigrateOption.IsOverrideRoot`",
    )
    .await;
    let mut sampled = create_2018("x");
    sampled["MigrateOption"]["ConsistencyType"] = json!(3);
    h.dts_expect(
        V2018,
        "CreateMigrateJob",
        sampled,
        "InvalidParameterValue",
        "ConsistencyParams",
    )
    .await;
    let mut cvm = create_2018("x");
    cvm["SrcInfo"]
        .as_object_mut()
        .expect("object")
        .remove("CvmInstanceId");
    h.dts_expect(
        V2018,
        "CreateMigrateJob",
        cvm,
        "MissingParameter",
        "`SrcInfo.CvmInstanceId`",
    )
    .await;
    let (code, message) = {
        let response = h
            .dts_in(None, V2018, "CreateMigrateJob", create_2018("x"))
            .await;
        (
            response["Error"]["Code"].clone(),
            response["Error"]["Message"].clone(),
        )
    };
    assert_eq!(code, "MissingParameter");
    assert!(
        message.as_str().is_some_and(|m| m.contains("`Region`")),
        "{message}"
    );
    let listed = h.dts_ok(V2018, "DescribeMigrateJobs", json!({})).await;
    assert_eq!(
        listed["TotalCount"], 0,
        "no job was created by a refused request"
    );
}

#[tokio::test]
async fn lifecycle_check_start_ready_complete_complete_success() {
    let h = Harness::start().await;
    let job_id = h.create_2018("orders-to-cdb").await;
    let check = h
        .dts_ok(V2018, "DescribeMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    assert_eq!(
        (
            check["Status"].as_str(),
            check["CheckFlag"].as_i64(),
            check["Progress"].as_str()
        ),
        (Some("unavailable"), Some(3), Some("0"))
    );
    h.dts_ok(V2018, "CreateMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    assert_eq!(h.job_2018(&job_id).await["Status"], 3);
    h.advance(std::time::Duration::from_millis(500));
    let check = h
        .dts_ok(V2018, "DescribeMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    assert_eq!(check["Status"], "running");
    assert_eq!(check["Progress"], "50");
    assert_eq!(check["CheckFlag"], 3);
    h.advance(std::time::Duration::from_millis(500));
    let check = h
        .dts_ok(V2018, "DescribeMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    assert_eq!(
        check,
        json!({"Status": "finished", "ErrorCode": 0, "ErrorMessage": "ok", "Progress": "100", "CheckFlag": 1, "RequestId": check["RequestId"]})
    );
    assert_eq!(h.job_2018(&job_id).await["Status"], 4);

    h.dts_ok(V2018, "StartMigrateJob", json!({"JobId": job_id}))
        .await;
    h.advance(std::time::Duration::from_millis(250));
    let job = h.job_2018(&job_id).await;
    assert_eq!(job["Status"], 7);
    assert_ne!(job["StartTime"], "0000-00-00 00:00:00");
    let detail = &job["Detail"];
    assert_eq!(detail["StepAll"], 3);
    assert_eq!(detail["StepNow"], 1);
    assert_eq!(detail["Progress"], "25");
    assert_eq!(detail["CurrentStepProgress"], "50");
    let steps: Vec<(&str, i64)> = detail["StepInfo"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["StepId"].as_str().expect("id"),
                s["Status"].as_i64().expect("status"),
            )
        })
        .collect();
    assert_eq!(steps, vec![("dumper", 3), ("loader", 4), ("sinker", 4)]);
    h.advance(std::time::Duration::from_millis(500));
    let detail = h.job_2018(&job_id).await["Detail"].clone();
    assert_eq!(detail["Progress"], "75");
    assert_eq!(detail["StepNow"], 2);
    assert_eq!(detail["StepInfo"][0]["Status"], 1);
    assert_eq!(detail["StepInfo"][1]["Status"], 3);
    assert_ne!(detail["StepInfo"][1]["StartTime"], "");

    h.advance_secs(1);
    let job = h.job_2018(&job_id).await;
    assert_eq!(
        job["Status"], 8,
        "full + incremental waits in ready-to-complete"
    );
    assert_eq!(job["Detail"]["StepNow"], 3);
    assert_eq!(job["Detail"]["StepInfo"][2]["Status"], 3);
    h.dts_ok(
        V2018,
        "CompleteMigrateJob",
        json!({"JobId": job_id, "CompleteMode": "waitForSync"}),
    )
    .await;
    assert_eq!(h.job_2018(&job_id).await["Status"], 12);
    h.advance_secs(1);
    let job = h.job_2018(&job_id).await;
    assert_eq!(job["Status"], 9);
    assert_ne!(job["EndTime"], "0000-00-00 00:00:00");
    assert!(
        job["Detail"]["StepInfo"]
            .as_array()
            .expect("steps")
            .iter()
            .all(|s| s["Status"] == 1)
    );
    h.dts_ok(V2018, "DeleteMigrateJob", json!({"JobId": job_id}))
        .await;
    assert_eq!(
        h.dts_ok(V2018, "DescribeMigrateJobs", json!({"JobId": job_id}))
            .await["TotalCount"],
        0
    );
}

#[tokio::test]
async fn full_migration_goes_straight_to_success() {
    let h = Harness::start().await;
    let mut request = create_2018("full-only");
    request["MigrateOption"]["MigrateType"] = json!(2);
    let job_id = h.dts_ok(V2018, "CreateMigrateJob", request).await["JobId"]
        .as_str()
        .expect("id")
        .to_owned();
    h.dts_ok(V2018, "CreateMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    h.advance_secs(1);
    h.dts_ok(V2018, "StartMigrateJob", json!({"JobId": job_id}))
        .await;
    h.advance_secs(1);
    let job = h.job_2018(&job_id).await;
    assert_eq!(job["Status"], 9);
    assert_eq!(job["Detail"]["StepAll"], 2);
    assert_eq!(job["Detail"]["Progress"], "100");
}

#[tokio::test]
async fn timed_job_waits_in_ready_run_until_expect_time() {
    let h = Harness::start().await;
    let mut request = create_2018("timed");
    let expect_ms = h.clock.now_secs() * 1000 + 10_000;
    let beijing = {
        let secs = expect_ms / 1000 + 8 * 3600;
        format!(
            "{} {:02}:{:02}:{:02}",
            common::utc_day(secs),
            secs % 86_400 / 3600,
            secs % 3600 / 60,
            secs % 60
        )
    };
    request["MigrateOption"]["RunMode"] = json!(2);
    request["MigrateOption"]["ExpectTime"] = json!(beijing);
    let job_id = h.dts_ok(V2018, "CreateMigrateJob", request).await["JobId"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        h.job_2018(&job_id).await["MigrateOption"]["ExpectTime"],
        beijing
    );
    h.dts_ok(V2018, "CreateMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    h.advance_secs(1);
    h.dts_ok(V2018, "StartMigrateJob", json!({"JobId": job_id}))
        .await;
    assert_eq!(h.job_2018(&job_id).await["Status"], 6);
    h.advance_secs(8);
    assert_eq!(h.job_2018(&job_id).await["Status"], 6);
    h.advance_secs(1);
    let job = h.job_2018(&job_id).await;
    assert_eq!(job["Status"], 7);
    assert_eq!(
        job["StartTime"], beijing,
        "a timed job starts at its ExpectTime"
    );
}

#[tokio::test]
async fn modify_is_allowed_in_1_4_5_10_and_invalidates_a_passed_check() {
    let h = Harness::start().await;
    let job_id = h.create_2018("orders").await;
    h.dts_ok(
        V2018,
        "ModifyMigrateJob",
        json!({"JobId": job_id, "JobName": "orders-renamed"}),
    )
    .await;
    assert_eq!(h.job_2018(&job_id).await["JobName"], "orders-renamed");

    h.dts_ok(V2018, "CreateMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    h.dts_expect(
        V2018,
        "ModifyMigrateJob",
        json!({"JobId": job_id, "JobName": "during-check"}),
        CONFLICT,
        "status 3",
    )
    .await;
    h.advance_secs(1);
    assert_eq!(h.job_2018(&job_id).await["Status"], 4);
    h.dts_ok(
        V2018,
        "ModifyMigrateJob",
        json!({"JobId": job_id, "DatabaseInfo": "[{\"Database\":\"orders\"}]"}),
    )
    .await;
    let job = h.job_2018(&job_id).await;
    assert_eq!(
        job["Status"], 1,
        "a modification invalidates the passed check"
    );
    assert_eq!(job["DatabaseInfo"], "[{\"Database\":\"orders\"}]");
    let check = h
        .dts_ok(V2018, "DescribeMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    assert_eq!(check["CheckFlag"], 3);
    h.dts_expect(
        V2018,
        "StartMigrateJob",
        json!({"JobId": job_id}),
        CONFLICT,
        "status 1",
    )
    .await;

    // Neither the target region nor the database types can be changed.
    h.dts_expect(V2018, "ModifyMigrateJob", json!({"JobId": job_id, "DstInfo": {"Region": "ap-shanghai", "InstanceId": "cdb-9z8y7x6w"}}), "InvalidParameterValue", "`DstInfo.Region`").await;
    h.dts_expect(
        V2018,
        "ModifyMigrateJob",
        json!({"JobId": job_id, "SrcDatabaseType": "redis"}),
        "UnknownParameter",
        "`SrcDatabaseType`",
    )
    .await;
    h.dts_expect(
        V2018,
        "ModifyMigrateJob",
        json!({"JobId": job_id, "MigrateOption": {"RunMode": 3}}),
        "InvalidParameterValue",
        "`MigrateOption.RunMode`",
    )
    .await;

    h.dts_ok(V2018, "CreateMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    h.advance_secs(1);
    h.dts_ok(V2018, "StartMigrateJob", json!({"JobId": job_id}))
        .await;
    h.dts_expect(
        V2018,
        "ModifyMigrateJob",
        json!({"JobId": job_id, "JobName": "running"}),
        CONFLICT,
        "status 7",
    )
    .await;
    h.dts_expect(
        V2018,
        "ModifyMigrateJob",
        json!({"JobId": "dts-nonexist"}),
        NOT_FOUND,
        "dts-nonexist",
    )
    .await;
}

#[tokio::test]
async fn start_stop_complete_refusals_and_stop_ends_failed() {
    let h = Harness::start().await;
    let job_id = h.create_2018("orders").await;
    h.dts_expect(
        V2018,
        "StartMigrateJob",
        json!({"JobId": job_id}),
        CONFLICT,
        "status 1",
    )
    .await;
    h.dts_expect(
        V2018,
        "StopMigrateJob",
        json!({"JobId": job_id}),
        CONFLICT,
        "7 or 8",
    )
    .await;
    h.dts_expect(
        V2018,
        "CompleteMigrateJob",
        json!({"JobId": job_id}),
        CONFLICT,
        "8",
    )
    .await;
    h.dts_ok(V2018, "CreateMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    h.dts_expect(
        V2018,
        "CreateMigrateCheckJob",
        json!({"JobId": job_id}),
        CONFLICT,
        "status 3",
    )
    .await;
    h.dts_expect(
        V2018,
        "StartMigrateJob",
        json!({"JobId": job_id}),
        CONFLICT,
        "status 3",
    )
    .await;
    h.advance_secs(1);
    h.dts_ok(V2018, "StartMigrateJob", json!({"JobId": job_id}))
        .await;
    h.dts_expect(
        V2018,
        "StartMigrateJob",
        json!({"JobId": job_id}),
        CONFLICT,
        "status 7",
    )
    .await;
    h.dts_expect(
        V2018,
        "CompleteMigrateJob",
        json!({"JobId": job_id}),
        CONFLICT,
        "status 7",
    )
    .await;
    h.dts_expect(
        V2018,
        "CompleteMigrateJob",
        json!({"JobId": job_id, "CompleteMode": "later"}),
        "InvalidParameterValue",
        "`CompleteMode`",
    )
    .await;
    h.dts_ok(V2018, "StopMigrateJob", json!({"JobId": job_id}))
        .await;
    assert_eq!(h.job_2018(&job_id).await["Status"], 11);
    h.dts_expect(
        V2018,
        "StopMigrateJob",
        json!({"JobId": job_id}),
        CONFLICT,
        "status 11",
    )
    .await;
    h.advance_secs(1);
    let job = h.job_2018(&job_id).await;
    assert_eq!(job["Status"], 10, "a revoked migration ends up failed");
    assert_ne!(job["EndTime"], "0000-00-00 00:00:00");
    // Stopping in ready-to-complete is allowed too.
    let second = h.create_2018("second").await;
    h.dts_ok(V2018, "CreateMigrateCheckJob", json!({"JobId": second}))
        .await;
    h.advance_secs(1);
    h.dts_ok(V2018, "StartMigrateJob", json!({"JobId": second}))
        .await;
    h.advance_secs(1);
    assert_eq!(h.job_2018(&second).await["Status"], 8);
    h.dts_ok(V2018, "StopMigrateJob", json!({"JobId": second}))
        .await;
    for action in [
        "CreateMigrateCheckJob",
        "DescribeMigrateCheckJob",
        "StartMigrateJob",
        "StopMigrateJob",
        "CompleteMigrateJob",
        "DeleteMigrateJob",
    ] {
        h.dts_expect(
            V2018,
            action,
            json!({"JobId": "dts-zzzzzzzz"}),
            NOT_FOUND,
            "dts-zzzzzzzz",
        )
        .await;
    }
    h.dts_expect(
        V2018,
        "StartMigrateJob",
        json!({}),
        "MissingParameter",
        "`JobId`",
    )
    .await;
}

#[tokio::test]
async fn delete_is_refused_in_3_7_8_11_12() {
    let h = Harness::start().await;
    let job_id = h.create_2018("orders").await;
    h.dts_ok(V2018, "CreateMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    h.dts_expect(
        V2018,
        "DeleteMigrateJob",
        json!({"JobId": job_id}),
        CONFLICT,
        "status 3",
    )
    .await;
    h.advance_secs(1);
    h.dts_ok(V2018, "StartMigrateJob", json!({"JobId": job_id}))
        .await;
    h.dts_expect(
        V2018,
        "DeleteMigrateJob",
        json!({"JobId": job_id}),
        CONFLICT,
        "status 7",
    )
    .await;
    h.advance_secs(1);
    h.dts_expect(
        V2018,
        "DeleteMigrateJob",
        json!({"JobId": job_id}),
        CONFLICT,
        "status 8",
    )
    .await;
    h.dts_ok(V2018, "CompleteMigrateJob", json!({"JobId": job_id}))
        .await;
    h.dts_expect(
        V2018,
        "DeleteMigrateJob",
        json!({"JobId": job_id}),
        CONFLICT,
        "status 12",
    )
    .await;
    h.advance_secs(1);
    h.dts_ok(V2018, "DeleteMigrateJob", json!({"JobId": job_id}))
        .await;

    let stopping = h.create_2018("stopping").await;
    h.dts_ok(V2018, "CreateMigrateCheckJob", json!({"JobId": stopping}))
        .await;
    h.advance_secs(1);
    h.dts_ok(V2018, "StartMigrateJob", json!({"JobId": stopping}))
        .await;
    h.dts_ok(V2018, "StopMigrateJob", json!({"JobId": stopping}))
        .await;
    h.dts_expect(
        V2018,
        "DeleteMigrateJob",
        json!({"JobId": stopping}),
        CONFLICT,
        "status 11",
    )
    .await;
    h.advance_secs(1);
    h.dts_ok(V2018, "DeleteMigrateJob", json!({"JobId": stopping}))
        .await;
    // Status 1 (never checked) can be deleted too.
    let fresh = h.create_2018("fresh").await;
    h.dts_ok(V2018, "DeleteMigrateJob", json!({"JobId": fresh}))
        .await;
    h.dts_expect(
        V2018,
        "DeleteMigrateJob",
        json!({"JobId": fresh}),
        NOT_FOUND,
        &fresh,
    )
    .await;
}

#[tokio::test]
async fn describe_filters_orders_and_pages() {
    let h = Harness::start().await;
    let mut ids = Vec::new();
    for (index, name) in ["alpha", "bravo", "charlie", "delta"].iter().enumerate() {
        let mut request = create_2018(name);
        request["Tags"] = json!([{"TagKey": "team", "TagValue": if index % 2 == 0 { "payments" } else { "search" }}, {"TagKey": "env", "TagValue": "prod"}]);
        ids.push(
            h.dts_ok(V2018, "CreateMigrateJob", request).await["JobId"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
        h.advance(std::time::Duration::from_secs(2));
    }
    let all = h.dts_ok(V2018, "DescribeMigrateJobs", json!({})).await;
    assert_eq!(all["TotalCount"], 4);
    let names: Vec<&str> = all["JobList"]
        .as_array()
        .expect("list")
        .iter()
        .map(|j| j["JobName"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        vec!["delta", "charlie", "bravo", "alpha"],
        "default: newest first"
    );
    let ascending = h
        .dts_ok(
            V2018,
            "DescribeMigrateJobs",
            json!({"Order": "JobName", "OrderSeq": "ASC", "Offset": 1, "Limit": 2}),
        )
        .await;
    assert_eq!(
        ascending["TotalCount"], 4,
        "TotalCount counts every match, not the page"
    );
    let names: Vec<&str> = ascending["JobList"]
        .as_array()
        .expect("list")
        .iter()
        .map(|j| j["JobName"].as_str().expect("name"))
        .collect();
    assert_eq!(names, vec!["bravo", "charlie"]);
    let by_id = h
        .dts_ok(V2018, "DescribeMigrateJobs", json!({"JobId": ids[2]}))
        .await;
    assert_eq!(by_id["JobList"][0]["JobName"], "charlie");
    let by_name = h
        .dts_ok(V2018, "DescribeMigrateJobs", json!({"JobName": "bravo"}))
        .await;
    assert_eq!(by_name["TotalCount"], 1);
    let by_tag = h
        .dts_ok(
            V2018,
            "DescribeMigrateJobs",
            json!({"TagFilters": [{"TagKey": "team", "TagValue": ["search"]}, {"TagKey": "env"}]}),
        )
        .await;
    let names: Vec<&str> = by_tag["JobList"]
        .as_array()
        .expect("list")
        .iter()
        .map(|j| j["JobName"].as_str().expect("name"))
        .collect();
    assert_eq!(names, vec!["delta", "bravo"]);
    let unknown = h
        .dts_ok(
            V2018,
            "DescribeMigrateJobs",
            json!({"JobId": "dts-nothere0"}),
        )
        .await;
    assert_eq!(
        (
            unknown["TotalCount"].as_i64(),
            unknown["JobList"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );
    let other_region = h
        .dts_in(Some("ap-shanghai"), V2018, "DescribeMigrateJobs", json!({}))
        .await;
    assert_eq!(other_region["TotalCount"], 0, "jobs are regional");
    h.dts_expect(
        V2018,
        "DescribeMigrateJobs",
        json!({"Limit": 0}),
        "InvalidParameterValue",
        "`Limit`",
    )
    .await;
    h.dts_expect(
        V2018,
        "DescribeMigrateJobs",
        json!({"Limit": 101}),
        "InvalidParameterValue",
        "`Limit`",
    )
    .await;
    h.dts_expect(
        V2018,
        "DescribeMigrateJobs",
        json!({"OrderSeq": "desc"}),
        "InvalidParameterValue",
        "`OrderSeq`",
    )
    .await;
    h.dts_expect(
        V2018,
        "DescribeMigrateJobs",
        json!({"Order": "UpdateTime"}),
        "InvalidParameterValue",
        "`Order`",
    )
    .await;
    h.dts_expect(
        V2018,
        "DescribeMigrateJobs",
        json!({"Offset": -1}),
        "InvalidParameterValue",
        "`Offset`",
    )
    .await;
    h.dts_expect(
        V2018,
        "DescribeMigrateJobs",
        json!({"Limit": "10"}),
        "InvalidParameter",
        "`Limit`",
    )
    .await;
    h.dts_expect(
        V2018,
        "DescribeMigrateJobs",
        json!({"Status": [1]}),
        "UnknownParameter",
        "`Status`",
    )
    .await;
    let twenty_five = {
        for index in 0..21 {
            h.create_2018(&format!("bulk-{index}")).await;
            h.advance(std::time::Duration::from_millis(100));
        }
        h.dts_ok(V2018, "DescribeMigrateJobs", json!({})).await
    };
    assert_eq!(twenty_five["TotalCount"], 25);
    assert_eq!(
        twenty_five["JobList"].as_array().map(Vec::len),
        Some(20),
        "default Limit is 20"
    );
    assert_eq!(REGION, "ap-guangzhou");
}

#[tokio::test]
async fn get_requests_with_flattened_parameters_work() {
    let h = Harness::start().await;
    let job_id = h.create_2018("via-get").await;
    let query = format!(
        "JobId={job_id}&Limit=10&TagFilters.0.TagKey=team&TagFilters.0.TagValue.0=payments"
    );
    let mut tc3 = h.tc3();
    tc3.method = hyper::Method::GET;
    tc3.query.clone_from(&query);
    tc3.content_type = "application/x-www-form-urlencoded".to_owned();
    let answer = h
        .dts_signed(&tc3, V2018, "DescribeMigrateJobs", Some(REGION), b"")
        .await;
    let response = answer.json()["Response"].clone();
    assert_eq!(response["TotalCount"], 1, "{response}");
    assert_eq!(response["JobList"][0]["JobId"], job_id.as_str());
    tc3.query = "Limit=ten".to_owned();
    let answer = h
        .dts_signed(&tc3, V2018, "DescribeMigrateJobs", Some(REGION), b"")
        .await;
    assert_eq!(
        answer.json()["Response"]["Error"]["Code"],
        "InvalidParameter"
    );
}

#[tokio::test]
async fn cached_describe_answers_follow_every_change() {
    let h = Harness::start().await;
    let job_id = h.create_2018("before").await;
    assert_eq!(h.job_2018(&job_id).await["JobName"], "before");
    assert_eq!(
        h.job_2018(&job_id).await["JobName"],
        "before",
        "served from the cache"
    );
    h.dts_ok(
        V2018,
        "ModifyMigrateJob",
        json!({"JobId": job_id, "JobName": "after"}),
    )
    .await;
    assert_eq!(h.job_2018(&job_id).await["JobName"], "after");
    h.dts_ok(V2018, "CreateMigrateCheckJob", json!({"JobId": job_id}))
        .await;
    assert_eq!(h.job_2018(&job_id).await["Status"], 3);
    h.advance_secs(1);
    assert_eq!(
        h.job_2018(&job_id).await["Status"],
        4,
        "a timed change is seen too"
    );
}
