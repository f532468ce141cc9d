//! End-to-end safety of the providers (issue 9): a region or project change deletes the old
//! job where it lives, a state that disagrees with the cloud is refused rather than acted
//! on, and an imported 2021 job is tagged so that it is found again without the state.

mod support;

use migspec_tencent_dts::client::Retry;
use migspec_tencent_dts::{ApiVersion, Credentials, DtsClient, Endpoint, TencentConfig};
use serde_json::{Value, json};
use support::cloud::{Cloud, TENCENT_ID, TENCENT_KEY, describe};

const PROJECT: &str = "0123456789abcdef0123456789abcdef";

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn both(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A shipped spec with `lifecycle.desired` set to `desired`.
fn shipped_with(name: &str, from: &str, to: &str) -> String {
    let text = Cloud::shipped(name);
    assert!(text.contains(from), "{name} has no `{from}`");
    text.replace(from, to)
}

/// The verbs a `--format json` plan lists, every address.
fn planned(plan: &std::process::Output) -> Vec<String> {
    let document: Value = serde_json::from_slice(&plan.stdout)
        .unwrap_or_else(|error| panic!("a JSON plan: {error}\n{}", describe(plan)));
    document["changes"]
        .as_array()
        .map(|changes| {
            changes
                .iter()
                .flat_map(|change| change["actions"].as_array().cloned().unwrap_or_default())
                .map(|action| action["kind"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn apply(cloud: &Cloud) {
    let apply = cloud.run(&["apply", "specs/", "--auto-approve"]);
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));
}

fn resource(cloud: &Cloud, address: &str) -> Value {
    cloud.state()["resources"][address].clone()
}

/// A DTS client on the emulator, for what a user does outside migspec and for counting.
fn dts(cloud: &Cloud) -> DtsClient {
    DtsClient::new(
        TencentConfig::default()
            .with_credentials(Credentials::new(TENCENT_ID, TENCENT_KEY))
            .with_endpoint(Endpoint::Custom(cloud.url.clone())),
    )
    .expect("a DTS client")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// The live jobs of `version` in `region` (destroyed 2021 jobs stay listed as `offlined`).
fn live_jobs(cloud: &Cloud, version: ApiVersion, region: &str, tag: Option<&str>) -> Vec<String> {
    let action = match version {
        ApiVersion::V2018 => "DescribeMigrateJobs",
        ApiVersion::V2021 => "DescribeMigrationJobs",
    };
    let mut request = json!({"Limit": 100});
    if let Some(tag) = tag {
        request["TagFilters"] = json!([{"TagKey": "migspec:address", "TagValue": [tag]}]);
    }
    let response: Value = runtime()
        .block_on(dts(cloud).call(version, action, region, None, &request, Retry::Safe))
        .unwrap_or_else(|error| panic!("{action} in {region}: {error}"));
    response["JobList"]
        .as_array()
        .expect("a job list")
        .iter()
        .filter(|job| job.pointer("/TradeInfo/TradeStatus") != Some(&json!("offlined")))
        .map(|job| job["JobId"].as_str().expect("a job id").to_owned())
        .collect()
}

/// Issue 9 item 1, API 2018-03-30: the delete of a region change goes to the old region.
#[test]
fn a_2018_region_change_deletes_the_old_job_in_its_old_region() {
    let mut cloud = Cloud::start(None);
    let spec = shipped_with(
        "orders-mysql.yaml",
        "desired: running",
        "desired: configured",
    );
    cloud.write("specs/orders.yaml", &spec);
    apply(&cloud);
    let old = resource(&cloud, "orders-to-cdb");
    let old_id = old["remote_id"].as_str().unwrap().to_owned();
    assert_eq!(old["location"]["region"], "ap-guangzhou", "{old}");

    cloud.write(
        "specs/orders.yaml",
        &spec.replace("ap-guangzhou", "ap-shanghai"),
    );
    let plan = cloud.run(&["plan", "specs/"]);
    assert!(stdout(&plan).contains("- delete"), "{}", describe(&plan));
    apply(&cloud);

    assert_eq!(cloud.accepted("tencent", "DeleteMigrateJob"), 1);
    assert_eq!(cloud.creates(), 2);
    assert_eq!(
        live_jobs(&cloud, ApiVersion::V2018, "ap-guangzhou", None),
        Vec::<String>::new()
    );
    let new = resource(&cloud, "orders-to-cdb");
    assert_eq!(new["location"]["region"], "ap-shanghai", "{new}");
    assert_ne!(new["remote_id"].as_str(), Some(old_id.as_str()));
    assert_eq!(
        live_jobs(&cloud, ApiVersion::V2018, "ap-shanghai", None),
        [new["remote_id"].as_str().unwrap()]
    );
    let again = cloud.run(&["plan", "specs/", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", describe(&again));
}

/// Issue 9 item 1, API 2021-12-06: the old job is isolated and destroyed in its old region.
#[test]
fn a_2021_region_change_isolates_and_destroys_the_old_job_in_its_old_region() {
    let mut cloud = Cloud::start(None);
    let spec = shipped_with(
        "inventory-2021.yaml",
        "desired: running",
        "desired: configured",
    );
    cloud.write("specs/inventory.yaml", &spec);
    apply(&cloud);
    let old_id = resource(&cloud, "inventory-2021")["remote_id"]
        .as_str()
        .unwrap()
        .to_owned();

    cloud.write(
        "specs/inventory.yaml",
        &spec.replace("ap-guangzhou", "ap-shanghai"),
    );
    apply(&cloud);

    assert_eq!(cloud.accepted("tencent", "IsolateMigrateJob"), 1);
    assert_eq!(cloud.accepted("tencent", "DestroyMigrateJob"), 1);
    assert_eq!(cloud.creates(), 2);
    assert_eq!(
        live_jobs(&cloud, ApiVersion::V2021, "ap-guangzhou", None),
        Vec::<String>::new()
    );
    let new = resource(&cloud, "inventory-2021");
    assert_eq!(new["location"]["region"], "ap-shanghai", "{new}");
    assert_ne!(new["remote_id"].as_str(), Some(old_id.as_str()));
    assert_eq!(
        live_jobs(&cloud, ApiVersion::V2021, "ap-shanghai", None),
        [new["remote_id"].as_str().unwrap()]
    );
}

/// The task groups of a project that are not being deleted.
fn live_groups(cloud: &Cloud, project: &str) -> Vec<String> {
    let (status, body) = cloud.oms("GET", &format!("/v2/{project}/taskgroups?limit=100"), "");
    assert_eq!(status, 200, "{body}");
    let list: Value = serde_json::from_str(&body).expect("a task group list");
    list["taskgroups"]
        .as_array()
        .expect("task groups")
        .iter()
        .filter(|group| !matches!(group["status"].as_u64(), Some(8 | 9)))
        .map(|group| group["group_id"].as_str().expect("a group id").to_owned())
        .collect()
}

/// Issue 9 item 1, OMS: a region change, then a project change, each delete the old group
/// where it lives and leave exactly one group. `NO_OVERWRITE` keeps the re-create free of
/// `overwrites target`, so no `--replace` is needed.
#[test]
fn oms_region_and_project_changes_delete_the_old_group_where_it_lives() {
    let mut cloud = Cloud::start(None);
    let spec = shipped_with(
        "media-archive-oms.yaml",
        "SIZE_LAST_MODIFIED_COMPARISON_OVERWRITE",
        "NO_OVERWRITE",
    );
    cloud.write("specs/media.yaml", &spec);
    apply(&cloud);
    let first = resource(&cloud, "media-archive")["remote_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let moved = spec.replace("cn-north-4", "cn-east-3");
    cloud.write("specs/media.yaml", &moved);
    apply(&cloud);
    assert_eq!(cloud.accepted("huawei", "DeleteTaskGroup"), 1);
    let second = resource(&cloud, "media-archive");
    assert_eq!(second["location"]["region"], "cn-east-3", "{second}");
    let second_id = second["remote_id"].as_str().unwrap().to_owned();
    assert_ne!(second_id, first);
    assert_eq!(live_groups(&cloud, PROJECT), [second_id.as_str()]);

    // The shipped spec names no project (the provider's is used): name another one.
    let other = moved.replace(
        "  description:",
        "  project_id: {fromEnv: MEDIA_PROJECT}\n  description:",
    );
    assert_ne!(other, moved);
    cloud.write("specs/media.yaml", &other);
    apply(&cloud);
    assert_eq!(cloud.accepted("huawei", "DeleteTaskGroup"), 2);
    let third = resource(&cloud, "media-archive");
    assert_eq!(
        third["location"]["project_id"], "secret-MEDIA_PROJECT",
        "{third}"
    );
    assert_eq!(live_groups(&cloud, PROJECT), Vec::<String>::new());
    assert_eq!(
        live_groups(&cloud, "secret-MEDIA_PROJECT"),
        [third["remote_id"].as_str().unwrap()]
    );
    assert_eq!(cloud.creates(), 3);
}

/// Issue 9 item 8: a wrong `location.region` in the state makes nothing delete or
/// re-create a completed group; the plan says what disagrees and the way out.
#[test]
fn a_wrong_state_region_is_reported_and_never_acted_on() {
    let mut cloud = Cloud::start(None);
    cloud.write(
        "specs/media.yaml",
        &Cloud::shipped("media-archive-oms.yaml"),
    );
    apply(&cloud);
    let id = resource(&cloud, "media-archive")["remote_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let path = cloud.state_path();
    let mut state: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    state["resources"]["media-archive"]["location"]["region"] = json!("cn-east-3");
    std::fs::write(&path, serde_json::to_string_pretty(&state).unwrap()).unwrap();

    let plan = cloud.run(&["plan", "specs/"]);
    assert_eq!(plan.status.code(), Some(1), "{}", describe(&plan));
    let text = both(&plan);
    for part in [
        "media-archive",
        &id,
        "cn-east-3",
        "cn-north-4",
        "migspec state rm media-archive",
    ] {
        assert!(text.contains(part), "{part}: {}", describe(&plan));
    }
    assert!(!stdout(&plan).contains("- delete"), "{}", describe(&plan));

    let apply = cloud.run(&["apply", "specs/", "--auto-approve"]);
    assert_eq!(apply.status.code(), Some(1), "{}", describe(&apply));
    assert!(both(&apply).contains("cn-east-3"), "{}", describe(&apply));
    assert_eq!(cloud.accepted("huawei", "DeleteTaskGroup"), 0);
    assert_eq!(cloud.accepted("huawei", "StopTaskGroup"), 0);
    assert_eq!(cloud.creates(), 1);
    assert_eq!(live_groups(&cloud, PROJECT), [id]);
}

/// Issue 9 item 14: a 2021 job created and configured outside migspec and imported is
/// tagged by the next apply, so that a lost state finds it by its tag instead of creating
/// a second job.
#[test]
fn an_imported_2021_job_is_tagged_and_found_again_without_the_state() {
    let mut cloud = Cloud::start(None);
    let region = "ap-guangzhou";
    let client = dts(&cloud);
    let runtime = runtime();
    // Bought and configured in the console: no migspec:address tag.
    let bought: Value = runtime
        .block_on(client.call(
            ApiVersion::V2021,
            "CreateMigrationService",
            region,
            None,
            &json!({"SrcDatabaseType": "mysql", "DstDatabaseType": "mysql",
                    "SrcRegion": region, "DstRegion": region, "InstanceClass": "small",
                    "Count": 1, "JobName": "inventory-2021"}),
            Retry::Create,
        ))
        .expect("CreateMigrationService");
    let id = bought["JobIds"][0].as_str().expect("a job id").to_owned();
    let configure = json!({
        "JobId": id,
        "RunMode": "immediate",
        "MigrateOption": {
            "MigrateType": "fullAndIncrement",
            "DatabaseTable": {"ObjectMode": "partial", "Databases": [{
                "DbName": "inventory", "DBMode": "partial", "TableMode": "partial",
                "Tables": [{"TableName": "stock"},
                           {"TableName": "warehouses_old", "NewTableName": "warehouses", "TableEditMode": "rename"}]}]},
            "Consistency": {"Mode": "full"},
            "IsMigrateAccount": false
        },
        "SrcInfo": {"Region": region, "AccessType": "cvm", "DatabaseType": "mysql", "NodeType": "simple",
                    "Info": [{"CvmInstanceId": "ins-6f5e4d3c", "Port": 3306, "User": "dts", "Password": "console"}]},
        "DstInfo": {"Region": region, "AccessType": "cdb", "DatabaseType": "mysql", "NodeType": "simple",
                    "Info": [{"InstanceId": "cdb-3c2b1a0z", "User": "root", "Password": "console"}]},
        "AutoRetryTimeRangeMinutes": 30,
        "Tags": []
    });
    let mut configured = None;
    for _ in 0..100 {
        // The emulator's job is `creating` for 100 ms; ModifyMigrationJob waits for it.
        match runtime.block_on(client.call::<_, Value>(
            ApiVersion::V2021,
            "ModifyMigrationJob",
            region,
            Some(&id),
            &configure,
            Retry::Safe,
        )) {
            Ok(answer) => {
                configured = Some(answer);
                break;
            }
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
    assert!(
        configured.is_some(),
        "ModifyMigrationJob never accepted the job"
    );
    assert_eq!(
        live_jobs(&cloud, ApiVersion::V2021, region, Some("inventory-2021")),
        Vec::<String>::new()
    );

    let import = cloud.run(&[
        "import",
        "TencentDtsMigrationJob",
        "inventory-2021",
        &id,
        "--region",
        region,
    ]);
    assert_eq!(import.status.code(), Some(0), "{}", describe(&import));
    let spec = shipped_with(
        "inventory-2021.yaml",
        "desired: running",
        "desired: configured",
    );
    cloud.write("specs/inventory.yaml", &spec);

    let plan = cloud.run(&["plan", "specs/", "--format", "json"]);
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));
    assert!(
        stdout(&plan).contains("/metadata/migspec:address"),
        "{}",
        describe(&plan)
    );
    assert_eq!(planned(&plan), ["modify"], "{}", describe(&plan));
    apply(&cloud);
    assert_eq!(
        live_jobs(&cloud, ApiVersion::V2021, region, Some("inventory-2021")),
        [id.as_str()]
    );

    let again = cloud.run(&["plan", "specs/", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", describe(&again));

    // The state is lost: the job is found by its tag, nothing is created.
    std::fs::remove_dir_all(cloud.dir().join(".migspec")).unwrap();
    let plan = cloud.run(&["plan", "specs/", "--format", "json"]);
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));
    assert_eq!(planned(&plan), Vec::<String>::new(), "{}", describe(&plan));
    apply(&cloud);
    assert_eq!(resource(&cloud, "inventory-2021")["remote_id"], json!(id));
    // Only the console's CreateMigrationService: migspec never created a job.
    assert_eq!(cloud.creates(), 1);
    assert_eq!(live_jobs(&cloud, ApiVersion::V2021, region, None), [id]);
}

/// Issue 9 item 15: a completed 2018 job edited is planned as a re-create that migrates
/// everything again into the live target, and the plan marks it `overwrites target`.
#[test]
fn an_edited_completed_2018_job_is_a_re_create_that_overwrites_the_target() {
    let mut cloud = Cloud::start(None);
    let spec = shipped_with(
        "orders-mysql.yaml",
        "desired: running",
        "desired: completed",
    );
    cloud.write("specs/orders.yaml", &spec);
    apply(&cloud);
    let edited = spec.replace("ConsistencyType: 3", "ConsistencyType: 5").replace(
        "    ConsistencyParams: {SelectRowsPerTable: 10, TablesSelectAll: 20, TablesSelectCount: 100}\n",
        "",
    );
    cloud.write("specs/orders.yaml", &edited);
    // Without --replace the re-create is blocked: nothing is deleted or created.
    let blocked = cloud.run(&["plan", "specs/", "--format", "json"]);
    assert_eq!(blocked.status.code(), Some(1), "{}", describe(&blocked));
    let document: Value = serde_json::from_slice(&blocked.stdout).unwrap();
    assert_eq!(
        document["blocked"][0]["address"], "orders-to-cdb",
        "{document:#}"
    );
    assert!(
        document["blocked"][0]["help"]
            .as_str()
            .unwrap()
            .contains("`migspec apply --replace orders-to-cdb` does it"),
        "{document:#}"
    );
    let refused = cloud.run(&["apply", "specs/", "--auto-approve"]);
    assert_eq!(refused.status.code(), Some(1), "{}", describe(&refused));
    assert_eq!(cloud.accepted("tencent", "DeleteMigrateJob"), 0);
    assert_eq!(cloud.creates(), 1);

    let plan = cloud.run(&[
        "plan",
        "specs/",
        "--format",
        "json",
        "--replace",
        "orders-to-cdb",
    ]);
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));
    let document: Value = serde_json::from_slice(&plan.stdout).unwrap();
    let actions = document["changes"][0]["actions"].as_array().unwrap();
    let create = actions
        .iter()
        .find(|action| action["kind"] == "create")
        .unwrap_or_else(|| panic!("a re-create: {}", describe(&plan)));
    let disruptions = create["disruptions"].as_array().unwrap();
    assert!(
        disruptions.contains(&json!("forces_recreate")),
        "{}",
        describe(&plan)
    );
    assert!(
        disruptions.contains(&json!("overwrites_target")),
        "{}",
        describe(&plan)
    );
    let replaced = cloud.run(&[
        "apply",
        "specs/",
        "--auto-approve",
        "--replace",
        "orders-to-cdb",
    ]);
    assert_eq!(replaced.status.code(), Some(0), "{}", describe(&replaced));
    assert_eq!(cloud.accepted("tencent", "DeleteMigrateJob"), 1);
    assert_eq!(cloud.creates(), 2);
    // Replaced once: a plain plan is empty (`--replace` would re-create again).
    let human = cloud.run(&["plan", "specs/"]);
    assert!(
        stdout(&human).contains("No changes."),
        "{}",
        describe(&human)
    );
}
