//! OMS v2 task groups: the eight operations, their responses and refusals.

mod common;

use common::{Harness, create_group};
use hyper::Method;
use serde_json::json;

fn path(group_id: &str, action: &str) -> String {
    if action.is_empty() {
        format!("/taskgroups/{group_id}")
    } else {
        format!("/taskgroups/{group_id}/{action}")
    }
}

fn credentials() -> serde_json::Value {
    json!({"src_ak": "SRCAK", "src_sk": "SRCSK", "dst_ak": "DSTAK", "dst_sk": "DSTSK"})
}

#[tokio::test]
async fn create_show_and_progress_to_completed() {
    let h = Harness::start().await;
    let group_id = h.create_group("media-archive").await;
    assert!(
        uuid::Uuid::parse_str(&group_id).is_ok(),
        "group ids are UUIDs: {group_id}"
    );
    let group = h.show(&group_id).await;
    for key in [
        "group_id",
        "status",
        "error_reason",
        "src_node",
        "description",
        "dst_node",
        "enable_metadata_migration",
        "enable_failed_object_recording",
        "enable_restore",
        "task_type",
        "bandwidth_policy",
        "smn_config",
        "source_cdn",
        "migrate_since",
        "migrate_speed",
        "total_time",
        "start_time",
        "total_task_num",
        "create_task_num",
        "failed_task_num",
        "complete_task_num",
        "paused_task_num",
        "executing_task_num",
        "waiting_task_num",
        "total_num",
        "create_complete_num",
        "success_num",
        "fail_num",
        "skip_num",
        "total_size",
        "create_complete_size",
        "complete_size",
        "failed_object_record",
        "object_overwrite_mode",
        "dst_storage_policy",
        "consistency_check",
        "obs_system",
        "enable_requester_pays",
    ] {
        assert!(
            group.get(key).is_some(),
            "TaskGroupResp.{key} missing: {group}"
        );
    }
    assert_eq!(group["status"], 0);
    assert_eq!(
        group["src_node"]["cloud_type"], "ALIYUN",
        "upper case in responses"
    );
    assert_eq!(group["src_node"]["object_key"], json!(["2024/"]));
    assert_eq!(
        group["dst_node"],
        json!({"bucket": "dst-bucket", "region": "cn-north-4", "save_prefix": "archive/"})
    );
    assert_eq!(
        group["error_reason"],
        json!({"error_code": "", "error_msg": ""})
    );
    assert_eq!(
        group["object_overwrite_mode"],
        "SIZE_LAST_MODIFIED_COMPARISON_OVERWRITE"
    );
    assert_eq!(group["consistency_check"], "size_last_modified");
    assert_eq!(group["dst_storage_policy"], "STANDARD");
    assert_eq!(
        group["bandwidth_policy"],
        json!([{"end": "06:00", "max_bandwidth": 104_857_600, "start": "00:00"}])
    );
    let text = group.to_string();
    assert!(
        !text.contains("SRCAK")
            && !text.contains("DSTSK")
            && !text.contains("\"ak\"")
            && !text.contains("\"sk\""),
        "no credentials: {text}"
    );
    let total = group["total_num"].as_u64().expect("total");
    assert!(total > 0 && group["total_size"].as_u64().expect("size") > 0);

    h.advance_secs(1);
    let group = h.show(&group_id).await;
    assert_eq!(group["status"], 1, "creating tasks");
    h.advance(std::time::Duration::from_millis(500));
    let group = h.show(&group_id).await;
    assert_eq!(group["status"], 1);
    assert_eq!(group["create_complete_num"].as_u64(), Some(total / 2));
    h.advance(std::time::Duration::from_millis(500));
    h.advance(std::time::Duration::from_millis(250));
    let group = h.show(&group_id).await;
    assert_eq!(group["status"], 2, "migrating");
    assert_eq!(group["success_num"].as_u64(), Some(total / 4));
    assert!(group["migrate_speed"].as_u64().expect("speed") > 0);
    assert!(group["executing_task_num"].as_u64().expect("executing") > 0);
    h.advance_secs(1);
    let group = h.show(&group_id).await;
    assert_eq!(group["status"], 6);
    assert_eq!(group["success_num"].as_u64(), Some(total));
    assert_eq!(group["complete_task_num"], group["total_task_num"]);
    assert_eq!(group["fail_num"], 0);
    assert_eq!(group["failed_object_record"]["result"], false);
}

#[tokio::test]
async fn create_refusals_name_the_field() {
    let h = Harness::start().await;
    let mut missing = create_group("x");
    missing["dst_node"]
        .as_object_mut()
        .expect("object")
        .remove("ak");
    h.oms_expect(
        Method::POST,
        "/taskgroups",
        Some(missing),
        400,
        "OMS.0064",
        "`dst_node.ak`",
    )
    .await;
    let mut unknown = create_group("x");
    unknown["src_node"]["objectKey"] = json!(["a"]);
    h.oms_expect(
        Method::POST,
        "/taskgroups",
        Some(unknown),
        400,
        "OMS.0064",
        "`src_node.objectKey`",
    )
    .await;
    let mut wrong_type = create_group("x");
    wrong_type["enable_restore"] = json!("yes");
    h.oms_expect(
        Method::POST,
        "/taskgroups",
        Some(wrong_type),
        400,
        "OMS.0064",
        "`enable_restore`",
    )
    .await;
    let mut cloud = create_group("x");
    cloud["src_node"]["cloud_type"] = json!("Oracle");
    h.oms_expect(
        Method::POST,
        "/taskgroups",
        Some(cloud),
        400,
        "OMS.0064",
        "`src_node.cloud_type`",
    )
    .await;
    let mut task_type = create_group("x");
    task_type["task_type"] = json!("LIST");
    h.oms_expect(
        Method::POST,
        "/taskgroups",
        Some(task_type),
        400,
        "OMS.0064",
        "`src_node.list_file`",
    )
    .await;
    h.oms_expect(
        Method::POST,
        "/taskgroups",
        Some(create_group("a<b")),
        400,
        "OMS.0078",
        "forbidden",
    )
    .await;
    let mut bandwidth = create_group("x");
    bandwidth["bandwidth_policy"][0]["max_bandwidth"] = json!(1);
    h.oms_expect(
        Method::POST,
        "/taskgroups",
        Some(bandwidth),
        400,
        "OMS.0084",
        "`bandwidth_policy.0.max_bandwidth`",
    )
    .await;
    h.oms_expect(
        Method::POST,
        "/taskgroups",
        Some(json!([1, 2])),
        400,
        "OMS.0064",
        "JSON object",
    )
    .await;
    h.oms_expect(
        Method::POST,
        "/taskgroups",
        None,
        400,
        "OMS.0064",
        "`src_node`",
    )
    .await;
    let (_, list) = h.oms_json(Method::GET, "/taskgroups", &[], None).await;
    assert_eq!(list["count"], 0);
    // enable_kms is documented and accepted (and echoed).
    let mut kms = create_group("kms");
    kms["enable_kms"] = json!(true);
    let (status, json) = h
        .oms_json(Method::POST, "/taskgroups", &[], Some(kms))
        .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(
        h.show(json["group_id"].as_str().expect("id")).await["enable_kms"],
        true
    );
}

#[tokio::test]
async fn list_pages_and_filters_by_status() {
    let h = Harness::start().await;
    let first = h.create_group("first").await;
    h.advance_secs(5);
    let second = h.create_group("second").await;
    let (status, list) = h.oms_json(Method::GET, "/taskgroups", &[], None).await;
    assert_eq!(status, 200);
    assert_eq!(list["count"], 2);
    assert_eq!(
        list["taskgroups"][0]["group_id"],
        second.as_str(),
        "newest first"
    );
    let (_, page) = h
        .oms_json(
            Method::GET,
            "/taskgroups",
            &[("limit", "1"), ("offset", "1")],
            None,
        )
        .await;
    assert_eq!(
        page["count"], 2,
        "count is the number of matches, not the page size"
    );
    assert_eq!(page["taskgroups"].as_array().map(Vec::len), Some(1));
    assert_eq!(page["taskgroups"][0]["group_id"], first.as_str());
    let (_, completed) = h
        .oms_json(Method::GET, "/taskgroups", &[("status", "6")], None)
        .await;
    assert_eq!(completed["count"], 1);
    assert_eq!(completed["taskgroups"][0]["group_id"], first.as_str());
    let (_, waiting) = h
        .oms_json(
            Method::GET,
            "/taskgroups",
            &[("status", "0"), ("limit", "10"), ("offset", "0")],
            None,
        )
        .await;
    assert_eq!(waiting["taskgroups"][0]["group_id"], second.as_str());
    for (name, value) in [
        ("limit", "0"),
        ("limit", "101"),
        ("offset", "-1"),
        ("status", "10"),
        ("limit", "ten"),
    ] {
        let (status, error) = h
            .oms_json(Method::GET, "/taskgroups", &[(name, value)], None)
            .await;
        assert_eq!(
            (status, error["error_code"].as_str()),
            (400, Some("OMS.0064")),
            "{name}={value}"
        );
        assert!(
            error["error_msg"]
                .as_str()
                .expect("msg")
                .contains(&format!("`{name}`"))
        );
    }
}

#[tokio::test]
async fn stop_start_and_their_refusals() {
    let h = Harness::start().await;
    let group_id = h.create_group("media").await;
    h.oms_expect(
        Method::PUT,
        &path(&group_id, "stop"),
        None,
        400,
        "OMS.0066",
        "not in progress",
    )
    .await;
    h.oms_expect(
        Method::PUT,
        &path(&group_id, "start"),
        Some(credentials()),
        400,
        "OMS.0065",
        "already",
    )
    .await;
    h.advance(std::time::Duration::from_millis(2_500));
    assert_eq!(h.show(&group_id).await["status"], 2);
    let (status, body) = h
        .oms_json(Method::PUT, &path(&group_id, "stop"), &[], None)
        .await;
    assert_eq!(
        (status, body),
        (200, serde_json::Value::Null),
        "empty 200 body"
    );
    assert_eq!(h.show(&group_id).await["status"], 7, "pausing");
    h.oms_expect(
        Method::PUT,
        &path(&group_id, "stop"),
        None,
        400,
        "OMS.0066",
        "not in progress",
    )
    .await;
    h.advance_secs(1);
    let paused = h.show(&group_id).await;
    assert_eq!(paused["status"], 3);
    let done_while_paused = paused["success_num"].clone();
    assert!(paused["paused_task_num"].as_u64().expect("paused") > 0);
    h.advance_secs(10);
    assert_eq!(
        h.show(&group_id).await["success_num"],
        done_while_paused,
        "no progress while paused"
    );
    h.oms_expect(
        Method::PUT,
        &path(&group_id, "start"),
        Some(json!({"src_ak": "SRCAK"})),
        400,
        "OMS.0064",
        "`dst_ak`",
    )
    .await;
    let (status, _) = h
        .oms_json(
            Method::PUT,
            &path(&group_id, "start"),
            &[],
            Some(credentials()),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(h.show(&group_id).await["status"], 2);
    h.oms_expect(
        Method::PUT,
        &path(&group_id, "start"),
        Some(credentials()),
        400,
        "OMS.0065",
        "already",
    )
    .await;
    h.advance_secs(1);
    assert_eq!(h.show(&group_id).await["status"], 6);
    h.oms_expect(
        Method::PUT,
        &path(&group_id, "stop"),
        None,
        400,
        "OMS.0070",
        "complete",
    )
    .await;
    h.oms_expect(
        Method::PUT,
        &path(&group_id, "start"),
        Some(credentials()),
        400,
        "OMS.0070",
        "complete",
    )
    .await;
    h.oms_expect(
        Method::PUT,
        &path(&group_id, "retry"),
        Some(credentials()),
        400,
        "OMS.0064",
        "status 6",
    )
    .await;
}

#[tokio::test]
async fn update_replaces_the_bandwidth_policy() {
    let h = Harness::start().await;
    let group_id = h.create_group("media").await;
    let policy = json!({"bandwidth_policy": [{"start": "22:00", "end": "06:00", "max_bandwidth": 52_428_800}, {"start": "12:00", "end": "13:00", "max_bandwidth": 1_048_576}]});
    let (status, _) = h
        .oms_json(Method::PUT, &path(&group_id, "update"), &[], Some(policy))
        .await;
    assert_eq!(status, 200);
    let group = h.show(&group_id).await;
    assert_eq!(group["bandwidth_policy"].as_array().map(Vec::len), Some(2));
    assert_eq!(group["bandwidth_policy"][0]["max_bandwidth"], 52_428_800);
    let overlap = json!({"bandwidth_policy": [{"start": "22:00", "end": "06:00", "max_bandwidth": 1_048_576}, {"start": "05:00", "end": "07:00", "max_bandwidth": 1_048_576}]});
    h.oms_expect(
        Method::PUT,
        &path(&group_id, "update"),
        Some(overlap),
        400,
        "OMS.0085",
        "overlap",
    )
    .await;
    let many: Vec<_> = (0..6).map(|h| json!({"start": format!("0{h}:00"), "end": format!("0{h}:30"), "max_bandwidth": 1_048_576})).collect();
    h.oms_expect(
        Method::PUT,
        &path(&group_id, "update"),
        Some(json!({"bandwidth_policy": many})),
        400,
        "OMS.0083",
        "5",
    )
    .await;
    h.oms_expect(
        Method::PUT,
        &path(&group_id, "update"),
        Some(json!({})),
        400,
        "OMS.0064",
        "`bandwidth_policy`",
    )
    .await;
    let (status, _) = h
        .oms_json(
            Method::PUT,
            &path(&group_id, "update"),
            &[],
            Some(json!({"bandwidth_policy": []})),
        )
        .await;
    assert_eq!(status, 200, "an empty list removes every window");
    h.advance_secs(10);
    assert_eq!(h.show(&group_id).await["status"], 6);
    h.oms_expect(
        Method::PUT,
        &path(&group_id, "update"),
        Some(json!({"bandwidth_policy": []})),
        400,
        "OMS.0070",
        "complete",
    )
    .await;
}

#[tokio::test]
async fn delete_is_refused_while_running_then_goes_through_8_and_9() {
    let h = Harness::start().await;
    let group_id = h.create_group("media").await;
    h.advance_secs(1);
    h.oms_expect(
        Method::DELETE,
        &path(&group_id, ""),
        None,
        400,
        "OMS.0063",
        "status 1",
    )
    .await;
    h.advance_secs(1);
    h.oms_expect(
        Method::DELETE,
        &path(&group_id, ""),
        None,
        400,
        "OMS.0063",
        "status 2",
    )
    .await;
    h.oms_json(Method::PUT, &path(&group_id, "stop"), &[], None)
        .await;
    h.oms_expect(
        Method::DELETE,
        &path(&group_id, ""),
        None,
        400,
        "OMS.0063",
        "status 7",
    )
    .await;
    h.advance_secs(1);
    // Paused, but its tasks stop for as long again as the pause took.
    assert_eq!(h.show(&group_id).await["status"], 3);
    h.oms_expect(
        Method::DELETE,
        &path(&group_id, ""),
        None,
        400,
        "OMS.0063",
        "still stopping",
    )
    .await;
    h.advance_secs(1);
    let (status, body) = h
        .oms_json(Method::DELETE, &path(&group_id, ""), &[], None)
        .await;
    assert_eq!((status, body), (200, serde_json::Value::Null));
    assert_eq!(h.show(&group_id).await["status"], 8);
    h.oms_expect(
        Method::PUT,
        &path(&group_id, "update"),
        Some(json!({"bandwidth_policy": []})),
        400,
        "OMS.0064",
        "deleted",
    )
    .await;
    h.advance_secs(1);
    assert_eq!(h.show(&group_id).await["status"], 9);
    let (status, _) = h
        .oms_json(Method::DELETE, &path(&group_id, ""), &[], None)
        .await;
    assert_eq!(
        status, 200,
        "deleting a group that is being deleted is accepted"
    );
    h.advance_secs(1);
    h.oms_expect(
        Method::GET,
        &path(&group_id, ""),
        None,
        404,
        "OMS.1009",
        &group_id,
    )
    .await;
    let (_, list) = h.oms_json(Method::GET, "/taskgroups", &[], None).await;
    assert_eq!(list["count"], 0);
}

#[tokio::test]
async fn unknown_groups_and_apis() {
    let h = Harness::start().await;
    let missing = "00000000-0000-4000-8000-000000000000";
    h.oms_expect(
        Method::GET,
        &path(missing, ""),
        None,
        404,
        "OMS.1009",
        missing,
    )
    .await;
    h.oms_expect(
        Method::PUT,
        &path(missing, "start"),
        Some(credentials()),
        404,
        "OMS.1009",
        missing,
    )
    .await;
    h.oms_expect(
        Method::PUT,
        &path(missing, "stop"),
        None,
        404,
        "OMS.1009",
        missing,
    )
    .await;
    h.oms_expect(
        Method::PUT,
        &path(missing, "retry"),
        Some(credentials()),
        404,
        "OMS.1009",
        missing,
    )
    .await;
    h.oms_expect(
        Method::PUT,
        &path(missing, "update"),
        Some(json!({"bandwidth_policy": []})),
        404,
        "OMS.1009",
        missing,
    )
    .await;
    h.oms_expect(
        Method::DELETE,
        &path(missing, ""),
        None,
        404,
        "OMS.1009",
        missing,
    )
    .await;
    let (status, json) = h
        .oms_json(
            Method::POST,
            &path(missing, "start"),
            &[],
            Some(credentials()),
        )
        .await;
    assert_eq!(
        (status, json["error_code"].as_str()),
        (404, Some("APIGW.0101")),
        "task-group actions are PUT"
    );
    let (status, json) = h.oms_json(Method::GET, "/tasks", &[], None).await;
    assert_eq!(
        (status, json["error_code"].as_str()),
        (404, Some("APIGW.0101"))
    );
    // Groups belong to their project.
    let group_id = h.create_group("mine").await;
    let answer = {
        let date = common::sdk_date(h.clock.now_secs());
        let other = format!("/v2/otherproject/taskgroups/{group_id}");
        let (_, headers) = common::sdk_sign(
            common::AK,
            common::SK,
            &Method::GET,
            &other,
            &[],
            &h.host(),
            &date,
            b"",
        );
        let mut builder = hyper::Request::builder().method(Method::GET).uri(&other);
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        common::send(
            h.addr(),
            builder
                .body(http_body_util::Full::new(hyper::body::Bytes::new()))
                .expect("request"),
        )
        .await
        .expect("answer")
    };
    assert_eq!(answer.status, 404);
}

#[tokio::test]
async fn token_authentication() {
    let h = Harness::start().await;
    let request = |token: &str| {
        hyper::Request::builder()
            .method(Method::GET)
            .uri(format!("/v2/{}/taskgroups", common::PROJECT))
            .header("host", h.host())
            .header("content-type", "application/json")
            .header("x-auth-token", token)
            .body(http_body_util::Full::new(hyper::body::Bytes::new()))
            .expect("request")
    };
    let ok = common::send(h.addr(), request(common::TOKEN))
        .await
        .expect("answer");
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json()["count"], 0);
    let bad = common::send(h.addr(), request("not-a-token"))
        .await
        .expect("answer");
    assert_eq!(bad.status, 401);
    assert_eq!(bad.json()["error_code"], "APIGW.0301");
}

#[tokio::test]
async fn cached_list_answers_follow_every_change() {
    let h = Harness::start().await;
    let group_id = h.create_group("media").await;
    h.advance_secs(5);
    let first = h.oms_json(Method::GET, "/taskgroups", &[], None).await.1;
    assert_eq!(first["taskgroups"][0]["status"], 6);
    assert_eq!(
        h.oms_json(Method::GET, "/taskgroups", &[], None).await.1,
        first,
        "served from the cache"
    );
    let (status, _) = h
        .oms_json(Method::DELETE, &path(&group_id, ""), &[], None)
        .await;
    assert_eq!(status, 200);
    let after = h.oms_json(Method::GET, "/taskgroups", &[], None).await.1;
    assert_eq!(after["taskgroups"][0]["status"], 8);
}
